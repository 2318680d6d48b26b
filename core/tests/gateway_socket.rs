//! The AI gateway's chat socket through the engine (`Gateway::connect_socket`): a chat streamed as
//! tokens then `done` with usage, answers matched to the frames they answer, a refused key at the
//! handshake, error frames that leave the socket usable, ping/pong, close, and the platform's
//! shutdown. The AI upstream is a stand-in written here (a third party); the platform is real.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use aerostack::{
    ChatMessage, ChatRequest, ChatStep, Client, ErrorCode, GatewaySocketEvent, Method, SocketState,
};
use aerostack_server::{AiOptions, ServerOptions};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use common::{Harness, unique};
use serde_json::{Value, json};

const WAIT: Option<Duration> = Some(Duration::from_secs(10));

/// OpenAI-compatible stand-in: streams "echo: " and the last message as two deltas, then usage
/// {4, 7, 11} when asked for it.
async fn upstream(Json(body): Json<Value>) -> Response {
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    let mut frames = String::new();
    for piece in ["echo: ", last.as_str()] {
        let chunk = json!({"choices": [{"index": 0, "delta": {"content": piece}}]});
        frames.push_str(&format!("data: {chunk}\n\n"));
    }
    if body["stream_options"]["include_usage"] == true {
        let usage = json!({"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 7, "total_tokens": 11}});
        frames.push_str(&format!("data: {usage}\n\n"));
    }
    frames.push_str("data: [DONE]\n\n");
    ([("content-type", "text/event-stream")], frames).into_response()
}

async fn start() -> Harness {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let app = Router::new().route("/v1/chat/completions", post(upstream));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Harness::start_with(ServerOptions {
        ai: AiOptions {
            base_url: Some(format!("http://{addr}/v1")),
            api_key: Some("upstream-secret".into()),
            model: Some("test-model".into()),
        },
        ..ServerOptions::ephemeral()
    })
    .await
}

/// A gateway API and a consumer key with `credits`: (slug, key).
async fn consumer(client: &Client, credits: i64) -> (String, String) {
    let slug = unique("sock");
    let body = json!({"slug": slug});
    client
        .request_json(Method::POST, "/local/gateway/apis", Some(&body), None)
        .await
        .unwrap();
    let body = json!({"api_slug": slug, "name": "alice", "credits": credits});
    let key = client
        .request_json(Method::POST, "/local/gateway/keys", Some(&body), None)
        .await
        .unwrap();
    (slug, key["key"].as_str().unwrap().to_string())
}

fn hi(text: &str) -> ChatRequest {
    ChatRequest::new(vec![ChatMessage::user(text)])
}

/// A consumer with `credits` and its open socket: (slug, key, socket).
async fn open(h: &Harness, credits: i64) -> (String, String, aerostack::GatewaySocket) {
    let (slug, key) = consumer(&h.client, credits).await;
    let s = h
        .client
        .gateway()
        .connect_socket(&slug, Some(&key))
        .await
        .unwrap();
    (slug, key, s)
}

async fn next(s: &aerostack::GatewaySocket) -> GatewaySocketEvent {
    s.next_event(WAIT).await.expect("an event within 10 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_streams_tokens_then_done_with_usage() {
    let h = start().await;
    let (slug, key, s) = open(&h, 100).await;
    assert_eq!(s.state(), SocketState::Open);
    assert!(
        s.url().starts_with("ws://127.0.0.1:")
            && s.url().ends_with(&format!("/api/gateway/{slug}/ws")),
        "{}",
        s.url()
    );

    let id = s.send_chat(&hi("hi")).await.unwrap();
    assert_eq!(
        next(&s).await,
        GatewaySocketEvent::Token {
            content: "echo: ".into(),
            request: Some(id)
        }
    );
    assert_eq!(
        next(&s).await,
        GatewaySocketEvent::Token {
            content: "hi".into(),
            request: Some(id)
        }
    );
    match next(&s).await {
        GatewaySocketEvent::Done {
            content,
            usage,
            tokens_used,
            request,
        } => {
            assert_eq!(content, "echo: hi");
            assert_eq!(
                (
                    usage.prompt_tokens,
                    usage.completion_tokens,
                    usage.total_tokens
                ),
                (4, 7, 11)
            );
            assert_eq!((tokens_used, request), (11, Some(id)));
        }
        other => panic!("expected done, got {other:?}"),
    }

    // The collected form, on the same socket; billed like the HTTP chat.
    let reply = s.chat(&hi("again"), None).await.unwrap();
    assert_eq!(
        (reply.content.as_str(), reply.tokens_used),
        ("echo: again", 11)
    );
    let wallet = h
        .client
        .gateway()
        .wallet(Some(&slug), Some(&key))
        .await
        .unwrap();
    assert_eq!(wallet.balance, 100 - 22);

    // Step by step (what every SDK's onToken and iterators use): its pieces, then its answer;
    // the pong of a ping sent before it is skipped.
    s.ping().await.unwrap();
    let id = s.send_chat(&hi("steps")).await.unwrap();
    let mut pieces = Vec::new();
    let reply = loop {
        match s.chat_step(id, None).await.unwrap() {
            ChatStep::Token(t) => pieces.push(t),
            ChatStep::Done(r) => break r,
        }
    };
    assert_eq!(pieces, ["echo: ", "steps"]);
    assert_eq!(
        (reply.content.as_str(), reply.tokens_used),
        ("echo: steps", 11)
    );

    // Two chats and a ping sent at once are answered in order, each event naming its frame.
    let (a, p, b) = (
        s.send_chat(&hi("a")).await.unwrap(),
        s.ping().await.unwrap(),
        s.send_chat(&hi("b")).await.unwrap(),
    );
    let mut seen = Vec::new();
    while seen.len() < 7 {
        seen.push(next(&s).await);
    }
    let summary: Vec<(String, Option<u64>)> = seen
        .iter()
        .map(|e| match e {
            GatewaySocketEvent::Token { content, request } => {
                (format!("token {content}"), *request)
            }
            GatewaySocketEvent::Done {
                content, request, ..
            } => (format!("done {content}"), *request),
            GatewaySocketEvent::Pong { request } => ("pong".into(), *request),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let expected: Vec<(String, Option<u64>)> = vec![
        ("token echo: ".into(), Some(a)),
        ("token a".into(), Some(a)),
        ("done echo: a".into(), Some(a)),
        ("pong".into(), Some(p)),
        ("token echo: ".into(), Some(b)),
        ("token b".into(), Some(b)),
        ("done echo: b".into(), Some(b)),
    ];
    assert_eq!(summary, expected);
    assert!(
        s.next_event(Some(Duration::from_millis(50)))
            .await
            .is_none(),
        "nothing more: a timeout is None"
    );
    s.close(None, None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_fails_at_connect_with_the_http_calls_error() {
    let h = start().await;
    let (slug, key) = consumer(&h.client, 100).await;
    let (other, _) = consumer(&h.client, 100).await;
    let gw = h.client.gateway();

    let e = gw
        .connect_socket(&slug, Some("ask_test_00000000000000000000000000000000"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.status()),
        (&ErrorCode::AuthInvalidKey, Some(401)),
        "{e}"
    );
    assert!(e.message().to_lowercase().contains("consumer key"), "{e}");
    // The same error as the HTTP chat's for that key.
    let http = gw
        .chat(
            &slug,
            &hi("x"),
            Some("ask_test_00000000000000000000000000000000"),
        )
        .await
        .unwrap_err();
    assert_eq!((http.code(), http.status()), (e.code(), e.status()));

    let e = gw
        .connect_socket(&slug, Some(&h.project.api_key))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        &ErrorCode::AuthInvalidKey,
        "a project key is not a consumer key: {e}"
    );
    let e = gw.connect_socket(&other, Some(&key)).await.unwrap_err();
    assert_eq!(
        (e.code(), e.status()),
        (&ErrorCode::Forbidden, Some(403)),
        "another API's key: {e}"
    );

    // Refused before any connection: no key at all, a key a subprotocol cannot carry, a bad slug.
    let e = gw.connect_socket(&slug, None).await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], "consumer_key", "{e}");
    let e = gw
        .connect_socket(&slug, Some("ask test"))
        .await
        .unwrap_err();
    assert_eq!(e.details().unwrap()["field"], "consumer_key", "{e}");
    let e = gw.connect_socket("no/such", Some(&key)).await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], "api_slug", "{e}");

    // A platform that is not there: a network error naming the socket.
    let gone = common::client_for("http://127.0.0.1:9/v1", "k", None);
    let e = gone
        .gateway()
        .connect_socket(&slug, Some(&key))
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::NetworkError, "{e}");
    assert!(e.message().contains("/ws"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_frames_leave_the_socket_usable() {
    let h = start().await;
    let (_, _, s) = open(&h, 100).await;

    // Checked before sending: nothing goes out.
    let e = s.send_chat(&ChatRequest::new(vec![])).await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], "messages", "{e}");

    // Sent raw, the platform refuses them one by one.
    let empty = s
        .send(&json!({"type": "chat", "messages": []}))
        .await
        .unwrap();
    let dance = s.send(&json!({"type": "dance"})).await.unwrap();
    let number = s.send(&json!(42)).await.unwrap();
    for id in [empty, dance, number] {
        match next(&s).await {
            GatewaySocketEvent::Error {
                code,
                message,
                request,
            } => {
                assert_eq!(
                    (code.as_str(), request),
                    ("VALIDATION_ERROR", Some(id)),
                    "{message}"
                );
                assert!(!message.is_empty());
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }
    // The collected chat raises the platform's error for its frame ...
    let e = s
        .chat(
            &ChatRequest {
                temperature: Some(9.0),
                ..hi("x")
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::ValidationError, "{e}");
    assert!(e.message().contains("temperature"), "{e}");
    // ... and the socket still chats.
    assert_eq!(
        s.chat(&hi("still here"), None).await.unwrap().content,
        "echo: still here"
    );

    // An empty wallet: INSUFFICIENT_CREDITS as an error frame, then the socket still answers.
    let (slug, broke) = consumer(&h.client, 0).await;
    let s = h
        .client
        .gateway()
        .connect_socket(&slug, Some(&broke))
        .await
        .unwrap();
    let e = s.chat(&hi("x"), None).await.unwrap_err();
    assert_eq!(
        e.code(),
        &ErrorCode::Other("INSUFFICIENT_CREDITS".into()),
        "{e}"
    );
    let p = s.ping().await.unwrap();
    assert_eq!(
        next(&s).await,
        GatewaySocketEvent::Pong { request: Some(p) }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_ends_the_socket_once() {
    let h = start().await;
    let (slug, key, s) = open(&h, 100).await;
    let p = s.ping().await.unwrap();
    assert_eq!(
        next(&s).await,
        GatewaySocketEvent::Pong { request: Some(p) }
    );

    let e = s.close(Some(1006), None).await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], "code", "{e}");
    s.close(Some(4000), Some("bye")).await.unwrap();
    assert_eq!(s.state(), SocketState::Closed);
    assert_eq!(s.closed_with(), Some((4000, "bye".to_string())));
    assert_eq!(
        next(&s).await,
        GatewaySocketEvent::Closed {
            code: 4000,
            reason: "bye".into()
        }
    );
    assert!(
        s.next_event(WAIT).await.is_none(),
        "the closed event comes once, then nothing, at once"
    );
    s.close(None, None).await.unwrap(); // a no-op
    let e = s.ping().await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::NetworkError);
    assert!(e.message().contains("closed (4000: bye)"), "{e}");

    // A close while another task pulls: that pull gets the closed event.
    let s = h
        .client
        .gateway()
        .connect_socket(&slug, Some(&key))
        .await
        .unwrap();
    let puller = tokio::spawn({
        let s = s.clone();
        async move { s.next_event(WAIT).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.close(None, None).await.unwrap();
    let ev = puller.await.unwrap().expect("the closed event");
    assert!(
        matches!(ev, GatewaySocketEvent::Closed { code: 1000, .. }),
        "{ev:?}"
    );
    assert_eq!(s.state(), SocketState::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_shutting_down_closes_with_1012() {
    let Harness {
        platform, client, ..
    } = start().await;
    let (slug, key) = consumer(&client, 100).await;
    let s = client
        .gateway()
        .connect_socket(&slug, Some(&key))
        .await
        .unwrap();
    let pending = s.send_chat(&hi("x")).await.unwrap();
    assert!(
        matches!(next(&s).await, GatewaySocketEvent::Token { request: Some(r), .. } if r == pending)
    );
    let stop = tokio::spawn(platform.shutdown());
    let closed = loop {
        match next(&s).await {
            ev @ GatewaySocketEvent::Closed { .. } => break ev,
            _ => continue,
        }
    };
    assert!(
        matches!(&closed, GatewaySocketEvent::Closed { code: 1012, .. }),
        "{closed:?}"
    );
    assert_eq!(s.state(), SocketState::Closed);
    let e = s.chat(&hi("x"), None).await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::NetworkError, "{e}");
    stop.await.unwrap();
}
