//! Realtime: one connection per client handle, channels, events pulled through the completion
//! queue (the host routes each event to its listeners by the `listeners` ids).

use std::ffi::c_char;

use aerostack_bindings_common::{ChannelHandle, RealtimeHandle};
use serde_json::Value;

use crate::client::AerostackClient;
use crate::completion::{AerostackCompletionQueue, Item};
use crate::{c_string, ffi, free, handle, json, put, text, write};

/// A realtime connection (the socket opens on first use).
pub struct AerostackRealtime {
    h: RealtimeHandle,
}

/// One topic of a realtime connection.
pub struct AerostackChannel {
    h: ChannelHandle,
}

/// The realtime connection of `client` with `options` (`heartbeat_interval_ms`, `token`, ...).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_client_realtime(
    client: *const AerostackClient,
    options: *const u8,
    options_len: usize,
    out: *mut *mut AerostackRealtime,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || put(out, AerostackRealtime { h: handle("client", client)?.h.realtime(json("options", options, options_len)?)? }))
}

/// Submits opening the socket (completes once connected).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_realtime_connect(rt: *const AerostackRealtime, queue: *const AerostackCompletionQueue, call_id: *mut u64, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        let (r, q) = (handle("realtime", rt)?, handle("queue", queue)?);
        write(call_id, q.submit_json(r.h.connect()?)?)
    })
}

/// Submits closing the socket (no reconnects; channels are kept).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_realtime_disconnect(rt: *const AerostackRealtime, queue: *const AerostackCompletionQueue, call_id: *mut u64, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        let (r, q) = (handle("realtime", rt)?, handle("queue", queue)?);
        write(call_id, q.submit_json(r.h.disconnect()?)?)
    })
}

/// `{status, dropped_events}` as JSON.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_realtime_status(rt: *const AerostackRealtime, out: *mut *mut c_char, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        let r = handle("realtime", rt)?;
        write(out, c_string(serde_json::json!({"status": r.h.status(), "dropped_events": r.h.dropped_events()}).to_string()))
    })
}

/// Acts as the end user of `token`.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_realtime_set_token(rt: *const AerostackRealtime, token: *const u8, token_len: usize, err: *mut *mut c_char) -> i32 {
    ffi(err, || handle("realtime", rt)?.h.set_token(text("token", token, token_len)?))
}

/// Sends chat message `text` to room `room_id` (`metadata`: an object's JSON, or `null`): a
/// persisted `message` event on `chat/{room_id}` for the room's subscribers.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_realtime_send_chat(
    rt: *const AerostackRealtime,
    room_id: *const u8,
    room_id_len: usize,
    message: *const u8,
    message_len: usize,
    metadata: *const u8,
    metadata_len: usize,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let r = handle("realtime", rt)?;
        r.h.send_chat(text("room_id", room_id, room_id_len)?, text("text", message, message_len)?, json("metadata", metadata, metadata_len)?)
    })
}

/// The channel of `topic` (a table name or a room path), subscribed on the current or next socket.
/// `filter` is the JSON of a table topic's row filter replacing the channel's (NULL or `null`:
/// leave it).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_realtime_channel(
    rt: *const AerostackRealtime,
    topic: *const u8,
    topic_len: usize,
    filter: *const u8,
    filter_len: usize,
    out: *mut *mut AerostackChannel,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let r = handle("realtime", rt)?;
        let filter = if filter.is_null() { Value::Null } else { json("filter", filter, filter_len)? };
        put(out, AerostackChannel { h: r.h.channel(text("topic", topic, topic_len)?, filter)? })
    })
}

/// Submits the pull of the next event (`json`: `{kind, topic, event, data, old, listeners, ...}`,
/// NULL after `timeout_ms` or once the connection is closed for good).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_realtime_next_event(
    rt: *const AerostackRealtime,
    queue: *const AerostackCompletionQueue,
    timeout_ms: i64,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (r, q) = (handle("realtime", rt)?, handle("queue", queue)?);
        let fut = r.h.next_event(u64::try_from(timeout_ms).ok())?;
        write(call_id, q.q.submit(fut, |res| Item::Json(res.map(|v| v.map(|v| v.to_string())).map_err(|e| aerostack_bindings_common::ErrorDto::from(&e))))?)
    })
}

