<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Client;
use Aerostack\Exception\AerostackException;
use Aerostack\Exception\ValidationException;
use Aerostack\Local\Platform;

/**
 * The AI gateway as a consumer uses it: chat (JSON and streamed) billed to a consumer key, wallet
 * and usage, billing logs by the project, the consumer's errors. The AI upstream is a stand-in
 * (`php -S` with fixtures/fake_openai.php); the platform is the real in-process one.
 */
final class GatewayTest extends TestCase
{
    /** @var resource|null */
    private static $upstream = null;
    private static ?Platform $ai = null;

    public static function tearDownAfterClass(): void
    {
        self::$ai?->shutdown();
        if (self::$upstream !== null) {
            proc_terminate(self::$upstream);
            proc_close(self::$upstream);
        }
    }

    private static function aiPlatform(): Platform
    {
        if (self::$ai === null) {
            $sock = stream_socket_server('tcp://127.0.0.1:0');
            $port = (int) substr(strrchr(stream_socket_get_name($sock, false), ':'), 1);
            fclose($sock);
            self::$upstream = proc_open([PHP_BINARY, '-n', '-S', "127.0.0.1:$port", __DIR__ . '/fixtures/fake_openai.php'], [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
            $deadline = microtime(true) + 10;
            while (@fsockopen('127.0.0.1', $port) === false && microtime(true) < $deadline) {
                usleep(50000);
            }
            self::$ai = Platform::start(['fromEnv' => false, 'aiBaseUrl' => "http://127.0.0.1:$port/v1", 'aiModel' => 'test-model']);
        }
        return self::$ai;
    }

    private static function consumer(Client $c, string $slug, int $credits): array
    {
        $c->request('POST', '/local/gateway/apis', ['slug' => $slug]);
        return $c->request('POST', '/local/gateway/keys', ['api_slug' => $slug, 'credits' => $credits]);
    }

    public function testChatIsBilledToTheConsumer(): void
    {
        $p = self::aiPlatform();
        $c = $p->client();
        $slug = 'php-' . self::uid();
        $con = self::consumer($c, $slug, 100);
        $this->assertStringStartsWith('ask_test_', $con['key']);
        $gw = (new Client(projectId: $p->projectId, apiKey: $p->apiKey, baseUrl: $p->apiUrl, ignoreEnv: true, consumerKey: $con['key']))->gateway;
        $answer = $gw->chat($slug, [['role' => 'user', 'content' => 'hi']]);
        $this->assertSame('echo: hi', $answer['text']);
        $this->assertSame(5, $answer['usage']['totalTokens']);
        $streamed = '';
        foreach ($c->gateway->chatStream($slug, [['role' => 'user', 'content' => 'yo']], consumerKey: $con['key']) as $chunk) {
            $streamed .= $chunk['delta'];
        }
        $this->assertSame('echo: yo', trim($streamed));
        $w = $gw->wallet($slug);
        $this->assertSame([91, 100, 9], [$w['balance'], $w['totalPurchased'], $w['totalConsumed']]);
        $u = $gw->usage($slug, 7);
        $this->assertSame([9, 2, 1], [$u['totalTokens'], $u['totalRequests'], count($u['days'])]);
    }

    public function testBillingLogAndTheConsumersErrors(): void
    {
        $c = $this->client();
        $slug = 'php-bill-' . self::uid();
        $con = self::consumer($c, $slug, 10);
        $logged = $c->gateway->billingLog($con['consumer_id'], $con['api_id'], 10);
        $this->assertSame([true, 10], [$logged['success'], $logged['loggedUnits']]);
        try {
            $c->gateway->chat($slug, [['role' => 'user', 'content' => 'hi']], consumerKey: $con['key']);
            $this->fail('a consumer without credits chatted');
        } catch (AerostackException $e) {
            $this->assertSame(['INSUFFICIENT_CREDITS', 402], [$e->getErrorCode(), $e->getStatus()]);
        }
        try {
            $c->gateway->wallet();
            $this->fail('a wallet without a consumer key');
        } catch (ValidationException $e) {
            $this->assertSame('consumer_key', $e->getField());
        }
    }
}
