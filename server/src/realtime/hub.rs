//! The realtime hub: which connection is subscribed to which topic, presence, and fan-out.
//!
//! Every operation is a short critical section under one lock; frames are serialised once and
//! handed to each connection's bounded outgoing queue. A connection whose queue is full is closed
//! rather than allowed to stall the others (its client reconnects and catches up from history).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::db_changes::RowChange;
use super::filter::RowFilter;
use super::frames;
use super::presence::{Presence, PresenceTable};
use super::topics::table_topic;
use crate::util::now_ms;

/// Frames queued per connection before it counts as too slow and is closed.
pub const OUTGOING_CAPACITY: usize = 1024;

pub type Outgoing = mpsc::Sender<Arc<str>>;

struct Conn {
    project_id: String,
    user_id: Option<String>,
    tx: Outgoing,
    kick: CancellationToken,
    topics: HashSet<String>,
    tracked: HashSet<String>,
}

/// One connection's subscription to one topic.
#[derive(Clone, Debug, Default)]
pub struct Subscription {
    /// The name frames carry for that connection (see `topics::alias_for`), `None` for the full
    /// topic.
    pub alias: Option<String>,
    /// Row filter (table topics): `db_change` frames of other rows are not delivered.
    pub filter: Option<Arc<RowFilter>>,
    /// The subscribe frame's `presence`: `Some(true)` always a `presence:sync` on subscribe,
    /// `Some(false)` no presence frames, `None` presence frames only where presence is in use.
    pub presence: Option<bool>,
}

/// What a fanned-out frame is, for the per-subscriber rules (filters, presence opt-out).
#[derive(Clone, Copy)]
enum Kind<'a> {
    Message,
    Presence,
    Row(&'a RowChange),
}

impl Subscription {
    fn wants(&self, kind: Kind<'_>) -> bool {
        match kind {
            Kind::Message => true,
            Kind::Presence => self.presence != Some(false),
            Kind::Row(ch) => self.filter.as_ref().is_none_or(|f| f.matches(ch)),
        }
    }
}

#[derive(Default)]
struct State {
    conns: HashMap<String, Conn>,
    /// `topic -> connection -> subscription`.
    topics: HashMap<String, HashMap<String, Subscription>>,
    presence: PresenceTable,
    /// Subscriptions to `table/...` topics per project: db changes are captured only when > 0.
    table_subs: HashMap<String, usize>,
    /// Every frame fanned out, for the dashboard's live tail (only while one listens).
    tap: Option<tokio::sync::broadcast::Sender<Tapped>>,
}

/// A frame seen by the tap: its full topic and text.
pub type Tapped = (Arc<str>, Arc<str>);

impl State {
    fn tapping(&self) -> bool {
        self.tap.as_ref().is_some_and(|t| t.receiver_count() > 0)
    }
}

/// Shared by every socket and by the routes that publish (db writes, emit).
pub struct Hub {
    state: Mutex<State>,
    shutdown: CancellationToken,
    next: AtomicU64,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            state: Mutex::default(),
            shutdown: CancellationToken::new(),
            next: AtomicU64::new(1),
        }
    }
}

/// A registered connection: its id and the token that ends it (hub shutdown or too slow).
pub struct Registration {
    pub id: String,
    pub kick: CancellationToken,
}

/// `text` (a frame) with its `topic` replaced.
fn with_topic(text: &str, topic: &str) -> Arc<str> {
    match serde_json::from_str::<Value>(text) {
        Ok(mut v) => {
            v["topic"] = Value::String(topic.to_string());
            v.to_string().into()
        }
        Err(_) => text.into(),
    }
}

fn is_table_topic(topic: &str) -> bool {
    topic.starts_with("table/")
}

impl Hub {
    pub fn new() -> Hub {
        Hub::default()
    }

    pub fn register(
        &self,
        project_id: &str,
        user_id: Option<String>,
        tx: Outgoing,
    ) -> Registration {
        let id = format!(
            "conn_{}_{}",
            self.next.fetch_add(1, Ordering::Relaxed),
            &crate::util::new_uuid()[..8]
        );
        let kick = self.shutdown.child_token();
        self.state.lock().conns.insert(
            id.clone(),
            Conn {
                project_id: project_id.to_string(),
                user_id,
                tx,
                kick: kick.clone(),
                topics: HashSet::new(),
                tracked: HashSet::new(),
            },
        );
        Registration { id, kick }
    }

    /// Sockets open now for `project_id`, and of those, for end user `user_id` (when given).
    pub fn connections_of(&self, project_id: &str, user_id: Option<&str>) -> (usize, usize) {
        let st = self.state.lock();
        let mine = st.conns.values().filter(|c| c.project_id == project_id);
        let (mut project, mut user) = (0, 0);
        for c in mine {
            project += 1;
            if user_id.is_some() && c.user_id.as_deref() == user_id {
                user += 1;
            }
        }
        (project, user)
    }

