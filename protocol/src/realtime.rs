//! The frames of the realtime socket, `GET /api/realtime` (docs/realtime.md §3 and §4). Every
//! frame is one JSON object in a WebSocket text frame, tagged by `type`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lenient;

/// Client → platform (docs/realtime.md §3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Answered with `subscribed` (then `presence:sync` when presence is in use on the topic or
    /// `presence` is true: docs/realtime.md §6).
    Subscribe {
        /// As the client names it; the platform normalises it (docs/realtime.md §2).
        topic: String,
        /// Row filter of a table topic, as the official clients send it (an object of
        /// `column: value` or `column: "op.value"`, docs/realtime.md §5): `db_change` frames of
        /// rows that do not match are not delivered. Omitted when null.
        #[serde(default, skip_serializing_if = "Value::is_null")]
        filter: Value,
        /// **(ours)** Presence frames for this subscription: `true` always (a `presence:sync`
        /// right after `subscribed`, what the engine sends), `false` never, absent: only where
        /// presence is in use on the topic.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        presence: Option<bool>,
    },
    /// Answered with `unsubscribed`.
    Unsubscribe { topic: String },
    /// An `event` frame to the topic's other subscribers; `ack` when `id` was given.
    Publish {
        topic: String,
        event: String,
        #[serde(default)]
        data: Value,
        /// Store for history (default false).
        #[serde(default)]
        persist: bool,
        /// The client's id for the `ack`, a string or a number, echoed as sent. A UUID becomes
        /// the message id (an idempotent publish).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<Value>,
    },
    /// Presence: `presence:join` to every subscriber. A null state means `{}`.
    Track {
        topic: String,
        #[serde(default)]
        state: Value,
    },
    /// Presence: `presence:leave` to every subscriber.
    Untrack { topic: String },
    /// Answered with `pong` (echoing `id`).
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<Value>,
    },
    /// A fresh end-user token for the connection; answered with `authenticated` or `error`.
    Auth { token: String },
    /// The official clients' legacy `sendChat(roomId, text, metadata?)`: a persisted `message`
    /// event on `chat/{roomId}` (docs/realtime.md §3); no answer unless refused.
    Chat {
        #[serde(rename = "roomId")]
        room_id: String,
        text: String,
        #[serde(default, skip_serializing_if = "Value::is_null")]
        metadata: Value,
    },
}

impl ClientFrame {
    /// The frame as the text of a WebSocket message.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a client frame is always serialisable")
    }
}

fn internal_error() -> String {
    "INTERNAL_ERROR".into()
}

fn error_code<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(lenient::opt_text(d)?.unwrap_or_else(internal_error))
}

