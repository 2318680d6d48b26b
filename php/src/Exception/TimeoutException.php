<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/** The call ran out of time (the per-call option timeoutMs, or the client's). */
class TimeoutException extends AerostackException
{
}
