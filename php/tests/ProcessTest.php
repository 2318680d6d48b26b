<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Client;
use Aerostack\Exception\ConfigException;

/** Runtime rules: the fork rule, flat memory over many calls, the missing-extension message. */
final class ProcessTest extends TestCase
{
    public function testAForkedChildGetsAClearErrorFromAnInheritedClientAndAWorkingNewOne(): void
    {
        $p = self::platform();
        $c = $this->client();
        $this->assertSame(1, $c->db->query('SELECT 1 AS one')[0]['one'], 'the parent has used its runtime');
        $out = tempnam(sys_get_temp_dir(), 'fork');
        $pid = pcntl_fork();
        if ($pid === 0) {
            $report = [];
            try {
                $c->db->query('SELECT 1');
                $report['inherited'] = 'answered';
            } catch (ConfigException $e) {
                $report['inherited'] = $e->getErrorCode() . ': ' . $e->getMessage();
            } catch (\Throwable $e) {
                $report['inherited'] = get_class($e) . ': ' . $e->getMessage();
            }
            try {
                $fresh = new Client(projectId: $p->projectId, apiKey: $p->apiKey, baseUrl: $p->apiUrl, ignoreEnv: true);
                $report['fresh'] = $fresh->db->query('SELECT 2 AS two')[0]['two'];
            } catch (\Throwable $e) {
                $report['fresh'] = get_class($e) . ': ' . $e->getMessage();
            }
            file_put_contents($out, json_encode($report));
            // Leave without running PHP's shutdown (the parent's platform is not ours to stop).
            posix_kill(getmypid(), SIGKILL);
        }
        pcntl_waitpid($pid, $status);
        $report = json_decode((string) file_get_contents($out), true);
        unlink($out);
        $this->assertStringStartsWith('INVALID_CONFIG: ', $report['inherited'] ?? '', json_encode($report));
        $this->assertStringContainsString('create a new client in the child process', $report['inherited']);
        $this->assertSame(2, $report['fresh'] ?? null, json_encode($report));
        $this->assertSame(1, $c->db->query('SELECT 1 AS one')[0]['one'], 'the parent keeps working');
    }

    public function testMemoryStaysFlatOverManyCalls(): void
    {
        $c = $this->client();
        $a = $c->async();
        $warm = static function () use ($c, $a): void {
            for ($i = 0; $i < 1000; $i++) {
                $c->cache->get('memory-probe');
            }
            \Aerostack\all(array_map(static fn ($i) => $a->db->query('SELECT ? AS i', [$i]), range(1, 100)));
        };
        $warm();
        $rss0 = self::rss();
        $php0 = memory_get_usage();
        $n = (int) (getenv('AEROSTACK_PHP_MEMORY_CALLS') ?: 100_000);
        for ($i = 0; $i < $n; $i++) {
            $c->cache->get('memory-probe');
            if ($i % 100 === 0) {
                $a->db->query('SELECT 1')->wait();
            }
        }
        $grownRss = self::rss() - $rss0;
        $grownPhp = memory_get_usage() - $php0;
        $this->assertLessThan(64 * 1024, $grownPhp, "PHP heap grew $grownPhp bytes over $n calls");
        $this->assertLessThan(16 * 1024 * 1024, $grownRss, "RSS grew $grownRss bytes over $n calls");
    }

    public function testWithoutTheExtensionThePackageSaysHowToLoadIt(): void
    {
        $script = 'require ' . var_export(dirname(__DIR__) . '/src/autoload.php', true) . ';'
            . 'try { new Aerostack\Client(projectId: "p", apiKey: "k"); } catch (Aerostack\Exception\ConfigException $e) { echo $e->getMessage(); }';
        $out = shell_exec(escapeshellarg(PHP_BINARY) . ' -n -r ' . escapeshellarg($script) . ' 2>&1');
        $this->assertStringContainsString('the Aerostack PHP extension `aerostack` is not loaded', (string) $out);
        $this->assertStringContainsString('extension=', (string) $out);
    }

    public function testTheRuntimeStartsOnFirstUseNotAtLoad(): void
    {
        $out = shell_exec(escapeshellarg(PHP_BINARY) . ' -d extension=' . escapeshellarg(self::extensionPath())
            . ' -r ' . escapeshellarg('echo count(glob("/proc/self/task/*")), " ", Aerostack\Native\version();') . ' 2>&1');
        [$threads, $version] = explode(' ', trim((string) $out));
        $this->assertSame('1', $threads, 'loading the extension starts no thread');
        $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+/', $version);
    }

    public function testNothingLeaksAcrossRequestsOfTheCliServer(): void
    {
        $p = self::platform();
        $s = stream_socket_server('tcp://127.0.0.1:0');
        $addr = stream_socket_get_name($s, false);
        fclose($s);
        $env = getenv() + ['AEROSTACK_API_URL' => $p->apiUrl, 'AEROSTACK_API_KEY' => $p->apiKey, 'AEROSTACK_PROJECT_ID' => $p->projectId];
        $server = proc_open([PHP_BINARY, '-d', 'extension=' . self::extensionPath(), '-S', $addr, __DIR__ . '/fixtures/cli-server.php'],
            [['file', '/dev/null', 'r'], ['file', '/dev/null', 'w'], ['file', '/dev/null', 'w']], $pipes, null, $env);
        try {
            $get = static function (int $n) use ($addr): array {
                $body = @file_get_contents("http://$addr/?n=$n");
                return json_decode((string) $body, true) ?? [];
            };
            for ($i = 0; $i < 100 && $get(0) === []; $i++) {
                usleep(50_000);
            }
            for ($i = 0; $i < 50; $i++) {
                $this->assertSame($i, $get($i)['n'] ?? null);
            }
            $pid = $get(0)['pid'];
            $statm = static fn () => (int) explode(' ', (string) file_get_contents("/proc/$pid/statm"))[1] * 4096;
            $threads = static fn () => count(glob("/proc/$pid/task/*") ?: []);
            [$rss0, $threads0] = [$statm(), $threads()];
            for ($i = 0; $i < 500; $i++) {
                $r = $get($i);
                $this->assertSame([$i, 1], [$r['n'] ?? null, $r['one'] ?? null]);
            }
            $this->assertSame($threads0, $threads(), 'one runtime per process, not one per request');
            $grown = $statm() - $rss0;
            $this->assertLessThan(8 * 1024 * 1024, $grown, "the CLI server grew $grown bytes over 500 requests");
        } finally {
            proc_terminate($server);
            proc_close($server);
        }
    }

    private static function rss(): int
    {
        $statm = explode(' ', (string) file_get_contents('/proc/self/statm'));
        return (int) $statm[1] * 4096;
    }
}
