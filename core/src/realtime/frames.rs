//! The JSON text frames of the realtime socket (docs/realtime.md): builders for what the engine
//! sends, a parser for what the platform sends.

use serde_json::{Value, json};

pub(crate) fn subscribe(topic: &str) -> String {
    json!({"type": "subscribe", "topic": topic}).to_string()
}

pub(crate) fn unsubscribe(topic: &str) -> String {
    json!({"type": "unsubscribe", "topic": topic}).to_string()
}

pub(crate) fn publish(topic: &str, event: &str, data: &Value, persist: bool, id: &str) -> String {
    json!({"type": "publish", "topic": topic, "event": event, "data": data, "persist": persist, "id": id}).to_string()
}

pub(crate) fn track(topic: &str, state: &Value) -> String {
    json!({"type": "track", "topic": topic, "state": state}).to_string()
}

pub(crate) fn untrack(topic: &str) -> String {
    json!({"type": "untrack", "topic": topic}).to_string()
}

pub(crate) fn ping() -> String {
    json!({"type": "ping"}).to_string()
}

pub(crate) fn auth(token: &str) -> String {
    json!({"type": "auth", "token": token}).to_string()
}

/// A frame from the platform.
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

fn text(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn parse(raw: &str) -> Option<Incoming> {
    let v: Value = serde_json::from_str(raw).ok()?;
    let ty = v.get("type")?.as_str()?;
    let ts = v.get("timestamp").and_then(Value::as_i64);
    let topic = || text(&v, "topic").unwrap_or_default();
    Some(match ty {
        "connected" => Incoming::Connected {
            connection_id: text(&v, "connectionId").unwrap_or_default(),
        },
        "subscribed" => Incoming::Subscribed {
            topic: topic(),
            requested: text(&v, "requested"),
            timestamp: ts,
        },
        "unsubscribed" => Incoming::Unsubscribed,
        "pong" => Incoming::Pong,
        "ack" => Incoming::Ack {
            id: text(&v, "id")?,
            message_id: text(&v, "messageId"),
            timestamp: ts,
            persisted: v.get("persisted").and_then(Value::as_bool).unwrap_or(false),
        },
        "authenticated" => Incoming::Authenticated,
        "event" => Incoming::Event {
            topic: topic(),
            event: text(&v, "event").unwrap_or_default(),
            data: v.get("data").cloned().unwrap_or(Value::Null),
            user_id: text(&v, "userId"),
            id: text(&v, "id"),
            timestamp: ts,
            persisted: v.get("persisted").and_then(Value::as_bool).unwrap_or(false),
        },
        "db_change" => Incoming::DbChange {
            topic: topic(),
            operation: text(&v, "operation").unwrap_or_default(),
            table: text(&v, "table"),
            data: v.get("data").cloned().unwrap_or(Value::Null),
            old: v.get("old").cloned().filter(|o| !o.is_null()),
            timestamp: ts,
        },
        "error" => Incoming::Error {
            code: text(&v, "code").unwrap_or_else(|| "INTERNAL_ERROR".into()),
            message: text(&v, "message").unwrap_or_default(),
            topic: text(&v, "topic"),
            id: text(&v, "id"),
        },
        _ => Incoming::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
