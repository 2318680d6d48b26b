//! Where service invocations and custom API calls go: the `WorkerHub` trait, implemented by the
//! hub (`super::Hub`), which routes them to connected workers.

use std::future::Future;
use std::pin::Pin;

use axum::http::StatusCode;
use serde_json::Value;

use crate::error::{ApiError, code};

/// One call to user code.
#[derive(Clone, Debug)]
pub enum Invocation {
    /// `POST /v1/services/invoke {serviceName, data}`.
    Service {
        project_id: String,
        name: String,
        data: Value,
    },
    /// A custom API call. `event` is what the handler receives:
    /// `{event, timestamp, data, project_id, method, headers, query, slug}`.
    Custom {
        project_id: String,
        slug: String,
        event: Value,
        /// A valid key (or scope token) of the project came with the call; modules that are not
        /// public refuse calls without one.
        authenticated: bool,
    },
}

pub type InvokeFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, ApiError>> + Send + 'a>>;

/// Routes invocations to connected workers.
pub trait WorkerHub: Send + Sync + 'static {
    fn invoke(&self, inv: Invocation) -> InvokeFuture<'_>;
}

pub fn not_connected(inv: &Invocation) -> ApiError {
    let (what, name) = match inv {
        Invocation::Service { name, .. } => ("service", name.as_str()),
        Invocation::Custom { slug, .. } => ("custom API", slug.as_str()),
    };
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        code::WORKER_NOT_CONNECTED,
        format!(
            "No worker is connected for {what} '{name}' in this project. Logic Modules run in a \
             worker that connects to GET /api/workers with the project's API key and registers \
             '{name}'. Start one pointed at this platform (AEROSTACK_API_URL, AEROSTACK_API_KEY): in \
             Python `python -m aerostack.hooks app.py` (or `hooks.start()`), in Rust \
             `aerostack::worker::Worker::connect(config, WorkerOptions::new().module(...))` or \
             `cargo run -p aerostack-core --example worker_module`; see docs/workers.md"
        ),
    )
    .with_detail(if matches!(inv, Invocation::Service { .. }) { "serviceName" } else { "slug" }, name)
    .with_detail("docs", "docs/workers.md")
}
