<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/** The request was refused as invalid: a field is missing or wrong (400, 413, 422); getField() names it. */
class ValidationException extends AerostackException
{
}
