<?php

declare(strict_types=1);

namespace Aerostack;

use Aerostack\Native\NativeError;

/**
 * Serves Logic Modules (custom APIs, event handlers) and queue jobs from this PHP process:
 *
 *     $worker = new Aerostack\Worker();   // AEROSTACK_PROJECT_ID / AEROSTACK_API_KEY / AEROSTACK_API_URL
 *     $worker->module('search-products', function (Aerostack\Sdk $sdk, array $event) {
 *         $rows = $sdk->db->query('SELECT id, name FROM products WHERE name LIKE ?', ['%' . ($event['data']['q'] ?? '') . '%']);
 *         return ['results' => $rows->results, 'count' => count($rows)];
 *     }, public: true);
 *     $worker->job('send-welcome-email', function (Aerostack\Sdk $sdk, array $job) { ... });
 *     $worker->run();   // until SIGTERM / SIGINT, which drain the invocations in flight
 *
 * A handler's return value is the custom API's JSON answer (or the job's result); an exception
 * fails the invocation (the API answers 500 HOOK_FAILED; the job is retried). PHP runs one
 * invocation at a time per process: start more processes for more at once.
 */
final class Worker
{
    /** @var array<string, array{callable, array}> */
    private array $modules = [];
    /** @var array<string, array{callable, array}> */
    private array $jobs = [];
    private ?\Aerostack\Native\Worker $native = null;
    private bool $stopping = false;
    private array $clientOptions;

    public function __construct(
        ?string $projectId = null,
        ?string $apiKey = null,
        ?string $baseUrl = null,
        private readonly ?string $label = null,
        private readonly ?object $logger = null,
        ?int $timeoutMs = null,
    ) {
        Native::require();
        $this->clientOptions = Native::options([
            'project_id' => $projectId,
            'api_key' => $apiKey,
            'base_url' => $baseUrl,
            'timeout_ms' => $timeoutMs,
        ]);
    }

    /**
     * Serves the Logic Module `$slug`: `$handler(Sdk $sdk, array $event)` where `$event` has
     * `data`, `method`, `projectId`, `timestamp`, ...; reached at
     * `/api/v1/public/projects/<project slug>/custom/<slug>` and by `$client->call($slug, ...)`.
     */
    public function module(string $slug, callable $handler, bool $public = false, array $methods = ['POST'], ?int $timeoutMs = null, ?string $name = null, ?string $trigger = null): self
    {
        $this->modules[$slug] = [$handler, Native::options(['slug' => $slug, 'methods' => $methods, 'public' => $public, 'timeout_ms' => $timeoutMs, 'name' => $name, 'trigger' => $trigger])];
        return $this;
    }

    /**
     * Handles the platform event `$event` (e.g. `auth.register.after`, `auth.login.after`):
     * `$handler(Sdk $sdk, array $event)`, `$event['data']` the event's data. `$slug` names the
     * module (default: from the event name).
     */
    public function on(string $event, callable $handler, ?string $slug = null, ?int $timeoutMs = null): self
    {
        $slug ??= 'on-' . trim((string) preg_replace('/[^a-z0-9]+/', '-', strtolower($event)), '-');
        $this->modules[$slug] = [$handler, Native::options(['slug' => $slug, 'trigger' => $event, 'timeout_ms' => $timeoutMs])];
        return $this;
    }

    /**
     * Serves queue jobs of `$type` (a function name like `sendWelcomeEmail` works too: it serves
     * `send-welcome-email`): `$handler(Sdk $sdk, array $job)` where `$job['data']` is the job's data.
     */
    public function job(string $type, callable $handler, ?int $timeoutMs = null): self
    {
        if (!str_contains($type, '-') && preg_match('/[A-Z_]/', $type)) {
            $type = \Aerostack\Native\job_type_from_function_name(Native::snake($type));
        }
        $this->jobs[$type] = [$handler, Native::options(['type' => $type, 'timeout_ms' => $timeoutMs])];
        return $this;
    }

