//! Result and memory caps of user SQL (issue 13, item 3): too many rows or bytes is a 400 that
//! says how to page; a value cannot exceed `max_value_bytes`; TEMP tables are capped.

use aerostack_server::ServerOptions;
use serde_json::json;

use crate::common::{assert_error, start, start_with};

const SERIES: &str = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) SELECT i FROM c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_capped_with_a_hint_to_page() {
    let mut opts = ServerOptions::ephemeral();
    opts.limits.max_result_rows = 1000;
    opts.limits.max_result_bytes = 64 * 1024;
    opts.limits.max_value_bytes = 1024 * 1024;
    opts.limits.max_temp_bytes = 1024 * 1024;
    let ctx = start_with(opts).await;

    // At the cap: served.
    let (s, v) = ctx
        .post("/v1/db/query", json!({"sql": SERIES, "params": [1000]}))
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert_eq!(v["count"], 1000);
    // One row more: refused, saying how to page.
    let (s, v) = ctx
        .post("/v1/db/query", json!({"sql": SERIES, "params": [1001]}))
        .await;
    assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
    assert!(v["message"].as_str().unwrap().contains("max_result_rows"), "{v}");
    assert!(v["details"]["suggestion"].as_str().unwrap().contains("LIMIT"), "{v}");
    // Bytes: few rows, large values.
    let (s, v) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10) SELECT hex(randomblob(10000)) AS h FROM c"}),
        )
        .await;
    assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
    assert!(v["message"].as_str().unwrap().contains("max_result_bytes"), "{v}");
    // A batch shares one budget.
    let (s, v) = ctx
        .post(
            "/v1/db/batch",
            json!({"queries": [{"sql": SERIES, "params": [600]}, {"sql": SERIES, "params": [600]}]}),
        )
        .await;
    assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
    assert_eq!(v["details"]["index"], 1, "{v}");
    // Values: SQLite's length limit on user connections.
    for sql in ["SELECT length(zeroblob(2000000000)) AS n", "SELECT length(randomblob(5000000)) AS n"] {
        let (s, v) = ctx.post("/v1/db/query", json!({"sql": sql})).await;
        assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
        assert!(v["message"].as_str().unwrap().contains("max_value_bytes"), "{sql}: {v}");
    }
    // TEMP tables.
    let (s, v) = ctx
        .post(
            "/v1/db/batch",
            json!({"queries": [
                {"sql": "CREATE TEMP TABLE big (v)"},
                {"sql": "INSERT INTO big WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 400) SELECT randomblob(10000) FROM c"},
            ]}),
        )
        .await;
    assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
    assert!(v["message"].as_str().unwrap().contains("max_temp_bytes"), "{v}");
    // The platform is fine afterwards.
    let (s, v) = ctx.post("/v1/db/query", json!({"sql": "SELECT 1 AS one"})).await;
    assert_eq!((s.as_u16(), &v["results"][0]["one"]), (200, &json!(1)));
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_caps_refuse_giant_values() {
    let ctx = start().await;
    let (s, v) = ctx
        .post("/v1/db/query", json!({"sql": "SELECT zeroblob(2000000000) AS z"}))
        .await;
    assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
    assert!(v["message"].as_str().unwrap().contains("max_value_bytes"), "{v}");
    // A value at a realistic size still works (1 MiB).
    let (s, v) = ctx
        .post("/v1/db/query", json!({"sql": "SELECT length(randomblob(1048576)) AS n"}))
        .await;
    assert_eq!((s.as_u16(), &v["results"][0]["n"]), (200, &json!(1048576)), "{v}");
    ctx.p.shutdown().await;
}
