//! `POST /internal/hooks/rpc` (wire-facts §2.7): the HTTP fallback of the official Worker server
//! SDK (`AerostackServer` without Cloudflare bindings). Body `{method, args, projectId?}`,
//! `Authorization: Bearer <secret key>`; the answer is the method's raw result JSON.
//!
//! Every method runs the same code as its `/v1` route: the route's handler is called with the
//! arguments as its JSON body (so validation, limits, durability and realtime side effects are
//! the route's), and its answer is reshaped into the result the server SDK reads. The user and
//! email methods use the store functions of the auth routes.

use std::future::Future;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, code};
use crate::extract::{JsonBody, Project, type_name};
use crate::keys::key_candidates;
use crate::routes::{cache, db, queue};
use crate::state::{AppState, send_mail};
use crate::store::control::ProjectRec;
use crate::store::outbox::OutboxRow;
use crate::store::users;

const USAGE: &str = r#"{"method": "cache.get", "args": ["user:1"]}"#;

/// The message the official SDK documents for a public key (wire-facts §2.7).
pub const PUBLIC_KEY_MESSAGE: &str =
    "RPC endpoints require a secret API key. Public keys cannot access db/cache/storage/ai";

/// Room of `socket.emit` without one (as the hook SDK's `sdk.socket.emit`).
const DEFAULT_ROOM: &str = "general";

/// Every method, with its arguments (what the 400 for an unknown method lists).
pub const METHODS: &[(&str, &str)] = &[
    ("db.query", "[sql, params]"),
    ("db.batch", "[[{sql, params}]]"),
    ("cache.get", "[key]"),
    ("cache.set", "[key, value, ttl?]"),
    ("cache.delete", "[key]"),
    ("cache.list", "[prefix, {limit, cursor}]"),
    ("cache.keys", "[prefix]"),
    ("cache.getMany", "[keys]"),
    ("cache.setMany", "[[{key, value, ttl?}]]"),
    ("cache.deleteMany", "[keys]"),
    ("cache.flush", "[prefix]"),
    ("cache.expire", "[key, ttl]"),
    ("cache.increment", "[key, amount, {initialValue, ttl}]"),
    ("queue.enqueue", "[type, data, delay]"),
    ("queue.job", "[jobId]"),
    ("queue.jobs", "[{status, type, limit, cursor}]"),
    ("queue.cancel", "[jobId]"),
    ("socket.emit", "[event, data, roomId?]"),
    ("getUser", "[userId]"),
    ("getUserByEmail", "[email]"),
    ("sendEmail", "[to, subject, body]"),
];

pub async fn rpc(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let p = authenticate(&st, &headers).await?;
    let method = body.req_str("method", USAGE)?.to_string();
    let args = body.opt_array("args", USAGE)?.cloned().unwrap_or_default();
    if let Some(pid) = body.opt_str("projectId", USAGE)?
        && !pid.is_empty()
        && pid != p.id
        && pid != p.slug
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            format!(
                "projectId {pid:?} is not the project of this API key ({}); omit projectId or use this project's key",
                p.id
            ),
        )
        .with_detail("field", "projectId"));
    }
    let (name, sig) = lookup(&method)?;
    let result = call(&st, &p, name, Args(&args))
        .await
        .map_err(|e| in_method(e, name, sig))?;
    Ok(Json(result).into_response())
}

/// The project of a secret key (or a worker's scope token). A public credential (end-user
/// token, gateway consumer key, publishable key) is 403 with the SDK's documented text.
async fn authenticate(st: &AppState, headers: &HeaderMap) -> Result<Arc<ProjectRec>, ApiError> {
    match st.project_from_headers(headers).await {
        Ok(p) => Ok(p),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            if key_candidates(headers)
                .iter()
                .flatten()
                .any(|k| is_public_credential(k))
            {
                Err(ApiError::new(StatusCode::FORBIDDEN, code::FORBIDDEN, PUBLIC_KEY_MESSAGE)
                    .with_detail("hint", "send the project's secret key (ac_secret_...) as Authorization: Bearer <key>"))
            } else {
                Err(e)
            }
        }
        Err(e) => Err(e),
    }
}

/// Credentials that are not secret keys: publishable keys, gateway consumer keys, end-user JWTs.
fn is_public_credential(k: &str) -> bool {
    ["pk_", "ac_public_", "ask_"]
        .iter()
        .any(|p| k.starts_with(p))
        || (k.starts_with("eyJ") && k.split('.').count() == 3)
}

