//! [`Task`]: the one wait/cancel primitive of the surface. Every engine future a binding starts
//! runs as a `Task` on the process runtime; the host then picks how to learn the outcome:
//!
//! - **block** (Python's sync client, PHP, a C caller): [`Task::spin`] briefly, then
//!   [`Task::park`] in slices so the binding can run host work between them (signal checks,
//!   progress reports), then [`Task::take`]; [`Task::wait`] does both;
//! - **callback once** (asyncio completion ports, Node, Go): [`Task::on_done`] hands the outcome
//!   to a function, once: on the engine thread that finished it, or at once on the caller's thread
//!   if it already finished. It must only *queue* the outcome for the host (BRIEF §5), never call
//!   user code;
//! - **ignore** it: the future runs to completion anyway (a fire-and-forget publish).
//!
//! [`Task::cancel`] drops the future (and so its request); a cancelled task never reports done
//! (a short [`Task::park`] after it lets a poll in progress finish and keep its outcome). A
//! [`Canceller`] cancels from another thread (a host's cancel token) and also wakes the thread
//! parked waiting ([`Task::wait`] then returns false).
//! The spin is there because waking a parked thread costs more than a whole local request on
//! small (virtualised) machines: it doubled sequential blocking throughput on 2 cores.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
pub use tokio::task::AbortHandle;

use crate::runtime::{RuntimeError, runtime};

/// How long [`Task::wait`] spins before it parks.
pub const SPIN: Duration = Duration::from_micros(250);

type Callback<T> = Box<dyn FnOnce(T) + Send>;

struct State<T> {
    value: Option<T>,
    callback: Option<Callback<T>>,
    /// Threads parked in [`Task::park`], woken on completion.
    parked: Vec<Thread>,
}

struct Slot<T> {
    done: AtomicBool,
    cancelled: AtomicBool,
    state: Mutex<State<T>>,
}

/// An engine future running on the process runtime. `Send + Sync`: a binding may start it on one
/// thread and wait on another.
pub struct Task<T> {
    slot: Arc<Slot<T>>,
    abort: AbortHandle,
}

impl<T: Send + 'static> Task<T> {
    /// Starts `fut` on the process runtime.
    pub fn spawn<F>(fut: F) -> Result<Task<T>, RuntimeError>
    where
        F: Future<Output = T> + Send + 'static,
    {
        let slot = Arc::new(Slot {
            done: AtomicBool::new(false),
            cancelled: AtomicBool::new(false),
            state: Mutex::new(State { value: None, callback: None, parked: Vec::new() }),
        });
        let s = slot.clone();
        let task = runtime()?.spawn(async move {
            let v = fut.await;
            let (callback, parked) = {
                let mut st = s.state.lock();
                s.done.store(true, Ordering::Release);
                match st.callback.take() {
                    Some(cb) => (Some((cb, v)), std::mem::take(&mut st.parked)),
                    None => {
                        st.value = Some(v);
                        (None, std::mem::take(&mut st.parked))
                    }
                }
            };
            for t in parked {
                t.unpark();
            }
            if let Some((cb, v)) = callback {
                cb(v);
            }
        });
        Ok(Task { slot, abort: task.abort_handle() })
    }

    /// Hands the outcome to `then`, once: when the future finishes (on that engine thread), or
    /// now on this thread if it already has and nobody took the outcome. A second `on_done`
    /// replaces the first while the task runs. Never called for a cancelled task.
    pub fn on_done(&self, then: impl FnOnce(T) + Send + 'static) {
        let ready = {
            let mut st = self.slot.state.lock();
            if self.is_done() {
                st.value.take()
            } else {
                st.callback = Some(Box::new(then));
                return;
            }
        };
        if let Some(v) = ready {
            then(v);
        }
    }
}

impl<T> Task<T> {
    /// Whether the future has finished.
    pub fn is_done(&self) -> bool {
        self.slot.done.load(Ordering::Acquire)
    }

    /// Spins (yielding the CPU) for up to `d`; true once the task has finished.
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

    /// Whether a [`Canceller`] cancelled the task before it finished.
    pub fn is_cancelled(&self) -> bool {
        self.slot.cancelled.load(Ordering::Acquire) && !self.is_done()
    }

