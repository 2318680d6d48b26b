"""Retries, timeouts, cancellation, the GIL, memory, fork."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import sys
import threading
import time
from typing import Callable, List

import pytest

from aerostack import AerostackClient, SyncAerostackClient, errors
from aerostack.local import LocalPlatform

from conftest import TinyServer, read_request, respond

FAST_RETRY = {"initial_interval_ms": 10, "max_interval_ms": 20, "max_attempts": 4}


def header(head: bytes, name: str) -> str:
    for line in head.split(b"\r\n"):
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.encode():
            return v.strip().decode()
    return ""


def test_retries_503_then_succeeds_with_one_request_id(tiny_server: Callable[..., TinyServer]) -> None:
    heads: List[bytes] = []

    def flaky(conn: socket.socket, i: int) -> None:
        while True:
            head = read_request(conn)
            if head is None:
                return
            heads.append(head)
            if len(heads) < 3:
                respond(conn, 503, b'{"code":"INTERNAL_ERROR","message":"busy"}')
            else:
                respond(conn, 200, b'{"success":true,"jobId":"job_1"}')

    srv = tiny_server(flaky)
    c = SyncAerostackClient(api_key="k", base_url=srv.url, retry=FAST_RETRY)
    # a non-idempotent POST: retried safely because every attempt carries the same Idempotency-Key
    assert c.queue.send("email", {"to": "x"}).job_id == "job_1"
    assert len(heads) == 3
    assert len({header(h, "x-request-id") for h in heads}) == 1
    keys = {header(h, "idempotency-key") for h in heads}
    assert len(keys) == 1 and keys != {""}
    assert header(heads[0], "user-agent").startswith("aerostack-python/")

    heads.clear()
    with pytest.raises(errors.ServerError) as ei:
        c.with_options(retry=False).cache.set("k", 1)
    assert ei.value.status == 503 and ei.value.retryable and len(heads) == 1


def silent(conn: socket.socket, i: int) -> None:
    """Reads requests and never answers; returns when the client hangs up."""
    while read_request(conn) is not None:
        pass


def test_timeout_against_a_socket_that_never_answers(tiny_server: Callable[..., TinyServer]) -> None:
    srv = tiny_server(silent)
    c = SyncAerostackClient(api_key="k", base_url=srv.url, timeout=0.3, retry=False)
    t0 = time.monotonic()
    with pytest.raises(errors.AerostackTimeoutError) as ei:
        c.cache.get("x")
    elapsed = time.monotonic() - t0
    assert 0.25 <= elapsed < 2.0
    assert ei.value.code == "TIMEOUT" and isinstance(ei.value, TimeoutError)
    # per-call timeout and retries: 3 attempts of 0.2 s
    t0 = time.monotonic()
    with pytest.raises(errors.AerostackTimeoutError):
        c.with_options(timeout=0.2, retry={**FAST_RETRY, "max_attempts": 3}).cache.get("x")
    assert 0.55 <= time.monotonic() - t0 < 3.0


async def test_async_timeout(tiny_server: Callable[..., TinyServer]) -> None:
    srv = tiny_server(silent)
    c = AerostackClient(api_key="k", base_url=srv.url, timeout=0.2, retry=False)
    with pytest.raises(errors.AerostackTimeoutError):
        await c.cache.get("x")


async def test_cancelling_the_task_drops_the_engine_call(tiny_server: Callable[..., TinyServer]) -> None:
    hung_up = threading.Event()
    accepted = threading.Event()

    def watch(conn: socket.socket, i: int) -> None:
        accepted.set()
        while read_request(conn) is not None:
            pass
        hung_up.set()  # EOF: the engine dropped the connection, so the call's future is gone

    srv = tiny_server(watch)
    c = AerostackClient(api_key="k", base_url=srv.url, timeout=60, retry=False)
    task = asyncio.ensure_future(c.cache.get("x"))
    assert await asyncio.get_running_loop().run_in_executor(None, accepted.wait, 5)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.get_running_loop().run_in_executor(None, hung_up.wait, 5)

    hung_up.clear()
    accepted.clear()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(c.db.query("SELECT 1"), 0.3)
    assert await asyncio.get_running_loop().run_in_executor(None, hung_up.wait, 5)


def test_sync_calls_release_the_gil(tiny_server: Callable[..., TinyServer]) -> None:
    def slow(conn: socket.socket, i: int) -> None:
        while read_request(conn) is not None:
            time.sleep(0.6)
            respond(conn, 200, b'{"value":1,"exists":true}')

    srv = tiny_server(slow)
    c = SyncAerostackClient(api_key="k", base_url=srv.url, retry=False)
    count = 0
    stop = threading.Event()

    def counter() -> None:
        nonlocal count
        while not stop.is_set():
            count += 1

    t = threading.Thread(target=counter)
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        t.start()
        time.sleep(0.05)
        before = count
        assert c.cache.get("x") == 1
        during = count - before
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    # With the GIL held for 0.6 s the counter would barely move; released, it runs freely.
    assert during > 100_000, during


def test_sync_slow_query_on_the_platform_releases_the_gil(sync_client: SyncAerostackClient) -> None:
    ticks = 0
    stop = threading.Event()

    def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    t = threading.Thread(target=ticker)
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    t.start()
    try:
        t0 = time.monotonic()
        row = sync_client.db.query_one(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) AS n FROM c"
        )
        took = time.monotonic() - t0
        during = ticks
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    assert row == {"n": 3000000}
    assert took > 0.05 and during > 50_000, (during, took)


def trim_heap() -> None:
    """Collects garbage and hands freed heap pages back to the OS (glibc), so RSS tracks what is
    still allocated rather than allocator fragmentation."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: RSS keeps the fragmentation, bounds still hold
        pass


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_no_memory_growth_over_many_calls(sync_client: SyncAerostackClient, uid: str) -> None:
    sync_client.cache.set(f"mem:{uid}", {"payload": "x" * 200})
    for _ in range(2000):
        sync_client.cache.get(f"mem:{uid}")
    trim_heap()
    base = rss_kb()
    for _ in range(20_000):
        sync_client.cache.get(f"mem:{uid}")
    trim_heap()
    grown = rss_kb() - base
    assert grown < 16 * 1024, f"RSS grew by {grown} KiB over 20k calls"


