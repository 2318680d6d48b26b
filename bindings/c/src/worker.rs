//! Workers (Logic Modules and queue jobs): the host pulls invocations through the completion
//! queue, runs its handler with the invocation's scoped client, and answers complete/fail.

use std::ffi::c_char;

use aerostack_bindings_common::{ErrorDto, InvocationHandle, WorkerHandle};

use crate::client::AerostackClient;
use crate::completion::{AerostackCompletionQueue, Item};
use crate::{c_string, ffi, free, handle, json, put, text, write};

/// A connected worker (one WebSocket, reconnecting and re-registering by itself).
pub struct AerostackWorker {
    pub(crate) h: WorkerHandle,
}

/// One invocation of user code.
pub struct AerostackInvocation {
    pub(crate) h: InvocationHandle,
}

/// Submits connecting a worker with client `options` and `registration` (`{modules: [{slug,
/// methods, public, trigger, timeout_ms, name}], jobs: [{type, timeout_ms}], concurrency,
/// label}`); the completion's `worker` is set once the platform confirmed the registration.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_worker_connect(
    options: *const u8,
    options_len: usize,
    registration: *const u8,
    registration_len: usize,
    user_agent: *const u8,
    user_agent_len: usize,
    queue: *const AerostackCompletionQueue,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let q = handle("queue", queue)?;
        let ua = text("user_agent", user_agent, user_agent_len)?.to_string();
        let fut = WorkerHandle::connect(json("options", options, options_len)?, json("registration", registration, registration_len)?, &ua)?;
        write(call_id, q.q.submit(fut, |r| Item::Worker(r.map_err(|e| ErrorDto::from(&e))))?)
    })
}

/// Submits the pull of the next invocation: the completion's `invocation` is set, or NULL after
/// `timeout_ms` (negative: no limit) or once the worker stopped (`aerostack_worker_is_closed`).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_worker_next_invocation(
    worker: *const AerostackWorker,
    queue: *const AerostackCompletionQueue,
    timeout_ms: i64,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (w, q) = (handle("worker", worker)?, handle("queue", queue)?);
        let fut = w.h.next_invocation(u64::try_from(timeout_ms).ok())?;
        write(call_id, q.q.submit(fut, |r| Item::Invocation(r.map_err(|e| ErrorDto::from(&e))))?)
    })
}

/// Answers invocation `id` with the JSON `result`.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_worker_complete(
    worker: *const AerostackWorker,
    id: *const u8,
    id_len: usize,
    result: *const u8,
    result_len: usize,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || handle("worker", worker)?.h.complete(text("id", id, id_len)?, json("result", result, result_len)?))
}

/// Fails invocation `id` (a custom API answers 500 HOOK_FAILED with `message`; a job is retried).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_worker_fail(
    worker: *const AerostackWorker,
    id: *const u8,
    id_len: usize,
    message: *const u8,
    message_len: usize,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || handle("worker", worker)?.h.fail(text("id", id, id_len)?, text("message", message, message_len)?))
}

/// Submits a graceful stop: no new work; completes once everything received was answered (keep
/// pulling and answering meanwhile) or `grace_ms` passed, and the connection closed.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_worker_stop(
    worker: *const AerostackWorker,
    queue: *const AerostackCompletionQueue,
    grace_ms: u64,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (w, q) = (handle("worker", worker)?, handle("queue", queue)?);
        write(call_id, q.submit_json(w.h.stop(grace_ms)?)?)
    })
}

/// Whether the worker stopped.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_worker_is_closed(worker: *const AerostackWorker) -> bool {
    handle("worker", worker).map(|w| w.h.is_closed()).unwrap_or(true)
}

/// Frees the worker handle (the worker itself stops with `aerostack_worker_stop`).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_worker_free(worker: *mut AerostackWorker) {
    free(worker);
}

/// The invocation as JSON: `{id, kind, name, project_id, event, deadline_ms, ...}`.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_invocation_info(invocation: *const AerostackInvocation, out: *mut *mut c_char, err: *mut *mut c_char) -> i32 {
    ffi(err, || write(out, c_string(handle("invocation", invocation)?.h.to_json().to_string())))
}

/// The scoped client of the invocation (its project; every operation plus `fetch`).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_invocation_client(
    invocation: *const AerostackInvocation,
    out: *mut *mut AerostackClient,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || put(out, AerostackClient { h: handle("invocation", invocation)?.h.client()? }))
}

/// Whether the platform gave up on the invocation.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_invocation_is_cancelled(invocation: *const AerostackInvocation) -> bool {
    handle("invocation", invocation).map(|i| i.h.is_cancelled()).unwrap_or(true)
}

/// Frees the invocation handle.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_invocation_free(invocation: *mut AerostackInvocation) {
    free(invocation);
}
