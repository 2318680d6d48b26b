//! `GET /api/gateway/{apiSlug}/ws`: gateway chat over a WebSocket. sdk-core's
//! `gateway.connectWebSocket` authenticates with the subprotocol `bearer-<consumerKey>` (echoed
//! back); `Authorization: Bearer` works too for clients that can set headers.
//!
//! The message format is OURS: public sources show the URL and the subprotocol but no frames.
//! Client: `{"type": "chat", "messages": [...], "model"?}` (validated like `/v1/ai/chat`) or
//! `{"type": "ping"}`. Server: `{"type": "token", "content"}` per streamed delta, then
//! `{"type": "done", "usage": {prompt_tokens, completion_tokens, total_tokens}}`; or
//! `{"type": "error", "code", "message"}` (the connection stays open); `{"type": "pong"}`.
//! Wallet and usage rules are those of the HTTP chat.

use std::time::Duration;

use axum::extract::ws::{
    CloseFrame, Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};

use super::ai;
use super::gateway::{Consumer, bearer, consumer_for};
use super::gateway_chat::{Meter, prepare};
use crate::error::{ApiError, code};
use crate::extract::{JsonBody, type_name};
use crate::state::AppState;

/// A connection silent for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
pub const MAX_FRAME_BYTES: usize = 1 << 20;
const SUBPROTOCOL_PREFIX: &str = "bearer-";

pub async fn socket(
    State(st): State<AppState>,
    Path(api_slug): Path<String>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(|e| {
        ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            code::VALIDATION_ERROR,
            format!("/api/gateway/{api_slug}/ws is a WebSocket endpoint: connect with a WebSocket client and the subprotocol `bearer-<consumer key>` ({e})"),
        )
    })?;
    let protocols = crate::extract::ws_protocols(&headers);
    let chosen = protocols
        .iter()
        .find(|p| p.starts_with(SUBPROTOCOL_PREFIX))
        .cloned();
    let key = chosen
        .as_deref()
        .and_then(|p| p.strip_prefix(SUBPROTOCOL_PREFIX))
        .or_else(|| bearer(&headers));
    let who = consumer_for(&st, key).await?;
    who.check_api(&api_slug, "apiSlug")?;
    let mut ws = ws.max_message_size(MAX_FRAME_BYTES);
    if let Some(p) = chosen {
        ws = ws.protocols([p]);
    }
    Ok(ws
        .on_upgrade(move |socket| run(st, socket, who))
        .into_response())
}

fn error_frame(code: &str, message: &str) -> String {
    json!({"type": "error", "code": code, "message": message}).to_string()
}

async fn run(st: AppState, mut ws: WebSocket, who: Consumer) {
    let mut shutdown_check = tokio::time::interval(Duration::from_secs(1));
    let mut idle_at = tokio::time::Instant::now() + IDLE_TIMEOUT;
    loop {
        tokio::select! {
            _ = shutdown_check.tick() => {
                if st.realtime.is_shut_down() {
                    let _ = ws.send(Message::Close(Some(CloseFrame { code: 1012, reason: "platform shutting down".into() }))).await;
                    return;
                }
            }
            _ = tokio::time::sleep_until(idle_at) => {
                let _ = ws.send(Message::Close(Some(CloseFrame { code: 1001, reason: "idle".into() }))).await;
                return;
            }
            msg = ws.recv() => {
                idle_at = tokio::time::Instant::now() + IDLE_TIMEOUT;
                let ok = match msg {
                    Some(Ok(Message::Text(text))) => handle(&st, &who, &mut ws, text.as_str()).await,
                    Some(Ok(Message::Binary(_))) => ws
                        .send(Message::Text(error_frame(code::VALIDATION_ERROR, "binary frames are not supported: send JSON text frames").into()))
                        .await
                        .is_ok(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => true,
                    Some(Ok(Message::Close(_))) => {
                        // The WebSocket layer queued the echo of the client's close frame;
                        // flushing sends it, so the client sees a clean close, not 1006.
                        let _ = ws.flush().await;
                        false
                    }
                    Some(Err(_)) | None => false,
                };
                if !ok {
                    return;
                }
            }
        }
    }
}

/// Handle one client frame; false when the socket is gone.
async fn handle(st: &AppState, who: &Consumer, ws: &mut WebSocket, text: &str) -> bool {
    const USAGE: &str = r#"{"type": "chat", "messages": [{"role": "user", "content": "Hello"}]}"#;
    let frame = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => m,
        Ok(other) => {
            let msg = format!(
                "frames are JSON objects, got {}: send {USAGE}",
                type_name(&other)
            );
            return send(ws, error_frame(code::VALIDATION_ERROR, &msg)).await;
        }
        Err(e) => {
            let msg = format!("malformed JSON frame ({e}): send {USAGE}");
            return send(ws, error_frame(code::VALIDATION_ERROR, &msg)).await;
        }
    };
    match frame.get("type").and_then(Value::as_str) {
        Some("chat") => {}
        Some("ping") => return send(ws, json!({"type": "pong"}).to_string()).await,
        other => {
            let msg = format!(
                "unknown frame type {}: send {USAGE} (or {{\"type\": \"ping\"}})",
                other.map_or("(none)".to_string(), |t| format!("{t:?}"))
            );
            return send(ws, error_frame(code::VALIDATION_ERROR, &msg)).await;
        }
    }
    let mut body = JsonBody(frame);
    body.0.remove("type");
    match chat(st, who, ws, &body).await {
        Ok(alive) => alive,
        Err(e) => send(ws, error_frame(e.code, &e.message)).await,
    }
}

async fn send(ws: &mut WebSocket, text: String) -> bool {
    ws.send(Message::Text(text.into())).await.is_ok()
}

/// One streamed chat: token frames, then done (or error); Err before anything was sent.
async fn chat(
    st: &AppState,
    who: &Consumer,
    ws: &mut WebSocket,
    body: &JsonBody,
) -> Result<bool, ApiError> {
    let (mut req, prompt_chars, hold) = prepare(st, who, body).await?;
    req.insert("stream".into(), json!(true));
    // Ask for the usage chunk: the client never sees raw SSE here, so the extra chunk is harmless.
    req.insert("stream_options".into(), json!({"include_usage": true}));
    let resp = match ai::send_chat(st, req, true).await {
        Ok((resp, _url)) => resp,
        Err(e) => {
            hold.release().await;
            return Err(e);
        }
    };
    let mut up = resp.bytes_stream();
    let mut meter = Meter::default();
    let mut failure = None;
    while let Some(chunk) = up.next().await {
        match chunk {
            Ok(bytes) => {
                for content in meter.feed(&bytes) {
                    if !send(ws, json!({"type": "token", "content": content}).to_string()).await {
                        let usage = meter.usage(prompt_chars);
                        hold.settle(usage["total_tokens"].as_i64().unwrap_or(0))
                            .await?;
                        return Ok(false);
                    }
                }
            }
            Err(e) => {
                failure = Some(format!("the AI server's stream broke off: {e}"));
                break;
            }
        }
    }
    let usage = meter.usage(prompt_chars);
    hold.settle(usage["total_tokens"].as_i64().unwrap_or(0))
        .await?;
    Ok(match failure {
        Some(msg) => send(ws, error_frame(code::AI_REQUEST_FAILED, &msg)).await,
        None => send(ws, json!({"type": "done", "usage": usage}).to_string()).await,
    })
}
