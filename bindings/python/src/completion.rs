//! How engine outcomes reach Python, over the surface's [`Task`]; no engine thread ever takes
//! the GIL.
//!
//! - **asyncio**: a [`NativePort`] per event loop. A task's outcome is handed (`Task::on_done`)
//!   to the port's ready list, which writes one byte to a socket pair when the list was empty.
//!   The loop watches the other end (`loop.add_reader`) and calls [`NativePort::drain`], which
//!   resolves every ready future on the loop's own thread: completions are pulled by the host and
//!   batched under load (one wake-up for many results).
//! - **blocking**: [`wait`] spins then parks on the task with the GIL released, running signal
//!   checks and progress reports between parks.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aerostack_bindings_common::{Error, ProgressCell, Task, task};
use parking_lot::Mutex;
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use aerostack_bindings_common::AbortHandle;

use crate::to_pyerr;

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
    /// Resolve the asyncio future with the call's outcome.
    Result(Py<PyAny>, Result<Deliver, Error>),
    /// Report an upload's latest progress to its callback.
    Progress(Arc<Progress>),
    /// Engine log lines wait (`drain` flushes them first thing).
    Logs,
}

/// Every live port, so engine log lines reach an event loop while its calls still wait.
static PORTS: Mutex<Vec<std::sync::Weak<PortInner>>> = Mutex::new(Vec::new());

/// Wakes every live port to flush waiting log lines (installed with `logs::on_pending`).
pub fn wake_ports_for_logs() {
    let mut ports = PORTS.lock();
    ports.retain(|p| match p.upgrade() {
        Some(port) => {
            port.push(Ready::Logs);
            true
        }
        None => false,
    });
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
        let inner = Arc::new(PortInner { ready: Mutex::new(Vec::new()), armed: AtomicBool::new(false), writer });
        let mut ports = PORTS.lock();
        ports.retain(|p| p.strong_count() > 0); // loops come and go (a test suite makes one per test)
        ports.push(Arc::downgrade(&inner));
        drop(ports);
        Ok(NativePort { inner, reader })
    }

    /// The descriptor to watch with `loop.add_reader`.
    fn fileno(&self) -> i32 {
        self.reader.as_raw_fd()
    }

    /// Resolves every future whose call has finished (skipping cancelled ones) and runs pending
    /// progress callbacks, on the loop's thread (the `add_reader` callback). Every item is
    /// handled even if one fails; the first failure is raised afterwards.
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
        crate::logs::flush(py);
        let mut first_err = None;
        for item in ready {
            let r = match item {
                Ready::Result(fut, result) => resolve(py, fut.into_bound(py), result),
                Ready::Progress(p) => p.report_async(py),
                Ready::Logs => Ok(()), // flushed above
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
    match result.map_err(to_pyerr).and_then(|d| d(py)) {
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

/// Starts `fut` as a task.
pub fn start<F, T>(fut: F) -> PyResult<Task<Result<T, Error>>>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    Task::spawn(fut).map_err(|e| to_pyerr(Error::from(e)))
}

/// Hands `task`'s outcome to the asyncio future `target` through `port`.
fn deliver_on<T>(port: &NativePort, target: Py<PyAny>, task: &Task<Result<T, Error>>)
where
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    let inner = port.inner.clone();
    task.on_done(move |r| inner.push(Ready::Result(target, r.map(deliver))));
}

/// Runs the surface call `fut` (or its error) and resolves the asyncio future `target` with it
/// through `port`.
pub fn submit<F, T>(port: &NativePort, target: Py<PyAny>, fut: Result<F, Error>) -> PyResult<NativeCall>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    let task = start(fut.map_err(to_pyerr)?)?;
    deliver_on(port, target, &task);
    Ok(NativeCall { handle: task.abort_handle() })
}

/// An engine call started at once (a publish, a subscription wait): `wait` for it (GIL
/// released), `wait_async` it through a port, or neither (it completes anyway). The outcome is
/// handed out once.
#[pyclass(module = "aerostack._native", frozen)]
pub struct NativeTask {
    task: Task<Result<String, Error>>,
}

impl NativeTask {
    pub fn spawn<F>(fut: Result<F, Error>) -> PyResult<NativeTask>
    where
        F: Future<Output = Result<serde_json::Value, Error>> + Send + 'static,
    {
        let fut = fut.map_err(to_pyerr)?;
        Ok(NativeTask { task: start(async move { fut.await.map(|v| v.to_string()) })? })
    }
}

#[pymethods]
impl NativeTask {
    /// True once the call finished (successfully or not).
    fn done(&self) -> bool {
        self.task.is_done()
    }

