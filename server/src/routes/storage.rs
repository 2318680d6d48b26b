//! `/v1/storage/*` (except upload, in `upload.rs`): project-scoped objects on disk.

use std::path::{Path, PathBuf};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::extract::{JsonBody, Project};
use crate::routes::object_io::{blob_path, object_url, stream_object, validate_key};
use crate::routes::request_origin;
use crate::state::AppState;
use crate::store::objects::{self, ObjectRow};
use crate::util::{decode_cursor, encode_cursor, now_ms};

pub const DEFAULT_LIST: i64 = 100;
pub const MAX_LIST: i64 = 1000;
const KEY_USAGE: &str = r#"{"key": "avatars/user-1.png"}"#;

pub(crate) fn new_blob_name() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{}/{id}", &id[..2])
}

/// Deletes a file on drop unless disarmed (temporary uploads, blobs whose row was not written).
pub(crate) struct FileGuard(pub(crate) Option<PathBuf>);

impl Drop for FileGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub(crate) async fn remove_blob(st: &AppState, project_id: &str, blob: Option<String>) {
    if let Some(b) = blob {
        let _ = tokio::fs::remove_file(blob_path(st, project_id, &b)).await;
    }
}

async fn find(st: &AppState, project_id: &str, key: &str) -> Result<Option<ObjectRow>, ApiError> {
    let (pid, key) = (project_id.to_string(), key.to_string());
    st.control(move |c| Ok(objects::get(c, &pid, &key)?)).await
}

pub(crate) fn missing(key: &str) -> ApiError {
    ApiError::not_found(format!("no object with key {key:?} in this project"))
        .with_detail("field", "key")
        .with_detail("key", key)
}

pub async fn get(
    State(st): State<AppState>,
    Project(p): Project,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = body.req_str("key", KEY_USAGE)?;
    validate_key(key, "key")?;
    let o = find(&st, &p.id, key).await?.ok_or_else(|| missing(key))?;
    stream_object(&st, &p.id, &o, &headers).await
}

pub async fn get_url(
    State(st): State<AppState>,
    Project(p): Project,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"key": "avatars/1.png", "expiresIn": 3600}"#;
    let key = body.req_str("key", KEY_USAGE)?;
    validate_key(key, "key")?;
    // `expiresIn` (seconds): a signed URL that works until then, whatever the object's
    // visibility; a private object always gets one (1 h when not asked).
    let expires_in = match body.get_any(&["expiresIn", "expires_in"]) {
        None | Some((_, Value::Null)) => None,
        Some((name, v)) => match v.as_i64() {
            Some(n) if (1..=crate::routes::object_io::MAX_SIGNED_TTL_SECS).contains(&n) => Some(n),
            _ => {
                return Err(ApiError::validation(
                    name,
                    format!("`{name}` is the signed URL's lifetime in seconds, 1 to {} (7 days), got {v}: send {USAGE}", crate::routes::object_io::MAX_SIGNED_TTL_SECS),
                ));
            }
        },
    };
    let o = find(&st, &p.id, key).await?.ok_or_else(|| missing(key))?;
    let origin = request_origin(&headers, &st);
    let ttl = expires_in.or(o.private.then_some(crate::routes::object_io::DEFAULT_SIGNED_TTL_SECS));
    let body = match ttl {
        Some(ttl) => json!({
            "url": crate::routes::object_io::signed_object_url(&st, &origin, &p.id, key, ttl)?,
            "expiresAt": crate::util::iso_ms((crate::util::now_ms() / 1000 + ttl) * 1000),
            "public": !o.private,
        }),
        None => json!({"url": object_url(&origin, &p.id, key), "public": true}),
    };
    Ok(Json(body).into_response())
}

