//! Hosted calls (the host's own HTTP client performs every request) against the real local
//! platform, started in-process. The "host client" here is a separate reqwest client that, like a
//! user's `httpx.Client(headers=...)`, adds or replaces headers before sending.

use std::future::Future;
use std::time::{Duration, Instant};

use aerostack::{Client, ClientConfig, Error, ErrorCode, HostRequest, HostResponse, RetryPolicy};
use aerostack_bindings_common::{HostedCall, Step};
use aerostack_server::{LocalPlatform, ServerOptions};
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

const WRONG_KEY: &str = "ac_secret_00000000000000000000000000000000";

fn client(p: &LocalPlatform, key: &str, timeout_ms: u64, retry: RetryPolicy) -> Client {
    let mut cfg = ClientConfig::new().base_url(p.api_url()).api_key(key);
    cfg.ignore_env = true;
    cfg.timeout_ms = Some(timeout_ms);
    cfg.retry = Some(retry);
    Client::new(cfg).unwrap()
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_interval_ms: 10,
        max_interval_ms: 50,
        exponent: 2.0,
        max_elapsed_time_ms: 10_000,
        retry_connection_errors: true,
        max_retry_after_ms: 5_000,
    }
}

/// Performs `req` with the "user's" client, replacing headers with `overrides`.
async fn forward(
    http: &reqwest::Client,
    req: HostRequest,
    overrides: &[(&str, &str)],
) -> Result<HostResponse, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())) {
        headers.append(
            HeaderName::try_from(name).map_err(|e| e.to_string())?,
            HeaderValue::try_from(value).map_err(|e| e.to_string())?,
        );
    }
    for (name, value) in overrides {
        headers.insert(
            HeaderName::try_from(*name).map_err(|e| e.to_string())?,
            HeaderValue::try_from(*value).map_err(|e| e.to_string())?,
        );
    }
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|e| e.to_string())?;
    let resp = http
        .request(method, &req.url)
        .headers(headers)
        .body(req.body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    Ok(HostResponse {
        status,
        headers,
        body,
    })
}

fn json_response(status: u16, body: Value) -> HostResponse {
    HostResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Bytes::from(body.to_string()),
    }
}

/// Runs a hosted call to completion: `host(attempt, request)` answers each request (`None`: leave
/// it unanswered). Returns the result and every request the host was asked to send.
async fn drive<F, Fut>(call: &HostedCall, mut host: F) -> (Result<Value, Error>, Vec<HostRequest>)
where
    F: FnMut(usize, HostRequest) -> Fut,
    Fut: Future<Output = Option<Result<HostResponse, String>>>,
{
    let mut seen = Vec::new();
    loop {
        match call.next().await {
            Step::Send { id, request } => {
                let n = seen.len();
                seen.push(request.clone());
                if let Some(reply) = host(n, request).await {
                    call.respond(id, reply).unwrap();
                }
            }
            Step::Done(result) => return (result, seen),
        }
    }
}

/// A hosted call whose host forwards everything with `overrides` applied.
async fn hosted(
    c: &Client,
    http: &reqwest::Client,
    op: &str,
    args: Value,
    overrides: &[(&str, &str)],
) -> (Result<Value, Error>, Vec<HostRequest>) {
    let call = HostedCall::start(c.clone(), op.to_string(), args).unwrap();
    drive(&call, |_, req| async move {
        Some(forward(http, req, overrides).await)
    })
    .await
}

