//! [`RealtimeHandle`] and [`ChannelHandle`]: the engine's realtime client as a binding holds it.
//!
//! Events are pulled by the host ([`RealtimeHandle::next_event`]) as JSON objects (the engine's
//! `RealtimeEvent`: `kind`, `topic`, `event`, `data`, `listeners`, ...), and the host routes them
//! to its callbacks by `listeners`; the engine never calls host code. Every duration is in ms.

use std::future::Future;
use std::time::Duration;

use aerostack::Error;
use aerostack::realtime::{Channel, RealtimeClient, RealtimeEvent};
use serde_json::Value;

use crate::panic::contained;
use crate::options::{self, PublishOptions};
use crate::result_keys::{recase, recase_event};
use crate::runtime::{ProcessGuard, runtime};

fn json<T: serde::Serialize>(v: T) -> Result<Value, Error> {
    serde_json::to_value(v).map_err(|e| Error::new(aerostack::ErrorCode::DecodeError, e.to_string()))
}

fn event_json(ev: Option<RealtimeEvent>) -> Option<Value> {
    ev.and_then(|e| serde_json::to_value(e).ok()).map(recase_event)
}

/// One realtime connection of a project: socket, channels, event queue.
#[derive(Clone)]
pub struct RealtimeHandle {
    rt: RealtimeClient,
    guard: ProcessGuard,
}

impl RealtimeHandle {
    pub(crate) fn new(rt: RealtimeClient) -> Result<RealtimeHandle, Error> {
        Ok(RealtimeHandle { rt, guard: ProcessGuard::new() })
    }

    fn rt(&self) -> Result<RealtimeClient, Error> {
        self.guard.check()?;
        Ok(self.rt.clone())
    }

    /// The socket URL.
    pub fn url(&self) -> &str {
        self.rt.url()
    }

    /// `idle`, `connecting`, `connected`, `reconnecting` or `disconnected`.
    pub fn status(&self) -> String {
        match serde_json::to_value(self.rt.status()) {
            Ok(Value::String(s)) => s,
            _ => String::new(),
        }
    }

    /// Events dropped because the host did not pull them fast enough.
    pub fn dropped_events(&self) -> u64 {
        self.rt.dropped_events()
    }

    /// Opens the socket; resolves once connected (the client keeps retrying on failure).
    pub fn connect(&self) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let rt = self.rt()?;
        Ok(contained(async move { rt.connect().await.map(|_| Value::Null) }))
    }

    /// Closes the socket and stops reconnecting; channels are kept for a later `connect`.
    pub fn disconnect(&self) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let rt = self.rt()?;
        Ok(contained(async move {
            rt.disconnect().await;
            Ok(Value::Null)
        }))
    }

    /// Replaces the end-user token (sent in-band on a live socket).
    pub fn set_token(&self, token: &str) -> Result<(), Error> {
        self.rt()?.set_token(token);
        Ok(())
    }

    /// The channel of `topic`, subscribed on the current or next socket. `filter` (a table
    /// topic's row filter, the official `channel(topic, {filter})`) replaces the channel's
    /// filter; null leaves it as it is.
    pub fn channel(&self, topic: &str, filter: Value) -> Result<ChannelHandle, Error> {
        let rt = self.rt()?;
        let runtime = runtime()?;
        let _entered = runtime.enter(); // subscribing on a live socket wakes its task
        let ch = if filter.is_null() { rt.channel(topic) } else { rt.channel_with_filter(topic, filter)? };
        Ok(ChannelHandle { ch, guard: self.guard })
    }

    /// The official clients' `sendChat(roomId, text, metadata)`: a persisted `message` event on
    /// `chat/{room_id}` for every subscriber of the room (its channel, `chat/{room_id}`);
    /// `metadata` is an object or null.
    pub fn send_chat(&self, room_id: &str, text: &str, metadata: Value) -> Result<(), Error> {
        let rt = self.rt()?;
        let runtime = runtime()?;
        let _entered = runtime.enter(); // a socket may have to be opened
        rt.send_chat(room_id, text, metadata)
    }

    /// The next event, waiting at most `timeout_ms` (`None`: until one arrives); `None` on
    /// timeout or once the connection is closed for good.
    pub fn next_event(
        &self,
        timeout_ms: Option<u64>,
    ) -> Result<impl Future<Output = Result<Option<Value>, Error>> + Send + 'static, Error> {
        let rt = self.rt()?;
        Ok(contained(async move {
            let ev = match timeout_ms {
                Some(ms) => rt.next_event_timeout(Duration::from_millis(ms)).await,
                None => rt.next_event().await,
            };
            Ok(event_json(ev))
        }))
    }

    /// The next event if one is waiting.
    pub fn try_next_event(&self) -> Result<Option<Value>, Error> {
        Ok(event_json(self.rt()?.try_next_event()))
    }
}

