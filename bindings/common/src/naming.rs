//! Errors in the caller's words. The engine's messages name its own options
//! (`CallOptions.timeout_ms`, `ClientConfig.api_key`, ...); each binding installs, once per
//! process, how its language spells them (`with_options(timeout=...)` in Python, `{ timeoutMs }`
//! in Node, `Config.Timeout` in Go), and [`crate::ErrorDto`] rewrites every message with it. So
//! the fix an error suggests is one the caller can type.

use std::borrow::Cow;
use std::sync::OnceLock;

/// `(engine name, the language's spelling)` pairs.
pub type Names = &'static [(&'static str, &'static str)];

static NAMES: OnceLock<Names> = OnceLock::new();

/// The engine's option names that appear in messages, for bindings to cover them all.
pub const ENGINE_NAMES: &[&str] = &[
    "CallOptions.timeout_ms",
    "ClientConfig.timeout_ms",
    "ClientConfig.api_key",
    "ClientConfig.project_id",
    "CallOptions.idempotency_key",
    "CallOptions.headers",
    "RealtimeConfig::outbox_capacity",
];

/// Installs the language's names (the first call wins: one language per process).
pub fn install(names: Names) {
    let _ = NAMES.set(names);
}

/// How the language spells option fields: the engine's snake_case (Python), or camelCase (JS,
/// PHP named arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldCase {
    Snake,
    Camel,
}

static FIELD_CASE: OnceLock<FieldCase> = OnceLock::new();

/// Installs the language's field case (the first call wins): the case of option fields in
/// messages, and of the keys of every result (`crate::result_keys`).
pub fn install_field_case(case: FieldCase) {
    let _ = FIELD_CASE.set(case);
}

/// The installed field case; snake_case (the engine's) when none was installed.
pub fn field_case() -> FieldCase {
    FIELD_CASE.get().copied().unwrap_or(FieldCase::Snake)
}

/// An option-error message with every option field in backticks (`heartbeat_interval_ms`,
/// `rate_limits.otp_send`) in the installed case (`heartbeatIntervalMs`), so the message names
/// what the caller writes. Only option messages go through it: elsewhere a backticked name may
/// be the user's (a table, a column).
pub fn spell_fields(message: &str) -> Cow<'_, str> {
    spell_fields_as(message, field_case())
}

fn spell_fields_as(message: &str, case: FieldCase) -> Cow<'_, str> {
    if case != FieldCase::Camel || !message.contains('_') {
        return Cow::Borrowed(message);
    }
    let out: Vec<String> = message
        .split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 && is_field_path(part) { camel_path(part) } else { part.to_string() })
        .collect();
    Cow::Owned(out.join("`"))
}

fn is_field_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|seg| {
            seg.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && seg.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// `access_token` -> `accessToken` (every `_` dropped, the letter after it upper-cased).
pub fn camel(seg: &str) -> String {
    let mut out = String::with_capacity(seg.len());
    let mut upper = false;
    for c in seg.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A dotted path (`rate_limits.otp_send`, `jobs[].created_at`) with each segment [`camel`]-cased.
pub fn camel_path(path: &str) -> String {
    path.split('.').map(camel).collect::<Vec<_>>().join(".")
}

/// `message` with the engine's names replaced by the installed spellings.
pub fn apply(message: &str) -> Cow<'_, str> {
    let Some(names) = NAMES.get() else { return Cow::Borrowed(message) };
    if !names.iter().any(|(engine, _)| message.contains(engine)) {
        return Cow::Borrowed(message);
    }
    let mut out = message.to_string();
    for (engine, ours) in names.iter() {
        out = out.replace(engine, ours);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_names_replace_the_engines() {
        install(&[("CallOptions.timeout_ms", "with_options(timeout=...)"), ("ClientConfig.timeout_ms", "timeout=")]);
        assert_eq!(
            apply("raise CallOptions.timeout_ms or ClientConfig.timeout_ms"),
            "raise with_options(timeout=...) or timeout="
        );
        assert!(matches!(apply("nothing to rename"), Cow::Borrowed(_)));
    }

    #[test]
    fn option_fields_in_the_callers_case() {
        assert_eq!(camel_path("heartbeat_interval_ms"), "heartbeatIntervalMs");
        assert_eq!(camel_path("rate_limits.otp_send"), "rateLimits.otpSend");
        assert!(is_field_path("ack_timeout_ms") && !is_field_path("Weird-Key") && !is_field_path(""));
        // (through the inner function: the installed case is process-wide, and other tests
        // read option messages in the engine's spelling)
        assert_eq!(
            spell_fields_as("realtime options: `heartbeat_interval`: unknown field `heartbeat_interval`, expected `ack_timeout_ms`", FieldCase::Camel),
            "realtime options: `heartbeatInterval`: unknown field `heartbeatInterval`, expected `ackTimeoutMs`"
        );
    }
}
