//! What the official clients send and expect (wire-facts §4), spoken as raw frames: the legacy
//! `chat` frame, a client-initiated close, presence frames only where presence is in use, and
//! the subscribe `filter` on table topics (docs/realtime.md §3, §5, §6).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::common::{Ctx, start};
use crate::realtime::{Ws, answer, open, recv, recv_event, send};

fn proto(ctx: &Ctx) -> String {
    format!("aerostack-key.{}, aerostack-v1", ctx.key)
}

/// The next JSON text frame within `window`, if any.
async fn next_frame(ws: &mut Ws, window: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(t) = msg {
            return Some(serde_json::from_str(t.as_str()).unwrap());
        }
    }
    None
}

/// Every text frame that arrives within `window`.
async fn frames_within(ws: &mut Ws, window: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + window;
    let mut out = Vec::new();
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(t) = msg {
            out.push(serde_json::from_str(t.as_str()).unwrap());
        }
    }
    out
}

fn is_presence(v: &Value) -> bool {
    v["type"] == "event"
        && v["event"]
            .as_str()
            .is_some_and(|e| e.starts_with("presence:"))
}

async fn sql(ctx: &Ctx, q: &str) {
    let (s, v) = ctx.post("/v1/db/query", json!({ "sql": q })).await;
    assert_eq!(s.as_u16(), 200, "{q}: {v}");
}

/// `sendChat(roomId, text, metadata)` sends `{type: "chat", roomId, text, metadata}` and
/// `chatRoom(roomId)` listens on `chat/{roomId}/{projectId}`: the message arrives there (the
/// sender included), as an `event` frame a client's `on('*')` gets, and history has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_chat_frame_is_a_persisted_message_on_the_room() {
    let ctx = start().await;
    let pid = ctx.p.default_project().id.clone();
    let room = format!("chat/general/{pid}");
    let (_, mut sender) = open(&ctx, "", &proto(&ctx)).await;
    let (_, mut other) = open(&ctx, "", &proto(&ctx)).await;
    // The TS client qualifies the topic itself; Python/Go send `chat/general` and re-key.
    send(&mut sender, json!({"type": "subscribe", "topic": room})).await;
    recv(&mut sender, "subscribed").await;
    send(
        &mut other,
        json!({"type": "subscribe", "topic": "chat/general"}),
    )
    .await;
    assert_eq!(recv(&mut other, "subscribed").await["topic"], room);

    send(
        &mut sender,
        json!({"type": "chat", "roomId": "general", "text": "hi", "metadata": {"m": 1}}),
    )
    .await;
    for ws in [&mut sender, &mut other] {
        let ev = recv_event(ws, "message").await;
        assert_eq!(ev["topic"], room);
        assert_eq!(ev["data"], json!({"text": "hi", "metadata": {"m": 1}}));
        assert_eq!(ev["persisted"], true);
        assert!(ev["id"].is_string() && ev["timestamp"].is_i64(), "{ev}");
    }
    // Python/Go send no metadata.
    send(
        &mut sender,
        json!({"type": "chat", "roomId": "general", "text": "2nd"}),
    )
    .await;
    assert_eq!(
        recv_event(&mut other, "message").await["data"],
        json!({"text": "2nd"})
    );

    for query in ["chat/general", room.as_str()] {
        let r = ctx
            .http
            .get(ctx.url(&format!("/api/v1/public/realtime/history?room={query}")))
            .header("X-Aerostack-Key", &ctx.key)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        let msgs = v["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 2, "{v}");
        assert_eq!(msgs[1]["event"], "message");
        assert_eq!(msgs[1]["data"]["text"], "hi");
        assert_eq!(msgs[0]["data"]["text"], "2nd", "newest first");
    }

    // Refusals name the field.
    send(
        &mut sender,
        json!({"type": "chat", "roomId": " ", "text": "x"}),
    )
    .await;
    let e = recv(&mut sender, "error").await;
    assert_eq!(e["code"], "VALIDATION_ERROR");
    assert!(e["message"].as_str().unwrap().contains("roomId"), "{e}");
    send(&mut sender, json!({"type": "chat", "roomId": "general"})).await;
    let e = recv(&mut sender, "error").await;
    assert!(e["message"].as_str().unwrap().contains("text"), "{e}");
    send(
        &mut sender,
        json!({"type": "chat", "roomId": "general/proj_ffffffffffff", "text": "x"}),
    )
    .await;
    assert_eq!(recv(&mut sender, "error").await["code"], "FORBIDDEN");
    ctx.p.shutdown().await;
}

/// A client's close frame is answered with a close frame echoing its code, so the client sees a
/// clean close (1000), not 1006; the connection is then gone from the platform.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_close_is_answered_with_a_close_frame() {
    let ctx = start().await;
    let (_, mut ws) = open(&ctx, "", &proto(&ctx)).await;
    recv(&mut ws, "connected").await;
    ws.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    })))
    .await
    .unwrap();
    let mut echoed = None;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("the platform answers the close")
        {
            Some(Ok(Message::Close(frame))) => echoed = Some(frame),
            Some(Ok(_)) => {}
            // After the close handshake the stream ends cleanly.
            None => break,
            Some(Err(e)) => panic!("the close ended in an error (no close frame?): {e}"),
        }
    }
    let frame = echoed.expect("a close frame").expect("with a code");
    assert_eq!(frame.code, CloseCode::Normal);
    for _ in 0..50 {
        if ctx.p.state().realtime.connection_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ctx.p.state().realtime.connection_count(), 0);
    ctx.p.shutdown().await;
}

