//! Names that travel as URL path segments and realtime topic segments (a collection, a gateway
//! API's slug): one rule, for the engine's checks before a request and the platform's.

/// The rule, as error messages state it.
pub const NAME_RULE: &str = "1-64 characters of letters, digits, `_` and `-`";

/// Whether `s` follows [`NAME_RULE`].
pub fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
