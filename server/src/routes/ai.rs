//! `/v1/ai/chat` (forwarded to a configured OpenAI-compatible server) and `/v1/ai/embed` (the
//! built-in offline embedding).

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use serde_json::{Value, json};

use crate::embed;
use crate::error::{ApiError, code};
use crate::extract::{JsonBody, Project, type_name};
use crate::state::AppState;

pub(crate) const CHAT_USAGE: &str =
    r#"{"messages": [{"role": "user", "content": "Hello"}], "model": "llama3.2"}"#;
const ROLES: [&str; 3] = ["system", "user", "assistant"];
/// Local models can be slow; a non-streaming answer may take minutes.
const CHAT_TIMEOUT: Duration = Duration::from_secs(300);

pub(crate) fn not_configured() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        code::AI_NOT_CONFIGURED,
        "AI chat needs an OpenAI-compatible server and none is configured. Set AEROSTACK_AI_BASE_URL \
         (e.g. http://127.0.0.1:11434/v1 for Ollama), AEROSTACK_AI_MODEL (e.g. llama3.2) and, if the \
         server needs one, AEROSTACK_AI_API_KEY, then restart the platform. Embeddings and \
         /v1/ai/search work offline without it.",
    )
    .with_detail("env", json!(["AEROSTACK_AI_BASE_URL", "AEROSTACK_AI_API_KEY", "AEROSTACK_AI_MODEL"]))
    .with_detail("example_base_url", "http://127.0.0.1:11434/v1")
}

pub(crate) fn validate_chat(body: &JsonBody) -> Result<(), ApiError> {
    let messages = body.req_array("messages", CHAT_USAGE)?;
    if messages.is_empty() {
        return Err(ApiError::validation(
            "messages",
            format!("`messages` is empty: send at least one message, e.g. {CHAT_USAGE}"),
        ));
    }
    for (i, m) in messages.iter().enumerate() {
        let Value::Object(m) = m else {
            return Err(ApiError::validation(
                &format!("messages[{i}]"),
                format!(
                    "`messages[{i}]` must be an object like {{\"role\": \"user\", \"content\": \"Hello\"}}, got {}",
                    type_name(m)
                ),
            ));
        };
        match m.get("role") {
            Some(Value::String(r)) if ROLES.contains(&r.as_str()) => {}
            other => {
                return Err(ApiError::validation(
                    &format!("messages[{i}].role"),
                    format!(
                        "`messages[{i}].role` must be one of system, user, assistant; got {}",
                        other.map_or("nothing".to_string(), |v| v.to_string())
                    ),
                ));
            }
        }
        if !matches!(m.get("content"), Some(Value::String(_))) {
            return Err(ApiError::validation(
                &format!("messages[{i}].content"),
                format!("`messages[{i}].content` must be a string: send {CHAT_USAGE}"),
            ));
        }
    }
    let range = |name: &str, lo: f64, hi: f64| -> Result<(), ApiError> {
        match body.get(name) {
            None => Ok(()),
            Some(v) => match v.as_f64() {
                Some(x) if x >= lo && x <= hi => Ok(()),
                _ => Err(ApiError::validation(
                    name,
                    format!("`{name}` must be a number between {lo} and {hi}, got {v}"),
                )),
            },
        }
    };
    range("temperature", 0.0, 2.0)?;
    range("top_p", 0.0, 1.0)?;
    if let Some(v) = body.get("max_tokens")
        && v.as_i64().is_none_or(|n| n < 1)
    {
        return Err(ApiError::validation(
            "max_tokens",
            format!("`max_tokens` must be an integer >= 1, got {v}"),
        ));
    }
    Ok(())
}

fn upstream_error(status: reqwest::StatusCode, body: &str, url: &str) -> ApiError {
    let snippet: String = body.chars().take(2000).collect();
    let upstream_message = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("error"))
            .and_then(|m| m.as_str().map(str::to_string))
    });
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        code::AI_REQUEST_FAILED,
        format!(
            "the AI server at {url} answered {status}: {}",
            upstream_message.unwrap_or_else(|| snippet.clone())
        ),
    )
    .with_detail("upstream_status", status.as_u16())
    .with_detail("upstream_body", snippet)
}

