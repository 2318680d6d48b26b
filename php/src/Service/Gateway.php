<?php

declare(strict_types=1);

namespace Aerostack\Service;

use Aerostack\Exception\CancelledException;
use Aerostack\Gateway\GatewaySocket;
use Aerostack\Native;
use Aerostack\Native\NativeError;

/**
 * The AI gateway, as a consumer: chat through a gateway API (`$apiSlug`) billed to a consumer key
 * (`consumerKey:`, else the client's `consumerKey` or `AEROSTACK_CONSUMER_KEY`), the consumer's
 * wallet and usage; and `billingLog`, with which the project's backend debits a consumer itself
 * (the project key). `connectWebSocket` opens the chat socket (`Aerostack\Gateway\GatewaySocket`).
 */
final class Gateway extends Service
{
    /** A chat completion through gateway API `$apiSlug`: `text`, `usage`, `model`, `finishReason`. */
    public function chat(string $apiSlug, array $messages, ?string $model = null, ?float $temperature = null, ?int $maxTokens = null, ?float $topP = null, ?string $consumerKey = null, array $options = []): mixed
    {
        return $this->t->call('gateway.chat', self::chatArgs($apiSlug, $messages, $model, $temperature, $maxTokens, $topP, $consumerKey), $options);
    }

    /** `chat` streamed: chunks with `delta`, the last ones `finishReason` and `usage`. */
    public function chatStream(string $apiSlug, array $messages, ?string $model = null, ?float $temperature = null, ?int $maxTokens = null, ?float $topP = null, ?string $consumerKey = null, array $options = []): \Generator
    {
        return $this->t->stream('gateway.chat_stream', self::chatArgs($apiSlug, $messages, $model, $temperature, $maxTokens, $topP, $consumerKey), $options);
    }

    /**
     * Opens the gateway's chat socket of API `$apiSlug` (the official `gateway.connectWebSocket`),
     * authenticated with `$consumerKey` (else the client's); a refused key throws here, as the
     * HTTP calls do. Always blocking, also on `$client->async()`.
     */
    public function connectWebSocket(string $apiSlug, ?string $consumerKey = null): GatewaySocket
    {
        try {
            $native = $this->t->native->gatewaySocket($apiSlug, $consumerKey);
        } catch (NativeError $e) {
            throw Native::error($e);
        }
        if ($native === null) {
            // A signal interrupted the handshake (pcntl_async_signals): its handler has run.
            throw new CancelledException("connecting the gateway socket of {$apiSlug} was interrupted by a signal; its handler ran", 'CANCELLED');
        }
        return new GatewaySocket($native);
    }

    /** The consumer's wallet in tokens: `balance`, `totalPurchased`, `totalConsumed`, `planType`, `hardLimit`, `softLimit`. */
    public function wallet(?string $apiSlug = null, ?string $consumerKey = null, array $options = []): mixed
    {
        return $this->t->call('gateway.wallet', ['api_slug' => $apiSlug, 'consumer_key' => $consumerKey], $options);
    }

    /** The consumer's usage over the last `$days` (default 30): `totalTokens`, `totalRequests`, `days` (`[['date', 'tokens', 'requests']]`). */
    public function usage(?string $apiSlug = null, ?int $days = null, ?string $consumerKey = null, array $options = []): mixed
    {
        return $this->t->call('gateway.usage', ['api_slug' => $apiSlug, 'days' => $days, 'consumer_key' => $consumerKey], $options);
    }

    /** Debits `$units` from consumer `$consumerId` of gateway API `$apiId` (the project key): `success`, `loggedUnits`. */
    public function billingLog(string $consumerId, string $apiId, int $units, ?string $metric = null, array $options = []): mixed
    {
        return $this->t->call('gateway.billing_log', ['consumer_id' => $consumerId, 'api_id' => $apiId, 'units' => $units, 'metric' => $metric], $options);
    }

    private static function chatArgs(string $apiSlug, array $messages, ?string $model, ?float $temperature, ?int $maxTokens, ?float $topP, ?string $consumerKey): array
    {
        return ['api_slug' => $apiSlug, 'messages' => $messages, 'model' => $model, 'temperature' => $temperature, 'max_tokens' => $maxTokens, 'top_p' => $topP, 'consumer_key' => $consumerKey];
    }
}
