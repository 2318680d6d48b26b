"""Hooks: serve Logic Modules (custom APIs, platform-event handlers) and queue workers from
Python, with the scoped ``sdk`` of seed 000.

::

    from aerostack import hooks

    @hooks.module("search-products", name="Search products", methods=["POST", "GET"], public=True)
    async def search_products(sdk, event):
        q = (event.data or {}).get("q", "")
        rows = await sdk.db.query("SELECT id, name FROM products WHERE name LIKE ?", [f"%{q}%"])
        return {"results": rows, "count": len(rows)}

    @hooks.job                       # serves jobs of type "send-welcome-email"
    def send_welcome_email(sdk, job):
        key = sdk.secrets.get("SENDGRID_KEY")
        sdk.fetch("https://api.sendgrid.com/v3/mail/send", method="POST",
                  headers={"Authorization": f"Bearer {key}"}, json={...})

    if __name__ == "__main__":
        hooks.run()                  # or: python -m aerostack.hooks this_file.py

A handler is ``handler(sdk, event)``, ``def`` (run in a thread pool, blocking sdk) or ``async
def`` (run on the event loop, ``await sdk...``). Its return value is the JSON response (or the
job's result); an exception fails the invocation (a custom API answers ``500 HOOK_FAILED`` with
the message; a job is retried, then dead-lettered). The worker pulls invocations over one
WebSocket (docs/workers.md); Ctrl-C or SIGTERM drain it gracefully.

The module-level functions use a default registry, :data:`default`; create your own
:class:`Hooks` to keep several apart.
"""

from __future__ import annotations

from ._app import BackgroundWorker, Hooks, job_type_from_function_name
from ._sdk import AsyncSdk, FetchResponse, HookAi, HookSocket, SyncSdk

__all__ = [
    "Hooks",
    "BackgroundWorker",
    "AsyncSdk",
    "SyncSdk",
    "FetchResponse",
    "HookAi",
    "HookSocket",
    "default",
    "module",
    "on_event",
    "job",
    "run",
    "serve",
    "start",
    "job_type_from_function_name",
]

#: The registry behind the module-level ``module``, ``job``, ``run`` ...
default = Hooks()

module = default.module
on_event = default.on_event
job = default.job
run = default.run
serve = default.serve
start = default.start
