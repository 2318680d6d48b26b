<?php

declare(strict_types=1);

namespace Aerostack\Service;

use Aerostack\Transport;

/** AI: completions and chat (through the platform's model gateway), embeddings, search. */
final class Ai extends Service
{
    /** Semantic search over the project's documents. */
    public readonly AiSearch $search;

    /** @internal */
    public function __construct(Transport $t)
    {
        parent::__construct($t);
        $this->search = new AiSearch($t);
    }

    /** Completes a prompt; `text` (also `usage`, `model`). */
    public function complete(string $prompt, ?string $model = null, ?int $maxTokens = null, ?float $temperature = null, ?string $system = null, array $options = []): mixed
    {
        return $this->t->call('ai.complete', ['prompt' => $prompt, 'model' => $model, 'max_tokens' => $maxTokens, 'temperature' => $temperature, 'system' => $system], $options);
    }

    /**
     * A chat completion for `[['role' => 'user', 'content' => '...']]`; `text`. Seed 000's order,
     * `chat($model, $messages)` (a handler's `$sdk->ai->chat('@cf/meta/llama-3-8b-instruct', [...])`),
     * is accepted too.
     */
    public function chat(array|string $messages, array|string|null $model = null, ?float $temperature = null, ?int $maxTokens = null, ?float $topP = null, array $options = []): mixed
    {
        if (is_string($messages) && is_array($model)) {
            [$messages, $model] = [$model, $messages];
        }
        if (!is_array($messages) || is_array($model)) {
            throw new \Aerostack\Exception\ValidationException('ai->chat takes ($messages, $model) or seed 000\'s ($model, $messages): a list of messages and a model name', 'VALIDATION_ERROR', details: ['field' => 'messages']);
        }
        return $this->t->call('ai.chat', self::chatArgs($messages, $model, $temperature, $maxTokens, $topP), $options);
    }

    /**
     * `chat` streamed token by token: `foreach ($client->ai->chatStream($messages) as $chunk)`;
     * each chunk has `delta`, the last ones `finish_reason` and `usage`. Leaving the loop early
     * stops the generation.
     */
    public function chatStream(array $messages, ?string $model = null, ?float $temperature = null, ?int $maxTokens = null, ?float $topP = null, array $options = []): \Generator
    {
        return $this->t->stream('ai.chat_stream', self::chatArgs($messages, $model, $temperature, $maxTokens, $topP), $options);
    }

    /** The embedding of a text: `embedding` (list of floats), `model`. */
    public function embed(string $text, array $options = []): mixed
    {
        return $this->t->call('ai.embed', ['text' => $text], $options);
    }

    private static function chatArgs(array $messages, ?string $model, ?float $temperature, ?int $maxTokens, ?float $topP): array
    {
        return ['messages' => $messages, 'model' => $model, 'temperature' => $temperature, 'max_tokens' => $maxTokens, 'top_p' => $topP];
    }
}
