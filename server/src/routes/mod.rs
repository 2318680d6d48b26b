//! Every route the platform serves, in one table. The router is built from it and the OpenAPI
//! test compares it with `openapi.json`, so a route cannot be added without documenting it.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, delete, get, patch, post, put};

use crate::error::{ApiError, code};
use crate::state::AppState;

pub mod ai;
pub mod auth_legacy;
pub mod auth_mail;
pub mod auth_public;
pub mod cache;
pub mod collections;
pub mod custom;
pub mod db;
pub mod db_stream;
pub mod files;
pub mod gateway;
pub mod gateway_chat;
pub mod gateway_hold;
pub mod gateway_ws;
pub mod hooks_rpc;
pub mod idempotency;
pub mod local;
pub mod object_io;
pub mod openapi;
pub mod queue;
pub mod realtime_history;
pub mod rules;
pub mod search;
pub mod secrets;
pub mod services;
pub mod storage;
pub mod upload;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    /// `/v1/*`: project key required; `Idempotency-Key` honoured.
    V1,
    /// Public end-user routes and the un-versioned custom/history routes.
    Public,
}

/// Methods served by an `ANY` route (custom APIs), as documented.
pub const ANY_METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

const AUTH: &str = "/api/v1/public/projects/{project}/auth";

fn table() -> Vec<(Group, &'static str, String, MethodRouter<AppState>)> {
    use Group::*;
    let v = |m: &'static str, p: &str, r: MethodRouter<AppState>| (V1, m, p.to_string(), r);
    let public =
        |m: &'static str, p: &str, r: MethodRouter<AppState>| (Public, m, p.to_string(), r);
    let auth =
        |m: &'static str, p: &str, r: MethodRouter<AppState>| (Public, m, format!("{AUTH}{p}"), r);
    vec![
        v("GET", "/v1/health", get(health)),
        v("GET", "/v1/openapi.json", get(openapi::spec)),
        // database
        v("POST", "/v1/db/query", post(db::query)),
        // collections (sdk-core's db.collection(name))
        v("GET", "/v1/collections/{name}/items", get(collections::list)),
        v("POST", "/v1/collections/{name}/items", post(collections::create)),
        v("GET", "/v1/collections/items/{id}", get(collections::get)),
        v("PUT", "/v1/collections/items/{id}", put(collections::update)),
        v("DELETE", "/v1/collections/items/{id}", delete(collections::delete)),
        v("POST", "/v1/db/batch", post(db::batch)),
        // legacy auth
        v("POST", "/v1/auth/signup", post(auth_legacy::signup)),
        v("POST", "/v1/auth/signin", post(auth_legacy::signin)),
        // cache
        v("POST", "/v1/cache/get", post(cache::get)),
        v("POST", "/v1/cache/set", post(cache::set)),
        v("POST", "/v1/cache/delete", post(cache::delete)),
        v("POST", "/v1/cache/getMany", post(cache::get_many)),
        v("POST", "/v1/cache/setMany", post(cache::set_many)),
        v("POST", "/v1/cache/deleteMany", post(cache::delete_many)),
        v("POST", "/v1/cache/list", post(cache::list)),
        v("POST", "/v1/cache/keys", post(cache::keys)),
        v("POST", "/v1/cache/flush", post(cache::flush)),
        v("POST", "/v1/cache/expire", post(cache::expire)),
        v("POST", "/v1/cache/increment", post(cache::increment)),
        // queue
        v("POST", "/v1/queue/enqueue", post(queue::enqueue)),
        v("POST", "/v1/queue/job", post(queue::job)),
        v("POST", "/v1/queue/jobs", post(queue::jobs)),
        v("POST", "/v1/queue/cancel", post(queue::cancel)),
        // storage
        v("POST", "/v1/storage/upload", post(upload::upload)),
        v("POST", "/v1/storage/get", post(storage::get)),
        v("POST", "/v1/storage/getUrl", post(storage::get_url)),
        v("POST", "/v1/storage/list", post(storage::list)),
        v("POST", "/v1/storage/delete", post(storage::delete)),
        v("POST", "/v1/storage/exists", post(storage::exists)),
        v(
            "POST",
            "/v1/storage/getMetadata",
            post(storage::get_metadata),
        ),
        v("POST", "/v1/storage/copy", post(storage::copy)),
        v("POST", "/v1/storage/move", post(storage::move_object)),
        // ai
        v("POST", "/v1/ai/chat", post(ai::chat)),
        v("POST", "/v1/ai/embed", post(ai::embed)),
        v("POST", "/v1/ai/search/ingest", post(search::ingest)),
        v("POST", "/v1/ai/search/query", post(search::query)),
        v("POST", "/v1/ai/search/delete", post(search::delete)),
        v(
            "POST",
            "/v1/ai/search/deleteByType",
            post(search::delete_by_type),
        ),
        v("GET", "/v1/ai/search/listTypes", get(search::list_types)),
        v("POST", "/v1/ai/search/configure", post(search::configure)),
        v("POST", "/v1/ai/search/update", post(search::update)),
        v("POST", "/v1/ai/search/count", post(search::count)),
        v("POST", "/v1/ai/search/get", post(search::get)),
        // secrets
        v("POST", "/v1/secrets/get", post(secrets::get)),
        v("POST", "/v1/secrets/set", post(secrets::set)),
        v("POST", "/v1/secrets/list", post(secrets::list)),
        v("POST", "/v1/secrets/delete", post(secrets::delete)),
        // services and custom APIs
        v("POST", "/v1/services/invoke", post(services::invoke)),
        v("ANY", "/v1/custom/{slug}", any(custom::keyed)),
        public("ANY", "/api/v1/custom/{slug}", any(custom::keyed)),
        public(
            "ANY",
            "/api/v1/public/projects/{project}/custom/{slug}",
            any(custom::public),
        ),
        // the Worker server SDK's HTTP fallback (wire-facts §2.7)
        public("POST", "/internal/hooks/rpc", post(hooks_rpc::rpc)),
        // workers connect here (docs/workers.md)
        public("GET", "/api/workers", get(crate::workers::socket::connect)),
        // local-only helpers
        v("GET", "/v1/local/outbox", get(local::outbox)),
        v("GET", "/v1/local/workers", get(local::workers)),
        v("GET", "/v1/local/rules", get(rules::list)),
        v("POST", "/v1/local/rules", post(rules::add)),
        v("DELETE", "/v1/local/rules", delete(rules::remove)),
        // the AI gateway (wire-facts §2.1 "Gateway", §2.6): local management, consumer routes
        v("POST", "/v1/local/gateway/apis", post(gateway::create_api)),
        v("GET", "/v1/local/gateway/apis", get(gateway::list_apis)),
        v("POST", "/v1/local/gateway/keys", post(gateway::create_key)),
        v("POST", "/v1/local/gateway/credit", post(gateway::credit)),
        v("POST", "/v1/gateway/billing/log", post(gateway::billing_log)),
        v(
            "POST",
            "/v1/ai/gateway/{apiSlug}/chat/completions",
            post(gateway_chat::chat),
        ),
        v("GET", "/v1/ai/gateway/me/wallet", get(gateway::wallet)),
        public(
            "POST",
            "/api/gateway/{apiSlug}/v1/chat/completions",
            post(gateway_chat::chat),
        ),
        public("GET", "/api/gateway/me/wallet", get(gateway::wallet)),
        public("GET", "/api/gateway/me/usage", get(gateway::usage)),
        public("GET", "/api/gateway/{apiSlug}/ws", get(gateway_ws::socket)),
        // end-user auth
        auth("POST", "/register", post(auth_public::register)),
        auth("POST", "/login", post(auth_public::login)),
        auth("POST", "/otp/send", post(auth_mail::otp_send)),
        auth("POST", "/otp/verify", post(auth_mail::otp_verify)),
        auth("GET", "/verify-email", get(auth_mail::verify_email)),
        auth(
            "POST",
            "/resend-verification",
            post(auth_mail::resend_verification),
        ),
        auth(
            "POST",
            "/reset-password-request",
            post(auth_mail::reset_password_request),
        ),
        auth("POST", "/reset-password", post(auth_mail::reset_password)),
        auth("POST", "/refresh", post(auth_public::refresh)),
        auth("POST", "/logout", post(auth_public::logout)),
        auth("GET", "/me", get(auth_public::me)),
        auth("PATCH", "/me", patch(auth_public::update_me)),
        auth("DELETE", "/me/avatar", delete(auth_public::delete_avatar)),
        // realtime: the WebSocket (docs/realtime.md), server-side emit, history; public files
        public("GET", "/api/realtime", get(crate::realtime::socket::handler)),
        v("POST", "/v1/realtime/emit", post(crate::realtime::emit::emit)),
        public(
            "GET",
            "/api/v1/public/realtime/history",
            get(realtime_history::history),
        ),
        public("GET", "/files/{project_id}/{*key}", get(files::serve)),
    ]
}

