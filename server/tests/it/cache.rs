//! Cache semantics: JSON values, exact TTLs, limits, pagination, atomic increments.

use serde_json::json;

use crate::common::{assert_error, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_is_exact_everywhere() {
    let ctx = start().await;
    ctx.post(
        "/v1/cache/set",
        json!({"key": "short", "value": {"a": [1, true, null]}, "ttl": 1}),
    )
    .await;
    ctx.post("/v1/cache/set", json!({"key": "long", "value": "x"}))
        .await;
    let (_, v) = ctx.post("/v1/cache/get", json!({"key": "short"})).await;
    assert_eq!(v, json!({"value": {"a": [1, true, null]}, "exists": true}));
    let (_, v) = ctx.post("/v1/cache/list", json!({})).await;
    assert!(
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["key"] == "short" && k["expiration"].is_number())
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, v) = ctx.post("/v1/cache/get", json!({"key": "short"})).await;
    assert_eq!(v, json!({"value": null, "exists": false}));
    let (_, v) = ctx
        .post("/v1/cache/getMany", json!({"keys": ["short", "long"]}))
        .await;
    assert_eq!(
        v["results"],
        json!([{"key": "short", "value": null, "exists": false}, {"key": "long", "value": "x", "exists": true}])
    );
    let (_, v) = ctx.post("/v1/cache/keys", json!({})).await;
    assert_eq!(v, json!({"keys": ["long"], "truncated": false}));
    let (_, v) = ctx.post("/v1/cache/list", json!({})).await;
    assert_eq!(v["keys"].as_array().unwrap().len(), 1);
    let (_, v) = ctx
        .post("/v1/cache/expire", json!({"key": "short", "ttl": 10}))
        .await;
    assert_eq!(v["success"], false);
    // An expired counter starts again from initialValue.
    ctx.post(
        "/v1/cache/increment",
        json!({"key": "n", "amount": 2, "ttl": 1}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, v) = ctx
        .post(
            "/v1/cache/increment",
            json!({"key": "n", "amount": 1, "initialValue": 10}),
        )
        .await;
    assert_eq!(v["value"], 11);
    // expire on a live key
    let (_, v) = ctx
        .post("/v1/cache/expire", json!({"key": "long", "ttl": 1}))
        .await;
    assert_eq!(v["success"], true);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, v) = ctx.post("/v1/cache/get", json!({"key": "long"})).await;
    assert_eq!(v["exists"], false);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_and_limits() {
    let ctx = start().await;
    let (s, v) = ctx
        .post("/v1/cache/set", json!({"key": "k", "value": 1, "ttl": 0}))
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("ttl"));
    let (s, v) = ctx
        .post(
            "/v1/cache/set",
            json!({"key": "k", "value": 1, "ttl": "60"}),
        )
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("ttl"));
    let (s, v) = ctx
        .post("/v1/cache/set", json!({"key": "k", "value": 1, "ttl": 1.5}))
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("ttl"));
    let (s, v) = ctx.post("/v1/cache/set", json!({"key": "k"})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("value"));
    let (s, v) = ctx.post("/v1/cache/get", json!({})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("key"));
    assert!(
        v["message"].as_str().unwrap().contains("is required"),
        "{v}"
    );
    let keys: Vec<String> = (0..101).map(|i| format!("k{i}")).collect();
    let (s, v) = ctx.post("/v1/cache/getMany", json!({"keys": keys})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("keys"));
    let entries: Vec<_> = (0..101)
        .map(|i| json!({"key": format!("k{i}"), "value": i}))
        .collect();
    let (s, v) = ctx
        .post("/v1/cache/setMany", json!({"entries": entries}))
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("entries"));
    // setMany is all or nothing.
    let (s, v) = ctx
        .post(
            "/v1/cache/setMany",
            json!({"entries": [{"key": "ok", "value": 1}, {"key": "bad", "value": 2, "ttl": -1}]}),
        )
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("entries[1].ttl"));
    let (_, v) = ctx.post("/v1/cache/get", json!({"key": "ok"})).await;
    assert_eq!(v["exists"], false);
    let keys: Vec<String> = (0..501).map(|i| format!("k{i}")).collect();
    let (s, v) = ctx
        .post("/v1/cache/deleteMany", json!({"keys": keys}))
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("keys"));
    let (s, v) = ctx.post("/v1/cache/list", json!({"limit": 1001})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("limit"));
    ctx.post("/v1/cache/set", json!({"key": "text", "value": "abc"}))
        .await;
    let (s, v) = ctx
        .post("/v1/cache/increment", json!({"key": "text"}))
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("key"));
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_list_and_increment() {
    let ctx = start().await;
    let entries: Vec<_> = (0..25)
        .map(|i| json!({"key": format!("user:{i:02}"), "value": {"i": i}}))
        .collect();
    let (_, v) = ctx
        .post("/v1/cache/setMany", json!({"entries": entries}))
        .await;
    assert_eq!(v, json!({"success": true, "count": 25}));
    ctx.post("/v1/cache/set", json!({"key": "other", "value": null}))
        .await;
    let (_, v) = ctx.post("/v1/cache/get", json!({"key": "other"})).await;
    assert_eq!(v, json!({"value": null, "exists": true}));

    // Pages of 10 by cursor, in key order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut body = json!({"prefix": "user:", "limit": 10});
        if let Some(c) = &cursor {
            body["cursor"] = json!(c);
        }
        let (_, v) = ctx.post("/v1/cache/list", body).await;
        seen.extend(
            v["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["key"].as_str().unwrap().to_string()),
        );
        if v["list_complete"] == true {
            assert!(v.get("cursor").is_none());
            break;
        }
        cursor = Some(v["cursor"].as_str().unwrap().to_string());
    }
    let want: Vec<String> = (0..25).map(|i| format!("user:{i:02}")).collect();
    assert_eq!(seen, want);

    let (_, v) = ctx
        .post(
            "/v1/cache/deleteMany",
            json!({"keys": ["user:00", "user:01", "nope"]}),
        )
        .await;
    assert_eq!(v, json!({"success": true, "count": 3, "deleted": 2}));
    let (_, v) = ctx
        .post("/v1/cache/flush", json!({"prefix": "user:"}))
        .await;
    assert_eq!(v["deleted"], 23);
    let (_, v) = ctx.post("/v1/cache/keys", json!({})).await;
    assert_eq!(v["keys"], json!(["other"]));

    // 50 concurrent increments: atomic.
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let http = ctx.http.clone();
        let url = ctx.url("/v1/cache/increment");
        let key = ctx.key.clone();
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .header("X-Aerostack-Key", key)
                .json(&json!({"key": "counter"}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_success());
    }
    let (_, v) = ctx.post("/v1/cache/get", json!({"key": "counter"})).await;
    assert_eq!(v["value"], 50);
    let (_, v) = ctx
        .post(
            "/v1/cache/increment",
            json!({"key": "counter", "amount": -60}),
        )
        .await;
    assert_eq!(v["value"], -10);
    ctx.p.shutdown().await;
}
