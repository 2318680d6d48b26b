<?php

declare(strict_types=1);

namespace Aerostack;

/**
 * The answer of `db->query`: the rows (iterate it, `count()` it, `$result[0]`), plus `results`,
 * `count` and `meta` as on the wire (`$result->results`, `$result['results']` as in seed 000's
 * `rows.results`).
 *
 * @implements \IteratorAggregate<int, array<string, mixed>>
 * @implements \ArrayAccess<int|string, mixed>
 */
final class QueryResult implements \IteratorAggregate, \Countable, \ArrayAccess, \JsonSerializable
{
    /** @var list<array<string, mixed>> */
    public readonly array $results;
    public readonly int $count;
    public readonly mixed $meta;

    public function __construct(array $wire)
    {
        $this->results = $wire['results'] ?? [];
        $this->count = (int) ($wire['count'] ?? count($this->results));
        $this->meta = $wire['meta'] ?? null;
    }

    public function getIterator(): \ArrayIterator
    {
        return new \ArrayIterator($this->results);
    }

    public function count(): int
    {
        return count($this->results);
    }

    /** The first row, or null. */
    public function first(): ?array
    {
        return $this->results[0] ?? null;
    }

    public function offsetExists(mixed $offset): bool
    {
        return is_int($offset) ? isset($this->results[$offset]) : in_array($offset, ['results', 'count', 'meta'], true);
    }

    public function offsetGet(mixed $offset): mixed
    {
        return is_int($offset) ? ($this->results[$offset] ?? null) : ($this->toArray()[$offset] ?? null);
    }

    public function offsetSet(mixed $offset, mixed $value): void
    {
        throw new \LogicException('a query result is read-only');
    }

    public function offsetUnset(mixed $offset): void
    {
        throw new \LogicException('a query result is read-only');
    }

    /** The wire shape: `['results' => [...], 'count' => n, 'meta' => ...]`. */
    public function toArray(): array
    {
        return ['results' => $this->results, 'count' => $this->count, 'meta' => $this->meta];
    }

    public function jsonSerialize(): array
    {
        return $this->toArray();
    }
}
