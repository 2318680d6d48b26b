<?php

declare(strict_types=1);

namespace Aerostack\Tests;

/** The IDE stubs (php/stubs/aerostack.stub.php) list exactly the extension's classes and methods. */
final class StubsTest extends TestCase
{
    public function testStubsMatchTheExtension(): void
    {
        $src = (string) file_get_contents(dirname(__DIR__) . '/stubs/aerostack.stub.php');
        preg_match_all('/(?:final class|class) (\w+)/', $src, $m);
        $this->assertNotEmpty($m[1]);
        foreach ($m[1] as $cls) {
            $r = new \ReflectionClass("Aerostack\\Native\\$cls");
            foreach ($r->getMethods() as $method) {
                if ($method->getDeclaringClass()->getName() === $r->getName()) {
                    $this->assertMatchesRegularExpression('/function ' . $method->getName() . '\(/', $src, "$cls::{$method->getName()} is not in the stubs");
                }
            }
        }
        preg_match_all('/function (\w+)\(/', $src, $fns);
        foreach ($fns[1] as $fn) {
            $this->assertTrue(
                function_exists("Aerostack\\Native\\$fn") || $this->methodExists($m[1], $fn),
                "the stubs name $fn, which the extension does not have"
            );
        }
        foreach (get_extension_funcs('aerostack') as $f) {
            $this->assertStringContainsString('function ' . substr($f, strrpos($f, '\\') + 1) . '(', $src);
        }
    }

    private function methodExists(array $classes, string $name): bool
    {
        foreach ($classes as $cls) {
            if (method_exists("Aerostack\\Native\\$cls", $name)) {
                return true;
            }
        }
        return false;
    }
}
