"""Every operation of the seed-002 SDK face, sync and async, against the local platform."""

from __future__ import annotations

import io
from typing import Any

import pytest

from aerostack import SDK, errors
from aerostack.local import LocalPlatform
from aerostack import SyncAerostackClient
from aerostack.utils import BackoffStrategy, RetryConfig, retry_policy

from conftest import TinyServer, read_request, respond


def test_sdk_every_operation_sync(sdk: SDK, uid: str) -> None:
    # authentication
    email = f"sdk-{uid}@example.com"
    up = sdk.authentication.auth_signup(request={"email": email, "password": "securePassword123", "name": "S"})
    assert up["token"] and up.user["email"] == email
    assert sdk.authentication.auth_signin(request={"email": email, "password": "securePassword123"})["token"]
    # database
    sdk.database.db_query(request={"sql": f"CREATE TABLE sdk_{uid} (id INTEGER PRIMARY KEY, v TEXT)"})
    b = sdk.database.db_batch(request={"queries": [
        {"sql": f"INSERT INTO sdk_{uid} (v) VALUES (?)", "params": ["a"]},
        {"sql": f"INSERT INTO sdk_{uid} (v) VALUES (?)", "params": ["b"]},
    ]})
    assert b.success is True
    q = sdk.database.db_query(request={"sql": f"SELECT v FROM sdk_{uid} ORDER BY id", "params": []})
    assert [r["v"] for r in q.results] == ["a", "b"] and q.count == 2
    # cache
    c = sdk.cache
    assert c.cache_set(request={"key": f"k{uid}", "value": "v", "ttl": 60})["success"] is True
    assert c.cache_get(request={"key": f"k{uid}"}) == {"value": "v", "exists": True}
    assert c.cache_set_many(request={"entries": [{"key": f"m{uid}1", "value": 1}, {"key": f"m{uid}2", "value": 2}]}).count == 2
    many = c.cache_get_many(request={"keys": [f"m{uid}1", f"m{uid}2"]})
    assert [r["value"] for r in many.results] == [1, 2]
    assert c.cache_list(request={"prefix": f"m{uid}"})["list_complete"] is True
    assert sorted(c.cache_keys(request={"prefix": f"m{uid}"})["keys"]) == [f"m{uid}1", f"m{uid}2"]
    assert c.cache_expire(request={"key": f"m{uid}1", "ttl": 30})["success"] is True
    assert c.cache_increment(request={"key": f"n{uid}", "amount": 2, "initialValue": 10})["value"] == 12
    assert c.cache_delete_many(request={"keys": [f"m{uid}1", f"m{uid}2"]})["deleted"] == 2
    assert c.cache_delete(request={"key": f"k{uid}"})["success"] is True
    assert c.cache_flush(request={"prefix": f"n{uid}"})["success"] is True
    # queue
    job = sdk.queue.queue_enqueue(request={"type": "send-email", "data": {"to": email}, "delay": 600})
    assert job.jobId and job.success is True
    assert sdk.queue.queue_get_job(request={"jobId": job.jobId})["job"]["type"] == "send-email"
    assert any(j["id"] == job.jobId for j in sdk.queue.queue_list_jobs(request={"type": "send-email"})["jobs"])
    assert sdk.queue.queue_cancel_job(request={"jobId": job.jobId})["success"] is True
    # storage
    s = sdk.storage
    res = s.storage_upload(request={"content_type": "text/plain", "key": f"f/{uid}.txt",
                                    "file": {"content": io.BytesIO(b"abc"), "file_name": "a.txt"}})
    assert res.url.endswith(f"f/{uid}.txt")
    assert s.storage_get(request={"key": f"f/{uid}.txt"}) == b"abc"
    assert s.storage_get_url(request={"key": f"f/{uid}.txt"})["url"] == res.url
    assert s.storage_exists(request={"key": f"f/{uid}.txt"})["exists"] is True
    assert s.storage_get_metadata(request={"key": f"f/{uid}.txt"})["size"] == 3
    assert s.storage_copy(request={"sourceKey": f"f/{uid}.txt", "destKey": f"f/{uid}-2.txt"})["success"] is True
    assert s.storage_move(request={"sourceKey": f"f/{uid}-2.txt", "destKey": f"f/{uid}-3.txt"})["success"] is True
    assert {o["key"] for o in s.storage_list(request={"prefix": f"f/{uid}"})["objects"]} == {f"f/{uid}.txt", f"f/{uid}-3.txt"}
    assert s.storage_delete(request={"key": f"f/{uid}-3.txt"})["success"] is True
    # ai search
    a = sdk.ai
    assert a.ingest(request={"content": "reset your password", "type": f"d{uid}", "id": f"x{uid}"})["success"] is True
    assert a.query(request={"text": "password", "topK": 1, "types": [f"d{uid}"]})["results"][0]["id"] == f"x{uid}"
    assert a.search_get(request={"id": f"x{uid}"})["exists"] is True
    assert a.search_update(request={"id": f"x{uid}", "content": "new text"})["success"] is True
    assert a.search_count(request={"type": f"d{uid}"})["count"] == 1
    assert any(t["type"] == f"d{uid}" for t in a.list_types()["types"])
    assert a.delete(request={"id": f"x{uid}"})["success"] is True
    assert a.delete_by_type(request={"type": f"d{uid}"})["success"] is True
    assert a.configure(request={"embeddingModel": "english"})["success"] is True
    # services
    with pytest.raises(errors.ServerError) as ei:
        sdk.services.services_invoke(request={"serviceName": "billing", "data": {}}, retries=RetryConfig("none"))
    assert ei.value.data.code == "WORKER_NOT_CONNECTED"


