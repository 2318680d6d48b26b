//! `aerostack._native`: the pyo3 binding of the Aerostack engine.
//!
//! Type conversion only (BRIEF §3): every operation goes through the shared operation table
//! (`aerostack_bindings_common::ops`) with JSON arguments and a JSON answer; the idiomatic
//! Python API (`AerostackClient`, `SDK`, exception classes) is written in Python on top
//! (`python/aerostack`). Rules kept here (BRIEF §6):
//!
//! - one tokio runtime per process, created lazily on the first call (never at import);
//! - sync calls release the GIL for their whole duration and still notice Ctrl-C;
//! - async calls return asyncio awaitables driven by that same runtime; cancelling the awaitable
//!   drops the engine future;
//! - objects created before `fork()` refuse use in the child with an error that says what to do,
//!   and a client created in the child works, sync and async (the async bridge resolves the
//!   runtime per process, see [`EngineRuntime`]).

mod completion;
mod hooks;
mod hosted;
mod stream;

use std::cell::OnceCell;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod realtime;

use aerostack::{Client, ClientConfig, Error};
use aerostack_bindings_common::{ProcessGuard, RuntimeError, StreamHandle, family_of, ops};
use completion::{NativeCall, NativePort, Progress};
use hosted::NativeHostedCall;
use stream::NativeStream;
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, Runtime as GenericRuntime};
use serde_json::Value;

/// The version of this package (= the workspace version), used in the User-Agent.
const VERSION: &str = env!("CARGO_PKG_VERSION");

// ---------------------------------------------------------------------------------------------
// Errors

pyo3::create_exception!(
    _native,
    NativeError,
    PyException,
    "Every engine failure. `args` = (message, code, status, request_id, retryable, retry_after \
     seconds, details JSON, body, family); the Python package re-raises it as the class of its \
     `family` (aerostack.errors)."
);

/// The engine error as a (lazily built) `NativeError`: no GIL needed here. The abi3 (limited)
/// API cannot subclass `Exception` from Rust, so the fields travel as the exception's `args`.
fn to_pyerr(e: Error) -> PyErr {
    let code = e.code().as_str().to_string();
    let family = family_of(&code, e.status()).as_str().to_string();
    PyErr::new::<NativeError, _>((
        e.message().to_string(),
        code,
        e.status(),
        e.request_id().map(str::to_string),
        e.retryable(),
        e.retry_after().map(|d| d.as_secs_f64()),
        e.details().map(|d| d.to_string()),
        e.body().map(str::to_string),
        family,
    ))
}

fn runtime_err(e: RuntimeError) -> PyErr {
    match e {
        RuntimeError::Forked { .. } => to_pyerr(Error::invalid_config(e.to_string())),
        RuntimeError::Start(_) => PyRuntimeError::new_err(e.to_string()),
    }
}

fn parse_json(what: &str, text: &str) -> PyResult<Value> {
    serde_json::from_str(text).map_err(|e| {
        to_pyerr(Error::validation(
            what,
            format!("{what} is not valid JSON: {e}"),
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// The async bridge: pyo3-async-runtimes on *our* process runtime.

/// pyo3-async-runtimes' generic runtime, resolved per process through
/// `aerostack_bindings_common::runtime()`. (`pyo3_async_runtimes::tokio::init_with_runtime`
/// would pin the first runtime for good, so a forked child could never run an async call.)
struct EngineRuntime;

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

fn process_runtime() -> Arc<tokio::runtime::Runtime> {
    // Checked by every caller before the bridge spawns anything; a failure here is a bug.
    aerostack_bindings_common::runtime().expect("the Aerostack runtime was checked before use")
}

impl GenericRuntime for EngineRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        process_runtime().spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        process_runtime().spawn_blocking(f)
    }
}

impl ContextExt for EngineRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}

/// An asyncio awaitable for `fut` (needs a running event loop: call from a coroutine).
fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    aerostack_bindings_common::runtime().map_err(runtime_err)?;
    pyo3_async_runtimes::generic::future_into_py::<EngineRuntime, F, T>(py, fut)
}

pub(crate) use completion::block_on;

// ---------------------------------------------------------------------------------------------
// The client

/// One engine client (one connection pool). `config_json` is the engine's `ClientConfig`.
#[pyclass(module = "aerostack._native", frozen)]
struct NativeClient {
    client: Client,
    guard: ProcessGuard,
}

impl NativeClient {
    fn client(&self) -> PyResult<Client> {
        self.guard.check().map_err(runtime_err)?;
        Ok(self.client.clone())
    }
}

/// The object a download resolves to: `(bytes, content_type)`.
struct Download(aerostack::StoredObject);

impl<'py> IntoPyObject<'py> for Download {
    type Target = PyTuple;
    type Output = Bound<'py, PyTuple>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        (PyBytes::new(py, &self.0.data), self.0.content_type).into_pyobject(py)
    }
}

