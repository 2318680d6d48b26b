//! Durable queue jobs. A job is `queued` until a dispatcher claims it (`processing`, with a lease
//! in `locked_until`), then `completed`, `failed` (retries exhausted: dead-letter) or `cancelled`.
//! A lease that runs out makes the job claimable again (at-least-once delivery).

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use crate::util::iso_ms;

pub const STATUSES: [&str; 5] = ["queued", "processing", "completed", "failed", "cancelled"];

#[derive(Clone, Debug)]
pub struct JobRow {
    pub id: String,
    pub project_id: String,
    pub job_type: String,
    /// JSON text.
    pub data: String,
    pub status: String,
    pub attempts: i64,
    pub max_retries: i64,
    pub run_at: i64,
    pub locked_until: Option<i64>,
    pub last_error: Option<String>,
    /// JSON text.
    pub result: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "id, project_id, type, data, status, attempts, max_retries, run_at, locked_until, last_error, result, created_at, updated_at";

fn row(r: &Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: r.get(0)?,
        project_id: r.get(1)?,
        job_type: r.get(2)?,
        data: r.get(3)?,
        status: r.get(4)?,
        attempts: r.get(5)?,
        max_retries: r.get(6)?,
        run_at: r.get(7)?,
        locked_until: r.get(8)?,
        last_error: r.get(9)?,
        result: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

fn parse_json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

impl JobRow {
    /// The wire `JobRecord`.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.job_type,
            "data": parse_json(&self.data),
            "status": self.status,
            "projectId": self.project_id,
            "createdAt": iso_ms(self.created_at),
            "updatedAt": iso_ms(self.updated_at),
            "runAt": iso_ms(self.run_at),
            "attempts": self.attempts,
            "maxRetries": self.max_retries,
            "lastError": self.last_error,
            "result": self.result.as_deref().map(parse_json),
        })
    }
}

pub fn insert(conn: &Connection, j: &JobRow) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO jobs ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    ))?
    .execute(params![
        j.id,
        j.project_id,
        j.job_type,
        j.data,
        j.status,
        j.attempts,
        j.max_retries,
        j.run_at,
        j.locked_until,
        j.last_error,
        j.result,
        j.created_at,
        j.updated_at
    ])?;
    Ok(())
}

pub fn get(conn: &Connection, project_id: &str, id: &str) -> rusqlite::Result<Option<JobRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLS} FROM jobs WHERE project_id = ?1 AND id = ?2"
    ))?
    .query_row([project_id, id], row)
    .optional()
}

/// Newest first, strictly after the `(created_at, id)` cursor.
pub fn list(
    conn: &Connection,
    project_id: &str,
    status: Option<&str>,
    job_type: Option<&str>,
    limit: i64,
    after: Option<(i64, String)>,
) -> rusqlite::Result<Vec<JobRow>> {
    let (c_at, c_id) = match &after {
        Some((t, id)) => (Some(*t), Some(id.as_str())),
        None => (None, None),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM jobs WHERE project_id = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR type = ?3)
         AND (?4 IS NULL OR created_at < ?4 OR (created_at = ?4 AND id < ?5))
         ORDER BY created_at DESC, id DESC LIMIT ?6"
    ))?;
    let rows = stmt.query_map(
        params![project_id, status, job_type, c_at, c_id, limit],
        row,
    )?;
    rows.collect()
}

/// Cancel a queued job. `Ok(Err(status))` tells the status that prevented it; `Ok(Ok(()))` done.
pub fn cancel(
    conn: &Connection,
    project_id: &str,
    id: &str,
    now: i64,
) -> rusqlite::Result<Option<Result<(), String>>> {
    let n = conn.execute(
        "UPDATE jobs SET status = 'cancelled', updated_at = ?3 WHERE project_id = ?1 AND id = ?2 AND status = 'queued'",
        params![project_id, id, now],
    )?;
    if n > 0 {
        return Ok(Some(Ok(())));
    }
    Ok(get(conn, project_id, id)?.map(|j| Err(j.status)))
}

