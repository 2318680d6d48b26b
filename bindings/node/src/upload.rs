//! Uploads JS feeds chunk by chunk (a Node `Readable`, a web `ReadableStream`, a `Blob`'s
//! stream), so the body never sits in memory whole: the surface's `upload_stream`. The package
//! first calls `done()` (the upload starts and its Promise settles with the answer), then
//! `write(chunk)` for each chunk, awaiting each (a few chunks of room: a fast source waits for the
//! network), then `finish()` — or `abort(message)` when reading the source failed.

use std::future::Future;
use std::pin::Pin;

use aerostack_bindings_common::UploadWriter;
use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;
use serde_json::Value;

use crate::client::NativeClient;
use crate::completion::{NativeCancel, NativeProgress, submit};
use crate::{parse_json, to_napi};

type Upload = Pin<Box<dyn Future<Output = std::result::Result<Value, aerostack_bindings_common::Error>> + Send>>;

/// The JS end of a streamed upload.
#[napi]
pub struct NativeUploadWriter {
    w: UploadWriter,
    upload: Mutex<Option<Upload>>,
}

#[napi]
impl NativeClient {
    /// A streamed `storage.upload` (`args`: `key`, `content_type`, `public`); `size` when known.
    #[napi(catch_unwind)]
    pub fn upload_stream(
        &self,
        args_json: String,
        size: Option<f64>,
        progress: Option<&NativeProgress>,
    ) -> Result<NativeUploadWriter> {
        let engine_fn = progress.map(|p| p.cell.engine_fn(|| {}));
        let size = size.filter(|s| *s >= 0.0).map(|s| s as u64);
        let (fut, w) = self
            .h
            .upload_stream(parse_json("args", &args_json)?, size, engine_fn)
            .map_err(to_napi)?;
        Ok(NativeUploadWriter { w, upload: Mutex::new(Some(Box::pin(fut))) })
    }
}

#[napi]
impl NativeUploadWriter {
    /// Starts the upload: a Promise of its answer (the `"0"`/`"1"` text). Call once, before writing.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn done<'e>(&self, env: &'e Env, cancel: Option<&NativeCancel>) -> Result<Object<'e>> {
        let upload = self.upload.lock().take().ok_or_else(|| {
            Error::new(Status::InvalidArg, "this upload was already started: call done() once".to_string())
        })?;
        submit(env, Ok(upload), cancel)
    }

    /// Queues `chunk` (copied): a Promise that settles once it is queued.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn write<'e>(&self, env: &'e Env, chunk: Buffer) -> Result<Object<'e>> {
        submit(env, self.w.write(bytes::Bytes::copy_from_slice(&chunk)), None)
    }

    /// Ends the body: the upload completes once the platform answered.
    #[napi(catch_unwind)]
    pub fn finish(&self) {
        self.w.finish();
    }

    /// Fails the upload with `message` (reading the source failed).
    #[napi(catch_unwind)]
    pub fn abort(&self, message: String) {
        self.w.abort(&message);
    }
}
