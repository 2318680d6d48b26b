//! Request extractors: the project from its API key, the JSON body (with field accessors that
//! produce errors naming the field), the client IP, and the request-id middleware.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use rand::Rng;
use serde_json::{Map, Value};

use crate::error::{ApiError, ErrorMarker, ErrorShape, code};
use crate::state::AppState;
use crate::store::control::ProjectRec;
pub(crate) use crate::keys::ResolvedProject;

/// Largest JSON request body (uploads are multipart and limited separately).
pub const MAX_JSON_BYTES: usize = 32 * 1024 * 1024;

/// The project a request acts on, identified by its API key.
#[derive(Clone, Debug)]
pub struct Project(pub Arc<ProjectRec>);

impl FromRequestParts<AppState> for Project {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(ResolvedProject(p)) = parts.extensions.get::<ResolvedProject>() {
            return Ok(Project(p.clone()));
        }
        state
            .project_from_headers(&parts.headers)
            .await
            .map(Project)
    }
}

/// The client's IP (rate limits).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        Ok(ClientIp(ip))
    }
}

/// A JSON object body. An empty body counts as `{}` (several SDKs send none for list calls).
/// Malformed JSON or a non-object answers 400 naming the problem.
#[derive(Debug, Default)]
pub struct JsonBody(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        // A body announced bigger than the limit is refused before any of it is read.
        let announced = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > MAX_JSON_BYTES as u64) {
            return Err(too_large());
        }
        let bytes = read_body(req.into_body()).await?;
        parse_json_object(&bytes).map(JsonBody)
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::PAYLOAD_TOO_LARGE,
        format!("JSON bodies are limited to {} MiB; upload large data with POST /v1/storage/upload", MAX_JSON_BYTES >> 20),
    )
}

/// Read a request body of at most [`MAX_JSON_BYTES`] (413 JSON beyond).
pub async fn read_body(body: axum::body::Body) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_JSON_BYTES).await.map_err(|e| {
            let too_big = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_big {
                too_large()
            } else {
                ApiError::validation("body", format!("could not read the request body: {e}"))
            }
        })
}

pub fn parse_json_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(ApiError::validation(
            "body",
            format!(
                "the request body must be a JSON object, got {}: send e.g. {{\"key\": \"value\"}}",
                type_name(&other)
            ),
        )),
        Err(e) => Err(ApiError::validation(
            "body",
            format!(
                "malformed JSON body: {e}. Send a JSON object with Content-Type: application/json"
            ),
        )
        .with_detail("line", e.line())
        .with_detail("column", e.column())),
    }
}

/// The subprotocols a WebSocket handshake offers (`Sec-WebSocket-Protocol`, comma-separated,
/// possibly over several headers), in order. Every socket endpoint reads its credentials here.
pub fn ws_protocols(headers: &axum::http::HeaderMap) -> Vec<String> {
    headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Field accessors. `usage` is an example body shown in the error ("send {usage}").
impl JsonBody {
    /// The field, with `null` treated as absent.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// The first present field among aliases (e.g. `maxRetries` / `max_retries`).
    pub fn get_any<'n>(&self, names: &[&'n str]) -> Option<(&'n str, &Value)> {
        names.iter().find_map(|n| self.get(n).map(|v| (*n, v)))
    }

    pub fn req_str(&self, name: &str, usage: &str) -> Result<&str, ApiError> {
        match self.get(name) {
            None => Err(required(name, usage)),
            Some(Value::String(s)) if s.is_empty() => Err(ApiError::validation(
                name,
                format!("`{name}` must not be empty: send {usage}"),
            )),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(wrong_type(name, "a string", other, usage)),
        }
    }

    pub fn opt_str(&self, name: &str, usage: &str) -> Result<Option<&str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(name, "a string", other, usage)),
        }
    }

    pub fn opt_i64(&self, name: &str, usage: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => as_integer(v)
                .map(Some)
                .ok_or_else(|| wrong_type(name, "an integer", v, usage)),
        }
    }

    pub fn opt_bool(&self, name: &str, usage: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong_type(name, "a boolean", other, usage)),
        }
    }

    pub fn req_array(&self, name: &str, usage: &str) -> Result<&Vec<Value>, ApiError> {
        match self.get(name) {
            None => Err(required(name, usage)),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(wrong_type(name, "an array", other, usage)),
        }
    }

    pub fn opt_array(&self, name: &str, usage: &str) -> Result<Option<&Vec<Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(wrong_type(name, "an array", other, usage)),
        }
    }

    pub fn opt_object(
        &self,
        name: &str,
        usage: &str,
    ) -> Result<Option<&Map<String, Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(other) => Err(wrong_type(name, "an object", other, usage)),
        }
    }

    /// A list of non-empty strings (e.g. `keys`), at most `max` long.
    pub fn req_str_list(
        &self,
        name: &str,
        max: usize,
        usage: &str,
    ) -> Result<Vec<String>, ApiError> {
        let arr = self.req_array(name, usage)?;
        if arr.len() > max {
            return Err(ApiError::validation(
                name,
                format!(
                    "`{name}` holds {} items; at most {max} are allowed per call: split it into several calls",
                    arr.len()
                ),
            ));
        }
        arr.iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) if !s.is_empty() => Ok(s.clone()),
                other => Err(ApiError::validation(
                    &format!("{name}[{i}]"),
                    format!(
                        "`{name}[{i}]` must be a non-empty string, got {}: send {usage}",
                        type_name(other)
                    ),
                )),
            })
            .collect()
    }
}

