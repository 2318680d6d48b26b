//! Database: bound parameters, errors that say what happened, batch all-or-nothing.

use serde_json::json;

use crate::common::{assert_error, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_shapes_and_errors() {
    let ctx = start().await;
    let (s, _) = ctx.post("/v1/db/query", json!({"sql": "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, raw BLOB, tags TEXT)"})).await;
    assert!(s.is_success());
    let (_, v) = ctx
        .post("/v1/db/query", json!({"sql": "INSERT INTO items (name, price, raw, tags) VALUES (?, ?, x'DEADBEEF', ?)", "params": ["Robert'); DROP TABLE items;--", 9.5, ["a", "b"]]}))
        .await;
    assert_eq!(v["meta"]["changes"], 1);
    assert_eq!(v["meta"]["last_row_id"], 1);
    assert!(v["meta"]["duration_ms"].is_number());
    let (_, v) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "SELECT * FROM items WHERE price > ?", "params": [1]}),
        )
        .await;
    assert_eq!(v["count"], 1);
    assert_eq!(
        v["results"][0],
        json!({"id": 1, "name": "Robert'); DROP TABLE items;--", "price": 9.5, "raw": "3q2+7w==", "tags": "[\"a\",\"b\"]"})
    );
    let (_, v) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "SELECT count(*) AS n FROM items WHERE name = ?", "params": [true]}),
        )
        .await;
    assert_eq!(v["results"][0]["n"], 0);

    let (s, v) = ctx.post("/v1/db/query", json!({})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("sql"));
    assert!(
        v["message"].as_str().unwrap().contains("\"sql\""),
        "says what to send: {v}"
    );
    let (s, v) = ctx
        .post("/v1/db/query", json!({"sql": "SELECT 1; DROP TABLE items"}))
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("sql"));
    let (s, v) = ctx
        .post("/v1/db/query", json!({"sql": "SELECT * FROM missing"}))
        .await;
    assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("no such table: missing")
    );
    assert!(v["details"]["suggestion"].is_string());
    let (s, v) = ctx
        .post("/v1/db/query", json!({"sql": "SELECT ?", "params": [1, 2]}))
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("params"));
    let (s, v) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "INSERT INTO items (name) VALUES (NULL)"}),
        )
        .await;
    assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
    let (s, v) = ctx.post("/v1/db/query", json!({"sql": "BEGIN"})).await;
    assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_is_all_or_nothing() {
    let ctx = start().await;
    ctx.post("/v1/db/query", json!({"sql": "CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0))"})).await;
    let (s, v) = ctx
        .post(
            "/v1/db/batch",
            json!({"queries": [
                {"sql": "INSERT INTO acct VALUES (1, 100)"},
                {"sql": "INSERT INTO acct VALUES (?, ?)", "params": [2, 0]},
                {"sql": "SELECT sum(balance) AS total FROM acct"}
            ]}),
        )
        .await;
    assert!(s.is_success(), "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["results"][2]["results"][0]["total"], 100);
    assert_eq!(v["results"][0]["success"], true);

    let (s, v) = ctx
        .post(
            "/v1/db/batch",
            json!({"queries": [
                {"sql": "UPDATE acct SET balance = balance - 50 WHERE id = 1"},
                {"sql": "INSERT INTO acct VALUES (3, 5)"},
                {"sql": "UPDATE acct SET balance = balance - 500 WHERE id = 2"}
            ]}),
        )
        .await;
    assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
    assert_eq!(v["details"]["index"], 2);
    let (_, v) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "SELECT id, balance FROM acct ORDER BY id"}),
        )
        .await;
    assert_eq!(
        v["results"],
        json!([{"id": 1, "balance": 100}, {"id": 2, "balance": 0}]),
        "nothing from the failed batch was written"
    );

    let queries: Vec<_> = (0..26).map(|_| json!({"sql": "SELECT 1"})).collect();
    let (s, v) = ctx.post("/v1/db/batch", json!({"queries": queries})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("queries"));
    let (s, v) = ctx
        .post(
            "/v1/db/batch",
            json!({"queries": [{"sql": "SELECT 1"}, {"params": []}]}),
        )
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("queries[1].sql"));
    ctx.p.shutdown().await;
}

/// A long read starts inline, runs out of its inline budget, and finishes on a blocking thread
/// while other requests keep being served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_query_does_not_stall_the_server() {
    let ctx = start().await;
    ctx.post("/v1/db/query", json!({"sql": "SELECT 1"})).await;
    let slow = {
        let (http, url, key) = (ctx.http.clone(), ctx.url("/v1/db/query"), ctx.key.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let r = http
                .post(url)
                .header("X-Aerostack-Key", key)
                .json(&json!({"sql": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000) SELECT count(*) AS n FROM c"}))
                .send()
                .await
                .unwrap();
            (crate::common::json_of(r).await, started.elapsed())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mut worst = std::time::Duration::ZERO;
    for _ in 0..20 {
        let t = std::time::Instant::now();
        let (s, _) = ctx.post("/v1/cache/get", json!({"key": "k"})).await;
        assert!(s.is_success());
        worst = worst.max(t.elapsed());
    }
    let ((s, v), slow_took) = slow.await.unwrap();
    assert!(s.is_success(), "{v}");
    assert_eq!(v["results"][0]["n"], 1_500_000);
    assert!(
        worst < std::time::Duration::from_millis(500),
        "a cache read waited {worst:?} behind a slow query (which took {slow_took:?})"
    );
    ctx.p.shutdown().await;
}
