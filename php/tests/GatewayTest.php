<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Client;
use Aerostack\Exception\AerostackException;
use Aerostack\Exception\AuthException;
use Aerostack\Exception\NetworkException;
use Aerostack\Exception\ValidationException;
use Aerostack\Gateway\GatewaySocket;
use Aerostack\Local\Platform;

/**
 * The AI gateway as a consumer uses it: chat (JSON, streamed and over the chat socket) billed to
 * a consumer key, wallet and usage, billing logs by the project, the consumer's errors. The AI upstream is a stand-in
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

    public function testChatOverTheWebSocket(): void
    {
        $p = self::aiPlatform();
        $c = $p->client();
        $slug = 'php-ws-' . self::uid();
        $con = self::consumer($c, $slug, 1000);
        // The consumer key falls back to the client's, as for the HTTP calls.
        $gw = (new Client(projectId: $p->projectId, apiKey: $p->apiKey, baseUrl: $p->apiUrl, ignoreEnv: true, consumerKey: $con['key']))->gateway;
        $s = $gw->connectWebSocket($slug);
        $this->assertInstanceOf(GatewaySocket::class, $s);
        $this->assertSame(['open', $slug], [$s->state(), $s->apiSlug()]);
        $this->assertStringEndsWith("/api/gateway/$slug/ws", $s->url());
        // Collected by the engine.
        $answer = $s->chat([['role' => 'user', 'content' => 'hi']], timeoutMs: 10000);
        $this->assertSame('echo: hi', trim($answer['content']));
        $this->assertSame([4, 4], [$answer['tokensUsed'], $answer['usage']['totalTokens']]);
        // Streamed: every piece to onToken, in order, then the whole answer.
        $tokens = [];
        $answer = $s->chat([['role' => 'user', 'content' => 'one two three']], onToken: function (string $t) use (&$tokens): void {
            $tokens[] = $t;
        }, timeoutMs: 10000);
        $this->assertSame(['echo: ', 'one ', 'two ', 'three '], $tokens);
        $this->assertSame(implode('', $tokens), $answer['content']);
        $this->assertSame(['content', 'tokensUsed', 'usage'], array_keys($answer));
        $s->close();
        $this->assertSame('closed', $s->state());
        $this->assertSame(8, $gw->wallet($slug)['totalConsumed']);
    }

    public function testTheSocketsErrorsAndEvents(): void
    {
        $p = self::aiPlatform();
        $c = $p->client();
        $slug = 'php-wse-' . self::uid();
        $con = self::consumer($c, $slug, 1000);
        // A refused key fails at the handshake with the HTTP calls' error.
        try {
            $c->gateway->connectWebSocket($slug, 'ask_test_00000000000000000000000000000000');
            $this->fail('a made-up consumer key connected');
        } catch (AuthException $e) {
            $this->assertSame(['AUTH_INVALID_KEY', 401], [$e->getErrorCode(), $e->getStatus()]);
        }
        $s = $c->gateway->connectWebSocket($slug, consumerKey: $con['key']);
        // An error frame leaves the socket usable; the event carries the exception a call throws.
        $rid = $s->send(['type' => 'dance']);
        $ev = $s->nextEvent(10000);
        $this->assertSame(['error', $rid, 'VALIDATION_ERROR', 'validation'], [$ev['type'], $ev['request'], $ev['code'], $ev['family']]);
        $this->assertInstanceOf(ValidationException::class, $ev['error']);
        // A chat the platform refuses throws its family's exception, streamed or collected.
        foreach ([null, static function (string $t): void {
        }] as $onToken) {
            try {
                $s->chat([['role' => 'user', 'content' => 'hi']], temperature: 9.0, onToken: $onToken, timeoutMs: 10000);
                $this->fail('a chat with temperature 9 was answered');
            } catch (ValidationException $e) {
                $this->assertSame('VALIDATION_ERROR', $e->getErrorCode());
                $this->assertStringContainsString('temperature', $e->getMessage());
            }
        }
        // An empty chat is refused before it is sent, naming the field.
        try {
            $s->sendChat([]);
            $this->fail('an empty chat was sent');
        } catch (ValidationException $e) {
            $this->assertSame('messages', $e->getField());
        }
        $this->assertSame('echo: after', trim($s->chat([['role' => 'user', 'content' => 'after']], timeoutMs: 10000)['content']));
        // Events in order, each naming its frame; the iteration ends with `closed`.
        $chat = $s->sendChat([['role' => 'user', 'content' => 'x']]);
        $ping = $s->ping();
        $seen = [];
        foreach ($s->events(10000) as $ev) {
            $seen[] = $ev;
            if ($ev['type'] === 'pong') {
                $s->close(4000, 'bye');
            }
        }
        $this->assertSame(['token', 'token', 'done', 'pong', 'closed'], array_column($seen, 'type'));
        $this->assertSame([$chat, $chat, $chat, $ping], array_column(array_slice($seen, 0, 4), 'request'));
        $this->assertSame(['closed', 4000, 'bye'], [$seen[4]['type'], $seen[4]['code'], $seen[4]['reason']]);
        $this->assertNull($s->nextEvent(50));
        $this->assertSame('closed', $s->state());
        $this->expectException(NetworkException::class);
        $s->ping();
    }
}
