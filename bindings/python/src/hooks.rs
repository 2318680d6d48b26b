//! The hook runtime for Python (`aerostack.hooks`): a thin pyo3 face over the engine's
//! [`aerostack::hooks::Worker`]. The Python loop PULLS invocations (`next_invocation`,
//! `next_invocation_async`) and answers them (`complete`, `fail`); the engine never calls Python
//! from its threads. An invocation hands out a `NativeClient` over the scoped sdk's client (the
//! invocation's scope token, the worker's connection pool), so the Python scoped sdk reuses the
//! client namespaces, plus `fetch` and `emit` over the engine's scoped `Sdk`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aerostack::hooks::{FetchOptions, Invocation, JobType, Module, Worker, WorkerOptions};
use aerostack::{ClientConfig, Error};
use aerostack_bindings_common::ProcessGuard;
use pyo3::prelude::*;
use serde_json::Value;

use super::{NativeClient, VERSION, awaitable, block_on, parse_json, runtime_err, to_pyerr};

fn worker_parts(
    config_json: &str,
    registrations_json: &str,
) -> PyResult<(ClientConfig, WorkerOptions)> {
    let mut cfg: ClientConfig = serde_json::from_str(config_json)
        .map_err(|e| to_pyerr(Error::invalid_config(format!("client configuration: {e}"))))?;
    if cfg.user_agent_prefix.is_none() {
        cfg.user_agent_prefix = Some(format!("aerostack-python/{VERSION}"));
    }
    let reg = parse_json("registrations", registrations_json)?;
    let bad = |what: &str, e: serde_json::Error| {
        to_pyerr(Error::validation(what, format!("{what}: {e}")))
    };
    let mut options = WorkerOptions::new();
    if let Some(modules) = reg.get("modules") {
        let modules: Vec<Module> =
            serde_json::from_value(modules.clone()).map_err(|e| bad("modules", e))?;
        for m in modules {
            options = options.module(m);
        }
    }
    if let Some(jobs) = reg.get("jobs") {
        let jobs: Vec<JobType> =
            serde_json::from_value(jobs.clone()).map_err(|e| bad("jobs", e))?;
        for j in jobs {
            options = options.job(j);
        }
    }
    if let Some(n) = reg.get("concurrency").and_then(Value::as_u64) {
        options = options.concurrency(u32::try_from(n).unwrap_or(u32::MAX));
    }
    if let Some(label) = reg.get("label").and_then(Value::as_str) {
        options = options.label(label);
    }
    Ok((cfg, options))
}

fn seconds(what: &str, s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s.max(0.0)).map_err(|_| {
        to_pyerr(Error::validation(
            what,
            format!("{what} must be a number of seconds"),
        ))
    })
}

/// A connected worker (one WebSocket to the platform, reconnecting by itself).
#[pyclass(module = "aerostack._native", frozen)]
pub(crate) struct NativeWorker {
    worker: Arc<Worker>,
    guard: ProcessGuard,
}

impl NativeWorker {
    fn worker(&self) -> PyResult<Arc<Worker>> {
        self.guard.check().map_err(runtime_err)?;
        Ok(self.worker.clone())
    }
}

fn wrap(inv: Option<Invocation>) -> Option<NativeInvocation> {
    inv.map(|inv| NativeInvocation {
        inv: Arc::new(inv),
        guard: ProcessGuard::new(),
    })
}

#[pymethods]
impl NativeWorker {
    /// Connects and registers (`registrations_json`: `{modules: [...], jobs: [...],
    /// concurrency, label}`, the frames of docs/workers.md); returns once registered.
    #[staticmethod]
    fn connect(py: Python<'_>, config_json: &str, registrations_json: &str) -> PyResult<Self> {
        let (cfg, options) = worker_parts(config_json, registrations_json)?;
        let worker = block_on(py, move || Worker::connect(cfg, options))?;
        Ok(NativeWorker {
            worker: Arc::new(worker),
            guard: ProcessGuard::new(),
        })
    }

