"""Seed 001 (AerostackClient) and seed 002 (SDK) examples, verbatim except for the project key and
URL (seed 001's realtime snippet is in test_realtime.py)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any, Dict

import pytest

from aerostack.local import LocalPlatform

# Seed 002 shows `"messages": [{}]` as a placeholder; the platform refuses an empty message with a
# validation error naming `messages[0].role` (test_seed_002_placeholder_message_is_refused), so
# the examples below fill it in.
MESSAGE = {"role": "user", "content": "Hello"}


async def test_seed_001_examples(ai_platform: LocalPlatform) -> None:
    from aerostack import AerostackClient

    client = AerostackClient(
        project_id=ai_platform.project_id,
        api_key=ai_platform.api_key,
        base_url=ai_platform.api_url,
    )
    # Auth
    email = f"jane-{uuid.uuid4().hex[:8]}@example.com"
    result = await client.auth.register(
        email=email,
        password="securePassword123",
        name="Jane Doe"
    )
    result = await client.auth.login(
        email=email,
        password="securePassword123"
    )
    access_token = result.access_token
    token = access_token
    user = await client.auth.verify_token(token)
    if not user:
        raise Exception("Unauthorized")
    await client.auth.send_otp(email=email)
    code = [m for m in await client.local.outbox(to=email, limit=1)][0]
    import re
    found = re.search(r"\b(\d{6})\b", " ".join(str(v) for v in code.values()))
    assert found
    result = await client.auth.verify_otp(code=found.group(1), email=email)
    assert result.access_token

    # Database
    await client.db.query("CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT, name TEXT, "
                          "active INTEGER DEFAULT 1, created_at TEXT DEFAULT CURRENT_TIMESTAMP)")
    await client.db.query("CREATE TABLE IF NOT EXISTS orders (id TEXT, item TEXT)")
    await client.db.query("CREATE TABLE IF NOT EXISTS inventory (item TEXT PRIMARY KEY, stock INTEGER)")
    user_id, name = uuid.uuid4().hex, "Jane Doe"
    users = await client.db.query("SELECT * FROM users WHERE active = 1")
    await client.db.query(
        "INSERT INTO users (id, email, name) VALUES (?, ?, ?)",
        [user_id, email, name]
    )
    user = await client.db.query_one(
        "SELECT * FROM users WHERE id = ?",
        [user_id]
    )
    assert user is not None and user["email"] == email
    await client.db.query("INSERT OR IGNORE INTO inventory VALUES ('widget', 10)")
    await client.db.batch([
        {"sql": "INSERT INTO orders VALUES (?, ?)", "params": [user_id, "widget"]},
        {"sql": "UPDATE inventory SET stock = stock - 1 WHERE item = ?", "params": ["widget"]},
    ])
    users = await client.db.query("SELECT * FROM users WHERE active = 1")
    assert any(u["id"] == user_id for u in users)

    # Cache
    user_data = {"id": user_id, "name": name}
    await client.cache.set("user:123", user_data, ttl=300)
    user = await client.cache.get("user:123")
    assert user == user_data
    exists = await client.cache.has("user:123")
    assert exists
    await client.cache.delete("user:123")
    assert await client.cache.get("user:123") is None

    # Storage
    image_data = b"\xff\xd8\xff fake jpeg"
    result = await client.storage.upload(
        file_bytes=image_data,
        path="avatars/user-123.jpg",
        content_type="image/jpeg"
    )
    print(result.url)  # CDN URL
    assert result.url.startswith(ai_platform.url)

    # AI
    result = await client.ai.complete(
        prompt="Summarize this document in 3 bullet points.",
        model="gpt-4o-mini",
        max_tokens=256,
        temperature=0.7
    )
    print(result.text)
    assert "point one" in result.text
    vector = await client.ai.embed("text to embed")
    assert len(vector) > 0

    # Queue
    await client.queue.send(
        "send-welcome-email",
        {"userId": "user-123", "email": "jane@example.com"},
        delay_seconds=0,
        max_retries=3
    )

    # Secrets
    await client.secrets.set("STRIPE_SECRET_KEY", "sk_test_123")
    stripe_key = await client.secrets.get("STRIPE_SECRET_KEY")
    assert stripe_key == "sk_test_123"


async def test_seed_001_fastapi_shape(platform: LocalPlatform) -> None:
    """The FastAPI example's handlers, called directly (no web framework needed)."""
    from aerostack import AerostackClient

    client = AerostackClient(project_id=platform.project_id, api_key=platform.api_key, base_url=platform.api_url)
    await client.db.query("CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, user_id TEXT, title TEXT, status TEXT)")
    await client.db.query("CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT, name TEXT, "
                          "active INTEGER DEFAULT 1, created_at TEXT DEFAULT CURRENT_TIMESTAMP)")

    def generate_id() -> str:
        return uuid.uuid4().hex

    class HTTPException(Exception):
        def __init__(self, status_code: int, detail: str) -> None:
            self.status_code = status_code

    async def list_users(authorization: str) -> Any:
        token = authorization.replace("Bearer ", "")
        user = await client.auth.verify_token(token)
        if not user:
            raise HTTPException(status_code=401, detail="Unauthorized")
        users = await client.db.query(
            "SELECT id, name, email FROM users ORDER BY created_at DESC LIMIT 50"
        )
        return users

    async def create_task(body: Dict[str, Any], authorization: str) -> Any:
        token = authorization.replace("Bearer ", "")
        user = await client.auth.verify_token(token)
        if not user:
            raise HTTPException(status_code=401, detail="Unauthorized")
        result = await client.db.query(
            "INSERT INTO tasks (id, user_id, title, status) VALUES (?, ?, ?, ?) RETURNING *",
            [generate_id(), user["id"], body["title"], "todo"]
        )
        return result[0]

    session = await client.auth.register(email=f"f-{generate_id()[:8]}@example.com", password="securePassword123")
    users = await list_users(f"Bearer {session.access_token}")
    assert isinstance(users, list)
    task = await create_task({"title": "Write tests"}, f"Bearer {session.access_token}")
    assert task["title"] == "Write tests" and task["user_id"] == session.user.id and task.status == "todo"
    with pytest.raises(HTTPException):
        await list_users("Bearer nope")
    import json
    json.dumps(users)  # plain JSON-serializable list of dicts, as a web framework would return it


