//! `/v1/secrets/*` and the `.dev.vars` file that seeds the default project's secrets.


use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::extract::{JsonBody, Project};
use crate::state::AppState;
use crate::store::control;

const MAX_VALUE_BYTES: usize = 64 * 1024;
const SET_USAGE: &str = r#"{"key": "STRIPE_SECRET_KEY", "value": "sk_test_..."}"#;

fn req_name<'a>(body: &'a JsonBody, usage: &str) -> Result<&'a str, ApiError> {
    let key = body.req_str("key", usage)?;
    if !control::valid_secret_name(key) {
        return Err(ApiError::validation(
            "key",
            format!(
                "`key` {key:?} is not a valid secret name: use 1-256 letters, digits, '_', '.' or '-'"
            ),
        ));
    }
    Ok(key)
}

pub async fn get(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = req_name(&body, r#"{"key": "STRIPE_SECRET_KEY"}"#)?.to_string();
    let k = key.clone();
    let value = st
        .control(move |c| Ok(control::get_secret(c, &p.id, &k)?))
        .await?;
    Ok(Json(json!({"key": key, "exists": value.is_some(), "value": value})).into_response())
}

pub async fn set(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = req_name(&body, SET_USAGE)?.to_string();
    let value = match body.0.get("value") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(crate::extract::wrong_type(
                "value", "a string", other, SET_USAGE,
            ));
        }
        None => return Err(crate::extract::required("value", SET_USAGE)),
    };
    if value.len() > MAX_VALUE_BYTES {
        return Err(ApiError::validation(
            "value",
            format!(
                "`value` is {} bytes; secrets are limited to {MAX_VALUE_BYTES} bytes",
                value.len()
            ),
        ));
    }
    let k = key.clone();
    st.control(move |c| Ok(control::set_secret(c, &p.id, &k, &value)?))
        .await?;
    Ok(Json(json!({"success": true, "key": key})).into_response())
}

pub async fn list(State(st): State<AppState>, Project(p): Project) -> Result<Response, ApiError> {
    let keys = st
        .control(move |c| Ok(control::list_secrets(c, &p.id)?))
        .await?;
    Ok(Json(json!({"keys": keys})).into_response())
}

pub async fn delete(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = req_name(&body, r#"{"key": "STRIPE_SECRET_KEY"}"#)?.to_string();
    let deleted = st
        .control(move |c| Ok(control::delete_secret(c, &p.id, &key)?))
        .await?;
    Ok(Json(json!({"success": true, "deleted": deleted})).into_response())
}
