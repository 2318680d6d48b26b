//! Persisted publications (the `realtime_messages` table behind the history endpoint).
//!
//! Like `AppState::store_realtime_message`, plus idempotency: a publish whose client id is a
//! UUID is stored under that id, so a client that re-sends an unacknowledged publish after a
//! reconnect (as the engine does) cannot store it twice, even across a platform restart.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::util::{new_uuid, now_ms};

/// A stored (or already stored) message.
pub struct Stored {
    pub id: String,
    pub created_at: i64,
    /// False when the same publish had been stored before (do not deliver it again).
    pub fresh: bool,
}

/// A client id usable as a message id: a UUID (36 chars, hex and dashes). Other ids (counters
/// of the official clients) could collide between clients, so they get a fresh id.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Keeps the newest `keep` persisted messages of `room`; run every [`TRIM_EVERY`] stores so the
/// cost stays off the common path.
pub fn trim(conn: &Connection, project_id: &str, room: &str, keep: usize) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM realtime_messages WHERE project_id = ?1 AND room_id = ?2 AND rowid <= (
            SELECT rowid FROM realtime_messages WHERE project_id = ?1 AND room_id = ?2
            ORDER BY created_at DESC, rowid DESC LIMIT 1 OFFSET ?3)",
        params![project_id, room, keep as i64],
    )
}

/// Stores between two history trims of a topic (a stored message's rowid is counted).
pub const TRIM_EVERY: i64 = 64;

#[allow(clippy::too_many_arguments)]
pub fn store(
    conn: &Connection,
    project_id: &str,
    room: &str,
    user_id: Option<&str>,
    event: &str,
    data: &Value,
    client_id: Option<&str>,
    keep: usize,
) -> rusqlite::Result<Stored> {
    let mut id = new_uuid();
    if let Some(cid) = client_id.filter(|c| is_uuid(c)) {
        let seen: Option<(String, String, i64)> = conn
            .query_row(
                "SELECT project_id, room_id, created_at FROM realtime_messages WHERE id = ?1",
                [cid],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        match seen {
            Some((p, r, created_at)) if p == project_id && r == room => {
                return Ok(Stored {
                    id: cid.to_string(),
                    created_at,
                    fresh: false,
                });
            }
            // Taken by another room or project: store under a fresh id.
            Some(_) => {}
            None => id = cid.to_string(),
        }
    }
    let created_at = now_ms();
    conn.execute(
        "INSERT INTO realtime_messages (id, project_id, room_id, user_id, event, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, project_id, room, user_id, event, data.to_string(), created_at],
    )?;
    if conn.last_insert_rowid() % TRIM_EVERY == 0 || keep < TRIM_EVERY as usize {
        trim(conn, project_id, room, keep)?;
    }
    Ok(Stored {
        id,
        created_at,
        fresh: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_ids_make_stores_idempotent() {
        assert!(is_uuid("0b6c8a1e-4a2f-4c1e-9f3b-1234567890ab"));
        assert!(!is_uuid("msg_1"));
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE realtime_messages (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, room_id TEXT NOT NULL, user_id TEXT, event TEXT NOT NULL, data TEXT NOT NULL, created_at INTEGER NOT NULL)").unwrap();
        let id = "0b6c8a1e-4a2f-4c1e-9f3b-1234567890ab";
        let a = store(&c, "p", "r", None, "e", &Value::Null, Some(id), 10).unwrap();
        let b = store(&c, "p", "r", None, "e", &Value::Null, Some(id), 10).unwrap();
        assert!(a.fresh && !b.fresh);
        assert_eq!((a.id.as_str(), a.created_at), (b.id.as_str(), b.created_at));
        let other = store(&c, "q", "r", None, "e", &Value::Null, Some(id), 10).unwrap();
        assert!(other.fresh && other.id != id);
        let n = store(&c, "p", "r", None, "e", &Value::Null, Some("1"), 10).unwrap();
        assert!(n.fresh && n.id != "1");
    }
}