async def test_sdk_every_operation_async(sdk: SDK, uid: str) -> None:
    email = f"sdka-{uid}@example.com"
    assert (await sdk.authentication.auth_signup_async(request={"email": email, "password": "securePassword123"}))["token"]
    assert (await sdk.authentication.auth_signin_async(request={"email": email, "password": "securePassword123"}))["token"]
    assert (await sdk.database.db_query_async(request={"sql": "SELECT 1 AS one"})).results == [{"one": 1}]
    assert (await sdk.database.db_batch_async(request={"queries": [{"sql": "SELECT 1"}]})).success is True
    c = sdk.cache
    await c.cache_set_async(request={"key": f"a{uid}", "value": {"x": 1}})
    assert (await c.cache_get_async(request={"key": f"a{uid}"}))["value"] == {"x": 1}
    await c.cache_set_many_async(request={"entries": [{"key": f"b{uid}", "value": 2}]})
    assert (await c.cache_get_many_async(request={"keys": [f"b{uid}"]})).results[0]["value"] == 2
    assert (await c.cache_keys_async(request={"prefix": f"b{uid}"}))["keys"] == [f"b{uid}"]
    assert (await c.cache_list_async(request={"prefix": f"b{uid}"}))["keys"][0]["key"] == f"b{uid}"
    assert (await c.cache_expire_async(request={"key": f"b{uid}", "ttl": 5}))["success"] is True
    assert (await c.cache_increment_async(request={"key": f"i{uid}"}))["value"] == 1
    assert (await c.cache_delete_many_async(request={"keys": [f"b{uid}"]}))["deleted"] == 1
    assert (await c.cache_delete_async(request={"key": f"a{uid}"}))["success"] is True
    assert (await c.cache_flush_async(request={"prefix": f"i{uid}"}))["success"] is True
    job = await sdk.queue.queue_enqueue_async(request={"type": "t", "data": {}, "delay": 600})
    assert (await sdk.queue.queue_get_job_async(request={"jobId": job.jobId}))["exists"] is True
    assert (await sdk.queue.queue_list_jobs_async(request={"status": "queued"}))["jobs"]
    assert (await sdk.queue.queue_cancel_job_async(request={"jobId": job.jobId}))["success"] is True
    s = sdk.storage
    up = await s.storage_upload_async(request={"key": f"g/{uid}", "file": {"content": b"xyz", "file_name": "x"}})
    assert await s.storage_get_async(request={"key": f"g/{uid}"}) == b"xyz"
    assert (await s.storage_get_url_async(request={"key": f"g/{uid}"}))["url"] == up.url
    assert (await s.storage_exists_async(request={"key": f"g/{uid}"}))["exists"] is True
    assert (await s.storage_get_metadata_async(request={"key": f"g/{uid}"}))["size"] == 3
    await s.storage_copy_async(request={"sourceKey": f"g/{uid}", "destKey": f"g/{uid}c"})
    await s.storage_move_async(request={"sourceKey": f"g/{uid}c", "destKey": f"g/{uid}m"})
    assert len((await s.storage_list_async(request={"prefix": f"g/{uid}"}))["objects"]) == 2
    assert (await s.storage_delete_async(request={"key": f"g/{uid}m"}))["success"] is True
    a = sdk.ai
    await a.ingest_async(request={"content": "hello", "type": f"e{uid}", "id": f"y{uid}"})
    assert (await a.query_async(request={"text": "hello", "types": [f"e{uid}"]}))["results"]
    assert (await a.search_get_async(request={"id": f"y{uid}"}))["result"]["content"] == "hello"
    await a.search_update_async(request={"id": f"y{uid}", "content": "bye"})
    assert (await a.search_count_async(request={"type": f"e{uid}"}))["count"] == 1
    assert (await a.list_types_async())["types"]
    await a.delete_async(request={"id": f"y{uid}"})
    await a.delete_by_type_async(request={"type": f"e{uid}"})
    await a.configure_async(request={"embeddingModel": "english"})
    with pytest.raises(errors.ServerError):
        await a.ai_chat_async(request={"messages": [{"role": "user", "content": "hi"}]}, retries=RetryConfig("none"))
    with pytest.raises(errors.ServerError):
        await sdk.services.services_invoke_async(request={"serviceName": "x", "data": {}}, retries=RetryConfig("none"))


