//! Large `/v1/db/query` answers stream (issue 13, item 3): they arrive complete and byte for byte
//! in the shape of a buffered answer; a stream cut short (a cap, the deadline, a client too slow)
//! never looks like a complete body; a streaming statement keeps its project slot until it ends.

use std::time::Duration;

use aerostack_server::ServerOptions;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{Ctx, start_with};

const THRESHOLD: usize = 16 * 1024;

fn opts() -> ServerOptions {
    let mut opts = ServerOptions::ephemeral();
    opts.limits.result_stream_threshold = THRESHOLD;
    opts
}

async fn query(ctx: &Ctx, sql: &str, params: Value) -> reqwest::Response {
    ctx.http
        .post(ctx.url("/v1/db/query"))
        .header("X-Aerostack-Key", &ctx.key)
        .json(&json!({"sql": sql, "params": params}))
        .send()
        .await
        .expect("request")
}

/// `n` rows `{"i": i, "name": "row-0000000i"}`.
const ROWS: &str = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) SELECT i, printf('row-%08d', i) AS name FROM c";

/// Asserts `body` is exactly the buffered answer holding rows 1..=n of [`ROWS`] (with the
/// duration it was served with); says where it differs, not the whole body.
#[track_caller]
fn assert_answer(body: &str, n: usize) {
    let duration_ms = body
        .rsplit_once("\"duration_ms\":")
        .map(|(_, d)| d.trim_end_matches('}'))
        .unwrap_or_else(|| {
            panic!(
                "no duration_ms at the end: ...{}",
                &body[body.len().saturating_sub(200)..]
            )
        });
    let want = expected(n, duration_ms);
    if body != want {
        let at = body
            .bytes()
            .zip(want.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        let near = |s: &str| s[at.saturating_sub(80)..(at + 80).min(s.len())].to_string();
        panic!(
            "the answer differs at byte {at} ({} vs {} bytes): got ...{}... want ...{}...",
            body.len(),
            want.len(),
            near(body),
            near(&want)
        );
    }
}

/// The exact bytes of a buffered answer holding rows 1..=n of [`ROWS`].
fn expected(n: usize, duration_ms: &str) -> String {
    let rows: Vec<String> = (1..=n)
        .map(|i| format!("{{\"i\":{i},\"name\":\"row-{i:08}\"}}"))
        .collect();
    format!(
        "{{\"results\":[{}],\"count\":{n},\"success\":true,\"meta\":{{\"changes\":0,\"last_row_id\":0,\"duration_ms\":{duration_ms}}}}}",
        rows.join(",")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_answer_streams_complete_and_in_the_same_shape() {
    let ctx = start_with(opts()).await;
    // Small: buffered, with a length, as always.
    let r = query(&ctx, ROWS, json!([3])).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.content_length().is_some(), "a small answer is sent whole");
    let small = r.text().await.unwrap();
    assert_answer(&small, 3);

    // Large (about 40 times the threshold): streamed, chunked, the same bytes a buffered answer has.
    let n = 20_000;
    let r = query(&ctx, ROWS, json!([n])).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(
        r.content_length().is_none(),
        "a large answer streams (chunked)"
    );
    let big = r.text().await.expect("a complete body");
    assert!(big.len() > 30 * THRESHOLD, "{}", big.len());
    let v: Value = serde_json::from_str(&big).expect("valid JSON");
    assert_eq!(v["count"], n);
    assert_answer(&big, n);

    // A write keeps the buffered path (its row changes publish once committed), however large.
    let (s, _) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "CREATE TABLE t (i INTEGER, name TEXT)"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200);
    let r = query(
        &ctx,
        &format!(
            "INSERT INTO t {} RETURNING i, name",
            ROWS.replace("?", "5000")
        ),
        Value::Null,
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.content_length().is_some(), "a write is answered whole");
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["count"], &v["meta"]["changes"]),
        (&json!(5000), &json!(5000))
    );
    ctx.p.shutdown().await;
}

