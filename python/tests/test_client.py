"""Every method of AerostackClient (async) and SyncAerostackClient, against the local platform."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aerostack import AerostackClient, QueryResult, Record, SyncAerostackClient, errors
from aerostack.local import LocalPlatform


def otp_code(messages: Any) -> str:
    for m in messages:
        if m.get("code"):
            return str(m["code"])
        text = " ".join(str(v) for v in m.values())
        found = re.search(r"\b(\d{6})\b", text)
        if found:
            return found.group(1)
    raise AssertionError(f"no code in {messages!r}")


def token_in(messages: Any) -> str:
    for m in messages:
        if m.get("token"):
            return str(m["token"])
        text = " ".join(str(v) for v in m.values())
        found = re.search(r"token=([A-Za-z0-9._\-]+)", text)
        if found:
            return found.group(1)
    raise AssertionError(f"no token in {messages!r}")


async def test_auth_async(client: AerostackClient, uid: str) -> None:
    email = f"ann-{uid}@example.com"
    reg = await client.auth.register(email=email, password="securePassword123", name="Ann",
                                     custom_fields={"plan": "pro"})
    assert reg.access_token and reg.refresh_token
    assert reg.user.email == email and reg["user"]["name"] == "Ann"
    login = await client.auth.login(email=email, password="securePassword123")
    token = login.access_token
    user = await client.auth.verify_token(token)
    assert user is not None and user["id"] == login.user.id
    assert await client.auth.verify_token("not-a-token") is None
    me = await client.auth.me(token)
    assert me.email == email
    updated = await client.auth.update_me(token, name="Ann B")
    assert updated.name == "Ann B"
    assert (await client.auth.delete_avatar(token)).success is True
    refreshed = await client.auth.refresh(login.refresh_token)
    assert refreshed.access_token and refreshed.refresh_token != login.refresh_token
    # verification (the mails land in the local outbox), OTP, password reset
    await client.auth.resend_verification(email)
    vtoken = token_in(await client.local.outbox(to=email, limit=1))
    assert (await client.auth.verify_email(vtoken)).success is True
    await client.auth.send_otp(email=email)
    code = otp_code(await client.local.outbox(to=email, limit=1))
    otp = await client.auth.verify_otp(code=code, email=email)
    assert otp.access_token
    await client.auth.request_password_reset(email)
    rtoken = token_in(await client.local.outbox(to=email, limit=1))
    assert (await client.auth.reset_password(rtoken, "newPassword456!")).success is True
    again = await client.auth.login(email=email, password="newPassword456!")
    out = await client.auth.logout(again.access_token, again.refresh_token)
    assert out.success is True
    assert await client.auth.verify_token(again.access_token) is None


async def test_db_async(client: AerostackClient, uid: str) -> None:
    table = f"t_{uid}"
    await client.db.query(f"CREATE TABLE {table} (id TEXT PRIMARY KEY, n INTEGER, name TEXT)")
    ins = await client.db.query(f"INSERT INTO {table} (id, n, name) VALUES (?, ?, ?) RETURNING *", ["a", 1, "x"])
    assert isinstance(ins, QueryResult) and isinstance(ins, list) and ins[0]["id"] == "a"
    res = await client.db.batch([
        {"sql": f"INSERT INTO {table} (id, n, name) VALUES (?, ?, ?)", "params": ["b", 2, "y"]},
        (f"UPDATE {table} SET n = n + 10 WHERE id = ?", ["a"]),
    ])
    assert res.success is True and len(res.results) == 2
    rows = await client.db.query(f"SELECT * FROM {table} ORDER BY id")
    assert [r.id for r in rows] == ["a", "b"] and rows.count == 2 and rows.results[0].n == 11
    one = await client.db.query_one(f"SELECT name FROM {table} WHERE id = ?", ["b"])
    assert one == {"name": "y"}
    assert await client.db.query_one(f"SELECT * FROM {table} WHERE id = ?", ["zz"]) is None
    with pytest.raises(errors.ValidationError) as ei:
        await client.db.batch([
            {"sql": f"INSERT INTO {table} (id) VALUES ('c')"},
            {"sql": "INSERT INTO nope VALUES (1)"},
        ])
    assert ei.value.code == "DB_QUERY_FAILED"
    assert len(await client.db.query(f"SELECT * FROM {table}")) == 2  # all or nothing


async def test_collections_async(client: AerostackClient, uid: str) -> None:
    posts = client.db.collection(f"posts-{uid}")
    first = await posts.create({"title": "Hello", "slug": "hello", "user_id": "u1"})
    assert first.id.startswith("item_") and first.slug == "hello" and first.collection == f"posts-{uid}"
    assert isinstance(first.created_at, datetime) and first.data == {"title": "Hello", "slug": "hello", "user_id": "u1"}
    assert (await posts.get(first.id)) == first
    for i in range(4):
        await posts.create({"title": f"p{i}", "draft": i % 2 == 0})
    page = await posts.list(limit=2)
    assert [i.data["title"] for i in page["items"]] == ["Hello", "p0"] and page["cursor"]
    drafts = await posts.list(filter={"draft": True}, order="desc")
    assert [i.data["title"] for i in drafts["items"]] == ["p2", "p0"]
    updated = await posts.update(first.id, {"title": "Hello again"})
    assert updated.data == {"title": "Hello again"} and updated.created_at == first.created_at
    assert await posts.delete(first.id) is True
    assert await posts.delete(first.id) is False
    assert await posts.get(first.id) is None
    with pytest.raises(errors.NotFoundError):
        await posts.update(first.id, {})
    with pytest.raises(errors.ValidationError) as ei:
        await client.db.collection("bad name").create({})
    assert (ei.value.details or {}).get("field") == "collection"


def test_collection_list_all(sync_client: SyncAerostackClient, uid: str) -> None:
    notes = sync_client.db.collection(f"notes-{uid}")
    for i in range(5):
        notes.create({"n": i})
    assert [i.data["n"] for i in notes.list_all(page_size=2)] == [0, 1, 2, 3, 4]
    assert [i.data["n"] for i in notes.list_all(filter={"n": 3})] == [3]


async def test_cache_async(client: AerostackClient, uid: str) -> None:
    k = f"user:{uid}"
    await client.cache.set(k, {"name": "Jane", "tags": [1, 2]}, ttl=300)
    assert await client.cache.get(k) == {"name": "Jane", "tags": [1, 2]}
    assert await client.cache.has(k) is True
    assert await client.cache.get(f"missing:{uid}") is None
    assert await client.cache.expire(k, 100) is True
    assert await client.cache.delete(k) is True
    assert await client.cache.has(k) is False
    n = await client.cache.set_many({f"m:{uid}:1": 1, f"m:{uid}:2": "two"}, ttl=60)
    assert n == 2
    got = await client.cache.get_many([f"m:{uid}:1", f"m:{uid}:2", f"m:{uid}:3"])
    assert got == {f"m:{uid}:1": 1, f"m:{uid}:2": "two"}
    assert sorted(await client.cache.keys(f"m:{uid}:")) == [f"m:{uid}:1", f"m:{uid}:2"]
    page = await client.cache.list(prefix=f"m:{uid}:", limit=10)
    assert {e.key for e in page["keys"]} == {f"m:{uid}:1", f"m:{uid}:2"}
    assert await client.cache.increment(f"c:{uid}") == 1
    assert await client.cache.increment(f"c:{uid}", amount=5) == 6
    assert await client.cache.increment(f"c2:{uid}", amount=-1, initial_value=10) == 9
    dm = await client.cache.delete_many([f"m:{uid}:1", f"nope:{uid}"])
    assert dm.deleted == 1
    assert await client.cache.flush(f"c") >= 2


async def test_storage_async(client: AerostackClient, uid: str, tmp_path: Path) -> None:
    data = b"\x89PNG fake image " + uid.encode()
    res = await client.storage.upload(file_bytes=data, path=f"avatars/{uid}.jpg", content_type="image/jpeg")
    assert res.url.endswith(f"avatars/{uid}.jpg") and res.key == f"avatars/{uid}.jpg"
    assert await client.storage.get(f"avatars/{uid}.jpg") == data
    assert await client.storage.exists(f"avatars/{uid}.jpg") is True
    meta = await client.storage.metadata(f"avatars/{uid}.jpg")
    assert meta is not None and meta.size == len(data) and meta.content_type == "image/jpeg"
    assert (await client.storage.get_url(f"avatars/{uid}.jpg")) == res.url
    local = tmp_path / "doc.txt"
    local.write_bytes(b"from disk")
    r2 = await client.storage.upload(path=f"docs/{uid}.txt", file=local, content_type="text/plain")
    assert r2.size == 9
    r3 = await client.storage.upload(path=f"docs/{uid}-obj.txt", file=io.BytesIO(b"from object"))
    assert await client.storage.get(r3.key) == b"from object"
    url = await client.storage.copy(f"docs/{uid}.txt", f"docs/{uid}-copy.txt")
    assert url.endswith(f"docs/{uid}-copy.txt")
    await client.storage.move(f"docs/{uid}-copy.txt", f"docs/{uid}-moved.txt")
    assert await client.storage.exists(f"docs/{uid}-copy.txt") is False
    listing = await client.storage.list(prefix=f"docs/{uid}")
    assert {o.key for o in listing.objects} == {f"docs/{uid}.txt", f"docs/{uid}-obj.txt", f"docs/{uid}-moved.txt"}
    assert await client.storage.delete(f"docs/{uid}.txt") is True
    assert await client.storage.metadata(f"docs/{uid}.txt") is None
    with pytest.raises(errors.NotFoundError) as ei:
        await client.storage.get(f"docs/{uid}.txt")
    assert ei.value.status == 404 and ei.value.request_id
    with pytest.raises(TypeError):
        await client.storage.upload(path="x")


async def test_ai_async(client: AerostackClient, uid: str) -> None:
    vector = await client.ai.embed("text to embed")
    assert isinstance(vector, list) and len(vector) == 384 and isinstance(vector[0], float)
    s = client.ai.search
    doc = await s.ingest("How do I reset my password?", type=f"faq{uid}", id=f"d1-{uid}", metadata={"lang": "en"})
    assert doc.success is True
    await s.ingest("Shipping takes three days", type=f"faq{uid}", id=f"d2-{uid}")
    hits = await s.query("reset password", top_k=1, types=[f"faq{uid}"])
    assert hits[0].id == f"d1-{uid}"
    assert (await s.get(f"d1-{uid}")).content.startswith("How do I")
    await s.update(f"d2-{uid}", "Shipping takes two days")
    assert await s.count(f"faq{uid}") == 2
    assert any(t.type == f"faq{uid}" for t in await s.list_types())
    assert await s.delete(f"d1-{uid}") is True
    assert await s.get(f"d1-{uid}") is None
    assert await s.delete_by_type(f"faq{uid}") is True
    assert await s.configure("english") is True
    # chat and complete need an upstream model; without one the platform says how to configure it
    with pytest.raises(errors.ServerError) as ei:
        # (503 is retryable, so without retry=False the engine would back off and retry 4 times)
        await client.with_options(retry=False).ai.complete(prompt="Summarize this.", model="gpt-4o-mini",
                                                           max_tokens=256, temperature=0.7)
    assert ei.value.code == "AI_NOT_CONFIGURED" and ei.value.status == 503
    with pytest.raises(errors.ServerError):
        await client.with_options(retry=False).ai.chat([{"role": "user", "content": "Hi"}])


async def test_queue_secrets_services_async(client: AerostackClient, uid: str) -> None:
    sent = await client.queue.send("send-welcome-email", {"userId": uid}, delay_seconds=3600, max_retries=3)
    job = await client.queue.job(sent.job_id)
    assert job is not None and job.type == "send-welcome-email" and job.data == {"userId": uid}
    e = await client.queue.enqueue("report", {"n": 1}, delay_seconds=3600)
    page = await client.queue.jobs(type="report", limit=50)
    assert any(j.id == e.job_id for j in page.jobs)
    assert (await client.queue.cancel(e.job_id)).success is True
    assert (await client.queue.job(e.job_id)).status == "cancelled"
    assert await client.queue.job("job_does_not_exist") is None
    await client.secrets.set(f"KEY_{uid}", "s3cret")
    assert await client.secrets.get(f"KEY_{uid}") == "s3cret"
    assert await client.secrets.get(f"MISSING_{uid}") is None
    assert f"KEY_{uid}" in await client.secrets.list()
    with pytest.raises(errors.ServerError) as ei:
        await client.with_options(retry=False).services.invoke("billing", {"x": 1})
    assert ei.value.code == "WORKER_NOT_CONNECTED"
    with pytest.raises(errors.ServerError) as ei:
        await client.with_options(retry=False).call("hello", {"name": "x"})
    assert ei.value.code == "WORKER_NOT_CONNECTED"
    raw = await client.request("POST", "/cache/get", {"key": f"none:{uid}"})
    assert raw["exists"] is False


def test_sync_client_every_namespace(sync_client: SyncAerostackClient, uid: str, tmp_path: Path) -> None:
    c = sync_client
    email = f"sync-{uid}@example.com"
    reg = c.auth.register(email=email, password="securePassword123", name="Syn")
    assert c.auth.verify_token(reg.access_token)["email"] == email  # type: ignore[index]
    assert c.auth.login(email, "securePassword123").user.email == email
    c.db.query(f"CREATE TABLE s_{uid} (id INTEGER PRIMARY KEY, v TEXT)")
    c.db.batch([(f"INSERT INTO s_{uid} (v) VALUES (?)", ["a"]), (f"INSERT INTO s_{uid} (v) VALUES (?)", ["b"])])
    assert [r.v for r in c.db.query(f"SELECT v FROM s_{uid} ORDER BY id")] == ["a", "b"]
    assert c.db.query_one(f"SELECT count(*) AS n FROM s_{uid}") == {"n": 2}
    c.cache.set(f"k:{uid}", [1, 2, 3], ttl=60)
    assert c.cache.get(f"k:{uid}") == [1, 2, 3] and c.cache.has(f"k:{uid}")
    assert c.cache.increment(f"n:{uid}", 2) == 2
    up = c.storage.upload(b"hello", path=f"s/{uid}.txt", content_type="text/plain")
    assert c.storage.get(up.key) == b"hello" and c.storage.exists(up.key)
    assert len(c.ai.embed("hello world")) == 384
    c.ai.search.ingest("hello world", type=f"t{uid}")
    assert c.ai.search.count(f"t{uid}") == 1
    job = c.queue.send("email", {"to": email}, delay_seconds=600)
    assert c.queue.job(job.job_id).status == "queued"  # type: ignore[union-attr]
    c.secrets.set(f"S_{uid}", "v")
    assert c.secrets.get(f"S_{uid}") == "v"
    with pytest.raises(errors.ServerError):
        c.with_options(retry=False).services.invoke("svc", {})
    with c as same:
        assert same is c


def test_with_options_and_records(sync_client: SyncAerostackClient, uid: str) -> None:
    fast = sync_client.with_options(timeout=5, retry=False, headers={"X-Trace": uid})
    fast.cache.set(f"o:{uid}", 1)
    assert fast.cache.get(f"o:{uid}") == 1
    r = Record(a=1)
    assert r.a == 1 and r["a"] == 1
    with pytest.raises(AttributeError, match="fields are: a"):
        r.b


def test_second_project_is_isolated(platform: LocalPlatform, uid: str) -> None:
    p2 = platform.create_project(f"other-{uid}")
    assert p2.api_key != platform.api_key and p2.id != platform.project_id
    a = platform.sync_client()
    b = SyncAerostackClient(project_id=p2.id, api_key=p2.api_key, base_url=platform.api_url)
    a.cache.set(f"shared:{uid}", "from a")
    assert b.cache.get(f"shared:{uid}") is None


def test_records_behave_like_dicts() -> None:
    import copy
    import json
    import pickle

    r = Record(a=1, nested=Record(b=[1, 2]))
    assert pickle.loads(pickle.dumps(r)) == r and type(pickle.loads(pickle.dumps(r))) is Record
    assert copy.deepcopy(r) == r and json.loads(json.dumps(r)) == {"a": 1, "nested": {"b": [1, 2]}}
    assert not hasattr(r, "__array__") and r.nested.b == [1, 2]
    q = QueryResult([Record(x=1)], count=1, meta=None)
    assert q == [{"x": 1}] and q.results is q and q.count == 1 and q.first() == {"x": 1}
    assert json.dumps(q) == '[{"x": 1}]'


def test_sync_client_from_many_threads(sync_client: SyncAerostackClient, uid: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> int:
        total = 0
        for j in range(100):
            total += sync_client.cache.increment(f"threads:{uid}")
        return total

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert sync_client.cache.get(f"threads:{uid}") == 800


def test_reprs_mask_credentials() -> None:
    from aerostack import Record

    r = Record({"access_token": "eyJ.secret.1", "refreshToken": "rt-secret-2", "api_key": "ac_secret_3",
                "user": {"email": "jane@example.com", "password": "pw-secret-4"}, "expires_in": 900, "key": "user:1"})
    shown = repr(r) + str(r) + repr([r])
    for secret in ("eyJ.secret.1", "rt-secret-2", "ac_secret_3", "pw-secret-4"):
        assert secret not in shown, shown
    for visible in ("jane@example.com", "900", "user:1", "access_token"):
        assert visible in shown, shown
    assert r.access_token == "eyJ.secret.1", "only the repr is masked, never the value"


def test_upload_in_the_wrong_order_says_so() -> None:
    from aerostack import SyncAerostackClient

    c = SyncAerostackClient(api_key="k", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(TypeError, match=r"\(file_bytes, path\)"):
        c.storage.upload("x.txt", b"abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="file="):
        c.storage.upload("./report.pdf", path="docs/report.pdf")  # type: ignore[arg-type]


def test_private_objects_and_signed_urls(sync_client: SyncAerostackClient, uid: str) -> None:
    import urllib.error
    import urllib.request

    up = sync_client.storage.upload(b"hidden", f"private/{uid}.txt", public=False)
    assert up.public is False and "token=" in up.url
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(up.url.split("?")[0])
    assert e.value.code == 403
    signed = sync_client.storage.get_url(f"private/{uid}.txt", expires_in=60)
    assert urllib.request.urlopen(signed).read() == b"hidden"
    assert sync_client.storage.metadata(f"private/{uid}.txt").public is False
    with pytest.raises(errors.ValidationError) as v:
        sync_client.storage.get_url(f"private/{uid}.txt", expires_in=8 * 24 * 3600)
    assert (v.value.details or {}).get("field") == "expires_in"
