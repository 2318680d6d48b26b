<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Client;
use Aerostack\Local\Platform;

/** The shared platform (started once per process) and helpers. */
abstract class TestCase extends \PHPUnit\Framework\TestCase
{
    private static ?Platform $platform = null;

    public static function platform(): Platform
    {
        if (self::$platform === null) {
            // Auth limits lifted: the suite registers many users.
            $limits = [];
            foreach (['login_per_ip', 'login_per_email', 'register_per_ip', 'otp_send', 'otp_verify', 'password_reset', 'resend_verification'] as $n) {
                $limits[$n] = [0, 60000];
            }
            // The hosted limits are off in-process; the rate-limit test needs this one (the hosted 5/min).
            $limits['cache_flush'] = [5, 60000];
            self::$platform = Platform::start(['fromEnv' => false, 'rateLimits' => $limits]);
            $p = self::$platform;
            register_shutdown_function(static fn () => $p->shutdown());
        }
        return self::$platform;
    }

    /** A client of the default project, or of a fresh one. */
    protected function client(bool $fresh = false, mixed ...$options): Client
    {
        $p = self::platform();
        $project = $fresh ? $p->createProject('php-' . bin2hex(random_bytes(4))) : null;
        return new Client(...[
            'projectId' => $project['id'] ?? $p->projectId,
            'apiKey' => $project['apiKey'] ?? $p->apiKey,
            'baseUrl' => $p->apiUrl,
            'ignoreEnv' => true,
        ] + $options);
    }

    protected static function uid(): string
    {
        return bin2hex(random_bytes(6));
    }

    /** The path of the loaded extension (for child PHP processes). */
    protected static function extensionPath(): string
    {
        return dirname(__DIR__, 2) . '/target/debug/libaerostack_php.so';
    }
}
