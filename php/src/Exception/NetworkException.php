<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/** The request never got an answer: connection refused, reset, DNS. */
class NetworkException extends AerostackException
{
}
