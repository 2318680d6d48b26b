<?php

declare(strict_types=1);

namespace Aerostack;

/**
 * Results in PHP's own shapes: the times become `DateTimeImmutable` (UTC), at the paths the
 * binding surface lists.
 *
 * The surface hands results out with every key it owns already in camelCase (`accessToken`,
 * `jobId`) and the user's data (rows, cached values, job payloads, message data, tracked state,
 * custom fields) exactly as stored: `bindings/common/src/result_keys.rs`, once, for every SDK.
 * Times arrive as RFC 3339 UTC text; the surface lists, per result type (an operation name; a
 * stream's op for each item; `realtime.event`, `realtime.presence_event`, `realtime.publish`,
 * `realtime.presence`, `worker.invocation`), where they are (`bindings/common/src/times.rs`, in
 * camelCase, from `Aerostack\Native\result_paths()`). This class walks those paths only.
 *
 * @internal
 */
final class Shape
{
    /** The result type of a presence event (its own paths replace a message event's). */
    public const PRESENCE_EVENT = 'realtime.event#presence';

    /**
     * Time-path tries per result type: a node is `['t' => true]` (a time) or `['n' => [step => node]]`.
     *
     * @var array<string, array>|null
     */
    private static ?array $tries = null;

    /** A result of type `$kind` (an operation name, ...) in the package's shape. */
    public static function of(string $kind, mixed $value): mixed
    {
        $node = self::tries()[$kind] ?? null;
        return $node === null ? $value : self::convert($value, $node);
    }

    /** A realtime event (decoded JSON) in the package's shape, a presence event by its own paths. */
    public static function event(array $ev): array
    {
        return self::of(($ev['kind'] ?? null) === 'presence' ? self::PRESENCE_EVENT : 'realtime.event', $ev);
    }

    /**
     * The raw tables, `['times' => [type => [path]], 'user_data' => [type => [path]]]`, paths in camelCase.
     *
     * @return array{times: array<string, list<string>>, user_data: array<string, list<string>>}
     */
    public static function tables(): array
    {
        return json_decode(\Aerostack\Native\result_paths(), true, 512, JSON_THROW_ON_ERROR);
    }

    /** `history[].startedAt` -> `['history', '[]', 'startedAt']`; `''` -> `[]`. */
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
        $times = self::tables()['times'];
        $tries = [];
        foreach ($times as $kind => $paths) {
            $tries[$kind] = self::build($paths);
        }
        // A presence event: the times of every event plus those of its presence report.
        $tries[self::PRESENCE_EVENT] = self::build([...($times['realtime.event'] ?? []), ...($times['realtime.presence_event'] ?? [])]);
        return self::$tries = $tries;
    }

    private static function build(array $paths): array
    {
        $root = [];
        foreach ($paths as $p) {
            $node = &$root;
            foreach (self::steps($p) as $step) {
                $node['n'][$step] ??= [];
                $node = &$node['n'][$step];
            }
            $node['t'] = true;
            unset($node);
        }
        return $root;
    }

    private static function convert(mixed $v, array $node): mixed
    {
        if (isset($node['t'])) {
            return is_string($v) ? Times::parse($v) : $v;
        }
        if (!is_array($v) || !isset($node['n'])) {
            return $v;
        }
        foreach ($node['n'] as $step => $child) {
            if ($step === '[]') {
                if (array_is_list($v)) {
                    foreach ($v as $i => $x) {
                        $v[$i] = self::convert($x, $child);
                    }
                }
            } elseif (isset($v[$step])) {
                $v[$step] = self::convert($v[$step], $child);
            }
        }
        return $v;
    }
}
