<?php

// The PHP runner of the conformance suite (see tests/conformance/README.md).
//
// Starts ONE in-process local platform (Aerostack\Local\Platform) with the options of
// tests/conformance/platform.json, serves the fixture handlers with the SDK's worker runner
// (php/bin/aerostack-worker fixtures.php, in child processes: PHP runs one invocation at a time
// per process), and runs every case through the public PHP SDK. Each case runs on the blocking
// face and again on the pending face ($client->async() + Pending::wait), each in its own run.
//
//     php tests/conformance/php/run.php --out results/php.json [--only PATTERN] [--face blocking|pending]
//
// Loads the extension itself when it is not loaded (scripts/php-ext.sh builds it only when
// missing). A test harness, not SDK code: OPS maps the suite's operation names onto the SDK.

declare(strict_types=1);

const DEFAULT_CASE_TIMEOUT_MS = 30000;
$ROOT = dirname(__DIR__, 3);
$SUITE = dirname(__DIR__);

if (!extension_loaded('aerostack')) {
    $so = trim((string) shell_exec(escapeshellarg("$ROOT/scripts/php-ext.sh")));
    if ($so === '' || !is_file($so)) {
        fwrite(STDERR, "the aerostack extension could not be built (scripts/php-ext.sh)\n");
        exit(1);
    }
    pcntl_exec(PHP_BINARY, ['-d', "extension=$so", __FILE__, ...array_slice($argv, 1)]);
    exit(1);
}
require "$ROOT/php/src/autoload.php";

use Aerostack\Client;
use Aerostack\Exception\AerostackException;
use Aerostack\Pending;

final class CaseFailure extends Exception
{
}

// ---------------------------------------------------------------------------------------------
// Cases, templates, shapes
// ---------------------------------------------------------------------------------------------

function load_cases(string $dir): array
{
    $cases = [];
    $seen = [];
    $files = glob("$dir/*.json");
    sort($files);
    foreach ($files as $f) {
        foreach (json_decode((string) file_get_contents($f), true)['cases'] as $c) {
            if (isset($seen[$c['id']])) {
                throw new RuntimeException("$f: duplicate case id {$c['id']}");
            }
            $seen[$c['id']] = true;
            $cases[] = $c;
        }
    }
    return $cases;
}

function short(mixed $v, int $n = 160): string
{
    $s = is_string($v) && !mb_check_encoding($v, 'UTF-8') ? '<' . strlen($v) . ' bytes>' : json_encode($v, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION | JSON_PARTIAL_OUTPUT_ON_ERROR);
    $s = $s === false ? var_export($v, true) : $s;
    return strlen($s) <= $n ? $s : substr($s, 0, $n - 3) . '...';
}

function is_obj(mixed $v): bool
{
    return is_array($v) && ($v === [] || !array_is_list($v));
}

function is_list_(mixed $v): bool
{
    return is_array($v) && array_is_list($v);
}

function get_path(mixed $value, array $parts, string $what): mixed
{
    foreach ($parts as $seg) {
        if (is_list_($value) && ctype_digit($seg) && (int) $seg < count($value)) {
            $value = $value[(int) $seg];
        } elseif (is_array($value) && array_key_exists($seg, $value)) {
            $value = $value[$seg];
        } else {
            throw new CaseFailure("$what: no " . json_encode($seg) . ' in ' . short($value));
        }
    }
    return $value;
}

function lookup(array $vars, string $ref): mixed
{
    $parts = explode('.', $ref);
    $name = array_shift($parts);
    if (!array_key_exists($name, $vars)) {
        throw new CaseFailure("unknown template variable \${{$ref}} (known: " . implode(', ', array_keys($vars)) . ')');
    }
    return get_path($vars[$name], $parts, $ref);
}

const TEMPLATE = '/\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}/';

function resolve_t(mixed $value, array $vars, array $later = []): mixed
{
    $deferred = static fn (string $ref) => in_array(explode('.', $ref)[0], $later, true) && !array_key_exists(explode('.', $ref)[0], $vars);
    if (is_string($value)) {
        if (preg_match('/^\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}$/', $value, $m)) {
            return $deferred($m[1]) ? $value : lookup($vars, $m[1]);
        }
        return preg_replace_callback(TEMPLATE, static function ($m) use ($vars, $deferred) {
            if ($deferred($m[1])) {
                return $m[0];
            }
            $v = lookup($vars, $m[1]);
            return is_string($v) ? $v : json_encode($v);
        }, $value);
    }
    if (is_array($value)) {
        return array_map(static fn ($v) => resolve_t($v, $vars, $later), $value);
    }
    return $value;
}

function type_ok(mixed $v, string $t): bool
{
    foreach (explode('|', $t) as $alt) {
        $ok = match (trim($alt)) {
            'any' => true,
            'null' => $v === null,
            'boolean' => is_bool($v),
            'integer' => is_int($v),
            'number' => is_int($v) || is_float($v),
            'string' => is_string($v),
            'object' => is_obj($v),
            'array' => is_list_($v),
            default => false,
        };
        if ($ok) {
            return true;
        }
    }
    return false;
}

function json_eq(mixed $a, mixed $b): bool
{
    if (is_bool($a) || is_bool($b)) {
        return $a === $b;
    }
    if ((is_int($a) || is_float($a)) && (is_int($b) || is_float($b))) {
        return $a == $b;
    }
    if (is_array($a) && is_array($b)) {
        if (count($a) !== count($b)) {
            return false;
        }
        if (array_is_list($a) !== array_is_list($b)) {
            return false;
        }
        foreach ($a as $k => $x) {
            if (!array_key_exists($k, $b) || !json_eq($x, $b[$k])) {
                return false;
            }
        }
        return true;
    }
    return $a === $b;
}

function json_subset(mixed $expected, mixed $actual): bool
{
    if (is_obj($expected) && $expected !== []) {
        if (!is_array($actual)) {
            return false;
        }
        foreach ($expected as $k => $v) {
            if (!array_key_exists($k, $actual) || !json_subset($v, $actual[$k])) {
                return false;
            }
        }
        return true;
    }
    return json_eq($expected, $actual);
}

