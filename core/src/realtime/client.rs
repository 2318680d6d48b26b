//! [`RealtimeClient`]: the handle the host holds. Owns the shared state that the connection task
//! (connection.rs) drives, and the bounded event queue the host pulls from.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::channel::Channel;
use super::state::{ChannelState, Shared, State};
use super::{ConnectionStatus, ListenerId, RealtimeConfig, RealtimeEvent, frames, topics};
use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::events::{EventQueue, OverflowPolicy};

/// Stops the connection task when the last handle (client or channel) is dropped.
struct DropGuard(Arc<Shared>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(stop) = self.0.lock().stop.take() {
            stop.cancel();
        }
        self.0.events.close();
    }
}

/// A realtime connection of one project: channels, presence, publish, and the event queue the
/// host drains. Cheap to clone (clones share the socket and the queue); the socket closes when
/// the last clone and the last [`Channel`] are dropped, or on [`RealtimeClient::disconnect`].
#[derive(Clone)]
pub struct RealtimeClient {
    pub(crate) shared: Arc<Shared>,
    _guard: Arc<DropGuard>,
}

impl std::fmt::Debug for RealtimeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealtimeClient")
            .field("url", &self.shared.url)
            .field("status", &self.status())
            .finish()
    }
}

impl RealtimeClient {
    /// A realtime client for `client`'s project with default settings.
    pub fn new(client: &Client) -> RealtimeClient {
        RealtimeClient::with_config(client, RealtimeConfig::default())
    }

    /// A realtime client with `config`.
    pub fn with_config(client: &Client, config: RealtimeConfig) -> RealtimeClient {
        let capacity = config.event_capacity.max(1);
        let token = config.token.clone();
        let shared = Arc::new(Shared {
            client: client.clone(),
            url: topics::ws_url(&client.inner.host_url),
            config,
            state: Mutex::new(State {
                status: ConnectionStatus::Idle,
                connected: false,
                token,
                channels: BTreeMap::new(),
                next_listener: 1,
                outbox: VecDeque::new(),
                inflight: Vec::new(),
                acks: HashMap::new(),
                stop: None,
                last_error: None,
            }),
            // A slow host sees the newest events; missed persisted messages stay in history.
            events: EventQueue::new(capacity, OverflowPolicy::DropOldest),
            wake: Notify::new(),
            subscriptions: Notify::new(),
            status: watch::channel(ConnectionStatus::Idle).0,
        });
        RealtimeClient {
            _guard: Arc::new(DropGuard(shared.clone())),
            shared,
        }
    }

    /// The socket URL (`ws://host/api/realtime`).
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// Current connection status.
    pub fn status(&self) -> ConnectionStatus {
        self.shared.lock().status
    }

    /// Start the connection task if it is not running (needs a tokio runtime). Returns false
    /// outside a runtime; [`RealtimeClient::connect`] then starts it.
    pub(crate) fn connect_in_background(&self) -> bool {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let mut st = self.shared.lock();
        if st.stop.is_some() {
            return true;
        }
        let stop = CancellationToken::new();
        st.stop = Some(stop.clone());
        drop(st);
        handle.spawn(super::connection::run(self.shared.clone(), stop));
        true
    }

