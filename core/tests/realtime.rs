//! Realtime against the real platform (in-process): db changes, publish/ack/history, presence,
//! reconnect with catch-up across a platform restart, project isolation, dead-socket detection.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aerostack::realtime::{
    Backoff, ConnectionStatus, EventKind, PublishOptions, RealtimeClient, RealtimeConfig,
    RealtimeEvent,
};
use aerostack::{Client, ErrorCode};
use aerostack_server::{LocalPlatform, ServerOptions};
use common::{Harness, client_for};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

const WAIT: Duration = Duration::from_secs(10);

/// Quick reconnects and heartbeats, so failure paths run in well under a second.
fn fast() -> RealtimeConfig {
    RealtimeConfig {
        heartbeat_interval: Duration::from_millis(500),
        pong_timeout: Duration::from_secs(2),
        backoff: Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(300),
            factor: 2.0,
        },
        ack_timeout: Duration::from_secs(30),
        ..RealtimeConfig::default()
    }
}

/// Pull events until one satisfies `pred` (others are skipped), or panic after [`WAIT`].
async fn wait_for(
    rt: &RealtimeClient,
    what: &str,
    pred: impl Fn(&RealtimeEvent) -> bool,
) -> RealtimeEvent {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match rt.next_event_timeout(left).await {
            Some(ev) if pred(&ev) => return ev,
            Some(_) => {}
            None => panic!("no {what} event within {WAIT:?}"),
        }
    }
}

async fn subscribed(rt: &RealtimeClient, topic_part: &str) {
    wait_for(rt, "subscribed", |e| {
        e.kind == EventKind::Subscribed
            && e.topic.as_deref().is_some_and(|t| t.contains(topic_part))
    })
    .await;
}

