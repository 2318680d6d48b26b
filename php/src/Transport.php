<?php

declare(strict_types=1);

namespace Aerostack;

use Aerostack\Native\NativeError;

/**
 * One native client plus how its calls answer: blocking (the result) or pending (a `Pending`
 * over the running engine call). Every service namespace calls through here.
 *
 * @internal
 */
final class Transport
{
    private readonly int $id;

    public function __construct(
        public readonly \Aerostack\Native\Client $native,
        public readonly ?object $logger = null,
        public readonly bool $async = false,
    ) {
        $this->id = $native->id();
        if ($logger !== null) {
            Native::registerLogger($this->id, $logger);
        }
    }

    public function __destruct()
    {
        if ($this->logger !== null) {
            Native::unregisterLogger($this->id);
        }
    }

    public function withAsync(bool $async): self
    {
        return $async === $this->async ? $this : new self($this->native, $this->logger, $async);
    }

    /**
     * Runs `$op` with `$args` (the surface's snake_case names); `$options` the per-call options
     * array; `$convert` shapes the JSON answer.
     */
    public function call(string $op, array $args, array $options = [], ?\Closure $convert = null): mixed
    {
        if ($options !== []) {
            $args['_options'] = Native::callOptions($options);
        }
        $json = Native::encode($args, true);
        // The answer in the package's shape (camelCase keys, DateTimeImmutable times, the
        // user's data as stored: see Shape), then whatever the namespace makes of it.
        $convert = $convert === null
            ? static fn ($v) => Shape::of($op, $v)
            : static fn ($v) => $convert(Shape::of($op, $v));
        if ($this->async || $this->logger !== null) {
            // With a logger, a blocking call waits in slices too, so a retry's warning is
            // written while the call still waits, not after it.
            try {
                $pending = new Pending($this->native->spawn($op, $json), $convert, $this->logger);
            } catch (NativeError $e) {
                throw Native::error($e);
            }
            return $this->async ? $pending : $pending->wait();
        }
        try {
            $out = $this->native->call($op, $json);
        } catch (NativeError $e) {
            Native::flushLogs();
            throw Native::error($e);
        }
        if ($out === null) {
            // A signal interrupted the wait (pcntl_async_signals): its handler has run by now.
            throw new Exception\CancelledException("the call ({$op}) was interrupted by a signal; its handler ran and the request was dropped", 'CANCELLED');
        }
        return $convert(json_decode($out, true, 512, JSON_BIGINT_AS_STRING));
    }

    /**
     * Opens streamed operation `$op` now (so a bad argument or a missing service throws here)
     * and yields its items; leaving the loop early closes the stream.
     */
    public function stream(string $op, array $args, array $options = []): \Generator
    {
        if ($options !== []) {
            $args['_options'] = Native::callOptions($options);
        }
        try {
            $s = $this->native->stream($op, Native::encode($args, true));
        } catch (NativeError $e) {
            throw Native::error($e);
        }
        return self::items($s, $op);
    }

    private static function items(\Aerostack\Native\Stream $s, string $op): \Generator
    {
        try {
            while (true) {
                try {
                    $item = $s->next();
                } catch (NativeError $e) {
                    throw Native::error($e);
                }
                if ($item === null) {
                    if ($s->interrupted()) {
                        // A signal interrupted the wait (pcntl_async_signals): its handler has run.
                        throw new Exception\CancelledException("the stream ({$op}) was interrupted by a signal; its handler ran and the stream was closed", 'CANCELLED');
                    }
                    return;
                }
                yield Shape::of($op, json_decode($item, true, 512, JSON_BIGINT_AS_STRING));
            }
        } finally {
            $s->close();
            Native::flushLogs();
        }
    }

    /** Uploads `$data` (bytes) or the file at `$args['path']`, reporting progress. */
    public function upload(array $args, ?string $data, ?callable $progress, array $options = []): mixed
    {
        if ($options !== []) {
            $args['_options'] = Native::callOptions($options);
        }
        try {
            $task = $this->native->upload(Native::encode($args, true), $data);
        } catch (NativeError $e) {
            throw Native::error($e);
        }
        $pending = new Pending($task, static fn ($v) => Shape::of('storage.upload', $v), $this->logger, $progress === null ? null : \Closure::fromCallable($progress));
        return $this->async ? $pending : $pending->wait();
    }
}
