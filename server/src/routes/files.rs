//! `GET /files/{project_id}/{*key}`: object URLs (like a CDN), streamed from disk. A public object
//! is served to anyone; a private one only with the `?token=` of a signed URL
//! (`storage.get_url(key, expires_in)`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use crate::error::{ApiError, code};
use crate::routes::object_io::{stream_object, validate_key};
use crate::state::AppState;
use crate::store::objects;

pub async fn serve(
    State(st): State<AppState>,
    Path((project, key)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    validate_key(&key, "key")?;
    let p = st.project_from_path(&project).await?;
    let (pid, k) = (p.id.clone(), key.clone());
    let o = st
        .control(move |c| Ok(objects::get(c, &pid, &k)?))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("no object {key:?} in project {project}"))
                .with_detail("key", key.clone())
        })?;
    if o.private {
        let q: HashMap<String, String> = Query::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
        let granted = q.get("token").is_some_and(|t| st.jwt.grants_object(t, &p.id, &key));
        if !granted {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                code::FORBIDDEN,
                format!("{key:?} is a private object: it is served only through a signed URL (storage.get_url(key, expires_in)), and this one is missing, expired or for another object"),
            )
            .with_detail("key", key));
        }
    }
    stream_object(&st, &p.id, &o, &headers).await
}
