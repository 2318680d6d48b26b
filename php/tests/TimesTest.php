<?php

declare(strict_types=1);

namespace Aerostack\Tests;

use Aerostack\Worker;

/**
 * One time type: every time the SDK reports is a UTC DateTimeImmutable, at the paths the binding
 * surface lists (bindings/common/src/times.rs); user data is never converted.
 */
final class TimesTest extends TestCase
{
    private static function isUtc(mixed $v): bool
    {
        return $v instanceof \DateTimeImmutable && $v->getOffset() === 0 && $v->getTimezone()->getName() === 'UTC';
    }

    private static function recent(mixed $v): bool
    {
        return self::isUtc($v) && abs(time() - $v->getTimestamp()) < 7200;
    }

    public function testATimeSentBackIsTheEnginesText(): void
    {
        $c = $this->client();
        $key = 'times-back-' . self::uid();
        $job = $c->queue->send('timed-back', [], delaySeconds: 3600);
        $at = $c->queue->job($job['jobId'])['createdAt'];
        $this->assertTrue(self::isUtc($at));
        $c->cache->set($key, ['at' => $at, 'paris' => new \DateTime('2026-01-02 03:04:05.678', new \DateTimeZone('Europe/Paris'))]);
        $back = $c->cache->get($key);
        $this->assertSame($at->format('Y-m-d\\TH:i:s.v\\Z'), $back['at']);
        $this->assertSame('2026-01-02T02:04:05.678Z', $back['paris']);
    }

    public function testServiceResultsCarryDateTimes(): void
    {
        $c = $this->client();
        $uid = self::uid();
        $email = "times-$uid@example.com";
        $session = $c->auth->register($email, 'Sup3rSecret', 'T');
        if (($session['accessToken'] ?? null) === null) {
            $session = $c->auth->login($email, 'Sup3rSecret');
        }
        $this->assertTrue(self::recent($session['user']['createdAt']), print_r($session, true));
        $this->assertTrue(self::isUtc($session['expiresAt']));
        $this->assertGreaterThan(new \DateTimeImmutable(), $session['expiresAt']);
        $this->assertTrue(self::recent($c->auth->me($session['accessToken'])['createdAt']));

        $job = $c->queue->send("timed-$uid", ['at' => '2026-01-02T03:04:05.678Z'], delaySeconds: 3600);
        $rec = $c->queue->job($job['jobId']);
        $this->assertTrue(self::recent($rec['createdAt']) && self::recent($rec['updatedAt']) && self::isUtc($rec['runAt']));
        $this->assertGreaterThan(59 * 60, $rec['runAt']->getTimestamp() - $rec['createdAt']->getTimestamp());
        $this->assertSame(['at' => '2026-01-02T03:04:05.678Z'], $rec['data']); // the payload is the user's
        $this->assertTrue(self::recent($c->queue->jobs(type: "timed-$uid")['jobs'][0]['createdAt']));
        // The pending face converts the same paths.
        $this->assertTrue(self::recent($c->async()->queue->job($job['jobId'])->wait(5000)['createdAt']));

        $c->cache->set("t:$uid", ['created_at' => '2026-01-02T03:04:05.678Z'], ttl: 600);
        $listed = $c->cache->list("t:$uid");
        $this->assertTrue(self::isUtc($listed['keys'][0]['expiration']));
        $this->assertGreaterThan(new \DateTimeImmutable(), $listed['keys'][0]['expiration']);
        $this->assertSame(['created_at' => '2026-01-02T03:04:05.678Z'], $c->cache->get("t:$uid"));

        $c->storage->upload('x', "times/$uid.txt");
        $this->assertTrue(self::recent($c->storage->list("times/$uid")['objects'][0]['lastModified']));
        $this->assertTrue(self::recent($c->storage->metadata("times/$uid.txt")['lastModified']));
        $all = iterator_to_array($c->storage->listAll("times/$uid"), false);
        $this->assertTrue(self::recent($all[0]['lastModified'])); // a stream's items too

        $rows = $c->db->query("SELECT '2026-01-02T03:04:05.678Z' AS created_at");
        $this->assertSame('2026-01-02T03:04:05.678Z', $rows[0]['created_at']); // a row is the user's

        $outbox = $c->local->outbox($email);
        $this->assertNotEmpty($outbox);
        foreach ($outbox as $m) {
            $this->assertTrue(self::recent($m['createdAt']));
        }
    }

