//! [`CompletionQueue`]: the outcomes of many calls, pulled by one host thread.
//!
//! For hosts that run many calls at once without an event loop the engine could wake (Go's
//! goroutines over a C ABI; PHP fibers could use it too). Submitting a call is quick and returns
//! a call id; when the call finishes, its `Task::on_done` callback only pushes `(id, item)` onto
//! the queue (BRIEF §5: no engine thread runs host code); one host thread blocks in
//! [`CompletionQueue::next`] and hands each item to whoever waits for that id. So a thousand calls
//! in flight cost one blocked host thread, not a thousand. [`CompletionQueue::cancel`] is the
//! per-call cancel token: it drops the call's future (and its request); a cancelled call never
//! completes. Items other than outcomes (upload progress, wake-ups) can be pushed under a call's
//! id with [`CompletionQueue::push`].

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::runtime::RuntimeError;
use crate::task::{AbortHandle, Task};

struct Inner<T> {
    ready: Mutex<VecDeque<(u64, T)>>,
    signal: Condvar,
    /// Calls still running, by id: their cancel tokens.
    running: Mutex<HashMap<u64, AbortHandle>>,
    next_id: AtomicU64,
    closed: AtomicBool,
}

impl<T> Inner<T> {
    fn push(&self, id: u64, item: T) {
        self.ready.lock().push_back((id, item));
        self.signal.notify_one();
    }
}

/// A completion queue of items `T`. Cloning shares it.
pub struct CompletionQueue<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for CompletionQueue<T> {
    fn clone(&self) -> Self {
        CompletionQueue { inner: self.inner.clone() }
    }
}

impl<T: Send + 'static> Default for CompletionQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + 'static> CompletionQueue<T> {
    pub fn new() -> Self {
        CompletionQueue {
            inner: Arc::new(Inner {
                ready: Mutex::new(VecDeque::new()),
                signal: Condvar::new(),
                running: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// A fresh call id, for a call whose future needs its id before it exists (an upload whose
    /// progress is pushed under it); pass it to [`submit_as`](CompletionQueue::submit_as).
    pub fn reserve(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Starts `fut`; its outcome, turned into an item by `into` on the engine thread that
    /// finished it, is pushed under the returned call id.
    pub fn submit<F, R>(&self, fut: F, into: impl FnOnce(R) -> T + Send + 'static) -> Result<u64, RuntimeError>
    where
        F: Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        let id = self.reserve();
        self.submit_as(id, fut, into)?;
        Ok(id)
    }

    /// [`submit`](CompletionQueue::submit) under an id from [`reserve`](CompletionQueue::reserve).
    pub fn submit_as<F, R>(&self, id: u64, fut: F, into: impl FnOnce(R) -> T + Send + 'static) -> Result<(), RuntimeError>
    where
        F: Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        let task = Task::spawn(fut)?;
        // Registered before `on_done`, which may run at once on this thread.
        self.inner.running.lock().insert(id, task.abort_handle());
        let inner = Arc::downgrade(&self.inner);
        task.on_done(move |r| {
            if let Some(inner) = inner.upgrade() {
                inner.running.lock().remove(&id);
                inner.push(id, into(r));
            }
        });
        Ok(())
    }

    /// Pushes an item under `id` (progress reports, wake-ups).
    pub fn push(&self, id: u64, item: T) {
        self.inner.push(id, item);
    }

    /// A pusher that does not keep the queue alive (for engine callbacks such as progress).
    pub fn pusher(&self) -> impl Fn(u64, T) + Send + Sync + 'static {
        let inner = Arc::downgrade(&self.inner);
        move |id, item| {
            if let Some(inner) = inner.upgrade() {
                inner.push(id, item);
            }
        }
    }

    /// The next item, waiting up to `timeout`; `None` when none came or the queue is closed
    /// (and empty).
    pub fn next(&self, timeout: Duration) -> Option<(u64, T)> {
        let deadline = Instant::now() + timeout;
        let mut ready = self.inner.ready.lock();
        loop {
            if let Some(item) = ready.pop_front() {
                return Some(item);
            }
            if self.inner.closed.load(Ordering::Acquire) {
                return None;
            }
            if self.inner.signal.wait_until(&mut ready, deadline).timed_out() {
                return ready.pop_front();
            }
        }
    }

    /// Cancels call `id`: drops its future (and its request); it will never complete. False
    /// when it already finished (its outcome may be waiting in the queue) or was never started.
    pub fn cancel(&self, id: u64) -> bool {
        match self.inner.running.lock().remove(&id) {
            Some(h) => {
                h.abort();
                true
            }
            None => false,
        }
    }

    /// How many calls are running.
    pub fn running(&self) -> usize {
        self.inner.running.lock().len()
    }

    /// Cancels every running call and wakes the waiting thread; `next` then returns what is
    /// left, then `None` at once.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        for (_, h) in self.inner.running.lock().drain() {
            h.abort();
        }
        let _guard = self.inner.ready.lock();
        self.inner.signal.notify_all();
    }

    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_arrive_under_their_ids() {
        let q = CompletionQueue::<u32>::new();
        let slow = q
            .submit(
                async {
                    tokio::time::sleep(Duration::from_millis(40)).await;
                    1
                },
                |v| v,
            )
            .unwrap();
        let fast = q.submit(async { 2 }, |v| v * 10).unwrap();
        assert_eq!(q.next(Duration::from_secs(5)), Some((fast, 20)));
        assert_eq!(q.next(Duration::from_secs(5)), Some((slow, 1)));
        assert_eq!(q.next(Duration::from_millis(10)), None, "nothing left: times out");
        assert_eq!(q.running(), 0);
    }

    #[test]
    fn a_cancelled_call_never_completes() {
        let q = CompletionQueue::<()>::new();
        let id = q.submit(async { tokio::time::sleep(Duration::from_secs(30)).await }, |_| ()).unwrap();
        assert!(q.cancel(id));
        assert!(!q.cancel(id), "cancelled once");
        assert_eq!(q.next(Duration::from_millis(50)), None);
    }

    #[test]
    fn close_wakes_the_waiting_thread() {
        let q = CompletionQueue::<()>::new();
        let q2 = q.clone();
        let waiter = std::thread::spawn(move || q2.next(Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(20));
        let started = Instant::now();
        q.close();
        assert_eq!(waiter.join().unwrap(), None);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn pushed_items_share_the_queue() {
        let q = CompletionQueue::<&'static str>::new();
        let id = q.reserve();
        (q.pusher())(id, "progress");
        q.submit_as(id, async {}, |_| "done").unwrap();
        let mut got = vec![q.next(Duration::from_secs(5)).unwrap(), q.next(Duration::from_secs(5)).unwrap()];
        got.sort();
        assert_eq!(got, [(id, "done"), (id, "progress")]);
    }
}