    /// Parks the calling thread for up to `d` (less when the task is cancelled meanwhile); true
    /// once the task has finished.
    pub fn park(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        {
            let mut st = self.slot.state.lock();
            if self.is_done() {
                return true;
            }
            let me = std::thread::current();
            if !st.parked.iter().any(|t| t.id() == me.id()) {
                st.parked.push(me);
            }
        }
        while !self.is_done() {
            if self.slot.cancelled.load(Ordering::Acquire) {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            std::thread::park_timeout(deadline - now);
        }
        true
    }

    /// Blocks until the task finished, was cancelled, or `limit` passed (spin, then park); true
    /// once finished.
    pub fn wait(&self, limit: Option<Duration>) -> bool {
        if self.spin(SPIN) {
            return true;
        }
        match limit {
            Some(d) => self.park(d),
            None => loop {
                if self.park(Duration::from_secs(3600)) {
                    return true;
                }
                if self.is_cancelled() {
                    return false;
                }
            },
        }
    }

    /// The outcome once [`is_done`](Task::is_done) (taken: later calls give `None`).
    pub fn take(&self) -> Option<T> {
        if self.is_done() { self.slot.state.lock().value.take() } else { None }
    }

    /// Drops the future (and its request). A finished task is unaffected. Called by the thread
    /// that waits, so nobody is woken: it may still [`park`](Task::park) briefly for an outcome
    /// a poll in progress produces.
    pub fn cancel(&self) {
        self.abort.abort();
    }

    /// A handle that cancels this task from elsewhere (a host's cancel token).
    pub fn canceller(&self) -> Canceller<T> {
        Canceller { slot: self.slot.clone(), abort: self.abort.clone() }
    }

    /// An abort handle for code that outlives the `Task` value (progress callbacks).
    pub fn abort_handle(&self) -> AbortHandle {
        self.abort.clone()
    }
}

impl<T> std::fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task").field("done", &self.is_done()).finish()
    }
}

/// Cancels one [`Task`] from any thread: [`Task::cancel`] without the `Task` value.
pub struct Canceller<T> {
    slot: Arc<Slot<T>>,
    abort: AbortHandle,
}

impl<T> Canceller<T> {
    /// Drops the task's future and wakes the threads parked waiting for it.
    pub fn cancel(&self) {
        self.abort.abort();
        self.slot.cancelled.store(true, Ordering::Release);
        let parked = std::mem::take(&mut self.slot.state.lock().parked);
        for t in parked {
            t.unpark();
        }
    }
}

/// The error of a wait that gave up after `limit` while the call goes on (a host's
/// `wait(timeout)` on a call it started earlier).
pub fn wait_timed_out(limit: Duration) -> aerostack::Error {
    aerostack::Error::new(
        aerostack::ErrorCode::Timeout,
        format!("the call did not finish within {} ms (it goes on in the background)", limit.as_millis()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finishes_within_the_spin_or_after_parking() {
        let fast = Task::spawn(async { 7 }).unwrap();
        assert!(fast.wait(Some(Duration::from_secs(5))));
        assert_eq!(fast.take(), Some(7));
        assert_eq!(fast.take(), None);

        let slow = Task::spawn(async {
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
    fn waited_for_from_another_thread() {
        let t = Arc::new(
            Task::spawn(async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                1
            })
            .unwrap(),
        );
        let t2 = t.clone();
        let other = std::thread::spawn(move || t2.wait(Some(Duration::from_secs(5))));
        assert!(other.join().unwrap());
        assert_eq!(t.take(), Some(1));
    }

    #[test]
    fn callback_once_before_or_after_completion() {
        let (tx, rx) = std::sync::mpsc::channel();
        let t = Task::spawn(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            5
        })
        .unwrap();
        let tx2 = tx.clone();
        t.on_done(move |v| tx2.send(v).unwrap());
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(5));
        assert_eq!(t.take(), None, "the outcome went to the callback");

        let done = Task::spawn(async { 6 }).unwrap();
        assert!(done.wait(Some(Duration::from_secs(5))));
        done.on_done(move |v| tx.send(v).unwrap());
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(6), "already finished: called at once");
    }

    #[test]
    fn a_canceller_wakes_a_waiter_parked_without_a_limit() {
        let t = Arc::new(Task::spawn(async { tokio::time::sleep(Duration::from_secs(30)).await }).unwrap());
        let (t2, cancel) = (t.clone(), t.canceller());
        let waiter = std::thread::spawn(move || t2.wait(None));
        std::thread::sleep(Duration::from_millis(20)); // parked by now (the spin is 250 µs)
        cancel.cancel();
        assert!(!waiter.join().unwrap(), "the wait ends, unfinished");
        assert!(t.is_cancelled() && !t.is_done());
        assert!(!t.wait(None), "a later wait returns at once");
    }

    #[test]
    fn cancel_stops_the_task() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = Task::spawn(async { tokio::time::sleep(Duration::from_secs(30)).await }).unwrap();
        t.on_done(move |_| tx.send(()).unwrap());
        t.cancel();
        assert!(!t.wait(Some(Duration::from_millis(50))), "a cancelled task never reports done");
        assert!(rx.recv_timeout(Duration::from_millis(50)).is_err(), "nor calls back");
    }
}
