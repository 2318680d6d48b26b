//! `POST /v1/services/invoke`: call another service's worker through the worker hub.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::extract::{JsonBody, Project};
use crate::state::AppState;
use crate::workers::Invocation;

const USAGE: &str = r#"{"serviceName": "billing", "data": {"orderId": 1}}"#;

pub async fn invoke(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let name = body.req_str("serviceName", USAGE)?.trim().to_string();
    if name.is_empty() {
        return Err(ApiError::validation(
            "serviceName",
            format!("`serviceName` must not be blank: send {USAGE}"),
        ));
    }
    let Some(data) = body.0.get("data").cloned() else {
        return Err(crate::extract::required("data", USAGE));
    };
    let result = st
        .workers()
        .invoke(Invocation::Service {
            project_id: p.id.clone(),
            name,
            data,
        })
        .await?;
    Ok(Json(json!({"success": true, "result": result})).into_response())
}