function check_shape(mixed $v, mixed $shape, string $at = 'result'): array
{
    if (is_string($shape)) {
        return type_ok($v, $shape) ? [] : ["$at: expected $shape, got " . short($v)];
    }
    if (!is_array($shape)) {
        return ["$at: the case's shape " . short($shape) . ' is not a type name or an object'];
    }
    $p = [];
    if (isset($shape['type']) && !type_ok($v, $shape['type'])) {
        return ["$at: expected {$shape['type']}, got " . short($v)];
    }
    if (array_key_exists('equals', $shape) && !json_eq($v, $shape['equals'])) {
        $p[] = "$at: expected " . short($shape['equals']) . ', got ' . short($v);
    }
    $missing = [];
    foreach ($shape['keys'] ?? [] as $k => $sub) {
        if (!is_obj($v)) {
            $p[] = "$at: expected an object with key $k, got " . short($v);
            break;
        }
        if (!array_key_exists($k, $v)) {
            $missing[$k] = true;
            $p[] = "$at: missing key $k (keys: " . (implode(', ', array_keys($v)) ?: 'none') . ')';
        } else {
            array_push($p, ...check_shape($v[$k], $sub, "$at.$k"));
        }
    }
    $len = is_array($v) ? count($v) : (is_string($v) ? mb_strlen($v) : null);
    if (array_key_exists('len', $shape) && $len !== $shape['len']) {
        $p[] = "$at: expected length {$shape['len']}, got " . ($len ?? short($v));
    }
    if (array_key_exists('min_len', $shape) && ($len === null || $len < $shape['min_len'])) {
        $p[] = "$at: expected at least {$shape['min_len']} item(s), got " . short($v);
    }
    if (array_key_exists('items', $shape)) {
        if (!is_list_($v)) {
            $p[] = "$at: expected an array, got " . short($v);
        } else {
            foreach ($v as $i => $x) {
                array_push($p, ...check_shape($x, $shape['items'], "$at.$i"));
            }
        }
    }
    if (array_key_exists('contains', $shape)) {
        $c = $shape['contains'];
        if (is_string($v)) {
            if (!is_string($c) || !str_contains($v, $c)) {
                $p[] = "$at: expected to contain " . short($c) . ', got ' . short($v);
            }
        } elseif (is_list_($v)) {
            $found = false;
            foreach ($v as $x) {
                $found = $found || json_eq($c, $x);
            }
            if (!$found) {
                $p[] = "$at: expected an element " . short($c) . ', got ' . short($v);
            }
        } else {
            $p[] = "$at: contains needs a string or an array, got " . short($v);
        }
    }
    if (array_key_exists('unique_by', $shape)) {
        $key = $shape['unique_by'];
        $ids = [];
        foreach (is_list_($v) ? $v : [] as $x) {
            $ids[] = json_encode($x[$key] ?? null);
        }
        if (!is_list_($v)) {
            $p[] = "$at: expected objects with $key, got " . short($v);
        } elseif (count(array_unique($ids)) !== count($ids)) {
            $p[] = "$at: $key seen more than once";
        }
    }
    foreach ($shape['values'] ?? [] as $path => $want) {
        if (isset($missing[explode('.', (string) $path)[0]])) {
            continue;
        }
        try {
            $got = get_path($v, explode('.', (string) $path), "$at.$path");
        } catch (CaseFailure $e) {
            $p[] = $e->getMessage();
            continue;
        }
        if (!json_eq($got, $want)) {
            $p[] = "$at.$path: expected " . short($want) . ', got ' . short($got);
        }
    }
    return $p;
}

// ---------------------------------------------------------------------------------------------
// The PHP SDK: operation name -> idiomatic method
// ---------------------------------------------------------------------------------------------

function body_bytes(mixed $spec): string
{
    if (is_array($spec) && isset($spec['text']) && is_string($spec['text'])) {
        return $spec['text'];
    }
    if (is_array($spec) && isset($spec['pattern'], $spec['size']) && is_int($spec['size'])) {
        return substr(str_repeat($spec['pattern'], intdiv($spec['size'], max(1, strlen($spec['pattern']))) + 1), 0, $spec['size']);
    }
    throw new CaseFailure('not a bytes spec: ' . short($spec));
}

/** Pending results are waited for; generators collected: the canonical JSON. */
/** The SDK's answer to `$kind` (waited for, a stream's items collected) in the suite's canonical JSON. */
function settle(mixed $v, string $kind): mixed
{
    if ($v instanceof Pending) {
        $v = $v->wait();
    }
    if ($v instanceof Generator) {
        return array_map(static fn ($item) => canonical($kind, $item), iterator_to_array($v, false));
    }
    if ($v instanceof Aerostack\QueryResult) {
        $v = $v->toArray();
    }
    return canonical($kind, $v);
}

/**
 * A value the SDK handed out for result type `$kind`, back in the suite's canonical form (the
 * cases are written in the engine's names): DateTimeImmutable times as the engine's RFC 3339
 * text, and every SDK-owned key (outside the user's data, per the surface's user-data paths)
 * from camelCase back to snake_case. An SDK-owned key that still has a `_` fails the case: the
 * PHP SDK hands out camelCase.
 */
function canonical(string $kind, mixed $v): mixed
{
    static $user = null;
    if ($user === null) {
        $user = [];
        $t = Aerostack\Shape::tables()['user_data'];
        // A presence event's user data (the tracked state) replaces a message's `data`.
        $t[Aerostack\Shape::PRESENCE_EVENT] = $t['realtime.presence_event'] ?? [];
        foreach ($t as $k => $paths) {
            foreach ($paths as $path) {
                $user[$k][implode('.', Aerostack\Shape::steps($path))] = true;
            }
        }
    }
    if ($kind === 'realtime.event' && is_array($v) && ($v['kind'] ?? null) === 'presence') {
        $kind = Aerostack\Shape::PRESENCE_EVENT;
    }
    return canonical_at($v, $user[$kind] ?? [], '', $kind);
}

function canonical_at(mixed $v, array $user, string $at, string $kind): mixed
{
    if ($v instanceof DateTimeInterface) {
        return $v->format('Y-m-d\TH:i:s.v\Z');
    }
    if (!is_array($v) || isset($user[$at])) {
        return $v; // the user's data: as stored
    }
    $out = [];
    foreach ($v as $k => $x) {
        if (array_is_list($v)) {
            $out[] = canonical_at($x, $user, $at === '' ? '[]' : "$at.[]", $kind);
            continue;
        }
        $k = (string) $k;
        if (str_contains($k, '_')) {
            throw new CaseFailure("$kind: the SDK handed out the key `$k` (at `$at`) in snake_case; its keys are camelCase outside the user's data");
        }
        $name = strtolower(preg_replace('/(?<=[a-z0-9])([A-Z])/', '_$1', $k));
        // The surface's paths come in the SDK's case (camelCase), like the keys.
        $out[$name] = canonical_at($x, $user, $at === '' ? $k : "$at.$k", $kind);
    }
    return $out;
}

