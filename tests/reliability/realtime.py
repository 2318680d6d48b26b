"""Probe 4: hostile realtime clients (project key). Too many topics, huge presence state, huge
messages (publish, chat, server-side emit), an oversized frame, a binary frame: each refused with
its documented error (docs/realtime.md §7 Limits), while a well-behaved client on the same project
keeps receiving and /v1/health keeps answering."""

from __future__ import annotations

import shutil
import socket
import time
from typing import Any, Dict, Optional

from platform_proc import Http, Platform, error_matches, keyed, start, temp_workdir
from result import Result
from ws import Closed, WebSocket

TOPICS_PER_CONNECTION = 100  # realtime_topics_per_connection
PRESENCE_BYTES = 16 * 1024  # realtime_presence_bytes
MESSAGE_BYTES = 256 * 1024  # realtime_message_bytes
FRAME_BYTES = 1 << 20  # one client frame


def is_error(code: str):
    return lambda f: f.get("type") == "error" and f.get("code") == code


def expect_error(ws: WebSocket, code: str, timeout: float = 10.0) -> Optional[str]:
    """None when an `error` frame with `code` comes (other frames are skipped)."""
    try:
        f = ws.wait_for(lambda f: f.get("type") in ("error", "ack", "authenticated"), timeout)
    except (socket.timeout, TimeoutError):
        return f"no error frame {code} within {timeout:.0f} s"
    except Closed as e:
        return f"socket closed ({e.code}) instead of an error frame {code}"
    if f.get("type") != "error" or f.get("code") != code:
        return f"expected error frame {code}, got {str(f)[:200]}"
    return None


def hostile_socket(p: Platform, res: Result, label: str, *, key: str = "", token: str = "",
                   round_: int = 0) -> None:
    """One hostile connection trying every per-connection limit (key or end-user token)."""
    host, port = p.host_port
    ws = WebSocket(host, port, key=key, token=token)
    try:
        ws.wait_for(lambda f: f.get("type") == "connected", 5)
        # 1. topics: the first 100 are fine, the 101st is refused; a re-subscribe is no new topic
        for i in range(TOPICS_PER_CONNECTION):
            ws.send({"type": "subscribe", "topic": f"relt{round_}/t{i}"})
        got = 0
        try:
            while got < TOPICS_PER_CONNECTION:
                f = ws.recv(10)
                if f.get("type") == "subscribed":
                    got += 1
                elif f.get("type") == "error":
                    break
        except (socket.timeout, TimeoutError, Closed) as e:
            pass
        res.check(None if got == TOPICS_PER_CONNECTION else
                  f"only {got} of {TOPICS_PER_CONNECTION} subscriptions answered `subscribed`",
                  f"{label}: {TOPICS_PER_CONNECTION} topics")
        ws.send({"type": "subscribe", "topic": f"relt{round_}/one-too-many"})
        res.check(expect_error(ws, "RATE_LIMIT_EXCEEDED"), f"{label}: topic {TOPICS_PER_CONNECTION + 1}")
        ws.send({"type": "subscribe", "topic": f"relt{round_}/t0"})
        try:
            f = ws.wait_for(lambda f: f.get("type") in ("subscribed", "error"), 5)
            res.check(None if f["type"] == "subscribed" else f"refused: {str(f)[:160]}",
                      f"{label}: re-subscribe is not a new topic")
        except Exception as e:
            res.fail(f"{label}: re-subscribe: {type(e).__name__} {e}")
        # 2. presence state over 16 KiB
        ws.send({"type": "track", "topic": f"relt{round_}/t1", "state": {"blob": "p" * (PRESENCE_BYTES + 1024)}})
        res.check(expect_error(ws, "PAYLOAD_TOO_LARGE"), f"{label}: {PRESENCE_BYTES // 1024 + 1} KiB presence")
        # 3. a message over 256 KiB: publish (with an id, so the error echoes it) and chat
        ws.send({"type": "publish", "topic": f"relt{round_}/t2", "event": "big", "id": "big-1",
                 "persist": True, "data": {"blob": "m" * (MESSAGE_BYTES + 1024)}})
        res.check(expect_error(ws, "PAYLOAD_TOO_LARGE"), f"{label}: {MESSAGE_BYTES // 1024 + 1} KiB publish")
        ws.send({"type": "chat", "roomId": f"relt{round_}", "text": "c" * (MESSAGE_BYTES + 1024)})
        res.check(expect_error(ws, "PAYLOAD_TOO_LARGE"), f"{label}: {MESSAGE_BYTES // 1024 + 1} KiB chat")
        # 4. a binary frame: an error frame, the socket stays
        ws.send_frame(0x2, b"\x00\x01binary")
        try:
            f = ws.wait_for(lambda f: f.get("type") == "error", 5)
            ws.send({"type": "ping", "id": "after-binary"})
            ws.wait_for(lambda f: f.get("type") == "pong", 5)
            res.ok()
        except Exception as e:
            res.fail(f"{label}: binary frame: {type(e).__name__} {e}")
        # 5. one frame over 1 MiB: the socket is closed with 1009
        try:
            ws.send({"type": "publish", "topic": f"relt{round_}/t3", "event": "huge",
                     "data": "f" * (FRAME_BYTES + 4096)})
        except OSError:
            pass
        try:
            ws.wait_for(lambda f: False, 10)
            res.fail(f"{label}: a {FRAME_BYTES >> 20} MiB+ frame did not close the socket")
        except Closed as e:
            res.check(None if e.code == 1009 else
                      "dropped without the documented close frame 1009 (docs/realtime.md §7)"
                      if e.code is None else f"closed with {e.code}, expected 1009",
                      f"{label}: frame over 1 MiB")
        except (socket.timeout, TimeoutError):
            res.fail(f"{label}: a frame over 1 MiB: socket neither closed nor answered in 10 s")
        except OSError:
            res.fail(f"{label}: a frame over 1 MiB: the connection was reset, no close frame 1009")
    except Exception as e:
        res.fail(f"{label}: {type(e).__name__}: {e}")
    finally:
        ws.sock.close()


