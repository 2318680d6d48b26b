//! The bounded queue through which the engine hands events to the host (realtime events, hook
//! invocations). `aerostack-bindings-common` re-exports it.
//!
//! The engine never calls user code from its threads (no GIL re-entry, no ThreadsafeFunction
//! lifetimes, no cgo callbacks from foreign threads). Producers on engine tasks `push`; the host
//! pulls with `next` (async) or `next_blocking` (a host thread, with a timeout, outside the GIL).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

/// What `push` does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverflowPolicy {
    /// Drop the oldest event and count it in [`EventQueue::dropped`]: right for realtime messages,
    /// where a slow consumer should see the newest state rather than stall the socket.
    DropOldest,
    /// Make the producer wait for room: right for hook invocations, which must not be lost.
    Wait,
}

struct Inner<T> {
    items: Mutex<VecDeque<T>>,
    capacity: usize,
    policy: OverflowPolicy,
    readable: Notify,
    writable: Notify,
    closed: AtomicBool,
    dropped: AtomicU64,
}

/// A bounded multi-producer, multi-consumer queue. Cloning shares the queue.
pub struct EventQueue<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Inner<T> {
    // A panic while holding the lock cannot leave the deque inconsistent: keep using it.
    fn lock(&self) -> MutexGuard<'_, VecDeque<T>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T> Clone for EventQueue<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Send> EventQueue<T> {
    /// A queue holding at most `capacity` events.
    pub fn new(capacity: usize, policy: OverflowPolicy) -> Self {
        assert!(
            capacity > 0,
            "an event queue needs room for at least one event"
        );
        Self {
            inner: Arc::new(Inner {
                items: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
                capacity,
                policy,
                readable: Notify::new(),
                writable: Notify::new(),
                closed: AtomicBool::new(false),
                dropped: AtomicU64::new(0),
            }),
        }
    }

    /// Adds an event. Returns `false` if the queue is closed (the event is discarded).
    pub async fn push(&self, event: T) -> bool {
        let mut event = Some(event);
        loop {
            // Register interest before checking, so a pop between the check and the wait wakes us.
            let writable = self.inner.writable.notified();
            {
                if self.is_closed() {
                    return false;
                }
                let mut items = self.inner.lock();
                if items.len() < self.inner.capacity
                    || self.inner.policy == OverflowPolicy::DropOldest
                {
                    if items.len() >= self.inner.capacity {
                        items.pop_front();
                        self.inner.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    items.push_back(event.take().expect("event pushed once"));
                    drop(items);
                    self.inner.readable.notify_one();
                    return true;
                }
            }
            writable.await;
        }
    }

    /// Takes the next event without waiting.
    pub fn try_next(&self) -> Option<T> {
        let item = self.inner.lock().pop_front();
        if item.is_some() {
            self.inner.writable.notify_one();
        }
        item
    }

    /// Waits for the next event; `None` once the queue is closed and drained.
    pub async fn next(&self) -> Option<T> {
        loop {
            let readable = self.inner.readable.notified();
            if let Some(item) = self.try_next() {
                return Some(item);
            }
            if self.is_closed() {
                return None;
            }
            readable.await;
        }
    }

    /// Waits up to `timeout` for the next event; `None` on timeout or when closed and drained.
    pub async fn next_timeout(&self, timeout: Duration) -> Option<T> {
        tokio::time::timeout(timeout, self.next())
            .await
            .ok()
            .flatten()
    }

    /// For a host thread outside any async context (call it with the GIL released).
    pub fn next_blocking(&self, rt: &tokio::runtime::Runtime, timeout: Duration) -> Option<T> {
        rt.block_on(self.next_timeout(timeout))
    }

    /// Stops the queue: pushes are refused, waiting consumers drain what is left then get `None`.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        self.inner.readable.notify_waiters();
        self.inner.writable.notify_waiters();
    }

    /// True once [`EventQueue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    /// No event waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events discarded under [`OverflowPolicy::DropOldest`].
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drop_oldest_keeps_the_newest_and_counts_the_loss() {
        let q = EventQueue::new(2, OverflowPolicy::DropOldest);
        for i in 0..5 {
            assert!(q.push(i).await);
        }
        assert_eq!(q.dropped(), 3);
        assert_eq!(q.try_next(), Some(3));
        assert_eq!(q.try_next(), Some(4));
        assert_eq!(q.try_next(), None);
    }

    #[tokio::test]
    async fn wait_policy_blocks_the_producer_until_the_host_pulls() {
        let q = EventQueue::new(1, OverflowPolicy::Wait);
        q.push(1).await;
        let producer = {
            let q = q.clone();
            tokio::spawn(async move { q.push(2).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!producer.is_finished(), "the producer must wait for room");
        assert_eq!(q.next().await, Some(1));
        assert!(producer.await.unwrap());
        assert_eq!(q.next().await, Some(2));
        assert_eq!(q.dropped(), 0);
    }

    #[tokio::test]
    async fn close_drains_then_ends_and_refuses_pushes() {
        let q = EventQueue::new(4, OverflowPolicy::Wait);
        q.push("a").await;
        q.close();
        assert!(!q.push("b").await);
        assert_eq!(q.next().await, Some("a"));
        assert_eq!(q.next().await, None);
    }

    #[tokio::test]
    async fn next_timeout_returns_none_when_nothing_arrives() {
        let q: EventQueue<u8> = EventQueue::new(1, OverflowPolicy::Wait);
        assert_eq!(q.next_timeout(Duration::from_millis(10)).await, None);
    }
}