fn header<'a>(req: &'a HostRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_host_client_performs_every_request_with_its_own_headers() {
    let p = LocalPlatform::start(ServerOptions::ephemeral())
        .await
        .unwrap();
    let key = p.default_project().api_key.clone();
    // The engine holds a wrong key; the host client sets the right one (like httpx default
    // headers), so every success below proves the platform saw the host's headers.
    let c = client(&p, WRONG_KEY, 10_000, fast_retry());
    let direct = aerostack_bindings_common::ops::dispatch(&c, "cache.get", json!({"key": "k"}))
        .await
        .unwrap_err();
    assert_eq!(direct.code(), &ErrorCode::AuthInvalidKey);

    let http = reqwest::Client::new();
    let auth = [("x-aerostack-key", key.as_str()), ("x-from-host", "yes")];
    let (r, seen) = hosted(
        &c,
        &http,
        "db.query",
        json!({"sql": "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"}),
        &auth,
    )
    .await;
    r.unwrap();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, format!("{}/db/query", p.api_url()));
    assert_eq!(
        header(req, "x-aerostack-key"),
        Some(WRONG_KEY),
        "the engine's own headers are all there"
    );
    assert!(
        header(req, "x-request-id").is_some_and(|v| v.len() == 36),
        "{req:?}"
    );
    assert!(
        header(req, "idempotency-key").is_some(),
        "a write carries an idempotency key: {req:?}"
    );
    assert_eq!(header(req, "content-type"), Some("application/json"));
    assert!(header(req, "user-agent").is_some_and(|v| v.contains("aerostack-core/")));
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body["sql"],
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"
    );

    let (r, _) = hosted(
        &c,
        &http,
        "db.query",
        json!({"sql": "INSERT INTO t (name) VALUES (?)", "params": ["a"]}),
        &auth,
    )
    .await;
    r.unwrap();
    let (r, _) = hosted(
        &c,
        &http,
        "db.query_one",
        json!({"sql": "SELECT name FROM t", "params": []}),
        &auth,
    )
    .await;
    assert_eq!(r.unwrap(), json!({"name": "a"}));

    let (r, _) = hosted(
        &c,
        &http,
        "cache.set",
        json!({"key": "k", "value": {"n": 1}, "ttl": 60}),
        &auth,
    )
    .await;
    r.unwrap();
    let (r, seen) = hosted(&c, &http, "cache.get", json!({"key": "k"}), &auth).await;
    assert_eq!(r.unwrap(), json!({"n": 1}));
    assert_eq!(seen[0].url, format!("{}/cache/get", p.api_url()));

    // A request id set by the host client reaches the platform, which echoes it into the error.
    let with_id = [
        ("x-aerostack-key", key.as_str()),
        ("x-request-id", "host-chosen-id"),
    ];
    let (r, _) = hosted(
        &c,
        &http,
        "db.query",
        json!({"sql": "SELECT * FROM no_such_table"}),
        &with_id,
    )
    .await;
    let e = r.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::DbQueryFailed, "{e}");
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.request_id(), Some("host-chosen-id"));
    p.shutdown().await;
}

#[tokio::test]
async fn host_failures_are_network_errors_and_are_retried() {
    let p = LocalPlatform::start(ServerOptions::ephemeral())
        .await
        .unwrap();
    let c = client(&p, &p.default_project().api_key, 10_000, fast_retry());
    let http = reqwest::Client::new();

    // Fails once, then forwards: retried with the same request id and idempotency key.
    let call = HostedCall::start(
        c.clone(),
        "cache.set".into(),
        json!({"key": "r", "value": 1}),
    )
    .unwrap();
    let (r, seen) = drive(&call, |n, req| {
        let http = &http;
        async move {
            Some(if n == 0 {
                Err("connection reset by peer".to_string())
            } else {
                forward(http, req, &[]).await
            })
        }
    })
    .await;
    r.unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        header(&seen[0], "x-request-id"),
        header(&seen[1], "x-request-id")
    );
    assert_eq!(
        header(&seen[0], "idempotency-key"),
        header(&seen[1], "idempotency-key")
    );
    let direct = aerostack_bindings_common::ops::dispatch(&c, "cache.get", json!({"key": "r"}))
        .await
        .unwrap();
    assert_eq!(direct, json!(1));

    // Always fails: every attempt is used, then NETWORK_ERROR naming the host client.
    let call = HostedCall::start(c.clone(), "cache.get".into(), json!({"key": "r"})).unwrap();
    let (r, seen) = drive(&call, |_, _| async {
        Some(Err("TLS handshake failed".to_string()))
    })
    .await;
    let e = r.unwrap_err();
    assert_eq!(seen.len(), 4);
    assert_eq!(e.code(), &ErrorCode::NetworkError, "{e}");
    assert!(e.retryable());
    assert_eq!(e.status(), None);
    assert!(
        e.message()
            .starts_with("POST /v1/cache/get: the host HTTP client failed: TLS handshake failed"),
        "{e}"
    );
    assert!(e.request_id().is_some());
    p.shutdown().await;
}