pub async fn chat(
    State(st): State<AppState>,
    Project(_p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    validate_chat(&body)?;
    if st.ai.base_url.is_none() {
        return Err(not_configured());
    }
    let mut req_body = body.0.clone();
    let requested = body.opt_str("model", CHAT_USAGE)?;
    req_body.insert("model".into(), json!(resolve_model(&st, requested, None)?));
    let stream = body.opt_bool("stream", CHAT_USAGE)?.unwrap_or(false);
    let (resp, url) = send_chat(&st, req_body, stream).await?;
    if stream {
        return Ok(sse_response(Body::from_stream(
            resp.bytes_stream().map_err(std::io::Error::other),
        )));
    }
    let mut answer = read_answer(resp, &url).await?;
    let content = answer
        .pointer("/choices/0/message/content")
        .cloned()
        .unwrap_or(Value::Null);
    if let Value::Object(m) = &mut answer {
        m.insert("response".into(), content);
    }
    Ok(Json(answer).into_response())
}

/// The model to ask the upstream for: the request's, else `fallback` (a gateway API's model),
/// else AEROSTACK_AI_MODEL. Workers AI names (`@cf/...`, the official SDKs' default) mean
/// nothing to a local server, so they give way to AEROSTACK_AI_MODEL when it is set.
pub(crate) fn resolve_model(
    st: &AppState,
    requested: Option<&str>,
    fallback: Option<&str>,
) -> Result<String, ApiError> {
    let candidate = requested
        .filter(|m| !m.is_empty())
        .or(fallback.filter(|m| !m.is_empty()));
    match (candidate, st.ai.model.as_deref()) {
        (Some(m), Some(configured)) if m.starts_with("@cf/") => Ok(configured.to_string()),
        (Some(m), _) => Ok(m.to_string()),
        (None, Some(configured)) => Ok(configured.to_string()),
        (None, None) => Err(ApiError::validation(
            "model",
            format!(
                "`model` is required because AEROSTACK_AI_MODEL is not set: send {CHAT_USAGE} or start the platform with AEROSTACK_AI_MODEL"
            ),
        )),
    }
}

/// POST a chat body (model already resolved) to the configured upstream; a non-2xx answer is
/// 502 AI_REQUEST_FAILED. Returns the response and the URL (for later error messages).
pub(crate) async fn send_chat(
    st: &AppState,
    body: serde_json::Map<String, Value>,
    stream: bool,
) -> Result<(reqwest::Response, String), ApiError> {
    let Some(base) = st.ai.base_url.as_deref() else {
        return Err(not_configured());
    };
    let url = format!("{}/chat/completions", base.trim_end_matches('/'));
    let mut req = st.http.post(&url).json(&Value::Object(body));
    if let Some(key) = st.ai.api_key.as_deref() {
        req = req.bearer_auth(key);
    }
    if !stream {
        req = req.timeout(CHAT_TIMEOUT);
    }
    let resp = req.send().await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            code::AI_REQUEST_FAILED,
            format!("could not reach the AI server at {url}: {e}. Is it running? (AEROSTACK_AI_BASE_URL={base})"),
        )
    })?;
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        return Err(upstream_error(status, &text, &url));
    }
    Ok((resp, url))
}

/// The upstream's non-streaming JSON answer.
pub(crate) async fn read_answer(resp: reqwest::Response, url: &str) -> Result<Value, ApiError> {
    let status = resp.status();
    let text = resp.text().await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            code::AI_REQUEST_FAILED,
            format!("reading the AI server's answer failed: {e}"),
        )
    })?;
    serde_json::from_str(&text).map_err(|_| upstream_error(status, &text, url))
}

/// A `text/event-stream` response around `body` (SSE frames passed through as they arrive).
pub(crate) fn sse_response(body: Body) -> Response {
    let mut out = Response::new(body);
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out
}

pub async fn embed(Project(_p): Project, body: JsonBody) -> Result<Response, ApiError> {
    let text = body.req_str("text", r#"{"text": "red running shoes"}"#)?;
    let embedding = embed::embed(text).ok_or_else(|| {
        ApiError::validation(
            "text",
            "`text` has no letters or digits to embed: send some words",
        )
    })?;
    Ok(
        Json(json!({"embedding": embedding, "model": embed::MODEL, "dimensions": embed::DIMS}))
            .into_response(),
    )
}