#[pymethods]
impl NativeClient {
    #[new]
    fn new(config_json: &str) -> PyResult<Self> {
        let mut cfg: ClientConfig = serde_json::from_str(config_json)
            .map_err(|e| to_pyerr(Error::invalid_config(format!("client configuration: {e}"))))?;
        if cfg.user_agent_prefix.is_none() {
            cfg.user_agent_prefix = Some(format!("aerostack-python/{VERSION}"));
        }
        let rt = aerostack_bindings_common::runtime().map_err(runtime_err)?;
        let _entered = rt.enter();
        let client = Client::new(cfg).map_err(to_pyerr)?;
        Ok(NativeClient {
            client,
            guard: ProcessGuard::new(),
        })
    }

    /// Runs operation `op` (see `OPERATIONS`) with JSON arguments; returns the JSON answer.
    fn call(&self, py: Python<'_>, op: &str, args_json: &str) -> PyResult<String> {
        let client = self.client()?;
        let args = parse_json("args", args_json)?;
        let op = op.to_string();
        block_on(py, move || async move {
            ops::dispatch(&client, &op, args)
                .await
                .map(|v| v.to_string())
        })
    }

    /// `call` on the port: resolves the asyncio future `fut` with the JSON answer.
    fn call_async(&self, port: &NativePort, fut: Py<PyAny>, op: &str, args_json: &str) -> PyResult<NativeCall> {
        let client = self.client()?;
        let args = parse_json("args", args_json)?;
        let op = op.to_string();
        completion::submit(port, fut, async move {
            ops::dispatch(&client, &op, args).await.map(|v| v.to_string())
        })
    }

    /// `storage.upload` from `data` (bytes) or, when `data` is None, from the file at `args.path`;
    /// `progress(sent, total)` is called on this thread while the upload runs.
    #[pyo3(signature = (args_json, data=None, progress=None))]
    fn upload(&self, py: Python<'_>, args_json: &str, data: Option<&[u8]>, progress: Option<Py<PyAny>>) -> PyResult<String> {
        let client = self.client()?;
        let args = parse_json("args", args_json)?;
        let data = data.map(bytes::Bytes::copy_from_slice);
        let (progress, engine_fn) = progress.map(Progress::blocking).unzip();
        completion::block_on_reporting(
            py,
            move || async move { ops::upload(&client, args, data, engine_fn).await.map(|v| v.to_string()) },
            progress.as_deref(),
        )
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
        let client = self.client()?;
        let args = parse_json("args", args_json)?;
        let data = data.map(bytes::Bytes::copy_from_slice);
        match progress {
            None => completion::submit(port, fut, async move {
                ops::upload(&client, args, data, None).await.map(|v| v.to_string())
            }),
            Some(cb) => {
                let target = fut.clone_ref(py);
                let (progress, engine_fn) = Progress::awaited(cb, port, target);
                let engine_fn = Some(engine_fn);
                completion::submit_reporting(
                    port,
                    fut,
                    async move { ops::upload(&client, args, data, engine_fn).await.map(|v| v.to_string()) },
                    &progress,
                )
            }
        }
    }

