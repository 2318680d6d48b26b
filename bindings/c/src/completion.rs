//! The completion queue of the C ABI: calls are submitted (a quick non-blocking C call that
//! returns a call id), their outcomes pulled by one host thread in `aerostack_completion_next`.
//! The engine side only pushes (bindings_common::queue); nothing here calls host code.

use std::ffi::c_char;
use std::future::Future;
use std::time::Duration;

use aerostack_bindings_common::{
    Canceller, CompletionQueue, Error, ErrorDto, GatewaySocketHandle, InvocationHandle, StreamHandle, Task, WorkerHandle,
};
use parking_lot::Mutex;
use serde_json::Value;

use crate::gateway_socket::AerostackGatewaySocket;
use crate::stream::AerostackStream;
use crate::worker::{AerostackInvocation, AerostackWorker};
use crate::{AEROSTACK_CLOSED, AEROSTACK_EMPTY, AEROSTACK_ERROR, AEROSTACK_OK, c_string, ffi, free, handle, put, write};

/// What a finished call (or a report under its id) carries.
pub(crate) enum Item {
    /// A JSON answer (`None`: a stream's end).
    Json(Result<Option<String>, ErrorDto>),
    /// A download: its bytes and `{content_type, size}`.
    Bytes(Result<(Vec<u8>, String), ErrorDto>),
    /// An opened stream.
    Stream(Result<StreamHandle, ErrorDto>),
    /// Upload progress: bytes sent, total (when known).
    Progress(u64, Option<u64>),
    /// A connected worker.
    Worker(Result<WorkerHandle, ErrorDto>),
    /// The next invocation (`None`: none came in time, or the worker stopped).
    Invocation(Result<Option<InvocationHandle>, ErrorDto>),
    /// An opened gateway chat socket.
    GatewaySocket(Result<GatewaySocketHandle, ErrorDto>),
}

/// The completion queue handle.
pub struct AerostackCompletionQueue {
    pub(crate) q: CompletionQueue<Item>,
}

impl AerostackCompletionQueue {
    /// Submits a call answering JSON.
    pub(crate) fn submit_json<F>(&self, fut: F) -> Result<u64, Error>
    where
        F: Future<Output = Result<Value, Error>> + Send + 'static,
    {
        Ok(self.q.submit(fut, |r| Item::Json(r.map(|v| Some(v.to_string())).map_err(|e| ErrorDto::from(&e))))?)
    }
}

/// A call's outcome (`kind` `AEROSTACK_DONE`) or a report under its id (`AEROSTACK_PROGRESS`).
/// Release its buffers with `aerostack_completion_release`.
#[repr(C)]
pub struct AerostackCompletion {
    /// The id the submitting function returned.
    pub call_id: u64,
    /// `AEROSTACK_DONE` or `AEROSTACK_PROGRESS`.
    pub kind: i32,
    /// `AEROSTACK_OK`, or `AEROSTACK_ERROR` with `error` set.
    pub status: i32,
    /// The JSON answer (NULL at the end of a stream, and for progress).
    pub json: *mut c_char,
    /// The error object as JSON when `status` is `AEROSTACK_ERROR`.
    pub error: *mut c_char,
    /// A download's bytes (`data_len` of them).
    pub data: *mut u8,
    pub data_len: usize,
    /// An opened stream (owned by the caller: `aerostack_stream_free`).
    pub stream: *mut AerostackStream,
    /// A connected worker (owned by the caller: `aerostack_worker_free`).
    pub worker: *mut AerostackWorker,
    /// An invocation (owned by the caller: `aerostack_invocation_free`); NULL when none came.
    pub invocation: *mut AerostackInvocation,
    /// An opened gateway chat socket (owned by the caller: `aerostack_gateway_socket_free`).
    pub gateway_socket: *mut AerostackGatewaySocket,
    /// Progress: bytes sent so far and the total (-1 when unknown).
    pub sent: u64,
    pub total: i64,
}

/// `kind` of a call's outcome.
pub const AEROSTACK_DONE: i32 = 0;
/// `kind` of an upload's progress report.
pub const AEROSTACK_PROGRESS: i32 = 1;

