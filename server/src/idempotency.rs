//! The idempotency store (the middleware that uses it is routes/idempotency.rs).
//!
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
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::watch;

use crate::error::{ApiError, ErrorMarker, code};

/// Answers larger than this are passed through without being remembered.
pub const MAX_STORED_BODY: usize = 1024 * 1024;
/// At most this many keys are remembered; the oldest are forgotten first.
pub const MAX_ENTRIES: usize = 100_000;

pub(crate) type Key = (String, String);

/// What a record is bound to besides `(project, key)`: the request's method, path, body and the
/// credentials that sent it. A replay needs all of them to match.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    /// SHA-256 of the body (see `routes::idempotency::fingerprint`).
    pub(crate) body: [u8; 32],
    /// SHA-256 of the credential headers (API key, end-user token).
    pub(crate) caller: [u8; 32],
}

pub(crate) struct Stored {
    pub(crate) req: Request,
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<HeaderValue>,
    pub(crate) body: Bytes,
    pub(crate) error: Option<ErrorMarker>,
    pub(crate) at: Instant,
}

pub(crate) enum Slot {
    InFlight {
        req: Request,
        done: watch::Receiver<()>,
        seq: u64,
    },
    Done {
        stored: Arc<Stored>,
        seq: u64,
    },
}

impl Slot {
    pub(crate) fn seq(&self) -> u64 {
        match self {
            Slot::InFlight { seq, .. } | Slot::Done { seq, .. } => *seq,
        }
    }
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) map: HashMap<Key, Slot>,
    pub(crate) order: VecDeque<(u64, Instant, Key)>,
    pub(crate) next_seq: u64,
}

pub struct IdempotencyStore {
    pub(crate) inner: Mutex<Inner>,
    pub(crate) window: Duration,
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

pub(crate) enum Decision {
    Lead { seq: u64, _tx: watch::Sender<()> },
    Wait(watch::Receiver<()>),
    Replay(Arc<Stored>),
    Conflict(Request),
}

/// The answer when `key` arrives with a request that differs from the one it was first used for.
pub(crate) fn conflict(key: &str, first: &Request, now: &Request) -> Response {
    let (method, path) = (&first.method, &first.path);
    let (reason, what) = if first.method != now.method || first.path != now.path {
        ("endpoint", format!("for {method} {path}"))
    } else if first.caller != now.caller {
        ("caller", format!("by another caller (other credentials) on {method} {path}"))
    } else {
        ("body", format!("with a different request body on {method} {path}"))
    };
    ApiError::new(
        StatusCode::CONFLICT,
        code::IDEMPOTENCY_CONFLICT,
        format!("Idempotency-Key {key:?} was already used {what}; use a new key for a different request"),
    )
    .with_detail("field", "Idempotency-Key")
    .with_detail("reason", reason)
    .with_detail("original_method", method.as_str())
    .with_detail("original_path", path.as_str())
    .into_response()
}

pub(crate) fn replay(s: &Stored) -> Response {
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
pub(crate) fn public_project_ref(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/public/projects/")?;
    rest.split('/').next().filter(|s| !s.is_empty())
}

pub(crate) fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 425 | 429) || status.is_server_error()
}

/// Removes an in-flight slot if the leading request ends without storing an answer (error,
/// uncacheable answer, or the client went away).
pub(crate) struct LeadGuard<'a> {
    pub(crate) store: &'a IdempotencyStore,
    pub(crate) key: Option<Key>,
    pub(crate) seq: u64,
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

impl IdempotencyStore {
    pub(crate) fn sweep_if_full(&self) {
        if self.inner.lock().map.len() > MAX_ENTRIES {
            self.sweep();
        }
    }
}
