<?php

declare(strict_types=1);

namespace Aerostack\Realtime;

use Aerostack\Native;
use Aerostack\Native\NativeError;
use Aerostack\Shape;
use Aerostack\Times;

/** One topic: listeners (`on`), `publish`, presence (`track`), history, `events()`. */
final class Channel
{
    /** @var array<int, callable> */
    private array $listeners = [];

    /** @internal */
    public function __construct(private readonly Realtime $rt, private readonly \Aerostack\Native\Channel $native, public readonly string $name)
    {
    }

    /** The full topic (`table/orders/<projectId>`, `chat/general/<projectId>`). */
    public function topic(): string
    {
        return $this->native->topic();
    }

    /** Whether the platform confirmed the subscription on the current socket. */
    public function isSubscribed(): bool
    {
        return $this->native->isSubscribed();
    }

    /**
     * Calls `$callback(array $event)` for `$event`: a published name, `INSERT` / `UPDATE` /
     * `DELETE`, `presence:join` / `presence:leave` / `presence:sync` / `presence:*`, `*` (all of
     * those), `subscribed` or `error`. The event has `event`, `kind`, `data`, `old`, `topic`,
     * `userId`, `id`, `timestamp`, `persisted`, `replayed`. Returns the listener id (for `off`).
     */
    public function on(string $event, callable $callback): int
    {
        $id = $this->native->on($event);
        $this->listeners[$id] = $callback;
        $this->rt->listen($id, $callback);
        return $id;
    }

    /** Removes a listener (its id or its callback); all of this channel's when null. */
    public function off(int|callable|null $listener = null): void
    {
        foreach ($this->listeners as $id => $cb) {
            if ($listener === null || $listener === $id || $listener === $cb) {
                $this->native->off($id);
                $this->rt->listen($id, null);
                unset($this->listeners[$id]);
            }
        }
    }

    /** Waits until the platform confirmed the subscription (the subscription itself began with `channel()`). */
    public function subscribe(?int $timeoutMs = 10000): self
    {
        try {
            $task = $this->native->waitSubscribed($timeoutMs ?? 3_600_000);
        } catch (NativeError $e) {
            throw Native::error($e);
        }
        Realtime::await($task, null);
        return $this;
    }

    /** Sends `$event` with `$data` to the other subscribers; the platform's ack `{id, timestamp, persisted}`. */
    public function publish(string $event, mixed $data = null, bool $persist = false, ?int $timeoutMs = null): mixed
    {
        try {
            $task = $this->native->publish($event, Native::encode($data), Native::encode(Native::options(['persist' => $persist, 'timeout_ms' => $timeoutMs]), true));
        } catch (NativeError $e) {
            throw Native::error($e);
        }
        return Realtime::await($task, null, 'realtime.publish');
    }

    /** Be present here with `$state`; others get `presence:join`. */
    public function track(array $state = []): void
    {
        $this->guard(fn () => $this->native->track(Native::encode($state, true)));
    }

    /** Stop being present (others get `presence:leave`). */
    public function untrack(): void
    {
        $this->guard(fn () => $this->native->untrack());
    }

    /** Everyone present (`{key, state, userId, joinedAt}`), oldest first. */
    public function presence(): array
    {
        return Shape::of('realtime.presence', json_decode($this->native->presence(), true));
    }

    /**
     * Persisted messages, newest first (`{id, roomId, userId, event, data, createdAt}`, the
     * `createdAt` a DateTimeImmutable); page back with `before:` the last one's `createdAt`
     * (any DateTimeInterface, or unix milliseconds): messages strictly older than that.
     */
    public function history(?int $limit = null, \DateTimeInterface|int|null $before = null): array
    {
        $ms = Times::unixMs($before);
        return Shape::of('realtime.history', json_decode($this->guard(fn () => $this->native->history($limit, $ms)), true, 512, JSON_BIGINT_AS_STRING));
    }

    /** Leaves the topic (no more events; presence untracked). */
    public function unsubscribe(): void
    {
        $this->off();
        $this->guard(fn () => $this->native->unsubscribe());
    }

    /**
     * The events matching `$event` (see `on`) as a generator: `foreach ($channel->events() as $e)`.
     * With `$timeoutMs` the iteration ends after that long without a matching event. Events for
     * other listeners met on the way are handed to their callbacks.
     */
    public function events(string $event = '*', ?int $timeoutMs = null): \Generator
    {
        // Registered now, not at the first iteration: events arriving in between are kept.
        return $this->pull($this->native->on($event), $timeoutMs);
    }

    private function pull(int $id, ?int $timeoutMs): \Generator
    {
        try {
            $idle = $timeoutMs === null ? null : hrtime(true) + $timeoutMs * 1_000_000;
            while (true) {
                $left = $idle === null ? 1000 : intdiv($idle - hrtime(true), 1_000_000);
                if ($left <= 0) {
                    return;
                }
                $ev = $this->rt->next($left);
                if ($ev === null) {
                    continue;
                }
                $ids = $this->rt->dispatch($ev);
                if (in_array($id, $ids, true)) {
                    yield $ev;
                    $idle = $timeoutMs === null ? null : hrtime(true) + $timeoutMs * 1_000_000;
                }
            }
        } finally {
            $this->native->off($id);
        }
    }

    private function guard(\Closure $f): mixed
    {
        try {
            return $f();
        } catch (NativeError $e) {
            throw Native::error($e);
        }
    }
}
