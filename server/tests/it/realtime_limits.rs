//! What one caller may hold on the realtime socket (issue 13 #4), each limit answered with a
//! documented error: topics per connection, presence state size, message size (socket and
//! server-side emit), connections per project, and the persisted history kept per topic.

use aerostack_server::ServerOptions;
use reqwest::Method;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::common::{json_of, start_with};
use crate::realtime::{answer, open, recv, send, ws_url};

fn small() -> ServerOptions {
    let mut o = ServerOptions::ephemeral();
    o.limits.realtime_topics_per_connection = 2;
    o.limits.realtime_presence_bytes = 64;
    o.limits.realtime_message_bytes = 128;
    o.limits.realtime_history_per_topic = 5;
    o.limits.realtime_connections_per_project = 3;
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_limit_answers_with_its_error() {
    let ctx = start_with(small()).await;
    let proto = format!("aerostack-key.{}, aerostack-v1", ctx.key);
    let (_, mut ws) = open(&ctx, "", &proto).await;

    // Topics: two at once; a re-subscribe is not a new topic; a third is refused.
    for t in ["a/1", "a/2", "a/1"] {
        send(&mut ws, json!({"type": "subscribe", "topic": t})).await;
        assert_eq!(answer(&mut ws).await["type"], "subscribed");
    }
    send(&mut ws, json!({"type": "subscribe", "topic": "a/3"})).await;
    let e = answer(&mut ws).await;
    assert_eq!((e["type"].as_str(), e["code"].as_str()), (Some("error"), Some("RATE_LIMIT_EXCEEDED")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("realtime_topics_per_connection"), "{e}");
    send(&mut ws, json!({"type": "unsubscribe", "topic": "a/2"})).await;
    recv(&mut ws, "unsubscribed").await;
    send(&mut ws, json!({"type": "subscribe", "topic": "a/3"})).await;
    assert_eq!(answer(&mut ws).await["type"], "subscribed");

    // Presence state and message size.
    send(&mut ws, json!({"type": "track", "topic": "a/1", "state": {"blob": "x".repeat(100)}})).await;
    let e = recv(&mut ws, "error").await;
    assert_eq!(e["code"], "PAYLOAD_TOO_LARGE", "{e}");
    send(&mut ws, json!({"type": "publish", "topic": "a/1", "event": "big", "data": "y".repeat(200), "id": "p1"})).await;
    let e = recv(&mut ws, "error").await;
    assert_eq!(e["code"], "PAYLOAD_TOO_LARGE", "{e}");
    let (s, v) = ctx.post("/v1/realtime/emit", json!({"event": "big", "data": "y".repeat(200), "room": "a/1"})).await;
    assert_eq!(s.as_u16(), 413, "{v}");

    // History: the newest five persisted messages of a topic are kept.
    for i in 0..12 {
        let (s, v) = ctx.post("/v1/realtime/emit", json!({"event": "n", "data": i, "room": "kept/room", "persist": true})).await;
        assert_eq!(s.as_u16(), 200, "{v}");
    }
    let r = ctx.call(Method::GET, "/api/v1/public/realtime/history?room=kept/room&limit=50", Some(&ctx.key), None).await;
    let kept: Vec<u64> = json_of(r).await.1["messages"].as_array().unwrap().iter().map(|m| m["data"].as_u64().unwrap()).collect();
    assert_eq!(kept, [11, 10, 9, 8, 7]);

    // Connections: three per project here; the fourth handshake is a 429 naming the limit.
    let (_, _b) = open(&ctx, "", &proto).await;
    let (_, _c) = open(&ctx, "", &proto).await;
    let mut req = ws_url(&ctx, "").into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_str(&proto).unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 429);
            let body = String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).to_string();
            assert!(body.contains("realtime_connections_per_project"), "{body}");
        }
        other => panic!("a fourth connection was not refused: {:?}", other.map(|(_, r)| r.status())),
    }
    drop(ws);
    ctx.p.shutdown().await;
}
