//! Custom APIs (Logic Modules): `/v1/custom/{slug}` and `/api/v1/custom/{slug}` (project from the
//! key or `X-Project-Id`), `/api/v1/public/projects/{project}/custom/{slug}` (project from the
//! path). The call becomes an event for the worker hub; the handler's return value is the body.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, code};
use crate::keys::{KEY_HELP, key_candidates};
use crate::state::AppState;
use crate::store::control::ProjectRec;
use crate::workers::Invocation;

/// Headers never handed to user code.
const HIDDEN_HEADERS: [&str; 4] = ["authorization", "x-aerostack-key", "x-api-key", "cookie"];

pub(crate) fn check_slug(slug: &str) -> Result<(), ApiError> {
    let ok = !slug.is_empty()
        && slug.len() <= 128
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::validation(
            "slug",
            format!("custom API slug {slug:?} must be 1-128 letters, digits, '-', '_' or '.'"),
        ))
    }
}

fn event(
    project: &ProjectRec,
    slug: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Value {
    let data = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
    };
    let query: Map<String, Value> = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| {
            q.0.into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        })
        .unwrap_or_default();
    let headers: Map<String, Value> = headers
        .iter()
        .filter(|(k, _)| !HIDDEN_HEADERS.contains(&k.as_str()))
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_string(), Value::String(v.to_string())))
        })
        .collect();
    json!({
        "event": format!("custom.{slug}"),
        "timestamp": crate::util::iso_ms(crate::util::now_ms()),
        "data": data,
        "project_id": project.id,
        "slug": slug,
        "method": method.as_str(),
        "headers": headers,
        "query": query,
    })
}

#[allow(clippy::too_many_arguments)]
async fn dispatch(
    st: &AppState,
    project: Arc<ProjectRec>,
    slug: String,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    authenticated: bool,
) -> Result<Response, ApiError> {
    check_slug(&slug)?;
    let body = crate::extract::read_body(body).await?;
    let event = event(&project, &slug, &method, &uri, &headers, &body);
    let result = st
        .workers()
        .invoke(Invocation::Custom {
            project_id: project.id.clone(),
            slug: slug.clone(),
            event,
            authenticated,
        })
        .await;
    match result {
        Ok(v) => Ok(Json(v).into_response()),
        // A module's own error text (SQL, stack frames, internal names) is for the project, not
        // for anonymous callers: they get a generic message; the platform log keeps the text.
        Err(e) if !authenticated && e.code == code::HOOK_FAILED => {
            tracing::warn!(project = %project.id, slug = %slug, "Logic Module failed (public caller): {}", e.message);
            Err(ApiError::new(
                e.status,
                code::HOOK_FAILED,
                format!("the Logic Module '{slug}' failed; its error is in the platform's log under this request id (callers with the project's API key see it)"),
            )
            .with_detail("slug", slug))
        }
        Err(e) => Err(e),
    }
}

/// Project from the API key, else from `X-Project-Id` (id or slug).
pub async fn keyed(
    State(st): State<AppState>,
    Path(slug): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let keyed = key_candidates(&headers).iter().any(Option::is_some);
    let project = if keyed {
        st.project_from_headers(&headers).await?
    } else if let Some(r) = headers
        .get("x-project-id")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
    {
        st.project_from_path(r).await?
    } else {
        return Err(ApiError::unauthorized(
            code::AUTH_INVALID_KEY,
            format!("Missing API key: {KEY_HELP}, or name the project in X-Project-Id"),
        ));
    };
    dispatch(&st, project, slug, method, uri, headers, body, keyed).await
}

/// Project from the path; a key, when sent, must belong to it.
pub async fn public(
    State(st): State<AppState>,
    Path((project, slug)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let project = st.project_from_path(&project).await?;
    // An unknown key counts as no key (a public module still answers); another project's key
    // is refused outright.
    let mut authenticated = false;
    if key_candidates(&headers).iter().any(Option::is_some)
        && let Ok(keyed) = st.project_from_headers(&headers).await
    {
        if keyed.id != project.id {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                code::FORBIDDEN,
                format!(
                    "the API key belongs to another project than {:?}",
                    project.slug
                ),
            ));
        }
        authenticated = true;
    }
    dispatch(
        &st,
        project,
        slug,
        method,
        uri,
        headers,
        body,
        authenticated,
    )
    .await
}
