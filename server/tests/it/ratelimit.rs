//! Rate limits answer 429 with Retry-After and X-RateLimit-* (numbers from `Limits`).

use std::time::Duration;

use aerostack_server::{Limits, Rate, ServerOptions};
use serde_json::json;

use crate::common::{json_of, start_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_flush_limits() {
    let limits = Limits {
        login_per_ip: Rate::new(3, Duration::from_secs(60)),
        login_per_email: Rate::new(2, Duration::from_secs(60)),
        cache_flush: Rate::new(1, Duration::from_secs(2)),
        ..Limits::default()
    };
    let ctx = start_with(ServerOptions {
        limits,
        ..ServerOptions::ephemeral()
    })
    .await;
    let login = |email: &'static str| {
        let (http, url) = (
            ctx.http.clone(),
            ctx.url("/api/v1/public/projects/default/auth/login"),
        );
        async move {
            http.post(url)
                .json(&json!({"email": email, "password": "Wr0ngPassword"}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(login("a@x.io").await.status().as_u16(), 401);
    assert_eq!(login("a@x.io").await.status().as_u16(), 401);
    // Third attempt for the same email: per-email limit.
    let r = login("a@x.io").await;
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(r.headers()["x-ratelimit-limit"], "2");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert!(r.headers().contains_key("x-ratelimit-reset"));
    let (_, v) = json_of(r).await;
    assert_eq!(v["code"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(v["error"]["code"], "RATE_LIMIT_EXCEEDED");
    assert!(v["request_id"].is_string());
    // The per-IP limit (3 per minute) is reached by the next attempt, whatever the email.
    let r = login("b@x.io").await;
    assert_eq!(r.status().as_u16(), 429);

    let (s, _) = ctx.post("/v1/cache/flush", json!({})).await;
    assert!(s.is_success());
    let r = ctx
        .call(
            reqwest::Method::POST,
            "/v1/cache/flush",
            Some(&ctx.key),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, _) = ctx.post("/v1/cache/flush", json!({})).await;
    assert!(s.is_success());
    ctx.p.shutdown().await;
}
