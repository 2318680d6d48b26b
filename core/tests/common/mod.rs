//! Shared test harness: the real local platform started in-process on a free port, engine
//! clients for it, and small network helpers (a fault-injecting proxy, a silent server).
#![allow(dead_code)]

pub mod net;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aerostack::{Client, ClientConfig, RetryPolicy};
use aerostack_server::{LocalPlatform, ProjectInfo, ServerOptions};

/// A running platform and a client for its default project.
pub struct Harness {
    pub platform: LocalPlatform,
    pub project: ProjectInfo,
    pub client: Client,
}

impl Harness {
    /// A fresh ephemeral platform.
    pub async fn start() -> Harness {
        Harness::start_with(ServerOptions::ephemeral()).await
    }

    /// A platform with custom options (limits, AI upstream, data dir...).
    pub async fn start_with(options: ServerOptions) -> Harness {
        let platform = LocalPlatform::start(options)
            .await
            .expect("the local platform starts");
        let project = platform.default_project().clone();
        let client = client_for(
            &platform.api_url().to_string(),
            &project.api_key,
            Some(&project.id),
        );
        Harness {
            platform,
            project,
            client,
        }
    }

    /// The `/v1` base URL.
    pub fn api_url(&self) -> String {
        self.platform.api_url().to_string()
    }

    /// A client of another project (created on the fly) on the same platform.
    pub async fn other_project(&self, name: &str) -> (ProjectInfo, Client) {
        let info = self
            .platform
            .create_project(name)
            .await
            .expect("create project");
        let client = client_for(&self.api_url(), &info.api_key, Some(&info.id));
        (info, client)
    }

    /// A client with a different key (e.g. a wrong one).
    pub fn client_with_key(&self, key: &str) -> Client {
        client_for(&self.api_url(), key, Some(&self.project.id))
    }
}

/// A client that ignores `AEROSTACK_*` env vars and retries quickly (tests must not wait long).
pub fn client_for(api_url: &str, key: &str, project_id: Option<&str>) -> Client {
    Client::new(config_for(api_url, key, project_id)).expect("valid client config")
}

pub fn config_for(api_url: &str, key: &str, project_id: Option<&str>) -> ClientConfig {
    let mut cfg = ClientConfig {
        ignore_env: true,
        timeout_ms: Some(10_000),
        retry: Some(fast_retry()),
        ..ClientConfig::default()
    }
    .base_url(api_url)
    .api_key(key)
    .user_agent_prefix("aerostack-tests/0.0.0");
    cfg.project_id = project_id.map(str::to_owned);
    cfg
}

/// Retries with short waits, so retry paths run in milliseconds.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_interval_ms: 20,
        max_interval_ms: 200,
        exponent: 2.0,
        max_elapsed_time_ms: 10_000,
        retry_connection_errors: true,
        max_retry_after_ms: 5_000,
    }
}

/// A name unique within the test process.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Polls `f` until it returns `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
