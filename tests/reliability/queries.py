"""Probe 3: oversized and hostile queries from project A. Each must fail cleanly with its
documented error, while /v1/health and project B's `SELECT 1` keep answering within a bound."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, List, Optional, Tuple

from platform_proc import Http, Platform, error_matches, keyed, start, temp_workdir
from result import Result

BOUND_S = 5.0
COUNT = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT {n}) "

# (what, sql, status, code, text the message must hold)
HOSTILE: List[Tuple[str, str, int, str, str]] = [
    ("randomblob(999999999)", "SELECT length(randomblob(999999999))", 400, "DB_QUERY_FAILED",
     "max_value_bytes"),
    ("zeroblob(2 GB)", "SELECT zeroblob(2000000000)", 400, "DB_QUERY_FAILED", "max_value_bytes"),
    ("printf 100 MB", "SELECT printf('%.*c', 100000000, 'x')", 400, "DB_QUERY_FAILED",
     "max_value_bytes"),
    ("200,000 rows", COUNT.format(n=200000) + "SELECT x FROM c", 400, "DB_QUERY_FAILED",
     "max_result_rows"),
    ("80 MB of JSON", COUNT.format(n=10000) + "SELECT hex(randomblob(4000)) AS h FROM c", 400,
     "DB_QUERY_FAILED", "max_result_bytes"),
] + [
    (f"PRAGMA {p}", f"PRAGMA {p}", 400, "DB_QUERY_FAILED", f"PRAGMA {p.split('=')[0]}")
    for p in ("hard_heap_limit=1", "soft_heap_limit=1", "temp_store_directory='/tmp'",
              "foreign_keys=OFF", "journal_mode=OFF", "writable_schema=ON", "query_only=1",
              "cache_size=-2000000", "mmap_size=1000000000", "locking_mode=EXCLUSIVE")
]

# longer than the query timeout (30 s): interrupted by the progress handler (full run only)
ENDLESS = ("endless recursive query", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 "
           "FROM c) SELECT count(*) FROM c", 400, "DB_QUERY_FAILED", "ran longer than")


def cut_stream(status: int, body: Any) -> Tuple[int, Any]:
    """A large answer streams: when a cap or the deadline cuts it after its 200, the body (not
    JSON) ends with a newline and the error object plus its `status`. That error, else as is."""
    if status == 200 and isinstance(body, str) and "\n" in body:
        try:
            err = json.loads(body.rsplit("\n", 1)[1])
        except ValueError:
            return status, body
        if isinstance(err, dict) and isinstance(err.get("status"), int):
            return err["status"], err
    return status, body


def oversized_body(p: Platform, mib: int = 33) -> Optional[str]:
    """POST a {mib} MiB JSON body over a raw socket (the platform may answer 413 before reading
    it all, which breaks the send): the answer must be 413 PAYLOAD_TOO_LARGE."""
    host, port = p.host_port
    body = b'{"sql":"SELECT ?","params":["' + b"x" * (mib << 20) + b'"]}'
    head = (f"POST /v1/db/query HTTP/1.1\r\nHost: {host}\r\nX-Aerostack-Key: {p.key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode()
    s = socket.create_connection((host, port), timeout=30)
    try:
        try:
            s.sendall(head + body)
        except OSError:
            pass  # answered and closed early: read what came
        raw = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                raw += chunk
        except OSError:
            pass
    finally:
        s.close()
    if not raw:
        return "no answer at all"
    head_s, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head_s.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head_s.lower():
        rest = rest.split(b"\r\n", 1)[1] if b"\r\n" in rest else rest
    try:
        parsed: Any = json.loads(rest[: rest.rfind(b"}") + 1])
    except ValueError:
        parsed = rest[:200].decode(errors="replace")
    return error_matches(status, parsed, 413, "PAYLOAD_TOO_LARGE", "MiB")


def run(quick: bool) -> Result:
    res = Result("hostile and oversized queries")
    work = temp_workdir("queries")
    p = start(work, tag="queries")
    stop = threading.Event()
    watched = [0]
    try:
        b_proj = p.create_project("reliability-b")

        def watch() -> None:
            # the bystanders: health and another project's SELECT 1, every 100 ms
            while not stop.is_set():
                for path, body, key in (("/v1/health", None, p.key),
                                        ("/v1/db/query", {"sql": "SELECT 1 AS one"}, b_proj["api_key"])):
                    http = Http(p, timeout=BOUND_S)
                    t0 = time.monotonic()
                    try:
                        s, b = http.request("GET" if body is None else "POST", path, body, keyed(key))
                        dt = time.monotonic() - t0
                        if s != 200:
                            res.fail(f"bystander {path} answered {s}: {str(b)[:120]}")
                        elif dt > BOUND_S:
                            res.fail(f"bystander {path} took {dt:.1f} s")
                        else:
                            res.ok()
                            watched[0] += 1
                    except Exception as e:
                        res.fail(f"bystander {path}: no answer within {BOUND_S:.0f} s ({type(e).__name__})")
                    finally:
                        http.close()
                stop.wait(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        cases = list(HOSTILE) * (1 if quick else 3)
        if not quick:
            cases.append(ENDLESS)

        def hostile(case: Tuple[str, str, int, str, str]) -> None:
            what, sql, st, code, text = case
            http = Http(p, timeout=90)
            try:
                s, b = cut_stream(*http.request("POST", "/v1/db/query", {"sql": sql}, keyed(p.key)))
                res.check(error_matches(s, b, st, code, text), what)
            except Exception as e:
                res.fail(f"{what}: no answer ({type(e).__name__}: {e})")
            finally:
                http.close()

        # at once, several per project slot (8): the platform must stay up for the others
        with ThreadPoolExecutor(max_workers=4 if quick else 10) as pool:
            list(pool.map(hostile, cases))
        res.check(oversized_body(p), "33 MiB JSON body")
        # nothing stuck to the connections: the same project still reads and writes
        http = Http(p)
        for sql, want in (("PRAGMA foreign_keys", None), ("PRAGMA journal_mode", "wal"),
                          ("CREATE TABLE IF NOT EXISTS rel_after (x)", None),
                          ("INSERT INTO rel_after VALUES (1)", None)):
            s, b = http.request("POST", "/v1/db/query", {"sql": sql}, keyed(p.key))
            problem = None if s == 200 else f"answered {s}: {str(b)[:160]}"
            if problem is None and want is not None:
                got = json.dumps(b.get("results"))
                if want not in got.lower():
                    problem = f"expected {want!r} in {got}"
            res.check(problem, f"after the hostile queries: {sql}")
        http.close()
        stop.set()
        watcher.join(timeout=BOUND_S + 2)
        res.notes.append(f"{len(cases)} hostile queries at once (+ a 33 MiB body), "
                         f"{watched[0]} bystander answers within {BOUND_S:.0f} s"
                         + ("" if quick else ", incl. a query interrupted at the 30 s timeout"))
        return res
    finally:
        stop.set()
        p.stop()
        shutil.rmtree(work, ignore_errors=True)
