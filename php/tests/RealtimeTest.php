<?php

declare(strict_types=1);

namespace Aerostack\Tests;

/** Realtime round trips between two clients of one project. */
final class RealtimeTest extends TestCase
{
    public function testTableChangesPublishPresenceHistoryAndEmit(): void
    {
        $watcher = $this->client(fresh: false);
        $actor = $this->client();
        $table = 'rt_orders_' . self::uid();
        $actor->db->query("CREATE TABLE $table (id TEXT PRIMARY KEY, total REAL)");
        $ch = $watcher->realtime->channel($table);
        $this->assertSame($ch, $watcher->realtime->channel($table));
        $got = [];
        $ch->on('INSERT', function (array $e) use (&$got): void {
            $got['insert'] = $e;
        });
        $ch->on('UPDATE', function (array $e) use (&$got): void {
            $got['update'] = $e;
        });
        $ch->on('presence:join', function (array $e) use (&$got): void {
            $got['join'] = $e;
        });
        $ch->on('shipped', function (array $e) use (&$got): void {
            $got['shipped'] = $e;
        });
        $ch->subscribe();
        $this->assertTrue($ch->isSubscribed());
        $this->assertSame('connected', $watcher->realtime->status());
        $this->assertStringStartsWith("table/$table/", $ch->topic());

        $mine = $actor->realtime->channel($table)->subscribe();
        $mine->track(['name' => 'php', 'status' => 'online']);
        $ack = $mine->publish('shipped', ['id' => 'o-1'], persist: true);
        $this->assertNotEmpty($ack['id']);
        $actor->db->query("INSERT INTO $table VALUES ('o-1', 9.5)");
        $actor->db->query("UPDATE $table SET total = 12.0 WHERE id = 'o-1'");

        $deadline = microtime(true) + 10;
        while (count($got) < 4 && microtime(true) < $deadline) {
            $watcher->realtime->run(100);
        }
        $this->assertSame(['id' => 'o-1', 'total' => 9.5], $got['insert']['data'] ?? null, json_encode($got));
        $this->assertSame(9.5, $got['update']['old']['total'] ?? null);
        $this->assertSame('php', $got['join']['data']['state']['name'] ?? null);
        $this->assertSame(['id' => 'o-1'], $got['shipped']['data'] ?? null);
        $this->assertSame('shipped', $ch->history(10)[0]['event']);
        $this->assertNotEmpty($ch->presence());
        $this->assertSame(['name' => 'php', 'status' => 'online'], $mine->presence()[0]['state'] ?? null);

        // events(): a generator over the same queue; emit from the server side reaches it.
        $room = 'chat/lobby-' . self::uid();
        $lobby = $watcher->realtime->channel($room)->subscribe();
        $events = $lobby->events('hello', timeoutMs: 5000); // collects from now on
        $actor->socket->emit('hello', ['n' => 1], $room);
        $seen = null;
        foreach ($events as $e) {
            $seen = $e;
            break;
        }
        $this->assertSame(['n' => 1], $seen['data'] ?? null);

        $mine->untrack();
        $ch->off();
        $ch->unsubscribe();
        $watcher->close();
        $actor->close();
    }

    public function testConfigureTakesNamedOptionsAndNamesAWrongOne(): void
    {
        $c = $this->client();
        $this->assertSame($c->realtime, $c->realtime->configure(ackTimeoutMs: 3000, outboxCapacity: 10));
        $this->assertSame('idle', $c->realtime->status());
        $this->assertStringStartsWith('chat/x/', $c->realtime->channel('chat/x')->topic());
        $other = $this->client();
        try {
            $other->realtime->configure(heartbeatInterval: 5)->channel('chat/y');
            $this->fail('an unknown option is refused');
        } catch (\Aerostack\Exception\ValidationException $e) {
            $this->assertSame('heartbeat_interval', $e->getField());
            // the message names what a PHP caller writes (named arguments in camelCase)
            $this->assertStringContainsString('unknown field `heartbeatInterval`', $e->getMessage());
            $this->assertStringContainsString('`heartbeatIntervalMs`', $e->getMessage());
        }
    }

