//! Stopping and starting on the same data directory (and port) keeps the default project, its
//! key and every kind of data.

use aerostack_server::ServerOptions;
use reqwest::multipart;
use serde_json::json;

use crate::common::start_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions {
        port: 0,
        data_dir: Some(dir.path().join("data")),
        project_dir: Some(dir.path().to_path_buf()),
        ..ServerOptions::default()
    };
    let ctx = start_with(opts.clone()).await;
    let first = ctx.p.default_project().clone();
    let port = ctx.p.addr().port();

    ctx.post(
        "/v1/cache/set",
        json!({"key": "forever", "value": {"n": 1}}),
    )
    .await;
    ctx.post(
        "/v1/cache/set",
        json!({"key": "hour", "value": [1, 2], "ttl": 3600}),
    )
    .await;
    ctx.post("/v1/cache/increment", json!({"key": "hits", "amount": 5}))
        .await;
    ctx.post("/v1/db/query", json!({"sql": "CREATE TABLE t (v TEXT)"}))
        .await;
    ctx.post(
        "/v1/db/query",
        json!({"sql": "INSERT INTO t VALUES ('kept')"}),
    )
    .await;
    ctx.post(
        "/v1/secrets/set",
        json!({"key": "API_TOKEN", "value": "s3cret"}),
    )
    .await;
    let (_, job) = ctx
        .post(
            "/v1/queue/enqueue",
            json!({"type": "later", "data": {}, "delay": 3600}),
        )
        .await;
    let form = multipart::Form::new()
        .text("key", "a/b.txt")
        .text("contentType", "text/plain")
        .part("file", multipart::Part::bytes(b"bytes".to_vec()));
    let r = ctx
        .http
        .post(ctx.url("/v1/storage/upload"))
        .header("X-Aerostack-Key", &ctx.key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    ctx.post(
        "/v1/ai/search/ingest",
        json!({"id": "d1", "content": "hello world", "type": "note"}),
    )
    .await;
    let (_, reg) = ctx
        .post(
            &format!("/api/v1/public/projects/{}/auth/register", first.slug),
            json!({"email": "a@b.co", "password": "Sup3rSecret"}),
        )
        .await;
    ctx.p
        .state()
        .store_realtime_message(
            &first.id,
            "chat/general",
            Some("u1"),
            "message",
            &json!({"text": "hi"}),
        )
        .unwrap();
    let other = ctx.p.create_project("Other").await.unwrap();
    ctx.p.shutdown().await;

    // Same directory, same port.
    let ctx = start_with(ServerOptions { port, ..opts }).await;
    assert_eq!(ctx.p.addr().port(), port);
    let p = ctx.p.default_project().clone();
    assert_eq!(p.id, first.id);
    assert_eq!(p.api_key, first.api_key);

    let (_, v) = ctx.post("/v1/cache/get", json!({"key": "forever"})).await;
    assert_eq!(v["value"], json!({"n": 1}));
    let (_, v) = ctx.post("/v1/cache/get", json!({"key": "hour"})).await;
    assert_eq!(v["value"], json!([1, 2]));
    let (_, v) = ctx.post("/v1/cache/get", json!({"key": "hits"})).await;
    assert_eq!(v["value"], 5);
    let (_, v) = ctx
        .post("/v1/db/query", json!({"sql": "SELECT v FROM t"}))
        .await;
    assert_eq!(v["results"], json!([{"v": "kept"}]));
    let (_, v) = ctx
        .post("/v1/secrets/get", json!({"key": "API_TOKEN"}))
        .await;
    assert_eq!(v["value"], "s3cret");
    let (_, v) = ctx
        .post("/v1/queue/job", json!({"jobId": job["jobId"]}))
        .await;
    assert_eq!(v["job"]["type"], "later");
    let r = ctx
        .http
        .post(ctx.url("/v1/storage/get"))
        .header("X-Aerostack-Key", &ctx.key)
        .json(&json!({"key": "a/b.txt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"bytes");
    let (_, v) = ctx.post("/v1/ai/search/get", json!({"id": "d1"})).await;
    assert_eq!(v["exists"], true);
    // Tokens issued before the restart still work (the signing secret is kept).
    let r = ctx
        .http
        .get(ctx.url(&format!("/api/v1/public/projects/{}/auth/me", p.slug)))
        .bearer_auth(reg["accessToken"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (s, v) = ctx
        .post(
            &format!("/api/v1/public/projects/{}/auth/refresh", p.slug),
            json!({"refreshToken": reg["refreshToken"]}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    let r = ctx
        .http
        .get(ctx.url("/api/v1/public/realtime/history?room=chat/general"))
        .header("X-Aerostack-Key", &ctx.key)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["messages"][0]["data"]["text"], "hi");
    let (s, _) = ctx
        .post_key(&other.api_key, "/v1/cache/keys", json!({}))
        .await;
    assert!(s.is_success());
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_data_is_removed() {
    let ctx = crate::common::start().await;
    let dir = ctx.p.data_dir().to_path_buf();
    assert!(dir.join("control.sqlite").exists());
    assert!(
        !dir.starts_with(std::env::current_dir().unwrap()),
        "ephemeral must not use ./.aerostack"
    );
    ctx.p.shutdown().await;
    assert!(!dir.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_frees_the_port() {
    let ctx = crate::common::start().await;
    let addr = ctx.p.addr();
    // Keep a connection open across shutdown.
    let (s, _) = ctx.post("/v1/cache/get", json!({"key": "x"})).await;
    assert!(s.is_success());
    ctx.p.shutdown().await;
    let l = tokio::net::TcpListener::bind(addr).await;
    assert!(l.is_ok(), "port still taken after shutdown");
}
