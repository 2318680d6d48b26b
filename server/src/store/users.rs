//! End users of a project and their credentials: refresh tokens (hashed), revoked access-token
//! ids, one-time codes and single-use link tokens (email verification, password reset).

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use crate::util::{iso_ms, sha256_hex};

#[derive(Clone, Debug, Default)]
pub struct UserRow {
    pub id: String,
    pub project_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password_hash: Option<String>,
    pub name: Option<String>,
    pub profile_extras: Value,
    pub metadata: Value,
    pub avatar_url: Option<String>,
    pub avatar_image_id: Option<String>,
    pub email_verified_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl UserRow {
    /// The user as the public auth routes answer it: snake_case wire fields plus the camelCase
    /// fields of the core SDK's `User` type.
    pub fn public_json(&self) -> Value {
        json!({
            "id": self.id,
            "email": self.email,
            "phone": self.phone,
            "name": self.name,
            "email_verified_at": self.email_verified_at.map(iso_ms),
            "emailVerified": self.email_verified_at.is_some(),
            "profile_extras": self.profile_extras,
            "customFields": self.profile_extras,
            "avatar_url": self.avatar_url,
            "avatar_image_id": self.avatar_image_id,
            "metadata": self.metadata,
            "created_at": iso_ms(self.created_at),
            "createdAt": iso_ms(self.created_at),
            "updated_at": iso_ms(self.updated_at),
        })
    }

    /// The OpenAPI `User` of `/v1/auth/signup|signin`.
    pub fn legacy_json(&self) -> Value {
        json!({
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "createdAt": iso_ms(self.created_at),
            "metadata": self.metadata,
        })
    }
}

const COLS: &str = "id, project_id, email, phone, password_hash, name, profile_extras, metadata, avatar_url, avatar_image_id, email_verified_at, created_at, updated_at";

fn row(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    let extras: String = r.get(6)?;
    let meta: String = r.get(7)?;
    Ok(UserRow {
        id: r.get(0)?,
        project_id: r.get(1)?,
        email: r.get(2)?,
        phone: r.get(3)?,
        password_hash: r.get(4)?,
        name: r.get(5)?,
        profile_extras: serde_json::from_str(&extras).unwrap_or_else(|_| json!({})),
        metadata: serde_json::from_str(&meta).unwrap_or_else(|_| json!({})),
        avatar_url: r.get(8)?,
        avatar_image_id: r.get(9)?,
        email_verified_at: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

pub fn by_email(
    conn: &Connection,
    project_id: &str,
    email: &str,
) -> rusqlite::Result<Option<UserRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLS} FROM users WHERE project_id = ?1 AND email_lower = lower(?2)"
    ))?
    .query_row([project_id, email], row)
    .optional()
}

pub fn by_phone(
    conn: &Connection,
    project_id: &str,
    phone: &str,
) -> rusqlite::Result<Option<UserRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLS} FROM users WHERE project_id = ?1 AND phone = ?2"
    ))?
    .query_row([project_id, phone], row)
    .optional()
}

pub fn by_id(conn: &Connection, project_id: &str, id: &str) -> rusqlite::Result<Option<UserRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLS} FROM users WHERE project_id = ?1 AND id = ?2"
    ))?
    .query_row([project_id, id], row)
    .optional()
}

/// Insert; `false` when the email (or phone) is already taken in the project.
pub fn insert(conn: &Connection, u: &UserRow) -> rusqlite::Result<bool> {
    let r = conn.execute(
        &format!("INSERT INTO users ({COLS}, email_lower) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, lower(?3))"),
        params![
            u.id,
            u.project_id,
            u.email,
            u.phone,
            u.password_hash,
            u.name,
            u.profile_extras.to_string(),
            u.metadata.to_string(),
            u.avatar_url,
            u.avatar_image_id,
            u.email_verified_at,
            u.created_at,
            u.updated_at
        ],
    );
    match r {
        Ok(_) => Ok(true),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

pub fn set_password(conn: &Connection, id: &str, hash: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, hash, now],
    )?;
    Ok(())
}