async def test_no_memory_growth_async(client: AerostackClient, uid: str) -> None:
    """A gross-leak check (the platform runs in this process too): bursts of 1,000 calls in
    flight raise the allocators' high-water mark by several MiB in a process that already ran
    the whole suite, so the bound is per call: 10k calls may not keep 3 KiB each."""
    await client.cache.set(f"amem:{uid}", 1)
    for _ in range(5):  # warm up: the pool grows to its high-water mark of connections
        await asyncio.gather(*(client.cache.get(f"amem:{uid}") for _ in range(1000)))
    trim_heap()
    base = rss_kb()
    for _ in range(10):
        await asyncio.gather(*(client.cache.get(f"amem:{uid}") for _ in range(1000)))
    trim_heap()
    grown = rss_kb() - base
    assert grown < 30 * 1024, f"RSS grew by {grown} KiB over 10k calls"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_safety(platform: LocalPlatform, sync_client: SyncAerostackClient) -> None:
    sync_client.cache.set("fork:k", "parent")  # the parent's runtime is running
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        msgs = []
        try:
            try:
                sync_client.cache.get("fork:k")
                code |= 1
            except errors.ConfigError as e:
                if "create a new client in the child process" not in e.message:
                    code |= 2
                msgs.append(e.message)
            fresh = SyncAerostackClient(api_key=platform.api_key, base_url=platform.api_url)
            if fresh.cache.get("fork:k") != "parent":
                code |= 4

            async def use_async() -> object:
                ac = AerostackClient(api_key=platform.api_key, base_url=platform.api_url)
                return await ac.cache.get("fork:k")

            if asyncio.run(use_async()) != "parent":
                code |= 8
        except BaseException as e:  # noqa: BLE001
            msgs.append(repr(e))
            code |= 16
        os.write(w, ("\n".join(msgs)).encode())
        os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    out = os.read(r, 65536).decode()
    os.close(r)
    assert os.WEXITSTATUS(status) == 0, (os.WEXITSTATUS(status), out)
    assert "process" in out
    assert sync_client.cache.get("fork:k") == "parent"  # the parent is unaffected


class _Interrupted(Exception):
    pass


