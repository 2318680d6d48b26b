//! One SQLite database per project (`<data_dir>/projects/<id>/db.sqlite`) for the user's SQL.
//!
//! Results are written straight to JSON bytes (column order kept, no intermediate `Value`s):
//! `/v1/db/query` is on the benchmark's hot path.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use parking_lot::RwLock;
use rusqlite::types::ValueRef;
use serde_json::Value;

use super::pool::{Db, Pool, SqlLimits};
use super::sql_error::{SqlError, sqlite_error};
use crate::error::{ApiError, code};
use axum::http::StatusCode;
use tokio::sync::Semaphore;

pub struct ProjectDbs {
    root: PathBuf,
    limits: SqlLimits,
    slots_per_project: usize,
    pools: RwLock<HashMap<String, Arc<Pool>>>,
    slots: RwLock<HashMap<String, Arc<Semaphore>>>,
}

impl ProjectDbs {
    pub fn new(projects_root: PathBuf, limits: &crate::options::Limits) -> Self {
        ProjectDbs {
            root: projects_root,
            limits: SqlLimits::from(limits),
            slots_per_project: limits.db_slots_per_project.max(1),
            pools: RwLock::new(HashMap::new()),
            slots: RwLock::new(HashMap::new()),
        }
    }

    /// The project's database slots: a statement holds one while it runs on a blocking thread,
    /// so one project's long queries cannot take every thread.
    pub fn slots(&self, project_id: &str) -> Arc<Semaphore> {
        if let Some(s) = self.slots.read().get(project_id) {
            return s.clone();
        }
        self.slots
            .write()
            .entry(project_id.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.slots_per_project)))
            .clone()
    }

    pub fn slots_per_project(&self) -> usize {
        self.slots_per_project
    }

    /// The pool of a project's database, opened on first use (blocking).
    pub fn pool(&self, project_id: &str) -> Result<Arc<Pool>, ApiError> {
        if let Some(p) = self.pools.read().get(project_id) {
            return Ok(p.clone());
        }
        let mut pools = self.pools.write();
        if let Some(p) = pools.get(project_id) {
            return Ok(p.clone());
        }
        let dir = self.root.join(project_id);
        std::fs::create_dir_all(&dir)?;
        let pool = Pool::open_with(&dir.join("db.sqlite"), Some(self.limits))
            .map_err(|e| ApiError::internal(format!("could not open the project database: {e}")))?;
        pools.insert(project_id.to_string(), pool.clone());
        Ok(pool)
    }

    pub fn close_all(&self) {
        for pool in self.pools.write().drain().map(|(_, p)| p) {
            pool.close();
        }
    }
}

/// What one statement did.
#[derive(Clone, Copy, Debug, Default)]
pub struct StmtMeta {
    pub count: usize,
    pub changes: u64,
    pub last_row_id: i64,
    pub duration_ms: f64,
}

impl StmtMeta {
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let _ = write!(
            out,
            "{{\"changes\":{},\"last_row_id\":{},\"duration_ms\":{}}}",
            self.changes,
            self.last_row_id,
            fmt_f64(self.duration_ms),
        );
    }
}

fn fmt_f64(v: f64) -> String {
    if v.is_finite() {
        serde_json::to_string(&v).unwrap_or_else(|_| "0".into())
    } else {
        "null".into()
    }
}

