"""Probe 5: an end user's token (self-registered through the public auth routes, no API key)
trying every limit: key-only routes, the Worker RPC, every realtime limit, sockets per user,
another project's topics and history, the access rules, and the auth rate limits (the platform
runs with the hosted rate limits on)."""

from __future__ import annotations

import shutil
import time
from typing import List

from platform_proc import Http, Platform, bearer, error_matches, keyed, start, temp_workdir
from realtime import bystander_receives, expect_error, hostile_socket
from result import Result
from ws import HandshakeRefused, WebSocket

PER_USER_SOCKETS = 20  # realtime_connections_per_user

KEY_ONLY = [
    ("POST", "/v1/db/query", {"sql": "SELECT 1"}),
    ("POST", "/v1/db/batch", {"statements": [{"sql": "SELECT 1"}]}),
    ("POST", "/v1/cache/set", {"key": "k", "value": 1}),
    ("POST", "/v1/cache/flush", {}),
    ("POST", "/v1/queue/enqueue", {"type": "t", "data": {}}),
    ("POST", "/v1/storage/list", {}),
    ("POST", "/v1/collections/todos/items", {"x": 1}),
    ("POST", "/v1/realtime/emit", {"event": "e", "data": {}, "room": "chat/x"}),
    ("POST", "/v1/secrets/list", {}),
    ("GET", "/v1/local/rules", None),
    ("POST", "/v1/local/rules", {"kind": "topic", "pattern": "*"}),
    ("GET", "/v1/local/outbox", None),
]


def register(p: Platform, email: str) -> dict:
    s, b = Http(p).request("POST", f"/api/v1/public/projects/{p.project_id}/auth/register",
                           {"email": email, "password": "Reliab1lity-probe!", "name": "probe"})
    if s not in (200, 201) or not isinstance(b, dict) or not b.get("accessToken"):
        raise RuntimeError(f"register answered {s}: {str(b)[:200]}")
    return b


def run(quick: bool) -> Result:
    res = Result("end-user token vs every limit")
    work = temp_workdir("enduser")
    p = start(work, tag="enduser", rate_limits="on")
    host, port = p.host_port
    try:
        other = p.create_project("reliability-other")
        token = register(p, "probe@example.com")["accessToken"]
        http = Http(p)
        # key-only routes: an end-user token is not an API key
        for method, path, body in KEY_ONLY:
            s, b = http.request(method, path, body, bearer(token))
            res.check(error_matches(s, b, 401, "AUTH_INVALID_KEY"), f"token on {method} {path}")
        s, b = http.request("POST", "/internal/hooks/rpc", {"method": "db.query",
                                                           "args": {"sql": "SELECT 1"}}, bearer(token))
        res.check(error_matches(s, b, 403, "FORBIDDEN"), "token on the Worker RPC")
        # another project's history: nothing of it
        Http(p).request("POST", "/v1/realtime/emit", {"event": "secret", "data": {"s": 1},
                                                      "room": "chat/secret", "persist": True},
                        keyed(other["api_key"]))
        s, b = http.request("GET", f"/api/v1/public/realtime/history?room=chat/secret/"
                                   f"{other['project_id']}", None, bearer(token))
        res.check(None if s in (200, 403) and not (isinstance(b, dict) and b.get("messages"))
                  else f"answered {s} with {str(b)[:160]}", "token reads another project's history")
        # every per-connection realtime limit, with the token alone
        for r in range(1 if quick else 3):
            hostile_socket(p, res, f"token socket {r}", token=token, round_=r)
        # another project's topic
        ws = WebSocket(host, port, token=token)
        ws.send({"type": "subscribe", "topic": f"chat/x/{other['project_id']}"})
        res.check(expect_error(ws, "FORBIDDEN"), "token subscribes to another project's topic")
        ws.close()
        # sockets per user: 20 open, the 21st handshake is 429
        time.sleep(0.5)  # the closed sockets above leave the per-user count
        socks: List[WebSocket] = []
        refused = None
        for i in range(PER_USER_SOCKETS + 1):
            try:
                socks.append(WebSocket(host, port, token=token))
            except HandshakeRefused as e:
                refused = (i, e)
                break
        if refused is None:
            res.fail(f"{PER_USER_SOCKETS + 1} sockets of one end user all accepted")
        else:
            i, e = refused
            res.check(None if i == PER_USER_SOCKETS and e.status == 429 and "RATE_LIMIT_EXCEEDED" in e.body
                      else f"socket {i + 1} refused with {e.status}: {e.body[:160]}",
                      f"socket {PER_USER_SOCKETS + 1} of one end user")
        for w in socks:
            w.close()
        # access rules: once a project has one, the token reaches only what the rules list
        s, b = http.request("POST", "/v1/db/query", {"sql": "CREATE TABLE IF NOT EXISTS rel_private (x)"},
                            keyed(p.key))
        s, b = http.request("POST", "/v1/local/rules", {"kind": "topic", "pattern": "chat/*"}, keyed(p.key))
        res.check(None if 200 <= s < 300 else f"answered {s}: {str(b)[:160]}", "add a topic rule (key)")
        time.sleep(0.5)
        ws = WebSocket(host, port, token=token)
        for topic in ("rooms/secret", "rel_private"):
            ws.send({"type": "subscribe", "topic": topic})
            res.check(expect_error(ws, "FORBIDDEN"), f"rules: token subscribes to {topic}")
        ws.send({"type": "publish", "topic": "rooms/secret", "event": "e", "data": {}, "id": "p1"})
        res.check(expect_error(ws, "FORBIDDEN"), "rules: token publishes to rooms/secret")
        ws.send({"type": "subscribe", "topic": "chat/general"})
        try:
            f = ws.wait_for(lambda f: f.get("type") in ("subscribed", "error"), 5)
            res.check(None if f["type"] == "subscribed" else str(f)[:160], "rules: token subscribes to chat/general")
        except Exception as e:
            res.fail(f"rules: chat/general: {type(e).__name__} {e}")
        ws.close()
        http.request("DELETE", "/v1/local/rules", {"kind": "topic", "pattern": "chat/*"}, keyed(p.key))
        bystander_receives(p, res, "after the end user")
        # auth rate limits (on): failed logins lock the email, registrations per IP are bounded
        login = f"/api/v1/public/projects/{p.project_id}/auth/login"
        hit = None
        for i in range(12):
            s, b = http.request("POST", login, {"email": "probe@example.com", "password": f"wrong-{i}"})
            if s == 429:
                hit = i
                break
        res.check(None if hit is not None and isinstance(b, dict) and b.get("code") == "RATE_LIMIT_EXCEEDED"
                  else f"12 failed logins, no 429 RATE_LIMIT_EXCEEDED (last {s} {str(b)[:120]})",
                  "failed logins against one email")
        hit = None
        for i in range(8):
            s, b = http.request("POST", f"/api/v1/public/projects/{p.project_id}/auth/register",
                                {"email": f"flood{i}@example.com", "password": "Reliab1lity-probe!"})
            if s == 429:
                hit = i
                break
        res.check(None if hit is not None else f"8 registrations from one IP, no 429 (last {s})",
                  "registration flood from one IP")
        http.close()
        res.notes.append(f"{len(KEY_ONLY)} key-only routes + RPC, realtime limits with the token, "
                         f"{PER_USER_SOCKETS + 1} sockets, access rules, login/register rate limits")
        return res
    except Exception as e:
        res.fail(f"{type(e).__name__}: {e}")
        return res
    finally:
        p.stop()
        shutil.rmtree(work, ignore_errors=True)
