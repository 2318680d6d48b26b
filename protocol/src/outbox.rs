//! The local platform's outbox (`GET /v1/local/outbox?to=&limit=`): the emails and SMS it
//! would have sent, so tests and demos can read one-time codes and verification/reset tokens.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// A message the local platform "sent". Every field is always present on the wire (`code`,
/// `token` as `null` when the message has none).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboxMessage {
    /// Message id.
    pub id: String,
    /// Recipient (email or phone).
    pub to: String,
    /// `otp`, `otp_sms`, `verify_email`, `password_reset`, ...
    pub kind: String,
    /// Subject line.
    pub subject: String,
    /// Body text.
    pub body: String,
    /// One-time code, for OTP messages.
    pub code: Option<String>,
    /// Verification or reset token, for link messages.
    pub token: Option<String>,
    /// When it was sent (an ISO-8601 UTC time with milliseconds on the wire; a unix number from
    /// another platform generation reads as the same time).
    #[serde(deserialize_with = "crate::time::opt_lenient")]
    pub created_at: Option<Timestamp>,
}

/// The answer of `GET /v1/local/outbox`: newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutboxPage {
    #[serde(default)]
    pub messages: Vec<OutboxMessage>,
}
