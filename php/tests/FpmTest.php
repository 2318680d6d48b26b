<?php

declare(strict_types=1);

namespace Aerostack\Tests;

/**
 * Under php-fpm (Debian's php8.2-fpm, scripts/ensure-deps.sh installs it): the master loads the
 * extension and forks its workers; each worker starts its own runtime on its first call (the
 * master never has one), serves many requests with a new client per request, and leaks neither
 * threads, descriptors nor memory across them. Spoken to over FastCGI, as a web server would.
 */
final class FpmTest extends TestCase
{
    public function testRequestsThroughPhpFpmLeakNothingAndTheMasterHasNoRuntime(): void
    {
        $fpm = self::fpmBinary();
        $this->assertNotNull($fpm, 'php-fpm is not installed: scripts/ensure-deps.sh installs php8.2-fpm');
        $p = self::platform();
        $dir = sys_get_temp_dir() . '/aerostack-fpm-' . self::uid();
        mkdir($dir);
        $s = stream_socket_server('tcp://127.0.0.1:0');
        $addr = stream_socket_get_name($s, false);
        fclose($s);
        file_put_contents("$dir/fpm.conf", implode("\n", [
            '[global]', "pid = $dir/fpm.pid", "error_log = $dir/error.log", 'daemonize = no',
            '[www]', "listen = $addr", 'pm = static', 'pm.max_children = 2', 'catch_workers_output = yes',
            "env[AEROSTACK_API_URL] = {$p->apiUrl}", "env[AEROSTACK_API_KEY] = {$p->apiKey}", "env[AEROSTACK_PROJECT_ID] = {$p->projectId}",
        ]) . "\n");
        $cmd = [$fpm, '-y', "$dir/fpm.conf", '-d', 'extension=' . self::extensionPath()];
        if (function_exists('posix_getuid') && posix_getuid() === 0) {
            $cmd[] = '-R'; // the test machine runs as root; php-fpm refuses that without -R
        }
        $master = proc_open($cmd, [['file', '/dev/null', 'r'], ['file', "$dir/out.log", 'w'], ['file', "$dir/out.log", 'a']], $pipes);
        $script = realpath(__DIR__ . '/fixtures/cli-server.php');
        try {
            $get = static fn (int $n): array => json_decode(self::fastcgi($addr, $script, "n=$n"), true) ?? [];
            for ($i = 0; $i < 100 && $get(0) === []; $i++) {
                usleep(50_000);
            }
            $pids = [];
            for ($i = 0; $i < 60; $i++) {
                $r = $get($i);
                $this->assertSame([$i, 1], [$r['n'] ?? null, $r['one'] ?? null], 'log: ' . @file_get_contents("$dir/out.log") . @file_get_contents("$dir/error.log"));
                $pids[$r['pid']] = true;
            }
            $masterPid = (int) trim((string) file_get_contents("$dir/fpm.pid"));
            $this->assertSame(1, self::threads($masterPid), 'the php-fpm master started no runtime (none at module load)');
            $this->assertNotContains($masterPid, array_keys($pids));

            $before = [];
            foreach (array_keys($pids) as $pid) {
                $before[$pid] = [self::threads($pid), self::fds($pid), self::rss($pid)];
                $this->assertGreaterThan(1, $before[$pid][0], "worker $pid runs its own runtime");
            }
            for ($i = 0; $i < 400; $i++) {
                $r = $get($i);
                $this->assertSame([$i, 1], [$r['n'] ?? null, $r['one'] ?? null]);
            }
            foreach ($before as $pid => [$threads, $fds, $rss]) {
                $this->assertSame($threads, self::threads($pid), "worker $pid: one runtime per process, not one per request");
                $this->assertLessThanOrEqual($fds + 2, self::fds($pid), "worker $pid: descriptors grew");
                $grown = self::rss($pid) - $rss;
                $this->assertLessThan(8 * 1024 * 1024, $grown, "worker $pid grew $grown bytes over the requests");
            }
            $this->assertSame(1, self::threads($masterPid));
        } finally {
            proc_terminate($master);
            proc_close($master);
            array_map('unlink', glob("$dir/*") ?: []);
            @rmdir($dir);
        }
    }

    private static function fpmBinary(): ?string
    {
        foreach (['php-fpm' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION, 'php-fpm'] as $name) {
            foreach (['/usr/sbin', '/usr/local/sbin', '/usr/bin'] as $d) {
                if (is_executable("$d/$name")) {
                    return "$d/$name";
                }
            }
        }
        return null;
    }

    private static function threads(int $pid): int
    {
        return count(glob("/proc/$pid/task/*") ?: []);
    }

    /**
     * The worker's open descriptors once the last request's have closed: a dropped client's pooled
     * sockets close on its runtime thread just after the request ends, so this is the fewest seen
     * over half a second. A leak only grows, and 400 requests would show it by hundreds.
     */
    private static function fds(int $pid): int
    {
        $fewest = PHP_INT_MAX;
        for ($i = 0; $i < 10; $i++) {
            $fewest = min($fewest, count(glob("/proc/$pid/fd/*") ?: []));
            usleep(50_000);
        }
        return $fewest;
    }

    private static function rss(int $pid): int
    {
        return (int) explode(' ', (string) file_get_contents("/proc/$pid/statm"))[1] * 4096;
    }

    /** One FastCGI GET of `$script` with `$query` (the protocol's records, as nginx sends them); the body. */
    private static function fastcgi(string $addr, string $script, string $query): string
    {
        $sock = @stream_socket_client("tcp://$addr", $errno, $err, 2);
        if ($sock === false) {
            return '';
        }
        stream_set_timeout($sock, 10);
        $record = static fn (int $type, string $content): string => pack('CCnnCx', 1, $type, 1, strlen($content), 0) . $content;
        $pair = static function (string $k, string $v): string {
            $len = static fn (string $s): string => strlen($s) < 128 ? chr(strlen($s)) : pack('N', strlen($s) | 0x80000000);
            return $len($k) . $len($v) . $k . $v;
        };
        $params = '';
        foreach (['SCRIPT_FILENAME' => $script, 'SCRIPT_NAME' => '/' . basename($script), 'REQUEST_METHOD' => 'GET', 'QUERY_STRING' => $query,
            'SERVER_PROTOCOL' => 'HTTP/1.1', 'GATEWAY_INTERFACE' => 'CGI/1.1', 'REMOTE_ADDR' => '127.0.0.1', 'SERVER_NAME' => 'localhost'] as $k => $v) {
            $params .= $pair($k, $v);
        }
        fwrite($sock, $record(1, pack('nCx5', 1, 0)) . $record(4, $params) . $record(4, '') . $record(5, ''));
        $out = '';
        while (!feof($sock)) {
            $h = fread($sock, 8);
            if ($h === false || strlen($h) < 8) {
                break;
            }
            $r = unpack('Cversion/Ctype/nid/nlen/Cpad', $h);
            $body = $r['len'] > 0 ? stream_get_contents($sock, $r['len']) : '';
            if ($r['pad'] > 0) {
                stream_get_contents($sock, $r['pad']);
            }
            if ($r['type'] === 6) {
                $out .= $body;
            } elseif ($r['type'] === 3) {
                break;
            }
        }
        fclose($sock);
        $split = strpos($out, "\r\n\r\n");
        return $split === false ? $out : substr($out, $split + 4);
    }
}
