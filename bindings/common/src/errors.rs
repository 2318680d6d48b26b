//! Error families: the one table that maps the engine's stable error codes onto the exception
//! classes every language exposes (Python `AuthError`, Node `AuthError`, Go `ErrAuth`, PHP
//! `Aerostack\Exception\AuthException`, ...). Bindings only rename the family in their idiom.

use aerostack::Error;
use serde::Serialize;
use serde_json::Value;

/// The exception family of an error code. `as_str` values are stable: bindings key on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorFamily {
    /// Bad API key or credentials, expired or invalid tokens (401, 403).
    Auth,
    /// The request was refused as invalid: a field is missing or wrong (400, 413, 422).
    Validation,
    /// The thing asked for does not exist (404).
    NotFound,
    /// A conflict such as an existing user or a reused idempotency key (409).
    Conflict,
    /// Too many requests; `retry_after` says when to come back (429).
    RateLimit,
    /// The server or an upstream failed (5xx), including services not configured or not running.
    Server,
    /// The request never got an answer: connection refused, reset, DNS.
    Network,
    /// The call ran out of time.
    Timeout,
    /// The caller cancelled the call.
    Cancelled,
    /// The client was configured wrongly (missing key, bad URL).
    Config,
    /// The answer could not be decoded into the expected shape.
    Decode,
}

impl ErrorFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorFamily::Auth => "auth",
            ErrorFamily::Validation => "validation",
            ErrorFamily::NotFound => "not_found",
            ErrorFamily::Conflict => "conflict",
            ErrorFamily::RateLimit => "rate_limit",
            ErrorFamily::Server => "server",
            ErrorFamily::Network => "network",
            ErrorFamily::Timeout => "timeout",
            ErrorFamily::Cancelled => "cancelled",
            ErrorFamily::Config => "config",
            ErrorFamily::Decode => "decode",
        }
    }
}

/// The family of an error, from its code and, for codes we do not know, its HTTP status.
pub fn family_of(code: &str, status: Option<u16>) -> ErrorFamily {
    match code {
        "NETWORK_ERROR" => return ErrorFamily::Network,
        "TIMEOUT" | "NETWORK_TIMEOUT" => return ErrorFamily::Timeout,
        "CANCELLED" => return ErrorFamily::Cancelled,
        "INVALID_CONFIG" | "CONFIGURATION_ERROR" => return ErrorFamily::Config,
        "DECODE_ERROR" => return ErrorFamily::Decode,
        "RATE_LIMIT_EXCEEDED" => return ErrorFamily::RateLimit,
        "NOT_FOUND" | "QUEUE_JOB_NOT_FOUND" | "SERVICE_NOT_FOUND" => return ErrorFamily::NotFound,
        "AUTH_USER_EXISTS" | "EMAIL_ALREADY_IN_USE" | "IDEMPOTENCY_CONFLICT" => return ErrorFamily::Conflict,
        "VALIDATION_ERROR" | "PAYLOAD_TOO_LARGE" | "DB_QUERY_FAILED" | "AUTH_PASSWORD_WEAK" => {
            return ErrorFamily::Validation;
        }
        // Out of gateway credits: the consumer may not (until credited), like a forbidden call.
        "FORBIDDEN" | "INSUFFICIENT_CREDITS" => return ErrorFamily::Auth,
        _ => {}
    }
    if code.starts_with("AUTH_") {
        return ErrorFamily::Auth;
    }
    match status {
        Some(401 | 403) => ErrorFamily::Auth,
        Some(404) => ErrorFamily::NotFound,
        Some(409) => ErrorFamily::Conflict,
        Some(429) => ErrorFamily::RateLimit,
        Some(400..=499) => ErrorFamily::Validation,
        _ => ErrorFamily::Server,
    }
}

/// The one error object every binding turns into its exception: built once, here, from the
/// engine's [`Error`]. `family` picks the exception class; the rest are its attributes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorDto {
    /// Stable code (`VALIDATION_ERROR`, `TIMEOUT`, a platform code kept verbatim, ...).
    pub code: String,
    /// The exception family of `code` ([`family_of`]).
    pub family: ErrorFamily,
    /// HTTP status, when the platform answered.
    pub status: Option<u16>,
    pub message: String,
    pub request_id: Option<String>,
    /// Whether a retry may succeed.
    pub retryable: bool,
    /// The platform's `Retry-After`, in milliseconds.
    pub retry_after_ms: Option<u64>,
    /// Structured details (`{"field": ...}` for validation errors).
    pub details: Option<Value>,
    /// The raw answer body, when there was one.
    pub body: Option<String>,
}

impl From<&Error> for ErrorDto {
    fn from(e: &Error) -> ErrorDto {
        let code = e.code().as_str().to_string();
        ErrorDto {
            family: family_of(&code, e.status()),
            code,
            status: e.status(),
            message: crate::naming::apply(e.message()).into_owned(),
            request_id: e.request_id().map(str::to_string),
            retryable: e.retryable(),
            retry_after_ms: e.retry_after().map(|d| d.as_millis() as u64),
            details: e.details().cloned(),
            body: e.body().map(str::to_string),
        }
    }
}

impl From<Error> for ErrorDto {
    fn from(e: Error) -> ErrorDto {
        ErrorDto::from(&e)
    }
}

impl ErrorDto {
    /// The JSON object (for bindings that pass errors as JSON: the C ABI).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dto_carries_every_field_and_the_family() {
        let e = Error::validation("sql", "db.query needs `sql`");
        let d = ErrorDto::from(&e);
        assert_eq!(d.code, "VALIDATION_ERROR");
        assert_eq!(d.family, ErrorFamily::Validation);
        assert_eq!(d.details.as_ref().unwrap()["field"], "sql");
        assert_eq!(d.to_json()["family"], "validation");
    }

    #[test]
    fn codes_map_to_families() {
        assert_eq!(family_of("AUTH_INVALID_KEY", Some(401)), ErrorFamily::Auth);
        assert_eq!(family_of("AUTH_USER_EXISTS", Some(409)), ErrorFamily::Conflict);
        assert_eq!(family_of("VALIDATION_ERROR", Some(400)), ErrorFamily::Validation);
        assert_eq!(family_of("RATE_LIMIT_EXCEEDED", Some(429)), ErrorFamily::RateLimit);
        assert_eq!(family_of("AI_NOT_CONFIGURED", Some(503)), ErrorFamily::Server);
        assert_eq!(family_of("NETWORK_ERROR", None), ErrorFamily::Network);
        assert_eq!(family_of("TIMEOUT", None), ErrorFamily::Timeout);
    }

    #[test]
    fn unknown_codes_fall_back_to_the_status() {
        assert_eq!(family_of("SOMETHING_NEW", Some(404)), ErrorFamily::NotFound);
        assert_eq!(family_of("SOMETHING_NEW", Some(418)), ErrorFamily::Validation);
        assert_eq!(family_of("SOMETHING_NEW", Some(502)), ErrorFamily::Server);
        assert_eq!(family_of("SOMETHING_NEW", None), ErrorFamily::Server);
        assert_eq!(ErrorFamily::RateLimit.as_str(), "rate_limit");
    }
}
