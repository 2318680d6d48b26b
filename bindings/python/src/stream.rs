//! `NativeStream`: a streamed operation (chat tokens), pulled by Python one item at a time.

use std::sync::Arc;

use aerostack_bindings_common::{ProcessGuard, StreamHandle};
use pyo3::prelude::*;

use crate::completion::{NativeCall, NativePort, block_on, submit};
use crate::to_pyerr;

/// Items are JSON text; `None` once the stream has ended. Dropping it closes the stream.
#[pyclass(module = "aerostack._native", frozen)]
pub struct NativeStream {
    handle: Arc<StreamHandle>,
    guard: ProcessGuard,
}

impl NativeStream {
    pub fn new(handle: StreamHandle) -> NativeStream {
        NativeStream { handle: Arc::new(handle), guard: ProcessGuard::new() }
    }

    fn handle(&self) -> PyResult<Arc<StreamHandle>> {
        self.guard.check().map_err(|e| to_pyerr(aerostack_bindings_common::Error::from(e)))?;
        Ok(self.handle.clone())
    }
}

#[pymethods]
impl NativeStream {
    /// The next item (JSON text), or `None` at the end.
    fn next(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let h = self.handle()?;
        block_on(py, Ok(async move { h.next().await.map(|v| v.map(|v| v.to_string())) }))
    }

    /// `next` on the port: resolves `fut` with the item or `None`.
    fn next_async(&self, port: &NativePort, fut: Py<PyAny>) -> PyResult<NativeCall> {
        let h = self.handle()?;
        submit(port, fut, Ok(async move { h.next().await.map(|v| v.map(|v| v.to_string())) }))
    }

    /// Stops the stream (closes the connection); later `next` calls return `None`.
    fn close(&self) {
        self.handle.try_close();
    }
}
