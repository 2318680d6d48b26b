//! The state a realtime connection shares between its parts: what the host's handles
//! ([`super::RealtimeClient`], [`super::Channel`]) and the connection task
//! (connection.rs) read and change. A leaf: it depends on none of them, so the connection task
//! depends on the state alone, never on the handles.

use crate::Timestamp;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::dedup::SeenIds;
use super::frames::Incoming;
use super::presence::{PresenceEntry, PresenceState};
use super::{ConnectionStatus, EventKind, ListenerId, RealtimeConfig, RealtimeEvent};
use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::events::EventQueue;
use crate::services::realtime_history::HistoryMessage;

/// A frame waiting to be sent. Publications survive a disconnect (they are re-sent); control
/// frames do not, because subscriptions and presence are re-sent from the channel state.
pub(crate) struct Outgoing {
    pub text: String,
    pub publish_id: Option<String>,
}

pub(crate) struct State {
    pub status: ConnectionStatus,
    pub connected: bool,
    pub token: Option<String>,
    pub channels: BTreeMap<String, ChannelState>,
    pub next_listener: ListenerId,
    pub outbox: VecDeque<Outgoing>,
    /// Publications sent on the current socket and not yet acknowledged, in send order.
    pub inflight: Vec<(String, String)>,
    pub acks: HashMap<String, oneshot::Sender<Result<PublishAck>>>,
    /// Stops the running connection task; `None` when none runs.
    pub stop: Option<CancellationToken>,
    pub last_error: Option<String>,
}

pub(crate) struct Shared {
    pub client: Client,
    pub config: RealtimeConfig,
    pub url: String,
    pub state: Mutex<State>,
    pub events: EventQueue<RealtimeEvent>,
    /// Wakes the connection task: frames to send.
    pub wake: Notify,
    /// Woken (all waiters) when the platform confirms or refuses a subscription.
    pub subscriptions: Notify,
    pub status: watch::Sender<ConnectionStatus>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave this state half-updated in a harmful way: keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Record a status change and queue its event (no event when unchanged).
    pub async fn set_status(&self, status: ConnectionStatus, error: Option<String>) {
        {
            let mut st = self.lock();
            if st.status == status {
                return;
            }
            st.status = status;
            if error.is_some() {
                st.last_error = error.clone();
            }
        }
        self.status.send_replace(status);
        let mut ev = RealtimeEvent::new(
            EventKind::Status,
            None,
            "status",
            serde_json::json!({"status": status, "error": error}),
        );
        ev.status = Some(status);
        self.events.push(ev).await;
    }

    /// Queue a frame for the socket. Publications wait (bounded) while disconnected; control
    /// frames are only queued on a live socket (otherwise the reconnect re-sends state).
    pub fn send(&self, text: String, publish_id: Option<String>) -> Result<()> {
        let mut st = self.lock();
        if publish_id.is_none() && !st.connected {
            return Ok(());
        }
        if publish_id.is_some() && st.outbox.len() >= self.config.outbox_capacity {
            return Err(Error::new(
                ErrorCode::Other("BUFFER_FULL".into()),
                format!(
                    "{} publications are already waiting for the realtime connection; wait for it (status {:?}) or raise RealtimeConfig::outbox_capacity",
                    st.outbox.len(),
                    st.status
                ),
            ));
        }
        st.outbox.push_back(Outgoing { text, publish_id });
        drop(st);
        self.wake.notify_one();
        Ok(())
    }
}

/// The platform's `ack` of a publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishAck {
    /// Message id (the history id when persisted).
    pub id: String,
    /// When it was stored (the history `created_at` when persisted).
    pub timestamp: Option<Timestamp>,
    /// Stored for history.
    pub persisted: bool,
}

/// Does listener filter `f` take an event of `kind` named `event`? `*` takes messages, row
/// changes and presence; `presence:*` every presence event; any other filter an exact name.
pub(crate) fn filter_matches(f: &str, kind: EventKind, event: &str) -> bool {
    f == event
        || (f == "*"
            && matches!(
                kind,
                EventKind::Message | EventKind::DbChange | EventKind::Presence
            ))
        || (f == "presence:*" && kind == EventKind::Presence)
}

