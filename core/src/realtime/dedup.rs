//! A bounded set of recently seen message ids: a replayed or re-delivered message is dropped,
//! and memory stays flat however long the client runs.

use std::collections::{HashSet, VecDeque};

/// Remembers the last `capacity` ids.
#[derive(Debug)]
pub struct SeenIds {
    order: VecDeque<String>,
    set: HashSet<String>,
    capacity: usize,
}

impl SeenIds {
    /// A set remembering at most `capacity` ids (at least 1).
    pub fn new(capacity: usize) -> SeenIds {
        SeenIds {
            order: VecDeque::new(),
            set: HashSet::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records `id`; false if it was already seen.
    pub fn insert(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(id.to_string());
        self.set.insert(id.to_string());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_a_bounded_window() {
        let mut s = SeenIds::new(2);
        assert!(s.insert("a"));
        assert!(!s.insert("a"));
        assert!(s.insert("b"));
        assert!(s.insert("c"));
        assert!(s.insert("a"), "a fell out of the window");
        assert!(!s.insert("c"));
    }
}
