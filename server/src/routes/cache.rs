//! `/v1/cache/*`: values are any JSON and come back as JSON. Served from memory; TTLs are exact
//! (an expired key is never returned by any call).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::extract::{JsonBody, Project, as_integer, type_name};
use crate::state::AppState;
use crate::store::cache::IncrError;
use crate::util::{decode_cursor, encode_cursor, now_ms};

pub const MAX_KEY_BYTES: usize = 512;
pub const MAX_GET_MANY: usize = 100;
pub const MAX_SET_MANY: usize = 100;
pub const MAX_DELETE_MANY: usize = 500;
pub const MAX_LIST: i64 = 1000;
pub const DEFAULT_LIST: i64 = 100;
pub const KEYS_CAP: usize = 10_000;
pub const FLUSH_CAP: usize = 10_000;
/// Ten years: keeps `now + ttl` far from overflow.
const MAX_TTL: i64 = 10 * 365 * 24 * 3600;

fn json_text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub fn check_key(key: &str, field: &str) -> Result<(), ApiError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(ApiError::validation(
            field,
            format!(
                "`{field}` is {} bytes; cache keys are limited to {MAX_KEY_BYTES} bytes",
                key.len()
            ),
        ));
    }
    Ok(())
}

fn req_key<'a>(body: &'a JsonBody, usage: &str) -> Result<&'a str, ApiError> {
    let key = body.req_str("key", usage)?;
    check_key(key, "key")?;
    Ok(key)
}

/// A TTL in seconds: a positive integer, or absent/null for no expiry.
fn parse_ttl(v: Option<&Value>, field: &str) -> Result<Option<i64>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match as_integer(v) {
            Some(t) if t > 0 && t <= MAX_TTL => Ok(Some(t)),
            _ => Err(ApiError::validation(
                field,
                format!(
                    "`{field}` must be a positive integer number of seconds (e.g. 60), got {v}; omit it for no expiry"
                ),
            )),
        },
    }
}

fn expiry(ttl: Option<i64>, now: i64) -> Option<i64> {
    ttl.map(|t| now + t * 1000)
}

/// The stored form of a value: compact JSON text.
fn value_text(v: &Value) -> Arc<str> {
    Arc::from(v.to_string())
}

pub async fn get(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = req_key(&body, r#"{"key": "user:1"}"#)?;
    Ok(json_text(match st.cache.get(&p.id, key, now_ms()) {
        Some(v) => {
            let mut s = String::with_capacity(v.len() + 28);
            s.push_str("{\"value\":");
            s.push_str(&v);
            s.push_str(",\"exists\":true}");
            s
        }
        None => "{\"value\":null,\"exists\":false}".to_string(),
    }))
}

const SET_USAGE: &str = r#"{"key": "user:1", "value": {"name": "Jane"}, "ttl": 60}"#;

pub async fn set(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = req_key(&body, SET_USAGE)?.to_string();
    let Some(value) = body.0.get("value") else {
        return Err(ApiError::validation(
            "value",
            format!("`value` is required (any JSON, null included): send {SET_USAGE}"),
        ));
    };
    let ttl = parse_ttl(body.0.get("ttl"), "ttl")?;
    let now = now_ms();
    st.cache
        .set(&p.id, key, value_text(value), expiry(ttl, now));
    durable(&st).await?;
    Ok(json_text("{\"success\":true}".into()))
}

pub async fn delete(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = req_key(&body, r#"{"key": "user:1"}"#)?;
    let deleted = st.cache.delete(&p.id, key, now_ms());
    durable(&st).await?;
    Ok(axum::Json(json!({"success": true, "deleted": deleted})).into_response())
}

pub async fn get_many(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let keys = body.req_str_list("keys", MAX_GET_MANY, r#"{"keys": ["a", "b"]}"#)?;
    let now = now_ms();
    let mut s = String::from("{\"results\":[");
    for (i, key) in keys.iter().enumerate() {
        check_key(key, &format!("keys[{i}]"))?;
        if i > 0 {
            s.push(',');
        }
        s.push_str("{\"key\":");
        s.push_str(&serde_json::to_string(key).unwrap_or_default());
        match st.cache.get(&p.id, key, now) {
            Some(v) => {
                let _ = write!(s, ",\"value\":{v},\"exists\":true}}");
            }
            None => s.push_str(",\"value\":null,\"exists\":false}"),
        }
    }
    s.push_str("]}");
    Ok(json_text(s))
}

const SET_MANY_USAGE: &str = r#"{"entries": [{"key": "a", "value": 1, "ttl": 60}]}"#;

pub async fn set_many(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let entries = body.req_array("entries", SET_MANY_USAGE)?;
    if entries.len() > MAX_SET_MANY {
        return Err(ApiError::validation(
            "entries",
            format!(
                "`entries` holds {} items; at most {MAX_SET_MANY} per call: split it into several calls",
                entries.len()
            ),
        ));
    }
    let now = now_ms();
    // Validate everything before writing anything.
    let mut parsed = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let Value::Object(e) = e else {
            return Err(ApiError::validation(
                &format!("entries[{i}]"),
                format!(
                    "`entries[{i}]` must be an object, got {}: send {SET_MANY_USAGE}",
                    type_name(e)
                ),
            ));
        };
        let key = match e.get("key") {
            Some(Value::String(k)) if !k.is_empty() => k.clone(),
            _ => {
                return Err(ApiError::validation(
                    &format!("entries[{i}].key"),
                    format!("`entries[{i}].key` must be a non-empty string: send {SET_MANY_USAGE}"),
                ));
            }
        };
        check_key(&key, &format!("entries[{i}].key"))?;
        let Some(value) = e.get("value") else {
            return Err(ApiError::validation(
                &format!("entries[{i}].value"),
                format!("`entries[{i}].value` is required: send {SET_MANY_USAGE}"),
            ));
        };
        let ttl = parse_ttl(e.get("ttl"), &format!("entries[{i}].ttl"))?;
        parsed.push((key, value_text(value), expiry(ttl, now)));
    }
    let count = parsed.len();
    st.cache.set_many(&p.id, parsed);
    durable(&st).await?;
    Ok(axum::Json(json!({"success": true, "count": count})).into_response())
}

pub async fn delete_many(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let keys = body.req_str_list("keys", MAX_DELETE_MANY, r#"{"keys": ["a", "b"]}"#)?;
    let deleted = st.cache.delete_many(&p.id, &keys, now_ms());
    durable(&st).await?;
    Ok(
        axum::Json(json!({"success": true, "count": keys.len(), "deleted": deleted}))
            .into_response(),
    )
}

fn prefix<'a>(body: &'a JsonBody, usage: &str) -> Result<&'a str, ApiError> {
    Ok(body.opt_str("prefix", usage)?.unwrap_or(""))
}

pub async fn list(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    const USAGE: &str =
        r#"{"prefix": "user:", "limit": 100, "cursor": "<cursor from the previous page>"}"#;
    let prefix = prefix(&body, USAGE)?;
    let limit = body.opt_i64("limit", USAGE)?.unwrap_or(DEFAULT_LIST);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            format!("`limit` must be between 1 and {MAX_LIST}, got {limit}"),
        ));
    }
    let after = match body.opt_str("cursor", USAGE)? {
        Some(c) if !c.is_empty() => Some(decode_cursor(c).ok_or_else(|| {
            ApiError::validation("cursor", "`cursor` is not a cursor returned by /cache/list: pass the `cursor` of the previous page, or omit it")
        })?),
        _ => None,
    };
    let (keys, more) = st
        .cache
        .list(&p.id, prefix, after.as_deref(), limit as usize, now_ms());
    let cursor = if more {
        keys.last().map(|(k, _)| encode_cursor(k))
    } else {
        None
    };
    let keys: Vec<Value> = keys
        .into_iter()
        .map(|(k, exp)| json!({"key": k, "name": k, "expiration": exp.map(|e| (e + 999) / 1000)}))
        .collect();
    let mut out = json!({"keys": keys, "list_complete": !more});
    if let Some(c) = cursor {
        out["cursor"] = json!(c);
    }
    Ok(axum::Json(out).into_response())
}

