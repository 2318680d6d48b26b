//! The AI gateway's chat socket (the official `gateway.connectWebSocket`): sends answer the id of
//! their frame, and events are pulled through the completion queue.

use std::ffi::c_char;

use aerostack_bindings_common::{ErrorDto, GatewaySocketHandle};

use crate::client::AerostackClient;
use crate::completion::{AerostackCompletionQueue, Item};
use crate::{c_string, ffi, free, handle, json, text, write};

/// An open gateway chat socket (from a completion of `aerostack_client_gateway_socket`).
pub struct AerostackGatewaySocket {
    pub(crate) h: GatewaySocketHandle,
}

/// Submits opening the chat socket of gateway API `api_slug` with `consumer_key` (empty: the
/// client's): the completion carries the socket in `gateway_socket`.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_client_gateway_socket(
    client: *const AerostackClient,
    queue: *const AerostackCompletionQueue,
    api_slug: *const u8,
    api_slug_len: usize,
    consumer_key: *const u8,
    consumer_key_len: usize,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (c, q) = (handle("client", client)?, handle("queue", queue)?);
        let key = text("consumer_key", consumer_key, consumer_key_len)?;
        let fut = c.h.gateway_socket(
            text("api_slug", api_slug, api_slug_len)?,
            (!key.is_empty()).then_some(key),
        )?;
        write(
            call_id,
            q.q.submit(fut, |r| {
                Item::GatewaySocket(r.map_err(|e| ErrorDto::from(&e)))
            })?,
        )
    })
}

/// `{url, api_slug, state}` as JSON (`state`: `open`, `closing` or `closed`).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_gateway_socket_info(
    socket: *const AerostackGatewaySocket,
    out: *mut *mut c_char,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let s = &handle("gateway socket", socket)?.h;
        write(
            out,
            c_string(
                serde_json::json!({"url": s.url(), "api_slug": s.api_slug(), "state": s.state()})
                    .to_string(),
            ),
        )
    })
}

/// Submits a chat (`gateway.chat`'s arguments as JSON): completes with its request id.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_gateway_socket_send_chat(
    socket: *const AerostackGatewaySocket,
    queue: *const AerostackCompletionQueue,
    args: *const u8,
    args_len: usize,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (s, q) = (handle("gateway socket", socket)?, handle("queue", queue)?);
        write(
            call_id,
            q.submit_json(s.h.send_chat(json("args", args, args_len)?)?)?,
        )
    })
}

/// Submits a chat and collects its answer (`timeout_ms` between events): completes with
/// `{content, tokens_used, usage}` or the platform's error for it.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_gateway_socket_chat(
    socket: *const AerostackGatewaySocket,
    queue: *const AerostackCompletionQueue,
    args: *const u8,
    args_len: usize,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (s, q) = (handle("gateway socket", socket)?, handle("queue", queue)?);
        write(
            call_id,
            q.submit_json(s.h.chat(json("args", args, args_len)?)?)?,
        )
    })
}

/// Submits taking the next step of chat `request` within `timeout_ms` between events (negative:
/// the client's timeout): completes with `{type: "token", content}` or, at its end, `{type:
/// "done", content, tokens_used, usage}`; the platform's error for it is the completion's error.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_gateway_socket_chat_step(
    socket: *const AerostackGatewaySocket,
    queue: *const AerostackCompletionQueue,
    request: u64,
    timeout_ms: i64,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (s, q) = (handle("gateway socket", socket)?, handle("queue", queue)?);
        write(call_id, q.submit_json(s.h.chat_step(request, u64::try_from(timeout_ms).ok())?)?)
    })
}

/// Submits a ping (answered by a `pong` event): completes with its request id.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_gateway_socket_ping(
    socket: *const AerostackGatewaySocket,
    queue: *const AerostackCompletionQueue,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (s, q) = (handle("gateway socket", socket)?, handle("queue", queue)?);
        write(call_id, q.submit_json(s.h.ping()?)?)
    })
}

/// Submits sending `frame` (JSON) as it is: completes with its request id.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_gateway_socket_send(
    socket: *const AerostackGatewaySocket,
    queue: *const AerostackCompletionQueue,
    frame: *const u8,
    frame_len: usize,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (s, q) = (handle("gateway socket", socket)?, handle("queue", queue)?);
        write(
            call_id,
            q.submit_json(s.h.send(json("frame", frame, frame_len)?)?)?,
        )
    })
}

/// Submits the pull of the next event, waiting at most `timeout_ms` (negative: until one comes):
/// the completion's `json` is the event, or NULL on timeout and after the `closed` event.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_gateway_socket_next_event(
    socket: *const AerostackGatewaySocket,
    queue: *const AerostackCompletionQueue,
    timeout_ms: i64,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (s, q) = (handle("gateway socket", socket)?, handle("queue", queue)?);
        let fut = s.h.next_event(u64::try_from(timeout_ms).ok())?;
        write(
            call_id,
            q.q.submit(fut, |r| {
                Item::Json(
                    r.map(|v| v.map(|v| v.to_string()))
                        .map_err(|e| ErrorDto::from(&e)),
                )
            })?,
        )
    })
}

/// Submits closing the socket with `code` (0: 1000) and `reason` (may be empty).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_gateway_socket_close(
    socket: *const AerostackGatewaySocket,
    queue: *const AerostackCompletionQueue,
    code: u16,
    reason: *const u8,
    reason_len: usize,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (s, q) = (handle("gateway socket", socket)?, handle("queue", queue)?);
        let reason = text("reason", reason, reason_len)?;
        let fut = s.h.close(
            (code != 0).then_some(code),
            (!reason.is_empty()).then(|| reason.to_string()),
        )?;
        write(call_id, q.submit_json(fut)?)
    })
}

/// Frees the socket handle (the socket itself closes once no pull or send holds it).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_gateway_socket_free(socket: *mut AerostackGatewaySocket) {
    free(socket);
}
