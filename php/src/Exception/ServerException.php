<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/** The server or an upstream failed (5xx), including services not configured or not running. */
class ServerException extends AerostackException
{
}
