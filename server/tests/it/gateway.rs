//! The AI gateway: local management of gateway APIs and consumer keys, consumer chat (JSON and
//! SSE) through a stand-in OpenAI-compatible upstream (the third party; our server is real),
//! wallets debited by usage, usage per day, the billing log, the WebSocket and the CLI.

use std::time::Duration;

use aerostack_server::{LocalPlatform, ServerOptions};
use axum::Json;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::common::{Ctx, assert_error, consumer_get, json_of, start, start_with_ai};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Echoes the last user message: JSON with usage {5, 2, 7} and the model it was asked for; SSE
/// as two deltas ("echo: ", the message), plus a usage chunk (total 11) only when
/// `stream_options.include_usage` is set.
async fn upstream(Json(body): Json<Value>) -> Response {
    let model = body["model"].as_str().unwrap_or("").to_string();
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    if body["stream"] == true {
        let mut frames = format!(
            "data: {}\n\ndata: {}\n\n",
            json!({"model": model, "choices": [{"index": 0, "delta": {"content": "echo: "}}]}),
            json!({"model": model, "choices": [{"index": 0, "delta": {"content": last}}]})
        );
        if body["stream_options"]["include_usage"] == true {
            frames.push_str(&format!(
                "data: {}\n\n",
                json!({"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 7, "total_tokens": 11}})
            ));
        }
        frames.push_str("data: [DONE]\n\n");
        return ([("content-type", "text/event-stream")], frames).into_response();
    }
    Json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("echo: {last}")}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    }))
    .into_response()
}

/// A platform whose AI server is the stand-in above (AEROSTACK_AI_MODEL = "platform-model").
async fn start_with_upstream() -> (Ctx, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new().route("/v1/chat/completions", post(upstream));
    start_with_ai(app, "platform-model").await
}

async fn create_api(ctx: &Ctx, body: Value) -> Value {
    let (s, v) = ctx.post("/v1/local/gateway/apis", body).await;
    assert_eq!(s.as_u16(), 201, "{v}");
    v
}

/// A consumer of `api_slug` with `credits`: (consumer id, key).
async fn create_key(ctx: &Ctx, api_slug: &str, credits: i64) -> (String, String) {
    let (s, v) = ctx
        .post(
            "/v1/local/gateway/keys",
            json!({"api_slug": api_slug, "name": "alice", "credits": credits}),
        )
        .await;
    assert_eq!(s.as_u16(), 201, "{v}");
    (
        v["consumer_id"].as_str().unwrap().to_string(),
        v["key"].as_str().unwrap().to_string(),
    )
}

