//! How engine outcomes reach JavaScript, over the surface's [`Task`]: every waiting call returns
//! a Promise from a napi deferred, and the task's `on_done` settles it. Settling only queues the
//! value to the JS thread (the deferred's threadsafe function), where it becomes a JS value: no
//! engine thread runs JS. A deferred keeps the event loop alive only while its call runs, so an
//! idle client lets the process exit.
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
type Slot = Arc<Mutex<Option<Deferred>>>;

fn settle(slot: &Slot, out: Out) {
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
    let (deferred, promise) = env.create_deferred::<Out, Resolver>()?;
    let slot: Slot = Arc::new(Mutex::new(Some(deferred)));
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
    let slot: Slot = Arc::new(Mutex::new(Some(deferred)));
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
            settle(&s, outcome(r));
        });
    if let Err(e) = spawned {
        settle(
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
