<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Worker;

/**
 * Seed 000's Logic Modules and welcome-email worker written in PHP (fixtures/seed000.php), served
 * by the `aerostack-worker` runner in a child process, reached through the custom API URL and
 * the queue.
 */
final class WorkerTest extends TestCase
{
    /** @var resource|null */
    private static $worker = null;
    /** @var resource|null */
    private static $sendgrid = null;
    private static string $log = '';

    public static function setUpBeforeClass(): void
    {
        $p = self::platform();
        self::$log = tempnam(sys_get_temp_dir(), 'sendgrid');
        $s = stream_socket_server('tcp://127.0.0.1:0');
        $addr = stream_socket_get_name($s, false);
        fclose($s);
        $env = getenv() + ['SENDGRID_LOG' => self::$log];
        self::$sendgrid = proc_open([PHP_BINARY, '-S', $addr, __DIR__ . '/fixtures/sendgrid.php'], [['file', '/dev/null', 'r'], ['file', '/dev/null', 'w'], ['file', '/dev/null', 'w']], $pipes, null, $env);
        $env += ['AEROSTACK_API_URL' => $p->apiUrl, 'AEROSTACK_API_KEY' => $p->apiKey, 'AEROSTACK_PROJECT_ID' => $p->projectId, 'SENDGRID_URL' => "http://$addr"];
        self::$worker = proc_open(
            [PHP_BINARY, '-d', 'extension=' . self::extensionPath(), dirname(__DIR__) . '/bin/aerostack-worker', __DIR__ . '/fixtures/seed000.php'],
            [['file', '/dev/null', 'r'], ['file', self::$log . '.worker', 'w'], ['file', self::$log . '.worker', 'w']],
            $pipes, null, $env
        );
        $c = $p->client();
        foreach (['search-products', 'sign-up', 'send-welcome-email'] as $name) {
            $c->local->waitServed($name, timeoutMs: 20000);
        }
        for ($i = 0; $i < 50 && @file_get_contents("http://$addr/ready") === false; $i++) {
            usleep(50_000);
        }
        $c->secrets->set('SENDGRID_KEY', 'sg-test-key');
        $c->db->query('CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, project_id TEXT, name TEXT, slug TEXT)');
        $c->db->query('CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, name TEXT, email TEXT)');
        foreach ([['p1', 'Red shirt', 'red-shirt'], ['p2', 'Blue shirt', 'blue-shirt'], ['p3', 'Green hat', 'green-hat']] as [$id, $name, $slug]) {
            $c->db->query('INSERT OR REPLACE INTO products VALUES (?, ?, ?, ?)', [$id, $p->projectId, $name, $slug]);
        }
    }

    public static function tearDownAfterClass(): void
    {
        foreach ([self::$worker, self::$sendgrid] as $proc) {
            if (is_resource($proc)) {
                proc_terminate($proc, SIGTERM);
                proc_close($proc);
            }
        }
    }

    public function testSearchProductsThroughTheCustomApiUrl(): void
    {
        $p = self::platform();
        $url = "{$p->url}/api/v1/public/projects/{$p->projectSlug}/custom/search-products";
        $ch = curl_init($url);
        curl_setopt_array($ch, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => '{"q":"shirt","limit":5}', CURLOPT_HTTPHEADER => ['Content-Type: application/json'], CURLOPT_RETURNTRANSFER => true]);
        $body = curl_exec($ch);
        $this->assertSame(200, curl_getinfo($ch, CURLINFO_RESPONSE_CODE), (string) $body);
        $answer = json_decode((string) $body, true);
        $this->assertSame(2, $answer['count']);
        $this->assertEqualsCanonicalizing(['Red shirt', 'Blue shirt'], array_column($answer['results'], 'name'));

