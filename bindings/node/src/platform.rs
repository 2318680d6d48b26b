//! `NativePlatform`: the local platform started in-process (tests, demos). Starting and stopping
//! block, so they run on their own thread and answer with a Promise.

use std::sync::Arc;

use aerostack_bindings_common::LocalPlatformHandle;
use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::completion::{Out, on_thread};
use crate::{parse_json, to_napi};

#[napi]
pub struct NativePlatform {
    h: Arc<LocalPlatformHandle>,
}

#[napi]
impl NativePlatform {
    /// Starts a platform: a Promise of the `NativePlatform` (or the error text).
    #[napi(ts_return_type = "Promise<string | NativePlatform>", catch_unwind)]
    pub fn start<'e>(env: &'e Env, options_json: String) -> Result<Object<'e>> {
        let options = parse_json("options", &options_json)?;
        on_thread(env, move || {
            LocalPlatformHandle::start(options)
                .map(|h| Out::Platform(NativePlatform { h: Arc::new(h) }))
        })
    }

    /// `{url, api_url, project_id, project_slug, api_key, data_dir}` as JSON.
    #[napi(getter, catch_unwind)]
    pub fn info_json(&self) -> String {
        serde_json::to_string(self.h.info()).unwrap_or_default()
    }

    #[napi(getter, catch_unwind)]
    pub fn running(&self) -> bool {
        self.h.running()
    }

    /// A new project: a Promise of `{id, slug, name, api_key}`.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn create_project<'e>(&self, env: &'e Env, name: String) -> Result<Object<'e>> {
        let h = self.h.clone();
        on_thread(env, move || h.create_project(&name))
    }

    /// Stops it (open requests finish first, up to 5 s); idempotent.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn shutdown<'e>(&self, env: &'e Env) -> Result<Object<'e>> {
        let h = self.h.clone();
        on_thread(env, move || {
            h.shutdown();
            Ok(serde_json::Value::Null)
        })
    }
}

/// `--rate-limit NAME=COUNT/WINDOW` flags as `{name: [count, window_ms]}` JSON.
#[napi(catch_unwind)]
pub fn rate_limits_from_flags(specs: Vec<String>, none: bool) -> Result<String> {
    Ok(
        aerostack_bindings_common::options::rate_limits_from_flags(&specs, none)
            .map_err(to_napi)?
            .to_string(),
    )
}
