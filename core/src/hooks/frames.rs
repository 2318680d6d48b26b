//! Frames of the worker protocol (docs/workers.md), as the engine sends and reads them. The
//! platform's side is `server/src/hooks/frames.rs`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A Logic Module a worker serves: a custom API (trigger `"api"`, also reachable through
/// `services.invoke`) or a handler of a platform event such as `auth.register.after`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// URL slug: `/custom/{slug}`, and the `services.invoke` name.
    pub slug: String,
    /// Friendly name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Accepted HTTP methods (default `["POST"]`).
    pub methods: Vec<String>,
    /// Callable without an API key.
    pub public: bool,
    /// `"api"` or a platform event name.
    pub trigger: String,
    /// How long one invocation may run; the platform default (30 s) when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl Module {
    /// A custom API module at `slug`: POST only, API key required.
    pub fn api(slug: impl Into<String>) -> Module {
        Module {
            slug: slug.into(),
            name: None,
            methods: vec!["POST".into()],
            public: false,
            trigger: "api".into(),
            timeout_ms: None,
        }
    }

    /// A module run on the platform event `event` (e.g. `auth.register.after`).
    pub fn on_event(slug: impl Into<String>, event: impl Into<String>) -> Module {
        Module {
            trigger: event.into(),
            ..Module::api(slug)
        }
    }

    /// Sets the friendly name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Callable without an API key (the Logic Lab "Public access" switch).
    pub fn public(mut self, public: bool) -> Self {
        self.public = public;
        self
    }

    /// Also accept GET (the Logic Lab "Allow GET" switch).
    pub fn allow_get(mut self, allow: bool) -> Self {
        self.methods.retain(|m| m != "GET");
        if allow {
            self.methods.push("GET".into());
        }
        self
    }

    /// Replaces the accepted HTTP methods.
    pub fn methods<S: AsRef<str>>(mut self, methods: &[S]) -> Self {
        self.methods = methods
            .iter()
            .map(|m| m.as_ref().to_ascii_uppercase())
            .collect();
        self
    }

    /// How long one invocation may run before the caller gets a 504.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout_ms = Some(timeout.as_millis().max(1) as u64);
        self
    }
}

/// A queue job type a worker consumes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobType {
    /// The job type, e.g. `send-welcome-email`.
    #[serde(rename = "type")]
    pub job_type: String,
    /// How long one run may take before it counts as failed; platform default when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl JobType {
    /// Jobs of exactly `job_type`.
    pub fn new(job_type: impl Into<String>) -> JobType {
        JobType {
            job_type: job_type.into(),
            timeout_ms: None,
        }
    }

    /// Jobs served by a function named `name` (`sendWelcomeEmail` -> `send-welcome-email`).
    pub fn from_function_name(name: &str) -> JobType {
        JobType::new(super::names::job_type_from_function_name(name))
    }

    /// How long one run may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout_ms = Some(timeout.as_millis().max(1) as u64);
        self
    }
}

/// Worker -> platform.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Outgoing<'a> {
    Register {
        modules: &'a [Module],
        jobs: &'a [JobType],
        concurrency: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        worker: Option<&'a str>,
    },
    Complete {
        id: &'a str,
        result: &'a Value,
    },
    Fail {
        id: &'a str,
        error: &'a str,
    },
    Drain,
}

/// What kind of call an invocation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvocationKind {
    /// A custom API request.
    Custom,
    /// A `services.invoke` call.
    Service,
    /// A platform event.
    Event,
    /// A queue job.
    Job,
}

/// The `invoke` frame's body.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct InvokeFrame {
    pub id: String,
    pub kind: InvocationKind,
    pub name: String,
    pub project_id: String,
    pub scope_token: String,
    pub timeout_ms: u64,
    pub deadline_ms: i64,
    #[serde(default)]
    pub event: Value,
}

/// Platform -> worker.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Incoming {
    Registered {
        #[serde(default)]
        project_id: String,
    },
    Invoke(InvokeFrame),
    Cancel {
        id: String,
        #[serde(default)]
        reason: String,
    },
    Draining,
    Pong,
    Error {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    },
}
