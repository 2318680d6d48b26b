//! Local-only helpers. `GET /v1/local/outbox?to=&limit=`: the emails and codes the platform
//! "sent" for the key's project, newest first (there is no real mail delivery offline).
//! `GET /v1/local/workers`: what the project's connected workers serve now (custom API slugs,
//! platform events, job types), so a test or script can wait until its worker is registered.

use std::collections::HashMap;

use aerostack_protocol::OutboxPage;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::extract::Project;
use crate::state::AppState;
use crate::store::outbox;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

pub async fn outbox(
    State(st): State<AppState>,
    Project(p): Project,
    uri: Uri,
) -> Result<Response, ApiError> {
    let q: HashMap<String, String> = Query::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    let to = q.get("to").filter(|s| !s.is_empty()).cloned();
    let limit = match q.get("limit").filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::validation(
                    "limit",
                    format!("`limit` must be an integer between 1 and {MAX_LIMIT}, got {s:?}"),
                ));
            }
        },
    };
    let messages = st
        .control(move |c| Ok(outbox::list_outbox(c, &p.id, to.as_deref(), limit)?))
        .await?;
    let page = OutboxPage {
        messages: messages
            .iter()
            .map(outbox::OutboxRow::to_wire)
            .collect(),
    };
    Ok(Json(page).into_response())
}

pub async fn workers(State(st): State<AppState>, Project(p): Project) -> Result<Response, ApiError> {
    Ok(Json(st.hooks.served(&p.id)).into_response())
}
