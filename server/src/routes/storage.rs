//! `/v1/storage/*`: project-scoped objects on disk. Uploads stream to a temporary file (hashing
//! as they go) and are renamed into place only when complete, so a failed upload leaves nothing.

use std::path::{Path, PathBuf};

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, code};
use crate::extract::{JsonBody, Project};
use crate::routes::request_origin;
use crate::state::AppState;
use crate::store::objects::{self, ObjectRow};
use crate::util::{decode_cursor, encode_cursor, now_ms};

pub const MAX_KEY_BYTES: usize = 1024;
pub const DEFAULT_LIST: i64 = 100;
pub const MAX_LIST: i64 = 1000;
/// After an upload crosses the size limit, up to this much more is read and discarded so the
/// client (still sending) receives the 413 instead of a reset connection.
const DRAIN_CAP: u64 = 64 * 1024 * 1024;

const KEY_USAGE: &str = r#"{"key": "avatars/user-1.png"}"#;

/// Object keys: 1-1024 bytes, no leading `/`, no `..` segment, no backslash, NUL or control
/// characters (they would escape the project's namespace or break URLs).
pub fn validate_key(key: &str, field: &str) -> Result<(), ApiError> {
    let problem = if key.is_empty() {
        Some("must not be empty".to_string())
    } else if key.len() > MAX_KEY_BYTES {
        Some(format!("is {} bytes; keys are limited to {MAX_KEY_BYTES} bytes", key.len()))
    } else if key.starts_with('/') {
        Some("must not start with '/'".into())
    } else if key.split('/').any(|s| s == "..") {
        Some("must not contain a '..' segment".into())
    } else if key.contains('\\') {
        Some("must not contain a backslash".into())
    } else if key.chars().any(char::is_control) {
        Some("must not contain NUL or other control characters".into())
    } else {
        None
    };
    match problem {
        Some(p) => Err(ApiError::validation(field, format!("`{field}` {p}: use a relative path like \"avatars/user-1.png\""))),
        None => Ok(()),
    }
}

fn valid_content_type(ct: &str) -> bool {
    ct.len() <= 255 && ct.contains('/') && ct.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Percent-encode a key for a URL path, keeping `/`.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn object_url(origin: &str, project_id: &str, key: &str) -> String {
    format!("{origin}/files/{project_id}/{}", encode_key(key))
}

/// A content type from the key's extension (when the upload names none).
pub fn guess_content_type(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "avif" => "image/avif",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "txt" | "log" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn objects_dir(st: &AppState, project_id: &str) -> PathBuf {
    st.storage_dir(project_id).join("objects")
}

pub fn blob_path(st: &AppState, project_id: &str, blob: &str) -> PathBuf {
    objects_dir(st, project_id).join(blob)
}

fn new_blob_name() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{}/{id}", &id[..2])
}

/// Deletes a file on drop unless disarmed (temporary uploads, blobs whose row was not written).
struct FileGuard(Option<PathBuf>);

impl Drop for FileGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

async fn remove_blob(st: &AppState, project_id: &str, blob: Option<String>) {
    if let Some(b) = blob {
        let _ = tokio::fs::remove_file(blob_path(st, project_id, &b)).await;
    }
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::PAYLOAD_TOO_LARGE,
        format!("the file is larger than the upload limit of {max} bytes ({:.1} MiB)", max as f64 / 1048576.0),
    )
    .with_detail("field", "file")
    .with_detail("max_bytes", max)
}

fn multipart_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::validation("file", format!("could not read the multipart body: {e}. Send multipart/form-data with fields `file`, `key` and optionally `contentType`"))
}

struct Upload {
    tmp: FileGuard,
    size: u64,
    etag: String,
    part_type: Option<String>,
}

