//! Errors: `ApiError` is what a route answers (rendered as the JSON error body), `ServerError` is
//! what the library API (`LocalPlatform::start`, `create_project`, ...) returns.

use std::path::PathBuf;

use aerostack_protocol::{ErrorBody, SPEC_CODES};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// Stable error codes (docs/architecture.md lists them).
pub mod code {
    pub const AUTH_INVALID_KEY: &str = "AUTH_INVALID_KEY";
    pub const AUTH_INVALID_CREDENTIALS: &str = "AUTH_INVALID_CREDENTIALS";
    pub const AUTH_USER_EXISTS: &str = "AUTH_USER_EXISTS";
    pub const AUTH_EMAIL_NOT_VERIFIED: &str = "AUTH_EMAIL_NOT_VERIFIED";
    pub const AUTH_TOKEN_EXPIRED: &str = "AUTH_TOKEN_EXPIRED";
    pub const AUTH_TOKEN_INVALID: &str = "AUTH_TOKEN_INVALID";
    pub const AUTH_OTP_EXPIRED: &str = "AUTH_OTP_EXPIRED";
    pub const AUTH_OTP_INVALID: &str = "AUTH_OTP_INVALID";
    pub const AUTH_PASSWORD_WEAK: &str = "AUTH_PASSWORD_WEAK";
    pub const AUTH_RESET_TOKEN_INVALID: &str = "AUTH_RESET_TOKEN_INVALID";
    pub const DB_QUERY_FAILED: &str = "DB_QUERY_FAILED";
    pub const RATE_LIMIT_EXCEEDED: &str = "RATE_LIMIT_EXCEEDED";
    pub const VALIDATION_ERROR: &str = "VALIDATION_ERROR";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const IDEMPOTENCY_CONFLICT: &str = "IDEMPOTENCY_CONFLICT";
    pub const AI_NOT_CONFIGURED: &str = "AI_NOT_CONFIGURED";
    pub const AI_REQUEST_FAILED: &str = "AI_REQUEST_FAILED";
    pub const WORKER_NOT_CONNECTED: &str = "WORKER_NOT_CONNECTED";
    pub const HOOK_FAILED: &str = "HOOK_FAILED";
    pub const HOOK_TIMEOUT: &str = "HOOK_TIMEOUT";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
    pub const CONFLICT: &str = "CONFLICT";
    pub const INSUFFICIENT_CREDITS: &str = "INSUFFICIENT_CREDITS";
}

/// The spec code (`ErrorResponse.code` enum, `aerostack_protocol::SPEC_CODES`) a precise code
/// is reported under on `/v1` routes; docs/architecture.md has the table. A code not listed
/// here falls back by status, so a new code never leaves the enum.
pub fn spec_code(precise: &str, status: StatusCode) -> &'static str {
    use code::*;
    match precise {
        AUTH_INVALID_KEY => AUTH_INVALID_KEY,
        AUTH_INVALID_CREDENTIALS
        | AUTH_TOKEN_EXPIRED
        | AUTH_TOKEN_INVALID
        | AUTH_OTP_EXPIRED
        | AUTH_OTP_INVALID
        | AUTH_RESET_TOKEN_INVALID => AUTH_INVALID_CREDENTIALS,
        DB_QUERY_FAILED => DB_QUERY_FAILED,
        RATE_LIMIT_EXCEEDED => RATE_LIMIT_EXCEEDED,
        VALIDATION_ERROR | AUTH_USER_EXISTS | AUTH_PASSWORD_WEAK | NOT_FOUND
        | PAYLOAD_TOO_LARGE | IDEMPOTENCY_CONFLICT | CONFLICT => VALIDATION_ERROR,
        FORBIDDEN | AUTH_EMAIL_NOT_VERIFIED | INSUFFICIENT_CREDITS => FORBIDDEN,
        INTERNAL_ERROR | AI_NOT_CONFIGURED | AI_REQUEST_FAILED | WORKER_NOT_CONNECTED
        | HOOK_FAILED | HOOK_TIMEOUT => INTERNAL_ERROR,
        _ => match status.as_u16() {
            401 => AUTH_INVALID_KEY,
            403 => FORBIDDEN,
            429 => RATE_LIMIT_EXCEEDED,
            400..=499 => VALIDATION_ERROR,
            _ => INTERNAL_ERROR,
        },
    }
}

