//! Engine log lines (retries) written through Python's `logging`, on the host's thread: the
//! surface queues them (`bindings_common::logs`), and [`flush`] hands them to
//! `aerostack._transport._emit_engine_logs` wherever the binding passes anyway (between the parks
//! of a blocking wait, after a call, when a completion port drains).

use aerostack_bindings_common::logs;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static SINK: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Writes the waiting lines through the Python sink (imported on first use). A failing sink
/// never fails the call that flushed: its exception is reported as unraisable.
pub fn flush(py: Python<'_>) {
    if !logs::pending() {
        return;
    }
    let sink = SINK.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("aerostack._transport")?.getattr("_emit_engine_logs")?.unbind())
    });
    let lines: Vec<(&'static str, String)> = logs::drain().into_iter().map(|l| (l.level.as_str(), l.message)).collect();
    if let Err(e) = sink.and_then(|s| s.bind(py).call1((lines,))) {
        e.write_unraisable(py, None);
    }
}