pub async fn upload(State(st): State<AppState>, Project(p): Project, req: Request) -> Result<Response, ApiError> {
    let headers = req.headers().clone();
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::VALIDATION_ERROR,
            "uploads must be multipart/form-data with fields `file` (the bytes), `key` and optionally `contentType`",
        )
        .with_detail("field", "file"));
    }
    let max = st.limits.max_upload_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max.saturating_add(DRAIN_CAP)) {
        return Err(too_large(max));
    }
    let mut multipart = Multipart::from_request(req, &()).await.map_err(|e| multipart_error(e.body_text()))?;

    let tmp_dir = st.storage_dir(&p.id).join("tmp");
    tokio::fs::create_dir_all(&tmp_dir).await?;
    let mut key: Option<String> = None;
    let mut content_type: Option<String> = None;
    let mut file: Option<Upload> = None;
    let mut over_limit = false;
    let mut drained: u64 = 0;

    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_string();
        if over_limit {
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                drained += chunk.len() as u64;
                if drained > DRAIN_CAP {
                    return Err(too_large(max));
                }
            }
            continue;
        }
        match name.as_str() {
            "file" => {
                if file.is_some() {
                    return Err(ApiError::validation("file", "send exactly one `file` part per upload"));
                }
                let part_type = field.content_type().map(str::to_string);
                let path = tmp_dir.join(format!("upload-{}", uuid::Uuid::new_v4().simple()));
                let guard = FileGuard(Some(path.clone()));
                let mut out = tokio::fs::File::create(&path).await?;
                let mut hasher = Sha256::new();
                let mut size: u64 = 0;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    size += chunk.len() as u64;
                    if size > max {
                        over_limit = true;
                        drained = size - max;
                        break;
                    }
                    hasher.update(&chunk);
                    out.write_all(&chunk).await?;
                }
                if over_limit {
                    drop(out);
                    drop(guard);
                    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                        drained += chunk.len() as u64;
                        if drained > DRAIN_CAP {
                            return Err(too_large(max));
                        }
                    }
                    continue;
                }
                out.sync_all().await?;
                let etag = hex::encode(&hasher.finalize()[..16]);
                file = Some(Upload { tmp: guard, size, etag, part_type });
            }
            "key" | "path" => key = Some(field.text().await.map_err(multipart_error)?),
            "contentType" | "content_type" | "content-type" => content_type = Some(field.text().await.map_err(multipart_error)?),
            _ => while field.chunk().await.map_err(multipart_error)?.is_some() {},
        }
    }
    if over_limit {
        return Err(too_large(max));
    }
    let Some(mut upload) = file else {
        return Err(ApiError::validation("file", "the multipart field `file` is required (the bytes to store)"));
    };
    let Some(key) = key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty()) else {
        return Err(ApiError::validation("key", "the multipart field `key` is required, e.g. \"avatars/user-1.png\""));
    };
    validate_key(&key, "key")?;
    let content_type = match content_type.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()) {
        Some(ct) if valid_content_type(&ct) => ct,
        Some(ct) => return Err(ApiError::validation("contentType", format!("`contentType` {ct:?} is not a MIME type like \"image/png\""))),
        None => upload
            .part_type
            .clone()
            .filter(|ct| valid_content_type(ct) && ct != "application/octet-stream")
            .unwrap_or_else(|| guess_content_type(&key).to_string()),
    };

    let blob = new_blob_name();
    let dest = blob_path(&st, &p.id, &blob);
    if let Some(parent) = dest.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let tmp_path = upload.tmp.0.take().expect("temporary upload present");
    let mut blob_guard = FileGuard(Some(dest.clone()));
    if let Err(e) = tokio::fs::rename(&tmp_path, &dest).await {
        let _ = tokio::fs::remove_file(&tmp_path).await;
        return Err(e.into());
    }
    let now = now_ms();
    let row = ObjectRow {
        key: key.clone(),
        blob,
        size: upload.size as i64,
        content_type: content_type.clone(),
        etag: upload.etag.clone(),
        created_at: now,
        updated_at: now,
    };
    let pid = p.id.clone();
    let old = st.control(move |c| Ok(objects::put(c, &pid, &row)?)).await?;
    blob_guard.0 = None;
    remove_blob(&st, &p.id, old).await;
    Ok(Json(json!({
        "success": true,
        "url": object_url(&request_origin(&headers, &st), &p.id, &key),
        "key": key,
        "size": upload.size,
        "contentType": content_type,
        "etag": upload.etag,
    }))
    .into_response())
}

async fn find(st: &AppState, project_id: &str, key: &str) -> Result<Option<ObjectRow>, ApiError> {
    let (pid, key) = (project_id.to_string(), key.to_string());
    st.control(move |c| Ok(objects::get(c, &pid, &key)?)).await
}

fn missing(key: &str) -> ApiError {
    ApiError::not_found(format!("no object with key {key:?} in this project")).with_detail("field", "key").with_detail("key", key)
}

/// Stream an object's bytes with its headers (`/v1/storage/get` and `/files/...`).
pub async fn stream_object(st: &AppState, project_id: &str, o: &ObjectRow, req_headers: &HeaderMap) -> Result<Response, ApiError> {
    let etag = format!("\"{}\"", o.etag);
    if req_headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        resp.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")));
        return Ok(resp);
    }
    let file = match tokio::fs::File::open(blob_path(st, project_id, &o.blob)).await {
        Ok(f) => f,
        // Deleted or replaced between the lookup and the open.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing(&o.key)),
        Err(e) => return Err(e.into()),
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024));
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&o.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(o.size as u64));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

pub async fn get(State(st): State<AppState>, Project(p): Project, headers: HeaderMap, body: JsonBody) -> Result<Response, ApiError> {
    let key = body.req_str("key", KEY_USAGE)?;
    validate_key(key, "key")?;
    let o = find(&st, &p.id, key).await?.ok_or_else(|| missing(key))?;
    stream_object(&st, &p.id, &o, &headers).await
}

