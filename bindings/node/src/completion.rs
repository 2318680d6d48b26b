//! How engine outcomes reach JavaScript, over the surface's [`Task`]: every waiting call returns
//! a Promise, and the task's `on_done` settles it. Settling only queues the outcome to the JS
//! thread, where it becomes a JS value: no engine thread runs JS.
//!
//! One completion path per JS environment (thread), not one threadsafe function per call: a call
//! gets a plain promise and an id; engine threads push `(id, outcome)` onto the environment's
//! queue and wake the JS thread once per batch through its one threadsafe function, whose
//! callback resolves every queued promise. That function keeps the event loop alive only while
//! some call is pending (ref'd at the first, unref'd when none is left), so an idle client lets
//! the process exit.
//!
//! Cancellation (`AbortSignal`, closing a stream or a channel's event loop) goes through a
//! [`NativeCancel`] token: it drops the engine future (and its request) and settles the promise
//! as `CANCELLED`, since a cancelled task never reports done and every deferred must be settled.

use std::future::Future;
use std::sync::Arc;

use aerostack_bindings_common::{AbortHandle, Error, ProgressCell, Task};
use napi::bindgen_prelude::*;
use napi::{Env, JsDeferred, sys};
use napi_derive::napi;
use parking_lot::Mutex;
use serde_json::Value;

use crate::{error_text, value_text};

/// What a finished call hands to JS, built into a JS value on the JS thread.
pub enum Out {
    /// `"0"`/`"1"`-prefixed text (see lib.rs).
    Text(String),
    /// `storage.get`: `{ data: Buffer, contentType }`.
    Download(Vec<u8>, Option<String>),
    Stream(crate::stream::NativeStream),
    GatewaySocket(crate::gateway_socket::NativeGatewaySocket),
    Worker(crate::worker::NativeWorker),
    Invocation(crate::worker::NativeInvocation),
    Platform(crate::platform::NativePlatform),
    /// A hosted call's next request: `{ id, method, url, headers, body }`.
    HostRequest(u64, aerostack_bindings_common::HostRequest),
}

#[napi(object)]
pub struct DownloadOut {
    pub data: Buffer,
    pub content_type: Option<String>,
}

impl ToNapiValue for Out {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        unsafe {
            match val {
                Out::Text(s) => String::to_napi_value(env, s),
                Out::Download(d, content_type) => DownloadOut::to_napi_value(
                    env,
                    DownloadOut {
                        data: d.into(),
                        content_type,
                    },
                ),
                Out::Stream(s) => crate::stream::NativeStream::to_napi_value(env, s),
                Out::GatewaySocket(s) => {
                    crate::gateway_socket::NativeGatewaySocket::to_napi_value(env, s)
                }
                Out::Worker(w) => crate::worker::NativeWorker::to_napi_value(env, w),
                Out::Invocation(i) => crate::worker::NativeInvocation::to_napi_value(env, i),
                Out::Platform(p) => crate::platform::NativePlatform::to_napi_value(env, p),
                Out::HostRequest(id, r) => crate::hosted::HostRequestOut::to_napi_value(
                    env,
                    crate::hosted::HostRequestOut {
                        id: id as f64,
                        method: r.method,
                        url: r.url,
                        headers: r.headers.into_iter().map(|(n, v)| vec![n, v]).collect(),
                        body: r.body.to_vec().into(),
                    },
                ),
            }
        }
    }
}

/// Turns a successful outcome into [`Out`] (an error always becomes `Out::Text`).
pub trait IntoOut: Send + 'static {
    fn into_out(self) -> Out;
}

impl IntoOut for Value {
    fn into_out(self) -> Out {
        Out::Text(value_text(&self))
    }
}

impl IntoOut for Out {
    fn into_out(self) -> Out {
        self
    }
}

/// `None` (end of stream, no event, timeout) is the text `"0"`.
impl IntoOut for Option<Value> {
    fn into_out(self) -> Out {
        match self {
            Some(v) => Out::Text(value_text(&v)),
            None => Out::Text(value_text(&Value::Null)[..1].to_string()),
        }
    }
}

