//! The process-wide tokio runtime, created lazily on first use.
//!
//! Never at import time or PHP MINIT: a host that only loads the module pays nothing. The creating
//! pid is recorded because tokio's worker threads do not survive `fork()`: a child that touches the
//! parent's runtime would hang. The child gets a fresh runtime instead (the parent's is leaked, as
//! dropping it would try to join threads that do not exist in the child), and objects created
//! before the fork are refused through [`ProcessGuard`] with an error that says what to do.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::runtime::{Builder, Runtime};

/// Why the runtime could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeError {
    /// The OS refused to start the runtime's threads.
    Start(String),
    /// The object was created in another process (before a `fork()`).
    Forked { created_in: u32, now: u32 },
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuntimeError::Start(e) => write!(f, "could not start the Aerostack runtime: {e}"),
            RuntimeError::Forked { created_in, now } => write!(
                f,
                "this Aerostack client was created in process {created_in} and is used in process {now} \
                 after fork(); create a new client in the child process (clients cannot cross fork)"
            ),
        }
    }
}

impl std::error::Error for RuntimeError {}

impl From<RuntimeError> for aerostack::Error {
    fn from(e: RuntimeError) -> aerostack::Error {
        match e {
            RuntimeError::Forked { .. } => aerostack::Error::invalid_config(e.to_string()),
            RuntimeError::Start(_) => aerostack::Error::new(aerostack::ErrorCode::InternalError, e.to_string()),
        }
    }
}

struct Slot {
    pid: u32,
    rt: Arc<Runtime>,
}

static RUNTIME: Mutex<Option<Slot>> = Mutex::new(None);

/// The runtime for this process, started on first call (and again in a forked child).
pub fn runtime() -> Result<Arc<Runtime>, RuntimeError> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock();
    if let Some(s) = slot.as_ref() {
        if s.pid == pid {
            return Ok(s.rt.clone());
        }
        // Forked child: the parent's worker threads are gone. Leak its runtime rather than drop it.
        if let Some(old) = slot.take() {
            std::mem::forget(old.rt);
        }
    }
    let rt = Arc::new(
        Builder::new_multi_thread()
            .enable_all()
            .thread_name("aerostack-rt")
            .worker_threads(worker_threads())
            .build()
            .map_err(|e| RuntimeError::Start(e.to_string()))?,
    );
    *slot = Some(Slot { pid, rt: rt.clone() });
    Ok(rt)
}

/// The host's preferred worker-thread count (0: none), see [`prefer_worker_threads`].
static PREFERRED_THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A binding's default for the runtime's worker threads, used when `AEROSTACK_RUNTIME_THREADS`
/// is not set; only a runtime created afterwards uses it. Node calls it with 1: its one JS thread
/// submits every call, and one engine thread answers a sequential caller about 40% faster on
/// 2 cores than two (no work stealing, one thread to wake), with no loss at 100 or 1,000 in flight.
pub fn prefer_worker_threads(n: usize) {
    PREFERRED_THREADS.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// Worker threads: `AEROSTACK_RUNTIME_THREADS`, else the binding's preference, else the number of
/// cores (at least 1, at most 8: the engine is I/O-bound and a host process rarely wants more).
fn worker_threads() -> usize {
    let preferred = PREFERRED_THREADS.load(std::sync::atomic::Ordering::Relaxed);
    std::env::var("AEROSTACK_RUNTIME_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n: &usize| *n > 0)
        .or((preferred > 0).then_some(preferred))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(8))
}

/// Remembers the process an object was created in, so it can refuse use after `fork()`.
#[derive(Debug, Clone, Copy)]
pub struct ProcessGuard {
    pid: u32,
}

impl Default for ProcessGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcessGuard {
    pub fn new() -> Self {
        Self { pid: std::process::id() }
    }

    /// `Ok` in the creating process, [`RuntimeError::Forked`] in any other.
    pub fn check(&self) -> Result<(), RuntimeError> {
        let now = std::process::id();
        if now == self.pid { Ok(()) } else { Err(RuntimeError::Forked { created_in: self.pid, now }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_runtime_per_process() {
        let a = runtime().unwrap();
        let b = runtime().unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.block_on(async { 40 + 2 }), 42);
    }

    #[test]
    fn guard_accepts_its_own_process_and_names_the_fix_otherwise() {
        assert!(ProcessGuard::new().check().is_ok());
        let foreign = ProcessGuard { pid: std::process::id().wrapping_add(1) };
        let err = foreign.check().unwrap_err().to_string();
        assert!(err.contains("create a new client in the child process"), "{err}");
    }
}
