//! `GET /api/v1/public/realtime/history?room=&limit=&before=&since=`: persisted realtime messages
//! of a room, newest first (or oldest first after `since`). Authorised by the project key, or by an end-user access token of the
//! project (`Authorization: Bearer <jwt>`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use rusqlite::params;
use serde_json::{Value, json};

use crate::error::{ApiError, code};
use crate::keys::{KEY_HELP, key_candidates};
use crate::state::AppState;
use crate::store::control::{self, ProjectRec};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

async fn project(st: &AppState, headers: &HeaderMap) -> Result<Arc<ProjectRec>, ApiError> {
    let key_err = match st.project_from_headers(headers).await {
        Ok(p) => return Ok(p),
        Err(e) => e,
    };
    let Some(token) = key_candidates(headers)[2] else {
        return Err(key_err);
    };
    let Ok(claims) = st.jwt.verify(token) else {
        return Err(key_err);
    };
    crate::auth::still_valid(st, &claims).await?;
    let pid = claims.pid.clone();
    st.control(move |c| Ok(control::find_project(c, &pid)?))
        .await?
        .map(Arc::new)
        .ok_or_else(|| {
            ApiError::unauthorized(
                code::AUTH_INVALID_KEY,
                format!("the token's project no longer exists: {KEY_HELP}"),
            )
        })
}

pub async fn history(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let p = project(&st, &headers).await?;
    let q: HashMap<String, String> = Query::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    let room = q.get("room").filter(|r| !r.is_empty()).cloned().ok_or_else(|| {
        ApiError::validation("room", "the `room` query parameter is required: GET /api/v1/public/realtime/history?room=chat/general/<projectId>&limit=50")
    })?;
    // Same normalisation as the socket, so `chat/general` finds `chat/general/<projectId>`;
    // the name exactly as given matches too (messages stored under it by server code). A room
    // of another project matches nothing: rows are filtered by the caller's project anyway.
    let raw_room = room.clone();
    let room = crate::realtime::topics::normalize(&room, &p.id, &p.slug).unwrap_or(room);
    let limit = match q.get("limit").filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::validation(
                    "limit",
                    format!("`limit` must be an integer between 1 and {MAX_LIMIT}, got {s:?}"),
                ));
            }
        },
    };
    let before = match q.get("before").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            ApiError::validation("before", format!("`before` must be a created_at value in unix milliseconds (the last message's created_at), got {s:?}"))
        })?),
    };
    let since = match q.get("since").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            ApiError::validation("since", format!("`since` must be a created_at value in unix milliseconds (exclusive: messages after it, oldest first), got {s:?}"))
        })?),
    };
    // Messages of one millisecond are told apart by `seq` (their order of storage): with
    // `before_seq` / `since_seq` next to `before` / `since`, a page boundary inside a millisecond
    // skips nothing (a strict total order); without, the bound excludes its whole millisecond,
    // as the official clients expect.
    let seq = |name: &str| -> Result<Option<i64>, ApiError> {
        match q.get(name).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
                ApiError::validation(name, format!("`{name}` must be the `seq` of a message (an integer), got {s:?}"))
            }),
        }
    };
    let before_seq = seq("before_seq")?.unwrap_or(i64::MIN);
    let since_seq = seq("since_seq")?.unwrap_or(i64::MAX);
    // With `since` the page runs forward (oldest first) so a reconnecting client catches up in
    // order; without it, backward from `before` (newest first), as the official clients expect.
    let sql = if since.is_some() {
        "SELECT id, room_id, user_id, event, data, created_at, rowid FROM realtime_messages
         WHERE project_id = ?1 AND room_id IN (?2, ?6)
           AND (?3 IS NULL OR created_at < ?3 OR (created_at = ?3 AND rowid < ?7))
           AND (created_at > ?5 OR (created_at = ?5 AND rowid > ?8))
         ORDER BY created_at ASC, rowid ASC LIMIT ?4"
    } else {
        "SELECT id, room_id, user_id, event, data, created_at, rowid FROM realtime_messages
         WHERE project_id = ?1 AND room_id IN (?2, ?6)
           AND (?3 IS NULL OR created_at < ?3 OR (created_at = ?3 AND rowid < ?7)) AND ?5 IS NULL AND ?8 IS NOT NULL
         ORDER BY created_at DESC, rowid DESC LIMIT ?4"
    };
    let messages = st
        .control(move |c| {
            let mut stmt = c.prepare_cached(sql)?;
            let rows =
                stmt.query_map(params![p.id, room, before, limit, since, raw_room, before_seq, since_seq], |r| {
                    let data: String = r.get(4)?;
                    Ok(json!({
                        "id": r.get::<_, String>(0)?,
                        "room_id": r.get::<_, String>(1)?,
                        "user_id": r.get::<_, Option<String>>(2)?,
                        "event": r.get::<_, String>(3)?,
                        "data": serde_json::from_str::<Value>(&data).unwrap_or(Value::String(data)),
                        "created_at": r.get::<_, i64>(5)?,
                        "seq": r.get::<_, i64>(6)?,
                    }))
                })?;
            Ok(rows.collect::<Result<Vec<Value>, _>>()?)
        })
        .await?;
    Ok(Json(json!({"messages": messages})).into_response())
}
