//! `/v1/secrets/*` and the `.dev.vars` file that seeds the default project's secrets.

use std::path::Path;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{ApiError, ServerError};
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

/// Parse a `.dev.vars` file: `KEY=VALUE` lines, `#` comments, optional `export ` prefix,
/// optional single or double quotes (double quotes understand `\n`, `\t`, `\"`, `\\`).
/// A missing file is no secrets.
pub fn read_dev_vars(path: &Path) -> Result<Vec<(String, String)>, ServerError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ServerError::io(path, e)),
    };
    Ok(parse_dev_vars(&text))
}

pub fn parse_dev_vars(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let key = k.trim();
        if !control::valid_secret_name(key) {
            tracing::warn!(key, "ignoring .dev.vars entry with an invalid name");
            continue;
        }
        let v = v.trim();
        let value = if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            unescape(inner)
        } else if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            inner.to_string()
        } else {
            // Unquoted: a ` #` starts a trailing comment.
            v.split(" #").next().unwrap_or("").trim_end().to_string()
        };
        out.push((key.to_string(), value));
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_vars() {
        let vars = parse_dev_vars(
            "# c\nA=1\nexport B = \"two\\nlines\"\nC='x # y'\nD=plain # note\nbad line\n=x\n",
        );
        assert_eq!(
            vars,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two\nlines".into()),
                ("C".into(), "x # y".into()),
                ("D".into(), "plain".into()),
            ]
        );
    }
}
