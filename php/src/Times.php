<?php

declare(strict_types=1);

namespace Aerostack;

/**
 * Times as `DateTimeImmutable` (UTC), and back. `Shape` converts a result's times (at the paths
 * the binding surface lists) with `parse`; a time the caller passes in goes through `unixMs`.
 *
 * @internal
 */
final class Times
{
    private static ?\DateTimeZone $utc = null;

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
}
