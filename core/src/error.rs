//! The one error type of the engine, its stable codes, and the parser for every error body shape
//! the platform generations use (wire-facts §3.1).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `Result` with [`Error`] as the error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Stable error codes: the platform's codes passed through, plus the engine's client-side codes.
///
/// [`ErrorCode::as_str`] gives the wire spelling (`AUTH_INVALID_KEY`, ...). Codes the engine does not
/// know are kept verbatim in [`ErrorCode::Other`], so a newer platform never breaks an older SDK.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Missing or unknown project API key.
    AuthInvalidKey,
    /// Wrong email/password, or a rejected end-user credential.
    AuthInvalidCredentials,
    /// Registration with an email that already has an account.
    AuthUserExists,
    /// Login before the email address was verified.
    AuthEmailNotVerified,
    /// The end-user access token has expired.
    AuthTokenExpired,
    /// The end-user token is malformed, revoked or for another project.
    AuthTokenInvalid,
    /// The one-time code has expired.
    AuthOtpExpired,
    /// The one-time code is wrong or used up.
    AuthOtpInvalid,
    /// The password does not meet the policy.
    AuthPasswordWeak,
    /// The password-reset token is wrong or expired.
    AuthResetTokenInvalid,
    /// The SQL statement failed.
    DbQueryFailed,
    /// Too many requests; see [`Error::retry_after`].
    RateLimitExceeded,
    /// The request was rejected by validation; `details.field` names the field.
    ValidationError,
    /// The object, key, job or route does not exist.
    NotFound,
    /// The body is larger than the platform accepts.
    PayloadTooLarge,
    /// An `Idempotency-Key` was reused for a different request.
    IdempotencyConflict,
    /// No AI upstream is configured on the platform.
    AiNotConfigured,
    /// The AI upstream failed.
    AiRequestFailed,
    /// No Logic Module worker is connected for the custom API or service.
    WorkerNotConnected,
    /// A Logic Module threw an error.
    HookFailed,
    /// The key may not perform this operation.
    Forbidden,
    /// The platform failed.
    InternalError,
    /// The connection failed or broke (client-side).
    NetworkError,
    /// The request did not finish within its timeout (client-side).
    Timeout,
    /// The call was cancelled by the caller (client-side; set by bindings).
    Cancelled,
    /// The client configuration is invalid (client-side).
    InvalidConfig,
    /// The response could not be decoded into the expected shape (client-side).
    DecodeError,
    /// Any other code, kept verbatim.
    Other(String),
}

