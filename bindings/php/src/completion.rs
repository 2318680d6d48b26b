//! `Task`: a running engine call, as PHP holds it, and the one blocking wait of the extension.
//!
//! PHP is single-threaded and has no event loop of its own: a blocking method starts the engine
//! future as the surface's `Task` and parks this thread on it (spin, then park in slices) while
//! the engine runs it on its runtime. `Client::spawn` instead hands the running `Task` to PHP,
//! which keeps many in flight and waits for them later (`Aerostack\all`).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerostack_bindings_common::task::SPIN;
use aerostack_bindings_common::{Error, ProcessGuard, ProgressCell, Task as SurfaceTask};
use ext_php_rs::prelude::*;
use ext_php_rs::zend::ExecutorGlobals;
use serde_json::Value;

use crate::to_php;

/// The outcome every PHP-facing task carries: JSON text, or the engine's error.
pub type Outcome = Result<Value, Error>;

/// Runs `fut` (already past its argument checks, or the check's error) to its end, blocking
/// this thread; the answer as JSON text.
pub fn block_on<T: Send + 'static>(
    fut: Result<impl Future<Output = Result<T, Error>> + Send + 'static, Error>,
) -> PhpResult<T> {
    let task = SurfaceTask::spawn(fut.map_err(to_php)?).map_err(|e| to_php(Error::from(e)))?;
    task.wait(None);
    task.take()
        .expect("a finished task holds its outcome")
        .map_err(to_php)
}

/// `block_on` that a signal for PHP's handler (pcntl_async_signals) interrupts, as Ctrl-C does in
/// Python: the call is dropped and `None` returned. Returning (rather than throwing) lets PHP run
/// the handler right after this native call (PHP skips handlers while an exception is pending);
/// the PHP side then throws its CancelledException.
pub fn block_on_interruptible<T: Send + 'static>(
    fut: Result<impl Future<Output = Result<T, Error>> + Send + 'static, Error>,
) -> PhpResult<Option<T>> {
    let task = SurfaceTask::spawn(fut.map_err(to_php)?).map_err(|e| to_php(Error::from(e)))?;
    if !wait_interruptible(&task, None) {
        task.cancel();
        // A future being polled right now still finishes that poll: give it a moment, so an
        // outcome it produced (an event it took off the queue) is returned, not lost.
        if !task.park(CANCEL_SETTLE) {
            return Ok(None);
        }
    }
    task.take()
        .expect("a finished task holds its outcome")
        .map(Some)
        .map_err(to_php)
}

/// How long an interrupted wait lets a cancelled future finish the poll it may be in.
const CANCEL_SETTLE: Duration = Duration::from_millis(2);

/// How often a blocking wait looks for a signal PHP has to handle.
const SIGNAL_CHECK: Duration = Duration::from_millis(20);

/// Whether PHP has a signal waiting for its handler: with `pcntl_async_signals(true)`, pcntl's C
/// handler (on whichever thread the kernel picked) sets the VM interrupt flag.
fn signal_pending() -> bool {
    let eg = ExecutorGlobals::get();
    // SAFETY: a plain read of a flag the signal handler stores atomically; volatile so it is
    // re-read on every check.
    unsafe { std::ptr::read_volatile(&raw const eg.vm_interrupt.value) }
}

/// Spins, then parks in slices until the task finished (true), `limit` passed or PHP has a
/// signal to handle (false).
fn wait_interruptible<T>(task: &SurfaceTask<T>, limit: Option<Duration>) -> bool {
    if task.spin(limit.map_or(SPIN, |l| l.min(SPIN))) {
        return true;
    }
    let deadline = limit.map(|l| Instant::now() + l);
    loop {
        let slice = match deadline {
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return task.is_done();
                }
                (d - now).min(SIGNAL_CHECK)
            }
            None => SIGNAL_CHECK,
        };
        if task.park(slice) {
            return true;
        }
        if signal_pending() {
            return false;
        }
    }
}

/// A running engine call: `waitFor(ms)` until done, then `result()`; `cancel()` drops it.
#[php_class]
#[php(name = "Aerostack\\Native\\Task")]
pub struct Task {
    task: Arc<SurfaceTask<Outcome>>,
    progress: Option<Arc<ProgressCell>>,
    guard: ProcessGuard,
}

impl Task {
    /// Starts `fut` (an argument error is thrown at once).
    pub fn spawn(
        fut: Result<impl Future<Output = Outcome> + Send + 'static, Error>,
    ) -> PhpResult<Task> {
        Task::spawn_with(fut, None)
    }

    pub fn spawn_with(
        fut: Result<impl Future<Output = Outcome> + Send + 'static, Error>,
        progress: Option<Arc<ProgressCell>>,
    ) -> PhpResult<Task> {
        let task = SurfaceTask::spawn(fut.map_err(to_php)?).map_err(|e| to_php(Error::from(e)))?;
        Ok(Task {
            task: Arc::new(task),
            progress,
            guard: ProcessGuard::new(),
        })
    }

    fn check(&self) -> PhpResult<()> {
        self.guard.check().map_err(|e| to_php(Error::from(e)))
    }
}

#[php_impl]
impl Task {
    /// Waits at most `timeout_ms` (null: until done); whether the call has finished.
    pub fn wait_for(&self, timeout_ms: Option<i64>) -> PhpResult<bool> {
        self.check()?;
        let limit = timeout_ms.map(|ms| Duration::from_millis(ms.max(0) as u64));
        if limit.is_some_and(|d| d < SPIN) {
            return Ok(self.task.spin(limit.unwrap_or_default()));
        }
        // False early when PHP has a signal to handle: the caller's loop runs the handler, then
        // waits again (a pending call keeps running).
        Ok(wait_interruptible(&self.task, limit))
    }

    /// Whether the call has finished (never blocks).
    pub fn is_done(&self) -> bool {
        self.task.is_done()
    }

    /// The answer as JSON text once finished (waits for it otherwise); throws the call's
    /// `NativeError`. The outcome is taken: a second call throws.
    pub fn result(&self) -> PhpResult<String> {
        self.check()?;
        self.task.wait(None);
        match self.task.take() {
            Some(Ok(v)) => Ok(v.to_string()),
            Some(Err(e)) => Err(to_php(e)),
            None => Err(to_php(Error::validation(
                "task",
                "the result of this call was already taken",
            ))),
        }
    }

    /// Drops the engine call (and its request). A finished call is unaffected.
    pub fn cancel(&self) {
        self.task.cancel();
    }

    /// The newest upload progress not yet reported, as `[sent, total|null]`, or null.
    pub fn progress(&self) -> Option<Vec<Option<i64>>> {
        let p = self.progress.as_ref()?.take_new()?;
        Some(vec![Some(p.sent as i64), p.total.map(|t| t as i64)])
    }
}