/// Frees the realtime handle.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_realtime_free(rt: *mut AerostackRealtime) {
    free(rt);
}

/// Submits waiting (at most `timeout_ms`) until the platform confirmed the subscription.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_channel_wait_subscribed(
    ch: *const AerostackChannel,
    queue: *const AerostackCompletionQueue,
    timeout_ms: u64,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (c, q) = (handle("channel", ch)?, handle("queue", queue)?);
        write(call_id, q.submit_json(c.h.wait_subscribed(timeout_ms)?)?)
    })
}

/// Registers a listener filter (an event name, INSERT/UPDATE/DELETE, presence:*, `*`); events it
/// matches carry the id written to `*listener` in their `listeners`.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_channel_on(ch: *const AerostackChannel, event: *const u8, event_len: usize, listener: *mut u64, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        let c = handle("channel", ch)?;
        write(listener, c.h.on(text("event", event, event_len)?))
    })
}

/// Removes a listener.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_channel_off(ch: *const AerostackChannel, listener: u64, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        handle("channel", ch)?.h.off(listener);
        Ok(())
    })
}

/// Submits publishing `data` (JSON) as `event`; `options`: `{persist, timeout_ms}`. Completes
/// with the ack `{id, timestamp, persisted}`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn aerostack_channel_publish(
    ch: *const AerostackChannel,
    queue: *const AerostackCompletionQueue,
    event: *const u8,
    event_len: usize,
    data: *const u8,
    data_len: usize,
    options: *const u8,
    options_len: usize,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (c, q) = (handle("channel", ch)?, handle("queue", queue)?);
        let fut = c.h.publish(text("event", event, event_len)?, json("data", data, data_len)?, json("options", options, options_len)?)?;
        write(call_id, q.submit_json(fut)?)
    })
}

/// Be present with `state` (a JSON object); kept across reconnects.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_channel_track(ch: *const AerostackChannel, state: *const u8, state_len: usize, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        let s = json("state", state, state_len)?;
        handle("channel", ch)?.h.track(if s.is_null() { Value::Object(Default::default()) } else { s })
    })
}

/// Stop being present.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_channel_untrack(ch: *const AerostackChannel, err: *mut *mut c_char) -> i32 {
    ffi(err, || handle("channel", ch)?.h.untrack())
}

/// Everyone present, as a JSON array of `{key, state, user_id, joined_at}`.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_channel_presence(ch: *const AerostackChannel, out: *mut *mut c_char, err: *mut *mut c_char) -> i32 {
    ffi(err, || write(out, c_string(handle("channel", ch)?.h.presence().to_string())))
}

/// Submits reading persisted messages, newest first (`limit`/`before` negative: not given).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_channel_history(
    ch: *const AerostackChannel,
    queue: *const AerostackCompletionQueue,
    limit: i64,
    before: i64,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (c, q) = (handle("channel", ch)?, handle("queue", queue)?);
        let fut = c.h.history(u32::try_from(limit).ok(), (before >= 0).then_some(before))?;
        write(call_id, q.submit_json(fut)?)
    })
}

/// The channel's full topic, as a string to free.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_channel_topic(ch: *const AerostackChannel, out: *mut *mut c_char, err: *mut *mut c_char) -> i32 {
    ffi(err, || write(out, c_string(handle("channel", ch)?.h.topic())))
}

/// Leaves the topic (no more events; presence untracked).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_channel_unsubscribe(ch: *const AerostackChannel, err: *mut *mut c_char) -> i32 {
    ffi(err, || handle("channel", ch)?.h.unsubscribe())
}

/// Frees the channel handle.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_channel_free(ch: *mut AerostackChannel) {
    free(ch);
}
