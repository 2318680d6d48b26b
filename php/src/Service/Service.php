<?php

declare(strict_types=1);

namespace Aerostack\Service;

use Aerostack\Transport;

/**
 * A service namespace (`$client->db`, `$client->cache`, ...). On `$client->async()` the same
 * methods return a `Aerostack\Pending` instead of the result. Every call method takes a last
 * `array $options` of per-call options: `timeoutMs`, `retry` (false: none), `idempotencyKey`,
 * `headers` (`gateway->connectWebSocket`, which opens a socket, does not).
 */
abstract class Service
{
    /** @internal */
    public function __construct(protected readonly Transport $t)
    {
    }
}
