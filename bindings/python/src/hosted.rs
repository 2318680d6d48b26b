//! `NativeHostedCall`: an engine call whose HTTP requests Python performs with the user's own
//! client (seed 002's `SDK(client=httpx.Client(...))`). Python pulls each request with `next()`,
//! sends it, and answers with `respond()`; the engine keeps retries, errors and decoding.

use std::sync::Arc;

use aerostack_bindings_common::{Error, HostRequest, HostResponse, HostedCall, ProcessGuard, Step};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::completion::{NativeCall, NativePort, block_on, submit};
use crate::to_pyerr;

/// What `next()` gives Python: a request to send, or the call's JSON answer.
pub enum Next {
    Send(u64, HostRequest),
    Done(String),
}

impl<'py> IntoPyObject<'py> for Next {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        match self {
            // (id, method, url, [(name, value)], body)
            Next::Send(id, r) => Ok(PyTuple::new(
                py,
                [
                    id.into_pyobject(py)?.into_any(),
                    r.method.into_pyobject(py)?.into_any(),
                    r.url.into_pyobject(py)?.into_any(),
                    r.headers.into_pyobject(py)?.into_any(),
                    PyBytes::new(py, &r.body).into_any(),
                ],
            )?
            .into_any()),
            Next::Done(json) => Ok(json.into_pyobject(py)?.into_any()),
        }
    }
}

async fn next(call: Arc<HostedCall>) -> Result<Next, Error> {
    match call.next().await {
        Step::Send { id, request } => Ok(Next::Send(id, request)),
        Step::Done(result) => result.map(|v| Next::Done(v.to_string())),
    }
}

/// One hosted call. `next()` returns `(id, method, url, headers, body)` to send, or the JSON
/// answer (a `str`) when the call is over; engine errors raise `NativeError`.
#[pyclass(module = "aerostack._native", frozen)]
pub struct NativeHostedCall {
    call: Arc<HostedCall>,
    guard: ProcessGuard,
}

impl NativeHostedCall {
    pub fn new(call: HostedCall) -> NativeHostedCall {
        NativeHostedCall { call: Arc::new(call), guard: ProcessGuard::new() }
    }

    fn call(&self) -> PyResult<Arc<HostedCall>> {
        self.guard.check().map_err(|e| to_pyerr(Error::from(e)))?;
        Ok(self.call.clone())
    }
}

#[pymethods]
impl NativeHostedCall {
    fn next(&self, py: Python<'_>) -> PyResult<Next> {
        let call = self.call()?;
        block_on(py, Ok(next(call)))
    }

    fn next_async(&self, port: &NativePort, fut: Py<PyAny>) -> PyResult<NativeCall> {
        let call = self.call()?;
        submit(port, fut, Ok(next(call)))
    }

    /// Answers request `id` with the host client's response.
    fn respond(&self, id: u64, status: u16, headers: Vec<(String, String)>, body: &[u8]) -> PyResult<()> {
        let reply = HostResponse { status, headers, body: bytes::Bytes::copy_from_slice(body) };
        self.call()?.respond(id, Ok(reply)).map_err(to_pyerr)
    }

    /// Answers request `id` with the host client's failure (treated as a network error).
    fn fail(&self, id: u64, message: String) -> PyResult<()> {
        self.call()?.respond(id, Err(message)).map_err(to_pyerr)
    }
}
