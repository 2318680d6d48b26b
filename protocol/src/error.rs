//! The JSON body of every error answer of the platform (HTTP routes and the WebSocket
//! handshakes): `{code, message, details, error, request_id}`, plus a few route-specific
//! top-level fields (e.g. `success: false`). docs/architecture.md lists the codes.
//!
//! The engine reads more shapes than this one (older platform generations, wire-facts §3.1);
//! this is the shape the local platform writes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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

    /// The body as a JSON object. An [`ErrorBody::extra`] entry named like one of
    /// [`ErrorBody::FIELDS`] is dropped (serialising the struct directly would repeat the key).
    pub fn into_value(mut self) -> Value {
        self.extra
            .retain(|k, _| !Self::FIELDS.contains(&k.as_str()));
        serde_json::to_value(self).expect("an error body is always serialisable")
    }
}
