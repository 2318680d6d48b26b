"""One time type: every time the SDK reports is an aware UTC ``datetime``, whatever form the wire
used (ISO text on jobs and users, unix milliseconds in realtime); user data is never converted."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any, List

import pytest

from aerostack import AerostackClient, Record
from aerostack.local import LocalPlatform


def is_utc(v: Any) -> bool:
    return isinstance(v, datetime) and v.utcoffset() == timedelta(0)


def recent(v: Any) -> bool:
    return is_utc(v) and abs(datetime.now(timezone.utc) - v) < timedelta(hours=2)


async def test_service_results_carry_datetimes(client: Any, uid: str) -> None:
    email = f"times-{uid}@example.com"
    session = await client.auth.register(email, "Sup3rSecret", name="T")
    if session.get("access_token") is None:
        session = await client.auth.login(email, "Sup3rSecret")
    assert recent(session.user.created_at) and is_utc(session.expires_at), session
    assert session.expires_at > datetime.now(timezone.utc)
    me = await client.auth.me(session.access_token)
    assert recent(me.created_at)

    job = await client.queue.send(f"timed-{uid}", {"at": "2026-01-02T03:04:05.678Z"}, delay_seconds=3600)
    rec = await client.queue.job(job.job_id)
    assert recent(rec.created_at) and recent(rec.updated_at) and is_utc(rec.run_at)
    assert rec.run_at - rec.created_at > timedelta(minutes=59)
    assert rec.data == {"at": "2026-01-02T03:04:05.678Z"}  # the payload is the user's: untouched
    page = await client.queue.jobs(type=f"timed-{uid}")
    assert recent(page.jobs[0].created_at)

    await client.cache.set(f"t:{uid}", {"created_at": "2026-01-02T03:04:05.678Z"}, ttl=600)
    listed = await client.cache.list(prefix=f"t:{uid}")
    assert is_utc(listed["keys"][0].expiration) and listed["keys"][0].expiration > datetime.now(timezone.utc)
    assert await client.cache.get(f"t:{uid}") == {"created_at": "2026-01-02T03:04:05.678Z"}

    await client.storage.upload(b"x", path=f"times/{uid}.txt")
    objects = await client.storage.list(prefix=f"times/{uid}")
    assert recent(objects.objects[0].last_modified)
    assert recent((await client.storage.metadata(f"times/{uid}.txt")).last_modified)

    rows = await client.db.query("SELECT '2026-01-02T03:04:05.678Z' AS created_at")
    assert rows[0].created_at == "2026-01-02T03:04:05.678Z"  # a row is the user's: untouched

    outbox = await client.local.outbox(to=email)
    assert all(recent(m.created_at) for m in outbox) and outbox


def test_streams_carry_datetimes(sync_client: Any, uid: str) -> None:
    sync_client.queue.send(f"timed-all-{uid}", {}, delay_seconds=3600)
    jobs = list(sync_client.queue.jobs_all(type=f"timed-all-{uid}"))
    assert jobs and recent(jobs[0].created_at)


async def test_realtime_times_and_history_paging(platform: LocalPlatform, uid: str) -> None:
    kw = dict(project_id=platform.project_id, api_key=platform.api_key, base_url=platform.api_url)
    a, b = AerostackClient(**kw), AerostackClient(**kw)
    name = f"times/{uid}"
    got: List[Record] = []
    sub = b.realtime.channel(name)
    sub.on("*", got.append)
    await sub.subscribe()
    pub = a.realtime.channel(name)
    await pub.subscribe()
    await pub.track({"name": "Ada"})
    acks = []
    for i in range(3):  # a ms apart: `before` pages by the millisecond, as the wire does
        acks.append(await pub.publish("note", {"n": i, "created_at": "user text"}, persist=True))
        await asyncio.sleep(0.005)
    assert all(recent(x.timestamp) for x in acks)
    for _ in range(100):
        if len([e for e in got if e.event == "note"]) == 3 and any(e.kind == "presence" for e in got):
            break
        await asyncio.sleep(0.05)
    notes = [e for e in got if e.event == "note"]
    assert [e.data.n for e in notes] == [0, 1, 2] and all(recent(e.timestamp) for e in notes)
    assert notes[0].data.created_at == "user text"  # the message's data is the user's
    joins = [e for e in got if e.event == "presence:join"]
    assert joins and recent(joins[0].data.joined_at), got
    assert all(recent(p.joined_at) for p in sub.presence())

    history = await sub.get_history(limit=10)
    assert [m.data.n for m in history] == [2, 1, 0] and all(recent(m.created_at) for m in history)
    older = await sub.get_history(limit=10, before=history[0].created_at)  # a datetime pages back
    assert [m.data.n for m in older] == [1, 0]
    with pytest.raises(TypeError, match="before must be a datetime"):
        sub.get_history(before="yesterday")  # type: ignore[arg-type]
    emitted = await a.socket.emit("note", {"n": 9}, name)
    assert recent(emitted.timestamp)
    await a.close()
    await b.close()
