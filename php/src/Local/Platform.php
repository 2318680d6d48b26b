<?php

declare(strict_types=1);

namespace Aerostack\Local;

use Aerostack\Client;
use Aerostack\Native;
use Aerostack\Native\NativeError;

/**
 * The local Aerostack platform, started in this process on its own threads (for tests, demos
 * and local development): a free loopback port, an ephemeral data directory, one default
 * project.
 *
 *     $platform = Aerostack\Local\Platform::start();
 *     $client = $platform->client();
 *     ...
 *     $platform->shutdown();
 */
final class Platform
{
    /** `http://127.0.0.1:<port>` */
    public readonly string $url;
    /** `<url>/v1`: the `baseUrl` for clients. */
    public readonly string $apiUrl;
    public readonly string $projectId;
    public readonly string $projectSlug;
    public readonly string $apiKey;
    public readonly string $dataDir;

    private function __construct(private readonly \Aerostack\Native\LocalPlatform $native)
    {
        $i = json_decode($native->info(), true);
        $this->url = $i['url'];
        $this->apiUrl = $i['api_url'];
        $this->projectId = $i['project_id'];
        $this->projectSlug = $i['project_slug'];
        $this->apiKey = $i['api_key'];
        $this->dataDir = $i['data_dir'];
    }

    /**
     * Starts a platform (blocking until it listens). Options: `host`, `port` (0: a free port),
     * `dataDir` (default: ephemeral), `ephemeral`, `projectDir` (where `.dev.vars` secrets are
     * read), `printBanner`, `requireEmailVerification`, `aiBaseUrl`, `aiApiKey`, `aiModel`,
     * `maxUploadBytes`, `rateLimits` (`['otp_send' => [count, windowMs]]`; count 0 disables),
     * `hostedRateLimits` (the hosted limits for those `rateLimits` does not name; default false),
     * `fromEnv` (fill unset AI options from `AEROSTACK_*`, default true).
     */
    public static function start(array $options = []): self
    {
        Native::require();
        $o = Native::options($options);
        try {
            return new self(\Aerostack\Native\LocalPlatform::start(Native::encode($o, true)));
        } catch (NativeError $e) {
            throw Native::error($e);
        }
    }

    /** A client of the default project (or of `$project`, from `createProject`). */
    public function client(?array $project = null, ?object $logger = null, mixed $retry = null, ?int $timeoutMs = null): Client
    {
        return new Client(
            projectId: $project['id'] ?? $this->projectId,
            apiKey: $project['apiKey'] ?? $this->apiKey,
            baseUrl: $this->apiUrl,
            timeoutMs: $timeoutMs,
            retry: $retry,
            logger: $logger,
            ignoreEnv: true,
        );
    }

    /** A new project: `['id', 'slug', 'name', 'apiKey']`. */
    public function createProject(string $name): array
    {
        try {
            return \Aerostack\Shape::of('local.create_project', json_decode($this->native->createProject($name), true));
        } catch (NativeError $e) {
            throw Native::error($e);
        }
    }

    /** Whether `shutdown` has not been called yet. */
    public function running(): bool
    {
        return $this->native->running();
    }

    /** Stops accepting, lets open requests finish (up to 5 s), frees the port. Idempotent. */
    public function shutdown(): void
    {
        $this->native->shutdown();
    }
}
