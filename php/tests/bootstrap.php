<?php

// The PHPUnit suite of the PHP SDK: every test runs against the real local platform, started
// in-process once (Aerostack\Local\Platform) on a free loopback port.

declare(strict_types=1);

require dirname(__DIR__) . '/src/autoload.php';
require __DIR__ . '/TestCase.php';

if (!extension_loaded('aerostack')) {
    fwrite(STDERR, "the aerostack extension is not loaded: run `make test-php`, or php -d extension=target/debug/libaerostack_php.so /usr/bin/phpunit -c php/phpunit.xml.dist\n");
    exit(1);
}
