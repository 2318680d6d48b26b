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
/// exceeded, and none waits out a `Retry-After` longer than `max_retry_after_ms`: the call then
/// fails at once with the platform's error (`RATE_LIMIT_EXCEEDED`, `retry_after` set), so a rate
/// limit never stalls a caller silently.
///
/// Decoded from JSON as `true` (the default policy), `false` (no retries), or an object: these
/// field names (any subset) or seed 002's shape,
/// `{"strategy": "backoff" | "none", "backoff": {"initial_interval", "max_interval", "exponent",
/// "max_elapsed_time"}, "retry_connection_errors", "max_attempts"}`, so every language's
/// `RetryConfig` maps onto it here, once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RetryArg")]
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
    /// The longest `Retry-After` the engine waits out, in milliseconds (default 5 000).
    pub max_retry_after_ms: u64,
}

/// What JSON may say of a retry policy: a switch, or its fields.
enum RetryArg {
    Flag(bool),
    Fields(RetryInput),
}

impl<'de> Deserialize<'de> for RetryArg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RetryArg;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true (the default policy), false (no retries) or an object of the policy's fields")
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> std::result::Result<RetryArg, E> {
                Ok(RetryArg::Flag(b))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                m: A,
            ) -> std::result::Result<RetryArg, A::Error> {
                // Through the caller's map access: an unknown field is still named with its path.
                RetryInput::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(RetryArg::Fields)
            }
        }
        d.deserialize_any(V)
    }
}

impl TryFrom<RetryArg> for RetryPolicy {
    type Error = String;

    fn try_from(a: RetryArg) -> std::result::Result<RetryPolicy, String> {
        match a {
            RetryArg::Flag(true) => Ok(RetryPolicy::default()),
            RetryArg::Flag(false) => Ok(RetryPolicy::none()),
            RetryArg::Fields(i) => RetryPolicy::try_from(i),
        }
    }
}

/// The fields JSON may give a retry policy: the engine's, seed 002's, or a mix.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RetryInput {
    max_attempts: Option<u32>,
    initial_interval_ms: Option<u64>,
    max_interval_ms: Option<u64>,
    exponent: Option<f64>,
    max_elapsed_time_ms: Option<u64>,
    retry_connection_errors: Option<bool>,
    max_retry_after_ms: Option<u64>,
    /// Seed 002: `"backoff"` (the default) or `"none"`.
    strategy: Option<String>,
    /// Seed 002's `BackoffStrategy`, intervals in milliseconds.
    backoff: Option<SeedBackoff>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedBackoff {
    initial_interval: u64,
    max_interval: u64,
    exponent: f64,
    max_elapsed_time: u64,
}

impl TryFrom<RetryInput> for RetryPolicy {
    type Error = String;

    fn try_from(i: RetryInput) -> std::result::Result<RetryPolicy, String> {
        let mut p = RetryPolicy::default();
        if let Some(b) = i.backoff {
            p = RetryPolicy::backoff(
                b.initial_interval,
                b.max_interval,
                b.exponent,
                b.max_elapsed_time,
            );
        }
        match i
            .strategy
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("backoff") => {}
            Some("none") => p.max_attempts = 1,
            Some(other) => {
                return Err(format!(
                    "strategy must be \"backoff\" or \"none\", got {other:?}"
                ));
            }
        }
        p.max_attempts = i.max_attempts.unwrap_or(p.max_attempts);
        p.initial_interval_ms = i.initial_interval_ms.unwrap_or(p.initial_interval_ms);
        p.max_interval_ms = i.max_interval_ms.unwrap_or(p.max_interval_ms);
        p.exponent = i.exponent.unwrap_or(p.exponent);
        p.max_elapsed_time_ms = i.max_elapsed_time_ms.unwrap_or(p.max_elapsed_time_ms);
        p.retry_connection_errors = i
            .retry_connection_errors
            .unwrap_or(p.retry_connection_errors);
        p.max_retry_after_ms = i.max_retry_after_ms.unwrap_or(p.max_retry_after_ms);
        Ok(p)
    }
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
            max_retry_after_ms: 5_000,
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
        if retry_after.is_some_and(|ra| ra > Duration::from_millis(self.max_retry_after_ms)) {
            return None; // the caller learns of the rate limit now, with `retry_after` set
        }
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
    fn a_long_retry_after_is_not_waited_out() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.next_delay(0, ms(0), Some(ms(2000)), 0.0),
            Some(ms(2000)),
            "within the cap: waited"
        );
        assert_eq!(
            p.next_delay(0, ms(0), Some(ms(60_000)), 0.0),
            None,
            "over the 5 s cap: fail now"
        );
        let patient = RetryPolicy {
            max_retry_after_ms: 120_000,
            ..RetryPolicy::default()
        };
        assert_eq!(
            patient.next_delay(0, ms(0), Some(ms(60_000)), 0.0),
            Some(ms(60_000))
        );
    }

    #[test]
    fn seed_002_retry_config_and_engine_fields_decode_alike() {
        let seed: RetryPolicy = serde_json::from_value(serde_json::json!({
            "strategy": "backoff",
            "backoff": {"initial_interval": 1, "max_interval": 50, "exponent": 1.1, "max_elapsed_time": 100},
            "retry_connection_errors": false
        }))
        .unwrap();
        assert_eq!(
            seed,
            RetryPolicy {
                retry_connection_errors: false,
                ..RetryPolicy::backoff(1, 50, 1.1, 100)
            }
        );
        let none: RetryPolicy =
            serde_json::from_value(serde_json::json!({"strategy": "none"})).unwrap();
        assert_eq!(none.max_attempts, 1);
        let fields: RetryPolicy =
            serde_json::from_value(serde_json::json!({"max_attempts": 2})).unwrap();
        assert_eq!(
            fields,
            RetryPolicy {
                max_attempts: 2,
                ..RetryPolicy::default()
            }
        );
        let e = serde_json::from_value::<RetryPolicy>(serde_json::json!({"strategy": "linear"}))
            .unwrap_err();
        assert!(e.to_string().contains("\"backoff\" or \"none\""), "{e}");
        let e =
            serde_json::from_value::<RetryPolicy>(serde_json::json!({"max_tries": 2})).unwrap_err();
        assert!(
            e.to_string().contains("max_attempts"),
            "the known fields are listed: {e}"
        );
        // A switch, in every language: `retry: false` is no retries, `true` the default policy.
        assert_eq!(
            serde_json::from_value::<RetryPolicy>(serde_json::json!(false)).unwrap(),
            RetryPolicy::none()
        );
        assert_eq!(
            serde_json::from_value::<RetryPolicy>(serde_json::json!(true)).unwrap(),
            RetryPolicy::default()
        );
        let e = serde_json::from_value::<RetryPolicy>(serde_json::json!("never")).unwrap_err();
        assert!(e.to_string().contains("false (no retries)"), "{e}");
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
