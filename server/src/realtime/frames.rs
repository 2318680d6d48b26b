//! The JSON text frames of `/api/realtime` (docs/realtime.md lists every field).

use serde::Deserialize;
use serde_json::{Value, json};

/// A frame from a client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Subscribe {
        topic: String,
        /// Accepted for compatibility; not applied (as on the hosted platform).
        #[serde(default)]
        #[allow(dead_code)]
        filter: Value,
    },
    Unsubscribe {
        topic: String,
    },
    Publish {
        topic: String,
        event: String,
        #[serde(default)]
        data: Value,
        #[serde(default)]
        persist: bool,
        /// The client's id for the `ack` (string or number, echoed as sent).
        #[serde(default)]
        id: Option<Value>,
    },
    Track {
        topic: String,
        #[serde(default)]
        state: Value,
    },
    Untrack {
        topic: String,
    },
    Ping {
        #[serde(default)]
        id: Option<Value>,
    },
    Auth {
        token: String,
    },
}

/// Parse a text frame; the error is a message for an `error` frame.
pub fn parse(text: &str) -> Result<ClientFrame, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        format!("frames are JSON objects with a `type`, e.g. {{\"type\":\"ping\"}}: {e}")
    })?;
    let ty = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    serde_json::from_value(v).map_err(|e| {
        if ty.is_empty() {
            "the frame has no `type`: use subscribe, unsubscribe, publish, track, untrack, ping or auth".to_string()
        } else {
            format!("invalid `{ty}` frame: {e} (docs/realtime.md lists the fields of every frame)")
        }
    })
}

pub fn connected(connection_id: &str, project_id: &str, user_id: Option<&str>, ts: i64) -> String {
    json!({"type": "connected", "connectionId": connection_id, "projectId": project_id, "userId": user_id, "timestamp": ts}).to_string()
}

pub fn subscribed(topic: &str, requested: &str, ts: i64) -> String {
    json!({"type": "subscribed", "topic": topic, "requested": requested, "timestamp": ts})
        .to_string()
}

pub fn unsubscribed(topic: &str) -> String {
    json!({"type": "unsubscribed", "topic": topic}).to_string()
}

pub fn pong(id: Option<&Value>, ts: i64) -> String {
    let mut v = json!({"type": "pong", "timestamp": ts});
    if let Some(id) = id {
        v["id"] = id.clone();
    }
    v.to_string()
}

pub fn ack(id: &Value, message_id: &str, ts: i64, persisted: bool) -> String {
    json!({"type": "ack", "id": id, "messageId": message_id, "timestamp": ts, "persisted": persisted}).to_string()
}

pub fn authenticated(user_id: &str) -> String {
    json!({"type": "authenticated", "userId": user_id}).to_string()
}

/// `event` frame: publications, server emits and `presence:*`.
pub struct EventFrame<'a> {
    pub topic: &'a str,
    pub event: &'a str,
    pub data: &'a Value,
    pub user_id: Option<&'a str>,
    pub id: &'a str,
    pub timestamp: i64,
    pub persisted: bool,
}

impl EventFrame<'_> {
    pub fn to_text(&self) -> String {
        json!({
            "type": "event", "topic": self.topic, "event": self.event, "data": self.data,
            "userId": self.user_id, "id": self.id, "timestamp": self.timestamp, "persisted": self.persisted,
        })
        .to_string()
    }
}

/// A presence event (`presence:sync|join|leave`), as an `event` frame so every client that
/// routes `event` frames by name (`on("presence:join")`) gets it.
pub fn presence(topic: &str, event: &str, data: Value, ts: i64) -> String {
    json!({"type": "event", "topic": topic, "event": event, "data": data, "userId": null, "timestamp": ts}).to_string()
}

pub fn error(code: &str, message: &str, topic: Option<&str>, id: Option<&Value>) -> String {
    let mut v = json!({"type": "error", "code": code, "message": message});
    if let Some(t) = topic {
        v["topic"] = json!(t);
    }
    if let Some(id) = id {
        v["id"] = id.clone();
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_client_frames_and_explains_bad_ones() {
        assert!(matches!(
            parse(
                r#"{"type":"publish","topic":"t","event":"e","data":{"a":1},"persist":true,"id":"m1"}"#
            ),
            Ok(ClientFrame::Publish { persist: true, .. })
        ));
        assert!(matches!(
            parse(r#"{"type":"ping"}"#),
            Ok(ClientFrame::Ping { id: None })
        ));
        assert!(parse("nope").unwrap_err().contains("JSON"));
        assert!(parse(r#"{"topic":"t"}"#).unwrap_err().contains("no `type`"));
        assert!(
            parse(r#"{"type":"subscribe"}"#)
                .unwrap_err()
                .contains("topic")
        );
    }
}