        $this->assertSame(1, $p->client()->call('search-products', ['q' => 'Red'])['count']);
    }

    public function testWelcomeEmailThroughAnApiAndTheQueue(): void
    {
        $p = self::platform();
        $c = $p->client();
        $uid = 'u-' . self::uid();
        $c->db->query('INSERT INTO users VALUES (?, ?, ?)', [$uid, 'Ada', "$uid@example.com"]);
        $before = count(file(self::$log) ?: []);
        $admin = $c->realtime->channel('chat/admin')->subscribe();
        $welcomed = $admin->events('welcomed', timeoutMs: 15000);

        $sent = $c->call('sign-up', ['user_id' => $uid, 'email' => "$uid@example.com"]);
        $job = $c->queue->wait($sent['jobId'], timeoutMs: 15000);
        $this->assertSame('completed', $job['status'], json_encode($job) . ' worker: ' . @file_get_contents(self::$log . '.worker'));
        $this->assertSame(['status' => 202], $job['result']);

        $mails = array_map(static fn ($l) => json_decode($l, true), array_slice(file(self::$log) ?: [], $before));
        $this->assertCount(1, $mails);
        $this->assertSame('/v3/mail/send', $mails[0]['path']);
        $this->assertSame('Bearer sg-test-key', $mails[0]['authorization']);
        $this->assertStringContainsString('<h1>Hi Ada!</h1>', json_decode($mails[0]['body'], true)['content'][0]['value']);
        $this->assertSame(202, $c->cache->get("welcome:$uid"));
        foreach ($welcomed as $e) {
            $this->assertSame($uid, $e['data']['user_id']);
            break;
        }
        $this->assertTrue(isset($e), 'the worker emitted to chat/admin');
    }

    public function testAFailingJobIsRetriedThenDeadLettered(): void
    {
        $c = self::platform()->client();
        $sent = $c->queue->send('send-welcome-email', ['user_id' => 'missing-' . self::uid(), 'email' => 'x@y.z'], maxRetries: 0);
        $job = $c->queue->wait($sent['jobId'], timeoutMs: 15000);
        $this->assertSame('failed', $job['status']);
        $this->assertStringContainsString('no user missing-', $job['lastError']);
    }

    public function testSigtermDrainsTheInvocationInFlight(): void
    {
        $p = self::platform();
        $project = $p->createProject('php-sigterm-' . self::uid());
        $env = getenv() + ['AEROSTACK_API_URL' => $p->apiUrl, 'AEROSTACK_API_KEY' => $project['apiKey'], 'AEROSTACK_PROJECT_ID' => $project['id']];
        $proc = proc_open([PHP_BINARY, '-d', 'extension=' . self::extensionPath(), dirname(__DIR__) . '/bin/aerostack-worker', __DIR__ . '/fixtures/slow.php'],
            [['file', '/dev/null', 'r'], ['file', '/dev/null', 'w'], ['file', '/dev/null', 'w']], $pipes, null, $env);
        $c = $p->client($project);
        $c->local->waitServed('php-slow', timeoutMs: 20000);
        $call = $c->async()->call('php-slow', ['ms' => 800]);
        usleep(300_000);
        proc_terminate($proc, SIGTERM);
        $this->assertSame(['done' => true], $call->wait(10000), 'the call in flight is answered after SIGTERM');
        $deadline = microtime(true) + 10;
        while (($st = proc_get_status($proc))['running'] && microtime(true) < $deadline) {
            usleep(50_000);
        }
        $this->assertFalse($st['running'], 'the worker exits after draining');
        $this->assertSame(0, $st['exitcode']);
        proc_close($proc);
    }

    public function testAPlatformEventReachesItsHandler(): void
    {
        $p = self::platform();
        $project = $p->createProject('php-events-' . self::uid());
        $w = new Worker(projectId: $project['id'], apiKey: $project['apiKey'], baseUrl: $p->apiUrl);
        $w->on('auth.register.after', static function (\Aerostack\Sdk $sdk, array $event): array {
            $sdk->cache->set('registered', $event['data']['user']['email']);
            return ['ok' => true];
        });
        $w->start();
        $c = $p->client($project);
        $c->local->waitServed('auth.register.after', timeoutMs: 10000);
        $email = 'ev-' . self::uid() . '@example.com';
        $c->auth->register($email, 'securePassword123');
        $this->assertTrue($w->serveOne(5000), 'the event was delivered');
        $this->assertSame($email, $c->cache->get('registered'));
        $w->close();
    }

    public function testJobNamesFromFunctionNames(): void
    {
        $this->assertSame('send-welcome-email', \Aerostack\Native\job_type_from_function_name('send_welcome_email'));
        $w = new Worker(projectId: 'p', apiKey: 'k', baseUrl: 'http://127.0.0.1:9/v1');
        $this->assertSame($w, $w->job('sendWelcomeEmail', static fn () => null)->module('x', static fn () => null));
    }

    public function testAWorkerInThisProcessServesUntilStopped(): void
    {
        $p = self::platform();
        $project = $p->createProject('php-inproc-' . self::uid());
        $w = new Worker(projectId: $project['id'], apiKey: $project['apiKey'], baseUrl: $p->apiUrl);
        $w->module('ping', static function (\Aerostack\Sdk $sdk, array $event): array {
            try {
                // Seed 000's argument order; the test platform has no model upstream.
                $sdk->withOptions(retry: false)->ai->chat('@cf/meta/llama-3-8b-instruct', [['role' => 'user', 'content' => 'Hi']]);
                $ai = 'answered';
            } catch (\Aerostack\Exception\ServerException $e) {
                $ai = $e->getErrorCode();
            }
            return ['pong' => $event['data']['n'] + 1, 'project' => $sdk->withOptions(timeoutMs: 5000)->projectId, 'ai' => $ai];
        });
        $w->start();
        $c = $p->client($project);
        $pending = $c->async()->call('ping', ['n' => 41]);
        $this->assertTrue($w->serveOne(5000));
        $this->assertEquals(['pong' => 42, 'project' => $project['id'], 'ai' => 'AI_NOT_CONFIGURED'], $pending->wait(5000));
        $w->close();
    }
}