/// Which error body a route answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorShape {
    /// The spec's `ErrorResponse` (`aerostack_protocol::ErrorResponse`): `/v1` routes, read by
    /// the generated clients, which refuse unknown fields and codes outside the enum.
    Spec,
    /// `aerostack_protocol::ErrorBody` (`error` and `request_id` included): the public end-user
    /// routes, custom APIs (`/v1/custom/*` too), the WebSocket handshakes, files: the shapes
    /// their hand-written clients read.
    Public,
}

impl ErrorShape {
    pub fn for_path(path: &str) -> ErrorShape {
        if (path == "/v1" || path.starts_with("/v1/")) && !path.starts_with("/v1/custom/") {
            ErrorShape::Spec
        } else {
            ErrorShape::Public
        }
    }
}

/// An error answer, rendered by the request-id middleware in the [`ErrorShape`] of its route:
/// `{"code","message","details"}` on `/v1`, else `{"code","message","details","error",
/// "request_id"}` plus optional extra top-level fields (e.g. `success:false` where an SDK reads
/// it).
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Map<String, Value>,
    extra: Map<String, Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Render `error` as `{code, message}` (the documented rate-limit shape) instead of a string.
    error_object: bool,
}

/// Marker put in the response extensions so the request-id middleware can render the body again
/// with the request id it assigned.
#[derive(Clone)]
pub(crate) struct ErrorMarker(pub std::sync::Arc<ApiError>);

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Map::new(),
            extra: Map::new(),
            headers: Vec::new(),
            error_object: false,
        }
    }

    /// 400 VALIDATION_ERROR naming the field; the message should say what to send instead.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code::VALIDATION_ERROR, message)
            .with_detail("field", field)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, code::NOT_FOUND, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        let message = message.into();
        tracing::error!(%message, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL_ERROR,
            message,
        )
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }

    /// An extra top-level field in the body (kept next to code/message/details).
    pub fn with_extra(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl ToString) -> Self {
        if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
            self.headers.push((HeaderName::from_static(name), v));
        }
        self
    }

    pub fn error_as_object(mut self) -> Self {
        self.error_object = true;
        self
    }

    /// The JSON body for this error in `shape`.
    pub fn body(&self, request_id: Option<&str>, shape: ErrorShape) -> Value {
        let body = ErrorBody {
            details: self.details.clone(),
            request_id: request_id.map(str::to_owned),
            extra: self.extra.clone(),
            ..ErrorBody::new(self.code, self.message.clone())
        };
        match shape {
            ErrorShape::Spec => {
                let spec = body.into_spec(spec_code(self.code, self.status));
                debug_assert!(SPEC_CODES.contains(&spec.code.as_str()));
                serde_json::to_value(spec).unwrap_or_default()
            }
            ErrorShape::Public if self.error_object => body.error_as_object().into_value(),
            ErrorShape::Public => body.into_value(),
        }
    }

    /// Render with a known request id (used by the request-id middleware, which knows the
    /// route's shape).
    pub(crate) fn render(&self, request_id: Option<&str>, shape: ErrorShape) -> Response {
        let body = serde_json::to_vec(&self.body(request_id, shape)).unwrap_or_default();
        let mut resp = (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        for (k, v) in &self.headers {
            resp.headers_mut().append(k.clone(), v.clone());
        }
        resp
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = self.render(None, ErrorShape::Public);
        resp.extensions_mut()
            .insert(ErrorMarker(std::sync::Arc::new(self)));
        resp
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(format!("storage error: {e}"))
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        ApiError::internal(format!("I/O error: {e}"))
    }
}