function ops(): array
{
    return [
        'db.query' => fn (Client $c, array $a, array $o) => $c->db->query($a['sql'] ?? null, $a['params'] ?? [], $o),
        'db.query_one' => fn ($c, $a, $o) => $c->db->queryOne($a['sql'] ?? null, $a['params'] ?? [], $o),
        'db.batch' => fn ($c, $a, $o) => $c->db->batch($a['queries'] ?? [], $o),
        'gateway.chat' => fn ($c, $a, $o) => $c->gateway->chat($a['api_slug'] ?? '', $a['messages'] ?? [], $a['model'] ?? null, consumerKey: $a['consumer_key'] ?? null, options: $o),
        'gateway.chat_stream' => fn ($c, $a, $o) => $c->gateway->chatStream($a['api_slug'] ?? '', $a['messages'] ?? [], $a['model'] ?? null, consumerKey: $a['consumer_key'] ?? null, options: $o),
        'gateway.wallet' => fn ($c, $a, $o) => $c->gateway->wallet($a['api_slug'] ?? null, $a['consumer_key'] ?? null, $o),
        'gateway.usage' => fn ($c, $a, $o) => $c->gateway->usage($a['api_slug'] ?? null, $a['days'] ?? null, $a['consumer_key'] ?? null, $o),
        'gateway.billing_log' => fn ($c, $a, $o) => $c->gateway->billingLog($a['consumer_id'] ?? '', $a['api_id'] ?? '', $a['units'] ?? 0, $a['metric'] ?? null, $o),
        'db.collection.list' => fn ($c, $a, $o) => $c->db->collection($a['collection'] ?? '')->list($a['filter'] ?? [], $a['limit'] ?? null, $a['cursor'] ?? null, $a['order'] ?? null, $o),
        'db.collection.list_all' => fn ($c, $a, $o) => $c->db->collection($a['collection'] ?? '')->listAll($a['filter'] ?? [], $a['page_size'] ?? null, $a['order'] ?? null, $o),
        'db.collection.get' => fn ($c, $a, $o) => $c->db->collection($a['collection'] ?? '')->get($a['id'] ?? null, $o),
        'db.collection.create' => fn ($c, $a, $o) => $c->db->collection($a['collection'] ?? '')->create($a['data'] ?? [], $o),
        'db.collection.update' => fn ($c, $a, $o) => $c->db->collection($a['collection'] ?? '')->update($a['id'] ?? null, $a['data'] ?? [], $o),
        'db.collection.delete' => fn ($c, $a, $o) => $c->db->collection($a['collection'] ?? '')->delete($a['id'] ?? null, $o),
        'auth.signup' => fn ($c, $a, $o) => $c->auth->signup($a['email'] ?? null, $a['password'] ?? null, $a['name'] ?? null, $a['metadata'] ?? null, $o),
        'auth.signin' => fn ($c, $a, $o) => $c->auth->signin($a['email'] ?? null, $a['password'] ?? null, $o),
        'auth.register' => fn ($c, $a, $o) => $c->auth->register($a['email'] ?? null, $a['password'] ?? null, $a['name'] ?? null, $a['custom_fields'] ?? null, $o),
        'auth.login' => fn ($c, $a, $o) => $c->auth->login($a['email'] ?? null, $a['password'] ?? null, $o),
        'auth.send_otp' => fn ($c, $a, $o) => $c->auth->sendOtp($a['email'] ?? null, $a['phone'] ?? null, $o),
        'auth.verify_otp' => fn ($c, $a, $o) => $c->auth->verifyOtp($a['code'] ?? null, $a['email'] ?? null, $a['phone'] ?? null, $o),
        'auth.verify_email' => fn ($c, $a, $o) => $c->auth->verifyEmail($a['token'] ?? null, $o),
        'auth.resend_verification' => fn ($c, $a, $o) => $c->auth->resendVerification($a['email'] ?? null, $o),
        'auth.request_password_reset' => fn ($c, $a, $o) => $c->auth->requestPasswordReset($a['email'] ?? null, $o),
        'auth.reset_password' => fn ($c, $a, $o) => $c->auth->resetPassword($a['token'] ?? null, $a['new_password'] ?? null, $o),
        'auth.refresh' => fn ($c, $a, $o) => $c->auth->refresh($a['refresh_token'] ?? null, $o),
        'auth.logout' => fn ($c, $a, $o) => $c->auth->logout($a['access_token'] ?? null, $a['refresh_token'] ?? null, $o),
        'auth.me' => fn ($c, $a, $o) => $c->auth->me($a['access_token'] ?? null, $o),
        'auth.update_me' => fn ($c, $a, $o) => $c->auth->updateMe($a['access_token'] ?? null, $a['fields'] ?? [], $o),
        'auth.delete_avatar' => fn ($c, $a, $o) => $c->auth->deleteAvatar($a['access_token'] ?? null, $o),
        'auth.verify_token' => fn ($c, $a, $o) => $c->auth->verifyToken($a['token'] ?? null, $o),
        'cache.get' => fn ($c, $a, $o) => $c->cache->get($a['key'] ?? null, $o),
        'cache.set' => fn ($c, $a, $o) => $c->cache->set($a['key'] ?? null, $a['value'] ?? null, $a['ttl'] ?? null, $o),
        'cache.has' => fn ($c, $a, $o) => $c->cache->has($a['key'] ?? null, $o),
        'cache.delete' => fn ($c, $a, $o) => $c->cache->delete($a['key'] ?? null, $o),
        'cache.get_many' => fn ($c, $a, $o) => $c->cache->getMany($a['keys'] ?? [], $o),
        'cache.set_many' => fn ($c, $a, $o) => $c->cache->setMany($a['entries'] ?? [], null, $o),
        'cache.delete_many' => fn ($c, $a, $o) => $c->cache->deleteMany($a['keys'] ?? [], $o),
        'cache.list' => fn ($c, $a, $o) => $c->cache->list($a['prefix'] ?? null, $a['limit'] ?? null, $a['cursor'] ?? null, $o),
        'cache.keys' => fn ($c, $a, $o) => $c->cache->keys($a['prefix'] ?? null, $o),
        'cache.flush' => fn ($c, $a, $o) => $c->cache->flush($a['prefix'] ?? null, $o),
        'cache.expire' => fn ($c, $a, $o) => $c->cache->expire($a['key'] ?? null, $a['ttl'] ?? null, $o),
        'cache.increment' => fn ($c, $a, $o) => $c->cache->increment($a['key'] ?? null, $a['amount'] ?? null, $a['initial_value'] ?? null, $a['ttl'] ?? null, $o),
        'cache.list_all' => fn ($c, $a, $o) => $c->cache->listAll($a['prefix'] ?? null, $a['page_size'] ?? null, $o),
        'queue.enqueue' => fn ($c, $a, $o) => $c->queue->enqueue($a['type'] ?? null, $a['data'] ?? [], $a['delay_seconds'] ?? null, $a['max_retries'] ?? null, $o),
        'queue.send' => fn ($c, $a, $o) => $c->queue->send($a['type'] ?? null, $a['data'] ?? [], $a['delay_seconds'] ?? null, $a['max_retries'] ?? null, $o),
        'queue.job' => fn ($c, $a, $o) => $c->queue->job($a['job_id'] ?? null, $o),
        'queue.jobs' => fn ($c, $a, $o) => $c->queue->jobs($a['status'] ?? null, $a['type'] ?? null, $a['limit'] ?? null, $a['cursor'] ?? null, $o),
        'queue.jobs_all' => fn ($c, $a, $o) => $c->queue->jobsAll($a['status'] ?? null, $a['type'] ?? null, $a['limit'] ?? null, $a['cursor'] ?? null, $o),
        'queue.cancel' => fn ($c, $a, $o) => $c->queue->cancel($a['job_id'] ?? null, $o),
        'queue.wait' => fn ($c, $a, $o) => $c->queue->wait($a['job_id'] ?? null, $a['timeout_ms'] ?? 30000, $o),
        'storage.get_url' => fn ($c, $a, $o) => $c->storage->getUrl($a['key'] ?? null, options: $o),
        'storage.list' => fn ($c, $a, $o) => $c->storage->list($a['prefix'] ?? null, $a['limit'] ?? null, $a['cursor'] ?? null, $o),
        'storage.list_all' => fn ($c, $a, $o) => $c->storage->listAll($a['prefix'] ?? null, $a['page_size'] ?? null, $o),
        'storage.delete' => fn ($c, $a, $o) => $c->storage->delete($a['key'] ?? null, $o),
        'storage.exists' => fn ($c, $a, $o) => $c->storage->exists($a['key'] ?? null, $o),
        'storage.metadata' => fn ($c, $a, $o) => $c->storage->metadata($a['key'] ?? null, $o),
        'storage.copy' => fn ($c, $a, $o) => $c->storage->copy($a['source_key'] ?? null, $a['dest_key'] ?? null, $o),
        'storage.move' => fn ($c, $a, $o) => $c->storage->move($a['source_key'] ?? null, $a['dest_key'] ?? null, $o),
        'storage.get' => function ($c, $a, $o) {
            $obj = $c->storage->get($a['key'] ?? null, $o);
            return ['size' => strlen($obj->data), 'text' => mb_check_encoding($obj->data, 'UTF-8') ? $obj->data : null, 'content_type' => $obj->contentType];
        },
        'ai.chat' => fn ($c, $a, $o) => $c->ai->chat($a['messages'] ?? [], $a['model'] ?? null, $a['temperature'] ?? null, $a['max_tokens'] ?? null, $a['top_p'] ?? null, $o),
        'ai.chat_stream' => fn ($c, $a, $o) => $c->ai->chatStream($a['messages'] ?? [], $a['model'] ?? null, $a['temperature'] ?? null, $a['max_tokens'] ?? null, $a['top_p'] ?? null, $o),
        'ai.complete' => fn ($c, $a, $o) => $c->ai->complete($a['prompt'] ?? null, $a['model'] ?? null, $a['max_tokens'] ?? null, $a['temperature'] ?? null, $a['system'] ?? null, $o),
        'ai.embed' => fn ($c, $a, $o) => $c->ai->embed($a['text'] ?? null, $o),
        'ai.search.ingest' => fn ($c, $a, $o) => $c->ai->search->ingest($a['content'] ?? null, $a['type'] ?? null, $a['id'] ?? null, $a['metadata'] ?? null, $o),
        'ai.search.query' => fn ($c, $a, $o) => $c->ai->search->query($a['text'] ?? null, $a['top_k'] ?? null, $a['types'] ?? null, $a['filter'] ?? null, $o),
        'ai.search.get' => fn ($c, $a, $o) => $c->ai->search->get($a['id'] ?? null, $o),
        'ai.search.update' => fn ($c, $a, $o) => $c->ai->search->update($a['id'] ?? null, $a['content'] ?? null, $a['type'] ?? null, $a['metadata'] ?? null, $o),
        'ai.search.delete' => fn ($c, $a, $o) => $c->ai->search->delete($a['id'] ?? null, $o),
        'ai.search.delete_by_type' => fn ($c, $a, $o) => $c->ai->search->deleteByType($a['type'] ?? null, $o),
        'ai.search.list_types' => fn ($c, $a, $o) => $c->ai->search->listTypes($o),
        'ai.search.count' => fn ($c, $a, $o) => $c->ai->search->count($a['type'] ?? null, $o),
        'ai.search.configure' => fn ($c, $a, $o) => $c->ai->search->configure($a['embedding_model'] ?? null, $o),
        'secrets.get' => fn ($c, $a, $o) => $c->secrets->get($a['key'] ?? null, $o),
        'secrets.set' => fn ($c, $a, $o) => $c->secrets->set($a['key'] ?? null, $a['value'] ?? null, $o),
        'secrets.list' => fn ($c, $a, $o) => $c->secrets->list($o),
        'services.invoke' => fn ($c, $a, $o) => $c->services->invoke($a['service_name'] ?? null, $a['data'] ?? null, $o),
        'call' => fn ($c, $a, $o) => $c->call($a['slug'] ?? null, $a['data'] ?? null, $a['method'] ?? 'POST', $o),
        'request' => fn ($c, $a, $o) => $c->request($a['method'] ?? null, $a['path'] ?? null, $a['body'] ?? null, $o),
        'realtime.emit' => fn ($c, $a, $o) => $c->socket->emit($a['event'] ?? null, $a['data'] ?? null, $a['room'] ?? null, (bool) ($a['persist'] ?? false), $o),
        'local.outbox' => fn ($c, $a, $o) => $c->local->outbox($a['to'] ?? null, $a['limit'] ?? null, $o),
        'local.workers' => fn ($c, $a, $o) => $c->local->workers($o),
        'local.wait_served' => fn ($c, $a, $o) => $c->local->waitServed($a['name'] ?? null, $a['timeout_ms'] ?? 10000, $o),
    ];
}

