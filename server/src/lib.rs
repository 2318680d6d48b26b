//! The local Aerostack platform: an offline, wire-compatible re-implementation of the hosted
//! Aerostack backend (REST `/v1`, public end-user auth, custom APIs, realtime history, files),
//! on axum and bundled SQLite.
//!
//! ```no_run
//! # async fn demo() -> Result<(), aerostack_server::ServerError> {
//! let platform = aerostack_server::LocalPlatform::start(aerostack_server::ServerOptions::ephemeral()).await?;
//! println!("{} key {}", platform.api_url(), platform.default_project().api_key);
//! platform.shutdown().await;
//! # Ok(()) }
//! ```

// Handlers return `Result<_, ApiError>` everywhere; the error (status, code, message, details)
// is large but built only on the error path, where a copy costs nothing next to the response.
#![allow(clippy::result_large_err)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub mod auth;
pub mod cleanup;
mod cors;
pub mod dashboard;
pub mod discovery;
pub mod embed;
pub mod error;
pub mod extract;
pub mod keys;
pub mod idempotency;
pub mod options;
pub mod ratelimit;
pub mod realtime;
pub mod routes;
mod serve;
pub mod state;
pub mod store;
pub mod util;
pub mod workers;

pub use error::{ApiError, ServerError};
pub use options::{AiOptions, Limits, Rate, ServerOptions};
pub use routes::route_list;
pub use state::AppState;

/// Below this open-file limit the platform warns at start (load tests would hit it).
const LOW_FILE_LIMIT: u64 = 4096;

/// A project of the platform with one of its API keys.
#[derive(Clone, Debug)]
pub struct ProjectInfo {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub api_key: String,
}

/// The router serving every route of the platform on `state`.
pub fn router(state: AppState) -> axum::Router {
    routes::router(state)
}

/// A running local platform. Call [`LocalPlatform::shutdown`] to stop it cleanly; dropping it
/// stops the server too, but without waiting for the data to be flushed.
pub struct LocalPlatform {
    url: String,
    addr: SocketAddr,
    data_dir: PathBuf,
    default_project: ProjectInfo,
    state: AppState,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    sweeper: JoinHandle<()>,
    jobs_dispatcher: JoinHandle<()>,
    /// What this platform announced and where (see [`discovery`]); withdrawn at shutdown.
    announced: Option<(discovery::Announcement, Vec<PathBuf>)>,
    // Removed (with everything in it) when the platform is dropped.
    _temp: Option<tempfile::TempDir>,
}

