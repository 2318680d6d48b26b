//! How engine results reach Python without an engine thread ever taking the GIL.
//!
//! - **asyncio**: a [`NativePort`] per event loop. The engine task pushes `(future, result)` onto
//!   the port's ready list and, if the list was empty, writes one byte to a socket pair. The loop
//!   watches the other end (`loop.add_reader`) and calls [`NativePort::drain`], which resolves
//!   every ready future on the loop's own thread. Completions are pulled by the host and batched
//!   under load (one wake-up for many results); pyo3-async-runtimes' `call_soon_threadsafe` per
//!   result stays as the fallback for loops without `add_reader`.
//! - **blocking calls**: [`block_on`] waits with bindings_common's [`Waiter`] (spin, then park)
//!   with the GIL released, running signal checks and progress reports between parks.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aerostack::{Error, ProgressFn};
use aerostack_bindings_common::{ProgressCell, Waiter, wait};
use parking_lot::Mutex;
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use tokio::task::AbortHandle;

use crate::{runtime_err, to_pyerr};

/// Builds the Python value of a finished call, on the loop's thread.
pub type Deliver = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// A finished call's answer as a [`Deliver`].
pub fn deliver<T>(value: T) -> Deliver
where
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    Box::new(move |py| value.into_py_any(py))
}

enum Ready {
    /// Resolve the asyncio future with the call's result.
    Result(Py<PyAny>, Result<Deliver, Error>),
    /// Report an upload's latest progress to its callback.
    Progress(Arc<Progress>),
}

struct PortInner {
    ready: Mutex<Vec<Ready>>,
    /// A byte is in flight to the reader: later completions only append to `ready`.
    armed: AtomicBool,
    writer: UnixStream,
}

impl PortInner {
    fn push(&self, item: Ready) {
        self.ready.lock().push(item);
        if !self.armed.swap(true, Ordering::AcqRel) {
            // Non-blocking; a full buffer means the reader has bytes to wake it already.
            let _ = (&self.writer).write(&[1]);
        }
    }
}

/// The completion queue of one asyncio event loop.
#[pyclass(module = "aerostack._native", frozen)]
pub struct NativePort {
    inner: Arc<PortInner>,
    reader: UnixStream,
}

