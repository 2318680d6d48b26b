//! Gateway chat: `POST /api/gateway/{apiSlug}/v1/chat/completions` and
//! `POST /v1/ai/gateway/{apiSlug}/chat/completions` (one handler). The body is validated and sent
//! upstream like `/v1/ai/chat` (the functions of `ai.rs`); the answer is the upstream's JSON as is,
//! or its SSE passed through. Before the call, about the prompt's tokens are held on the
//! consumer's wallet (`gateway_hold`: concurrent calls cannot all pass one balance check); when it
//! ends the hold is settled: the wallet is debited by the call's `usage.total_tokens`
//! (SSE: from a usage chunk when the upstream sent one, else estimated at ceil(chars / 4) of the
//! prompt and completion text), and the tokens and one request are counted for today.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::ai::{self, CHAT_USAGE};
use super::gateway::Consumer;
use super::gateway_hold::Hold;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::AppState;

/// Checks before a gateway chat call: the body (as `/v1/ai/chat`), an upstream, and a hold on
/// the wallet of about the prompt's tokens (402 when the balance, less what the consumer's calls
/// in progress hold, cannot cover it). Returns the body to send upstream (model resolved), the
/// prompt's length in characters and the hold, which the caller settles when the call ends.
pub(crate) async fn prepare(
    st: &AppState,
    who: &Consumer,
    body: &JsonBody,
) -> Result<(Map<String, Value>, usize, Hold), ApiError> {
    ai::validate_chat(body)?;
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
    let hold = Hold::reserve(st, who, estimate(prompt_chars).max(1)).await?;
    // After the wallet: a consumer without credits is refused whatever the platform's setup.
    let checked = (|| {
        if st.ai.base_url.is_none() {
            return Err(ai::not_configured());
        }
        let requested = body.opt_str("model", CHAT_USAGE)?;
        ai::resolve_model(st, requested, who.api.model.as_deref())
    })();
    let model = match checked {
        Ok(m) => m,
        Err(e) => {
            hold.release().await;
            return Err(e);
        }
    };
    let mut out = body.0.clone();
    out.insert("model".into(), json!(model));
    Ok((out, prompt_chars, hold))
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

/// The debit of a streamed call: its hold is settled when the stream ends, or (client gone)
/// when dropped, with the tokens metered so far.
struct StreamCharge {
    hold: Option<Hold>,
    prompt_chars: usize,
    meter: Meter,
}

impl StreamCharge {
    fn total(&self) -> i64 {
        total_of(&self.meter.usage(self.prompt_chars)).unwrap_or(0)
    }

    fn done(&self) -> bool {
        self.hold.is_none()
    }

    async fn finish(&mut self) {
        if let Some(hold) = self.hold.take() {
            let total = self.total();
            if let Err(e) = hold.settle(total).await {
                tracing::warn!(error = %e, "gateway: could not record a streamed call's usage");
            }
        }
    }
}

impl Drop for StreamCharge {
    fn drop(&mut self) {
        if let Some(hold) = self.hold.take() {
            hold.settle_later(self.total());
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
    let stream = body.opt_bool("stream", CHAT_USAGE)?.unwrap_or(false);
    let (req_body, prompt_chars, hold) = prepare(&st, &who, &body).await?;
    // No answer from the upstream: the hold ends without a debit (the client going away while
    // waiting drops it, which does the same).
    let (resp, url) = match ai::send_chat(&st, req_body, stream).await {
        Ok(v) => v,
        Err(e) => {
            hold.release().await;
            return Err(e);
        }
    };
    if !stream {
        let answer = match ai::read_answer(resp, &url).await {
            Ok(a) => a,
            Err(e) => {
                hold.release().await;
                return Err(e);
            }
        };
        let total = answer.get("usage").and_then(total_of).unwrap_or_else(|| {
            let content = answer
                .pointer("/choices/0/message/content")
                .and_then(Value::as_str)
                .unwrap_or("");
            estimate(prompt_chars + content.chars().count())
        });
        hold.settle(total).await?;
        return Ok(Json(answer).into_response());
    }
    let charge = StreamCharge {
        hold: Some(hold),
        prompt_chars,
        meter: Meter::default(),
    };
    // The debit is recorded before the stream's end reaches the client.
    let frames = futures_util::stream::unfold(
        (resp.bytes_stream(), charge),
        |(mut up, mut charge)| async move {
            if charge.done() {
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