function upload_op(Client $c, array $a, string $tmp, array $o, ?callable $progress): mixed
{
    $source = $a['source'] ?? 'bytes';
    $rest = array_diff(array_keys($a), ['body', 'source', 'key', 'content_type']);
    if ($rest) {
        throw new CaseFailure('storage.upload: arguments the runner does not know: ' . implode(', ', $rest));
    }
    $data = array_key_exists('body', $a) ? body_bytes($a['body']) : null;
    if ($source === 'path') {
        if ($data === null) {
            throw new CaseFailure('storage.upload from a path needs a body');
        }
        $f = "$tmp/upload-" . bin2hex(random_bytes(6)) . '.bin';
        file_put_contents($f, $data);
        $file = new SplFileInfo($f);
    } else {
        $file = $data;
    }
    return $c->storage->upload($file, $a['key'] ?? null, $a['content_type'] ?? null, $progress, options: $o);
}

/** Runs `$op`; the canonical JSON. PHP TypeErrors for missing arguments are the SDK's own checks. */
function run_op(Client $c, string $op, array $a, Env $env, array $o = [], ?callable $progress = null): mixed
{
    if ($op === 'storage.upload') {
        return settle(upload_op($c, $a, $env->tmp, $o, $progress), $op);
    }
    $f = ops()[$op] ?? null;
    if ($f === null) {
        throw new CaseFailure("the PHP runner has no mapping for operation $op");
    }
    $v = $f($c, $a, $o);
    // storage.get: the runner builds its canonical summary of the StoredObject itself.
    return $op === 'storage.get' ? $v : settle($v, $op);
}

function error_dto(Throwable $e): ?array
{
    if ($e instanceof AerostackException) {
        return ['code' => $e->getErrorCode(), 'family' => $e->getFamily(), 'status' => $e->getStatus(), 'message' => $e->getMessage(),
            'request_id' => $e->getRequestId(), 'retryable' => $e->isRetryable(), 'retry_after' => $e->getRetryAfterMs(), 'details' => $e->getDetails()];
    }
    if ($e instanceof TypeError) {
        // A required argument left out (null where PHP's signature wants a string): PHP's own
        // check, before the SDK. Reported as a validation error naming the parameter.
        if (preg_match('/Argument #\d+ \(\$(\w+)\)/', $e->getMessage(), $m)) {
            return ['code' => 'VALIDATION_ERROR', 'family' => 'validation', 'status' => null, 'message' => $e->getMessage(), 'request_id' => null,
                'retryable' => false, 'retry_after' => null, 'details' => ['field' => php_param_to_field($m[1])], 'php_type_error' => true];
        }
    }
    return null;
}

function php_param_to_field(string $p): string
{
    return strtolower((string) preg_replace('/(?<!^)[A-Z]/', '_$0', $p));
}

function describe(Throwable $e): string
{
    $d = $e instanceof AerostackException ? error_dto($e) : null;
    if ($d) {
        return get_class($e) . " {$d['code']}/{$d['family']} status=" . json_encode($d['status']) . ": {$d['message']}" . ($d['details'] ? ' details=' . short($d['details']) : '');
    }
    return get_class($e) . ': ' . $e->getMessage() . ' at ' . basename($e->getFile()) . ':' . $e->getLine();
}

