<?php

declare(strict_types=1);

namespace Aerostack\Service;

/** Local-platform helpers (only the local platform serves these). */
final class Local extends Service
{
    /** Emails the local platform "sent" (verification links, OTP codes), newest first. */
    public function outbox(?string $to = null, ?int $limit = null, array $options = []): mixed
    {
        return $this->t->call('local.outbox', ['to' => $to, 'limit' => $limit], $options);
    }

    /** What the project's connected workers serve now: `workers`, `modules`, `events`, `jobs`. */
    public function workers(array $options = []): mixed
    {
        return $this->t->call('local.workers', [], $options);
    }

    /** Waits until a connected worker serves `$name` (a custom API slug, an event or a job type); returns `workers()`. */
    public function waitServed(string $name, int $timeoutMs = 10000, array $options = []): mixed
    {
        return $this->t->call('local.wait_served', ['name' => $name, 'timeout_ms' => $timeoutMs], $options);
    }
}
