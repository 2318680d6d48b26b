//! The transport funnel against the real platform: auth failures, 404s, retries with
//! `Retry-After`, idempotent retries after a lost response, timeouts and cancellation.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use aerostack::{CallOptions, ErrorCode, Method, RetryPolicy};
use aerostack_server::{Limits, Rate, ServerOptions};
use common::net::{FaultProxy, SilentServer};
use common::{Harness, client_for, eventually, fast_retry};
use serde_json::json;

#[tokio::test]
async fn bad_key_is_auth_invalid_key_on_every_service() {
    let h = Harness::start().await;
    let bad = h.client_with_key("ac_secret_00000000000000000000000000000000");
    let errors = vec![
        bad.db().query("SELECT 1", &[]).await.unwrap_err(),
        bad.cache().get("k").await.unwrap_err(),
        bad.queue()
            .enqueue("t", &json!({}), None, None)
            .await
            .unwrap_err(),
        bad.storage().list(None, None, None).await.unwrap_err(),
        bad.secrets().get("K").await.unwrap_err(),
        bad.ai().embed("x").await.unwrap_err(),
        bad.ai().search().count(None).await.unwrap_err(),
        bad.services().invoke("svc", &json!({})).await.unwrap_err(),
    ];
    for e in errors {
        assert_eq!(e.code(), &ErrorCode::AuthInvalidKey, "{e}");
        assert_eq!(e.status(), Some(401));
        assert!(!e.retryable());
        assert!(e.request_id().is_some_and(|r| !r.is_empty()));
        assert!(!e.message().is_empty());
    }
    h.platform.shutdown().await;
}

#[tokio::test]
async fn unknown_route_is_not_found_and_request_json_works() {
    let h = Harness::start().await;
    let e = h
        .client
        .request_json(Method::POST, "/no/such/route", Some(&json!({})), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::NotFound);
    assert_eq!(e.status(), Some(404));
    assert!(e.body().unwrap().contains("NOT_FOUND"));

    let v = h
        .client
        .request_json(
            Method::POST,
            "/cache/set",
            Some(&json!({"key": "raw", "value": [1, 2]})),
            None,
        )
        .await
        .unwrap();
    assert_eq!(v["success"], json!(true));
    let v = h
        .client
        .request_json(
            Method::POST,
            "/cache/get",
            Some(&json!({"key": "raw"})),
            None,
        )
        .await
        .unwrap();
    assert_eq!(v["value"], json!([1, 2]));
    assert_eq!(v["exists"], json!(true));
    let v = h
        .client
        .request_json(Method::GET, "/ai/search/listTypes", None, None)
        .await
        .unwrap();
    assert!(v["types"].is_array());

    // The platform names the missing field.
    let e = h
        .client
        .request_json(Method::POST, "/cache/set", Some(&json!({"value": 1})), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::ValidationError);
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.details().unwrap()["field"], json!("key"));
    h.platform.shutdown().await;
}

#[tokio::test]
async fn rate_limited_call_is_retried_after_retry_after() {
    let limits = Limits {
        cache_flush: Rate::new(1, Duration::from_secs(1)),
        ..Limits::default()
    };
    let h = Harness::start_with(ServerOptions {
        limits,
        ..ServerOptions::ephemeral()
    })
    .await;
    h.client.cache().set("a", &1, None).await.unwrap();
    assert_eq!(h.client.cache().flush(None).await.unwrap(), 1);

    // Without retries the 429 surfaces with its Retry-After.
    let once = h
        .client
        .with_options(CallOptions::new().retry(RetryPolicy::none()));
    let e = once.cache().flush(None).await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::RateLimitExceeded);
    assert_eq!(e.status(), Some(429));
    assert!(e.retryable());
    let wait = e.retry_after().expect("429 carries Retry-After");
    assert!(wait <= Duration::from_secs(1), "{wait:?}");

    // With retries the engine waits for the window and the flush goes through.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.client.cache().flush(None).await.unwrap();
    let started = Instant::now();
    let deleted = h
        .client
        .cache()
        .flush(None)
        .await
        .expect("retried after Retry-After");
    assert_eq!(deleted, 0);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500),
        "the engine honoured Retry-After, waited {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    h.platform.shutdown().await;
}

