//! Presence per topic: who is tracked, keyed by connection id, with the state they tracked.

use std::collections::HashMap;

use serde_json::{Value, json};

/// One tracked connection on one topic.
#[derive(Clone, Debug)]
pub struct Presence {
    pub state: Value,
    pub user_id: Option<String>,
    pub joined_at: i64,
}

impl Presence {
    /// The `data` of `presence:join` / `presence:leave`, and one entry of `presence:sync`.
    pub fn to_json(&self, key: &str) -> Value {
        json!({"key": key, "state": self.state, "userId": self.user_id, "joinedAt": self.joined_at})
    }
}

/// Presences of every topic: `topic -> connection key -> presence`.
#[derive(Default)]
pub struct PresenceTable {
    topics: HashMap<String, HashMap<String, Presence>>,
}

impl PresenceTable {
    /// Track (or re-track with a new state). Returns the stored presence.
    pub fn track(&mut self, topic: &str, key: &str, p: Presence) -> Presence {
        let entry = self.topics.entry(topic.to_string()).or_default();
        // A re-track keeps the original join time: the connection never left.
        let joined_at = entry.get(key).map_or(p.joined_at, |old| old.joined_at);
        let p = Presence { joined_at, ..p };
        entry.insert(key.to_string(), p.clone());
        p
    }

    /// Untrack; the removed presence, if it was tracked.
    pub fn untrack(&mut self, topic: &str, key: &str) -> Option<Presence> {
        let entry = self.topics.get_mut(topic)?;
        let p = entry.remove(key);
        if entry.is_empty() {
            self.topics.remove(topic);
        }
        p
    }

    /// Whether some connection is tracked on `topic` (presence is in use there).
    pub fn in_use(&self, topic: &str) -> bool {
        self.topics.contains_key(topic)
    }

    /// `presence:sync` data: `{presences: [...]}`, oldest join first.
    pub fn snapshot(&self, topic: &str) -> Value {
        let mut list: Vec<(&String, &Presence)> = self
            .topics
            .get(topic)
            .map(|m| m.iter().collect())
            .unwrap_or_default();
        list.sort_by(|a, b| a.1.joined_at.cmp(&b.1.joined_at).then(a.0.cmp(b.0)));
        json!({"presences": list.into_iter().map(|(k, p)| p.to_json(k)).collect::<Vec<_>>()})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(state: Value, t: i64) -> Presence {
        Presence {
            state,
            user_id: None,
            joined_at: t,
        }
    }

    #[test]
    fn track_retrack_untrack() {
        let mut t = PresenceTable::default();
        t.track("r", "c1", p(json!({"n": 1}), 10));
        t.track("r", "c2", p(json!({"n": 2}), 5));
        let again = t.track("r", "c1", p(json!({"n": 3}), 20));
        assert_eq!(again.joined_at, 10);
        let snap = t.snapshot("r");
        assert_eq!(snap["presences"][0]["key"], "c2");
        assert_eq!(snap["presences"][1]["state"], json!({"n": 3}));
        assert!(t.untrack("r", "c1").is_some());
        assert!(t.untrack("r", "c1").is_none());
        t.untrack("r", "c2");
        assert_eq!(t.snapshot("r"), json!({"presences": []}));
    }
}