fn bind_value(
    stmt: &mut rusqlite::CachedStatement<'_>,
    idx: usize,
    v: &Value,
) -> rusqlite::Result<()> {
    match v {
        Value::Null => stmt.raw_bind_parameter(idx, rusqlite::types::Null),
        Value::Bool(b) => stmt.raw_bind_parameter(idx, *b as i64),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                stmt.raw_bind_parameter(idx, i)
            } else {
                stmt.raw_bind_parameter(idx, n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => stmt.raw_bind_parameter(idx, s.as_str()),
        // Arrays and objects go in as JSON text (usable with SQLite's json functions).
        other => stmt.raw_bind_parameter(idx, other.to_string()),
    }
}

fn bind_params(
    db: &Db,
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: &Value,
) -> Result<(), SqlError> {
    let expected = stmt.parameter_count();
    match params {
        Value::Null => {
            if expected > 0 {
                return Err(SqlError::Input {
                    field: "params",
                    message: format!(
                        "the SQL has {expected} placeholder(s) but no `params` were sent: send \"params\": [value, ...] with {expected} value(s)"
                    ),
                });
            }
        }
        Value::Array(values) => {
            if values.len() != expected {
                return Err(SqlError::Input {
                    field: "params",
                    message: format!(
                        "`params` has {} value(s) but the SQL has {expected} placeholder(s): send exactly one value per ?",
                        values.len()
                    ),
                });
            }
            for (i, v) in values.iter().enumerate() {
                bind_value(stmt, i + 1, v).map_err(|e| sqlite_error(db, e))?;
            }
        }
        Value::Object(named) => {
            for (name, v) in named {
                let mut idx = None;
                for candidate in [
                    name.clone(),
                    format!(":{name}"),
                    format!("@{name}"),
                    format!("${name}"),
                ] {
                    if let Ok(Some(i)) = stmt.parameter_index(&candidate) {
                        idx = Some(i);
                        break;
                    }
                }
                let Some(i) = idx else {
                    return Err(SqlError::Input {
                        field: "params",
                        message: format!(
                            "`params.{name}` matches no :{name} / @{name} / ${name} placeholder in the SQL"
                        ),
                    });
                };
                bind_value(stmt, i, v).map_err(|e| sqlite_error(db, e))?;
            }
        }
        _ => {
            return Err(SqlError::Input {
                field: "params",
                message:
                    "`params` must be an array of values, e.g. \"params\": [1, \"text\", null]"
                        .into(),
            });
        }
    }
    Ok(())
}

fn write_value(out: &mut Vec<u8>, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => out.extend_from_slice(b"null"),
        ValueRef::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        ValueRef::Real(f) => out.extend_from_slice(fmt_f64(f).as_bytes()),
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t);
            let _ = serde_json::to_writer(&mut *out, s.as_ref());
        }
        // JSON has no bytes: BLOBs travel as base64 strings.
        ValueRef::Blob(b) => {
            out.push(b'"');
            out.extend_from_slice(B64.encode(b).as_bytes());
            out.push(b'"');
        }
    }
}

/// What is left of one answer's result caps (a batch shares one budget among its statements).
pub struct Budget {
    rows_left: usize,
    /// Bytes of the answer beyond which it is too large (counted as `spilled + out.len()`).
    bytes_end: usize,
    /// Bytes already taken out of `out` by a [`Spill`] (streamed to the client).
    spilled: usize,
    max_rows: usize,
    max_bytes: usize,
}

impl Budget {
    /// Caps from the connection's limits, counting from `out`'s current length.
    pub fn new(db: &Db, out: &[u8]) -> Budget {
        let l = db.ctl.limits;
        Budget {
            rows_left: l.max_result_rows,
            bytes_end: out.len().saturating_add(l.max_result_bytes),
            spilled: 0,
            max_rows: l.max_result_rows,
            max_bytes: l.max_result_bytes,
        }
    }

    fn too_many_rows(&self) -> SqlError {
        SqlError::Sqlite {
            message: format!(
                "the result has more than {} rows, the most one answer may hold (max_result_rows); nothing is returned",
                self.max_rows
            ),
            suggestion: Some(PAGE_HINT),
            recovery: None,
        }
    }

    fn too_many_bytes(&self) -> SqlError {
        SqlError::Sqlite {
            message: format!(
                "the result is larger than {} bytes of JSON, the most one answer may hold (max_result_bytes); nothing is returned",
                self.max_bytes
            ),
            suggestion: Some(PAGE_HINT),
            recovery: None,
        }
    }
}

/// Where the bytes of a large answer may go before the statement has finished: `/v1/db/query`
/// streams a large read to the client instead of holding all of it.
pub trait Spill {
    /// Called after each row with the answer's bytes not yet handed on; may take them out of
    /// `out` (returns how many it took). `readonly`: the statement writes nothing. An error
    /// stops the statement.
    fn row_done(&mut self, out: &mut Vec<u8>, readonly: bool) -> Result<usize, SqlError>;
}

/// How to get a large result: in pages.
pub const PAGE_HINT: &str = "Page through the rows: add ORDER BY with LIMIT and a keyset condition (WHERE id > :last_id ORDER BY id LIMIT 1000, then repeat with the last id), or LIMIT n OFFSET m; select only the columns you need; keep large files in storage";