async fn consumer_post(ctx: &Ctx, key: Option<&str>, path: &str, body: Value) -> reqwest::Response {
    let mut req = ctx.http.post(ctx.url(path)).json(&body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap()
}

async fn balance(ctx: &Ctx, key: &str) -> i64 {
    let (s, v) = consumer_get(ctx, key, "/api/gateway/me/wallet").await;
    assert_eq!(s.as_u16(), 200, "{v}");
    v["wallet"]["balance"].as_i64().unwrap()
}

fn today() -> String {
    aerostack_server::util::iso_ms(aerostack_server::util::now_ms())[..10].to_string()
}

fn hi() -> Value {
    json!([{"role": "user", "content": "hi"}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_routes() {
    let ctx = start().await;
    let v = create_api(
        &ctx,
        json!({"slug": "chat", "name": "Chat API", "model": "m1"}),
    )
    .await;
    assert!(v["id"].as_str().unwrap().starts_with("gapi_"), "{v}");
    assert_eq!(
        (&v["slug"], &v["name"], &v["model"]),
        (&json!("chat"), &json!("Chat API"), &json!("m1"))
    );
    assert!(v["created_at"].is_string(), "{v}");
    let plain = create_api(&ctx, json!({"slug": "Plain_2"})).await;
    assert_eq!(
        (&plain["name"], &plain["model"]),
        (&json!("Plain_2"), &Value::Null)
    );

    let (s, e) = ctx
        .post("/v1/local/gateway/apis", json!({"slug": "chat"}))
        .await;
    assert_error(s, &e, 409, "CONFLICT", Some("slug"));
    let (s, e) = ctx
        .post("/v1/local/gateway/apis", json!({"slug": "no spaces"}))
        .await;
    assert_error(s, &e, 400, "VALIDATION_ERROR", Some("slug"));
    let (s, e) = ctx
        .post("/v1/local/gateway/apis", json!({"slug": "x".repeat(65)}))
        .await;
    assert_error(s, &e, 400, "VALIDATION_ERROR", Some("slug"));
    let (s, e) = ctx.post("/v1/local/gateway/apis", json!({})).await;
    assert_error(s, &e, 400, "VALIDATION_ERROR", Some("slug"));

    let r = ctx
        .call(Method::GET, "/v1/local/gateway/apis", Some(&ctx.key), None)
        .await;
    let (s, list) = json_of(r).await;
    assert_eq!(s.as_u16(), 200);
    let slugs: Vec<&str> = list["apis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["chat", "Plain_2"]);
    let r = ctx
        .call(Method::GET, "/v1/local/gateway/apis", None, None)
        .await;
    let (s, e) = json_of(r).await;
    assert_error(s, &e, 401, "AUTH_INVALID_KEY", None);

    // Keys: shown once, `ask_test_<32 hex>`, wallet seeded with the credits.
    let (s, k) = ctx
        .post(
            "/v1/local/gateway/keys",
            json!({"api_slug": "chat", "name": "alice", "credits": 100}),
        )
        .await;
    assert_eq!(s.as_u16(), 201, "{k}");
    let key = k["key"].as_str().unwrap();
    assert!(key.starts_with("ask_test_") && key.len() == 41, "{k}");
    assert!(key[9..].chars().all(|c| c.is_ascii_hexdigit()), "{k}");
    assert!(
        k["consumer_id"].as_str().unwrap().starts_with("gcon_"),
        "{k}"
    );
    assert_eq!(
        (&k["api_id"], &k["api_slug"], &k["name"]),
        (&v["id"], &json!("chat"), &json!("alice"))
    );
    assert_eq!(
        k["wallet"],
        json!({"balance": 100, "total_purchased": 100, "total_consumed": 0, "plan_type": "prepaid", "hard_limit": null, "soft_limit": null})
    );
    let (s, k0) = ctx
        .post("/v1/local/gateway/keys", json!({"api_slug": "Plain_2"}))
        .await;
    assert_eq!(s.as_u16(), 201, "{k0}");
    assert_eq!(k0["wallet"]["balance"], 0);
    assert_ne!(k0["key"], k["key"]);
    let (s, e) = ctx
        .post("/v1/local/gateway/keys", json!({"api_slug": "nope"}))
        .await;
    assert_error(s, &e, 404, "NOT_FOUND", Some("api_slug"));
    let (s, e) = ctx
        .post(
            "/v1/local/gateway/keys",
            json!({"api_slug": "chat", "credits": -1}),
        )
        .await;
    assert_error(s, &e, 400, "VALIDATION_ERROR", Some("credits"));
    let (s, e) = ctx
        .post(
            "/v1/local/gateway/keys",
            json!({"api_slug": "chat", "credits": "ten"}),
        )
        .await;
    assert_error(s, &e, 400, "VALIDATION_ERROR", Some("credits"));

    // Credit.
    let cid = k["consumer_id"].as_str().unwrap();
    let (s, w) = ctx
        .post(
            "/v1/local/gateway/credit",
            json!({"consumer_id": cid, "tokens": 50}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{w}");
    assert_eq!(
        (&w["wallet"]["balance"], &w["wallet"]["total_purchased"]),
        (&json!(150), &json!(150))
    );
    let (s, e) = ctx
        .post(
            "/v1/local/gateway/credit",
            json!({"consumer_id": cid, "tokens": 0}),
        )
        .await;
    assert_error(s, &e, 400, "VALIDATION_ERROR", Some("tokens"));
    let (s, e) = ctx
        .post("/v1/local/gateway/credit", json!({"consumer_id": cid}))
        .await;
    assert_error(s, &e, 400, "VALIDATION_ERROR", Some("tokens"));
    let (s, e) = ctx
        .post(
            "/v1/local/gateway/credit",
            json!({"consumer_id": "gcon_nope", "tokens": 5}),
        )
        .await;
    assert_error(s, &e, 404, "NOT_FOUND", Some("consumer_id"));

    // Another project sees neither the APIs nor the consumers.
    let other = ctx.p.create_project("Other").await.unwrap();
    let r = ctx
        .call(
            Method::GET,
            "/v1/local/gateway/apis",
            Some(&other.api_key),
            None,
        )
        .await;
    let (_, list) = json_of(r).await;
    assert_eq!(list["apis"], json!([]));
    let (s, e) = ctx
        .post_key(
            &other.api_key,
            "/v1/local/gateway/credit",
            json!({"consumer_id": cid, "tokens": 5}),
        )
        .await;
    assert_error(s, &e, 404, "NOT_FOUND", Some("consumer_id"));
    let (s, _) = ctx
        .post_key(
            &other.api_key,
            "/v1/local/gateway/apis",
            json!({"slug": "chat"}),
        )
        .await;
    assert_eq!(s.as_u16(), 201, "slugs are unique per project");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_json_and_sse_debit_the_wallet_and_count_usage() {
    let (ctx, server) = start_with_upstream().await;
    create_api(&ctx, json!({"slug": "chat", "model": "api-model"})).await;
    let (_, key) = create_key(&ctx, "chat", 100).await;

    // JSON on the hand-written SDKs' path: the upstream's answer as is; the API's model.
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/api/gateway/chat/v1/chat/completions",
        json!({"messages": hi()}),
    )
    .await;
    let (s, v) = json_of(r).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert_eq!(
        v["choices"][0]["message"],
        json!({"role": "assistant", "content": "echo: hi"})
    );
    assert_eq!(v["model"], "api-model");
    assert_eq!(v["usage"]["total_tokens"], 7);
    assert!(v.get("response").is_none(), "passed through as is: {v}");
    assert_eq!(balance(&ctx, &key).await, 93);

    // The spec's path; the body's model wins; `@cf/` names give way to AEROSTACK_AI_MODEL.
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/v1/ai/gateway/chat/chat/completions",
        json!({"messages": hi(), "model": "body-model"}),
    )
    .await;
    let (s, v) = json_of(r).await;
    assert_eq!(
        (s.as_u16(), &v["model"]),
        (200, &json!("body-model")),
        "{v}"
    );
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/v1/ai/gateway/chat/chat/completions",
        json!({"messages": hi(), "model": "@cf/meta/llama-3-8b-instruct"}),
    )
    .await;
    let (_, v) = json_of(r).await;
    assert_eq!(v["model"], "platform-model");
    assert_eq!(balance(&ctx, &key).await, 79);

    // SSE without a usage chunk: estimated, ceil(("hi" + "echo: hi") / 4) = ceil(10 / 4) = 3.
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/api/gateway/chat/v1/chat/completions",
        json!({"messages": hi(), "stream": true}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let text = r.text().await.unwrap();
    let data: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(data.len(), 3, "{text}");
    assert_eq!(data[2], "[DONE]");
    let second: Value = serde_json::from_str(data[1]).unwrap();
    assert_eq!(second["choices"][0]["delta"]["content"], "hi");
    assert_eq!(balance(&ctx, &key).await, 76);

    // SSE with include_usage: the upstream's usage chunk (11) is passed through and debited.
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/v1/ai/gateway/chat/chat/completions",
        json!({"messages": hi(), "stream": true, "stream_options": {"include_usage": true}}),
    )
    .await;
    let text = r.text().await.unwrap();
    assert!(text.contains("\"total_tokens\":11"), "{text}");
    assert_eq!(balance(&ctx, &key).await, 65);

    // Usage: today, 4 calls, 7 + 7 + 7 + 3 + 11.
    let (s, u) = consumer_get(&ctx, &key, "/api/gateway/me/usage?api_slug=chat&days=7").await;
    assert_eq!(s.as_u16(), 200, "{u}");
    assert_eq!(
        u,
        json!({"total_tokens": 35, "total_requests": 5, "days": [{"date": today(), "tokens": 35, "requests": 5}]})
    );
    let (_, u) = consumer_get(&ctx, &key, "/api/gateway/me/usage").await;
    assert_eq!(u["total_tokens"], 35);
    for bad in ["0", "366", "x"] {
        let (s, e) = consumer_get(&ctx, &key, &format!("/api/gateway/me/usage?days={bad}")).await;
        assert_error(s, &e, 400, "VALIDATION_ERROR", Some("days"));
    }

    // Wallet on both paths.
    let (s, w) = consumer_get(&ctx, &key, "/v1/ai/gateway/me/wallet?api_slug=chat").await;
    assert_eq!(s.as_u16(), 200, "{w}");
    assert_eq!(
        w,
        json!({"wallet": {"balance": 65, "total_purchased": 100, "total_consumed": 35, "plan_type": "prepaid", "hard_limit": null, "soft_limit": null}})
    );
    let (_, w2) = consumer_get(&ctx, &key, "/api/gateway/me/wallet?api_slug=chat").await;
    assert_eq!(w, w2);

    // Validation as /v1/ai/chat, before anything is charged.
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/api/gateway/chat/v1/chat/completions",
        json!({"messages": [{"role": "robot", "content": "x"}]}),
    )
    .await;
    let (s, e) = json_of(r).await;
    assert_error(s, &e, 400, "VALIDATION_ERROR", Some("messages[0].role"));
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/v1/ai/gateway/chat/chat/completions",
        json!({}),
    )
    .await;
    let (s, e) = json_of(r).await;
    assert_error(s, &e, 400, "VALIDATION_ERROR", Some("messages"));
    assert_eq!(balance(&ctx, &key).await, 65);
    ctx.p.shutdown().await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_credits_is_402_and_credit_restores() {
    let (ctx, server) = start_with_upstream().await;
    create_api(&ctx, json!({"slug": "chat"})).await;
    let (cid, key) = create_key(&ctx, "chat", 0).await;
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/api/gateway/chat/v1/chat/completions",
        json!({"messages": hi()}),
    )
    .await;
    let (s, e) = json_of(r).await;
    assert_error(s, &e, 402, "INSUFFICIENT_CREDITS", None);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("aerostack-server gateway credit"),
        "{e}"
    );
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/v1/ai/gateway/chat/chat/completions",
        json!({"messages": hi()}),
    )
    .await;
    let (s, e) = json_of(r).await;
    assert_error(s, &e, 402, "INSUFFICIENT_CREDITS", None);

    // 5 tokens: one call (7) goes through and overdraws; the next is refused.
    let (s, _) = ctx
        .post(
            "/v1/local/gateway/credit",
            json!({"consumer_id": cid, "tokens": 5}),
        )
        .await;
    assert_eq!(s.as_u16(), 200);
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/api/gateway/chat/v1/chat/completions",
        json!({"messages": hi()}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(balance(&ctx, &key).await, -2);
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/api/gateway/chat/v1/chat/completions",
        json!({"messages": hi(), "stream": true}),
    )
    .await;
    let (s, e) = json_of(r).await;
    assert_error(s, &e, 402, "INSUFFICIENT_CREDITS", None);
    let (_, u) = consumer_get(&ctx, &key, "/api/gateway/me/usage").await;
    assert_eq!(
        (&u["total_tokens"], &u["total_requests"]),
        (&json!(7), &json!(1)),
        "refused calls are not counted"
    );
    ctx.p.shutdown().await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_credentials() {
    let (ctx, server) = start_with_upstream().await;
    create_api(&ctx, json!({"slug": "chat"})).await;
    create_api(&ctx, json!({"slug": "other"})).await;
    let (_, key) = create_key(&ctx, "chat", 100).await;
    let (_, other_key) = create_key(&ctx, "other", 100).await;
    let chat = "/api/gateway/chat/v1/chat/completions";
    let body = json!({"messages": hi()});

    let (s, e) = json_of(consumer_post(&ctx, None, chat, body.clone()).await).await;
    assert_error(s, &e, 401, "AUTH_INVALID_KEY", None);
    assert!(
        e["message"].as_str().unwrap().contains("Bearer ask_test_"),
        "{e}"
    );
    // A project key is not a consumer key, in either header.
    let (s, e) = json_of(consumer_post(&ctx, Some(&ctx.key), chat, body.clone()).await).await;
    assert_error(s, &e, 401, "AUTH_INVALID_KEY", None);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("not a project API key"),
        "{e}"
    );
    let r = ctx
        .http
        .post(ctx.url(chat))
        .header("X-Aerostack-Key", &ctx.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (s, e) = json_of(r).await;
    assert_error(s, &e, 401, "AUTH_INVALID_KEY", None);
    let (s, e) = json_of(
        consumer_post(
            &ctx,
            Some("ask_test_00000000000000000000000000000000"),
            chat,
            body.clone(),
        )
        .await,
    )
    .await;
    assert_error(s, &e, 401, "AUTH_INVALID_KEY", None);
    // On /v1 the spec's shape.
    let (s, e) = json_of(
        consumer_post(
            &ctx,
            Some(&ctx.key),
            "/v1/ai/gateway/chat/chat/completions",
            body.clone(),
        )
        .await,
    )
    .await;
    assert_error(s, &e, 401, "AUTH_INVALID_KEY", None);
    assert!(e.get("error").is_none(), "{e}");

    // A key of another API.
    let (s, e) = json_of(consumer_post(&ctx, Some(&other_key), chat, body.clone()).await).await;
    assert_error(s, &e, 403, "FORBIDDEN", Some("apiSlug"));
    let (s, e) = json_of(
        consumer_post(
            &ctx,
            Some(&other_key),
            "/v1/ai/gateway/chat/chat/completions",
            body.clone(),
        )
        .await,
    )
    .await;
    assert_error(s, &e, 403, "FORBIDDEN", Some("apiSlug"));
    let (s, e) = consumer_get(&ctx, &other_key, "/api/gateway/me/wallet?api_slug=chat").await;
    assert_error(s, &e, 403, "FORBIDDEN", Some("api_slug"));
    let (s, e) = consumer_get(&ctx, &other_key, "/api/gateway/me/usage?api_slug=chat").await;
    assert_error(s, &e, 403, "FORBIDDEN", Some("api_slug"));
    let (s, e) = consumer_get(&ctx, &ctx.key, "/api/gateway/me/wallet").await;
    assert_error(s, &e, 401, "AUTH_INVALID_KEY", None);
    let (s, e) = consumer_get(&ctx, &ctx.key, "/v1/ai/gateway/me/wallet").await;
    assert_error(s, &e, 401, "AUTH_INVALID_KEY", None);
    // A consumer key is not a project key.
    let (s, e) = ctx
        .post_key(&key, "/v1/local/gateway/apis", json!({"slug": "x"}))
        .await;
    assert_error(s, &e, 401, "AUTH_INVALID_KEY", None);
    assert_eq!(balance(&ctx, &key).await, 100);
    assert_eq!(balance(&ctx, &other_key).await, 100);
    ctx.p.shutdown().await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_ai_server_chat_is_503() {
    let ctx = start().await;
    create_api(&ctx, json!({"slug": "chat"})).await;
    let (_, key) = create_key(&ctx, "chat", 100).await;
    for path in [
        "/api/gateway/chat/v1/chat/completions",
        "/v1/ai/gateway/chat/chat/completions",
    ] {
        let (s, e) =
            json_of(consumer_post(&ctx, Some(&key), path, json!({"messages": hi()})).await).await;
        assert_error(s, &e, 503, "AI_NOT_CONFIGURED", None);
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("AEROSTACK_AI_BASE_URL"),
            "{e}"
        );
    }
    assert_eq!(balance(&ctx, &key).await, 100);
    // An empty wallet is refused first, whatever the platform's setup.
    let (_, broke) = create_key(&ctx, "chat", 0).await;
    let r = consumer_post(
        &ctx,
        Some(&broke),
        "/api/gateway/chat/v1/chat/completions",
        json!({"messages": hi()}),
    )
    .await;
    let (s, e) = json_of(r).await;
    assert_error(s, &e, 402, "INSUFFICIENT_CREDITS", None);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_log_debits_and_counts() {
    let ctx = start().await;
    let api = create_api(&ctx, json!({"slug": "chat"})).await;
    let other_api = create_api(&ctx, json!({"slug": "other"})).await;
    let (cid, key) = create_key(&ctx, "chat", 50).await;
    let api_id = api["id"].as_str().unwrap();

    let (s, v) = ctx
        .post(
            "/v1/gateway/billing/log",
            json!({"consumerId": cid, "apiId": api_id, "units": 20, "metric": "tokens"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert_eq!(v, json!({"success": true, "loggedUnits": 20}));
    // AerostackBilling.log's field name and the default metric.
    let (s, v) = ctx
        .post(
            "/v1/gateway/billing/log",
            json!({"consumerId": cid, "developerApiId": api_id, "units": 5}),
        )
        .await;
    assert_eq!((s.as_u16(), &v["loggedUnits"]), (200, &json!(5)), "{v}");
    assert_eq!(balance(&ctx, &key).await, 25);
    let (_, u) = consumer_get(&ctx, &key, "/api/gateway/me/usage").await;
    assert_eq!(
        u["days"],
        json!([{"date": today(), "tokens": 25, "requests": 2}])
    );

    for (body, field) in [
        (json!({"apiId": api_id, "units": 1}), "consumerId"),
        (json!({"consumerId": cid, "units": 1}), "apiId"),
        (json!({"consumerId": cid, "apiId": api_id}), "units"),
        (
            json!({"consumerId": cid, "apiId": api_id, "units": 0}),
            "units",
        ),
        (
            json!({"consumerId": cid, "apiId": api_id, "units": 1.5}),
            "units",
        ),
        (
            json!({"consumerId": cid, "apiId": api_id, "units": "3"}),
            "units",
        ),
        (
            json!({"consumerId": cid, "apiId": api_id, "units": 1, "metric": 3}),
            "metric",
        ),
    ] {
        let (s, e) = ctx.post("/v1/gateway/billing/log", body.clone()).await;
        assert_error(s, &e, 400, "VALIDATION_ERROR", Some(field));
    }
    let (s, e) = ctx
        .post(
            "/v1/gateway/billing/log",
            json!({"consumerId": "gcon_nope", "apiId": api_id, "units": 1}),
        )
        .await;
    assert_error(s, &e, 404, "NOT_FOUND", Some("consumerId"));
    let (s, e) = ctx
        .post(
            "/v1/gateway/billing/log",
            json!({"consumerId": cid, "apiId": other_api["id"], "units": 1}),
        )
        .await;
    assert_error(s, &e, 404, "NOT_FOUND", Some("apiId"));
    let (s, e) = ctx
        .post(
            "/v1/gateway/billing/log",
            json!({"consumerId": cid, "apiId": "gapi_nope", "units": 1}),
        )
        .await;
    assert_error(s, &e, 404, "NOT_FOUND", Some("apiId"));
    let other = ctx.p.create_project("Other").await.unwrap();
    let (s, e) = ctx
        .post_key(
            &other.api_key,
            "/v1/gateway/billing/log",
            json!({"consumerId": cid, "apiId": api_id, "units": 1}),
        )
        .await;
    assert_error(s, &e, 404, "NOT_FOUND", Some("consumerId"));
    let r = consumer_post(
        &ctx,
        Some(&key),
        "/v1/gateway/billing/log",
        json!({"consumerId": cid, "apiId": api_id, "units": 1}),
    )
    .await;
    let (s, e) = json_of(r).await;
    assert_error(s, &e, 401, "AUTH_INVALID_KEY", None);
    assert_eq!(balance(&ctx, &key).await, 25);
    ctx.p.shutdown().await;
}

fn ws_request(
    ctx: &Ctx,
    slug: &str,
    protocol: Option<&str>,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let url = format!(
        "{}/api/gateway/{slug}/ws",
        ctx.p.url().replacen("http", "ws", 1)
    );
    let mut req = url.into_client_request().unwrap();
    if let Some(p) = protocol {
        req.headers_mut()
            .insert("sec-websocket-protocol", HeaderValue::from_str(p).unwrap());
    }
    req
}

async fn next_json(ws: &mut Ws) -> Value {
    let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("a frame within 5 s")
        .expect("socket open")
        .unwrap();
    match msg {
        Message::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
        other => panic!("not a text frame: {other:?}"),
    }
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_chat() {
    let (ctx, server) = start_with_upstream().await;
    create_api(&ctx, json!({"slug": "chat"})).await;
    create_api(&ctx, json!({"slug": "other"})).await;
    let (_, key) = create_key(&ctx, "chat", 100).await;
    let (broke_id, broke) = create_key(&ctx, "chat", 0).await;

    let proto = format!("bearer-{key}");
    let (mut ws, resp) = connect_async(ws_request(&ctx, "chat", Some(&proto)))
        .await
        .expect("handshake");
    assert_eq!(
        resp.headers()["sec-websocket-protocol"],
        proto.as_str(),
        "the subprotocol is echoed"
    );
    send(&mut ws, json!({"type": "chat", "messages": hi()})).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "token", "content": "echo: "})
    );
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "token", "content": "hi"})
    );
    let done = next_json(&mut ws).await;
    assert_eq!(done["type"], "done", "{done}");
    assert_eq!(done["usage"]["total_tokens"], 11, "{done}");
    assert_eq!(balance(&ctx, &key).await, 89);

    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut ws).await, json!({"type": "pong"}));
    send(&mut ws, json!({"type": "chat", "messages": []})).await;
    let e = next_json(&mut ws).await;
    assert_eq!(
        (&e["type"], &e["code"]),
        (&json!("error"), &json!("VALIDATION_ERROR")),
        "{e}"
    );
    send(&mut ws, json!({"type": "dance"})).await;
    assert_eq!(next_json(&mut ws).await["code"], "VALIDATION_ERROR");
    ws.send(Message::Text("not json".into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["code"], "VALIDATION_ERROR");
    let (_, u) = consumer_get(&ctx, &key, "/api/gateway/me/usage").await;
    assert_eq!(
        (&u["total_tokens"], &u["total_requests"]),
        (&json!(11), &json!(1))
    );
    ws.close(None).await.unwrap();
    // The close is echoed (a clean close, not a dropped connection).
    let echo = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("an answer within 5 s");
    assert!(matches!(echo, Some(Ok(Message::Close(_)))), "{echo:?}");

    // An empty wallet: an error frame, the socket stays usable.
    let proto = format!("bearer-{broke}");
    let (mut ws, _) = connect_async(ws_request(&ctx, "chat", Some(&proto)))
        .await
        .expect("handshake");
    send(&mut ws, json!({"type": "chat", "messages": hi()})).await;
    let e = next_json(&mut ws).await;
    assert_eq!(
        (&e["type"], &e["code"]),
        (&json!("error"), &json!("INSUFFICIENT_CREDITS")),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains(&broke_id)
            || e["message"].as_str().unwrap().contains("gateway credit"),
        "{e}"
    );
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");

    // Refused handshakes: no key, a project key, another API's key.
    for (protocol, slug, status, code) in [
        (None, "chat", 401, "AUTH_INVALID_KEY"),
        (
            Some(format!("bearer-{}", ctx.key)),
            "chat",
            401,
            "AUTH_INVALID_KEY",
        ),
        (Some(format!("bearer-{key}")), "other", 403, "FORBIDDEN"),
    ] {
        match connect_async(ws_request(&ctx, slug, protocol.as_deref())).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status().as_u16(), status, "{protocol:?}");
                let body: Value = serde_json::from_slice(resp.body().as_deref().unwrap()).unwrap();
                assert_eq!(body["code"], code, "{body}");
                assert!(body["error"].is_string(), "public shape: {body}");
            }
            other => panic!(
                "{protocol:?}: expected a refusal, got {:?}",
                other.map(|_| ())
            ),
        }
    }
    let r = ctx
        .call(Method::GET, "/api/gateway/chat/ws", None, None)
        .await;
    assert_eq!(r.status().as_u16(), 426);
    ctx.p.shutdown().await;
    server.abort();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_manages_apis_keys_and_credits() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let dir_s = dir.to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let mut all = vec!["--data-dir", dir_s.as_str(), "gateway"];
        all.extend_from_slice(args);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_aerostack-server"))
            .args(&all)
            .current_dir(root.path())
            .env("AEROSTACK_RUNTIME_DIR", root.path().join("runtime"))
            .env_remove("AEROSTACK_DATA_DIR")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, out, err) = run(&["create-api", "chat", "--name", "Chat API", "--model", "m1"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("slug: chat") && out.contains("model: m1"),
        "{out}"
    );
    let (ok, _, err) = run(&["create-api", "chat"]);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, out, _) = run(&["apis"]);
    assert!(
        ok && out.contains("chat") && out.contains("Chat API"),
        "{out}"
    );
    let (ok, out, err) = run(&["create-key", "chat", "--name", "bob", "--credits", "10"]);
    assert!(ok, "{out}{err}");
    let key = out
        .lines()
        .find_map(|l| l.strip_prefix("key: "))
        .expect("key line")
        .to_string();
    let cid = out
        .split_whitespace()
        .find(|w| w.starts_with("gcon_"))
        .expect("consumer id")
        .to_string();
    let (ok, out, err) = run(&["credit", &cid, "5"]);
    assert!(ok && out.contains("balance 15"), "{out}{err}");
    let (ok, _, err) = run(&["credit", "gcon_nope", "5"]);
    assert!(!ok && err.contains("gcon_nope"), "{err}");
    let (ok, _, err) = run(&["create-key", "nope"]);
    assert!(!ok && err.contains("nope"), "{err}");

    // A platform on that data directory serves the key and its wallet.
    let p = LocalPlatform::start(ServerOptions {
        port: 0,
        data_dir: Some(dir.clone()),
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let r = reqwest::Client::new()
        .get(format!("{}/api/gateway/me/wallet?api_slug=chat", p.url()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let (s, w) = json_of(r).await;
    assert_eq!(s.as_u16(), 200, "{w}");
    assert_eq!(
        (&w["wallet"]["balance"], &w["wallet"]["total_purchased"]),
        (&json!(15), &json!(15))
    );
    let r = reqwest::Client::new()
        .get(format!("{}/v1/local/gateway/apis", p.url()))
        .header("X-Aerostack-Key", &p.default_project().api_key)
        .send()
        .await
        .unwrap();
    let (_, list) = json_of(r).await;
    assert_eq!(list["apis"][0]["model"], "m1");
    p.shutdown().await;
}