#[tokio::test]
async fn lost_enqueue_response_is_retried_with_the_same_keys_and_creates_one_job() {
    let h = Harness::start().await;
    let proxy = FaultProxy::start(h.platform.addr(), "/queue/enqueue", 1).await;
    let via_proxy = client_for(&proxy.api_url(), &h.project.api_key, Some(&h.project.id));

    let job_id = via_proxy
        .queue()
        .enqueue("once-only", &json!({"n": 1}), None, None)
        .await
        .unwrap();

    let seen: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.path.ends_with("/queue/enqueue"))
        .collect();
    assert_eq!(seen.len(), 2, "one lost attempt, one retry: {seen:?}");
    assert!(seen[0].dropped && !seen[1].dropped);
    let key0 = seen[0]
        .header("idempotency-key")
        .expect("non-idempotent POST carries a key");
    assert_eq!(
        Some(key0),
        seen[1].header("idempotency-key"),
        "same key on the retry"
    );
    assert_eq!(
        seen[0].header("x-request-id"),
        seen[1].header("x-request-id"),
        "same request id on the retry"
    );
    assert!(
        seen[0]
            .header("user-agent")
            .unwrap()
            .starts_with("aerostack-tests/0.0.0 aerostack-core/")
    );
    assert_eq!(
        seen[0].header("x-aerostack-key"),
        Some(h.project.api_key.as_str())
    );

    let jobs = h
        .client
        .queue()
        .jobs(&aerostack::JobFilter {
            job_type: Some("once-only".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(jobs.jobs.len(), 1, "the platform ran the enqueue once");
    assert_eq!(jobs.jobs[0].id, job_id);

    // Reads carry no idempotency key.
    via_proxy.cache().get("x").await.unwrap();
    let get = proxy
        .seen()
        .into_iter()
        .find(|s| s.path.ends_with("/cache/get"))
        .unwrap();
    assert!(get.header("idempotency-key").is_none());
    h.platform.shutdown().await;
}

#[tokio::test]
async fn a_caller_supplied_idempotency_key_deduplicates_across_calls() {
    let h = Harness::start().await;
    let keyed = h
        .client
        .with_options(CallOptions::new().idempotency_key(common::unique("idem")));
    let a = keyed
        .queue()
        .enqueue("dedup", &json!({}), None, None)
        .await
        .unwrap();
    let b = keyed
        .queue()
        .enqueue("dedup", &json!({}), None, None)
        .await
        .unwrap();
    assert_eq!(a, b, "the second call was answered from the first");
    let c = h
        .client
        .queue()
        .enqueue("dedup", &json!({}), None, None)
        .await
        .unwrap();
    assert_ne!(a, c, "without the key a new job is created");
    h.platform.shutdown().await;
}

#[tokio::test]
async fn a_hung_server_times_out_and_connection_errors_are_retried() {
    let silent = SilentServer::start().await;
    let mut cfg = common::config_for(&silent.api_url(), "ac_secret_x", None);
    cfg.timeout_ms = Some(150);
    cfg.retry = Some(RetryPolicy {
        max_attempts: 2,
        ..fast_retry()
    });
    let client = aerostack::Client::new(cfg).unwrap();

    let started = Instant::now();
    let e = client.cache().get("k").await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::Timeout, "{e}");
    assert_eq!(e.status(), None);
    assert!(e.retryable());
    assert!(
        e.message().contains("timed out after 150 ms"),
        "{}",
        e.message()
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "two attempts of 150 ms"
    );
    assert_eq!(
        silent.accepted.load(Ordering::SeqCst),
        2,
        "retried once on a fresh connection"
    );

    // Per-call timeout overrides the client's.
    let started = Instant::now();
    let quick = client.with_options(
        CallOptions::new()
            .timeout(Duration::from_millis(50))
            .retry(RetryPolicy::none()),
    );
    assert_eq!(
        quick.cache().get("k").await.unwrap_err().code(),
        &ErrorCode::Timeout
    );
    assert!(started.elapsed() < Duration::from_millis(140));

    // Uploads time out on silence too (their timeout is an idle timeout, not a total).
    let started = Instant::now();
    let e = quick
        .storage()
        .upload(
            "k.bin",
            vec![1u8; 300_000],
            aerostack::UploadOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::Timeout, "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // Nothing listening: NETWORK_ERROR after the retries.
    let dead = client_for("http://127.0.0.1:9/v1", "ac_secret_x", None);
    let e = dead.cache().get("k").await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::NetworkError, "{e}");
    assert!(e.message().contains("could not connect"), "{}", e.message());
}

#[tokio::test]
async fn dropping_the_future_cancels_the_request() {
    let silent = SilentServer::start().await;
    let client = client_for(&silent.api_url(), "ac_secret_x", None);
    let r = tokio::time::timeout(Duration::from_millis(100), client.cache().get("k")).await;
    assert!(r.is_err(), "the call was still waiting when dropped");
    assert_eq!(silent.accepted.load(Ordering::SeqCst), 1);
    // The engine closed the connection: nothing keeps the request alive after the drop.
    let closed = eventually(Duration::from_secs(2), || async {
        (silent.closed.load(Ordering::SeqCst) == 1).then_some(())
    })
    .await;
    assert!(
        closed.is_some(),
        "the dropped request's connection was closed"
    );

    // The same in a spawned task that is aborted (how bindings cancel).
    let c = client.clone();
    let task = tokio::spawn(async move { c.db().query("SELECT 1", &[]).await });
    eventually(Duration::from_secs(2), || async {
        (silent.accepted.load(Ordering::SeqCst) == 2).then_some(())
    })
    .await
    .unwrap();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let closed = eventually(Duration::from_secs(2), || async {
        (silent.closed.load(Ordering::SeqCst) == 2).then_some(())
    })
    .await;
    assert!(closed.is_some());
}

#[tokio::test]
async fn invalid_config_names_the_field() {
    let e = aerostack::Client::new(
        aerostack::ClientConfig {
            ignore_env: true,
            ..Default::default()
        }
        .base_url("ftp://x"),
    )
    .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::InvalidConfig);
    assert!(
        e.message()
            .contains("base_url must start with http:// or https://"),
        "{}",
        e.message()
    );
    let e = aerostack::Client::new(
        aerostack::ClientConfig {
            ignore_env: true,
            ..Default::default()
        }
        .server_index(7),
    )
    .unwrap_err();
    assert!(e.message().contains("server_index"));
    let e = aerostack::Client::new(
        aerostack::ClientConfig {
            ignore_env: true,
            api_key: Some("k".into()),
            ..Default::default()
        }
        .retry(RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        }),
    )
    .unwrap_err();
    assert!(e.message().contains("retry.max_attempts"));
    // End-user auth needs a project id.
    let c = client_for("http://127.0.0.1:9/v1", "k", None);
    let e = c.auth().login("a@b.c", "pw").await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::InvalidConfig);
    assert!(e.message().contains("project_id"));
}

/// JSON calls go out through the engine's direct client, which does not follow redirects itself:
/// a 3xx is sent again through reqwest, which does. Here the base URL points at a host that
/// moved (308, method and body kept) to the platform.
#[tokio::test]
async fn a_moved_base_url_is_followed_with_the_body() {
    use axum::http::{HeaderMap, StatusCode, Uri, header};

    let h = Harness::start().await;
    let target = h.api_url();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    let moved = axum::Router::new().fallback(move |uri: Uri| {
        let to = format!("{}{}", target.trim_end_matches("/v1"), uri.path());
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            let mut headers = HeaderMap::new();
            headers.insert(header::LOCATION, to.parse().unwrap());
            (StatusCode::PERMANENT_REDIRECT, headers)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, moved).await });

    let (project, key) = (h.project.id.clone(), h.project.api_key.clone());
    let client = client_for(&format!("http://{addr}/v1"), &key, Some(&project));
    let r = client
        .db()
        .query("SELECT ? AS n", &[json!(7)])
        .await
        .unwrap();
    assert_eq!(
        r.results[0]["n"],
        json!(7),
        "the body survived the redirect"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "once direct, once through reqwest"
    );
    h.platform.shutdown().await;
}
