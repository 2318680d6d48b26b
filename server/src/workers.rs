//! Where service invocations and custom API calls go. Today no worker can connect, so every call
//! answers 503 WORKER_NOT_CONNECTED with instructions; the hook runtime plugs a real hub in here.

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
    },
}

pub type InvokeFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, ApiError>> + Send + 'a>>;

/// Routes invocations to connected workers.
pub trait WorkerHub: Send + Sync + 'static {
    fn invoke(&self, inv: Invocation) -> InvokeFuture<'_>;
}

/// The hub used until workers can connect: always "no worker connected".
pub struct NoWorkers;

impl WorkerHub for NoWorkers {
    fn invoke(&self, inv: Invocation) -> InvokeFuture<'_> {
        Box::pin(async move { Err(not_connected(&inv)) })
    }
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
            "No worker is connected for {what} '{name}'. Logic Modules run in a worker that connects \
             to this platform with the project's API key and registers the {what}; until one does, \
             this route answers 503. Start your SDK's hooks runner pointed at this platform \
             (AEROSTACK_API_URL, AEROSTACK_API_KEY); see docs/architecture.md, \"Logic Modules\""
        ),
    )
    .with_detail(if matches!(inv, Invocation::Service { .. }) { "serviceName" } else { "slug" }, name)
    .with_detail("docs", "docs/architecture.md#logic-modules")
}
