//! AI chat against a small local OpenAI-compatible test server (the third party we cannot run
//! here), plus the not-configured answer and the offline embedding.

use aerostack_server::{AiOptions, ServerOptions};
use axum::Json;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::common::{assert_error, start, start_with};

/// Echoes the last user message; streams two deltas when asked; fails for model "broken".
async fn upstream(headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let model = body["model"].as_str().unwrap_or("").to_string();
    if model == "broken" {
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": {"message": "model crashed"}})),
        )
            .into_response();
    }
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    if body["stream"] == true {
        let frames = format!(
            "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
            json!({"choices": [{"index": 0, "delta": {"content": "echo: "}}]}),
            json!({"choices": [{"index": 0, "delta": {"content": last}}]})
        );
        return ([("content-type", "text/event-stream")], frames).into_response();
    }
    Json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("echo: {last} [{auth}]")}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    }))
    .into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_through_an_openai_compatible_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            axum::Router::new().route("/v1/chat/completions", post(upstream)),
        )
        .await
        .unwrap();
    });
    let ai = AiOptions {
        base_url: Some(format!("http://{addr}/v1/")),
        api_key: Some("sk-test".into()),
        model: Some("llama-test".into()),
    };
    let ctx = start_with(ServerOptions {
        ai,
        ..ServerOptions::ephemeral()
    })
    .await;

    let (s, v) = ctx.post("/v1/ai/chat", json!({"messages": [{"role": "user", "content": "hi"}], "model": "@cf/meta/llama-3-8b-instruct"})).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert_eq!(v["response"], "echo: hi [Bearer sk-test]");
    assert_eq!(v["choices"][0]["message"]["content"], v["response"]);
    assert_eq!(
        v["model"], "llama-test",
        "Workers AI model names map to the configured model"
    );
    assert_eq!(v["usage"]["total_tokens"], 3);

    let r = ctx
        .http
        .post(ctx.url("/v1/ai/chat"))
        .header("X-Aerostack-Key", &ctx.key)
        .json(&json!({"messages": [{"role": "user", "content": "stream me"}], "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let text = r.text().await.unwrap();
    let data: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(data.len(), 3, "{text}");
    assert_eq!(data[2], "[DONE]");
    let second: Value = serde_json::from_str(data[1]).unwrap();
    assert_eq!(second["choices"][0]["delta"]["content"], "stream me");

    let (s, v) = ctx
        .post(
            "/v1/ai/chat",
            json!({"messages": [{"role": "user", "content": "x"}], "model": "broken"}),
        )
        .await;
    assert_error(s, &v, 502, "AI_REQUEST_FAILED", None);
    assert!(
        v["message"].as_str().unwrap().contains("model crashed"),
        "{v}"
    );
    ctx.p.shutdown().await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_configured_validation_and_embed() {
    let ctx = start().await;
    let (s, v) = ctx
        .post(
            "/v1/ai/chat",
            json!({"messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_error(s, &v, 503, "AI_NOT_CONFIGURED", None);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("AEROSTACK_AI_BASE_URL")
    );
    let (s, v) = ctx
        .post(
            "/v1/ai/chat",
            json!({"messages": [{"role": "robot", "content": "hi"}]}),
        )
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("messages[0].role"));
    let (s, v) = ctx
        .post(
            "/v1/ai/chat",
            json!({"messages": [{"role": "user", "content": 5}]}),
        )
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("messages[0].content"));
    let (s, v) = ctx.post("/v1/ai/chat", json!({})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("messages"));

    let (s, v) = ctx
        .post("/v1/ai/embed", json!({"text": "red running shoes"}))
        .await;
    assert_eq!(s.as_u16(), 200);
    assert_eq!(v["model"], "aerostack-local/hashed-ngram-384");
    assert_eq!(v["dimensions"], 384);
    let e: Vec<f64> = v["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(e.len(), 384);
    let norm: f64 = e.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!((norm - 1.0).abs() < 1e-3);
    let (_, v2) = ctx
        .post("/v1/ai/embed", json!({"text": "red running shoes"}))
        .await;
    assert_eq!(v["embedding"], v2["embedding"], "deterministic");
    ctx.p.shutdown().await;
}
