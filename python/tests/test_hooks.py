"""Hooks (issue 4): Logic Modules and queue workers written in Python, served against the
in-process local platform. Seed 000's search-products module and sendWelcomeEmail worker; a
tiny local HTTP server stands in for SendGrid (a third party)."""

from __future__ import annotations

import asyncio
import logging
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from aerostack import SyncAerostackClient, hooks
from aerostack.errors import AerostackError
from aerostack.hooks import AsyncSdk, Hooks, SyncSdk
from aerostack.local import LocalPlatform


class Project:
    def __init__(self, platform: LocalPlatform, info: Dict[str, Any]) -> None:
        self.platform = platform
        self.id: str = info["id"]
        self.slug: str = info["slug"]
        self.api_key: str = info["api_key"]
        self.client = SyncAerostackClient(project_id=self.id, api_key=self.api_key, base_url=platform.api_url)

    def worker_options(self) -> Dict[str, Any]:
        return {"api_key": self.api_key, "base_url": self.platform.api_url}

    def public_url(self, slug: str) -> str:
        return f"{self.platform.url}/api/v1/public/projects/{self.slug}/custom/{slug}"


def http(method: str, url: str, body: Any = None, key: Optional[str] = None) -> Tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("X-API-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class SendGrid:
    """Stands in for https://api.sendgrid.com (a third party): records every request."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("content-length") or 0)
                outer.requests.append({
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": json.loads(self.rfile.read(n) or b"null"),
                })
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def project(platform: LocalPlatform) -> Project:
    p = Project(platform, platform.create_project("hooks-tests"))
    p.client.db.query("CREATE TABLE products (id INTEGER PRIMARY KEY, project_id TEXT, name TEXT, slug TEXT)")
    p.client.db.batch([
        ("INSERT INTO products (project_id, name, slug) VALUES (?, ?, ?)", [p.id, name, name.lower().replace(" ", "-")])
        for name in ("Blue shirt", "Red shirt", "Green hat")
    ])
    p.client.db.query("CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, email TEXT)")
    return p


@pytest.fixture(scope="module")
def sendgrid() -> Iterator[SendGrid]:
    s = SendGrid()
    yield s
    s.close()


def make_app(sendgrid_url: str) -> Hooks:
    app = Hooks(concurrency=4)

    # Seed 000, "Example: Custom Search API", as an async handler.
    @app.module("search-products", name="Search products", methods=["POST", "GET"], public=True)
    async def search_products(sdk: AsyncSdk, event: Any) -> Any:
        data = event.data or event.get("query") or {}
        q, limit = data.get("q") or "", int(data.get("limit") or 10)
        rows = await sdk.db.query(
            "SELECT id, name, slug FROM products WHERE project_id = ? AND name LIKE ? LIMIT ?",
            [event.project_id, f"%{q}%", limit],
        )
        return {"results": rows.results, "count": len(rows.results)}

    # The same, blocking: a plain def runs in the thread pool with the sync sdk.
    @app.module("search-products-sync")
    def search_products_sync(sdk: SyncSdk, event: Any) -> Any:
        rows = sdk.db.query("SELECT name FROM products WHERE name LIKE ?", [f"%{event.data['q']}%"])
        return {"results": rows.results, "count": len(rows), "thread": threading.current_thread().name}

    @app.module("event-times")
    def event_times(sdk: SyncSdk, event: Any) -> Any:
        return {"timestamp": type(event.timestamp).__name__, "tz": str(event.timestamp.tzinfo), "data": event.data}

    @app.module("broken", public=True)
    def broken(sdk: SyncSdk, event: Any) -> Any:
        raise RuntimeError("the shelf is empty")

    @app.module("cache-and-secrets")
    async def cache_and_secrets(sdk: AsyncSdk, event: Any) -> Any:
        await sdk.cache.set("greeting", {"text": event.data["text"]}, 60)
        got = await sdk.cache.get("greeting")
        secret = await sdk.secrets.get("HOOK_SECRET")
        job = await sdk.queue.enqueue("never-served", {"from": "hook"})
        return {"cached": got, "secret": secret, "job_id": job.job_id, "project": sdk.project_id}

    # Seed 000's queue worker: registered by function name, serves "send-welcome-email".
    @app.job
    def send_welcome_email(sdk: SyncSdk, job: Any) -> Any:
        user_id, email = job.data["user_id"], job.data["email"]
        user = sdk.db.query("SELECT * FROM users WHERE id = ?", [user_id]).first()
        assert user is not None, f"no user {user_id}"
        r = sdk.fetch(f"{sendgrid_url}/v3/mail/send", {
            "method": "POST",
            "headers": {
                "Authorization": f"Bearer {sdk.secrets.get('SENDGRID_KEY')}",
                "Content-Type": "application/json",
            },
            "body": json.dumps({
                "personalizations": [{"to": [{"email": email}]}],
                "from": {"email": "[email protected]"},
                "subject": "Welcome to Aerostack!",
                "content": [{"type": "text/html", "value": f"<h1>Hi {user.name}!</h1>"}],
            }),
        })
        return {"sent": r.ok, "status": r.status}

    @app.job("async-job")
    async def async_job(sdk: AsyncSdk, job: Any) -> Any:
        r = await sdk.fetch(f"{sendgrid_url}/v3/mail/send", method="POST", json={"async": job.data["n"]})
        return {"status": r.status, "attempt": job.attempt}

    return app


@pytest.fixture(scope="module")
def served(project: Project, sendgrid: SendGrid) -> Iterator[hooks.BackgroundWorker]:
    with make_app(sendgrid.url).start(**project.worker_options()) as w:
        yield w


def wait_job(client: SyncAerostackClient, job_id: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = client.queue.job(job_id)
        assert job is not None
        if job.status in ("completed", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_job_type_from_function_name() -> None:
    assert hooks.job_type_from_function_name("send_welcome_email") == "send-welcome-email"
    assert hooks.job_type_from_function_name("sendWelcomeEmail") == "send-welcome-email"
    app = Hooks()

    @app.job
    def send_welcome_email(sdk: Any, job: Any) -> None: ...

    @app.job("resize", timeout=5)
    def resize(sdk: Any, job: Any) -> None: ...

    @app.module("m", allow_get=True)
    def m(sdk: Any, event: Any) -> None: ...

    reg = app.registrations()
    assert reg["jobs"] == [{"type": "send-welcome-email"}, {"type": "resize", "timeout_ms": 5000}]
    assert reg["modules"] == [{"slug": "m", "methods": ["POST", "GET"], "public": False, "trigger": "api"}]


def test_search_products_public_post_and_get(served: Any, project: Project) -> None:
    url = project.public_url("search-products")
    status, body = http("POST", url, {"q": "shirt", "limit": 5})  # public: no key
    assert status == 200, body
    assert body["count"] == 2
    assert sorted(r["name"] for r in body["results"]) == ["Blue shirt", "Red shirt"]
    status, body = http("GET", url + "?q=hat")  # "allow GET"
    assert status == 200, body
    assert [r["name"] for r in body["results"]] == ["Green hat"]
    # The same module through the client's custom-API call.
    assert project.client.call("search-products", {"q": "Red"})["count"] == 1


def test_event_time_is_a_datetime_and_data_is_untouched(served: Any, project: Project) -> None:
    out = project.client.call("event-times", {"created_at": "2026-01-02T03:04:05.678Z"})
    assert out == {"timestamp": "datetime", "tz": "UTC", "data": {"created_at": "2026-01-02T03:04:05.678Z"}}


def test_private_module_needs_key_and_post(served: Any, project: Project) -> None:
    url = project.public_url("search-products-sync")
    status, body = http("POST", url, {"q": "shirt"})
    assert status == 401, body
    status, body = http("GET", url + "?q=shirt", key=project.api_key)
    assert status == 405, body
    status, body = http("POST", url, {"q": "shirt"}, key=project.api_key)
    assert status == 200, body
    assert body["count"] == 2
    assert body["thread"].startswith("aerostack-hook")  # a plain def runs in the pool


def test_handler_error_is_hook_failed(served: Any, project: Project) -> None:
    # An anonymous caller of a public module gets a generic message and the request id...
    status, body = http("POST", project.public_url("broken"), {})
    assert status == 500
    assert body["code"] == "HOOK_FAILED", body
    assert "the shelf is empty" not in str(body) and body["request_id"]
    # ...the project's key holder sees the handler's own message.
    with pytest.raises(AerostackError) as e:
        project.client.call("broken", {})
    assert e.value.code == "HOOK_FAILED" and "the shelf is empty" in e.value.message


def test_scoped_sdk_cache_secrets_queue(served: Any, project: Project) -> None:
    project.client.secrets.set("HOOK_SECRET", "s3cret")
    out = project.client.services.invoke("cache-and-secrets", {"text": "hi"})
    result = out.get("result", out)
    assert result["cached"] == {"text": "hi"}
    assert result["secret"] == "s3cret"
    assert result["project"] == project.id
    job = project.client.queue.job(result["job_id"])
    assert job is not None and job.type == "never-served"
    project.client.queue.cancel(result["job_id"])
    assert project.client.cache.get("greeting") == {"text": "hi"}  # the project's cache


def test_welcome_email_worker(served: Any, project: Project, sendgrid: SendGrid, uid: str) -> None:
    project.client.secrets.set("SENDGRID_KEY", "SG.test-key")
    project.client.db.query("INSERT INTO users (id, name, email) VALUES (?, ?, ?)", [uid, "Ada", f"{uid}@example.com"])
    before = len(sendgrid.requests)
    sent = project.client.queue.send("send-welcome-email", {"user_id": uid, "email": f"{uid}@example.com"})
    job = wait_job(project.client, sent.job_id)
    assert job.status == "completed", job
    assert job.result == {"sent": True, "status": 202}
    mails = [r for r in sendgrid.requests[before:] if r["path"] == "/v3/mail/send"]
    assert len(mails) == 1
    m = mails[0]
    assert m["headers"]["authorization"] == "Bearer SG.test-key"
    assert m["headers"]["user-agent"].startswith("aerostack-hooks/")
    assert m["body"]["personalizations"][0]["to"][0]["email"] == f"{uid}@example.com"
    assert "Hi Ada!" in m["body"]["content"][0]["value"]


def test_failing_job_is_retried_then_dead_lettered(served: Any, project: Project, uid: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="aerostack.hooks")
    sent = project.client.queue.send("send-welcome-email", {"user_id": f"missing-{uid}", "email": "x@y.z"},
                                     max_retries=0)
    job = wait_job(project.client, sent.job_id)
    assert job.status == "failed"
    assert f"no user missing-{uid}" in (job.get("last_error") or job.get("lastError") or "")
    # One WARNING line per failed attempt, without a traceback; the traceback is at DEBUG.
    mine = [r for r in caplog.records if r.name == "aerostack.hooks" and f"missing-{uid}" in r.getMessage()]
    warnings = [r for r in mine if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].exc_info is None, [r.getMessage() for r in mine]
    assert "\n" not in warnings[0].getMessage()
    assert any(r.levelno == logging.DEBUG and r.exc_info for r in caplog.records if r.name == "aerostack.hooks")


def test_async_job(served: Any, project: Project) -> None:
    sent = project.client.queue.send("async-job", {"n": 7})
    job = wait_job(project.client, sent.job_id)
    assert job.status == "completed", job
    assert job.result == {"status": 202, "attempt": 1}


async def test_serve_on_the_running_loop_and_drain(platform: LocalPlatform) -> None:
    """``await serve()`` on the caller's loop; stopping drains: the call in flight still answers."""
    p = Project(platform, platform.create_project("hooks-drain"))
    app = Hooks()
    started = asyncio.Event()

    @app.module("slow")
    async def slow(sdk: AsyncSdk, event: Any) -> Any:
        started.set()
        await asyncio.sleep(0.5)
        return {"done": event.data["n"]}

    stop = asyncio.Event()
    ready = threading.Event()
    server = asyncio.ensure_future(app.serve(stop=stop, handle_signals=False, ready=lambda w: ready.set(),
                                             **p.worker_options()))
    while not ready.is_set():
        await asyncio.sleep(0.01)
    call = asyncio.ensure_future(asyncio.to_thread(p.client.call, "slow", {"n": 1}))
    await asyncio.wait_for(started.wait(), 10)
    stop.set()  # drain while the call is in flight
    assert await asyncio.wait_for(call, 10) == {"done": 1}
    await asyncio.wait_for(server, 10)
    # Drained: nothing serves the module any more.
    status, body = http("POST", p.public_url("slow"), {"n": 2}, key=p.api_key)
    assert status == 503 and body["code"] == "WORKER_NOT_CONNECTED", body


def test_connect_errors(platform: LocalPlatform) -> None:
    app = Hooks()
    with pytest.raises(ValueError):
        app.start(api_key=platform.api_key, base_url=platform.api_url)  # nothing registered

    @app.module("x")
    def x(sdk: Any, event: Any) -> None: ...

    with pytest.raises(AerostackError) as e:
        app.start(api_key="ac_secret_wrong", base_url=platform.api_url)
    assert e.value.code == "AUTH_INVALID_KEY"


def test_runner_serves_a_file_and_drains_on_sigterm(platform: LocalPlatform, tmp_path: Any) -> None:
    """``python -m aerostack.hooks path.py``: serves the file's handlers; SIGTERM drains and exits 0."""
    import os
    import signal
    import subprocess
    import sys

    p = Project(platform, platform.create_project("hooks-runner"))
    handlers = tmp_path / "handlers.py"
    handlers.write_text(
        "from aerostack import hooks\n\n"
        "@hooks.module('echo')\n"
        "def echo(sdk, event):\n"
        "    return {'echo': event.data, 'project': sdk.project_id}\n\n"
        "if __name__ == '__main__':\n"
        "    raise SystemExit('the runner must not run the main block')\n"
    )
    env = dict(os.environ, AEROSTACK_API_KEY=p.api_key, AEROSTACK_API_URL=platform.api_url)
    proc = subprocess.Popen([sys.executable, "-m", "aerostack.hooks", str(handlers), "-q"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            status, body = http("POST", p.public_url("echo"), {"x": 1}, key=p.api_key)
            if status == 200 or time.monotonic() > deadline or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert status == 200, (body, proc.stdout.read() if proc.poll() is not None and proc.stdout else "")
        assert body == {"echo": {"x": 1}, "project": p.id}
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(15)
        assert rc == 0, proc.stdout.read() if proc.stdout else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_ai_chat_and_socket_emit(ai_platform: LocalPlatform) -> None:
    """``sdk.ai.chat(model, messages)`` (seed 000's argument order) and ``sdk.socket.emit``,
    from an async and a sync handler."""
    p = Project(ai_platform, {"id": ai_platform.project_id, "slug": ai_platform.project_slug,
                              "api_key": ai_platform.api_key})
    app = Hooks()

    @app.module("classify")
    async def classify(sdk: AsyncSdk, event: Any) -> Any:
        reply = await sdk.ai.chat("@cf/meta/llama-3-8b-instruct", [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": event.data["review"]},
        ])
        sent = await sdk.socket.emit("review.classified", {"text": reply.text}, "reviews")
        return {"text": reply.text, "topic": sent.get("topic")}

    @app.module("notify")
    def notify(sdk: SyncSdk, event: Any) -> Any:
        return {"topic": sdk.socket.emit("ping", {"n": 1}, "lobby").get("topic")}

    with app.start(**p.worker_options()):
        out = p.client.call("classify", {"review": "Great product!"})
        assert "Great product!" in out["text"]
        assert "reviews" in out["topic"]
        assert "lobby" in p.client.call("notify", {})["topic"]


def test_queue_wait_returns_the_job_with_every_attempt(served: Any, project: Project, uid: str) -> None:
    """queue.wait blocks until the job is over; the record keeps each run, not just the last."""
    from aerostack import errors

    sent = project.client.queue.send("send-welcome-email", {"user_id": f"missing-{uid}", "email": "x@y.z"},
                                     max_retries=1)
    job = project.client.queue.wait(sent.job_id, timeout=30)
    assert job.status == "failed"
    runs = job.history
    assert [r.attempt for r in runs] == [1, 2], runs
    assert all(r.outcome == "failed" and f"missing-{uid}" in r.error for r in runs), runs
    assert all(r.started_at and r.ended_at for r in runs), runs

    idle = project.client.queue.send("nobody-serves-this", {}, max_retries=0)
    with pytest.raises(errors.AerostackTimeoutError, match="worker"):
        project.client.queue.wait(idle.job_id, timeout=0.3)


def test_wait_until_a_worker_serves_a_module(platform: LocalPlatform) -> None:
    """local.wait_served returns once a worker registered the name; before that it times out
    saying what is served."""
    from aerostack import errors

    p = Project(platform, platform.create_project("hooks-wait-served"))
    with pytest.raises(errors.AerostackTimeoutError, match='no worker serves "late-module"' ):
        p.client.local.wait_served("late-module", timeout=0.2)
    app = Hooks()

    @app.module("late-module")
    async def late(sdk: AsyncSdk, event: Any) -> Any:
        return {"ok": True}

    @app.job
    def late_job(sdk: SyncSdk, job: Any) -> None:
        return None

    worker = app.start(api_key=p.api_key, base_url=platform.api_url)
    try:
        served = p.client.local.wait_served("late-module", timeout=10)
        assert "late-module" in served.modules and "late-job" in served.jobs and served.workers == 1
        assert p.client.call("late-module", {}) == {"ok": True}
    finally:
        worker.stop()
    deadline = time.monotonic() + 5  # the platform notices the closed connection right after
    while p.client.local.workers().workers and time.monotonic() < deadline:
        time.sleep(0.02)
    assert p.client.local.workers().workers == 0
