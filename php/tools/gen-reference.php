<?php

// Generates php/API.md, the API reference: every public class of the package (php/src) with its
// public methods (parameters with types and defaults, return type), public properties and
// constants, and the first paragraph of each docblock; then the package's functions and the
// extension's classes (Aerostack\Native, from php/stubs/aerostack.stub.php).
//
// Read with Reflection. It always runs without the extension (re-executing itself with `php -n`
// when the extension is loaded), so the stubs define Aerostack\Native and the output does not
// depend on how php was started. Run `php php/tools/gen-reference.php` after changing a public
// signature or docblock; `--check` exits 1 when API.md is stale (tests/ReferenceTest.php runs it).

declare(strict_types=1);

namespace Aerostack\Tools;

const ROOT = __DIR__ . '/..';

if (extension_loaded('aerostack')) {
    $cmd = array_merge([PHP_BINARY, '-n', __FILE__], array_slice($argv, 1));
    $p = proc_open($cmd, [0 => STDIN, 1 => STDOUT, 2 => STDERR], $pipes);
    exit(is_resource($p) ? proc_close($p) : 1);
}
require ROOT . '/stubs/aerostack.stub.php';
require ROOT . '/src/autoload.php';

// Sections by class-name prefix (relative to Aerostack\), first match wins, in this order.
const SECTIONS = [
    ['Client', 'The client', '`new Aerostack\\Client(projectId: ..., apiKey: ..., baseUrl: ...)` (arguments fall back to `AEROSTACK_PROJECT_ID`, `AEROSTACK_API_KEY`, `AEROSTACK_API_URL`). `$client->async()` is the same client whose calls return a `Pending`.'],
    ['Pending', '', ''],
    ['Service\\', 'Service namespaces', '`$client->db`, `$client->auth`, ... Every call method takes a last `array $options` of per-call options (`timeoutMs`, `retry`, `idempotencyKey`, `headers`; not `gateway->connectWebSocket`, which opens a socket). Results are arrays with camelCase keys and times as `DateTimeImmutable`; your own data (rows, cached values, job data) as stored.'],
    ['Realtime\\', 'Realtime', '`$client->realtime->channel($topic)`.'],
    ['Gateway\\', 'AI gateway socket', '`$client->gateway->connectWebSocket($apiSlug)`.'],
    ['Worker', 'Logic Modules and queue workers', ''],
    ['Sdk', '', '`Aerostack\\Sdk` is the `$sdk` a handler receives.'],
    ['Local\\', 'Local platform', ''],
    ['QueryResult', 'Results', ''],
    ['StoredObject', '', ''],
    ['Exception\\', 'Exceptions', 'Every failure throws an `Aerostack\\Exception\\AerostackException` subclass chosen by its family.'],
    ['', 'Other classes', ''],
];

function short(string $name): string
{
    return str_starts_with($name, 'Aerostack\\') ? substr($name, 10) : $name;
}

/** The docblock's first paragraph (up to a blank line or the first tag line), on one line. */
function firstParagraph(string|false $doc): string
{
    if ($doc === false) {
        return '';
    }
    $doc = preg_replace('~^/\*\*|\*/$~', '', trim($doc));
    $out = [];
    foreach (explode("\n", $doc) as $line) {
        $line = trim(preg_replace('~^\s*\*~', '', $line));
        if ($line === '' && $out !== []) {
            break;
        }
        if (str_starts_with($line, '@')) {
            break;
        }
        if ($line !== '') {
            $out[] = $line;
        }
    }
    return implode(' ', $out);
}

function isInternal(string|false $doc): bool
{
    return $doc !== false && preg_match('~(^|\s|\*)@internal\b~', $doc) === 1;
}

function type(?\ReflectionType $t): string
{
    if ($t === null) {
        return '';
    }
    return preg_replace('~\bAerostack\\\\~', '', (string) $t);
}

function value(mixed $v): string
{
    return match (true) {
        $v === null => 'null',
        is_bool($v) => $v ? 'true' : 'false',
        is_array($v) && $v === [] => '[]',
        is_string($v) => "'" . addcslashes($v, "'\\") . "'",
        is_int($v), is_float($v) => var_export($v, true),
        default => str_replace("\n", ' ', var_export($v, true)),
    };
}

