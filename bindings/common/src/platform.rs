//! [`LocalPlatformHandle`]: the local Aerostack platform started in-process, for tests and demos
//! in every language. It runs on its own small runtime (its own threads), so a host blocking on
//! client calls never competes with it for the engine's workers.

use std::time::Duration;

use aerostack::{Error, ErrorCode};
use aerostack_server::{LocalPlatform, ProjectInfo};
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;

use crate::options::{self, LocalPlatformOptions};
use crate::runtime::ProcessGuard;

/// Where a started platform listens and its default project.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformInfo {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// `<url>/v1`: the `base_url` for clients.
    pub api_url: String,
    pub project_id: String,
    pub project_slug: String,
    pub api_key: String,
    pub data_dir: String,
}

/// A running local platform; [`shutdown`](LocalPlatformHandle::shutdown) (or dropping it) stops it.
pub struct LocalPlatformHandle {
    inner: Mutex<Option<(tokio::runtime::Runtime, LocalPlatform)>>,
    info: PlatformInfo,
    guard: ProcessGuard,
}

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::InternalError, format!("{what}: {e}"))
}

impl LocalPlatformHandle {
    /// Starts a platform (blocking until it listens). `options`: `host`, `port` (default 0: a
    /// free port), `data_dir` (default: ephemeral), `ephemeral`, `project_dir`, `print_banner`,
    /// `require_email_verification`, `ai_base_url`, `ai_api_key`, `ai_model`,
    /// `max_upload_bytes`, `rate_limits` (`{name: [count, window_ms]}`), `hosted_rate_limits`
    /// (default false: the hosted rate limits are off in-process, those in `rate_limits` apply),
    /// `from_env`.
    pub fn start(options: Value) -> Result<LocalPlatformHandle, Error> {
        let opts = options::parse::<LocalPlatformOptions>("local platform options", options)?.server_options()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("aerostack-local")
            .build()
            .map_err(|e| failed("could not start the local platform's threads", e))?;
        let p = rt.block_on(LocalPlatform::start(opts)).map_err(|e| failed("the local platform could not start", e))?;
        let d = p.default_project();
        let info = PlatformInfo {
            url: p.url().to_string(),
            api_url: p.api_url(),
            project_id: d.id.clone(),
            project_slug: d.slug.clone(),
            api_key: d.api_key.clone(),
            data_dir: p.data_dir().display().to_string(),
        };
        Ok(LocalPlatformHandle { inner: Mutex::new(Some((rt, p))), info, guard: ProcessGuard::new() })
    }

    pub fn info(&self) -> &PlatformInfo {
        &self.info
    }

    /// Whether `shutdown` has not been called.
    pub fn running(&self) -> bool {
        self.inner.lock().is_some()
    }

    /// A new project: `{id, slug, name, api_key}` (blocking).
    pub fn create_project(&self, name: &str) -> Result<Value, Error> {
        self.guard.check()?;
        let guard = self.inner.lock();
        let (rt, p) = guard
            .as_ref()
            .ok_or_else(|| Error::invalid_config("the local platform was shut down; start a new one"))?;
        let info: ProjectInfo = rt.block_on(p.create_project(name)).map_err(|e| failed("could not create the project", e))?;
        let project = serde_json::json!({"id": info.id, "slug": info.slug, "name": info.name, "api_key": info.api_key});
        Ok(crate::result_keys::recase("local.create_project", project))
    }

    /// Stops accepting, lets open requests finish (up to 5 s), frees the port (blocking).
    /// Idempotent.
    pub fn shutdown(&self) {
        let Some((rt, p)) = self.inner.lock().take() else { return };
        if self.guard.check().is_err() {
            // A forked child does not own the parent's threads: forget, never join.
            std::mem::forget((rt, p));
            return;
        }
        rt.block_on(p.shutdown());
        rt.shutdown_timeout(Duration::from_secs(1));
    }
}

impl Drop for LocalPlatformHandle {
    fn drop(&mut self) {
        if let Some((rt, p)) = self.inner.get_mut().take() {
            if self.guard.check().is_err() {
                std::mem::forget((rt, p));
                return;
            }
            drop(p);
            rt.shutdown_background();
        }
    }
}
