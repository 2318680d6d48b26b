<?php

declare(strict_types=1);

namespace Aerostack\Realtime;

use Aerostack\Native;
use Aerostack\Native\NativeError;
use Aerostack\Shape;
use Aerostack\Transport;

/**
 * The realtime connection of a client (one WebSocket, opened on first use):
 *
 *     $orders = $client->realtime->channel('orders');
 *     $orders->on('INSERT', fn (array $e) => print("new order {$e['data']['id']}\n"));
 *     $orders->subscribe();
 *     $client->realtime->run(timeoutMs: 5000);   // runs the listeners for 5 s
 *
 * PHP has no event loop: events wait in the engine until PHP pulls them, with `run()` (calls the
 * listeners) or a channel's `events()` generator.
 */
final class Realtime
{
    private ?\Aerostack\Native\Realtime $native = null;
    private array $options = [];
    /** @var array<string, Channel> */
    private array $channels = [];
    /** @var array<int, callable> listener id => callback */
    private array $callbacks = [];
    /** @var list<callable> listeners of the connection's own status and error events */
    private array $connection = [];

    /** The `reason` of the error event that ends the connection after `maxReconnectAttempts` (the engine's realtime::GAVE_UP). */
    private const GAVE_UP = 'max_reconnect_attempts';

    /** @internal */
    public function __construct(private readonly Transport $t)
    {
    }

    /**
     * Connection settings, before the first channel: `heartbeatIntervalMs`, `pongTimeoutMs`,
     * `connectTimeoutMs`, `ackTimeoutMs`, `backoffInitialMs`, `backoffMaxMs`, `backoffFactor`,
     * `maxReconnectAttempts`, `eventCapacity`, `outboxCapacity`, `dedupCapacity`, `catchUp`,
     * `token` (end-user JWT), `userId`.
     */
    public function configure(mixed ...$options): self
    {
        if ($this->native !== null) {
            throw new \Aerostack\Exception\ConfigException('configure the realtime connection before its first channel', 'INVALID_CONFIG', details: ['field' => 'realtime']);
        }
        $this->options = Native::options($options);
        return $this;
    }

    /** @internal */
    public function native(): \Aerostack\Native\Realtime
    {
        if ($this->native === null) {
            try {
                $this->native = $this->t->native->realtime(Native::encode($this->options, true));
            } catch (NativeError $e) {
                throw Native::error($e);
            }
        }
        return $this->native;
    }

    /**
     * The channel of `$name`: a table (`orders`: its INSERT/UPDATE/DELETE) or a room path
     * (`chat/general`). The same object for the same name.
     *
     * `$filter` (a table's row filter, the official `channel(topic, filter)`): only the rows it
     * matches arrive, e.g. `['status' => 'open', 'priority' => 'gte.3']` (operators eq, neq, gt,
     * gte, lt, lte, `in.(1,2)`, `is.null`) or `'status=eq.open'`. It replaces the channel's filter
     * (`[]` removes it); the platform refuses an unknown column with an `error` event.
     */
    public function channel(string $name, array|string|null $filter = null): Channel
    {
        if (!isset($this->channels[$name]) || $filter !== null) {
            try {
                $native = $this->native()->channel($name, Native::encode($filter, true));
            } catch (NativeError $e) {
                throw Native::error($e);
            }
            $this->channels[$name] ??= new Channel($this, $native, $name);
        }
        return $this->channels[$name];
    }

    /** `idle`, `connecting`, `connected`, `reconnecting` or `disconnected`. */
    public function status(): string
    {
        return $this->native === null ? 'idle' : $this->native->status();
    }

    /** Events dropped because they were not pulled fast enough. */
    public function droppedEvents(): int
    {
        return $this->native === null ? 0 : $this->native->droppedEvents();
    }

    /** Opens the socket and waits until connected. */
    public function connect(?int $timeoutMs = 10000): void
    {
        self::await($this->native()->connect(), $timeoutMs);
    }

    /** Closes the socket and stops reconnecting; channels are kept for a later `connect()`. */
    public function disconnect(): void
    {
        if ($this->native !== null) {
            self::await($this->native->disconnect(), 5000);
        }
    }