    /// Open the socket (if not open) and wait until it is connected, up to the connect timeout.
    /// On failure the client keeps trying in the background (see the status events).
    pub async fn connect(&self) -> Result<()> {
        let mut rx = self.shared.status.subscribe();
        let fresh = self.shared.lock().stop.is_none();
        self.connect_in_background();
        if fresh && *rx.borrow_and_update() == ConnectionStatus::Disconnected {
            // A new connection task was just spawned (e.g. right after `disconnect`): the
            // `disconnected` still showing is the old connection's, not this attempt's outcome.
            let _ = tokio::time::timeout(
                self.shared.config.connect_timeout,
                rx.wait_for(|s| *s != ConnectionStatus::Disconnected),
            )
            .await;
        }
        let wait = self.shared.config.connect_timeout + Duration::from_secs(1);
        let outcome = tokio::time::timeout(
            wait,
            rx.wait_for(|s| {
                matches!(
                    s,
                    ConnectionStatus::Connected | ConnectionStatus::Disconnected
                )
            }),
        )
        .await;
        match outcome {
            Ok(Ok(s)) if *s == ConnectionStatus::Connected => Ok(()),
            Ok(_) => {
                let why = self
                    .shared
                    .lock()
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "the connection was stopped".into());
                Err(Error::new(
                    ErrorCode::NetworkError,
                    format!("realtime connection to {} failed: {why}", self.shared.url),
                ))
            }
            Err(_) => {
                let why = self.shared.lock().last_error.clone().unwrap_or_default();
                Err(Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "realtime connection to {} not open after {wait:?} (still retrying in the background) {why}",
                        self.shared.url
                    ),
                ))
            }
        }
    }

    /// Close the socket and stop reconnecting. Channels are kept: `connect` opens a new socket
    /// and subscribes them again.
    pub async fn disconnect(&self) {
        let stop = self.shared.lock().stop.take();
        if let Some(stop) = stop {
            stop.cancel();
        }
        let mut rx = self.shared.status.subscribe();
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            rx.wait_for(|s| matches!(s, ConnectionStatus::Disconnected | ConnectionStatus::Idle)),
        )
        .await;
    }

    /// The channel of `topic` (a table name like `todos`, or a path like `chat/general`; the
    /// project id is appended as the platform does). Subscribes on the next (or current) socket.
    pub fn channel(&self, topic: &str) -> Channel {
        self.open_channel(topic, None)
    }

    /// [`RealtimeClient::channel`] with a row filter for a table topic (the official clients'
    /// `channel(topic, {filter})`): only the row changes it matches arrive. An object of
    /// `column: value` (equality) or `column: "op.value"` (`eq`, `neq`, `gt`, `gte`, `lt`, `lte`,
    /// `in.(1,2)`, `is.null`), or the string form `"status=eq.open"`; `{}` removes the filter.
    /// One filter per topic and connection: a different one replaces it (re-subscribing on a
    /// live socket). The platform checks the syntax and the columns; a refusal is the channel's
    /// `error` event and fails [`Channel::wait_subscribed`].
    pub fn channel_with_filter(&self, topic: &str, filter: Value) -> Result<Channel> {
        if !(filter.is_object() || filter.is_string()) {
            return Err(Error::validation(
                "filter",
                "a channel filter is an object of column: value or column: \"op.value\" (e.g. {\"status\": \"open\", \"priority\": \"gte.3\"}) or a string like \"status=eq.open\"; pass {} for none",
            ));
        }
        Ok(self.open_channel(topic, Some(filter)))
    }

    /// The channel of `topic`, created (and subscribed when the socket is up) on first use; a
    /// new `filter` replaces the stored one and re-subscribes.
    fn open_channel(&self, topic: &str, filter: Option<Value>) -> Channel {
        let requested = topics::qualify(topic, self.shared.client.project_id());
        {
            let mut st = self.shared.lock();
            let connected = st.connected;
            let created = !st.channels.contains_key(&requested);
            let c = st.channels.entry(requested.clone()).or_insert_with(|| {
                ChannelState::new(&requested, self.shared.config.dedup_capacity)
            });
            let changed = match filter {
                Some(f) if f != c.filter => {
                    c.filter = f;
                    // Confirmed again (or refused) under the new filter: wait_subscribed waits.
                    c.live = false;
                    true
                }
                _ => false,
            };
            let frame = frames::subscribe(&requested, &c.filter);
            drop(st);
            if connected && (created || changed) {
                let _ = self.shared.send(frame, None);
            }
        }
        self.connect_in_background();
        Channel::new(self.clone(), requested)
    }

    /// The official clients' `sendChat(roomId, text, metadata)`: a persisted `message` event on
    /// the room's topic (`chat/{room_id}`), delivered to every subscriber of the room, this
    /// client's [`RealtimeClient::chat_room`] channel included (the platform sends no other
    /// confirmation). Queued while the socket is down, like every frame.
    pub fn send_chat(&self, room_id: &str, text: &str, metadata: Value) -> Result<()> {
        let room = room_id.trim().trim_matches('/');
        crate::services::require("room_id", room)?;
        if !(metadata.is_object() || metadata.is_null()) {
            return Err(Error::validation(
                "metadata",
                "chat metadata must be a JSON object, e.g. {\"lang\": \"en\"}",
            ));
        }
        self.send(frames::chat(room, text, &metadata), None)?;
        self.connect_in_background();
        Ok(())
    }

    /// The channel of chat room `room_id` (`chat/{room_id}`), where [`RealtimeClient::send_chat`]
    /// messages arrive as `message` events.
    pub fn chat_room(&self, room_id: &str) -> Channel {
        self.channel(&format!("chat/{}", room_id.trim().trim_matches('/')))
    }

    /// Replace the end-user token: sent in-band (`auth` frame) on a live socket, and used for the
    /// next connections.
    pub fn set_token(&self, token: &str) {
        self.shared.lock().token = Some(token.to_string());
        let _ = self.shared.send(frames::auth(token), None);
    }

    /// The next event, waiting for it; `None` once the client is dropped and the queue drained.
    pub async fn next_event(&self) -> Option<RealtimeEvent> {
        self.shared.events.next().await
    }

    /// The next event, waiting at most `timeout`.
    pub async fn next_event_timeout(&self, timeout: Duration) -> Option<RealtimeEvent> {
        self.shared.events.next_timeout(timeout).await
    }

    /// The next event if one is waiting.
    pub fn try_next_event(&self) -> Option<RealtimeEvent> {
        self.shared.events.try_next()
    }

    /// The event queue itself (bindings drain it with their own blocking/async helpers).
    pub fn events(&self) -> &EventQueue<RealtimeEvent> {
        &self.shared.events
    }

    /// Events dropped because the host did not drain the queue fast enough.
    pub fn dropped_events(&self) -> u64 {
        self.shared.events.dropped()
    }

    /// A new listener id (used by [`Channel::on`]).
    pub(crate) fn next_listener(&self) -> ListenerId {
        let mut st = self.shared.lock();
        let id = st.next_listener;
        st.next_listener += 1;
        id
    }

    pub(crate) fn send(&self, text: String, publish_id: Option<String>) -> Result<()> {
        self.shared.send(text, publish_id)
    }

    pub(crate) fn tracked_state(&self, key: &str) -> Option<Value> {
        self.shared
            .lock()
            .channels
            .get(key)
            .and_then(|c| c.tracked.clone())
    }
}
