//! The `Idempotency-Key` middleware on mutating `/v1` calls and public project routes, over the
//! store in `crate::idempotency` (which knows nothing of the platform's state).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::error::{ApiError, ErrorMarker};
use crate::idempotency::{
    Decision, Key, LeadGuard, MAX_STORED_BODY, Request as IdemRequest, Slot, Stored, conflict,
    public_project_ref, replay, retryable,
};
use crate::keys::ResolvedProject;
use crate::state::AppState;

pub async fn idempotency_mw(
    State(state): State<AppState>,
    req: Request,
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
    let (req, body_hash, caller_hash) = match fingerprint(req).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let mut req = req;
    let this = IdemRequest {
        method: method.clone(),
        path: path.clone(),
        body: body_hash,
        caller: caller_hash,
    };
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
                    if stored.req != this {
                        Decision::Conflict(stored.req.clone())
                    } else {
                        Decision::Replay(stored.clone())
                    }
                }
                Some(Slot::InFlight { req: first, done, .. }) => {
                    if *first != this {
                        Decision::Conflict(first.clone())
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
                            req: this.clone(),
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
            Decision::Conflict(first) => return conflict(&idem_key, &first, &this),
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
        req: this,
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


/// Bodies are hashed up to this size (buffered); the rest streams on to the handler unread, and
/// the hash then also covers `Content-Length`.
pub const FINGERPRINT_PREFIX: usize = 1024 * 1024;

/// `(request with its body put back, SHA-256 of the body, SHA-256 of the credential headers)`.
///
/// A multipart body is hashed with its boundary removed: clients pick a new random boundary on
/// every attempt of the same upload, and a retry must still replay.
async fn fingerprint(req: Request) -> Result<(Request, [u8; 32], [u8; 32]), Response> {
    // The credentials, whichever accepted header carried them (an API key or scope token, or an
    // end user's bearer token on public routes).
    let mut creds: Vec<&str> = crate::keys::key_candidates(req.headers())
        .into_iter()
        .flatten()
        .collect();
    creds.sort_unstable();
    creds.dedup();
    let mut caller = Sha256::new();
    for c in creds {
        caller.update(c.as_bytes());
        caller.update([0]);
    }
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|ct| ct.to_ascii_lowercase().starts_with("multipart/"))
        .and_then(|ct| {
            ct.split(';').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_string())
            })
        })
        .filter(|b| !b.is_empty());
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .map(|v| v.as_bytes().to_vec());
    let (parts, mut body) = req.into_parts();
    let mut prefix: Vec<u8> = Vec::new();
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut ended = false;
    while prefix.len() < FINGERPRINT_PREFIX {
        match body.frame().await {
            None => {
                ended = true;
                break;
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    prefix.extend_from_slice(&data);
                    chunks.push(data);
                }
            }
            Some(Err(e)) => {
                return Err(ApiError::validation(
                    "body",
                    format!("could not read the request body: {e}"),
                )
                .into_response());
            }
        }
    }
    let mut hash = Sha256::new();
    match &boundary {
        Some(b) => hash.update(strip_all(&prefix, b.as_bytes())),
        None => hash.update(&prefix),
    }
    let body = if ended {
        Body::from(Bytes::from(prefix))
    } else {
        // Truncated: the length stands in for the rest (unless multipart, whose length follows
        // the boundary's).
        if boundary.is_none() {
            hash.update([0xff]);
            hash.update(length.unwrap_or_default());
        }
        let head = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, axum::Error>));
        Body::from_stream(head.chain(body.into_data_stream()))
    };
    Ok((
        Request::from_parts(parts, body),
        hash.finalize().into(),
        caller.finalize().into(),
    ))
}

/// `data` without any occurrence of `needle`.
fn strip_all(data: &[u8], needle: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(needle) {
            i += needle.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}
