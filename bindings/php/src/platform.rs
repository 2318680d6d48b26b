//! `LocalPlatform`: the surface's `LocalPlatformHandle`, the local platform in-process (its own
//! threads), for tests and demos.

use aerostack_bindings_common::{LocalPlatformHandle, options};
use ext_php_rs::prelude::*;

use crate::{parse_json, to_php};

/// A running local platform.
#[php_class]
#[php(name = "Aerostack\\Native\\LocalPlatform")]
pub struct LocalPlatform {
    h: LocalPlatformHandle,
}

#[php_impl]
impl LocalPlatform {
    /// Starts the platform (blocking until it listens); `options_json`: the surface's local
    /// platform options.
    pub fn start(options_json: &str) -> PhpResult<LocalPlatform> {
        Ok(LocalPlatform {
            h: LocalPlatformHandle::start(parse_json("options", options_json)?).map_err(to_php)?,
        })
    }

    /// `{url, api_url, project_id, project_slug, api_key, data_dir}` as JSON.
    pub fn info(&self) -> String {
        serde_json::to_string(self.h.info()).unwrap_or_default()
    }

    /// A new project: `{id, slug, name, api_key}` as JSON.
    pub fn create_project(&self, name: &str) -> PhpResult<String> {
        Ok(self.h.create_project(name).map_err(to_php)?.to_string())
    }

    /// Whether `shutdown` has not been called yet.
    pub fn running(&self) -> bool {
        self.h.running()
    }

    /// Stops accepting, lets open requests finish (up to 5 s), frees the port. Idempotent.
    pub fn shutdown(&self) {
        self.h.shutdown();
    }
}

/// `--rate-limit` specs and `--no-rate-limits` as `{name: [count, window_ms]}` JSON.
pub fn rate_limits_from_flags(specs: &[String], no_rate_limits: bool) -> PhpResult<String> {
    Ok(options::rate_limits_from_flags(specs, no_rate_limits)
        .map_err(to_php)?
        .to_string())
}
