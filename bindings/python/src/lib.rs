//! `aerostack._native`: the pyo3 binding of the Aerostack engine, over the binding surface
//! (`aerostack_bindings_common`) alone.
//!
//! Type conversion only (BRIEF §3): one Python class per surface handle, each method one to three
//! lines; JSON crosses as text; the idiomatic Python API (`AerostackClient`, `SDK`, channels,
//! hooks, exception classes) is written in Python on top (`python/aerostack`). Rules kept here:
//!
//! - the process runtime is the surface's, created on first use (never at import);
//! - blocking calls release the GIL for their whole wait and still notice Ctrl-C;
//! - awaitable calls resolve asyncio futures through the loop's completion port
//!   (completion.rs): no engine thread ever takes the GIL; cancelling the awaiting task drops the
//!   engine future;
//! - handles created before `fork()` refuse use in the child with an error that says what to do.

mod client;
mod completion;
mod gateway_socket;
mod hosted;
mod logs;
mod platform;
mod realtime;
mod stream;
mod worker;

use aerostack_bindings_common::{Error, ErrorDto};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use serde_json::Value;

/// The version of this package (= the workspace version), used in the User-Agent.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `aerostack-python/<version>`: the User-Agent prefix of every request.
fn user_agent() -> String {
    format!("aerostack-python/{VERSION}")
}

pyo3::create_exception!(
    _native,
    NativeError,
    PyException,
    "Every engine failure. `args` = (message, code, status, request_id, retryable, retry_after \
     seconds, details JSON, body, family); the Python package re-raises it as the class of its \
     `family` (aerostack.errors)."
);

/// The surface's error object as a (lazily built) `NativeError`: no GIL needed here. The abi3
/// (limited) API cannot subclass `Exception` from Rust, so the fields travel as `args`.
fn to_pyerr(e: impl Into<ErrorDto>) -> PyErr {
    let d: ErrorDto = e.into();
    PyErr::new::<NativeError, _>((
        d.message,
        d.code,
        d.status,
        d.request_id,
        d.retryable,
        d.retry_after_ms.map(|ms| ms as f64 / 1000.0),
        d.details.map(|v| v.to_string()),
        d.body,
        d.family.as_str().to_string(),
    ))
}

/// JSON text from Python.
fn parse_json(what: &str, text: &str) -> PyResult<Value> {
    serde_json::from_str(text).map_err(|e| to_pyerr(Error::validation(what, format!("{what} is not valid JSON: {e}"))))
}

/// The engine's version.
#[pyfunction]
fn engine_version() -> &'static str {
    aerostack_bindings_common::ENGINE_VERSION
}

/// The operation names `call` accepts.
#[pyfunction]
fn operations() -> Vec<&'static str> {
    aerostack_bindings_common::ops::OPERATIONS.to_vec()
}

/// The REST operations of the operation-style `SDK`, as `group.name`.
#[pyfunction]
fn rest_operations() -> Vec<String> {
    aerostack_bindings_common::rest::REST_OPERATIONS.iter().map(|o| format!("{}.{}", o.group, o.name)).collect()
}

/// Where the times are in each result type (`bindings_common::times`): `(result type, paths)`.
#[pyfunction]
fn time_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    aerostack_bindings_common::times::TIME_FIELDS.iter().map(|(t, p)| (*t, p.to_vec())).collect()
}

/// The engine's option names that appear in error messages, and Python's spelling of each.
#[pyfunction]
fn engine_option_names() -> Vec<(&'static str, Option<&'static str>)> {
    aerostack_bindings_common::naming::ENGINE_NAMES
        .iter()
        .map(|e| (*e, NAMES.iter().find(|(n, _)| n == e).map(|(_, p)| *p)))
        .collect()
}

/// The queue job type a function named `name` serves (`send_welcome_email` ->
/// `send-welcome-email`).
#[pyfunction]
fn job_type_from_function_name(name: &str) -> String {
    aerostack_bindings_common::job_type_from_function_name(name)
}

/// How Python spells the engine's option names in error messages.
const NAMES: aerostack_bindings_common::naming::Names = &[
    ("CallOptions.timeout_ms", "client.with_options(timeout=seconds)"),
    ("ClientConfig.timeout_ms", "AerostackClient(timeout=seconds)"),
    ("ClientConfig.api_key", "api_key="),
    ("ClientConfig.project_id", "project_id="),
    ("CallOptions.idempotency_key", "with_options(idempotency_key=...)"),
    ("CallOptions.headers", "with_options(headers=...)"),
    ("RealtimeConfig::outbox_capacity", "client.realtime.configure(outbox_capacity=...)"),
];

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    aerostack_bindings_common::naming::install(NAMES);
    aerostack_bindings_common::logs::install();
    aerostack_bindings_common::logs::on_pending(completion::wake_ports_for_logs);
    m.add("__version__", VERSION)?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_class::<completion::NativePort>()?;
    m.add_class::<completion::NativeCall>()?;
    m.add_class::<completion::NativeTask>()?;
    m.add_class::<client::NativeClient>()?;
    m.add_class::<stream::NativeStream>()?;
    m.add_class::<gateway_socket::NativeGatewaySocket>()?;
    m.add_class::<hosted::NativeHostedCall>()?;
    m.add_class::<realtime::NativeRealtime>()?;
    m.add_class::<realtime::NativeChannel>()?;
    m.add_class::<worker::NativeWorker>()?;
    m.add_class::<worker::NativeInvocation>()?;
    m.add_class::<platform::LocalPlatform>()?;
    m.add_function(wrap_pyfunction!(engine_version, m)?)?;
    m.add_function(wrap_pyfunction!(operations, m)?)?;
    m.add_function(wrap_pyfunction!(rest_operations, m)?)?;
    m.add_function(wrap_pyfunction!(time_fields, m)?)?;
    m.add_function(wrap_pyfunction!(engine_option_names, m)?)?;
    m.add_function(wrap_pyfunction!(platform::rate_limits_from_flags, m)?)?;
    m.add_function(wrap_pyfunction!(platform::rate_limit_help, m)?)?;
    m.add_function(wrap_pyfunction!(job_type_from_function_name, m)?)?;
    Ok(())
}
