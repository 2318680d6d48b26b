//! Streamed uploads: the host writes the body chunk by chunk (a Go io.Reader), never all of it
//! in memory. `aerostack_client_upload_stream` submits the upload (its outcome comes under its
//! call id, like `aerostack_client_upload`'s) and hands out the writer; each
//! `aerostack_upload_write` is a call of its own that completes once the chunk is queued.

use std::ffi::c_char;

use aerostack_bindings_common::{ProgressCell, UploadWriter};

use crate::client::AerostackClient;
use crate::completion::{AerostackCompletionQueue, Item};
use crate::{ffi, free, handle, json, put, text, write};
use aerostack_bindings_common::ErrorDto;

/// The host's end of a streamed upload.
pub struct AerostackUploadWriter {
    w: UploadWriter,
}

/// Submits an upload whose body the host writes through `*writer` (`args`: `key`,
/// `content_type`); `size` is the body's length, or -1 when unknown. With `progress`,
/// `AEROSTACK_PROGRESS` reports come under the call id. Finish the body with
/// `aerostack_upload_finish` (or `aerostack_upload_abort`), then free the writer.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn aerostack_client_upload_stream(
    client: *const AerostackClient,
    queue: *const AerostackCompletionQueue,
    args: *const u8,
    args_len: usize,
    size: i64,
    progress: bool,
    call_id: *mut u64,
    writer: *mut *mut AerostackUploadWriter,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (c, q) = (handle("client", client)?, handle("queue", queue)?);
        let id = q.q.reserve();
        let report = progress.then(|| {
            let cell = ProgressCell::new();
            let (cell2, push) = (cell.clone(), q.q.pusher());
            cell.engine_fn(move || {
                if let Some(p) = cell2.take_new() {
                    push(id, Item::Progress(p.sent, p.total));
                }
            })
        });
        let size = u64::try_from(size).ok();
        let (fut, w) = c.h.upload_stream(json("args", args, args_len)?, size, report)?;
        q.q.submit_as(id, fut, |r| Item::Json(r.map(|v| Some(v.to_string())).map_err(|e| ErrorDto::from(&e))))?;
        write(call_id, id)?;
        put(writer, AerostackUploadWriter { w })
    })
}

/// Submits writing `data` (copied before this returns) to the body: the call completes (json
/// `null`) once the chunk is queued, or fails when the upload ended.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_upload_write(
    writer: *const AerostackUploadWriter,
    queue: *const AerostackCompletionQueue,
    data: *const u8,
    data_len: usize,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (w, q) = (handle("writer", writer)?, handle("queue", queue)?);
        let chunk = if data.is_null() || data_len == 0 {
            bytes::Bytes::new()
        } else {
            // SAFETY: the caller passes `data_len` readable bytes at `data`; copied here.
            bytes::Bytes::copy_from_slice(unsafe { std::slice::from_raw_parts(data, data_len) })
        };
        let id = q.submit_json(w.w.write(chunk)?)?;
        write(call_id, id)
    })
}

/// Ends the body: the upload's call completes once the platform answered.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_upload_finish(writer: *const AerostackUploadWriter, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        handle("writer", writer)?.w.finish();
        Ok(())
    })
}

/// Fails the upload with `message` (reading the host's source failed).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_upload_abort(
    writer: *const AerostackUploadWriter,
    message: *const u8,
    message_len: usize,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        handle("writer", writer)?.w.abort(text("message", message, message_len)?);
        Ok(())
    })
}

/// Frees the writer (a body neither finished nor aborted is aborted).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_upload_writer_free(writer: *mut AerostackUploadWriter) {
    if let Ok(w) = handle("writer", writer) {
        w.w.abort("the upload's writer was freed before the body was finished");
    }
    free(writer);
}
