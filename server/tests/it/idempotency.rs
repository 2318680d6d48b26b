//! `Idempotency-Key`: one job however many times (or how concurrently) a call is repeated.

use serde_json::{Value, json};

use crate::common::{assert_error, json_of, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_creates_one_job() {
    let ctx = start().await;
    let send = |key: &'static str, path: &'static str| {
        let (http, url, api_key) = (ctx.http.clone(), ctx.url(path), ctx.key.clone());
        async move {
            http.post(url)
                .header("X-Aerostack-Key", api_key)
                .header("Idempotency-Key", key)
                .json(&json!({"type": "welcome", "data": {"n": 1}}))
                .send()
                .await
                .unwrap()
        }
    };
    let first = send("idem-1", "/v1/queue/enqueue").await;
    assert_eq!(first.status().as_u16(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let (_, v1) = json_of(first).await;
    let second = send("idem-1", "/v1/queue/enqueue").await;
    assert_eq!(second.status().as_u16(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert!(second.headers().contains_key("x-request-id"));
    let (_, v2) = json_of(second).await;
    assert_eq!(v1["jobId"], v2["jobId"]);

    // Concurrent duplicates wait for the first and get its answer.
    let tasks: Vec<_> = (0..8)
        .map(|_| tokio::spawn(send("idem-2", "/v1/queue/enqueue")))
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        let (s, v) = json_of(t.await.unwrap()).await;
        assert_eq!(s.as_u16(), 201);
        ids.push(v["jobId"].clone());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");

    let (_, list) = ctx.post("/v1/queue/jobs", json!({})).await;
    let jobs: Vec<&Value> = list["jobs"].as_array().unwrap().iter().collect();
    assert_eq!(jobs.len(), 2, "one job per idempotency key: {list}");

    // The same key on another path is a conflict.
    let r = send("idem-1", "/v1/cache/set").await;
    let (s, v) = json_of(r).await;
    assert_error(s, &v, 409, "IDEMPOTENCY_CONFLICT", Some("Idempotency-Key"));

    // Keys are per project.
    let other = ctx.p.create_project("other").await.unwrap();
    let r = ctx
        .http
        .post(ctx.url("/v1/queue/enqueue"))
        .header("X-Aerostack-Key", &other.api_key)
        .header("Idempotency-Key", "idem-1")
        .json(&json!({"type": "welcome", "data": {}}))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("idempotent-replayed").is_none());
    let (_, v) = json_of(r).await;
    assert_ne!(v["jobId"], v1["jobId"]);

    // Errors that a retry could fix are not remembered (503 here); validation errors are.
    let r = ctx
        .http
        .post(ctx.url("/v1/services/invoke"))
        .header("X-Aerostack-Key", &ctx.key)
        .header("Idempotency-Key", "idem-3")
        .json(&json!({"serviceName": "billing", "data": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let r = ctx
        .http
        .post(ctx.url("/v1/services/invoke"))
        .header("X-Aerostack-Key", &ctx.key)
        .header("Idempotency-Key", "idem-3")
        .json(&json!({"serviceName": "billing", "data": {}}))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("idempotent-replayed").is_none());
    ctx.p.shutdown().await;
}

/// A lost `refresh` answer must replay: without the key the retry would fail, because the first
/// attempt already rotated the refresh token out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_auth_replays_by_key_without_an_api_key() {
    let ctx = start().await;
    let auth = |p: &str| ctx.url(&format!("/api/v1/public/projects/default/auth{p}"));
    let reg: Value = ctx
        .http
        .post(auth("/register"))
        .json(&json!({"email": "idem@example.com", "password": "Sup3rSecret"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rt = reg["refreshToken"].as_str().unwrap().to_string();
    let refresh = || {
        ctx.http
            .post(auth("/refresh"))
            .header("Idempotency-Key", "refresh-once")
            .json(&json!({"refreshToken": rt}))
            .send()
    };
    let first = refresh().await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let v1: Value = first.json().await.unwrap();
    let second = refresh().await.unwrap();
    assert_eq!(second.status().as_u16(), 200, "the retry replays instead of failing on the rotated token");
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let v2: Value = second.json().await.unwrap();
    assert_eq!(v1["refreshToken"], v2["refreshToken"]);
    assert_ne!(v1["refreshToken"], json!(rt));

    // Without the key the rotated-out token is refused, as it must be.
    let third = ctx.http.post(auth("/refresh")).json(&json!({"refreshToken": rt})).send().await.unwrap();
    assert_eq!(third.status().as_u16(), 401);
}

/// A record is bound to the request body and the caller: another body or other credentials with
/// the same key are `409 IDEMPOTENCY_CONFLICT`, never the first caller's answer (issue 13, item 10).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_bound_to_the_body_and_the_caller() {
    let ctx = start().await;
    let auth = |p: &str| ctx.url(&format!("/api/v1/public/projects/default/auth{p}"));
    let r = ctx
        .http
        .post(auth("/register"))
        .json(&json!({"email": "victim@example.com", "password": "Sup3rSecret"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    // The victim signs in with a key; an attacker reuses the key with a bogus email.
    let login = |email: &str, password: &str| {
        ctx.http
            .post(auth("/login"))
            .header("Idempotency-Key", "login-1")
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let (s, v) = json_of(login("victim@example.com", "Sup3rSecret").await.unwrap()).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert!(v["accessToken"].is_string());
    let r = login("attacker@example.com", "whatever1A").await.unwrap();
    assert!(r.headers().get("idempotent-replayed").is_none());
    let (s, v) = json_of(r).await;
    assert_error(s, &v, 409, "IDEMPOTENCY_CONFLICT", Some("Idempotency-Key"));
    assert_eq!(v["details"]["reason"], "body", "{v}");
    assert!(v.get("accessToken").is_none() && v.get("refreshToken").is_none(), "{v}");
    // The victim's own retry still replays.
    let r = login("victim@example.com", "Sup3rSecret").await.unwrap();
    assert_eq!(r.headers()["idempotent-replayed"], "true");

    // /v1: the same key with another SQL body does not replay the first answer.
    let query = |key: &str, sql: &str| {
        ctx.http
            .post(ctx.url("/v1/db/query"))
            .header("X-Aerostack-Key", key)
            .header("Idempotency-Key", "q-1")
            .json(&json!({"sql": sql}))
            .send()
    };
    let (s, v) = json_of(query(&ctx.key, "SELECT 1 AS a").await.unwrap()).await;
    assert_eq!((s.as_u16(), &v["results"][0]["a"]), (200, &json!(1)));
    let (s, v) = json_of(query(&ctx.key, "SELECT 2 AS a").await.unwrap()).await;
    assert_error(s, &v, 409, "IDEMPOTENCY_CONFLICT", Some("Idempotency-Key"));
    assert_eq!(v["details"]["reason"], "body", "{v}");
    let r = query(&ctx.key, "SELECT 1 AS a").await.unwrap();
    assert_eq!(r.headers()["idempotent-replayed"], "true");

    // Another key of the same project (another caller) with the same body: conflict, not replay.
    let pid = ctx.p.default_project().id.clone();
    let second_key = ctx
        .p
        .state()
        .control(move |c| Ok(aerostack_server::store::control::create_key(c, &pid)?))
        .await
        .unwrap();
    let (s, v) = json_of(query(&second_key, "SELECT 1 AS a").await.unwrap()).await;
    assert_error(s, &v, 409, "IDEMPOTENCY_CONFLICT", Some("Idempotency-Key"));
    assert_eq!(v["details"]["reason"], "caller", "{v}");
    // The same key in another accepted header is the same caller.
    let r = ctx
        .http
        .post(ctx.url("/v1/db/query"))
        .header("Authorization", format!("Bearer {}", ctx.key))
        .header("Idempotency-Key", "q-1")
        .json(&json!({"sql": "SELECT 1 AS a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["idempotent-replayed"], "true");

    // A multipart upload retried with a new boundary replays (clients pick a boundary per attempt).
    let upload = || {
        let form = reqwest::multipart::Form::new()
            .text("key", "idem/a.txt")
            .part("file", reqwest::multipart::Part::bytes(b"hello".to_vec()));
        ctx.http
            .post(ctx.url("/v1/storage/upload"))
            .header("X-Aerostack-Key", &ctx.key)
            .header("Idempotency-Key", "up-1")
            .multipart(form)
            .send()
    };
    let first = upload().await.unwrap();
    assert!(first.status().is_success(), "{}", first.status());
    let second = upload().await.unwrap();
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    ctx.p.shutdown().await;
}
