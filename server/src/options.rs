//! Options of a local platform: where it listens, where it keeps data, and the limits it enforces.

use std::path::PathBuf;
use std::time::Duration;

/// How to start a [`crate::LocalPlatform`].
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Interface to bind. Default `127.0.0.1`.
    pub host: String,
    /// Port to bind. Default 8787 (server index 1 of the official SDKs); 0 picks a free port.
    pub port: u16,
    /// Persistent data directory. `None` means `./.aerostack/local`.
    pub data_dir: Option<PathBuf>,
    /// Keep everything in a temporary directory removed at shutdown (`data_dir` is ignored).
    pub ephemeral: bool,
    /// Directory whose `.dev.vars` seeds the default project's secrets. `None` means the cwd.
    pub project_dir: Option<PathBuf>,
    /// The OpenAI-compatible upstream behind `/v1/ai/chat`.
    pub ai: AiOptions,
    /// Rate limits and sizes. Defaults are the hosted platform's numbers.
    pub limits: Limits,
    /// When true, password sign-ups get no tokens until the email is verified.
    pub require_email_verification: bool,
    /// Print the start banner (API URL, data dir, default project and key) to stdout.
    pub print_banner: bool,
}

/// Upstream for AI chat: any OpenAI-compatible server (Ollama, llama.cpp, vLLM, OpenAI...).
#[derive(Clone, Debug, Default)]
pub struct AiOptions {
    /// e.g. `http://127.0.0.1:11434/v1`; `/chat/completions` is appended.
    pub base_url: Option<String>,
    /// Sent as `Authorization: Bearer <api_key>` when set.
    pub api_key: Option<String>,
    /// Model used when a request names none (or names a Workers AI `@cf/...` model).
    pub model: Option<String>,
}

/// A rate: at most `count` requests per sliding `window` (`count == 0` disables the limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub window: Duration,
}

impl Rate {
    pub const fn new(count: u32, window: Duration) -> Self {
        Rate { count, window }
    }
    pub const fn per_minute(count: u32) -> Self {
        Rate::new(count, Duration::from_secs(60))
    }
}

/// Limits enforced by the platform. Tests shrink them to exercise 413/429 quickly.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest file accepted by `/v1/storage/upload` (100 MiB).
    pub max_upload_bytes: u64,
    /// Login attempts per client IP (10/min).
    pub login_per_ip: Rate,
    /// Login attempts per email (5 per 15 min).
    pub login_per_email: Rate,
    /// Registrations per client IP (5/min).
    pub register_per_ip: Rate,
    /// OTP codes sent per identifier (3 per 5 min).
    pub otp_send: Rate,
    /// OTP verification attempts per identifier (3 per 5 min).
    pub otp_verify: Rate,
    /// Password reset requests per email (3 per 15 min).
    pub password_reset: Rate,
    /// Verification email resends per email (3/min).
    pub resend_verification: Rate,
    /// `/v1/cache/flush` calls per project (5/min).
    pub cache_flush: Rate,
    /// How long an `Idempotency-Key` answer is remembered (24 h).
    pub idempotency_window: Duration,
    /// How long a Logic Module or job handler may run when it sets no `timeout_ms` (30 s).
    pub hook_timeout: Duration,
    /// How long a scope token outlives its invocation's deadline (60 s).
    pub scope_token_grace: Duration,
    /// Delay before the first retry of a failed job; doubles on each later attempt (1 s).
    pub job_backoff_base: Duration,
    /// Longest delay between two attempts of a job (10 min).
    pub job_backoff_max: Duration,
    /// How often the job dispatcher looks for due jobs when nothing woke it (250 ms).
    pub job_poll_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 100 * 1024 * 1024,
            login_per_ip: Rate::per_minute(10),
            login_per_email: Rate::new(5, Duration::from_secs(15 * 60)),
            register_per_ip: Rate::per_minute(5),
            otp_send: Rate::new(3, Duration::from_secs(5 * 60)),
            otp_verify: Rate::new(3, Duration::from_secs(5 * 60)),
            password_reset: Rate::new(3, Duration::from_secs(15 * 60)),
            resend_verification: Rate::per_minute(3),
            cache_flush: Rate::per_minute(5),
            idempotency_window: Duration::from_secs(24 * 60 * 60),
            hook_timeout: Duration::from_secs(30),
            scope_token_grace: Duration::from_secs(60),
            job_backoff_base: Duration::from_secs(1),
            job_backoff_max: Duration::from_secs(10 * 60),
            job_poll_interval: Duration::from_millis(250),
        }
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            host: "127.0.0.1".to_string(),
            port: 8787,
            data_dir: None,
            ephemeral: false,
            project_dir: None,
            ai: AiOptions::default(),
            limits: Limits::default(),
            require_email_verification: false,
            print_banner: false,
        }
    }
}

impl ServerOptions {
    /// A throw-away platform for tests: free port, temporary data removed at shutdown.
    pub fn ephemeral() -> Self {
        ServerOptions {
            port: 0,
            ephemeral: true,
            ..ServerOptions::default()
        }
    }

    /// Fill unset options from the environment: `AEROSTACK_AI_BASE_URL`, `AEROSTACK_AI_API_KEY`,
    /// `AEROSTACK_AI_MODEL`, and `AEROSTACK_DATA_DIR` (when `data_dir` is unset).
    pub fn from_env(mut self) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if self.ai.base_url.is_none() {
            self.ai.base_url = var("AEROSTACK_AI_BASE_URL");
        }
        if self.ai.api_key.is_none() {
            self.ai.api_key = var("AEROSTACK_AI_API_KEY");
        }
        if self.ai.model.is_none() {
            self.ai.model = var("AEROSTACK_AI_MODEL");
        }
        if self.data_dir.is_none() {
            self.data_dir = var("AEROSTACK_DATA_DIR").map(PathBuf::from);
        }
        self
    }

    /// The data directory used when not ephemeral.
    pub(crate) fn resolved_data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(".aerostack").join("local"))
    }
}
