//! Channels: one topic each, with listeners (`on`), publish with ack, presence and history. The
//! per-topic state the connection task keeps (dedup window, catch-up point, presence) is
//! `ChannelState`, in state.rs.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::ListenerId;
use super::client::RealtimeClient;
use super::frames;
use super::presence::PresenceEntry;
use super::state::PublishAck;
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
                            format!(
                                "the channel {} was unsubscribed; call channel() again to subscribe",
                                self.key
                            ),
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