pub fn mark_verified(conn: &Connection, id: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET email_verified_at = coalesce(email_verified_at, ?2), updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Write the profile fields of `u` (name, avatar, extras).
pub fn save_profile(conn: &Connection, u: &UserRow, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET name = ?2, avatar_url = ?3, avatar_image_id = ?4, profile_extras = ?5, updated_at = ?6 WHERE id = ?1",
        params![u.id, u.name, u.avatar_url, u.avatar_image_id, u.profile_extras.to_string(), now],
    )?;
    Ok(())
}

// ---- refresh tokens ------------------------------------------------------------------------

#[derive(Debug)]
pub struct RefreshRow {
    pub project_id: String,
    pub user_id: String,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// The family (the login this token descends from through rotations).
    pub family: String,
}

/// Store a refresh token; `family` is the family it joins (a rotation), `None` starts one.
pub fn insert_refresh(
    conn: &Connection,
    token: &str,
    project_id: &str,
    user_id: &str,
    now: i64,
    expires_at: i64,
    family: Option<&str>,
) -> rusqlite::Result<()> {
    let hash = sha256_hex(token.as_bytes());
    let family = family.map_or_else(|| hash.clone(), str::to_string);
    conn.prepare_cached(
        "INSERT INTO refresh_tokens (token_hash, project_id, user_id, created_at, expires_at, family) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![hash, project_id, user_id, now, expires_at, family])?;
    Ok(())
}

pub fn get_refresh(conn: &Connection, token: &str) -> rusqlite::Result<Option<RefreshRow>> {
    conn.prepare_cached("SELECT project_id, user_id, expires_at, revoked_at, coalesce(family, token_hash) FROM refresh_tokens WHERE token_hash = ?1")?
        .query_row([sha256_hex(token.as_bytes())], |r| {
            Ok(RefreshRow { project_id: r.get(0)?, user_id: r.get(1)?, expires_at: r.get(2)?, revoked_at: r.get(3)?, family: r.get(4)? })
        })
        .optional()
}

/// Revoke every live token of a family: a rotated-out token was presented again, so it leaked
/// (the thief's or the owner's copy; either way the family must log in again).
pub fn revoke_refresh_family(conn: &Connection, family: &str, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ?2 WHERE coalesce(family, token_hash) = ?1 AND revoked_at IS NULL",
        params![family, now],
    )
}

/// Revoke one token; `false` if it was unknown or already revoked (a lost race on rotation).
pub fn revoke_refresh(conn: &Connection, token: &str, now: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
        params![sha256_hex(token.as_bytes()), now],
    )? > 0)
}

pub fn revoke_user_refresh(conn: &Connection, user_id: &str, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
        params![user_id, now],
    )
}

pub fn revoke_jti(conn: &Connection, jti: &str, expires_at: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO revoked_jtis (jti, expires_at) VALUES (?1, ?2)",
        params![jti, expires_at],
    )?;
    Ok(())
}

pub fn jti_revoked(conn: &Connection, jti: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM revoked_jtis WHERE jti = ?1")?
        .exists([jti])
}

/// Forget revocations and tokens that have expired anyway.
pub fn purge_expired(conn: &Connection, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM revoked_jtis WHERE expires_at < ?1",
        [now / 1000],
    )?;
    conn.execute("DELETE FROM refresh_tokens WHERE expires_at < ?1", [now])?;
    conn.execute("DELETE FROM otp_codes WHERE expires_at < ?1", [now])?;
    conn.execute("DELETE FROM auth_tokens WHERE expires_at < ?1", [now])?;
    Ok(())
}

// ---- operator actions (the dashboard's Auth page) --------------------------------------------

/// A page of a project's users, newest first.
pub fn list(
    conn: &Connection,
    project_id: &str,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<Vec<(UserRow, Option<i64>)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS}, disabled_at FROM users WHERE project_id = ?1 ORDER BY created_at DESC, id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![project_id, limit, offset], |r| Ok((row(r)?, r.get(13)?)))?;
    rows.collect()
}

/// Whether the operator disabled `user_id` (a disabled user gets no tokens, and the access tokens
/// it holds stop working).
pub fn is_disabled(conn: &Connection, user_id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM users WHERE id = ?1 AND disabled_at IS NOT NULL")?
        .exists([user_id])
}

