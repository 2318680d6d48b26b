<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Exception\NotFoundException;
use Aerostack\Exception\ServerException;
use Aerostack\QueryResult;

/** Every method of every service namespace against the in-process platform. */
final class ClientTest extends TestCase
{
    public function testDatabase(): void
    {
        $c = $this->client(fresh: true);
        $c->db->query('CREATE TABLE todos (id INTEGER PRIMARY KEY, title TEXT, done INTEGER)');
        $batch = $c->db->batch([
            ['sql' => 'INSERT INTO todos (title, done) VALUES (?, ?)', 'params' => ['write sdk', 0]],
            ['INSERT INTO todos (title, done) VALUES (?, ?)', ['test sdk', 1]],
            "INSERT INTO todos (title, done) VALUES ('ship', 0)",
        ]);
        $this->assertIsArray($batch);
        $rows = $c->db->query('SELECT title FROM todos WHERE done = ? ORDER BY id', [0]);
        $this->assertInstanceOf(QueryResult::class, $rows);
        $this->assertCount(2, $rows);
        $this->assertSame('write sdk', $rows[0]['title']);
        $this->assertSame(['write sdk', 'ship'], array_column(iterator_to_array($rows), 'title'));
        $this->assertSame($rows->results, $rows['results']);
        $this->assertSame(2, $rows->count);
        $this->assertSame(['title' => 'test sdk'], $c->db->queryOne('SELECT title FROM todos WHERE done = 1'));
        $this->assertNull($c->db->queryOne('SELECT title FROM todos WHERE id = -1'));
        $this->assertSame('{"results":[{"n":1}],"count":1,', substr(json_encode($c->db->query('SELECT 1 AS n')), 0, 31));
    }

    public function testAuth(): void
    {
        $c = $this->client();
        $email = 'jane-' . self::uid() . '@example.com';
        $reg = $c->auth->register($email, 'securePassword123', name: 'Jane Doe', customFields: ['plan' => 'pro']);
        $this->assertArrayHasKey('accessToken', $reg);
        $login = $c->auth->login($email, 'securePassword123');
        $token = $login['accessToken'];
        $this->assertSame($email, $c->auth->verifyToken($token)['email']);
        $this->assertNull($c->auth->verifyToken('not-a-token'));
        $this->assertSame($email, $c->auth->me($token)['email']);
        $this->assertSame('Jane D.', $c->auth->updateMe($token, ['name' => 'Jane D.'])['name']);
        $c->auth->deleteAvatar($token);
        $refreshed = $c->auth->refresh($login['refreshToken']);
        $this->assertArrayHasKey('accessToken', $refreshed);

        $c->auth->sendOtp(email: $email);
        $mail = $c->local->outbox(to: $email, limit: 1);
        $this->assertMatchesRegularExpression('/\b\d{6}\b/', json_encode($mail));
        preg_match('/\b(\d{6})\b/', json_encode($mail), $m);
        $this->assertArrayHasKey('accessToken', $c->auth->verifyOtp($m[1], email: $email));

        $c->auth->requestPasswordReset($email);
        $reset = $c->local->outbox(to: $email, limit: 1)[0];
        $this->assertSame('password_reset', $reset['kind']);
        $c->auth->resetPassword($reset['token'], 'anotherPassword456');
        $this->assertArrayHasKey('accessToken', $c->auth->login($email, 'anotherPassword456'));
        $c->auth->resendVerification($email);
        $c->auth->logout($refreshed['accessToken'], $refreshed['refreshToken'] ?? null);

        $email2 = 'sam-' . self::uid() . '@example.com';
        $this->assertIsArray($c->auth->signup($email2, 'securePassword123', 'Sam'));
        $this->assertIsArray($c->auth->signin($email2, 'securePassword123'));
    }

