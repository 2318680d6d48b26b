//! Realtime: one WebSocket per [`RealtimeClient`] multiplexing database changes, pub/sub and
//! presence (protocol: docs/realtime.md).
//!
//! What the official clients get wrong is fixed here: every topic is re-subscribed after a
//! reconnect, a heartbeat detects dead sockets, reconnects back off exponentially with full
//! jitter, and persisted messages missed during a gap are fetched from history and delivered
//! once (deduplicated by id). Events reach the host by **pull** from one bounded queue per client
//! ([`RealtimeClient::next_event`]); the engine never calls user code.
//!
//! ```no_run
//! # async fn demo(client: aerostack::Client) -> aerostack::Result<()> {
//! use aerostack::realtime::PublishOptions;
//! let rt = client.realtime();
//! let todos = rt.channel("todos");              // table/todos/<projectId>
//! let on_insert = todos.on("INSERT");
//! let chat = rt.channel("chat/general");
//! chat.publish("message", serde_json::json!({"text": "hi"}), PublishOptions::persisted()).await?;
//! while let Some(event) = rt.next_event().await {
//!     if event.listeners.contains(&on_insert) { println!("new todo: {}", event.data); }
//! }
//! # Ok(()) }
//! ```

mod backoff;
mod channel;
mod client;
mod connection;
mod dedup;
mod frames;
mod presence;
pub(crate) mod socket;
mod state;
mod topics;

use crate::Timestamp;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use backoff::Backoff;
pub use channel::{Channel, PublishOptions};
pub use client::RealtimeClient;
pub use connection::GAVE_UP;
pub use dedup::SeenIds;
pub use presence::{PresenceDiff, PresenceEntry, PresenceState};
pub use state::PublishAck;
pub use topics::{qualify, ws_base, ws_url};

use crate::client::Client;
use crate::error::Result;

/// Id of a listener registered with [`Channel::on`]; events carry the ids whose filter matched.
pub type ListenerId = u64;

/// Connection state of a [`RealtimeClient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionStatus {
    /// Created, never connected ([`RealtimeClient::connect`] or a first channel starts it).
    Idle,
    /// First connection attempt in progress.
    Connecting,
    /// Socket open.
    Connected,
    /// Lost the socket (or never got one); waiting or trying again.
    Reconnecting,
    /// Stopped: [`RealtimeClient::disconnect`], or the reconnect attempts ran out.
    Disconnected,
}

/// What an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A publication or server emit (`event` is its name).
    Message,
    /// A row change (`event` is INSERT, UPDATE or DELETE).
    DbChange,
    /// `presence:sync`, `presence:join` or `presence:leave`.
    Presence,
    /// The platform confirmed a subscription (`topic` is the full topic).
    Subscribed,
    /// The connection status changed (`status`).
    Status,
    /// An error frame or a failed catch-up (`code`, `message` in `data`).
    Error,
}

/// One event pulled by the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealtimeEvent {
    /// What it is.
    pub kind: EventKind,
    /// Full topic, when the event belongs to one.
    pub topic: Option<String>,
    /// Event name: the published name, INSERT/UPDATE/DELETE, `presence:*`, `subscribed`,
    /// `status` or `error`.
    pub event: String,
    /// Payload: the message data, the new row (null for DELETE), the presence data
    /// (`presence:sync` adds `joins`/`leaves`), `{code, message}` for errors.
    pub data: Value,
    /// The old row (UPDATE, DELETE).
    pub old: Option<Value>,
    /// Publisher's user id, when known.
    pub user_id: Option<String>,
    /// Message id (dedup key; the history id of persisted messages).
    pub id: Option<String>,
    /// When the platform sent it (read from its unix milliseconds).
    pub timestamp: Option<Timestamp>,
    /// Stored for history.
    pub persisted: bool,
    /// Delivered from history after a reconnect rather than live.
    pub replayed: bool,
    /// New status (status events).
    pub status: Option<ConnectionStatus>,
    /// Listeners whose filter matched, in registration order.
    pub listeners: Vec<ListenerId>,
}

