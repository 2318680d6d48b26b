<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Client;
use Aerostack\Exception as E;
use Aerostack\Local\Platform;

/** One exception class per family, every getter filled from the engine's error. */
final class ErrorsTest extends TestCase
{
    public function testValidationCarriesCodeStatusFieldAndRequestId(): void
    {
        try {
            $this->client()->db->query('SELEC nope');
            $this->fail('bad SQL');
        } catch (E\ValidationException $e) {
            $this->assertSame('DB_QUERY_FAILED', $e->getErrorCode());
            $this->assertSame(400, $e->getStatus());
            $this->assertSame(400, $e->getCode(), 'PHP\'s integer code is the HTTP status');
            $this->assertNotEmpty($e->getRequestId());
            $this->assertFalse($e->isRetryable());
            $this->assertSame('validation', $e->getFamily());
            $this->assertInstanceOf(E\AerostackException::class, $e);
            $this->assertInstanceOf(\RuntimeException::class, $e);
        }
    }

    public function testArgumentErrorsNameTheField(): void
    {
        try {
            $this->client()->cache->set('k', 1, ttl: 'soon');
            $this->fail('a ttl must be a number');
        } catch (E\ValidationException $e) {
            $this->assertSame('ttl', $e->getField());
            $this->assertSame(['field' => 'ttl'], $e->getDetails());
            $this->assertNull($e->getStatus());
            $this->assertSame(0, $e->getCode());
        }
    }

    public function testAuthNotFoundConflict(): void
    {
        $p = self::platform();
        $bad = new Client(projectId: $p->projectId, apiKey: 'wrong-key', baseUrl: $p->apiUrl, ignoreEnv: true);
        $this->assertFamily(E\AuthException::class, 401, fn () => $bad->db->query('SELECT 1'));
        $c = $this->client();
        $this->assertFamily(E\NotFoundException::class, 404, fn () => $c->storage->get('nothing/here-' . self::uid()));
        $email = 'twice-' . self::uid() . '@example.com';
        $c->auth->register($email, 'securePassword123');
        $this->assertFamily(E\ConflictException::class, 409, fn () => $c->auth->register($email, 'securePassword123'));
        $this->assertFamily(E\AuthException::class, 401, fn () => $c->auth->login($email, 'wrong-password-1'));
    }

    public function testRateLimitTellsWhenToComeBack(): void
    {
        $c = $this->client(fresh: true, retry: false);
        $e = null;
        for ($i = 0; $i < 50 && $e === null; $i++) {
            try {
                $c->cache->flush();
            } catch (E\RateLimitException $caught) {
                $e = $caught;
            }
        }
        $this->assertNotNull($e, 'cache flushes are rate limited per project');
        $this->assertSame('RATE_LIMIT_EXCEEDED', $e->getErrorCode());
        $this->assertSame(429, $e->getCode());
        $this->assertGreaterThan(0, $e->getRetryAfterMs());
        $this->assertTrue($e->isRetryable());
    }

    public function testServerNetworkTimeoutConfig(): void
    {
        $c = $this->client();
        $this->assertFamily(E\ServerException::class, 503, fn () => $c->ai->complete('hi'));
        $s = stream_socket_server('tcp://127.0.0.1:0');
        $closed = 'http://' . stream_socket_get_name($s, false) . '/v1';
        fclose($s);
        $p = self::platform();
        $down = new Client(projectId: $p->projectId, apiKey: $p->apiKey, baseUrl: $closed, retry: false, ignoreEnv: true);
        $this->assertFamily(E\NetworkException::class, null, fn () => $down->db->query('SELECT 1'));
        $this->assertFamily(E\TimeoutException::class, null, fn () => $c->queue->wait($c->queue->send('php-never-served', [], 60)['jobId'], timeoutMs: 200));
        $this->assertFamily(E\ConfigException::class, null, fn () => new Client(projectId: 'p', apiKey: 'k', baseUrl: 'not a url', ignoreEnv: true));
        $this->assertFamily(E\ConfigException::class, null, fn () => new Client(projectId: 'p', apiKey: 'k', baseUrl: 'http://127.0.0.1:9/v1', retry: 'often', ignoreEnv: true), E\ValidationException::class);
    }

    public function testTimeoutNamesThePhpOption(): void
    {
        $c = $this->client();
        $sent = $c->queue->send('php-never-served', [], 60);
        try {
            // A per-call timeout shorter than the platform's long poll of queue->wait.
            $c->queue->wait($sent['jobId'], timeoutMs: 5000, options: ['timeoutMs' => 150, 'retry' => false]);
            $this->fail('the call outlives its timeout');
        } catch (E\TimeoutException $e) {
            $this->assertSame('TIMEOUT', $e->getErrorCode());
            $this->assertStringNotContainsString('CallOptions.timeout_ms', $e->getMessage());
        }
    }

    public function testEveryEngineOptionNameHasAPhpSpelling(): void
    {
        foreach (\Aerostack\Native\engine_option_names() as [$engine, $php]) {
            $this->assertNotSame('', $php, "no PHP spelling for $engine");
        }
    }

    public function testNoPanicReachesPhp(): void
    {
        // Nonsense at every layer the binding converts: all refused as exceptions, never a crash.
        $n = new \Aerostack\Native\Client('{"base_url": "http://127.0.0.1:9/v1", "api_key": "k", "ignore_env": true}');
        foreach (['not json', '[1,2]', '{"sql": {"deep": [1]}}'] as $args) {
            try {
                $n->call('db.query', $args);
                $this->fail("accepted $args");
            } catch (\Aerostack\Native\NativeError $e) {
                $this->assertSame('validation', json_decode($e->getMessage(), true)['family']);
            }
        }
        $this->expectException(\Aerostack\Native\NativeError::class);
        $n->call('db.qurey', '{}');
    }

    /** @param class-string $class */
    private function assertFamily(string $class, ?int $status, \Closure $call, ?string $orClass = null): void
    {
        try {
            $call();
            $this->fail("expected $class");
        } catch (E\AerostackException $e) {
            if ($orClass !== null && $e instanceof $orClass) {
                return;
            }
            $this->assertInstanceOf($class, $e, get_class($e) . ' ' . $e->getErrorCode() . ': ' . $e->getMessage());
            $this->assertSame($status, $e->getStatus());
        }
    }
}
