<?php

// The package without Composer (the SDK repository's own tests and tools): a PSR-4 loader for
// Aerostack\ plus the package's functions. With Composer, vendor/autoload.php does the same.

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Aerostack\\') && !str_starts_with($class, 'Aerostack\\Native\\')) {
        $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, 10)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
require_once __DIR__ . '/functions.php';
