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
HISTORY_PER_TOPIC = 10_000  # realtime_history_per_topic
TRIM_EVERY = 64  # the platform trims a topic's history every 64 stores (realtime/store.rs)

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


def retention(p: Platform, res: Result, token: str) -> None:
    """The end user persists more messages on one topic than the platform keeps
    (`realtime_history_per_topic`): history holds at most that many, the newest included."""
    host, port = p.host_port
    ws = WebSocket(host, port, token=token, timeout=30)
    n = HISTORY_PER_TOPIC + 300
    window = 200  # publishes in flight before waiting for acks (bounded memory both sides)
    acked = 0
    for i in range(n):
        ws.send({"type": "publish", "topic": "chat/retention", "event": "m", "data": {"i": i},
                 "persist": True, "id": i})
        if i - acked >= window or i == n - 1:
            while acked < (i + 1 if i == n - 1 else i - window // 2):
                f = ws.recv(30)
                if f.get("type") == "ack":
                    acked += 1
                elif f.get("type") == "error":
                    res.fail(f"retention: publish refused: {str(f)[:160]}")
                    ws.close()
                    return
    ws.close()
    http = Http(p)
    total, since, since_seq, newest = 0, 0, 0, None
    for _ in range(n // 200 + 2):  # bounded paging
        s, b = http.request("GET", f"/api/v1/public/realtime/history?room=chat/retention&limit=200"
                                   f"&since={since}&since_seq={since_seq}", None, bearer(token))
        if s != 200:
            res.fail(f"retention: history answered {s}: {str(b)[:160]}")
            return
        msgs = b["messages"]
        total += len(msgs)
        if msgs:
            newest = msgs[-1]["data"]
            since, since_seq = msgs[-1]["created_at"], msgs[-1]["seq"]
        if len(msgs) < 200:
            break
    res.check(None if total <= HISTORY_PER_TOPIC + TRIM_EVERY and newest == {"i": n - 1} else
              f"{total} messages kept of {n}, bound {HISTORY_PER_TOPIC} + {TRIM_EVERY} (newest {newest})",
              f"retention: {n} persisted messages on one topic")


def upload(p: Platform, key: str, content: bytes, content_type: str, public: bool) -> dict:
    """A multipart upload with the project key (the standard library has no multipart encoder)."""
    boundary = "relprobe" + str(time.monotonic_ns())
    parts = [("key", key.encode()), ("contentType", content_type.encode()),
             ("public", b"true" if public else b"false")]
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n'.encode()
                    + v + b"\r\n" for n, v in parts)
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
             f"Content-Type: {content_type}\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    s, b = Http(p).request("POST", "/v1/storage/upload", body,
                           dict(keyed(p.key), **{"Content-Type": f"multipart/form-data; boundary={boundary}"}))
    if s != 200 or not isinstance(b, dict):
        raise RuntimeError(f"upload {key} answered {s}: {str(b)[:160]}")
    return b


def storage_attacks(p: Platform, res: Result, token: str) -> None:
    """Anonymous and end-user reads of objects: a private object only through its signed URL,
    an access token is no signed URL, a signed URL grants its own object only; uploaded HTML is
    never served as a page of the API's origin."""
    import http.client
    from urllib.parse import urlsplit

    private = upload(p, "rel/private.txt", b"secret", "text/plain", public=False)
    upload(p, "rel/other.txt", b"other", "text/plain", public=False)
    page = upload(p, "rel/page.html", b"<script>alert(1)</script>", "text/html", public=True)
    signed = urlsplit(private["url"])
    sig = signed.query
    base = f"/files/{p.project_id}"

    def get(path: str):
        c = http.client.HTTPConnection(*p.host_port, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    s, _, body = get(f"{base}/rel/private.txt")
    res.check(None if s in (401, 403, 404) else f"answered {s} ({body[:40]!r})",
              "anonymous GET of a private object")
    s, _, body = get(f"{base}/rel/private.txt?token={token}")
    res.check(None if s in (401, 403, 404) else f"answered {s} ({body[:40]!r})",
              "an end user's access token as a signed URL")
    s, _, body = get(f"{base}/rel/other.txt?{sig}")
    res.check(None if s in (401, 403, 404) else f"answered {s} ({body[:40]!r})",
              "one object's signed URL on another object")
    s, _, body = get(f"{signed.path}?{sig}")
    res.check(None if s == 200 and body == b"secret" else f"answered {s}", "the signed URL itself")
    s, h, _ = get(urlsplit(page["url"]).path)
    res.check(None if s == 200 and h.get("x-content-type-options") == "nosniff"
              and "attachment" in h.get("content-disposition", "") else
              f"answered {s} with {h}", "uploaded text/html served as an attachment, nosniff")


def replay_and_refresh(p: Platform, res: Result) -> None:
    """An anonymous caller reusing a victim's Idempotency-Key gets 409, not the victim's tokens;
    a rotated-out refresh token presented again ends its whole family."""
    http = Http(p)
    path = f"/api/v1/public/projects/{p.project_id}/auth/register"
    idem = {"Idempotency-Key": "rel-victim-key"}
    s, victim = http.request("POST", path, {"email": "victim@example.com",
                                            "password": "Reliab1lity-probe!"}, idem)
    if s not in (200, 201):
        res.fail(f"replay: victim register answered {s}: {str(victim)[:160]}")
        return
    s, b = http.request("POST", path, {"email": "attacker@example.com",
                                       "password": "Reliab1lity-probe!"}, idem)
    leaked = isinstance(b, dict) and b.get("accessToken") == victim.get("accessToken")
    res.check("the victim's tokens were replayed" if leaked else
              error_matches(s, b, 409, "IDEMPOTENCY_CONFLICT"), "replay of another caller's Idempotency-Key")
    refresh = f"/api/v1/public/projects/{p.project_id}/auth/refresh"
    rt1 = victim.get("refreshToken")
    s, b = http.request("POST", refresh, {"refreshToken": rt1})
    rt2 = b.get("refreshToken") if isinstance(b, dict) else None
    if s != 200 or not rt2:
        res.fail(f"refresh answered {s}: {str(b)[:160]}")
        return
    s, b = http.request("POST", refresh, {"refreshToken": rt1})
    res.check(None if s == 401 else f"answered {s}", "reuse of a rotated refresh token")
    s, b = http.request("POST", refresh, {"refreshToken": rt2})
    res.check(None if s == 401 else f"answered {s}: the family was not revoked",
              "the reused token's family after the reuse")


def run(quick: bool) -> Result:
    res = Result("end user / anonymous vs every limit")
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
        if not quick:
            retention(p, res, token)
        replay_and_refresh(p, res)
        storage_attacks(p, res, token)
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
                         f"{PER_USER_SOCKETS + 1} sockets, access rules, Idempotency-Key replay, "
                         "refresh-token reuse, private objects and signed URLs, login/register rate limits"
                         + ("" if quick else f", {HISTORY_PER_TOPIC + 300} persisted messages on "
                            "one topic (retention)"))
        return res
    except Exception as e:
        res.fail(f"{type(e).__name__}: {e}")
        return res
    finally:
        p.stop()
        shutil.rmtree(work, ignore_errors=True)
