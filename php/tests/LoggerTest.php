<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Client;

/** Engine log lines (retries) reach any PSR-3-style logger (duck-typed). */
final class LoggerTest extends TestCase
{
    public function testRetriesAreLoggedThroughTheLogger(): void
    {
        $logger = new class () {
            public array $lines = [];

            public function debug(string $message, array $context = []): void
            {
                $this->lines[] = ['debug', $message];
            }

            public function warning(string $message, array $context = []): void
            {
                $this->lines[] = ['warning', $message];
            }
        };
        $s = stream_socket_server('tcp://127.0.0.1:0');
        $closed = 'http://' . stream_socket_get_name($s, false) . '/v1';
        fclose($s);
        $c = new Client(projectId: 'p', apiKey: 'k', baseUrl: $closed, logger: $logger, ignoreEnv: true,
            retry: ['maxAttempts' => 2, 'initialIntervalMs' => 10, 'maxIntervalMs' => 20, 'retryConnectionErrors' => true]);
        try {
            $c->db->query('SELECT 1');
            $this->fail('nothing listens');
        } catch (\Aerostack\Exception\NetworkException) {
        }
        $this->assertNotEmpty($logger->lines, 'the retry was logged');
        $this->assertSame('debug', $logger->lines[0][0]);
        $this->assertStringContainsString('retrying POST', $logger->lines[0][1]);
    }

    public function testRetryLinesAreWrittenWhileTheCallWaits(): void
    {
        $logger = new class () {
            public array $lines = [];

            public function log(string $level, string $message, array $context = []): void
            {
                $this->lines[] = [$level, $message, hrtime(true)];
            }
        };
        $s = stream_socket_server('tcp://127.0.0.1:0');
        $closed = 'http://' . stream_socket_get_name($s, false) . '/v1';
        fclose($s);
        $c = new Client(projectId: 'p', apiKey: 'k', baseUrl: $closed, logger: $logger, ignoreEnv: true,
            retry: ['maxAttempts' => 2, 'initialIntervalMs' => 1500, 'maxIntervalMs' => 1500, 'retryConnectionErrors' => true]);
        // The backoff is jittered: try until one wait is long enough to tell "during" from "after".
        for ($try = 0; $try < 8; $try++) {
            $logger->lines = [];
            try {
                $c->cache->get('k');
                $this->fail('nothing listens');
            } catch (\Aerostack\Exception\NetworkException) {
            }
            $ended = hrtime(true);
            $this->assertCount(1, $logger->lines);
            [$level, $message, $at] = $logger->lines[0];
            preg_match('/ in ([0-9.]+) s /', $message, $m);
            $delayMs = (float) $m[1] * 1000;
            if (abs($delayMs - 1000) > 50) { // the message rounds to 0.1 s: near 1 s either level is right
                $this->assertSame($delayMs > 1000 ? 'warning' : 'debug', $level, $message);
            }
            if ($delayMs >= 600) {
                $this->assertGreaterThan($delayMs - 350, ($ended - $at) / 1e6, 'the line came while the call still waited');
                return;
            }
        }
        $this->fail('no retry waited 0.6 s in 8 tries');
    }

    public function testLinesGoToTheLoggerOfTheClientThatMadeTheCall(): void
    {
        $mk = static fn () => new class () {
            public array $lines = [];

            public function log(string $level, string $message, array $context = []): void
            {
                $this->lines[] = $message;
            }
        };
        [$la, $lb] = [$mk(), $mk()];
        $s = stream_socket_server('tcp://127.0.0.1:0');
        $closed = 'http://' . stream_socket_get_name($s, false) . '/v1';
        fclose($s);
        $retry = ['maxAttempts' => 2, 'initialIntervalMs' => 10, 'maxIntervalMs' => 20, 'retryConnectionErrors' => true];
        $a = new Client(projectId: 'a', apiKey: 'k', baseUrl: $closed . '/a', logger: $la, ignoreEnv: true, retry: $retry);
        $b = new Client(projectId: 'b', apiKey: 'k', baseUrl: $closed . '/b', logger: $lb, ignoreEnv: true, retry: $retry);
        $none = new Client(projectId: 'n', apiKey: 'k', baseUrl: $closed . '/none', ignoreEnv: true, retry: $retry);
        $pa = $a->async()->db->query('SELECT 1');
        $pn = $none->async()->db->query('SELECT 1');
        foreach ([$pn, $pa] as $p) {
            try {
                $p->wait();
            } catch (\Aerostack\Exception\NetworkException) {
            }
        }
        try {
            $b->withOptions(timeoutMs: 5000)->cache->get('k'); // a view of b: b's logger
        } catch (\Aerostack\Exception\NetworkException) {
        }
        $this->assertCount(1, $la->lines);
        $this->assertStringContainsString('/a/db/query', $la->lines[0]);
        $this->assertCount(1, $lb->lines);
        $this->assertStringContainsString('/b/cache/get', $lb->lines[0]);
    }

    public function testALoggerWithOnlyLogWorksAndAFailingOneIsIgnored(): void
    {
        $logger = new class () {
            public array $levels = [];

            public function log(string $level, string $message, array $context = []): void
            {
                $this->levels[] = $level;
                throw new \RuntimeException('broken logger');
            }
        };
        $s = stream_socket_server('tcp://127.0.0.1:0');
        $closed = 'http://' . stream_socket_get_name($s, false) . '/v1';
        fclose($s);
        $c = new Client(projectId: 'p', apiKey: 'k', baseUrl: $closed, logger: $logger, ignoreEnv: true,
            retry: ['maxAttempts' => 2, 'initialIntervalMs' => 10, 'maxIntervalMs' => 20, 'retryConnectionErrors' => true]);
        try {
            $c->async()->db->query('SELECT 1')->wait();
        } catch (\Aerostack\Exception\NetworkException) {
        }
        $this->assertSame(['debug'], $logger->levels);
    }
}
