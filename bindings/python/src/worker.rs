//! `NativeWorker` / `NativeInvocation`: the surface's `WorkerHandle` / `InvocationHandle` (Logic
//! Modules and queue jobs). The Python loop (`aerostack.hooks`) pulls invocations and answers
//! them; the engine never calls Python from its threads. An invocation's `client()` is the scoped
//! sdk's client: every operation, plus `fetch`, bound to the invocation's project.

use aerostack_bindings_common::{InvocationHandle, WorkerHandle};
use pyo3::prelude::*;

use crate::client::NativeClient;
use crate::completion::{NativeCall, NativePort, block_on, submit};
use crate::{parse_json, to_pyerr, user_agent};

/// A connected worker (one WebSocket to the platform, reconnecting by itself).
#[pyclass(module = "aerostack._native", frozen)]
pub struct NativeWorker {
    h: WorkerHandle,
}

fn unit(_: serde_json::Value) {}

#[pymethods]
impl NativeWorker {
    /// Connects and registers (`registration_json`: `{modules, jobs, concurrency, label, ...}`,
    /// the frames of docs/workers.md); returns once registered.
    #[staticmethod]
    fn connect(py: Python<'_>, options_json: &str, registration_json: &str) -> PyResult<NativeWorker> {
        let c = WorkerHandle::connect(parse_json("options", options_json)?, parse_json("registration", registration_json)?, &user_agent());
        Ok(NativeWorker { h: block_on(py, c)? })
    }

    /// `connect` on the port: resolves `fut` with the `NativeWorker`.
    #[staticmethod]
    fn connect_async(port: &NativePort, fut: Py<PyAny>, options_json: &str, registration_json: &str) -> PyResult<NativeCall> {
        let c = WorkerHandle::connect(parse_json("options", options_json)?, parse_json("registration", registration_json)?, &user_agent());
        submit(port, fut, c.map(|f| async move { f.await.map(|h| NativeWorker { h }) }))
    }

    /// The next invocation, or None after `timeout_ms` (or once the worker stopped: see
    /// `is_closed`). The GIL is released while waiting.
    #[pyo3(signature = (timeout_ms=None))]
    fn next_invocation(&self, py: Python<'_>, timeout_ms: Option<u64>) -> PyResult<Option<NativeInvocation>> {
        let next = self.h.next_invocation(timeout_ms);
        block_on(py, next.map(|f| async move { f.await.map(|i| i.map(|h| NativeInvocation { h })) }))
    }

    /// `next_invocation` on the port (cancelling it loses no invocation).
    #[pyo3(signature = (port, fut, timeout_ms=None))]
    fn next_invocation_async(&self, port: &NativePort, fut: Py<PyAny>, timeout_ms: Option<u64>) -> PyResult<NativeCall> {
        let next = self.h.next_invocation(timeout_ms);
        submit(port, fut, next.map(|f| async move { f.await.map(|i| i.map(|h| NativeInvocation { h })) }))
    }

    /// Answers invocation `id` with the JSON `result_json`.
    fn complete(&self, id: &str, result_json: &str) -> PyResult<()> {
        self.h.complete(id, parse_json("result", result_json)?).map_err(to_pyerr)
    }

    /// Fails invocation `id` (custom API: 500 HOOK_FAILED with `message`; job: retried).
    fn fail(&self, id: &str, message: &str) -> PyResult<()> {
        self.h.fail(id, message).map_err(to_pyerr)
    }

    /// Graceful shutdown (keep pulling and answering until `next_invocation` gives None and
    /// `is_closed`); blocks with the GIL released.
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        block_on(py, self.h.drain().map(|f| async move { f.await.map(unit) }))
    }

    /// `drain`, closing after `grace_ms` whatever still runs, on the port.
    fn stop_async(&self, port: &NativePort, fut: Py<PyAny>, grace_ms: u64) -> PyResult<NativeCall> {
        submit(port, fut, self.h.stop(grace_ms).map(|f| async move { f.await.map(unit) }))
    }

    /// `drain` with a grace period, blocking.
    fn stop(&self, py: Python<'_>, grace_ms: u64) -> PyResult<()> {
        block_on(py, self.h.stop(grace_ms).map(|f| async move { f.await.map(unit) }))
    }

    /// Whether the worker stopped (drained, or its task ended).
    fn is_closed(&self) -> bool {
        self.h.is_closed()
    }

    /// The project the worker serves.
    #[getter]
    fn project_id(&self) -> Option<String> {
        self.h.project_id()
    }
}

/// One call to user code.
#[pyclass(module = "aerostack._native", frozen)]
pub struct NativeInvocation {
    h: InvocationHandle,
}

#[pymethods]
impl NativeInvocation {
    #[getter]
    fn id(&self) -> &str {
        self.h.id()
    }

    /// `custom`, `service`, `event` or `job`.
    #[getter]
    fn kind(&self) -> String {
        self.h.kind()
    }

    /// Module slug, or job type.
    #[getter]
    fn name(&self) -> &str {
        self.h.name()
    }

    #[getter]
    fn project_id(&self) -> &str {
        self.h.project_id()
    }

    /// The handler's `event` as JSON text.
    #[getter]
    fn event_json(&self) -> String {
        self.h.event().to_string()
    }

    /// Unix ms after which the platform stops waiting.
    #[getter]
    fn deadline_ms(&self) -> i64 {
        self.h.deadline_ms()
    }

    /// Everything about the invocation as JSON text.
    fn to_json(&self) -> String {
        self.h.to_json().to_string()
    }

    /// Whether the platform gave up on this invocation.
    fn is_cancelled(&self) -> bool {
        self.h.is_cancelled()
    }

    /// The scoped client: the invocation's scope token, the worker's pool; ops include `fetch`.
    fn client(&self) -> PyResult<NativeClient> {
        Ok(NativeClient { h: self.h.client().map_err(to_pyerr)? })
    }
}
