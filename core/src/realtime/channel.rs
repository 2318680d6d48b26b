//! Channels: one topic each, with listeners (`on`), publish with ack, presence and history; and
//! the per-topic state the connection task keeps (dedup window, catch-up point, presence).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::client::RealtimeClient;
use super::dedup::SeenIds;
use super::frames::{self, Incoming};
use super::presence::{PresenceEntry, PresenceState};
use super::{EventKind, ListenerId, RealtimeEvent};
use crate::error::{Error, ErrorCode, Result};
use crate::services::realtime_history::HistoryMessage;

/// Options of [`Channel::publish`].
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// Store the message for history (and catch-up after reconnects).
    pub persist: bool,
    /// Ack timeout for this call (default: the client's `ack_timeout`).
    pub timeout: Option<Duration>,
}

impl PublishOptions {
    /// `persist: true`.
    pub fn persisted() -> Self {
        PublishOptions {
            persist: true,
            timeout: None,
        }
    }
}

/// The platform's `ack` of a publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishAck {
    /// Message id (the history id when persisted).
    pub id: String,
    /// Unix milliseconds (the history `created_at` when persisted).
    pub timestamp: Option<i64>,
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
                (ev.user_id, ev.id, ev.timestamp, ev.persisted) =
                    (user_id, id, timestamp, persisted);
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
                (ev.old, ev.timestamp) = (old, timestamp);
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
                .map_or(m.created_at, |t| t.max(m.created_at)),
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
            "presence:join" => {
                if let Ok(e) = serde_json::from_value::<PresenceEntry>(data.clone()) {
                    self.presence.join(e);
                }
                snake_presence(data)
            }
            "presence:leave" => {
                if let Some(k) = data.get("key").and_then(Value::as_str) {
                    self.presence.leave(k);
                }
                snake_presence(data)
            }
            _ => data,
        };
        let mut ev = self.event(EventKind::Presence, name, data);
        ev.timestamp = timestamp;
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

/// One topic of a [`RealtimeClient`]. Cheap to clone; keeps the client alive.
#[derive(Clone)]
pub struct Channel {
    rt: RealtimeClient,
    key: String,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("topic", &self.topic())
            .finish()
    }
}

impl Channel {
    pub(crate) fn new(rt: RealtimeClient, key: String) -> Channel {
        Channel { rt, key }
    }

    /// The full topic (the platform's, once it confirmed the subscription).
    pub fn topic(&self) -> String {
        self.rt
            .shared
            .lock()
            .channels
            .get(&self.key)
            .map_or_else(|| self.key.clone(), |c| c.full_topic().to_string())
    }

    /// True while the platform confirmed the subscription on the current socket.
    pub fn is_subscribed(&self) -> bool {
        self.rt
            .shared
            .lock()
            .channels
            .get(&self.key)
            .is_some_and(|c| c.live)
    }

