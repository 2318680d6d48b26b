//! Collections (sdk-core's `client.db.collection(name)`, wire-facts §2.4): JSON documents grouped
//! by collection name, kept in the project's own database (table `_aerostack_collection_items`),
//! so the project's SQL can read them too and they go wherever the project's data goes.
//!
//! An item is `{id, collection, slug, data, created_at, updated_at}` with the times in unix
//! milliseconds (the CLI's type generator reads `created_at: number`). Listing pages by
//! `(created_at, rowid)` keyset (the rowid orders items made in the same millisecond as they were
//! made), so a cursor stays valid while items are added or removed.

use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::util::{decode_cursor, encode_cursor, now_ms, random_hex};

pub const TABLE: &str = "_aerostack_collection_items";
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 1000;
/// A collection name: what a realtime topic segment and a URL path segment both carry.
pub use aerostack_protocol::names::NAME_RULE;

/// One stored item.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub collection: String,
    pub slug: Option<String>,
    pub data: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Item {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "collection": self.collection,
            "slug": self.slug,
            "data": self.data,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }

    pub fn to_map(&self) -> Map<String, Value> {
        match self.to_json() {
            Value::Object(m) => m,
            _ => unreachable!("an item is an object"),
        }
    }
}

/// How to list a collection.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub limit: u32,
    pub cursor: Option<String>,
    pub descending: bool,
    /// `(field, value)`: items whose top-level `data.field` equals the value (as text).
    pub filters: Vec<(String, String)>,
}

pub fn valid_name(name: &str) -> bool {
    aerostack_protocol::names::is_name(name)
}

fn ensure(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (
            id TEXT PRIMARY KEY,
            collection TEXT NOT NULL,
            slug TEXT,
            data TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS {TABLE}_by_time ON {TABLE} (collection, created_at);"
    ))
}

fn has_table(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [TABLE],
        |_| Ok(()),
    )
    .optional()
    .map(|r| r.is_some())
}

/// An item and its rowid (the listing's tiebreak).
fn read_ranked(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Item, i64)> {
    Ok((read(row)?, row.get(6)?))
}

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let data: String = row.get(3)?;
    Ok(Item {
        id: row.get(0)?,
        collection: row.get(1)?,
        slug: row.get(2)?,
        data: serde_json::from_str(&data).unwrap_or(Value::String(data)),
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

const COLUMNS: &str = "id, collection, slug, data, created_at, updated_at";

/// A new item in `collection`; its `slug` is `data.slug` when that is a string.
pub fn create(conn: &Connection, collection: &str, data: Value) -> Result<Item, ApiError> {
    ensure(conn)?;
    let now = now_ms();
    let item = Item {
        id: format!("item_{}", random_hex(12)),
        collection: collection.to_string(),
        slug: data.get("slug").and_then(Value::as_str).map(str::to_string),
        data,
        created_at: now,
        updated_at: now,
    };
    conn.execute(
        &format!("INSERT INTO {TABLE} ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        rusqlite::params![item.id, item.collection, item.slug, item.data.to_string(), now, now],
    )?;
    Ok(item)
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<Item>, ApiError> {
    if !has_table(conn)? {
        return Ok(None);
    }
    Ok(conn
        .query_row(&format!("SELECT {COLUMNS} FROM {TABLE} WHERE id = ?1"), [id], read)
        .optional()?)
}

/// Replaces an item's data; `(before, after)`, or None when there is no such item.
pub fn update(conn: &Connection, id: &str, data: Value) -> Result<Option<(Item, Item)>, ApiError> {
    let Some(before) = get(conn, id)? else {
        return Ok(None);
    };
    let after = Item {
        slug: data.get("slug").and_then(Value::as_str).map(str::to_string),
        data,
        updated_at: now_ms().max(before.created_at),
        ..before.clone()
    };
    conn.execute(
        &format!("UPDATE {TABLE} SET slug = ?2, data = ?3, updated_at = ?4 WHERE id = ?1"),
        rusqlite::params![id, after.slug, after.data.to_string(), after.updated_at],
    )?;
    Ok(Some((before, after)))
}

/// Deletes an item; the deleted item, or None when there was none.
pub fn delete(conn: &Connection, id: &str) -> Result<Option<Item>, ApiError> {
    let Some(item) = get(conn, id)? else {
        return Ok(None);
    };
    conn.execute(&format!("DELETE FROM {TABLE} WHERE id = ?1"), [id])?;
    Ok(Some(item))
}

/// One page of `collection` and the cursor of the next (None on the last page).
pub fn list(conn: &Connection, collection: &str, q: &ListQuery) -> Result<(Vec<Item>, Option<String>), ApiError> {
    if !has_table(conn)? {
        return Ok((Vec::new(), None));
    }
    let mut sql = format!("SELECT {COLUMNS}, rowid FROM {TABLE} WHERE collection = ?");
    let mut args: Vec<rusqlite::types::Value> = vec![collection.to_string().into()];
    if let Some(c) = &q.cursor {
        let (at, rank) = decode_cursor(c)
            .and_then(|s| {
                let (at, rank) = s.split_once(':')?;
                Some((at.parse::<i64>().ok()?, rank.parse::<i64>().ok()?))
            })
            .ok_or_else(|| {
                ApiError::validation("cursor", "`cursor` is not one this platform issued: pass the `cursor` of the previous page unchanged")
            })?;
        sql.push_str(if q.descending {
            " AND (created_at < ? OR (created_at = ? AND rowid < ?))"
        } else {
            " AND (created_at > ? OR (created_at = ? AND rowid > ?))"
        });
        args.extend([at.into(), at.into(), rank.into()]);
    }
    for (field, value) in &q.filters {
        // `data.field` as text: numbers compare by their digits, booleans as true/false.
        sql.push_str(
            " AND (CASE json_type(data, ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
             ELSE CAST(json_extract(data, ?) AS TEXT) END) = ?",
        );
        let path = format!("$.\"{field}\"");
        args.extend([path.clone().into(), path.into(), value.clone().into()]);
    }
    let dir = if q.descending { "DESC" } else { "ASC" };
    sql.push_str(&format!(" ORDER BY created_at {dir}, rowid {dir} LIMIT ?"));
    args.push(i64::from(q.limit + 1).into());
    let mut stmt = conn.prepare(&sql)?;
    let mut items = stmt
        .query_map(params_from_iter(args), read_ranked)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next = if items.len() > q.limit as usize {
        items.truncate(q.limit as usize);
        items.last().map(|(i, rank)| encode_cursor(&format!("{}:{rank}", i.created_at)))
    } else {
        None
    };
    Ok((items.into_iter().map(|(i, _)| i).collect(), next))
}

/// Whether the project has an item in `collection` (a realtime subscription to its topic is
/// then a collection's, not a missing table's).
pub fn exists(conn: &Connection, collection: &str) -> Result<bool, ApiError> {
    if !has_table(conn)? {
        return Ok(false);
    }
    Ok(conn
        .query_row(&format!("SELECT 1 FROM {TABLE} WHERE collection = ?1 LIMIT 1"), [collection], |_| Ok(()))
        .optional()?
        .is_some())
}
