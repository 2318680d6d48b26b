//! [`Timestamp`]: one type for every point in time the platform reports.
//!
//! The wire is not uniform (ISO-8601 text on jobs and users, unix milliseconds in realtime,
//! unix seconds in some session answers, SQLite's `YYYY-MM-DD HH:MM:SS` from older
//! generations); the engine reads them all into a `Timestamp` and writes exactly one form,
//! RFC 3339 UTC with milliseconds (`2026-01-02T03:04:05.678Z`). The SDKs turn that one form into
//! their language's time type (datetime, Date, time.Time, DateTimeImmutable), at the fields the
//! binding surface lists per result type, never by guessing from a key name.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// A point in time, held as unix milliseconds (UTC). The default is the unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Below this magnitude a number is unix seconds, above it unix milliseconds: 1e11 seconds is
/// the year 5138, 1e11 milliseconds is March 1973, so no real value of either is ambiguous.
const SECONDS_BELOW: f64 = 1e11;

impl Timestamp {
    /// From unix milliseconds.
    pub const fn from_unix_ms(ms: i64) -> Self {
        Self(ms)
    }

    /// Unix milliseconds (the form realtime `before`/`since` cursors take).
    pub const fn unix_ms(self) -> i64 {
        self.0
    }

    /// From a unix number in seconds or milliseconds (told apart by magnitude).
    pub fn from_unix_number(n: f64) -> Option<Self> {
        if !n.is_finite() {
            return None;
        }
        let ms = if n.abs() < SECONDS_BELOW { n * 1000.0 } else { n };
        Some(Self(ms.round() as i64))
    }

    /// Parses RFC 3339 / ISO-8601 (`2026-01-02T03:04:05Z`, with optional fraction and offset;
    /// a space instead of `T`; no zone means UTC; a bare date is its midnight UTC) or a unix
    /// number written as text.
    pub fn parse(text: &str) -> Option<Self> {
        let s = text.trim();
        if let Ok(n) = s.parse::<f64>() {
            return Self::from_unix_number(n);
        }
        parse_iso(s).map(Self)
    }

    /// Reads a JSON value: a string (see [`Timestamp::parse`]) or a number.
    pub fn from_json(v: &Value) -> Option<Self> {
        match v {
            Value::String(s) => Self::parse(s),
            Value::Number(n) => n.as_f64().and_then(Self::from_unix_number),
            _ => None,
        }
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 UTC with milliseconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (secs, millis) = (self.0.div_euclid(1000), self.0.rem_euclid(1000));
        let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            sod / 3600,
            (sod % 3600) / 60,
            sod % 60
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO-8601 time or a unix time in seconds or milliseconds")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Timestamp, E> {
                self.visit_f64(n as f64)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Timestamp, E> {
                self.visit_f64(n as f64)
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Timestamp, E> {
                Timestamp::from_unix_number(n).ok_or_else(|| E::custom("time out of range"))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Timestamp, E> {
                Timestamp::parse(s).ok_or_else(|| E::custom(format!("not a time: {s:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// For `Option<Timestamp>` fields read from any platform generation: a value that is not a
/// time (an empty string, an unknown format) reads as absent instead of failing the answer.
pub fn opt_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    Ok(Timestamp::from_json(&Value::deserialize(d)?))
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH[:]MM]` to unix milliseconds.
fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then(|| {
            part.iter()
                .fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    if b.len() == 10 {
        return Some(days * 86_400_000);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (h, mi) = (num(11, 2)?, num(14, 2)?);
    let mut i = 16;
    let mut sec = 0;
    if b.get(i) == Some(&b':') {
        sec = num(i + 1, 2)?;
        i += 3;
    }
    let mut ms = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        // Milliseconds from the first three digits; finer digits are dropped.
        let digits = &s[start..i.min(start + 3)];
        ms = digits.parse::<i64>().ok()? * 10i64.pow(3 - digits.len() as u32);
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let offset_min = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = num(i + 1, 2)?;
            let om = match (b.get(i + 3), b.len() - i) {
                (Some(b':'), 6) => num(i + 4, 2)?,
                (Some(_), 5) => num(i + 3, 2)?,
                (None, 3) => 0,
                _ => return None,
            };
            let m = oh * 60 + om;
            if *sign == b'-' { -m } else { m }
        }
        _ => return None,
    };
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec) - offset_min * 60) * 1000 + ms)
}

/// (year, month, day) to days since 1970-01-01; Howard Hinnant's algorithm.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day); the inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        Timestamp::parse(s).unwrap_or_else(|| panic!("{s} should parse")).unix_ms()
    }

    #[test]
    fn writes_rfc3339_utc_with_milliseconds() {
        assert_eq!(Timestamp::from_unix_ms(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::from_unix_ms(951_782_400_123).to_string(), "2000-02-29T00:00:00.123Z");
        assert_eq!(Timestamp::from_unix_ms(1_767_225_599_999).to_string(), "2025-12-31T23:59:59.999Z");
        assert_eq!(Timestamp::from_unix_ms(-1).to_string(), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn reads_every_form_the_platforms_send() {
        let t = 1_767_225_599_999;
        assert_eq!(ms("2025-12-31T23:59:59.999Z"), t);
        assert_eq!(ms("2025-12-31T23:59:59.999999Z"), t);
        assert_eq!(ms("2025-12-31 23:59:59.999"), t);
        assert_eq!(ms("2026-01-01T01:59:59.999+02:00"), t);
        assert_eq!(ms("2026-01-01T01:59:59.999+0200"), t);
        assert_eq!(ms("2025-12-31T22:59:59.999-01"), t);
        assert_eq!(ms("2025-12-31T23:59:59.9Z"), t - 99);
        assert_eq!(ms("2025-12-31T23:59Z"), t - 59_999);
        assert_eq!(ms("2026-01-01"), t + 1);
        assert_eq!(ms("1767225599999"), t);
        assert_eq!(ms("1767225599.999"), t);
        // Numbers: seconds below 1e11, milliseconds above.
        let read = |v: Value| serde_json::from_value::<Timestamp>(v).unwrap().unix_ms();
        assert_eq!(read(serde_json::json!(1_700_000_000)), 1_700_000_000_000);
        assert_eq!(read(serde_json::json!(1_700_000_000_123i64)), 1_700_000_000_123);
        assert_eq!(read(serde_json::json!("2025-12-31T23:59:59.999Z")), t);
    }

    #[test]
    fn round_trips_through_its_own_text() {
        for t in [0, 1, 999, 86_399_999, 951_782_400_123, 4_102_444_800_000, -86_400_001] {
            let ts = Timestamp::from_unix_ms(t);
            assert_eq!(Timestamp::parse(&ts.to_string()), Some(ts), "{ts}");
            let json = serde_json::to_value(ts).unwrap();
            assert_eq!(serde_json::from_value::<Timestamp>(json).unwrap(), ts);
        }
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in ["", "yesterday", "2025-13-01", "2025-12-31T24:00:00Z", "2025-12-31T23:59:59.Z",
            "2025-12-31T23:59:59Zjunk", "2025-12-31X23:59", "2025-12-31T23"] {
            assert_eq!(Timestamp::parse(bad), None, "{bad:?}");
        }
        assert!(serde_json::from_value::<Timestamp>(serde_json::json!("soon")).is_err());
        #[derive(Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "opt_lenient")]
            at: Option<Timestamp>,
        }
        let t: T = serde_json::from_str(r#"{"at": "soon"}"#).unwrap();
        assert_eq!(t.at, None);
        let t: T = serde_json::from_str(r#"{"at": null}"#).unwrap();
        assert_eq!(t.at, None);
    }
}
