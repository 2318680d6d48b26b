//! The realtime wire protocol as docs/realtime.md states it, spoken with raw frames (as a client
//! in another language would): handshake and credentials, frames, idempotent publish, emit.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::common::{Ctx, start};

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) fn ws_url(ctx: &Ctx, query: &str) -> String {
    format!(
        "{}/api/realtime{query}",
        ctx.p.url().replacen("http", "ws", 1)
    )
}

/// Open a socket offering `protocols`; the selected protocol and the socket.
pub(crate) async fn open(ctx: &Ctx, query: &str, protocols: &str) -> (Option<String>, Ws) {
    let mut req = ws_url(ctx, query).into_client_request().unwrap();
    if !protocols.is_empty() {
        req.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(protocols).unwrap(),
        );
    }
    let (ws, resp) = connect_async(req).await.expect("handshake");
    let selected = resp
        .headers()
        .get("sec-websocket-protocol")
        .map(|v| v.to_str().unwrap().to_string());
    (selected, ws)
}

pub(crate) async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next JSON frame whose `type` is `ty` (others skipped).
pub(crate) async fn recv(ws: &mut Ws, ty: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {ty} frame"))
            .expect("socket open")
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] == ty {
                return v;
            }
        }
    }
}

/// The next `event` frame named `name` (others skipped).
pub(crate) async fn recv_event(ws: &mut Ws, name: &str) -> Value {
    loop {
        let v = recv(ws, "event").await;
        if v["event"] == name {
            return v;
        }
    }
}

