//! `NativeStream`: a streamed operation (`ai.chat_stream`, `*.list_all`), pulled item by item by
//! the package's async iterator.

use aerostack_bindings_common::{ChatDecoderHandle, StreamHandle};
use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::completion::{NativeCancel, submit};

#[napi]
pub struct NativeStream {
    h: StreamHandle,
}

impl NativeStream {
    pub fn new(h: StreamHandle) -> Self {
        NativeStream { h }
    }
}

#[napi]
impl NativeStream {
    /// A Promise of the next item's text (`"0"` alone once the stream ended).
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn next<'e>(&self, env: &'e Env, cancel: Option<&NativeCancel>) -> Result<Object<'e>> {
        let h = self.h.clone();
        submit(env, Ok(async move { h.next().await }), cancel)
    }

    /// Stops the stream (closes its connection; later `next` calls end at once).
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.h.try_close();
    }
}

/// A streamed chat answer decoded from bytes the package reads from a user's `Response` (the
/// official `client.stream(response, handlers)`): `feed` each chunk, `finish` at the end; each
/// returns the JSON array `[{ chunk } | { error }]` the bytes completed.
#[napi]
pub struct NativeChatDecoder {
    h: ChatDecoderHandle,
}

#[napi]
impl NativeChatDecoder {
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        NativeChatDecoder { h: ChatDecoderHandle::new() }
    }

    #[napi(catch_unwind)]
    pub fn feed(&self, bytes: Buffer) -> String {
        self.h.feed(&bytes).to_string()
    }

    #[napi(catch_unwind)]
    pub fn finish(&self) -> String {
        self.h.finish().to_string()
    }

    /// The error object (JSON) of an answer that is not a stream: its status and body.
    #[napi(catch_unwind)]
    pub fn error(status: u32, body: Buffer) -> String {
        ChatDecoderHandle::error(status.min(u16::MAX as u32) as u16, &body).to_string()
    }

    /// Whether the stream said `[DONE]`.
    #[napi(getter, catch_unwind)]
    pub fn done(&self) -> bool {
        self.h.is_done()
    }
}

impl Default for NativeChatDecoder {
    fn default() -> Self {
        Self::new()
    }
}
