//! `Stream`: a streamed operation (chat tokens, every item of a listing), pulled by PHP one item
//! at a time (the Composer package wraps it in a generator).

use std::sync::atomic::{AtomicBool, Ordering};

use aerostack_bindings_common::{Error, ProcessGuard, StreamHandle};
use ext_php_rs::prelude::*;

use crate::completion::block_on_interruptible;
use crate::to_php;

/// Items are JSON text; null once the stream has ended, or when a signal interrupted the wait
/// (then `interrupted()` is true). Dropping it closes the stream.
#[php_class]
#[php(name = "Aerostack\\Native\\Stream")]
pub struct Stream {
    h: StreamHandle,
    guard: ProcessGuard,
    interrupted: AtomicBool,
}

impl Stream {
    pub fn new(h: StreamHandle) -> Stream {
        Stream {
            h,
            guard: ProcessGuard::new(),
            interrupted: AtomicBool::new(false),
        }
    }
}

#[php_impl]
impl Stream {
    /// The next item (JSON text), or null: at the end, or when a signal for PHP's handler
    /// (pcntl_async_signals) interrupted the wait, which `interrupted()` tells apart. PHP runs
    /// the handler right after this call returns; the stream is not usable after an interrupt.
    pub fn next(&self) -> PhpResult<Option<String>> {
        self.guard.check().map_err(|e| to_php(Error::from(e)))?;
        let h = self.h.clone();
        match block_on_interruptible(Ok(async move {
            h.next().await.map(|v| v.map(|v| v.to_string()))
        }))? {
            Some(item) => Ok(item),
            None => {
                self.interrupted.store(true, Ordering::Release);
                self.h.try_close();
                Ok(None)
            }
        }
    }

    /// Whether the last `next()` returned null because a signal interrupted it.
    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::Acquire)
    }

    /// Stops the stream (closes the connection); later `next` calls return null.
    pub fn close(&self) {
        self.h.try_close();
    }
}
