<?php

// The fixture handlers of platform.json (`modules`, `jobs`) written with the PHP SDK's worker
// API, served by `php/bin/aerostack-worker fixtures.php` processes the runner starts (PHP runs
// one invocation at a time per process). See tests/conformance/README.md for the behaviours.

declare(strict_types=1);

$spec = json_decode((string) file_get_contents(__DIR__ . '/../platform.json'), true);
$worker = new Aerostack\Worker(label: 'conformance-php');
foreach ($spec['modules'] ?? [] as $m) {
    $handler = match ($m['behaviour']) {
        'echo' => static fn (Aerostack\Sdk $sdk, array $event) => ['echo' => $event['data'] ?? null, 'method' => $event['method'] ?? null],
        'sleep' => static function (Aerostack\Sdk $sdk, array $event): array {
            $ms = (int) ($event['data']['ms'] ?? 0);
            usleep(min($ms, 10_000) * 1000);
            return ['slept_ms' => $ms];
        },
        'fail' => static fn () => throw new RuntimeException($m['message']),
        'sdk_db' => static function (Aerostack\Sdk $sdk, array $event): array {
            $rows = $sdk->db->query('SELECT ? AS value', [$event['data']['value'] ?? null]);
            return ['value' => $rows[0]['value'], 'project_id' => $sdk->projectId];
        },
        default => throw new RuntimeException("platform.json: unknown module behaviour {$m['behaviour']}"),
    };
    $worker->module($m['slug'], $handler, public: (bool) ($m['public'] ?? false), methods: $m['methods'] ?? ['POST']);
}
foreach ($spec['jobs'] ?? [] as $j) {
    $handler = match ($j['behaviour']) {
        'double' => static fn (Aerostack\Sdk $sdk, array $job) => ['doubled' => $job['data']['n'] * 2],
        'fail' => static fn () => throw new RuntimeException($j['message']),
        default => throw new RuntimeException("platform.json: unknown job behaviour {$j['behaviour']}"),
    };
    $worker->job($j['type'], $handler);
}
return $worker;
