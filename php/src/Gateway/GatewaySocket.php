<?php

declare(strict_types=1);

namespace Aerostack\Gateway;

use Aerostack\Exception\AerostackException;
use Aerostack\Exception\CancelledException;
use Aerostack\Native;
use Aerostack\Native\NativeError;

/**
 * The AI gateway's chat socket (`$client->gateway->connectWebSocket($apiSlug)`): one WebSocket to
 * `{wsHost}/api/gateway/{apiSlug}/ws`, authenticated with the consumer key, over which chats are
 * streamed and billed like `gateway->chat`.
 *
 *     $s = $client->gateway->connectWebSocket('my-api');
 *     $answer = $s->chat([['role' => 'user', 'content' => 'Hi']], onToken: fn (string $t) => print($t));
 *     $s->close();
 *
 * The engine does the work (frames, matching each answer to the frame it answers, a chat's whole
 * text); PHP pulls its events. An event is an array with a `type`: `token` (`content`,
 * `request`), `done` (`content`, `tokensUsed`, `usage`, `request`), `error` (`code`, `message`,
 * `family`, `request`, and `error`: the exception a call would throw), `pong` (`request`),
 * `closed` (`code`, `reason`; the last one) or `unknown` (`frame`). `request` is the id that
 * `sendChat`/`ping`/`send` returned for the frame it answers.
 */
final class GatewaySocket
{
    /** @internal */
    public function __construct(private readonly \Aerostack\Native\GatewaySocket $native)
    {
    }

    /** `ws(s)://host/api/gateway/{apiSlug}/ws`. */
    public function url(): string
    {
        return $this->native->url();
    }

    /** The gateway API it chats with. */
    public function apiSlug(): string
    {
        return $this->native->apiSlug();
    }

    /** `open`, `closing` or `closed`. */
    public function state(): string
    {
        return $this->native->state();
    }

    /**
     * A chat over the socket: `['content' => ..., 'tokensUsed' => ..., 'usage' => [...]]` once the
     * answer is complete (`$onToken($text)` sees each piece first), or the platform's error for it
     * thrown as the SDK's exception of its family (the socket stays usable). `$timeoutMs`: the
     * longest wait between two events (default: the client's timeout). With `$onToken` the engine
     * hands over the chat step by step. Events of other frames that arrive meanwhile are consumed.
     *
     * @param list<array{role: string, content: string}> $messages
     * @return array{content: string, tokensUsed: int, usage: array{promptTokens: int, completionTokens: int, totalTokens: int}}
     */
    public function chat(array $messages, ?string $model = null, ?float $temperature = null, ?int $maxTokens = null, ?float $topP = null, ?callable $onToken = null, ?int $timeoutMs = null): array
    {
        $args = self::chatArgs($messages, $model, $temperature, $maxTokens, $topP);
        if ($onToken === null) {
            $out = $this->guard(fn () => $this->native->chat(Native::encode($args + ['timeout_ms' => $timeoutMs], true)));
            if ($out === null) {
                throw $this->interrupted('chat');
            }
            return Native::decode($out);
        }
        $request = $this->guard(fn () => $this->native->sendChat(Native::encode($args, true)));
        while (true) {
            $step = $this->guard(fn () => $this->native->chatStep($request, $timeoutMs));
            if ($step === null) {
                throw $this->interrupted('chat');
            }
            $step = Native::decode($step);
            if ($step['type'] === 'done') {
                unset($step['type']);
                return $step;
            }
            $onToken($step['content']);
        }
    }

    /**
     * Starts a chat without waiting for it; its id (its `token`, `done` or `error` events carry it
     * as `request`: pull them with `nextEvent` or `events`).
     *
     * @param list<array{role: string, content: string}> $messages
     */
    public function sendChat(array $messages, ?string $model = null, ?float $temperature = null, ?int $maxTokens = null, ?float $topP = null): int
    {
        $args = self::chatArgs($messages, $model, $temperature, $maxTokens, $topP);
        return $this->guard(fn () => $this->native->sendChat(Native::encode($args, true)));
    }

    /** Sends a ping; its id (the `pong` event carries it). */
    public function ping(): int
    {
        return $this->guard(fn () => $this->native->ping());
    }

    /** Sends `$frame` (a JSON object) as it is; its id. */
    public function send(array $frame): int
    {
        $json = Native::encode($frame, true);
        return $this->guard(fn () => $this->native->send($json));
    }

    /**
     * The next event, waiting at most `$timeoutMs` (null: until one comes); null on timeout and
     * after the `closed` event.
     */
    public function nextEvent(?int $timeoutMs = null): ?array
    {
        $raw = $this->guard(fn () => $this->native->nextEvent($timeoutMs));
        if ($raw === null) {
            if ($this->native->interrupted()) {
                throw $this->interrupted('nextEvent');
            }
            return null;
        }
        $ev = Native::decode($raw);
        if ($ev['type'] === 'error') {
            $ev['error'] = AerostackException::fromArray(['code' => $ev['code'], 'family' => $ev['family'], 'message' => $ev['message']]);
        }
        return $ev;
    }

    /**
     * The events as a generator: `foreach ($socket->events() as $e)`, up to and including
     * `closed`. With `$timeoutMs` the iteration also ends after that long without an event.
     */
    public function events(?int $timeoutMs = null): \Generator
    {
        while (($ev = $this->nextEvent($timeoutMs)) !== null) {
            yield $ev;
            if ($ev['type'] === 'closed') {
                return;
            }
        }
    }

    /** Closes the socket (`$code` 1000 or 3000-4999) and waits for the platform's answer. */
    public function close(int $code = 1000, string $reason = ''): void
    {
        $this->guard(fn () => $this->native->close($code, $reason));
    }

    private static function chatArgs(array $messages, ?string $model, ?float $temperature, ?int $maxTokens, ?float $topP): array
    {
        return ['messages' => $messages, 'model' => $model, 'temperature' => $temperature, 'max_tokens' => $maxTokens, 'top_p' => $topP];
    }

    private function guard(\Closure $f): mixed
    {
        try {
            return $f();
        } catch (NativeError $e) {
            throw Native::error($e);
        }
    }

    private function interrupted(string $what): CancelledException
    {
        // A signal interrupted the wait (pcntl_async_signals): its handler has run by now.
        return new CancelledException("the gateway socket's {$what} was interrupted by a signal; its handler ran", 'CANCELLED');
    }
}
