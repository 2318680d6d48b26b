<?php

// PHP quickstart: touches every service of a running Aerostack platform, one line per step.
//
//     make php     # builds the extension: target/debug/libaerostack_php.so
//     AEROSTACK_API_KEY=ac_secret_... php -d extension=target/debug/libaerostack_php.so php/examples/quickstart.php
//
// Reads AEROSTACK_API_URL (default http://127.0.0.1:8787/v1), AEROSTACK_API_KEY and
// AEROSTACK_PROJECT_ID. With --local (or no API key set) it starts an ephemeral local platform
// in-process instead. In a Composer project, require vendor/autoload.php instead of src/autoload.php.

declare(strict_types=1);

require __DIR__ . '/../src/autoload.php';

use Aerostack\Client;
use Aerostack\Exception\ServerException;
use Aerostack\Local\Platform;
use Aerostack\Worker;

use function Aerostack\all;

function step(string $name, mixed $detail): void
{
    printf("%-22s %s\n", $name, is_string($detail) ? $detail : json_encode($detail, JSON_UNESCAPED_SLASHES));
}

$platform = null;
if (in_array('--local', $argv, true) || !getenv('AEROSTACK_API_KEY')) {
    $platform = Platform::start();
    $client = $platform->client();
    step('local platform', $platform->apiUrl);
} else {
    $client = new Client(); // AEROSTACK_PROJECT_ID, AEROSTACK_API_KEY, AEROSTACK_API_URL
}
$uid = (string) (int) (microtime(true) * 1000);

// Auth
$email = "jane-$uid@example.com";
$session = $client->auth->register($email, 'securePassword123', name: 'Jane Doe');
step('auth->register', "user {$session['user']['id']}");
$login = $client->auth->login($email, 'securePassword123');
$user = $client->auth->verifyToken($login['accessToken']) ?? throw new RuntimeException('the fresh access token was refused');
step('auth->verifyToken', $user['email']);
$client->auth->sendOtp(email: $email);
step('auth->sendOtp', 'code sent (see $client->local->outbox())');

// Database
$client->db->query('CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, title TEXT, status TEXT)');
$client->db->batch([
    ['INSERT INTO tasks VALUES (?, ?, ?)', ["t1-$uid", 'Write docs', 'todo']],
    ['INSERT INTO tasks VALUES (?, ?, ?)', ["t2-$uid", 'Ship it', 'todo']],
]);
$rows = $client->db->query('SELECT * FROM tasks WHERE id LIKE ? ORDER BY id', ["%-$uid"]);
step('db->query', count($rows) . " rows, first: {$rows[0]['title']}");
step('db->queryOne', $client->db->queryOne('SELECT count(*) AS n FROM tasks'));

// Cache
$client->cache->set("user:$uid", ['name' => 'Jane'], ttl: 300);
step('cache->get', json_encode($client->cache->get("user:$uid")) . ' (visits ' . $client->cache->increment("visits:$uid") . ')');

// Storage (a string, a stream resource or a \SplFileInfo path), with progress
$up = $client->storage->upload("\x89PNG not really", "avatars/$uid.png", 'image/png', progress: function (int $sent, ?int $total): void {
});
step('storage->upload', "{$up['url']} (" . strlen($client->storage->get($up['key'])->data) . ' bytes)');

// Many calls in flight from one PHP process
$async = $client->async();
['rows' => $n, 'hit' => $hit] = all(['rows' => $async->db->queryOne('SELECT count(*) AS n FROM tasks'), 'hit' => $async->cache->has("user:$uid")]);
step('async + all', "{$n['n']} tasks, cached: " . json_encode($hit));

// AI: embeddings and search are built in; chat needs a model upstream
$once = $client->withOptions(retry: false);
$vector = $client->ai->embed('text to embed');
$client->ai->search->ingest('How do I reset my password?', 'faq', id: "faq-$uid");
$hits = $client->ai->search->query('forgot password', topK: 1, types: ['faq']);
step('ai embed / search', count($vector['embedding']) . ' dims; best hit: ' . ($hits[0]['content'] ?? 'none'));
try {
    step('ai->complete', $once->ai->complete('Say hello in 3 words.', maxTokens: 16)['text']);
} catch (ServerException $e) {
    step('ai->complete', "skipped: {$e->getErrorCode()} (set AEROSTACK_AI_BASE_URL on the platform)");
}

// Secrets
$client->secrets->set('SENDGRID_KEY', 'sg-demo');
step('secrets->get', $client->secrets->get('SENDGRID_KEY'));

// A Logic Module and a queue job served by this process (Aerostack\Worker), then called
$worker = $platform !== null
    ? new Worker(projectId: $platform->projectId, apiKey: $platform->apiKey, baseUrl: $platform->apiUrl)
    : new Worker();
$worker->module("hello-$uid", fn (Aerostack\Sdk $sdk, array $event) => ['hello' => $event['data']['name'] ?? 'world']);
$worker->job("double-$uid", fn (Aerostack\Sdk $sdk, array $job) => ['doubled' => $job['data']['n'] * 2]);
$worker->start();
$client->local->waitServed("hello-$uid");
$call = $async->call("hello-$uid", ['name' => 'PHP']);
$worker->serveOne(5000);
step('call (custom API)', $call->wait(5000));
$job = $client->queue->send("double-$uid", ['n' => 21]);
$worker->serveOne(5000);
step('queue->wait', $client->queue->wait($job['jobId'], timeoutMs: 5000)['result']);
$worker->close();
try {
    $once->services->invoke("no-such-service-$uid", ['x' => 1]);
} catch (Aerostack\Exception\AerostackException $e) {
    step('services->invoke', "{$e->getErrorCode()} (no worker serves it)");
}

// Realtime
$client->db->query('CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, total REAL)');
$orders = $client->realtime->channel('orders');
$seen = [];
$orders->on('INSERT', function (array $e) use (&$seen): void {
    $seen[] = $e['data']['id'];
});
$orders->subscribe();
$client->db->query('INSERT INTO orders VALUES (?, ?)', ["o-$uid", 9.5]);
$client->realtime->run(timeoutMs: 500);
step('realtime INSERT', $seen);
step('socket->emit', $client->socket->emit('deploy', ['version' => '1.0'], 'chat/ops')['topic']);
$client->close();

$platform?->shutdown();
echo "quickstart: done\n";
