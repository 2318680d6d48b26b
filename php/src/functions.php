<?php

declare(strict_types=1);

namespace Aerostack;

/**
 * Waits for every pending call (from `$client->async()->...`) and returns their results, with the
 * same keys. The calls already run concurrently in the engine; this only collects them. When
 * calls failed, every call is still waited for, then the first failure (in key order) is thrown.
 *
 * @param array<array-key, Pending> $pending
 * @return array<array-key, mixed>
 */
function all(array $pending, ?int $timeoutMs = null): array
{
    $deadline = $timeoutMs === null ? null : hrtime(true) + $timeoutMs * 1_000_000;
    $results = [];
    $first = null;
    foreach ($pending as $key => $p) {
        if (!$p instanceof Pending) {
            throw new Exception\ValidationException(
                sprintf('Aerostack\\all() takes pending calls ($client->async()->...), got %s at key %s', get_debug_type($p), var_export($key, true)),
                'VALIDATION_ERROR', details: ['field' => (string) $key]
            );
        }
        $left = $deadline === null ? null : max(0, intdiv($deadline - hrtime(true), 1_000_000));
        try {
            $results[$key] = $p->wait($left);
        } catch (Exception\AerostackException $e) {
            $first ??= $e;
            $results[$key] = null;
        }
    }
    if ($first !== null) {
        throw $first;
    }
    return $results;
}