function param(\ReflectionParameter $p): string
{
    $s = type($p->getType());
    $s .= ($s === '' ? '' : ' ') . ($p->isPassedByReference() ? '&' : '') . ($p->isVariadic() ? '...' : '') . '$' . $p->getName();
    if ($p->isDefaultValueAvailable()) {
        $s .= ' = ' . ($p->isDefaultValueConstant() ? short((string) $p->getDefaultValueConstantName()) : value($p->getDefaultValue()));
    }
    return $s;
}

function signature(\ReflectionFunctionAbstract $f): string
{
    $mods = '';
    if ($f instanceof \ReflectionMethod) {
        $mods = 'public ' . ($f->isStatic() ? 'static ' : '');
    }
    $ret = $f->hasReturnType() ? ': ' . type($f->getReturnType()) : '';
    $name = $f->getName();
    return $mods . 'function ' . $name . '(' . implode(', ', array_map(param(...), $f->getParameters())) . ')' . $ret;
}

function item(string $sig, string $doc): string
{
    return "- `$sig`" . ($doc !== '' ? "  \n  $doc" : '') . "\n";
}

/** @return list<string> */
function classBlock(\ReflectionClass $c): array
{
    $kind = $c->isInterface() ? 'interface' : ($c->isTrait() ? 'trait' : ($c->isAbstract() ? 'abstract class' : ($c->isFinal() ? 'final class' : 'class')));
    $out = ['### ' . $kind . ' `' . short($c->getName()) . '`', ''];
    $head = [];
    if ($parent = $c->getParentClass()) {
        $head[] = 'extends ' . short($parent->getName());
    }
    $own = array_diff($c->getInterfaceNames(), $c->getParentClass() ? $c->getParentClass()->getInterfaceNames() : []);
    if ($own !== []) {
        $head[] = 'implements ' . implode(', ', array_map(short(...), $own));
    }
    if ($head !== []) {
        $out[] = '`' . implode(' ', $head) . '`';
        $out[] = '';
    }
    if (($d = firstParagraph($c->getDocComment())) !== '') {
        $out[] = $d;
        $out[] = '';
    }
    $rows = '';
    foreach ($c->getReflectionConstants(\ReflectionClassConstant::IS_PUBLIC) as $k) {
        if ($k->getDeclaringClass()->getName() === $c->getName() && !isInternal($k->getDocComment())) {
            $rows .= item('const ' . $k->getName() . ' = ' . value($k->getValue()), firstParagraph($k->getDocComment()));
        }
    }
    foreach ($c->getProperties(\ReflectionProperty::IS_PUBLIC) as $p) {
        if ($p->getDeclaringClass()->getName() === $c->getName() && !$p->isPromoted() && !isInternal($p->getDocComment())) {
            $ro = $p->isReadOnly() ? 'readonly ' : '';
            $st = $p->isStatic() ? 'static ' : '';
            $rows .= item(trim("public $st$ro" . type($p->getType())) . ' $' . $p->getName(), firstParagraph($p->getDocComment()));
        }
    }
    // Magic read-only properties (`@property-read Type $name text`) of the class's docblock.
    if (preg_match_all('~@property-read\s+(\S+)\s+\$(\w+)\s*(.*)~', (string) $c->getDocComment(), $m, PREG_SET_ORDER)) {
        foreach ($m as [, $t, $n, $text]) {
            $rows .= item("public readonly $t \$$n", trim($text));
        }
    }
    foreach ($c->getMethods(\ReflectionMethod::IS_PUBLIC) as $f) {
        if ($f->getDeclaringClass()->getName() !== $c->getName() || isInternal($f->getDocComment())) {
            continue;
        }
        if (str_starts_with($f->getName(), '__') && $f->getName() !== '__construct' && $f->getName() !== '__invoke') {
            continue;
        }
        $rows .= item(signature($f), firstParagraph($f->getDocComment()));
        // Promoted constructor parameters are public properties too.
        if ($f->getName() === '__construct') {
            foreach ($f->getParameters() as $p) {
                if ($p->isPromoted() && ($prop = $c->getProperty($p->getName()))->isPublic()) {
                    $rows .= item(trim('public ' . ($prop->isReadOnly() ? 'readonly ' : '') . type($prop->getType())) . ' $' . $prop->getName(), '');
                }
            }
        }
    }
    if ($rows !== '') {
        $out[] = rtrim($rows, "\n");
        $out[] = '';
    }
    return $out;
}