def test_seed_002_sync_examples(ai_platform: LocalPlatform, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from aerostack import SDK

    with SDK(
        api_key_auth=ai_platform.api_key, server_url=ai_platform.api_url,
    ) as sdk:
        res = sdk.ai.ai_chat(request={
            "messages": [
                MESSAGE,
            ],
            "model": "@cf/meta/llama-3-8b-instruct",
        })
        # Handle response
        print(res)
    assert "point one" in res["response"]

    example = tmp_path / "example.file"
    example.write_bytes(b"example bytes")
    monkeypatch.chdir(tmp_path)
    with SDK(
        api_key_auth=ai_platform.api_key, server_url=ai_platform.api_url,
    ) as sdk:
        res = sdk.storage.storage_upload(request={
            "content_type": "image/jpeg",
            "file": {
                "content": open("example.file", "rb"),
                "file_name": "example.file",
            },
            "key": "avatars/user-123.jpg",
        })
        # Handle response
        print(res)
    assert res.url.endswith("avatars/user-123.jpg")

    from aerostack.utils import BackoffStrategy, RetryConfig

    with SDK(
        api_key_auth=ai_platform.api_key, server_url=ai_platform.api_url,
    ) as sdk:
        res = sdk.ai.ai_chat(request={
            "messages": [
                MESSAGE,
            ],
            "model": "@cf/meta/llama-3-8b-instruct",
        },
            # The seed passes this positionally after request=..., which is a SyntaxError in
            # Python; the keyword form (Speakeasy's `retries=`) is the working equivalent.
            retries=RetryConfig("backoff", BackoffStrategy(1, 50, 1.1, 100), False))
        print(res)

    with SDK(
        retry_config=RetryConfig("backoff", BackoffStrategy(1, 50, 1.1, 100), False),
        api_key_auth=ai_platform.api_key, server_url=ai_platform.api_url,
    ) as sdk:
        res = sdk.ai.ai_chat(request={
            "messages": [
                MESSAGE,
            ],
            "model": "@cf/meta/llama-3-8b-instruct",
        })
        print(res)

    from aerostack import errors

    with SDK(
        api_key_auth=ai_platform.api_key, server_url=ai_platform.api_url,
    ) as sdk:
        res = None
        try:
            res = sdk.authentication.auth_signin(request={
                "email": "Tina.Buckridge@yahoo.com",
                "password": "nIQ75VVtUTq8bO4",
            })
            # Handle response
            print(res)
        except errors.SDKBaseError as e:
            # The base class for HTTP error responses
            print(e.message)
            print(e.status_code)
            print(e.body)
            print(e.headers)
            print(e.raw_response)
            # Depending on the method different errors may be thrown
            if isinstance(e, errors.ErrorResponse):
                print(e.data.code)  # errors.Code
                print(e.data.details)  # Optional[Dict[str, Any]]
                print(e.data.message)  # str
            assert e.status_code == 401 and e.data.code == "AUTH_INVALID_CREDENTIALS"
        assert res is None

    with SDK(
        server_idx=0,
        api_key_auth="<YOUR_API_KEY_HERE>",
    ) as sdk:
        assert sdk.ai is not None  # server 0 is the hosted platform: not called offline

    with SDK(
        server_url=ai_platform.api_url,
        api_key_auth=ai_platform.api_key,
    ) as sdk:
        res = sdk.ai.ai_chat(request={
            "messages": [
                MESSAGE,
            ],
            "model": "@cf/meta/llama-3-8b-instruct",
        })
        print(res)

    root_level = logging.getLogger().level
    try:
        logging.basicConfig(level=logging.DEBUG)
        s = SDK(debug_logger=logging.getLogger("aerostack"), api_key_auth=ai_platform.api_key,
                server_url=ai_platform.api_url)
        assert s.cache.cache_get(request={"key": "nothing"})["exists"] is False
    finally:
        logging.getLogger().setLevel(root_level)
    assert "point one" in capsys.readouterr().out


async def test_seed_002_async_example(ai_platform: LocalPlatform) -> None:
    from aerostack import SDK

    async def main() -> Any:
        async with SDK(
            api_key_auth=ai_platform.api_key, server_url=ai_platform.api_url,
        ) as sdk:
            res = await sdk.ai.ai_chat_async(request={
                "messages": [
                    MESSAGE,
                ],
                "model": "@cf/meta/llama-3-8b-instruct",
            })
            # Handle response
            print(res)
            return res

    res = await main()  # the seed runs asyncio.run(main()); we are already inside a loop
    assert res["choices"][0]["message"]["content"].startswith("- point one")


def test_seed_002_asyncio_run(ai_platform: LocalPlatform) -> None:
    from aerostack import SDK

    async def main() -> None:
        async with SDK(
            api_key_auth=ai_platform.api_key, server_url=ai_platform.api_url,
        ) as sdk:
            res = await sdk.ai.ai_chat_async(request={
                "messages": [
                    MESSAGE,
                ],
                "model": "@cf/meta/llama-3-8b-instruct",
            })
            # Handle response
            print(res)

    asyncio.run(main())


def test_seed_002_placeholder_message_is_refused(ai_platform: LocalPlatform) -> None:
    from aerostack import SDK, errors
    from aerostack.utils import BackoffStrategy, RetryConfig

    with SDK(api_key_auth=ai_platform.api_key, server_url=ai_platform.api_url) as sdk:
        with pytest.raises(errors.ValidationError) as ei:
            sdk.ai.ai_chat(request={"messages": [{}], "model": "@cf/meta/llama-3-8b-instruct"})
    assert ei.value.status_code == 400 and "messages[0].role" in ei.value.message


def test_seed_002_custom_http_client(platform: LocalPlatform) -> None:
    """"Custom HTTP Client", sync: the user's httpx.Client carries the requests (its headers too)."""
    import httpx

    from aerostack import SDK

    seen: list = []
    http_client = httpx.Client(headers={"x-custom-header": "someValue"},
                               event_hooks={"request": [seen.append]})
    s = SDK(client=http_client, server_url=platform.api_url, api_key_auth=platform.api_key)
    res = s.database.db_query(request={"sql": "SELECT 41 + 1 AS answer"})
    assert res.results[0].answer == 42
    assert seen, "the request did not go through the user's client"
    req = seen[-1]
    assert req.headers["x-custom-header"] == "someValue"
    assert req.headers["x-aerostack-key"] == platform.api_key
    assert str(req.url) == platform.api_url + "/db/query"
    http_client.close()


async def test_seed_002_custom_async_http_client(platform: LocalPlatform) -> None:
    """"Custom HTTP Client", async: the seed's CustomClient wrapper, as written, adds its header."""
    from typing import Optional, Union

    import httpx

    from aerostack import SDK
    from aerostack.httpclient import AsyncHttpClient

    sent: list = []

    class CustomClient(AsyncHttpClient):
        client: AsyncHttpClient

        def __init__(self, client: AsyncHttpClient):
            self.client = client

        async def send(
            self,
            request: httpx.Request,
            *,
            stream: bool = False,
            auth: Union[
                httpx._types.AuthTypes, httpx._client.UseClientDefault, None
            ] = httpx.USE_CLIENT_DEFAULT,
            follow_redirects: Union[
                bool, httpx._client.UseClientDefault
            ] = httpx.USE_CLIENT_DEFAULT,
        ) -> httpx.Response:
            request.headers["Client-Level-Header"] = "added by client"
            sent.append(request)
            return await self.client.send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )

        def build_request(
            self,
            method: str,
            url: httpx._types.URLTypes,
            *,
            content: Optional[httpx._types.RequestContent] = None,
            data: Optional[httpx._types.RequestData] = None,
            files: Optional[httpx._types.RequestFiles] = None,
            json: Optional[Any] = None,
            params: Optional[httpx._types.QueryParamTypes] = None,
            headers: Optional[httpx._types.HeaderTypes] = None,
            cookies: Optional[httpx._types.CookieTypes] = None,
            timeout: Union[
                httpx._types.TimeoutTypes, httpx._client.UseClientDefault
            ] = httpx.USE_CLIENT_DEFAULT,
            extensions: Optional[httpx._types.RequestExtensions] = None,
        ) -> httpx.Request:
            return self.client.build_request(
                method,
                url,
                content=content,
                data=data,
                files=files,
                json=json,
                params=params,
                headers=headers,
                cookies=cookies,
                timeout=timeout,
                extensions=extensions,
            )

    s = SDK(async_client=CustomClient(httpx.AsyncClient()), server_url=platform.api_url,
            api_key_auth=platform.api_key)
    await s.cache.cache_set_async(request={"key": "seed:custom", "value": {"ok": True}})
    res = await s.cache.cache_get_async(request={"key": "seed:custom"})
    assert res.value == {"ok": True}
    assert len(sent) == 2 and all(r.headers["client-level-header"] == "added by client" for r in sent)


