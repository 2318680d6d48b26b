//! The `Idempotency-Key` middleware on mutating `/v1` calls and public project routes, over the
//! store in `crate::idempotency` (which knows nothing of the platform's state).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::sync::watch;

use crate::error::{ApiError, ErrorMarker};
use crate::idempotency::{
    Decision, Key, LeadGuard, MAX_STORED_BODY, Slot, Stored, conflict, public_project_ref, replay, retryable,
};
use crate::keys::ResolvedProject;
use crate::state::AppState;

pub async fn idempotency_mw(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if !matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get("idempotency-key") else {
        return next.run(req).await;
    };
    let idem_key = match raw.to_str().map(str::trim) {
        Ok(k) if !k.is_empty() && k.len() <= 255 => k.to_string(),
        _ => {
            return ApiError::validation(
                "Idempotency-Key",
                "the Idempotency-Key header must be 1-255 visible ASCII characters, e.g. a UUID",
            )
            .into_response();
        }
    };
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    // Public project routes (end-user auth, public custom APIs) name their project in the path
    // and need no key: a lost `refresh` answer must replay, not fail on the rotated token.
    // The path's project only namespaces the key; it is not handed to the handler as the
    // caller's project (that stays the key's, checked by the handler).
    let project = if let Some(r) = public_project_ref(&path) {
        match state.project_by_ref(r).await {
            Ok(Some(p)) => p,
            _ => return next.run(req).await,
        }
    } else {
        // Without a valid project key the handler answers 401; nothing to remember.
        let Ok(project) = state.project_from_headers(req.headers()).await else {
            return next.run(req).await;
        };
        req.extensions_mut()
            .insert(ResolvedProject(project.clone()));
        project
    };
    let key: Key = (project.id.clone(), idem_key.clone());
    let store = &state.idempotency;

    let seq = loop {
        let decision = {
            let mut inner = store.inner.lock();
            match inner.map.get(&key) {
                Some(Slot::Done { stored, .. }) if stored.at.elapsed() < store.window => {
                    if stored.method != method || stored.path != path {
                        Decision::Conflict {
                            method: stored.method.clone(),
                            path: stored.path.clone(),
                        }
                    } else {
                        Decision::Replay(stored.clone())
                    }
                }
                Some(Slot::InFlight {
                    method: m,
                    path: p,
                    done,
                    ..
                }) => {
                    if *m != method || *p != path {
                        Decision::Conflict {
                            method: m.clone(),
                            path: p.clone(),
                        }
                    } else {
                        Decision::Wait(done.clone())
                    }
                }
                _ => {
                    let (tx, rx) = watch::channel(());
                    inner.next_seq += 1;
                    let seq = inner.next_seq;
                    inner.map.insert(
                        key.clone(),
                        Slot::InFlight {
                            method: method.clone(),
                            path: path.clone(),
                            done: rx,
                            seq,
                        },
                    );
                    inner.order.push_back((seq, Instant::now(), key.clone()));
                    Decision::Lead { seq, _tx: tx }
                }
            }
        };
        match decision {
            Decision::Replay(s) => return replay(&s),
            Decision::Conflict { method, path } => return conflict(&idem_key, &method, &path),
            // Wakes when the leader drops its sender (finished or gone); then look again.
            Decision::Wait(mut rx) => {
                let _ = rx.changed().await;
            }
            Decision::Lead { seq, _tx } => {
                // `_tx` must live until the answer is stored: move it into the guard scope below.
                break (seq, _tx);
            }
        }
    };
    let (seq, _tx) = seq;
    let mut guard = LeadGuard {
        store,
        key: Some(key.clone()),
        seq,
    };

    let resp = next.run(req).await;
    let status = resp.status();
    let is_sse = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    let small = axum::body::HttpBody::size_hint(resp.body())
        .exact()
        .is_some_and(|n| n as usize <= MAX_STORED_BODY);
    if retryable(status) || is_sse || !small {
        return resp; // guard drops the in-flight slot; waiters run their own request
    }
    let (parts, body) = resp.into_parts();
    let bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            return ApiError::internal(format!("could not buffer the response: {e}"))
                .into_response();
        }
    };
    let stored = Arc::new(Stored {
        method,
        path,
        status,
        content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
        body: bytes.clone(),
        error: parts.extensions.get::<ErrorMarker>().cloned(),
        at: Instant::now(),
    });
    {
        let mut inner = store.inner.lock();
        if inner.map.get(&key).map(Slot::seq) == Some(seq) {
            // A fresh order entry: the one pushed at start may already have been swept.
            inner.order.push_back((seq, stored.at, key.clone()));
            inner.map.insert(key, Slot::Done { stored, seq });
        }
        guard.key = None;
    }
    store.sweep_if_full();
    Response::from_parts(parts, Body::from(bytes))
}

