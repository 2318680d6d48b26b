//! Shared state of a running platform and the helpers every route uses (key lookup, running
//! SQLite work on blocking threads, the outbox).

use std::collections::HashMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::HeaderMap;
use parking_lot::RwLock;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

use crate::auth::Jwt;
use crate::error::{ApiError, ServerError, code};
use crate::keys::{KEY_HELP, key_candidates};
use crate::idempotency::IdempotencyStore;
use crate::options::{AiOptions, Limits, ServerOptions};
use crate::ratelimit::RateLimiter;
use crate::store::cache::CacheStore;
use crate::store::control::{self, Control, ProjectRec};
use crate::store::outbox::{self, OutboxRow};
use crate::store::pool::{Db, Pool};
use crate::store::project_db::ProjectDbs;
use crate::util::{new_uuid, now_ms};
use crate::workers::WorkerHub;

/// Handle to the platform's state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub limits: Limits,
    pub ai: AiOptions,
    pub require_email_verification: bool,
    pub data_dir: PathBuf,
    pub control: Arc<Pool>,
    pub projects_root: PathBuf,
    pub dbs: ProjectDbs,
    pub cache: CacheStore,
    /// New jobs, committed in batches.
    pub job_writer: crate::store::job_writer::JobWriter,
    pub jwt: Jwt,
    pub limiter: RateLimiter,
    pub idempotency: IdempotencyStore,
    pub http: reqwest::Client,
    pub workers: RwLock<Arc<dyn WorkerHub>>,
    /// The worker hub (also the default `workers`).
    pub hooks: Arc<crate::workers::Hub>,
    /// Realtime subscriptions, presence and fan-out (`/api/realtime`).
    pub realtime: crate::realtime::Hub,
    pub default_project: ProjectRec,
    pub default_key: String,
    /// `http://host:port` once bound (links in outbox emails).
    pub base_url: OnceLock<String>,
    /// The local dashboard's session token and CSRF token; `None` when it is off.
    pub dashboard: Option<Arc<crate::dashboard::Guard>>,
    keys: RwLock<HashMap<String, Arc<ProjectRec>>>,
    refs: RwLock<HashMap<String, Arc<ProjectRec>>>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

fn join_error(e: tokio::task::JoinError) -> ApiError {
    ApiError::internal(format!("a storage task failed: {e}"))
}