/// The canonical method name (the `auth.` prefix the issue names is accepted for the user and
/// email methods) and its signature.
fn lookup(method: &str) -> Result<(&'static str, &'static str), ApiError> {
    let bare = match method.strip_prefix("auth.") {
        Some(m @ ("getUser" | "getUserByEmail" | "sendEmail")) => m,
        _ => method,
    };
    METHODS
        .iter()
        .find(|(name, _)| *name == bare)
        .copied()
        .ok_or_else(|| {
            let known: Vec<&str> = METHODS.iter().map(|(n, _)| *n).collect();
            ApiError::validation(
                "method",
                format!(
                    "unknown RPC method {method:?}; the known methods are {} (getUser, getUserByEmail and sendEmail also as auth.getUser, ...)",
                    known.join(", ")
                ),
            )
            .with_detail("method", method)
            .with_detail("known", known)
        })
}

/// Say which method and arguments an error of the underlying route is about.
fn in_method(mut e: ApiError, name: &str, sig: &str) -> ApiError {
    if e.status.is_client_error() && e.code != code::AUTH_INVALID_KEY {
        e.message = format!("{name} {sig}: {}", e.message);
    }
    e.with_detail("method", name)
}

/// The positional arguments.
#[derive(Clone, Copy)]
struct Args<'a>(&'a [Value]);

impl Args<'_> {
    /// Argument `i`, `None` when absent or null.
    fn get(&self, i: usize) -> Option<&Value> {
        self.0.get(i).filter(|v| !v.is_null())
    }

    /// Argument `i` as an options object (`{}` when absent).
    fn options(&self, i: usize) -> Result<Map<String, Value>, ApiError> {
        match self.get(i) {
            None => Ok(Map::new()),
            Some(Value::Object(o)) => Ok(o.clone()),
            Some(other) => Err(ApiError::validation(
                &format!("args[{i}]"),
                format!(
                    "args[{i}] must be an options object, got {}",
                    type_name(other)
                ),
            )),
        }
    }
}

/// A JSON body from `(field, argument)` pairs, absent arguments left out.
fn body(pairs: &[(&str, Option<&Value>)]) -> Map<String, Value> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.clone())))
        .collect()
}

