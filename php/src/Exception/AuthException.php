<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/** Bad API key or credentials, expired or invalid tokens (401, 403). */
class AuthException extends AerostackException
{
}