    /// Whether subscribing `conn` to `topic` would go over `max` topics for that socket (an
    /// existing subscription is a re-subscribe, always allowed).
    pub fn over_topic_limit(&self, conn: &str, topic: &str, max: usize) -> bool {
        let st = self.state.lock();
        st.conns
            .get(conn)
            .is_some_and(|c| !c.topics.contains(topic) && c.topics.len() >= max)
    }

    pub fn set_user(&self, conn: &str, user_id: Option<String>) {
        if let Some(c) = self.state.lock().conns.get_mut(conn) {
            c.user_id = user_id;
        }
    }

    /// Subscribe (again: the new alias, filter and presence choice replace the old ones).
    /// Returns the `presence:sync` data to send right after `subscribed`, when one is due: the
    /// subscriber asked for presence, or presence is in use on the topic (someone is tracked
    /// there), unless it declined presence. Frames of the topic reach this connection under
    /// `sub.alias` when one is given.
    pub fn subscribe(&self, conn: &str, topic: &str, sub: Subscription) -> Option<Value> {
        let mut st = self.state.lock();
        let c = st.conns.get_mut(conn)?;
        if c.topics.insert(topic.to_string()) && is_table_topic(topic) {
            let pid = c.project_id.clone();
            *st.table_subs.entry(pid).or_default() += 1;
        }
        let sync = match sub.presence {
            Some(true) => true,
            Some(false) => false,
            None => st.presence.in_use(topic),
        };
        st.topics
            .entry(topic.to_string())
            .or_default()
            .insert(conn.to_string(), sub);
        sync.then(|| st.presence.snapshot(topic))
    }

    pub fn unsubscribe(&self, conn: &str, topic: &str) {
        let mut st = self.state.lock();
        Self::unsubscribe_locked(&mut st, conn, topic);
    }

