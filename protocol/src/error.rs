//! The JSON bodies of the platform's error answers. On `/v1` routes (except custom APIs) it is
//! the spec's [`ErrorResponse`] `{code, message, details}`, `code` one of [`SPEC_CODES`], with the
//! precise code in `details.code` and the request id in `details.request_id` (the generated
//! clients refuse anything else). Everywhere else (public end-user routes, custom APIs, the
//! WebSocket handshakes) it is [`ErrorBody`] `{code, message, details, error, request_id}`, plus
//! a few route-specific top-level fields (e.g. `success: false`), as the hand-written clients
//! read it. docs/architecture.md lists the codes and the mapping.
//!
//! The engine reads more shapes than this one (older platform generations, wire-facts §3.1);
//! this is the shape the local platform writes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The codes of the OpenAPI 1.5.0 `ErrorResponse.code` enum (the generated clients accept no
/// other value).
pub const SPEC_CODES: [&str; 7] = [
    "AUTH_INVALID_KEY",
    "AUTH_INVALID_CREDENTIALS",
    "DB_QUERY_FAILED",
    "RATE_LIMIT_EXCEEDED",
    "VALIDATION_ERROR",
    "INTERNAL_ERROR",
    "FORBIDDEN",
];

/// The key of [`ErrorResponse::details`] holding the precise code (e.g. `AUTH_USER_EXISTS`).
pub const DETAILS_CODE: &str = "code";
/// The key of [`ErrorResponse::details`] holding the request id.
pub const DETAILS_REQUEST_ID: &str = "request_id";

/// The spec's `ErrorResponse`, the error body of `/v1` routes: exactly these three fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorResponse {
    /// One of [`SPEC_CODES`].
    pub code: String,
    /// What went wrong and what to do instead.
    pub message: String,
    /// The error's details, plus [`DETAILS_CODE`] and [`DETAILS_REQUEST_ID`].
    #[serde(default)]
    pub details: Map<String, Value>,
}

/// An error answer's body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable error code, e.g. `VALIDATION_ERROR`.
    pub code: String,
    /// What went wrong and what to do instead.
    pub message: String,
    /// Structured details (`field`, `allowed`, ...); `{}` when there are none.
    #[serde(default)]
    pub details: Map<String, Value>,
    /// The message again, for SDKs that read `error` (or `{code, message}`: the documented
    /// rate-limit shape).
    pub error: ErrorField,
    /// The request's id (also in the `X-Request-Id` header); `null` when unknown.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Extra top-level fields some routes add (`success: false`, `emailNotVerified`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `error` field of an [`ErrorBody`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorField {
    /// The message as a string (most routes).
    Message(String),
    /// `{code, message}` (the rate-limit answer).
    Object { code: String, message: String },
}

impl ErrorBody {
    /// The fields every error body has; [`ErrorBody::extra`] never overrides them.
    pub const FIELDS: [&'static str; 5] = ["code", "message", "details", "error", "request_id"];

    /// A body with `error` as the message, no details and no request id.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ErrorBody {
        let message = message.into();
        ErrorBody {
            code: code.into(),
            error: ErrorField::Message(message.clone()),
            message,
            details: Map::new(),
            request_id: None,
            extra: Map::new(),
        }
    }

    /// Render `error` as `{code, message}` instead of the message.
    pub fn error_as_object(mut self) -> ErrorBody {
        self.error = ErrorField::Object {
            code: self.code.clone(),
            message: self.message.clone(),
        };
        self
    }

    /// The same error as the spec's [`ErrorResponse`]: `spec_code` (one of [`SPEC_CODES`]) on
    /// top, the precise code and the request id in `details`, and the extra top-level fields
    /// moved into `details` (without overriding a detail of the same name).
    pub fn into_spec(self, spec_code: &str) -> ErrorResponse {
        let mut details = self.details;
        for (k, v) in self.extra {
            details.entry(k).or_insert(v);
        }
        details.insert(DETAILS_CODE.to_string(), Value::String(self.code));
        if let Some(id) = self.request_id {
            details.insert(DETAILS_REQUEST_ID.to_string(), Value::String(id));
        }
        ErrorResponse {
            code: spec_code.to_string(),
            message: self.message,
            details,
        }
    }

    /// The body as a JSON object. An [`ErrorBody::extra`] entry named like one of
    /// [`ErrorBody::FIELDS`] is dropped (serialising the struct directly would repeat the key).
    pub fn into_value(mut self) -> Value {
        self.extra
            .retain(|k, _| !Self::FIELDS.contains(&k.as_str()));
        serde_json::to_value(self).expect("an error body is always serialisable")
    }
}
