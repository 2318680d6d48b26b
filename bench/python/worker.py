"""One measurement in a fresh process; prints one JSON object on stdout.

    worker.py rate IMPL OP CONC SECONDS URL KEY PROJECT   calls/s of OP with CONC calls in flight
                                                          (CONC 0: a blocking client, one call after another)
    worker.py rss IMPL URL KEY PROJECT                    RSS (KiB) of a process holding a client after one call

IMPL: ours (this repo's `aerostack`, run with .venv), official (`aerostack==0.1.2` from PyPI) or
httpx (raw httpx.AsyncClient making the same HTTP calls), the last two run with .venv-bench.
OP: db (`SELECT id, name FROM items WHERE id = ?` [42]) or cache (get `bench:key`).
With CONC >= 1 every implementation awaits async calls: CONC tasks each loop call-after-call until
the deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from typing import Any, Awaitable, Callable

SQL = "SELECT id, name FROM items WHERE id = ?"
PARAMS = [42]
CACHE_KEY = "bench:key"
WARMUP = 0.3  # seconds of calls before each measurement


def make_call(impl: str, op: str, url: str, key: str, project: str, conc: int) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[None]]]:
    """Returns (one call, close)."""
    if impl == "ours":
        from aerostack import AerostackClient

        client = AerostackClient(project_id=project, api_key=key, base_url=url)
        if op == "db":
            call = lambda: client.db.query(SQL, PARAMS)  # noqa: E731
        else:
            call = lambda: client.cache.get(CACHE_KEY)  # noqa: E731

        async def close() -> None:
            aclose = getattr(client, "aclose", None) or getattr(client, "close", None)
            if aclose is not None:
                r = aclose()
                if asyncio.iscoroutine(r):
                    await r

        return call, close
    if impl == "official":
        import httpx
        from aerostack import SDK

        # The package's own defaults, except a pool as large as the number of calls in flight
        # (httpx's default of 100 connections would otherwise cap the 1,000-in-flight run).
        ac = httpx.AsyncClient(limits=httpx.Limits(max_connections=max(conc, 100), max_keepalive_connections=max(conc, 20)), timeout=60)
        sdk = SDK(server_url=url, api_key_auth=key, async_client=ac)
        if op == "db":
            call = lambda: sdk.database.db_query_async(request={"sql": SQL, "params": PARAMS})  # noqa: E731
        else:
            call = lambda: sdk.cache.cache_get_async(request={"key": CACHE_KEY})  # noqa: E731

        async def close() -> None:
            await ac.aclose()

        return call, close
    if impl == "httpx":
        import httpx

        hc = httpx.AsyncClient(limits=httpx.Limits(max_connections=max(conc, 100), max_keepalive_connections=max(conc, 20)), timeout=60)
        base = url.rstrip("/")
        path, body = ("/db/query", {"sql": SQL, "params": PARAMS}) if op == "db" else ("/cache/get", {"key": CACHE_KEY})
        full = base + path

        async def call() -> Any:
            r = await hc.post(full, json=body, headers={"X-Aerostack-Key": key, "X-Request-ID": str(uuid.uuid4()), "User-Agent": "raw-httpx-bench"})
            r.raise_for_status()
            return r.json()

        return call, hc.aclose
    raise SystemExit(f"unknown impl {impl}")


async def rate(impl: str, op: str, conc: int, seconds: float, url: str, key: str, project: str) -> dict[str, Any]:
    call, close = make_call(impl, op, url, key, project, conc)
    first = await call()  # a check that the answer is accepted
    # Warm-up, the same for every implementation: 0.3 s of calls at the measured concurrency
    # (connection pools, the platform's statement cache, the allocator).
    warm_until = time.perf_counter() + WARMUP

    async def warm() -> None:
        while time.perf_counter() < warm_until:
            await call()

    await asyncio.gather(*(warm() for _ in range(min(conc, 200))))
    done = 0
    errors = 0
    first_error = ""
    deadline = 0.0

    async def loop() -> None:
        nonlocal done, errors, first_error
        while time.perf_counter() < deadline:
            try:
                await call()
                done += 1
            except Exception as e:  # counted, never silently: reported in the JSON
                errors += 1
                if not first_error:
                    first_error = f"{type(e).__name__}: {e}"[:300]

    t0 = time.perf_counter()
    deadline = t0 + seconds
    await asyncio.gather(*(loop() for _ in range(conc)))
    elapsed = time.perf_counter() - t0
    await close()
    return {"impl": impl, "op": op, "conc": conc, "calls": done, "errors": errors, "first_error": first_error,
            "seconds": elapsed, "rate": done / elapsed, "sample": repr(first)[:200]}


def make_sync_call(impl: str, op: str, url: str, key: str, project: str) -> Callable[[], Any]:
    """A blocking client's call (ours: SyncAerostackClient; official: the sync SDK; httpx.Client)."""
    if impl == "ours":
        from aerostack import SyncAerostackClient

        client = SyncAerostackClient(project_id=project, api_key=key, base_url=url)
        return (lambda: client.db.query(SQL, PARAMS)) if op == "db" else (lambda: client.cache.get(CACHE_KEY))
    if impl == "official":
        from aerostack import SDK

        sdk = SDK(server_url=url, api_key_auth=key)
        if op == "db":
            return lambda: sdk.database.db_query(request={"sql": SQL, "params": PARAMS})
        return lambda: sdk.cache.cache_get(request={"key": CACHE_KEY})
    import httpx

    hc = httpx.Client(timeout=60)
    path, body = ("/db/query", {"sql": SQL, "params": PARAMS}) if op == "db" else ("/cache/get", {"key": CACHE_KEY})
    full = url.rstrip("/") + path

    def call() -> Any:
        r = hc.post(full, json=body, headers={"X-Aerostack-Key": key, "X-Request-ID": str(uuid.uuid4()), "User-Agent": "raw-httpx-bench"})
        r.raise_for_status()
        return r.json()

    return call


