//! AI search documents: content, type, metadata and the embedding (little-endian f32 BLOB).

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use crate::embed;

#[derive(Clone, Debug)]
pub struct Doc {
    pub id: String,
    pub doc_type: String,
    pub content: String,
    pub metadata: Value,
    pub embedding: Vec<f32>,
}

impl Doc {
    pub fn to_json(&self, score: Option<f32>) -> Value {
        let mut v = json!({"id": self.id, "content": self.content, "type": self.doc_type, "metadata": self.metadata});
        if let Some(s) = score {
            v["score"] = json!(s);
        }
        v
    }
}

fn row(r: &Row<'_>) -> rusqlite::Result<Doc> {
    let meta: String = r.get(3)?;
    let emb: Vec<u8> = r.get(4)?;
    Ok(Doc {
        id: r.get(0)?,
        doc_type: r.get(1)?,
        content: r.get(2)?,
        metadata: serde_json::from_str(&meta).unwrap_or(Value::Null),
        embedding: embed::from_bytes(&emb),
    })
}

pub fn upsert(conn: &Connection, project_id: &str, d: &Doc, now: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO search_docs (project_id, id, type, content, metadata, embedding, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT (project_id, id) DO UPDATE SET type = excluded.type, content = excluded.content,
           metadata = excluded.metadata, embedding = excluded.embedding, updated_at = excluded.updated_at",
    )?
    .execute(params![project_id, d.id, d.doc_type, d.content, d.metadata.to_string(), embed::to_bytes(&d.embedding), now])?;
    Ok(())
}

pub fn get(conn: &Connection, project_id: &str, id: &str) -> rusqlite::Result<Option<Doc>> {
    conn.prepare_cached("SELECT id, type, content, metadata, embedding FROM search_docs WHERE project_id = ?1 AND id = ?2")?
        .query_row([project_id, id], row)
        .optional()
}

pub fn delete(conn: &Connection, project_id: &str, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM search_docs WHERE project_id = ?1 AND id = ?2",
        [project_id, id],
    )? > 0)
}

pub fn delete_by_type(
    conn: &Connection,
    project_id: &str,
    doc_type: &str,
) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM search_docs WHERE project_id = ?1 AND type = ?2",
        [project_id, doc_type],
    )
}

pub fn list_types(conn: &Connection, project_id: &str) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT type, count(*) FROM search_docs WHERE project_id = ?1 GROUP BY type ORDER BY type",
    )?;
    let rows = stmt.query_map([project_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

pub fn count(conn: &Connection, project_id: &str, doc_type: Option<&str>) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT count(*) FROM search_docs WHERE project_id = ?1 AND (?2 IS NULL OR type = ?2)",
    )?
    .query_row(params![project_id, doc_type], |r| r.get(0))
}

/// Every document of the project (optionally of some types), for a brute-force scan.
pub fn scan(conn: &Connection, project_id: &str, types: &[String]) -> rusqlite::Result<Vec<Doc>> {
    let types_json = serde_json::to_string(types).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(
        "SELECT id, type, content, metadata, embedding FROM search_docs WHERE project_id = ?1
         AND (json_array_length(?2) = 0 OR type IN (SELECT value FROM json_each(?2)))",
    )?;
    let rows = stmt.query_map(params![project_id, types_json], row)?;
    rows.collect()
}

pub fn set_model(conn: &Connection, project_id: &str, model: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO search_config (project_id, embedding_model) VALUES (?1, ?2)
         ON CONFLICT (project_id) DO UPDATE SET embedding_model = excluded.embedding_model",
        [project_id, model],
    )?;
    Ok(())
}

/// Does `metadata` satisfy `filter`? Each filter field must equal the metadata field, or, when
/// the filter value is an array, the metadata field must be one of its items.
pub fn matches_filter(metadata: &Value, filter: &serde_json::Map<String, Value>) -> bool {
    filter.iter().all(|(k, want)| {
        let have = metadata.get(k).unwrap_or(&Value::Null);
        match want {
            Value::Array(options) => options.contains(have),
            other => have == other,
        }
    })
}
