//! Object keys, public URLs, content types and streaming an object's bytes from disk (shared by
//! `/v1/storage/*` and the public `/files/...` route).

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::routes::storage::missing;
use crate::state::AppState;
use crate::store::objects::ObjectRow;

pub const MAX_KEY_BYTES: usize = 1024;

/// Object keys: 1-1024 bytes, no leading `/`, no `..` or `.` segment, no leading or trailing
/// whitespace, no backslash, NUL or control characters (they would escape the project's
/// namespace, break URLs, or name another object than the one asked for).
pub fn validate_key(key: &str, field: &str) -> Result<(), ApiError> {
    let problem = if key.is_empty() {
        Some("must not be empty".to_string())
    } else if key.len() > MAX_KEY_BYTES {
        Some(format!(
            "is {} bytes; keys are limited to {MAX_KEY_BYTES} bytes",
            key.len()
        ))
    } else if key.starts_with('/') {
        Some("must not start with '/'".into())
    } else if key.split('/').any(|s| s == "..") {
        Some("must not contain a '..' segment".into())
    } else if key.split('/').any(|s| s == ".") {
        // Clients normalise `./x` and `a/./b` away: the object's URL would not reach it.
        Some("must not contain a '.' segment".into())
    } else if key.trim() != key {
        Some("must not start or end with whitespace (it is not trimmed: the key is used as sent)".into())
    } else if key.contains('\\') {
        Some("must not contain a backslash".into())
    } else if key.chars().any(char::is_control) {
        Some("must not contain NUL or other control characters".into())
    } else {
        None
    };
    match problem {
        Some(p) => Err(ApiError::validation(
            field,
            format!("`{field}` {p}: use a relative path like \"avatars/user-1.png\""),
        )),
        None => Ok(()),
    }
}

pub fn valid_content_type(ct: &str) -> bool {
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

/// How long a signed URL lives when the caller names no `expiresIn` (1 h), and at most (7 days).
pub const DEFAULT_SIGNED_TTL_SECS: i64 = 3600;
pub const MAX_SIGNED_TTL_SECS: i64 = 7 * 24 * 3600;

/// The object's URL with a `token` that grants it for `ttl_secs` (private objects are served
/// only so).
pub fn signed_object_url(st: &crate::state::AppState, origin: &str, project_id: &str, key: &str, ttl_secs: i64) -> Result<String, crate::error::ApiError> {
    let (token, _) = st.jwt.sign_object(project_id, key, ttl_secs)?;
    Ok(format!("{}?token={token}", object_url(origin, project_id, key)))
}

/// A content type from the key's extension (when the upload names none).
pub fn guess_content_type(key: &str) -> &'static str {
    let ext = key
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
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

pub fn objects_dir(st: &AppState, project_id: &str) -> PathBuf {
    st.storage_dir(project_id).join("objects")
}

pub fn blob_path(st: &AppState, project_id: &str, blob: &str) -> PathBuf {
    objects_dir(st, project_id).join(blob)
}

/// Stream an object's bytes with its headers (`/v1/storage/get` and `/files/...`).
pub async fn stream_object(
    st: &AppState,
    project_id: &str,
    o: &ObjectRow,
    req_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let etag = format!("\"{}\"", o.etag);
    if req_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        resp.headers_mut().insert(
            header::ETAG,
            HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
        );
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
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&o.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(o.size as u64));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Objects are served from the API's origin: never let a browser sniff them into something
    // else, and never run uploaded HTML/SVG/XML/JS as a page of this origin.
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if is_active_content(&o.content_type) {
        h.insert(header::CONTENT_DISPOSITION, attachment(&o.key));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        );
    }
    Ok(resp)
}

/// Types a browser would render as a document of the serving origin (scripts included).
pub fn is_active_content(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        mime.as_str(),
        "text/html"
            | "application/xhtml+xml"
            | "image/svg+xml"
            | "text/xml"
            | "application/xml"
            | "text/javascript"
            | "application/javascript"
            | "application/ecmascript"
            | "text/ecmascript"
            | "application/x-shockwave-flash"
            | "application/pdf"
    ) || mime.ends_with("+xml")
        || mime.is_empty()
}

/// `attachment; filename="<last segment of the key>"` (ASCII, quotes and controls replaced).
fn attachment(key: &str) -> HeaderValue {
    let name: String = key
        .rsplit('/')
        .next()
        .unwrap_or("download")
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"))
}
