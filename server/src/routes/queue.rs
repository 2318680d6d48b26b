//! `/v1/queue/*`: durable jobs in SQLite. Consumers (hook workers) claim them later; see
//! `store::jobs::claim_due`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::extract::{JsonBody, Project, as_integer};
use crate::state::AppState;
use crate::store::jobs::{self, JobRow, STATUSES};
use crate::util::{decode_cursor, encode_cursor, now_ms};

pub const DEFAULT_MAX_RETRIES: i64 = 3;
pub const MAX_DELAY_SECS: i64 = 365 * 24 * 3600;
pub const DEFAULT_JOBS_LIMIT: i64 = 50;
pub const MAX_JOBS_LIMIT: i64 = 200;

const ENQUEUE_USAGE: &str = r#"{"type": "send-welcome-email", "data": {"email": "jane@example.com"}, "delay": 0, "maxRetries": 3}"#;

pub async fn enqueue(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let job_type = body.req_str("type", ENQUEUE_USAGE)?.trim().to_string();
    if job_type.is_empty() || job_type.len() > 256 {
        return Err(ApiError::validation(
            "type",
            format!("`type` must be 1-256 characters naming the job: send {ENQUEUE_USAGE}"),
        ));
    }
    let Some(data) = body.0.get("data") else {
        return Err(ApiError::validation(
            "data",
            format!("`data` is required (the job's JSON payload): send {ENQUEUE_USAGE}"),
        ));
    };
    let delay = match body.get_any(&["delay", "delaySeconds", "delay_seconds"]) {
        None => 0,
        Some((name, v)) => match as_integer(v) {
            Some(d) if (0..=MAX_DELAY_SECS).contains(&d) => d,
            _ => {
                return Err(ApiError::validation(
                    name,
                    format!(
                        "`{name}` must be a whole number of seconds between 0 and {MAX_DELAY_SECS}, got {v}"
                    ),
                ));
            }
        },
    };
    let max_retries = match body.get_any(&["maxRetries", "max_retries"]) {
        None => DEFAULT_MAX_RETRIES,
        Some((name, v)) => match as_integer(v) {
            Some(r) if (0..=100).contains(&r) => r,
            _ => {
                return Err(ApiError::validation(
                    name,
                    format!("`{name}` must be an integer between 0 and 100, got {v}"),
                ));
            }
        },
    };
    let now = now_ms();
    let job = JobRow {
        id: format!("job_{}", uuid::Uuid::new_v4().simple()),
        project_id: p.id.clone(),
        job_type,
        data: data.to_string(),
        status: "queued".into(),
        attempts: 0,
        max_retries,
        run_at: now + delay * 1000,
        locked_until: None,
        last_error: None,
        result: None,
        created_at: now,
        updated_at: now,
    };
    let id = job.id.clone();
    st.job_writer
        .insert(job)
        .await
        .map_err(|e| ApiError::internal(format!("the job could not be stored: {e}")))?;
    st.hooks.wakeup.notify_one();
    Ok((
        StatusCode::CREATED,
        Json(json!({"jobId": id, "success": true, "status": "queued"})),
    )
        .into_response())
}

pub async fn job(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let id = body
        .req_str("jobId", r#"{"jobId": "job_..."}"#)?
        .to_string();
    let job = st
        .control(move |c| {
            let Some(j) = jobs::get(c, &p.id, &id)? else { return Ok(None) };
            let history = jobs::history(c, &j.id)?;
            Ok(Some((j, history)))
        })
        .await?;
    Ok(Json(match job {
        Some((j, history)) => {
            // Ours: every run with its start, end and error (the record keeps only the last).
            let mut record = j.to_json();
            record["history"] = Value::Array(history);
            json!({"job": record, "exists": true})
        }
        None => json!({"job": null, "exists": false}),
    })
    .into_response())
}

pub async fn jobs(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"status": "queued", "type": "send-email", "limit": 50, "cursor": "<cursor of the previous page>"}"#;
    let status = body.opt_str("status", USAGE)?.map(str::to_string);
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::validation(
            "status",
            format!("`status` must be one of {}, got {s:?}", STATUSES.join(", ")),
        ));
    }
    let job_type = body.opt_str("type", USAGE)?.map(str::to_string);
    let limit = body.opt_i64("limit", USAGE)?.unwrap_or(DEFAULT_JOBS_LIMIT);
    if !(1..=MAX_JOBS_LIMIT).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            format!("`limit` must be between 1 and {MAX_JOBS_LIMIT}, got {limit}"),
        ));
    }
    let after = match body.opt_str("cursor", USAGE)? {
        Some(c) if !c.is_empty() => Some(
            decode_cursor(c)
                .and_then(|s| {
                    let (t, id) = s.split_once(':')?;
                    Some((t.parse::<i64>().ok()?, id.to_string()))
                })
                .ok_or_else(|| ApiError::validation("cursor", "`cursor` is not one returned by /queue/jobs: pass the previous page's `cursor`, or omit it"))?,
        ),
        _ => None,
    };
    let rows = st
        .control(move |c| {
            Ok(jobs::list(
                c,
                &p.id,
                status.as_deref(),
                job_type.as_deref(),
                limit + 1,
                after,
            )?)
        })
        .await?;
    let more = rows.len() as i64 > limit;
    let page: Vec<&JobRow> = rows.iter().take(limit as usize).collect();
    let mut out = json!({
        "jobs": page.iter().map(|j| j.to_json()).collect::<Vec<Value>>(),
        "list_complete": !more,
    });
    if more && let Some(last) = page.last() {
        out["cursor"] = json!(encode_cursor(&format!("{}:{}", last.created_at, last.id)));
    }
    Ok(Json(out).into_response())
}

pub async fn cancel(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let id = body
        .req_str("jobId", r#"{"jobId": "job_..."}"#)?
        .to_string();
    let jid = id.clone();
    let outcome = st
        .control(move |c| Ok(jobs::cancel(c, &p.id, &jid, now_ms())?))
        .await?;
    Ok(Json(match outcome {
        Some(Ok(())) => json!({"success": true, "status": "cancelled"}),
        Some(Err(status)) => json!({
            "success": false,
            "status": status,
            "note": format!("job {id} is '{status}'; only queued jobs can be cancelled"),
        }),
        None => json!({"success": false, "note": format!("no job {id} in this project")}),
    })
    .into_response())
}
