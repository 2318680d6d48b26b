//! Presence as the engine keeps it: `key -> entry`, merged with a state/diff algorithm.
//!
//! `presence:sync` replaces the state and yields the difference from what was known (so a
//! reconnect produces the right joins and leaves instead of a wipe); `presence:join` and
//! `presence:leave` apply one change. No pending-diff buffer is needed (unlike Phoenix): the
//! platform sends `presence:sync` right after `subscribed` on the same socket, so no diff of a
//! new connection can arrive before its state.

use crate::Timestamp;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One tracked connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceEntry {
    /// The connection id (one per socket; a user with two tabs has two keys).
    pub key: String,
    /// What the connection tracked.
    #[serde(default)]
    pub state: Value,
    /// The user of the connection, when it authenticated as one. Read as the wire's `userId`,
    /// written snake_case like every other field the engine hands to a host (`user_id`).
    #[serde(
        default,
        rename(serialize = "user_id", deserialize = "userId"),
        alias = "user_id"
    )]
    pub user_id: Option<String>,
    /// When it first tracked. Wire `joinedAt` (unix ms), written `joined_at`.
    #[serde(
        default,
        rename(serialize = "joined_at", deserialize = "joinedAt"),
        alias = "joined_at",
        deserialize_with = "crate::protocol::time::opt_lenient"
    )]
    pub joined_at: Option<Timestamp>,
}

/// What changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PresenceDiff {
    /// Entries that appeared or changed state.
    pub joins: Vec<PresenceEntry>,
    /// Entries that disappeared (with their last state).
    pub leaves: Vec<PresenceEntry>,
}

impl PresenceDiff {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.joins.is_empty() && self.leaves.is_empty()
    }
}

/// The presence of one topic.
#[derive(Debug, Clone, Default)]
pub struct PresenceState {
    entries: BTreeMap<String, PresenceEntry>,
}

impl PresenceState {
    /// Replace the whole state; the diff from the previous one.
    pub fn sync(&mut self, list: Vec<PresenceEntry>) -> PresenceDiff {
        let mut next: BTreeMap<String, PresenceEntry> =
            list.into_iter().map(|e| (e.key.clone(), e)).collect();
        let mut diff = PresenceDiff::default();
        for (k, old) in &self.entries {
            if !next.contains_key(k) {
                diff.leaves.push(old.clone());
            }
        }
        for (k, new) in &next {
            if self.entries.get(k).is_none_or(|old| old.state != new.state) {
                diff.joins.push(new.clone());
            }
        }
        std::mem::swap(&mut self.entries, &mut next);
        diff
    }

    /// One connection tracked (or re-tracked with a new state).
    pub fn join(&mut self, entry: PresenceEntry) -> PresenceDiff {
        self.entries.insert(entry.key.clone(), entry.clone());
        PresenceDiff {
            joins: vec![entry],
            leaves: Vec::new(),
        }
    }

    /// One connection left; an unknown key changes nothing.
    pub fn leave(&mut self, key: &str) -> PresenceDiff {
        PresenceDiff {
            joins: Vec::new(),
            leaves: self.entries.remove(key).into_iter().collect(),
        }
    }

    /// Everyone present, oldest join first.
    pub fn list(&self) -> Vec<PresenceEntry> {
        let mut v: Vec<PresenceEntry> = self.entries.values().cloned().collect();
        v.sort_by(|a, b| {
            a.joined_at
                .cmp(&b.joined_at)
                .then_with(|| a.key.cmp(&b.key))
        });
        v
    }

    /// Forget everything (unsubscribed).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn e(key: &str, n: i64) -> PresenceEntry {
        PresenceEntry {
            key: key.into(),
            state: json!({"n": n}),
            user_id: None,
            joined_at: Some(Timestamp::from_unix_ms(n)),
        }
    }

    #[test]
    fn sync_replaces_and_reports_the_difference() {
        let mut p = PresenceState::default();
        let d = p.sync(vec![e("a", 1), e("b", 2)]);
        assert_eq!(d.joins.len(), 2);
        assert!(d.leaves.is_empty());
        // After a reconnect: b left, c joined, a unchanged, so only those two are reported.
        let d = p.sync(vec![e("a", 1), e("c", 3)]);
        assert_eq!(d.joins, vec![e("c", 3)]);
        assert_eq!(d.leaves, vec![e("b", 2)]);
        assert_eq!(
            p.list().iter().map(|x| x.key.as_str()).collect::<Vec<_>>(),
            ["a", "c"]
        );
    }

    #[test]
    fn join_and_leave_apply_one_change() {
        let mut p = PresenceState::default();
        p.join(e("a", 1));
        let mut changed = e("a", 1);
        changed.state = json!({"typing": true});
        p.join(changed.clone());
        assert_eq!(p.list(), vec![changed]);
        assert_eq!(p.leave("a").leaves.len(), 1);
        assert!(p.leave("a").is_empty());
        assert!(p.list().is_empty());
    }
}