#[pymethods]
impl NativePort {
    #[new]
    fn new() -> PyResult<Self> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(NativePort {
            inner: Arc::new(PortInner { ready: Mutex::new(Vec::new()), armed: AtomicBool::new(false), writer }),
            reader,
        })
    }

    /// The descriptor to watch with `loop.add_reader`.
    fn fileno(&self) -> i32 {
        self.reader.as_raw_fd()
    }

    /// Resolves every future whose call has finished (skipping cancelled ones) and runs pending
    /// progress callbacks. Call it on the loop's thread, from the `add_reader` callback. Every
    /// item is handled even if one fails; the first failure is raised afterwards (the loop's
    /// exception handler reports it).
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        // Empty the socket first, then take the list and disarm: a completion racing with this
        // either lands in the list we take or finds the port disarmed and writes a new byte.
        let mut buf = [0u8; 64];
        loop {
            match (&self.reader).read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let ready = {
            let mut list = self.inner.ready.lock();
            self.inner.armed.store(false, Ordering::Release);
            std::mem::take(&mut *list)
        };
        let mut first_err = None;
        for item in ready {
            let r = match item {
                Ready::Result(fut, result) => resolve(py, fut.into_bound(py), result),
                Ready::Progress(p) => p.report_async(py),
            };
            if let Err(e) = r {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

fn resolve(py: Python<'_>, fut: Bound<'_, PyAny>, result: Result<Deliver, Error>) -> PyResult<()> {
    if fut.call_method0(pyo3::intern!(py, "done"))?.is_truthy()? {
        return Ok(()); // cancelled (or failed by a progress callback) meanwhile
    }
    let outcome = result.map_err(to_pyerr).and_then(|d| d(py));
    match outcome {
        Ok(v) => fut.call_method1(pyo3::intern!(py, "set_result"), (v,))?,
        Err(e) => fut.call_method1(pyo3::intern!(py, "set_exception"), (e.into_value(py),))?,
    };
    Ok(())
}

/// A call in flight on a port; `abort()` drops the engine's future (the request with it).
#[pyclass(module = "aerostack._native", frozen)]
pub struct NativeCall {
    handle: AbortHandle,
}

#[pymethods]
impl NativeCall {
    fn abort(&self) {
        self.handle.abort();
    }
}

/// Runs `fut` on the process runtime; its result resolves the asyncio future `target` through
/// `port`.
pub fn submit<F, T>(port: &NativePort, target: Py<PyAny>, fut: F) -> PyResult<NativeCall>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    submit_with(port, target, fut, None)
}

fn submit_with<F, T>(port: &NativePort, target: Py<PyAny>, fut: F, progress: Option<&Arc<Progress>>) -> PyResult<NativeCall>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    let rt = aerostack_bindings_common::runtime().map_err(runtime_err)?;
    let inner = port.inner.clone();
    let handle = rt.spawn(async move {
        let result = fut.await.map(deliver);
        inner.push(Ready::Result(target, result));
    });
    if let Some(p) = progress {
        *p.abort.lock() = Some(handle.abort_handle());
    }
    Ok(NativeCall { handle: handle.abort_handle() })
}

// ---------------------------------------------------------------------------------------------
// Upload progress: the engine records the figures (`ProgressCell`); the host reports them.

/// One upload's progress callback (`callback(sent, total)`), called on the host's thread: from the
/// port's drain for awaited uploads, from the waiting thread for blocking ones.
pub struct Progress {
    cell: Arc<ProgressCell>,
    callback: Py<PyAny>,
    /// Awaited uploads: the future failed with the callback's exception if it raises.
    target: Option<Py<PyAny>>,
    abort: Mutex<Option<AbortHandle>>,
}

impl Progress {
    /// For a blocking upload: reported by [`block_on_reporting`].
    pub fn blocking(callback: Py<PyAny>) -> (Arc<Progress>, ProgressFn) {
        let cell = ProgressCell::new();
        let engine_fn = cell.engine_fn(|| {}); // the waiting thread polls
        (Arc::new(Progress { cell, callback, target: None, abort: Mutex::new(None) }), engine_fn)
    }

    /// For an awaited upload through `port` resolving `target`: each wake-up queues one report.
    pub fn awaited(callback: Py<PyAny>, port: &NativePort, target: Py<PyAny>) -> (Arc<Progress>, ProgressFn) {
        let me = Arc::new(Progress { cell: ProgressCell::new(), callback, target: Some(target), abort: Mutex::new(None) });
        let (port, me2) = (port.inner.clone(), me.clone()); // no cycle: Progress does not hold the fn
        let engine_fn = me.cell.engine_fn(move || port.push(Ready::Progress(me2.clone())));
        (me, engine_fn)
    }

    /// Calls the callback with the figures that are new since the last report.
    fn report(&self, py: Python<'_>) -> PyResult<()> {
        match self.cell.take_new() {
            Some(p) => self.callback.bind(py).call1((p.sent, p.total)).map(drop),
            None => Ok(()),
        }
    }

    /// `report` for an awaited upload: a raising callback fails the upload and aborts it.
    fn report_async(&self, py: Python<'_>) -> PyResult<()> {
        let Err(e) = self.report(py) else { return Ok(()) };
        if let Some(h) = self.abort.lock().take() {
            h.abort();
        }
        if let Some(target) = &self.target {
            let fut = target.bind(py);
            if !fut.call_method0(pyo3::intern!(py, "done"))?.is_truthy()? {
                fut.call_method1(pyo3::intern!(py, "set_exception"), (e.into_value(py),))?;
            }
        }
        Ok(())
    }
}

/// `submit` for an upload that reports progress through the port.
pub fn submit_reporting<F, T>(port: &NativePort, target: Py<PyAny>, fut: F, progress: &Arc<Progress>) -> PyResult<NativeCall>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    submit_with(port, target, fut, Some(progress))
}

/// How often a parked caller wakes to let Python run signal handlers (Ctrl-C).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);
/// How often a blocking upload reports progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// Runs `make()`'s future on the process runtime and waits for it with the GIL released
/// (bindings_common's [`Waiter`]: spin, then park); a signal handler that raises (Ctrl-C) aborts
/// the call.
pub fn block_on<M, F, T>(py: Python<'_>, make: M) -> PyResult<T>
where
    M: FnOnce() -> F,
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    block_on_reporting(py, make, None)
}

/// `block_on` that also calls an upload's progress callback on this thread while it waits; a
/// raising callback aborts the upload.
pub fn block_on_reporting<M, F, T>(py: Python<'_>, make: M, progress: Option<&Progress>) -> PyResult<T>
where
    M: FnOnce() -> F,
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    let waiter = Waiter::spawn(make()).map_err(runtime_err)?;
    let every = if progress.is_some() { PROGRESS_EVERY } else { SIGNAL_CHECK };
    let mut finished = py.detach(|| waiter.spin(wait::SPIN));
    while !finished {
        finished = py.detach(|| waiter.park(every));
        let checked = py.check_signals().and_then(|()| progress.map_or(Ok(()), |p| p.report(py)));
        if let Err(e) = checked {
            waiter.abort();
            return Err(e);
        }
    }
    if let Some(p) = progress {
        p.report(py)?; // the final figures, also when the call finished while spinning
    }
    match waiter.take() {
        Some(value) => value.map_err(to_pyerr),
        None => Err(pyo3::exceptions::PyRuntimeError::new_err("aerostack: a finished call left no result (a bug)")),
    }
}
