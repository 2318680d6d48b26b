<?php

declare(strict_types=1);

namespace Aerostack;

/**
 * Times as `DateTimeImmutable` (UTC): one conversion, at the paths the binding surface lists.
 *
 * The engine writes every time it reports as RFC 3339 UTC text with milliseconds; the surface
 * (`bindings/common/src/times.rs`, through `Aerostack\Native\time_fields()`) lists, per result
 * type (an operation name, or `realtime.event` / `realtime.presence_event` / `realtime.publish` /
 * `realtime.presence` / `worker.invocation`), the paths where those times are. Exactly those are
 * converted: user data (rows, payloads, cache values, message data, tracked state) is never
 * touched, whatever its keys are called.
 *
 * @internal
 */
final class Times
{
    /** @var array<string, list<list<string>>>|null result type => paths as steps */
    private static ?array $paths = null;
    private static ?\DateTimeZone $utc = null;

    /** The paths (as steps) of result type `$kind`; empty for a result without times. */
    public static function paths(string $kind): array
    {
        if (self::$paths === null) {
            $table = [];
            foreach (\Aerostack\Native\time_fields() as $type => $paths) {
                $table[$type] = array_map(self::steps(...), $paths);
            }
            self::$paths = $table;
        }
        return self::$paths[$kind] ?? [];
    }

    /** Converts the times of a result of type `$kind`; returns the converted value. */
    public static function at(string $kind, mixed $value): mixed
    {
        foreach (self::paths($kind) as $steps) {
            $value = self::convert($value, $steps, 0);
        }
        return $value;
    }

    /** RFC 3339 text (as the engine writes it) as a `DateTimeImmutable` in UTC. */
    public static function parse(string $text): \DateTimeImmutable
    {
        self::$utc ??= new \DateTimeZone('UTC');
        try {
            return (new \DateTimeImmutable($text))->setTimezone(self::$utc);
        } catch (\Exception $e) {
            throw new Exception\DecodeException("the engine reported a time that is not RFC 3339: {$text}", 'DECODE_ERROR', details: ['value' => $text]);
        }
    }

    /**
     * A point in time given as a `DateTimeInterface` or unix milliseconds, as the engine's unix
     * milliseconds; null stays null (anything else is PHP's TypeError naming the parameter).
     */
    public static function unixMs(\DateTimeInterface|int|null $when): ?int
    {
        if ($when instanceof \DateTimeInterface) {
            return $when->getTimestamp() * 1000 + intdiv((int) $when->format('u'), 1000);
        }
        return $when;
    }

    /** `history[].started_at` -> `['history', '[]', 'started_at']`. */
    private static function steps(string $path): array
    {
        $out = [];
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

    private static function convert(mixed $node, array $steps, int $i): mixed
    {
        if (!is_array($node)) {
            return $node;
        }
        $step = $steps[$i];
        $last = $i + 1 === count($steps);
        if ($step === '[]') {
            if (!array_is_list($node)) {
                return $node;
            }
            foreach ($node as $j => $item) {
                if ($last) {
                    if (is_string($item)) {
                        $node[$j] = self::parse($item);
                    }
                } else {
                    $node[$j] = self::convert($item, $steps, $i + 1);
                }
            }
            return $node;
        }
        if (!array_key_exists($step, $node) || array_is_list($node) && $node !== []) {
            return $node;
        }
        if ($last) {
            if (is_string($node[$step])) {
                $node[$step] = self::parse($node[$step]);
            }
        } else {
            $node[$step] = self::convert($node[$step], $steps, $i + 1);
        }
        return $node;
    }
}
