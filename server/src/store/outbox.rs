//! The local outbox: every email (or SMS) the platform "sent" (verification links, one-time
//! codes, reset tokens), kept so developers and tests can read them offline.

use rusqlite::{Connection, params};

use aerostack_protocol::Timestamp;

/// An email (or SMS) the platform "sent", as stored (`created_at` in unix ms). Its wire form,
/// an entry of `GET /v1/local/outbox`, is the shared `aerostack_protocol::OutboxMessage`
/// ([`OutboxRow::to_wire`]).
#[derive(Clone, Debug, Default)]
pub struct OutboxRow {
    pub id: String,
    pub to: String,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub code: Option<String>,
    pub token: Option<String>,
    pub created_at: i64,
}

impl OutboxRow {
    /// The message as it goes on the wire (`created_at` as an ISO time).
    pub fn to_wire(&self) -> aerostack_protocol::OutboxMessage {
        aerostack_protocol::OutboxMessage {
            id: self.id.clone(),
            to: self.to.clone(),
            kind: self.kind.clone(),
            subject: self.subject.clone(),
            body: self.body.clone(),
            code: self.code.clone(),
            token: self.token.clone(),
            created_at: Some(Timestamp::from_unix_ms(self.created_at)),
        }
    }
}

pub fn insert_outbox(
    conn: &Connection,
    project_id: &str,
    m: &OutboxRow,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO outbox (id, project_id, to_addr, kind, subject, body, code, token, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        m.id,
        project_id,
        m.to,
        m.kind,
        m.subject,
        m.body,
        m.code,
        m.token,
        m.created_at
    ])?;
    Ok(())
}

/// Newest first; `to` matches case-insensitively.
pub fn list_outbox(
    conn: &Connection,
    project_id: &str,
    to: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, to_addr, kind, subject, body, code, token, created_at FROM outbox
         WHERE project_id = ?1 AND (?2 IS NULL OR lower(to_addr) = lower(?2))
         ORDER BY created_at DESC, rowid DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![project_id, to, limit], |r| {
        Ok(OutboxRow {
            id: r.get(0)?,
            to: r.get(1)?,
            kind: r.get(2)?,
            subject: r.get(3)?,
            body: r.get(4)?,
            code: r.get(5)?,
            token: r.get(6)?,
            created_at: r.get(7)?,
        })
    })?;
    rows.collect()
}