/// A streamed answer cut short after its 200: the body does not parse as JSON, and ends with a
/// newline and the error (the `/v1` error object plus `status`) naming what cut it.
async fn cut_with(r: reqwest::Response, names: &str) {
    assert_eq!(r.status().as_u16(), 200, "the answer started");
    let body = r.text().await.expect("the body ends normally, with the error");
    assert!(serde_json::from_str::<Value>(&body).is_err(), "a cut body must not parse");
    let (_, tail) = body.rsplit_once('\n').expect("a newline before the error");
    let e: Value = serde_json::from_str(tail).unwrap_or_else(|_| panic!("the error object: {tail}"));
    assert!(e["status"].as_u64().is_some_and(|s| s >= 400), "{e}");
    assert!(e["code"].is_string() && e["message"].as_str().unwrap().contains(names), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_short_is_never_a_complete_body() {
    let mut opts = opts();
    opts.limits.max_result_bytes = 256 * 1024;
    opts.limits.max_result_rows = 5_000;
    opts.limits.query_timeout = Duration::from_secs(2);
    let ctx = start_with(opts).await;

    // Past max_result_bytes after the answer started (~220-byte rows, 4,000 of them: under
    // max_result_rows, ~880 KB in all).
    let r = query(
        &ctx,
        ROWS.replace("printf('row-%08d', i)", "printf('%0200d', i)")
            .as_str(),
        json!([4_000]),
    )
    .await;
    cut_with(r, "max_result_bytes").await;
    // Past max_result_rows after the answer started.
    let r = query(&ctx, ROWS, json!([6_000])).await;
    cut_with(r, "max_result_rows").await;
    // Past the deadline: every row is slow, the first ones pass the threshold.
    let slow = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 4000) \
        SELECT i, hex(randomblob(100)) AS h, (WITH RECURSIVE d(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM d WHERE j < 20000) SELECT count(*) FROM d WHERE j > c.i % 2) AS n FROM c";
    let r = query(&ctx, slow, Value::Null).await;
    cut_with(r, "query_timeout").await;
    // The same caps before the threshold still answer with a complete error.
    let (s, v) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "SELECT zeroblob(300000) AS z"}),
        )
        .await;
    assert_eq!(s.as_u16(), 400, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("max_result_bytes"),
        "{v}"
    );
    // And the platform is fine.
    let (s, v) = ctx
        .post("/v1/db/query", json!({"sql": "SELECT 1 AS one"}))
        .await;
    assert_eq!((s.as_u16(), &v["results"][0]["one"]), (200, &json!(1)));
    ctx.p.shutdown().await;
}

/// A client that reads nothing holds the statement (backpressure) and its slot until the
/// deadline, not longer. What it reads afterwards is never a complete answer: the body is cut
/// (no last chunk), or, when the answer's channel had room at the deadline, it ends with the
/// deadline's error trailer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stalls_holds_its_slot_until_the_deadline_only() {
    let mut opts = opts();
    opts.limits.db_slots_per_project = 1;
    opts.limits.query_timeout = Duration::from_secs(3);
    let ctx = start_with(opts).await;

    // A raw client with a small receive buffer, so the unread answer fills the buffers quickly.
    let body = json!({"sql": "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 8000) SELECT i, hex(randomblob(1000)) AS h FROM c"}).to_string();
    let addr: std::net::SocketAddr = ctx.p.url().trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    let mut conn = socket.connect(addr).await.unwrap();
    let request = format!(
        "POST /v1/db/query HTTP/1.1\r\nHost: {addr}\r\nX-Aerostack-Key: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        ctx.key,
        body.len()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut b = [0u8; 1];
        assert_eq!(conn.read(&mut b).await.unwrap(), 1, "headers");
        head.push(b[0]);
    }
    let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");

    // The project's only slot is held while the answer waits for its reader.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = tokio::spawn({
        let (http, url, key) = (ctx.http.clone(), ctx.url("/v1/db/query"), ctx.key.clone());
        async move {
            let r = http
                .post(url)
                .header("X-Aerostack-Key", key)
                .json(&json!({"sql": "SELECT 1 AS one"}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "the streaming statement holds the project's slot"
    );
    // At its deadline the stalled answer gives the slot up.
    let (s, v) = second.await.unwrap();
    assert_eq!((s, &v["results"][0]["one"]), (200, &json!(1)), "{v}");

    // What the stalled client then reads is not a complete chunked body.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), conn.read_to_end(&mut rest))
        .await
        .expect("the connection is closed");
    let complete = read.is_ok() && rest.ends_with(b"0\r\n\r\n");
    let tail = String::from_utf8_lossy(&rest[rest.len().saturating_sub(2000)..]).into_owned();
    assert!(
        !complete || tail.contains("query_timeout"),
        "a complete body must end with the deadline's error ({} bytes, ending {tail:?})",
        rest.len()
    );
    assert!(rest.len() < 8000 * 2000, "the answer was cut short");
    ctx.p.shutdown().await;
}
