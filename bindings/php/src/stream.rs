//! `Stream`: a streamed operation (chat tokens, every item of a listing), pulled by PHP one item
//! at a time (the Composer package wraps it in a generator).

use aerostack_bindings_common::{Error, ProcessGuard, StreamHandle};
use ext_php_rs::prelude::*;

use crate::completion::block_on;
use crate::to_php;

/// Items are JSON text; null once the stream has ended. Dropping it closes the stream.
#[php_class]
#[php(name = "Aerostack\\Native\\Stream")]
pub struct Stream {
    h: StreamHandle,
    guard: ProcessGuard,
}

impl Stream {
    pub fn new(h: StreamHandle) -> Stream {
        Stream { h, guard: ProcessGuard::new() }
    }
}

#[php_impl]
impl Stream {
    /// The next item (JSON text), or null at the end.
    pub fn next(&self) -> PhpResult<Option<String>> {
        self.guard.check().map_err(|e| to_php(Error::from(e)))?;
        let h = self.h.clone();
        block_on(Ok(async move { h.next().await.map(|v| v.map(|v| v.to_string())) }))
    }

    /// Stops the stream (closes the connection); later `next` calls return null.
    pub fn close(&self) {
        self.h.try_close();
    }
}