#[tokio::test]
async fn statuses_from_the_host_are_retried_and_mapped_like_the_engines_own() {
    let p = LocalPlatform::start(ServerOptions::ephemeral())
        .await
        .unwrap();
    let c = client(&p, &p.default_project().api_key, 10_000, fast_retry());
    let http = reqwest::Client::new();

    // 503 with a JSON error body, then the real answer.
    let call = HostedCall::start(
        c.clone(),
        "db.query_one".into(),
        json!({"sql": "SELECT 7 AS n"}),
    )
    .unwrap();
    let (r, seen) = drive(&call, |n, req| {
        let http = &http;
        async move {
            Some(if n == 0 {
                Ok(json_response(
                    503,
                    json!({"code": "INTERNAL_ERROR", "message": "upstream busy"}),
                ))
            } else {
                forward(http, req, &[]).await
            })
        }
    })
    .await;
    assert_eq!(r.unwrap(), json!({"n": 7}));
    assert_eq!(seen.len(), 2);

    // A 400 body becomes the engine's typed error with the body's code, and is not retried.
    let call = HostedCall::start(c.clone(), "cache.get".into(), json!({"key": "k"})).unwrap();
    let (r, seen) = drive(&call, |_, _| async {
        Some(Ok(json_response(
            400,
            json!({"code": "VALIDATION_ERROR", "message": "key is too long", "details": {"field": "key"}}),
        )))
    })
    .await;
    let e = r.unwrap_err();
    assert_eq!(seen.len(), 1);
    assert_eq!(e.code(), &ErrorCode::ValidationError, "{e}");
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.message(), "key is too long");
    assert_eq!(e.details().unwrap()["field"], "key");
    p.shutdown().await;
}

#[tokio::test]
async fn a_host_that_never_answers_hits_the_per_attempt_timeout() {
    let p = LocalPlatform::start(ServerOptions::ephemeral())
        .await
        .unwrap();
    let c = client(&p, &p.default_project().api_key, 300, RetryPolicy::none());
    let call = HostedCall::start(c, "cache.get".into(), json!({"key": "k"})).unwrap();
    let started = Instant::now();
    let Step::Send { id, .. } = call.next().await else {
        panic!("expected a request")
    };
    let Step::Done(r) = tokio::time::timeout(Duration::from_secs(10), call.next())
        .await
        .unwrap()
    else {
        panic!("expected the result")
    };
    let e = r.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(e.code(), &ErrorCode::Timeout, "{e}");
    assert!(e.message().contains("timed out after 300 ms"), "{e}");
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    // A late answer is accepted and dropped; answering twice or an unknown id is refused.
    call.respond(
        id,
        Ok(json_response(200, json!({"value": 1, "exists": true}))),
    )
    .unwrap();
    let e = call.respond(id, Err("again".into())).unwrap_err();
    assert_eq!(e.code(), &ErrorCode::ValidationError);
    assert!(e.message().contains("no request with id"), "{e}");
    assert!(call.respond(999, Err("x".into())).is_err());
    // The result is handed out once.
    let Step::Done(Err(e)) = call.next().await else {
        panic!("expected Done(Err)")
    };
    assert_eq!(e.code(), &ErrorCode::ValidationError);
    assert!(e.message().contains("already finished"), "{e}");
    p.shutdown().await;
}

#[tokio::test]
async fn dropping_a_hosted_call_mid_flight_neither_panics_nor_hangs() {
    let p = LocalPlatform::start(ServerOptions::ephemeral())
        .await
        .unwrap();
    let c = client(&p, &p.default_project().api_key, 10_000, fast_retry());
    let http = reqwest::Client::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        // Dropped while a request waits for the host.
        let call = HostedCall::start(
            c.clone(),
            "cache.set".into(),
            json!({"key": "d", "value": 1}),
        )
        .unwrap();
        let Step::Send { .. } = call.next().await else {
            panic!("expected a request")
        };
        drop(call);
        // Dropped before the host ever asked.
        drop(HostedCall::start(c.clone(), "cache.get".into(), json!({"key": "d"})).unwrap());
        // Dropped while `next` is pending elsewhere is impossible (it borrows); a cancelled
        // `next` future loses nothing: the request comes out of the following call.
        let call = HostedCall::start(c.clone(), "cache.get".into(), json!({"key": "d"})).unwrap();
        if let Ok(Step::Send { id, request }) =
            tokio::time::timeout(Duration::from_millis(1), call.next()).await
        {
            call.respond(id, forward(&http, request, &[]).await)
                .unwrap();
        }
        let (r, _) = drive(&call, |_, req| {
            let http = &http;
            async move { Some(forward(http, req, &[]).await) }
        })
        .await;
        assert_eq!(
            r.unwrap(),
            json!(null),
            "the dropped cache.set never reached the platform"
        );
    })
    .await
    .expect("no hang");
    p.shutdown().await;
}