def bystander_receives(p: Platform, res: Result, label: str) -> None:
    """A well-behaved subscriber still gets a server emit within 5 s; /v1/health answers."""
    host, port = p.host_port
    try:
        ws = WebSocket(host, port, key=p.key)
        ws.send({"type": "subscribe", "topic": "rel/ok"})
        ws.wait_for(lambda f: f.get("type") == "subscribed", 5)
        t0 = time.monotonic()
        s, b = Http(p).request("POST", "/v1/realtime/emit", {"event": "ok", "data": {"n": 1},
                                                            "room": "rel/ok"}, keyed(p.key))
        if s != 200:
            res.fail(f"{label}: emit answered {s}: {str(b)[:160]}")
        else:
            ws.wait_for(lambda f: f.get("type") == "event" and f.get("event") == "ok", 5)
            res.ok()
        ws.close()
        s, b = Http(p, timeout=5).request("GET", "/v1/health")
        res.check(None if s == 200 else f"answered {s}", f"{label}: /v1/health")
        _ = time.monotonic() - t0
    except Exception as e:
        res.fail(f"{label}: a well-behaved client: {type(e).__name__}: {e}")


def big_emit(p: Platform, res: Result) -> None:
    s, b = Http(p).request("POST", "/v1/realtime/emit", {
        "event": "big", "room": "rel/big", "persist": True,
        "data": {"blob": "e" * (MESSAGE_BYTES + 1024)}}, keyed(p.key))
    res.check(error_matches(s, b, 413, "PAYLOAD_TOO_LARGE", "realtime_message_bytes"),
              "emit over 256 KiB")


def run(quick: bool) -> Result:
    res = Result("hostile realtime clients (key)")
    work = temp_workdir("realtime")
    p = start(work, tag="realtime")
    try:
        for r in range(1 if quick else 5):
            hostile_socket(p, res, f"key socket {r}", key=p.key, round_=r)
            big_emit(p, res)
            bystander_receives(p, res, f"after hostile socket {r}")
        res.notes.append("per socket: 101 topics, 17 KiB presence, 257 KiB publish/chat, binary "
                         "frame, >1 MiB frame; 257 KiB emit; a bystander keeps receiving")
        return res
    finally:
        p.stop()
        shutil.rmtree(work, ignore_errors=True)
