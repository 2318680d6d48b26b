//! Frames of the worker protocol over `GET /api/workers`: one JSON object per WebSocket text
//! message, tagged by `type`. docs/workers.md documents every field; keep the two in step.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Trigger of a module served as a custom API (and through `services.invoke`).
pub const TRIGGER_API: &str = "api";

/// A Logic Module a worker serves.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ModuleSpec {
    /// The URL slug (`/custom/{slug}`) and the `services.invoke` name.
    pub slug: String,
    /// Friendly name (defaults to the slug).
    #[serde(default)]
    pub name: Option<String>,
    /// HTTP methods the custom API accepts (default `["POST"]`).
    #[serde(default = "default_methods")]
    pub methods: Vec<String>,
    /// Callable without an API key.
    #[serde(default)]
    pub public: bool,
    /// `"api"` (an inbound request) or a platform event name such as `auth.register.after`.
    #[serde(default = "default_trigger")]
    pub trigger: String,
    /// How long one invocation may run; the platform default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

fn default_methods() -> Vec<String> {
    vec!["POST".into()]
}

fn default_trigger() -> String {
    TRIGGER_API.into()
}

/// A queue job type a worker consumes.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct JobSpec {
    #[serde(rename = "type")]
    pub job_type: String,
    /// How long one run may take before it counts as failed (and the lease ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// Worker -> platform.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// Declare (or replace) what this connection serves.
    Register {
        #[serde(default)]
        modules: Vec<ModuleSpec>,
        #[serde(default)]
        jobs: Vec<JobSpec>,
        /// Most queue jobs in flight at once on this connection.
        #[serde(default)]
        concurrency: Option<u32>,
        /// Free-form label shown in logs.
        #[serde(default)]
        worker: Option<String>,
    },
    /// The handler returned `result`.
    Complete {
        id: String,
        #[serde(default)]
        result: Value,
    },
    /// The handler threw.
    Fail {
        id: String,
        error: String,
    },
    /// Stop sending work; the platform answers `draining`.
    Drain,
    Ping,
}

/// The kind of an invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Custom,
    Service,
    Event,
    Job,
}

/// One unit of work for a worker.
#[derive(Clone, Debug, Serialize)]
pub struct Invoke {
    pub id: String,
    pub kind: Kind,
    /// Module slug (custom, service, event) or job type (job).
    pub name: String,
    pub project_id: String,
    /// Key for the scoped sdk: valid for this project until `deadline_ms` + the grace period.
    pub scope_token: String,
    pub timeout_ms: u64,
    /// Unix ms after which the platform stops waiting for the answer.
    pub deadline_ms: i64,
    /// The handler's second argument (the request event, or the job).
    pub event: Value,
}

/// Platform -> worker.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    Registered {
        worker_id: String,
        project_id: String,
        project_slug: String,
        modules: Vec<ModuleSpec>,
        jobs: Vec<JobSpec>,
        concurrency: u32,
    },
    Invoke(Invoke),
    /// The platform gave up on `id` (timeout); a later answer is ignored.
    Cancel {
        id: String,
        reason: String,
    },
    /// Answer to `drain`: nothing is sent after this frame.
    Draining,
    Pong,
    /// A frame was refused; the connection stays open.
    Error {
        code: String,
        message: String,
    },
}
