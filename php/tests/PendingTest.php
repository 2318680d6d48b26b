<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Exception\CancelledException;
use Aerostack\Exception\TimeoutException;
use Aerostack\Exception\ValidationException;
use Aerostack\Pending;

use function Aerostack\all;

/** Many calls in flight from one PHP process: `$client->async()` and `Aerostack\all`. */
final class PendingTest extends TestCase
{
    public function testAllKeepsKeysAndShapes(): void
    {
        $c = $this->client(fresh: true);
        $a = $c->async();
        $this->assertSame($a, $c->async(), 'one async twin per client');
        $this->assertSame($a, $a->async());
        $c->cache->set('greeting', 'hello');
        ['q' => $rows, 'g' => $g, 'n' => $n] = all(['q' => $a->db->query('SELECT ? AS v', [42]), 'g' => $a->cache->get('greeting'), 'n' => $a->cache->increment('n', 3)]);
        $this->assertSame(42, $rows[0]['v']);
        $this->assertSame('hello', $g);
        $this->assertSame(3, $n);
    }

    public function testHundredInFlightRunConcurrently(): void
    {
        $c = $this->client();
        $a = $c->async();
        $pending = [];
        for ($i = 0; $i < 100; $i++) {
            $pending[] = $a->db->query('SELECT ? AS i', [$i]);
        }
        $this->assertContainsOnlyInstancesOf(Pending::class, $pending);
        $results = all($pending);
        $this->assertSame(range(0, 99), array_map(static fn ($r) => $r[0]['i'], $results));

        // The engine overlaps them: a module-free proof is the queue's long poll. Three waits of
        // 600 ms each, in flight together, end in about 600 ms, not 1800.
        $jobs = [];
        for ($i = 0; $i < 3; $i++) {
            $jobs[] = $c->queue->send('php-never-served', [], 60)['jobId'];
        }
        $t0 = hrtime(true);
        $waits = array_map(static fn ($j) => $a->queue->wait($j, timeoutMs: 600), $jobs);
        foreach ($waits as $w) {
            try {
                $w->wait();
                $this->fail('nobody serves the job');
            } catch (TimeoutException) {
            }
        }
        $ms = (hrtime(true) - $t0) / 1e6;
        $this->assertLessThan(1500, $ms, "three 600 ms waits in flight took $ms ms");
    }

    public function testFirstFailureIsThrownAfterAllFinished(): void
    {
        $a = $this->client()->async();
        $ok = $a->db->query('SELECT 1 AS one');
        try {
            all([$a->db->query('SELEC broken'), $ok]);
            $this->fail('one call fails');
        } catch (ValidationException $e) {
            $this->assertSame('DB_QUERY_FAILED', $e->getErrorCode());
        }
        $this->assertTrue($ok->isDone());
        $this->assertSame(1, $ok->wait()[0]['one'], 'a settled result can be read again');
    }

    public function testWaitTimeoutLeavesTheCallRunningAndCancelStopsIt(): void
    {
        $c = $this->client();
        $job = $c->queue->send('php-never-served', [], 60)['jobId'];
        $p = $c->async()->queue->wait($job, timeoutMs: 3000);
        try {
            $p->wait(50);
            $this->fail('still running');
        } catch (TimeoutException $e) {
            $this->assertStringContainsString('keeps running', $e->getMessage());
        }
        $this->assertFalse($p->isDone());
        $t0 = hrtime(true);
        $p->cancel();
        try {
            $p->wait();
            $this->fail('cancelled');
        } catch (CancelledException $e) {
            $this->assertSame('CANCELLED', $e->getErrorCode());
        }
        $this->assertLessThan(500, (hrtime(true) - $t0) / 1e6);
        $this->assertSame(1, $c->db->query('SELECT 1 AS one')[0]['one'], 'the client keeps working');
    }

    public function testArgumentErrorsComeFromTheEngineAtWait(): void
    {
        $p = $this->client()->async()->cache->set('k', 1, ttl: -1);
        try {
            $p->wait();
            $this->fail('a negative ttl is refused');
        } catch (ValidationException $e) {
            $this->assertSame('ttl', $e->getField());
        }
    }

    public function testAllRefusesWhatIsNotPending(): void
    {
        $this->expectException(ValidationException::class);
        all(['x' => 1]);
    }
}
