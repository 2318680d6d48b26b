//! `AerostackHosted`: an engine call whose HTTP requests the host performs with its own client
//! (Go's `aerostack.Config{HTTPClient: ...}`, the sdk-go face's `WithHTTPClient`). The engine
//! still builds every request, retries, times out, maps errors and decodes; the host pulls each
//! step through the completion queue and answers requests with `aerostack_hosted_respond` (or
//! `aerostack_hosted_fail`). Nothing here calls host code.

use std::ffi::c_char;
use std::sync::Arc;

use aerostack_bindings_common::{Error, ErrorDto, HostResponse, HostedCall, Step};
use serde_json::{Value, json};

use crate::client::AerostackClient;
use crate::completion::{AerostackCompletionQueue, Item};
use crate::{ffi, free, handle, json, put, text, write};

/// A hosted call (free it with `aerostack_hosted_free`, which aborts it if still running).
pub struct AerostackHosted {
    call: Arc<HostedCall>,
}

/// Starts operation `op` with `args` (JSON) with its HTTP requests handed to the host.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_client_hosted(
    client: *const AerostackClient,
    op: *const u8,
    op_len: usize,
    args: *const u8,
    args_len: usize,
    out: *mut *mut AerostackHosted,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let c = handle("client", client)?;
        let call = c.h.hosted(text("op", op, op_len)?, json("args", args, args_len)?)?;
        put(out, AerostackHosted { call: Arc::new(call) })
    })
}

/// Submits the pull of the call's next step. Its completion carries, in `json`, either
/// `{"send": {"id", "method", "url", "headers": [[name, value], ...]}}` with the request body in
/// `data`/`data_len` (send it, then answer with `aerostack_hosted_respond` or `_fail`), or
/// `{"done": <the operation's JSON answer>}`; the call's failure is the completion's error.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_hosted_next(
    hosted: *const AerostackHosted,
    queue: *const AerostackCompletionQueue,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (h, q) = (handle("hosted", hosted)?, handle("queue", queue)?);
        let call = h.call.clone();
        let id = q.q.submit(async move { call.next().await }, |step| match step {
            Step::Send { id, request } => {
                let meta = json!({"send": {"id": id, "method": request.method, "url": request.url, "headers": request.headers}});
                Item::Bytes(Ok((request.body.to_vec(), meta.to_string())))
            }
            Step::Done(Ok(v)) => Item::Bytes(Ok((Vec::new(), json!({"done": v}).to_string()))),
            Step::Done(Err(e)) => Item::Bytes(Err(ErrorDto::from(&e))),
        })?;
        write(call_id, id)
    })
}

/// Answers request `id` with the host's response: `status`, `headers` as JSON `[[name, value],
/// ...]` (may be NULL), and the body.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn aerostack_hosted_respond(
    hosted: *const AerostackHosted,
    id: u64,
    status: u16,
    headers: *const u8,
    headers_len: usize,
    body: *const u8,
    body_len: usize,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let h = handle("hosted", hosted)?;
        let headers = match json("headers", headers, headers_len)? {
            Value::Null => Vec::new(),
            v => serde_json::from_value::<Vec<(String, String)>>(v)
                .map_err(|e| Error::validation("headers", format!("headers must be [[name, value], ...]: {e}")))?,
        };
        let body = if body.is_null() {
            bytes::Bytes::new()
        } else {
            // SAFETY: the caller passes `body_len` readable bytes at `body`; copied here.
            bytes::Bytes::copy_from_slice(unsafe { std::slice::from_raw_parts(body, body_len) })
        };
        h.call.respond(id, Ok(HostResponse { status, headers, body }))
    })
}

/// Answers request `id` with the host client's failure (`message`): the engine treats it as a
/// network error (retried per the policy, then `NETWORK_ERROR`).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_hosted_fail(
    hosted: *const AerostackHosted,
    id: u64,
    message: *const u8,
    message_len: usize,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let h = handle("hosted", hosted)?;
        h.call.respond(id, Err(text("message", message, message_len)?.to_string()))
    })
}

/// Frees a hosted call, aborting it if it still runs (NULL is ignored).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_hosted_free(hosted: *mut AerostackHosted) {
    free(hosted);
}
