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
