<?php

declare(strict_types=1);

namespace Aerostack;

/**
 * Results in PHP's own shapes: one conversion, at the paths the binding surface lists.
 *
 * The engine writes its keys in snake_case and every time as RFC 3339 UTC text. The surface
 * lists, per result type (an operation name; a stream's op for each item; `realtime.event`,
 * `realtime.presence_event`, `realtime.publish`, `realtime.presence`, `worker.invocation`),
 * where the times are (`bindings/common/src/times.rs`) and where the user's own data is
 * (`bindings/common/src/user_data.rs`); `Aerostack\Native\result_paths()` hands both over.
 * This class, and only it, turns a result into what the package hands out: the listed times
 * become `DateTimeImmutable` (UTC), every key the SDK owns becomes camelCase (`access_token` ->
 * `accessToken`, `job_id` -> `jobId`), and the user's data (rows, cached values, job payloads,
 * message data, tracked state, custom fields) is left exactly as stored, whatever its keys are.
 *
 * @internal
 */
final class Shape
{
    /** The result type of a presence event (its own paths replace a message event's). */
    public const PRESENCE_EVENT = 'realtime.event#presence';

    /**
     * Path tries per result type: a node is `['t' => time?, 'u' => user data?, 'n' => [step => node]]`.
     *
     * @var array<string, array>|null
     */
    private static ?array $tries = null;
    /** @var array<string, string> */
    private static array $camel = [];

    /** A result of type `$kind` (an operation name, ...) in the package's shape. */
    public static function of(string $kind, mixed $value): mixed
    {
        return is_array($value) ? self::walk($value, self::tries()[$kind] ?? []) : $value;
    }

    /** A realtime event (decoded JSON) in the package's shape, a presence event by its own paths. */
    public static function event(array $ev): array
    {
        return self::of(($ev['kind'] ?? null) === 'presence' ? self::PRESENCE_EVENT : 'realtime.event', $ev);
    }

    /** `access_token` -> `accessToken`; a key without `_` is kept as is. */
    public static function camel(string $key): string
    {
        if (isset(self::$camel[$key])) {
            return self::$camel[$key];
        }
        $c = str_contains($key, '_') ? lcfirst(str_replace('_', '', ucwords($key, '_'))) : $key;
        if (count(self::$camel) < 10000) {
            self::$camel[$key] = $c;
        }
        return $c;
    }

    /**
     * The raw tables, `['times' => [type => [path]], 'user_data' => [type => [path]]]`.
     *
     * @return array{times: array<string, list<string>>, user_data: array<string, list<string>>}
     */
    public static function tables(): array
    {
        return json_decode(\Aerostack\Native\result_paths(), true, 512, JSON_THROW_ON_ERROR);
    }

    /** `history[].started_at` -> `['history', '[]', 'started_at']`; `''` -> `[]`. */
    public static function steps(string $path): array
    {
        $out = [];
        if ($path === '') {
            return $out;
        }
        foreach (explode('.', $path) as $part) {
            if (str_ends_with($part, '[]')) {
                if ($part !== '[]') {
                    $out[] = substr($part, 0, -2);
                }
                $out[] = '[]';
            } else {
                $out[] = $part;
            }
        }
        return $out;
    }

    private static function tries(): array
    {
        if (self::$tries !== null) {
            return self::$tries;
        }
        $t = self::tables();
        $build = static function (array $times, array $user): array {
            $root = [];
            foreach ($times as $p) {
                self::insert($root, self::steps($p), 't');
            }
            foreach ($user as $p) {
                self::insert($root, self::steps($p), 'u');
            }
            return $root;
        };
        $tries = [];
        foreach (array_unique([...array_keys($t['times']), ...array_keys($t['user_data'])]) as $kind) {
            $tries[$kind] = $build($t['times'][$kind] ?? [], $t['user_data'][$kind] ?? []);
        }
        // A presence event: the times of every event plus those of its presence report; its user
        // data is the report's (the tracked state), which replaces a message's `data`.
        $tries[self::PRESENCE_EVENT] = $build(
            [...($t['times']['realtime.event'] ?? []), ...($t['times']['realtime.presence_event'] ?? [])],
            $t['user_data']['realtime.presence_event'] ?? [],
        );
        return self::$tries = $tries;
    }

    private static function insert(array &$node, array $steps, string $mark): void
    {
        if ($steps === []) {
            $node[$mark] = true;
            return;
        }
        $step = array_shift($steps);
        $node['n'][$step] ??= [];
        self::insert($node['n'][$step], $steps, $mark);
    }

    private static function walk(mixed $v, array $node): mixed
    {
        if (isset($node['u'])) {
            return $v;
        }
        if (isset($node['t']) && is_string($v)) {
            return Times::parse($v);
        }
        if (!is_array($v)) {
            return $v;
        }
        $next = $node['n'] ?? [];
        if (array_is_list($v) && $v !== []) {
            $item = $next['[]'] ?? [];
            foreach ($v as $i => $x) {
                if (is_array($x) || $item !== []) {
                    $v[$i] = self::walk($x, $item);
                }
            }
            return $v;
        }
        $out = [];
        foreach ($v as $k => $x) {
            $k = (string) $k;
            $out[self::camel($k)] = is_array($x) || isset($next[$k]) ? self::walk($x, $next[$k] ?? []) : $x;
        }
        return $out;
    }
}
