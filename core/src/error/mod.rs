//! The one error type of the engine, [`Error`], its stable [`ErrorCode`]s, and
//! their parsing from every error-body shape; bindings/common builds its `ErrorDto` from them.

mod body;
mod code;

use std::time::Duration;

use serde_json::Value;

use body::parse_error_body;
pub use code::ErrorCode;
use code::code_for_status;

/// `Result` with [`Error`] as the error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

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
        // Some 5xx answers are not transient: a Logic Module that threw would only throw again
        // (and repeat its side effects); a platform with no AI upstream or no worker for the
        // slug needs the user to act, and retrying would only delay telling them.
        let retryable = retryable_status(status)
            && !matches!(
                code,
                ErrorCode::HookFailed | ErrorCode::AiNotConfigured | ErrorCode::WorkerNotConnected
            );
        Error(Box::new(Repr {
            code,
            status: Some(status),
            message,
            request_id: request_id.or(parsed.request_id),
            retryable,
            retry_after,
            details: parsed.details,
            body: body_text,
            source: None,
        }))
    }

    /// Maps a reqwest failure (connect, timeout, broken body) to NETWORK_ERROR or TIMEOUT.
    pub(crate) fn from_reqwest(err: reqwest::Error, what: &str, timeout: Duration) -> Error {
        if err.is_timeout() {
            Error::timed_out(what, timeout).with_source(err)
        } else if err.is_builder() {
            Error::invalid_config(format!("{what}: could not build the request: {err}"))
                .with_source(err)
        } else {
            let connect = err.is_connect();
            Error::network(what, connect, err)
        }
    }

    /// TIMEOUT for exchange `what` (`METHOD url`) that took longer than `timeout`.
    pub(crate) fn timed_out(what: &str, timeout: Duration) -> Error {
        Error::new(
            ErrorCode::Timeout,
            format!(
                "{what} timed out after {} ms; raise CallOptions.timeout_ms or ClientConfig.timeout_ms if the operation is slow",
                timeout.as_millis()
            ),
        )
    }

    /// NETWORK_ERROR for exchange `what`, naming the root cause (refused, reset, ...): what users
    /// need, and what the HTTP clients' own Display hides.
    pub(crate) fn network<E>(what: &str, connect: bool, err: E) -> Error
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let kind = if connect {
            "could not connect"
        } else {
            "connection failed"
        };
        let mut msg = format!("{what}: {kind}");
        let mut src: Option<&dyn std::error::Error> = Some(&err);
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

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(
                Error::from_response(status, b"", None, None, RouteFamily::ApiKey).code(),
                &code
            );
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
        assert!(
            !e.retryable(),
            "no worker: the user must start one, retrying only delays that"
        );
        assert_eq!(e.request_id(), Some("rid"));
        assert_eq!(e.code().as_str(), "WORKER_NOT_CONNECTED");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(e.status(), Some(503));
        let plain = Error::from_response(503, b"{}", None, None, RouteFamily::ApiKey);
        assert!(plain.retryable(), "a plain 503 is transient");

        let e = Error::from_response(
            400,
            br#"{"code":"BRAND_NEW"}"#,
            None,
            None,
            RouteFamily::ApiKey,
        );
        assert_eq!(e.code(), &ErrorCode::Other("BRAND_NEW".into()));
        assert_eq!(e.code().as_str(), "BRAND_NEW");
        assert!(!e.retryable());
    }
    #[test]
    fn codes_round_trip() {
        for code in [
            "AUTH_INVALID_KEY",
            "TIMEOUT",
            "DECODE_ERROR",
            "HOOK_FAILED",
            "HOOK_TIMEOUT",
            "X_Y",
        ] {
            assert_eq!(ErrorCode::parse(code).as_str(), code);
            let json = serde_json::to_string(&ErrorCode::parse(code)).unwrap();
            assert_eq!(
                serde_json::from_str::<ErrorCode>(&json).unwrap(),
                ErrorCode::parse(code)
            );
        }
    }
    #[test]
    fn display_includes_code_and_status() {
        let e = Error::from_response(
            404,
            br#"{"message":"no such key"}"#,
            None,
            None,
            RouteFamily::ApiKey,
        );
        assert_eq!(e.to_string(), "NOT_FOUND (404): no such key");
        assert_eq!(Error::invalid_config("x").to_string(), "INVALID_CONFIG: x");
    }
}
