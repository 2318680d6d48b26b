<?php

declare(strict_types=1);

namespace Aerostack\Service;

/** Semantic search over the project's documents (embeddings computed by the platform). */
final class AiSearch extends Service
{
    /** Indexes a document; `id`. */
    public function ingest(string $content, string $type, ?string $id = null, ?array $metadata = null, array $options = []): mixed
    {
        return $this->t->call('ai.search.ingest', ['content' => $content, 'type' => $type, 'id' => $id, 'metadata' => $metadata], $options);
    }

    /** The closest documents: `[{id, content, score, type, metadata}]`. */
    public function query(string $text, ?int $topK = null, ?array $types = null, ?array $filter = null, array $options = []): mixed
    {
        return $this->t->call('ai.search.query', ['text' => $text, 'top_k' => $topK, 'types' => $types, 'filter' => $filter], $options);
    }

    /** One document, or null. */
    public function get(string $id, array $options = []): mixed
    {
        return $this->t->call('ai.search.get', ['id' => $id], $options);
    }

    /** Replaces a document's content (and type/metadata). */
    public function update(string $id, string $content, ?string $type = null, ?array $metadata = null, array $options = []): mixed
    {
        return $this->t->call('ai.search.update', ['id' => $id, 'content' => $content, 'type' => $type, 'metadata' => $metadata], $options);
    }

    /** Deletes a document. */
    public function delete(string $id, array $options = []): mixed
    {
        return $this->t->call('ai.search.delete', ['id' => $id], $options);
    }

    /** Deletes every document of a type. */
    public function deleteByType(string $type, array $options = []): mixed
    {
        return $this->t->call('ai.search.delete_by_type', ['type' => $type], $options);
    }

    /** `[{type, count}]`. */
    public function listTypes(array $options = []): mixed
    {
        return $this->t->call('ai.search.list_types', [], $options);
    }

    /** The number of documents (of a type). */
    public function count(?string $type = null, array $options = []): mixed
    {
        return $this->t->call('ai.search.count', ['type' => $type], $options);
    }

    /** Chooses the embedding model (`english` or `multilingual`). */
    public function configure(string $embeddingModel, array $options = []): mixed
    {
        return $this->t->call('ai.search.configure', ['embedding_model' => $embeddingModel], $options);
    }
}