    public function testChatStatusAndGivingUpByTheOfficialNames(): void
    {
        $c = $this->client(fresh: true);
        $room = 'lobby-' . self::uid();
        $statuses = [];
        $c->realtime->onStatusChange(function (string $s) use (&$statuses): void {
            $statuses[] = $s;
        });
        $ch = $c->realtime->chatRoom($room);
        $got = [];
        $ch->on('message', function (array $e) use (&$got): void {
            $got[] = $e;
        });
        $ch->subscribe(timeoutMs: 5000);
        $c->realtime->sendChat($room, 'hello', ['lang' => 'en']);
        $deadline = microtime(true) + 10;
        while ($got === [] && microtime(true) < $deadline) {
            $c->realtime->run(timeoutMs: 100);
        }
        $this->assertCount(1, $got);
        $this->assertStringStartsWith("chat/$room", $got[0]['topic']);
        $this->assertStringContainsString('hello', json_encode($got[0]['data']));
        $this->assertContains('connected', $statuses);
        try {
            $c->realtime->sendChat(' ', 'x');
            $this->fail('a blank room is refused');
        } catch (\Aerostack\Exception\ValidationException $e) {
            $this->assertStringContainsString('room', $e->getField() ?? '');
        }
        $c->close();

        // Nothing listens on this port: one failed reconnect, then the connection gives up.
        $lost = new \Aerostack\Client(apiKey: 'ac_secret_x', projectId: 'p', baseUrl: 'http://127.0.0.1:9/v1', ignoreEnv: true);
        $gaveUp = 0;
        $lost->realtime->configure(maxReconnectAttempts: 1)->onMaxRetriesExceeded(function () use (&$gaveUp): void {
            $gaveUp++;
        });
        $lost->realtime->channel('x-' . self::uid() . '/y');
        $deadline = microtime(true) + 15;
        while ($gaveUp === 0 && microtime(true) < $deadline) {
            $lost->realtime->run(timeoutMs: 200);
        }
        $this->assertSame(1, $gaveUp);
        $lost->close();
    }

    public function testAChannelFilterPicksTheRowsAndANewOneReplacesIt(): void
    {
        $c = $this->client(fresh: true);
        $table = 'rt_tasks_' . self::uid();
        $c->db->query("CREATE TABLE $table (id INTEGER PRIMARY KEY, title TEXT, done INTEGER)");
        $ch = $c->realtime->channel($table, filter: ['done' => 1]);
        $seen = [];
        $ch->on('INSERT', function (array $e) use (&$seen): void {
            $seen[] = $e['data']['title'];
        });
        $ch->subscribe();
        $pump = function (int $n) use ($c, &$seen): void {
            $deadline = microtime(true) + 10;
            while (count($seen) < $n && microtime(true) < $deadline) {
                $c->realtime->run(100);
            }
        };
        $c->db->query("INSERT INTO $table (title, done) VALUES ('open', 0), ('finished', 1)");
        $pump(1);
        // the string form replaces the filter on the same channel object
        $this->assertSame($ch, $c->realtime->channel($table, filter: 'title=eq.second'));
        $ch->subscribe();
        $c->db->query("INSERT INTO $table (title, done) VALUES ('other', 1), ('second', 0)");
        $pump(2);
        $this->assertSame(['finished', 'second'], $seen);
        try {
            $c->realtime->channel($table, filter: ['nope' => 1])->subscribe(timeoutMs: 5000);
            $this->fail('an unknown column was accepted');
        } catch (\Aerostack\Exception\ValidationException $e) {
            $this->assertStringContainsString('nope', $e->getMessage());
        }
    }

    public function testANonexistentTableIsRefusedByName(): void
    {
        $c = $this->client(fresh: true);
        $ch = $c->realtime->channel('no_such_table_' . self::uid());
        $this->expectException(\Aerostack\Exception\AerostackException::class);
        $ch->subscribe(timeoutMs: 5000);
    }
}
