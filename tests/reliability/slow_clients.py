"""Probe 2: slow clients. Many sockets that send a request's headers one byte at a time, and
many that connect and send nothing, while other clients keep calling /v1/health and a project's
`SELECT 1`: each of those must answer within a bound. The full run also waits past the header
read timeout (30 s) and checks the platform closed every slow socket."""

from __future__ import annotations

import resource
import shutil
import socket
import threading
import time
from typing import List

from platform_proc import Http, keyed, start, temp_workdir
from result import Result

BOUND_S = 5.0  # an honest client's answer time while the slow ones hang on
HEADER_READ_TIMEOUT_S = 30.0  # Limits::header_read_timeout


def run(quick: bool) -> Result:
    res = Result("slow and idle clients")
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    # stay well under the platform's connection cap (half the open-file limit) and our own
    n_slow = min(40 if quick else 400, max(8, soft // 4))
    checks = 20 if quick else 120
    work = temp_workdir("slow")
    p = start(work, tag="slow")
    host, port = p.host_port
    socks: List[socket.socket] = []
    stop = threading.Event()
    try:
        request = f"GET /v1/health HTTP/1.1\r\nHost: {host}\r\nX-Aerostack-Key: {p.key}\r\n\r\n"
        for i in range(n_slow):
            s = socket.create_connection((host, port), timeout=5)
            s.setblocking(False)
            socks.append(s)
        slow = socks[: n_slow // 2]  # the other half stays silent

        def trickle() -> None:
            # one byte per socket every 0.5 s; the request line never completes in time
            i = 0
            while not stop.is_set():
                for s in slow:
                    try:
                        s.send(request[i % (len(request) - 4)].encode())
                    except OSError:
                        pass  # closed by the platform (what the full run waits for)
                i += 1
                stop.wait(0.5)

        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        time.sleep(0.5)
        # honest clients: a fresh connection per check, so each one needs an accept
        for i in range(checks):
            http = Http(p, timeout=BOUND_S)
            path, body = ("/v1/health", None) if i % 2 == 0 else ("/v1/db/query", {"sql": "SELECT 1"})
            t0 = time.monotonic()
            try:
                s, b = http.request("GET" if body is None else "POST", path, body, keyed(p.key))
                dt = time.monotonic() - t0
                if s != 200:
                    res.fail(f"{path} answered {s}: {str(b)[:120]}")
                elif dt > BOUND_S:
                    res.fail(f"{path} took {dt:.1f} s (bound {BOUND_S} s)")
                else:
                    res.ok()
            except Exception as e:
                res.fail(f"{path} with {n_slow} slow clients open: {type(e).__name__}: {e}")
            finally:
                http.close()
            time.sleep(0.05 if quick else 0.2)
        res.notes.append(f"{n_slow} slow-header/idle sockets open, {checks} health/SELECT 1 "
                         f"checks from fresh connections, bound {BOUND_S:.0f} s")
        if not quick:
            # every slow socket must be closed by the platform after the header read timeout
            deadline = time.monotonic() + HEADER_READ_TIMEOUT_S + 10
            open_socks = set(range(n_slow))
            while open_socks and time.monotonic() < deadline:
                for i in list(open_socks):
                    try:
                        if socks[i].recv(65536) == b"":
                            open_socks.discard(i)
                    except BlockingIOError:
                        pass
                    except OSError:
                        open_socks.discard(i)  # reset by the platform: closed too
                time.sleep(0.5)
            if open_socks:
                res.fail(f"{len(open_socks)} of {n_slow} slow/idle sockets still open "
                         f"{HEADER_READ_TIMEOUT_S + 10:.0f} s after connecting")
            else:
                res.ok()
                res.notes.append(f"all {n_slow} closed by the platform within "
                                 f"{HEADER_READ_TIMEOUT_S + 10:.0f} s (header read timeout)")
        return res
    finally:
        stop.set()
        for s in socks:
            s.close()
        p.stop()
        shutil.rmtree(work, ignore_errors=True)
