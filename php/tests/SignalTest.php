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
}
