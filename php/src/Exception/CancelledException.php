<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/** The call was cancelled (Pending::cancel()). */
class CancelledException extends AerostackException
{
}
