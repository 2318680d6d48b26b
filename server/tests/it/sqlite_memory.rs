//! SQLite's memory is bounded process-wide (issue 13, item 3): the soft heap limit of `Limits` is
//! in force once a platform runs, and user SQL can neither raise it nor set a hard limit nor grow
//! its connection's page cache.

use aerostack_server::ServerOptions;
use serde_json::json;

use crate::common::{assert_error, start, start_with};

const MIB: i64 = 1024 * 1024;

fn soft_heap_limit() -> i64 {
    // SAFETY: a negative argument only reads the limit.
    unsafe { rusqlite::ffi::sqlite3_soft_heap_limit64(-1) }
}

fn hard_heap_limit() -> i64 {
    // SAFETY: a negative argument only reads the limit.
    unsafe { rusqlite::ffi::sqlite3_hard_heap_limit64(-1) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_sets_the_default_soft_heap_limit() {
    let ctx = start().await;
    // Other tests of this process may have asked for less: the lowest applies.
    let limit = soft_heap_limit();
    assert!(limit > 0 && limit <= 512 * MIB, "soft heap limit {limit}");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_soft_heap_limit_is_in_force_and_user_sql_cannot_change_it() {
    let mut opts = ServerOptions::ephemeral();
    // Below the default of every other platform in this test process, so it is the one in force.
    opts.limits.sqlite_soft_heap_bytes = 200 * MIB as u64;
    let ctx = start_with(opts).await;
    assert_eq!(soft_heap_limit(), 200 * MIB);
    assert_eq!(hard_heap_limit(), 0);

    for (sql, name) in [
        ("PRAGMA soft_heap_limit = 0", "soft_heap_limit"),
        ("PRAGMA soft_heap_limit = 8000000000", "soft_heap_limit"),
        ("SELECT * FROM pragma_soft_heap_limit", "soft_heap_limit"),
        ("PRAGMA hard_heap_limit = 1", "hard_heap_limit"),
        ("SELECT * FROM pragma_hard_heap_limit", "hard_heap_limit"),
        ("PRAGMA cache_size = -8000000", "cache_size"),
        ("PRAGMA main.cache_size = 1000000", "cache_size"),
        ("SELECT * FROM pragma_cache_size", "cache_size"),
    ] {
        let (s, v) = ctx.post("/v1/db/query", json!({"sql": sql})).await;
        assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
        let msg = v["message"].as_str().unwrap();
        assert!(msg.contains(&format!("PRAGMA {name}")), "{sql}: {msg}");
        let (s, v) = ctx
            .post("/v1/db/batch", json!({"queries": [{"sql": sql}]}))
            .await;
        assert_error(s, &v, 400, "DB_QUERY_FAILED", None);
        assert_eq!(soft_heap_limit(), 200 * MIB, "after {sql}");
        assert_eq!(hard_heap_limit(), 0, "after {sql}");
    }
    let (s, v) = ctx
        .post("/v1/db/query", json!({"sql": "SELECT 1 AS one"}))
        .await;
    assert_eq!((s.as_u16(), &v["results"][0]["one"]), (200, &json!(1)));
    ctx.p.shutdown().await;
}