impl AerostackCompletion {
    fn empty() -> Self {
        AerostackCompletion {
            call_id: 0,
            kind: AEROSTACK_DONE,
            status: AEROSTACK_OK,
            json: std::ptr::null_mut(),
            error: std::ptr::null_mut(),
            data: std::ptr::null_mut(),
            data_len: 0,
            stream: std::ptr::null_mut(),
            worker: std::ptr::null_mut(),
            invocation: std::ptr::null_mut(),
            gateway_socket: std::ptr::null_mut(),
            sent: 0,
            total: -1,
        }
    }

    fn fill(id: u64, item: Item) -> Self {
        let mut c = AerostackCompletion { call_id: id, ..Self::empty() };
        let fail = |c: &mut AerostackCompletion, e: ErrorDto| {
            c.status = AEROSTACK_ERROR;
            c.error = c_string(e.to_json().to_string());
        };
        match item {
            Item::Json(Ok(v)) => c.json = v.map_or(std::ptr::null_mut(), c_string),
            Item::Json(Err(e)) | Item::Bytes(Err(e)) | Item::Stream(Err(e)) | Item::Worker(Err(e)) | Item::Invocation(Err(e))
            | Item::GatewaySocket(Err(e)) => {
                fail(&mut c, e)
            }
            Item::Worker(Ok(h)) => c.worker = Box::into_raw(Box::new(AerostackWorker { h })),
            Item::Invocation(Ok(i)) => {
                c.invocation = i.map_or(std::ptr::null_mut(), |h| Box::into_raw(Box::new(AerostackInvocation { h })))
            }
            Item::Bytes(Ok((bytes, meta))) => {
                c.json = c_string(meta);
                c.data_len = bytes.len();
                c.data = Box::into_raw(bytes.into_boxed_slice()).cast();
            }
            Item::Stream(Ok(s)) => c.stream = Box::into_raw(Box::new(AerostackStream { s })),
            Item::GatewaySocket(Ok(h)) => c.gateway_socket = Box::into_raw(Box::new(AerostackGatewaySocket { h })),
            Item::Progress(sent, total) => {
                c.kind = AEROSTACK_PROGRESS;
                c.sent = sent;
                c.total = total.map_or(-1, |t| t as i64);
            }
        }
        c
    }
}

/// A new completion queue.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_completion_new(out: *mut *mut AerostackCompletionQueue, err: *mut *mut c_char) -> i32 {
    ffi(err, || put(out, AerostackCompletionQueue { q: CompletionQueue::new() }))
}

/// Waits up to `timeout_ms` for the next completion and writes it into `*out`: `AEROSTACK_OK`
/// (release it with `aerostack_completion_release`), `AEROSTACK_EMPTY` (none came), or
/// `AEROSTACK_CLOSED` (the queue was closed and is empty). Blocks the calling thread: one host
/// thread pulls for every call in flight.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_completion_next(
    queue: *const AerostackCompletionQueue,
    timeout_ms: u64,
    out: *mut AerostackCompletion,
    err: *mut *mut c_char,
) -> i32 {
    let mut status = AEROSTACK_OK;
    let r = ffi(err, || {
        let q = handle("queue", queue)?;
        match q.q.next(Duration::from_millis(timeout_ms)) {
            Some((id, item)) => write(out, AerostackCompletion::fill(id, item)),
            None => {
                status = if q.q.is_closed() { AEROSTACK_CLOSED } else { AEROSTACK_EMPTY };
                Ok(())
            }
        }
    });
    if r == AEROSTACK_OK { status } else { r }
}

/// Cancels call `call_id` (its cancel token): drops the engine's future and its request; it
/// will never complete. Writes whether it was still running into `*was_running` (may be NULL).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_completion_cancel(
    queue: *const AerostackCompletionQueue,
    call_id: u64,
    was_running: *mut bool,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let cancelled = handle("queue", queue)?.q.cancel(call_id);
        if !was_running.is_null() {
            write(was_running, cancelled)?;
        }
        Ok(())
    })
}