/// What the connection task knows about one channel.
pub(crate) struct ChannelState {
    /// Topic as sent in `subscribe` (qualified when the project id is known).
    pub requested: String,
    /// Row filter sent with `subscribe` (null: none); a table topic's rows the platform sends.
    pub filter: Value,
    /// The platform's full topic, from `subscribed`.
    pub topic: Option<String>,
    pub listeners: Vec<(ListenerId, String)>,
    pub tracked: Option<Value>,
    pub presence: PresenceState,
    pub seen: SeenIds,
    /// `created_at` of the newest persisted message delivered (catch-up starts there).
    pub last_persisted: Option<i64>,
    /// When the first subscription was confirmed: catch-up floor before any message arrived.
    pub floor: Option<i64>,
    /// Confirmed on the current socket.
    pub live: bool,
    /// Confirmed on some earlier socket: the next confirmation triggers a catch-up.
    pub confirmed_before: bool,
    /// Live `event` frames held back while missed messages are fetched, so order is kept.
    pub held: Option<Vec<Incoming>>,
    /// The platform refused the subscription: `(code, message)` (until it confirms one).
    pub refused: Option<(String, String)>,
}

impl ChannelState {
    pub fn new(requested: &str, dedup: usize) -> Self {
        ChannelState {
            requested: requested.to_string(),
            filter: Value::Null,
            topic: None,
            listeners: Vec::new(),
            tracked: None,
            presence: PresenceState::default(),
            seen: SeenIds::new(dedup),
            last_persisted: None,
            floor: None,
            live: false,
            confirmed_before: false,
            held: None,
            refused: None,
        }
    }

    pub fn full_topic(&self) -> &str {
        self.topic.as_deref().unwrap_or(&self.requested)
    }

    pub fn is(&self, topic: &str) -> bool {
        self.topic.as_deref() == Some(topic) || self.requested == topic
    }

    fn event(&self, kind: EventKind, name: &str, data: Value) -> RealtimeEvent {
        let mut ev = RealtimeEvent::new(kind, Some(self.full_topic().to_string()), name, data);
        ev.listeners = self
            .listeners
            .iter()
            .filter(|(_, f)| filter_matches(f, kind, name))
            .map(|(id, _)| *id)
            .collect();
        ev
    }

    pub fn subscribed_event(&self) -> RealtimeEvent {
        self.event(
            EventKind::Subscribed,
            "subscribed",
            json!({"topic": self.full_topic()}),
        )
    }

    pub fn error_event(&self, code: &str, message: &str) -> RealtimeEvent {
        self.event(
            EventKind::Error,
            "error",
            json!({"code": code, "message": message}),
        )
    }

    /// A live `event` / `db_change` frame of this topic as an event for the host: `None` for a
    /// duplicate. With `advance` false (a flush of held frames after a failed catch-up) the
    /// catch-up point is not moved, so the next catch-up still covers the gap.
    pub fn deliver(&mut self, frame: Incoming, advance: bool) -> Option<RealtimeEvent> {
        match frame {
            Incoming::Event {
                event,
                data,
                user_id,
                id,
                timestamp,
                persisted,
                ..
            } => {
                if let Some(id) = &id
                    && !self.seen.insert(id)
                {
                    return None;
                }
                if event.starts_with("presence:") {
                    return Some(self.presence_event(&event, data, timestamp));
                }
                if persisted
                    && advance
                    && let Some(ts) = timestamp
                {
                    self.last_persisted = Some(self.last_persisted.map_or(ts, |t| t.max(ts)));
                }
                let mut ev = self.event(EventKind::Message, &event, data);
                (ev.user_id, ev.id, ev.timestamp, ev.persisted) = (
                    user_id,
                    id,
                    timestamp.map(Timestamp::from_unix_ms),
                    persisted,
                );
                Some(ev)
            }
            Incoming::DbChange {
                operation,
                data,
                old,
                timestamp,
                ..
            } => {
                let mut ev = self.event(EventKind::DbChange, &operation, data);
                (ev.old, ev.timestamp) = (old, timestamp.map(Timestamp::from_unix_ms));
                Some(ev)
            }
            _ => None,
        }
    }

    /// A message fetched from history during catch-up (`None` if already delivered).
    pub fn replay(&mut self, m: HistoryMessage) -> Option<RealtimeEvent> {
        let id = m.id.clone()?;
        if !self.seen.insert(&id) {
            return None;
        }
        self.last_persisted = Some(
            self.last_persisted
                .map_or(m.created_at.unix_ms(), |t| t.max(m.created_at.unix_ms())),
        );
        let mut ev = self.event(EventKind::Message, &m.event, m.data);
        (ev.user_id, ev.id, ev.timestamp, ev.persisted, ev.replayed) =
            (m.user_id, Some(id), Some(m.created_at), true, true);
        Some(ev)
    }