/// Run one statement of user SQL, appending its rows as a JSON array to `out` (on a blocking
/// thread: the progress handler interrupts it at the pool's `query_timeout`). The rows and
/// bytes added count against `budget`. After each row, `spill` (if any) may take the bytes so far.
pub fn run_statement(
    db: &Db,
    sql: &str,
    params: &Value,
    out: &mut Vec<u8>,
    budget: &mut Budget,
    mut spill: Option<&mut dyn Spill>,
) -> Result<StmtMeta, SqlError> {
    let started = Instant::now();
    let conn = &db.conn;
    db.ctl.set_user_sql(true);
    db.ctl.set_deadline(Some(db.ctl.limits.query_timeout));
    let result = (|| {
        let mut stmt = conn.prepare_cached(sql).map_err(|e| sqlite_error(db, e))?;
        let readonly = stmt.readonly();
        bind_params(db, &mut stmt, params)?;
        let total_before = conn.total_changes();
        // SAFETY: the handle is valid for the connection's lifetime; resetting the last rowid keeps
        // a previous request's INSERT on this pooled connection from leaking into `last_row_id`.
        unsafe { rusqlite::ffi::sqlite3_set_last_insert_rowid(conn.handle(), 0) };
        let ncols = stmt.column_count();
        let names: Vec<Vec<u8>> = (0..ncols)
            .map(|i| serde_json::to_vec(stmt.column_name(i).unwrap_or("?")).unwrap_or_default())
            .collect();
        let mut count = 0usize;
        out.push(b'[');
        {
            let mut rows = stmt.raw_query();
            loop {
                let row = match rows.next() {
                    Ok(Some(row)) => row,
                    Ok(None) => break,
                    Err(e) => return Err(sqlite_error(db, e)),
                };
                if budget.rows_left == 0 {
                    return Err(budget.too_many_rows());
                }
                budget.rows_left -= 1;
                if count > 0 {
                    out.push(b',');
                }
                out.push(b'{');
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(name);
                    out.push(b':');
                    write_value(out, row.get_ref_unwrap(i));
                    if budget.spilled + out.len() > budget.bytes_end {
                        return Err(budget.too_many_bytes());
                    }
                }
                out.push(b'}');
                count += 1;
                if let Some(spill) = spill.as_deref_mut() {
                    budget.spilled += spill.row_done(out, readonly)?;
                }
            }
        }
        out.push(b']');
        let changed = conn.total_changes() > total_before;
        Ok(StmtMeta {
            count,
            changes: if !readonly && changed {
                conn.changes()
            } else {
                0
            },
            last_row_id: conn.last_insert_rowid(),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    })();
    db.ctl.set_user_sql(false);
    db.ctl.set_deadline(None);
    result
}

/// `/v1/db/query` (on a blocking thread): the full response body.
pub fn query(db: &Db, sql: &str, params: &Value) -> Result<Vec<u8>, ApiError> {
    query_with(db, sql, params, None)
}

/// [`query`] whose rows may be taken by `spill` as they come: the rest of the response body
/// (all of it when `spill` took nothing). The bytes are the same either way.
pub fn query_with(
    db: &Db,
    sql: &str,
    params: &Value,
    spill: Option<&mut dyn Spill>,
) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"results\":");
    let mut budget = Budget::new(db, &out);
    let meta = run_statement(db, sql, params, &mut out, &mut budget, spill)
        .map_err(|e| e.into_api(None))?;
    // A statement that left a transaction open would leak it to the next request on this connection.
    if !db.conn.is_autocommit() {
        let _ = db.conn.execute_batch("ROLLBACK");
        return Err(SqlError::Sqlite {
            message: "the statement opened a transaction; it was rolled back".into(),
            suggestion: Some("Use POST /v1/db/batch to run several statements in one transaction"),
            recovery: None,
        }
        .into_api(None));
    }
    let _ = write!(out, ",\"count\":{},\"success\":true,\"meta\":", meta.count);
    meta.write_json(&mut out);
    out.push(b'}');
    Ok(out)
}