impl RealtimeEvent {
    pub(crate) fn new(
        kind: EventKind,
        topic: Option<String>,
        event: impl Into<String>,
        data: Value,
    ) -> Self {
        RealtimeEvent {
            kind,
            topic,
            event: event.into(),
            data,
            old: None,
            user_id: None,
            id: None,
            timestamp: None,
            persisted: false,
            replayed: false,
            status: None,
            listeners: Vec::new(),
        }
    }
}

/// Settings of a [`RealtimeClient`].
#[derive(Debug, Clone)]
pub struct RealtimeConfig {
    /// Send a `ping` this often (default 25 s).
    pub heartbeat_interval: Duration,
    /// A `ping` unanswered this long means the socket is dead: close and reconnect (default 10 s).
    pub pong_timeout: Duration,
    /// Limit for opening the socket (default 10 s).
    pub connect_timeout: Duration,
    /// Reconnect delays (default 0.5 s doubling to 30 s, full jitter).
    pub backoff: Backoff,
    /// Give up after this many failed attempts in a row (`None`: never, the default).
    pub max_reconnect_attempts: Option<u32>,
    /// How long [`Channel::publish`] waits for the `ack` (default 10 s).
    pub ack_timeout: Duration,
    /// Events kept for the host; when full the oldest is dropped (default 10 000).
    pub event_capacity: usize,
    /// Publications kept while disconnected; beyond it `publish` fails (default 1 000).
    pub outbox_capacity: usize,
    /// Message ids remembered per topic to drop duplicates (default 10 000).
    pub dedup_capacity: usize,
    /// Fetch persisted messages missed while disconnected (default true).
    pub catch_up: bool,
    /// End-user access token (sent as the `aerostack-token.<jwt>` subprotocol).
    pub token: Option<String>,
    /// User id a key holder acts for (`userId` query), ignored with a token.
    pub user_id: Option<String>,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        RealtimeConfig {
            heartbeat_interval: Duration::from_secs(25),
            pong_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            backoff: Backoff::default(),
            max_reconnect_attempts: None,
            ack_timeout: Duration::from_secs(10),
            event_capacity: 10_000,
            outbox_capacity: 1_000,
            dedup_capacity: 10_000,
            catch_up: true,
            token: None,
            user_id: None,
        }
    }
}

/// Server-side `socket.emit` over REST: `POST /v1/realtime/emit`.
pub struct Socket<'a> {
    client: &'a Client,
}

/// What `emit` delivered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmitResult {
    /// Message id.
    pub id: String,
    /// The full topic it went to.
    pub topic: String,
    /// When it was sent (the history `created_at` when persisted).
    #[serde(deserialize_with = "crate::protocol::time::opt_lenient")]
    pub timestamp: Option<Timestamp>,
    /// Connections it was queued to.
    pub delivered: u64,
    /// Stored for history.
    pub persisted: bool,
}

impl Socket<'_> {
    /// Send `event` with `data` to every subscriber of `room` (a topic, normalised like
    /// [`RealtimeClient::channel`]'s).
    pub async fn emit(&self, event: &str, data: &Value, room: &str) -> Result<EmitResult> {
        self.emit_with(event, data, room, false).await
    }

    /// [`Socket::emit`], stored for history when `persist`.
    pub async fn emit_with(
        &self,
        event: &str,
        data: &Value,
        room: &str,
        persist: bool,
    ) -> Result<EmitResult> {
        crate::services::require("event", event)?;
        crate::services::require("room", room)?;
        let body =
            serde_json::json!({"event": event, "data": data, "room": room, "persist": persist});
        let url = self.client.api_url("/realtime/emit");
        let call = crate::transport::Call::new(reqwest::Method::POST, url, false).json(&body)?;
        self.client.fetch_json(call).await
    }
}

impl Client {
    /// A realtime client for this project (socket opened on first use). Each call makes a new,
    /// independent client with its own socket and event queue.
    pub fn realtime(&self) -> RealtimeClient {
        RealtimeClient::new(self)
    }

    /// A realtime client with custom settings.
    pub fn realtime_with(&self, config: RealtimeConfig) -> RealtimeClient {
        RealtimeClient::with_config(self, config)
    }

    /// Server-side emit to realtime rooms over REST.
    pub fn socket(&self) -> Socket<'_> {
        Socket { client: self }
    }
}