    public function testTheTextIsReadToTheMillisecond(): void
    {
        $t = \Aerostack\Times::parse('2026-01-02T03:04:05.678Z');
        $this->assertSame('2026-01-02T03:04:05.678+00:00', $t->format('Y-m-d\TH:i:s.vP'));
        $this->assertSame(1767323045678, \Aerostack\Times::unixMs($t));
        $this->assertSame('2026-01-02T02:04:05.000+00:00', \Aerostack\Times::parse('2026-01-02T03:04:05+01:00')->format('Y-m-d\TH:i:s.vP'));
        $this->assertSame(-1500, \Aerostack\Times::unixMs(new \DateTimeImmutable('@-1.5')));
    }

    public function testRealtimeTimesAndHistoryPaging(): void
    {
        $a = $this->client();
        $b = $this->client();
        $name = 'times/' . self::uid();
        $got = [];
        $sub = $b->realtime->channel($name);
        $sub->on('*', function (array $e) use (&$got): void {
            $got[] = $e;
        });
        $sub->subscribe();
        $pub = $a->realtime->channel($name)->subscribe();
        $pub->track(['name' => 'Ada']);
        $acks = [];
        for ($i = 0; $i < 3; $i++) { // a ms apart: `before` pages by the millisecond, as the wire does
            $acks[] = $pub->publish('note', ['n' => $i, 'created_at' => 'user text'], persist: true);
            usleep(5000);
        }
        foreach ($acks as $ack) {
            $this->assertTrue(self::recent($ack['timestamp']));
        }
        $notes = static function () use (&$got): array {
            return array_values(array_filter($got, static fn ($e) => $e['event'] === 'note'));
        };
        $deadline = microtime(true) + 10;
        while ((count($notes()) < 3 || !array_filter($got, static fn ($e) => $e['event'] === 'presence:join')) && microtime(true) < $deadline) {
            $b->realtime->run(50);
        }
        $this->assertSame([0, 1, 2], array_map(static fn ($e) => $e['data']['n'], $notes()), print_r($got, true));
        foreach ($notes() as $e) {
            $this->assertTrue(self::recent($e['timestamp']));
        }
        $this->assertSame('user text', $notes()[0]['data']['created_at']); // the message's data is the user's
        $joins = array_values(array_filter($got, static fn ($e) => $e['event'] === 'presence:join'));
        $this->assertNotEmpty($joins);
        $this->assertTrue(self::recent($joins[0]['data']['joinedAt']), print_r($joins[0], true));
        foreach ($sub->presence() as $p) {
            $this->assertTrue(self::recent($p['joinedAt']));
        }
        $this->assertSame(['name' => 'Ada'], $sub->presence()[0]['state']); // tracked state is the user's

        $history = $sub->history(10);
        $this->assertSame([2, 1, 0], array_map(static fn ($m) => $m['data']['n'], $history));
        foreach ($history as $m) {
            $this->assertTrue(self::recent($m['createdAt']));
        }
        $older = $sub->history(10, before: $history[0]['createdAt']); // a DateTimeImmutable pages back
        $this->assertSame([1, 0], array_map(static fn ($m) => $m['data']['n'], $older));
        $this->assertSame([0], array_map(static fn ($m) => $m['data']['n'], $sub->history(10, before: \Aerostack\Times::unixMs($history[1]['createdAt']))));
        try {
            $sub->history(before: 'yesterday');
            $this->fail('a string `before` was accepted');
        } catch (\TypeError $e) {
            $this->assertStringContainsString('$before', $e->getMessage());
        }
        $this->assertTrue(self::recent($a->socket->emit('note', ['n' => 9], $name)['timestamp']));
        $a->close();
        $b->close();
    }

    public function testAHandlersEventCarriesDateTimes(): void
    {
        $p = self::platform();
        $project = $p->createProject('php-times-' . self::uid());
        $w = new Worker(projectId: $project['id'], apiKey: $project['apiKey'], baseUrl: $p->apiUrl);
        $w->module('when', static fn (\Aerostack\Sdk $sdk, array $event): array => [
            'timestamp' => $event['timestamp'] instanceof \DateTimeImmutable ? $event['timestamp']->format(DATE_RFC3339_EXTENDED) : gettype($event['timestamp']),
            'data' => $event['data'],
        ]);
        $w->start();
        $pending = $p->client($project)->async()->call('when', ['created_at' => 'user text']);
        $this->assertTrue($w->serveOne(5000));
        $out = $pending->wait(5000);
        $this->assertLessThan(7200, abs(time() - (new \DateTimeImmutable($out['timestamp']))->getTimestamp()), print_r($out, true));
        $this->assertSame(['created_at' => 'user text'], $out['data']);
        $w->close();
    }
}
