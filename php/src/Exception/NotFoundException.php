<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/** The thing asked for does not exist (404). */
class NotFoundException extends AerostackException
{
}
