//! Error bodies as the official clients decode them (issue 12). On `/v1` every error is exactly
//! the spec's `ErrorResponse`: the generated Go client refuses unknown fields and the generated
//! Python client accepts only the spec's seven codes, so each body is decoded here the same way
//! (`deny_unknown_fields`, `code` an enum of the seven). The precise code and the request id are
//! in `details`. Public end-user routes and custom APIs keep `error` and `request_id`.

use std::time::Duration;

use aerostack_server::{AiOptions, Limits, Rate, ServerOptions};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::common::{Ctx, json_of, start_with};

/// `ErrorResponse.code` of the OpenAPI 1.5.0 spec (wire-facts §3.2).
#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum SpecCode {
    AuthInvalidKey,
    AuthInvalidCredentials,
    DbQueryFailed,
    RateLimitExceeded,
    ValidationError,
    InternalError,
    Forbidden,
}

/// `ErrorResponse` of the spec, decoded as strictly as the generated Go client does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorResponse {
    code: SpecCode,
    message: String,
    details: Map<String, Value>,
}

/// Decode a `/v1` error answer strictly and check the spec code, the precise code in
/// `details.code` and the request id in `details.request_id` (equal to `X-Request-ID`).
async fn spec_error(
    r: reqwest::Response,
    status: u16,
    spec: SpecCode,
    precise: &str,
) -> ErrorResponse {
    let got_status = r.status().as_u16();
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let text = r.text().await.unwrap();
    assert_eq!(got_status, status, "{text}");
    let body: ErrorResponse = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not the spec's ErrorResponse ({e}): {text}"));
    assert_eq!(body.code, spec, "{text}");
    assert!(!body.message.is_empty(), "{text}");
    assert_eq!(body.details["code"], precise, "{text}");
    assert_eq!(body.details["request_id"], request_id.as_str(), "{text}");
    body
}

