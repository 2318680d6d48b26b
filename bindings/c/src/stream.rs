//! A streamed operation (chat chunks, cursor-following listings), pulled item by item.

use std::ffi::c_char;

use aerostack_bindings_common::{ErrorDto, StreamHandle};

use crate::completion::{AerostackCompletionQueue, Item};
use crate::{ffi, free, handle, write};

/// An open stream (from a completion of `aerostack_client_open_stream`).
pub struct AerostackStream {
    pub(crate) s: StreamHandle,
}

/// Submits the pull of the next item: the completion's `json` is the item, or NULL once the
/// stream has ended.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_stream_next(
    stream: *const AerostackStream,
    queue: *const AerostackCompletionQueue,
    call_id: *mut u64,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let (s, q) = (handle("stream", stream)?.s.clone(), handle("queue", queue)?);
        let id = q.q.submit(async move { s.next().await }, |r| {
            Item::Json(r.map(|v| v.map(|v| v.to_string())).map_err(|e| ErrorDto::from(&e)))
        })?;
        write(call_id, id)
    })
}

/// Stops the stream (closes its connection); later pulls answer its end. Does not wait.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_stream_close(stream: *const AerostackStream, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        handle("stream", stream)?.s.try_close();
        Ok(())
    })
}

/// Frees the stream (closing it).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_stream_free(stream: *mut AerostackStream) {
    if let Ok(s) = handle("stream", stream) {
        s.s.try_close();
    }
    free(stream);
}
