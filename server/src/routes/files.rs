//! `GET /files/{project_id}/{*key}`: public object URLs (like a CDN), streamed from disk.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::error::ApiError;
use crate::routes::object_io::{stream_object, validate_key};
use crate::state::AppState;
use crate::store::objects;

pub async fn serve(
    State(st): State<AppState>,
    Path((project, key)): Path<(String, String)>,
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
    stream_object(&st, &p.id, &o, &headers).await
}
