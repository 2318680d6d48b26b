//! Results with their keys in the language's case: the one renaming pass of every SDK.
//!
//! The surface writes each key it owns in snake_case (`access_token`, `joined_at`). A language
//! whose fields are camelCase (JavaScript, PHP; [`crate::naming::install_field_case`]) gets every
//! such key renamed here, once, as each result leaves the surface (calls, uploads, stream items,
//! realtime events and acks, a handler's event, a created project), and the user's data at the
//! paths of [`crate::user_data::USER_DATA`] kept exactly as stored, whatever its keys are called.
//! The bindings then only turn the times (at [`crate::user_data::result_paths`], handed out in the
//! same case) into their language's type. Python and Go keep snake_case: nothing is walked.
//!
//! Calls whose HTTP the host performs (`crate::HostedCall`) return the wire's own answer and are
//! not renamed: they serve the generated-SDK faces, which keep the wire's keys.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::naming::{self, FieldCase, field_case};
use crate::user_data::{USER_DATA, is_snake_case, user_data_paths};

/// A node of the user-data path trie of one result type.
#[derive(Default)]
struct Node {
    /// The user's data: kept as is.
    user: bool,
    next: HashMap<&'static str, Node>,
}

static EMPTY: OnceLock<Node> = OnceLock::new();

impl Node {
    fn insert(&mut self, path: &'static str) {
        let mut n = self;
        for step in steps(path) {
            n = n.next.entry(step).or_default();
        }
        n.user = true;
    }

    fn child(&self, key: &str) -> &Node {
        self.next.get(key).unwrap_or_else(|| EMPTY.get_or_init(Node::default))
    }
}

/// `history[].data` -> `history`, `[]`, `data`; `""` -> nothing (the whole result).
fn steps(path: &'static str) -> impl Iterator<Item = &'static str> {
    path.split('.').filter(|p| !p.is_empty()).flat_map(|part| match part.strip_suffix("[]") {
        Some(name) => [Some(name).filter(|n| !n.is_empty()), Some("[]")],
        None => [Some(part), None],
    }).flatten()
}

/// The result type of a presence event: the times of every event, but the user data of the
/// presence report (its tracked `state`), which replaces a message's `data`.
const PRESENCE: &str = "realtime.event#presence";

fn tries() -> &'static HashMap<&'static str, Node> {
    static TRIES: OnceLock<HashMap<&'static str, Node>> = OnceLock::new();
    TRIES.get_or_init(|| {
        let build = |paths: &[&'static str]| {
            let mut root = Node::default();
            for p in paths {
                root.insert(p);
            }
            root
        };
        let mut m: HashMap<&'static str, Node> = USER_DATA.iter().map(|(kind, paths)| (*kind, build(paths))).collect();
        m.insert(PRESENCE, build(user_data_paths("realtime.presence_event")));
        m
    })
}

/// `result` (of type `result_type`: an operation name, `storage.upload`, `realtime.publish`,
/// `worker.invocation`, ...) with the surface's keys in the installed case. A type without an
/// entry has no user data: every key is renamed.
pub fn recase(result_type: &str, result: Value) -> Value {
    recase_as(field_case(), result_type, result)
}

/// [`recase`] to `case` (a client that asked for the wire's keys: `result_case`).
pub fn recase_as(case: FieldCase, result_type: &str, result: Value) -> Value {
    match case {
        FieldCase::Snake => result,
        FieldCase::Camel => walk(result, tries().get(result_type).unwrap_or_else(|| EMPTY.get_or_init(Node::default))),
    }
}

/// A realtime event (`kind`, `topic`, `data`, ...): a `presence` event by its own paths.
pub fn recase_event(event: Value) -> Value {
    let presence = event.get("kind").and_then(Value::as_str) == Some("presence");
    recase(if presence { PRESENCE } else { "realtime.event" }, event)
}

fn walk(v: Value, n: &Node) -> Value {
    if n.user {
        return v;
    }
    match v {
        Value::Array(items) => {
            let item = n.child("[]");
            Value::Array(items.into_iter().map(|x| walk(x, item)).collect())
        }
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, x) in map {
                let x = walk(x, n.child(&k));
                out.insert(camel(k), x);
            }
            Value::Object(out)
        }
        other => other,
    }
}

/// `access_token` -> `accessToken`; a key that is not a snake_case identifier is kept.
pub fn camel(key: String) -> String {
    if !key.contains('_') || !is_snake_case(&key) {
        return key;
    }
    naming::camel(&key)
}

/// A result path (`jobs[].created_at`) in the installed case (`jobs[].createdAt`).
pub fn path_in_case(path: &str) -> String {
    match field_case() {
        FieldCase::Snake => path.to_string(),
        FieldCase::Camel => naming::camel_path(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_renamed_outside_the_users_data() {
        let n = tries().get("queue.jobs").unwrap();
        let v = walk(
            json!({"jobs": [{"job_id": "j", "created_at": "t", "data": {"user_key": 1}, "history": [{"started_at": "s"}]}], "next_cursor": null}),
            n,
        );
        assert_eq!(
            v,
            json!({"jobs": [{"jobId": "j", "createdAt": "t", "data": {"user_key": 1}, "history": [{"startedAt": "s"}]}], "nextCursor": null})
        );
        // The whole answer is the user's.
        let row = json!({"user_id": 1, "Weird-Key": 2});
        assert_eq!(walk(row.clone(), tries().get("db.query_one").unwrap()), row);
        // A presence event keeps the tracked state, not the rest of its data.
        let ev = walk(
            json!({"kind": "presence", "data": {"joined_at": "t", "state": {"my_state": 1}}}),
            tries().get(PRESENCE).unwrap(),
        );
        assert_eq!(ev, json!({"kind": "presence", "data": {"joinedAt": "t", "state": {"my_state": 1}}}));
    }

    #[test]
    fn camel_only_touches_snake_case_identifiers() {
        assert_eq!(camel("access_token".into()), "accessToken");
        assert_eq!(camel("id".into()), "id");
        assert_eq!(camel("Weird_Key".into()), "Weird_Key");
        assert_eq!(camel("x__y".into()), "x__y");
        assert_eq!(camel("last_modified2_at".into()), "lastModified2At");
    }
}
