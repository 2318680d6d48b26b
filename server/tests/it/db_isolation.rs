//! One project's long query costs only its own slots: `/v1/health` and other projects answer
//! while it runs (issue 13, item 2).

use std::time::Duration;

use aerostack_server::ServerOptions;
use serde_json::json;

use crate::common::start_with;

/// One statement whose time goes into single SQLite function calls (no VM steps inside them to
/// notice a deadline): 6 GB of random bytes, far more than any machine makes before the
/// deadline, so every long query runs until it is interrupted.
const SLOW: &str = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 400) \
                    SELECT sum(length(randomblob(15000000))) AS n FROM c";

/// Long enough that a loaded two-core CI machine answers the quick requests well inside it.
const DEADLINE: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_query_does_not_stall_the_platform() {
    let mut opts = ServerOptions::ephemeral();
    opts.limits.query_timeout = DEADLINE;
    let ctx = start_with(opts).await;
    let other = ctx.p.create_project("other").await.unwrap();
    // The other project's database is open before the load starts: what is measured is serving
    // it under load, not creating its file.
    let (s, _) = ctx.post_key(&other.api_key, "/v1/db/query", json!({"sql": "SELECT 1"})).await;
    assert_eq!(s.as_u16(), 200);
    // Several pooled connections, as a busy project has (so every long query finds one).
    let warm: Vec<_> = (0..8)
        .map(|_| {
            let (http, url, key) = (ctx.http.clone(), ctx.url("/v1/db/batch"), ctx.key.clone());
            tokio::spawn(async move {
                http.post(url)
                    .header("X-Aerostack-Key", key)
                    .json(&json!({"queries": [{"sql": "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300000) SELECT count(*) FROM c"}]}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    for w in futures_util::future::join_all(warm).await {
        assert!(w.unwrap().is_success());
    }
    // More long queries than there are async worker threads.
    let slow: Vec<_> = (0..4)
        .map(|_| {
            let (http, url, key) = (ctx.http.clone(), ctx.url("/v1/db/query"), ctx.key.clone());
            tokio::spawn(async move {
                let r = http
                    .post(url)
                    .header("X-Aerostack-Key", key)
                    .json(&json!({"sql": SLOW}))
                    .send()
                    .await
                    .unwrap();
                r.status().as_u16()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let quick = async {
        let r = ctx.http.get(ctx.url("/v1/health")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let (s, v) = ctx
            .post_key(&other.api_key, "/v1/db/query", json!({"sql": "SELECT 1 AS one"}))
            .await;
        assert_eq!((s.as_u16(), &v["results"][0]["one"]), (200, &json!(1)), "{v}");
    };
    let all_slow = futures_util::future::join_all(slow);
    tokio::pin!(all_slow);
    tokio::select! {
        biased;
        _ = quick => {}
        _ = &mut all_slow => panic!("health and another project answered only after the long queries ended"),
    }
    // The long queries end (interrupted at the deadline, or done), each with an answer.
    for status in all_slow.await {
        let status = status.unwrap();
        assert!(status == 200 || status == 400 || status == 503, "{status}");
    }
    ctx.p.shutdown().await;
}