/// Run a dead-lettered (`failed`) or `cancelled` job again (the dashboard's Queue page): queued
/// now, with its retry budget renewed (`max_retries` more retries after this run); its earlier
/// runs stay in its history. `Ok(Err(status))` tells the status that prevented it.
pub fn retry(
    conn: &Connection,
    project_id: &str,
    id: &str,
    now: i64,
) -> rusqlite::Result<Option<Result<(), String>>> {
    let n = conn.execute(
        "UPDATE jobs SET status = 'queued', run_at = ?3, updated_at = ?3, locked_until = NULL, locked_by = NULL,
            max_retries = attempts + max_retries
         WHERE project_id = ?1 AND id = ?2 AND status IN ('failed', 'cancelled')",
        params![project_id, id, now],
    )?;
    if n > 0 {
        return Ok(Some(Ok(())));
    }
    Ok(get(conn, project_id, id)?.map(|j| Err(j.status)))
}

/// How many jobs of a project are in each status.
pub fn counts(conn: &Connection, project_id: &str) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT status, count(*) FROM jobs WHERE project_id = ?1 GROUP BY status ORDER BY status",
    )?;
    let rows = stmt.query_map([project_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Claim up to `limit` due jobs for `worker` (queued and due, or processing with an expired
/// lease), optionally only of the given types. Each claim counts one attempt.
pub fn claim_due(
    conn: &Connection,
    project_id: &str,
    types: &[String],
    worker: &str,
    lease_ms: i64,
    limit: i64,
    now: i64,
) -> rusqlite::Result<Vec<JobRow>> {
    let types_json = serde_json::to_string(types).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(&format!(
        "UPDATE jobs SET status = 'processing', locked_until = ?3, locked_by = ?4, attempts = attempts + 1, updated_at = ?2
         WHERE id IN (
            SELECT id FROM jobs WHERE project_id = ?1
              AND ((status = 'queued' AND run_at <= ?2) OR (status = 'processing' AND locked_until < ?2))
              AND (json_array_length(?5) = 0 OR type IN (SELECT value FROM json_each(?5)))
            ORDER BY run_at, created_at LIMIT ?6)
         RETURNING {COLS}"
    ))?;
    let rows: Vec<JobRow> = stmt
        .query_map(params![project_id, now, now + lease_ms, worker, types_json, limit], row)?
        .collect::<rusqlite::Result<_>>()?;
    for j in &rows {
        // A run still open belongs to a worker whose lease ran out: it never answered.
        close_attempt(conn, &j.id, "abandoned", Some("no answer before the lease ran out"), now)?;
        conn.prepare_cached("INSERT OR REPLACE INTO job_attempts (job_id, attempt, started_at) VALUES (?1, ?2, ?3)")?
            .execute(params![j.id, j.attempts, now])?;
    }
    Ok(rows)
}

/// Ends the open run of `job_id`, if any.
fn close_attempt(conn: &Connection, job_id: &str, outcome: &str, error: Option<&str>, now: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE job_attempts SET ended_at = ?2, outcome = ?3, error = ?4 WHERE job_id = ?1 AND ended_at IS NULL")?
        .execute(params![job_id, now, outcome, error])?;
    Ok(())
}

/// Every run of a job, oldest first: `{attempt, startedAt, endedAt, outcome, error}` (outcome
/// `completed`, `failed`, `abandoned`, or null while it runs).
pub fn history(conn: &Connection, job_id: &str) -> rusqlite::Result<Vec<Value>> {
    let mut stmt = conn.prepare_cached(
        "SELECT attempt, started_at, ended_at, outcome, error FROM job_attempts WHERE job_id = ?1 ORDER BY attempt",
    )?;
    let rows = stmt.query_map([job_id], |r| {
        Ok(json!({
            "attempt": r.get::<_, i64>(0)?,
            "startedAt": iso_ms(r.get(1)?),
            "endedAt": r.get::<_, Option<i64>>(2)?.map(iso_ms),
            "outcome": r.get::<_, Option<String>>(3)?,
            "error": r.get::<_, Option<String>>(4)?,
        }))
    })?;
    rows.collect()
}

/// Record a handler's result for the claim `claim` (the `worker` given to [`claim_due`]); an
/// outdated claim (the lease ran out and the job was claimed again) changes nothing.
pub fn complete(
    conn: &Connection,
    id: &str,
    claim: &str,
    result: &Value,
    now: i64,
) -> rusqlite::Result<bool> {
    let done = conn.execute(
        "UPDATE jobs SET status = 'completed', result = ?2, last_error = NULL, locked_until = NULL, updated_at = ?3
         WHERE id = ?1 AND status = 'processing' AND locked_by = ?4",
        params![id, result.to_string(), now, claim],
    )? > 0;
    if done {
        close_attempt(conn, id, "completed", None, now)?;
    }
    Ok(done)
}

/// Record a failure: back to `queued` at `retry_at` while attempts remain (attempts counts the
/// first run, so a job runs at most `max_retries + 1` times), else `failed`.
/// Only the current `claim` counts, as for [`complete`].
pub fn fail(
    conn: &Connection,
    id: &str,
    claim: &str,
    error: &str,
    retry_at: i64,
    now: i64,
) -> rusqlite::Result<Option<String>> {
    let status: Option<String> = conn
        .query_row(
            "UPDATE jobs SET last_error = ?2, locked_until = NULL, updated_at = ?4,
                status = CASE WHEN attempts <= max_retries THEN 'queued' ELSE 'failed' END,
                run_at = CASE WHEN attempts <= max_retries THEN ?3 ELSE run_at END
             WHERE id = ?1 AND status = 'processing' AND locked_by = ?5 RETURNING status",
            params![id, error, retry_at, now, claim],
            |r| r.get(0),
        )
        .optional()?;
    if status.is_some() {
        close_attempt(conn, id, "failed", Some(error), now)?;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, at: i64) -> JobRow {
        JobRow {
            id: id.into(),
            project_id: "p".into(),
            job_type: "email".into(),
            data: "{}".into(),
            status: "queued".into(),
            attempts: 0,
            max_retries: 1,
            run_at: at,
            locked_until: None,
            last_error: None,
            result: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn claim_retry_dead_letter() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::store::control::Control::open(dir.path()).unwrap();
        let db = c.pool.get().unwrap();
        insert(&db.conn, &job("a", 10)).unwrap();
        insert(&db.conn, &job("b", 1000)).unwrap();
        let got = claim_due(&db.conn, "p", &[], "w", 100, 10, 20).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].attempts, 1);
        assert_eq!(
            fail(&db.conn, "a", "w", "boom", 30, 25).unwrap().as_deref(),
            Some("queued")
        );
        let got = claim_due(&db.conn, "p", &["email".into()], "w", 100, 10, 40).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            fail(&db.conn, "a", "w", "boom", 50, 45).unwrap().as_deref(),
            Some("failed")
        );
        assert_eq!(
            claim_due(&db.conn, "p", &["other".into()], "w", 100, 10, 2000)
                .unwrap()
                .len(),
            0
        );
        let got = claim_due(&db.conn, "p", &[], "w", 100, 10, 2000).unwrap();
        assert!(
            complete(
                &db.conn,
                &got[0].id,
                "w",
                &serde_json::json!({"ok": true}),
                2001
            )
            .unwrap()
        );
        let page = list(&db.conn, "p", None, None, 1, None).unwrap();
        assert_eq!(page[0].id, "b");
        let page2 = list(
            &db.conn,
            "p",
            None,
            None,
            5,
            Some((page[0].created_at, page[0].id.clone())),
        )
        .unwrap();
        assert_eq!(page2.len(), 1);
        assert_eq!(page2[0].id, "a");
    }

    #[test]
    fn retry_a_dead_letter() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::store::control::Control::open(dir.path()).unwrap();
        let db = c.pool.get().unwrap();
        let mut j = job("a", 10);
        j.max_retries = 0;
        insert(&db.conn, &j).unwrap();
        assert_eq!(retry(&db.conn, "p", "a", 11).unwrap(), Some(Err("queued".into())));
        claim_due(&db.conn, "p", &[], "w", 100, 10, 20).unwrap();
        assert_eq!(fail(&db.conn, "a", "w", "boom", 30, 25).unwrap().as_deref(), Some("failed"));
        assert_eq!(retry(&db.conn, "p", "a", 40).unwrap(), Some(Ok(())));
        assert_eq!(retry(&db.conn, "p", "nope", 40).unwrap(), None);
        let got = claim_due(&db.conn, "p", &[], "w2", 100, 10, 41).unwrap();
        assert_eq!((got.len(), got[0].attempts), (1, 2));
        // One more run (max_retries was 0): failing again dead-letters it again.
        assert_eq!(fail(&db.conn, "a", "w2", "boom", 50, 45).unwrap().as_deref(), Some("failed"));
        assert_eq!(history(&db.conn, "a").unwrap().len(), 2);
        assert_eq!(counts(&db.conn, "p").unwrap(), vec![("failed".to_string(), 1)]);
    }
}
