//! `LocalPlatform`: the surface's `LocalPlatformHandle`, the local platform in-process.

use aerostack_bindings_common::{LocalPlatformHandle, options};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::{parse_json, to_pyerr};

/// The local platform on its own threads.
#[pyclass(module = "aerostack._native", frozen)]
pub struct LocalPlatform {
    h: LocalPlatformHandle,
}

#[pymethods]
impl LocalPlatform {
    /// Starts the platform (GIL released); `options_json`: the surface's local platform options.
    #[new]
    #[pyo3(signature = (options_json="{}"))]
    fn new(py: Python<'_>, options_json: &str) -> PyResult<Self> {
        let options = parse_json("options", options_json)?;
        let h = py.detach(move || LocalPlatformHandle::start(options)).map_err(to_pyerr)?;
        Ok(LocalPlatform { h })
    }

    #[getter]
    fn url(&self) -> &str {
        &self.h.info().url
    }

    #[getter]
    fn api_url(&self) -> &str {
        &self.h.info().api_url
    }

    #[getter]
    fn project_id(&self) -> &str {
        &self.h.info().project_id
    }

    #[getter]
    fn project_slug(&self) -> &str {
        &self.h.info().project_slug
    }

    #[getter]
    fn api_key(&self) -> &str {
        &self.h.info().api_key
    }

    #[getter]
    fn data_dir(&self) -> &str {
        &self.h.info().data_dir
    }

    /// A new project: `{id, slug, name, api_key}`.
    fn create_project<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyDict>> {
        let info = py.detach(|| self.h.create_project(name)).map_err(to_pyerr)?;
        let d = PyDict::new(py);
        for key in ["id", "slug", "name", "api_key"] {
            d.set_item(key, info[key].as_str())?;
        }
        Ok(d)
    }

    /// Whether `shutdown` has not been called yet.
    #[getter]
    fn running(&self, py: Python<'_>) -> bool {
        py.detach(|| self.h.running())
    }

    /// Stops accepting, lets open requests finish (up to 5 s), frees the port. Idempotent.
    fn shutdown(&self, py: Python<'_>) {
        py.detach(|| self.h.shutdown());
    }
}

/// `--rate-limit` specs and `--no-rate-limits` as `{name: [count, window_ms]}` JSON (the
/// platform's parser; its errors name the flag's problem and the valid names).
#[pyfunction]
pub fn rate_limits_from_flags(specs: Vec<String>, no_rate_limits: bool) -> PyResult<String> {
    Ok(options::rate_limits_from_flags(&specs, no_rate_limits).map_err(to_pyerr)?.to_string())
}

/// The help text of the rate-limit flags.
#[pyfunction]
pub fn rate_limit_help() -> &'static str {
    options::RATE_LIMIT_HELP
}