    /// Waits until the platform confirms the subscription on the current socket (connecting if
    /// needed). Fails with the platform's error when it refuses the topic (an unknown table, a
    /// topic of another project), or with `TIMEOUT` after `timeout`.
    pub async fn wait_subscribed(&self, timeout: Duration) -> Result<()> {
        let shared = &self.rt.shared;
        self.rt.connect_in_background();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = shared.subscriptions.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let st = shared.lock();
                match st.channels.get(&self.key) {
                    None => {
                        return Err(Error::validation(
                            "topic",
                            format!("the channel {} was unsubscribed; call channel() again to subscribe", self.key),
                        ));
                    }
                    Some(c) if c.live => return Ok(()),
                    Some(c) => {
                        if let Some((code, message)) = &c.refused {
                            return Err(Error::new(ErrorCode::parse(code), message.clone()));
                        }
                    }
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let status = shared.lock().status;
                return Err(Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "the subscription to {} was not confirmed within {} ms (connection {status:?}); raise the timeout or check the connection's status events",
                        self.key,
                        timeout.as_millis()
                    ),
                ));
            }
        }
    }

    /// Listen to `event`: a published name, `INSERT`/`UPDATE`/`DELETE`, `presence:join` /
    /// `presence:leave` / `presence:sync`, `presence:*`, `*` (all of those), `subscribed` or
    /// `error`. Events whose filter matched carry the returned id in `listeners`.
    pub fn on(&self, event: &str) -> ListenerId {
        let id = self.rt.next_listener();
        if let Some(c) = self.rt.shared.lock().channels.get_mut(&self.key) {
            c.listeners.push((id, event.to_string()));
        }
        id
    }

    /// Remove a listener; false if it was not registered here.
    pub fn off(&self, id: ListenerId) -> bool {
        let mut st = self.rt.shared.lock();
        let Some(c) = st.channels.get_mut(&self.key) else {
            return false;
        };
        let before = c.listeners.len();
        c.listeners.retain(|(l, _)| *l != id);
        before != c.listeners.len()
    }

    /// Publish `event` with `data` to the topic's other subscribers; resolves on the platform's
    /// `ack`. While disconnected the frame waits in a bounded buffer (and is re-sent after a
    /// reconnect if it was never acknowledged: the platform recognises the re-send by its id).
    pub async fn publish(
        &self,
        event: &str,
        data: Value,
        options: PublishOptions,
    ) -> Result<PublishAck> {
        crate::services::require("event", event)?;
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        let frame = frames::publish(&self.topic(), event, &data, options.persist, &id);
        self.rt.shared.lock().acks.insert(id.clone(), tx);
        if let Err(e) = self.rt.send(frame, Some(id.clone())) {
            self.rt.shared.lock().acks.remove(&id);
            return Err(e);
        }
        self.rt.connect_in_background();
        let wait = options.timeout.unwrap_or(self.rt.shared.config.ack_timeout);
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(Error::cancelled()),
            Err(_) => {
                // Withdraw it if it was never sent, so a late reconnect does not publish a
                // message the caller was told had failed.
                let mut st = self.rt.shared.lock();
                st.acks.remove(&id);
                st.outbox
                    .retain(|o| o.publish_id.as_deref() != Some(id.as_str()));
                st.inflight.retain(|(i, _)| *i != id);
                Err(Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "no ack for the publication on {} within {wait:?} (status {:?})",
                        self.key, st.status
                    ),
                ))
            }
        }
    }

    /// Be present on the topic with `state` (replaces a previous state). Kept across reconnects.
    pub fn track(&self, state: Value) -> Result<()> {
        if !(state.is_object() || state.is_null()) {
            return Err(Error::validation(
                "state",
                "presence state must be a JSON object, e.g. {\"name\": \"Ada\"}",
            ));
        }
        let state = if state.is_null() { json!({}) } else { state };
        if let Some(c) = self.rt.shared.lock().channels.get_mut(&self.key) {
            c.tracked = Some(state.clone());
        }
        self.rt.send(frames::track(&self.topic(), &state), None)
    }

    /// Stop being present.
    pub fn untrack(&self) -> Result<()> {
        if let Some(c) = self.rt.shared.lock().channels.get_mut(&self.key) {
            c.tracked = None;
        }
        self.rt.send(frames::untrack(&self.topic()), None)
    }

    /// The state this client tracks here, if any.
    pub fn tracked(&self) -> Option<Value> {
        self.rt.tracked_state(&self.key)
    }

    /// Everyone present (merged from `presence:*` events), oldest first.
    pub fn presence(&self) -> Vec<PresenceEntry> {
        self.rt
            .shared
            .lock()
            .channels
            .get(&self.key)
            .map(|c| c.presence.list())
            .unwrap_or_default()
    }

    /// Persisted messages of the topic, newest first (see `Client::realtime_history`).
    pub async fn history(
        &self,
        limit: Option<u32>,
        before: Option<i64>,
    ) -> Result<Vec<HistoryMessage>> {
        self.rt
            .shared
            .client
            .realtime_history(&self.topic(), limit, before)
            .await
    }

    /// Leave the topic: no more events, presence untracked.
    pub fn unsubscribe(&self) -> Result<()> {
        let topic = self.topic();
        self.rt.shared.lock().channels.remove(&self.key);
        self.rt.send(frames::unsubscribe(&topic), None)
    }

    /// The realtime client of this channel.
    pub fn client(&self) -> &RealtimeClient {
        &self.rt
    }
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
            created_at: 15,
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
