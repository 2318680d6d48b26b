//! The client handle: one engine client (one connection pool), goroutine/thread-safe.

use std::ffi::c_char;

use aerostack_bindings_common::{ClientHandle, ErrorDto, ProgressCell};
use serde_json::json;

use crate::completion::{AerostackCancel, AerostackCompletionQueue, Item, block};
use crate::{ffi, free, handle, json, put, text, write};

/// A client of one project.
pub struct AerostackClient {
    pub(crate) h: ClientHandle,
}

/// A client from `options` JSON (`api_key`, `project_id`, `base_url`, `timeout_ms`, `retry`,
/// `headers`, ...; see the surface's `ClientHandle::new`); `user_agent` names the SDK, e.g.
/// `aerostack-go/0.1.0`.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_client_new(
    options: *const u8,
    options_len: usize,
    user_agent: *const u8,
    user_agent_len: usize,
    out: *mut *mut AerostackClient,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let ua = text("user_agent", user_agent, user_agent_len)?;
        let ua = if ua.is_empty() { format!("aerostack-c/{}", crate::VERSION) } else { ua.to_string() };
        put(out, AerostackClient { h: ClientHandle::new(json("options", options, options_len)?, &ua)? })
    })
}

/// The client's identity: the `client` of the log lines its calls produce (shared by its
/// `aerostack_client_with_options` views); 0 for a null handle.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_client_id(client: *const AerostackClient) -> u64 {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle("client", client).map(|c| c.h.id()).unwrap_or(0))).unwrap_or(0)
}

/// A client sharing this one's pool whose calls use `call_options` (`timeout_ms`, `retry`,
/// `idempotency_key`, `headers`).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_client_with_options(
    client: *const AerostackClient,
    call_options: *const u8,
    call_options_len: usize,
    out: *mut *mut AerostackClient,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let c = handle("client", client)?;
        put(out, AerostackClient { h: c.h.with_options(json("call_options", call_options, call_options_len)?)? })
    })
}

/// Submits operation `op` (`db.query`, `cache.get`, ...) with JSON `args` to `queue`; writes
/// the call id (the outcome comes through `aerostack_completion_next`). Argument errors are
/// answered at once.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_client_call(
    client: *const AerostackClient,
    queue: *const AerostackCompletionQueue,
    op: *const u8,
    op_len: usize,
    args: *const u8,
    args_len: usize,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (c, q) = (handle("client", client)?, handle("queue", queue)?);
        let fut = c.h.call(text("op", op, op_len)?, json("args", args, args_len)?)?;
        write(call_id, q.submit_json(fut)?)
    })
}

/// Runs operation `op` to its end on the calling thread and writes its JSON answer into `*out`
/// (free it with `aerostack_string_free`). `cancel` (may be NULL): a token whose
/// `aerostack_cancel_fire` from another thread ends the wait with `CANCELLED`. For plain C
/// callers, and for Go when few calls are in flight (it keeps the thread while it waits).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn aerostack_client_call_wait(
    client: *const AerostackClient,
    op: *const u8,
    op_len: usize,
    args: *const u8,
    args_len: usize,
    cancel: *const AerostackCancel,
    out: *mut *mut c_char,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let c = handle("client", client)?;
        // SAFETY: NULL or a token from `aerostack_cancel_new`, alive for the call (the contract).
        let cancel = unsafe { cancel.as_ref() };
        block(c.h.call(text("op", op, op_len)?, json("args", args, args_len)?)?, cancel, out)
    })
}

/// Submits an upload: `args` are `storage.upload`'s (`key`, `content_type`, or `path` to send a
/// file from disk); `data`/`data_len` the bytes (NULL to upload `path`), copied before this
/// returns. With `progress`, `AEROSTACK_PROGRESS` reports come under the call id while it runs.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn aerostack_client_upload(
    client: *const AerostackClient,
    queue: *const AerostackCompletionQueue,
    args: *const u8,
    args_len: usize,
    data: *const u8,
    data_len: usize,
    progress: bool,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (c, q) = (handle("client", client)?, handle("queue", queue)?);
        let bytes = if data.is_null() {
            None
        } else {
            // SAFETY: the caller passes `data_len` readable bytes at `data`; copied here.
            Some(bytes::Bytes::copy_from_slice(unsafe { std::slice::from_raw_parts(data, data_len) }))
        };
        let id = q.q.reserve();
        let report = progress.then(|| {
            let cell = ProgressCell::new();
            let (cell2, push) = (cell.clone(), q.q.pusher());
            cell.engine_fn(move || {
                if let Some(p) = cell2.take_new() {
                    push(id, Item::Progress(p.sent, p.total));
                }
            })
        });
        let fut = c.h.upload(json("args", args, args_len)?, bytes, report)?;
        q.q.submit_as(id, fut, |r| Item::Json(r.map(|v| Some(v.to_string())).map_err(|e| ErrorDto::from(&e))))?;
        write(call_id, id)
    })
}

/// Submits a download (`args`: `{"key": ...}`): the completion carries the bytes in
/// `data`/`data_len` and `{"content_type", "size"}` in `json`.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_client_download(
    client: *const AerostackClient,
    queue: *const AerostackCompletionQueue,
    args: *const u8,
    args_len: usize,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (c, q) = (handle("client", client)?, handle("queue", queue)?);
        let fut = c.h.download(json("args", args, args_len)?)?;
        let id = q.q.submit(fut, |r| {
            Item::Bytes(
                r.map(|o| {
                    let meta = json!({"content_type": o.content_type, "size": o.data.len()}).to_string();
                    (o.data.to_vec(), meta)
                })
                .map_err(|e| ErrorDto::from(&e)),
            )
        })?;
        write(call_id, id)
    })
}

/// Submits the opening of streamed operation `op` (`ai.chat_stream`, `cache.list_all`,
/// `storage.list_all`, `queue.jobs_all`): the completion carries the stream in `stream`.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_client_open_stream(
    client: *const AerostackClient,
    queue: *const AerostackCompletionQueue,
    op: *const u8,
    op_len: usize,
    args: *const u8,
    args_len: usize,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (c, q) = (handle("client", client)?, handle("queue", queue)?);
        let fut = c.h.open_stream(text("op", op, op_len)?, json("args", args, args_len)?)?;
        write(call_id, q.q.submit(fut, |r| Item::Stream(r.map_err(|e| ErrorDto::from(&e))))?)
    })
}

/// Frees the client (calls in flight finish or are cancelled through their queue).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_client_free(client: *mut AerostackClient) {
    free(client);
}