type Resolver = Box<dyn FnOnce(Env) -> Result<Out> + Send>;
type Deferred = JsDeferred<Out, Resolver>;

/// A pending call's promise, settled once: its id on its environment's completion queue.
type Slot = Arc<Mutex<Option<(u64, Arc<Shared>)>>>;

fn settle(slot: &Slot, out: Out) {
    if let Some((id, shared)) = slot.lock().take() {
        shared.push(id, out);
    }
}

/// The part of an environment's completion path engine threads touch.
struct Shared {
    /// Outcomes waiting for the JS thread, and whether the environment is gone.
    queue: Mutex<(Vec<(u64, Out)>, bool)>,
    /// Set once, right after the function is created (before anything can call it).
    tsfn: std::sync::OnceLock<Tsfn>,
}

#[derive(Clone, Copy)]
struct Tsfn(sys::napi_threadsafe_function);
unsafe impl Send for Tsfn {}
unsafe impl Sync for Tsfn {}

impl Shared {
    fn tsfn(&self) -> sys::napi_threadsafe_function {
        self.tsfn.get().map_or(std::ptr::null_mut(), |t| t.0)
    }
}

impl Shared {
    fn push(&self, id: u64, out: Out) {
        let mut q = self.queue.lock();
        if q.1 {
            return; // the environment was torn down: nobody waits for this promise
        }
        let wake = q.0.is_empty();
        q.0.push((id, out));
        if wake && !self.tsfn().is_null() {
            // Under the lock, so the environment's teardown (which takes it) cannot interleave.
            unsafe {
                sys::napi_call_threadsafe_function(
                    self.tsfn(),
                    std::ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                );
            }
        }
    }
}

/// The JS thread's side: the promises still pending, by id.
struct Local {
    shared: Arc<Shared>,
    pending: std::collections::HashMap<u64, sys::napi_deferred>,
    next: u64,
    referenced: bool,
}

thread_local! {
    static LOCAL: std::cell::RefCell<Option<Local>> = const { std::cell::RefCell::new(None) };
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::new(
            napi::Status::GenericFailure,
            format!("aerostack: {what} failed ({status})"),
        ))
    }
}

/// Runs on the JS thread: resolves every queued promise.
unsafe extern "C" fn drain(
    env: sys::napi_env,
    _cb: sys::napi_value,
    context: *mut std::ffi::c_void,
    _data: *mut std::ffi::c_void,
) {
    if env.is_null() || context.is_null() {
        return; // being torn down
    }
    let shared = unsafe { &*(context as *const Shared) };
    let batch = std::mem::take(&mut shared.queue.lock().0);
    let ready: Vec<(sys::napi_deferred, Out)> = LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        let Some(local) = l.as_mut() else {
            return Vec::new();
        };
        let ready = batch
            .into_iter()
            .filter_map(|(id, out)| local.pending.remove(&id).map(|d| (d, out)))
            .collect();
        if local.pending.is_empty() && local.referenced {
            unsafe { sys::napi_unref_threadsafe_function(env, local.shared.tsfn()) };
            local.referenced = false;
        }
        ready
    });
    for (d, out) in ready {
        let v = unsafe { Out::to_napi_value(env, out) }.or_else(|e| unsafe {
            let text = error_text(Error::new(
                aerostack_bindings_common::ErrorCode::InternalError,
                e.reason.clone(),
            ));
            String::to_napi_value(env, text)
        });
        if let Ok(v) = v {
            unsafe { sys::napi_resolve_deferred(env, d, v) };
        }
    }
}

/// The environment is gone: engine threads stop queueing.
unsafe extern "C" fn finalize(
    _env: sys::napi_env,
    data: *mut std::ffi::c_void,
    _hint: *mut std::ffi::c_void,
) {
    if data.is_null() {
        return;
    }
    let shared = unsafe { Arc::from_raw(data as *const Shared) };
    shared.queue.lock().1 = true;
    LOCAL.with(|l| l.borrow_mut().take());
}