/// Every `(METHOD, path)` served, with paths in OpenAPI form (`{*key}` -> `{key}`) and `ANY`
/// expanded to [`ANY_METHODS`].
pub fn route_list() -> Vec<(String, String)> {
    static LIST: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    LIST.get_or_init(build_route_list).clone()
}

fn build_route_list() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (_, method, path, _) in table() {
        let path = path.replace("{*", "{");
        if method == "ANY" {
            out.extend(ANY_METHODS.iter().map(|m| (m.to_string(), path.clone())));
        } else {
            out.push((method.to_string(), path));
        }
    }
    out
}

pub fn router(state: AppState) -> Router {
    let mut v1 = Router::new();
    let mut public = Router::new();
    for (group, _, path, route) in table() {
        match group {
            Group::V1 => v1 = v1.route(&path, route),
            Group::Public => public = public.route(&path, route),
        }
    }
    let v1 = v1.route_layer(from_fn_with_state(
        state.clone(),
        idempotency::idempotency_mw,
    ));
    let public = public.route_layer(from_fn_with_state(
        state.clone(),
        idempotency::idempotency_mw,
    ));
    let dashboard = crate::dashboard::router(&state);
    Router::new()
        .merge(v1)
        .merge(public)
        .merge(dashboard)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn(crate::extract::request_id_mw))
        .layer(from_fn_with_state(state.clone(), guard_body))
        // Bodies are limited where they are read (JSON: 32 MiB, uploads: limits.max_upload_bytes)
        // so that the answer is our JSON error, not axum's plain-text rejection.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Guards a request's body, for requests that have one (the rest pass untouched):
