//! User SQL cannot change process-wide or sticky SQLite state (issue 13, item 1).

use serde_json::{Value, json};

use crate::common::{assert_error, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pragmas_that_outlive_the_statement_are_refused() {
    let ctx = start().await;
    let other = ctx.p.create_project("other").await.unwrap();
    let (s, _) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "CREATE TABLE parent (id INTEGER PRIMARY KEY)"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200);
    ctx.post(
        "/v1/db/query",
        json!({"sql": "CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id))"}),
    )
    .await;

    for (sql, name) in [
        ("PRAGMA hard_heap_limit=1", "hard_heap_limit"),
        ("PRAGMA soft_heap_limit = 1", "soft_heap_limit"),
        ("PRAGMA temp_store_directory = '/tmp'", "temp_store_directory"),
        ("PRAGMA foreign_keys=OFF", "foreign_keys"),
        ("PRAGMA query_only = 1", "query_only"),
        ("PRAGMA writable_schema = ON", "writable_schema"),
        ("PRAGMA journal_mode=OFF", "journal_mode"),
        ("PRAGMA main.synchronous = OFF", "synchronous"),
    ] {
        let (s, v) = ctx.post("/v1/db/query", json!({"sql": sql})).await;
        assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
        let msg = v["message"].as_str().unwrap();
        assert!(msg.contains(&format!("PRAGMA {name}")), "{sql}: {msg}");
        // Nor inside a batch.
        let (s, v) = ctx
            .post("/v1/db/batch", json!({"queries": [{"sql": "SELECT 1"}, {"sql": sql}]}))
            .await;
        assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
        assert_eq!(v["details"]["index"], 1);
    }

    // Every project and every platform table still works (nothing went process-wide).
    for key in [ctx.key.clone(), other.api_key.clone()] {
        let (s, v) = ctx
            .post_key(&key, "/v1/db/query", json!({"sql": "SELECT 1 AS one"}))
            .await;
        assert_eq!((s.as_u16(), &v["results"][0]["one"]), (200, &json!(1)), "{v}");
        let (s, _) = ctx
            .post_key(&key, "/v1/cache/set", json!({"key": "k", "value": 1}))
            .await;
        assert_eq!(s.as_u16(), 200);
    }
    // Foreign keys stay on for every pooled connection: many requests, each must be refused.
    for _ in 0..20 {
        let (s, v) = ctx
            .post(
                "/v1/db/query",
                json!({"sql": "INSERT INTO child (p) VALUES (42)"}),
            )
            .await;
        assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
        assert!(v["message"].as_str().unwrap().contains("FOREIGN KEY"), "{v}");
    }
    let (_, v) = ctx
        .post("/v1/db/query", json!({"sql": "PRAGMA journal_mode"}))
        .await;
    assert_eq!(v["results"][0]["journal_mode"], "wal", "{v}");

    // The documented safe PRAGMAs work.
    let (s, v) = ctx
        .post("/v1/db/query", json!({"sql": "PRAGMA table_info(child)"}))
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    let cols: Vec<&Value> = v["results"].as_array().unwrap().iter().map(|r| &r["name"]).collect();
    assert_eq!(cols, [&json!("id"), &json!("p")]);
    for sql in [
        "PRAGMA index_list(child)",
        "PRAGMA foreign_key_list(child)",
        "PRAGMA foreign_keys",
        "PRAGMA user_version = 7",
        "SELECT name FROM pragma_table_info('parent')",
    ] {
        let (s, v) = ctx.post("/v1/db/query", json!({"sql": sql})).await;
        assert_eq!(s.as_u16(), 200, "{sql}: {v}");
    }
    let (_, v) = ctx
        .post("/v1/db/query", json!({"sql": "PRAGMA user_version"}))
        .await;
    assert_eq!(v["results"][0]["user_version"], 7, "{v}");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temp_objects_do_not_leak_to_later_requests() {
    let ctx = start().await;
    ctx.post("/v1/db/query", json!({"sql": "CREATE TABLE t (v INTEGER)"}))
        .await;
    // A TEMP trigger on a main table would run for every later request on that connection.
    let (s, v) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "CREATE TEMP TRIGGER double AFTER INSERT ON main.t BEGIN INSERT INTO main.t VALUES (NEW.v + 1000); END"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    ctx.post("/v1/db/query", json!({"sql": "CREATE TEMP TABLE scratch (x)"}))
        .await;
    for i in 0..20 {
        let (s, v) = ctx
            .post("/v1/db/query", json!({"sql": "INSERT INTO t VALUES (?)", "params": [i]}))
            .await;
        assert_eq!(s.as_u16(), 200, "{v}");
        let (_, v) = ctx
            .post("/v1/db/query", json!({"sql": "SELECT count(*) AS n FROM temp.sqlite_master"}))
            .await;
        assert_eq!(v["results"][0]["n"], 0, "a TEMP object leaked into a later request: {v}");
    }
    let (_, v) = ctx
        .post("/v1/db/query", json!({"sql": "SELECT count(*) AS n FROM t"}))
        .await;
    assert_eq!(v["results"][0]["n"], 20, "{v}");
    ctx.p.shutdown().await;
}
