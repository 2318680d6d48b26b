//! Per-call options, applied with [`crate::Client::with_options`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::retry::RetryPolicy;

/// Overrides for the calls made through a client returned by [`crate::Client::with_options`].
///
/// `idempotency_key` is sent as-is on every call made through that client: use such a client for
/// one logical operation only, or the platform will replay the first answer for later calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallOptions {
    /// Per-attempt timeout in milliseconds (overrides `ClientConfig.timeout_ms`).
    pub timeout_ms: Option<u64>,
    /// Retry policy (overrides the client's).
    pub retry: Option<RetryPolicy>,
    /// `Idempotency-Key` to send instead of a generated one.
    pub idempotency_key: Option<String>,
    /// Extra headers; they replace client-level headers of the same name.
    pub headers: BTreeMap<String, String>,
}

impl CallOptions {
    /// Empty options.
    pub fn new() -> CallOptions {
        CallOptions::default()
    }

    /// Sets the per-attempt timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout_ms = Some(timeout.as_millis().max(1) as u64);
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Sets the idempotency key.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }
}
