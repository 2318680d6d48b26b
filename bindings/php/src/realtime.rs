//! `Realtime` / `Channel`: the surface's `RealtimeHandle` / `ChannelHandle`. Events are pulled
//! by the Composer package (`Aerostack\Realtime`), which runs the listeners on PHP's thread; the
//! engine never calls PHP. Events carry the ids of the listeners (`on`) whose filter matched.

use aerostack_bindings_common::{ChannelHandle, RealtimeHandle};
use ext_php_rs::prelude::*;

use crate::completion::{Task, block_on, block_on_interruptible};
use crate::{parse_json, to_php};

/// One realtime connection (socket, channels, event queue) of a client's project.
#[php_class]
#[php(name = "Aerostack\\Native\\Realtime")]
pub struct Realtime {
    pub(crate) h: RealtimeHandle,
}

#[php_impl]
impl Realtime {
    /// The socket URL.
    pub fn url(&self) -> String {
        self.h.url().to_string()
    }

    /// idle, connecting, connected, reconnecting or disconnected.
    pub fn status(&self) -> String {
        self.h.status()
    }

    /// Events dropped because they were not pulled fast enough.
    pub fn dropped_events(&self) -> i64 {
        self.h.dropped_events() as i64
    }

    /// Opens the socket; the task ends (null) once connected.
    pub fn connect(&self) -> PhpResult<Task> {
        Task::spawn(self.h.connect())
    }

    /// Closes the socket and stops reconnecting (channels are kept for a later `connect`).
    pub fn disconnect(&self) -> PhpResult<Task> {
        Task::spawn(self.h.disconnect())
    }

    /// The channel of `topic` (subscribed on the current or next socket); `filter_json` a
    /// table topic's row filter replacing the channel's (`null`: leave it).
    pub fn channel(&self, topic: &str, filter_json: &str) -> PhpResult<Channel> {
        Ok(Channel {
            h: self
                .h
                .channel(topic, parse_json("filter", filter_json)?)
                .map_err(to_php)?,
        })
    }

    /// A chat message to room `room_id` (`metadata_json`: an object's JSON, or `null`).
    pub fn send_chat(&self, room_id: &str, text: &str, metadata_json: &str) -> PhpResult<()> {
        self.h
            .send_chat(room_id, text, parse_json("metadata", metadata_json)?)
            .map_err(to_php)
    }

    /// Replaces the end-user token (sent in-band on a live socket).
    pub fn set_token(&self, token: &str) -> PhpResult<()> {
        self.h.set_token(token).map_err(to_php)
    }

    /// The next event as JSON, waiting at most `timeout_ms` (null: until one arrives); null on
    /// timeout, once the connection is closed, or early when a signal for PHP's handler
    /// (pcntl_async_signals) is waiting: PHP runs it right after this call returns, so a
    /// listening loop reacts to Ctrl-C or SIGTERM at once. No event is lost: the engine keeps it.
    pub fn next_event(&self, timeout_ms: Option<i64>) -> PhpResult<Option<String>> {
        let next = self.h.next_event(timeout_ms.map(|ms| ms.max(0) as u64));
        Ok(block_on_interruptible(
            next.map(|f| async move { f.await.map(|v| v.map(|v| v.to_string())) }),
        )?
        .flatten())
    }

    /// The next event already received, without waiting.
    pub fn try_next_event(&self) -> PhpResult<Option<String>> {
        Ok(self
            .h
            .try_next_event()
            .map_err(to_php)?
            .map(|v| v.to_string()))
    }
}

/// One topic: listeners, publish, presence, history.
#[php_class]
#[php(name = "Aerostack\\Native\\Channel")]
pub struct Channel {
    h: ChannelHandle,
}

#[php_impl]
impl Channel {
    /// The full topic (`table/orders/<projectId>`).
    pub fn topic(&self) -> String {
        self.h.topic()
    }

    /// Whether the platform confirmed the subscription on the current socket.
    pub fn is_subscribed(&self) -> bool {
        self.h.is_subscribed()
    }

    /// A task that ends once the platform confirmed the subscription (at most `timeout_ms`).
    pub fn wait_subscribed(&self, timeout_ms: i64) -> PhpResult<Task> {
        Task::spawn(self.h.wait_subscribed(timeout_ms.max(0) as u64))
    }

    /// Registers a listener for `event` (a name, `INSERT`, `presence:*`, `*`, ...); its id.
    pub fn on(&self, event: &str) -> i64 {
        self.h.on(event) as i64
    }

    /// Removes listener `id`; whether it was registered.
    pub fn off(&self, id: i64) -> bool {
        self.h.off(id.max(0) as u64)
    }

    /// Sends `event` with `data_json`; `options_json`: `{persist, timeout_ms}`. The task ends
    /// with the platform's ack.
    pub fn publish(&self, event: &str, data_json: &str, options_json: &str) -> PhpResult<Task> {
        Task::spawn(self.h.publish(
            event,
            parse_json("data", data_json)?,
            parse_json("options", options_json)?,
        ))
    }

    /// Be present here with `state_json`.
    pub fn track(&self, state_json: &str) -> PhpResult<()> {
        self.h
            .track(parse_json("state", state_json)?)
            .map_err(to_php)
    }

    /// Stop being present.
    pub fn untrack(&self) -> PhpResult<()> {
        self.h.untrack().map_err(to_php)
    }

    /// Everyone present, as JSON.
    pub fn presence(&self) -> String {
        self.h.presence().to_string()
    }

    /// Persisted messages, newest first (JSON), blocking.
    pub fn history(&self, limit: Option<i64>, before: Option<i64>) -> PhpResult<String> {
        let h = self
            .h
            .history(limit.map(|l| l.clamp(0, u32::MAX as i64) as u32), before);
        block_on(h).map(|v| v.to_string())
    }

    /// Leaves the topic.
    pub fn unsubscribe(&self) -> PhpResult<()> {
        self.h.unsubscribe().map_err(to_php)
    }
}
