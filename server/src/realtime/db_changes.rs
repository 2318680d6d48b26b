//! Row changes of user SQL, captured with SQLite's preupdate hook (old and new values of every
//! row, before names are attached) on the project's connections
//! and published only once the write committed: a failed statement or a rolled-back batch emits
//! nothing.

use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aerostack_protocol::realtime::ServerFrame;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use parking_lot::Mutex;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, ffi};
use serde_json::{Map, Value, json};

use crate::store::pool::Db;

/// Per-connection capture buffer. Off unless someone listens to a table of the project, so
/// writes cost nothing extra when realtime is unused.
#[derive(Default)]
pub struct Capture {
    enabled: AtomicBool,
    pending: Mutex<Vec<RawChange>>,
}

pub struct RawChange {
    op: &'static str,
    table: String,
    old: Option<Vec<SqlValue>>,
    new: Option<Vec<SqlValue>>,
}

/// A committed change of one row, ready to publish.
#[derive(Debug, Clone)]
pub struct RowChange {
    pub table: String,
    pub operation: &'static str,
    pub data: Option<Map<String, Value>>,
    pub old: Option<Map<String, Value>>,
}

impl RowChange {
    /// The `db_change` frame on `topic` (`old` is sent as null for an INSERT).
    pub fn to_frame(&self, topic: &str, ts: i64) -> String {
        ServerFrame::DbChange {
            topic: topic.to_owned(),
            table: Some(self.table.clone()),
            operation: self.operation.to_owned(),
            data: self.data.clone().map_or(Value::Null, Value::Object),
            old: self.old.clone().map(Value::Object),
            timestamp: Some(ts),
        }
        .to_text()
    }
}

/// Install the hooks on a user-SQL connection. The preupdate hook is registered through the FFI
/// (see .cargo/config.toml for why); its context pointer is the `Capture`, which the connection's
/// `ConnControl` (owned next to the connection, and by its other hooks) keeps alive.
pub fn install(conn: &mut Connection, cap: Arc<Capture>) -> rusqlite::Result<()> {
    // SAFETY: `cap` outlives every callback: the same Arc is held by the connection's
    // ConnControl, whose clones live in the connection's authorizer/progress closures.
    unsafe {
        ffi::sqlite3_preupdate_hook(
            conn.handle(),
            Some(preupdate),
            Arc::as_ptr(&cap) as *mut c_void,
        );
    }
    conn.rollback_hook(Some(move || cap.pending.lock().clear()))?;
    Ok(())
}

unsafe extern "C" fn preupdate(
    ctx: *mut c_void,
    db: *mut ffi::sqlite3,
    op: c_int,
    schema: *const c_char,
    table: *const c_char,
    _old_rowid: i64,
    _new_rowid: i64,
) {
    // A panic must not unwind into SQLite.
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: ctx is the Capture registered in `install`; the strings are SQLite's, valid for
        // the call; db is the connection running the statement.
        let cap = unsafe { &*(ctx as *const Capture) };
        if !cap.enabled.load(Ordering::Relaxed) {
            return;
        }
        let (schema, table) = unsafe { (CStr::from_ptr(schema), CStr::from_ptr(table)) };
        let table = table.to_string_lossy();
        if schema.to_bytes() != b"main" || table.starts_with("sqlite_") {
            return;
        }
        let row = |new: bool| unsafe { read_row(db, new) };
        let (op, old, new) = match op {
            ffi::SQLITE_INSERT => ("INSERT", None, row(true)),
            ffi::SQLITE_DELETE => ("DELETE", row(false), None),
            ffi::SQLITE_UPDATE => ("UPDATE", row(false), row(true)),
            _ => return,
        };
        cap.pending.lock().push(RawChange {
            op,
            table: table.into_owned(),
            old,
            new,
        });
    });
}

/// The old or new row of the change being made (inside the preupdate callback only).
unsafe fn read_row(db: *mut ffi::sqlite3, new: bool) -> Option<Vec<SqlValue>> {
    let n = unsafe { ffi::sqlite3_preupdate_count(db) };
    (0..n)
        .map(|i| {
            let mut v: *mut ffi::sqlite3_value = std::ptr::null_mut();
            let rc = unsafe {
                if new {
                    ffi::sqlite3_preupdate_new(db, i, &mut v)
                } else {
                    ffi::sqlite3_preupdate_old(db, i, &mut v)
                }
            };
            (rc == ffi::SQLITE_OK && !v.is_null()).then(|| unsafe { owned_value(v) })
        })
        .collect()
}

unsafe fn owned_value(v: *mut ffi::sqlite3_value) -> SqlValue {
    unsafe {
        let bytes = |p: *const u8| {
            let n = ffi::sqlite3_value_bytes(v).max(0) as usize;
            if p.is_null() || n == 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(p, n).to_vec()
            }
        };
        match ffi::sqlite3_value_type(v) {
            ffi::SQLITE_INTEGER => SqlValue::Integer(ffi::sqlite3_value_int64(v)),
            ffi::SQLITE_FLOAT => SqlValue::Real(ffi::sqlite3_value_double(v)),
            ffi::SQLITE_TEXT => {
                let p = ffi::sqlite3_value_text(v);
                SqlValue::Text(String::from_utf8_lossy(&bytes(p)).into_owned())
            }
            ffi::SQLITE_BLOB => SqlValue::Blob(bytes(ffi::sqlite3_value_blob(v) as *const u8)),
            _ => SqlValue::Null,
        }
    }
}

fn json_value(v: SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => json!(i),
        SqlValue::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        SqlValue::Text(s) => Value::String(s),
        // As in query results: BLOBs travel as base64 strings.
        SqlValue::Blob(b) => Value::String(B64.encode(b)),
    }
}

fn columns(conn: &Connection, table: &str) -> Vec<String> {
    let Ok(mut stmt) = conn.prepare_cached("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
    else {
        return Vec::new();
    };
    stmt.query_map([table], |r| r.get::<_, String>(0))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

fn to_row(values: Vec<SqlValue>, names: &[String]) -> Map<String, Value> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            (
                names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("column{i}")),
                json_value(v),
            )
        })
        .collect()
}

/// Run `f` (user SQL on `db`) and return its result with the row changes it committed. With
/// `capture` false nothing is recorded. On error every recorded change is discarded.
pub fn run_capturing<T, E>(
    db: &Db,
    capture: bool,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<(T, Vec<RowChange>), E> {
    let cap = &db.ctl.capture;
    cap.pending.lock().clear();
    cap.enabled.store(capture, Ordering::Relaxed);
    let result = f();
    cap.enabled.store(false, Ordering::Relaxed);
    let raw = std::mem::take(&mut *cap.pending.lock());
    let value = result?;
    // Still inside a transaction means nothing was committed yet (the caller rolls back).
    if raw.is_empty() || !db.conn.is_autocommit() {
        return Ok((value, Vec::new()));
    }
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    let changes = raw
        .into_iter()
        .map(|r| {
            let cols = names
                .entry(r.table.clone())
                .or_insert_with(|| columns(&db.conn, &r.table));
            RowChange {
                operation: r.op,
                data: r.new.map(|v| to_row(v, cols)),
                old: r.old.map(|v| to_row(v, cols)),
                table: r.table,
            }
        })
        .collect();
    Ok((value, changes))
}
