//! Cancellation of in-flight calls by id, for hosts that cannot drop a Rust future themselves
//! (the C ABI hands Go a token; PHP and Node map an abort onto it).
//!
//! Dropping the engine's future is what cancels the HTTP request; the registry only holds a
//! [`CancellationToken`] per call and races it against the call.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

/// Issued ids and their tokens. Cloning shares the registry.
#[derive(Clone, Default)]
pub struct CancelRegistry {
    next: Arc<AtomicU64>,
    tokens: Arc<Mutex<HashMap<u64, CancellationToken>>>,
}

/// Returned by [`CancelRegistry::run`] when the call was cancelled before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl CancelRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// A new id for a call about to start.
    pub fn issue(&self) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.tokens.lock().insert(id, CancellationToken::new());
        id
    }

    /// Cancels call `id`. Returns `false` if it already finished or never existed.
    pub fn cancel(&self, id: u64) -> bool {
        match self.tokens.lock().remove(&id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Runs `fut` as call `id`; a `cancel(id)` drops it (and so aborts its request).
    pub async fn run<F: Future>(&self, id: u64, fut: F) -> Result<F::Output, Cancelled> {
        let token = self.tokens.lock().get(&id).cloned();
        let Some(token) = token else { return Err(Cancelled) };
        let out = tokio::select! {
            biased;
            _ = token.cancelled() => Err(Cancelled),
            v = fut => Ok(v),
        };
        self.tokens.lock().remove(&id);
        out
    }

    /// Calls still registered (running or issued and not yet run).
    pub fn in_flight(&self) -> usize {
        self.tokens.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn cancel_drops_the_running_future() {
        let reg = CancelRegistry::new();
        let id = reg.issue();
        let running = {
            let reg = reg.clone();
            tokio::spawn(async move { reg.run(id, tokio::time::sleep(Duration::from_secs(60))).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(reg.cancel(id));
        assert_eq!(running.await.unwrap(), Err(Cancelled));
        assert_eq!(reg.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_finished_call_cannot_be_cancelled_and_leaves_nothing_behind() {
        let reg = CancelRegistry::new();
        let id = reg.issue();
        assert_eq!(reg.run(id, async { 5 }).await, Ok(5));
        assert!(!reg.cancel(id));
        assert_eq!(reg.in_flight(), 0);
    }

    #[tokio::test]
    async fn cancelled_before_start_never_runs() {
        let reg = CancelRegistry::new();
        let id = reg.issue();
        reg.cancel(id);
        assert_eq!(reg.run(id, async { 1 }).await, Err(Cancelled));
    }
}
