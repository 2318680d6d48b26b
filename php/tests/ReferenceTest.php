<?php

declare(strict_types=1);

namespace Aerostack\Tests;

/** php/API.md is generated (tools/gen-reference.php), current, and lists every public method under its class. */
final class ReferenceTest extends \PHPUnit\Framework\TestCase
{
    public function testReferenceIsCurrent(): void
    {
        $p = proc_open([PHP_BINARY, dirname(__DIR__) . '/tools/gen-reference.php', '--check'], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        $this->assertSame(0, proc_close($p), $out);
    }

    public function testReferenceListsEveryPublicMethod(): void
    {
        $ref = (string) file_get_contents(dirname(__DIR__) . '/API.md');
        $src = realpath(dirname(__DIR__) . '/src');
        $missing = [];
        $checked = 0;
        foreach (new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($src, \FilesystemIterator::SKIP_DOTS)) as $f) {
            $rel = substr($f->getPathname(), strlen($src) + 1);
            if (!preg_match('~^([A-Z][\w/]*)\.php$~', $rel, $m)) {
                continue; // autoload.php, functions.php
            }
            $name = str_replace('/', '\\', $m[1]);
            $c = new \ReflectionClass('Aerostack\\' . $name);
            if (str_contains((string) $c->getDocComment(), '@internal')) {
                continue;
            }
            $at = strpos($ref, ' `' . $name . "`\n");
            if ($at === false) {
                $missing[] = $name;
                continue;
            }
            $end = strpos($ref, "\n#", $at);
            $section = substr($ref, $at, $end === false ? null : $end - $at);
            foreach ($c->getMethods(\ReflectionMethod::IS_PUBLIC) as $method) {
                $n = $method->getName();
                if ($method->getDeclaringClass()->getName() !== $c->getName() || str_contains((string) $method->getDocComment(), '@internal')
                    || (str_starts_with($n, '__') && $n !== '__construct')) {
                    continue;
                }
                $checked++;
                if (!str_contains($section, "function $n(")) {
                    $missing[] = "$name::$n";
                }
            }
        }
        $this->assertGreaterThan(100, $checked, 'too few public methods found: the scan is wrong');
        $this->assertSame([], $missing, 'missing from php/API.md (run php php/tools/gen-reference.php)');
    }
}
