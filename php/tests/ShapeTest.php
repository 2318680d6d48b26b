<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Shape;
use Aerostack\Worker;

/**
 * One key casing: every key the SDK owns is camelCase; the user's own data (rows, payloads,
 * cached values, custom fields, message data, a handler's body) keeps its keys as stored. The
 * paths come from the binding surface (bindings/common/src/user_data.rs).
 */
final class ShapeTest extends TestCase
{
    /** Fails on a key with `_` outside the paths `$user` lists (as Shape::steps) in `$v`. */
    private function assertCamelOutside(mixed $v, array $userPaths, string $at = ''): void
    {
        if (in_array($at, $userPaths, true) || !is_array($v)) {
            return;
        }
        foreach ($v as $k => $x) {
            $here = array_is_list($v) ? ($at === '' ? '[]' : $at . "[]") : ($at === '' ? (string) $k : "$at.$k");
            if (!array_is_list($v)) {
                $this->assertStringNotContainsString('_', (string) $k, "SDK-owned key `$k` at `$here` is not camelCase");
            }
            $this->assertCamelOutside($x, $userPaths, $here);
        }
    }

    public function testCamelCaseOutsideTheUsersData(): void
    {
        $c = $this->client();
        $uid = self::uid();
        $session = $c->auth->register("shape-$uid@example.com", 'Sup3rSecret', 'S', customFields: ['Weird-Key' => 1, 'plan_tier' => 'pro']);
        $this->assertCamelOutside($session, ['user.customFields', 'user.metadata']);
        $this->assertArrayHasKey('refreshToken', $session);
        $this->assertSame(['Weird-Key' => 1, 'plan_tier' => 'pro'], $session['user']['customFields'] ?? null, print_r($session, true));

        $c->db->query('CREATE TABLE IF NOT EXISTS shape_rows (user_id INTEGER, "Mixed Case" TEXT)');
        $c->db->query('INSERT INTO shape_rows VALUES (?, ?)', [7, 'x']);
        $rows = $c->db->query('SELECT user_id, "Mixed Case" FROM shape_rows WHERE user_id = 7');
        $this->assertSame(['user_id' => 7, 'Mixed Case' => 'x'], $rows[0]);
        $this->assertCamelOutside($rows->toArray(), ['results']);

        $sent = $c->queue->send("shape-$uid", ['user_id' => 1, 'nested' => ['snake_key' => true]], delaySeconds: 3600, maxRetries: 2);
        $job = $c->queue->job($sent['jobId']);
        $this->assertSame(['user_id' => 1, 'nested' => ['snake_key' => true]], $job['data']);
        $this->assertSame(2, $job['maxRetries']);
        $this->assertCamelOutside($job, ['data', 'result']);
        foreach ($c->queue->jobsAll(type: "shape-$uid") as $item) {
            $this->assertCamelOutside($item, ['data', 'result']); // a stream's items too
        }

        $c->cache->set("shape:$uid", ['snake_key' => 1]);
        $this->assertSame(['snake_key' => 1], $c->cache->get("shape:$uid"));
        $this->assertSame(["shape:$uid" => ['snake_key' => 1]], $c->cache->getMany(["shape:$uid"])); // keys are the user's
        $this->assertCamelOutside($c->cache->list("shape:$uid"), []);

        // The pending face shapes the same way.
        $this->assertArrayHasKey('maxRetries', $c->async()->queue->job($sent['jobId'])->wait(5000));
    }

