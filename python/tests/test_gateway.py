"""The AI gateway as a consumer uses it: chat through a gateway API billed to a consumer key,
streamed and not, over HTTP and the WebSocket (``connect_websocket``), the wallet and the daily
usage; billing logs by the project; and the errors a consumer meets (no key, out of credits, no
AI upstream, a refused key at the socket's handshake)."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from aerostack import AerostackClient, AsyncGatewaySocket, SyncAerostackClient, SyncGatewaySocket, errors
from aerostack.local import LocalPlatform


def _consumer(c: SyncAerostackClient, slug: str, credits: int) -> Dict[str, Any]:
    """A gateway API and a consumer key with credits, through the local platform's management routes."""
    c.request("POST", "/local/gateway/apis", {"slug": slug, "model": "test-model"})
    return dict(c.request("POST", "/local/gateway/keys", {"api_slug": slug, "name": "tester", "credits": credits}))


def _sync(p: LocalPlatform, **kw: Any) -> SyncAerostackClient:
    return SyncAerostackClient(project_id=p.project_id, api_key=p.api_key, base_url=p.api_url, **kw)


def test_chat_is_billed_to_the_consumer(ai_platform: LocalPlatform, uid: str) -> None:
    c = _sync(ai_platform)
    con = _consumer(c, f"chat-{uid}", 1000)
    assert con["key"].startswith("ask_test_")
    # The key from the client's configuration, or per call.
    gw = _sync(ai_platform, consumer_key=con["key"]).gateway
    answer = gw.chat(f"chat-{uid}", [{"role": "user", "content": "Hello"}])
    assert "point one" in answer.text and answer.usage.total_tokens == 12
    chunks = list(c.gateway.chat_stream(f"chat-{uid}", [{"role": "user", "content": "Hi"}], consumer_key=con["key"]))
    assert "".join(ch.delta for ch in chunks).startswith("- point one")
    wallet = gw.wallet(f"chat-{uid}")
    streamed = 1000 - 12 - wallet.balance
    assert wallet.total_purchased == 1000 and streamed > 0 and wallet.total_consumed == 12 + streamed
    usage = gw.usage(f"chat-{uid}", days=7)
    assert usage.total_requests == 2 and usage.total_tokens == 12 + streamed
    assert len(usage.days) == 1 and usage.days[0].requests == 2


async def test_billing_log_and_wallet_async(platform: LocalPlatform, uid: str) -> None:
    con = _consumer(_sync(platform), f"bill-{uid}", 50)
    c = AerostackClient(project_id=platform.project_id, api_key=platform.api_key, base_url=platform.api_url)
    logged = await c.gateway.billing_log(con["consumer_id"], con["api_id"], 20, metric="requests")
    assert logged.success is True and logged.logged_units == 20
    wallet = await c.gateway.wallet(consumer_key=con["key"])
    assert (wallet.balance, wallet.total_consumed) == (30, 20)
    with pytest.raises(errors.ValidationError) as ei:
        await c.gateway.billing_log(con["consumer_id"], con["api_id"], 0)
    assert (ei.value.details or {}).get("field") == "units"


def test_consumer_errors(platform: LocalPlatform, ai_platform: LocalPlatform, uid: str) -> None:
    c = _sync(platform)
    with pytest.raises(errors.ValidationError) as ei:
        c.gateway.wallet()  # no consumer key anywhere
    assert (ei.value.details or {}).get("field") == "consumer_key"
    con = _consumer(c, f"err-{uid}", 10)
    # No AI upstream on this platform: the gateway says so.
    with pytest.raises(errors.AerostackError) as no_ai:
        c.gateway.chat(f"err-{uid}", [{"role": "user", "content": "Hi"}], consumer_key=con["key"])
    assert no_ai.value.code == "AI_NOT_CONFIGURED"
    # Out of credits: refused before the upstream is called.
    a = _sync(ai_platform)
    broke = _consumer(a, f"broke-{uid}", 0)
    with pytest.raises(errors.AerostackError) as poor:
        a.gateway.chat(f"broke-{uid}", [{"role": "user", "content": "Hi"}], consumer_key=broke["key"])
    assert poor.value.code == "INSUFFICIENT_CREDITS" and poor.value.status == 402
    # A key that is not a consumer key.
    with pytest.raises(errors.AuthError):
        c.gateway.wallet(consumer_key="ask_test_" + "0" * 32)