/// An integer from a JSON number (`5` or `5.0`).
pub fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

pub fn required(name: &str, usage: &str) -> ApiError {
    ApiError::validation(name, format!("`{name}` is required: send {usage}"))
}

pub fn wrong_type(name: &str, expected: &str, got: &Value, usage: &str) -> ApiError {
    ApiError::validation(
        name,
        format!(
            "`{name}` must be {expected}, got {}: send {usage}",
            type_name(got)
        ),
    )
}

/// The request id of this request (set by [`request_id_mw`]).
#[derive(Clone)]
pub struct RequestId(pub Arc<str>);

fn valid_request_id(v: &HeaderValue) -> Option<&str> {
    let s = v.to_str().ok()?;
    (!s.is_empty() && s.len() <= 200 && s.bytes().all(|b| b.is_ascii_graphic())).then_some(s)
}

fn new_request_id() -> String {
    uuid::Builder::from_random_bytes(rand::rng().random())
        .into_uuid()
        .to_string()
}

/// Echo `X-Request-ID` (or assign one) on every response, render error bodies in their route's
/// [`ErrorShape`] with the request id in them, answer CORS,
/// and turn a panicking handler into a 500 JSON answer instead of a dropped connection.
pub async fn request_id_mw(mut req: Request, next: Next) -> Response {
    let id: Arc<str> = match req.headers().get("x-request-id").and_then(valid_request_id) {
        Some(s) => Arc::from(s),
        None => Arc::from(new_request_id()),
    };
    let has_origin = req.headers().contains_key(axum::http::header::ORIGIN);
    if crate::cors::is_preflight(req.method(), req.headers()) {
        let mut resp = crate::cors::preflight(req.headers());
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert("x-request-id", v);
        }
        return resp;
    }
    req.extensions_mut().insert(RequestId(id.clone()));
    let shape = ErrorShape::for_path(req.uri().path());
    let mut resp = match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(r) => r,
        Err(_) => {
            ApiError::internal("the request handler panicked; see the server log").into_response()
        }
    };
    if resp.extensions().get::<ErrorMarker>().is_none() && is_plain_error(&resp) {
        resp = json_rejection(resp).await;
    }
    if let Some(ErrorMarker(err)) = resp.extensions_mut().remove::<ErrorMarker>() {
        let mut fresh = err.render(Some(&id), shape);
        for (name, value) in resp.headers() {
            if name != axum::http::header::CONTENT_LENGTH
                && name != axum::http::header::CONTENT_TYPE
                && !fresh.headers().contains_key(name)
            {
                fresh.headers_mut().insert(name.clone(), value.clone());
            }
        }
        resp = fresh;
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    crate::cors::decorate(has_origin, resp.headers_mut());
    resp
}

/// An error answer in plain text: an axum extractor rejection (bad path encoding, ...).
fn is_plain_error(resp: &Response) -> bool {
    (resp.status().is_client_error() || resp.status().is_server_error())
        && resp
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/plain"))
}

/// Re-express a plain-text error as the JSON error body (marked, so the request id is added).
async fn json_rejection(resp: Response) -> Response {
    let status = resp.status();
    let text = axum::body::to_bytes(resp.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let code = match status.as_u16() {
        404 | 405 => code::NOT_FOUND,
        413 => code::PAYLOAD_TOO_LARGE,
        401 => code::AUTH_INVALID_KEY,
        s if s >= 500 => code::INTERNAL_ERROR,
        _ => code::VALIDATION_ERROR,
    };
    let message = String::from_utf8_lossy(&text).trim().to_string();
    ApiError::new(
        status,
        code,
        if message.is_empty() {
            status.to_string()
        } else {
            message
        },
    )
    .into_response()
}
