//! `NativeClient`: the surface's `ClientHandle` (calls, uploads, downloads, streams, host-routed
//! calls, gateway sockets), each method blocking (GIL released) or `*_async` on a completion port.

use aerostack_bindings_common::{ClientHandle, StoredObject};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::completion::{self, NativeCall, NativePort, NativeTask, Progress, block_on, submit};
use crate::gateway_socket::NativeGatewaySocket;
use crate::hosted::NativeHostedCall;
use crate::stream::NativeStream;
use crate::{parse_json, to_pyerr, user_agent};

/// One engine client (one connection pool). `options_json`: the surface's client options.
#[pyclass(module = "aerostack._native", frozen)]
pub struct NativeClient {
    pub(crate) h: ClientHandle,
}

/// What a download resolves to: `(bytes, content_type)`.
struct Download(StoredObject);

impl<'py> IntoPyObject<'py> for Download {
    type Target = PyTuple;
    type Output = Bound<'py, PyTuple>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        (PyBytes::new(py, &self.0.data), self.0.content_type).into_pyobject(py)
    }
}

fn text(v: serde_json::Value) -> String {
    v.to_string()
}

#[pymethods]
impl NativeClient {
    #[new]
    fn new(options_json: &str) -> PyResult<Self> {
        let h = ClientHandle::new(parse_json("options", options_json)?, &user_agent()).map_err(to_pyerr)?;
        Ok(NativeClient { h })
    }

    /// A client sharing this one's pool with per-call options (`timeout_ms`, `retry`, ...).
    fn with_options(&self, call_options_json: &str) -> PyResult<NativeClient> {
        Ok(NativeClient { h: self.h.with_options(parse_json("options", call_options_json)?).map_err(to_pyerr)? })
    }

    /// Runs operation `op` with JSON arguments; returns the JSON answer.
    fn call(&self, py: Python<'_>, op: &str, args_json: &str) -> PyResult<String> {
        let fut = self.h.call(op, parse_json("args", args_json)?);
        block_on(py, fut.map(|f| async move { f.await.map(text) }))
    }

    /// `call` on the port: resolves the asyncio future `fut` with the JSON answer.
    fn call_async(&self, port: &NativePort, fut: Py<PyAny>, op: &str, args_json: &str) -> PyResult<NativeCall> {
        let call = self.h.call(op, parse_json("args", args_json)?);
        submit(port, fut, call.map(|f| async move { f.await.map(text) }))
    }

    /// `call` started at once (awaited, waited for, or ignored): `socket.emit` works without
    /// `await`.
    fn spawn(&self, op: &str, args_json: &str) -> PyResult<NativeTask> {
        NativeTask::spawn(self.h.call(op, parse_json("args", args_json)?))
    }

    /// `storage.upload` from `data`, or from the file at `args.path` when `data` is None;
    /// `progress(sent, total)` is called on this thread while the upload runs.
    #[pyo3(signature = (args_json, data=None, progress=None))]
    fn upload(&self, py: Python<'_>, args_json: &str, data: Option<&[u8]>, progress: Option<Py<PyAny>>) -> PyResult<String> {
        let (progress, engine_fn) = progress.map(Progress::blocking).unzip();
        let fut = self.h.upload(parse_json("args", args_json)?, data.map(bytes::Bytes::copy_from_slice), engine_fn);
        completion::block_on_reporting(py, fut.map(|f| async move { f.await.map(text) }), progress.as_deref())
    }

    /// `upload` on the port; `progress(sent, total)` is called on the loop's thread.
    #[pyo3(signature = (port, fut, args_json, data=None, progress=None))]
    fn upload_async(
        &self,
        py: Python<'_>,
        port: &NativePort,
        fut: Py<PyAny>,
        args_json: &str,
        data: Option<&[u8]>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<NativeCall> {
        let args = parse_json("args", args_json)?;
        let data = data.map(bytes::Bytes::copy_from_slice);
        match progress {
            None => submit(port, fut, self.h.upload(args, data, None).map(|f| async move { f.await.map(text) })),
            Some(cb) => {
                let (progress, engine_fn) = Progress::awaited(cb, port, fut.clone_ref(py));
                let call = self.h.upload(args, data, Some(engine_fn)).map(|f| async move { f.await.map(text) });
                completion::submit_reporting(port, fut, call, &progress)
            }
        }
    }

    /// `storage.get`: `(bytes, content_type)`.
    fn download<'py>(&self, py: Python<'py>, args_json: &str) -> PyResult<Bound<'py, PyTuple>> {
        let obj = block_on(py, self.h.download(parse_json("args", args_json)?))?;
        Download(obj).into_pyobject(py)
    }

    /// `download` on the port.
    fn download_async(&self, port: &NativePort, fut: Py<PyAny>, args_json: &str) -> PyResult<NativeCall> {
        let call = self.h.download(parse_json("args", args_json)?);
        submit(port, fut, call.map(|f| async move { f.await.map(Download) }))
    }

    /// Opens streamed operation `op` (`ai.chat_stream`, `*.list_all`); pull it with `next()`.
    fn stream(&self, py: Python<'_>, op: &str, args_json: &str) -> PyResult<NativeStream> {
        let open = self.h.open_stream(op, parse_json("args", args_json)?);
        block_on(py, open.map(|f| async move { f.await.map(NativeStream::new) }))
    }

    /// `stream` on the port: resolves `fut` with the `NativeStream`.
    fn stream_async(&self, port: &NativePort, fut: Py<PyAny>, op: &str, args_json: &str) -> PyResult<NativeCall> {
        let open = self.h.open_stream(op, parse_json("args", args_json)?);
        submit(port, fut, open.map(|f| async move { f.await.map(NativeStream::new) }))
    }

    /// Opens gateway API `api_slug`'s chat socket with `consumer_key` (else the client's); a
    /// refused key raises here (the HTTP gateway calls' error).
    #[pyo3(signature = (api_slug, consumer_key=None))]
    fn gateway_socket(&self, py: Python<'_>, api_slug: &str, consumer_key: Option<&str>) -> PyResult<NativeGatewaySocket> {
        let open = self.h.gateway_socket(api_slug, consumer_key);
        block_on(py, open.map(|f| async move { f.await.map(NativeGatewaySocket::new) }))
    }

    /// `gateway_socket` on the port: resolves `fut` with the `NativeGatewaySocket`.
    #[pyo3(signature = (port, fut, api_slug, consumer_key=None))]
    fn gateway_socket_async(&self, port: &NativePort, fut: Py<PyAny>, api_slug: &str, consumer_key: Option<&str>) -> PyResult<NativeCall> {
        let open = self.h.gateway_socket(api_slug, consumer_key);
        submit(port, fut, open.map(|f| async move { f.await.map(NativeGatewaySocket::new) }))
    }

    /// Starts `op` with its HTTP requests handed to Python (see `NativeHostedCall`).
    fn hosted(&self, op: &str, args_json: &str) -> PyResult<NativeHostedCall> {
        Ok(NativeHostedCall::new(self.h.hosted(op, parse_json("args", args_json)?).map_err(to_pyerr)?))
    }

    /// `upload` with its HTTP requests handed to Python.
    #[pyo3(signature = (args_json, data=None))]
    fn hosted_upload(&self, args_json: &str, data: Option<&[u8]>) -> PyResult<NativeHostedCall> {
        let call = self.h.hosted_upload(parse_json("args", args_json)?, data.map(bytes::Bytes::copy_from_slice));
        Ok(NativeHostedCall::new(call.map_err(to_pyerr)?))
    }
}
