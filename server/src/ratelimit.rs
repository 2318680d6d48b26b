//! In-memory sliding-window rate limits (login, register, OTP, resets, cache flush).
//!
//! Each bucket keeps the instants of its recent hits (at most `count` of them), so a limit is
//! exact: the `count+1`-th hit inside any `window` is refused until the oldest hit ages out.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use parking_lot::Mutex;

use crate::error::{ApiError, code};
use crate::options::Rate;
use crate::util::now_ms;

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (Duration, VecDeque<Instant>)>>,
}

impl RateLimiter {
    /// Count one hit on `bucket`; refuse with 429 when `rate` is exhausted. `what` names the limit
    /// in the message (e.g. "login attempts for this email"). A rate with `count == 0` is disabled.
    pub fn check(&self, bucket: String, rate: Rate, what: &str) -> Result<(), ApiError> {
        if rate.count == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock();
        let (window, hits) = buckets
            .entry(bucket)
            .or_insert_with(|| (rate.window, VecDeque::new()));
        *window = rate.window;
        while hits
            .front()
            .is_some_and(|t| now.duration_since(*t) >= rate.window)
        {
            hits.pop_front();
        }
        if hits.len() < rate.count as usize {
            hits.push_back(now);
            return Ok(());
        }
        let oldest = *hits.front().expect("a full bucket has a first hit");
        let wait = rate.window.saturating_sub(now.duration_since(oldest));
        let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let retry_after = retry_after.max(1);
        let reset = now_ms() / 1000 + retry_after as i64;
        Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            code::RATE_LIMIT_EXCEEDED,
            format!(
                "Too many {what}: at most {} per {} s. Retry in {retry_after} s.",
                rate.count,
                rate.window.as_secs_f64()
            ),
        )
        .with_detail("limit", rate.count)
        .with_detail("window_seconds", rate.window.as_secs_f64())
        .with_detail("retry_after", retry_after)
        .with_header("retry-after", retry_after)
        .with_header("x-ratelimit-limit", rate.count)
        .with_header("x-ratelimit-remaining", 0)
        .with_header("x-ratelimit-reset", reset)
        .error_as_object())
    }

    /// Take back the latest hit on `bucket` (an attempt that turned out not to count).
    pub fn uncount(&self, bucket: &str) {
        if let Some((_, hits)) = self.buckets.lock().get_mut(bucket) {
            hits.pop_back();
        }
    }

    /// Forget buckets whose hits have all aged out.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.buckets.lock().retain(|_, (window, hits)| {
            hits.back()
                .is_some_and(|t| now.duration_since(*t) < *window)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_count_and_recovers() {
        let rl = RateLimiter::default();
        let rate = Rate::new(2, Duration::from_millis(200));
        assert!(rl.check("k".into(), rate, "x").is_ok());
        assert!(rl.check("k".into(), rate, "x").is_ok());
        let e = rl.check("k".into(), rate, "x").unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(rl.check("other".into(), rate, "x").is_ok());
        std::thread::sleep(Duration::from_millis(220));
        assert!(rl.check("k".into(), rate, "x").is_ok());
        assert!(
            rl.check("z".into(), Rate::new(0, Duration::from_secs(1)), "x")
                .is_ok()
        );
    }
}
