//! Replayable request bodies for uploads and the activity tracker behind their idle timeout.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use reqwest::multipart::Form;

use crate::error::Result;

/// Produces the multipart form for each attempt.
pub(crate) trait FormSource: Send + Sync {
    /// Builds the form for one attempt; the form's streams call `activity.touch()` as bytes go out.
    fn form(&mut self, activity: Activity) -> BoxFuture<'_, Result<Form>>;
    /// Whether another attempt can rebuild the form (false for one-shot readers).
    fn replayable(&self) -> bool;
}

/// Records when bytes last moved, so an upload times out on silence rather than on total time.
#[derive(Clone, Debug)]
pub(crate) struct Activity(Arc<ActivityInner>);

#[derive(Debug)]
struct ActivityInner {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Activity {
        Activity(Arc::new(ActivityInner {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }))
    }

    /// Marks progress now.
    pub(crate) fn touch(&self) {
        let now = self.0.start.elapsed().as_millis() as u64;
        self.0.last_ms.store(now, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.0.last_ms.load(Ordering::Relaxed));
        self.0.start.elapsed().saturating_sub(last)
    }

    /// Runs `fut` until it completes (`Some`) or nothing has moved for `timeout` (`None`).
    pub(crate) async fn guard<F: Future>(&self, fut: F, timeout: Duration) -> Option<F::Output> {
        let mut fut = std::pin::pin!(fut);
        loop {
            let idle = self.idle();
            if idle >= timeout {
                return None;
            }
            tokio::select! {
                out = &mut fut => return Some(out),
                _ = tokio::time::sleep(timeout - idle) => {}
            }
        }
    }
}