    /// The JSON answer, waiting (GIL released) at most `timeout_ms` (None: no limit); a
    /// `TIMEOUT` error if it is not there by then (the call goes on).
    #[pyo3(signature = (timeout_ms=None))]
    fn wait(&self, py: Python<'_>, timeout_ms: Option<u64>) -> PyResult<String> {
        wait(py, &self.task, Waiting { progress: None, limit: timeout_ms.map(Duration::from_millis) })
    }

    /// Resolves the asyncio future `fut` through `port` (cancelling the await does not cancel
    /// the call).
    fn wait_async(&self, port: &NativePort, fut: Py<PyAny>) {
        deliver_on(port, fut, &self.task);
    }

    /// Drops the engine call (a publish not sent yet may still be sent).
    fn cancel(&self) {
        self.task.cancel();
    }
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
    pub fn blocking(callback: Py<PyAny>) -> (Arc<Progress>, aerostack_bindings_common::ProgressFn) {
        let cell = ProgressCell::new();
        let engine_fn = cell.engine_fn(|| {}); // the waiting thread polls
        (Arc::new(Progress { cell, callback, target: None, abort: Mutex::new(None) }), engine_fn)
    }

    /// For an awaited upload through `port` resolving `target`: each wake-up queues one report.
    pub fn awaited(callback: Py<PyAny>, port: &NativePort, target: Py<PyAny>) -> (Arc<Progress>, aerostack_bindings_common::ProgressFn) {
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
pub fn submit_reporting<F, T>(port: &NativePort, target: Py<PyAny>, fut: Result<F, Error>, progress: &Arc<Progress>) -> PyResult<NativeCall>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    let call = submit(port, target, fut)?;
    *progress.abort.lock() = Some(call.handle.clone());
    Ok(call)
}

/// How often a parked caller wakes to let Python run signal handlers (Ctrl-C).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);
/// How often a blocking upload reports progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// Runs the surface call `fut` and waits for it with the GIL released; a signal handler that
/// raises (Ctrl-C) cancels the call.
pub fn block_on<F, T>(py: Python<'_>, fut: Result<F, Error>) -> PyResult<T>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    let task = start(fut.map_err(to_pyerr)?)?;
    wait(py, &task, Waiting::default())
}

/// `block_on` that also calls an upload's progress callback on this thread while it waits; a
/// raising callback cancels the upload.
pub fn block_on_reporting<F, T>(py: Python<'_>, fut: Result<F, Error>, progress: Option<&Progress>) -> PyResult<T>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    let task = start(fut.map_err(to_pyerr)?)?;
    wait(py, &task, Waiting { progress, limit: None })
}

/// How a blocking wait behaves.
#[derive(Clone, Copy, Default)]
struct Waiting<'a> {
    /// Report this upload's progress between parks (a raising callback cancels the call).
    progress: Option<&'a Progress>,
    /// Give up waiting after this long with `TIMEOUT` (the call goes on); Ctrl-C then ends the
    /// wait, not the call.
    limit: Option<Duration>,
}

/// The one blocking wait: spin, then park in slices with the GIL released, running Python's
/// signal handlers, progress reports and engine log lines between slices.
fn wait<T: Send>(py: Python<'_>, task: &Task<Result<T, Error>>, how: Waiting<'_>) -> PyResult<T> {
    let every = if how.progress.is_some() { PROGRESS_EVERY } else { SIGNAL_CHECK };
    let start = std::time::Instant::now();
    let mut finished = py.detach(|| task.spin(task::SPIN));
    while !finished {
        let slice = match how.limit {
            None => every,
            Some(limit) => match limit.checked_sub(start.elapsed()).filter(|l| !l.is_zero()) {
                Some(left) => left.min(every),
                None => return Err(to_pyerr(task::wait_timed_out(limit))),
            },
        };
        finished = py.detach(|| task.park(slice));
        crate::logs::flush(py); // a retry's warning shows while the call waits, not after
        let checked = py.check_signals().and_then(|()| how.progress.map_or(Ok(()), |p| p.report(py)));
        if let Err(e) = checked {
            if how.limit.is_none() {
                task.cancel(); // an interrupted call is dropped; a limited wait leaves it running
            }
            return Err(e);
        }
    }
    if let Some(p) = how.progress {
        p.report(py)?; // the final figures, also when the call finished while spinning
    }
    crate::logs::flush(py);
    taken(task)
}

fn taken<T>(task: &Task<Result<T, Error>>) -> PyResult<T> {
    match task.take() {
        Some(value) => value.map_err(to_pyerr),
        None => Err(to_pyerr(Error::validation(
            "task",
            "this call's result was already handed out (await it or wait for it once)",
        ))),
    }
}