    fn unsubscribe_locked(st: &mut State, conn: &str, topic: &str) {
        let Some(c) = st.conns.get_mut(conn) else {
            return;
        };
        if c.topics.remove(topic) && is_table_topic(topic) {
            let pid = c.project_id.clone();
            if let Some(n) = st.table_subs.get_mut(&pid) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    st.table_subs.remove(&pid);
                }
            }
        }
        if let Some(set) = st.topics.get_mut(topic) {
            set.remove(conn);
            if set.is_empty() {
                st.topics.remove(topic);
            }
        }
    }

    /// Send `text` to every subscriber of `topic` but `except`; returns how many got it.
    pub fn broadcast(&self, topic: &str, text: &str, except: Option<&str>) -> usize {
        let st = self.state.lock();
        Self::broadcast_locked(&st, topic, text.into(), except, Kind::Message)
    }

    fn broadcast_locked(
        st: &State,
        topic: &str,
        text: Arc<str>,
        except: Option<&str>,
        kind: Kind<'_>,
    ) -> usize {
        if st.tapping()
            && let Some(t) = &st.tap
        {
            let _ = t.send((topic.into(), text.clone()));
        }
        let Some(subs) = st.topics.get(topic) else {
            return 0;
        };
        let mut n = 0;
        let mut aliased: HashMap<&str, Arc<str>> = HashMap::new();
        for (id, sub) in subs {
            if Some(id.as_str()) == except || !sub.wants(kind) {
                continue;
            }
            let Some(c) = st.conns.get(id) else { continue };
            let frame = match &sub.alias {
                None => text.clone(),
                // Rare (clients that subscribed with a bare name): re-serialised per alias.
                Some(a) => aliased
                    .entry(a.as_str())
                    .or_insert_with(|| with_topic(&text, a))
                    .clone(),
            };
            match c.tx.try_send(frame) {
                Ok(()) => n += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(connection = %id, "realtime: outgoing queue full, closing the slow connection");
                    c.kick.cancel();
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        n
    }

    /// Track `state` for `conn` on `topic` and tell the topic's subscribers (`presence:join`).
    pub fn track(&self, conn: &str, topic: &str, state: Value) {
        let mut st = self.state.lock();
        let Some(c) = st.conns.get_mut(conn) else {
            return;
        };
        c.tracked.insert(topic.to_string());
        let user_id = c.user_id.clone();
        let ts = now_ms();
        let p = st.presence.track(
            topic,
            conn,
            Presence {
                state,
                user_id,
                joined_at: ts,
            },
        );
        let text = frames::presence(topic, "presence:join", p.to_json(conn), ts);
        Self::broadcast_locked(&st, topic, text.into(), None, Kind::Presence);
    }

    /// Untrack and tell the topic (`presence:leave`); nothing if `conn` was not tracked there.
    pub fn untrack(&self, conn: &str, topic: &str) {
        let mut st = self.state.lock();
        Self::untrack_locked(&mut st, conn, topic);
    }

    fn untrack_locked(st: &mut State, conn: &str, topic: &str) {
        if let Some(c) = st.conns.get_mut(conn) {
            c.tracked.remove(topic);
        }
        if let Some(p) = st.presence.untrack(topic, conn) {
            let text = frames::presence(topic, "presence:leave", p.to_json(conn), now_ms());
            Self::broadcast_locked(st, topic, text.into(), None, Kind::Presence);
        }
    }

    /// Forget a connection: leave every presence, drop every subscription.
    pub fn unregister(&self, conn: &str) {
        let mut st = self.state.lock();
        let Some(c) = st.conns.get(conn) else { return };
        let tracked: Vec<String> = c.tracked.iter().cloned().collect();
        let topics: Vec<String> = c.topics.iter().cloned().collect();
        for t in tracked {
            Self::untrack_locked(&mut st, conn, &t);
        }
        for t in topics {
            Self::unsubscribe_locked(&mut st, conn, &t);
        }
        st.conns.remove(conn);
    }

    /// True when some connection of the project listens to a table topic (capture db changes).
    pub fn wants_db_changes(&self, project_id: &str) -> bool {
        let st = self.state.lock();
        st.table_subs.contains_key(project_id) || st.tapping()
    }

    /// Every frame fanned out from now on (publishes, presence, db changes of every table while
    /// it listens), whatever the project: the dashboard's live tail filters by topic.
    pub fn tap(&self) -> tokio::sync::broadcast::Receiver<Tapped> {
        let mut st = self.state.lock();
        st.tap
            .get_or_insert_with(|| tokio::sync::broadcast::channel(1024).0)
            .subscribe()
    }

    /// The topics of `project_id` with listeners: `(topic, subscribers, tracked presences)`.
    pub fn topics_of(&self, project_id: &str) -> Vec<(String, usize, usize)> {
        let st = self.state.lock();
        let suffix = format!("/{project_id}");
        let mut out: Vec<(String, usize, usize)> = st
            .topics
            .iter()
            .filter(|(t, _)| t.ends_with(&suffix))
            .map(|(t, subs)| {
                let present = subs
                    .keys()
                    .filter(|c| st.conns.get(*c).is_some_and(|c| c.tracked.contains(t)))
                    .count();
                (t.clone(), subs.len(), present)
            })
            .collect();
        out.sort();
        out
    }

    /// Publish committed row changes as `db_change` frames on `table/{table}/{projectId}`.
    pub fn publish_db_changes(&self, project_id: &str, changes: Vec<RowChange>) {
        if changes.is_empty() {
            return;
        }
        let ts = now_ms();
        let st = self.state.lock();
        for ch in changes {
            let topic = table_topic(&ch.table, project_id);
            if !st.topics.contains_key(&topic) && !st.tapping() {
                continue;
            }
            let text = ch.to_frame(&topic, ts);
            Self::broadcast_locked(&st, &topic, text.into(), None, Kind::Row(&ch));
        }
    }

    /// Connections currently open (tests, diagnostics).
    pub fn connection_count(&self) -> usize {
        self.state.lock().conns.len()
    }

    /// Close every socket (platform shutdown).
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    pub fn is_shut_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fans_out_tracks_presence_and_closes_slow_readers() {
        let hub = Hub::new();
        let (tx_a, mut rx_a) = mpsc::channel(8);
        let (tx_b, _rx_b) = mpsc::channel(1);
        let a = hub.register("p1", None, tx_a);
        let b = hub.register("p1", Some("u".into()), tx_b);
        assert!(!hub.wants_db_changes("p1"));
        let aliased = Subscription {
            alias: Some("t".into()),
            ..Subscription::default()
        };
        // Nobody is tracked on the topic: no presence:sync, unless asked for.
        assert_eq!(hub.subscribe(&a.id, "table/t/p1", aliased), None);
        assert!(
            hub.subscribe(&b.id, "table/t/p1", Subscription::default())
                .is_none()
        );
        assert!(hub.wants_db_changes("p1"));

        // The sender is skipped; an alias rewrites the topic for that connection only.
        let frame = r#"{"type":"event","topic":"table/t/p1","event":"e"}"#;
        assert_eq!(hub.broadcast("table/t/p1", frame, Some(&b.id)), 1);
        let got: Value = serde_json::from_str(&rx_a.try_recv().unwrap()).unwrap();
        assert_eq!(got["topic"], "t");

        // B's queue holds one frame; the second overflows and B is told to close.
        assert_eq!(hub.broadcast("table/t/p1", frame, Some(&a.id)), 1);
        assert!(!b.kick.is_cancelled());
        hub.broadcast("table/t/p1", frame, Some(&a.id));
        assert!(b.kick.is_cancelled());

        // B tracked, then left: A sees the join and the leave.
        hub.track(&b.id, "table/t/p1", serde_json::json!({"x": 1}));
        let join: Value = serde_json::from_str(&rx_a.try_recv().unwrap()).unwrap();
        assert_eq!(
            (join["event"].as_str(), join["data"]["userId"].as_str()),
            (Some("presence:join"), Some("u"))
        );
        hub.unregister(&b.id);
        let leave: Value = serde_json::from_str(&rx_a.try_recv().unwrap()).unwrap();
        assert_eq!(leave["event"], "presence:leave");
        assert_eq!(hub.connection_count(), 1);
        hub.unregister(&a.id);
        assert!(!hub.wants_db_changes("p1"));

        hub.shutdown();
        assert!(a.kick.is_cancelled() && hub.is_shut_down());
    }
}