impl ErrorCode {
    /// The wire spelling of the code, e.g. `"AUTH_INVALID_KEY"`.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::AuthInvalidKey => "AUTH_INVALID_KEY",
            ErrorCode::AuthInvalidCredentials => "AUTH_INVALID_CREDENTIALS",
            ErrorCode::AuthUserExists => "AUTH_USER_EXISTS",
            ErrorCode::AuthEmailNotVerified => "AUTH_EMAIL_NOT_VERIFIED",
            ErrorCode::AuthTokenExpired => "AUTH_TOKEN_EXPIRED",
            ErrorCode::AuthTokenInvalid => "AUTH_TOKEN_INVALID",
            ErrorCode::AuthOtpExpired => "AUTH_OTP_EXPIRED",
            ErrorCode::AuthOtpInvalid => "AUTH_OTP_INVALID",
            ErrorCode::AuthPasswordWeak => "AUTH_PASSWORD_WEAK",
            ErrorCode::AuthResetTokenInvalid => "AUTH_RESET_TOKEN_INVALID",
            ErrorCode::DbQueryFailed => "DB_QUERY_FAILED",
            ErrorCode::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::IdempotencyConflict => "IDEMPOTENCY_CONFLICT",
            ErrorCode::AiNotConfigured => "AI_NOT_CONFIGURED",
            ErrorCode::AiRequestFailed => "AI_REQUEST_FAILED",
            ErrorCode::WorkerNotConnected => "WORKER_NOT_CONNECTED",
            ErrorCode::HookFailed => "HOOK_FAILED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::NetworkError => "NETWORK_ERROR",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Cancelled => "CANCELLED",
            ErrorCode::InvalidConfig => "INVALID_CONFIG",
            ErrorCode::DecodeError => "DECODE_ERROR",
            ErrorCode::Other(code) => code,
        }
    }

    /// Parses a wire code; unknown codes become [`ErrorCode::Other`].
    pub fn parse(code: &str) -> ErrorCode {
        match code {
            "AUTH_INVALID_KEY" => ErrorCode::AuthInvalidKey,
            "AUTH_INVALID_CREDENTIALS" => ErrorCode::AuthInvalidCredentials,
            "AUTH_USER_EXISTS" => ErrorCode::AuthUserExists,
            "AUTH_EMAIL_NOT_VERIFIED" => ErrorCode::AuthEmailNotVerified,
            "AUTH_TOKEN_EXPIRED" => ErrorCode::AuthTokenExpired,
            "AUTH_TOKEN_INVALID" => ErrorCode::AuthTokenInvalid,
            "AUTH_OTP_EXPIRED" => ErrorCode::AuthOtpExpired,
            "AUTH_OTP_INVALID" => ErrorCode::AuthOtpInvalid,
            "AUTH_PASSWORD_WEAK" => ErrorCode::AuthPasswordWeak,
            "AUTH_RESET_TOKEN_INVALID" => ErrorCode::AuthResetTokenInvalid,
            "DB_QUERY_FAILED" => ErrorCode::DbQueryFailed,
            "RATE_LIMIT_EXCEEDED" => ErrorCode::RateLimitExceeded,
            "VALIDATION_ERROR" => ErrorCode::ValidationError,
            "NOT_FOUND" => ErrorCode::NotFound,
            "PAYLOAD_TOO_LARGE" => ErrorCode::PayloadTooLarge,
            "IDEMPOTENCY_CONFLICT" => ErrorCode::IdempotencyConflict,
            "AI_NOT_CONFIGURED" => ErrorCode::AiNotConfigured,
            "AI_REQUEST_FAILED" => ErrorCode::AiRequestFailed,
            "WORKER_NOT_CONNECTED" => ErrorCode::WorkerNotConnected,
            "HOOK_FAILED" => ErrorCode::HookFailed,
            "FORBIDDEN" => ErrorCode::Forbidden,
            "INTERNAL_ERROR" => ErrorCode::InternalError,
            "NETWORK_ERROR" => ErrorCode::NetworkError,
            "TIMEOUT" => ErrorCode::Timeout,
            "CANCELLED" => ErrorCode::Cancelled,
            "INVALID_CONFIG" => ErrorCode::InvalidConfig,
            "DECODE_ERROR" => ErrorCode::DecodeError,
            other => ErrorCode::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        Ok(ErrorCode::parse(&s))
    }
}

/// Which family of route answered; decides the code for a bare 401/409 without a body code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteFamily {
    /// API-key routes (`/v1/*`, custom APIs, history): 401 means a bad key.
    ApiKey,
    /// Credential routes (legacy `/v1/auth/*`, public end-user auth): 401 means bad credentials.
    UserAuth,
}

/// Every failure of the engine: HTTP errors from the platform and client-side failures alike.
///
/// Boxed so `Result<T, Error>` stays one pointer wide on the hot path.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<Repr>);

#[derive(Debug, thiserror::Error)]
#[error("{code}{}: {message}", status_suffix(*.status))]
struct Repr {
    code: ErrorCode,
    status: Option<u16>,
    message: String,
    request_id: Option<String>,
    retryable: bool,
    retry_after: Option<Duration>,
    details: Option<Value>,
    body: Option<String>,
    #[source]
    source: Option<BoxError>,
}

fn status_suffix(status: Option<u16>) -> String {
    status.map(|s| format!(" ({s})")).unwrap_or_default()
}

/// HTTP statuses the engine retries.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 425 | 429 | 500 | 502 | 503 | 504)
}

