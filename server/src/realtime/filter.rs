//! The `filter` of a `subscribe` frame on a table topic (docs/realtime.md §5): which row changes
//! reach that subscriber.
//!
//! The official clients send it as an object (`channel(topic, {filter})`, `Channel(topic,
//! filter)`) and no public document fixes its keys, so the platform reads the two forms users
//! know from PostgREST/Supabase, every condition on its own column, all of them required (AND):
//! - `{"status": "open", "owner_id": 7}`: a JSON scalar is equality (`null` means IS NULL);
//! - `{"priority": "gte.3", "id": "in.(1,2,3)"}`: a string `op.value` with `op` one of `eq`,
//!   `neq`, `gt`, `gte`, `lt`, `lte`, `in` (a parenthesised list), `is` (`null`, `true`, `false`);
//!   a string without one of these prefixes is a plain value (`"a.b@x.org"` is equality);
//! - the string `"status=eq.open"` (Supabase's form; several joined with `&`).
//!
//! Anything else (nested objects, arrays, `in` without a list, `is.maybe`) is refused with a
//! message that names the column and the syntax.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::db_changes::RowChange;

const OPS: &str = "eq, neq, gt, gte, lt, lte, in, is";
const SYNTAX: &str = "a filter is an object of column: value (equality) or column: \"op.value\" with op one of eq, neq, gt, gte, lt, lte, in (\"in.(1,2)\"), is (\"is.null\"), e.g. {\"status\": \"open\", \"priority\": \"gte.3\"}";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Is,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "neq" => Op::Neq,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "in" => Op::In,
            "is" => Op::Is,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Cond {
    column: String,
    op: Op,
    /// One operand; several for `in`.
    values: Vec<Value>,
}

/// A parsed filter: every condition must hold.
#[derive(Clone, Debug, PartialEq)]
pub struct RowFilter {
    conds: Vec<Cond>,
}

impl RowFilter {
    /// `None` for no filter (`null`, `{}`, `""`); the error is the message of an `error` frame.
    pub fn parse(v: &Value) -> Result<Option<RowFilter>, String> {
        let conds = match v {
            Value::Null => Vec::new(),
            Value::Object(m) => m
                .iter()
                .map(|(col, cond)| cond_of(col, cond))
                .collect::<Result<_, _>>()?,
            Value::String(s) => s
                .split('&')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(|part| match part.split_once('=') {
                    Some((col, cond)) if !col.trim().is_empty() => {
                        cond_of(col.trim(), &Value::String(cond.to_string()))
                    }
                    _ => Err(format!(
                        "unknown filter syntax {part:?}: a filter string is \"column=op.value\" (e.g. \"status=eq.open\"); {SYNTAX}"
                    )),
                })
                .collect::<Result<_, _>>()?,
            other => {
                return Err(format!("unknown filter syntax {other}: {SYNTAX}"));
            }
        };
        Ok((!conds.is_empty()).then_some(RowFilter { conds }))
    }

    /// Both filters' conditions.
    pub fn and(mut self, other: RowFilter) -> RowFilter {
        self.conds.extend(other.conds);
        self
    }

    /// The columns the filter names (checked against the table when subscribing).
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.conds.iter().map(|c| c.column.as_str())
    }

    /// Whether `row` passes every condition.
    pub fn matches_row(&self, row: &Map<String, Value>) -> bool {
        self.conds
            .iter()
            .all(|c| holds(c, row.get(&c.column).unwrap_or(&Value::Null)))
    }

    /// Whether a row change goes to the subscriber: an INSERT by its new row, a DELETE by its
    /// old row, an UPDATE when either matches (so a row leaving the filtered set is seen too).
    pub fn matches(&self, ch: &RowChange) -> bool {
        let new = ch.data.as_ref().is_some_and(|r| self.matches_row(r));
        let old = ch.old.as_ref().is_some_and(|r| self.matches_row(r));
        new || old
    }
}

fn cond_of(column: &str, cond: &Value) -> Result<Cond, String> {
    let simple = |v: &Value| Cond {
        column: column.to_string(),
        op: if v.is_null() { Op::Is } else { Op::Eq },
        values: vec![v.clone()],
    };
    match cond {
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(simple(cond)),
        Value::String(s) => {
            let Some((op, rest)) = s
                .split_once('.')
                .and_then(|(o, r)| Some((Op::parse(o)?, r)))
            else {
                return Ok(simple(cond));
            };
            let values = match op {
                Op::In => {
                    let list = rest
                        .strip_prefix('(')
                        .and_then(|r| r.strip_suffix(')'))
                        .ok_or_else(|| {
                            format!(
                                "unknown filter syntax for column {column:?}: {s:?}; `in` takes a parenthesised list, e.g. \"in.(1,2,3)\""
                            )
                        })?;
                    list.split(',')
                        .map(|item| Value::String(item.trim().trim_matches('"').to_string()))
                        .collect()
                }
                Op::Is => match rest {
                    "null" => vec![Value::Null],
                    "true" => vec![Value::Bool(true)],
                    "false" => vec![Value::Bool(false)],
                    _ => {
                        return Err(format!(
                            "unknown filter syntax for column {column:?}: {s:?}; `is` takes null, true or false"
                        ));
                    }
                },
                _ => vec![Value::String(rest.to_string())],
            };
            Ok(Cond {
                column: column.to_string(),
                op,
                values,
            })
        }
        other => Err(format!(
            "unknown filter syntax for column {column:?}: {other} (operators: {OPS}); {SYNTAX}"
        )),
    }
}

