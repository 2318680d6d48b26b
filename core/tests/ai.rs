//! AI through the engine: chat and streamed chat against a small OpenAI-compatible upstream
//! written here (a third party we cannot run in tests), AI_NOT_CONFIGURED without it, offline
//! embeddings and vector search.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aerostack::{ChatMessage, ChatRequest, CompleteOptions, ErrorCode, SearchQuery};
use aerostack_server::{AiOptions, ServerOptions};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use common::Harness;
use futures_util::StreamExt;
use serde_json::{Value, json};

/// What the upstream received: (Authorization header, body).
type Log = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// OpenAI-compatible `/v1/chat/completions` that echoes the last user message.
async fn start_upstream() -> (SocketAddr, Log) {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let l = l.clone();
            async move {
                let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
                l.lock().unwrap().push((auth, body.clone()));
                let last = body["messages"].as_array().and_then(|m| m.last()).and_then(|m| m["content"].as_str()).unwrap_or("");
                if last == "fail" {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response();
                }
                let model = body["model"].as_str().unwrap_or("upstream-default").to_owned();
                let text = format!("echo: {last}");
                if body["stream"] == json!(true) {
                    sse(&text, &model)
                } else {
                    Json(json!({
                        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}
                    }))
                    .into_response()
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, log)
}