/// Message events (not status/presence) arriving within `window`.
async fn messages_within(rt: &RealtimeClient, window: Duration) -> Vec<RealtimeEvent> {
    let deadline = tokio::time::Instant::now() + window;
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return out;
        }
        match rt.next_event_timeout(left).await {
            Some(ev) if ev.kind == EventKind::Message => out.push(ev),
            Some(_) => {}
            None => return out,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_writes_reach_subscribers_after_commit() {
    let h = Harness::start().await;
    let db = h.client.db();
    db.query(
        "CREATE TABLE todos (id INTEGER PRIMARY KEY, title TEXT, done INTEGER)",
        &[],
    )
    .await
    .unwrap();
    let rt = h.client.realtime_with(fast());
    let todos = rt.channel("todos");
    assert_eq!(todos.topic(), format!("table/todos/{}", h.project.id));
    let on_insert = todos.on("INSERT");
    let on_all = todos.on("*");
    rt.connect().await.unwrap();
    subscribed(&rt, "table/todos").await;

    db.query(
        "INSERT INTO todos (title, done) VALUES (?, 0)",
        &[json!("write docs")],
    )
    .await
    .unwrap();
    let ev = wait_for(&rt, "INSERT", |e| e.kind == EventKind::DbChange).await;
    assert_eq!(ev.event, "INSERT");
    assert_eq!(ev.data, json!({"id": 1, "title": "write docs", "done": 0}));
    assert_eq!(ev.old, None);
    assert_eq!(ev.listeners, vec![on_insert, on_all]);
    assert_eq!(ev.topic.as_deref(), Some(todos.topic().as_str()));

    db.query("UPDATE todos SET done = 1 WHERE id = 1", &[])
        .await
        .unwrap();
    let ev = wait_for(&rt, "UPDATE", |e| e.kind == EventKind::DbChange).await;
    assert_eq!(ev.event, "UPDATE");
    assert_eq!(ev.data["done"], 1);
    assert_eq!(ev.old.as_ref().unwrap()["done"], 0);
    assert_eq!(ev.listeners, vec![on_all]);

    db.query("DELETE FROM todos WHERE id = 1", &[])
        .await
        .unwrap();
    let ev = wait_for(&rt, "DELETE", |e| e.kind == EventKind::DbChange).await;
    assert_eq!(ev.event, "DELETE");
    assert_eq!(ev.data, Value::Null);
    assert_eq!(ev.old.unwrap()["title"], "write docs");

    // A batch that fails is rolled back: none of its writes is announced.
    let failed = db
        .batch(&[
            aerostack::Statement::new("INSERT INTO todos (title) VALUES ('ghost')", vec![]),
            aerostack::Statement::new("INSERT INTO missing_table VALUES (1)", vec![]),
        ])
        .await;
    assert!(failed.is_err());
    db.batch(&[
        aerostack::Statement::new("INSERT INTO todos (title) VALUES ('a')", vec![]),
        aerostack::Statement::new("INSERT INTO todos (title) VALUES ('b')", vec![]),
    ])
    .await
    .unwrap();
    for expected in ["a", "b"] {
        let ev = wait_for(&rt, "batch INSERT", |e| e.kind == EventKind::DbChange).await;
        assert_eq!(
            ev.data["title"], expected,
            "the rolled-back 'ghost' row never shows"
        );
    }
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_is_acked_delivered_to_others_and_kept_in_history() {
    let h = Harness::start().await;
    let a = h.client.realtime_with(fast());
    let b = h.client.realtime_with(fast());
    let room_a = a.channel("chat/general");
    let room_b = b.channel("chat/general");
    let on_msg = room_b.on("message");
    a.connect().await.unwrap();
    b.connect().await.unwrap();
    subscribed(&a, "chat/general").await;
    subscribed(&b, "chat/general").await;

    let ack = room_a
        .publish(
            "message",
            json!({"text": "hello"}),
            PublishOptions::persisted(),
        )
        .await
        .unwrap();
    assert!(ack.persisted);
    let got = wait_for(&b, "message", |e| e.kind == EventKind::Message).await;
    assert_eq!(got.event, "message");
    assert_eq!(got.data, json!({"text": "hello"}));
    assert_eq!(got.id.as_deref(), Some(ack.id.as_str()));
    assert_eq!(got.timestamp, ack.timestamp);
    assert!(got.persisted && !got.replayed);
    assert_eq!(got.listeners, vec![on_msg]);
    // Not echoed to the sender.
    assert!(
        messages_within(&a, Duration::from_millis(300))
            .await
            .is_empty()
    );

    // Not persisted: delivered, acked, absent from history.
    let quiet = room_a
        .publish("typing", json!({}), PublishOptions::default())
        .await
        .unwrap();
    assert!(!quiet.persisted);
    wait_for(&b, "typing", |e| e.event == "typing").await;

    let history = room_b.history(Some(10), None).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].id.as_deref(), Some(ack.id.as_str()));
    assert_eq!(history[0].created_at, ack.timestamp.unwrap());
    let topic = room_a.topic();
    let since = h
        .client
        .realtime_history_since(&topic, ack.timestamp.unwrap().unix_ms() - 1, None, None)
        .await
        .unwrap();
    assert_eq!(since.len(), 1);
    assert!(
        h.client
            .realtime_history_since(&topic, ack.timestamp.unwrap().unix_ms(), None, None)
            .await
            .unwrap()
            .is_empty(),
        "since is exclusive"
    );

    // Server-side emit reaches every subscriber, the publisher's own client included.
    let out = h
        .client
        .socket()
        .emit("server.note", &json!({"n": 1}), "chat/general")
        .await
        .unwrap();
    assert_eq!(out.topic, topic);
    assert_eq!(out.delivered, 2);
    for rt in [&a, &b] {
        let ev = wait_for(rt, "emit", |e| e.event == "server.note").await;
        assert_eq!(ev.user_id, None);
        assert_eq!(ev.data, json!({"n": 1}));
    }
    h.platform.shutdown().await;
}

/// A TCP proxy between the engine and the platform. `freeze` makes the current connections
/// silently swallow bytes (a dead network path); `cut` drops them without a WebSocket close.
/// New connections are forwarded normally.
struct Proxy {
    addr: SocketAddr,
    conns: Arc<Mutex<Vec<Piped>>>,
}

