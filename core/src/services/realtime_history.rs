//! Persisted realtime messages: `GET {host}/api/v1/public/realtime/history`.

use crate::Timestamp;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::Result;
use crate::services::require;
use crate::transport::Call;

/// A message published with `persist: true`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HistoryMessage {
    /// Message id.
    #[serde(deserialize_with = "crate::wire::lenient_string")]
    pub id: Option<String>,
    /// Full topic of the room.
    pub room_id: Option<String>,
    /// Publisher, when known.
    pub user_id: Option<String>,
    /// Event name.
    pub event: String,
    /// Payload.
    pub data: Value,
    /// Publication time (its `unix_ms()` is the `before` that pages back).
    pub created_at: Timestamp,
    /// Order of storage: with `created_at`, a strict total order (messages of one millisecond
    /// differ in `seq`), the cursor that catches up without skipping any.
    pub seq: Option<i64>,
}

#[derive(Deserialize)]
struct HistoryReply {
    #[serde(default)]
    messages: Vec<HistoryMessage>,
}

impl Client {
    /// Persisted messages of `room` (a full topic), newest first. Page back with
    /// `before = last.created_at`.
    pub async fn realtime_history(
        &self,
        room: &str,
        limit: Option<u32>,
        before: Option<i64>,
    ) -> Result<Vec<HistoryMessage>> {
        require("room", room)?;
        // Built in a block: the serializer is not `Send` and must not live across the await.
        let query = {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("room", room);
            if let Some(l) = limit {
                q.append_pair("limit", &l.to_string());
            }
            if let Some(b) = before {
                q.append_pair("before", &b.to_string());
            }
            q.finish()
        };
        let url = self.host_url(&format!("/api/v1/public/realtime/history?{query}"));
        let r: HistoryReply = self.fetch_json(Call::new(Method::GET, url, true)).await?;
        Ok(r.messages)
    }
}

impl Client {
    /// Persisted messages of `room` published after `since` (unix ms), oldest first: how a client
    /// catches up after a gap. Without `since_seq` the whole millisecond `since` is excluded; with
    /// it, only the messages up to that `seq` in it. Page forward with `since = last.created_at`,
    /// `since_seq = last.seq`: nothing is skipped.
    pub async fn realtime_history_since(
        &self,
        room: &str,
        since: i64,
        since_seq: Option<i64>,
        limit: Option<u32>,
    ) -> Result<Vec<HistoryMessage>> {
        require("room", room)?;
        let query = {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("room", room);
            q.append_pair("since", &since.to_string());
            if let Some(s) = since_seq {
                q.append_pair("since_seq", &s.to_string());
            }
            if let Some(l) = limit {
                q.append_pair("limit", &l.to_string());
            }
            q.finish()
        };
        let url = self.host_url(&format!("/api/v1/public/realtime/history?{query}"));
        let r: HistoryReply = self.fetch_json(Call::new(Method::GET, url, true)).await?;
        Ok(r.messages)
    }
}
