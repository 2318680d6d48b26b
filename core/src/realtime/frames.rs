//! The JSON text frames of the realtime socket (docs/realtime.md). The wire types are
//! `aerostack_protocol::realtime` (shared with the platform); this module builds what the
//! engine sends and reduces what the platform sends to what the engine acts on.

use aerostack_protocol::lenient::text_of;
use aerostack_protocol::realtime::{ClientFrame, ServerFrame};
use serde_json::Value;

pub(crate) fn subscribe(topic: &str, filter: &Value) -> String {
    ClientFrame::Subscribe {
        topic: topic.to_owned(),
        filter: filter.clone(),
        // The engine merges presence from the `presence:sync` of every (re)subscription.
        presence: Some(true),
    }
    .to_text()
}

pub(crate) fn unsubscribe(topic: &str) -> String {
    ClientFrame::Unsubscribe {
        topic: topic.to_owned(),
    }
    .to_text()
}

pub(crate) fn publish(topic: &str, event: &str, data: &Value, persist: bool, id: &str) -> String {
    ClientFrame::Publish {
        topic: topic.to_owned(),
        event: event.to_owned(),
        data: data.clone(),
        persist,
        id: Some(Value::String(id.to_owned())),
    }
    .to_text()
}

pub(crate) fn track(topic: &str, state: &Value) -> String {
    ClientFrame::Track {
        topic: topic.to_owned(),
        state: state.clone(),
    }
    .to_text()
}

pub(crate) fn untrack(topic: &str) -> String {
    ClientFrame::Untrack {
        topic: topic.to_owned(),
    }
    .to_text()
}

pub(crate) fn chat(room_id: &str, text: &str, metadata: &Value) -> String {
    ClientFrame::Chat {
        room_id: room_id.to_owned(),
        text: text.to_owned(),
        metadata: metadata.clone(),
    }
    .to_text()
}

pub(crate) fn ping() -> String {
    ClientFrame::Ping { id: None }.to_text()
}

pub(crate) fn auth(token: &str) -> String {
    ClientFrame::Auth {
        token: token.to_owned(),
    }
    .to_text()
}

/// A frame from the platform, reduced to what the engine acts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Incoming {
    Connected {
        connection_id: String,
    },
    Subscribed {
        topic: String,
        requested: Option<String>,
        timestamp: Option<i64>,
    },
    Unsubscribed,
    Pong,
    Ack {
        id: String,
        message_id: Option<String>,
        timestamp: Option<i64>,
        persisted: bool,
    },
    Authenticated,
    Event {
        topic: String,
        event: String,
        data: Value,
        user_id: Option<String>,
        id: Option<String>,
        timestamp: Option<i64>,
        persisted: bool,
    },
    DbChange {
        topic: String,
        operation: String,
        table: Option<String>,
        data: Value,
        old: Option<Value>,
        timestamp: Option<i64>,
    },
    Error {
        code: String,
        message: String,
        topic: Option<String>,
        id: Option<String>,
    },
    /// Anything else (legacy `chat_message`, future types): ignored.
    Other,
}

/// Reads a platform frame; `None` for text that is not a frame (not a JSON object with a
/// string `type`, or an `ack` without a usable id).
pub(crate) fn parse(raw: &str) -> Option<Incoming> {
    Some(match ServerFrame::parse(raw)? {
        ServerFrame::Connected { connection_id, .. } => Incoming::Connected { connection_id },
        ServerFrame::Subscribed {
            topic,
            requested,
            timestamp,
        } => Incoming::Subscribed {
            topic,
            requested,
            timestamp,
        },
        ServerFrame::Unsubscribed { .. } => Incoming::Unsubscribed,
        ServerFrame::Pong { .. } => Incoming::Pong,
        ServerFrame::Ack {
            id,
            message_id,
            timestamp,
            persisted,
        } => Incoming::Ack {
            id: text_of(&id)?,
            message_id,
            timestamp,
            persisted,
        },
        ServerFrame::Authenticated { .. } => Incoming::Authenticated,
        ServerFrame::Event {
            topic,
            event,
            data,
            user_id,
            id,
            timestamp,
            persisted,
        } => Incoming::Event {
            topic,
            event,
            data,
            user_id,
            id,
            timestamp,
            persisted: persisted.unwrap_or(false),
        },
        ServerFrame::DbChange {
            topic,
            table,
            operation,
            data,
            old,
            timestamp,
        } => Incoming::DbChange {
            topic,
            operation,
            table,
            data,
            old: old.filter(|o| !o.is_null()),
            timestamp,
        },
        ServerFrame::Error {
            code,
            message,
            topic,
            id,
        } => Incoming::Error {
            code,
            message,
            topic,
            id: id.as_ref().and_then(text_of),
        },
        ServerFrame::Other => Incoming::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_platform_frames() {
        assert_eq!(
            parse(r#"{"type":"ack","id":7,"messageId":"m","timestamp":5,"persisted":true}"#),
            Some(Incoming::Ack {
                id: "7".into(),
                message_id: Some("m".into()),
                timestamp: Some(5),
                persisted: true
            })
        );
        assert!(matches!(
            parse(
                r#"{"type":"db_change","topic":"table/t/p","operation":"DELETE","data":null,"old":{"id":1}}"#
            ),
            Some(Incoming::DbChange { old: Some(_), .. })
        ));
        assert_eq!(parse(r#"{"type":"chat_message"}"#), Some(Incoming::Other));
        assert_eq!(parse("not json"), None);
        assert_eq!(parse(r#"{"type":"ack","id":{}}"#), None);
        assert_eq!(
            parse(r#"{"type":"error","message":"m","id":3}"#),
            Some(Incoming::Error {
                code: "INTERNAL_ERROR".into(),
                message: "m".into(),
                topic: None,
                id: Some("3".into())
            })
        );
    }

    #[test]
    fn writes_the_documented_client_frames() {
        let v = |t: String| serde_json::from_str::<Value>(&t).unwrap();
        assert_eq!(
            v(subscribe("todos", &Value::Null)),
            json!({"type": "subscribe", "topic": "todos", "presence": true})
        );
        assert_eq!(
            v(subscribe("todos", &json!({"done": 0}))),
            json!({"type": "subscribe", "topic": "todos", "filter": {"done": 0}, "presence": true})
        );
        assert_eq!(
            v(publish("t", "e", &json!({"a": 1}), false, "m1")),
            json!({"type": "publish", "topic": "t", "event": "e", "data": {"a": 1}, "persist": false, "id": "m1"})
        );
        assert_eq!(v(ping()), json!({"type": "ping"}));
        assert_eq!(v(auth("j")), json!({"type": "auth", "token": "j"}));
    }
}