    /// `storage.get`: `(bytes, content_type)`.
    fn download<'py>(&self, py: Python<'py>, args_json: &str) -> PyResult<Bound<'py, PyTuple>> {
        let client = self.client()?;
        let args = parse_json("args", args_json)?;
        let obj = block_on(py, move || async move { ops::download(&client, args).await })?;
        Download(obj).into_pyobject(py)
    }

    /// `download` on the port.
    fn download_async(&self, port: &NativePort, fut: Py<PyAny>, args_json: &str) -> PyResult<NativeCall> {
        let client = self.client()?;
        let args = parse_json("args", args_json)?;
        completion::submit(port, fut, async move { ops::download(&client, args).await.map(Download) })
    }

    /// Starts `op` with its HTTP requests handed to Python (see `NativeHostedCall`).
    fn hosted(&self, op: &str, args_json: &str) -> PyResult<NativeHostedCall> {
        let client = self.client()?;
        let args = parse_json("args", args_json)?;
        let call = aerostack_bindings_common::HostedCall::start(client, op.to_string(), args).map_err(runtime_err)?;
        Ok(NativeHostedCall::new(call))
    }

    /// `upload` with its HTTP requests handed to Python (see `NativeHostedCall`).
    #[pyo3(signature = (args_json, data=None))]
    fn hosted_upload(&self, args_json: &str, data: Option<&[u8]>) -> PyResult<NativeHostedCall> {
        let client = self.client()?;
        let args = parse_json("args", args_json)?;
        let data = data.map(bytes::Bytes::copy_from_slice);
        let call = aerostack_bindings_common::HostedCall::spawn(async move { ops::upload(&client, args, data, None).await })
            .map_err(runtime_err)?;
        Ok(NativeHostedCall::new(call))
    }

    /// Opens streamed operation `op` (`ai.chat_stream`); pull it with `NativeStream.next()`.
    fn stream(&self, py: Python<'_>, op: &str, args_json: &str) -> PyResult<NativeStream> {
        let client = self.client()?;
        let args = parse_json("args", args_json)?;
        let op = op.to_string();
        block_on(py, move || async move { StreamHandle::open(&client, &op, args).await.map(NativeStream::new) })
    }

    /// `stream` on the port: resolves `fut` with the `NativeStream`.
    fn stream_async(&self, port: &NativePort, fut: Py<PyAny>, op: &str, args_json: &str) -> PyResult<NativeCall> {
        let client = self.client()?;
        let args = parse_json("args", args_json)?;
        let op = op.to_string();
        completion::submit(port, fut, async move { StreamHandle::open(&client, &op, args).await.map(NativeStream::new) })
    }
}

// ---------------------------------------------------------------------------------------------
// The local platform, in-process

/// The local platform on its own runtime (its own threads), so sync calls from this process
/// never compete with it for workers.
#[pyclass(module = "aerostack._native", name = "LocalPlatform", frozen)]
struct PyLocalPlatform {
    inner: Mutex<Option<(tokio::runtime::Runtime, aerostack_server::LocalPlatform)>>,
    guard: ProcessGuard,
    #[pyo3(get)]
    url: String,
    #[pyo3(get)]
    api_url: String,
    #[pyo3(get)]
    project_id: String,
    #[pyo3(get)]
    project_slug: String,
    #[pyo3(get)]
    api_key: String,
    #[pyo3(get)]
    data_dir: String,
}

