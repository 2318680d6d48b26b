//! `POST /v1/storage/upload`: multipart, streamed to a temporary file (hashed on the way) and
//! renamed into place only when complete, so a failed or oversized upload leaves nothing.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, code};
use crate::extract::Project;
use crate::routes::object_io::{DEFAULT_SIGNED_TTL_SECS, signed_object_url, 
    blob_path, guess_content_type, object_url, valid_content_type, validate_key,
};
use crate::routes::request_origin;
use crate::routes::storage::{FileGuard, new_blob_name, remove_blob};
use crate::state::AppState;
use crate::store::objects::{self, ObjectRow};
use crate::util::now_ms;

/// After an upload crosses the size limit, up to this much more is read and discarded so the
/// client (still sending) receives the 413 instead of a reset connection.
const DRAIN_CAP: u64 = 64 * 1024 * 1024;

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::PAYLOAD_TOO_LARGE,
        format!(
            "the file is larger than the upload limit of {max} bytes ({:.1} MiB)",
            max as f64 / 1048576.0
        ),
    )
    .with_detail("field", "file")
    .with_detail("max_bytes", max)
}

fn multipart_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::validation(
        "file",
        format!(
            "could not read the multipart body: {e}. Send multipart/form-data with fields `file`, `key` and optionally `contentType`"
        ),
    )
}

struct Upload {
    tmp: FileGuard,
    size: u64,
    etag: String,
    part_type: Option<String>,
}

pub async fn upload(
    State(st): State<AppState>,
    Project(p): Project,
    req: Request,
) -> Result<Response, ApiError> {
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
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max.saturating_add(DRAIN_CAP)) {
        return Err(too_large(max));
    }
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| multipart_error(e.body_text()))?;

    let tmp_dir = st.storage_dir(&p.id).join("tmp");
    tokio::fs::create_dir_all(&tmp_dir).await?;
    let mut key: Option<String> = None;
    let mut content_type: Option<String> = None;
    let mut file: Option<Upload> = None;
    let mut public: Option<bool> = None;
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
                    return Err(ApiError::validation(
                        "file",
                        "send exactly one `file` part per upload",
                    ));
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
                file = Some(Upload {
                    tmp: guard,
                    size,
                    etag,
                    part_type,
                });
            }
            "key" | "path" => key = Some(field.text().await.map_err(multipart_error)?),
            "public" => {
                let v = field.text().await.map_err(multipart_error)?;
                public = Some(match v.trim() {
                    "true" | "1" | "" => true,
                    "false" | "0" => false,
                    other => {
                        return Err(ApiError::validation(
                            "public",
                            format!("the multipart field `public` is \"true\" (the default: served at its URL to anyone) or \"false\" (served only through signed URLs), got {other:?}"),
                        ));
                    }
                });
            }
            "contentType" | "content_type" | "content-type" => {
                content_type = Some(field.text().await.map_err(multipart_error)?)
            }
            _ => while field.chunk().await.map_err(multipart_error)?.is_some() {},
        }
    }
    if over_limit {
        return Err(too_large(max));
    }
    let Some(mut upload) = file else {
        return Err(ApiError::validation(
            "file",
            "the multipart field `file` is required (the bytes to store)",
        ));
    };
    // Not trimmed: `get` takes the key as sent, so upload must too (validate_key refuses
    // surrounding whitespace with a message).
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return Err(ApiError::validation(
            "key",
            "the multipart field `key` is required, e.g. \"avatars/user-1.png\"",
        ));
    };
    validate_key(&key, "key")?;
    let content_type = match content_type
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
    {
        Some(ct) if valid_content_type(&ct) => ct,
        Some(ct) => {
            return Err(ApiError::validation(
                "contentType",
                format!("`contentType` {ct:?} is not a MIME type like \"image/png\""),
            ));
        }
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
        private: public == Some(false),
    };
    let private = row.private;
    let pid = p.id.clone();
    let old = st
        .control(move |c| Ok(objects::put(c, &pid, &row)?))
        .await?;
    blob_guard.0 = None;
    remove_blob(&st, &p.id, old).await;
    let origin = request_origin(&headers, &st);
    let url = if private {
        signed_object_url(&st, &origin, &p.id, &key, DEFAULT_SIGNED_TTL_SECS)?
    } else {
        object_url(&origin, &p.id, &key)
    };
    Ok(Json(json!({
        "success": true,
        "url": url,
        "public": !private,
        "key": key,
        "size": upload.size,
        "contentType": content_type,
        "etag": upload.etag,
    }))
    .into_response())
}