impl Error {
    /// A client-side error with a code and a message (no HTTP status).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        let retryable = matches!(code, ErrorCode::NetworkError | ErrorCode::Timeout);
        Error(Box::new(Repr {
            code,
            status: None,
            message: message.into(),
            request_id: None,
            retryable,
            retry_after: None,
            details: None,
            body: None,
            source: None,
        }))
    }

    /// `INVALID_CONFIG` naming what to fix.
    pub fn invalid_config(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::InvalidConfig, message)
    }

    /// `VALIDATION_ERROR` for a bad argument, with `details.field` set.
    pub fn validation(field: &str, message: impl Into<String>) -> Error {
        Error::new(ErrorCode::ValidationError, message)
            .with_details(serde_json::json!({ "field": field }))
    }

    /// `CANCELLED`, for bindings whose host cancelled a call.
    pub fn cancelled() -> Error {
        Error::new(ErrorCode::Cancelled, "the call was cancelled")
    }

    /// Attaches JSON details.
    pub fn with_details(mut self, details: Value) -> Error {
        self.0.details = Some(details);
        self
    }

    /// Attaches the request id.
    pub(crate) fn with_request_id(mut self, request_id: Option<String>) -> Error {
        if self.0.request_id.is_none() {
            self.0.request_id = request_id;
        }
        self
    }

    /// Attaches an underlying cause.
    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Error {
        self.0.source = Some(source.into());
        self
    }

    /// Attaches the raw body.
    pub(crate) fn with_body(mut self, body: String) -> Error {
        self.0.body = Some(body);
        self
    }

    /// Stable code, e.g. `AUTH_INVALID_KEY` or `TIMEOUT`.
    pub fn code(&self) -> &ErrorCode {
        &self.0.code
    }

    /// HTTP status when the platform answered, `None` for client-side errors.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// Human-readable message (the platform's, when it sent one).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The `X-Request-ID` of the call, for correlating with platform logs.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// Whether repeating the call may succeed (retryable status, network error, timeout).
    pub fn retryable(&self) -> bool {
        self.0.retryable
    }

    /// The wait the platform asked for with `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// Structured details (e.g. `{"field": "email"}`).
    pub fn details(&self) -> Option<&Value> {
        self.0.details.as_ref()
    }

    /// The raw response body, when there was one.
    pub fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }

    /// The serializable DTO bindings turn into their exceptions.
    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            code: self.0.code.as_str().to_owned(),
            status: self.0.status,
            message: self.0.message.clone(),
            request_id: self.0.request_id.clone(),
            retryable: self.0.retryable,
            retry_after_ms: self.0.retry_after.map(|d| d.as_millis() as u64),
            details: self.0.details.clone(),
        }
    }

    /// Builds the error for a non-2xx response from its status, headers and body.
    pub(crate) fn from_response(
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
        request_id: Option<String>,
        family: RouteFamily,
    ) -> Error {
        let parsed = parse_error_body(body);
        let code = match parsed.code {
            Some(code) => ErrorCode::parse(&code),
            None => code_for_status(status, family),
        };
        let message = parsed.message.unwrap_or_else(|| {
            let reason = http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error");
            format!("HTTP {status} {reason}")
        });
        let body_text = (!body.is_empty()).then(|| String::from_utf8_lossy(body).into_owned());
        Error(Box::new(Repr {
            code,
            status: Some(status),
            message,
            request_id: request_id.or(parsed.request_id),
            retryable: retryable_status(status),
            retry_after,
            details: parsed.details,
            body: body_text,
            source: None,
        }))
    }

    /// Maps a reqwest failure (connect, timeout, broken body) to NETWORK_ERROR or TIMEOUT.
    pub(crate) fn from_reqwest(err: reqwest::Error, what: &str, timeout: Duration) -> Error {
        if err.is_timeout() {
            Error::new(
                ErrorCode::Timeout,
                format!(
                    "{what} timed out after {} ms; raise CallOptions.timeout_ms or ClientConfig.timeout_ms if the operation is slow",
                    timeout.as_millis()
                ),
            )
            .with_source(err)
        } else if err.is_builder() {
            Error::invalid_config(format!("{what}: could not build the request: {err}")).with_source(err)
        } else {
            let kind = if err.is_connect() { "could not connect" } else { "connection failed" };
            let mut msg = format!("{what}: {kind}");
            // reqwest's Display hides the root cause (refused, reset, ...) which is what users need.
            let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&err);
            let mut last = None;
            while let Some(s) = src {
                last = Some(s.to_string());
                src = s.source();
            }
            if let Some(root) = last {
                msg.push_str(": ");
                msg.push_str(&root);
            }
            Error::new(ErrorCode::NetworkError, msg).with_source(err)
        }
    }

    /// DECODE_ERROR for a 2xx body that does not have the expected shape.
    pub(crate) fn decode(what: &str, err: serde_json::Error, body: &[u8]) -> Error {
        Error::new(
            ErrorCode::DecodeError,
            format!("{what}: unexpected response body: {err}"),
        )
        .with_body(String::from_utf8_lossy(&body[..body.len().min(4096)]).into_owned())
        .with_source(err)
    }
}

