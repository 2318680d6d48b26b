//! A small SQLite connection pool. Each database file gets a few connections (WAL lets readers run
//! next to one writer); a connection is borrowed on a blocking thread and returned on drop, so
//! `prepare_cached` statements stay warm between requests.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

/// Idle connections kept per database; more are opened on demand and closed when returned.
const MAX_IDLE: usize = 8;
/// Connections open at once per database (busy + idle): a burst waits for one instead of
/// opening hundreds of file handles.
pub const MAX_OPEN: usize = 32;
/// How long `get` waits for a connection when `MAX_OPEN` are busy.
const GET_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a statement waits for another connection's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Milliseconds on a monotonic clock (query deadlines).
pub fn mono_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// What user SQL may use on one connection (from [`crate::Limits`]).
#[derive(Clone, Copy, Debug)]
pub struct SqlLimits {
    /// A statement running longer is interrupted.
    pub query_timeout: Duration,
    /// Rows per answer (a batch counts all its statements).
    pub max_result_rows: usize,
    /// JSON bytes per answer.
    pub max_result_bytes: usize,
    /// `SQLITE_LIMIT_LENGTH`: largest string, BLOB or row.
    pub max_value_bytes: usize,
    /// `PRAGMA temp.max_page_count` in bytes.
    pub max_temp_bytes: u64,
}

impl Default for SqlLimits {
    fn default() -> Self {
        SqlLimits::from(&crate::options::Limits::default())
    }
}

impl From<&crate::options::Limits> for SqlLimits {
    fn from(l: &crate::options::Limits) -> Self {
        SqlLimits {
            query_timeout: l.query_timeout,
            max_result_rows: l.max_result_rows,
            max_result_bytes: l.max_result_bytes,
            max_value_bytes: l.max_value_bytes,
            max_temp_bytes: l.max_temp_bytes,
        }
    }
}

/// Per-connection switches read by the SQLite callbacks of a user-SQL connection.
#[derive(Default)]
pub struct ConnControl {
    /// The limits of the pool this connection belongs to.
    pub limits: SqlLimits,
    /// Monotonic ms after which the running statement is interrupted (0 = no deadline).
    deadline: AtomicU64,
    /// True while user SQL is being prepared: ATTACH/DETACH and transaction statements are denied.
    user_sql: AtomicBool,
    /// Why the authorizer denied the last statement (to turn SQLite's "not authorized" into advice).
    denied: Mutex<Option<String>>,
    /// User SQL created a TEMP object (table, view, index, trigger): such objects live on the
    /// connection, so it is closed instead of going back to the pool.
    sticky: AtomicBool,
    /// Row changes of user SQL for realtime `db_change` frames (see `realtime::db_changes`).
    pub capture: Arc<crate::realtime::db_changes::Capture>,
}

impl ConnControl {
    pub fn set_deadline(&self, timeout: Option<Duration>) {
        let v = timeout.map_or(0, |t| mono_ms() + t.as_millis() as u64);
        self.deadline.store(v, Ordering::Relaxed);
    }
    pub fn set_user_sql(&self, on: bool) {
        self.user_sql.store(on, Ordering::Relaxed);
    }
    pub fn take_denied(&self) -> Option<String> {
        self.denied.lock().take()
    }
    /// Whether user SQL left state on the connection that a later request must not see.
    pub fn is_sticky(&self) -> bool {
        self.sticky.load(Ordering::Relaxed)
    }
}

pub struct Db {
    pub conn: Connection,
    pub ctl: Arc<ConnControl>,
}

pub struct Pool {
    path: PathBuf,
    /// `Some` for connections that run arbitrary SQL from API callers.
    user_sql: Option<SqlLimits>,
    idle: Mutex<Slots>,
    /// Signalled when a connection goes back to the pool or is closed.
    freed: Condvar,
    closed: AtomicBool,
}

/// The idle connections and how many are open in all (idle + borrowed).
#[derive(Default)]
struct Slots {
    idle: Vec<Db>,
    open: usize,
}

impl Pool {
    /// Open (creating if needed) the database at `path`. `user_sql` connections run arbitrary SQL
    /// from API callers and get the authorizer + deadline guards.
    pub fn open(path: &Path, user_sql: bool) -> rusqlite::Result<Arc<Pool>> {
        Pool::open_with(path, user_sql.then(SqlLimits::default))
    }