fn server_options(v: &Value) -> PyResult<aerostack_server::ServerOptions> {
    use aerostack_server::{Rate, ServerOptions};
    let bad = |field: &str, want: &str| {
        to_pyerr(Error::validation(
            field,
            format!("LocalPlatform option `{field}` must be {want}"),
        ))
    };
    let o = v.as_object().ok_or_else(|| bad("options", "an object"))?;
    let mut opts = ServerOptions {
        port: 0,
        ..ServerOptions::default()
    };
    if o.get("from_env").and_then(Value::as_bool).unwrap_or(true) {
        opts = opts.from_env();
    }
    for (k, val) in o {
        if val.is_null() {
            continue;
        }
        match k.as_str() {
            "from_env" => {}
            "host" => opts.host = val.as_str().ok_or_else(|| bad(k, "a string"))?.to_string(),
            "port" => {
                opts.port = val
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| bad(k, "a port number"))?
            }
            "data_dir" => {
                opts.data_dir = Some(PathBuf::from(val.as_str().ok_or_else(|| bad(k, "a path"))?))
            }
            "project_dir" => {
                opts.project_dir =
                    Some(PathBuf::from(val.as_str().ok_or_else(|| bad(k, "a path"))?))
            }
            "ephemeral" => opts.ephemeral = val.as_bool().ok_or_else(|| bad(k, "true or false"))?,
            "print_banner" => {
                opts.print_banner = val.as_bool().ok_or_else(|| bad(k, "true or false"))?
            }
            "require_email_verification" => {
                opts.require_email_verification =
                    val.as_bool().ok_or_else(|| bad(k, "true or false"))?
            }
            "ai_base_url" => {
                opts.ai.base_url = Some(val.as_str().ok_or_else(|| bad(k, "a URL"))?.to_string())
            }
            "ai_api_key" => {
                opts.ai.api_key = Some(val.as_str().ok_or_else(|| bad(k, "a string"))?.to_string())
            }
            "ai_model" => {
                opts.ai.model = Some(val.as_str().ok_or_else(|| bad(k, "a string"))?.to_string())
            }
            "max_upload_bytes" => {
                opts.limits.max_upload_bytes = val.as_u64().ok_or_else(|| bad(k, "an integer"))?
            }
            "rate_limits" => {
                let m = val
                    .as_object()
                    .ok_or_else(|| bad(k, "an object of name: [count, window_seconds]"))?;
                for (name, r) in m {
                    let pair = r.as_array().filter(|a| a.len() == 2);
                    let (count, window) = pair
                        .and_then(|a| Some((u32::try_from(a[0].as_u64()?).ok()?, a[1].as_f64()?)))
                        .ok_or_else(|| bad(name, "[count, window_seconds]"))?;
                    let rate = Rate::new(count, Duration::from_secs_f64(window.max(0.0)));
                    let l = &mut opts.limits;
                    let slot = match name.as_str() {
                        "login_per_ip" => &mut l.login_per_ip,
                        "login_per_email" => &mut l.login_per_email,
                        "register_per_ip" => &mut l.register_per_ip,
                        "otp_send" => &mut l.otp_send,
                        "otp_verify" => &mut l.otp_verify,
                        "password_reset" => &mut l.password_reset,
                        "resend_verification" => &mut l.resend_verification,
                        "cache_flush" => &mut l.cache_flush,
                        _ => {
                            return Err(bad(
                                name,
                                "one of login_per_ip, login_per_email, register_per_ip, otp_send, otp_verify, password_reset, resend_verification, cache_flush",
                            ));
                        }
                    };
                    *slot = rate;
                }
            }
            other => {
                return Err(bad(
                    other,
                    "a known option (host, port, data_dir, ephemeral, ...); it is not one",
                ));
            }
        }
    }
    Ok(opts)
}

