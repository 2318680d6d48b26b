//! The cache: served from memory (one ordered map per project behind a `parking_lot` lock),
//! written through to the control database by a background thread so it survives restarts.
//!
//! Every change is queued to the writer while the project's lock is held, so the disk sees the
//! same order as memory. The writer commits queued changes in batches (one transaction each:
//! group commit); a route acknowledges a change only after [`CacheStore::durable`], i.e. once its
//! batch is committed to SQLite's WAL, so a `kill -9` loses nothing acknowledged. `sync` waits
//! until everything queued so far is on disk (used at shutdown).

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;
use rusqlite::{Connection, params};

use super::pool::Pool;

#[derive(Clone, Debug)]
pub struct CacheEntry {
    /// The value as compact JSON text (answers are assembled without re-serialising).
    pub json: Arc<str>,
    /// Unix ms; `None` = no expiry.
    pub expires_at: Option<i64>,
}

impl CacheEntry {
    fn live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|e| e > now)
    }
}

type Map = BTreeMap<String, CacheEntry>;

enum Op {
    Set {
        project: String,
        key: String,
        json: Arc<str>,
        expires_at: Option<i64>,
    },
    Delete {
        project: String,
        key: String,
    },
    PurgeExpired {
        now: i64,
    },
    Sync(mpsc::Sender<()>),
    Shutdown,
}

pub struct CacheStore {
    projects: RwLock<HashMap<String, Arc<RwLock<Map>>>>,
    /// The sequence number of the last op queued, and the queue: ops are numbered 1, 2, ... in
    /// the order the writer receives them (both under this lock).
    tx: Mutex<(u64, mpsc::Sender<Op>)>,
    /// How many ops the writer has committed (or failed to commit).
    done: watch::Receiver<u64>,
    /// Op ranges `(first, last)` whose commit failed (most recent last; bounded).
    failed: Arc<Mutex<Vec<(u64, u64)>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

thread_local! {
    /// The sequence number of the last op this thread queued (read by `durable`).
    static LAST_QUEUED: Cell<u64> = const { Cell::new(0) };
}

/// Why a change could not be made durable.
#[derive(Debug)]
pub enum DurableError {
    /// The control database refused the commit (disk full, ...).
    Failed,
    /// The writer did not get to it in time (or stopped).
    Timeout,
}

/// Why an increment was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum IncrError {
    NotInteger,
    Overflow,
}