/// Presence frames reach only subscribers of topics where presence is in use: a plain subscribe
/// gets no `presence:sync` while nobody is tracked (a table topic's handlers see only
/// `db_change`), gets one once somebody is; `presence: true` (the engine) always gets it;
/// `presence: false` never gets presence frames.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_frames_only_where_presence_is_used() {
    let ctx = start().await;
    sql(&ctx, "CREATE TABLE todos (id INTEGER PRIMARY KEY, t TEXT)").await;
    let (_, mut table) = open(&ctx, "", &proto(&ctx)).await;
    send(&mut table, json!({"type": "subscribe", "topic": "todos"})).await;
    recv(&mut table, "subscribed").await;
    sql(&ctx, "INSERT INTO todos (t) VALUES ('a')").await;
    let next = next_frame(&mut table, Duration::from_secs(5)).await;
    assert_eq!(
        next.as_ref().map(|v| v["type"].clone()),
        Some(json!("db_change")),
        "the first frame after `subscribed` is the row change: {next:?}"
    );

    // A room nobody tracks on: no sync.
    let (_, mut x) = open(&ctx, "", &proto(&ctx)).await;
    send(&mut x, json!({"type": "subscribe", "topic": "rooms/lobby"})).await;
    recv(&mut x, "subscribed").await;
    let (_, mut quiet) = open(&ctx, "", &proto(&ctx)).await;
    send(
        &mut quiet,
        json!({"type": "subscribe", "topic": "rooms/lobby", "presence": false}),
    )
    .await;
    recv(&mut quiet, "subscribed").await;
    let stray: Vec<Value> = frames_within(&mut x, Duration::from_millis(300)).await;
    assert!(!stray.iter().any(is_presence), "{stray:?}");

    // Somebody tracks: presence is in use; joins go to the room's subscribers.
    let (_, mut y) = open(&ctx, "", &proto(&ctx)).await;
    send(
        &mut y,
        json!({"type": "track", "topic": "rooms/lobby", "state": {"name": "Ada"}}),
    )
    .await;
    let join = recv_event(&mut x, "presence:join").await;
    assert_eq!(join["data"]["state"], json!({"name": "Ada"}));

    // A later plain subscriber learns who is there.
    let (_, mut z) = open(&ctx, "", &proto(&ctx)).await;
    send(&mut z, json!({"type": "subscribe", "topic": "rooms/lobby"})).await;
    recv(&mut z, "subscribed").await;
    let sync = recv_event(&mut z, "presence:sync").await;
    assert_eq!(
        sync["data"]["presences"][0]["state"],
        json!({"name": "Ada"})
    );

    // Leaves reach plain subscribers, not the one that declined presence.
    send(&mut y, json!({"type": "untrack", "topic": "rooms/lobby"})).await;
    recv_event(&mut x, "presence:leave").await;
    let seen = frames_within(&mut quiet, Duration::from_millis(300)).await;
    assert!(!seen.iter().any(is_presence), "{seen:?}");

    // The engine's `presence: true`: a sync even on a table topic nobody tracks on.
    send(
        &mut y,
        json!({"type": "subscribe", "topic": "todos", "presence": true}),
    )
    .await;
    recv(&mut y, "subscribed").await;
    let sync = recv_event(&mut y, "presence:sync").await;
    assert_eq!(sync["data"], json!({"presences": []}));
    ctx.p.shutdown().await;
}

