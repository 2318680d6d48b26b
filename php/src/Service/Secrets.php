<?php

declare(strict_types=1);

namespace Aerostack\Service;

/** Project secrets. */
final class Secrets extends Service
{
    /** A secret's value, or null. */
    public function get(string $key, array $options = []): mixed
    {
        return $this->t->call('secrets.get', ['key' => $key], $options);
    }

    /** Creates or replaces a secret. */
    public function set(string $key, string $value, array $options = []): mixed
    {
        return $this->t->call('secrets.set', ['key' => $key, 'value' => $value], $options);
    }

    /** The secret names. */
    public function list(array $options = []): mixed
    {
        return $this->t->call('secrets.list', [], $options);
    }
}