impl CacheStore {
    /// Load the live entries from the control database and start the writer thread.
    pub fn open(pool: Arc<Pool>) -> rusqlite::Result<CacheStore> {
        let now = crate::util::now_ms();
        let mut projects: HashMap<String, Arc<RwLock<Map>>> = HashMap::new();
        {
            let db = pool.get()?;
            db.conn.execute(
                "DELETE FROM cache_entries WHERE expires_at IS NOT NULL AND expires_at <= ?1",
                [now],
            )?;
            let mut stmt = db
                .conn
                .prepare("SELECT project_id, key, value, expires_at FROM cache_entries")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let project: String = r.get(0)?;
                let key: String = r.get(1)?;
                let value: String = r.get(2)?;
                let expires_at: Option<i64> = r.get(3)?;
                projects.entry(project).or_default().write().insert(
                    key,
                    CacheEntry {
                        json: Arc::from(value),
                        expires_at,
                    },
                );
            }
        }
        let (tx, rx) = mpsc::channel();
        let (done_tx, done) = watch::channel(0u64);
        let failed: Arc<Mutex<Vec<(u64, u64)>>> = Arc::default();
        let f = failed.clone();
        let writer = std::thread::Builder::new()
            .name("aerostack-cache-writer".into())
            .spawn(move || writer_loop(pool, rx, done_tx, f))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(CacheStore {
            projects: RwLock::new(projects),
            tx: Mutex::new((0, tx)),
            done,
            failed,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Queue `op` for the writer (numbered in queue order).
    fn send(&self, op: Op) {
        let mut q = self.tx.lock();
        if q.1.send(op).is_ok() {
            q.0 += 1;
            let seq = q.0;
            LAST_QUEUED.with(|c| c.set(seq));
        }
    }

    /// Resolves once every change this thread queued so far is committed to SQLite (in the WAL:
    /// it survives the process being killed). Call it right after the change, before any await
    /// (the change's number is taken when this is called), and acknowledge only after it.
    pub fn durable(&self) -> impl std::future::Future<Output = Result<(), DurableError>> + use<> {
        let target = LAST_QUEUED.with(Cell::get);
        let mut done = self.done.clone();
        let failed = self.failed.clone();
        async move {
            if target == 0 {
                return Ok(());
            }
            let waited = tokio::time::timeout(
                std::time::Duration::from_secs(30),
                done.wait_for(|d| *d >= target),
            )
            .await;
            match waited {
                Ok(Ok(_)) => {}
                _ => return Err(DurableError::Timeout),
            }
            if failed
                .lock()
                .iter()
                .any(|(lo, hi)| *lo <= target && target <= *hi)
            {
                return Err(DurableError::Failed);
            }
            Ok(())
        }
    }

    fn project(&self, project: &str) -> Arc<RwLock<Map>> {
        if let Some(m) = self.projects.read().get(project) {
            return m.clone();
        }
        self.projects
            .write()
            .entry(project.to_string())
            .or_default()
            .clone()
    }

    fn persist_set(&self, project: &str, key: &str, e: &CacheEntry) {
        self.send(Op::Set {
            project: project.into(),
            key: key.into(),
            json: e.json.clone(),
            expires_at: e.expires_at,
        });
    }

    fn persist_delete(&self, project: &str, key: &str) {
        self.send(Op::Delete {
            project: project.into(),
            key: key.into(),
        });
    }

    pub fn get(&self, project: &str, key: &str, now: i64) -> Option<Arc<str>> {
        let m = self.project(project);
        let map = m.read();
        map.get(key).filter(|e| e.live(now)).map(|e| e.json.clone())
    }

    pub fn set(&self, project: &str, key: String, json: Arc<str>, expires_at: Option<i64>) {
        let m = self.project(project);
        let mut map = m.write();
        let e = CacheEntry { json, expires_at };
        self.persist_set(project, &key, &e);
        map.insert(key, e);
    }

    /// Set several entries under one lock (all or nothing is ensured by validating before).
    pub fn set_many(&self, project: &str, entries: Vec<(String, Arc<str>, Option<i64>)>) {
        let m = self.project(project);
        let mut map = m.write();
        for (key, json, expires_at) in entries {
            let e = CacheEntry { json, expires_at };
            self.persist_set(project, &key, &e);
            map.insert(key, e);
        }
    }

    /// Returns whether a live entry was removed.
    pub fn delete(&self, project: &str, key: &str, now: i64) -> bool {
        let m = self.project(project);
        let mut map = m.write();
        match map.remove(key) {
            Some(e) => {
                self.persist_delete(project, key);
                e.live(now)
            }
            None => false,
        }
    }

    pub fn delete_many(&self, project: &str, keys: &[String], now: i64) -> usize {
        let m = self.project(project);
        let mut map = m.write();
        let mut deleted = 0;
        for key in keys {
            if let Some(e) = map.remove(key) {
                self.persist_delete(project, key);
                if e.live(now) {
                    deleted += 1;
                }
            }
        }
        deleted
    }

    /// Live keys with `prefix`, in key order, strictly after `after`; `(keys with expiry, more)`.
    pub fn list(
        &self,
        project: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
        now: i64,
    ) -> (Vec<(String, Option<i64>)>, bool) {
        let m = self.project(project);
        let map = m.read();
        let start = match after {
            Some(a) if a >= prefix => Bound::Excluded(a),
            _ => Bound::Included(prefix),
        };
        let mut out = Vec::new();
        let mut iter = map
            .range::<str, _>((start, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(_, e)| e.live(now));
        for (k, e) in iter.by_ref() {
            if out.len() == limit {
                return (out, true);
            }
            out.push((k.clone(), e.expires_at));
        }
        let more = iter.next().is_some();
        (out, more)
    }

    /// Delete up to `cap` live keys with `prefix`; `(deleted, more remain)`.
    pub fn flush(&self, project: &str, prefix: &str, cap: usize, now: i64) -> (usize, bool) {
        let m = self.project(project);
        let mut map = m.write();
        let keys: Vec<String> = map
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(_, e)| e.live(now))
            .take(cap + 1)
            .map(|(k, _)| k.clone())
            .collect();
        let more = keys.len() > cap;
        let mut deleted = 0;
        for key in keys.into_iter().take(cap) {
            map.remove(&key);
            self.persist_delete(project, &key);
            deleted += 1;
        }
        (deleted, more)
    }

    /// Set a new expiry on a live key; false when the key does not exist.
    pub fn expire(&self, project: &str, key: &str, expires_at: i64, now: i64) -> bool {
        let m = self.project(project);
        let mut map = m.write();
        match map.get_mut(key) {
            Some(e) if e.live(now) => {
                e.expires_at = Some(expires_at);
                let e = e.clone();
                self.persist_set(project, key, &e);
                true
            }
            _ => false,
        }
    }

    /// Atomic add under the project's lock. A missing (or expired) key starts at `initial` and
    /// gets `new_expiry`; an existing key keeps its expiry.
    pub fn increment(
        &self,
        project: &str,
        key: &str,
        amount: i64,
        initial: i64,
        new_expiry: Option<i64>,
        now: i64,
    ) -> Result<i64, IncrError> {
        let m = self.project(project);
        let mut map = m.write();
        let (base, expires_at) = match map.get(key).filter(|e| e.live(now)) {
            Some(e) => {
                let v: serde_json::Value =
                    serde_json::from_str(&e.json).map_err(|_| IncrError::NotInteger)?;
                (v.as_i64().ok_or(IncrError::NotInteger)?, e.expires_at)
            }
            None => (initial, new_expiry),
        };
        let value = base.checked_add(amount).ok_or(IncrError::Overflow)?;
        let e = CacheEntry {
            json: Arc::from(value.to_string()),
            expires_at,
        };
        self.persist_set(project, key, &e);
        map.insert(key.to_string(), e);
        Ok(value)
    }

    /// Drop expired entries from memory and disk (they are never served; this frees space).
    pub fn sweep(&self, now: i64) {
        let projects: Vec<Arc<RwLock<Map>>> = self.projects.read().values().cloned().collect();
        for m in projects {
            let mut map = m.write();
            map.retain(|_, e| e.live(now));
        }
        self.send(Op::PurgeExpired { now });
    }

    /// Wait until every change queued so far is committed.
    pub fn sync(&self) {
        let (tx, rx) = mpsc::channel();
        self.send(Op::Sync(tx));
        let _ = rx.recv_timeout(std::time::Duration::from_secs(60));
    }

    /// Commit what is queued and stop the writer thread.
    pub fn shutdown(&self) {
        self.send(Op::Shutdown);
        if let Some(h) = self.writer.lock().take() {
            let _ = h.join();
        }
    }
}

fn writer_loop(
    pool: Arc<Pool>,
    rx: mpsc::Receiver<Op>,
    done: watch::Sender<u64>,
    failed: Arc<Mutex<Vec<(u64, u64)>>>,
) {
    let Ok(db) = pool.get() else {
        tracing::error!(
            "cache writer: cannot open the control database; cache changes will not persist"
        );
        failed.lock().push((1, u64::MAX));
        done.send_replace(u64::MAX);
        return;
    };
    let mut committed: u64 = 0;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < 2048 {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let n = batch.len() as u64;
        let mut stop = false;
        let mut syncs = Vec::new();
        // A failed commit is retried a few times (a momentary lock); after that its ops are
        // reported as failed to the requests waiting for them, never acknowledged.
        let mut result = apply(&db.conn, &batch, &mut syncs, &mut stop);
        for wait_ms in [20, 100, 500] {
            if result.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(wait_ms));
            syncs.clear();
            result = apply(&db.conn, &batch, &mut syncs, &mut stop);
        }
        if let Err(e) = result {
            tracing::error!("cache writer: {e}; {n} change(s) were not saved");
            let mut f = failed.lock();
            f.push((committed + 1, committed + n));
            if f.len() > 1024 {
                f.remove(0);
            }
        }
        committed += n;
        done.send_replace(committed);
        for s in syncs {
            let _ = s.send(());
        }
        if stop {
            return;
        }
    }
}

fn apply(
    conn: &Connection,
    batch: &[Op],
    syncs: &mut Vec<mpsc::Sender<()>>,
    stop: &mut bool,
) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    for op in batch {
        match op {
            Op::Set {
                project,
                key,
                json,
                expires_at,
            } => {
                tx.prepare_cached(
                    "INSERT INTO cache_entries (project_id, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                )?
                .execute(params![project, key, &**json, expires_at])?;
            }
            Op::Delete { project, key } => {
                tx.prepare_cached("DELETE FROM cache_entries WHERE project_id = ?1 AND key = ?2")?
                    .execute(params![project, key])?;
            }
            Op::PurgeExpired { now } => {
                tx.execute(
                    "DELETE FROM cache_entries WHERE expires_at IS NOT NULL AND expires_at <= ?1",
                    [now],
                )?;
            }
            Op::Sync(s) => syncs.push(s.clone()),
            Op::Shutdown => *stop = true,
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Arc<Pool>, CacheStore) {
        let dir = tempfile::tempdir().unwrap();
        let control = crate::store::control::Control::open(dir.path()).unwrap();
        let pool = control.pool.clone();
        let s = CacheStore::open(pool.clone()).unwrap();
        (dir, pool, s)
    }

    #[test]
    fn ttl_list_and_persist() {
        let (_d, pool, s) = store();
        s.set("p", "a".into(), Arc::from("1"), None);
        s.set("p", "b".into(), Arc::from("\"x\""), Some(1000));
        s.set("q", "a".into(), Arc::from("2"), None);
        assert_eq!(s.get("p", "a", 0).as_deref(), Some("1"));
        assert_eq!(s.get("p", "b", 999).as_deref(), Some("\"x\""));
        assert_eq!(s.get("p", "b", 1000), None);
        let (keys, more) = s.list("p", "", None, 10, 2000);
        assert_eq!(keys.len(), 1);
        assert!(!more);
        assert_eq!(s.increment("p", "n", 5, 10, None, 0), Ok(15));
        assert_eq!(
            s.increment("p", "b", 1, 0, None, 0),
            Err(IncrError::NotInteger)
        );
        s.shutdown();
        let s2 = CacheStore::open(pool).unwrap();
        assert_eq!(s2.get("p", "n", 0).as_deref(), Some("15"));
        assert_eq!(s2.get("q", "a", 0).as_deref(), Some("2"));
        s2.shutdown();
    }
}
