//! Storage object metadata. Bytes live in immutable blob files under
//! `<data_dir>/projects/<id>/storage/objects/<xx>/<uuid>`; a key points at its current blob, so an
//! overwrite is "write new blob, switch the row, delete the old blob" and readers never see a
//! half-written file.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use crate::util::iso_ms;

#[derive(Clone, Debug)]
pub struct ObjectRow {
    pub key: String,
    /// Blob path relative to the project's `storage/objects` directory.
    pub blob: String,
    pub size: i64,
    pub content_type: String,
    pub etag: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Served only through signed URLs (`storage.get_url(key, expires_in)`).
    pub private: bool,
}

impl ObjectRow {
    pub fn list_json(&self) -> Value {
        json!({
            "key": self.key,
            "size": self.size,
            "lastModified": iso_ms(self.updated_at),
            "contentType": self.content_type,
            "etag": self.etag,
            "public": !self.private,
        })
    }
}

const COLS: &str = "key, blob, size, content_type, etag, created_at, updated_at, private";

fn row(r: &Row<'_>) -> rusqlite::Result<ObjectRow> {
    Ok(ObjectRow {
        key: r.get(0)?,
        blob: r.get(1)?,
        size: r.get(2)?,
        content_type: r.get(3)?,
        etag: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        private: r.get(7)?,
    })
}

pub fn get(conn: &Connection, project_id: &str, key: &str) -> rusqlite::Result<Option<ObjectRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLS} FROM objects WHERE project_id = ?1 AND key = ?2"
    ))?
    .query_row([project_id, key], row)
    .optional()
}

/// Insert or replace; returns the blob the key pointed at before (to delete).
pub fn put(conn: &Connection, project_id: &str, o: &ObjectRow) -> rusqlite::Result<Option<String>> {
    let tx = conn.unchecked_transaction()?;
    let old: Option<String> = tx
        .query_row(
            "SELECT blob FROM objects WHERE project_id = ?1 AND key = ?2",
            [project_id, &o.key],
            |r| r.get(0),
        )
        .optional()?;
    tx.execute(
        "INSERT INTO objects (project_id, key, blob, size, content_type, etag, created_at, updated_at, private)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (project_id, key) DO UPDATE SET blob = excluded.blob, size = excluded.size,
           content_type = excluded.content_type, etag = excluded.etag, updated_at = excluded.updated_at,
           private = excluded.private",
        params![project_id, o.key, o.blob, o.size, o.content_type, o.etag, o.created_at, o.updated_at, o.private],
    )?;
    tx.commit()?;
    Ok(old.filter(|b| *b != o.blob))
}

/// Returns the deleted object's blob.
pub fn delete(conn: &Connection, project_id: &str, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "DELETE FROM objects WHERE project_id = ?1 AND key = ?2 RETURNING blob",
        [project_id, key],
        |r| r.get(0),
    )
    .optional()
}

/// Rename `src` to `dst` in one transaction (replacing `dst`). `None` when `src` does not exist;
/// otherwise the replaced destination blob, if any.
pub fn rename(
    conn: &Connection,
    project_id: &str,
    src: &str,
    dst: &str,
    now: i64,
) -> rusqlite::Result<Option<Option<String>>> {
    let tx = conn.unchecked_transaction()?;
    if get(&tx, project_id, src)?.is_none() {
        return Ok(None);
    }
    let replaced = if src == dst {
        None
    } else {
        delete(&tx, project_id, dst)?
    };
    tx.execute(
        "UPDATE objects SET key = ?3, updated_at = ?4 WHERE project_id = ?1 AND key = ?2",
        params![project_id, src, dst, now],
    )?;
    tx.commit()?;
    Ok(Some(replaced))
}

/// Key order, strictly after `after`.
pub fn list(
    conn: &Connection,
    project_id: &str,
    prefix: &str,
    after: Option<&str>,
    limit: i64,
) -> rusqlite::Result<Vec<ObjectRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM objects WHERE project_id = ?1 AND substr(key, 1, length(?2)) = ?2 AND (?3 IS NULL OR key > ?3)
         ORDER BY key LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![project_id, prefix, after, limit], row)?;
    rows.collect()
}