    public function testCache(): void
    {
        $c = $this->client(fresh: true);
        $this->assertNull($c->cache->get('missing'));
        $c->cache->set('user:1', ['name' => 'Ada', 'score' => 1.5], ttl: 300);
        $this->assertSame(['name' => 'Ada', 'score' => 1.5], $c->cache->get('user:1'));
        $this->assertTrue($c->cache->has('user:1'));
        $this->assertSame(2, $c->cache->setMany(['a:1' => 1, 'a:2' => 'two'], ttl: 60));
        $this->assertEquals(['a:1' => 1, 'a:2' => 'two'], $c->cache->getMany(['a:1', 'a:2', 'a:none']));
        $this->assertSame(['a:1', 'a:2'], $c->cache->keys('a:'));
        $page = $c->cache->list(prefix: 'a:', limit: 1);
        $this->assertCount(1, $page['keys']);
        $all = iterator_to_array($c->cache->listAll(prefix: 'a:', pageSize: 1), false);
        $this->assertSame(['a:1', 'a:2'], array_column($all, 'key'));
        $this->assertTrue($c->cache->expire('a:1', 120));
        $this->assertSame(5, $c->cache->increment('hits', 5));
        $this->assertSame(3, $c->cache->increment('hits', -2));
        $this->assertIsArray($c->cache->deleteMany(['a:1']));
        $this->assertTrue($c->cache->delete('user:1'));
        $this->assertFalse($c->cache->has('user:1'));
        $this->assertGreaterThanOrEqual(1, $c->cache->flush('a:'));
    }

    public function testStorage(): void
    {
        $c = $this->client(fresh: true);
        $seen = [];
        $up = $c->storage->upload('hello bytes', 'docs/a.txt', 'text/plain', function (int $sent, ?int $total) use (&$seen): void {
            $seen[] = [$sent, $total];
        });
        $this->assertSame(11, $up['size']);
        $this->assertSame([11, 11], end($seen));
        $fh = fopen('php://memory', 'w+b');
        fwrite($fh, "\x00\x01binary");
        rewind($fh);
        $this->assertSame(8, $c->storage->upload($fh, 'docs/b.bin')['size']);
        $path = tempnam(sys_get_temp_dir(), 'up');
        file_put_contents($path, str_repeat('x', 100_000));
        $this->assertSame(100_000, $c->storage->upload(new \SplFileInfo($path), 'docs/c.txt', 'text/plain')['size']);
        $fh = fopen($path, 'rb');
        $this->assertSame(100_000, $c->storage->upload($fh, 'docs/d.txt')['size'], 'a file stream, streamed from its path');
        fclose($fh);
        $this->assertSame(str_repeat('x', 100_000), $c->storage->get('docs/d.txt')->data);
        $c->storage->delete('docs/d.txt');
        unlink($path);

        $obj = $c->storage->get('docs/a.txt');
        $this->assertSame('hello bytes', $obj->data);
        $this->assertSame('text/plain', $obj->contentType);
        $this->assertSame("\x00\x01binary", (string) $c->storage->get('docs/b.bin'));
        $this->assertStringContainsString('docs/a.txt', $c->storage->getUrl('docs/a.txt'));
        // A private object: only its signed URL serves it.
        $up = $c->storage->upload('hidden', 'private/p.txt', public: false);
        $this->assertFalse($up['public']);
        $plain = strtok($up['url'], '?');
        $this->assertFalse(@file_get_contents($plain), 'the plain URL of a private object served it');
        $this->assertSame('hidden', file_get_contents($c->storage->getUrl('private/p.txt', expiresIn: 60)));
        $this->assertFalse($c->storage->metadata('private/p.txt')['public']);
        $this->assertTrue($c->storage->exists('docs/a.txt'));
        $this->assertSame(11, $c->storage->metadata('docs/a.txt')['size']);
        $this->assertNull($c->storage->metadata('docs/none'));
        $this->assertCount(3, $c->storage->list(prefix: 'docs/')['objects']);
        $this->assertCount(3, iterator_to_array($c->storage->listAll('docs/', pageSize: 2), false));
        $this->assertIsString($c->storage->copy('docs/a.txt', 'docs/copy.txt'));
        $this->assertIsString($c->storage->move('docs/copy.txt', 'docs/moved.txt'));
        $this->assertFalse($c->storage->exists('docs/copy.txt'));
        $this->assertTrue($c->storage->delete('docs/moved.txt'));
        $this->expectException(NotFoundException::class);
        $c->storage->get('docs/moved.txt');
    }

    public function testAiWithoutAnUpstreamSaysSo(): void
    {
        $c = $this->client();
        foreach ([
            fn () => $c->ai->chat([['role' => 'user', 'content' => 'Hi']]),
            fn () => $c->ai->complete('Hi'),
            fn () => $c->ai->chatStream([['role' => 'user', 'content' => 'Hi']]),
        ] as $call) {
            try {
                $call();
                $this->fail('the local platform has no AI upstream here');
            } catch (ServerException $e) {
                $this->assertSame('AI_NOT_CONFIGURED', $e->getErrorCode());
                $this->assertSame(503, $e->getCode());
            }
        }
    }

