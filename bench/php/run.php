<?php

// The PHP half of `make bench`: this SDK vs the raw curl extension (a reused handle;
// curl_multi for 100 in flight) vs Guzzle (Debian's php-guzzlehttp-guzzle; postAsync + settle for
// 100 in flight), against the local platform (in this process, release extension) and the Rust
// static responder (`aerostack-bench --serve-static 0`). Every cell runs in its own fresh process
// (worker.php), `--rounds` times (3) in turn with the baselines', and the median is reported: a burst
// of other work on the machine then moves one measurement, not the ratio. `--out FILE` writes the table; `--readme README.md` replaces the section between
// <!-- bench-php:start --> and <!-- bench-php:end -->.
//
//     php -d extension=target/release/libaerostack_php.so bench/php/run.php --out bench/results/php.md

declare(strict_types=1);

$ROOT = dirname(__DIR__, 2);
require "$ROOT/php/src/autoload.php";

$opts = ['seconds' => 1.0, 'rounds' => 3, 'bench-bin' => "$ROOT/target/release/aerostack-bench"];
for ($i = 1; $i < count($argv); $i++) {
    $opts[ltrim($argv[$i], '-')] = $argv[++$i];
}
$so = $opts['extension'] ?? "$ROOT/target/release/libaerostack_php.so";

$static = proc_open([$opts['bench-bin'], '--serve-static', '0'], [['file', '/dev/null', 'r'], ['pipe', 'w'], ['file', '/dev/null', 'w']], $pipes);
$staticUrl = trim((string) fgets($pipes[1])) . '/v1';

$p = Aerostack\Local\Platform::start(['fromEnv' => false]);
$c = $p->client();
$c->cache->set('bench:key', ['hello' => 'world', 'n' => 42]);

$modes = ['sequential', 'inflight'];
$ops = ['db' => 'db->query', 'cache' => 'cache->get'];
$impls = ['ours', 'curl', 'guzzle'];
$results = [];
foreach (['local platform' => $p->apiUrl, 'static responder' => $staticUrl] as $target => $url) {
    foreach ($modes as $mode) {
        foreach ($ops as $op => $_) {
            $runs = [];
            for ($round = 0; $round < (int) $opts['rounds']; $round++) {
                foreach ($impls as $impl) {
                    $cmd = [PHP_BINARY, '-d', "extension=$so", __DIR__ . '/worker.php', $impl, $op, $mode, (string) $opts['seconds'], $url, $p->apiKey, $p->projectId];
                    $out = shell_exec(implode(' ', array_map('escapeshellarg', $cmd)) . ' 2>&1');
                    $r = json_decode((string) strrchr("\n" . trim((string) $out), "\n"), true) ?: ['failed' => trim((string) $out)];
                    $runs[$impl][] = $r;
                    fprintf(STDERR, "bench-php: %-16s %-10s %-5s %-6s %s\n", $target, $mode, $op, $impl, isset($r['rate']) ? sprintf('%.0f/s%s', $r['rate'], $r['errors'] ? " ({$r['errors']} errors)" : '') : 'failed: ' . substr($r['failed'], 0, 300));
                }
            }
            foreach ($runs as $impl => $rs) {
                $results[$target][$mode][$op][$impl] = medianRun($rs);
            }
        }
    }
}
$p->shutdown();
proc_terminate($static);

/** The middle measurement by rate; a failed one fails the cell. */
function medianRun(array $runs): array
{
    foreach ($runs as $r) {
        if (!isset($r['rate'])) {
            return $r;
        }
    }
    usort($runs, static fn (array $a, array $b): int => $a['rate'] <=> $b['rate']);
    return $runs[intdiv(count($runs), 2)];
}
proc_close($static);

$k = static fn (array $r) => isset($r['rate']) ? sprintf('%.1fk', $r['rate'] / 1000) . ($r['errors'] ? " ({$r['errors']} err)" : '') : 'failed';
$x = static fn (array $a, array $b) => isset($a['rate'], $b['rate']) && $b['rate'] > 0 ? sprintf('%.2f×', $a['rate'] / $b['rate']) : 'n/a';
$lines = [
    sprintf('PHP %s, %d cores, release extension; %.1f s per measurement, each in a fresh process; the median of %d taken in turn with the baselines\'. Calls/s (k = 1,000); "100 in flight" is `$client->async()` + `Aerostack\all` for this SDK, `curl_multi` with 100 handles for curl, `postAsync` + `settle` for Guzzle:', PHP_VERSION, (int) shell_exec('nproc'), (float) $opts['seconds'], (int) $opts['rounds']),
    '',
    '| target | call | mode | aerostack | curl | Guzzle | ÷ curl | ÷ Guzzle |',
    '|---|---|---|---|---|---|---|---|',
];
foreach (['static responder', 'local platform'] as $target) {
    foreach ($ops as $op => $name) {
        foreach ($modes as $mode) {
            $r = $results[$target][$mode][$op];
            $lines[] = sprintf('| %s | %s | %s | %s | %s | %s | %s | %s |', $target, $name, $mode === 'sequential' ? 'sequential' : '100 in flight',
                $k($r['ours']), $k($r['curl']), $k($r['guzzle']), $x($r['ours'], $r['curl']), $x($r['ours'], $r['guzzle']));
        }
    }
}
$lines[] = '';
$lines[] = 'Targets (issue 11): ≥ 1.8× Guzzle and ≥ 0.9× raw curl sequentially, ≥ 1× `curl_multi` at 100 in flight.';
$md = implode("\n", $lines) . "\n";
echo $md;
if (isset($opts['out'])) {
    @mkdir(dirname($opts['out']), 0777, true);
    file_put_contents($opts['out'], $md);
}
if (isset($opts['readme'])) {
    $text = (string) file_get_contents($opts['readme']);
    [$start, $end] = ['<!-- bench-php:start -->', '<!-- bench-php:end -->'];
    $a = strpos($text, $start);
    $b = strpos($text, $end);
    if ($a === false || $b === false || $b < $a) {
        fwrite(STDERR, "{$opts['readme']} has no $start ... $end section\n");
        exit(1);
    }
    file_put_contents($opts['readme'], substr($text, 0, $a + strlen($start)) . "\n" . $md . substr($text, $b));
}