    /// [`Pool::open`] with the limits of user SQL (`None`: platform SQL only).
    pub fn open_with(path: &Path, user_sql: Option<SqlLimits>) -> rusqlite::Result<Arc<Pool>> {
        let pool = Arc::new(Pool {
            path: path.to_path_buf(),
            user_sql,
            idle: Mutex::new(Slots::default()),
            freed: Condvar::new(),
            closed: AtomicBool::new(false),
        });
        let first = pool.connect()?;
        let mut slots = pool.idle.lock();
        slots.idle.push(first);
        slots.open = 1;
        drop(slots);
        Ok(pool)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect(&self) -> rusqlite::Result<Db> {
        let mut conn = Connection::open(&self.path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        super::memory::bound_page_cache(&conn)?;
        conn.set_prepared_statement_cache_capacity(128);
        let ctl = Arc::new(ConnControl {
            limits: self.user_sql.unwrap_or_default(),
            ..ConnControl::default()
        });
        if let Some(limits) = self.user_sql {
            // Bounds what one statement can make in memory (randomblob, zeroblob, printf, ...)
            // and how much its TEMP tables may take; user SQL cannot raise either.
            let len = limits.max_value_bytes.clamp(1024, i32::MAX as usize) as i32;
            // SAFETY: a valid open connection handle.
            unsafe {
                rusqlite::ffi::sqlite3_limit(conn.handle(), rusqlite::ffi::SQLITE_LIMIT_LENGTH, len)
            };
            let pages = (limits.max_temp_bytes / 4096).max(16);
            conn.execute_batch(&format!("PRAGMA temp.max_page_count = {pages}"))?;
            crate::realtime::db_changes::install(&mut conn, ctl.capture.clone())?;
            let c = ctl.clone();
            // Often enough that a statement whose steps are few but slow still meets its deadline.
            conn.progress_handler(
                100,
                Some(move || {
                    let d = c.deadline.load(Ordering::Relaxed);
                    d != 0 && mono_ms() > d
                }),
            )?;
            let c = ctl.clone();
            conn.authorizer(Some(move |ctx: AuthContext<'_>| {
                if !c.user_sql.load(Ordering::Relaxed) {
                    return Authorization::Allow;
                }
                let reason = match ctx.action {
                    AuthAction::Attach { .. } | AuthAction::Detach { .. } => {
                        "ATTACH and DETACH are not allowed: each project has exactly one database".to_string()
                    }
                    AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => {
                        "BEGIN/COMMIT/ROLLBACK/SAVEPOINT are not allowed here: send the statements to POST /v1/db/batch, which runs them in one transaction".to_string()
                    }
                    AuthAction::Pragma { pragma_name, pragma_value } => {
                        match super::sql_guard::check_pragma(pragma_name, pragma_value) {
                            Ok(()) => return Authorization::Allow,
                            Err(reason) => reason,
                        }
                    }
                    AuthAction::CreateTempIndex { .. }
                    | AuthAction::CreateTempTable { .. }
                    | AuthAction::CreateTempTrigger { .. }
                    | AuthAction::CreateTempView { .. } => {
                        c.sticky.store(true, Ordering::Relaxed);
                        return Authorization::Allow;
                    }
                    _ => return Authorization::Allow,
                };
                *c.denied.lock() = Some(reason);
                Authorization::Deny
            }))?;
        }
        Ok(Db { conn, ctl })
    }

    /// Borrow a connection (blocking: call from a blocking thread). Opens one when none is idle
    /// and fewer than [`MAX_OPEN`] are open; else waits for one to come back.
    pub fn get(self: &Arc<Self>) -> rusqlite::Result<PooledDb> {
        let deadline = Instant::now() + GET_TIMEOUT;
        let mut slots = self.idle.lock();
        loop {
            if let Some(db) = slots.idle.pop() {
                return Ok(PooledDb {
                    db: Some(db),
                    pool: self.clone(),
                });
            }
            if slots.open < MAX_OPEN {
                slots.open += 1;
                drop(slots);
                return match self.connect() {
                    Ok(db) => Ok(PooledDb {
                        db: Some(db),
                        pool: self.clone(),
                    }),
                    Err(e) => {
                        self.release_slot();
                        Err(e)
                    }
                };
            }
            if self.freed.wait_until(&mut slots, deadline).timed_out() {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some(format!(
                        "all {MAX_OPEN} connections to {} stayed busy for {} s",
                        self.path.display(),
                        GET_TIMEOUT.as_secs()
                    )),
                ));
            }
        }
    }

    /// A connection was closed instead of returned: one more may be opened.
    fn release_slot(&self) {
        let mut slots = self.idle.lock();
        slots.open = slots.open.saturating_sub(1);
        drop(slots);
        self.freed.notify_one();
    }

    /// How many connections are open (idle + borrowed).
    pub fn open_connections(&self) -> usize {
        self.idle.lock().open
    }

    /// Fold the WAL into the main file and drop idle connections (shutdown).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let idle: Vec<Db> = {
            let mut slots = self.idle.lock();
            slots.open = slots.open.saturating_sub(slots.idle.len());
            std::mem::take(&mut slots.idle)
        };
        self.freed.notify_all();
        if let Some(db) = idle.first() {
            let _ = db
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
        drop(idle);
    }
}

pub struct PooledDb {
    db: Option<Db>,
    pool: Arc<Pool>,
}

impl std::ops::Deref for PooledDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db.as_ref().expect("connection present until drop")
    }
}

impl std::ops::DerefMut for PooledDb {
    fn deref_mut(&mut self) -> &mut Db {
        self.db.as_mut().expect("connection present until drop")
    }
}

impl Drop for PooledDb {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            db.ctl.set_deadline(None);
            db.ctl.set_user_sql(false);
            // A connection left inside a transaction (a panic mid-batch) must not be reused as is.
            if !db.conn.is_autocommit() {
                let _ = db.conn.execute_batch("ROLLBACK");
            }
            // TEMP tables, views and triggers live on the connection: a later request borrowing
            // it would see them (a TEMP trigger on a main table would even run for it).
            let keep = !db.ctl.is_sticky() && !self.pool.closed.load(Ordering::SeqCst);
            let mut slots = self.pool.idle.lock();
            if keep && slots.idle.len() < MAX_IDLE {
                slots.idle.push(db);
            } else {
                slots.open = slots.open.saturating_sub(1);
                drop(slots);
                drop(db);
            }
            self.pool.freed.notify_one();
        }
    }
}
