//! A streamed operation held by a binding as one handle, pulled item by item by the host.
//!
//! Every binding wraps the same thing: `open` once, then `next` until `None` (a Python iterator,
//! a Node async iterator, a Go `Next()`, a PHP `Iterator`). Dropping the handle (or `close`)
//! drops the engine stream, which closes the connection and stops the generation upstream.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::Mutex;

use aerostack::{Client, Error};

use crate::naming::FieldCase;

use crate::ops::{self, ValueStream};

/// One open stream; cloning shares it (`Arc`), so a binding can hand it to tasks and threads.
/// The engine stream is dropped when closed or when the last clone goes.
#[derive(Clone)]
pub struct StreamHandle {
    inner: Arc<Inner>,
}

struct Inner {
    stream: Mutex<Option<ValueStream>>,
    /// Set by `try_close` when a `next` held the stream: that `next`'s successor drops it.
    closed: AtomicBool,
    /// The operation: its items' result type (`crate::result_keys`).
    op: String,
    case: FieldCase,
}

impl StreamHandle {
    /// Opens `op` (see [`ops::STREAMS`]) with JSON arguments.
    /// `case`: the key case of its items (`crate::result_keys`).
    pub async fn open(client: &Client, op: &str, args: Value, case: FieldCase) -> Result<StreamHandle, Error> {
        let stream = ops::open_stream(client, op, args).await?;
        Ok(StreamHandle {
            inner: Arc::new(Inner { stream: Mutex::new(Some(stream)), closed: AtomicBool::new(false), op: op.to_string(), case }),
        })
    }

    /// The next item, or `None` once the stream has ended (then always `None`). After an error
    /// the stream is closed: the next call returns `None`.
    pub async fn next(&self) -> Result<Option<Value>, Error> {
        crate::panic::contained(self.pull()).await
    }

    async fn pull(&self) -> Result<Option<Value>, Error> {
        let mut guard = self.inner.stream.lock().await;
        if self.inner.closed.load(Ordering::Acquire) {
            *guard = None;
        }
        let Some(stream) = guard.as_mut() else { return Ok(None) };
        let item = stream.next().await;
        if self.inner.closed.load(Ordering::Acquire) {
            *guard = None; // closed while we waited: the item is dropped with the stream
            return Ok(None);
        }
        match item {
            Some(Ok(v)) => Ok(Some(crate::result_keys::recase_as(self.inner.case, &self.inner.op, v))),
            Some(Err(e)) => {
                *guard = None;
                Err(e)
            }
            None => {
                *guard = None;
                Ok(None)
            }
        }
    }

    /// Stops the stream now (a `next` in progress on another thread finishes first).
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.stream.lock().await.take();
    }

    /// `close` without waiting: closes now when no `next` is in progress, else when that `next`
    /// returns (if it was cancelled instead: at the next `next` or when the handle is dropped).
    /// Later `next` calls return `None` either way.
    pub fn try_close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        if let Ok(mut guard) = self.inner.stream.try_lock() {
            guard.take();
        }
    }
}