/// Serializable view of an [`Error`] for bindings: `{code, status, message, request_id,
/// retryable, retry_after_ms, details}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Stable code string.
    pub code: String,
    /// HTTP status, if any.
    pub status: Option<u16>,
    /// Message.
    pub message: String,
    /// Request id of the call.
    pub request_id: Option<String>,
    /// Whether a retry may succeed.
    pub retryable: bool,
    /// `Retry-After` in milliseconds.
    pub retry_after_ms: Option<u64>,
    /// Structured details.
    pub details: Option<Value>,
}

impl From<&Error> for ErrorInfo {
    fn from(e: &Error) -> ErrorInfo {
        e.info()
    }
}

/// Code for a response whose body named none.
pub(crate) fn code_for_status(status: u16, family: RouteFamily) -> ErrorCode {
    match (status, family) {
        (400 | 422, _) => ErrorCode::ValidationError,
        (401, RouteFamily::ApiKey) => ErrorCode::AuthInvalidKey,
        (401, RouteFamily::UserAuth) => ErrorCode::AuthInvalidCredentials,
        (403, _) => ErrorCode::Forbidden,
        (404, _) => ErrorCode::NotFound,
        (408, _) => ErrorCode::Timeout,
        (409, RouteFamily::UserAuth) => ErrorCode::AuthUserExists,
        (413, _) => ErrorCode::PayloadTooLarge,
        (429, _) => ErrorCode::RateLimitExceeded,
        (500..=599, _) => ErrorCode::InternalError,
        (other, _) => ErrorCode::Other(format!("HTTP_{other}")),
    }
}

/// What could be read out of an error body.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ParsedErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
    pub details: Option<Value>,
    pub request_id: Option<String>,
}

/// Reads every error body shape of wire-facts §3.1:
/// `{code, message, details}`, `{error: {code, message, details}}`, `{error: "CODE", message}`,
/// `{error: "text"}`, `{..., field}` and plain text.
pub(crate) fn parse_error_body(body: &[u8]) -> ParsedErrorBody {
    let mut out = ParsedErrorBody::default();
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return out;
    }
    let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(trimmed) else {
        // Plain text (or JSON that is not an object): the text is the message.
        out.message = Some(truncate(trimmed, 1000));
        return out;
    };
    let take_str = |obj: &mut serde_json::Map<String, Value>, k: &str| match obj.remove(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    out.code = take_str(&mut obj, "code");
    out.message = take_str(&mut obj, "message");
    out.request_id = take_str(&mut obj, "request_id").or_else(|| take_str(&mut obj, "requestId"));
    out.details = obj.remove("details").filter(|d| !d.is_null());
    match obj.remove("error") {
        Some(Value::Object(mut inner)) => {
            if out.code.is_none() {
                out.code = take_str(&mut inner, "code");
            }
            if out.message.is_none() {
                out.message = take_str(&mut inner, "message");
            }
            if out.details.is_none() {
                out.details = inner.remove("details").filter(|d| !d.is_null());
            }
        }
        Some(Value::String(s)) if !s.is_empty() => {
            // `{error: "CODE", message}` (old public auth) versus `{error: "human text"}`.
            if out.code.is_none() && out.message.is_some() && looks_like_code(&s) {
                out.code = Some(s);
            } else if out.message.is_none() {
                out.message = Some(s);
            }
        }
        _ => {}
    }
    // sdk-core style top-level `field`: surface it in details so callers find it in one place.
    if let Some(Value::String(field)) = obj.remove("field") {
        match &mut out.details {
            Some(Value::Object(d)) => {
                d.entry("field").or_insert(Value::String(field));
            }
            None => out.details = Some(serde_json::json!({ "field": field })),
            Some(_) => {}
        }
    }
    out
}

