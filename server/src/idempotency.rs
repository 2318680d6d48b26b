//! `Idempotency-Key` on mutating `/v1` calls and public project routes: the first answer for `(project, key)` is remembered
//! and replayed (with `Idempotent-Replayed: true`) for `limits.idempotency_window`; a duplicate
//! that arrives while the first is still running waits for it.
//!
//! Retryable answers (408, 425, 429, 5xx) are not remembered: the engine retries exactly those
//! with the same key, and a replayed 503 would make its retries pointless.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::BodyExt;
use parking_lot::Mutex;
use tokio::sync::watch;

use crate::error::{ApiError, ErrorMarker, code};
use crate::keys::ResolvedProject;
use crate::state::AppState;

/// Answers larger than this are passed through without being remembered.
pub const MAX_STORED_BODY: usize = 1024 * 1024;
/// At most this many keys are remembered; the oldest are forgotten first.
pub const MAX_ENTRIES: usize = 100_000;

type Key = (String, String);

struct Stored {
    method: Method,
    path: String,
    status: StatusCode,
    content_type: Option<HeaderValue>,
    body: Bytes,
    error: Option<ErrorMarker>,
    at: Instant,
}

enum Slot {
    InFlight {
        method: Method,
        path: String,
        done: watch::Receiver<()>,
        seq: u64,
    },
    Done {
        stored: Arc<Stored>,
        seq: u64,
    },
}

impl Slot {
    fn seq(&self) -> u64 {
        match self {
            Slot::InFlight { seq, .. } | Slot::Done { seq, .. } => *seq,
        }
    }
}

#[derive(Default)]
struct Inner {
    map: HashMap<Key, Slot>,
    order: VecDeque<(u64, Instant, Key)>,
    next_seq: u64,
}

pub struct IdempotencyStore {
    inner: Mutex<Inner>,
    window: Duration,
}

impl IdempotencyStore {
    pub fn new(window: Duration) -> Self {
        IdempotencyStore {
            inner: Mutex::new(Inner::default()),
            window,
        }
    }

    /// Forget answers older than the window, and the oldest beyond the size bound.
    pub fn sweep(&self) {
        let mut inner = self.inner.lock();
        let now = Instant::now();
        while let Some((seq, at, key)) = inner.order.front().cloned() {
            let too_many = inner.map.len() > MAX_ENTRIES;
            if !too_many && now.duration_since(at) < self.window {
                break;
            }
            inner.order.pop_front();
            if matches!(inner.map.get(&key), Some(Slot::Done { seq: s, .. }) if *s == seq) {
                inner.map.remove(&key);
            }
        }
    }
}

enum Decision {
    Lead { seq: u64, _tx: watch::Sender<()> },
    Wait(watch::Receiver<()>),
    Replay(Arc<Stored>),
    Conflict { method: Method, path: String },
}

fn conflict(key: &str, method: &Method, path: &str) -> Response {
    ApiError::new(
        StatusCode::CONFLICT,
        code::IDEMPOTENCY_CONFLICT,
        format!("Idempotency-Key {key:?} was already used for {method} {path}; use a new key for a different request"),
    )
    .with_detail("field", "Idempotency-Key")
    .with_detail("original_method", method.as_str())
    .with_detail("original_path", path)
    .into_response()
}

fn replay(s: &Stored) -> Response {
    let mut resp = Response::new(Body::from(s.body.clone()));
    *resp.status_mut() = s.status;
    if let Some(ct) = &s.content_type {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
    }
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Some(e) = &s.error {
        resp.extensions_mut().insert(e.clone());
    }
    resp
}

/// `{project}` of `/api/v1/public/projects/{project}/...`.
fn public_project_ref(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/public/projects/")?;
    rest.split('/').next().filter(|s| !s.is_empty())
}

fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 425 | 429) || status.is_server_error()
}

/// Removes an in-flight slot if the leading request ends without storing an answer (error,
/// uncacheable answer, or the client went away).
struct LeadGuard<'a> {
    store: &'a IdempotencyStore,
    key: Option<Key>,
    seq: u64,
}

impl Drop for LeadGuard<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut inner = self.store.inner.lock();
            if matches!(inner.map.get(&key), Some(Slot::InFlight { seq, .. }) if *seq == self.seq) {
                inner.map.remove(&key);
            }
        }
    }
}

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

impl IdempotencyStore {
    fn sweep_if_full(&self) {
        if self.inner.lock().map.len() > MAX_ENTRIES {
            self.sweep();
        }
    }
}