/// A new pending promise on this environment's completion path: its slot and the promise.
fn pending<'e>(env: &'e Env) -> Result<(Slot, Object<'e>)> {
    let raw = env.raw();
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        if l.is_none() {
            *l = Some(create(raw)?);
        }
        let local = l.as_mut().expect("created above");
        let mut deferred = std::ptr::null_mut();
        let mut promise = std::ptr::null_mut();
        check(
            unsafe { sys::napi_create_promise(raw, &mut deferred, &mut promise) },
            "napi_create_promise",
        )?;
        local.next += 1;
        let id = local.next;
        local.pending.insert(id, deferred);
        if !local.referenced {
            check(
                unsafe { sys::napi_ref_threadsafe_function(raw, local.shared.tsfn()) },
                "napi_ref_threadsafe_function",
            )?;
            local.referenced = true;
        }
        let slot: Slot = Arc::new(Mutex::new(Some((id, local.shared.clone()))));
        Ok((slot, unsafe { Object::from_napi_value(raw, promise)? }))
    })
}

/// This environment's threadsafe function (unref'd: it holds the loop only while calls pend).
fn create(env: sys::napi_env) -> Result<Local> {
    let mut name = std::ptr::null_mut();
    let label = "aerostack-completions";
    check(
        unsafe {
            sys::napi_create_string_utf8(
                env,
                label.as_ptr().cast(),
                label.len() as isize,
                &mut name,
            )
        },
        "napi_create_string_utf8",
    )?;
    let shared = Arc::new(Shared {
        queue: Mutex::new((Vec::new(), false)),
        tsfn: std::sync::OnceLock::new(),
    });
    // The function's context and finalize data: one reference, released by `finalize`.
    let raw = Arc::into_raw(shared.clone()) as *mut std::ffi::c_void;
    let mut tsfn = std::ptr::null_mut();
    let status = unsafe {
        sys::napi_create_threadsafe_function(
            env,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            name,
            0,
            1,
            raw,
            Some(finalize),
            raw,
            Some(drain),
            &mut tsfn,
        )
    };
    if status != sys::Status::napi_ok {
        drop(unsafe { Arc::from_raw(raw as *const Shared) });
        return Err(napi::Error::new(
            napi::Status::GenericFailure,
            format!("aerostack: napi_create_threadsafe_function failed ({status})"),
        ));
    }
    let _ = shared.tsfn.set(Tsfn(tsfn));
    check(
        unsafe { sys::napi_unref_threadsafe_function(env, tsfn) },
        "napi_unref_threadsafe_function",
    )?;
    Ok(Local {
        shared,
        pending: std::collections::HashMap::new(),
        next: 0,
        referenced: false,
    })
}

/// The settle-once slot of [`on_thread`] (a napi deferred of its own: rare, not on the hot path).
type ThreadSlot = Arc<Mutex<Option<Deferred>>>;

fn settle_thread(slot: &ThreadSlot, out: Out) {
    if let Some(d) = slot.lock().take() {
        d.resolve(Box::new(move |_| Ok(out)));
    }
}

fn outcome<T: IntoOut>(r: std::result::Result<T, Error>) -> Out {
    match r {
        Ok(v) => v.into_out(),
        Err(e) => Out::Text(error_text(e)),
    }
}

/// Starts `fut` (already past its argument checks, or the check's error) as a [`Task`] and
/// returns the Promise of its outcome; `cancel` (optional) can drop it.
pub fn submit<'e, F, T>(
    env: &'e Env,
    fut: std::result::Result<F, Error>,
    cancel: Option<&NativeCancel>,
) -> Result<Object<'e>>
where
    F: Future<Output = std::result::Result<T, Error>> + Send + 'static,
    T: IntoOut,
{
    let (slot, promise) = pending(env)?;
    let fut = match fut {
        Ok(f) => f,
        Err(e) => {
            settle(&slot, Out::Text(error_text(e)));
            return Ok(promise);
        }
    };
    let task = match Task::spawn(fut) {
        Ok(t) => t,
        Err(e) => {
            settle(&slot, Out::Text(error_text(Error::from(e))));
            return Ok(promise);
        }
    };
    let s = slot.clone();
    task.on_done(move |r| settle(&s, outcome(r)));
    if let Some(c) = cancel {
        c.arm(task.abort_handle(), slot);
    }
    Ok(promise)
}