impl AppState {
    /// Open the data directory (blocking): control database, cache, default project, `.dev.vars`.
    pub fn open(opts: &ServerOptions, data_dir: &Path) -> Result<AppState, ServerError> {
        let control = Control::open(data_dir)?;
        let (default_project, default_key, secret) = control.with(|c| {
            let p = control::default_project(c)?;
            let key = control::first_key(c, &p.id)?
                .ok_or_else(|| ServerError::Internal("default project has no key".into()))?;
            Ok((p, key, control::jwt_secret(c)?))
        })?;
        let project_dir = match &opts.project_dir {
            Some(d) => d.clone(),
            None => std::env::current_dir().map_err(|e| ServerError::io(".", e))?,
        };
        let vars = crate::store::dev_vars::read_dev_vars(&project_dir.join(".dev.vars"))?;
        if !vars.is_empty() {
            control.with(|c| {
                for (k, v) in &vars {
                    control::set_secret(c, &default_project.id, k, v)?;
                }
                Ok(())
            })?;
        }
        // Holds of gateway calls that were in progress when an earlier run stopped.
        control.with(|c| Ok(crate::store::gateway::clear_holds(c)?))?;
        let cache = CacheStore::open(control.pool.clone())?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ServerError::Internal(format!("http client: {e}")))?;
        let projects_root = data_dir.join("projects");
        let mut keys = HashMap::new();
        let dp = Arc::new(default_project.clone());
        keys.insert(default_key.clone(), dp.clone());
        let mut refs = HashMap::new();
        refs.insert(dp.id.clone(), dp.clone());
        refs.insert(dp.slug.clone(), dp);
        let hooks = Arc::new(crate::workers::Hub::new(opts.limits.clone()));
        Ok(AppState(Arc::new(Inner {
            limits: opts.limits.clone(),
            ai: opts.ai.clone(),
            require_email_verification: opts.require_email_verification,
            data_dir: data_dir.to_path_buf(),
            job_writer: crate::store::job_writer::JobWriter::start(control.pool.clone()),
            control: control.pool,
            dbs: ProjectDbs::new(projects_root.clone(), &opts.limits),
            projects_root,
            cache,
            jwt: Jwt::new(&secret),
            limiter: RateLimiter::default(),
            idempotency: IdempotencyStore::new(opts.limits.idempotency_window),
            http,
            workers: RwLock::new(hooks.clone()),
            hooks,
            realtime: crate::realtime::Hub::new(),
            default_project,
            default_key,
            base_url: OnceLock::new(),
            dashboard: opts.dashboard.then(|| Arc::new(crate::dashboard::Guard::new())),
            keys: RwLock::new(keys),
            refs: RwLock::new(refs),
        })))
    }

    /// Run `f` on a control-database connection on a blocking thread.
    pub async fn control<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.control.clone();
        tokio::task::spawn_blocking(move || {
            let db = pool.get()?;
            f(&db.conn)
        })
        .await
        .map_err(join_error)?
    }

    /// Run `f` on a connection to the project's own database on a blocking thread.
    pub async fn project_db<T, F>(&self, project_id: &str, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<T, ApiError> + Send + 'static,
    {
        let state = self.clone();
        let pid = project_id.to_string();
        let slots = self.dbs.slots(project_id);
        let permit = match tokio::time::timeout(self.limits.query_timeout, slots.acquire_owned())
            .await
        {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(ApiError::internal("the project's database slots are closed")),
            Err(_) => {
                return Err(ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    code::DB_QUERY_FAILED,
                    format!(
                        "all {} database slots of this project stayed busy for {} s (long-running queries); retry later, or make the long queries shorter (an index, a LIMIT)",
                        self.dbs.slots_per_project(),
                        self.limits.query_timeout.as_secs_f64()
                    ),
                )
                .with_detail("retry_after_ms", 1000));
            }
        };
        tokio::task::spawn_blocking(move || {
            let _slot = permit;
            let pool = state.dbs.pool(&pid)?;
            let db = pool.get()?;
            f(&db)
        })
        .await
        .map_err(join_error)?
    }

    /// The project of the API key in the headers, or 401 AUTH_INVALID_KEY. Known keys are served
    /// from memory; a miss asks the database (keys created by the CLI while running).
    pub async fn project_from_headers(
        &self,
        headers: &HeaderMap,
    ) -> Result<Arc<ProjectRec>, ApiError> {
        let candidates = key_candidates(headers);
        if candidates.iter().all(Option::is_none) {
            return Err(ApiError::unauthorized(
                code::AUTH_INVALID_KEY,
                format!("Missing API key: {KEY_HELP}"),
            ));
        }
        // Scope tokens are checked first and never cached with the keys: they expire.
        if let Some(token) = candidates
            .iter()
            .flatten()
            .find(|k| k.starts_with(crate::workers::scope::PREFIX))
        {
            return self.project_from_scope(token).await;
        }
        {
            let keys = self.keys.read();
            for c in candidates.iter().flatten() {
                if let Some(p) = keys.get(*c) {
                    return Ok(p.clone());
                }
            }
        }
        let owned: Vec<String> = candidates.iter().flatten().map(|s| s.to_string()).collect();
        let found = self
            .control(move |c| {
                for k in owned {
                    if let Some(p) = control::project_for_key(c, &k)? {
                        return Ok(Some((k, p)));
                    }
                }
                Ok(None)
            })
            .await?;
        match found {
            Some((key, p)) => {
                let p = Arc::new(p);
                self.keys.write().insert(key, p.clone());
                Ok(p)
            }
            None => Err(ApiError::unauthorized(
                code::AUTH_INVALID_KEY,
                format!(
                    "Unknown API key: {KEY_HELP}. The key must belong to a project of this platform (see the start banner or `aerostack-server keys list`)"
                ),
            )),
        }
    }

    /// Forget a revoked API key (it was served from memory).
    pub fn forget_key(&self, key: &str) {
        self.keys.write().remove(key);
    }

    /// Forget a project's cached API keys and refs (keys revoked or created elsewhere).
    pub fn forget_project_keys(&self, project_id: &str) {
        self.keys.write().retain(|_, p| p.id != project_id);
    }

    /// A project by id or slug (public end-user routes).
    pub async fn project_by_ref(&self, r: &str) -> Result<Option<Arc<ProjectRec>>, ApiError> {
        if let Some(p) = self.refs.read().get(r) {
            return Ok(Some(p.clone()));
        }
        let key = r.to_string();
        let found = self
            .control(move |c| Ok(control::find_project(c, &key)?))
            .await?;
        Ok(found.map(|p| {
            let p = Arc::new(p);
            let mut refs = self.refs.write();
            refs.insert(p.id.clone(), p.clone());
            refs.insert(p.slug.clone(), p.clone());
            p
        }))
    }

    /// A project from a path segment, or 404 naming it.
    pub async fn project_from_path(&self, r: &str) -> Result<Arc<ProjectRec>, ApiError> {
        self.project_by_ref(r).await?.ok_or_else(|| {
            ApiError::not_found(format!("No project with id or slug {r:?} on this platform (`aerostack-server projects list` shows them)"))
                .with_detail("field", "project")
        })
    }

    pub fn storage_dir(&self, project_id: &str) -> PathBuf {
        self.projects_root.join(project_id).join("storage")
    }

    pub fn base_url(&self) -> &str {
        self.base_url
            .get()
            .map(String::as_str)
            .unwrap_or("http://127.0.0.1:8787")
    }

    pub fn workers(&self) -> Arc<dyn WorkerHub> {
        self.workers.read().clone()
    }

    /// Route service and custom API calls to `hub` (the worker hub).
    pub fn set_worker_hub(&self, hub: Arc<dyn WorkerHub>) {
        *self.workers.write() = hub;
    }

    /// Persist a realtime message for `/api/v1/public/realtime/history` (blocking; call it from a
    /// blocking context or accept a short SQLite write). Returns the stored message.
    pub fn store_realtime_message(
        &self,
        project_id: &str,
        room_id: &str,
        user_id: Option<&str>,
        event: &str,
        data: &Value,
    ) -> Result<Value, ServerError> {
        let db = self.control.get()?;
        let id = new_uuid();
        let created_at = now_ms();
        db.conn.execute(
            "INSERT INTO realtime_messages (id, project_id, room_id, user_id, event, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id, project_id, room_id, user_id, event, data.to_string(), created_at],
        )?;
        Ok(
            json!({"id": id, "room_id": room_id, "user_id": user_id, "event": event, "data": data, "created_at": created_at}),
        )
    }

    /// Commit pending cache writes, fold WAL files, close connections.
    pub fn close(&self) {
        self.job_writer.shutdown();
        self.cache.shutdown();
        self.dbs.close_all();
        self.control.close();
    }
}

/// "Send" an email: store it in the outbox (and log it, so the code is visible in the console).
pub fn send_mail(
    conn: &Connection,
    project_id: &str,
    mut m: OutboxRow,
) -> rusqlite::Result<OutboxRow> {
    m.id = new_uuid();
    m.created_at = now_ms();
    outbox::insert_outbox(conn, project_id, &m)?;
    tracing::info!(to = %m.to, kind = %m.kind, code = ?m.code, "outbox: {}", m.subject);
    Ok(m)
}