/// SSE answer: one delta per word, a usage frame, `[DONE]`; frames deliberately split mid-JSON.
fn sse(text: &str, model: &str) -> Response {
    let mut raw = String::new();
    for (i, word) in text.split_inclusive(' ').enumerate() {
        let frame = json!({"id": "c", "model": model, "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": null}]});
        raw.push_str(&format!("data: {frame}\n\n"));
        if i == 0 {
            raw.push_str(": keep-alive comment\n\n");
        }
    }
    raw.push_str(&format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    ));
    raw.push_str(&format!("data: {}\n\n", json!({"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}})));
    raw.push_str("data: [DONE]\n\n");
    let pieces: Vec<Result<Bytes, std::io::Error>> = raw
        .into_bytes()
        .chunks(13)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(futures_util::stream::iter(pieces)))
        .unwrap()
}

async fn with_upstream() -> (Harness, Log) {
    let (addr, log) = start_upstream().await;
    let ai = AiOptions {
        base_url: Some(format!("http://{addr}/v1")),
        api_key: Some("upstream-secret".into()),
        model: Some("test-model".into()),
    };
    (
        Harness::start_with(ServerOptions {
            ai,
            ..ServerOptions::ephemeral()
        })
        .await,
        log,
    )
}

#[tokio::test]
async fn chat_complete_and_stream_through_an_upstream() {
    let (h, log) = with_upstream().await;
    let ai = h.client.ai();

    let r = ai
        .chat(&ChatRequest {
            max_tokens: Some(32),
            temperature: Some(0.2),
            ..ChatRequest::new(vec![
                ChatMessage::system("be brief"),
                ChatMessage::user("hello there"),
            ])
        })
        .await
        .unwrap();
    assert_eq!(r.text, "echo: hello there");
    assert_eq!(r.usage.unwrap().total_tokens, 7);
    assert_eq!(r.finish_reason.as_deref(), Some("stop"));
    {
        let log = log.lock().unwrap();
        let (auth, body) = log.last().unwrap();
        assert_eq!(auth.as_deref(), Some("Bearer upstream-secret"));
        assert_eq!(body["max_tokens"], json!(32));
        assert_eq!(body["messages"][0]["role"], json!("system"));
    }

    let c = ai
        .complete(
            "Summarize this",
            CompleteOptions {
                model: Some("my-model".into()),
                system: Some("sys".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(c.text, "echo: Summarize this");
    assert_eq!(
        log.lock().unwrap().last().unwrap().1["model"],
        json!("my-model")
    );

    let mut stream = ai
        .chat_stream(&ChatRequest::new(vec![ChatMessage::user(
            "stream me please",
        )]))
        .await
        .unwrap();
    let mut text = String::new();
    let mut chunks = 0;
    let mut usage = None;
    let mut finish = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        chunks += 1;
        text.push_str(&chunk.delta);
        usage = chunk.usage.or(usage);
        finish = chunk.finish_reason.or(finish);
    }
    assert_eq!(text, "echo: stream me please");
    assert!(
        chunks >= 4,
        "one chunk per word plus the final ones, got {chunks}"
    );
    assert_eq!(usage.unwrap().total_tokens, 7);
    assert_eq!(finish.as_deref(), Some("stop"));
    assert_eq!(log.lock().unwrap().last().unwrap().1["stream"], json!(true));

    // Dropping a stream early is fine.
    let mut s = ai
        .chat_stream(&ChatRequest::new(vec![ChatMessage::user("a b c d e")]))
        .await
        .unwrap();
    assert!(s.next().await.unwrap().is_ok());
    drop(s);

    let e = ai
        .chat(&ChatRequest::new(vec![ChatMessage::user("fail")]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::AiRequestFailed, "{e}");

    let e = ai.chat(&ChatRequest::new(vec![])).await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], json!("messages"));
    let e = ai
        .chat(&ChatRequest::new(vec![ChatMessage {
            role: "robot".into(),
            content: "x".into(),
        }]))
        .await
        .unwrap_err();
    assert_eq!(e.details().unwrap()["field"], json!("messages[0].role"));
    h.platform.shutdown().await;
}

#[tokio::test]
async fn chat_without_upstream_is_ai_not_configured() {
    let h = Harness::start().await;
    let e = h
        .client
        .ai()
        .chat(&ChatRequest::new(vec![ChatMessage::user("hi")]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::AiNotConfigured, "{e}");
    assert!(!e.message().is_empty());
    let e = match h
        .client
        .ai()
        .chat_stream(&ChatRequest::new(vec![ChatMessage::user("hi")]))
        .await
    {
        Err(e) => e,
        Ok(_) => panic!("a stream without an upstream"),
    };
    assert_eq!(e.code(), &ErrorCode::AiNotConfigured);
    h.platform.shutdown().await;
}

#[tokio::test]
async fn embeddings_and_search() {
    let h = Harness::start().await;
    let ai = h.client.ai();
    let a = ai.embed("the quick brown fox").await.unwrap();
    let b = ai.embed("the quick brown fox").await.unwrap();
    assert!(a.dimensions() > 0);
    assert_eq!(a.embedding, b.embedding, "deterministic offline embeddings");

    let s = ai.search();
    s.ingest(
        "Our refund policy allows returns within 30 days",
        "faq",
        Some("faq-refund"),
        Some(&json!({"lang": "en"})),
    )
    .await
    .unwrap();
    s.ingest(
        "Shipping takes three to five business days",
        "faq",
        Some("faq-ship"),
        None,
    )
    .await
    .unwrap();
    let r = s
        .ingest("Red running shoes, size 42", "product", None, None)
        .await
        .unwrap();
    assert!(r.success);

    let hits = s
        .query(
            "how do I return a refund",
            &SearchQuery {
                top_k: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(hits[0].id, "faq-refund");
    assert!(hits[0].score.is_some());
    assert_eq!(hits[0].metadata, Some(json!({"lang": "en"})));
    let only_products = s
        .query(
            "shoes",
            &SearchQuery {
                types: Some(vec!["product".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        only_products
            .iter()
            .all(|h| h.doc_type.as_deref() == Some("product"))
    );

    assert_eq!(s.count(None).await.unwrap(), 3);
    assert_eq!(s.count(Some("faq")).await.unwrap(), 2);
    let mut types = s.list_types().await.unwrap();
    types.sort_by(|a, b| a.doc_type.cmp(&b.doc_type));
    assert_eq!(
        types
            .iter()
            .map(|t| (t.doc_type.as_str(), t.count))
            .collect::<Vec<_>>(),
        vec![("faq", 2), ("product", 1)]
    );

    assert!(
        s.update(
            "faq-ship",
            "Shipping is free and takes two days",
            None,
            None
        )
        .await
        .unwrap()
    );
    assert_eq!(
        s.get("faq-ship").await.unwrap().unwrap().content,
        "Shipping is free and takes two days"
    );
    assert!(s.get("nope").await.unwrap().is_none());
    assert!(s.delete("faq-ship").await.unwrap());
    assert!(s.delete_by_type("product").await.unwrap());
    assert_eq!(s.count(None).await.unwrap(), 1);
    assert!(s.configure("multilingual").await.unwrap());
    let e = s.configure("klingon").await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], json!("embedding_model"));

    let (_, other) = h.other_project("other").await;
    assert_eq!(
        other.ai().search().count(None).await.unwrap(),
        0,
        "documents are per project"
    );
    h.platform.shutdown().await;
}