def test_seed_002_custom_client_uploads_and_errors(platform: LocalPlatform, tmp_path: Path) -> None:
    """Uploads go through the user's client too; its failures become the SDK's errors."""
    import httpx

    from aerostack import SDK, errors
    from aerostack.utils import BackoffStrategy, RetryConfig

    seen: list = []
    with httpx.Client(event_hooks={"request": [seen.append]}) as http_client:
        s = SDK(client=http_client, server_url=platform.api_url, api_key_auth=platform.api_key)
        res = s.storage.storage_upload(request={"key": "hosted/file.txt",
                                                "file": {"content": b"hosted bytes", "file_name": "file.txt"}})
        assert res.url.endswith("hosted/file.txt")
        assert seen[-1].url.path.endswith("/storage/upload")
        # a platform error answered through the user's client keeps its type
        with pytest.raises(errors.ErrorResponse) as bad:
            s.database.db_query(request={"sql": "SELEC nonsense"})
        assert bad.value.data.code
    # a client that fails (closed): retried, then the SDK's network error names the host client
    s = SDK(client=http_client, server_url=platform.api_url, api_key_auth=platform.api_key,
            retry_config=None)
    with pytest.raises(errors.SDKBaseError) as failed:
        s.cache.cache_get(request={"key": "k"}, retries=RetryConfig("none", BackoffStrategy(1, 2, 1.5, 10), False))
    assert "host HTTP client failed" in str(failed.value)
    with pytest.raises(TypeError, match="build_request"):
        SDK(client=object())