function check_error(array $d, array $want, float $elapsed): array
{
    $p = [];
    $got = "{$d['code']}/{$d['family']} status=" . json_encode($d['status']) . ' ' . short($d['message'], 120);
    foreach (['code', 'family'] as $k) {
        if (array_key_exists($k, $want) && $d[$k] !== $want[$k]) {
            $p[] = "expected $k {$want[$k]}, got $got";
        }
    }
    if (array_key_exists('status', $want) && $d['status'] !== $want['status']) {
        $p[] = 'expected status ' . json_encode($want['status']) . ', got ' . json_encode($d['status']) . " ($got)";
    }
    if (array_key_exists('retryable', $want) && $d['retryable'] !== $want['retryable']) {
        $p[] = 'expected retryable=' . json_encode($want['retryable']) . ', got ' . json_encode($d['retryable']);
    }
    if (($want['retry_after'] ?? null) === true && !(is_int($d['retry_after']) && $d['retry_after'] > 0)) {
        $p[] = 'expected retry_after > 0, got ' . json_encode($d['retry_after']);
    }
    if (($want['request_id'] ?? null) === true && !$d['request_id']) {
        $p[] = 'expected a request id';
    }
    if (array_key_exists('field', $want)) {
        $field = is_array($d['details']) ? ($d['details']['field'] ?? null) : null;
        if ($field !== $want['field']) {
            $p[] = "expected details.field {$want['field']}, got " . json_encode($field) . " ($got, details=" . short($d['details']) . ')';
        }
    }
    if (array_key_exists('message_contains', $want) && !str_contains((string) $d['message'], $want['message_contains'])) {
        $p[] = 'expected the message to contain ' . json_encode($want['message_contains']) . ', got ' . json_encode($d['message']);
    }
    if (array_key_exists('within_ms', $want) && $elapsed > $want['within_ms']) {
        $p[] = "expected the error within {$want['within_ms']} ms, it took " . round($elapsed) . ' ms';
    }
    return $p;
}

// ---------------------------------------------------------------------------------------------
// Environment: the platform, projects, clients, fixture workers
// ---------------------------------------------------------------------------------------------

final class Env
{
    public array $project;
    public array $workers = [];
    public ?string $workerError = null;
    public ?array $faceProject = null;
    private int $fresh = 0;

    public function __construct(public Aerostack\Local\Platform $platform, public string $tmp, public string $notJson, public string $closedUrl)
    {
        $this->project = ['id' => $platform->projectId, 'api_key' => $platform->apiKey];
    }

    public function freshProject(string $label): array
    {
        $this->fresh++;
        $info = $this->platform->createProject(substr("conformance-fresh-{$this->fresh}-$label", 0, 60));
        return ['id' => $info['id'], 'api_key' => $info['apiKey']];
    }

