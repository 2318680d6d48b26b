//! `/v1/local/rules` (local only, project key): the project's access rules for end users on
//! realtime (see `store::rules`). `GET` lists them, `POST {kind, pattern, owner_column?}` adds
//! or replaces one, `DELETE {kind, pattern}` removes one. The CLI's `aerostack-server rules`
//! does the same on a data directory.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::extract::{JsonBody, Project};
use crate::state::AppState;
use crate::store::rules::{self, Rule};

const USAGE: &str = r#"{"kind": "table", "pattern": "todos", "owner_column": "user_id"} or {"kind": "topic", "pattern": "chat/*"}"#;

/// A rule from a request body, checked: the error names the field.
pub fn rule_of(body: &JsonBody) -> Result<Rule, ApiError> {
    let kind = body.req_str("kind", USAGE)?;
    if kind != "table" && kind != "topic" {
        return Err(ApiError::validation("kind", format!("`kind` is \"table\" or \"topic\", got {kind:?}: send {USAGE}")));
    }
    let pattern = body.req_str("pattern", USAGE)?.trim().to_string();
    if pattern.is_empty() || pattern.len() > 256 {
        return Err(ApiError::validation("pattern", format!("`pattern` is a table name or a topic (a trailing * matches any rest): send {USAGE}")));
    }
    let owner_column = body.opt_str("owner_column", USAGE)?.map(str::to_string);
    if owner_column.is_some() && kind != "table" {
        return Err(ApiError::validation("owner_column", "`owner_column` applies to table rules (the column holding the owning user's id)"));
    }
    Ok(Rule { kind: kind.to_string(), pattern, owner_column })
}

pub async fn list(State(st): State<AppState>, Project(p): Project) -> Result<Response, ApiError> {
    let list = st.control(move |c| Ok(rules::list(c, &p.id)?)).await?;
    Ok(Json(json!({"rules": list.iter().map(Rule::to_json).collect::<Vec<_>>()})).into_response())
}

pub async fn add(State(st): State<AppState>, Project(p): Project, body: JsonBody) -> Result<Response, ApiError> {
    let rule = rule_of(&body)?;
    let out = rule.to_json();
    st.control(move |c| Ok(rules::put(c, &p.id, &rule)?)).await?;
    Ok(Json(json!({"success": true, "rule": out})).into_response())
}

pub async fn remove(State(st): State<AppState>, Project(p): Project, body: JsonBody) -> Result<Response, ApiError> {
    let rule = rule_of(&body)?;
    let removed = st.control(move |c| Ok(rules::remove(c, &p.id, &rule.kind, &rule.pattern)?)).await?;
    Ok(Json(json!({"success": removed})).into_response())
}