/// One topic of a [`RealtimeHandle`].
#[derive(Clone)]
pub struct ChannelHandle {
    ch: Channel,
    guard: ProcessGuard,
}

impl ChannelHandle {
    fn ch(&self) -> Result<Channel, Error> {
        self.guard.check()?;
        Ok(self.ch.clone())
    }

    /// The full topic (the platform's, once confirmed).
    pub fn topic(&self) -> String {
        self.ch.topic()
    }

    /// Whether the platform confirmed the subscription on the current socket.
    pub fn is_subscribed(&self) -> bool {
        self.ch.is_subscribed()
    }

    /// Resolves once the platform confirmed the subscription; the platform's error if it refused
    /// the topic; `TIMEOUT` after `timeout_ms`.
    pub fn wait_subscribed(&self, timeout_ms: u64) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let ch = self.ch()?;
        Ok(contained(async move { ch.wait_subscribed(Duration::from_millis(timeout_ms)).await.map(|_| Value::Null) }))
    }

    /// Registers a listener filter (an event name, `INSERT`/`UPDATE`/`DELETE`, `presence:*`,
    /// `*`, ...); events it matches carry the returned id in `listeners`.
    pub fn on(&self, event: &str) -> u64 {
        self.ch.on(event)
    }

    /// Removes a listener; false if unknown.
    pub fn off(&self, id: u64) -> bool {
        self.ch.off(id)
    }

    /// Publishes `data` as `event`; resolves to the ack `{id, timestamp, persisted}`.
    /// `options`: `{persist, timeout_ms}`.
    pub fn publish(
        &self,
        event: &str,
        data: Value,
        options: Value,
    ) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let ch = self.ch()?;
        let opts: PublishOptions = options::parse("publish options", options)?;
        let event = event.to_string();
        Ok(contained(async move { json(ch.publish(&event, data, opts.into()).await?).map(|v| recase("realtime.publish", v)) }))
    }

    /// Be present with `state` (an object); kept across reconnects.
    pub fn track(&self, state: Value) -> Result<(), Error> {
        self.ch()?.track(state)
    }

    /// Stop being present.
    pub fn untrack(&self) -> Result<(), Error> {
        self.ch()?.untrack()
    }

    /// Everyone present: a list of `{key, state, user_id, joined_at}`.
    pub fn presence(&self) -> Value {
        recase("realtime.presence", json(self.ch.presence()).unwrap_or(Value::Array(Vec::new())))
    }

    /// The state this client tracks here, if any.
    pub fn tracked(&self) -> Option<Value> {
        self.ch.tracked()
    }

    /// Persisted messages, newest first.
    pub fn history(
        &self,
        limit: Option<u32>,
        before: Option<i64>,
    ) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let ch = self.ch()?;
        Ok(contained(async move { json(ch.history(limit, before).await?).map(|v| recase("realtime.history", v)) }))
    }

    /// Leaves the topic: no more events, presence untracked.
    pub fn unsubscribe(&self) -> Result<(), Error> {
        self.ch()?.unsubscribe()
    }
}
