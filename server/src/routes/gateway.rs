//! The AI gateway (wire-facts §2.1 "Gateway", §2.6): local management of gateway APIs and
//! consumer keys (`/v1/local/gateway/*`, project key), the consumer's wallet and usage (consumer
//! key `ask_test_…` as `Authorization: Bearer`), and the billing log of the Worker server SDK
//! (`/v1/gateway/billing/log`, project key). Chat is in `gateway_chat.rs`, the WebSocket in
//! `gateway_ws.rs`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{ApiError, code};
use crate::extract::{JsonBody, Project};
use crate::state::AppState;
use crate::store::gateway::{self as store, ApiRec, ConsumerRec};

const API_USAGE: &str = r#"{"slug": "chat-api", "name": "Chat API", "model": "llama3.2"}"#;
const KEY_USAGE: &str = r#"{"api_slug": "chat-api", "name": "alice", "credits": 10000}"#;
const CREDIT_USAGE: &str = r#"{"consumer_id": "gcon_...", "tokens": 10000}"#;
const LOG_USAGE: &str =
    r#"{"consumerId": "gcon_...", "apiId": "gapi_...", "units": 42, "metric": "tokens"}"#;
pub const MAX_USAGE_DAYS: u32 = 365;
const CONSUMER_HELP: &str = "send the consumer key as `Authorization: Bearer ask_test_...` (create one with `aerostack-server gateway create-key <api-slug>` or POST /v1/local/gateway/keys)";

/// The caller of a consumer route: the consumer of the `Authorization: Bearer ask_…` key and its
/// API. A project key is refused here (401 naming what to send).
#[derive(Clone, Debug)]
pub struct Consumer {
    pub consumer: ConsumerRec,
    pub api: ApiRec,
}

impl Consumer {
    /// 403 unless `slug` names this key's API.
    pub fn check_api(&self, slug: &str, field: &str) -> Result<(), ApiError> {
        if slug == self.api.slug || slug == self.api.id {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            format!(
                "this consumer key belongs to the gateway API {:?}, not {slug:?}: use a key created for {slug:?}",
                self.api.slug
            ),
        )
        .with_detail("field", field))
    }
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The consumer of a key, or 401 AUTH_INVALID_KEY saying what to send.
pub(crate) async fn consumer_for(st: &AppState, key: Option<&str>) -> Result<Consumer, ApiError> {
    let Some(key) = key else {
        return Err(ApiError::unauthorized(
            code::AUTH_INVALID_KEY,
            format!("Missing consumer key: {CONSUMER_HELP}"),
        ));
    };
    if !store::is_consumer_key(key) {
        return Err(ApiError::unauthorized(
            code::AUTH_INVALID_KEY,
            format!(
                "gateway consumer routes take a consumer key (ask_test_...), not a project API key or user token: {CONSUMER_HELP}"
            ),
        ));
    }
    let owned = key.to_string();
    st.control(move |c| Ok(store::consumer_for_key(c, &owned)?))
        .await?
        .map(|(consumer, api)| Consumer { consumer, api })
        .ok_or_else(|| {
            ApiError::unauthorized(
                code::AUTH_INVALID_KEY,
                format!("Unknown consumer key: {CONSUMER_HELP}"),
            )
        })
}

impl FromRequestParts<AppState> for Consumer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        consumer_for(st, bearer(&parts.headers)).await
    }
}

fn query(uri: &Uri) -> HashMap<String, String> {
    Query::try_from_uri(uri).map(|q| q.0).unwrap_or_default()
}

// ---- management (local only, project key) ---------------------------------------------------

pub async fn create_api(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let slug = body.req_str("slug", API_USAGE)?.to_string();
    let name = body.opt_str("name", API_USAGE)?.map(str::to_string);
    let model = body.opt_str("model", API_USAGE)?.map(str::to_string);
    let api = st
        .control(move |c| store::create_api(c, &p.id, &slug, name.as_deref(), model.as_deref()))
        .await?;
    Ok((StatusCode::CREATED, Json(api)).into_response())
}

pub async fn list_apis(
    State(st): State<AppState>,
    Project(p): Project,
) -> Result<Response, ApiError> {
    let apis = st.control(move |c| Ok(store::list_apis(c, &p.id)?)).await?;
    Ok(Json(json!({ "apis": apis })).into_response())
}

pub async fn create_key(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let slug = body.req_str("api_slug", KEY_USAGE)?.to_string();
    let name = body.opt_str("name", KEY_USAGE)?.map(str::to_string);
    let credits = body.opt_i64("credits", KEY_USAGE)?.unwrap_or(0);
    let (api, consumer, key, wallet) = st
        .control(move |c| {
            let api = store::require_api(c, &p.id, &slug, "api_slug")?;
            let (consumer, key, wallet) =
                store::create_consumer(c, &api, name.as_deref(), credits)?;
            Ok((api, consumer, key, wallet))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "consumer_id": consumer.id, "api_id": api.id, "api_slug": api.slug, "key": key,
            "name": consumer.name, "wallet": wallet,
        })),
    )
        .into_response())
}

