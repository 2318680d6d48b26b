<?php

declare(strict_types=1);

namespace Aerostack\Service;

use Aerostack\Transport;

/**
 * A collection: JSON documents by name (`$client->db->collection('posts')`). An item is
 * `['id', 'collection', 'slug', 'data', 'createdAt', 'updatedAt']`; `data` is yours, as stored.
 * Changes reach `$client->realtime->channel('posts')` subscribers as INSERT/UPDATE/DELETE.
 */
final class Collection extends Service
{
    /** @internal */
    public function __construct(Transport $t, public readonly string $name)
    {
        parent::__construct($t);
    }

    /**
     * One page: `['items', 'count', 'cursor']`, oldest first (`order: 'desc'`: newest first);
     * `$filter` keeps items whose data fields equal the given values (`['done' => false]`).
     */
    public function list(array $filter = [], ?int $limit = null, ?string $cursor = null, ?string $order = null, array $options = []): mixed
    {
        return $this->t->call('db.collection.list', ['collection' => $this->name, 'filter' => $filter === [] ? null : $filter, 'limit' => $limit, 'cursor' => $cursor, 'order' => $order], $options);
    }

    /** Every matching item, page by page (`$pageSize` items a page). */
    public function listAll(array $filter = [], ?int $pageSize = null, ?string $order = null, array $options = []): \Generator
    {
        return $this->t->stream('db.collection.list_all', ['collection' => $this->name, 'filter' => $filter === [] ? null : $filter, 'page_size' => $pageSize, 'order' => $order], $options);
    }

    /** The item, or null when there is no item `$id`. */
    public function get(string $id, array $options = []): mixed
    {
        return $this->t->call('db.collection.get', ['collection' => $this->name, 'id' => $id], $options);
    }

    /** Adds an item whose data is `$data` (an array with keys); the stored item with its `id`. */
    public function create(array $data, array $options = []): mixed
    {
        return $this->t->call('db.collection.create', ['collection' => $this->name, 'data' => self::object($data)], $options);
    }

    /** Replaces the data of item `$id`; the updated item (`NotFoundException` when missing). */
    public function update(string $id, array $data, array $options = []): mixed
    {
        return $this->t->call('db.collection.update', ['collection' => $this->name, 'id' => $id, 'data' => self::object($data)], $options);
    }

    /** Deletes item `$id`; whether it existed. */
    public function delete(string $id, array $options = []): mixed
    {
        return $this->t->call('db.collection.delete', ['collection' => $this->name, 'id' => $id], $options);
    }

    /** `[]` is an empty object; a list stays a list (the engine refuses it, naming `data`). */
    private static function object(array $data): array|\stdClass
    {
        return $data === [] ? new \stdClass() : $data;
    }
}