/** The package's public classes (php/src, PSR-4), in file order. @return list<\ReflectionClass> */
function packageClasses(): array
{
    $src = realpath(ROOT . '/src');
    $files = [];
    foreach (new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($src, \FilesystemIterator::SKIP_DOTS)) as $f) {
        $rel = substr($f->getPathname(), strlen($src) + 1);
        if (str_ends_with($rel, '.php') && preg_match('~^[A-Z]~', $rel) === 1) {
            $files[] = $rel;
        }
    }
    sort($files);
    $classes = [];
    foreach ($files as $rel) {
        $name = 'Aerostack\\' . str_replace('/', '\\', substr($rel, 0, -4));
        if (!class_exists($name) && !interface_exists($name) && !trait_exists($name)) {
            fwrite(STDERR, "gen-reference: src/$rel does not define $name\n");
            exit(2);
        }
        $c = new \ReflectionClass($name);
        if (!isInternal($c->getDocComment())) {
            $classes[] = $c;
        }
    }
    return $classes;
}

function render(): string
{
    $out = [
        '# Aerostack PHP SDK: API reference',
        '',
        'Generated by `php php/tools/gen-reference.php` from `php/src` with Reflection; do not edit.',
        'A test (tests/ReferenceTest.php) checks it is current and lists every public method. Class names are',
        'relative to the `Aerostack\\` namespace. See README.md for a tour.',
        '',
    ];
    $bySection = array_fill(0, count(SECTIONS), []);
    foreach (packageClasses() as $c) {
        foreach (SECTIONS as $i => [$prefix]) {
            if (str_starts_with(short($c->getName()), $prefix)) {
                $bySection[$i][] = $c;
                break;
            }
        }
    }
    foreach (SECTIONS as $i => [, $heading, $intro]) {
        if ($bySection[$i] === []) {
            continue;
        }
        if ($heading !== '') {
            array_push($out, "## $heading", '');
        }
        if ($intro !== '') {
            array_push($out, $intro, '');
        }
        // Within a section: the abstract base first, then by name.
        usort($bySection[$i], fn ($a, $b) => [!$a->isAbstract(), $a->getName()] <=> [!$b->isAbstract(), $b->getName()]);
        foreach ($bySection[$i] as $c) {
            array_push($out, ...classBlock($c));
        }
        if (SECTIONS[$i][0] === 'Pending') {
            array_push($out, '### Functions', '');
            $fns = array_filter(get_defined_functions()['user'], fn ($f) => (new \ReflectionFunction($f))->getFileName() === realpath(ROOT . '/src/functions.php'));
            sort($fns);
            foreach ($fns as $f) {
                $r = new \ReflectionFunction($f);
                $out[] = rtrim(item(signature($r), firstParagraph($r->getDocComment())), "\n");
            }
            $out[] = '';
        }
    }
    array_push($out, '## The extension (Aerostack\\Native)', '', 'The `aerostack` extension\'s classes, which the package wraps (from `php/stubs/aerostack.stub.php`, which a test keeps equal to the extension). Applications use the classes above.', '');
    $native = array_values(array_filter(get_declared_classes(), fn ($c) => str_starts_with($c, 'Aerostack\\Native\\')));
    foreach ($native as $n) {
        array_push($out, ...classBlock(new \ReflectionClass($n)));
    }
    array_push($out, '### Functions', '');
    foreach (get_defined_functions()['user'] as $f) {
        $r = new \ReflectionFunction($f);
        if ($r->getFileName() === realpath(ROOT . '/stubs/aerostack.stub.php')) {
            $out[] = rtrim(item(signature($r), firstParagraph($r->getDocComment())), "\n");
        }
    }
    return rtrim(implode("\n", $out)) . "\n";
}

$text = render();
$file = ROOT . '/API.md';
if (in_array('--check', $argv, true)) {
    if (!is_file($file) || file_get_contents($file) !== $text) {
        fwrite(STDERR, "php/API.md is stale: run php php/tools/gen-reference.php\n");
        exit(1);
    }
    exit(0);
}
file_put_contents($file, $text);