/// `/v1/db/batch`: every statement in one transaction; the first failure rolls everything back.
pub fn batch(db: &Db, queries: &[(String, Value)]) -> Result<Vec<u8>, ApiError> {
    let conn = &db.conn;
    conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::DB_QUERY_FAILED,
            format!("could not start a transaction: {e}"),
        )
    })?;
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"results\":[");
    let mut budget = Budget::new(db, &out);
    for (i, (sql, params)) in queries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"results\":");
        match run_statement(db, sql, params, &mut out, &mut budget, None) {
            Ok(meta) => {
                out.extend_from_slice(b",\"success\":true,\"meta\":");
                meta.write_json(&mut out);
                out.push(b'}');
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e.into_api(Some(i)));
            }
        }
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            code::DB_QUERY_FAILED,
            format!("the batch could not be committed: {e}; nothing was written"),
        ));
    }
    out.extend_from_slice(b"],\"success\":true}");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn db() -> (tempfile::TempDir, Arc<Pool>) {
        let dir = tempfile::tempdir().unwrap();
        let pool = Pool::open(&dir.path().join("t.sqlite"), true).unwrap();
        (dir, pool)
    }

    #[test]
    fn query_and_types() {
        let (_d, pool) = db();
        let c = pool.get().unwrap();
        query(
            &c,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, raw BLOB, tags TEXT)",
            &Value::Null,
        )
        .unwrap();
        let body = query(
            &c,
            "INSERT INTO t (name, score, raw, tags) VALUES (?, ?, x'00ff', ?)",
            &json!(["a", 1.5, ["x"]]),
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["meta"]["changes"], 1);
        assert_eq!(v["meta"]["last_row_id"], 1);
        let body = query(
            &c,
            "SELECT id, name, score, raw, tags, NULL AS n FROM t",
            &Value::Null,
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v["results"][0],
            json!({"id": 1, "name": "a", "score": 1.5, "raw": "AP8=", "tags": "[\"x\"]", "n": null})
        );
        assert_eq!(v["meta"]["changes"], 0);
        // Column order is kept.
        let s =
            String::from_utf8(query(&c, "SELECT 1 AS z, 2 AS a", &Value::Null).unwrap()).unwrap();
        assert!(s.starts_with("{\"results\":[{\"z\":1,\"a\":2}]"), "{s}");
    }

    #[test]
    fn rejects_what_it_must() {
        let (_d, pool) = db();
        let c = pool.get().unwrap();
        let e = query(&c, "SELECT 1; SELECT 2", &Value::Null).unwrap_err();
        assert_eq!(e.details["field"], "sql");
        let e = query(&c, "SELECT * FROM nope", &Value::Null).unwrap_err();
        assert_eq!(e.code, "DB_QUERY_FAILED");
        assert!(e.message.contains("no such table: nope"));
        let e = query(&c, "ATTACH 'x.db' AS x", &Value::Null).unwrap_err();
        assert!(e.message.contains("ATTACH"), "{}", e.message);
        let e = query(&c, "BEGIN", &Value::Null).unwrap_err();
        assert!(e.message.contains("batch"), "{}", e.message);
        let e = query(&c, "SELECT ?", &json!([])).unwrap_err();
        assert_eq!(e.details["field"], "params");
        assert_eq!(
            query(&c, "SELECT :a AS a", &json!({"a": 5}))
                .map(|b| String::from_utf8(b).unwrap().contains("\"a\":5"))
                .ok(),
            Some(true)
        );
    }

    #[test]
    fn batch_is_all_or_nothing() {
        let (_d, pool) = db();
        let c = pool.get().unwrap();
        query(&c, "CREATE TABLE t (id INTEGER PRIMARY KEY)", &Value::Null).unwrap();
        let e = batch(
            &c,
            &[
                ("INSERT INTO t VALUES (1)".into(), Value::Null),
                ("INSERT INTO nope VALUES (1)".into(), Value::Null),
            ],
        )
        .unwrap_err();
        assert_eq!(e.details["index"], 1);
        let v: Value = serde_json::from_slice(
            &query(&c, "SELECT count(*) AS n FROM t", &Value::Null).unwrap(),
        )
        .unwrap();
        assert_eq!(v["results"][0]["n"], 0);
        batch(
            &c,
            &[
                ("INSERT INTO t VALUES (1)".into(), Value::Null),
                ("INSERT INTO t VALUES (2)".into(), Value::Null),
            ],
        )
        .unwrap();
        let v: Value = serde_json::from_slice(
            &query(&c, "SELECT count(*) AS n FROM t", &Value::Null).unwrap(),
        )
        .unwrap();
        assert_eq!(v["results"][0]["n"], 2);
    }
}
