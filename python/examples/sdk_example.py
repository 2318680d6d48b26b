"""The operation-style ``SDK`` face (the PyPI package's API), sync and async, one call per group.

    python python/examples/sdk_example.py            # against an in-process local platform
"""

from __future__ import annotations

import asyncio
import logging

from aerostack import SDK, SyncAerostackClient, errors
from aerostack.local import LocalPlatform
from aerostack.utils import BackoffStrategy, RetryConfig


def sync_part(sdk: SDK) -> None:
    sdk.database.db_query(request={"sql": "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)"})
    sdk.database.db_query(request={"sql": "INSERT INTO notes (body) VALUES (?)", "params": ["hello"]})
    res = sdk.database.db_query(request={"sql": "SELECT * FROM notes"})
    print("db_query       ", res["results"])
    sdk.cache.cache_set(request={"key": "greeting", "value": "hi", "ttl": 60})
    print("cache_get      ", sdk.cache.cache_get(request={"key": "greeting"}))
    up = sdk.storage.storage_upload(request={
        "content_type": "text/plain",
        "file": {"content": b"file body", "file_name": "a.txt"},
        "key": "notes/a.txt",
    })
    print("storage_upload ", up.url)
    job = sdk.queue.queue_enqueue(request={"type": "send-email", "data": {"to": "a@example.com"}},
                                  retries=RetryConfig("backoff", BackoffStrategy(1, 50, 1.1, 100), False))
    print("queue_enqueue  ", job["jobId"])
    try:
        sdk.authentication.auth_signin(request={"email": "nobody@example.com", "password": "nIQ75VVtUTq8bO4"})
    except errors.SDKBaseError as e:
        if isinstance(e, errors.ErrorResponse):
            print("auth_signin    ", e.status_code, e.data.code, e.data.message)


async def async_part(sdk: SDK) -> None:
    res = await sdk.cache.cache_increment_async(request={"key": "visits", "amount": 1})
    print("cache_increment", res["value"])


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    with LocalPlatform() as p:
        with SDK(api_key_auth=p.api_key, server_url=p.api_url, timeout_ms=10_000,
                 debug_logger=logging.getLogger("aerostack")) as sdk:
            sync_part(sdk)
            asyncio.run(async_part(sdk))
        client: SyncAerostackClient = p.sync_client()
        print("same data      ", client.cache.get("greeting"))


if __name__ == "__main__":
    main()