    /// `connect` as an awaitable.
    #[staticmethod]
    fn connect_async<'py>(
        py: Python<'py>,
        config_json: &str,
        registrations_json: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (cfg, options) = worker_parts(config_json, registrations_json)?;
        awaitable(py, async move {
            let worker = Worker::connect(cfg, options).await.map_err(to_pyerr)?;
            Ok(NativeWorker {
                worker: Arc::new(worker),
                guard: ProcessGuard::new(),
            })
        })
    }

    /// The next invocation, or None after `timeout` seconds (or once the worker stopped: see
    /// `is_closed`). The GIL is released while waiting.
    #[pyo3(signature = (timeout=1.0))]
    fn next_invocation(&self, py: Python<'_>, timeout: f64) -> PyResult<Option<NativeInvocation>> {
        let worker = self.worker()?;
        let d = seconds("timeout", timeout)?;
        let inv = block_on(py, move || async move {
            Ok::<_, Error>(worker.next_invocation_timeout(d).await)
        })?;
        Ok(wrap(inv))
    }

    /// `next_invocation` as an awaitable.
    #[pyo3(signature = (timeout=1.0))]
    fn next_invocation_async<'py>(
        &self,
        py: Python<'py>,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let worker = self.worker()?;
        let d = seconds("timeout", timeout)?;
        awaitable(py, async move {
            Ok(wrap(worker.next_invocation_timeout(d).await))
        })
    }

    /// Answers invocation `id` with the JSON `result_json`.
    fn complete(&self, id: &str, result_json: &str) -> PyResult<()> {
        let result = parse_json("result", result_json)?;
        self.worker()?.complete(id, result).map_err(to_pyerr)
    }

    /// Fails invocation `id` (custom API: 500 HOOK_FAILED with `message`; job: retried).
    fn fail(&self, id: &str, message: &str) -> PyResult<()> {
        self.worker()?.fail(id, message).map_err(to_pyerr)
    }

    /// Graceful shutdown (keep pulling and answering until `next_invocation` gives None and
    /// `is_closed`): blocks with the GIL released.
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        let worker = self.worker()?;
        block_on(py, move || async move {
            worker.drain().await;
            Ok::<_, Error>(())
        })
    }

    /// `drain` as an awaitable.
    fn drain_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let worker = self.worker()?;
        awaitable(py, async move {
            worker.drain().await;
            Ok(())
        })
    }

    /// Whether the worker stopped (drained, or its task ended).
    fn is_closed(&self) -> bool {
        self.worker.is_closed()
    }

    /// The project the worker serves.
    #[getter]
    fn project_id(&self) -> Option<String> {
        self.worker.project_id()
    }
}

/// One call to user code.
#[pyclass(module = "aerostack._native", frozen)]
pub(crate) struct NativeInvocation {
    inv: Arc<Invocation>,
    guard: ProcessGuard,
}