/// Errors of the library API.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "could not listen on {addr}: {source}. Pick another port (--port, 0 = any free port) or stop the process using it"
    )]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Internal(String),
}

impl ServerError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ServerError::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<ApiError> for ServerError {
    fn from(e: ApiError) -> Self {
        match e.status {
            StatusCode::NOT_FOUND => ServerError::NotFound(e.message),
            s if s.is_client_error() => ServerError::Invalid(e.message),
            _ => ServerError::Internal(e.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code the platform answers with renders on `/v1` as the spec's `ErrorResponse`
    /// (unknown fields refused, `code` in the enum) and keeps its precise code and details.
    #[test]
    fn every_code_renders_as_the_specs_error_response() {
        use code::*;
        let all = [
            (AUTH_INVALID_KEY, 401),
            (AUTH_INVALID_CREDENTIALS, 401),
            (AUTH_USER_EXISTS, 409),
            (AUTH_EMAIL_NOT_VERIFIED, 403),
            (AUTH_TOKEN_EXPIRED, 401),
            (AUTH_TOKEN_INVALID, 401),
            (AUTH_OTP_EXPIRED, 401),
            (AUTH_OTP_INVALID, 401),
            (AUTH_PASSWORD_WEAK, 400),
            (AUTH_RESET_TOKEN_INVALID, 400),
            (DB_QUERY_FAILED, 400),
            (RATE_LIMIT_EXCEEDED, 429),
            (VALIDATION_ERROR, 400),
            (NOT_FOUND, 404),
            (PAYLOAD_TOO_LARGE, 413),
            (IDEMPOTENCY_CONFLICT, 409),
            (AI_NOT_CONFIGURED, 503),
            (AI_REQUEST_FAILED, 502),
            (WORKER_NOT_CONNECTED, 503),
            (HOOK_FAILED, 500),
            (HOOK_TIMEOUT, 504),
            (FORBIDDEN, 403),
            (INTERNAL_ERROR, 500),
            (CONFLICT, 409),
            (INSUFFICIENT_CREDITS, 402),
            ("SOMETHING_NEW", 402),
        ];
        for (precise, status) in all {
            let status = StatusCode::from_u16(status).unwrap();
            let e = ApiError::new(status, precise, "m")
                .with_detail("field", "f")
                .with_extra("success", false);
            let body = e.body(Some("rid"), ErrorShape::Spec);
            let spec: aerostack_protocol::ErrorResponse =
                serde_json::from_value(body.clone()).unwrap();
            assert!(SPEC_CODES.contains(&spec.code.as_str()), "{body}");
            assert_eq!(
                serde_json::Value::Object(spec.details),
                serde_json::json!({"code": precise, "request_id": "rid", "field": "f", "success": false})
            );
            let public = e.body(Some("rid"), ErrorShape::Public);
            assert_eq!(
                (public["code"].as_str(), public["error"].as_str()),
                (Some(precise), Some("m"))
            );
        }
        assert_eq!(
            spec_code("SOMETHING_NEW", StatusCode::PAYMENT_REQUIRED),
            VALIDATION_ERROR
        );
    }

    #[test]
    fn shapes_by_path() {
        for p in [
            "/v1",
            "/v1/cache/get",
            "/v1/no/such",
            "/v1/auth/signup",
            "/v1/ai/gateway/chat/chat/completions",
        ] {
            assert_eq!(ErrorShape::for_path(p), ErrorShape::Spec, "{p}");
        }
        for p in [
            "/v1/custom/x",
            "/api/v1/custom/x",
            "/api/v1/public/projects/p/auth/login",
            "/api/realtime",
            "/internal/hooks/rpc",
            "/api/gateway/chat/v1/chat/completions",
            "/files/p/k",
            "/v1x",
        ] {
            assert_eq!(ErrorShape::for_path(p), ErrorShape::Public, "{p}");
        }
    }
}
