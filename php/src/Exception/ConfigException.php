<?php

declare(strict_types=1);

namespace Aerostack\Exception;

/** The client was configured wrongly (missing key, bad URL), or the extension is not loaded. */
class ConfigException extends AerostackException
{
}
