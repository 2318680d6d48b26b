<?php

declare(strict_types=1);

namespace Aerostack\Service;

/** Key-value cache with TTLs (seconds). */
final class Cache extends Service
{
    /** The value, or null when the key is missing or expired. */
    public function get(string $key, array $options = []): mixed
    {
        return $this->t->call('cache.get', ['key' => $key], $options);
    }

    /**
     * Stores any JSON value, for `$ttl` seconds when given.
     *
     * @param int|null $ttl whole seconds (checked by the engine: its error names the field)
     */
    public function set(string $key, mixed $value, mixed $ttl = null, array $options = []): mixed
    {
        return $this->t->call('cache.set', ['key' => $key, 'value' => $value, 'ttl' => $ttl], $options);
    }

    /** Whether the key exists. */
    public function has(string $key, array $options = []): mixed
    {
        return $this->t->call('cache.has', ['key' => $key], $options);
    }

    /** Deletes a key; whether it existed. */
    public function delete(string $key, array $options = []): mixed
    {
        return $this->t->call('cache.delete', ['key' => $key], $options);
    }

    /** The values of the keys that exist, as `[key => value]`. */
    public function getMany(array $keys, array $options = []): mixed
    {
        return $this->t->call('cache.get_many', ['keys' => array_values($keys)], $options);
    }

    /** Stores `[key => value]` (or a list of `['key', 'value', 'ttl']`); the number stored. */
    public function setMany(array $entries, ?int $ttl = null, array $options = []): mixed
    {
        if (!array_is_list($entries)) {
            $list = [];
            foreach ($entries as $k => $v) {
                $list[] = ['key' => (string) $k, 'value' => $v, 'ttl' => $ttl];
            }
            $entries = $list;
        }
        return $this->t->call('cache.set_many', ['entries' => $entries], $options);
    }

    /** Deletes keys; `count` requested, `deleted` actually deleted. */
    public function deleteMany(array $keys, array $options = []): mixed
    {
        return $this->t->call('cache.delete_many', ['keys' => array_values($keys)], $options);
    }

    /** One page of keys: `keys` ([{key, expiration}]), `list_complete`, `cursor`. */
    public function list(?string $prefix = null, ?int $limit = null, ?string $cursor = null, array $options = []): mixed
    {
        return $this->t->call('cache.list', ['prefix' => $prefix, 'limit' => $limit, 'cursor' => $cursor], $options);
    }

    /** Every key under `$prefix` (`{key, expiration}`), following the cursor page by page: `foreach ($client->cache->listAll() as $entry)`. */
    public function listAll(?string $prefix = null, ?int $pageSize = null, array $options = []): \Generator
    {
        return $this->t->stream('cache.list_all', ['prefix' => $prefix, 'page_size' => $pageSize], $options);
    }

    /** All key names (with the prefix when given). */
    public function keys(?string $prefix = null, array $options = []): mixed
    {
        return $this->t->call('cache.keys', ['prefix' => $prefix], $options);
    }

    /** Deletes every key (with the prefix when given); the number deleted. */
    public function flush(?string $prefix = null, array $options = []): mixed
    {
        return $this->t->call('cache.flush', ['prefix' => $prefix], $options);
    }

    /** Sets a key's time to live in seconds; whether the key exists. */
    public function expire(string $key, int $ttl, array $options = []): mixed
    {
        return $this->t->call('cache.expire', ['key' => $key, 'ttl' => $ttl], $options);
    }

    /** Adds `$amount` (may be negative) and returns the new value. */
    public function increment(string $key, ?int $amount = null, ?int $initialValue = null, ?int $ttl = null, array $options = []): mixed
    {
        return $this->t->call('cache.increment', ['key' => $key, 'amount' => $amount, 'initial_value' => $initialValue, 'ttl' => $ttl], $options);
    }
}
