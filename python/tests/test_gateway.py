"""The AI gateway as a consumer uses it: chat through a gateway API billed to a consumer key,
streamed and not, the wallet and the daily usage; billing logs by the project; and the errors a
consumer meets (no key, out of credits, no AI upstream)."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from aerostack import AerostackClient, SyncAerostackClient, errors
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
