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
}
