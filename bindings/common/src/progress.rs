//! Upload progress, pulled by the host: the engine's progress function only records the latest
//! figures; the binding reports them on the host's thread when it gets to it. Reports coalesce, so
//! a slow callback sees the newest figures, never a backlog, and no figure is reported twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aerostack::{ProgressFn, UploadProgress};
use parking_lot::Mutex;

/// The latest progress of one upload.
#[derive(Default)]
pub struct ProgressCell {
    latest: Mutex<Option<UploadProgress>>,
    reported: Mutex<Option<UploadProgress>>,
    /// A wake-up has been sent and not yet answered by [`take_new`](ProgressCell::take_new).
    pending: AtomicBool,
}

impl ProgressCell {
    pub fn new() -> Arc<ProgressCell> {
        Arc::new(ProgressCell::default())
    }

    /// The engine's progress function: records the figures and calls `wake` when the host has no
    /// wake-up pending (at most one outstanding: cheap on the engine's thread).
    pub fn engine_fn(self: &Arc<Self>, wake: impl Fn() + Send + Sync + 'static) -> ProgressFn {
        let me = self.clone();
        Arc::new(move |p: UploadProgress| {
            *me.latest.lock() = Some(p);
            if !me.pending.swap(true, Ordering::AcqRel) {
                wake();
            }
        })
    }

    /// The figures to report now, if they changed since the last report.
    pub fn take_new(&self) -> Option<UploadProgress> {
        self.pending.store(false, Ordering::Release);
        let latest = (*self.latest.lock())?;
        let mut reported = self.reported.lock();
        if *reported == Some(latest) {
            return None;
        }
        *reported = Some(latest);
        Some(latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn coalesces_and_never_repeats() {
        let cell = ProgressCell::new();
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = wakes.clone();
        let f = cell.engine_fn(move || {
            w.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(cell.take_new(), None, "nothing recorded yet");
        for sent in [10, 20, 30] {
            f(UploadProgress { sent, total: Some(30) });
        }
        assert_eq!(wakes.load(Ordering::SeqCst), 1, "one wake-up while one is pending");
        assert_eq!(cell.take_new(), Some(UploadProgress { sent: 30, total: Some(30) }));
        assert_eq!(cell.take_new(), None, "the same figures are not reported twice");
        f(UploadProgress { sent: 30, total: Some(30) });
        assert_eq!(wakes.load(Ordering::SeqCst), 2, "answered, so the next record wakes again");
    }
}
