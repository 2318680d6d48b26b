"""Streamed chat, upload progress, and the completion port of async calls."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest

from aerostack import AerostackClient, SyncAerostackClient, errors
from aerostack.local import LocalPlatform

EXPECTED = "- point one\n- point two\n- point three (Summarize this.)"
MESSAGES = [{"role": "user", "content": "Summarize this."}]


def kw(p: LocalPlatform) -> Any:
    return dict(project_id=p.project_id, api_key=p.api_key, base_url=p.api_url)


# --- chat streamed -----------------------------------------------------------------------------

async def test_chat_stream_is_an_async_iterator(ai_platform: LocalPlatform) -> None:
    client = AerostackClient(**kw(ai_platform))
    chunks = [c async for c in client.ai.chat_stream(MESSAGES, model="test-model")]
    assert len(chunks) > 3, "one chunk per token, not one blob"
    assert "".join(c.delta for c in chunks) == EXPECTED
    assert any(c.get("finish_reason") == "stop" for c in chunks)
    usage = [c.usage for c in chunks if c.get("usage")]
    assert usage and usage[-1].total_tokens > 0


def test_chat_stream_sync_iterator(ai_platform: LocalPlatform) -> None:
    client = SyncAerostackClient(**kw(ai_platform))
    with client.ai.chat_stream(MESSAGES) as stream:
        text = "".join(c.delta for c in stream)
    assert text == EXPECTED
    # ended: iterating again yields nothing
    assert list(stream) == []


async def test_chat_stream_stops_early(ai_platform: LocalPlatform) -> None:
    client = AerostackClient(**kw(ai_platform))
    stream = client.ai.chat_stream(MESSAGES)
    first = await stream.__anext__()
    assert first.delta
    await stream.aclose()
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()
    # the client is still fine afterwards
    assert (await client.ai.chat(MESSAGES)).text == EXPECTED


async def test_chat_stream_errors_are_typed(platform: LocalPlatform) -> None:
    # the plain platform has no AI upstream: the first iteration raises the platform's error
    client = AerostackClient(**kw(platform), retry=False)
    with pytest.raises(errors.AerostackError) as e:
        async for _ in client.ai.chat_stream(MESSAGES):
            pass
    assert e.value.code == "AI_NOT_CONFIGURED"
    with pytest.raises(errors.ValidationError) as v:
        async for _ in client.ai.chat_stream([]):
            pass
    assert "messages" in str(v.value)


# --- upload progress ---------------------------------------------------------------------------

def _check_progress(seen: List[Tuple[int, Optional[int]]], size: int) -> None:
    assert seen, "the progress callback was never called"
    sents = [s for s, _ in seen]
    assert sents == sorted(sents), f"progress went backwards: {sents}"
    assert seen[-1] == (size, size), f"last report {seen[-1]} is not the whole file"


def test_upload_progress_sync(platform: LocalPlatform, tmp_path: Path) -> None:
    client = SyncAerostackClient(**kw(platform))
    size = 3 * 1024 * 1024 + 17
    f = tmp_path / "big.bin"
    f.write_bytes(b"\x01" * size)
    seen: List[Tuple[int, Optional[int]]] = []
    main = threading.get_ident()
    threads = set()

    def progress(sent: int, total: Optional[int]) -> None:
        threads.add(threading.get_ident())
        seen.append((sent, total))

    res = client.storage.upload(file=str(f), path="progress/sync.bin", progress=progress)
    assert res.size == size
    _check_progress(seen, size)
    assert threads == {main}, "the callback runs on the calling thread"

    tiny: List[Tuple[int, Optional[int]]] = []
    client.storage.upload(file_bytes=b"x", path="progress/tiny.bin", progress=lambda s, t: tiny.append((s, t)))
    assert tiny == [(1, 1)], "even an upload that finishes at once reports its final figures"


async def test_upload_progress_async(platform: LocalPlatform) -> None:
    client = AerostackClient(**kw(platform))
    size = 2 * 1024 * 1024 + 5
    seen: List[Tuple[int, Optional[int]]] = []
    main = threading.get_ident()
    threads = set()

    def progress(sent: int, total: Optional[int]) -> None:
        threads.add(threading.get_ident())
        seen.append((sent, total))

    res = await client.storage.upload(file_bytes=b"\x02" * size, path="progress/async.bin", progress=progress)
    assert res.size == size
    _check_progress(seen, size)
    assert threads == {main}, "the callback runs on the event loop's thread"


@pytest.mark.parametrize("face", ["sync", "async"])
async def test_raising_progress_callback_stops_the_upload(platform: LocalPlatform, face: str) -> None:
    class Stop(Exception):
        pass

    def progress(sent: int, total: Optional[int]) -> None:
        raise Stop("user code failed")

    data = b"\x03" * (4 * 1024 * 1024)
    if face == "sync":
        with pytest.raises(Stop):
            SyncAerostackClient(**kw(platform)).storage.upload(file_bytes=data, path="progress/stop.bin", progress=progress)
    else:
        with pytest.raises(Stop):
            await AerostackClient(**kw(platform)).storage.upload(file_bytes=data, path="progress/stop.bin", progress=progress)


def test_progress_must_be_callable(platform: LocalPlatform) -> None:
    with pytest.raises(TypeError, match="progress"):
        SyncAerostackClient(**kw(platform)).storage.upload(file_bytes=b"x", path="p/x", progress=3)  # type: ignore[arg-type]


# --- the completion port ------------------------------------------------------------------------

async def test_many_calls_in_flight_resolve(platform: LocalPlatform) -> None:
    client = AerostackClient(**kw(platform))
    await client.cache.set("port:k", {"n": 1})
    results = await asyncio.gather(*(client.cache.get("port:k") for _ in range(500)))
    assert all(r == {"n": 1} for r in results)


async def test_cancelled_call_does_not_break_the_next(platform: LocalPlatform) -> None:
    client = AerostackClient(**kw(platform))
    task = asyncio.ensure_future(client.db.query("SELECT 1 AS one"))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await client.db.query("SELECT 2 AS two"))[0].two == 2


def test_each_event_loop_gets_its_own_port(platform: LocalPlatform) -> None:
    client = AerostackClient(**kw(platform))
    for i in range(3):  # asyncio.run makes (and closes) a new loop each time
        assert asyncio.run(client.db.query("SELECT ? AS i", [i]))[0].i == i

    def in_thread(out: List[Any]) -> None:
        out.append(asyncio.run(client.db.query("SELECT 7 AS i"))[0].i)

    out: List[Any] = []
    t = threading.Thread(target=in_thread, args=(out,))
    t.start()
    t.join()
    assert out == [7]
