//! How engine results reach Python without an engine thread ever taking the GIL.
//!
//! - **asyncio**: a [`NativePort`] per event loop. The engine task pushes `(future, result)` onto
//!   the port's ready list and, if the list was empty, writes one byte to a socket pair. The loop
//!   watches the other end (`loop.add_reader`) and calls [`NativePort::drain`], which resolves
//!   every ready future on the loop's own thread. Completions are pulled by the host and batched
//!   under load (one wake-up for many results); pyo3-async-runtimes' `call_soon_threadsafe` per
//!   result stays as the fallback for loops without `add_reader`.
//! - **blocking calls**: [`block_on`] spawns the call on the runtime and spins briefly (GIL released)
//!   before parking, because a sequential caller's next result usually arrives within that window
//!   and a parked thread's wake-up costs more than the whole request on small machines.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aerostack::{Error, ProgressFn, UploadProgress};
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
// Upload progress: the engine records the latest figures; the host reports them on its thread.

/// One upload's progress callback (`callback(sent, total)`), called on the host's thread: from the
/// port's drain for awaited uploads, from the waiting thread for blocking ones. Reports coalesce:
/// a slow callback sees the latest figures, not a backlog.
pub struct Progress {
    callback: Py<PyAny>,
    latest: Mutex<Option<UploadProgress>>,
    reported: Mutex<Option<UploadProgress>>,
    /// A report is queued on the port (awaited uploads).
    queued: AtomicBool,
    port: Option<Arc<PortInner>>,
    /// The awaited upload, failed with the callback's exception if it raises.
    target: Option<Py<PyAny>>,
    abort: Mutex<Option<AbortHandle>>,
}

impl Progress {
    /// For a blocking upload: reported by [`block_on_reporting`].
    pub fn blocking(callback: Py<PyAny>) -> Arc<Progress> {
        Arc::new(Progress::new(callback, None, None))
    }

    /// For an awaited upload through `port` resolving `target`.
    pub fn awaited(callback: Py<PyAny>, port: &NativePort, target: Py<PyAny>) -> Arc<Progress> {
        Arc::new(Progress::new(callback, Some(port.inner.clone()), Some(target)))
    }

    fn new(callback: Py<PyAny>, port: Option<Arc<PortInner>>, target: Option<Py<PyAny>>) -> Progress {
        Progress {
            callback,
            latest: Mutex::new(None),
            reported: Mutex::new(None),
            queued: AtomicBool::new(false),
            port,
            target,
            abort: Mutex::new(None),
        }
    }

    /// The engine's callback: records the figures (and queues one report on the port).
    pub fn engine_fn(self: &Arc<Self>) -> ProgressFn {
        let me = self.clone();
        Arc::new(move |p: UploadProgress| {
            *me.latest.lock() = Some(p);
            if let Some(port) = &me.port
                && !me.queued.swap(true, Ordering::AcqRel)
            {
                port.push(Ready::Progress(me.clone()));
            }
        })
    }

    /// Calls the callback with the latest figures if they changed since the last report.
    fn report(&self, py: Python<'_>) -> PyResult<()> {
        let latest = *self.latest.lock();
        let Some(p) = latest else { return Ok(()) };
        {
            let mut reported = self.reported.lock();
            if *reported == Some(p) {
                return Ok(());
            }
            *reported = Some(p);
        }
        self.callback.bind(py).call1((p.sent, p.total))?;
        Ok(())
    }

    /// `report` for an awaited upload: a raising callback fails the upload and aborts it.
    fn report_async(&self, py: Python<'_>) -> PyResult<()> {
        self.queued.store(false, Ordering::Release);
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

/// How long a blocking caller spins before parking (see the module comment).
const SPIN: Duration = Duration::from_micros(250);
/// How often a parked caller wakes to let Python run signal handlers (Ctrl-C).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

struct Slot<T> {
    done: AtomicBool,
    value: Mutex<Option<T>>,
    thread: std::thread::Thread,
}

/// How often a blocking upload reports progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// Runs `make()`'s future on the process runtime and waits for it with the GIL released;
/// a signal handler that raises (Ctrl-C) aborts the call.
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
    let rt = aerostack_bindings_common::runtime().map_err(runtime_err)?;
    let slot = Arc::new(Slot { done: AtomicBool::new(false), value: Mutex::new(None), thread: std::thread::current() });
    let fut = make();
    let s = slot.clone();
    let task = rt.spawn(async move {
        let r = fut.await;
        *s.value.lock() = Some(r);
        s.done.store(true, Ordering::Release);
        s.thread.unpark();
    });
    let mut finished = py.detach(|| {
        let start = Instant::now();
        while start.elapsed() < SPIN {
            if slot.done.load(Ordering::Acquire) {
                return true;
            }
            std::hint::spin_loop();
            std::thread::yield_now();
        }
        false
    });
    let every = if progress.is_some() { PROGRESS_EVERY } else { SIGNAL_CHECK };
    while !finished {
        finished = py.detach(|| {
            let deadline = Instant::now() + every;
            while !slot.done.load(Ordering::Acquire) {
                let now = Instant::now();
                if now >= deadline {
                    return false;
                }
                std::thread::park_timeout(deadline - now);
            }
            true
        });
        let checked = py.check_signals().and_then(|()| progress.map_or(Ok(()), |p| p.report(py)));
        if let Err(e) = checked {
            task.abort();
            return Err(e);
        }
    }
    if let Some(p) = progress {
        p.report(py)?; // the final figures, also when the call finished while spinning
    }
    match slot.value.lock().take() {
        Some(value) => value.map_err(to_pyerr),
        None => Err(pyo3::exceptions::PyRuntimeError::new_err("aerostack: a finished call left no result (a bug)")),
    }
}
