//! The control database (`<data_dir>/control.sqlite`): projects and their keys, secrets, the
//! outbox, and every per-project platform table (users, tokens, jobs, objects, search documents,
//! cache persistence, realtime history). Every row carries its `project_id`.
//!
//! The CLI opens the same file while a server runs (WAL mode), so nothing here assumes it is the
//! only writer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use super::pool::Pool;
use crate::error::ServerError;
use crate::util::{iso_ms, now_ms, random_hex};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    key TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id), created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS api_keys_project ON api_keys(project_id, created_at);
CREATE TABLE IF NOT EXISTS secrets (
    project_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cache_entries (
    project_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER,
    PRIMARY KEY (project_id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, email TEXT, email_lower TEXT, phone TEXT,
    password_hash TEXT, name TEXT, profile_extras TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}', avatar_url TEXT, avatar_image_id TEXT,
    email_verified_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users(project_id, email_lower) WHERE email_lower IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS users_phone ON users(project_id, phone) WHERE phone IS NOT NULL;
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked_at INTEGER);
CREATE INDEX IF NOT EXISTS refresh_tokens_user ON refresh_tokens(user_id);
CREATE TABLE IF NOT EXISTS revoked_jtis (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS otp_codes (
    project_id TEXT NOT NULL, identifier TEXT NOT NULL, code_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, identifier)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS auth_tokens (
    token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL, used_at INTEGER);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, to_addr TEXT NOT NULL, kind TEXT NOT NULL,
    subject TEXT NOT NULL, body TEXT NOT NULL, code TEXT, token TEXT, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_project ON outbox(project_id, created_at);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, max_retries INTEGER NOT NULL,
    run_at INTEGER NOT NULL, locked_until INTEGER, locked_by TEXT, last_error TEXT, result TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_project ON jobs(project_id, created_at, id);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(status, run_at);
CREATE TABLE IF NOT EXISTS job_attempts (
    job_id TEXT NOT NULL, attempt INTEGER NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER,
    outcome TEXT, error TEXT, PRIMARY KEY (job_id, attempt)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
    project_id TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
    content_type TEXT NOT NULL, etag TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    private INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search_docs (
    project_id TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, content TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', embedding BLOB NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_docs_type ON search_docs(project_id, type);
CREATE TABLE IF NOT EXISTS search_config (project_id TEXT PRIMARY KEY, embedding_model TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS realtime_messages (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, room_id TEXT NOT NULL, user_id TEXT,
    event TEXT NOT NULL, data TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS realtime_room ON realtime_messages(project_id, room_id, created_at);
"#;

pub const DEFAULT_SLUG: &str = "default";

/// A project as stored (the key is looked up separately).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectRec {
    pub id: String,
    pub slug: String,
    pub name: String,
}

/// The control database of one data directory.
pub struct Control {
    pub pool: Arc<Pool>,
    pub data_dir: PathBuf,
}

impl Control {
    /// Open `<data_dir>/control.sqlite`, creating the directory, the schema, the JWT secret and the
    /// default project when missing.
    pub fn open(data_dir: &Path) -> Result<Control, ServerError> {
        std::fs::create_dir_all(data_dir).map_err(|e| ServerError::io(data_dir, e))?;
        let pool = Pool::open(&data_dir.join("control.sqlite"), false)?;
        {
            let db = pool.get()?;
            db.conn.execute_batch(SCHEMA)?;
            db.conn.execute_batch(crate::store::rules::SCHEMA)?;
            migrate(&db.conn)?;
            db.conn.execute_batch(super::gateway::SCHEMA)?;
            db.conn.pragma_update(None, "user_version", 1)?;
            ensure_default_project(&db.conn)?;
        }
        Ok(Control {
            pool,
            data_dir: data_dir.to_path_buf(),
        })
    }

    /// Run `f` on a pooled connection (blocking).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, ServerError>,
    ) -> Result<T, ServerError> {
        let db = self.pool.get()?;
        f(&db.conn)
    }
}

/// Columns added after a data directory may have been created.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    // A refresh token's family: the login it descends from through rotations (NULL: its own).
    let has_family: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('refresh_tokens') WHERE name = 'family'",
        [],
        |r| r.get(0),
    )?;
    if !has_family {
        conn.execute_batch("ALTER TABLE refresh_tokens ADD COLUMN family TEXT")?;
    }
    // A private object is served only through signed URLs.
    let has_private: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('objects') WHERE name = 'private'",
        [],
        |r| r.get(0),
    )?;
    if !has_private {
        conn.execute_batch("ALTER TABLE objects ADD COLUMN private INTEGER NOT NULL DEFAULT 0")?;
    }
    // A disabled end user (dashboard's Auth page) gets no tokens (users::is_disabled).
    let has_disabled: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('users') WHERE name = 'disabled_at'",
        [],
        |r| r.get(0),
    )?;
    if !has_disabled {
        conn.execute_batch("ALTER TABLE users ADD COLUMN disabled_at INTEGER")?;
    }
    Ok(())
}