impl LocalPlatform {
    /// Open the data directory, bind the port and start serving.
    ///
    /// With `print_banner` (what `aerostack-server` and `python -m aerostack.local` do) the
    /// platform also announces itself for the management commands: `<data dir>/server.json` and
    /// a per-user `server-<port>.json` ([`discovery`]), both removed at shutdown.
    pub async fn start(mut opts: ServerOptions) -> Result<LocalPlatform, ServerError> {
        // From here on `limits` are the ones enforced (hosted rate limits on or off).
        opts.limits = opts.effective_limits();
        store::memory::apply_soft_heap_limit(opts.limits.sqlite_soft_heap_bytes);
        let (temp, data_dir) = if opts.ephemeral {
            let t = tempfile::Builder::new()
                .prefix("aerostack-local-")
                .tempdir()
                .map_err(|e| ServerError::io(std::env::temp_dir(), e))?;
            let p = t.path().to_path_buf();
            cleanup::mark_owner(&p);
            (Some(t), p)
        } else {
            let dir = opts.resolved_data_dir();
            std::fs::create_dir_all(&dir).map_err(|e| ServerError::io(&dir, e))?;
            let dir = std::path::absolute(&dir).map_err(|e| ServerError::io(&dir, e))?;
            (None, dir)
        };
        let state = {
            let (o, d) = (opts.clone(), data_dir.clone());
            tokio::task::spawn_blocking(move || {
                // What a killed platform left behind (a half-written upload, an ephemeral dir).
                let uploads = cleanup::clean_upload_temp(&d);
                let dirs = cleanup::clean_abandoned_ephemeral(&std::env::temp_dir());
                if uploads + dirs > 0 {
                    tracing::info!(
                        "removed {uploads} unfinished upload(s) and {dirs} abandoned ephemeral data dir(s)"
                    );
                }
                AppState::open(&o, &d)
            })
                .await
                .map_err(|e| ServerError::Internal(format!("startup task failed: {e}")))??
        };
        let bind = format!("{}:{}", opts.host, opts.port);
        let listener = match TcpListener::bind(&bind).await {
            Ok(l) => l,
            Err(source) => {
                state.close();
                return Err(ServerError::Bind { addr: bind, source });
            }
        };
        let addr = listener.local_addr().map_err(|e| ServerError::Bind {
            addr: bind.clone(),
            source: e,
        })?;
        let shown_ip = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let url = format!("http://{}", SocketAddr::new(shown_ip, addr.port()));
        let _ = state.base_url.set(url.clone());

        let file_limit = serve::open_file_limit();
        let max_connections = serve::connection_cap(opts.limits.max_connections, file_limit);
        if let Some(l) = file_limit.filter(|l| *l < LOW_FILE_LIMIT) {
            tracing::warn!(
                "the open-file limit (ulimit -n) is {l}: the platform serves at most {max_connections} connections at once and may run out of files under load; raise it, e.g. `ulimit -n 65536`"
            );
        }
        let (stop, stop_rx) = watch::channel(false);
        let server = tokio::spawn(serve::serve(
            listener,
            routes::router(state.clone()),
            stop_rx,
            serve::ConnLimits {
                header_read_timeout: opts.limits.header_read_timeout,
                max_connections,
            },
        ));
        let sweeper = tokio::spawn(sweep_loop(state.clone()));
        let jobs_dispatcher = tokio::spawn(workers::dispatch::run(state.clone()));
        let default_project = ProjectInfo {
            id: state.default_project.id.clone(),
            slug: state.default_project.slug.clone(),
            name: state.default_project.name.clone(),
            api_key: state.default_key.clone(),
        };
        let announced = opts.print_banner.then(|| {
            let a = discovery::Announcement {
                api_url: format!("{url}/v1"),
                url: url.clone(),
                port: addr.port(),
                data_dir: data_dir.clone(),
                ephemeral: opts.ephemeral,
                pid: std::process::id(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                started_at: util::now_ms(),
            };
            let paths = discovery::announce(&a);
            (a, paths)
        });
        let platform = LocalPlatform {
            url,
            addr,
            data_dir,
            default_project,
            state,
            stop,
            server: Some(server),
            sweeper,
            jobs_dispatcher,
            announced,
            _temp: temp,
        };
        if opts.print_banner && opts.banner_as_log {
            let p = &platform.default_project;
            tracing::info!(
                api_url = %platform.api_url(),
                data_dir = %platform.data_dir.display(),
                ephemeral = opts.ephemeral,
                project_id = %p.id,
                project_slug = %p.slug,
                api_key = %p.api_key,
                dashboard_url = %platform.dashboard_url().unwrap_or_default(),
                rate_limits = %platform.rate_limits_line().unwrap_or_else(|| "hosted defaults".into()),
                version = env!("CARGO_PKG_VERSION"),
                "Aerostack local platform started"
            );
        } else if opts.print_banner {
            println!("{}", platform.banner(opts.ephemeral));
        }
        Ok(platform)
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The dashboard's URL with its session token (`http://127.0.0.1:PORT/?token=...`), when the
    /// dashboard is on.
    pub fn dashboard_url(&self) -> Option<String> {
        self.state
            .dashboard
            .as_ref()
            .map(|g| format!("{}/?token={}", self.url, g.token()))
    }

    /// `url() + "/v1"`: what SDK clients take as their base URL.
    pub fn api_url(&self) -> String {
        format!("{}/v1", self.url)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn default_project(&self) -> &ProjectInfo {
        &self.default_project
    }

    /// The shared state (e.g. to store realtime messages from tests or other components).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Create a project with its own API key (slug derived from the name, made unique).
    pub async fn create_project(&self, name: &str) -> Result<ProjectInfo, ServerError> {
        let name = name.to_string();
        let pool = self.state.control.clone();
        tokio::task::spawn_blocking(move || {
            let db = pool.get()?;
            let (p, key) = store::control::create_project(&db.conn, &name, None)?;
            Ok(ProjectInfo {
                id: p.id,
                slug: p.slug,
                name: p.name,
                api_key: key,
            })
        })
        .await
        .map_err(|e| ServerError::Internal(e.to_string()))?
    }

    /// Set a secret of a project (id or slug).
    pub async fn set_secret(
        &self,
        project_id: &str,
        key: &str,
        value: &str,
    ) -> Result<(), ServerError> {
        if !store::control::valid_secret_name(key) {
            return Err(ServerError::Invalid(format!(
                "invalid secret name {key:?}: use 1-256 letters, digits, '_', '.' or '-'"
            )));
        }
        let (pref, key, value) = (project_id.to_string(), key.to_string(), value.to_string());
        let pool = self.state.control.clone();
        tokio::task::spawn_blocking(move || {
            let db = pool.get()?;
            let p = store::control::find_project(&db.conn, &pref)?
                .ok_or_else(|| ServerError::NotFound(format!("no project {pref:?}")))?;
            store::control::set_secret(&db.conn, &p.id, &key, &value)?;
            Ok(())
        })
        .await
        .map_err(|e| ServerError::Internal(e.to_string()))?
    }

    /// Stop accepting, let in-flight requests finish (up to a few seconds), flush the cache and
    /// the databases, and free the port. An ephemeral data directory is removed.
    pub async fn shutdown(mut self) {
        self.withdraw();
        let _ = self.stop.send(true);
        // Realtime sockets are upgraded connections too: close them (clients reconnect).
        self.state.realtime.shutdown();
        // Worker sockets outlive their HTTP connection (upgraded): close them explicitly.
        self.state.hooks.shutdown();
        self.jobs_dispatcher.abort();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.sweeper.abort();
        let state = self.state.clone();
        let _ = tokio::task::spawn_blocking(move || state.close()).await;
    }

    /// Remove the discovery files, so management commands stop finding this platform.
    fn withdraw(&mut self) {
        if let Some((a, paths)) = self.announced.take() {
            discovery::withdraw(&a, &paths);
        }
    }

    /// The management command that reaches this platform: `aerostack-server outbox` when it is
    /// the one found without arguments (announced on the default port), else with `--url` (or
    /// `--data-dir` when the announcement could not be written).
    fn outbox_command(&self) -> String {
        match &self.announced {
            Some((a, paths))
                if paths
                    .iter()
                    .any(|p| p.ends_with(format!("server-{}.json", a.port))) =>
            {
                if a.port == discovery::DEFAULT_PORT {
                    "aerostack-server outbox".to_string()
                } else {
                    format!("aerostack-server outbox --url {}", self.url)
                }
            }
            _ => format!(
                "aerostack-server outbox --data-dir {}",
                self.data_dir.display()
            ),
        }
    }

    /// The rate limits when they differ from the defaults (`None`: the defaults).
    fn rate_limits_line(&self) -> Option<String> {
        let (l, d) = (&self.state.limits, Limits::default());
        let rates = [
            ("login_per_ip", l.login_per_ip, d.login_per_ip),
            ("login_per_email", l.login_per_email, d.login_per_email),
            ("register_per_ip", l.register_per_ip, d.register_per_ip),
            ("otp_send", l.otp_send, d.otp_send),
            ("otp_verify", l.otp_verify, d.otp_verify),
            ("password_reset", l.password_reset, d.password_reset),
            (
                "resend_verification",
                l.resend_verification,
                d.resend_verification,
            ),
            ("cache_flush", l.cache_flush, d.cache_flush),
        ];
        if rates.iter().all(|(_, r, d)| r == d) {
            return None;
        }
        if rates.iter().all(|(_, r, _)| r.count == 0) {
            return Some("off".to_string());
        }
        let show = |n: &str, r: &Rate| {
            if r.count == 0 {
                format!("{n}=off")
            } else {
                format!("{n}={}/{}s", r.count, r.window.as_secs_f64())
            }
        };
        let set: Vec<String> = rates
            .iter()
            .filter(|(_, r, d)| r != d && r.count > 0)
            .map(|(n, r, _)| show(n, r))
            .collect();
        // Rate limits off with a few set explicitly (an ephemeral platform, a test fixture).
        if set.len() < rates.len() && rates.iter().all(|(_, r, d)| r.count == 0 || r != d) {
            return Some(format!("{} (others off)", set.join(", ")));
        }
        let changed: Vec<String> = rates
            .iter()
            .filter(|(_, r, d)| r != d)
            .map(|(n, r, _)| show(n, r))
            .collect();
        Some(format!("{} (others default)", changed.join(", ")))
    }

    /// The banner's warning when end users reach every table of the default project (it has no
    /// access rules: the hosted behaviour).
    fn rules_line(&self) -> String {
        let pid = &self.default_project.id;
        let open = self
            .state
            .control
            .get()
            .ok()
            .and_then(|db| store::rules::list(&db.conn, pid).ok())
            .is_some_and(|r| r.is_empty());
        if open {
            "  Realtime:  end users reach every table and topic (no access rules: aerostack-server rules --help)\n".to_string()
        } else {
            String::new()
        }
    }

    fn banner(&self, ephemeral: bool) -> String {
        let data = if ephemeral {
            format!(
                "ephemeral ({}, removed at shutdown)",
                self.data_dir.display()
            )
        } else {
            self.data_dir.display().to_string()
        };
        let p = &self.default_project;
        format!(
            "\n  Aerostack local platform {version}\n\n  \
             API URL:   {api}\n  \
             Data:      {data}\n  \
             Project:   {id} (slug: {slug})\n  \
             API key:   {key}\n\n  \
             Dashboard: {dashboard}\n  \
             OpenAPI:   {url}/v1/openapi.json\n  \
             Outbox:    {outbox}   (emails and codes the platform \"sent\")\n  \
             AI chat:   {ai}\n{limits}{rules}\n  \
             Press Ctrl-C to stop.\n",
            version = env!("CARGO_PKG_VERSION"),
            api = self.api_url(),
            id = p.id,
            slug = p.slug,
            key = p.api_key,
            url = self.url,
            dashboard = self
                .dashboard_url()
                .unwrap_or_else(|| "off (--no-dashboard)".to_string()),
            outbox = self.outbox_command(),
            rules = self.rules_line(),
            limits = self
                .rate_limits_line()
                .map(|l| format!("  Limits:    rate limits {l}\n"))
                .unwrap_or_default(),
            ai = self.state.ai.base_url.as_deref().map_or_else(
                || "not configured (set AEROSTACK_AI_BASE_URL, e.g. http://127.0.0.1:11434/v1)"
                    .to_string(),
                |b| format!(
                    "{b} (model {})",
                    self.state
                        .ai
                        .model
                        .as_deref()
                        .unwrap_or("from each request")
                ),
            ),
        )
    }
}

impl Drop for LocalPlatform {
    fn drop(&mut self) {
        self.withdraw();
        // Stops the accept loop if `shutdown` was not called.
        let _ = self.stop.send(true);
        self.state.hooks.shutdown();
        self.state.realtime.shutdown();
        self.jobs_dispatcher.abort();
        self.sweeper.abort();
    }
}

/// Housekeeping: forget expired cache entries, rate-limit buckets, idempotency answers and
/// auth tokens.
async fn sweep_loop(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        n += 1;
        let now = util::now_ms();
        state.cache.sweep(now);
        state.limiter.sweep();
        state.idempotency.sweep();
        if n.is_multiple_of(6) {
            let _ = state
                .control(move |c| Ok(store::users::purge_expired(c, now)?))
                .await;
        }
    }
}