/// - a body that stalls (no bytes for `Limits::header_read_timeout`, 30 s) fails its read, so a
///   client trickling a body cannot hold a connection (the header timeout only covers headers);
///   the extractor answers 400 naming the stall;
/// - a request refused with an error leaves its unread body on the connection, which is then
///   closed: `Connection: close` says so, so a client pool opens a new connection for its next
///   request instead of failing it.
async fn guard_body(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
    use futures_util::StreamExt;
    let has_body = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|n| n.trim() != "0")
        || req.headers().contains_key(TRANSFER_ENCODING);
    if !has_body {
        return next.run(req).await;
    }
    let idle = st.limits.header_read_timeout;
    let (parts, body) = req.into_parts();
    let guarded = futures_util::stream::unfold((body.into_data_stream(), false), move |(mut frames, failed)| async move {
        if failed {
            return None;
        }
        let item = match tokio::time::timeout(idle, frames.next()).await {
            Ok(item) => item?.map_err(std::io::Error::other),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("the request body stalled: no bytes for {} s", idle.as_secs()),
            )),
        };
        let failed = item.is_err();
        Some((item, (frames, failed)))
    });
    let mut resp = next.run(Request::from_parts(parts, axum::body::Body::from_stream(guarded))).await;
    if resp.status().is_client_error() || resp.status().is_server_error() {
        resp.headers_mut().insert(CONNECTION, axum::http::HeaderValue::from_static("close"));
    }
    resp
}

async fn health() -> Response {
    axum::Json(serde_json::json!({"ok": true, "version": env!("CARGO_PKG_VERSION")}))
        .into_response()
}

async fn not_found(req: Request) -> ApiError {
    let (method, path) = (req.method().to_string(), req.uri().path().to_string());
    ApiError::not_found(format!(
        "No route for {method} {path}. The served routes are listed in GET /v1/openapi.json"
    ))
    .with_detail("method", method)
    .with_detail("path", path)
    .with_detail("documentation", "/v1/openapi.json")
}

async fn method_not_allowed(req: Request) -> ApiError {
    let (method, path) = (req.method().to_string(), req.uri().path().to_string());
    let allowed: Vec<String> = route_list()
        .into_iter()
        .filter(|(_, p)| path_matches(p, &path))
        .map(|(m, _)| m)
        .collect();
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        code::NOT_FOUND,
        format!(
            "{path} does not accept {method}; use {}",
            if allowed.is_empty() {
                "another method".to_string()
            } else {
                allowed.join(" or ")
            }
        ),
    )
    .with_detail("method", method)
    .with_detail("path", path)
    .with_detail("allowed", allowed)
}

/// Does an OpenAPI path template match a concrete path (for the 405 hint)?
fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if template.ends_with("{key}") && template.starts_with("/files/") {
        return p.len() >= t.len() && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b);
    }
    t.len() == p.len() && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b)
}

/// `http://<Host header>` for URLs handed back to the caller (falls back to the bound address).
pub fn request_origin(headers: &axum::http::HeaderMap, state: &AppState) -> String {
    match headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
    {
        Some(host) if !host.is_empty() && host.bytes().all(|b| b.is_ascii_graphic()) => {
            format!("http://{host}")
        }
        _ => state.base_url().to_string(),
    }
}