/// The subscribe `filter` of the official clients (an object) applies to `db_change` frames:
/// equality on scalars, `op.value` operators, the `column=op.value` string; an UPDATE goes to a
/// subscriber whose filter matches the new or the old row. Unknown syntax, unknown columns and
/// filters on message rooms are refused with an `error` frame naming them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_filter_applies_to_row_changes() {
    let ctx = start().await;
    sql(
        &ctx,
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, amount INTEGER)",
    )
    .await;
    let c = &ctx;
    let subscriber = |filter: Value| async move {
        let (_, mut ws) = open(c, "", &proto(c)).await;
        send(
            &mut ws,
            json!({"type": "subscribe", "topic": "orders", "filter": filter}),
        )
        .await;
        let a = answer(&mut ws).await;
        assert_eq!(a["type"], "subscribed", "{a}");
        ws
    };
    let mut open_orders = subscriber(json!({"status": "open"})).await;
    let mut big = subscriber(json!({"amount": "gte.10"})).await;
    let mut closed = subscriber(json!("status=eq.closed")).await;
    let mut all = subscriber(Value::Null).await;

    sql(
        &ctx,
        "INSERT INTO orders (id, status, amount) VALUES (1, 'open', 5)",
    )
    .await;
    sql(
        &ctx,
        "INSERT INTO orders (id, status, amount) VALUES (2, 'closed', 20)",
    )
    .await;
    sql(&ctx, "UPDATE orders SET status = 'closed' WHERE id = 1").await;
    sql(&ctx, "DELETE FROM orders WHERE id = 2").await;

    let changes = |frames: Vec<Value>| -> Vec<(String, i64)> {
        frames
            .into_iter()
            .filter(|v| v["type"] == "db_change")
            .map(|v| {
                let row = if v["operation"] == "DELETE" {
                    &v["old"]
                } else {
                    &v["data"]
                };
                (
                    v["operation"].as_str().unwrap().to_string(),
                    row["id"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let window = Duration::from_millis(700);
    let got = |v: &[(&str, i64)]| -> Vec<(String, i64)> {
        v.iter().map(|(o, i)| (o.to_string(), *i)).collect()
    };
    assert_eq!(
        changes(frames_within(&mut all, window).await),
        got(&[("INSERT", 1), ("INSERT", 2), ("UPDATE", 1), ("DELETE", 2)])
    );
    // The UPDATE moved row 1 out of "open": seen, by its old row.
    assert_eq!(
        changes(frames_within(&mut open_orders, window).await),
        got(&[("INSERT", 1), ("UPDATE", 1)])
    );
    assert_eq!(
        changes(frames_within(&mut big, window).await),
        got(&[("INSERT", 2), ("DELETE", 2)])
    );
    assert_eq!(
        changes(frames_within(&mut closed, window).await),
        got(&[("INSERT", 2), ("UPDATE", 1), ("DELETE", 2)])
    );

    // Refusals: an error frame naming the problem, and no subscription.
    let (_, mut ws) = open(&ctx, "", &proto(&ctx)).await;
    for (filter, topic, needle) in [
        (json!({"status": {"eq": "open"}}), "orders", "\"status\""),
        (json!({"amount": "in.5"}), "orders", "parenthesised"),
        (json!({"stauts": "open"}), "orders", "\"stauts\""),
        (json!(42), "orders", "unknown filter syntax"),
        (json!({"status": "open"}), "chat/room", "table topic"),
    ] {
        send(
            &mut ws,
            json!({"type": "subscribe", "topic": topic, "filter": filter}),
        )
        .await;
        let e = answer(&mut ws).await;
        assert_eq!(
            (e["type"].as_str(), e["code"].as_str()),
            (Some("error"), Some("VALIDATION_ERROR")),
            "{filter}: {e}"
        );
        // Named as the client routes it: `orders` as sent, a room by its full topic.
        assert!(
            e["topic"].as_str().unwrap().starts_with(topic),
            "{filter}: {e}"
        );
        assert!(
            e["message"].as_str().unwrap().contains(needle),
            "{filter}: {e}"
        );
    }
    sql(
        &ctx,
        "INSERT INTO orders (id, status, amount) VALUES (3, 'open', 1)",
    )
    .await;
    let stray = frames_within(&mut ws, Duration::from_millis(300)).await;
    assert!(
        !stray.iter().any(|v| v["type"] == "db_change"),
        "a refused subscription receives nothing: {stray:?}"
    );
    ctx.p.shutdown().await;
}

/// History pages by the strict order (`created_at`, `seq`): paging forward with `since` +
/// `since_seq` and backward with `before` + `before_seq`, a page at a time, reaches every message
/// exactly once however many share a millisecond (issue 13 #8).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_skip_nothing_inside_a_millisecond() {
    let ctx = crate::common::start().await;
    const N: usize = 60;
    for i in 0..N {
        let (s, v) = ctx.post("/v1/realtime/emit", json!({"event": "n", "data": i, "room": "paging/room", "persist": true})).await;
        assert_eq!(s.as_u16(), 200, "{v}");
    }
    let page = |q: String| {
        let ctx = &ctx;
        async move {
            let r = ctx.call(reqwest::Method::GET, &format!("/api/v1/public/realtime/history?room=paging/room&limit=7&{q}"), Some(&ctx.key), None).await;
            crate::common::json_of(r).await.1["messages"].as_array().unwrap().clone()
        }
    };
    let mut forward = Vec::new();
    let mut q = "since=0".to_string();
    loop {
        let msgs = page(q.clone()).await;
        let Some(last) = msgs.last() else { break };
        q = format!("since={}&since_seq={}", last["created_at"], last["seq"]);
        forward.extend(msgs.iter().map(|m| m["data"].as_u64().unwrap()));
    }
    assert_eq!(forward, (0..N as u64).collect::<Vec<_>>());
    let mut backward = Vec::new();
    let mut q = String::new();
    loop {
        let msgs = page(q.clone()).await;
        let Some(last) = msgs.last() else { break };
        q = format!("before={}&before_seq={}", last["created_at"], last["seq"]);
        backward.extend(msgs.iter().map(|m| m["data"].as_u64().unwrap()));
    }
    assert_eq!(backward, (0..N as u64).rev().collect::<Vec<_>>());
    ctx.p.shutdown().await;
}