/// The per-data-dir secret that signs access tokens (created once, kept across restarts).
pub fn jwt_secret(conn: &Connection) -> rusqlite::Result<String> {
    if let Some(s) = conn
        .query_row("SELECT value FROM meta WHERE key = 'jwt_secret'", [], |r| {
            r.get(0)
        })
        .optional()?
    {
        return Ok(s);
    }
    let secret = random_hex(32);
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('jwt_secret', ?1)",
        [&secret],
    )?;
    // Another process may have won the race: read back what is stored.
    conn.query_row("SELECT value FROM meta WHERE key = 'jwt_secret'", [], |r| {
        r.get(0)
    })
}

fn row_project(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProjectRec> {
    Ok(ProjectRec {
        id: r.get(0)?,
        slug: r.get(1)?,
        name: r.get(2)?,
    })
}

/// The default project, created with one key on first use of a data directory.
pub fn ensure_default_project(conn: &Connection) -> Result<ProjectRec, ServerError> {
    if let Some(p) = conn
        .query_row(
            "SELECT id, slug, name FROM projects WHERE is_default = 1",
            [],
            row_project,
        )
        .optional()?
    {
        if first_key(conn, &p.id)?.is_none() {
            create_key(conn, &p.id)?;
        }
        return Ok(p);
    }
    let rec = ProjectRec {
        id: new_project_id(),
        slug: DEFAULT_SLUG.to_string(),
        name: "Default project".to_string(),
    };
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO projects (id, slug, name, is_default, created_at) VALUES (?1, ?2, ?3, 1, ?4)",
        params![rec.id, rec.slug, rec.name, now_ms()],
    )?;
    create_key(&tx, &rec.id)?;
    tx.commit()?;
    Ok(rec)
}

pub fn default_project(conn: &Connection) -> Result<ProjectRec, ServerError> {
    Ok(conn.query_row(
        "SELECT id, slug, name FROM projects WHERE is_default = 1",
        [],
        row_project,
    )?)
}

fn new_project_id() -> String {
    format!("proj_{}", random_hex(6))
}

/// `My App!` -> `my-app`.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for ch in name.trim().chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "project".to_string()
    } else {
        out
    }
}

fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && !s.starts_with("proj_")
}

/// Create a project with one API key. `slug` defaults to the slugified name (made unique).
pub fn create_project(
    conn: &Connection,
    name: &str,
    slug: Option<&str>,
) -> Result<(ProjectRec, String), ServerError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServerError::Invalid(
            "a project needs a non-empty name".into(),
        ));
    }
    let slug = match slug {
        Some(s) => {
            if !valid_slug(s) {
                return Err(ServerError::Invalid(format!(
                    "invalid slug {s:?}: use 1-64 lowercase letters, digits, '-' or '_' (and not the prefix proj_)"
                )));
            }
            if find_project(conn, s)?.is_some() {
                return Err(ServerError::Invalid(format!(
                    "a project with slug {s:?} already exists"
                )));
            }
            s.to_string()
        }
        None => {
            let base = slugify(name);
            let mut candidate = base.clone();
            let mut n = 2;
            while find_project(conn, &candidate)?.is_some() {
                candidate = format!("{base}-{n}");
                n += 1;
            }
            candidate
        }
    };
    let rec = ProjectRec {
        id: new_project_id(),
        slug,
        name: name.to_string(),
    };
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO projects (id, slug, name, is_default, created_at) VALUES (?1, ?2, ?3, 0, ?4)",
        params![rec.id, rec.slug, rec.name, now_ms()],
    )?;
    let key = create_key(&tx, &rec.id)?;
    tx.commit()?;
    Ok((rec, key))
}

/// A project by id or slug.
pub fn find_project(conn: &Connection, id_or_slug: &str) -> rusqlite::Result<Option<ProjectRec>> {
    conn.prepare_cached("SELECT id, slug, name FROM projects WHERE id = ?1 OR slug = ?1")?
        .query_row([id_or_slug], row_project)
        .optional()
}

pub fn project_for_key(conn: &Connection, key: &str) -> rusqlite::Result<Option<ProjectRec>> {
    conn.prepare_cached(
        "SELECT p.id, p.slug, p.name FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE k.key = ?1",
    )?
    .query_row([key], row_project)
    .optional()
}

