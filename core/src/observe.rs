//! What the engine does that a host may want to log, handed to one process-wide observer.
//!
//! The engine logs through `tracing` too, but a host language has its own logger (Python's
//! `logging`, Node's console, ...): a binding installs an observer that only *queues* a notice
//! (it runs on the engine thread, BRIEF §5), and the host writes it to its logger on its own
//! thread. Today: every retry, with the wait before it.

use std::sync::OnceLock;
use std::time::Duration;

/// A retry the engine is about to make.
#[derive(Debug, Clone, Copy)]
pub struct RetryNotice<'a> {
    /// The client making the call ([`crate::Client::id`]).
    pub client: u64,
    /// The HTTP method of the call.
    pub method: &'a str,
    /// The URL of the failed attempt (no query string).
    pub url: &'a str,
    /// The attempt that failed (1 = the first).
    pub attempt: u32,
    /// Why it failed: the error's code, status and message.
    pub code: &'a str,
    /// The HTTP status, when the platform answered.
    pub status: Option<u16>,
    /// The error's message.
    pub message: &'a str,
    /// How long the engine waits before the next attempt.
    pub delay: Duration,
}

type Observer = Box<dyn Fn(&RetryNotice<'_>) + Send + Sync>;

static ON_RETRY: OnceLock<Observer> = OnceLock::new();

/// Installs the retry observer (the first call wins: one host per process). It runs on the
/// engine thread of the call: it must only queue the notice, never block or call host code.
pub fn on_retry(observer: impl Fn(&RetryNotice<'_>) + Send + Sync + 'static) -> bool {
    ON_RETRY.set(Box::new(observer)).is_ok()
}

pub(crate) fn retry(notice: &RetryNotice<'_>) {
    if let Some(f) = ON_RETRY.get() {
        f(notice);
    }
}
