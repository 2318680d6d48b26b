<?php

declare(strict_types=1);

namespace Aerostack;

use Aerostack\Exception\AerostackException;
use Aerostack\Exception\ConfigException;

/**
 * The one place that talks to the `aerostack` extension's plumbing: the check that it is loaded
 * (with how to load it), JSON in and out, native errors into exceptions, engine log lines into
 * the caller's logger.
 *
 * @internal
 */
final class Native
{
    private const JSON_OUT = JSON_PRESERVE_ZERO_FRACTION | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR;

    private static bool $checked = false;

    /** Throws a ConfigException that says how to load the extension when it is not loaded. */
    public static function require(): void
    {
        if (self::$checked) {
            return;
        }
        if (!extension_loaded('aerostack')) {
            $repo = dirname(__DIR__, 2);
            $so = $repo . '/target/debug/libaerostack_php.so';
            $hint = is_file($so)
                ? "load it: php -d extension={$so} your-script.php (or extension={$so} in php.ini)"
                : 'build it with `make php` in the Aerostack SDK repository, then load target/debug/libaerostack_php.so with php -d extension=... (or in php.ini)';
            throw new ConfigException(
                "the Aerostack PHP extension `aerostack` is not loaded; {$hint}",
                'INVALID_CONFIG',
                details: ['field' => 'extension']
            );
        }
        self::$checked = true;
    }

    /** JSON text of a value; an empty PHP array is `{}` when `$object`. */
    public static function encode(mixed $v, bool $object = false): string
    {
        if ($object && $v === []) {
            return '{}';
        }
        try {
            $json = json_encode($v, self::JSON_OUT);
            // A DateTimeInterface (e.g. a time the SDK handed out, sent back) encodes as PHP's
            // {date, timezone_type, timezone} object: send it as the engine's RFC 3339 text.
            // The walk runs only when the cheap check says one may be there.
            if (str_contains($json, '"timezone_type"')) {
                $json = json_encode(self::times($v), self::JSON_OUT);
            }
            return $json;
        } catch (\JsonException $e) {
            throw new Exception\ValidationException('the arguments cannot be sent as JSON: ' . $e->getMessage(), 'VALIDATION_ERROR', details: ['field' => 'args']);
        }
    }

    /** `$v` with every DateTimeInterface as RFC 3339 UTC text with milliseconds. */
    private static function times(mixed $v): mixed
    {
        if ($v instanceof \DateTimeInterface) {
            return \DateTimeImmutable::createFromInterface($v)->setTimezone(new \DateTimeZone('UTC'))->format('Y-m-d\\TH:i:s.v\\Z');
        }
        if (is_array($v)) {
            return array_map(self::times(...), $v);
        }
        return $v;
    }

    public static function decode(string $json): mixed
    {
        return json_decode($json, true, 512, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
    }

    /** The exception of a native error (`family` picks the class). */
    public static function error(\Aerostack\Native\NativeError $e): AerostackException
    {
        $d = json_decode($e->getMessage(), true);
        if (!is_array($d)) {
            return new Exception\ServerException($e->getMessage(), 'INTERNAL_ERROR');
        }
        return AerostackException::fromArray($d);
    }

    /** @var array<int, array{object, int}> engine client id => [logger, transports holding it] */
    private static array $loggers = [];

    /** A transport of engine client `$id` with `$logger` (its lines go there). */
    public static function registerLogger(int $id, object $logger): void
    {
        $n = self::$loggers[$id][1] ?? 0;
        self::$loggers[$id] = [$logger, $n + 1];
    }

    /** That transport went away; the last one of the client forgets the logger. */
    public static function unregisterLogger(int $id): void
    {
        if (isset(self::$loggers[$id]) && --self::$loggers[$id][1] <= 0) {
            unset(self::$loggers[$id]);
        }
    }

    /**
     * Writes the engine's waiting log lines, each through the PSR-3-style logger (duck-typed) of
     * the client whose call it is; lines of clients without a logger are dropped. Nothing to do
     * (and nothing drained) while no client has a logger.
     */
    public static function flushLogs(): void
    {
        if (self::$loggers === []) {
            return;
        }
        foreach (\Aerostack\Native\drain_logs() as [$client, $level, $message]) {
            $logger = self::$loggers[$client][0] ?? null;
            if ($logger === null) {
                continue;
            }
            try {
                if (method_exists($logger, $level)) {
                    $logger->{$level}($message, ['sdk' => 'aerostack']);
                } elseif (method_exists($logger, 'log')) {
                    $logger->log($level, $message, ['sdk' => 'aerostack']);
                }
            } catch (\Throwable) {
                // A failing logger never fails the call that flushed it.
            }
        }
    }

    /** `fooBarMs` -> `foo_bar_ms` for option names (keys already in snake_case pass unchanged). */
    public static function snake(string $name): string
    {
        return strtolower((string) preg_replace('/(?<!^)[A-Z]/', '_$0', $name));
    }

    /** Option arrays in the surface's names: camelCase keys to snake_case, nulls dropped. */
    public static function options(array $o, bool $deep = false): array
    {
        $out = [];
        foreach ($o as $k => $v) {
            if ($v === null) {
                continue;
            }
            $out[is_string($k) ? self::snake($k) : $k] = ($deep && is_array($v) && !array_is_list($v)) ? self::options($v, true) : $v;
        }
        return $out;
    }

    /** A retry argument: false (no retries), true/null (defaults), or the policy's fields. */
    public static function retry(mixed $retry): array|bool|null
    {
        if ($retry === null || is_bool($retry)) {
            return $retry; // the engine reads true (the default policy) and false (no retries)
        }
        if (is_array($retry)) {
            return self::options($retry);
        }
        throw new Exception\ValidationException(
            sprintf('`retry` must be false, true or an array of the policy fields (maxAttempts, initialIntervalMs, ...), got %s', get_debug_type($retry)),
            'VALIDATION_ERROR',
            details: ['field' => 'retry']
        );
    }

    /** The per-call options array (`timeoutMs`, `retry`, `idempotencyKey`, `headers`) in the surface's names. */
    public static function callOptions(array $o): array
    {
        $known = ['timeoutMs', 'retry', 'idempotencyKey', 'headers'];
        foreach (array_keys($o) as $k) {
            if (!in_array($k, $known, true)) {
                throw new Exception\ValidationException(
                    sprintf('unknown per-call option %s; the options are %s', var_export($k, true), implode(', ', $known)),
                    'VALIDATION_ERROR',
                    details: ['field' => (string) $k]
                );
            }
        }
        if (array_key_exists('retry', $o)) {
            $o['retry'] = self::retry($o['retry']);
        }
        return self::options($o);
    }
}