pub async fn list(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    const USAGE: &str =
        r#"{"prefix": "avatars/", "limit": 100, "cursor": "<cursor of the previous page>"}"#;
    let prefix = body.opt_str("prefix", USAGE)?.unwrap_or("").to_string();
    let limit = body.opt_i64("limit", USAGE)?.unwrap_or(DEFAULT_LIST);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            format!("`limit` must be between 1 and {MAX_LIST}, got {limit}"),
        ));
    }
    let after = match body.opt_str("cursor", USAGE)? {
        Some(c) if !c.is_empty() => Some(decode_cursor(c).ok_or_else(|| {
            ApiError::validation("cursor", "`cursor` is not one returned by /storage/list: pass the previous page's `cursor`, or omit it")
        })?),
        _ => None,
    };
    let pid = p.id.clone();
    let rows = st
        .control(move |c| {
            Ok(objects::list(
                c,
                &pid,
                &prefix,
                after.as_deref(),
                limit + 1,
            )?)
        })
        .await?;
    let truncated = rows.len() as i64 > limit;
    let page = &rows[..rows.len().min(limit as usize)];
    let mut out = json!({"objects": page.iter().map(ObjectRow::list_json).collect::<Vec<Value>>(), "truncated": truncated});
    if truncated && let Some(last) = page.last() {
        out["cursor"] = json!(encode_cursor(&last.key));
    }
    Ok(Json(out).into_response())
}

pub async fn delete(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = body.req_str("key", KEY_USAGE)?.to_string();
    validate_key(&key, "key")?;
    let pid = p.id.clone();
    let blob = st
        .control(move |c| Ok(objects::delete(c, &pid, &key)?))
        .await?;
    let deleted = blob.is_some();
    remove_blob(&st, &p.id, blob).await;
    Ok(Json(json!({"success": true, "deleted": deleted})).into_response())
}

pub async fn exists(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = body.req_str("key", KEY_USAGE)?;
    validate_key(key, "key")?;
    Ok(Json(json!({"exists": find(&st, &p.id, key).await?.is_some()})).into_response())
}

pub async fn get_metadata(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = body.req_str("key", KEY_USAGE)?;
    validate_key(key, "key")?;
    Ok(Json(match find(&st, &p.id, key).await? {
        Some(o) => {
            let mut v = o.list_json();
            v["exists"] = json!(true);
            v
        }
        None => json!({"exists": false, "key": key}),
    })
    .into_response())
}

const COPY_USAGE: &str = r#"{"sourceKey": "a.png", "destKey": "b.png"}"#;

fn src_dst(body: &JsonBody) -> Result<(String, String), ApiError> {
    let src = body.req_str("sourceKey", COPY_USAGE)?.to_string();
    validate_key(&src, "sourceKey")?;
    let dst = body.req_str("destKey", COPY_USAGE)?.to_string();
    validate_key(&dst, "destKey")?;
    Ok((src, dst))
}

async fn copy_blob(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(parent) = to.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    tokio::fs::copy(from, to).await.map(|_| ())
}

pub async fn copy(
    State(st): State<AppState>,
    Project(p): Project,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let (src, dst) = src_dst(&body)?;
    let o = find(&st, &p.id, &src)
        .await?
        .ok_or_else(|| missing(&src).with_detail("field", "sourceKey"))?;
    let blob = new_blob_name();
    let dest = blob_path(&st, &p.id, &blob);
    let mut guard = FileGuard(Some(dest.clone()));
    copy_blob(&blob_path(&st, &p.id, &o.blob), &dest)
        .await
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                missing(&src)
            } else {
                e.into()
            }
        })?;
    let now = now_ms();
    let row = ObjectRow {
        key: dst.clone(),
        blob,
        size: o.size,
        content_type: o.content_type,
        etag: o.etag,
        created_at: now,
        updated_at: now,
        private: o.private,
    };
    let pid = p.id.clone();
    let old = st
        .control(move |c| Ok(objects::put(c, &pid, &row)?))
        .await?;
    guard.0 = None;
    remove_blob(&st, &p.id, old).await;
    Ok(Json(json!({"success": true, "key": dst, "url": object_url(&request_origin(&headers, &st), &p.id, &dst)})).into_response())
}

/// A rename of the metadata row: atomic here (the hosted platform copies then deletes).
pub async fn move_object(
    State(st): State<AppState>,
    Project(p): Project,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let (src, dst) = src_dst(&body)?;
    let (pid, s, d) = (p.id.clone(), src.clone(), dst.clone());
    let outcome = st
        .control(move |c| Ok(objects::rename(c, &pid, &s, &d, now_ms())?))
        .await?;
    let Some(replaced) = outcome else {
        return Err(missing(&src).with_detail("field", "sourceKey"));
    };
    remove_blob(&st, &p.id, replaced).await;
    Ok(Json(json!({"success": true, "key": dst, "url": object_url(&request_origin(&headers, &st), &p.id, &dst)})).into_response())
}