pub async fn keys(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let prefix = prefix(&body, r#"{"prefix": "user:"}"#)?;
    let (keys, more) = st.cache.list(&p.id, prefix, None, KEYS_CAP, now_ms());
    let keys: Vec<String> = keys.into_iter().map(|(k, _)| k).collect();
    Ok(axum::Json(json!({"keys": keys, "truncated": more})).into_response())
}

pub async fn flush(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let prefix = prefix(
        &body,
        r#"{"prefix": "session:"} (omit prefix to delete every key of the project)"#,
    )?;
    st.limiter.check(
        format!("flush:{}", p.id),
        st.limits.cache_flush,
        "cache flushes for this project",
    )?;
    let (deleted, more) = st.cache.flush(&p.id, prefix, FLUSH_CAP, now_ms());
    durable(&st).await?;
    Ok(axum::Json(json!({"success": true, "deleted": deleted, "truncated": more})).into_response())
}

pub async fn expire(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"key": "user:1", "ttl": 60}"#;
    let key = req_key(&body, USAGE)?;
    let Some(ttl) = parse_ttl(body.0.get("ttl"), "ttl")? else {
        return Err(ApiError::validation(
            "ttl",
            format!("`ttl` is required (seconds from now): send {USAGE}"),
        ));
    };
    let now = now_ms();
    let ok = st.cache.expire(&p.id, key, now + ttl * 1000, now);
    durable(&st).await?;
    Ok(axum::Json(json!({"success": ok})).into_response())
}

pub async fn increment(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"key": "visits", "amount": 1, "initialValue": 0, "ttl": 3600}"#;
    let key = req_key(&body, USAGE)?;
    let amount = body.opt_i64("amount", USAGE)?.unwrap_or(1);
    let initial = match body.get_any(&["initialValue", "initial_value", "initial"]) {
        None => 0,
        Some((name, v)) => as_integer(v).ok_or_else(|| {
            ApiError::validation(name, format!("`{name}` must be an integer: send {USAGE}"))
        })?,
    };
    let ttl = parse_ttl(body.0.get("ttl"), "ttl")?;
    let now = now_ms();
    match st
        .cache
        .increment(&p.id, key, amount, initial, expiry(ttl, now), now)
    {
        Ok(value) => {
            durable(&st).await?;
            Ok(axum::Json(json!({"value": value, "success": true})).into_response())
        }
        Err(IncrError::NotInteger) => Err(ApiError::validation(
            "key",
            format!(
                "cannot increment {key:?}: its value is not an integer. Delete it or set it to a number first"
            ),
        )),
        Err(IncrError::Overflow) => Err(ApiError::validation(
            "amount",
            "the increment would overflow a 64-bit integer",
        )),
    }
}

/// Wait until the change just made is committed (a kill -9 after the answer loses nothing); a
/// change that could not be saved is a 503, never acknowledged. Call right after the change.
fn durable(st: &AppState) -> impl std::future::Future<Output = Result<(), ApiError>> + use<> {
    let wait = st.cache.durable();
    async move {
        wait.await.map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                crate::error::code::INTERNAL_ERROR,
                format!("the cache change could not be saved to disk ({e:?}); it may or may not be visible until the platform restarts: retry the call"),
            )
        })
    }
}
