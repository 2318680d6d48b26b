//! Engine log lines for the host's logger, pulled like everything else (BRIEF §5).
//!
//! [`install`] registers the engine's retry observer, which only formats a line and queues it
//! (bounded: the oldest lines go first if nobody drains). The binding drains the queue on the
//! host's thread at points it passes anyway (between the parks of a blocking wait, when an
//! event loop's completion port drains, when a call returns) and writes each line through its
//! language's logger: every retry at debug, a wait over a second at warning.

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aerostack::observe::{self, RetryNotice};
use parking_lot::Mutex;

/// How many lines wait for the host at most.
const CAPACITY: usize = 1000;
/// A retry that waits longer than this is logged at warning (a caller may be stalled).
pub const WARN_AFTER: Duration = Duration::from_secs(1);

/// The level of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Warning,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Warning => "warning",
        }
    }
}

/// One line for the host's logger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The client whose call it is (`ClientHandle::id`): a binding with per-client loggers
    /// routes the line by it.
    pub client: u64,
    pub level: Level,
    pub message: String,
}

static LINES: Mutex<VecDeque<LogLine>> = Mutex::new(VecDeque::new());
static PENDING: AtomicBool = AtomicBool::new(false);
static WAKE: OnceLock<Box<dyn Fn() + Send + Sync>> = OnceLock::new();

/// Registers how to wake the host when lines start waiting (the first call wins). It runs on an
/// engine thread, at most once per drained batch: it must only signal the host (Python: a byte
/// to each event loop's completion port), which then drains on its own thread.
pub fn on_pending(wake: impl Fn() + Send + Sync + 'static) {
    let _ = WAKE.set(Box::new(wake));
}

/// Starts collecting the engine's lines (idempotent).
pub fn install() {
    observe::on_retry(|n| push(line_of(n)));
}

fn line_of(n: &RetryNotice<'_>) -> LogLine {
    let level = if n.delay > WARN_AFTER { Level::Warning } else { Level::Debug };
    let status = n.status.map(|s| format!(" {s}")).unwrap_or_default();
    LogLine {
        client: n.client,
        level,
        message: format!(
            "retrying {} {} in {:.1} s (attempt {} failed: {}{status}: {})",
            n.method,
            n.url,
            n.delay.as_secs_f64(),
            n.attempt,
            n.code,
            n.message
        ),
    }
}

fn push(line: LogLine) {
    let mut q = LINES.lock();
    if q.len() >= CAPACITY {
        q.pop_front();
    }
    q.push_back(line);
    drop(q);
    if !PENDING.swap(true, Ordering::AcqRel)
        && let Some(wake) = WAKE.get()
    {
        wake();
    }
}

/// Whether lines wait (one atomic load: cheap enough for every call's return path).
pub fn pending() -> bool {
    PENDING.load(Ordering::Acquire)
}

/// Every waiting line, oldest first.
pub fn drain() -> Vec<LogLine> {
    let mut q = LINES.lock();
    PENDING.store(false, Ordering::Release);
    q.drain(..).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_waits_are_warnings_and_lines_are_drained_once() {
        let notice = |ms| RetryNotice {
            client: 7,
            method: "POST",
            url: "http://127.0.0.1:9/v1/auth/register",
            attempt: 1,
            code: "RATE_LIMIT_EXCEEDED",
            status: Some(429),
            message: "slow down",
            delay: Duration::from_millis(ms),
        };
        push(line_of(&notice(200)));
        push(line_of(&notice(3000)));
        assert!(pending());
        let lines = drain();
        assert_eq!(lines.iter().map(|l| l.level).collect::<Vec<_>>(), [Level::Debug, Level::Warning]);
        assert!(lines[1].message.contains("in 3.0 s") && lines[1].message.contains("429"), "{}", lines[1].message);
        assert!(lines.iter().all(|l| l.client == 7));
        assert!(!pending() && drain().is_empty());
    }
}
