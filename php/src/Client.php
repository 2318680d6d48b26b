<?php

declare(strict_types=1);

namespace Aerostack;

use Aerostack\Native\NativeError;

/**
 * A client of one Aerostack project (one connection pool in the engine).
 *
 *     $client = new Aerostack\Client(projectId: 'my-project', apiKey: getenv('AEROSTACK_API_KEY'));
 *     $rows = $client->db->query('SELECT * FROM todos WHERE done = ?', [0]);
 *     $client->cache->set('greeting', 'hello', ttl: 300);
 *
 * Calls block until answered (the engine runs the request on its own threads). For many calls
 * in flight at once, `$client->async()` has the same namespaces returning `Pending` handles:
 * `[$a, $b] = Aerostack\all([$async->db->query(...), $async->cache->get(...)])`.
 *
 * @property-read Realtime\Realtime $realtime realtime channels (one WebSocket, opened on first use)
 */
class Client
{
    public readonly Service\Db $db;
    public readonly Service\Auth $auth;
    public readonly Service\Cache $cache;
    public readonly Service\Storage $storage;
    public readonly Service\Ai $ai;
    public readonly Service\Gateway $gateway;
    public readonly Service\Queue $queue;
    public readonly Service\Secrets $secrets;
    public readonly Service\Services $services;
    public readonly Service\Local $local;
    public readonly Service\Socket $socket;

    protected Transport $t;
    private ?Realtime\Realtime $rt = null;
    private ?Client $asyncTwin = null;

    /**
     * Connects to project `$projectId` with `$apiKey` (both fall back to `AEROSTACK_PROJECT_ID` /
     * `AEROSTACK_API_KEY`) at `$baseUrl` (or `$serverIndex`: 0 = https://api.aerostack.dev/v1,
     * 1 = http://localhost:8787/v1; env `AEROSTACK_API_URL`). `$timeoutMs` per attempt (default
     * 30000), `$retry` false (none), true (default) or the policy's fields; `$logger` any
     * PSR-3-style logger (retries are logged at debug, long waits at warning); `$consumerKey` the
     * AI-gateway consumer key (`ask_…`, env `AEROSTACK_CONSUMER_KEY`) of the `gateway` calls.
     */
    public function __construct(
        ?string $projectId = null,
        ?string $apiKey = null,
        ?string $baseUrl = null,
        ?int $serverIndex = null,
        ?int $timeoutMs = null,
        ?int $connectTimeoutMs = null,
        mixed $retry = null,
        ?array $headers = null,
        ?object $logger = null,
        bool $ignoreEnv = false,
        ?string $consumerKey = null,
    ) {
        Native::require();
        $opts = Native::options([
            'project_id' => $projectId,
            'api_key' => $apiKey,
            'base_url' => $baseUrl,
            'server_index' => $serverIndex,
            'timeout_ms' => $timeoutMs,
            'connect_timeout_ms' => $connectTimeoutMs,
            'retry' => Native::retry($retry),
            'headers' => $headers,
            'ignore_env' => $ignoreEnv ?: null,
            'consumer_key' => $consumerKey,
        ]);
        try {
            $native = new \Aerostack\Native\Client(Native::encode($opts, true));
        } catch (NativeError $e) {
            throw Native::error($e);
        }
        $this->init(new Transport($native, $logger));
    }

    /** @internal a client over an existing native client (the scoped sdk, `withOptions`, `async`). */
    public static function fromTransport(Transport $t): static
    {
        $c = (new \ReflectionClass(static::class))->newInstanceWithoutConstructor();
        $c->init($t);
        return $c;
    }

    protected function init(Transport $t): void
    {
        $this->t = $t;
        $this->db = new Service\Db($t);
        $this->auth = new Service\Auth($t);
        $this->cache = new Service\Cache($t);
        $this->storage = new Service\Storage($t);
        $this->ai = new Service\Ai($t);
        $this->gateway = new Service\Gateway($t);
        $this->queue = new Service\Queue($t);
        $this->secrets = new Service\Secrets($t);
        $this->services = new Service\Services($t);
        $this->local = new Service\Local($t);
        $this->socket = new Service\Socket($t);
    }

    /**
     * The same client whose calls return `Pending` handles (already running) instead of results:
     * `Aerostack\all([...])` waits for many of them.
     */
    public function async(): static
    {
        if ($this->t->async) {
            return $this;
        }
        return $this->asyncTwin ??= static::fromTransport($this->t->withAsync(true));
    }

    /**
     * A client for the same project and connection pool whose calls use these options:
     * `$client->withOptions(timeoutMs: 2000, retry: false)->db->query(...)`.
     */
    public function withOptions(?int $timeoutMs = null, mixed $retry = null, ?string $idempotencyKey = null, ?array $headers = null): static
    {
        $o = Native::callOptions(array_filter(
            ['timeoutMs' => $timeoutMs, 'retry' => $retry, 'idempotencyKey' => $idempotencyKey, 'headers' => $headers],
            static fn ($v) => $v !== null
        ));
        try {
            $native = $this->t->native->withOptions(Native::encode($o, true));
        } catch (NativeError $e) {
            throw Native::error($e);
        }
        return static::fromTransport(new Transport($native, $this->t->logger, $this->t->async));
    }

    /** Calls the custom API (Logic Module endpoint) `$slug`; its JSON answer. */
    public function call(string $slug, mixed $data = null, string $method = 'POST', array $options = []): mixed
    {
        return $this->t->call('call', ['slug' => $slug, 'data' => $data === [] ? new \stdClass() : $data, 'method' => $method], $options);
    }

    /** A raw platform call (`$path` under `/v1`); the JSON answer as sent. */
    public function request(string $method, string $path, mixed $body = null, array $options = []): mixed
    {
        return $this->t->call('request', ['method' => $method, 'path' => $path, 'body' => $body], $options);
    }

    public function __get(string $name): mixed
    {
        if ($name === 'realtime') {
            return $this->rt ??= new Realtime\Realtime($this->t);
        }
        throw new \Error(sprintf('Undefined property: %s::$%s', static::class, $name));
    }

    public function __isset(string $name): bool
    {
        return $name === 'realtime';
    }

    /** Closes the realtime connection, if one was opened (the pool closes with the client). */
    public function close(): void
    {
        $this->rt?->close();
    }
}
