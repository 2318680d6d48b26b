<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/** A conflict such as an existing user or a reused idempotency key (409). */
class ConflictException extends AerostackException
{
}