#[pymethods]
impl PyLocalPlatform {
    /// Starts the platform; `options_json` holds host, port (default 0 = free port), data_dir,
    /// ephemeral, project_dir, print_banner, require_email_verification, ai_base_url, ai_api_key,
    /// ai_model, max_upload_bytes, rate_limits, from_env (default true).
    #[new]
    #[pyo3(signature = (options_json="{}"))]
    fn new(py: Python<'_>, options_json: &str) -> PyResult<Self> {
        let opts = server_options(&parse_json("options", options_json)?)?;
        let started = py.detach(move || -> Result<_, String> {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .thread_name("aerostack-local")
                .build()
                .map_err(|e| format!("could not start the local platform's runtime: {e}"))?;
            let p = rt
                .block_on(aerostack_server::LocalPlatform::start(opts))
                .map_err(|e| e.to_string())?;
            Ok((rt, p))
        });
        let (rt, p) = started.map_err(PyRuntimeError::new_err)?;
        let d = p.default_project().clone();
        Ok(PyLocalPlatform {
            url: p.url().to_string(),
            api_url: p.api_url(),
            project_id: d.id,
            project_slug: d.slug,
            api_key: d.api_key,
            data_dir: p.data_dir().display().to_string(),
            inner: Mutex::new(Some((rt, p))),
            guard: ProcessGuard::new(),
        })
    }

    /// A new project: `{id, slug, name, api_key}`.
    fn create_project<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyDict>> {
        self.guard.check().map_err(runtime_err)?;
        let name = name.to_string();
        // The lock is only ever taken with the GIL released: a thread waiting for it while holding
        // the GIL would deadlock with this one coming back from `detach`.
        let info = py
            .detach(|| -> Result<aerostack_server::ProjectInfo, String> {
                let guard = self
                    .inner
                    .lock()
                    .map_err(|_| "local platform lock poisoned".to_string())?;
                let (rt, p) = guard
                    .as_ref()
                    .ok_or_else(|| "the local platform was shut down".to_string())?;
                rt.block_on(p.create_project(&name))
                    .map_err(|e| e.to_string())
            })
            .map_err(PyRuntimeError::new_err)?;
        let d = PyDict::new(py);
        d.set_item("id", info.id)?;
        d.set_item("slug", info.slug)?;
        d.set_item("name", info.name)?;
        d.set_item("api_key", info.api_key)?;
        Ok(d)
    }

    /// Whether `shutdown` has not been called yet.
    #[getter]
    fn running(&self, py: Python<'_>) -> bool {
        py.detach(|| self.inner.lock().map(|g| g.is_some()).unwrap_or(false))
    }

    /// Stops accepting, lets open requests finish (up to 5 s), frees the port. Idempotent.
    fn shutdown(&self, py: Python<'_>) {
        let taken = py.detach(|| self.inner.lock().ok().and_then(|mut g| g.take()));
        if let Some((rt, p)) = taken {
            if self.guard.check().is_err() {
                // A forked child does not own the parent's threads: forget, never join.
                std::mem::forget((rt, p));
                return;
            }
            py.detach(move || {
                rt.block_on(p.shutdown());
                rt.shutdown_timeout(Duration::from_secs(1));
            });
        }
    }
}

impl Drop for PyLocalPlatform {
    fn drop(&mut self) {
        if let Some((rt, p)) = self.inner.get_mut().ok().and_then(|g| g.take()) {
            if self.guard.check().is_err() {
                std::mem::forget((rt, p));
                return;
            }
            drop(p);
            rt.shutdown_background();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Module

/// The engine's version.
#[pyfunction]
fn engine_version() -> &'static str {
    aerostack::VERSION
}

/// The operation names `call` accepts.
#[pyfunction]
fn operations() -> Vec<&'static str> {
    ops::OPERATIONS.to_vec()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", VERSION)?;
    m.add_class::<NativeClient>()?;
    m.add_class::<completion::NativePort>()?;
    m.add_class::<completion::NativeCall>()?;
    m.add_class::<NativeStream>()?;
    m.add_class::<NativeHostedCall>()?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_class::<PyLocalPlatform>()?;
    realtime::register(m)?;
    hooks::register(m)?;
    m.add_function(wrap_pyfunction!(engine_version, m)?)?;
    m.add_function(wrap_pyfunction!(operations, m)?)?;
    Ok(())
}