/// Runs blocking `work` (the local platform's start and stop) on its own thread and returns the
/// Promise of its outcome: the JS thread never waits.
pub fn on_thread<'e, T: IntoOut>(
    env: &'e Env,
    work: impl FnOnce() -> std::result::Result<T, Error> + Send + 'static,
) -> Result<Object<'e>> {
    let (deferred, promise) = env.create_deferred::<Out, Resolver>()?;
    let slot: ThreadSlot = Arc::new(Mutex::new(Some(deferred)));
    let s = slot.clone();
    let spawned = std::thread::Builder::new()
        .name("aerostack-local-start".into())
        .spawn(move || {
            let r =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|_| {
                    Err(Error::new(
                        aerostack_bindings_common::ErrorCode::InternalError,
                        "the local platform failed unexpectedly (a bug: please report it)",
                    ))
                });
            settle_thread(&s, outcome(r));
        });
    if let Err(e) = spawned {
        settle_thread(
            &slot,
            Out::Text(error_text(Error::new(
                aerostack_bindings_common::ErrorCode::InternalError,
                e.to_string(),
            ))),
        );
    }
    Ok(promise)
}

struct CancelState {
    cancelled: bool,
    armed: Vec<(AbortHandle, Slot)>,
    /// Finished calls are forgotten when `armed` reaches this length (amortised: a token shared
    /// by many calls in flight costs O(1) per call).
    sweep_at: usize,
}

/// A cancellation token for calls: `cancel()` drops every call armed with it and settles their
/// promises as `CANCELLED` (an `AbortSignal`'s `abort` event calls it).
#[napi]
pub struct NativeCancel {
    inner: Arc<Mutex<CancelState>>,
}

#[napi]
impl NativeCancel {
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        NativeCancel {
            inner: Arc::new(Mutex::new(CancelState {
                cancelled: false,
                armed: Vec::new(),
                sweep_at: 64,
            })),
        }
    }

    fn arm(&self, abort: AbortHandle, slot: Slot) {
        let mut st = self.inner.lock();
        if st.cancelled {
            drop(st);
            cancel_one(&abort, &slot);
            return;
        }
        // Forget finished calls (one token serves every call of an AbortSignal).
        if st.armed.len() >= st.sweep_at {
            st.armed.retain(|(_, s)| s.lock().is_some());
            st.sweep_at = (st.armed.len() * 2).max(64);
        }
        st.armed.push((abort, slot));
    }

    /// Drops the armed calls (and later ones armed with this token).
    #[napi(catch_unwind)]
    pub fn cancel(&self) {
        let armed = {
            let mut st = self.inner.lock();
            st.cancelled = true;
            std::mem::take(&mut st.armed)
        };
        for (abort, slot) in armed {
            cancel_one(&abort, &slot);
        }
    }

    #[napi(getter, catch_unwind)]
    pub fn cancelled(&self) -> bool {
        self.inner.lock().cancelled
    }
}

impl Default for NativeCancel {
    fn default() -> Self {
        Self::new()
    }
}

fn cancel_one(abort: &AbortHandle, slot: &Slot) {
    abort.abort();
    settle(slot, Out::Text(error_text(Error::cancelled())));
}

/// Upload progress, pulled: the engine records the latest figures; the package polls
/// [`take`](NativeProgress::take) on the JS thread while the upload runs.
#[napi]
pub struct NativeProgress {
    pub(crate) cell: Arc<ProgressCell>,
}

#[napi]
impl NativeProgress {
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        NativeProgress {
            cell: ProgressCell::new(),
        }
    }

    /// `[sent, total]` (total -1 when unknown) if they changed since the last call.
    #[napi(catch_unwind)]
    pub fn take(&self) -> Option<Vec<f64>> {
        self.cell
            .take_new()
            .map(|p| vec![p.sent as f64, p.total.map_or(-1.0, |t| t as f64)])
    }
}

impl Default for NativeProgress {
    fn default() -> Self {
        Self::new()
    }
}
