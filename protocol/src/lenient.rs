//! Serde helpers for readers that must accept what every platform generation sends: a field
//! of an unexpected type reads as absent instead of failing the whole frame.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A string, a number (as its decimal text), a bool (as `true`/`false`) or any other JSON (as
/// its text); `null` is `None`. For fields such as timestamps that are ISO strings on one
/// platform generation and unix numbers on another.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    })
}

/// The text of a string or a number (ids are strings or numbers); anything else is `None`.
pub fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// [`text_of`] as a deserializer: `Option<String>`.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(text_of(&Value::deserialize(d)?))
}

/// [`text_of`] as a deserializer, `""` for anything else.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(text_of(&Value::deserialize(d)?).unwrap_or_default())
}

/// An integer, else `None` (a float or a string timestamp reads as absent).
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Value::deserialize(d)?.as_i64())
}

/// A bool, else `false`.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Value::deserialize(d)?.as_bool().unwrap_or(false))
}

/// A bool, else `None`.
pub fn opt_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Value::deserialize(d)?.as_bool())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "opt_string")]
        at: Option<String>,
        #[serde(default, deserialize_with = "opt_text")]
        id: Option<String>,
        #[serde(default, deserialize_with = "opt_i64")]
        ts: Option<i64>,
        #[serde(default, deserialize_with = "flag")]
        on: bool,
    }

    #[test]
    fn odd_types_read_as_absent() {
        let t: T = serde_json::from_str(r#"{"at": 17, "id": 7, "ts": 1.5, "on": "yes"}"#).unwrap();
        assert_eq!(t.at.as_deref(), Some("17"));
        assert_eq!(t.id.as_deref(), Some("7"));
        assert_eq!((t.ts, t.on), (None, false));
        let t: T = serde_json::from_str(r#"{"at": true, "id": {}, "ts": 5, "on": true}"#).unwrap();
        assert_eq!(
            (t.at.as_deref(), t.id, t.ts, t.on),
            (Some("true"), None, Some(5), true)
        );
        let t: T = serde_json::from_str("{}").unwrap();
        assert_eq!((t.at, t.id, t.ts, t.on), (None, None, None, false));
    }
}
