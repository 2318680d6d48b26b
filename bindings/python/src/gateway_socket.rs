//! `NativeGatewaySocket`: the surface's gateway chat socket (the official
//! `gateway.connectWebSocket`). Sends return the id of their frame; events are pulled by the
//! Python package (`aerostack/_gateway_socket.py`) as JSON text, blocking (GIL released) or
//! `*_async` on a completion port.

use aerostack_bindings_common::GatewaySocketHandle;
use pyo3::prelude::*;
use serde_json::Value;

use crate::completion::{NativeCall, NativePort, block_on, submit};
use crate::parse_json;

fn id(v: Value) -> u64 {
    v.as_u64().unwrap_or_default()
}

fn text(v: Option<Value>) -> Option<String> {
    v.map(|v| v.to_string())
}

/// One open gateway socket.
#[pyclass(module = "aerostack._native", frozen)]
pub struct NativeGatewaySocket {
    h: GatewaySocketHandle,
}

impl NativeGatewaySocket {
    pub fn new(h: GatewaySocketHandle) -> Self {
        NativeGatewaySocket { h }
    }
}

#[pymethods]
impl NativeGatewaySocket {
    /// `ws(s)://host/api/gateway/{apiSlug}/ws`.
    #[getter]
    fn url(&self) -> String {
        self.h.url().to_string()
    }

    #[getter]
    fn api_slug(&self) -> String {
        self.h.api_slug().to_string()
    }

    /// open, closing or closed.
    #[getter]
    fn state(&self) -> String {
        self.h.state()
    }

    /// Starts a chat (`gateway.chat`'s arguments as JSON); its id.
    fn send_chat(&self, py: Python<'_>, args_json: &str) -> PyResult<u64> {
        let fut = self.h.send_chat(parse_json("args", args_json)?);
        block_on(py, fut.map(|f| async move { f.await.map(id) }))
    }

    fn send_chat_async(&self, port: &NativePort, fut: Py<PyAny>, args_json: &str) -> PyResult<NativeCall> {
        let call = self.h.send_chat(parse_json("args", args_json)?);
        submit(port, fut, call.map(|f| async move { f.await.map(id) }))
    }

    /// A chat, collected (`timeout_ms` between events): `{content, tokens_used, usage}` as JSON.
    fn chat(&self, py: Python<'_>, args_json: &str) -> PyResult<String> {
        let fut = self.h.chat(parse_json("args", args_json)?);
        block_on(py, fut.map(|f| async move { f.await.map(|v| v.to_string()) }))
    }

    fn chat_async(&self, port: &NativePort, fut: Py<PyAny>, args_json: &str) -> PyResult<NativeCall> {
        let call = self.h.chat(parse_json("args", args_json)?);
        submit(port, fut, call.map(|f| async move { f.await.map(|v| v.to_string()) }))
    }

    /// The next step of chat `request` as JSON (`{type: "token", content}`, or `{type: "done",
    /// content, tokens_used, usage}` at its end), waiting (GIL released) at most `timeout_ms`
    /// between two events (None: the client's timeout); the platform's error for it is raised.
    #[pyo3(signature = (request, timeout_ms=None))]
    fn chat_step(&self, py: Python<'_>, request: u64, timeout_ms: Option<u64>) -> PyResult<String> {
        let fut = self.h.chat_step(request, timeout_ms);
        block_on(py, fut.map(|f| async move { f.await.map(|v| v.to_string()) }))
    }

    #[pyo3(signature = (port, fut, request, timeout_ms=None))]
    fn chat_step_async(&self, port: &NativePort, fut: Py<PyAny>, request: u64, timeout_ms: Option<u64>) -> PyResult<NativeCall> {
        let call = self.h.chat_step(request, timeout_ms);
        submit(port, fut, call.map(|f| async move { f.await.map(|v| v.to_string()) }))
    }

    /// Sends a ping (answered with a `pong` event); its id.
    fn ping(&self, py: Python<'_>) -> PyResult<u64> {
        block_on(py, self.h.ping().map(|f| async move { f.await.map(id) }))
    }

    fn ping_async(&self, port: &NativePort, fut: Py<PyAny>) -> PyResult<NativeCall> {
        submit(port, fut, self.h.ping().map(|f| async move { f.await.map(id) }))
    }

    /// Sends a frame (JSON text) as it is; its id.
    fn send(&self, py: Python<'_>, frame_json: &str) -> PyResult<u64> {
        let fut = self.h.send(parse_json("frame", frame_json)?);
        block_on(py, fut.map(|f| async move { f.await.map(id) }))
    }

    fn send_async(&self, port: &NativePort, fut: Py<PyAny>, frame_json: &str) -> PyResult<NativeCall> {
        let call = self.h.send(parse_json("frame", frame_json)?);
        submit(port, fut, call.map(|f| async move { f.await.map(id) }))
    }

    /// The next event as JSON, waiting (GIL released) at most `timeout_ms` (None: until one
    /// comes); None on timeout and after the `closed` event.
    #[pyo3(signature = (timeout_ms=None))]
    fn next_event(&self, py: Python<'_>, timeout_ms: Option<u64>) -> PyResult<Option<String>> {
        block_on(py, self.h.next_event(timeout_ms).map(|f| async move { f.await.map(text) }))
    }

    /// `next_event` on the port (cancelling it drops the wait, never an event).
    #[pyo3(signature = (port, fut, timeout_ms=None))]
    fn next_event_async(&self, port: &NativePort, fut: Py<PyAny>, timeout_ms: Option<u64>) -> PyResult<NativeCall> {
        submit(port, fut, self.h.next_event(timeout_ms).map(|f| async move { f.await.map(text) }))
    }

    /// Closes the socket (`code` 1000 or 3000-4999) and waits for the platform's answer.
    #[pyo3(signature = (code=None, reason=None))]
    fn close(&self, py: Python<'_>, code: Option<u16>, reason: Option<String>) -> PyResult<()> {
        block_on(py, self.h.close(code, reason).map(|f| async move { f.await.map(|_| ()) }))
    }

    #[pyo3(signature = (port, fut, code=None, reason=None))]
    fn close_async(&self, port: &NativePort, fut: Py<PyAny>, code: Option<u16>, reason: Option<String>) -> PyResult<NativeCall> {
        submit(port, fut, self.h.close(code, reason).map(|f| async move { f.await.map(|_| ()) }))
    }
}
