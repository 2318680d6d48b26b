"""Hooks in Python: seed 000's search-products Logic Module and sendWelcomeEmail queue worker.

Against a running platform (``python -m aerostack.local`` prints the API key)::

    AEROSTACK_API_KEY=ac_secret_... python -m aerostack.hooks python/examples/hooks_example.py
    curl -X POST http://127.0.0.1:8787/api/v1/public/projects/default/custom/search-products \\
         -H 'Content-Type: application/json' -d '{"q": "shirt", "limit": 5}'

``python python/examples/hooks_example.py --local`` instead starts an ephemeral local platform
in-process, serves the handlers on a background thread, calls the module and runs one job, then
drains.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Dict

from aerostack import SyncAerostackClient, hooks
from aerostack.hooks import AsyncSdk, SyncSdk


@hooks.module("search-products", name="Search products", methods=["POST", "GET"], public=True)
async def search_products(sdk: AsyncSdk, event: Any) -> Dict[str, Any]:
    """POST /api/v1/public/projects/{project}/custom/search-products {"q": "shirt", "limit": 5}"""
    data = event.data or event.get("query") or {}
    q, limit = data.get("q") or "", int(data.get("limit") or 10)
    rows = await sdk.db.query(
        "SELECT id, name, slug FROM products WHERE project_id = ? AND name LIKE ? LIMIT ?",
        [event.project_id, f"%{q}%", limit],
    )
    return {"results": rows.results, "count": len(rows.results)}


@hooks.job  # serves jobs of type "send-welcome-email"
def send_welcome_email(sdk: SyncSdk, job: Any) -> Dict[str, Any]:
    """A plain ``def``: runs in the worker's thread pool with the blocking sdk."""
    user_id, email = job.data["user_id"], job.data["email"]
    user = sdk.db.query("SELECT * FROM users WHERE id = ?", [user_id]).first()
    name = user.name if user else "there"
    r = sdk.fetch(job.data.get("mail_api", "https://api.sendgrid.com/v3/mail/send"), {
        "method": "POST",
        "headers": {
            "Authorization": f"Bearer {sdk.secrets.get('SENDGRID_KEY')}",
            "Content-Type": "application/json",
        },
        "body": json.dumps({
            "personalizations": [{"to": [{"email": email}]}],
            "from": {"email": "[email protected]"},
            "subject": "Welcome to Aerostack!",
            "content": [{"type": "text/html", "value": f"<h1>Hi {name}!</h1>"}],
        }),
    })
    return {"status": r.status}


def local_demo() -> None:
    from aerostack.local import LocalPlatform

    with LocalPlatform(from_env=False) as p:
        client = SyncAerostackClient(project_id=p.project_id, api_key=p.api_key, base_url=p.api_url)
        client.db.query("CREATE TABLE products (id INTEGER PRIMARY KEY, project_id TEXT, name TEXT, slug TEXT)")
        client.db.query("INSERT INTO products (project_id, name, slug) VALUES (?, 'Blue shirt', 'blue-shirt')",
                        [p.project_id])
        client.db.query("CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, email TEXT)")
        client.db.query("INSERT INTO users VALUES ('u1', 'Ada', '[email protected]')")
        client.secrets.set("SENDGRID_KEY", "SG.demo")
        with hooks.start(api_key=p.api_key, base_url=p.api_url):
            print("search-products ->", client.call("search-products", {"q": "shirt"}))
            # No mail provider here: the job posts to the local platform and reports the status.
            sent = client.queue.send("send-welcome-email", {"user_id": "u1", "email": "[email protected]",
                                                            "mail_api": p.url + "/health"})
            for _ in range(200):
                job = client.queue.job(sent.job_id)
                if job is not None and job.status in ("completed", "failed"):
                    print("send-welcome-email ->", job.status, job.get("result"))
                    break
                time.sleep(0.05)
        print("drained")


if __name__ == "__main__":
    if "--local" in sys.argv[1:]:
        local_demo()
    else:
        hooks.run()
