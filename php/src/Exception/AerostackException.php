<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/**
 * Every failure of an Aerostack call. `getErrorCode()` is the stable string code
 * (`DB_QUERY_FAILED`, `VALIDATION_ERROR`, ...); PHP's own integer `getCode()` is the HTTP status
 * (0 when the call got no HTTP answer). One subclass per family: catch `AuthException`,
 * `RateLimitException`, ... or this class for all of them.
 */
class AerostackException extends \RuntimeException
{
    /** family => class */
    private const FAMILIES = [
        'auth' => AuthException::class,
        'validation' => ValidationException::class,
        'not_found' => NotFoundException::class,
        'conflict' => ConflictException::class,
        'rate_limit' => RateLimitException::class,
        'server' => ServerException::class,
        'network' => NetworkException::class,
        'timeout' => TimeoutException::class,
        'cancelled' => CancelledException::class,
        'config' => ConfigException::class,
        'decode' => DecodeException::class,
    ];

    public function __construct(
        string $message,
        private readonly string $errorCode = 'UNKNOWN_ERROR',
        private readonly ?int $status = null,
        private readonly ?string $requestId = null,
        private readonly bool $retryable = false,
        private readonly ?int $retryAfterMs = null,
        private readonly mixed $details = null,
        private readonly ?string $body = null,
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, $status ?? 0, $previous);
    }

    /** The exception of the surface's error object (`family` picks the class). */
    public static function fromArray(array $d): self
    {
        $class = self::FAMILIES[$d['family'] ?? ''] ?? ServerException::class;
        return new $class(
            (string) ($d['message'] ?? ''),
            (string) ($d['code'] ?? 'UNKNOWN_ERROR'),
            isset($d['status']) ? (int) $d['status'] : null,
            $d['request_id'] ?? null,
            (bool) ($d['retryable'] ?? false),
            isset($d['retry_after_ms']) ? (int) $d['retry_after_ms'] : null,
            $d['details'] ?? null,
            $d['body'] ?? null,
        );
    }

    /** The stable error code, e.g. `DB_QUERY_FAILED`, `RATE_LIMIT_EXCEEDED`, `TIMEOUT`. */
    public function getErrorCode(): string
    {
        return $this->errorCode;
    }

    /** The HTTP status, or null when the call got no HTTP answer. */
    public function getStatus(): ?int
    {
        return $this->status;
    }

    /** The platform's request id (quote it in bug reports). */
    public function getRequestId(): ?string
    {
        return $this->requestId;
    }

    /** Whether trying again may succeed. */
    public function isRetryable(): bool
    {
        return $this->retryable;
    }

    /** The platform's `Retry-After`, in milliseconds. */
    public function getRetryAfterMs(): ?int
    {
        return $this->retryAfterMs;
    }

    /** Structured details (`['field' => 'sql']` for validation errors). */
    public function getDetails(): mixed
    {
        return $this->details;
    }

    /** The field a validation error is about (`details.field`), if any. */
    public function getField(): ?string
    {
        return is_array($this->details) && isset($this->details['field']) ? (string) $this->details['field'] : null;
    }

    /** The raw answer body, when there was one. */
    public function getBody(): ?string
    {
        return $this->body;
    }

    /** The family: auth, validation, not_found, conflict, rate_limit, server, network, timeout, cancelled, config, decode. */
    public function getFamily(): string
    {
        return (string) array_search(static::class, self::FAMILIES, true) ?: 'server';
    }
}