pub async fn get_url(State(st): State<AppState>, Project(p): Project, headers: HeaderMap, body: JsonBody) -> Result<Response, ApiError> {
    let key = body.req_str("key", KEY_USAGE)?;
    validate_key(key, "key")?;
    if find(&st, &p.id, key).await?.is_none() {
        return Err(missing(key));
    }
    Ok(Json(json!({"url": object_url(&request_origin(&headers, &st), &p.id, key)})).into_response())
}

pub async fn list(State(st): State<AppState>, Project(p): Project, body: JsonBody) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"prefix": "avatars/", "limit": 100, "cursor": "<cursor of the previous page>"}"#;
    let prefix = body.opt_str("prefix", USAGE)?.unwrap_or("").to_string();
    let limit = body.opt_i64("limit", USAGE)?.unwrap_or(DEFAULT_LIST);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError::validation("limit", format!("`limit` must be between 1 and {MAX_LIST}, got {limit}")));
    }
    let after = match body.opt_str("cursor", USAGE)? {
        Some(c) if !c.is_empty() => Some(decode_cursor(c).ok_or_else(|| {
            ApiError::validation("cursor", "`cursor` is not one returned by /storage/list: pass the previous page's `cursor`, or omit it")
        })?),
        _ => None,
    };
    let pid = p.id.clone();
    let rows = st.control(move |c| Ok(objects::list(c, &pid, &prefix, after.as_deref(), limit + 1)?)).await?;
    let truncated = rows.len() as i64 > limit;
    let page = &rows[..rows.len().min(limit as usize)];
    let mut out = json!({"objects": page.iter().map(ObjectRow::list_json).collect::<Vec<Value>>(), "truncated": truncated});
    if truncated && let Some(last) = page.last() {
        out["cursor"] = json!(encode_cursor(&last.key));
    }
    Ok(Json(out).into_response())
}

pub async fn delete(State(st): State<AppState>, Project(p): Project, body: JsonBody) -> Result<Response, ApiError> {
    let key = body.req_str("key", KEY_USAGE)?.to_string();
    validate_key(&key, "key")?;
    let pid = p.id.clone();
    let blob = st.control(move |c| Ok(objects::delete(c, &pid, &key)?)).await?;
    let deleted = blob.is_some();
    remove_blob(&st, &p.id, blob).await;
    Ok(Json(json!({"success": true, "deleted": deleted})).into_response())
}

pub async fn exists(State(st): State<AppState>, Project(p): Project, body: JsonBody) -> Result<Response, ApiError> {
    let key = body.req_str("key", KEY_USAGE)?;
    validate_key(key, "key")?;
    Ok(Json(json!({"exists": find(&st, &p.id, key).await?.is_some()})).into_response())
}

pub async fn get_metadata(State(st): State<AppState>, Project(p): Project, body: JsonBody) -> Result<Response, ApiError> {
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

pub async fn copy(State(st): State<AppState>, Project(p): Project, headers: HeaderMap, body: JsonBody) -> Result<Response, ApiError> {
    let (src, dst) = src_dst(&body)?;
    let o = find(&st, &p.id, &src).await?.ok_or_else(|| missing(&src).with_detail("field", "sourceKey"))?;
    let blob = new_blob_name();
    let dest = blob_path(&st, &p.id, &blob);
    let mut guard = FileGuard(Some(dest.clone()));
    copy_blob(&blob_path(&st, &p.id, &o.blob), &dest).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound { missing(&src) } else { e.into() }
    })?;
    let now = now_ms();
    let row = ObjectRow { key: dst.clone(), blob, size: o.size, content_type: o.content_type, etag: o.etag, created_at: now, updated_at: now };
    let pid = p.id.clone();
    let old = st.control(move |c| Ok(objects::put(c, &pid, &row)?)).await?;
    guard.0 = None;
    remove_blob(&st, &p.id, old).await;
    Ok(Json(json!({"success": true, "key": dst, "url": object_url(&request_origin(&headers, &st), &p.id, &dst)})).into_response())
}

/// A rename of the metadata row: atomic here (the hosted platform copies then deletes).
pub async fn move_object(State(st): State<AppState>, Project(p): Project, headers: HeaderMap, body: JsonBody) -> Result<Response, ApiError> {
    let (src, dst) = src_dst(&body)?;
    let (pid, s, d) = (p.id.clone(), src.clone(), dst.clone());
    let outcome = st.control(move |c| Ok(objects::rename(c, &pid, &s, &d, now_ms())?)).await?;
    let Some(replaced) = outcome else {
        return Err(missing(&src).with_detail("field", "sourceKey"));
    };
    remove_blob(&st, &p.id, replaced).await;
    Ok(Json(json!({"success": true, "key": dst, "url": object_url(&request_origin(&headers, &st), &p.id, &dst)})).into_response())
}
