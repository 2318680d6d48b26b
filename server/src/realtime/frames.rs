//! The JSON text frames of `/api/realtime` (docs/realtime.md lists every field). The types are
//! the shared wire contract (`aerostack_protocol::realtime`, also what the engine speaks); this
//! module reads client frames with helpful errors and writes the platform's frames, each
//! serialised once.

use aerostack_protocol::realtime::ServerFrame;
use serde_json::Value;

pub use aerostack_protocol::realtime::ClientFrame;

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
            "the frame has no `type`: use subscribe, unsubscribe, publish, track, untrack, ping, auth or chat".to_string()
        } else {
            format!("invalid `{ty}` frame: {e} (docs/realtime.md lists the fields of every frame)")
        }
    })
}

pub fn connected(connection_id: &str, project_id: &str, user_id: Option<&str>, ts: i64) -> String {
    ServerFrame::Connected {
        connection_id: connection_id.to_owned(),
        project_id: project_id.to_owned(),
        user_id: user_id.map(str::to_owned),
        timestamp: Some(ts),
    }
    .to_text()
}

pub fn subscribed(topic: &str, requested: &str, ts: i64) -> String {
    ServerFrame::Subscribed {
        topic: topic.to_owned(),
        requested: Some(requested.to_owned()),
        timestamp: Some(ts),
    }
    .to_text()
}

pub fn unsubscribed(topic: &str) -> String {
    ServerFrame::Unsubscribed {
        topic: topic.to_owned(),
    }
    .to_text()
}

pub fn pong(id: Option<&Value>, ts: i64) -> String {
    ServerFrame::Pong {
        timestamp: Some(ts),
        id: id.cloned(),
    }
    .to_text()
}

pub fn ack(id: &Value, message_id: &str, ts: i64, persisted: bool) -> String {
    ServerFrame::Ack {
        id: id.clone(),
        message_id: Some(message_id.to_owned()),
        timestamp: Some(ts),
        persisted,
    }
    .to_text()
}

pub fn authenticated(user_id: &str) -> String {
    ServerFrame::Authenticated {
        user_id: Some(user_id.to_owned()),
    }
    .to_text()
}

/// `event` frame: publications and server emits. Serialised once, then fanned out.
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
        ServerFrame::Event {
            topic: self.topic.to_owned(),
            event: self.event.to_owned(),
            data: self.data.clone(),
            user_id: self.user_id.map(str::to_owned),
            id: Some(self.id.to_owned()),
            timestamp: Some(self.timestamp),
            persisted: Some(self.persisted),
        }
        .to_text()
    }
}

/// A presence event (`presence:sync|join|leave`), as an `event` frame so every client that
/// routes `event` frames by name (`on("presence:join")`) gets it: `userId` null, no `id`, no
/// `persisted`.
pub fn presence(topic: &str, event: &str, data: Value, ts: i64) -> String {
    ServerFrame::Event {
        topic: topic.to_owned(),
        event: event.to_owned(),
        data,
        user_id: None,
        id: None,
        timestamp: Some(ts),
        persisted: None,
    }
    .to_text()
}

pub fn error(code: &str, message: &str, topic: Option<&str>, id: Option<&Value>) -> String {
    ServerFrame::Error {
        code: code.to_owned(),
        message: message.to_owned(),
        topic: topic.map(str::to_owned),
        id: id.cloned(),
    }
    .to_text()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn writes_the_documented_frames() {
        let v = |t: String| serde_json::from_str::<Value>(&t).unwrap();
        assert_eq!(
            v(connected("c1", "proj_0123456789ab", None, 1)),
            json!({"type": "connected", "connectionId": "c1", "projectId": "proj_0123456789ab", "userId": null, "timestamp": 1})
        );
        assert_eq!(
            v(presence("t/p", "presence:leave", json!({"key": "c1"}), 2)),
            json!({"type": "event", "topic": "t/p", "event": "presence:leave", "data": {"key": "c1"}, "userId": null, "timestamp": 2})
        );
        let data = json!({"text": "hi"});
        let frame = EventFrame {
            topic: "t/p",
            event: "message",
            data: &data,
            user_id: Some("usr_1"),
            id: "m1",
            timestamp: 3,
            persisted: false,
        };
        assert_eq!(
            v(frame.to_text()),
            json!({"type": "event", "topic": "t/p", "event": "message", "data": {"text": "hi"}, "userId": "usr_1", "id": "m1", "timestamp": 3, "persisted": false})
        );
        assert_eq!(v(pong(None, 4)), json!({"type": "pong", "timestamp": 4}));
        assert_eq!(
            v(ack(&json!(7), "m", 5, true)),
            json!({"type": "ack", "id": 7, "messageId": "m", "timestamp": 5, "persisted": true})
        );
        assert_eq!(
            v(error("FORBIDDEN", "no", Some("t/p"), None)),
            json!({"type": "error", "code": "FORBIDDEN", "message": "no", "topic": "t/p"})
        );
    }
}
