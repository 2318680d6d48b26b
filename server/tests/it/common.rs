//! Helpers: a platform on a free port with real HTTP (no mocks).

use aerostack_server::{LocalPlatform, ServerOptions};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Ctx {
    pub p: LocalPlatform,
    pub http: reqwest::Client,
    pub key: String,
}

pub async fn start() -> Ctx {
    start_with(ServerOptions::ephemeral()).await
}

/// A platform whose AI upstream is `upstream` (a loopback stand-in for the third party, served
/// under `/v1`), with `model` as the platform's model; the stand-in's task is returned too.
pub async fn start_with_ai(
    upstream: axum::Router,
    model: &str,
) -> (Ctx, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, upstream).await.unwrap();
    });
    let ai = aerostack_server::AiOptions {
        base_url: Some(format!("http://{addr}/v1")),
        api_key: None,
        model: Some(model.into()),
    };
    let ctx = start_with(ServerOptions {
        ai,
        ..ServerOptions::ephemeral()
    })
    .await;
    (ctx, server)
}

/// GET `path` as an AI-gateway consumer (its key as Bearer): the status and JSON.
pub async fn consumer_get(ctx: &Ctx, key: &str, path: &str) -> (StatusCode, Value) {
    let r = ctx.http.get(ctx.url(path)).bearer_auth(key).send().await.unwrap();
    json_of(r).await
}

pub async fn start_with(opts: ServerOptions) -> Ctx {
    let p = LocalPlatform::start(opts).await.expect("platform starts");
    let key = p.default_project().api_key.clone();
    Ctx {
        p,
        http: reqwest::Client::new(),
        key,
    }
}

impl Ctx {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.p.url(), path)
    }

    /// POST JSON with the default project's key.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.post_key(&self.key.clone(), path, body).await
    }

    /// Uploads `bytes` as `key` (multipart, as the SDKs send it) with the default project's key.
    pub async fn upload(&self, key: &str, bytes: Vec<u8>, content_type: Option<&str>) -> (StatusCode, Value) {
        let mut form = reqwest::multipart::Form::new()
            .text("key", key.to_string())
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name("f.bin"));
        if let Some(ct) = content_type {
            form = form.text("contentType", ct.to_string());
        }
        let r = self
            .http
            .post(self.url("/v1/storage/upload"))
            .header("X-Aerostack-Key", &self.key)
            .multipart(form)
            .send()
            .await
            .expect("request");
        json_of(r).await
    }

    pub async fn post_key(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url(path))
            .header("X-Aerostack-Key", key)
            .json(&body)
            .send()
            .await
            .expect("request");
        json_of(r).await
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.http.request(method, self.url(path));
        if let Some(k) = key {
            req = req.header("X-Aerostack-Key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request")
    }
}

pub async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, v)
}

/// Assert an error body: status, code, and (when given) the field it names. Both shapes: on
/// `/v1` the spec's `{code, message, details}` with the precise `code` in `details.code`
/// (`code` on top is then one of the spec's seven), elsewhere `{code, message, details, error,
/// request_id}`.
#[track_caller]
pub fn assert_error(
    status: StatusCode,
    body: &Value,
    want_status: u16,
    code: &str,
    field: Option<&str>,
) {
    assert_eq!(status.as_u16(), want_status, "{body}");
    assert!(body["details"].is_object(), "{body}");
    if body.get("error").is_some() {
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(
            body["error"]
                .as_str()
                .map(str::to_string)
                .or_else(|| body["error"]["message"].as_str().map(str::to_string)),
            body["message"].as_str().map(str::to_string),
            "{body}"
        );
        assert!(body["request_id"].is_string(), "{body}");
    } else {
        let spec: aerostack_protocol::ErrorResponse = serde_json::from_value(body.clone())
            .unwrap_or_else(|e| panic!("not the spec's ErrorResponse ({e}): {body}"));
        assert!(
            aerostack_protocol::SPEC_CODES.contains(&spec.code.as_str()),
            "{body}"
        );
        assert_eq!(
            spec.code,
            aerostack_server::error::spec_code(code, status),
            "{body}"
        );
        assert_eq!(body["details"]["code"], code, "{body}");
        assert!(body["details"]["request_id"].is_string(), "{body}");
    }
    if let Some(f) = field {
        assert_eq!(body["details"]["field"], f, "{body}");
    }
}
