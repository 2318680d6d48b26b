<?php

declare(strict_types=1);

namespace Aerostack;

/** The content of a stored object (`storage->get`): its bytes and content type. */
final class StoredObject implements \Stringable
{
    public function __construct(public readonly string $data, public readonly ?string $contentType)
    {
    }

    public function size(): int
    {
        return strlen($this->data);
    }

    public function __toString(): string
    {
        return $this->data;
    }
}
