//! The operation table against the real local platform, started in-process.

use aerostack::{Client, ClientConfig};
use aerostack_bindings_common::ops::{dispatch, download, upload};
use aerostack_server::{LocalPlatform, ServerOptions};
use serde_json::json;

async fn start() -> (LocalPlatform, Client) {
    let p = LocalPlatform::start(ServerOptions::ephemeral()).await.unwrap();
    let mut cfg = ClientConfig::new().base_url(p.api_url()).api_key(p.default_project().api_key.clone());
    cfg.ignore_env = true;
    let c = Client::new(cfg).unwrap();
    (p, c)
}

#[tokio::test]
async fn ops_reach_the_platform_with_json_in_and_out() {
    let (p, c) = start().await;
    dispatch(&c, "db.query", json!({"sql": "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"})).await.unwrap();
    dispatch(&c, "db.query", json!({"sql": "INSERT INTO t (name) VALUES (?)", "params": ["a"]})).await.unwrap();
    let row = dispatch(&c, "db.query_one", json!({"sql": "SELECT name FROM t", "params": []})).await.unwrap();
    assert_eq!(row, json!({"name": "a"}));

    dispatch(&c, "cache.set", json!({"key": "k", "value": {"n": 1}, "ttl": 60})).await.unwrap();
    assert_eq!(dispatch(&c, "cache.get", json!({"key": "k"})).await.unwrap(), json!({"n": 1}));
    assert_eq!(dispatch(&c, "cache.get", json!({"key": "absent"})).await.unwrap(), json!(null));
    // Shapes decided here for every language: found keys only, and a plain list of names.
    let many = dispatch(&c, "cache.get_many", json!({"keys": ["k", "absent"]})).await.unwrap();
    assert_eq!(many, json!({"k": {"n": 1}}));
    assert_eq!(dispatch(&c, "cache.keys", json!({})).await.unwrap(), json!(["k"]));

    let job = dispatch(&c, "queue.send", json!({"type": "send-welcome-email", "data": {"id": 1}, "max_retries": 3}))
        .await
        .unwrap();
    let rec = dispatch(&c, "queue.job", json!({"job_id": job["job_id"]})).await.unwrap();
    assert_eq!(rec["status"], "queued");

    let up = upload(&c, json!({"key": "a/b.txt"}), Some(bytes::Bytes::from_static(b"hello")), None).await.unwrap();
    assert!(up["url"].as_str().unwrap().ends_with("/a/b.txt"), "{up}");
    let obj = download(&c, json!({"key": "a/b.txt"})).await.unwrap();
    assert_eq!(&obj.data[..], b"hello");
    assert_eq!(obj.content_type.as_deref(), Some("text/plain"));

    // Errors come back as the engine's typed error, with the platform's code.
    let e = dispatch(&c, "call", json!({"slug": "nobody-serves-this", "data": {}})).await.unwrap_err();
    assert_eq!(e.code().as_str(), "WORKER_NOT_CONNECTED");
    assert_eq!(e.status(), Some(503));
    p.shutdown().await;
}

#[tokio::test]
async fn per_call_options_apply() {
    let (p, c) = start().await;
    let e = dispatch(&c, "cache.get", json!({"key": "k", "_options": {"timeout_ms": "soon"}})).await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], "_options");
    let v = dispatch(&c, "cache.get", json!({"key": "k", "_options": {"timeout_ms": 5000}})).await.unwrap();
    assert_eq!(v, json!(null));
    p.shutdown().await;
}
