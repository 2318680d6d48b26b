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

    private static function rss(): int
    {
        $statm = explode(' ', (string) file_get_contents('/proc/self/statm'));
        return (int) $statm[1] * 4096;
    }
}
