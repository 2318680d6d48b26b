//! `GET /api/workers`: the WebSocket a worker connects to. Authenticated with the project's API
//! key (headers, or the subprotocol `aerostack-key.<key>` for clients that cannot set headers).
//! One task reads frames and settles invocations; one writes the frames the hub queues.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::frames::{FromWorker, ToWorker};
use super::hub::{Outcome, Pending};
use crate::error::{ApiError, code};
use crate::state::AppState;
use crate::store::control::ProjectRec;

/// Subprotocol prefix carrying the API key.
pub const KEY_PROTOCOL: &str = "aerostack-key.";
/// A connection silent this long (no frame, not even a ping) is closed as dead, so its work
/// goes elsewhere instead of timing out on a vanished machine.
const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// Largest `concurrency` a worker may ask for.
const MAX_CONCURRENCY: u32 = 256;

pub async fn connect(
    State(st): State<AppState>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(|e| {
        ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            code::VALIDATION_ERROR,
            format!("/api/workers is the worker WebSocket: connect with a WebSocket client ({e}); see docs/workers.md"),
        )
    })?;
    let protocol = crate::extract::ws_protocols(&headers)
        .into_iter()
        .find(|p| p.starts_with(KEY_PROTOCOL));
    let mut auth = headers.clone();
    if let Some(p) = &protocol
        && let Ok(v) = HeaderValue::from_str(&p[KEY_PROTOCOL.len()..])
    {
        auth.insert("x-aerostack-key", v);
    }
    let scoped = crate::keys::key_candidates(&auth)
        .iter()
        .flatten()
        .any(|k| k.starts_with(super::scope::PREFIX));
    if scoped {
        return Err(ApiError::unauthorized(
            code::AUTH_INVALID_KEY,
            "a scope token cannot connect a worker: use the project's API key",
        ));
    }
    let project = st.project_from_headers(&auth).await?;
    let ws = match protocol {
        Some(p) => ws.protocols([p]),
        None => ws,
    };
    let agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Ok(ws
        .on_upgrade(move |socket| run(st, project, agent, socket))
        .into_response())
}

async fn run(st: AppState, project: Arc<ProjectRec>, agent: Option<String>, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<ToWorker>();
    let hub = st.hooks.clone();
    let conn_id = hub.connect(&project.id, agent, tx);
    tracing::info!(project = %project.slug, conn = conn_id, "worker connected");
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            let text = serde_json::to_string(&frame).unwrap_or_default();
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut closing = hub.closing();
    loop {
        let msg = tokio::select! {
            m = tokio::time::timeout(IDLE_LIMIT, stream.next()) => match m {
                Ok(m) => m,
                Err(_) => {
                    tracing::warn!(conn = conn_id, "worker silent for {IDLE_LIMIT:?}: closing");
                    break;
                }
            },
            _ = closing.wait_for(|c| *c) => break,
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
            Some(Ok(_)) => continue, // pings are answered by the socket layer
        };
        match serde_json::from_str::<FromWorker>(&text) {
            Ok(frame) => handle(&st, &project, conn_id, frame).await,
            Err(e) => hub.send(
                conn_id,
                ToWorker::Error {
                    code: code::VALIDATION_ERROR.into(),
                    message: format!(
                        "unreadable frame ({e}); frames are documented in docs/workers.md"
                    ),
                },
            ),
        }
    }
    // Dropping the connection's entry fails its in-flight calls; its jobs go back to the queue.
    let orphaned = hub.disconnect(conn_id);
    writer.abort();
    tracing::info!(project = %project.slug, conn = conn_id, jobs = orphaned.len(), "worker disconnected");
    for job in orphaned {
        super::dispatch::settle_job(
            &st,
            job,
            Err("the worker disconnected before finishing the job".into()),
            true,
        )
        .await;
    }
}

async fn handle(st: &AppState, project: &ProjectRec, conn_id: u64, frame: FromWorker) {
    let hub = &st.hooks;
    match frame {
        FromWorker::Register {
            modules,
            jobs,
            concurrency,
            worker,
        } => {
            if let Err(message) = super::dispatch::validate_registration(&modules, &jobs) {
                hub.send(
                    conn_id,
                    ToWorker::Error {
                        code: code::VALIDATION_ERROR.into(),
                        message,
                    },
                );
                return;
            }
            let concurrency = concurrency.unwrap_or(1).clamp(1, MAX_CONCURRENCY);
            hub.register(
                conn_id,
                worker,
                modules.clone(),
                jobs.clone(),
                concurrency as usize,
            );
            hub.send(
                conn_id,
                ToWorker::Registered {
                    worker_id: format!("w{conn_id}"),
                    project_id: project.id.clone(),
                    project_slug: project.slug.clone(),
                    modules,
                    jobs,
                    concurrency,
                },
            );
        }
        FromWorker::Complete { id, result } => settle(st, conn_id, &id, Ok(result)).await,
        FromWorker::Fail { id, error } => settle(st, conn_id, &id, Err(error)).await,
        FromWorker::Drain => {
            hub.drain(conn_id);
        }
        FromWorker::Ping => hub.send(conn_id, ToWorker::Pong),
    }
}

async fn settle(st: &AppState, conn_id: u64, id: &str, outcome: Result<serde_json::Value, String>) {
    // Unknown ids are answers that came too late (timed out, cancelled): nothing waits for them.
    match st.hooks.take(conn_id, id) {
        Some(Pending::Call(reply)) => {
            let _ = reply.send(match outcome {
                Ok(v) => Outcome::Done(v),
                Err(e) => Outcome::Failed(e),
            });
        }
        Some(Pending::Job(job)) => {
            super::dispatch::settle_job(st, job, outcome, false).await;
            st.hooks.wakeup.notify_one();
        }
        None => tracing::debug!(conn = conn_id, id, "late answer ignored"),
    }
}