def test_sdk_retry_config_and_errors(platform: LocalPlatform) -> None:
    none = RetryConfig("none")
    with SDK(api_key_auth="ac_secret_" + "0" * 32, server_url=platform.api_url, retry_config=none) as sdk:
        with pytest.raises(errors.AuthError) as ei:
            sdk.cache.cache_get(request={"key": "x"})
    e: Any = ei.value
    assert isinstance(e, errors.SDKBaseError) and isinstance(e, errors.ErrorResponse)
    assert e.status_code == 401 and e.data.code == "AUTH_INVALID_KEY" and e.request_id
    assert e.headers["x-request-id"] == e.request_id and e.raw_response is None and "AUTH_INVALID_KEY" in e.body
    with SDK(api_key_auth=platform.api_key, server_url=platform.api_url, timeout_ms=5000) as sdk:
        with pytest.raises(errors.ValidationError) as vi:
            sdk.database.db_query(request={"sql": "SELEC nonsense"}, retries=RetryConfig("backoff", BackoffStrategy(1, 5, 1.1, 50), False))
    assert vi.value.status_code == 400
    with pytest.raises(ValueError):
        SDK(api_key_auth="k", retry_config=RetryConfig("sometimes"))


def test_retry_config_maps_onto_the_engine_policy() -> None:
    assert retry_policy(RetryConfig("none")) == {"strategy": "none", "retry_connection_errors": True}
    assert retry_policy(RetryConfig("backoff", BackoffStrategy(1, 50, 1.1, 100), False)) == {
        "strategy": "backoff",
        "retry_connection_errors": False,
        "backoff": {"initial_interval": 1, "max_interval": 50, "exponent": 1.1, "max_elapsed_time": 100},
    }
    assert retry_policy(None) is None and retry_policy(False) == {"max_attempts": 1}
    # The engine decodes the policy and names what is wrong.
    with pytest.raises(ValueError, match="attempts"):
        SyncAerostackClient(api_key="k", base_url="http://127.0.0.1:9/v1", retry={"attempts": 3})
    with pytest.raises(ValueError, match="backoff"):
        SyncAerostackClient(api_key="k", base_url="http://127.0.0.1:9/v1", retry=RetryConfig("linear"))


def test_sdk_retry_config_is_applied(tiny_server: Any) -> None:
    attempts: list = []

    def always_503(conn: Any, i: int) -> None:
        while read_request(conn) is not None:
            attempts.append(i)
            respond(conn, 503, b'{"code":"INTERNAL_ERROR","message":"busy"}')

    srv: TinyServer = tiny_server(always_503)
    fast = RetryConfig("backoff", BackoffStrategy(1, 5, 1.1, 5000), False, max_attempts=3)
    with SDK(api_key_auth="k", server_url=srv.url, retry_config=fast) as sdk:
        with pytest.raises(errors.ServerError):
            sdk.cache.cache_get(request={"key": "x"})
        assert len(attempts) == 3
        attempts.clear()
        with pytest.raises(errors.ServerError):
            sdk.cache.cache_get(request={"key": "x"}, retries=RetryConfig("none"))
        assert len(attempts) == 1