def test_the_sdk_gateway_operations(ai_platform: LocalPlatform, uid: str) -> None:
    from aerostack import SDK

    con = _consumer(_sync(ai_platform), f"sdk-{uid}", 1000)
    sdk = SDK(api_key_auth=ai_platform.api_key, server_url=ai_platform.api_url, consumer_key=con["key"])
    res = sdk.gateway.gateway_chat_completions(
        request={"messages": [{"role": "user", "content": "Hello"}]}, api_slug=f"sdk-{uid}")
    assert res["choices"][0]["message"]["content"].startswith("- point one") and res["usage"]["total_tokens"] == 12
    wallet = sdk.gateway.gateway_get_wallet(api_slug=f"sdk-{uid}")["wallet"]
    assert (wallet["balance"], wallet["total_consumed"]) == (988, 12)
    logged = sdk.gateway.gateway_billing_log(request={"consumerId": con["consumer_id"], "apiId": con["api_id"], "units": 8})
    assert logged["loggedUnits"] == 8
    # the key per call; a missing path parameter is named
    bare = SDK(api_key_auth=ai_platform.api_key, server_url=ai_platform.api_url)
    assert bare.gateway.gateway_get_wallet(consumer_key=con["key"])["wallet"]["balance"] == 980
    with pytest.raises(errors.ValidationError) as ei:
        bare.gateway.gateway_chat_completions(request={"messages": []}, consumer_key=con["key"])
    assert (ei.value.details or {}).get("field") == "params.apiSlug"
    # a keyword the operation does not take is named, not ignored
    with pytest.raises(errors.ValidationError, match="no parameter timeout"):
        bare.database.db_query(request={"sql": "SELECT 1"}, timeout=5)


HI = [{"role": "user", "content": "Hi"}]


def test_websocket_chat_sync(ai_platform: LocalPlatform, uid: str) -> None:
    c = _sync(ai_platform)
    slug = f"ws-{uid}"
    con = _consumer(c, slug, 1000)
    with c.gateway.connect_websocket(slug, consumer_key=con["key"]) as s:
        assert isinstance(s, SyncGatewaySocket)
        assert s.state == "open" and s.api_slug == slug and s.url.endswith(f"/api/gateway/{slug}/ws")
        # Streamed: every piece to on_token, then the whole answer with the tokens billed.
        tokens: list = []
        answer = s.chat(HI, on_token=tokens.append)
        assert len(tokens) == 8 and answer.content == "".join(tokens)
        assert answer.content.startswith("- point one") and answer.content.endswith("(Hi)")
        assert answer.tokens_used == 11 and answer.usage.total_tokens == 11
        # Collected by the engine.
        again = s.chat([{"role": "user", "content": "again"}], timeout=10)
        assert again.content.endswith("(again)") and again.tokens_used == 11
        # An error frame leaves the socket usable; the event carries the exception a call raises.
        rid = s.send({"type": "dance"})
        ev = s.next_event(timeout=10)
        assert ev is not None and (ev.type, ev.request, ev.code) == ("error", rid, "VALIDATION_ERROR")
        assert isinstance(ev.error, errors.ValidationError)
        with pytest.raises(errors.ValidationError):
            s.chat(HI, temperature=9)
        p = s.ping()
        assert s.next_event(timeout=10) == {"type": "pong", "request": p}
        assert s.next_event(timeout=0.05) is None
    assert s.state == "closed"
    assert c.gateway.wallet(slug, consumer_key=con["key"]).total_consumed == 22
    # A refused key fails at the handshake with the HTTP calls' error.
    with pytest.raises(errors.AuthError) as ei:
        c.gateway.connect_websocket(slug, consumer_key="ask_test_00000000000000000000000000000000")
    assert ei.value.code == "AUTH_INVALID_KEY" and ei.value.status == 401
    with pytest.raises(errors.ValidationError) as vi:
        c.gateway.connect_websocket(slug)  # no consumer key anywhere
    assert (vi.value.details or {}).get("field") == "consumer_key"


async def test_websocket_events_async(ai_platform: LocalPlatform, uid: str) -> None:
    slug = f"wsa-{uid}"
    con = _consumer(_sync(ai_platform), slug, 1000)
    c = AerostackClient(project_id=ai_platform.project_id, api_key=ai_platform.api_key,
                        base_url=ai_platform.api_url, consumer_key=con["key"])
    s = await c.gateway.connect_websocket(slug)
    assert isinstance(s, AsyncGatewaySocket)
    chat_id = await s.send_chat(HI)
    pong = await s.ping()
    seen = []
    async for ev in s:
        seen.append(ev)
        if ev.type == "pong":
            await s.close(4000, "bye")
    assert [e.type for e in seen] == ["token"] * 8 + ["done", "pong", "closed"]
    assert {e.request for e in seen[:9]} == {chat_id} and seen[9].request == pong
    assert seen[8].content.endswith("(Hi)") and seen[8].tokens_used == 11
    assert (seen[-1].code, seen[-1].reason) == (4000, "bye")
    assert s.state == "closed"
    with pytest.raises(errors.NetworkError):
        await s.ping()
    # Another API's key: refused (403) at the handshake.
    other = f"wso-{uid}"
    _consumer(_sync(ai_platform), other, 1)
    with pytest.raises(errors.AuthError) as ei:
        await c.gateway.connect_websocket(other)
    assert ei.value.status == 403
    # Out of credits: the chat raises, the socket goes on.
    broke = _consumer(_sync(ai_platform), f"wsb-{uid}", 0)
    async with await c.gateway.connect_websocket(f"wsb-{uid}", consumer_key=broke["key"]) as b:
        with pytest.raises(errors.AerostackError) as ci:
            await b.chat(HI)
        assert ci.value.code == "INSUFFICIENT_CREDITS"
        p = await b.ping()
        assert await b.next_event(timeout=10) == {"type": "pong", "request": p}
