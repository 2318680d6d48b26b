<?php

declare(strict_types=1);

namespace Aerostack;

use Aerostack\Exception\AerostackException;
use Aerostack\Exception\CancelledException;
use Aerostack\Exception\TimeoutException;
use Aerostack\Native\NativeError;

/**
 * An engine call that is already running (from `$client->async()->...`). `wait()` for its
 * result, `Aerostack\all([...])` for many, or ignore it: the call completes anyway. Many pending
 * calls run concurrently in the engine while PHP does other work.
 */
final class Pending
{
    private bool $settled = false;
    private mixed $value = null;
    private ?AerostackException $error = null;
    private bool $cancelled = false;

    /** @internal */
    public function __construct(
        private readonly \Aerostack\Native\Task $task,
        private readonly ?\Closure $convert = null,
        private readonly ?object $logger = null,
        private readonly ?\Closure $progress = null,
    ) {
    }

    /**
     * The result, waiting at most `$timeoutMs` (null: until done). A TimeoutException when the
     * call has not finished by then (it keeps running: wait again later); the call's own
     * exception when it failed.
     */
    public function wait(?int $timeoutMs = null): mixed
    {
        if (!$this->settled) {
            $this->settle($timeoutMs);
        }
        if ($this->error !== null) {
            throw $this->error;
        }
        return $this->value;
    }

    /** Whether the call has finished (never blocks). */
    public function isDone(): bool
    {
        return $this->settled || $this->cancelled || $this->task->isDone();
    }

    /** Drops the engine call (and its request); `wait()` then throws a CancelledException. */
    public function cancel(): void
    {
        if (!$this->settled) {
            $this->task->cancel();
            $this->cancelled = true;
        }
    }

    private function settle(?int $timeoutMs): void
    {
        if ($this->cancelled) {
            $this->settled = true;
            $this->error = new CancelledException('the call was cancelled (Pending::cancel())', 'CANCELLED');
            return;
        }
        $deadline = $timeoutMs === null ? null : hrtime(true) + $timeoutMs * 1_000_000;
        // Slices: logs and progress are reported on this thread while the engine works.
        $slice = ($this->progress !== null) ? 20 : (($this->logger !== null) ? 200 : null);
        while (true) {
            $left = $deadline === null ? null : max(0, intdiv($deadline - hrtime(true), 1_000_000));
            $wait = $slice === null ? $left : ($left === null ? $slice : min($slice, $left));
            $done = $this->task->waitFor($wait);
            $this->report();
            if ($done) {
                break;
            }
            if ($left !== null && hrtime(true) >= $deadline) {
                throw new TimeoutException(
                    "the pending call did not finish within {$timeoutMs} ms; it keeps running: wait() again, or cancel() it",
                    'TIMEOUT'
                );
            }
        }
        $this->settled = true;
        try {
            $v = json_decode($this->task->result(), true, 512, JSON_BIGINT_AS_STRING);
            $this->value = $this->convert === null ? $v : ($this->convert)($v);
        } catch (NativeError $e) {
            $this->error = Native::error($e);
        } finally {
            Native::flushLogs();
        }
    }

    private function report(): void
    {
        if ($this->logger !== null) {
            Native::flushLogs();
        }
        if ($this->progress !== null && ($p = $this->task->progress()) !== null) {
            ($this->progress)($p[0], $p[1]);
        }
    }
}