def sync_rate(impl: str, op: str, seconds: float, url: str, key: str, project: str) -> dict[str, Any]:
    call = make_sync_call(impl, op, url, key, project)
    first = call()
    warm_until = time.perf_counter() + WARMUP  # as in rate()
    while time.perf_counter() < warm_until:
        call()
    done = errors = 0
    first_error = ""
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while time.perf_counter() < deadline:
        try:
            call()
            done += 1
        except Exception as e:
            errors += 1
            if not first_error:
                first_error = f"{type(e).__name__}: {e}"[:300]
    elapsed = time.perf_counter() - t0
    return {"impl": impl, "op": op, "conc": 0, "calls": done, "errors": errors, "first_error": first_error,
            "seconds": elapsed, "rate": done / elapsed, "sample": repr(first)[:200]}


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def rss(impl: str, url: str, key: str, project: str) -> dict[str, Any]:
    call, _close = make_call(impl, "db", url, key, project, 1)
    await call()
    return {"impl": impl, "rss_kib": rss_kib()}


def main() -> None:
    mode, impl = sys.argv[1], sys.argv[2]
    if mode == "rate":
        op, conc, seconds, url, key, project = sys.argv[3:9]
        try:
            if int(conc) == 0:
                out = sync_rate(impl, op, float(seconds), url, key, project)
            else:
                out = asyncio.run(rate(impl, op, int(conc), float(seconds), url, key, project))
        except Exception as e:
            out = {"impl": impl, "op": op, "conc": int(conc), "failed": f"{type(e).__name__}: {e}"[:600]}
    elif mode == "rss":
        url, key, project = sys.argv[3:6]
        out = asyncio.run(rss(impl, url, key, project))
    else:
        raise SystemExit(f"unknown mode {mode}")
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    os._exit(0)  # no teardown in the timing


if __name__ == "__main__":
    main()