/// Run a `/v1` route's handler with `body` and read its JSON answer.
async fn v1<F, Fut>(
    handler: F,
    st: &AppState,
    p: &Arc<ProjectRec>,
    body: Map<String, Value>,
) -> Result<Value, ApiError>
where
    F: FnOnce(State<AppState>, Project, JsonBody) -> Fut,
    Fut: Future<Output = Result<Response, ApiError>>,
{
    let resp = handler(State(st.clone()), Project(p.clone()), JsonBody(body)).await?;
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .map_err(|e| ApiError::internal(format!("reading the route's answer: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::internal(format!("the route's answer is not JSON: {e}")))
}

async fn call(
    st: &AppState,
    p: &Arc<ProjectRec>,
    method: &str,
    a: Args<'_>,
) -> Result<Value, ApiError> {
    Ok(match method {
        "db.query" => {
            let mut out = v1(
                db::query,
                st,
                p,
                body(&[("sql", a.get(0)), ("params", a.get(1))]),
            )
            .await?;
            // The server SDK's DatabaseResponse: {results, success, meta: {target, rowCount,
            // duration}} (our meta fields stay).
            let count = out["count"].clone();
            if let Some(meta) = out.get_mut("meta").and_then(Value::as_object_mut) {
                let duration = meta.get("duration_ms").cloned().unwrap_or(Value::Null);
                meta.insert("target".into(), json!("d1"));
                meta.insert("rowCount".into(), count);
                meta.insert("duration".into(), duration);
            }
            out
        }
        "db.batch" => v1(db::batch, st, p, body(&[("queries", a.get(0))])).await?,
        "cache.get" => {
            let out = v1(cache::get, st, p, body(&[("key", a.get(0))])).await?;
            out.get("value").cloned().unwrap_or(Value::Null)
        }
        "cache.set" => {
            // `ttl` as seconds, or the options object `{ttl}` / `{expirationTtl}`.
            let ttl = match a.get(2) {
                Some(Value::Object(o)) => o
                    .get("ttl")
                    .or_else(|| o.get("expirationTtl"))
                    .filter(|v| !v.is_null()),
                other => other,
            };
            let mut b = body(&[("key", a.get(0)), ("ttl", ttl)]);
            b.insert("value".into(), a.0.get(1).cloned().unwrap_or(Value::Null));
            v1(cache::set, st, p, b).await?
        }
        "cache.delete" => v1(cache::delete, st, p, body(&[("key", a.get(0))])).await?,
        "cache.list" => {
            let mut b = a.options(1)?;
            b.retain(|k, _| k == "limit" || k == "cursor");
            if let Some(prefix) = a.get(0) {
                b.insert("prefix".into(), prefix.clone());
            }
            let out = v1(cache::list, st, p, b).await?;
            // `name` (the KV list shape), never `key`; `expiration` only when the key has one.
            let keys: Vec<Value> = out["keys"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|k| {
                    let mut e = json!({"name": k["name"]});
                    if !k["expiration"].is_null() {
                        e["expiration"] = k["expiration"].clone();
                    }
                    e
                })
                .collect();
            let mut res = json!({"keys": keys, "list_complete": out["list_complete"]});
            if let Some(c) = out.get("cursor") {
                res["cursor"] = c.clone();
            }
            res
        }
        "cache.keys" => {
            let out = v1(cache::keys, st, p, body(&[("prefix", a.get(0))])).await?;
            out["keys"].clone()
        }
        "cache.getMany" => {
            let out = v1(cache::get_many, st, p, body(&[("keys", a.get(0))])).await?;
            let items: Vec<Value> = out["results"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| json!({"key": r["key"], "value": r["value"]}))
                .collect();
            Value::Array(items)
        }
        "cache.setMany" => v1(cache::set_many, st, p, body(&[("entries", a.get(0))])).await?,
        "cache.deleteMany" => v1(cache::delete_many, st, p, body(&[("keys", a.get(0))])).await?,
        "cache.flush" => {
            let out = v1(cache::flush, st, p, body(&[("prefix", a.get(0))])).await?;
            json!({"deleted": out["deleted"]})
        }
        "cache.expire" => {
            let out = v1(
                cache::expire,
                st,
                p,
                body(&[("key", a.get(0)), ("ttl", a.get(1))]),
            )
            .await?;
            json!({"success": out["success"]})
        }
        "cache.increment" => {
            let mut b = a.options(2)?;
            b.retain(|k, _| k == "initialValue" || k == "ttl");
            b.extend(body(&[("key", a.get(0)), ("amount", a.get(1))]));
            let out = v1(cache::increment, st, p, b).await?;
            json!({"value": out["value"]})
        }
        "queue.enqueue" => {
            let mut b = body(&[("type", a.get(0)), ("delay", a.get(2))]);
            // `data` is required by the route; a job without a payload carries null.
            b.insert("data".into(), a.0.get(1).cloned().unwrap_or(Value::Null));
            let out = v1(queue::enqueue, st, p, b).await?;
            json!({"jobId": out["jobId"]})
        }
        "queue.job" => v1(queue::job, st, p, body(&[("jobId", a.get(0))])).await?,
        "queue.jobs" => v1(queue::jobs, st, p, a.options(0)?).await?,
        "queue.cancel" => v1(queue::cancel, st, p, body(&[("jobId", a.get(0))])).await?,
        "socket.emit" => {
            let room = a.get(2).cloned().unwrap_or(json!(DEFAULT_ROOM));
            let mut b = body(&[("event", a.get(0)), ("room", Some(&room))]);
            b.insert("data".into(), a.0.get(1).cloned().unwrap_or(Value::Null));
            v1(crate::realtime::emit::emit, st, p, b).await?
        }
        "getUser" => {
            let id = string_arg(a, 0, "userId")?;
            let pid = p.id.clone();
            st.control(move |c| Ok(users::by_id(c, &pid, &id)?))
                .await?
                .map_or(Value::Null, |u| u.public_json())
        }
        "getUserByEmail" => {
            let email = string_arg(a, 0, "email")?;
            let pid = p.id.clone();
            st.control(move |c| Ok(users::by_email(c, &pid, &email)?))
                .await?
                .map_or(Value::Null, |u| u.public_json())
        }
        "sendEmail" => {
            let to = string_arg(a, 0, "to")?;
            if !to.contains('@') {
                return Err(ApiError::validation(
                    "args[0]",
                    format!("args[0] (to) must be an email address, got {to:?}"),
                ));
            }
            let subject = string_arg(a, 1, "subject")?;
            let text = match a.get(2) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let pid = p.id.clone();
            let m = st
                .control(move |c| {
                    Ok(send_mail(
                        c,
                        &pid,
                        OutboxRow {
                            to,
                            kind: "email".into(),
                            subject,
                            body: text,
                            ..Default::default()
                        },
                    )?)
                })
                .await?;
            json!({"success": true, "id": m.id})
        }
        other => {
            return Err(ApiError::internal(format!(
                "RPC method {other} is listed but not dispatched"
            )));
        }
    })
}

/// A required non-empty string argument.
fn string_arg(a: Args<'_>, i: usize, name: &str) -> Result<String, ApiError> {
    match a.get(i) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(other) => Err(ApiError::validation(
            &format!("args[{i}]"),
            format!(
                "args[{i}] ({name}) must be a non-empty string, got {}",
                type_name(other)
            ),
        )),
        None => Err(ApiError::validation(
            &format!("args[{i}]"),
            format!("args[{i}] ({name}) is required"),
        )),
    }
}
