//! Reconnect delays: capped exponential backoff with full jitter, so a fleet of clients does not
//! reconnect in lockstep after a platform restart.

use std::time::Duration;

/// `delay(n) = random(0, min(max, initial * factor^n))`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Ceiling of the first delay.
    pub initial: Duration,
    /// Ceiling of every delay.
    pub max: Duration,
    /// Growth per attempt.
    pub factor: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            factor: 2.0,
        }
    }
}

impl Backoff {
    /// The ceiling for attempt `n` (0-based), before jitter.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exp = self.factor.max(1.0).powi(attempt.min(64) as i32);
        let ms = (self.initial.as_millis() as f64 * exp).min(self.max.as_millis() as f64);
        Duration::from_millis(ms as u64)
    }

    /// The delay before attempt `n`, with `unit` a uniform random number in [0, 1).
    pub fn delay_with(&self, attempt: u32, unit: f64) -> Duration {
        self.ceiling(attempt).mul_f64(unit.clamp(0.0, 1.0))
    }

    /// The delay before attempt `n` (full jitter).
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, rand::random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_jitters() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            factor: 2.0,
        };
        assert_eq!(b.ceiling(0), Duration::from_millis(100));
        assert_eq!(b.ceiling(3), Duration::from_millis(800));
        assert_eq!(b.ceiling(10), Duration::from_secs(2));
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(2));
        assert_eq!(b.delay_with(3, 0.0), Duration::ZERO);
        assert_eq!(b.delay_with(3, 0.5), Duration::from_millis(400));
        for n in 0..20 {
            assert!(b.delay(n) <= b.ceiling(n));
        }
    }
}
