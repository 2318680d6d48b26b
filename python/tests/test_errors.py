"""Errors are raised as the family classes of aerostack.errors, with code/status/request_id."""

from __future__ import annotations

import pickle
import socket
from typing import Any, Callable

import pytest

from aerostack import AerostackClient, SyncAerostackClient, errors
from aerostack.local import LocalPlatform

from conftest import TinyServer, read_request, respond


def test_bad_configuration_is_a_config_error() -> None:
    with pytest.raises(errors.ConfigError) as ei:
        SyncAerostackClient(api_key="k", base_url="ftp://nowhere")
    assert ei.value.code == "INVALID_CONFIG" and "base_url" in ei.value.message
    with pytest.raises(errors.ConfigError):
        SyncAerostackClient(api_key="k", server_index=7)
    with pytest.raises(ValueError, match="timeout"):
        SyncAerostackClient(api_key="k", timeout=-1)


def test_http_errors_map_to_families(platform: LocalPlatform, sync_client: SyncAerostackClient, uid: str) -> None:
    bad = SyncAerostackClient(api_key="ac_secret_" + "f" * 32, base_url=platform.api_url)
    with pytest.raises(errors.AuthError) as ai:
        bad.cache.get("x")
    e = ai.value
    assert (e.code, e.status, e.retryable) == ("AUTH_INVALID_KEY", 401, False)
    assert e.request_id and len(e.request_id) >= 16 and e.body and e.family == "auth"
    assert isinstance(e, errors.AerostackError) and isinstance(e, errors.SDKBaseError)

    email = f"dup-{uid}@example.com"
    sync_client.auth.register(email, "securePassword123")
    with pytest.raises(errors.ConflictError) as ci:
        sync_client.auth.register(email, "securePassword123")
    assert ci.value.code == "AUTH_USER_EXISTS" and ci.value.status == 409

    with pytest.raises(errors.AuthError) as li:
        sync_client.auth.login(email, "wrong-password")
    assert li.value.code == "AUTH_INVALID_CREDENTIALS"

    with pytest.raises(errors.ValidationError) as vi:
        sync_client.auth.register(f"weak-{uid}@example.com", "x")
    assert vi.value.status == 400 and vi.value.code == "AUTH_PASSWORD_WEAK"

    with pytest.raises(errors.ValidationError) as qi:
        sync_client.db.query("SELECT * FROM no_such_table")
    assert qi.value.code == "DB_QUERY_FAILED" and isinstance(qi.value, ValueError)

    with pytest.raises(errors.NotFoundError) as ni:
        sync_client.storage.get(f"nothing/{uid}")
    assert ni.value.status == 404 and isinstance(ni.value, LookupError)


def test_client_side_validation_names_the_field(sync_client: SyncAerostackClient) -> None:
    with pytest.raises(errors.ValidationError) as ei:
        sync_client.cache.set("k", 1, ttl="soon")  # type: ignore[arg-type]
    assert ei.value.status is None and ei.value.details == {"field": "ttl"}
    assert "non-negative integer" in ei.value.message


def test_rate_limit_error_carries_retry_after() -> None:
    # The hosted limits are off in-process; a limit named explicitly applies (the hosted 10/min).
    with LocalPlatform(from_env=False, rate_limits={"login_per_ip": (10, 60)}) as p:
        c = p.sync_client(retry=False)
        c.auth.register("rl@example.com", "securePassword123")
        with pytest.raises(errors.RateLimitError) as ei:
            for _ in range(12):
                try:
                    c.auth.login("rl@example.com", "wrong-password")
                except errors.AuthError:
                    pass
    e = ei.value
    assert e.status == 429 and e.code == "RATE_LIMIT_EXCEEDED" and e.retryable
    assert e.retry_after is not None and e.retry_after > 0 and e.headers["retry-after"]


def test_network_and_decode_errors(tiny_server: Callable[..., TinyServer]) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    c = SyncAerostackClient(api_key="k", base_url=f"http://127.0.0.1:{port}/v1", retry=False)
    with pytest.raises(errors.NetworkError) as ei:
        c.cache.get("x")
    assert ei.value.code == "NETWORK_ERROR" and isinstance(ei.value, ConnectionError)
    assert isinstance(ei.value, errors.NoResponseError) and ei.value.retryable

    def not_json(conn: socket.socket, i: int) -> None:
        while read_request(conn) is not None:
            respond(conn, 200, b"<html>not json</html>")

    srv = tiny_server(not_json)
    d = SyncAerostackClient(api_key="k", base_url=srv.url, retry=False)
    with pytest.raises(errors.DecodeError) as di:
        d.cache.has("x")
    assert di.value.code == "DECODE_ERROR" and "not json" in di.value.body
    assert errors.ResponseValidationError is errors.DecodeError


def test_errors_pickle_and_print() -> None:
    e = errors.RateLimitError("slow down", "RATE_LIMIT_EXCEEDED", 429, "rid-1", True, 2.0, {"a": 1}, "{}")
    again: Any = pickle.loads(pickle.dumps(e))
    assert type(again) is errors.RateLimitError and again.retry_after == 2.0 and again.request_id == "rid-1"
    assert str(e) == "RATE_LIMIT_EXCEEDED (429): slow down [request_id=rid-1]"
    assert e.data.code == "RATE_LIMIT_EXCEEDED" and e.data.details == {"a": 1}


async def test_async_errors_are_the_same_classes(platform: LocalPlatform) -> None:
    c = AerostackClient(api_key="ac_secret_" + "e" * 32, base_url=platform.api_url)
    with pytest.raises(errors.AuthError) as ei:
        await c.db.query("SELECT 1")
    assert ei.value.status == 401 and ei.value.request_id


def test_errors_name_the_python_spelling_of_options() -> None:
    """Engine messages suggest fixes in Python's words, never the engine's option names."""
    import socket

    from aerostack import SyncAerostackClient, _native, errors

    missing = [engine for engine, ours in _native.engine_option_names() if not ours]
    assert missing == [], f"engine option names without a Python spelling: {missing}"

    c = SyncAerostackClient(api_key="k", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(errors.ConfigError) as ei:
        c.auth.login(email="a@b.c", password="pw")
    assert "project_id=" in ei.value.message and "ClientConfig" not in ei.value.message, ei.value.message

    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        c = SyncAerostackClient(api_key="k", base_url=f"http://127.0.0.1:{port}/v1", retry=False)
        with pytest.raises(errors.AerostackTimeoutError) as ti:
            c.with_options(timeout=0.2).cache.get("k")
    msg = ti.value.message
    assert "with_options(timeout=" in msg and "CallOptions" not in msg, msg


def test_misconfiguration_is_found_at_construction_and_network_errors_name_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from aerostack import AerostackClient, SyncAerostackClient, errors

    for var in ("AEROSTACK_API_KEY", "AEROSTACK_PROJECT_ID", "AEROSTACK_API_URL"):
        monkeypatch.delenv(var, raising=False)
    for make in (SyncAerostackClient, AerostackClient):
        with pytest.raises(errors.ConfigError) as ei:
            make()
        for named in ("api_key=", "AEROSTACK_API_KEY", "project_id=", "AEROSTACK_PROJECT_ID", "https://api.aerostack.dev/v1"):
            assert named in ei.value.message, (named, ei.value.message)

    c = SyncAerostackClient(api_key="k", base_url="http://127.0.0.1:9/v1", retry=False)
    with pytest.raises(errors.NetworkError) as ni:
        c.cache.get("k")
    assert "http://127.0.0.1:9/v1/cache/get" in ni.value.message, ni.value.message