    /// Apply a presence frame to the merged state; the event carries the platform's data, and
    /// for `presence:sync` the computed `joins` and `leaves` too.
    fn presence_event(&mut self, name: &str, data: Value, timestamp: Option<i64>) -> RealtimeEvent {
        let data = match name {
            "presence:sync" => {
                let list: Vec<PresenceEntry> = data
                    .get("presences")
                    .and_then(|p| serde_json::from_value(p.clone()).ok())
                    .unwrap_or_default();
                let diff = self.presence.sync(list);
                json!({"presences": self.presence.list(), "joins": diff.joins, "leaves": diff.leaves})
            }
            "presence:join" => match serde_json::from_value::<PresenceEntry>(data.clone()) {
                // The entry as every other presence entry the host sees (snake_case, one time type).
                Ok(e) => {
                    let shaped = serde_json::to_value(&e).unwrap_or(data);
                    self.presence.join(e);
                    shaped
                }
                Err(_) => snake_presence(data),
            },
            "presence:leave" => {
                if let Some(k) = data.get("key").and_then(Value::as_str) {
                    self.presence.leave(k);
                }
                match serde_json::from_value::<PresenceEntry>(data.clone()) {
                    Ok(e) => serde_json::to_value(&e).unwrap_or(data),
                    Err(_) => snake_presence(data),
                }
            }
            _ => data,
        };
        let mut ev = self.event(EventKind::Presence, name, data);
        ev.timestamp = timestamp.map(Timestamp::from_unix_ms);
        ev
    }
}

/// A presence frame's data with the wire's `userId` / `joinedAt` as `user_id` / `joined_at`, the
/// shape of [`PresenceEntry`] and of every other event the host sees.
fn snake_presence(mut data: Value) -> Value {
    if let Some(m) = data.as_object_mut() {
        for (wire, ours) in [("userId", "user_id"), ("joinedAt", "joined_at")] {
            if let Some(v) = m.remove(wire) {
                m.insert(ours.to_string(), v);
            }
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, ts: i64, persisted: bool) -> Incoming {
        Incoming::Event {
            topic: "t".into(),
            event: "msg".into(),
            data: json!(id),
            user_id: None,
            id: Some(id.into()),
            timestamp: Some(ts),
            persisted,
        }
    }

    #[test]
    fn filters_route_by_name_wildcard_and_presence() {
        assert!(filter_matches("INSERT", EventKind::DbChange, "INSERT"));
        assert!(!filter_matches("INSERT", EventKind::DbChange, "DELETE"));
        assert!(filter_matches("*", EventKind::Message, "anything"));
        assert!(!filter_matches("*", EventKind::Status, "status"));
        assert!(filter_matches(
            "presence:*",
            EventKind::Presence,
            "presence:leave"
        ));
        assert!(filter_matches(
            "subscribed",
            EventKind::Subscribed,
            "subscribed"
        ));
    }

    #[test]
    fn delivers_once_and_tracks_the_catch_up_point() {
        let mut c = ChannelState::new("t", 100);
        c.listeners.push((7, "msg".into()));
        let ev = c.deliver(event("a", 10, true), true).unwrap();
        assert_eq!(ev.listeners, vec![7]);
        assert_eq!(c.last_persisted, Some(10));
        assert!(c.deliver(event("a", 10, true), true).is_none(), "duplicate");
        // A flush after a failed catch-up does not move the point.
        c.deliver(event("b", 20, true), false).unwrap();
        assert_eq!(c.last_persisted, Some(10));
        // Replayed history: delivered once, marked, and moves the point.
        let m = HistoryMessage {
            id: Some("c".into()),
            event: "msg".into(),
            created_at: Timestamp::from_unix_ms(15),
            ..Default::default()
        };
        let ev = c.replay(m.clone()).unwrap();
        assert!(ev.replayed && ev.persisted);
        assert!(c.replay(m).is_none());
        assert_eq!(c.last_persisted, Some(15));
    }

    #[test]
    fn presence_frames_update_the_merged_state() {
        let mut c = ChannelState::new("t", 10);
        let frame = |event: &str, data: Value| Incoming::Event {
            topic: "t".into(),
            event: event.into(),
            data,
            user_id: None,
            id: None,
            timestamp: Some(1),
            persisted: false,
        };
        c.deliver(
            frame("presence:join", json!({"key": "k1", "state": {"n": 1}})),
            true,
        );
        let sync = c
            .deliver(
                frame(
                    "presence:sync",
                    json!({"presences": [{"key": "k2", "state": {}}]}),
                ),
                true,
            )
            .unwrap();
        assert_eq!(sync.data["joins"][0]["key"], "k2");
        assert_eq!(sync.data["leaves"][0]["key"], "k1");
        c.deliver(frame("presence:leave", json!({"key": "k2"})), true);
        assert!(c.presence.list().is_empty());
    }
}
