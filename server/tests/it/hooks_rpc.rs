//! `POST /internal/hooks/rpc`, the HTTP fallback of the official Worker server SDK, as
//! wire-facts §2.7 states it: body `{method, args, projectId?}`, `Authorization: Bearer <secret
//! key>`, the answer is the method's raw result JSON. Every method of the table is called here.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::common::{Ctx, json_of, start};

/// One RPC call as `AerostackServer._rpcCall` makes it.
async fn rpc_with(ctx: &Ctx, bearer: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut req = ctx.http.post(ctx.url("/internal/hooks/rpc")).json(&body);
    if let Some(k) = bearer {
        req = req.header("Authorization", format!("Bearer {k}"));
    }
    json_of(req.send().await.unwrap()).await
}

/// A successful call's result.
async fn rpc(ctx: &Ctx, method: &str, args: Value) -> Value {
    let (s, v) = rpc_with(ctx, Some(&ctx.key), json!({"method": method, "args": args})).await;
    assert_eq!(s.as_u16(), 200, "{method}: {v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_methods_and_project() {
    let ctx = start().await;
    let p = ctx.p.default_project().clone();
    let call = json!({"method": "cache.get", "args": ["k"]});

    let (s, v) = rpc_with(&ctx, None, call.clone()).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (401, Some("AUTH_INVALID_KEY")),
        "{v}"
    );
    let (s, _) = rpc_with(
        &ctx,
        Some("ac_secret_00000000000000000000000000000000"),
        call.clone(),
    )
    .await;
    assert_eq!(s.as_u16(), 401);

    // Public credentials: a publishable key, and an end user's access token.
    let forbidden =
        "RPC endpoints require a secret API key. Public keys cannot access db/cache/storage/ai";
    let (s, v) = rpc_with(&ctx, Some("pk_live_0123456789"), call.clone()).await;
    assert_eq!(s.as_u16(), 403, "{v}");
    assert_eq!(v["message"], forbidden);
    let (s, v) = ctx
        .post(
            &format!("/api/v1/public/projects/{}/auth/register", p.slug),
            json!({"email": "rpc-auth@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert_eq!(s.as_u16(), 201, "{v}");
    let token = v["token"]
        .as_str()
        .or(v["accessToken"].as_str())
        .unwrap()
        .to_string();
    let (s, v) = rpc_with(&ctx, Some(&token), call.clone()).await;
    assert_eq!(
        (s.as_u16(), v["message"].as_str()),
        (403, Some(forbidden)),
        "{v}"
    );

    // The secret key works; projectId may name the key's project (id or slug), not another.
    assert_eq!(rpc(&ctx, "cache.get", json!(["k"])).await, Value::Null);
    for pid in [&p.id, &p.slug] {
        let (s, v) = rpc_with(
            &ctx,
            Some(&ctx.key),
            json!({"method": "cache.get", "args": ["k"], "projectId": pid}),
        )
        .await;
        assert_eq!(s.as_u16(), 200, "{v}");
    }
    let (s, v) = rpc_with(
        &ctx,
        Some(&ctx.key),
        json!({"method": "cache.get", "args": ["k"], "projectId": "proj_ffffffffffff"}),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["details"]["field"].as_str()),
        (403, Some("projectId")),
        "{v}"
    );

    // An unknown method names itself and lists the known ones.
    let (s, v) = rpc_with(
        &ctx,
        Some(&ctx.key),
        json!({"method": "storage.upload", "args": []}),
    )
    .await;
    assert_eq!(s.as_u16(), 400, "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("\"storage.upload\"") && msg.contains("cache.increment"),
        "{msg}"
    );
    assert_eq!(v["details"]["method"], "storage.upload");
    assert_eq!(v["details"]["known"].as_array().unwrap().len(), 21);
    let (s, v) = rpc_with(&ctx, Some(&ctx.key), json!({"args": []})).await;
    assert_eq!(
        (s.as_u16(), v["details"]["field"].as_str()),
        (400, Some("method")),
        "{v}"
    );

    // A bad argument is the route's validation error, naming the method.
    let (s, v) = rpc_with(
        &ctx,
        Some(&ctx.key),
        json!({"method": "cache.expire", "args": ["k", -5]}),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("VALIDATION_ERROR")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("cache.expire [key, ttl]: "),
        "{v}"
    );
    assert_eq!(v["details"]["method"], "cache.expire");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_query_and_batch() {
    let ctx = start().await;
    let v = rpc(
        &ctx,
        "db.query",
        json!(["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)", []]),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
    let v = rpc(
        &ctx,
        "db.query",
        json!(["INSERT INTO notes (body) VALUES (?)", ["hello"]]),
    )
    .await;
    assert_eq!(v["meta"]["changes"], 1, "{v}");
    // DatabaseResponse: {results, success, meta: {target, rowCount, duration}}.
    let v = rpc(
        &ctx,
        "db.query",
        json!(["SELECT id, body FROM notes WHERE body = ?", ["hello"]]),
    )
    .await;
    assert_eq!(v["results"], json!([{"id": 1, "body": "hello"}]), "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["meta"]["target"], "d1");
    assert_eq!(v["meta"]["rowCount"], 1);
    assert!(v["meta"]["duration"].is_number(), "{v}");

    let v = rpc(
        &ctx,
        "db.batch",
        json!([[
            {"sql": "INSERT INTO notes (body) VALUES (?)", "params": ["a"]},
            {"sql": "SELECT count(*) AS n FROM notes"}
        ]]),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["results"][1]["results"], json!([{"n": 2}]));

    let (s, v) = rpc_with(
        &ctx,
        Some(&ctx.key),
        json!({"method": "db.query", "args": ["SELEC 1"]}),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("DB_QUERY_FAILED")),
        "{v}"
    );
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_methods() {
    let ctx = start().await;
    // set / get: any JSON value; a missing key is null.
    rpc(&ctx, "cache.set", json!(["u:1", {"name": "Ada"}, 60])).await;
    rpc(&ctx, "cache.set", json!(["u:2", [1, 2]])).await;
    rpc(&ctx, "cache.set", json!(["u:3", "three", {"ttl": 120}])).await;
    assert_eq!(
        rpc(&ctx, "cache.get", json!(["u:1"])).await,
        json!({"name": "Ada"})
    );
    assert_eq!(rpc(&ctx, "cache.get", json!(["u:3"])).await, json!("three"));
    assert_eq!(rpc(&ctx, "cache.get", json!(["nope"])).await, Value::Null);

    // list: `name` (not `key`), `expiration` only for keys that expire, pages by cursor.
    let page = rpc(&ctx, "cache.list", json!(["u:", {"limit": 2}])).await;
    assert_eq!(page["list_complete"], false, "{page}");
    let keys = page["keys"].as_array().unwrap();
    assert_eq!(keys[0]["name"], "u:1");
    assert!(
        keys[0]["expiration"].as_i64().unwrap() > 1_700_000_000,
        "{page}"
    );
    assert!(keys[0].get("key").is_none(), "{page}");
    assert_eq!(keys[1], json!({"name": "u:2"}));
    let cursor = page["cursor"].as_str().unwrap();
    let rest = rpc(
        &ctx,
        "cache.list",
        json!(["u:", {"limit": 2, "cursor": cursor}]),
    )
    .await;
    assert_eq!(rest["keys"][0]["name"], "u:3");
    assert_eq!(rest["list_complete"], true);
    assert!(rest.get("cursor").is_none(), "{rest}");

    assert_eq!(
        rpc(&ctx, "cache.keys", json!(["u:"])).await,
        json!(["u:1", "u:2", "u:3"])
    );
    assert_eq!(
        rpc(&ctx, "cache.getMany", json!([["u:2", "nope"]])).await,
        json!([{"key": "u:2", "value": [1, 2]}, {"key": "nope", "value": null}])
    );
    rpc(
        &ctx,
        "cache.setMany",
        json!([[{"key": "m:1", "value": 1}, {"key": "m:2", "value": 2, "ttl": 30}]]),
    )
    .await;
    assert_eq!(rpc(&ctx, "cache.get", json!(["m:2"])).await, json!(2));
    rpc(&ctx, "cache.deleteMany", json!([["m:1", "m:2"]])).await;
    assert_eq!(rpc(&ctx, "cache.keys", json!(["m:"])).await, json!([]));

    // expire, increment, delete, flush.
    assert_eq!(
        rpc(&ctx, "cache.expire", json!(["u:2", 100])).await,
        json!({"success": true})
    );
    assert_eq!(
        rpc(&ctx, "cache.expire", json!(["nope", 100])).await,
        json!({"success": false})
    );
    assert_eq!(
        rpc(
            &ctx,
            "cache.increment",
            json!(["hits", 5, {"initialValue": 10, "ttl": 60}])
        )
        .await,
        json!({"value": 15})
    );
    assert_eq!(
        rpc(&ctx, "cache.increment", json!(["hits"])).await,
        json!({"value": 16})
    );
    rpc(&ctx, "cache.delete", json!(["u:3"])).await;
    assert_eq!(rpc(&ctx, "cache.get", json!(["u:3"])).await, Value::Null);
    assert_eq!(
        rpc(&ctx, "cache.flush", json!(["u:"])).await,
        json!({"deleted": 2})
    );
    assert_eq!(
        rpc(&ctx, "cache.keys", json!([null])).await,
        json!(["hits"])
    );
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_methods() {
    let ctx = start().await;
    let v = rpc(
        &ctx,
        "queue.enqueue",
        json!(["send-email", {"to": "a@example.com"}, 3600]),
    )
    .await;
    let job_id = v["jobId"].as_str().unwrap().to_string();
    assert_eq!(v, json!({"jobId": job_id}));

    let v = rpc(&ctx, "queue.job", json!([job_id])).await;
    assert_eq!(v["exists"], true, "{v}");
    assert_eq!(v["job"]["id"], job_id.as_str());
    assert_eq!(v["job"]["type"], "send-email");
    assert_eq!(v["job"]["data"], json!({"to": "a@example.com"}));
    assert_eq!(v["job"]["status"], "queued");

    let v = rpc(
        &ctx,
        "queue.jobs",
        json!([{"status": "queued", "type": "send-email", "limit": 10}]),
    )
    .await;
    assert_eq!(v["jobs"][0]["id"], job_id.as_str(), "{v}");
    assert_eq!(v["list_complete"], true);

    let v = rpc(&ctx, "queue.cancel", json!([job_id])).await;
    assert_eq!(v["success"], true, "{v}");
    let v = rpc(&ctx, "queue.job", json!([job_id])).await;
    assert_eq!(v["job"]["status"], "cancelled");
    let v = rpc(&ctx, "queue.job", json!(["job_missing"])).await;
    assert_eq!(v, json!({"job": null, "exists": false}));
    ctx.p.shutdown().await;
}

/// The next `event` frame named `name` on `ws` (other frames skipped).
async fn next_event<S>(ws: &mut S, name: &str) -> Value
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {name} event"))
            .expect("socket open")
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] == "event" && v["event"] == name {
                return v;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_emit_reaches_subscribers() {
    let ctx = start().await;
    let pid = ctx.p.default_project().id.clone();
    let url = format!("{}/api/realtime", ctx.p.url().replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&format!("aerostack-key.{}, aerostack-v1", ctx.key)).unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    // `general` is a bare name, i.e. a table topic: the table must exist to subscribe.
    rpc(
        &ctx,
        "db.query",
        json!(["CREATE TABLE general (id INTEGER PRIMARY KEY)", []]),
    )
    .await;
    for topic in ["orders/eu", "general"] {
        let sub = json!({"type": "subscribe", "topic": topic}).to_string();
        ws.send(Message::Text(sub.into())).await.unwrap();
    }
    // Both subscriptions are in place once the second is acknowledged.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut subscribed = 0;
    while subscribed < 2 {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .expect("subscribed")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg
            && serde_json::from_str::<Value>(t.as_str()).unwrap()["type"] == "subscribed"
        {
            subscribed += 1;
        }
    }

    let v = rpc(
        &ctx,
        "socket.emit",
        json!(["order.created", {"id": 7}, "orders/eu"]),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["topic"], format!("orders/eu/{pid}"));
    let ev = next_event(&mut ws, "order.created").await;
    assert_eq!(ev["data"], json!({"id": 7}));

    // Without a room (the SDK sends null): room `general`, as the hook SDK's socket.emit.
    let v = rpc(&ctx, "socket.emit", json!(["ping.all", [1], null])).await;
    assert_eq!(v["topic"], format!("table/general/{pid}"));
    let ev = next_event(&mut ws, "ping.all").await;
    assert_eq!(ev["data"], json!([1]));
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_email_methods() {
    let ctx = start().await;
    let slug = ctx.p.default_project().slug.clone();
    let (s, v) = ctx
        .post(
            &format!("/api/v1/public/projects/{slug}/auth/register"),
            json!({"email": "Grace@Example.com", "password": "Sup3rSecret", "name": "Grace"}),
        )
        .await;
    assert_eq!(s.as_u16(), 201, "{v}");
    let id = v["user"]["id"].as_str().unwrap().to_string();

    for method in ["getUser", "auth.getUser"] {
        let u = rpc(&ctx, method, json!([id])).await;
        assert_eq!(
            (u["id"].as_str(), u["email"].as_str()),
            (Some(id.as_str()), Some("grace@example.com")),
            "{u}"
        );
        assert_eq!(u["name"], "Grace");
        assert!(
            u.get("password_hash").is_none() && u.get("passwordHash").is_none(),
            "{u}"
        );
    }
    for method in ["getUserByEmail", "auth.getUserByEmail"] {
        let u = rpc(&ctx, method, json!(["grace@example.com"])).await;
        assert_eq!(u["id"], id.as_str(), "{u}");
    }
    assert_eq!(
        rpc(&ctx, "getUser", json!(["usr_missing"])).await,
        Value::Null
    );
    assert_eq!(
        rpc(&ctx, "getUserByEmail", json!(["nobody@example.com"])).await,
        Value::Null
    );

    // sendEmail lands in the local outbox.
    for (method, to) in [
        ("sendEmail", "ops@example.com"),
        ("auth.sendEmail", "ops2@example.com"),
    ] {
        let v = rpc(&ctx, method, json!([to, "Weekly report", "All green."])).await;
        assert_eq!(v["success"], true, "{v}");
        let r = ctx
            .call(
                reqwest::Method::GET,
                &format!("/v1/local/outbox?to={to}"),
                Some(&ctx.key),
                None,
            )
            .await;
        let (_, out) = json_of(r).await;
        let m = &out["messages"][0];
        assert_eq!(
            (m["subject"].as_str(), m["body"].as_str()),
            (Some("Weekly report"), Some("All green.")),
            "{out}"
        );
        assert_eq!(m["id"], v["id"]);
    }
    let (s, v) = rpc_with(
        &ctx,
        Some(&ctx.key),
        json!({"method": "sendEmail", "args": ["not-an-address", "s", "b"]}),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["details"]["field"].as_str()),
        (400, Some("args[0]")),
        "{v}"
    );
    ctx.p.shutdown().await;
}
