//! Retry policy and the backoff computation (exponential, full jitter, `Retry-After` floor, budget).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the engine retries a failed call. Maps onto seed 002's
/// `RetryConfig("backoff", BackoffStrategy(initial_interval_ms, max_interval_ms, exponent,
/// max_elapsed_time_ms), retry_connection_errors)`; `max_attempts` caps the total attempts.
///
/// Retried: statuses 408, 425, 429, 500, 502, 503, 504, and (when `retry_connection_errors`)
/// connection failures and timeouts. The wait before retry `n` (0-based) is a uniformly random
/// value in `[0, min(max_interval, initial_interval * exponent^n)]` (full jitter), raised to the
/// server's `Retry-After` when that is longer. No retry starts once `max_elapsed_time_ms` would be
/// exceeded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 disables retries.
    pub max_attempts: u32,
    /// Backoff cap of the first retry, in milliseconds.
    pub initial_interval_ms: u64,
    /// Upper bound of any backoff, in milliseconds.
    pub max_interval_ms: u64,
    /// Growth factor per retry (≥ 1).
    pub exponent: f64,
    /// Budget for the whole call including waits, in milliseconds.
    pub max_elapsed_time_ms: u64,
    /// Whether connection errors and timeouts are retried.
    pub retry_connection_errors: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_interval_ms: 500,
            max_interval_ms: 30_000,
            exponent: 1.5,
            max_elapsed_time_ms: 120_000,
            retry_connection_errors: true,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Seed 002's `BackoffStrategy(initial_interval_ms, max_interval_ms, exponent,
    /// max_elapsed_time_ms)`, with the default attempt cap.
    pub fn backoff(
        initial_interval_ms: u64,
        max_interval_ms: u64,
        exponent: f64,
        max_elapsed_time_ms: u64,
    ) -> RetryPolicy {
        RetryPolicy {
            initial_interval_ms,
            max_interval_ms,
            exponent,
            max_elapsed_time_ms,
            ..RetryPolicy::default()
        }
    }

    /// Checks the fields, naming the one to fix.
    pub fn validate(&self) -> Result<()> {
        if self.max_attempts == 0 {
            return Err(Error::invalid_config(
                "retry.max_attempts must be at least 1 (1 disables retries)",
            ));
        }
        if !(self.exponent.is_finite() && self.exponent >= 1.0) {
            return Err(Error::invalid_config(format!(
                "retry.exponent must be a number >= 1.0 (got {})",
                self.exponent
            )));
        }
        if self.initial_interval_ms > self.max_interval_ms {
            return Err(Error::invalid_config(format!(
                "retry.initial_interval_ms ({}) must not exceed retry.max_interval_ms ({})",
                self.initial_interval_ms, self.max_interval_ms
            )));
        }
        Ok(())
    }

    /// The backoff cap before retry `retry` (0 = first retry): `min(max, initial * exponent^n)`.
    pub(crate) fn backoff_cap(&self, retry: u32) -> Duration {
        let cap = self.initial_interval_ms as f64 * self.exponent.powi(retry.min(1000) as i32);
        Duration::from_millis(cap.min(self.max_interval_ms as f64) as u64)
    }

    /// Decides whether retry `retry` may run and how long to wait first.
    ///
    /// `unit` is a uniform random number in `[0, 1)` (injected so tests are deterministic),
    /// `elapsed` the time since the call started, `retry_after` the server's floor.
    /// Returns `None` when the attempt cap or the elapsed-time budget forbids another attempt.
    pub(crate) fn next_delay(
        &self,
        retry: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
        unit: f64,
    ) -> Option<Duration> {
        if retry + 1 >= self.max_attempts {
            return None;
        }
        let cap = self.backoff_cap(retry);
        let jittered = cap.mul_f64(unit.clamp(0.0, 1.0));
        let delay = match retry_after {
            Some(floor) if floor > jittered => floor,
            _ => jittered,
        };
        let budget = Duration::from_millis(self.max_elapsed_time_ms);
        if elapsed + delay > budget {
            return None;
        }
        Some(delay)
    }
}

/// A uniform random number in `[0, 1)` for jitter.
pub(crate) fn jitter_unit() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn cap_grows_exponentially_and_is_bounded() {
        let p = RetryPolicy::backoff(100, 1000, 2.0, 60_000);
        assert_eq!(p.backoff_cap(0), ms(100));
        assert_eq!(p.backoff_cap(1), ms(200));
        assert_eq!(p.backoff_cap(2), ms(400));
        assert_eq!(p.backoff_cap(3), ms(800));
        assert_eq!(p.backoff_cap(4), ms(1000));
        assert_eq!(p.backoff_cap(60), ms(1000));
    }

    #[test]
    fn full_jitter_spans_zero_to_cap() {
        let p = RetryPolicy::backoff(100, 1000, 2.0, 60_000);
        assert_eq!(p.next_delay(1, ms(0), None, 0.0), Some(ms(0)));
        assert_eq!(p.next_delay(1, ms(0), None, 0.5), Some(ms(100)));
        assert!(p.next_delay(1, ms(0), None, 0.999_999).unwrap() < ms(200));
        for _ in 0..1000 {
            let d = p.next_delay(2, ms(0), None, jitter_unit()).unwrap();
            assert!(d <= ms(400));
        }
    }

    #[test]
    fn retry_after_is_a_floor() {
        let p = RetryPolicy::backoff(100, 1000, 2.0, 60_000);
        assert_eq!(p.next_delay(0, ms(0), Some(ms(1500)), 0.3), Some(ms(1500)));
        // A shorter Retry-After does not shorten the backoff.
        assert_eq!(p.next_delay(0, ms(0), Some(ms(10)), 0.5), Some(ms(50)));
    }

    #[test]
    fn attempt_cap_and_budget_stop_retries() {
        let p = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::backoff(100, 1000, 2.0, 1000)
        };
        assert!(p.next_delay(0, ms(0), None, 0.5).is_some());
        assert!(p.next_delay(1, ms(0), None, 0.5).is_some());
        assert_eq!(
            p.next_delay(2, ms(0), None, 0.5),
            None,
            "third retry would be a 4th attempt"
        );
        assert_eq!(
            p.next_delay(0, ms(990), None, 0.5),
            None,
            "budget exhausted"
        );
        assert_eq!(
            p.next_delay(0, ms(0), Some(ms(5000)), 0.5),
            None,
            "Retry-After beyond budget"
        );
        assert_eq!(RetryPolicy::none().next_delay(0, ms(0), None, 0.5), None);
    }

    #[test]
    fn validation_names_the_field() {
        let e = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.message().contains("retry.max_attempts"));
        let e = RetryPolicy {
            exponent: 0.5,
            ..RetryPolicy::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.message().contains("retry.exponent"));
        let e = RetryPolicy::backoff(10, 5, 2.0, 100)
            .validate()
            .unwrap_err();
        assert!(e.message().contains("retry.initial_interval_ms"));
        RetryPolicy::default().validate().unwrap();
    }
}