/// Disable (ending its sessions: refresh tokens revoked) or enable a user; false when unknown.
pub fn set_disabled(
    conn: &Connection,
    project_id: &str,
    user_id: &str,
    disabled: bool,
    now: i64,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE users SET disabled_at = CASE WHEN ?3 THEN ?4 ELSE NULL END, updated_at = ?4 WHERE project_id = ?1 AND id = ?2",
        params![project_id, user_id, disabled, now],
    )?;
    if n > 0 && disabled {
        revoke_user_refresh(conn, user_id, now)?;
    }
    Ok(n > 0)
}

/// Delete a user with its refresh tokens and one-time links; false when unknown.
pub fn delete(conn: &Connection, project_id: &str, user_id: &str) -> rusqlite::Result<bool> {
    let tx = conn.unchecked_transaction()?;
    let n = tx.execute(
        "DELETE FROM users WHERE project_id = ?1 AND id = ?2",
        [project_id, user_id],
    )?;
    tx.execute("DELETE FROM refresh_tokens WHERE user_id = ?1", [user_id])?;
    tx.execute("DELETE FROM auth_tokens WHERE user_id = ?1", [user_id])?;
    tx.commit()?;
    Ok(n > 0)
}

// ---- one-time codes ------------------------------------------------------------------------

pub struct OtpRow {
    pub code_hash: String,
    pub expires_at: i64,
    pub attempts: i64,
}

pub fn put_otp(
    conn: &Connection,
    project_id: &str,
    ident: &str,
    code: &str,
    expires_at: i64,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO otp_codes (project_id, identifier, code_hash, expires_at, attempts, created_at) VALUES (?1, ?2, ?3, ?4, 0, ?5)
         ON CONFLICT (project_id, identifier) DO UPDATE SET code_hash = excluded.code_hash,
           expires_at = excluded.expires_at, attempts = 0, created_at = excluded.created_at",
        params![project_id, ident, sha256_hex(code.as_bytes()), expires_at, now],
    )?;
    Ok(())
}

pub fn get_otp(
    conn: &Connection,
    project_id: &str,
    ident: &str,
) -> rusqlite::Result<Option<OtpRow>> {
    conn.query_row(
        "SELECT code_hash, expires_at, attempts FROM otp_codes WHERE project_id = ?1 AND identifier = ?2",
        [project_id, ident],
        |r| Ok(OtpRow { code_hash: r.get(0)?, expires_at: r.get(1)?, attempts: r.get(2)? }),
    )
    .optional()
}

pub fn bump_otp(conn: &Connection, project_id: &str, ident: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        "UPDATE otp_codes SET attempts = attempts + 1 WHERE project_id = ?1 AND identifier = ?2 RETURNING attempts",
        [project_id, ident],
        |r| r.get(0),
    )
}

pub fn delete_otp(conn: &Connection, project_id: &str, ident: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM otp_codes WHERE project_id = ?1 AND identifier = ?2",
        [project_id, ident],
    )?;
    Ok(())
}

// ---- link tokens (verify / reset) ----------------------------------------------------------

pub fn put_link_token(
    conn: &Connection,
    token: &str,
    kind: &str,
    project_id: &str,
    user_id: &str,
    expires_at: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO auth_tokens (token_hash, kind, project_id, user_id, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sha256_hex(token.as_bytes()), kind, project_id, user_id, expires_at],
    )?;
    Ok(())
}

pub enum LinkToken {
    Valid { user_id: String },
    Expired,
    Invalid,
}

/// Consume a link token of `kind` for `project_id` (single use).
pub fn use_link_token(
    conn: &Connection,
    token: &str,
    kind: &str,
    project_id: &str,
    now: i64,
) -> rusqlite::Result<LinkToken> {
    let hash = sha256_hex(token.as_bytes());
    let found: Option<(String, i64, Option<i64>)> = conn
        .query_row(
            "SELECT user_id, expires_at, used_at FROM auth_tokens WHERE token_hash = ?1 AND kind = ?2 AND project_id = ?3",
            params![hash, kind, project_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match found {
        None | Some((_, _, Some(_))) => LinkToken::Invalid,
        Some((_, exp, None)) if exp <= now => LinkToken::Expired,
        Some((user_id, _, None)) => {
            conn.execute(
                "UPDATE auth_tokens SET used_at = ?2 WHERE token_hash = ?1",
                params![hash, now],
            )?;
            LinkToken::Valid { user_id }
        }
    })
}
