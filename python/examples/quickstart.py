"""Python quickstart: touches every REST service of a running Aerostack platform, one line per step.

    python -m aerostack.local                              # prints the API key
    AEROSTACK_API_KEY=ac_secret_... python python/examples/quickstart.py

Reads ``AEROSTACK_API_URL`` (default ``http://127.0.0.1:8787/v1``), ``AEROSTACK_API_KEY`` and
``AEROSTACK_PROJECT_ID``. With ``--local`` (or no API key set) it starts an ephemeral local
platform in-process instead.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Optional

from aerostack import AerostackClient, errors
from aerostack.local import LocalPlatform


def step(name: str, detail: object) -> None:
    print(f"{name:<22} {detail}")


async def run(client: AerostackClient) -> None:
    uid = str(int(time.time() * 1000))

    # Auth
    email = f"jane-{uid}@example.com"
    session = await client.auth.register(email=email, password="securePassword123", name="Jane Doe")
    step("auth.register", f"user {session.user.id}")
    login = await client.auth.login(email=email, password="securePassword123")
    user = await client.auth.verify_token(login.access_token)
    if not user:
        raise RuntimeError("the fresh access token was refused")
    step("auth.verify_token", user["email"])
    await client.auth.send_otp(email=email)
    step("auth.send_otp", "code sent (see the local outbox)")

    # Database
    await client.db.query(
        "CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, title TEXT, status TEXT)"
    )
    await client.db.batch([
        {"sql": "INSERT INTO tasks VALUES (?, ?, ?)", "params": [f"t1-{uid}", "Write docs", "todo"]},
        {"sql": "INSERT INTO tasks VALUES (?, ?, ?)", "params": [f"t2-{uid}", "Ship it", "todo"]},
    ])
    rows = await client.db.query("SELECT * FROM tasks WHERE id LIKE ? ORDER BY id", [f"%-{uid}"])
    step("db.query", f"{len(rows)} rows, first: {rows[0]['title']}")
    one = await client.db.query_one("SELECT count(*) AS n FROM tasks")
    step("db.query_one", one)

    # Cache
    await client.cache.set(f"user:{uid}", {"name": "Jane"}, ttl=300)
    cached = await client.cache.get(f"user:{uid}")
    visits = await client.cache.increment(f"visits:{uid}")
    step("cache.get", f"{cached} (visits {visits})")

    # Storage
    uploaded = await client.storage.upload(
        file_bytes=b"\x89PNG not really", path=f"avatars/{uid}.png", content_type="image/png"
    )
    content = await client.storage.get(uploaded.key)
    step("storage.upload", f"{uploaded.url} ({len(content)} bytes)")

    # Calls that may answer "not configured / no worker" (503) are made without retries here.
    once = client.with_options(retry=False)

    # AI: embeddings and search are built in; chat needs a model upstream
    vector = await client.ai.embed("text to embed")
    await client.ai.search.ingest("How do I reset my password?", type="faq", id=f"faq-{uid}")
    hits = await client.ai.search.query("forgot password", top_k=1, types=["faq"])
    step("ai.embed / search", f"{len(vector)} dims; best hit: {hits[0].content if hits else None}")
    try:
        completion = await once.ai.complete(prompt="Say hello in 3 words.", max_tokens=16)
        step("ai.complete", completion.text)
    except errors.ServerError as e:
        step("ai.complete", f"skipped: {e.code} (set AEROSTACK_AI_BASE_URL on the platform)")

    # Queue
    job = await client.queue.send("send-welcome-email", {"email": email}, delay_seconds=0, max_retries=3)
    status = await client.queue.job(job.job_id)
    step("queue.send", f"{job.job_id} ({status.status if status else 'gone'})")

    # Secrets
    await client.secrets.set("STRIPE_SECRET_KEY", "sk_test_123")
    step("secrets.get", await client.secrets.get("STRIPE_SECRET_KEY"))

    # Services and custom APIs need a connected Logic Module worker
    try:
        await once.services.invoke("billing", {"userId": user["id"]})
    except errors.ServerError as e:
        step("services.invoke", f"{e.code} (no worker connected)")
    try:
        await once.call("hello", {"name": "Jane"})
    except errors.ServerError as e:
        step("call (custom API)", f"{e.code} (no worker connected)")

    # Errors are typed
    try:
        await client.auth.login(email=email, password="wrong password")
    except errors.AuthError as e:
        step("errors", f"{type(e).__name__} {e.code} {e.status} request_id={e.request_id}")


def main() -> int:
    local: Optional[LocalPlatform] = None
    if "--local" in sys.argv or not os.environ.get("AEROSTACK_API_KEY"):
        local = LocalPlatform()
        client = local.client()
        print(f"(started an ephemeral local platform at {local.api_url})")
    else:
        client = AerostackClient(
            project_id=os.environ.get("AEROSTACK_PROJECT_ID"),
            api_key=os.environ["AEROSTACK_API_KEY"],
            base_url=os.environ.get("AEROSTACK_API_URL", "http://127.0.0.1:8787/v1"),
        )
    try:
        asyncio.run(run(client))
    except errors.AerostackError as e:
        print(f"quickstart failed: {e}", file=sys.stderr)
        return 1
    finally:
        if local is not None:
            local.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