    public function testAiSearchAndEmbeddings(): void
    {
        $c = $this->client(fresh: true);
        try {
            $emb = $c->ai->embed('red shirt');
            $this->assertTrue(array_is_list($emb['embedding']));
        } catch (ServerException $e) {
            $this->assertSame('AI_NOT_CONFIGURED', $e->getErrorCode());
        }
        try {
            $doc = $c->ai->search->ingest('Red cotton shirt', 'product', metadata: ['sku' => 'r1']);
        } catch (ServerException $e) {
            $this->assertSame('AI_NOT_CONFIGURED', $e->getErrorCode(), 'search needs embeddings: ' . $e->getMessage());
            return;
        }
        $this->assertIsArray($c->ai->search->query('shirt', topK: 3, types: ['product']));
        $this->assertSame('Red cotton shirt', $c->ai->search->get($doc['id'])['content']);
        $c->ai->search->update($doc['id'], 'Red linen shirt');
        $this->assertSame(1, $c->ai->search->count('product'));
        $this->assertSame('product', $c->ai->search->listTypes()[0]['type']);
        $this->assertTrue($c->ai->search->delete($doc['id']));
        $c->ai->search->deleteByType('product');
        $this->assertTrue($c->ai->search->configure('english'));
    }

    public function testQueueSecretsServicesAndRequest(): void
    {
        $c = $this->client(fresh: true);
        $sent = $c->queue->send('php-unserved', ['n' => 1], delaySeconds: 60);
        $this->assertStringStartsWith('job_', $sent['jobId']);
        $this->assertSame('php-unserved', $c->queue->job($sent['jobId'])['type']);
        $c->queue->enqueue('php-unserved', ['n' => 2], delaySeconds: 60, maxRetries: 1);
        $this->assertCount(2, $c->queue->jobs(type: 'php-unserved')['jobs']);
        $this->assertCount(2, iterator_to_array($c->queue->jobsAll(type: 'php-unserved', pageSize: 1), false));
        $this->assertTrue($c->queue->cancel($sent['jobId'])['success']);
        $this->assertSame('cancelled', $c->queue->wait($sent['jobId'], timeoutMs: 2000)['status']);
        $this->assertNull($c->queue->job('job_missing'));

        $c->secrets->set('SENDGRID_KEY', 'sg-123');
        $this->assertSame('sg-123', $c->secrets->get('SENDGRID_KEY'));
        $this->assertNull($c->secrets->get('NOPE'));
        $this->assertContains('SENDGRID_KEY', $c->secrets->list());

        try {
            $c->services->invoke('php-no-such-service', ['x' => 1]);
            $this->fail('no worker serves it');
        } catch (\Aerostack\Exception\AerostackException $e) {
            $this->assertContains($e->getErrorCode(), ['WORKER_NOT_CONNECTED', 'SERVICE_NOT_FOUND', 'NOT_FOUND']);
        }
        try {
            $c->call('php-no-such-api', ['x' => 1]);
            $this->fail('no worker serves it');
        } catch (ServerException $e) {
            $this->assertSame('WORKER_NOT_CONNECTED', $e->getErrorCode());
            $this->assertStringContainsString('php-no-such-api', $e->getMessage());
        }
        $this->assertIsArray($c->request('GET', '/local/workers'));
        $this->assertSame(0, $c->local->workers()['workers']);
        $this->assertIsArray($c->socket->emit('hello', ['a' => 1], 'lobby'));
    }

    public function testWithOptionsAndPerCallOptions(): void
    {
        $c = $this->client();
        $fast = $c->withOptions(timeoutMs: 5000, retry: false, headers: ['X-Trace' => 'php']);
        $this->assertSame(1, $fast->db->query('SELECT 1 AS one')[0]['one']);
        $this->assertSame(1, $c->db->query('SELECT 1 AS one', [], ['timeoutMs' => 5000, 'idempotencyKey' => 'k-' . self::uid()])[0]['one']);
        try {
            $c->db->query('SELECT 1', [], ['timeout' => 5]);
            $this->fail('an unknown option is refused');
        } catch (\Aerostack\Exception\ValidationException $e) {
            $this->assertSame('timeout', $e->getField());
            $this->assertStringContainsString('timeoutMs', $e->getMessage());
        }
    }
}