/// One proxied connection: its freeze switch and its two copy tasks.
type Piped = (Arc<AtomicBool>, JoinHandle<()>, JoinHandle<()>);

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let conns: Arc<Mutex<Vec<_>>> = Arc::default();
        let list = conns.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let frozen = Arc::new(AtomicBool::new(false));
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let up = tokio::spawn(pipe(cr, sw, frozen.clone()));
                let down = tokio::spawn(pipe(sr, cw, frozen.clone()));
                list.lock().await.push((frozen, up, down));
            }
        });
        Proxy { addr, conns }
    }

    fn api_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    async fn freeze(&self) {
        for (frozen, ..) in self.conns.lock().await.iter() {
            frozen.store(true, Ordering::SeqCst);
        }
    }

    async fn cut(&self) {
        for (_, up, down) in self.conns.lock().await.drain(..) {
            up.abort();
            down.abort();
        }
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if frozen.load(Ordering::SeqCst) {
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_sync_join_leave_and_leave_on_abrupt_drop() {
    let h = Harness::start().await;
    let a = h.client.realtime_with(fast());
    let lobby_a = a.channel("rooms/lobby");
    let on_presence = lobby_a.on("presence:*");
    lobby_a.track(json!({"name": "Ada"})).unwrap();
    a.connect().await.unwrap();
    subscribed(&a, "rooms/lobby").await;
    let me = wait_for(&a, "own join", |e| e.event == "presence:join").await;
    assert_eq!(me.listeners, vec![on_presence]);
    let a_key = me.data["key"].as_str().unwrap().to_string();

    // B connects through a proxy so it can vanish without a WebSocket close.
    let proxy = Proxy::start(h.platform.addr()).await;
    let b_client = client_for(&proxy.api_url(), &h.project.api_key, Some(&h.project.id));
    let b = b_client.realtime_with(fast());
    let lobby_b = b.channel("rooms/lobby");
    b.connect().await.unwrap();
    let sync = wait_for(&b, "presence:sync", |e| e.event == "presence:sync").await;
    assert_eq!(sync.data["presences"][0]["key"], a_key.as_str());
    assert_eq!(sync.data["presences"][0]["state"], json!({"name": "Ada"}));
    // The engine's shapes are snake_case (the wire's userId / joinedAt are renamed once).
    // ... and a time is RFC 3339 text, like every time the engine hands out.
    let joined = sync.data["presences"][0]["joined_at"]
        .as_str()
        .unwrap_or_default();
    assert!(
        aerostack::Timestamp::parse(joined).is_some_and(|t| t.unix_ms() > 0),
        "{}",
        sync.data
    );
    assert!(
        sync.data["presences"][0].get("joinedAt").is_none(),
        "{}",
        sync.data
    );
    assert!(
        me.data.get("joinedAt").is_none() && me.data.get("joined_at").is_some(),
        "{}",
        me.data
    );
    assert_eq!(lobby_b.presence().len(), 1);

    lobby_b.track(json!({"name": "Bob"})).unwrap();
    let join = wait_for(&a, "B joins", |e| {
        e.event == "presence:join" && e.data["state"]["name"] == "Bob"
    })
    .await;
    let b_key = join.data["key"].as_str().unwrap().to_string();
    assert_eq!(lobby_a.presence().len(), 2);

    // Re-track with a new state: a join with the same key, merged in place.
    lobby_b
        .track(json!({"name": "Bob", "typing": true}))
        .unwrap();
    wait_for(&a, "B re-tracks", |e| {
        e.event == "presence:join" && e.data["state"]["typing"] == true
    })
    .await;
    assert_eq!(lobby_a.presence().len(), 2);

    // B's network path dies: A sees B leave, and B's engine comes back by itself (new socket,
    // new key) and tracks again. The two may arrive in either order.
    proxy.cut().await;
    let (mut left, mut back) = (false, None);
    while !left || back.is_none() {
        let ev = wait_for(&a, "B leaves and returns", |e| {
            e.kind == EventKind::Presence
        })
        .await;
        if ev.event == "presence:leave" && ev.data["key"] == b_key.as_str() {
            left = true;
        } else if ev.event == "presence:join" && ev.data["state"]["name"] == "Bob" {
            assert_ne!(
                ev.data["key"],
                b_key.as_str(),
                "a new connection, a new key"
            );
            back = ev.data["key"].as_str().map(str::to_string);
        }
    }
    let back = back.unwrap();
    let keys = |p: Vec<aerostack::realtime::PresenceEntry>| {
        let mut k: Vec<String> = p.into_iter().map(|e| e.key).collect();
        k.sort();
        k
    };
    let mut expected = vec![a_key.clone(), back.clone()];
    expected.sort();
    assert_eq!(keys(lobby_a.presence()), expected);

    // Untrack: a leave for the tracker itself too.
    lobby_a.untrack().unwrap();
    wait_for(&a, "own leave", |e| {
        e.event == "presence:leave" && e.data["key"] == a_key.as_str()
    })
    .await;
    assert_eq!(keys(lobby_a.presence()), vec![back]);
    assert_eq!(
        lobby_b.tracked(),
        Some(json!({"name": "Bob", "typing": true}))
    );
    drop(b);
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loses_nothing_persisted_and_delivers_it_once() {
    const N: usize = 30;
    let dir = tempfile::tempdir().unwrap();
    let options = |port: u16| ServerOptions {
        port,
        data_dir: Some(dir.path().to_path_buf()),
        ephemeral: false,
        ..ServerOptions::ephemeral()
    };
    let platform = LocalPlatform::start(options(0)).await.unwrap();
    let port = platform.addr().port();
    let project = platform.default_project().clone();
    let client = client_for(&platform.api_url(), &project.api_key, Some(&project.id));

    let sub = client.realtime_with(fast());
    let feed = sub.channel("feed/main");
    sub.connect().await.unwrap();
    subscribed(&sub, "feed/main").await;
    let publisher = client.realtime_with(fast());
    let out = publisher.channel("feed/main");
    publisher.connect().await.unwrap();

    let send = |i: usize| {
        let out = out.clone();
        tokio::spawn(async move {
            out.publish("n", json!(i), PublishOptions::persisted())
                .await
        })
    };
    let mut acks = Vec::new();
    for i in 0..10 {
        acks.push(send(i));
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    platform.shutdown().await;
    // Published while the platform is down: buffered by the engine.
    for i in 10..20 {
        acks.push(send(i));
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let platform = LocalPlatform::start(options(port)).await.unwrap();
    for i in 20..N {
        acks.push(send(i));
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    for a in acks {
        a.await.unwrap().expect("every publication is acknowledged");
    }

    let mut seen = vec![0usize; N];
    let mut statuses = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.contains(&0) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(ev) = sub.next_event_timeout(left).await else {
            panic!("missing after the restart: {:?}", missing(&seen));
        };
        match ev.kind {
            EventKind::Message => seen[ev.data.as_u64().unwrap() as usize] += 1,
            EventKind::Status => statuses.push(ev.status.unwrap()),
            _ => {}
        }
    }
    for ev in messages_within(&sub, Duration::from_millis(500)).await {
        seen[ev.data.as_u64().unwrap() as usize] += 1;
    }
    assert!(seen.iter().all(|n| *n == 1), "each exactly once: {seen:?}");
    assert!(statuses.contains(&ConnectionStatus::Reconnecting));
    assert_eq!(statuses.last(), Some(&ConnectionStatus::Connected));
    assert!(feed.is_subscribed(), "re-subscribed by itself");
    assert_eq!(
        feed.history(Some(100), None).await.unwrap().len(),
        N,
        "no publication stored twice"
    );
    platform.shutdown().await;
}

fn missing(seen: &[usize]) -> Vec<usize> {
    seen.iter()
        .enumerate()
        .filter(|(_, n)| **n == 0)
        .map(|(i, _)| i)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_cannot_use_another_projects_topics() {
    let h = Harness::start().await;
    let (other, other_client) = h.other_project("rival").await;
    let mine = h.client.realtime_with(fast());
    let room = mine.channel("chat/secret");
    mine.connect().await.unwrap();
    subscribed(&mine, "chat/secret").await;
    let target = room.topic();
    assert!(target.ends_with(&h.project.id));

    let rival = other_client.realtime_with(fast());
    let spy = rival.channel(&target);
    rival.connect().await.unwrap();
    let err = wait_for(&rival, "FORBIDDEN", |e| e.kind == EventKind::Error).await;
    assert_eq!(err.data["code"], "FORBIDDEN");
    assert!(!spy.is_subscribed());
    let publish = spy
        .publish("x", json!("intrusion"), PublishOptions::default())
        .await
        .unwrap_err();
    assert_eq!(publish.code(), &ErrorCode::Forbidden);
    let emit = other_client
        .socket()
        .emit("x", &json!(1), &target)
        .await
        .unwrap_err();
    assert_eq!(emit.status(), Some(403));
    // The same name in the rival's own namespace is a different topic.
    let own = rival.channel("chat/secret");
    subscribed(&rival, &other.id).await;
    own.publish("x", json!("own room"), PublishOptions::default())
        .await
        .unwrap();
    assert!(
        messages_within(&mine, Duration::from_millis(300))
            .await
            .is_empty()
    );
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_socket_is_detected_and_replaced() {
    let h = Harness::start().await;
    let proxy = Proxy::start(h.platform.addr()).await;
    let via_proxy: Client = client_for(&proxy.api_url(), &h.project.api_key, Some(&h.project.id));
    let rt = via_proxy.realtime_with(RealtimeConfig {
        heartbeat_interval: Duration::from_millis(200),
        pong_timeout: Duration::from_millis(400),
        ..fast()
    });
    let ch = rt.channel("alerts/main");
    rt.connect().await.unwrap();
    subscribed(&rt, "alerts/main").await;

    // The path goes silent without closing: only the heartbeat can notice.
    proxy.freeze().await;
    let lost = wait_for(&rt, "reconnecting", |e| {
        e.status == Some(ConnectionStatus::Reconnecting)
    })
    .await;
    assert!(
        lost.data["error"].as_str().unwrap().contains("no pong"),
        "{}",
        lost.data
    );
    wait_for(&rt, "connected", |e| {
        e.status == Some(ConnectionStatus::Connected)
    })
    .await;
    subscribed(&rt, "alerts/main").await;
    assert!(ch.is_subscribed());
    h.client
        .socket()
        .emit("ping-through", &json!({}), "alerts/main")
        .await
        .unwrap();
    wait_for(&rt, "event after reconnect", |e| e.event == "ping-through").await;
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_refuses_missing_or_foreign_credentials() {
    let h = Harness::start().await;
    let bad = client_for(
        &h.api_url(),
        "ac_secret_00000000000000000000000000000000",
        None,
    );
    let rt = bad.realtime_with(fast());
    let err = rt.connect().await.unwrap_err();
    assert!(err.message().contains("401"), "{}", err.message());
    assert_eq!(rt.status(), ConnectionStatus::Disconnected);
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_users_connect_with_a_token_or_authenticate_in_band() {
    let h = Harness::start().await;
    let session = h
        .client
        .auth()
        .register("rt-user@example.com", "Sup3r-Secret-pw", None, None)
        .await
        .unwrap();
    let token = session
        .access_token
        .expect("no verification required locally");
    let user_id = session.user.unwrap().id;

    let watcher = h.client.realtime_with(fast());
    let _watched = watcher.channel("chat/users");
    watcher.connect().await.unwrap();
    subscribed(&watcher, "chat/users").await;

    // No API key at all: the token names the project and the user.
    let mut cfg = aerostack::ClientConfig {
        ignore_env: true,
        ..aerostack::ClientConfig::default()
    }
    .base_url(h.api_url());
    cfg.project_id = Some(h.project.id.clone());
    let keyless = Client::new(cfg).unwrap();
    let end_user = keyless.realtime_with(RealtimeConfig {
        token: Some(token.clone()),
        ..fast()
    });
    let room = end_user.channel("chat/users");
    end_user.connect().await.unwrap();
    subscribed(&end_user, "chat/users").await;
    room.publish("hi", json!(1), PublishOptions::default())
        .await
        .unwrap();
    let ev = wait_for(&watcher, "token publish", |e| e.event == "hi").await;
    assert_eq!(ev.user_id.as_deref(), Some(user_id.as_str()));

    // A key connection adopts the user after an in-band `auth` frame.
    let keyed = h.client.realtime_with(fast());
    let room = keyed.channel("chat/users");
    keyed.connect().await.unwrap();
    subscribed(&keyed, "chat/users").await;
    keyed.set_token(&token);
    room.publish("after-auth", json!(2), PublishOptions::default())
        .await
        .unwrap();
    let ev = wait_for(&watcher, "in-band auth", |e| e.event == "after-auth").await;
    assert_eq!(ev.user_id.as_deref(), Some(user_id.as_str()));
    // A bad token is refused in-band with an error event; the connection stays usable.
    keyed.set_token("not-a-jwt");
    let err = wait_for(&keyed, "auth error", |e| e.kind == EventKind::Error).await;
    assert_eq!(err.data["code"], "AUTH_TOKEN_INVALID");
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_project_id_the_platform_names_the_topic() {
    let h = Harness::start().await;
    h.client
        .db()
        .query(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
            &[],
        )
        .await
        .unwrap();
    let bare = client_for(&h.api_url(), &h.project.api_key, None);
    let rt = bare.realtime_with(fast());
    let notes = rt.channel("notes");
    // Sent as given ("notes"); the `subscribed` answer names the full topic.
    rt.connect().await.unwrap();
    subscribed(&rt, "table/notes").await;
    assert_eq!(notes.topic(), format!("table/notes/{}", h.project.id));
    h.client
        .db()
        .query("INSERT INTO notes (body) VALUES ('x')", &[])
        .await
        .unwrap();
    let ev = wait_for(&rt, "INSERT", |e| e.kind == EventKind::DbChange).await;
    assert_eq!(ev.data["body"], "x");
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_right_after_disconnect_waits_for_the_new_attempt() {
    let h = Harness::start().await;
    let rt = h.client.realtime_with(fast());
    for _ in 0..5 {
        rt.connect().await.expect("connect");
        assert_eq!(rt.status(), ConnectionStatus::Connected);
        rt.disconnect().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_chat_reaches_the_chat_room_and_giving_up_says_why() {
    let h = Harness::start().await;
    let rt = h.client.realtime_with(fast());
    let room = rt.chat_room("/lobby/");
    let on_msg = room.on("message");
    rt.connect().await.unwrap();
    subscribed(&rt, "chat/lobby").await;
    rt.send_chat("lobby", "hello", json!({"lang": "en"}))
        .unwrap();
    let ev = wait_for(&rt, "chat message", |e| e.listeners.contains(&on_msg)).await;
    assert!(
        ev.topic
            .as_deref()
            .is_some_and(|t| t.starts_with("chat/lobby/")),
        "{ev:?}"
    );
    assert_eq!(ev.data["text"], "hello");
    assert_eq!(
        rt.send_chat(" ", "x", Value::Null).unwrap_err().code(),
        &ErrorCode::ValidationError
    );
    assert_eq!(
        rt.send_chat("lobby", "x", json!([1])).unwrap_err().code(),
        &ErrorCode::ValidationError
    );

    // Nothing listens there: after one failed reconnect the connection gives up, and says why.
    let lost = client_for("http://127.0.0.1:9/v1", "ac_secret_x", Some("p"));
    let rt = lost.realtime_with(RealtimeConfig {
        max_reconnect_attempts: Some(1),
        ..fast()
    });
    rt.channel("x/y");
    let ev = wait_for(&rt, "giving up", |e| e.kind == EventKind::Error).await;
    assert_eq!(ev.data["reason"], aerostack::realtime::GAVE_UP, "{ev:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_filter_picks_the_rows_and_a_new_one_replaces_it() {
    let h = Harness::start().await;
    let db = h.client.db();
    db.query(
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT, done INTEGER)",
        &[],
    )
    .await
    .unwrap();
    let rt = h.client.realtime_with(fast());
    let tasks = rt.channel_with_filter("tasks", json!({"done": 1})).unwrap();
    tasks.wait_subscribed(WAIT).await.unwrap();
    let insert = |title: &'static str, done: i64| {
        let db = h.client.db();
        async move {
            db.query(
                "INSERT INTO tasks (title, done) VALUES (?, ?)",
                &[json!(title), json!(done)],
            )
            .await
            .unwrap();
        }
    };
    insert("open", 0).await;
    insert("finished", 1).await;
    let ev = wait_for(&rt, "INSERT", |e| e.kind == EventKind::DbChange).await;
    assert_eq!(
        ev.data["title"], "finished",
        "the filter lets only done = 1 through: {ev:?}"
    );

    // A different filter on the live socket replaces the first (string form this time).
    let again = rt
        .channel_with_filter("tasks", json!("title=eq.second"))
        .unwrap();
    again.wait_subscribed(WAIT).await.unwrap();
    insert("other", 1).await;
    insert("second", 0).await;
    let ev = wait_for(&rt, "INSERT", |e| e.kind == EventKind::DbChange).await;
    assert_eq!(ev.data["title"], "second", "{ev:?}");
    // The filter is kept across a plain channel() call and sent again on a new socket.
    rt.channel("tasks");
    rt.disconnect().await;
    rt.connect().await.unwrap();
    tasks.wait_subscribed(WAIT).await.unwrap();
    insert("third", 1).await;
    insert("second", 1).await;
    let ev = wait_for(&rt, "INSERT", |e| e.kind == EventKind::DbChange).await;
    assert_eq!(ev.data["title"], "second", "{ev:?}");

    // Bad filters: the type here, the syntax and the columns on the platform.
    let err = rt.channel_with_filter("tasks", json!([1])).unwrap_err();
    assert_eq!(err.code(), &ErrorCode::ValidationError);
    assert_eq!(err.details().unwrap()["field"], "filter");
    let bad = rt.channel_with_filter("tasks", json!({"nope": 1})).unwrap();
    let err = bad.wait_subscribed(WAIT).await.unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    h.platform.shutdown().await;
}
