//! Access rules for end users on realtime (issue 13 #12): without rules an end user's token
//! reaches every table (the hosted behaviour); with them, only the listed tables (and, with an
//! owner column, only their own rows) and the listed topics. Key holders are never restricted.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::start;
use crate::realtime::{answer, none_of, open, recv, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_users_reach_what_the_rules_allow() {
    let ctx = start().await;
    let slug = ctx.p.default_project().slug.clone();
    let auth = |p: &str| format!("/api/v1/public/projects/{slug}/auth{p}");
    let mut users = Vec::new();
    for who in ["ann", "bob"] {
        let (s, v) = ctx.post(&auth("/register"), json!({"email": format!("{who}@example.com"), "password": "Sup3rSecret"})).await;
        assert_eq!(s.as_u16(), 201, "{v}");
        users.push((v["user"]["id"].as_str().unwrap().to_string(), v["accessToken"].as_str().unwrap().to_string()));
    }
    for sql in [
        "CREATE TABLE todos (id INTEGER PRIMARY KEY, user_id TEXT, title TEXT)",
        "CREATE TABLE salaries (id INTEGER PRIMARY KEY, amount INTEGER)",
    ] {
        ctx.post("/v1/db/query", json!({"sql": sql})).await;
    }
    let (ann_id, ann_token) = users[0].clone();
    let end_user = format!("aerostack-token.{ann_token}, aerostack-v1");

    // No rules yet: the hosted behaviour, every table.
    let (_, mut ws) = open(&ctx, "", &end_user).await;
    send(&mut ws, json!({"type": "subscribe", "topic": "salaries"})).await;
    assert_eq!(answer(&mut ws).await["type"], "subscribed");
    drop(ws);

    for rule in [
        json!({"kind": "table", "pattern": "todos", "owner_column": "user_id"}),
        json!({"kind": "topic", "pattern": "chat/*"}),
    ] {
        let (s, v) = ctx.post("/v1/local/rules", rule).await;
        assert_eq!(s.as_u16(), 200, "{v}");
    }
    let (s, v) = ctx.post("/v1/local/rules", json!({"kind": "view", "pattern": "x"})).await;
    assert_eq!((s.as_u16(), v["details"]["field"].as_str()), (400, Some("kind")), "{v}");

    let (_, mut ws) = open(&ctx, "", &end_user).await;
    for (topic, allowed) in [("salaries", false), ("admin/ops", false), ("chat/general", true), ("todos", true)] {
        send(&mut ws, json!({"type": "subscribe", "topic": topic})).await;
        let a = answer(&mut ws).await;
        if allowed {
            assert_eq!(a["type"], "subscribed", "{topic}: {a}");
        } else {
            assert_eq!((a["type"].as_str(), a["code"].as_str()), (Some("error"), Some("FORBIDDEN")), "{topic}: {a}");
            assert!(a["message"].as_str().unwrap().contains("aerostack-server rules"), "{a}");
        }
    }
    send(&mut ws, json!({"type": "publish", "topic": "admin/ops", "event": "x", "data": 1, "id": "p1"})).await;
    assert_eq!(recv(&mut ws, "error").await["code"], "FORBIDDEN");

    // Only her own rows reach her.
    let (bob_id, _) = users[1].clone();
    ctx.post("/v1/db/query", json!({"sql": "INSERT INTO todos (user_id, title) VALUES (?, 'bob''s')", "params": [bob_id]})).await;
    ctx.post("/v1/db/query", json!({"sql": "INSERT INTO todos (user_id, title) VALUES (?, 'ann''s')", "params": [ann_id]})).await;
    let change: Value = recv(&mut ws, "db_change").await;
    assert_eq!(change["data"]["title"], "ann's", "{change}");
    none_of(&mut ws, "db_change", Duration::from_millis(300)).await;

    // A key holder is not restricted.
    let (_, mut server) = open(&ctx, "", &format!("aerostack-key.{}, aerostack-v1", ctx.key)).await;
    send(&mut server, json!({"type": "subscribe", "topic": "salaries"})).await;
    assert_eq!(answer(&mut server).await["type"], "subscribed");
    ctx.p.shutdown().await;
}