    /** Connects and registers (done by `run()` when not yet). */
    public function start(): self
    {
        if ($this->native !== null) {
            return $this;
        }
        $registration = Native::options([
            'modules' => array_values(array_map(static fn ($m) => $m[1], $this->modules)),
            'jobs' => array_values(array_map(static fn ($j) => $j[1], $this->jobs)),
            'concurrency' => 1,
            'label' => $this->label ?? ('php ' . gethostname() . ' ' . getmypid()),
        ]);
        try {
            $this->native = \Aerostack\Native\Worker::connect(Native::encode($this->clientOptions, true), Native::encode($registration, true));
        } catch (NativeError $e) {
            throw Native::error($e);
        }
        return $this;
    }

    /**
     * Serves invocations until SIGTERM/SIGINT (then drains: the invocations in flight are
     * answered before it returns), `stop()` from a handler, or `$forMs` milliseconds.
     */
    public function run(?int $forMs = null): void
    {
        $this->start();
        $restore = $this->trapSignals();
        $deadline = $forMs === null ? null : hrtime(true) + $forMs * 1_000_000;
        try {
            while (!$this->stopping && ($deadline === null || hrtime(true) < $deadline)) {
                $this->serveOne(200);
                if ($this->native->isClosed()) {
                    break;
                }
            }
        } finally {
            $restore();
            $this->close();
        }
    }

    /** Serves at most one invocation, waiting up to `$timeoutMs` for it; whether one was served. */
    public function serveOne(int $timeoutMs = 200): bool
    {
        $this->start();
        if (function_exists('pcntl_signal_dispatch')) {
            pcntl_signal_dispatch();
        }
        try {
            $inv = $this->native->nextInvocation($timeoutMs);
        } catch (NativeError $e) {
            throw Native::error($e);
        }
        if ($inv === null) {
            return false;
        }
        $this->answer($inv);
        return true;
    }

    /** Asks `run()` to return after the invocation in progress (safe from a handler or a signal handler). */
    public function stop(): void
    {
        $this->stopping = true;
    }

    /** Drains and closes the connection. */
    public function close(): void
    {
        if ($this->native === null) {
            return;
        }
        try {
            $this->native->drain();
            $this->native->stop(5000);
        } catch (NativeError) {
            // Closing a connection that already went is not a failure.
        }
        $this->native = null;
    }

    private function answer(\Aerostack\Native\Invocation $inv): void
    {
        $name = $inv->name();
        $kind = $inv->kind();
        $handler = ($kind === 'job' ? ($this->jobs[$name] ?? null) : ($this->modules[$name] ?? null))[0] ?? null;
        $id = $inv->id();
        try {
            if ($handler === null) {
                throw new \RuntimeException("this worker has no handler for {$kind} {$name}");
            }
            $event = Shape::of('worker.invocation', json_decode($inv->event(), true, 512, JSON_BIGINT_AS_STRING));
            $result = $handler(Sdk::forInvocation($inv, $this->logger), $event);
            if ($result instanceof \JsonSerializable) {
                $result = $result->jsonSerialize();
            }
            $this->native->complete($id, Native::encode($result));
        } catch (\Throwable $e) {
            $this->logger?->error("aerostack worker: {$kind} {$name} failed: " . $e->getMessage(), ['exception' => $e]);
            try {
                $this->native->fail($id, $e->getMessage() !== '' ? $e->getMessage() : get_class($e));
            } catch (NativeError $err) {
                throw Native::error($err);
            }
        } finally {
            Native::flushLogs();
        }
    }

    /** SIGTERM/SIGINT stop the loop (pcntl, when the build has it); returns the undo. */
    private function trapSignals(): \Closure
    {
        if (!function_exists('pcntl_signal')) {
            return static function (): void {
            };
        }
        $old = [SIGTERM => pcntl_signal_get_handler(SIGTERM), SIGINT => pcntl_signal_get_handler(SIGINT)];
        $stop = function (): void {
            $this->stopping = true;
        };
        pcntl_signal(SIGTERM, $stop);
        pcntl_signal(SIGINT, $stop);
        return static function () use ($old): void {
            foreach ($old as $sig => $h) {
                pcntl_signal($sig, $h);
            }
        };
    }
}