def test_signals_interrupt_a_blocking_call(tiny_server: Callable[..., TinyServer]) -> None:
    import signal

    hung_up = threading.Event()

    def watch(conn: socket.socket, i: int) -> None:
        while read_request(conn) is not None:
            pass
        hung_up.set()

    srv = tiny_server(watch)
    c = SyncAerostackClient(api_key="k", base_url=srv.url, timeout=30, retry=False)

    def handler(signum: int, frame: object) -> None:
        raise _Interrupted()

    old = signal.signal(signal.SIGINT, handler)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(_Interrupted):
            c.cache.get("x")
        assert time.monotonic() - t0 < 2.0
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old)
    assert hung_up.wait(5), "the interrupted call's connection should be dropped"


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads RSS from /proc")
async def test_no_memory_growth_over_100k_calls(platform: LocalPlatform) -> None:
    """100k async calls (100 in flight, through the completion port) plus 20k blocking ones: the
    process's RSS after them stays within a few MiB of where it was after a warm-up."""

    c = AerostackClient(project_id=platform.project_id, api_key=platform.api_key, base_url=platform.api_url)
    s = SyncAerostackClient(project_id=platform.project_id, api_key=platform.api_key, base_url=platform.api_url)
    await c.cache.set("mem:k", {"v": "x" * 64})

    async def batch(n: int) -> None:
        async def worker(k: int) -> None:
            for _ in range(k):
                assert (await c.cache.get("mem:k"))["v"]

        await asyncio.gather(*(worker(n // 100) for _ in range(100)))

    await batch(10_000)  # warm-up: pools, caches, allocator arenas
    for _ in range(2_000):
        s.cache.get("mem:k")
    gc.collect()
    before = _rss_kib()
    await batch(100_000)
    for _ in range(20_000):
        s.cache.get("mem:k")
    gc.collect()
    grown = _rss_kib() - before
    assert grown < 8 * 1024, f"RSS grew by {grown} KiB over 120k calls"


def test_a_long_retry_after_raises_at_once_instead_of_stalling() -> None:
    """A 429 whose Retry-After (60 s) exceeds the retry policy's cap (5 s by default) is raised
    at once with ``retry_after`` set, instead of silently stalling the call for a minute."""
    import time

    from aerostack import SyncAerostackClient, errors
    from aerostack.local import LocalPlatform

    with LocalPlatform(rate_limits={"register_per_ip": (1, 60)}, from_env=False) as p:
        c = SyncAerostackClient(project_id=p.project_id, api_key=p.api_key, base_url=p.api_url)
        c.auth.register(email="first@example.com", password="a-Good-passw0rd")
        started = time.monotonic()
        with pytest.raises(errors.RateLimitError) as ei:
            c.auth.register(email="second@example.com", password="a-Good-passw0rd")
        assert time.monotonic() - started < 30, "the call waited out the Retry-After"
        assert ei.value.retry_after is not None and ei.value.retry_after > 5
        # A caller who wants to wait says so: the cap is part of the retry policy.
        patient = c.with_options(retry={"max_retry_after_ms": 120_000, "max_elapsed_time_ms": 1})
        with pytest.raises(errors.RateLimitError):  # the budget (1 ms) still forbids the wait
            patient.auth.register(email="third@example.com", password="a-Good-passw0rd")


def test_a_retry_that_waits_is_logged_as_a_warning_while_it_waits(caplog: pytest.LogCaptureFixture) -> None:
    """Every retry is logged through the ``aerostack`` logger (debug); one that waits over a
    second at warning, so a stalled call says why."""
    import logging

    from aerostack import SyncAerostackClient
    from aerostack.local import LocalPlatform

    caplog.set_level(logging.DEBUG, logger="aerostack")
    with LocalPlatform(rate_limits={"register_per_ip": (1, 2)}, from_env=False) as p:
        c = SyncAerostackClient(project_id=p.project_id, api_key=p.api_key, base_url=p.api_url)
        c.auth.register(email="one@example.com", password="a-Good-passw0rd")
        c.auth.register(email="two@example.com", password="a-Good-passw0rd")  # waits ~2 s, then passes
    warned = [r for r in caplog.records if r.name == "aerostack" and r.levelno == logging.WARNING]
    assert any("retrying POST" in r.getMessage() and "/auth/register" in r.getMessage()
               and "RATE_LIMIT_EXCEEDED 429" in r.getMessage() for r in warned), [r.getMessage() for r in caplog.records]


async def test_an_awaited_call_logs_its_retry_while_it_waits(caplog: pytest.LogCaptureFixture) -> None:
    """The async client's retry warning reaches the logger while the call still waits (the
    engine wakes the event loop's completion port for it)."""
    import logging

    from aerostack import AerostackClient
    from aerostack.local import LocalPlatform

    caplog.set_level(logging.WARNING, logger="aerostack")
    with LocalPlatform(rate_limits={"register_per_ip": (1, 3)}, from_env=False) as p:
        c = AerostackClient(project_id=p.project_id, api_key=p.api_key, base_url=p.api_url)
        await c.auth.register(email="one@example.com", password="a-Good-passw0rd")
        second = asyncio.ensure_future(c.auth.register(email="two@example.com", password="a-Good-passw0rd"))
        warned_while_waiting = False
        for _ in range(50):
            await asyncio.sleep(0.05)
            if any("retrying POST" in r.getMessage() for r in caplog.records):
                warned_while_waiting = not second.done()
                break
        await second
        assert warned_while_waiting, [r.getMessage() for r in caplog.records]
        await c.close()
