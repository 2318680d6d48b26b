<?php

declare(strict_types=1);

namespace Aerostack\Service;

use Aerostack\QueryResult;

/** The project's SQL database, and its collections. */
final class Db extends Service
{
    /** The collection `$name` (1-64 letters, digits, `_` or `-`): list, listAll, get, create, update, delete. */
    public function collection(string $name): Collection
    {
        return new Collection($this->t, $name);
    }

    /** Runs one statement; the rows (`foreach`, `count()`, `->results`, `->meta`). @return QueryResult */
    public function query(string $sql, array $params = [], array $options = []): mixed
    {
        return $this->t->call('db.query', ['sql' => $sql, 'params' => array_values($params)], $options, static fn ($v) => new QueryResult($v));
    }

    /** The first row, or null. @return ?array */
    public function queryOne(string $sql, array $params = [], array $options = []): mixed
    {
        return $this->t->call('db.query_one', ['sql' => $sql, 'params' => array_values($params)], $options);
    }

    /**
     * Runs up to 25 statements in one transaction: all or nothing. Each is
     * `['sql' => ..., 'params' => [...]]`, `[$sql, $params]` or a plain SQL string.
     */
    public function batch(array $queries, array $options = []): mixed
    {
        $stmts = [];
        foreach ($queries as $q) {
            $stmts[] = match (true) {
                is_string($q) => ['sql' => $q, 'params' => []],
                is_array($q) && array_is_list($q) => ['sql' => $q[0] ?? null, 'params' => array_values($q[1] ?? [])],
                default => $q,
            };
        }
        return $this->t->call('db.batch', ['queries' => $stmts], $options);
    }
}