/// No frame of type `ty` within `window`.
pub(crate) async fn none_of(ws: &mut Ws, ty: &str, window: Duration) {
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            assert_ne!(v["type"], ty, "unexpected {v}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_credentials_and_refusals() {
    let ctx = start().await;
    let pid = ctx.p.default_project().id.clone();
    // Subprotocol credentials; aerostack-v1 is selected.
    let (selected, mut ws) = open(
        &ctx,
        "",
        &format!("aerostack-key.{}, aerostack-v1", ctx.key),
    )
    .await;
    assert_eq!(selected.as_deref(), Some("aerostack-v1"));
    let hello = recv(&mut ws, "connected").await;
    assert_eq!(hello["projectId"], pid.as_str());
    assert!(hello["connectionId"].as_str().unwrap().starts_with("conn_"));
    // Only a credential protocol offered (the official web client): it is echoed.
    let (selected, _ws) = open(&ctx, "", &format!("aerostack-key.{}", ctx.key)).await;
    assert_eq!(selected, Some(format!("aerostack-key.{}", ctx.key)));
    // Query fallback, with a userId and a matching projectId (the slug works too).
    let (_, mut ws) = open(
        &ctx,
        &format!("?apiKey={}&userId=u-7&projectId=default", ctx.key),
        "",
    )
    .await;
    assert_eq!(recv(&mut ws, "connected").await["userId"], "u-7");

    // Refusals are JSON errors before the upgrade.
    for (query, status, code) in [
        ("".to_string(), 401, "AUTH_INVALID_KEY"),
        (
            "?apiKey=ac_secret_nope".to_string(),
            401,
            "AUTH_INVALID_KEY",
        ),
        ("?token=not-a-jwt".to_string(), 401, "AUTH_TOKEN_INVALID"),
        (
            format!("?apiKey={}&projectId=proj_ffffffffffff", ctx.key),
            403,
            "FORBIDDEN",
        ),
    ] {
        let req = ws_url(&ctx, &query).into_client_request().unwrap();
        match connect_async(req).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status().as_u16(), status, "{query}");
                let body: Value = serde_json::from_slice(resp.body().as_deref().unwrap()).unwrap();
                assert_eq!(body["code"], code, "{query}");
            }
            other => panic!("{query}: expected a refusal, got {:?}", other.map(|_| ())),
        }
    }
    // A plain GET is told to upgrade.
    let r = ctx
        .call(Method::GET, "/api/realtime", Some(&ctx.key), None)
        .await;
    assert_eq!(r.status().as_u16(), 426);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_as_documented() {
    let ctx = start().await;
    let pid = ctx.p.default_project().id.clone();
    let proto = format!("aerostack-key.{}, aerostack-v1", ctx.key);
    let (_, mut a) = open(&ctx, "", &proto).await;
    let (_, mut b) = open(&ctx, "", &proto).await;

    // `presence: true` (what the engine sends): a presence:sync even where nobody is tracked.
    send(
        &mut a,
        json!({"type": "subscribe", "topic": "chat/room", "presence": true}),
    )
    .await;
    let sub = recv(&mut a, "subscribed").await;
    assert_eq!(sub["topic"], format!("chat/room/{pid}"));
    assert_eq!(sub["requested"], "chat/room");
    assert!(sub["timestamp"].is_i64());
    let sync = recv_event(&mut a, "presence:sync").await;
    assert_eq!(sync["data"], json!({"presences": []}));
    send(
        &mut b,
        json!({"type": "subscribe", "topic": format!("chat/room/{pid}")}),
    )
    .await;
    recv(&mut b, "subscribed").await;

    // ping / pong with an id.
    send(&mut a, json!({"type": "ping", "id": 9})).await;
    assert_eq!(recv(&mut a, "pong").await["id"], 9);

    // Publish with a counter id (official clients): acked, delivered to the other socket only.
    send(
        &mut a,
        json!({"type": "publish", "topic": "chat/room", "event": "msg", "data": {"t": 1}, "id": 1}),
    )
    .await;
    let ack = recv(&mut a, "ack").await;
    assert_eq!(ack["id"], 1);
    assert_eq!(ack["persisted"], false);
    let ev = recv_event(&mut b, "msg").await;
    assert_eq!(ev["data"], json!({"t": 1}));
    assert_eq!(ev["id"], ack["messageId"]);
    assert_ne!(ev["id"], "1", "a counter id is not used as the message id");
    none_of(&mut a, "event", Duration::from_millis(200)).await;

    // A UUID id makes a persisted publish idempotent: the re-send is acked with the original
    // id and timestamp, and neither stored nor delivered again.
    let uuid = "0b6c8a1e-4a2f-4c1e-9f3b-1234567890ab";
    let publish = json!({"type": "publish", "topic": "chat/room", "event": "once", "data": 1, "persist": true, "id": uuid});
    send(&mut a, publish.clone()).await;
    let first = recv(&mut a, "ack").await;
    assert_eq!(first["messageId"], uuid);
    let ev = recv_event(&mut b, "once").await;
    assert_eq!(
        (ev["id"].clone(), ev["persisted"].clone()),
        (json!(uuid), json!(true))
    );
    assert_eq!(ev["timestamp"], first["timestamp"]);
    send(&mut a, publish).await;
    let again = recv(&mut a, "ack").await;
    assert_eq!(again["timestamp"], first["timestamp"]);
    none_of(&mut b, "event", Duration::from_millis(200)).await;
    let r = ctx
        .http
        .get(ctx.url("/api/v1/public/realtime/history?room=chat/room"))
        .header("X-Aerostack-Key", &ctx.key)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["messages"].as_array().unwrap().len(), 1);

    // Presence: track -> join to everyone (tracker included); untrack -> leave.
    send(
        &mut b,
        json!({"type": "track", "topic": "chat/room", "state": {"n": "b"}}),
    )
    .await;
    let join = recv_event(&mut a, "presence:join").await;
    assert_eq!(join["data"]["state"], json!({"n": "b"}));
    assert!(join["data"]["key"].as_str().unwrap().starts_with("conn_"));
    recv_event(&mut b, "presence:join").await;

    // Errors: bad JSON, missing fields, another project's topic, bad auth.
    a.send(Message::Text("{nope".into())).await.unwrap();
    assert_eq!(recv(&mut a, "error").await["code"], "VALIDATION_ERROR");
    send(&mut a, json!({"type": "publish", "topic": "chat/room"})).await;
    let e = recv(&mut a, "error").await;
    assert!(e["message"].as_str().unwrap().contains("event"), "{e}");
    send(
        &mut a,
        json!({"type": "subscribe", "topic": "chat/room/proj_ffffffffffff"}),
    )
    .await;
    let e = recv(&mut a, "error").await;
    assert_eq!(e["code"], "FORBIDDEN");
    assert_eq!(e["topic"], "chat/room/proj_ffffffffffff");
    send(&mut a, json!({"type": "auth", "token": "x"})).await;
    assert_eq!(recv(&mut a, "error").await["code"], "AUTH_TOKEN_INVALID");

    // A bare table name: the full topic in `subscribed`, and frames under the name as sent (so
    // clients that re-key only by prefix still route them).
    let (_, mut c) = open(&ctx, "", &proto).await;
    let (s, v) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "CREATE TABLE todos (id INTEGER PRIMARY KEY, t TEXT)"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    send(&mut c, json!({"type": "subscribe", "topic": "todos"})).await;
    assert_eq!(
        recv(&mut c, "subscribed").await["topic"],
        format!("table/todos/{pid}")
    );
    ctx.post(
        "/v1/db/query",
        json!({"sql": "INSERT INTO todos (t) VALUES ('x')"}),
    )
    .await;
    let change = recv(&mut c, "db_change").await;
    assert_eq!(change["topic"], "todos");
    assert_eq!(change["table"], "todos");
    assert_eq!(change["operation"], "INSERT");
    assert_eq!(change["data"], json!({"id": 1, "t": "x"}));
    assert_eq!(change["old"], Value::Null);

    // Server-side emit reaches both sockets; B leaving drops its presence.
    let (s, v) = ctx
        .post(
            "/v1/realtime/emit",
            json!({"event": "note", "data": [1], "room": "chat/room"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert_eq!(v["delivered"], 2);
    recv_event(&mut a, "note").await;
    drop(b);
    let leave = recv_event(&mut a, "presence:leave").await;
    assert_eq!(leave["data"]["state"], json!({"n": "b"}));
    let (s, v) = ctx
        .post(
            "/v1/realtime/emit",
            json!({"event": "x", "room": "a/proj_ffffffffffff"}),
        )
        .await;
    assert_eq!((s.as_u16(), v["code"].as_str()), (403, Some("FORBIDDEN")));
    let (s, v) = ctx.post("/v1/realtime/emit", json!({"room": "a"})).await;
    assert_eq!(
        (s.as_u16(), v["details"]["field"].as_str()),
        (400, Some("event"))
    );

    // Shutdown closes sockets with 1012 (reconnect).
    ctx.p.shutdown().await;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), a.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(Some(c)))) => {
                assert_eq!(u16::from(c.code), 1012);
                break;
            }
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// The next frame of type `subscribed` or `error`, whichever comes first.
pub(crate) async fn answer(ws: &mut Ws) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .expect("no subscribed or error frame")
            .expect("socket open")
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] == "subscribed" || v["type"] == "error" {
                return v;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_to_a_table_that_does_not_exist_is_refused() {
    let ctx = start().await;
    let pid = ctx.p.default_project().id.clone();
    let proto = format!("aerostack-key.{}, aerostack-v1", ctx.key);
    let (_, mut ws) = open(&ctx, "", &proto).await;

    // No table yet: refused, named, under the topic as the client will route it.
    send(&mut ws, json!({"type": "subscribe", "topic": "todos"})).await;
    let e = answer(&mut ws).await;
    assert_eq!(
        (e["type"].as_str(), e["code"].as_str()),
        (Some("error"), Some("NOT_FOUND")),
        "{e}"
    );
    assert_eq!(e["topic"], "todos");
    let m = e["message"].as_str().unwrap();
    assert!(
        m.starts_with("table \"todos\" does not exist in this project")
            && m.contains("no tables yet"),
        "{m}"
    );

    let (s, v) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "CREATE TABLE todos (id INTEGER PRIMARY KEY, t TEXT)"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");

    // A mis-cased name: the table that exists is suggested, bare or as a full topic.
    send(&mut ws, json!({"type": "subscribe", "topic": "Todos"})).await;
    let e = answer(&mut ws).await;
    assert_eq!(
        (e["code"].as_str(), e["topic"].as_str()),
        (Some("NOT_FOUND"), Some("Todos")),
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("table \"Todos\" does not exist in this project; did you mean \"todos\"?"),
        "{e}"
    );
    let full = format!("table/Todos/{pid}");
    send(&mut ws, json!({"type": "subscribe", "topic": full})).await;
    let e = answer(&mut ws).await;
    assert_eq!(
        (e["code"].as_str(), e["topic"].as_str()),
        (Some("NOT_FOUND"), Some(full.as_str())),
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("did you mean \"todos\"?"),
        "{e}"
    );

    // A view has no row changes of its own.
    ctx.post(
        "/v1/db/query",
        json!({"sql": "CREATE VIEW open_todos AS SELECT * FROM todos"}),
    )
    .await;
    send(&mut ws, json!({"type": "subscribe", "topic": "open_todos"})).await;
    let e = answer(&mut ws).await;
    assert!(e["message"].as_str().unwrap().contains("is a view"), "{e}");

    // Another unknown name lists the tables there are.
    send(&mut ws, json!({"type": "subscribe", "topic": "alerts"})).await;
    let e = answer(&mut ws).await;
    assert!(
        e["message"].as_str().unwrap().contains("its tables: todos"),
        "{e}"
    );

    // The table now exists: subscribing works, and only that subscription sees changes (the
    // refused ones were not registered).
    send(&mut ws, json!({"type": "subscribe", "topic": "todos"})).await;
    let ok = answer(&mut ws).await;
    assert_eq!(ok["type"], "subscribed", "{ok}");
    assert_eq!(ok["topic"], format!("table/todos/{pid}"));
    // Rooms with a path are never checked against tables.
    send(&mut ws, json!({"type": "subscribe", "topic": "Todos/room"})).await;
    assert_eq!(answer(&mut ws).await["type"], "subscribed");
    ctx.post(
        "/v1/db/query",
        json!({"sql": "INSERT INTO todos (t) VALUES ('x')"}),
    )
    .await;
    let change = recv(&mut ws, "db_change").await;
    assert_eq!(change["topic"], "todos");
    none_of(&mut ws, "db_change", Duration::from_millis(200)).await;
    ctx.p.shutdown().await;
}
