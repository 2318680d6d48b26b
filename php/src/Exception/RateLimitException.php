<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/** Too many requests; getRetryAfterMs() says when to come back (429). */
class RateLimitException extends AerostackException
{
}
