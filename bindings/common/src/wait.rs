//! Blocking on an engine call from a host thread (Python's sync client, PHP, a C caller).
//!
//! The call runs on the process runtime; the host thread first spins briefly, yielding the CPU,
//! then parks in slices so it can run host work between them (signal checks, progress reports).
//! The spin is there because a sequential caller's answer usually arrives within it, and waking a
//! parked thread costs more than a whole local request on small (virtualised) machines: it
//! doubled sequential blocking throughput on 2 cores.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::task::AbortHandle;

use crate::runtime::{RuntimeError, runtime};

/// How long [`Waiter::spin`] spins by default.
pub const SPIN: Duration = Duration::from_micros(250);

struct Slot<T> {
    done: AtomicBool,
    value: Mutex<Option<T>>,
    thread: std::thread::Thread,
}

/// A call running on the process runtime, waited for by the thread that started it.
pub struct Waiter<T> {
    slot: Arc<Slot<T>>,
    abort: AbortHandle,
}

impl<T: Send + 'static> Waiter<T> {
    /// Spawns `fut`; the calling thread is the one that waits (it is unparked on completion).
    pub fn spawn<F>(fut: F) -> Result<Waiter<T>, RuntimeError>
    where
        F: Future<Output = T> + Send + 'static,
    {
        let slot = Arc::new(Slot { done: AtomicBool::new(false), value: Mutex::new(None), thread: std::thread::current() });
        let s = slot.clone();
        let task = runtime()?.spawn(async move {
            let v = fut.await;
            *s.value.lock() = Some(v);
            s.done.store(true, Ordering::Release);
            s.thread.unpark();
        });
        Ok(Waiter { slot, abort: task.abort_handle() })
    }
}

impl<T> Waiter<T> {
    /// Whether the call has finished.
    pub fn is_done(&self) -> bool {
        self.slot.done.load(Ordering::Acquire)
    }

    /// Spins (yielding the CPU) for up to `d`; true once the call has finished.
    pub fn spin(&self, d: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < d {
            if self.is_done() {
                return true;
            }
            std::hint::spin_loop();
            std::thread::yield_now();
        }
        self.is_done()
    }

    /// Parks for up to `d`; true once the call has finished.
    pub fn park(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        while !self.is_done() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            std::thread::park_timeout(deadline - now);
        }
        true
    }

    /// The result, once [`is_done`](Waiter::is_done) (taken: later calls give `None`).
    pub fn take(&self) -> Option<T> {
        if self.is_done() { self.slot.value.lock().take() } else { None }
    }

    /// Drops the call's future (and its request).
    pub fn abort(&self) {
        self.abort.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finishes_within_the_spin_or_after_parking() {
        let fast = Waiter::spawn(async { 7 }).unwrap();
        assert!(fast.spin(Duration::from_millis(500)) || fast.park(Duration::from_secs(5)));
        assert_eq!(fast.take(), Some(7));
        assert_eq!(fast.take(), None);

        let slow = Waiter::spawn(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            "late"
        })
        .unwrap();
        assert!(!slow.spin(Duration::from_micros(10)));
        assert!(slow.take().is_none(), "no result before it is done");
        while !slow.park(Duration::from_millis(10)) {}
        assert_eq!(slow.take(), Some("late"));
    }

    #[test]
    fn abort_stops_the_call() {
        let w = Waiter::spawn(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
        .unwrap();
        w.abort();
        assert!(!w.park(Duration::from_millis(50)), "an aborted call never reports done");
    }
}