    /** Acts as the end user of `$token`. */
    public function setToken(string $token): void
    {
        try {
            $this->native()->setToken($token);
        } catch (NativeError $e) {
            throw Native::error($e);
        }
    }

    /**
     * Calls `$callback($status)` (`connecting`, `connected`, `reconnecting`, `disconnected`) on every
     * change of the connection's status, while `run()` or a channel's `events()` pulls events.
     */
    public function onStatusChange(callable $callback): self
    {
        $this->native();
        $this->connection[] = static function (array $ev) use ($callback): void {
            if (($ev['kind'] ?? null) === 'status') {
                $callback((string) ($ev['status'] ?? ''));
            }
        };
        return $this;
    }

    /** Calls `$callback()` once the connection gives up after `maxReconnectAttempts` failed reconnects (a `configure` option). */
    public function onMaxRetriesExceeded(callable $callback): self
    {
        $this->native();
        $this->connection[] = static function (array $ev) use ($callback): void {
            if (($ev['kind'] ?? null) === 'error' && ($ev['data']['reason'] ?? null) === self::GAVE_UP) {
                $callback();
            }
        };
        return $this;
    }

    /** The official clients' `sendChat`: `$text` (and `$metadata`) as a persisted `message` event of chat room `$roomId`. */
    public function sendChat(string $roomId, string $text, ?array $metadata = null): void
    {
        try {
            $this->native()->sendChat($roomId, $text, Native::encode($metadata, true));
        } catch (NativeError $e) {
            throw Native::error($e);
        }
    }

    /** The channel of chat room `$roomId` (`chat/{roomId}`), where `sendChat` messages arrive as `message` events. */
    public function chatRoom(string $roomId): Channel
    {
        return $this->channel("chat/$roomId");
    }

    /**
     * Pulls events for `$timeoutMs` (null: until the connection closes) and calls the listeners
     * (`Channel::on`) on this thread; the number of events handled.
     */
    public function run(?int $timeoutMs = null): int
    {
        $n = 0;
        $deadline = $timeoutMs === null ? null : hrtime(true) + $timeoutMs * 1_000_000;
        while (true) {
            $left = $deadline === null ? 1000 : intdiv($deadline - hrtime(true), 1_000_000);
            if ($left <= 0) {
                return $n;
            }
            $ev = $this->next($deadline === null ? 1000 : $left);
            if ($ev === null) {
                if ($deadline === null && $this->status() === 'disconnected') {
                    return $n;
                }
                continue;
            }
            $this->dispatch($ev);
            $n++;
        }
    }

    /** Stops the listeners and closes the socket. */
    public function close(): void
    {
        $this->callbacks = [];
        if ($this->native !== null) {
            try {
                $this->native->disconnect();
            } catch (NativeError) {
            }
        }
    }

    /** @internal the next event (array) within `$timeoutMs`, or null. */
    public function next(?int $timeoutMs): ?array
    {
        try {
            $j = $this->native()->nextEvent($timeoutMs);
        } catch (NativeError $e) {
            throw Native::error($e);
        }
        if ($j === null) {
            return null;
        }
        return Shape::event(json_decode($j, true, 512, JSON_BIGINT_AS_STRING));
    }

    /** @internal */
    public function listen(int $id, ?callable $cb): void
    {
        if ($cb === null) {
            unset($this->callbacks[$id]);
        } else {
            $this->callbacks[$id] = $cb;
        }
    }

    /** @internal calls the listeners the event names; the ids it matched. */
    public function dispatch(array $ev): array
    {
        $ids = $ev['listeners'] ?? [];
        foreach ($ids as $id) {
            if (isset($this->callbacks[$id])) {
                ($this->callbacks[$id])($ev);
            }
        }
        if (in_array($ev['kind'] ?? null, ['status', 'error'], true)) {
            foreach ($this->connection as $cb) {
                $cb($ev);
            }
        }
        return $ids;
    }

    /** @internal waits for a native task; its decoded result (in the shape of result type `$kind`). */
    public static function await(\Aerostack\Native\Task $task, ?int $timeoutMs, ?string $kind = null): mixed
    {
        $p = new \Aerostack\Pending($task, $kind === null ? null : static fn ($v) => Shape::of($kind, $v));
        return $p->wait($timeoutMs);
    }
}