pub async fn credit(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let consumer_id = body.req_str("consumer_id", CREDIT_USAGE)?.to_string();
    let Some(tokens) = body.opt_i64("tokens", CREDIT_USAGE)? else {
        return Err(ApiError::validation(
            "tokens",
            format!("`tokens` is required: send {CREDIT_USAGE}"),
        ));
    };
    let wallet = st
        .control(move |c| {
            if store::find_consumer(c, &p.id, &consumer_id)?.is_none() {
                return Err(no_consumer(&consumer_id, "consumer_id"));
            }
            store::credit(c, &consumer_id, tokens)
        })
        .await?;
    Ok(Json(json!({ "wallet": wallet })).into_response())
}

fn no_consumer(id: &str, field: &str) -> ApiError {
    ApiError::not_found(format!(
        "no gateway consumer {id:?} in this project (consumer ids start with gcon_; POST /v1/local/gateway/keys answers them)"
    ))
    .with_detail("field", field)
}

// ---- the Worker server SDK's billing log (project key) -------------------------------------

pub async fn billing_log(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let consumer_id = body.req_str("consumerId", LOG_USAGE)?.to_string();
    // AerostackBilling.log names it `developerApiId`; the spec `apiId`.
    let api_id = match body.get_any(&["apiId", "developerApiId"]) {
        Some((_, Value::String(s))) if !s.is_empty() => s.clone(),
        Some((name, v)) => {
            return Err(ApiError::validation(
                name,
                format!(
                    "`{name}` must be a non-empty string (a gateway API id, gapi_...), got {v}: send {LOG_USAGE}"
                ),
            ));
        }
        None => {
            return Err(ApiError::validation(
                "apiId",
                format!("`apiId` is required: send {LOG_USAGE}"),
            ));
        }
    };
    let units = match body.get("units") {
        Some(v) => match v.as_i64() {
            Some(n) if n > 0 => n,
            _ => {
                return Err(ApiError::validation(
                    "units",
                    format!("`units` must be a positive integer, got {v}: send {LOG_USAGE}"),
                ));
            }
        },
        None => {
            return Err(ApiError::validation(
                "units",
                format!("`units` is required: send {LOG_USAGE}"),
            ));
        }
    };
    let _metric = body.opt_str("metric", LOG_USAGE)?.unwrap_or("units");
    st.control(move |c| {
        let (consumer, api) = store::find_consumer(c, &p.id, &consumer_id)?
            .ok_or_else(|| no_consumer(&consumer_id, "consumerId"))?;
        if api.id != api_id && api.slug != api_id {
            let exists = store::find_api(c, &p.id, &api_id)?.is_some();
            return Err(if exists {
                ApiError::not_found(format!(
                    "the consumer {consumer_id:?} is not a consumer of the gateway API {api_id:?} (it belongs to {})",
                    api.id
                ))
            } else {
                ApiError::not_found(format!(
                    "no gateway API {api_id:?} in this project (GET /v1/local/gateway/apis lists them)"
                ))
            }
            .with_detail("field", "apiId"));
        }
        store::record_usage(c, &consumer.id, &api.id, units, 1)?;
        Ok(())
    })
    .await?;
    Ok(Json(json!({"success": true, "loggedUnits": units})).into_response())
}

// ---- the consumer's wallet and usage ---------------------------------------------------------

pub async fn wallet(
    State(st): State<AppState>,
    who: Consumer,
    uri: Uri,
) -> Result<Response, ApiError> {
    if let Some(slug) = query(&uri).get("api_slug").filter(|s| !s.is_empty()) {
        who.check_api(slug, "api_slug")?;
    }
    let id = who.consumer.id.clone();
    let wallet = st.control(move |c| Ok(store::wallet(c, &id)?)).await?;
    Ok(Json(json!({ "wallet": wallet })).into_response())
}

pub async fn usage(
    State(st): State<AppState>,
    who: Consumer,
    uri: Uri,
) -> Result<Response, ApiError> {
    let q = query(&uri);
    if let Some(slug) = q.get("api_slug").filter(|s| !s.is_empty()) {
        who.check_api(slug, "api_slug")?;
    }
    let days = match q.get("days").filter(|s| !s.is_empty()) {
        None => 30,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=MAX_USAGE_DAYS).contains(&n) => n,
            _ => {
                return Err(ApiError::validation(
                    "days",
                    format!("`days` must be an integer between 1 and {MAX_USAGE_DAYS}, got {s:?}"),
                ));
            }
        },
    };
    let (id, api_id) = (who.consumer.id.clone(), who.api.id.clone());
    let rows = st
        .control(move |c| Ok(store::usage(c, &id, Some(&api_id), days)?))
        .await?;
    let total_tokens: i64 = rows.iter().map(|d| d.tokens).sum();
    let total_requests: i64 = rows.iter().map(|d| d.requests).sum();
    Ok(Json(json!({
        "total_tokens": total_tokens, "total_requests": total_requests, "days": rows,
    }))
    .into_response())
}
