//! Serde helpers for fields whose type differs between platform generations.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `true`, for `list_complete`-style fields whose absence means "done".
pub(crate) fn default_true() -> bool {
    true
}

/// Accepts a string, a number or null as `Option<String>` (timestamps are ISO strings on one
/// platform generation and unix numbers on another). The protocol crate's helper, so the wire
/// types there and the service types here read alike.
pub(crate) use aerostack_protocol::lenient::opt_string as lenient_string;

/// Accepts a number or a numeric string as `Option<u64>`.
pub(crate) fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "lenient_string")]
        at: Option<String>,
        #[serde(default, deserialize_with = "lenient_u64")]
        n: Option<u64>,
    }

    #[test]
    fn lenient_fields() {
        let t: T = serde_json::from_str(r#"{"at": 1700000000000, "n": "12"}"#).unwrap();
        assert_eq!(t.at.as_deref(), Some("1700000000000"));
        assert_eq!(t.n, Some(12));
        let t: T = serde_json::from_str(r#"{"at": "2026-01-01T00:00:00Z", "n": 3.0}"#).unwrap();
        assert_eq!(t.at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(t.n, Some(3));
        let t: T = serde_json::from_str(r#"{"at": null}"#).unwrap();
        assert_eq!((t.at, t.n), (None, None));
    }
}
