//! `/v1/db/query` and `/v1/db/batch` on the project's own SQLite database.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{JsonBody, Project, type_name};
use crate::realtime::db_changes::run_capturing;
use crate::state::AppState;
use crate::store::project_db;

pub const MAX_BATCH: usize = 25;
const QUERY_USAGE: &str = r#"{"sql": "SELECT 1", "params": []}"#;
const BATCH_USAGE: &str =
    r#"{"queries": [{"sql": "INSERT INTO t (a) VALUES (?)", "params": [1]}]}"#;

pub(crate) fn json_bytes(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub async fn query(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let sql = body.req_str("sql", QUERY_USAGE)?.to_string();
    if sql.trim().is_empty() {
        return Err(ApiError::validation(
            "sql",
            format!("`sql` is blank: send {QUERY_USAGE}"),
        ));
    }
    let params = body.0.get("params").cloned().unwrap_or(Value::Null);
    super::db_stream::query_response(&st, &p.id, sql, params).await
}

/// One statement on project `project_id`'s database, as `/v1/db/query` runs it, buffered whole
/// (the dashboard's console; `/v1/db/query` itself streams large reads, see `db_stream`): the
/// answer's JSON bytes. It runs on a blocking thread under one of the
/// project's slots (never on an async worker: a single slow SQLite call would stall every
/// request); row changes of writes go to realtime subscribers once committed.
pub async fn run_query(
    st: &AppState,
    project_id: &str,
    sql: String,
    params: Value,
) -> Result<Vec<u8>, ApiError> {
    let capture = st.realtime.wants_db_changes(project_id);
    let (out, changes) = st
        .project_db(project_id, move |db| {
            run_capturing(db, capture, || project_db::query(db, &sql, &params))
        })
        .await?;
    st.realtime.publish_db_changes(project_id, changes);
    Ok(out)
}

pub async fn batch(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let queries = body.req_array("queries", BATCH_USAGE)?;
    if queries.is_empty() {
        return Err(ApiError::validation(
            "queries",
            format!("`queries` is empty: send at least one query, e.g. {BATCH_USAGE}"),
        ));
    }
    if queries.len() > MAX_BATCH {
        return Err(ApiError::validation(
            "queries",
            format!(
                "`queries` holds {} queries; a batch takes at most {MAX_BATCH}: split it into several batches",
                queries.len()
            ),
        ));
    }
    let mut list = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        let Value::Object(q) = q else {
            return Err(ApiError::validation(
                &format!("queries[{i}]"),
                format!(
                    "`queries[{i}]` must be an object, got {}: send {BATCH_USAGE}",
                    type_name(q)
                ),
            ));
        };
        let sql = match q.get("sql") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => {
                return Err(ApiError::validation(
                    &format!("queries[{i}].sql"),
                    format!(
                        "`queries[{i}].sql` is required and must be a non-empty string: send {BATCH_USAGE}"
                    ),
                ));
            }
        };
        list.push((sql, q.get("params").cloned().unwrap_or(Value::Null)));
    }
    let capture = st.realtime.wants_db_changes(&p.id);
    let (out, changes) = st
        .project_db(&p.id, move |db| {
            run_capturing(db, capture, || project_db::batch(db, &list))
        })
        .await?;
    st.realtime.publish_db_changes(&p.id, changes);
    Ok(json_bytes(out))
}