async fn post(ctx: &Ctx, path: &str, key: Option<&str>, body: Value) -> reqwest::Response {
    ctx.call(Method::POST, path, key, Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_v1_error_is_the_specs_error_response() {
    use SpecCode::*;
    let ctx = start_with(ServerOptions {
        limits: Limits {
            cache_flush: Rate::new(1, Duration::from_secs(60)),
            max_upload_bytes: 1024,
            ..Limits::default()
        },
        ..ServerOptions::ephemeral()
    })
    .await;
    let key = Some(ctx.key.as_str());

    // 401 without a key, and with an unknown one.
    let r = post(&ctx, "/v1/cache/get", None, json!({"key": "a"})).await;
    spec_error(r, 401, AuthInvalidKey, "AUTH_INVALID_KEY").await;
    let r = post(
        &ctx,
        "/v1/cache/get",
        Some("ac_secret_nope"),
        json!({"key": "a"}),
    )
    .await;
    spec_error(r, 401, AuthInvalidKey, "AUTH_INVALID_KEY").await;

    // Validation keeps its details (the field) next to code and request_id.
    let r = post(&ctx, "/v1/cache/get", key, json!({})).await;
    let b = spec_error(r, 400, ValidationError, "VALIDATION_ERROR").await;
    assert_eq!(b.details["field"], "key");
    let r = ctx
        .http
        .post(ctx.url("/v1/db/query"))
        .header("X-Aerostack-Key", &ctx.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let b = spec_error(r, 400, ValidationError, "VALIDATION_ERROR").await;
    assert_eq!(b.details["field"], "body");

    // Legacy auth: the user exists, wrong credentials, weak password.
    let creds = json!({"email": "spec@example.com", "password": "Sup3rSecret"});
    let r = post(&ctx, "/v1/auth/signup", key, creds.clone()).await;
    assert_eq!(r.status().as_u16(), 201);
    let r = post(&ctx, "/v1/auth/signup", key, creds).await;
    spec_error(r, 409, ValidationError, "AUTH_USER_EXISTS").await;
    let r = post(
        &ctx,
        "/v1/auth/signin",
        key,
        json!({"email": "spec@example.com", "password": "Wr0ngPassword"}),
    )
    .await;
    spec_error(r, 401, AuthInvalidCredentials, "AUTH_INVALID_CREDENTIALS").await;
    let r = post(
        &ctx,
        "/v1/auth/signup",
        key,
        json!({"email": "weak@example.com", "password": "short"}),
    )
    .await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let b: ErrorResponse = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!((status, b.code), (400, ValidationError), "{text}");
    assert!(
        ["AUTH_PASSWORD_WEAK", "VALIDATION_ERROR"].contains(&b.details["code"].as_str().unwrap()),
        "{text}"
    );

    // SQL errors.
    let r = post(&ctx, "/v1/db/query", key, json!({"sql": "SELEC 1"})).await;
    spec_error(r, 400, DbQueryFailed, "DB_QUERY_FAILED").await;

    // Not found: an object, an unknown route, a wrong method (405).
    let r = post(&ctx, "/v1/storage/get", key, json!({"key": "missing.txt"})).await;
    spec_error(r, 404, ValidationError, "NOT_FOUND").await;
    let r = post(&ctx, "/v1/no/such/route", key, json!({})).await;
    let b = spec_error(r, 404, ValidationError, "NOT_FOUND").await;
    assert_eq!(b.details["path"], "/v1/no/such/route");
    let r = ctx.call(Method::GET, "/v1/cache/get", key, None).await;
    let b = spec_error(r, 405, ValidationError, "NOT_FOUND").await;
    assert_eq!(b.details["allowed"], json!(["POST"]));

    // Too large (the upload limit is 1 KiB here).
    let form = reqwest::multipart::Form::new().text("key", "big.bin").part(
        "file",
        reqwest::multipart::Part::bytes(vec![7u8; 8 * 1024]).file_name("big.bin"),
    );
    let r = ctx
        .http
        .post(ctx.url("/v1/storage/upload"))
        .header("X-Aerostack-Key", &ctx.key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    spec_error(r, 413, ValidationError, "PAYLOAD_TOO_LARGE").await;

    // Idempotency-Key reused with another body.
    let send = |v: i64| {
        ctx.http
            .post(ctx.url("/v1/cache/set"))
            .header("X-Aerostack-Key", &ctx.key)
            .header("Idempotency-Key", "idem-spec-1")
            .json(&json!({"key": "k", "value": v}))
            .send()
    };
    assert!(send(1).await.unwrap().status().is_success());
    let r = send(2).await.unwrap();
    spec_error(r, 409, ValidationError, "IDEMPOTENCY_CONFLICT").await;

    // Rate limited: the second flush within the window; the 429 keeps Retry-After.
    let r = post(&ctx, "/v1/cache/flush", key, json!({})).await;
    assert!(r.status().is_success());
    let r = post(&ctx, "/v1/cache/flush", key, json!({})).await;
    assert!(r.headers().contains_key("retry-after"));
    spec_error(r, 429, RateLimitExceeded, "RATE_LIMIT_EXCEEDED").await;

    // Forbidden: another project's room.
    let r = post(
        &ctx,
        "/v1/realtime/emit",
        key,
        json!({"event": "x", "room": "a/proj_ffffffffffff"}),
    )
    .await;
    let b = spec_error(r, 403, Forbidden, "FORBIDDEN").await;
    assert_eq!(b.details["field"], "room");

    // No AI upstream; no worker for a service.
    let r = post(
        &ctx,
        "/v1/ai/chat",
        key,
        json!({"messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    spec_error(r, 503, InternalError, "AI_NOT_CONFIGURED").await;
    let r = post(
        &ctx,
        "/v1/services/invoke",
        key,
        json!({"serviceName": "billing", "data": {}}),
    )
    .await;
    let b = spec_error(r, 503, InternalError, "WORKER_NOT_CONNECTED").await;
    assert_eq!(b.details["serviceName"], "billing");

    // The request id in details is the caller's X-Request-ID when it sent one.
    let r = ctx
        .http
        .post(ctx.url("/v1/cache/get"))
        .header("X-Request-ID", "req-spec-42")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let b = spec_error(r, 401, AuthInvalidKey, "AUTH_INVALID_KEY").await;
    assert_eq!(b.details["request_id"], "req-spec-42");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_ai_upstream_is_internal_error_on_v1() {
    // A port nothing listens on: the upstream call fails (502 AI_REQUEST_FAILED).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ctx = start_with(ServerOptions {
        ai: AiOptions {
            base_url: Some(format!("http://127.0.0.1:{port}/v1")),
            api_key: None,
            model: Some("m".into()),
        },
        ..ServerOptions::ephemeral()
    })
    .await;
    let r = post(
        &ctx,
        "/v1/ai/chat",
        Some(&ctx.key),
        json!({"messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    spec_error(r, 502, SpecCode::InternalError, "AI_REQUEST_FAILED").await;
    ctx.p.shutdown().await;
}

/// Logic Module failures on `/v1/services/invoke`, with a worker speaking raw frames
/// (docs/workers.md): one module throws, one never answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_failures_are_internal_error_on_v1() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let ctx = start_with(ServerOptions::ephemeral()).await;
    let url = format!("{}/api/workers", ctx.p.url().replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("x-aerostack-key", ctx.key.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let register = json!({"type": "register", "modules": [
        {"slug": "thrower"},
        {"slug": "sleeper", "timeout_ms": 300}
    ]});
    ws.send(Message::Text(register.to_string().into()))
        .await
        .unwrap();
    let (mut tx, mut rx) = ws.split();
    let (registered_tx, registered) = tokio::sync::oneshot::channel();
    let worker = tokio::spawn(async move {
        let mut registered_tx = Some(registered_tx);
        while let Some(Ok(msg)) = rx.next().await {
            let Message::Text(t) = msg else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            match v["type"].as_str() {
                Some("registered") => {
                    if let Some(s) = registered_tx.take() {
                        let _ = s.send(());
                    }
                }
                Some("invoke") if v["name"] == "thrower" => {
                    let fail = json!({"type": "fail", "id": v["id"], "error": "boom"});
                    tx.send(Message::Text(fail.to_string().into()))
                        .await
                        .unwrap();
                }
                _ => {} // the sleeper never answers
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(5), registered)
        .await
        .expect("registered")
        .unwrap();

    let key = Some(ctx.key.as_str());
    let r = post(
        &ctx,
        "/v1/services/invoke",
        key,
        json!({"serviceName": "thrower", "data": {}}),
    )
    .await;
    let b = spec_error(r, 500, SpecCode::InternalError, "HOOK_FAILED").await;
    assert_eq!(b.message, "boom");
    let r = post(
        &ctx,
        "/v1/services/invoke",
        key,
        json!({"serviceName": "sleeper", "data": {}}),
    )
    .await;
    let b = spec_error(r, 504, SpecCode::InternalError, "HOOK_TIMEOUT").await;
    assert_eq!(b.details["timeout_ms"], 300);
    worker.abort();
    ctx.p.shutdown().await;
}

/// The routes whose hand-written clients read `error` keep `{code, message, details, error,
/// request_id}` with the precise code on top.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_routes_keep_error_and_request_id() {
    let ctx = start_with(ServerOptions::ephemeral()).await;
    let slug = ctx.p.default_project().slug.clone();
    let auth = |p: &str| format!("/api/v1/public/projects/{slug}/auth{p}");
    let creds = json!({"email": "pub@example.com", "password": "Sup3rSecret"});
    let (s, _) = ctx.post(&auth("/register"), creds.clone()).await;
    assert_eq!(s.as_u16(), 201);
    let check = |s: StatusCode, v: &Value, status: u16, code: &str| {
        assert_eq!(s.as_u16(), status, "{v}");
        assert_eq!(v["code"], code, "{v}");
        assert_eq!(v["error"], v["message"], "{v}");
        assert!(v["request_id"].is_string(), "{v}");
        assert!(v["details"].is_object(), "{v}");
        assert!(v["details"].get("code").is_none(), "{v}");
    };
    let (s, v) = ctx.post(&auth("/register"), creds).await;
    check(s, &v, 409, "AUTH_USER_EXISTS");
    let (s, v) = ctx
        .post(
            &auth("/login"),
            json!({"email": "pub@example.com", "password": "Wr0ngPassword"}),
        )
        .await;
    check(s, &v, 401, "AUTH_INVALID_CREDENTIALS");
    let r = ctx.call(Method::GET, &auth("/me"), None, None).await;
    let (s, v) = json_of(r).await;
    assert_eq!(s.as_u16(), 401, "{v}");
    assert!(v["error"].is_string() && v["request_id"].is_string(), "{v}");

    // Custom APIs, /v1/custom included: Logic Module callers read `error` too.
    for path in [
        "/v1/custom/nobody-home".to_string(),
        "/api/v1/custom/nobody-home".to_string(),
        format!("/api/v1/public/projects/{slug}/custom/nobody-home"),
    ] {
        let r = ctx
            .call(Method::POST, &path, Some(&ctx.key), Some(json!({})))
            .await;
        let (s, v) = json_of(r).await;
        check(s, &v, 503, "WORKER_NOT_CONNECTED");
    }
    ctx.p.shutdown().await;
}

/// openapi.json documents the same two shapes.
#[test]
fn openapi_documents_both_shapes() {
    let doc: Value = serde_json::from_str(aerostack_server::routes::openapi::OPENAPI_JSON).unwrap();
    let spec = &doc["components"]["schemas"]["ErrorResponse"];
    assert_eq!(
        spec["properties"]["code"]["enum"],
        json!(aerostack_protocol::SPEC_CODES)
    );
    assert_eq!(spec["required"], json!(["code", "message", "details"]));
    assert_eq!(spec["additionalProperties"], json!(false));
    let mut props: Vec<&String> = spec["properties"].as_object().unwrap().keys().collect();
    props.sort();
    assert_eq!(props, ["code", "details", "message"]);
    let public = &doc["components"]["schemas"]["PublicErrorResponse"];
    assert!(public["properties"]["error"].is_object());
    assert!(public["properties"]["request_id"].is_object());
    // Every /v1 route but custom APIs refers to the spec's shape, every other route to the
    // public one.
    let refs = |v: &Value| -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![v.clone()];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r.clone());
                    }
                    stack.extend(m.into_iter().map(|(_, v)| v));
                }
                Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
        out
    };
    for (path, item) in doc["paths"].as_object().unwrap() {
        let spec_route = path.starts_with("/v1/") && !path.starts_with("/v1/custom/");
        for r in refs(item) {
            let public = r.starts_with("#/components/responses/Public")
                || r == "#/components/schemas/PublicErrorResponse";
            let error = r.starts_with("#/components/responses/") || r.ends_with("ErrorResponse");
            if error {
                assert_eq!(public, !spec_route, "{path}: {r}");
            }
        }
    }
}
