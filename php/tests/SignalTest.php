<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Exception\CancelledException;
use Aerostack\Exception\TimeoutException;

/**
 * A signal interrupts a blocking wait (with pcntl_async_signals(true)), as Ctrl-C does in Python:
 * the handler runs at once; a blocking call is then dropped (CancelledException), a pending call
 * keeps running and `wait()` goes on waiting.
 */
final class SignalTest extends TestCase
{
    private ?float $handled = null;

    protected function setUp(): void
    {
        pcntl_async_signals(true);
        pcntl_signal(SIGUSR1, function (): void {
            $this->handled ??= hrtime(true) / 1e9;
        });
    }

    protected function tearDown(): void
    {
        pcntl_signal(SIGUSR1, SIG_DFL);
        pcntl_async_signals(false);
    }

    /** Sends SIGUSR1 to this process after `$ms` (from a child process). */
    private static function signalIn(int $ms): mixed
    {
        return proc_open(['sh', '-c', sprintf('sleep %.3f; kill -USR1 %d', $ms / 1000, getmypid())], [], $pipes);
    }

    public function testASignalInterruptsABlockingCall(): void
    {
        $c = $this->client();
        $job = $c->queue->send('never-served-' . self::uid(), []);
        $kill = self::signalIn(300);
        $t0 = hrtime(true) / 1e9;
        try {
            $c->queue->wait($job['jobId'], 10000); // no worker: would wait the full 10 s
            $this->fail('the blocking call was not interrupted');
        } catch (CancelledException $e) {
            $this->assertStringContainsString('interrupted by a signal', $e->getMessage());
        } finally {
            proc_close($kill);
        }
        $this->assertNotNull($this->handled, 'the handler ran');
        $this->assertLessThan(3.0, hrtime(true) / 1e9 - $t0);
        $this->assertLessThan(0.5, $this->handled - ($t0 + 0.3), 'the handler ran while the call waited, not after it');
        $this->assertSame(1, $c->db->queryOne('SELECT 1 AS one')['one'] ?? null); // the client goes on
    }

    public function testASignalRunsItsHandlerDuringAPendingWaitWhichGoesOn(): void
    {
        $c = $this->client();
        $job = $c->queue->send('never-served-' . self::uid(), []);
        $pending = $c->async()->queue->wait($job['jobId'], 1500);
        $kill = self::signalIn(300);
        $t0 = hrtime(true) / 1e9;
        try {
            $pending->wait();
            $this->fail('queue.wait of a job nobody serves answered');
        } catch (TimeoutException) {
            // the call's own outcome, after its 1.5 s
        } finally {
            proc_close($kill);
        }
        $this->assertNotNull($this->handled);
        $this->assertLessThan(0.5, $this->handled - ($t0 + 0.3), 'the handler ran while waiting');
        $this->assertGreaterThan(1.0, hrtime(true) / 1e9 - $t0, 'the pending call kept running after the handler');
    }

    public function testASignalInterruptsAStream(): void
    {
        $sock = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr(strrchr(stream_socket_get_name($sock, false), ':'), 1);
        fclose($sock);
        $upstream = proc_open([PHP_BINARY, '-n', '-S', "127.0.0.1:$port", __DIR__ . '/fixtures/fake_openai.php'], [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
        $platform = null;
        try {
            $deadline = microtime(true) + 10;
            while (@fsockopen('127.0.0.1', $port) === false && microtime(true) < $deadline) {
                usleep(50000);
            }
            $platform = \Aerostack\Local\Platform::start(['fromEnv' => false, 'aiBaseUrl' => "http://127.0.0.1:$port/v1", 'aiModel' => 'test-model']);
            $c = $platform->client();
            $got = [];
            $kill = self::signalIn(300);
            $t0 = hrtime(true) / 1e9;
            try {
                foreach ($c->ai->chatStream([['role' => 'user', 'content' => 'slow']]) as $chunk) {
                    $got[] = $chunk['delta']; // the first word, then the upstream stalls for 5 s
                }
                $this->fail('the stream was not interrupted');
            } catch (CancelledException $e) {
                $this->assertStringContainsString('interrupted by a signal', $e->getMessage());
            } finally {
                proc_close($kill);
            }
            $this->assertSame(['echo: '], $got);
            $this->assertNotNull($this->handled, 'the handler ran');
            $this->assertLessThan(0.5, $this->handled - ($t0 + 0.3), 'the handler ran while the stream waited');
            $this->assertLessThan(2.0, hrtime(true) / 1e9 - $t0);
        } finally {
            $platform?->shutdown();
            proc_terminate($upstream);
            proc_close($upstream);
        }
    }

    public function testASignalIsHandledAtOnceWhileRealtimeListens(): void
    {
        $c = $this->client(true);
        $ch = $c->realtime->channel('signals-' . self::uid() . '/room');
        $ch->subscribe();
        $kill = self::signalIn(300);
        $t0 = hrtime(true) / 1e9;
        try {
            $c->realtime->run(timeoutMs: 1500); // listens on after the handler ran
        } finally {
            proc_close($kill);
        }
        $this->assertNotNull($this->handled);
        // Before, the loop saw the signal only between its 1 s waits.
        $this->assertLessThan(0.3, $this->handled - ($t0 + 0.3), 'the handler ran while realtime waited');
        $this->assertGreaterThan(1.4, hrtime(true) / 1e9 - $t0, 'run() went on listening after the handler');
        $c->close();
    }
}