fn looks_like_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flat_body_with_details() {
        let p = parse_error_body(
            br#"{"code":"VALIDATION_ERROR","message":"email is required","details":{"field":"email"},"error":"email is required","request_id":"r1"}"#,
        );
        assert_eq!(p.code.as_deref(), Some("VALIDATION_ERROR"));
        assert_eq!(p.message.as_deref(), Some("email is required"));
        assert_eq!(p.details, Some(json!({"field":"email"})));
        assert_eq!(p.request_id.as_deref(), Some("r1"));
    }

    #[test]
    fn nested_error_object() {
        let p = parse_error_body(br#"{"error":{"code":"RATE_LIMIT_EXCEEDED","message":"slow down"}}"#);
        assert_eq!(p.code.as_deref(), Some("RATE_LIMIT_EXCEEDED"));
        assert_eq!(p.message.as_deref(), Some("slow down"));
    }

    #[test]
    fn error_string_is_message_or_code() {
        let p = parse_error_body(br#"{"error":"Something broke"}"#);
        assert_eq!(p.code, None);
        assert_eq!(p.message.as_deref(), Some("Something broke"));

        let p = parse_error_body(br#"{"error":"EMAIL_ALREADY_IN_USE","message":"taken"}"#);
        assert_eq!(p.code.as_deref(), Some("EMAIL_ALREADY_IN_USE"));
        assert_eq!(p.message.as_deref(), Some("taken"));
    }

    #[test]
    fn top_level_field_goes_to_details() {
        let p = parse_error_body(br#"{"message":"bad","field":"password"}"#);
        assert_eq!(p.details, Some(json!({"field":"password"})));
    }

    #[test]
    fn plain_text_and_empty() {
        let p = parse_error_body(b"upstream exploded\n");
        assert_eq!(p.message.as_deref(), Some("upstream exploded"));
        assert_eq!(parse_error_body(b""), ParsedErrorBody::default());
        // JSON that is not an object is treated as text.
        assert_eq!(parse_error_body(b"\"oops\"").message.as_deref(), Some("\"oops\""));
    }

    #[test]
    fn status_mapping_without_code() {
        let e = Error::from_response(401, b"", None, None, RouteFamily::ApiKey);
        assert_eq!(e.code(), &ErrorCode::AuthInvalidKey);
        assert_eq!(e.message(), "HTTP 401 Unauthorized");
        let e = Error::from_response(401, b"nope", None, None, RouteFamily::UserAuth);
        assert_eq!(e.code(), &ErrorCode::AuthInvalidCredentials);
        assert_eq!(e.body(), Some("nope"));
        for (status, code) in [
            (404, ErrorCode::NotFound),
            (413, ErrorCode::PayloadTooLarge),
            (429, ErrorCode::RateLimitExceeded),
            (400, ErrorCode::ValidationError),
            (502, ErrorCode::InternalError),
            (418, ErrorCode::Other("HTTP_418".into())),
        ] {
            assert_eq!(Error::from_response(status, b"", None, None, RouteFamily::ApiKey).code(), &code);
        }
    }

    #[test]
    fn server_code_wins_and_unknown_codes_pass_through() {
        let e = Error::from_response(
            503,
            br#"{"code":"WORKER_NOT_CONNECTED","message":"start a worker"}"#,
            Some(Duration::from_secs(2)),
            Some("rid".into()),
            RouteFamily::ApiKey,
        );
        assert_eq!(e.code(), &ErrorCode::WorkerNotConnected);
        assert!(e.retryable());
        assert_eq!(e.request_id(), Some("rid"));
        let info = e.info();
        assert_eq!(info.code, "WORKER_NOT_CONNECTED");
        assert_eq!(info.retry_after_ms, Some(2000));
        assert_eq!(info.status, Some(503));

        let e = Error::from_response(400, br#"{"code":"BRAND_NEW"}"#, None, None, RouteFamily::ApiKey);
        assert_eq!(e.code(), &ErrorCode::Other("BRAND_NEW".into()));
        assert_eq!(e.code().as_str(), "BRAND_NEW");
        assert!(!e.retryable());
    }

    #[test]
    fn codes_round_trip() {
        for code in ["AUTH_INVALID_KEY", "TIMEOUT", "DECODE_ERROR", "HOOK_FAILED", "X_Y"] {
            assert_eq!(ErrorCode::parse(code).as_str(), code);
            let json = serde_json::to_string(&ErrorCode::parse(code)).unwrap();
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), ErrorCode::parse(code));
        }
    }

    #[test]
    fn display_includes_code_and_status() {
        let e = Error::from_response(404, br#"{"message":"no such key"}"#, None, None, RouteFamily::ApiKey);
        assert_eq!(e.to_string(), "NOT_FOUND (404): no such key");
        assert_eq!(Error::invalid_config("x").to_string(), "INVALID_CONFIG: x");
    }
}