/// Projects with their creation time, default first.
pub fn list_projects(conn: &Connection) -> rusqlite::Result<Vec<(ProjectRec, bool, String)>> {
    let mut stmt = conn.prepare("SELECT id, slug, name, is_default, created_at FROM projects ORDER BY is_default DESC, created_at")?;
    let rows = stmt.query_map([], |r| {
        Ok((row_project(r)?, r.get::<_, i64>(3)? == 1, iso_ms(r.get(4)?)))
    })?;
    rows.collect()
}

pub fn create_key(conn: &Connection, project_id: &str) -> rusqlite::Result<String> {
    let key = format!("ac_secret_{}", random_hex(16));
    conn.execute(
        "INSERT INTO api_keys (key, project_id, created_at) VALUES (?1, ?2, ?3)",
        params![key, project_id, now_ms()],
    )?;
    Ok(key)
}

pub fn first_key(conn: &Connection, project_id: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT key FROM api_keys WHERE project_id = ?1 ORDER BY created_at, key LIMIT 1",
        [project_id],
        |r| r.get(0),
    )
    .optional()
}

/// `(key, project id, project slug, created_at)` rows, optionally for one project.
pub fn list_keys(
    conn: &Connection,
    project_id: Option<&str>,
) -> rusqlite::Result<Vec<(String, String, String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT k.key, p.id, p.slug, k.created_at FROM api_keys k JOIN projects p ON p.id = k.project_id
         WHERE ?1 IS NULL OR p.id = ?1 ORDER BY p.created_at, k.created_at",
    )?;
    let rows = stmt.query_map([project_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, iso_ms(r.get(3)?)))
    })?;
    rows.collect()
}

/// Delete an API key; false when there is no such key. The last key of a project cannot go
/// (the project would be unreachable): `Err` says so.
pub fn revoke_key(conn: &Connection, key: &str) -> Result<bool, ServerError> {
    let Some(project_id): Option<String> = conn
        .query_row("SELECT project_id FROM api_keys WHERE key = ?1", [key], |r| r.get(0))
        .optional()?
    else {
        return Ok(false);
    };
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM api_keys WHERE project_id = ?1",
        [&project_id],
        |r| r.get(0),
    )?;
    if n <= 1 {
        return Err(ServerError::Invalid(
            "this is the project's only API key: create another one first, then revoke this one"
                .into(),
        ));
    }
    conn.execute("DELETE FROM api_keys WHERE key = ?1", [key])?;
    Ok(true)
}

// ---- secrets -------------------------------------------------------------------------------

pub fn set_secret(
    conn: &Connection,
    project_id: &str,
    key: &str,
    value: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO secrets (project_id, key, value, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )?
    .execute(params![project_id, key, value, now_ms()])?;
    Ok(())
}

pub fn get_secret(
    conn: &Connection,
    project_id: &str,
    key: &str,
) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM secrets WHERE project_id = ?1 AND key = ?2")?
        .query_row([project_id, key], |r| r.get(0))
        .optional()
}

pub fn delete_secret(conn: &Connection, project_id: &str, key: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM secrets WHERE project_id = ?1 AND key = ?2",
        [project_id, key],
    )? > 0)
}

pub fn list_secrets(conn: &Connection, project_id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT key FROM secrets WHERE project_id = ?1 ORDER BY key")?;
    let rows = stmt.query_map([project_id], |r| r.get(0))?;
    rows.collect()
}

/// A secret name: what `.dev.vars` and environment variables allow, plus `.` and `-`.
pub fn valid_secret_name(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 256
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("My App!"), "my-app");
        assert_eq!(slugify("  --  "), "project");
        assert!(valid_slug("shop-2"));
        assert!(!valid_slug("Shop"));
    }

    #[test]
    fn default_project_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let a = Control::open(dir.path()).unwrap();
        let p1 = a.with(default_project).unwrap();
        let k1 = a.with(|c| Ok(first_key(c, &p1.id)?)).unwrap();
        drop(a);
        let b = Control::open(dir.path()).unwrap();
        let p2 = b.with(default_project).unwrap();
        assert_eq!(p1, p2);
        assert_eq!(k1, b.with(|c| Ok(first_key(c, &p2.id)?)).unwrap());
        let (p, key) = b.with(|c| create_project(c, "Shop", None)).unwrap();
        assert_eq!(p.slug, "shop");
        let (p2, _) = b.with(|c| create_project(c, "Shop", None)).unwrap();
        assert_eq!(p2.slug, "shop-2");
        assert_eq!(
            b.with(|c| Ok(project_for_key(c, &key)?))
                .unwrap()
                .unwrap()
                .id,
            p.id
        );
    }
}
