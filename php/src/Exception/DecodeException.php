<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/** The answer could not be decoded into the expected shape. */
class DecodeException extends AerostackException
{
}