    public function testCollections(): void
    {
        $c = $this->client();
        $posts = $c->db->collection('posts-' . self::uid());
        $first = $posts->create(['title' => 'Hello', 'slug' => 'hello', 'user_id' => 'u1']);
        $this->assertStringStartsWith('item_', $first['id']);
        $this->assertSame(['title' => 'Hello', 'slug' => 'hello', 'user_id' => 'u1'], $first['data']);
        $this->assertInstanceOf(\DateTimeImmutable::class, $first['createdAt']);
        $this->assertCamelOutside($first, ['data']);
        $this->assertEquals($first, $posts->get($first['id']));
        for ($i = 0; $i < 4; $i++) {
            $posts->create(['title' => "p$i", 'draft' => $i % 2 === 0]);
        }
        $page = $posts->list(limit: 2);
        $this->assertSame(['Hello', 'p0'], array_map(static fn ($it) => $it['data']['title'], $page['items']));
        $this->assertNotNull($page['cursor']);
        $drafts = $posts->list(['draft' => true], order: 'desc');
        $this->assertSame(['p2', 'p0'], array_map(static fn ($it) => $it['data']['title'], $drafts['items']));
        $all = array_map(static fn ($it) => $it['data']['title'], iterator_to_array($posts->listAll(pageSize: 2), false));
        $this->assertSame(['Hello', 'p0', 'p1', 'p2', 'p3'], $all);
        $this->assertSame(['title' => 'again'], $posts->update($first['id'], ['title' => 'again'])['data']);
        $this->assertTrue($posts->delete($first['id']));
        $this->assertFalse($posts->delete($first['id']));
        $this->assertNull($posts->get($first['id']));
        $this->assertTrue($c->async()->db->collection($posts->name)->create(['n' => 1])->wait(5000)['id'] !== '');
        try {
            $posts->update($first['id'], []);
            $this->fail('updating a deleted item succeeded');
        } catch (\Aerostack\Exception\NotFoundException $e) {
            $this->assertSame('NOT_FOUND', $e->getErrorCode());
        }
        try {
            $c->db->collection('bad name')->create([]);
            $this->fail('a bad collection name was accepted');
        } catch (\Aerostack\Exception\ValidationException $e) {
            $this->assertSame('collection', $e->getField());
        }
    }

    public function testRealtimeAndHandlerEvents(): void
    {
        $p = self::platform();
        $project = $p->createProject('php-shape-' . self::uid());
        $this->assertArrayHasKey('apiKey', $project);
        $w = new Worker(projectId: $project['id'], apiKey: $project['apiKey'], baseUrl: $p->apiUrl);
        $w->module('echo-shape', static fn (\Aerostack\Sdk $sdk, array $event): array => [
            'keys' => array_keys($event),
            'data' => $event['data'],
        ]);
        $w->start();
        $pending = $p->client($project)->async()->call('echo-shape', ['user_id' => 'u1']);
        $this->assertTrue($w->serveOne(5000));
        $out = $pending->wait(5000);
        $this->assertContains('projectId', $out['keys'], print_r($out, true));
        foreach ($out['keys'] as $k) {
            $this->assertStringNotContainsString('_', $k);
        }
        $this->assertSame(['user_id' => 'u1'], $out['data']); // the caller's body is the user's
        $w->close();

        $c = $this->client();
        $name = 'shape/' . self::uid();
        $ch = $c->realtime->channel($name)->subscribe();
        $ch->track(['display_name' => 'Ada']);
        $ack = $ch->publish('note', ['user_id' => 'u1'], persist: true);
        $this->assertCamelOutside($ack, []);
        $history = $ch->history(5);
        $this->assertSame(['user_id' => 'u1'], $history[0]['data']);
        $this->assertCamelOutside($history, ['[].data']);
        $presence = $ch->presence();
        $this->assertSame(['display_name' => 'Ada'], $presence[0]['state'] ?? null, print_r($presence, true));
        $this->assertCamelOutside($presence, ['[].state']);
        $c->close();
    }

    public function testTheTablesComeFromTheEngine(): void
    {
        $t = Shape::tables();
        $this->assertSame(['results'], $t['user_data']['db.query']);
        // In the case results are handed out in: camelCase.
        $this->assertContains('createdAt', $t['times']['queue.job']);
        $this->assertContains('history[].startedAt', $t['times']['queue.job']);
        $this->assertContains('user.customFields', $t['user_data']['auth.login']);
        $this->assertSame(['history', '[]', 'startedAt'], Shape::steps('history[].startedAt'));
    }
}
