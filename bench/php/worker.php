<?php

// One measurement of the PHP bench, in a fresh process (see run.php):
//   php -d extension=... worker.php <impl> <op> <mode> <seconds> <apiUrl> <apiKey> <projectId>
// impl: ours | curl | guzzle; op: db | cache; mode: sequential | inflight (100 at once).
// Prints {"rate": calls per second, "calls": n, "errors": n}.

declare(strict_types=1);

[, $impl, $op, $mode, $secs, $api, $key, $project] = $argv;
$ROOT = dirname(__DIR__, 2);
const IN_FLIGHT = 100;

$route = $op === 'db' ? '/db/query' : '/cache/get';
$body = $op === 'db' ? '{"sql":"SELECT 42 AS id, \'item 42\' AS name","params":[]}' : '{"key":"bench:key"}';
$headers = ['Content-Type: application/json', "X-Aerostack-Key: $key", "User-Agent: $impl-bench"];
$errors = 0;

if ($impl === 'ours') {
    require "$ROOT/php/src/autoload.php";
    $c = new Aerostack\Client(projectId: $project, apiKey: $key, baseUrl: $api, ignoreEnv: true);
    $a = $c->async();
    $one = $op === 'db' ? static fn () => $c->db->query("SELECT 42 AS id, 'item 42' AS name") : static fn () => $c->cache->get('bench:key');
    $batch = $op === 'db'
        ? static function () use ($a): int {
            $p = [];
            for ($i = 0; $i < IN_FLIGHT; $i++) {
                $p[] = $a->db->query("SELECT 42 AS id, 'item 42' AS name");
            }
            Aerostack\all($p);
            return IN_FLIGHT;
        }
        : static function () use ($a): int {
            $p = [];
            for ($i = 0; $i < IN_FLIGHT; $i++) {
                $p[] = $a->cache->get('bench:key');
            }
            Aerostack\all($p);
            return IN_FLIGHT;
        };
} elseif ($impl === 'curl') {
    // The raw curl extension: one reused handle (keep-alive), and curl_multi with 100 handles.
    $h = curl_init($api . $route);
    curl_setopt_array($h, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => $body, CURLOPT_HTTPHEADER => $headers, CURLOPT_RETURNTRANSFER => true]);
    $one = static function () use ($h, &$errors) {
        $r = curl_exec($h);
        if (curl_getinfo($h, CURLINFO_RESPONSE_CODE) !== 200) {
            $errors++;
        }
        return json_decode((string) $r, true);
    };
    $mh = curl_multi_init();
    $handles = [];
    for ($i = 0; $i < IN_FLIGHT; $i++) {
        $x = curl_init($api . $route);
        curl_setopt_array($x, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => $body, CURLOPT_HTTPHEADER => $headers, CURLOPT_RETURNTRANSFER => true]);
        $handles[] = $x;
    }
    $batch = static function () use ($mh, $handles, &$errors): int {
        foreach ($handles as $x) {
            curl_multi_add_handle($mh, $x);
        }
        do {
            $status = curl_multi_exec($mh, $running);
            if ($running) {
                curl_multi_select($mh);
            }
        } while ($running && $status === CURLM_OK);
        foreach ($handles as $x) {
            if (curl_getinfo($x, CURLINFO_RESPONSE_CODE) !== 200) {
                $errors++;
            }
            json_decode((string) curl_multi_getcontent($x), true);
            curl_multi_remove_handle($mh, $x);
        }
        return IN_FLIGHT;
    };
} elseif ($impl === 'guzzle') {
    require '/usr/share/php/GuzzleHttp/autoload.php';
    $g = new GuzzleHttp\Client(['base_uri' => $api . '/', 'http_errors' => false]);
    $hdr = ['Content-Type' => 'application/json', 'X-Aerostack-Key' => $key, 'User-Agent' => 'guzzle-bench'];
    $path = ltrim($route, '/');
    $one = static function () use ($g, $path, $hdr, $body, &$errors) {
        $r = $g->post($path, ['headers' => $hdr, 'body' => $body]);
        if ($r->getStatusCode() !== 200) {
            $errors++;
        }
        return json_decode((string) $r->getBody(), true);
    };
    $batch = static function () use ($g, $path, $hdr, $body, &$errors): int {
        $promises = [];
        for ($i = 0; $i < IN_FLIGHT; $i++) {
            $promises[] = $g->postAsync($path, ['headers' => $hdr, 'body' => $body]);
        }
        foreach (GuzzleHttp\Promise\Utils::settle($promises)->wait() as $r) {
            if (($r['state'] ?? '') !== 'fulfilled' || $r['value']->getStatusCode() !== 200) {
                $errors++;
            } else {
                json_decode((string) $r['value']->getBody(), true);
            }
        }
        return IN_FLIGHT;
    };
} else {
    fwrite(STDERR, "unknown impl $impl\n");
    exit(2);
}

$run = static function (float $seconds) use ($mode, $one, $batch, &$errors): int {
    $n = 0;
    $end = hrtime(true) + (int) ($seconds * 1e9);
    while (hrtime(true) < $end) {
        if ($mode === 'sequential') {
            try {
                $one();
            } catch (Throwable) {
                $errors++;
            }
            $n++;
        } else {
            try {
                $n += $batch();
            } catch (Throwable) {
                $errors++;
                $n += IN_FLIGHT;
            }
        }
    }
    return $n;
};

$run(0.3); // warm up: connections, autoloading
$errors = 0;
$t0 = hrtime(true);
$n = $run((float) $secs);
$elapsed = (hrtime(true) - $t0) / 1e9;
echo json_encode(['rate' => $n / $elapsed, 'calls' => $n, 'errors' => $errors]), "\n";
