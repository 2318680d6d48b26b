//! Cross-cutting behaviour: health, key headers, request ids, error bodies, secrets and
//! `.dev.vars`, workers not connected, realtime history, keys created while running.

use aerostack_server::ServerOptions;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{assert_error, json_of, start, start_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_request_ids_and_errors() {
    let ctx = start().await;
    let r = ctx.call(Method::GET, "/v1/health", None, None).await;
    let (s, v) = json_of(r).await;
    assert_eq!(s.as_u16(), 200);
    assert_eq!(v["ok"], true);
    assert!(v["version"].is_string());

    let (s, v) = json_of(
        ctx.call(
            Method::POST,
            "/v1/cache/get",
            None,
            Some(json!({"key": "a"})),
        )
        .await,
    )
    .await;
    assert_error(s, &v, 401, "AUTH_INVALID_KEY", None);
    assert!(v["message"].as_str().unwrap().contains("X-Aerostack-Key"));
    let (s, v) = json_of(
        ctx.call(
            Method::POST,
            "/v1/cache/get",
            Some("ac_secret_wrong"),
            Some(json!({"key": "a"})),
        )
        .await,
    )
    .await;
    assert_error(s, &v, 401, "AUTH_INVALID_KEY", None);
    for (name, value) in [
        ("X-API-Key", ctx.key.clone()),
        ("Authorization", format!("Bearer {}", ctx.key)),
    ] {
        let r = ctx
            .http
            .post(ctx.url("/v1/cache/get"))
            .header(name, value)
            .json(&json!({"key": "a"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{name}");
    }

    let r = ctx
        .http
        .post(ctx.url("/v1/cache/get"))
        .header("X-Aerostack-Key", &ctx.key)
        .header("X-Request-ID", "req-123")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "req-123");
    let (_, v) = json_of(r).await;
    // On /v1 the request id sits in details (the spec's ErrorResponse has no top-level field).
    assert_eq!(v["details"]["request_id"], "req-123");
    assert!(v.get("request_id").is_none(), "{v}");
    let r = ctx.call(Method::GET, "/v1/health", None, None).await;
    assert_eq!(r.headers()["x-request-id"].len(), 36);

    let r = ctx
        .http
        .post(ctx.url("/v1/db/query"))
        .header("X-Aerostack-Key", &ctx.key)
        .header("content-type", "application/json")
        .body("{\"sql\": ")
        .send()
        .await
        .unwrap();
    let (s, v) = json_of(r).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("body"));
    assert!(v["message"].as_str().unwrap().contains("malformed JSON"));
    let r = ctx
        .http
        .post(ctx.url("/v1/db/query"))
        .header("X-Aerostack-Key", &ctx.key)
        .body("[1,2]")
        .send()
        .await
        .unwrap();
    let (s, v) = json_of(r).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("body"));

    let (s, v) = json_of(
        ctx.call(Method::GET, "/v1/nothing/here", Some(&ctx.key), None)
            .await,
    )
    .await;
    assert_error(s, &v, 404, "NOT_FOUND", None);
    let (s, v) = json_of(
        ctx.call(Method::DELETE, "/v1/cache/get", Some(&ctx.key), None)
            .await,
    )
    .await;
    assert_eq!(s.as_u16(), 405);
    assert_eq!(v["details"]["allowed"], json!(["POST"]));
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_dev_vars() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".dev.vars"),
        "# local secrets\nSTRIPE_KEY=sk_test_123\nQUOTED=\"a b\"\n",
    )
    .unwrap();
    let ctx = start_with(ServerOptions {
        project_dir: Some(dir.path().to_path_buf()),
        ..ServerOptions::ephemeral()
    })
    .await;
    let (_, v) = ctx
        .post("/v1/secrets/get", json!({"key": "STRIPE_KEY"}))
        .await;
    assert_eq!(
        v,
        json!({"key": "STRIPE_KEY", "value": "sk_test_123", "exists": true})
    );
    let (_, v) = ctx
        .post("/v1/secrets/set", json!({"key": "NEW_ONE", "value": "v"}))
        .await;
    assert_eq!(v["success"], true);
    let (_, v) = ctx.post("/v1/secrets/list", json!({})).await;
    assert_eq!(v["keys"], json!(["NEW_ONE", "QUOTED", "STRIPE_KEY"]));
    ctx.p.set_secret("default", "FROM_API", "x").await.unwrap();
    let (_, v) = ctx
        .post("/v1/secrets/get", json!({"key": "FROM_API"}))
        .await;
    assert_eq!(v["value"], "x");
    let (s, v) = ctx
        .post("/v1/secrets/set", json!({"key": "bad name", "value": "v"}))
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("key"));
    let (s, v) = ctx
        .post("/v1/secrets/set", json!({"key": "N", "value": 5}))
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("value"));
    let (_, v) = ctx
        .post("/v1/secrets/delete", json!({"key": "NEW_ONE"}))
        .await;
    assert_eq!(v["deleted"], true);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_not_connected() {
    let ctx = start().await;
    let (s, v) = ctx
        .post(
            "/v1/services/invoke",
            json!({"serviceName": "billing", "data": {"x": 1}}),
        )
        .await;
    assert_error(s, &v, 503, "WORKER_NOT_CONNECTED", None);
    assert!(v["message"].as_str().unwrap().contains("'billing'"));
    assert!(v["message"].as_str().unwrap().contains("python -m aerostack.hooks"), "the message says how to start a worker");
    assert!(v["message"].as_str().unwrap().contains("GET /api/workers"));
    assert_eq!(v["details"]["docs"], "docs/workers.md");
    let (s, v) = ctx.post("/v1/services/invoke", json!({"data": {}})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("serviceName"));
    let slug = &ctx.p.default_project().slug;
    for (method, path, key) in [
        (Method::POST, "/v1/custom/search-products".to_string(), true),
        (
            Method::GET,
            "/api/v1/custom/search-products".to_string(),
            true,
        ),
        (
            Method::PUT,
            format!("/api/v1/public/projects/{slug}/custom/search-products"),
            false,
        ),
    ] {
        let r = ctx
            .call(
                method,
                &path,
                key.then_some(ctx.key.as_str()),
                Some(json!({"q": "shirt"})),
            )
            .await;
        let (s, v) = json_of(r).await;
        assert_error(s, &v, 503, "WORKER_NOT_CONNECTED", None);
        assert!(v["message"].as_str().unwrap().contains("search-products"));
    }
    let (s, v) = json_of(ctx.call(Method::POST, "/v1/custom/x", None, None).await).await;
    assert_error(s, &v, 401, "AUTH_INVALID_KEY", None);
    let r = ctx
        .http
        .post(ctx.url("/v1/custom/x"))
        .header("X-Project-Id", "default")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_history() {
    let ctx = start().await;
    let pid = ctx.p.default_project().id.clone();
    let room = format!("chat/general/{pid}");
    let mut stamps = Vec::new();
    for i in 0..5 {
        let m = ctx
            .p
            .state()
            .store_realtime_message(&pid, &room, Some("u1"), "message", &json!({"i": i}))
            .unwrap();
        stamps.push(m["created_at"].as_i64().unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    ctx.p
        .state()
        .store_realtime_message(&pid, "chat/other", None, "message", &json!({}))
        .unwrap();
    let get = |q: String| {
        let (http, url, key) = (
            ctx.http.clone(),
            ctx.url(&format!("/api/v1/public/realtime/history?{q}")),
            ctx.key.clone(),
        );
        async move {
            json_of(
                http.get(url)
                    .header("X-Aerostack-Key", key)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (s, v) = get(format!("room={room}&limit=2")).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    let msgs = v["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["data"]["i"], 4, "newest first");
    assert_eq!(msgs[0]["room_id"], room.as_str());
    assert_eq!(msgs[0]["user_id"], "u1");
    assert_eq!(msgs[0]["event"], "message");
    let before = msgs[1]["created_at"].as_i64().unwrap();
    let (_, v) = get(format!("room={room}&before={before}")).await;
    let older: Vec<i64> = v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["data"]["i"].as_i64().unwrap())
        .collect();
    assert_eq!(older, vec![2, 1, 0]);
    let (s, v) = get("limit=5".into()).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("room"));
    let (s, v) = get(format!("room={room}&limit=500")).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("limit"));

    // An end-user access token of the project works too.
    let (_, reg) = ctx
        .post(
            "/api/v1/public/projects/default/auth/register",
            json!({"email": "h@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    let r = ctx
        .http
        .get(ctx.url(&format!("/api/v1/public/realtime/history?room={room}")))
        .bearer_auth(reg["accessToken"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let (s, v) = json_of(r).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert_eq!(v["messages"].as_array().unwrap().len(), 5);
    let r = ctx
        .http
        .get(ctx.url(&format!("/api/v1/public/realtime/history?room={room}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_created_while_running_work() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = start_with(ServerOptions {
        port: 0,
        data_dir: Some(dir.path().to_path_buf()),
        ..ServerOptions::default()
    })
    .await;
    // What `aerostack-server keys create` and `projects create` do, on the live data directory.
    let control = aerostack_server::store::control::Control::open(dir.path()).unwrap();
    let pid = ctx.p.default_project().id.clone();
    let new_key = control
        .with(|c| Ok(aerostack_server::store::control::create_key(c, &pid)?))
        .unwrap();
    let (proj, proj_key) = control
        .with(|c| aerostack_server::store::control::create_project(c, "From CLI", Some("cli")))
        .unwrap();
    let (s, _) = ctx
        .post_key(&new_key, "/v1/cache/set", json!({"key": "k", "value": 1}))
        .await;
    assert_eq!(s.as_u16(), 200);
    let (_, v) = ctx.post("/v1/cache/get", json!({"key": "k"})).await;
    assert_eq!(v["value"], 1, "same project");
    let (_, v) = ctx
        .post_key(&proj_key, "/v1/cache/get", json!({"key": "k"}))
        .await;
    assert_eq!(v["exists"], false);
    let (s, _) = ctx
        .post(
            "/api/v1/public/projects/cli/auth/otp/send",
            json!({"email": "c@example.com"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200);
    let r = ctx
        .http
        .get(ctx.url("/v1/local/outbox?to=c@example.com&limit=1"))
        .header("X-Aerostack-Key", &proj_key)
        .send()
        .await
        .unwrap();
    let (_, v) = json_of(r).await;
    let m: &Value = &v["messages"][0];
    assert_eq!(m["to"], "c@example.com");
    assert_eq!(m["kind"], "otp");
    assert!(m["code"].as_str().unwrap().len() == 6 && m["created_at"].is_string());
    assert_eq!(proj.slug, "cli");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_for_browser_apps() {
    let ctx = start().await;
    let r = ctx
        .http
        .request(Method::OPTIONS, ctx.url("/v1/cache/get"))
        .header("Origin", "http://localhost:3000")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "content-type, x-aerostack-key",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        r.headers()["access-control-allow-headers"],
        "content-type, x-aerostack-key"
    );
    let r = ctx
        .http
        .post(ctx.url("/v1/cache/get"))
        .header("Origin", "http://localhost:3000")
        .header("X-Aerostack-Key", &ctx.key)
        .json(&json!({"key": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(
        r.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("x-request-id")
    );
    ctx.p.shutdown().await;
}

#[test]
fn platform_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<aerostack_server::LocalPlatform>();
    check::<aerostack_server::AppState>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_body_limits_answer_json() {
    let ctx = start().await;
    // Beyond axum's 2 MB default, within the 32 MiB JSON limit.
    let big = "x".repeat(3 * 1024 * 1024);
    let (s, v) = ctx
        .post("/v1/cache/set", json!({"key": "big", "value": big}))
        .await;
    assert!(s.is_success(), "{v}");
    let (_, v) = ctx.post("/v1/cache/get", json!({"key": "big"})).await;
    assert_eq!(v["value"].as_str().unwrap().len(), 3 * 1024 * 1024);
    // Over the limit: refused from the announced length, before the body is read. Spoken over a
    // raw socket (headers only), as an HTTP client that sent the whole 33 MiB could instead see
    // its write cut off by the closing connection, depending on timing.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = ctx.p.url().trim_start_matches("http://").to_string();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/cache/set HTTP/1.1\r\nHost: {addr}\r\nX-Aerostack-Key: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        ctx.key,
        33 * 1024 * 1024
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), sock.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let body: serde_json::Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap();
    assert_eq!(body["code"], "VALIDATION_ERROR", "{body}"); // the spec's code on /v1
    assert_eq!(body["details"]["code"], "PAYLOAD_TOO_LARGE", "{body}");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extractor_rejections_are_json() {
    let ctx = start().await;
    // %FF is not UTF-8: the path extractor rejects it.
    let r = ctx
        .http
        .get(ctx.url("/api/v1/public/projects/%FF/auth/me"))
        .send()
        .await
        .unwrap();
    let (s, v) = json_of(r).await;
    assert_eq!(s.as_u16(), 400, "{v}");
    assert_eq!(v["code"], "VALIDATION_ERROR");
    assert!(v["request_id"].is_string());
    ctx.p.shutdown().await;
}

/// A request refused before its body is read says `Connection: close` (the platform closes that
/// connection), so a client pool does not send its next request on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_body_closes_the_connection_and_says_so() {
    let ctx = start().await;
    let r = ctx
        .http
        .post(ctx.url("/v1/db/query"))
        .header("X-Aerostack-Key", "ac_secret_wrong")
        .json(&json!({"sql": "SELECT 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers().get("connection").and_then(|v| v.to_str().ok()), Some("close"));
    // A good request keeps the connection.
    let r = ctx.http.post(ctx.url("/v1/db/query")).header("X-Aerostack-Key", &ctx.key).json(&json!({"sql": "SELECT 1"})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().get("connection").is_none());
    ctx.p.shutdown().await;
}
