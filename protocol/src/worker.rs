//! The frames of the hook runtime's worker socket, `GET /api/workers` (docs/workers.md): one
//! JSON object per WebSocket text message, tagged by `type`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Trigger of a module served as a custom API (and through `services.invoke`).
pub const TRIGGER_API: &str = "api";
/// Platform event after an end user registered (`event.data.user`).
pub const EVENT_REGISTER_AFTER: &str = "auth.register.after";
/// Platform event after an end user logged in with a password (`event.data.user`).
pub const EVENT_LOGIN_AFTER: &str = "auth.login.after";

/// A Logic Module a worker serves: a custom API (trigger `"api"`, also reachable through
/// `services.invoke`) or a handler of a platform event such as `auth.register.after`. An entry
/// of `register.modules` and of the `registered` echo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// URL slug: `/custom/{slug}`, and the `services.invoke` name.
    pub slug: String,
    /// Friendly name; omitted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Accepted HTTP methods (default `["POST"]`).
    #[serde(default = "default_methods")]
    pub methods: Vec<String>,
    /// Callable without an API key (default false).
    #[serde(default)]
    pub public: bool,
    /// `"api"` (the default) or a platform event name.
    #[serde(default = "default_trigger")]
    pub trigger: String,
    /// How long one invocation may run; the platform default (30 s) when `None` (omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

fn default_methods() -> Vec<String> {
    vec!["POST".into()]
}

fn default_trigger() -> String {
    TRIGGER_API.into()
}

impl Module {
    /// A custom API module at `slug`: POST only, API key required.
    pub fn api(slug: impl Into<String>) -> Module {
        Module {
            slug: slug.into(),
            name: None,
            methods: default_methods(),
            public: false,
            trigger: default_trigger(),
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

/// A queue job type a worker consumes: an entry of `register.jobs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobType {
    /// The job type, e.g. `send-welcome-email`.
    #[serde(rename = "type")]
    pub job_type: String,
    /// How long one run may take before it counts as failed (and the lease ends); the platform
    /// default when `None` (omitted).
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
        JobType::new(job_type_from_function_name(name))
    }

    /// How long one run may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout_ms = Some(timeout.as_millis().max(1) as u64);
        self
    }
}

/// The queue job type served by a function named `name`, the mapping every language SDK uses
/// (seed 000): camelCase and snake_case words become lower-case kebab-case; a name that is
/// already kebab-case is kept.
///
/// ```
/// use aerostack_protocol::worker::job_type_from_function_name as t;
/// assert_eq!(t("sendWelcomeEmail"), "send-welcome-email");
/// assert_eq!(t("send_welcome_email"), "send-welcome-email");
/// assert_eq!(t("SendWelcomeEmail"), "send-welcome-email");
/// assert_eq!(t("send-welcome-email"), "send-welcome-email");
/// assert_eq!(t("parseHTTPResponse"), "parse-http-response");
/// ```
pub fn job_type_from_function_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    let mut out = String::with_capacity(chars.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' || c.is_whitespace() {
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            continue;
        }
        if c.is_uppercase() && i > 0 && !out.is_empty() && !out.ends_with('-') {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // A word starts at aB, at the last capital of an acronym (HTTPResponse), or a1B.
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('-');
            }
        }
        out.extend(c.to_lowercase());
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
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

/// One unit of work for a worker: the body of the `invoke` frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invoke {
    /// Answer with `complete` / `fail` carrying this id.
    pub id: String,
    pub kind: InvocationKind,
    /// Module slug (custom, service, event) or job type (job).
    pub name: String,
    pub project_id: String,
    /// Key for the scoped sdk: valid for this project until `deadline_ms` + the grace period.
    pub scope_token: String,
    /// How long the platform waits.
    pub timeout_ms: u64,
    /// Unix ms after which the platform stops waiting for the answer.
    pub deadline_ms: i64,
    /// The handler's second argument (the request event, or the job).
    #[serde(default)]
    pub event: Value,
}

/// Worker → platform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// Declare (or replace) what this connection serves; answered with `registered` or `error`.
    Register {
        /// Free-form label for the platform's logs; omitted when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        worker: Option<String>,
        /// Most queue jobs in flight at once on this connection (platform default 1 when
        /// absent, max 256).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        concurrency: Option<u32>,
        #[serde(default)]
        modules: Vec<Module>,
        #[serde(default)]
        jobs: Vec<JobType>,
    },
    /// The handler returned `result` (`null` when omitted).
    Complete {
        id: String,
        #[serde(default)]
        result: Value,
    },
    /// The handler threw.
    Fail { id: String, error: String },
    /// Stop sending work; the platform answers `draining`.
    Drain,
    /// Application-level keep-alive; answered with `pong`.
    Ping,
}

/// Platform → worker.
///
/// Reading is lenient where a field is informational (absent fields take defaults), so a newer
/// or older platform does not break a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// The registration is live: what was accepted, defaults filled in.
    Registered {
        #[serde(default)]
        worker_id: String,
        #[serde(default)]
        project_id: String,
        #[serde(default)]
        project_slug: String,
        #[serde(default)]
        modules: Vec<Module>,
        #[serde(default)]
        jobs: Vec<JobType>,
        #[serde(default)]
        concurrency: u32,
    },
    /// Run a handler.
    Invoke(Invoke),
    /// The platform gave up on `id` (timeout); a later answer is ignored.
    Cancel {
        id: String,
        #[serde(default)]
        reason: String,
    },
    /// Answer to `drain`: nothing is sent after this frame.
    Draining,
    /// Answer to `ping`.
    Pong,
    /// A frame was refused; the connection stays open.
    Error {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::job_type_from_function_name as t;

    #[test]
    fn maps_function_names() {
        assert_eq!(t("sendWelcomeEmail"), "send-welcome-email");
        assert_eq!(t("send_welcome_email"), "send-welcome-email");
        assert_eq!(t("__private_job__"), "private-job");
        assert_eq!(t("resize2xImage"), "resize2x-image");
        assert_eq!(t("email"), "email");
    }
}