fn fetch_options(v: &Value) -> PyResult<FetchOptions> {
    let bad = |field: &str, want: &str| {
        to_pyerr(Error::validation(
            field,
            format!("fetch option `{field}` must be {want}"),
        ))
    };
    let mut o = FetchOptions::default();
    if v.is_null() {
        return Ok(o);
    }
    let m = v.as_object().ok_or_else(|| bad("options", "an object"))?;
    if let Some(x) = m.get("method").filter(|x| !x.is_null()) {
        o.method = Some(
            x.as_str()
                .ok_or_else(|| bad("method", "a string"))?
                .to_string(),
        );
    }
    if let Some(x) = m.get("headers").filter(|x| !x.is_null()) {
        let h = x
            .as_object()
            .ok_or_else(|| bad("headers", "an object of strings"))?;
        let mut headers = BTreeMap::new();
        for (k, val) in h {
            let val = match val {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            headers.insert(k.clone(), val);
        }
        o.headers = headers;
    }
    if let Some(x) = m.get("body").filter(|x| !x.is_null()) {
        o.body = Some(
            x.as_str()
                .ok_or_else(|| bad("body", "a string"))?
                .to_string(),
        );
    }
    if let Some(x) = m.get("timeout").filter(|x| !x.is_null()) {
        let s = x.as_f64().ok_or_else(|| bad("timeout", "seconds"))?;
        o.timeout = Some(seconds("timeout", s)?);
    }
    Ok(o)
}

impl NativeInvocation {
    fn inv(&self) -> PyResult<Arc<Invocation>> {
        self.guard.check().map_err(runtime_err)?;
        Ok(self.inv.clone())
    }
}

#[pymethods]
impl NativeInvocation {
    #[getter]
    fn id(&self) -> &str {
        &self.inv.id
    }

    /// `custom`, `service`, `event` or `job`.
    #[getter]
    fn kind(&self) -> String {
        match serde_json::to_value(self.inv.kind) {
            Ok(Value::String(s)) => s,
            _ => String::new(),
        }
    }

    /// Module slug, or job type.
    #[getter]
    fn name(&self) -> &str {
        &self.inv.name
    }

    #[getter]
    fn project_id(&self) -> &str {
        &self.inv.project_id
    }

    /// The handler's `event` as JSON text.
    #[getter]
    fn event_json(&self) -> String {
        self.inv.event.to_string()
    }

    /// Unix ms after which the platform stops waiting.
    #[getter]
    fn deadline_ms(&self) -> i64 {
        self.inv.deadline_ms
    }

    /// Everything about the invocation as JSON text (`Invocation::to_json`).
    fn to_json(&self) -> String {
        self.inv.to_json().to_string()
    }

    /// Whether the platform gave up on this invocation.
    fn is_cancelled(&self) -> bool {
        self.inv.is_cancelled()
    }

    /// A client over the scoped sdk: the invocation's scope token, the worker's pool.
    fn client(&self) -> PyResult<NativeClient> {
        let inv = self.inv()?;
        Ok(NativeClient {
            client: inv.sdk().client().clone(),
            guard: ProcessGuard::new(),
        })
    }

    /// `sdk.fetch(url, options)`: `{status, headers, body}` as JSON text. `options_json`:
    /// `{method, headers, body (text), timeout (seconds)}`.
    fn fetch(&self, py: Python<'_>, url: &str, options_json: &str) -> PyResult<String> {
        let sdk = self.inv()?.sdk().clone();
        let options = fetch_options(&parse_json("options", options_json)?)?;
        let url = url.to_string();
        block_on(py, move || async move {
            let r = sdk.fetch(&url, options).await?;
            Ok(serde_json::to_string(&r).unwrap_or_default())
        })
    }

    /// `fetch` as an awaitable.
    fn fetch_async<'py>(
        &self,
        py: Python<'py>,
        url: &str,
        options_json: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let sdk = self.inv()?.sdk().clone();
        let options = fetch_options(&parse_json("options", options_json)?)?;
        let url = url.to_string();
        awaitable(py, async move {
            let r = sdk.fetch(&url, options).await.map_err(to_pyerr)?;
            Ok(serde_json::to_string(&r).unwrap_or_default())
        })
    }

    /// `sdk.socket.emit(event, data, room)`: what was delivered, as JSON text.
    fn emit(&self, py: Python<'_>, event: &str, data_json: &str, room: &str) -> PyResult<String> {
        let sdk = self.inv()?.sdk().clone();
        let data = parse_json("data", data_json)?;
        let (event, room) = (event.to_string(), room.to_string());
        block_on(py, move || async move {
            let r = sdk.socket().emit(&event, &data, &room).await?;
            Ok(serde_json::to_string(&r).unwrap_or_default())
        })
    }

    /// `emit` as an awaitable.
    fn emit_async<'py>(
        &self,
        py: Python<'py>,
        event: &str,
        data_json: &str,
        room: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let sdk = self.inv()?.sdk().clone();
        let data = parse_json("data", data_json)?;
        let (event, room) = (event.to_string(), room.to_string());
        awaitable(py, async move {
            let r = sdk
                .socket()
                .emit(&event, &data, &room)
                .await
                .map_err(to_pyerr)?;
            Ok(serde_json::to_string(&r).unwrap_or_default())
        })
    }
}

/// The queue job type a function named `name` serves (`send_welcome_email` ->
/// `send-welcome-email`).
#[pyfunction]
fn job_type_from_function_name(name: &str) -> String {
    aerostack::hooks::job_type_from_function_name(name)
}

/// Adds the hook classes to `aerostack._native`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeWorker>()?;
    m.add_class::<NativeInvocation>()?;
    m.add_function(wrap_pyfunction!(job_type_from_function_name, m)?)?;
    Ok(())
}
