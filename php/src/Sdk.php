<?php

declare(strict_types=1);

namespace Aerostack;

/**
 * The scoped `$sdk` a Logic Module or queue job handler receives (seed 000's names):
 * `$sdk->db->query($sql, $params)`, `$sdk->cache->get/set`, `$sdk->ai->chat($model, $messages)`,
 * `$sdk->fetch($url, $options)`, `$sdk->secrets->get($key)`, `$sdk->queue->enqueue($job, $data)`,
 * `$sdk->socket->emit($event, $data, $room)`, plus storage and services. Every call acts on the
 * invocation's project with its scope token.
 */
final class Sdk extends Client
{
    public readonly string $projectId;

    /** @internal */
    public static function forInvocation(\Aerostack\Native\Invocation $inv, ?object $logger): self
    {
        try {
            $native = $inv->client();
        } catch (\Aerostack\Native\NativeError $e) {
            throw Native::error($e);
        }
        $sdk = self::fromTransport(new Transport($native, $logger));
        $sdk->projectId = $inv->projectId();
        return $sdk;
    }

    /** The same scoped sdk with per-call options (see Client::withOptions). */
    public function withOptions(?int $timeoutMs = null, mixed $retry = null, ?string $idempotencyKey = null, ?array $headers = null): static
    {
        $sdk = parent::withOptions($timeoutMs, $retry, $idempotencyKey, $headers);
        $sdk->projectId = $this->projectId;
        return $sdk;
    }

    /**
     * Outbound HTTP (JavaScript's `fetch(url, init)`): `$options` has `method`, `headers`,
     * `body` (a string; an array is sent as JSON), `timeoutMs` (default 30000). Any HTTP status
     * is an answer: `['status' => 200, 'headers' => [...], 'body' => '...']`; only network
     * failures throw.
     */
    public function fetch(string $url, array $options = []): array
    {
        $o = ['url' => $url];
        $headers = $options['headers'] ?? [];
        if (isset($options['method'])) {
            $o['method'] = $options['method'];
        }
        if (array_key_exists('body', $options) && $options['body'] !== null) {
            $body = $options['body'];
            if (!is_string($body)) {
                $body = Native::encode($body);
                $hasType = false;
                foreach (array_keys($headers) as $k) {
                    $hasType = $hasType || strtolower((string) $k) === 'content-type';
                }
                if (!$hasType) {
                    $headers['Content-Type'] = 'application/json';
                }
            }
            $o['body'] = $body;
        }
        if ($headers !== []) {
            $o['headers'] = $headers;
        }
        if (isset($options['timeoutMs'])) {
            $o['timeout_ms'] = $options['timeoutMs'];
        }
        return $this->t->call('fetch', $o);
    }
}
