//! `NativeStream`: a streamed operation (`ai.chat_stream`, `*.list_all`), pulled item by item by
//! the package's async iterator.

use aerostack_bindings_common::StreamHandle;
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
