//! Gateway wallets under concurrency (issue 13): a call holds about its prompt's tokens before it
//! goes upstream, so concurrent calls of one consumer cannot all pass the balance check and
//! overdraw by many calls; a call that fails upstream or is cut off by its client ends its hold.
//! The upstream is a stand-in OpenAI-compatible server on loopback (our platform is real).

use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::common::{Ctx, assert_error, consumer_get, start_with_ai};

/// 400 characters: the platform holds ceil(400 / 4) = 100 tokens for a call with this prompt.
fn prompt(tag: &str) -> String {
    format!("{tag}{}", "a".repeat(400 - tag.len()))
}
const HOLD: i64 = 100;
/// What the stand-in upstream reports a call used: its prompt plus 10 completion tokens.
const COST: i64 = 110;

/// Answers after 300 ms (so calls overlap) with usage {prompt, 10, prompt + 10}. A prompt
/// starting with `fail` gets a 500; a streamed one starting with `stall` sends 40 characters of
/// content, then nothing for 10 s.
async fn upstream(Json(body): Json<Value>) -> Response {
    let content = body["messages"][0]["content"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let p = (content.chars().count() as i64 + 3) / 4;
    tokio::time::sleep(Duration::from_millis(300)).await;
    if content.starts_with("fail") {
        return (StatusCode::INTERNAL_SERVER_ERROR, "upstream down").into_response();
    }
    let usage = json!({"prompt_tokens": p, "completion_tokens": 10, "total_tokens": p + 10});
    if body["stream"] != true {
        return Json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": usage,
        }))
        .into_response();
    }
    let delta = |text: &str| {
        format!(
            "data: {}\n\n",
            json!({"choices": [{"index": 0, "delta": {"content": text}}]})
        )
    };
    let frames: Vec<String> = if content.starts_with("stall") {
        vec![delta(&"x".repeat(40))]
    } else {
        vec![
            delta("ok"),
            format!("data: {}\n\n", json!({"choices": [], "usage": usage})),
            "data: [DONE]\n\n".to_string(),
        ]
    };
    let stall = content.starts_with("stall");
    let stream =
        futures_util::stream::unfold((frames.into_iter(), stall), |(mut it, stall)| async move {
            match it.next() {
                Some(f) => Some((Ok::<_, std::io::Error>(f), (it, stall))),
                None if stall => {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    None
                }
                None => None,
            }
        });
    (
        [("content-type", "text/event-stream")],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn start_with_upstream() -> (Ctx, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new().route("/v1/chat/completions", post(upstream));
    let (ctx, server) = start_with_ai(app, "m").await;
    let (s, v) = ctx
        .post("/v1/local/gateway/apis", json!({"slug": "chat"}))
        .await;
    assert_eq!(s.as_u16(), 201, "{v}");
    (ctx, server)
}

/// A consumer of the `chat` API with `credits`: its key.
async fn consumer(ctx: &Ctx, credits: i64) -> String {
    let (s, v) = ctx
        .post(
            "/v1/local/gateway/keys",
            json!({"api_slug": "chat", "name": "c", "credits": credits}),
        )
        .await;
    assert_eq!(s.as_u16(), 201, "{v}");
    v["key"].as_str().unwrap().to_string()
}

async fn call(ctx: &Ctx, key: &str, content: &str, stream: bool) -> reqwest::Response {
    ctx.http
        .post(ctx.url("/api/gateway/chat/v1/chat/completions"))
        .bearer_auth(key)
        .json(&json!({"messages": [{"role": "user", "content": content}], "stream": stream}))
        .send()
        .await
        .unwrap()
}

async fn wallet(ctx: &Ctx, key: &str) -> Value {
    let (s, v) = consumer_get(ctx, key, "/api/gateway/me/wallet").await;
    assert_eq!(s.as_u16(), 200, "{v}");
    v["wallet"].clone()
}

async fn requests(ctx: &Ctx, key: &str) -> i64 {
    consumer_get(ctx, key, "/api/gateway/me/usage").await.1["total_requests"].as_i64().unwrap()
}

/// `n` calls at once (every other one streamed): how many succeeded. Every answer is read to
/// its end; every refusal must be the documented 402.
async fn burst(ctx: &Ctx, key: &str, n: usize) -> usize {
    let calls = (0..n).map(|i| async move {
        let r = call(ctx, key, &prompt("hi"), i % 2 == 1).await;
        let status = r.status();
        let text = r.text().await.expect("a complete answer");
        if status.is_success() {
            return 1;
        }
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_error(status, &v, 402, "INSUFFICIENT_CREDITS", None);
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("held by calls in progress"),
            "{v}"
        );
        0
    });
    futures_util::future::join_all(calls)
        .await
        .into_iter()
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_cannot_overdraw_a_wallet() {
    let (ctx, server) = start_with_upstream().await;
    // A balance for one call (one hold of 100 fits, two do not): one of 8 calls goes through.
    let one = consumer(&ctx, 150).await;
    assert_eq!(burst(&ctx, &one, 8).await, 1);
    let w = wallet(&ctx, &one).await;
    assert_eq!(
        (&w["balance"], &w["total_consumed"]),
        (&json!(150 - COST), &json!(COST)),
        "{w}"
    );
    assert_eq!(
        requests(&ctx, &one).await,
        1,
        "refused calls are not counted"
    );

    // A balance for two calls: two go through; the balance never goes below what the calls
    // in progress used beyond their holds.
    let two = consumer(&ctx, 2 * HOLD + 50).await;
    assert_eq!(burst(&ctx, &two, 8).await, 2);
    assert_eq!(
        wallet(&ctx, &two).await["balance"],
        json!(2 * HOLD + 50 - 2 * COST)
    );
    assert_eq!(requests(&ctx, &two).await, 2);
    ctx.p.shutdown().await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_fails_or_is_cut_off_ends_its_hold() {
    let (ctx, server) = start_with_upstream().await;
    // The upstream fails: nothing is debited and the hold is gone (else the next call, which
    // needs 100 of the 150, would be refused).
    let key = consumer(&ctx, 150).await;
    let r = call(&ctx, &key, &prompt("fail"), false).await;
    assert!(!r.status().is_success(), "{}", r.status());
    assert_eq!(wallet(&ctx, &key).await["balance"], 150);
    let r = call(&ctx, &key, &prompt("ok"), false).await;
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    assert_eq!(wallet(&ctx, &key).await["balance"], json!(150 - COST));

    // The client leaves a stream after its first chunk: what was metered (prompt and the
    // 40-character delta: 110 tokens) is debited and the hold ends.
    let key = consumer(&ctx, 300).await;
    let mut r = call(&ctx, &key, &prompt("stall"), true).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.chunk().await.unwrap().is_some(), "the first chunk");
    drop(r);
    let deadline = Instant::now() + Duration::from_secs(30);
    while wallet(&ctx, &key).await["balance"] == 300 {
        assert!(
            Instant::now() < deadline,
            "the cut stream was never settled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(wallet(&ctx, &key).await["balance"], json!(300 - COST));
    // 190 left and nothing held: a call needing 100 goes through.
    let r = call(&ctx, &key, &prompt("ok"), false).await;
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    assert_eq!(requests(&ctx, &key).await, 2);
    ctx.p.shutdown().await;
    server.abort();
}
