//! Database through the engine: query, query_one, batch, errors, project isolation.

mod common;

use aerostack::{ErrorCode, Statement};
use common::Harness;
use serde_json::json;

#[tokio::test]
async fn query_query_one_and_batch() {
    let h = Harness::start().await;
    let db = h.client.db();
    db.query(
        "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL, score REAL, active INTEGER)",
        &[],
    )
    .await
    .unwrap();
    let ins = db
        .query(
            "INSERT INTO users (id, email, score, active) VALUES (?, ?, ?, ?)",
            &[json!("u1"), json!("a@x.io"), json!(1.5), json!(1)],
        )
        .await
        .unwrap();
    assert_eq!(ins.results.len(), 0);
    assert_eq!(ins.meta.as_ref().unwrap()["changes"], json!(1));

    let batch = db
        .batch(&[
            Statement::new(
                "INSERT INTO users (id, email, active) VALUES (?, ?, ?)",
                vec![json!("u2"), json!("b@x.io"), json!(0)],
            ),
            Statement::new(
                "INSERT INTO users (id, email, active) VALUES (?, ?, ?)",
                vec![json!("u3"), json!("c@x.io"), json!(1)],
            ),
            Statement::new("SELECT COUNT(*) AS n FROM users", vec![]),
        ])
        .await
        .unwrap();
    assert!(batch.success);
    assert_eq!(batch.results.len(), 3);
    assert_eq!(batch.results[2].results[0]["n"], json!(3));

    let rows = db
        .query(
            "SELECT id, email, score FROM users WHERE active = ? ORDER BY id",
            &[json!(1)],
        )
        .await
        .unwrap();
    assert_eq!(rows.count, 2);
    assert_eq!(rows.results[0]["id"], json!("u1"));
    assert_eq!(rows.results[0]["score"], json!(1.5));
    assert_eq!(rows.results[1]["score"], json!(null));

    let one = db
        .query_one("SELECT email FROM users WHERE id = ?", &[json!("u2")])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one["email"], json!("b@x.io"));
    assert!(
        db.query_one("SELECT * FROM users WHERE id = ?", &[json!("nope")])
            .await
            .unwrap()
            .is_none()
    );
    h.platform.shutdown().await;
}

#[tokio::test]
async fn sql_errors_and_validation() {
    let h = Harness::start().await;
    let db = h.client.db();
    let e = db
        .query("SELECT * FROM missing_table", &[])
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::DbQueryFailed, "{e}");
    assert_eq!(e.status(), Some(400));
    assert!(e.message().contains("missing_table"), "{}", e.message());

    let e = db.query("   ", &[]).await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::ValidationError);
    assert_eq!(e.details().unwrap()["field"], json!("sql"));
    assert_eq!(e.status(), None, "rejected before sending");

    let e = db.batch(&[]).await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], json!("statements"));

    // The platform caps batches at 25 statements and names the field.
    let many: Vec<Statement> = (0..26)
        .map(|_| Statement::new("SELECT 1", vec![]))
        .collect();
    let e = db.batch(&many).await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::ValidationError);
    assert_eq!(e.details().unwrap()["field"], json!("queries"));

    // A failing statement inside a batch is reported per statement.
    let r = db
        .batch(&[
            Statement::new("SELECT 1 AS one", vec![]),
            Statement::new("SELECT * FROM nowhere", vec![]),
        ])
        .await;
    match r {
        Ok(b) => {
            assert!(!b.success);
            assert!(b.results.iter().any(|i| !i.success && i.error.is_some()));
        }
        Err(e) => assert_eq!(e.code(), &ErrorCode::DbQueryFailed),
    }
    h.platform.shutdown().await;
}

#[tokio::test]
async fn another_projects_tables_are_unreachable() {
    let h = Harness::start().await;
    h.client
        .db()
        .query("CREATE TABLE secrets_of_a (v TEXT)", &[])
        .await
        .unwrap();
    h.client
        .db()
        .query("INSERT INTO secrets_of_a VALUES ('mine')", &[])
        .await
        .unwrap();
    let (_, other) = h.other_project("other").await;
    let e = other
        .db()
        .query("SELECT * FROM secrets_of_a", &[])
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::DbQueryFailed);
    // Same table name in the other project is a different table.
    other
        .db()
        .query("CREATE TABLE secrets_of_a (v TEXT)", &[])
        .await
        .unwrap();
    assert_eq!(
        other
            .db()
            .query("SELECT * FROM secrets_of_a", &[])
            .await
            .unwrap()
            .count,
        0
    );
    assert_eq!(
        h.client
            .db()
            .query("SELECT * FROM secrets_of_a", &[])
            .await
            .unwrap()
            .count,
        1
    );
    h.platform.shutdown().await;
}

/// A row keeps its columns in the order the query selected them, end to end (the platform
/// writes them so and the engine reads them into order-keeping maps): `SELECT z, a` is `{z, a}`.
#[tokio::test]
async fn rows_keep_their_column_order() {
    let h = Harness::start().await;
    let db = h.client.db();
    let rows = db
        .query(
            "SELECT 1 AS zeta, 2 AS alpha, 3 AS \"Mid Case\", 4 AS beta",
            &[],
        )
        .await
        .unwrap();
    let keys: Vec<&str> = rows.results[0].keys().map(String::as_str).collect();
    assert_eq!(keys, ["zeta", "alpha", "Mid Case", "beta"]);
}

/// A large answer streams from the platform; when a result cap cuts it after the 200 went out,
/// the engine raises the platform's error (naming the cap), as for a buffered answer.
#[tokio::test]
async fn a_streamed_answer_cut_by_a_cap_raises_the_caps_error() {
    let mut options = aerostack_server::ServerOptions::ephemeral();
    options.limits.result_stream_threshold = 64 * 1024;
    options.limits.max_result_rows = 5_000;
    let h = Harness::start_with(options).await;
    let rows = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) SELECT i, printf('row-%08d', i) AS name FROM c";
    // Under the cap, streamed (past the threshold) and complete.
    let ok = h.client.db().query(rows, &[json!(4_000)]).await.unwrap();
    assert_eq!(ok.results.len(), 4_000);
    // Past it: the cap's own error, not a decode failure.
    let err = h
        .client
        .db()
        .query(rows, &[json!(6_000)])
        .await
        .unwrap_err();
    assert_ne!(err.code(), &ErrorCode::DecodeError, "{err}");
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(err.message().contains("max_result_rows"), "{err}");
    h.platform.shutdown().await;
}