    /** Three worker processes (sleeping modules must not hold up the others). */
    public function startWorkers(): void
    {
        if ($this->workers || $this->workerError) {
            return;
        }
        global $ROOT;
        $env = getenv();
        $env['AEROSTACK_API_URL'] = $this->platform->apiUrl;
        $env['AEROSTACK_API_KEY'] = $this->project['api_key'];
        $env['AEROSTACK_PROJECT_ID'] = $this->project['id'];
        $soPath = trim((string) shell_exec(escapeshellarg("$ROOT/scripts/php-ext.sh")));
        for ($i = 0; $i < 3; $i++) {
            $log = "{$this->tmp}/worker-$i.log";
            $proc = proc_open([PHP_BINARY, '-d', "extension=$soPath", "$ROOT/php/bin/aerostack-worker", __DIR__ . '/fixtures.php'], [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']], $pipes, $ROOT, $env);
            if (!is_resource($proc)) {
                $this->workerError = 'could not start php/bin/aerostack-worker';
                return;
            }
            $this->workers[] = $proc;
        }
        $c = $this->client($this->project);
        $spec = json_decode((string) file_get_contents(dirname(__DIR__) . '/platform.json'), true);
        try {
            foreach ($spec['modules'] as $m) {
                $c->local->waitServed($m['slug'], 20000);
            }
            foreach ($spec['jobs'] as $j) {
                $c->local->waitServed($j['type'], 20000);
            }
        } catch (AerostackException $e) {
            $logs = '';
            foreach (glob("{$this->tmp}/worker-*.log") as $f) {
                $logs .= file_get_contents($f);
            }
            $this->workerError = describe($e) . '; worker output: ' . short($logs, 600);
        }
    }

    public function stopWorkers(): void
    {
        foreach ($this->workers as $p) {
            proc_terminate($p, SIGTERM);
        }
        foreach ($this->workers as $p) {
            proc_close($p);
        }
        $this->workers = [];
    }

    public function client(array $project, array $o = []): Client
    {
        $known = ['api_key', 'base_url', 'retry', 'timeout_ms', 'project'];
        foreach (array_keys($o) as $k) {
            if (!in_array($k, $known, true)) {
                throw new CaseFailure("client options the runner does not know: $k");
            }
        }
        if (array_key_exists('retry', $o) && $o['retry'] !== false) {
            throw new CaseFailure('client.retry: the runner knows only false, got ' . short($o['retry']));
        }
        return new Client(
            projectId: $project['id'],
            apiKey: array_key_exists('api_key', $o) ? $o['api_key'] : $project['api_key'],
            baseUrl: $o['base_url'] ?? $this->platform->apiUrl,
            timeoutMs: $o['timeout_ms'] ?? null,
            retry: array_key_exists('retry', $o) ? false : null,
            ignoreEnv: true,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// One case
// ---------------------------------------------------------------------------------------------

final class Run
{
    public array $project;
    public array $vars;
    private ?Client $plainClient = null;

    public function __construct(public array $c, public Env $env, public string $runId, public string $face)
    {
    }

    public function plain(): Client
    {
        return $this->plainClient ??= $this->env->client($this->project);
    }

    /** The face's client: blocking, or pending (`async()`, each call waited for). */
    public function face(Client $c): Client
    {
        return $this->face === 'pending' ? $c->async() : $c;
    }

    public function run(): string
    {
        $co = $this->c['client'] ?? [];
        $this->project = $this->env->project;
        if (($co['project'] ?? null) === 'fresh') {
            $this->project = $this->env->freshProject($this->c['id']);
        } elseif (isset($co['project']) && $co['project'] !== 'default') {
            throw new CaseFailure("client.project: the runner knows only \"fresh\" and \"default\", got {$co['project']}");
        } elseif ($this->face === 'pending' && !in_array('worker', $this->c['requires'] ?? [], true)) {
            // Each face in its own project (the cases' tables and keys are per project); the
            // fixture workers serve the default project, so their cases share it.
            $this->project = $this->env->faceProject ??= $this->env->freshProject('pending-face');
        }
        $this->vars = [
            'run' => "{$this->runId}{$this->face[0]}",
            'api_url' => $this->env->platform->apiUrl,
            'project_id' => $this->project['id'],
            'closed_port_url' => $this->env->closedUrl,
            'not_json_url' => $this->env->notJson,
        ];
        if (in_array('worker', $this->c['requires'] ?? [], true)) {
            $this->env->startWorkers();
            if ($this->env->workerError) {
                throw new CaseFailure("the fixture workers did not start: {$this->env->workerError}");
            }
        }
        foreach ($this->c['setup'] ?? [] as $i => $step) {
            $a = resolve_t($step['args'] ?? [], $this->vars);
            try {
                $v = run_op($this->plain(), $step['call'], $a, $this->env);
            } catch (CaseFailure $e) {
                throw $e;
            } catch (Throwable $e) {
                throw new CaseFailure('setup step ' . ($i + 1) . " ({$step['call']}) failed: " . describe($e));
            }
            if (isset($step['save'])) {
                $this->vars[$step['save']] = $v;
            }
        }
        if (isset($this->c['scenario'])) {
            $impl = 'scenario_' . str_replace('.', '_', $this->c['scenario']);
            if (!function_exists($impl)) {
                throw new CaseFailure("the PHP runner has no scenario {$this->c['scenario']}");
            }
            return $impl($this, resolve_t($this->c['params'] ?? [], $this->vars, ['i']), resolve_t($this->c['expect'] ?? [], $this->vars));
        }
        return $this->runCall();
    }

    private function runCall(): string
    {
        $c = $this->c;
        $op = $c['call'];
        $a = resolve_t($c['args'] ?? [], $this->vars);
        $expect = $c['expect'] ?? [];
        if (count(array_intersect(array_keys($expect), ['result', 'error', 'cancelled'])) !== 1) {
            throw new CaseFailure('expect must have exactly one of result, error, cancelled');
        }
        $options = resolve_t($c['options'] ?? [], $this->vars);
        $o = [];
        foreach ($options as $k => $v) {
            match ($k) {
                'timeout_ms' => $o['timeoutMs'] = $v,
                'retry' => $v === false ? $o['retry'] = false : throw new CaseFailure('options.retry: the runner knows only false'),
                'idempotency_key' => $o['idempotencyKey'] = $v,
                default => throw new CaseFailure("call options the runner does not know: $k"),
            };
        }
        $started = hrtime(true);
        try {
            $client = $this->env->client($this->project, resolve_t($c['client'] ?? [], $this->vars));
            if (array_key_exists('cancelled', $expect)) {
                return $this->runCancel($client, $op, $a, $o, (int) ($c['cancel_after_ms'] ?? 0), $expect['cancelled']);
            }
            $result = run_op($this->face($client), $op, $a, $this->env, $o);
        } catch (CaseFailure $e) {
            throw $e;
        } catch (Throwable $e) {
            $elapsed = (hrtime(true) - $started) / 1e6;
            $d = error_dto($e);
            if (!array_key_exists('error', $expect)) {
                throw new CaseFailure('expected a result, the call raised ' . describe($e));
            }
            if ($d === null) {
                throw new CaseFailure('expected an SDK error, got ' . describe($e));
            }
            $p = check_error($d, resolve_t($expect['error'], $this->vars), $elapsed);
            if ($p) {
                throw new CaseFailure(implode('; ', $p));
            }
            return "{$d['code']} ({$d['family']})" . (isset($d['php_type_error']) ? ' [PHP TypeError]' : '');
        }
        if (array_key_exists('error', $expect)) {
            throw new CaseFailure('expected error ' . short($expect['error']) . ', the call answered ' . short($result));
        }
        $p = check_shape($result, resolve_t($expect['result'], $this->vars));
        if ($p) {
            throw new CaseFailure(implode('; ', $p));
        }
        return 'ok';
    }

    /** PHP cancels a pending call (Pending::cancel); a blocking call has no cancel but the host's interrupt. */
    private function runCancel(Client $client, string $op, array $a, array $o, int $afterMs, array $want): string
    {
        if ($this->face === 'blocking') {
            return 'not applicable: a blocking PHP call is cancelled only by the host (a signal), which a harness does not send';
        }
        $pending = ops()[$op]($client->async(), $a, $o);
        if (!$pending instanceof Pending) {
            throw new CaseFailure("$op did not answer a Pending on the async client");
        }
        usleep($afterMs * 1000);
        if ($pending->isDone()) {
            throw new CaseFailure('the call ended before it was cancelled: ' . short(settle($pending, $op)));
        }
        $t0 = hrtime(true);
        $pending->cancel();
        try {
            $v = $pending->wait($want['within_ms'] ?? 1000);
            throw new CaseFailure('the cancelled call answered ' . short($v));
        } catch (Aerostack\Exception\CancelledException $e) {
            $elapsed = (hrtime(true) - $t0) / 1e6;
        } catch (AerostackException $e) {
            throw new CaseFailure('the cancelled call ended with ' . describe($e) . ', not as cancelled');
        }
        if ($elapsed > ($want['within_ms'] ?? 1000)) {
            throw new CaseFailure("the cancelled call ended after $elapsed ms");
        }
        try {
            $client->db->query('SELECT 1 AS one');
        } catch (Throwable $e) {
            throw new CaseFailure('cancelled, but the next call on the same client failed: ' . describe($e));
        }
        return $e->getErrorCode() . ' (cancelled) ' . round($elapsed) . ' ms after cancel()';
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

function budget(Run $run, int $reserveMs = 2000): int
{
    return max(1000, ($run->c['timeout_ms'] ?? DEFAULT_CASE_TIMEOUT_MS) - $reserveMs);
}

function scenario_realtime_round_trip(Run $run, array $params, array $expect): string
{
    $watcher = $run->env->client($run->project);
    $actor = $run->env->client($run->project);
    $events = [];
    $record = static function (array $ev) use (&$events): void {
        $ev = canonical('realtime.event', $ev);
        $ev['state'] = is_obj($ev['data'] ?? null) ? ($ev['data']['state'] ?? null) : null;
        $events[] = $ev;
    };
    try {
        $actor->db->query($params['create_sql']);
        $pub = $params['publish'];
        $ch = $watcher->realtime->channel($params['table'], filter: $params['filter'] ?? null);
        foreach (['INSERT', 'UPDATE', 'presence:join', $pub['event']] as $name) {
            $ch->on($name, $record);
        }
        $ch->subscribe();
        $mine = $actor->realtime->channel($params['table']);
        $mine->subscribe();
        $mine->track($params['presence_state']);
        $ack = $mine->publish($pub['event'], $pub['data'] ?? null, persist: (bool) ($pub['persist'] ?? false));
        $actor->db->query($params['insert']['sql'], $params['insert']['params'] ?? []);
        $actor->db->query($params['update']['sql'], $params['update']['params'] ?? []);
        $wanted = array_intersect_key($expect, array_flip(['insert', 'update', 'presence', 'publish']));
        $missing = static function () use (&$events, $wanted): array {
            $m = [];
            foreach ($wanted as $k => $w) {
                $hit = false;
                foreach ($events as $e) {
                    $hit = $hit || json_subset($w, $e);
                }
                if (!$hit) {
                    $m[] = $k;
                }
            }
            return $m;
        };
        $deadline = hrtime(true) + budget($run, 5000) * 1_000_000;
        while ($missing()) {
            if (hrtime(true) > $deadline) {
                throw new CaseFailure('timed out waiting for ' . implode(', ', $missing()) . '; received: ' . short($events, 600));
            }
            $watcher->realtime->run(100);
        }
        $detail = count($events) . ' events';
        foreach ($expect['absent'] ?? [] as $absent) {
            foreach ($events as $e) {
                if (json_subset($absent, $e)) {
                    throw new CaseFailure('received ' . short($absent) . ', which the filter excludes: ' . short($events, 600));
                }
            }
        }
        if (array_key_exists('history_contains', $expect)) {
            $history = canonical('realtime.history', $ch->history(50));
            $hit = false;
            foreach ($history as $m) {
                $hit = $hit || json_subset($expect['history_contains'], $m);
            }
            if (!$hit) {
                throw new CaseFailure('history has no ' . short($expect['history_contains']) . ': ' . short($history, 400));
            }
            $detail .= ', history ' . count($history);
        }
        if (($pub['persist'] ?? false) && empty($ack['id'])) {
            throw new CaseFailure('publish with persist answered no id: ' . short($ack));
        }
        return $detail;
    } finally {
        $watcher->close();
        $actor->close();
    }
}

function scenario_gateway_socket(Run $run, array $params, array $expect): string
{
    $c = $run->plain();
    $slug = $params['api_slug'];
    $p = [];
    try {
        $c->gateway->connectWebSocket($slug, $params['bad_key'])->close();
        $p[] = 'a refused consumer key connected';
    } catch (Aerostack\Exception\AerostackException $e) {
        foreach (check_error(error_dto($e), $expect['refused'], 0) as $x) {
            $p[] = "refused key: $x";
        }
    }
    $s = $c->gateway->connectWebSocket($slug, $params['consumer_key']);
    $next = static function (string $type) use ($s, $run): array {
        $deadline = hrtime(true) + budget($run) * 1_000_000;
        while (hrtime(true) < $deadline) {
            $ev = $s->nextEvent(1000);
            if ($ev !== null && ($ev['type'] ?? null) === $type) {
                return $ev;
            }
        }
        throw new CaseFailure("no $type event in time");
    };
    $ping = $s->ping();
    if (($next('pong')['request'] ?? null) !== $ping) {
        $p[] = 'the pong does not answer the ping';
    }
    $sent = $s->send($params['frame']);
    $err = $next('error');
    if (($err['request'] ?? null) !== $sent || ($err['family'] ?? null) !== $expect['unknown_frame']['family']) {
        unset($err['error']);
        $p[] = "the unknown frame (request $sent) got " . short($err);
    }
    try {
        $got = $s->chat($params['messages']);
        $p[] = 'the chat answered ' . short($got) . ', expected an error';
    } catch (Aerostack\Exception\AerostackException $e) {
        foreach (check_error(error_dto($e), $expect['chat_error'], 0) as $x) {
            $p[] = "chat: $x";
        }
    }
    $ping = $s->ping();
    if (($next('pong')['request'] ?? null) !== $ping) {
        $p[] = 'the second pong does not answer the second ping';
    }
    $s->close();
    $closed = $next('closed');
    if (($closed['code'] ?? null) !== $expect['close_code']) {
        $p[] = 'closed with ' . short($closed) . ", expected code {$expect['close_code']}";
    }
    if ($p) {
        throw new CaseFailure(implode('; ', $p));
    }
    return 'refused key, ping/pong, error frame, chat error, close';
}

function scenario_queue_run_job(Run $run, array $params, array $expect): string
{
    $c = $run->face($run->plain());
    $sent = settle($c->queue->send($params['type'], $params['data'] ?? [], null, $params['max_retries'] ?? 3), 'queue.send');
    $deadline = hrtime(true) + budget($run) * 1_000_000;
    while (true) {
        $job = settle($c->queue->job($sent['job_id']), 'queue.job') ?? [];
        if (in_array($job['status'] ?? null, ['completed', 'failed', 'cancelled'], true)) {
            break;
        }
        if (hrtime(true) > $deadline) {
            throw new CaseFailure("job {$sent['job_id']} did not finish in time: " . short($job));
        }
        usleep(100_000);
    }
    $p = [];
    foreach (['status', 'attempts'] as $k) {
        if (array_key_exists($k, $expect) && !json_eq($job[$k] ?? null, $expect[$k])) {
            $p[] = "expected $k " . json_encode($expect[$k]) . ', got ' . json_encode($job[$k] ?? null);
        }
    }
    if (array_key_exists('result', $expect) && !json_eq($job['result'] ?? null, $expect['result'])) {
        $p[] = 'expected result ' . short($expect['result']) . ', got ' . short($job['result'] ?? null);
    }
    if (array_key_exists('last_error_contains', $expect) && !str_contains((string) ($job['last_error'] ?? ''), $expect['last_error_contains'])) {
        $p[] = "expected last_error to contain {$expect['last_error_contains']}, got " . json_encode($job['last_error'] ?? null);
    }
    if ($p) {
        throw new CaseFailure(implode('; ', $p) . ' (job: ' . short($job, 300) . ')');
    }
    return "{$job['status']} after {$job['attempts']} attempt(s)";
}

function scenario_storage_round_trip(Run $run, array $params, array $expect): string
{
    $c = $run->face($run->plain());
    $data = body_bytes($params['body']);
    $calls = [];
    $a = ['key' => $params['key'], 'content_type' => $params['content_type'] ?? null, 'body' => $params['body'], 'source' => $params['source'] ?? 'bytes'];
    $up = run_op($c, 'storage.upload', $a, $run->env, [], static function (int $sent, ?int $total) use (&$calls): void {
        $calls[] = [$sent, $total];
    });
    $p = [];
    if (array_key_exists('upload', $expect)) {
        array_push($p, ...check_shape($up, $expect['upload'], 'upload'));
    }
    $want = $expect['progress'] ?? [];
    if (count($calls) < ($want['min_calls'] ?? 1)) {
        $p[] = 'progress called ' . count($calls) . ' time(s), expected at least ' . ($want['min_calls'] ?? 1);
    }
    if ($calls && ($want['reaches_total'] ?? false)) {
        [$sent, $total] = end($calls);
        if ($sent !== strlen($data) || $total !== strlen($data)) {
            $p[] = "the last progress call was ($sent, $total), expected (" . strlen($data) . ', ' . strlen($data) . ')';
        }
    }
    if ($want['monotonic'] ?? false) {
        for ($i = 1; $i < count($calls); $i++) {
            if ($calls[$i][0] < $calls[$i - 1][0]) {
                $p[] = 'progress went backwards: ' . short($calls);
                break;
            }
        }
    }
    $dw = $expect['download'] ?? [];
    $got = $run->plain()->storage->get($params['key']);
    if (($dw['bytes_equal'] ?? false) && $got->data !== $data) {
        $p[] = 'downloaded ' . strlen($got->data) . ' bytes that differ from the ' . strlen($data) . ' uploaded';
    }
    if (array_key_exists('content_type', $dw) && $got->contentType !== $dw['content_type']) {
        $p[] = "download.content_type: expected {$dw['content_type']}, got " . json_encode($got->contentType);
    }
    if ($p) {
        throw new CaseFailure(implode('; ', $p));
    }
    return strlen($data) . ' bytes, ' . count($calls) . ' progress call(s)';
}

function scenario_paginate(Run $run, array $params, array $expect): string
{
    $c = $run->face($run->plain());
    if (isset($params['seed'])) {
        $seed = $params['seed'];
        for ($i = 1; $i <= (int) ($seed['count'] ?? 1); $i++) {
            $a = resolve_t($seed['args'] ?? [], $run->vars + ['i' => $i]);
            try {
                run_op($c, $seed['call'], $a, $run->env);
            } catch (CaseFailure $e) {
                throw $e;
            } catch (Throwable $e) {
                throw new CaseFailure("seeding {$seed['call']} #$i failed: " . describe($e));
            }
        }
    }
    $lst = $params['list'];
    $seen = [];
    $cursors = [];
    $cursor = null;
    $pages = 0;
    while (true) {
        $a = $lst['args'] ?? [];
        if ($cursor !== null) {
            $a['cursor'] = $cursor;
        }
        $page = run_op($c, $lst['call'], $a, $run->env);
        $pages++;
        $items = is_array($page) ? ($page[$params['items']] ?? null) : null;
        if (!is_array($items)) {
            throw new CaseFailure("page $pages has no array {$params['items']}: " . short($page));
        }
        foreach ($items as $it) {
            $seen[] = is_array($it) ? ($it[$params['item_id']] ?? null) : $it;
        }
        $next = $page['cursor'] ?? null;
        if (!$next) {
            break;
        }
        if (in_array($next, $cursors, true)) {
            throw new CaseFailure("page $pages repeated an earlier cursor $next");
        }
        $cursors[] = $next;
        $cursor = $next;
        if ($pages >= 100) {
            throw new CaseFailure('more than 100 pages: the cursor never ended');
        }
    }
    $p = [];
    if (array_key_exists('count', $expect) && count($seen) !== $expect['count']) {
        $p[] = 'saw ' . count($seen) . " item(s) over $pages page(s), expected {$expect['count']}: " . short($seen);
    }
    if (($expect['unique'] ?? false) && count(array_unique(array_map('strval', $seen))) !== count($seen)) {
        $p[] = 'some items were seen more than once: ' . short($seen);
    }
    if (array_key_exists('min_pages', $expect) && $pages < $expect['min_pages']) {
        $p[] = "$pages page(s), expected at least {$expect['min_pages']}";
    }
    if ($p) {
        throw new CaseFailure(implode('; ', $p));
    }
    return count($seen) . " items in $pages pages";
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

function not_json_server(): array
{
    // A tiny loopback server in a child process: 200 with an HTML body for every request.
    $sock = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
    $port = (int) substr(strrchr(stream_socket_get_name($sock, false), ':'), 1);
    $pid = pcntl_fork();
    if ($pid === 0) {
        while (true) {
            $conn = @stream_socket_accept($sock, 3600);
            if ($conn === false) {
                continue;
            }
            $head = '';
            while (!str_contains($head, "\r\n\r\n") && ($chunk = fread($conn, 8192)) !== false && $chunk !== '') {
                $head .= $chunk;
            }
            if (preg_match('/content-length:\s*(\d+)/i', $head, $m)) {
                $have = strlen(substr($head, strpos($head, "\r\n\r\n") + 4));
                while ($have < (int) $m[1] && ($chunk = fread($conn, 8192)) !== false && $chunk !== '') {
                    $have += strlen($chunk);
                }
            }
            $body = '<html>not json</html>';
            fwrite($conn, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " . strlen($body) . "\r\nConnection: close\r\n\r\n$body");
            fclose($conn);
        }
    }
    fclose($sock);
    return ["http://127.0.0.1:$port/v1", $pid];
}

function closed_port_url(): string
{
    $s = stream_socket_server('tcp://127.0.0.1:0');
    $name = stream_socket_get_name($s, false);
    fclose($s);
    return 'http://' . $name . '/v1';
}

function matches_pat(string $id, string $pat): bool
{
    return str_contains($id, $pat) || fnmatch($pat, $id);
}

$opts = ['cases' => "$SUITE/cases", 'faces' => ['blocking', 'pending']];
for ($i = 1; $i < count($argv); $i++) {
    match ($argv[$i]) {
        '--out' => $opts['out'] = $argv[++$i],
        '--only' => $opts['only'] = $argv[++$i],
        '--cases' => $opts['cases'] = $argv[++$i],
        '--face' => $opts['faces'] = [$argv[++$i]],
        default => (function () use ($argv, $i) {
            fwrite(STDERR, "unknown argument {$argv[$i]}; usage: run.php --out FILE [--only PATTERNS] [--face blocking|pending]\n");
            exit(2);
        })(),
    };
}
if (!isset($opts['out'])) {
    fwrite(STDERR, "--out FILE is required\n");
    exit(2);
}

$cases = load_cases($opts['cases']);
if (isset($opts['only'])) {
    $cases = array_values(array_filter($cases, static fn ($c) => (bool) array_filter(explode(',', $opts['only']), static fn ($p) => matches_pat($c['id'], $p))));
}
$spec = json_decode((string) file_get_contents(dirname($opts['cases']) . '/platform.json'), true);
// The not-json server forks: before the platform's threads exist.
[$notJson, $notJsonPid] = not_json_server();
$results = [];
try {
    // platform.json gives rate-limit windows in seconds; the platform takes milliseconds.
    $platformOptions = $spec['platform'] ?? [];
    foreach ($platformOptions['rate_limits'] ?? [] as $name => [$count, $windowSeconds]) {
        $platformOptions['rate_limits'][$name] = [$count, $windowSeconds * 1000];
    }
    $platform = Aerostack\Local\Platform::start($platformOptions);
} catch (Throwable $e) {
    foreach ($cases as $c) {
        $results[$c['id']] = ['status' => 'fail', 'detail' => 'the local platform did not start: ' . describe($e)];
    }
}
if (isset($platform)) {
    $tmp = sys_get_temp_dir() . '/conformance-php-' . bin2hex(random_bytes(4));
    mkdir($tmp);
    $env = new Env($platform, $tmp, $notJson, closed_port_url());
    $runId = bin2hex(random_bytes(4));
    try {
        foreach ($cases as $c) {
            $details = [];
            $ok = true;
            $t0 = hrtime(true);
            foreach ($opts['faces'] as $face) {
                $limit = $c['timeout_ms'] ?? DEFAULT_CASE_TIMEOUT_MS;
                $f0 = hrtime(true);
                try {
                    $d = (new Run($c, $env, $runId, $face))->run();
                    $took = (hrtime(true) - $f0) / 1e6;
                    if ($took > $limit) {
                        throw new CaseFailure('the case did not finish within ' . ($limit / 1000) . ' s (took ' . round($took) . ' ms)');
                    }
                    $details[] = "$face: $d";
                } catch (Throwable $e) {
                    $ok = false;
                    $details[] = "$face FAILED: " . ($e instanceof CaseFailure ? $e->getMessage() : describe($e));
                }
            }
            $detail = implode(' | ', $details);
            $results[$c['id']] = ['status' => $ok ? 'pass' : 'fail', 'detail' => $detail];
            printf("%s %s (%d ms)%s\n", $ok ? 'PASS' : 'FAIL', $c['id'], (hrtime(true) - $t0) / 1e6, $ok ? '' : ": $detail");
        }
    } finally {
        $env->stopWorkers();
        $platform->shutdown();
        array_map('unlink', glob("$tmp/*") ?: []);
        @rmdir($tmp);
    }
}
posix_kill($notJsonPid, SIGKILL);
pcntl_waitpid($notJsonPid, $status);

@mkdir(dirname($opts['out']), 0777, true);
file_put_contents($opts['out'], json_encode(['language' => 'php', 'results' => $results], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n");
$passed = count(array_filter($results, static fn ($r) => $r['status'] === 'pass'));
$failed = count($results) - $passed;
echo "$passed passed, $failed failed\n";
exit($failed || !$results ? 1 : 0);
