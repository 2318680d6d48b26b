//! Uploads the host feeds chunk by chunk ([`ClientHandle::upload_stream`]): a Go `io.Reader`, a
//! PHP stream, any source whose whole body should never sit in memory. The engine streams what
//! the host writes ([`aerostack::UploadSource::Reader`]). Each [`UploadWriter::write`] is a future
//! that finishes once the chunk is queued (a few chunks of room), so a fast reader waits for the
//! network without blocking a host thread; [`UploadWriter::finish`] ends the body, and
//! [`UploadWriter::abort`] fails the upload with the host's message (its read failed).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use aerostack::{CallOptions, Error, ProgressFn, UploadOptions, UploadSource};
use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use crate::client::ClientHandle;
use crate::ops::Args;
use crate::runtime::runtime;

/// Chunks queued ahead of the request body (each as large as the host writes).
const QUEUED_CHUNKS: usize = 4;

/// The host's end of a streamed upload.
pub struct UploadWriter {
    tx: Mutex<Option<mpsc::Sender<io::Result<Bytes>>>>,
}

impl UploadWriter {
    /// Queues `chunk`; the future finishes when it is queued (or fails when the upload ended:
    /// it failed, was cancelled, or `finish` came first).
    pub fn write(&self, chunk: Bytes) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let tx = self.tx.lock().clone().ok_or_else(|| {
            Error::validation("chunk", "this upload's body is finished or aborted: write every chunk before finish")
        })?;
        Ok(async move {
            tx.send(Ok(chunk)).await.map_err(|_| {
                Error::validation("chunk", "the upload ended before this chunk (it failed or was cancelled): see its outcome")
            })?;
            Ok(Value::Null)
        })
    }

    /// Ends the body: the upload completes once the platform answered.
    pub fn finish(&self) {
        self.tx.lock().take();
    }

    /// Fails the upload with `message` (the host could not read its source).
    pub fn abort(&self, message: &str) {
        if let Some(tx) = self.tx.lock().take() {
            let err = io::Error::other(message.to_string());
            if let Err(mpsc::error::TrySendError::Full(e)) = tx.try_send(Err(err))
                && let Ok(rt) = runtime()
            {
                rt.spawn(async move {
                    let _ = tx.send(e).await;
                });
            }
        }
    }
}

/// The engine's end: an `AsyncRead` over the chunks; the channel's end is the body's end.
struct ChunkReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    buf: Bytes,
}

impl AsyncRead for ChunkReader {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            if !self.buf.is_empty() {
                let n = self.buf.len().min(out.remaining());
                out.put_slice(&self.buf.split_to(n));
                return Poll::Ready(Ok(()));
            }
            match ready!(self.rx.poll_recv(cx)) {
                Some(Ok(chunk)) => self.buf = chunk,
                Some(Err(e)) => return Poll::Ready(Err(e)),
                None => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl ClientHandle {
    /// `storage.upload` (`key`, `content_type`, `_options`) of a body the host writes through
    /// the returned [`UploadWriter`]; `size` (when known) sets `Content-Length` and progress
    /// totals. The future answers like [`ClientHandle::upload`]'s.
    pub fn upload_stream(
        &self,
        args: Value,
        size: Option<u64>,
        progress: Option<ProgressFn>,
    ) -> Result<(impl Future<Output = Result<Value, Error>> + Send + 'static, UploadWriter), Error> {
        let client = self.client()?;
        let a = Args::new("storage.upload", args)?;
        let key = a.str("key")?.to_string();
        if a.opt_str("path")?.is_some() {
            return Err(Error::validation("path", "a streamed upload takes its body from the writer, not a path"));
        }
        let client = match a.opt_typed::<CallOptions>("_options", "{\"timeout_ms\": 5000}")? {
            Some(opts) => client.with_options(opts),
            None => client,
        };
        let opts = UploadOptions {
            content_type: a.opt_str("content_type")?.map(str::to_string),
            progress,
            public: a.opt_bool("public")?,
        };
        let (tx, rx) = mpsc::channel(QUEUED_CHUNKS);
        let source = UploadSource::Reader { reader: Box::new(ChunkReader { rx, buf: Bytes::new() }), size };
        let case = self.result_case();
        let fut = async move {
            let r = client.storage().upload(&key, source, opts).await?;
            let v = serde_json::to_value(r).map_err(|e| Error::new(aerostack::ErrorCode::DecodeError, e.to_string()))?;
            Ok(crate::result_keys::recase_as(case, "storage.upload", v))
        };
        Ok((fut, UploadWriter { tx: Mutex::new(Some(tx)) }))
    }
}
