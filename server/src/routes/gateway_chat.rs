//! Gateway chat: `POST /api/gateway/{apiSlug}/v1/chat/completions` and
//! `POST /v1/ai/gateway/{apiSlug}/chat/completions` (one handler). The body is validated and sent
//! upstream like `/v1/ai/chat` (the functions of `ai.rs`); the answer is the upstream's JSON as is,
//! or its SSE passed through. The consumer's wallet is debited by the call's `usage.total_tokens`
//! (SSE: from a usage chunk when the upstream sent one, else estimated at ceil(chars / 4) of the
//! prompt and completion text), and the tokens and one request are counted for today.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::ai::{self, CHAT_USAGE};
use super::gateway::Consumer;
use crate::error::{ApiError, code};
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::store::gateway::{self as store, CREDIT_HELP};

/// Checks before a gateway chat call: the body (as `/v1/ai/chat`), the wallet, an upstream.
/// Returns the body to send upstream (model resolved) and the prompt's length in characters.
pub(crate) async fn prepare(
    st: &AppState,
    who: &Consumer,
    body: &JsonBody,
) -> Result<(Map<String, Value>, usize), ApiError> {
    ai::validate_chat(body)?;
    let id = who.consumer.id.clone();
    let wallet = st.control(move |c| Ok(store::wallet(c, &id)?)).await?;
    if let Some(reason) = wallet.refusal() {
        return Err(ApiError::new(
            StatusCode::PAYMENT_REQUIRED,
            code::INSUFFICIENT_CREDITS,
            format!("{reason}: {CREDIT_HELP}"),
        )
        .with_detail("consumer_id", who.consumer.id.clone())
        .with_detail("balance", wallet.balance)
        .with_detail(
            "suggestion",
            format!("aerostack-server gateway credit {} 10000", who.consumer.id),
        ));
    }
    // After the wallet: a consumer without credits is refused whatever the platform's setup.
    if st.ai.base_url.is_none() {
        return Err(ai::not_configured());
    }
    let requested = body.opt_str("model", CHAT_USAGE)?;
    let model = ai::resolve_model(st, requested, who.api.model.as_deref())?;
    let mut out = body.0.clone();
    out.insert("model".into(), json!(model));
    let prompt_chars = body
        .get("messages")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .filter_map(|m| m["content"].as_str())
                .map(|s| s.chars().count())
                .sum()
        })
        .unwrap_or(0);
    Ok((out, prompt_chars))
}

/// ceil(chars / 4): the SDKs' estimate when no usage is reported.
pub(crate) fn estimate(chars: usize) -> i64 {
    chars.div_ceil(4) as i64
}

/// Reads an upstream's SSE as it passes: the content deltas and the usage chunk, if any.
#[derive(Default)]
pub(crate) struct Meter {
    pending: Vec<u8>,
    usage: Option<Value>,
    completion_chars: usize,
}

impl Meter {
    /// Feed raw bytes; returns the content deltas of the complete `data:` lines among them.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut deltas = Vec::new();
        while let Some(nl) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim_end().strip_prefix("data:") else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(data.trim()) else {
                continue; // `[DONE]` and malformed frames
            };
            if v["usage"].is_object() {
                self.usage = Some(v["usage"].clone());
            }
            if let Some(c) = v
                .pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
                && !c.is_empty()
            {
                self.completion_chars += c.chars().count();
                deltas.push(c.to_string());
            }
        }
        deltas
    }

    /// `{prompt_tokens, completion_tokens, total_tokens}`: the upstream's, else estimated.
    pub fn usage(&self, prompt_chars: usize) -> Value {
        if let Some(u) = &self.usage
            && let Some(total) = total_of(u)
        {
            let mut u = u.clone();
            u["total_tokens"] = json!(total);
            return u;
        }
        let (p, c) = (estimate(prompt_chars), estimate(self.completion_chars));
        json!({
            "prompt_tokens": p, "completion_tokens": c,
            "total_tokens": estimate(prompt_chars + self.completion_chars),
        })
    }
}

/// `usage.total_tokens`, else prompt + completion tokens.
fn total_of(usage: &Value) -> Option<i64> {
    usage["total_tokens"]
        .as_i64()
        .or_else(|| Some(usage["prompt_tokens"].as_i64()? + usage["completion_tokens"].as_i64()?))
}

/// Debit a call's tokens and count one request for today.
pub(crate) async fn charge(st: &AppState, who: &Consumer, tokens: i64) -> Result<(), ApiError> {
    let (cid, aid) = (who.consumer.id.clone(), who.api.id.clone());
    st.control(move |c| Ok(store::record_usage(c, &cid, &aid, tokens.max(0), 1)?))
        .await?;
    Ok(())
}

/// The debit of a streamed call: done when the stream ends, or (client gone) when dropped.
struct StreamCharge {
    st: AppState,
    who: Consumer,
    prompt_chars: usize,
    meter: Meter,
    done: bool,
}

impl StreamCharge {
    async fn finish(&mut self) {
        if !self.done {
            self.done = true;
            let total = total_of(&self.meter.usage(self.prompt_chars)).unwrap_or(0);
            if let Err(e) = charge(&self.st, &self.who, total).await {
                tracing::warn!(error = %e, "gateway: could not record a streamed call's usage");
            }
        }
    }
}

impl Drop for StreamCharge {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (st, who) = (self.st.clone(), self.who.clone());
        let total = total_of(&self.meter.usage(self.prompt_chars)).unwrap_or(0);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = charge(&st, &who, total).await;
            });
        }
    }
}

pub async fn chat(
    State(st): State<AppState>,
    Path(api_slug): Path<String>,
    who: Consumer,
    body: JsonBody,
) -> Result<Response, ApiError> {
    who.check_api(&api_slug, "apiSlug")?;
    let (req_body, prompt_chars) = prepare(&st, &who, &body).await?;
    let stream = body.opt_bool("stream", CHAT_USAGE)?.unwrap_or(false);
    let (resp, url) = ai::send_chat(&st, req_body, stream).await?;
    if !stream {
        let answer = ai::read_answer(resp, &url).await?;
        let total = answer.get("usage").and_then(total_of).unwrap_or_else(|| {
            let content = answer
                .pointer("/choices/0/message/content")
                .and_then(Value::as_str)
                .unwrap_or("");
            estimate(prompt_chars + content.chars().count())
        });
        charge(&st, &who, total).await?;
        return Ok(Json(answer).into_response());
    }
    let charge = StreamCharge {
        st,
        who,
        prompt_chars,
        meter: Meter::default(),
        done: false,
    };
    // The debit is recorded before the stream's end reaches the client.
    let frames = futures_util::stream::unfold(
        (resp.bytes_stream(), charge),
        |(mut up, mut charge)| async move {
            if charge.done {
                return None;
            }
            match up.next().await {
                Some(Ok(bytes)) => {
                    charge.meter.feed(&bytes);
                    Some((Ok(bytes), (up, charge)))
                }
                Some(Err(e)) => {
                    charge.finish().await;
                    Some((Err(std::io::Error::other(e)), (up, charge)))
                }
                None => {
                    charge.finish().await;
                    None
                }
            }
        },
    );
    Ok(ai::sse_response(Body::from_stream(frames)))
}