/// A value as a number when it reads as one (SQLite keeps booleans as 0/1).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => match s.trim() {
            "true" => Some(1.0),
            "false" => Some(0.0),
            t => t.parse().ok(),
        },
        _ => None,
    }
}

/// How a row value compares to an operand; `None` when they cannot be compared (NULL, or text
/// against a number that is not one).
fn compare(row: &Value, operand: &Value) -> Option<Ordering> {
    match (row, operand) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => number(row)?.partial_cmp(&number(operand)?),
    }
}

fn holds(c: &Cond, row: &Value) -> bool {
    let first = &c.values[0];
    let ord = || compare(row, first);
    match c.op {
        Op::Eq => ord() == Some(Ordering::Equal),
        Op::Neq => ord().is_some_and(|o| o != Ordering::Equal),
        Op::Gt => ord() == Some(Ordering::Greater),
        Op::Gte => ord().is_some_and(|o| o != Ordering::Less),
        Op::Lt => ord() == Some(Ordering::Less),
        Op::Lte => ord().is_some_and(|o| o != Ordering::Greater),
        Op::In => c
            .values
            .iter()
            .any(|v| compare(row, v) == Some(Ordering::Equal)),
        Op::Is if first.is_null() => row.is_null(),
        Op::Is => compare(row, first) == Some(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(v: Value) -> RowFilter {
        RowFilter::parse(&v).unwrap().unwrap()
    }

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn no_filter() {
        assert_eq!(RowFilter::parse(&Value::Null).unwrap(), None);
        assert_eq!(RowFilter::parse(&json!({})).unwrap(), None);
        assert_eq!(RowFilter::parse(&json!("")).unwrap(), None);
    }

    #[test]
    fn scalars_are_equality() {
        let flt = f(json!({"status": "open", "owner": 7, "done": false, "gone": null}));
        assert!(flt.matches_row(&row(
            json!({"status": "open", "owner": 7, "done": 0, "gone": null})
        )));
        assert!(!flt.matches_row(&row(
            json!({"status": "open", "owner": 8, "done": 0, "gone": null})
        )));
        assert!(!flt.matches_row(&row(
            json!({"status": "open", "owner": 7, "done": 0, "gone": 1})
        )));
        // A dotted value without a known operator is a plain value.
        assert!(f(json!({"email": "a.b@x.org"})).matches_row(&row(json!({"email": "a.b@x.org"}))));
    }

    #[test]
    fn operators() {
        let r = row(json!({"n": 5, "s": "b", "x": null, "flag": 1}));
        for (flt, want) in [
            (json!({"n": "eq.5"}), true),
            (json!({"n": "eq.5.0"}), true),
            (json!({"n": "neq.5"}), false),
            (json!({"n": "gt.4"}), true),
            (json!({"n": "gte.5"}), true),
            (json!({"n": "lt.5"}), false),
            (json!({"n": "lte.5"}), true),
            (json!({"n": "in.(1,5,9)"}), true),
            (json!({"s": "in.(\"a\",\"c\")"}), false),
            (json!({"s": "gt.a"}), true),
            (json!({"x": "is.null"}), true),
            (json!({"x": "neq.1"}), false),
            (json!({"flag": "is.true"}), true),
            (json!({"missing": "is.null"}), true),
            (json!("n=gte.5&s=eq.b"), true),
            (json!("n=gte.5&s=eq.c"), false),
        ] {
            assert_eq!(f(flt.clone()).matches_row(&r), want, "{flt}");
        }
    }

    #[test]
    fn unknown_syntax_names_the_column() {
        for (bad, needle) in [
            (json!({"n": {"gt": 1}}), "\"n\""),
            (json!({"n": [1, 2]}), "\"n\""),
            (json!({"n": "in.1,2"}), "parenthesised"),
            (json!({"n": "is.maybe"}), "null, true or false"),
            (json!("n>1"), "column=op.value"),
            (json!(3), "unknown filter syntax"),
            (json!([1]), "unknown filter syntax"),
        ] {
            let e = RowFilter::parse(&bad).unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }
}