/// Platform → client (docs/realtime.md §4).
///
/// The platform fills every field its frames carry (timestamps are `Some`). Reading is lenient,
/// as the engine also reads the hosted platform: absent fields take defaults, ids may be strings
/// or numbers, a field of an unexpected type reads as absent, and an unknown `type` reads as
/// [`ServerFrame::Other`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum ServerFrame {
    /// First frame of a connection **(ours)**.
    Connected {
        /// Also the presence key of the connection.
        #[serde(default, deserialize_with = "lenient::text")]
        connection_id: String,
        #[serde(default, deserialize_with = "lenient::text")]
        project_id: String,
        /// Sent as `null` for a connection without a user.
        #[serde(default, deserialize_with = "lenient::opt_text")]
        user_id: Option<String>,
        #[serde(
            default,
            deserialize_with = "lenient::opt_i64",
            skip_serializing_if = "Option::is_none"
        )]
        timestamp: Option<i64>,
    },
    /// Answer to `subscribe`.
    Subscribed {
        /// The full topic.
        #[serde(default, deserialize_with = "lenient::text")]
        topic: String,
        /// The topic as the client sent it.
        #[serde(
            default,
            deserialize_with = "lenient::opt_text",
            skip_serializing_if = "Option::is_none"
        )]
        requested: Option<String>,
        /// Server time of the subscription (unix ms).
        #[serde(
            default,
            deserialize_with = "lenient::opt_i64",
            skip_serializing_if = "Option::is_none"
        )]
        timestamp: Option<i64>,
    },
    /// Answer to `unsubscribe`.
    Unsubscribed {
        #[serde(default, deserialize_with = "lenient::text")]
        topic: String,
    },
    /// A committed row change (docs/realtime.md §5).
    DbChange {
        #[serde(default, deserialize_with = "lenient::text")]
        topic: String,
        #[serde(
            default,
            deserialize_with = "lenient::opt_text",
            skip_serializing_if = "Option::is_none"
        )]
        table: Option<String>,
        /// `INSERT`, `UPDATE` or `DELETE`.
        #[serde(default, deserialize_with = "lenient::text")]
        operation: String,
        /// The new row; null for DELETE.
        #[serde(default)]
        data: Value,
        /// The old row for UPDATE/DELETE; sent as `null` otherwise.
        #[serde(default)]
        old: Option<Value>,
        #[serde(
            default,
            deserialize_with = "lenient::opt_i64",
            skip_serializing_if = "Option::is_none"
        )]
        timestamp: Option<i64>,
    },
    /// A publication, a server emit, or presence (`presence:sync|join|leave`).
    Event {
        #[serde(default, deserialize_with = "lenient::text")]
        topic: String,
        #[serde(default, deserialize_with = "lenient::text")]
        event: String,
        #[serde(default)]
        data: Value,
        /// The publisher's user; sent as `null` for server emits and presence.
        #[serde(default, deserialize_with = "lenient::opt_text")]
        user_id: Option<String>,
        /// The message id; omitted for presence.
        #[serde(
            default,
            deserialize_with = "lenient::opt_text",
            skip_serializing_if = "Option::is_none"
        )]
        id: Option<String>,
        #[serde(
            default,
            deserialize_with = "lenient::opt_i64",
            skip_serializing_if = "Option::is_none"
        )]
        timestamp: Option<i64>,
        /// Whether the message is in history; omitted for presence (reads as false).
        #[serde(
            default,
            deserialize_with = "lenient::opt_flag",
            skip_serializing_if = "Option::is_none"
        )]
        persisted: Option<bool>,
    },
    /// Answer to a `publish` that carried an `id`.
    Ack {
        /// The publish id as sent (string or number).
        id: Value,
        #[serde(
            default,
            deserialize_with = "lenient::opt_text",
            skip_serializing_if = "Option::is_none"
        )]
        message_id: Option<String>,
        #[serde(
            default,
            deserialize_with = "lenient::opt_i64",
            skip_serializing_if = "Option::is_none"
        )]
        timestamp: Option<i64>,
        #[serde(default, deserialize_with = "lenient::flag")]
        persisted: bool,
    },
    /// Answer to `ping`.
    Pong {
        #[serde(
            default,
            deserialize_with = "lenient::opt_i64",
            skip_serializing_if = "Option::is_none"
        )]
        timestamp: Option<i64>,
        /// The ping's id, when it had one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<Value>,
    },
    /// Answer to a successful `auth`.
    Authenticated {
        #[serde(default, deserialize_with = "lenient::opt_text")]
        user_id: Option<String>,
    },
    /// A refused frame (the connection stays open).
    Error {
        /// `VALIDATION_ERROR`, `FORBIDDEN`, `AUTH_TOKEN_INVALID`, ...; reads as
        /// `INTERNAL_ERROR` when absent.
        #[serde(default = "internal_error", deserialize_with = "error_code")]
        code: String,
        #[serde(default, deserialize_with = "lenient::text")]
        message: String,
        #[serde(
            default,
            deserialize_with = "lenient::opt_text",
            skip_serializing_if = "Option::is_none"
        )]
        topic: Option<String>,
        /// The publish id it answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<Value>,
    },
    /// Any other `type` (the legacy `chat_message`, future frames): read, never sent.
    #[serde(other, skip_serializing)]
    Other,
}

impl ServerFrame {
    /// The frame as the text of a WebSocket message. The platform serialises a frame once and
    /// fans the text out to every subscriber.
    ///
    /// [`ServerFrame::Other`] is never sent and yields an empty string.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a frame from the platform; `None` for text that is not a JSON object with a
    /// string `type`.
    pub fn parse(text: &str) -> Option<ServerFrame> {
        serde_json::from_str(text).ok()
    }
}