/// Cancels every running call and wakes the thread in `aerostack_completion_next`, which then
/// answers what is left and `AEROSTACK_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_completion_close(queue: *const AerostackCompletionQueue, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        handle("queue", queue)?.q.close();
        Ok(())
    })
}

/// Frees the queue (close it first; a thread still waiting in `next` must have returned).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_completion_free(queue: *mut AerostackCompletionQueue) {
    if let Ok(q) = handle("queue", queue) {
        q.q.close();
    }
    free(queue);
}

/// Frees the buffers of a completion (`json`, `error`, `data`; not `stream`, which the caller
/// owns) and clears them.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_completion_release(c: *mut AerostackCompletion) {
    // SAFETY: `c` is NULL or a completion written by `aerostack_completion_next`.
    let Some(c) = (unsafe { c.as_mut() }) else { return };
    crate::aerostack_string_free(std::mem::replace(&mut c.json, std::ptr::null_mut()));
    crate::aerostack_string_free(std::mem::replace(&mut c.error, std::ptr::null_mut()));
    let data = std::mem::replace(&mut c.data, std::ptr::null_mut());
    if !data.is_null() {
        let len = std::mem::take(&mut c.data_len);
        let _ = std::panic::catch_unwind(|| {
            // SAFETY: `data` came from `Box<[u8]>::into_raw` with this length, freed once.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, len)) });
        });
    }
}

/// Runs a call to its end on the calling thread (spinning briefly, then parked) and returns its
/// JSON answer; `cancel` (may be NULL) ends it early with `CANCELLED`. For plain C callers, and
/// for the Go SDK when few calls are in flight: waiting here spares the two thread hand-offs of
/// the queue (submit -> pulling thread -> goroutine), a large share of a local call.
pub(crate) fn block<F>(fut: F, cancel: Option<&AerostackCancel>, out: *mut *mut c_char) -> Result<(), Error>
where
    F: Future<Output = Result<Value, Error>> + Send + 'static,
{
    let task = Task::spawn(fut)?;
    if let Some(c) = cancel {
        c.arm(task.canceller());
    }
    let finished = task.wait(None);
    if let Some(c) = cancel {
        c.disarm();
    }
    if !finished {
        return Err(Error::cancelled());
    }
    let v = task.take().unwrap_or_else(|| Err(Error::new(aerostack_bindings_common::ErrorCode::InternalError, "the call's outcome was lost")))?;
    write(out, c_string(v.to_string()))
}

/// A cancel token for blocking calls (`aerostack_client_call_wait`): `aerostack_cancel_fire`,
/// from any thread, ends the call waiting with it (and every later one) with `CANCELLED` and
/// drops the engine's request.
pub struct AerostackCancel {
    state: Mutex<CancelState>,
}

struct CancelState {
    fired: bool,
    armed: Option<Canceller<Result<Value, Error>>>,
}

impl AerostackCancel {
    fn arm(&self, c: Canceller<Result<Value, Error>>) {
        let mut st = self.state.lock();
        if st.fired {
            drop(st);
            c.cancel();
        } else {
            st.armed = Some(c);
        }
    }

    fn disarm(&self) {
        self.state.lock().armed = None;
    }
}

/// A new cancel token (free it with `aerostack_cancel_free` once no call waits with it).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_cancel_new(out: *mut *mut AerostackCancel, err: *mut *mut c_char) -> i32 {
    ffi(err, || put(out, AerostackCancel { state: Mutex::new(CancelState { fired: false, armed: None }) }))
}

/// Fires the token: the call waiting with it returns `CANCELLED` at once.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_cancel_fire(cancel: *const AerostackCancel, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        let armed = {
            let mut st = handle("cancel", cancel)?.state.lock();
            st.fired = true;
            st.armed.take()
        };
        if let Some(c) = armed {
            c.cancel();
        }
        Ok(())
    })
}

/// Frees a cancel token (NULL is ignored).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_cancel_free(cancel: *mut AerostackCancel) {
    free(cancel);
}

