"""Realtime (seed 001) against the in-process local platform: row changes, publish/subscribe,
presence, history, server emit, the blocking twin, iteration, and reconnecting across a platform
restart. Waits poll with deadlines; nothing sleeps for a fixed time."""

from __future__ import annotations

import asyncio
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable, List

import pytest

from aerostack import AerostackClient, SyncAerostackClient
from aerostack._records import Record
from aerostack.local import LocalPlatform

WAIT = 10.0


async def until(pred: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def until_sync(pred: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def clients(platform: LocalPlatform) -> tuple[AerostackClient, AerostackClient]:
    return platform.client(), platform.client()


async def test_seed_001_realtime_snippet(platform: LocalPlatform, uid: str) -> None:
    client, other = clients(platform)
    orders = f"orders_{uid}"
    order_id = f"o-{uid}"
    await client.db.query(f"CREATE TABLE {orders} (id TEXT PRIMARY KEY, total REAL)")
    # someone listening to the room the seed's socket.emit targets, and to the channel's messages
    room = other.realtime.channel(f"orders/{order_id}")
    emitted: List[Record] = []
    room.on("order:updated", emitted.append)
    peer = other.realtime.channel(orders)
    notes: List[Record] = []
    joins: List[Record] = []
    peer.on("notification", notes.append)
    peer.on("presence:join", joins.append)
    await room.subscribe()
    await peer.subscribe()

    changes: List[Record] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "coroutine ... was never awaited"
        # --- seed 001, verbatim apart from the table name and the list appends -----------------
        channel = client.realtime.channel(orders)

        @channel.on("INSERT")
        async def on_insert(payload: Any) -> None:
            print(f"New order: {payload.data}")
            changes.append(payload)

        @channel.on("UPDATE")
        async def on_update(payload: Any) -> None:
            print(f"Order updated: {payload.data}")
            changes.append(payload)

        channel.subscribe()
        # Publish custom events
        channel.publish("notification", {"text": "New order received"})
        # Presence tracking
        channel.track({"userId": "123", "name": "Bot", "status": "online"})
        # Server-side broadcast
        client.socket.emit("order:updated", {"id": order_id}, f"orders/{order_id}")
        # Message history
        messages = await channel.get_history(limit=50)
        # ---------------------------------------------------------------------------------------
    assert isinstance(messages, list)
    assert on_insert.__name__ == "on_insert"  # the decorator hands the function back

    await channel.subscribe()
    await client.db.query(f"INSERT INTO {orders} (id, total) VALUES (?, ?)", [order_id, 9.5])
    await client.db.query(f"UPDATE {orders} SET total = ? WHERE id = ?", [12.0, order_id])
    await until(lambda: len(changes) >= 2, what="INSERT and UPDATE")
    ins, upd = changes[0], changes[1]
    assert (ins.event, ins.data.id, ins.data.total) == ("INSERT", order_id, 9.5)
    assert ins.topic == channel.topic == f"table/{orders}/{platform.project_id}" and ins.kind == "db_change"
    assert (upd.event, upd.data.total, upd.old.total) == ("UPDATE", 12.0, 9.5)

    await until(lambda: notes and emitted and joins, what="publish, emit and presence")
    assert notes[0].data.text == "New order received" and notes[0].event == "notification"
    assert emitted[0].data == {"id": order_id} and emitted[0].event == "order:updated"
    assert joins[-1].data.state == {"userId": "123", "name": "Bot", "status": "online"}
    await until(lambda: any(p.state.get("name") == "Bot" for p in peer.presence()), what="merged presence")
    await client.close()
    await other.close()


async def test_publish_reaches_another_client_and_history(platform: LocalPlatform, uid: str) -> None:
    a, b = clients(platform)
    name = f"chat/{uid}"
    sub = b.realtime.channel(name)
    got: List[Record] = []
    sub.on("notification", got.append)
    assert await sub.subscribe() is sub and sub.is_subscribed
    pub = a.realtime.channel(name)
    ack = await pub.publish("notification", {"text": "first"}, persist=True)
    assert ack.persisted and ack.id and ack.timestamp
    pub.publish("notification", {"text": "second"}, persist=True)  # not awaited: still sent
    await until(lambda: len(got) == 2, what="two notifications")
    assert [e.data.text for e in got] == ["first", "second"]
    assert got[0].id == ack.id and got[0].persisted and got[0].topic == sub.topic
    history = await sub.get_history(limit=50)
    assert [m.data.text for m in history] == ["second", "first"]  # newest first
    assert history[1].id == ack.id and history[0].event == "notification"
    # async iteration sees the same stream
    async with sub.events("notification", timeout=WAIT) as stream:
        await pub.publish("notification", {"text": "third"})
        async for ev in stream:
            assert ev.data.text == "third"
            break
    # off: no more calls for that callback
    sub.off(got.append)
    later: List[Record] = []
    sub.on("notification", later.append)
    await pub.publish("notification", {"text": "fourth"})
    await until(lambda: later, what="the fourth notification")
    assert [e.data.text for e in got] == ["first", "second", "third"]
    await a.close()
    await b.close()


async def test_track_sends_presence_to_another_client(platform: LocalPlatform, uid: str) -> None:
    a, b = clients(platform)
    name = f"rooms/{uid}"
    watcher = b.realtime.channel(name)
    events: List[Record] = []
    watcher.on("presence:*", events.append)
    await watcher.subscribe()
    me = a.realtime.channel(name)
    await me.subscribe()
    await me.track({"name": "Ada"})
    await until(lambda: any(e.event == "presence:join" for e in events), what="presence:join")
    join = next(e for e in events if e.event == "presence:join")
    assert join.data.state == {"name": "Ada"} and join.kind == "presence"
    assert [p.state for p in watcher.presence()] == [{"name": "Ada"}]
    me.untrack()
    await until(lambda: any(e.event == "presence:leave" for e in events), what="presence:leave")
    await until(lambda: watcher.presence() == [], what="empty presence")
    await a.close()
    await b.close()


async def test_socket_emit_reaches_a_subscriber(platform: LocalPlatform, uid: str) -> None:
    a, b = clients(platform)
    room = f"orders/{uid}"
    sub = b.realtime.channel(room)
    got: List[Record] = []

    @sub.on("order:updated")
    def on_update(payload: Record) -> None:  # a plain function works too
        got.append(payload)

    await sub.subscribe()
    result = await a.socket.emit("order:updated", {"id": uid}, room, persist=True)
    assert result.delivered >= 1 and result.persisted and result.topic == sub.topic
    await until(lambda: got, what="the emitted event")
    assert got[0].data.id == uid and got[0].user_id is None and got[0].id == result.id
    assert [m.id for m in await sub.get_history()] == [result.id]
    await a.close()
    await b.close()


def test_sync_twin(platform: LocalPlatform, uid: str) -> None:
    a, b = platform.sync_client(), platform.sync_client()
    table = f"orders_{uid}"
    a.db.query(f"CREATE TABLE {table} (id TEXT PRIMARY KEY, total REAL)")
    channel = b.realtime.channel(table)
    inserts: List[Record] = []
    threads: List[str] = []
    done = threading.Event()

    @channel.on("INSERT")
    def on_insert(payload: Record) -> None:
        threads.append(threading.current_thread().name)
        inserts.append(payload)
        done.set()

    @channel.on("notification")
    async def on_note(payload: Record) -> None:  # async callbacks run on the dispatch thread too
        inserts.append(payload)

    assert channel.subscribe() is channel and channel.is_subscribed
    a.db.query(f"INSERT INTO {table} (id, total) VALUES (?, ?)", ["x", 1.0])
    assert done.wait(WAIT)
    assert inserts[0].data.id == "x" and threads == ["aerostack-realtime"]

    pub = a.realtime.channel(table)
    ack = pub.publish("notification", {"text": "hi"}, persist=True)
    assert ack.persisted
    until_sync(lambda: any(e.event == "notification" for e in inserts), what="notification")
    assert [m.id for m in channel.get_history(limit=50)] == [ack.id]

    with channel.events("presence:join", timeout=WAIT) as stream:
        assert pub.track({"name": "Bot"}) is None
        ev = next(iter(stream))
        assert ev.data.state == {"name": "Bot"}

    room = b.realtime.channel(f"orders/{uid}")
    room.subscribe()
    with room.events("order:updated", timeout=WAIT) as stream:
        res = a.socket.emit("order:updated", {"id": uid}, f"orders/{uid}")
        assert res.delivered >= 1
        first = next(stream)
        assert first.data.id == uid and first.event == "order:updated"
    with room.events("order:updated", timeout=0.05) as quiet:
        assert list(quiet) == []  # the iteration ends after `timeout` seconds without an event
    a.close()
    b.close()


def test_reconnect_after_a_platform_restart(tmp_path: Path, uid: str) -> None:
    data = tmp_path / "data"
    p = LocalPlatform(data_dir=data, from_env=False)
    port, key = p.port, p.api_key
    fast = dict(backoff_initial=0.05, backoff_max=0.3, heartbeat_interval=1.0, pong_timeout=1.0)
    a, b = p.sync_client(), p.sync_client()
    a.realtime.configure(**fast)
    b.realtime.configure(**fast)
    statuses: List[str] = []
    b.realtime.on_status(lambda ev: statuses.append(ev.status))
    sub = b.realtime.channel(f"chat/{uid}")
    got: List[Record] = []
    sub.on("msg", got.append)
    sub.subscribe()
    pub = a.realtime.channel(f"chat/{uid}")
    pub.publish("msg", {"n": 1}, persist=True)
    until_sync(lambda: len(got) == 1, what="the first message")

    p.stop()
    until_sync(lambda: "reconnecting" in statuses, what="the lost connection")
    p2 = LocalPlatform(data_dir=data, port=port, from_env=False)
    try:
        assert p2.api_key == key  # the same project and key from the same data directory
        until_sync(lambda: sub.is_subscribed, what="the re-subscription")
        pub.publish("msg", {"n": 2}, persist=True)
        until_sync(lambda: len(got) == 2, what="a message after the restart")
        assert [e.data.n for e in got] == [1, 2] and statuses[-1] == "connected"
        # a persisted message published while this client was away is delivered once on return
        b.realtime.disconnect()
        assert b.realtime.status == "disconnected"
        pub.publish("msg", {"n": 3}, persist=True)
        b.realtime.connect()
        until_sync(lambda: len(got) == 3, what="the missed message")
        assert got[2].data.n == 3 and got[2].replayed
    finally:
        a.close()
        b.close()
        p2.stop()


def test_realtime_is_one_object_per_client(platform: LocalPlatform) -> None:
    c = platform.sync_client()
    assert c.realtime is c.realtime
    assert c.realtime.status == "idle"
    ch = c.realtime.channel("things")
    assert c.realtime.channel("things") is ch
    with pytest.raises(RuntimeError, match="before the first channel"):
        c.realtime.configure(ack_timeout=1)
    c.close()


def test_a_dropped_sync_client_stops_its_listener_thread(platform: LocalPlatform) -> None:
    import gc

    c = platform.sync_client()
    ch = c.realtime.channel("gc-check")
    ch.on("anything", lambda ev: None)
    t = c.realtime._thread
    assert t is not None and t.is_alive()
    del c, ch
    gc.collect()
    t.join(WAIT)
    assert not t.is_alive()


async def test_errors_reach_whoever_awaits(platform: LocalPlatform, uid: str) -> None:
    from aerostack.errors import AerostackError, ValidationError

    c = platform.client()
    foreign = c.realtime.channel(f"chat/{uid}/proj_ffffffffffff")
    with pytest.raises(AerostackError) as info:
        await foreign.publish("x", {"n": 1}, timeout=5)
    assert info.value.code == "FORBIDDEN"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        foreign.publish("x", {"n": 2}, timeout=5)  # not awaited: the error goes unseen, no warning
    with pytest.raises(ValidationError):
        await c.socket.emit("evt", {}, "")
    with pytest.raises(ValidationError):
        c.realtime.channel(f"chat/{uid}").track("not an object")  # type: ignore[arg-type]
    await c.close()


async def test_subscribing_to_a_mis_cased_table_raises_naming_it(platform: LocalPlatform, uid: str) -> None:
    from aerostack.errors import AerostackError, NotFoundError

    c = platform.client()
    table = f"todos_{uid}"
    await c.db.query(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, title TEXT)")
    wrong = table.capitalize()  # Todos_...: SQL would accept it, the change feed is case-sensitive
    with pytest.raises(AerostackError) as info:
        await c.realtime.channel(wrong).subscribe()
    assert isinstance(info.value, NotFoundError) and info.value.code == "NOT_FOUND"
    assert f'table "{wrong}" does not exist in this project; did you mean "{table}"?' in str(info.value)
    # a table that does not exist at all is named too; the right name subscribes
    with pytest.raises(NotFoundError, match=f'table "missing_{uid}" does not exist in this project'):
        await c.realtime.channel(f"missing_{uid}").subscribe()
    ok = c.realtime.channel(table)
    assert await ok.subscribe() is ok and ok.is_subscribed
    await c.close()


def test_subscribing_to_a_mis_cased_table_raises_in_the_sync_twin(platform: LocalPlatform, uid: str) -> None:
    from aerostack.errors import NotFoundError

    c = platform.sync_client()
    table = f"notes_{uid}"
    c.db.query(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
    with pytest.raises(NotFoundError, match=f'did you mean "{table}"'):
        c.realtime.channel(table.upper()).subscribe()
    c.close()


def test_official_names_send_chat_chat_room_status_and_max_retries(platform: LocalPlatform, uid: str) -> None:
    c = platform.sync_client()
    statuses: List[str] = []
    c.realtime.on_status_change(statuses.append)
    room = c.realtime.chat_room(f"lobby-{uid}")
    got: List[Record] = []
    room.on("message", got.append)
    room.subscribe()
    c.realtime.send_chat(f"lobby-{uid}", "hello", {"lang": "en"})
    until_sync(lambda: len(got) == 1, what="the chat message")
    assert got[0].topic.startswith(f"chat/lobby-{uid}") and "hello" in str(got[0].data)
    until_sync(lambda: "connected" in statuses, what="the connected status")
    with pytest.raises(Exception) as e:
        c.realtime.send_chat(" ", "x")
    assert "room_id" in str(e.value)
    c.close()

    # Nothing listens on this port: one failed reconnect, then the connection gives up.
    lost = SyncAerostackClient(project_id=platform.project_id, api_key=platform.api_key, base_url="http://127.0.0.1:9/v1")
    lost.realtime.configure(max_reconnect_attempts=1)
    gave_up = threading.Event()
    lost.realtime.on_max_retries_exceeded(gave_up.set)
    lost.realtime.channel(f"x-{uid}/y")
    assert gave_up.wait(15)
    lost.close()


def test_a_channel_filter_picks_the_rows(platform: LocalPlatform, uid: str) -> None:
    from aerostack.errors import ValidationError

    c = platform.sync_client()
    table = f"tasks_{uid}"
    c.db.query(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, title TEXT, done INTEGER)")
    channel = c.realtime.channel(table, filter={"done": 1})
    seen: List[str] = []

    @channel.on("INSERT")
    def on_insert(payload: Record) -> None:
        seen.append(payload.data.title)

    channel.subscribe()
    c.db.query(f"INSERT INTO {table} (title, done) VALUES ('open', 0), ('finished', 1)")
    until_sync(lambda: seen, what="the filtered INSERT")
    # the string form replaces the filter on the same channel object
    assert c.realtime.channel(table, filter="title=eq.second") is channel
    channel.subscribe()
    c.db.query(f"INSERT INTO {table} (title, done) VALUES ('other', 1), ('second', 0)")
    until_sync(lambda: len(seen) >= 2, what="the second filtered INSERT")
    assert seen == ["finished", "second"]
    with pytest.raises(ValidationError, match="unknown column|nope"):
        c.realtime.channel(f"{table}", filter={"nope": 1}).subscribe()
    c.close()
