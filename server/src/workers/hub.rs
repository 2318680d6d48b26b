//! The worker hub: which connection serves which module and job type, the invocations in flight
//! on each, and routing (round-robin) of custom API calls, service calls and platform events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc, oneshot, watch};

use super::frames::{Invoke, JobSpec, Kind, ModuleSpec, TRIGGER_API, ToWorker};
use super::scope::ScopeTokens;
use crate::error::{ApiError, code};
use crate::options::Limits;
use crate::util::{iso_ms, now_ms};
use crate::workers::{Invocation, InvokeFuture, WorkerHub, not_connected};

/// What became of an invocation.
#[derive(Debug)]
pub enum Outcome {
    Done(Value),
    Failed(String),
}

/// A claimed job on a connection: enough to settle it in the database.
#[derive(Clone, Debug)]
pub struct JobClaim {
    pub job_id: String,
    pub claim: String,
    pub attempts: i64,
    pub max_retries: i64,
    pub deadline: Instant,
}

pub enum Pending {
    Call(oneshot::Sender<Outcome>),
    Job(JobClaim),
}

struct Conn {
    project_id: String,
    label: String,
    /// The connecting client's `User-Agent` (the SDK and its language), when it sent one.
    agent: Option<String>,
    connected_at: i64,
    modules: Vec<ModuleSpec>,
    jobs: Vec<JobSpec>,
    concurrency: usize,
    draining: bool,
    tx: mpsc::UnboundedSender<ToWorker>,
    pending: HashMap<String, Pending>,
}

impl Conn {
    fn jobs_in_flight(&self) -> usize {
        self.pending
            .values()
            .filter(|p| matches!(p, Pending::Job(_)))
            .count()
    }
}

/// A call sent to a connection, awaiting its answer.
struct Started {
    id: String,
    timeout: Duration,
    answer: oneshot::Receiver<Outcome>,
    conn_id: u64,
}

/// Removes a call's pending entry when its waiter ends, however it ends.
struct Forget<'a> {
    hub: &'a Hub,
    conn_id: u64,
    id: String,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.hub.take(self.conn_id, &self.id);
    }
}

/// A connection with room for more jobs (see [`Hub::job_slots`]).
pub struct JobSlot {
    pub conn_id: u64,
    pub claim: String,
    pub project_id: String,
    pub types: Vec<String>,
    pub free: usize,
}

/// Invocations remembered per project for the dashboard's Logic Lab.
pub const RECENT_INVOCATIONS: usize = 100;

/// One finished call of a module (custom API, service or event), for the dashboard.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InvocationRecord {
    pub at: i64,
    pub slug: String,
    pub kind: String,
    pub method: Option<String>,
    /// The HTTP status the caller got (200 when the handler answered).
    pub status: u16,
    pub duration_ms: f64,
    pub error: Option<String>,
}

/// A connected worker as the dashboard shows it.
#[derive(Clone, Debug)]
pub struct WorkerInfo {
    pub conn_id: u64,
    pub label: String,
    pub agent: Option<String>,
    pub connected_at: i64,
    pub modules: Vec<ModuleSpec>,
    pub jobs: Vec<JobSpec>,
    pub concurrency: usize,
    pub draining: bool,
    pub in_flight: usize,
}

pub struct Hub {
    pub limits: Limits,
    pub scopes: ScopeTokens,
    /// Wakes the job dispatcher (enqueue, a freed slot, a new registration).
    pub wakeup: Notify,
    conns: Mutex<HashMap<u64, Conn>>,
    next_conn: AtomicU64,
    rr: AtomicUsize,
    closing: watch::Sender<bool>,
    recent: Mutex<HashMap<String, std::collections::VecDeque<InvocationRecord>>>,
}

impl Hub {
    pub fn new(limits: Limits) -> Hub {
        Hub {
            limits,
            scopes: ScopeTokens::default(),
            wakeup: Notify::new(),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            rr: AtomicUsize::new(0),
            closing: watch::channel(false).0,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Resolves when the platform shuts down (socket tasks close then).
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Close every worker connection (platform shutdown).
    pub fn shutdown(&self) {
        let _ = self.closing.send(true);
    }

    /// A new connection that serves nothing until it registers.
    pub fn connect(
        &self,
        project_id: &str,
        agent: Option<String>,
        tx: mpsc::UnboundedSender<ToWorker>,
    ) -> u64 {
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        self.conns.lock().insert(
            id,
            Conn {
                project_id: project_id.to_string(),
                label: format!("w{id}"),
                agent,
                connected_at: now_ms(),
                modules: Vec::new(),
                jobs: Vec::new(),
                concurrency: 1,
                draining: false,
                tx,
                pending: HashMap::new(),
            },
        );
        id
    }

    /// Replace what a connection serves.
    pub fn register(
        &self,
        conn_id: u64,
        label: Option<String>,
        modules: Vec<ModuleSpec>,
        jobs: Vec<JobSpec>,
        concurrency: usize,
    ) {
        if let Some(c) = self.conns.lock().get_mut(&conn_id) {
            if let Some(l) = label {
                c.label = l;
            }
            c.modules = modules;
            c.jobs = jobs;
            c.concurrency = concurrency;
        }
        self.wakeup.notify_one();
    }

    /// Stop routing work to a connection; returns false when it is gone.
    pub fn drain(&self, conn_id: u64) -> bool {
        match self.conns.lock().get_mut(&conn_id) {
            Some(c) => {
                c.draining = true;
                let _ = c.tx.send(ToWorker::Draining);
                true
            }
            None => false,
        }
    }

    /// Forget a connection; its in-flight calls fail (their senders drop) and its jobs are
    /// returned for redelivery.
    pub fn disconnect(&self, conn_id: u64) -> Vec<JobClaim> {
        let Some(c) = self.conns.lock().remove(&conn_id) else {
            return Vec::new();
        };
        c.pending
            .into_values()
            .filter_map(|p| match p {
                Pending::Job(j) => Some(j),
                Pending::Call(_) => None,
            })
            .collect()
    }

    /// Take the pending invocation `id` of a connection (its answer arrived).
    pub fn take(&self, conn_id: u64, id: &str) -> Option<Pending> {
        self.conns.lock().get_mut(&conn_id)?.pending.remove(id)
    }

    /// Send a frame to a connection (ignored when it is gone).
    pub fn send(&self, conn_id: u64, frame: ToWorker) {
        if let Some(c) = self.conns.lock().get(&conn_id) {
            let _ = c.tx.send(frame);
        }
    }

    fn scope_ttl(&self, timeout: Duration) -> Duration {
        timeout + self.limits.scope_token_grace
    }

    fn new_invoke(
        &self,
        kind: Kind,
        name: &str,
        project_id: &str,
        timeout: Duration,
        event: Value,
    ) -> Invoke {
        Invoke {
            id: format!("inv_{}", uuid::Uuid::new_v4().simple()),
            kind,
            name: name.to_string(),
            project_id: project_id.to_string(),
            scope_token: self.scopes.issue(project_id, self.scope_ttl(timeout)),
            timeout_ms: timeout.as_millis() as u64,
            deadline_ms: now_ms() + timeout.as_millis() as i64,
            event,
        }
    }

    /// Pick a connection of `project_id` serving module `slug` (round-robin) and send it the
    /// invocation. `check` may refuse the call from the module's settings.
    fn start_call(
        &self,
        project_id: &str,
        slug: &str,
        kind: Kind,
        event: Value,
        check: impl FnOnce(&ModuleSpec) -> Result<(), ApiError>,
    ) -> Result<Option<Started>, ApiError> {
        let mut conns = self.conns.lock();
        let mut ids: Vec<u64> = conns
            .iter()
            .filter(|(_, c)| {
                c.project_id == project_id
                    && !c.draining
                    && c.modules.iter().any(|m| module_matches(m, slug, kind))
            })
            .map(|(id, _)| *id)
            .collect();
        if ids.is_empty() {
            return Ok(None);
        }
        ids.sort_unstable();
        let conn_id = ids[self.rr.fetch_add(1, Ordering::Relaxed) % ids.len()];
        let conn = conns.get_mut(&conn_id).expect("listed above");
        let module = conn
            .modules
            .iter()
            .find(|m| module_matches(m, slug, kind))
            .expect("matched above");
        check(module)?;
        let timeout = module
            .timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(self.limits.hook_timeout);
        let inv = self.new_invoke(kind, &module.slug, project_id, timeout, event);
        let id = inv.id.clone();
        let (tx, rx) = oneshot::channel();
        conn.pending.insert(id.clone(), Pending::Call(tx));
        let _ = conn.tx.send(ToWorker::Invoke(inv));
        Ok(Some(Started {
            id,
            timeout,
            answer: rx,
            conn_id,
        }))
    }

    /// Run module `slug` and wait for its answer (custom API, service or event); the outcome is
    /// remembered for the dashboard ([`Hub::recent_invocations`]).
    pub async fn call(
        &self,
        project_id: &str,
        slug: &str,
        kind: Kind,
        event: Value,
        check: impl FnOnce(&ModuleSpec) -> Result<(), ApiError>,
    ) -> Result<Option<Value>, ApiError> {
        let started = Instant::now();
        let method = (kind == Kind::Custom)
            .then(|| event["method"].as_str().map(str::to_string))
            .flatten();
        let out = self.call_inner(project_id, slug, kind, event, check).await;
        let (status, error) = match &out {
            Ok(Some(_)) => (200, None),
            Ok(None) => (503, Some("no connected worker serves this module".to_string())),
            Err(e) => (e.status.as_u16(), Some(format!("{}: {}", e.code, e.message))),
        };
        let record = InvocationRecord {
            at: now_ms(),
            slug: slug.to_string(),
            kind: format!("{kind:?}").to_ascii_lowercase(),
            method,
            status,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            error,
        };
        let mut recent = self.recent.lock();
        // get_mut first: the project's log exists after its first call (no key copy per call).
        if !recent.contains_key(project_id) {
            recent.insert(project_id.to_string(), Default::default());
        }
        let log = recent.get_mut(project_id).expect("inserted above");
        if log.len() == RECENT_INVOCATIONS {
            log.pop_front();
        }
        log.push_back(record);
        drop(recent);
        out
    }

    /// The last [`RECENT_INVOCATIONS`] calls of modules of `project_id`, newest first.
    pub fn recent_invocations(&self, project_id: &str) -> Vec<InvocationRecord> {
        self.recent
            .lock()
            .get(project_id)
            .map(|l| l.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    /// The workers connected for `project_id`, oldest connection first.
    pub fn workers_of(&self, project_id: &str) -> Vec<WorkerInfo> {
        let conns = self.conns.lock();
        let mut out: Vec<WorkerInfo> = conns
            .iter()
            .filter(|(_, c)| c.project_id == project_id)
            .map(|(id, c)| WorkerInfo {
                conn_id: *id,
                label: c.label.clone(),
                agent: c.agent.clone(),
                connected_at: c.connected_at,
                modules: c.modules.clone(),
                jobs: c.jobs.clone(),
                concurrency: c.concurrency,
                draining: c.draining,
                in_flight: c.pending.len(),
            })
            .collect();
        out.sort_by_key(|w| w.conn_id);
        out
    }

    async fn call_inner(
        &self,
        project_id: &str,
        slug: &str,
        kind: Kind,
        event: Value,
        check: impl FnOnce(&ModuleSpec) -> Result<(), ApiError>,
    ) -> Result<Option<Value>, ApiError> {
        let Some(Started {
            id,
            timeout,
            answer,
            conn_id,
        }) = self.start_call(project_id, slug, kind, event, check)?
        else {
            return Ok(None);
        };
        // If the caller goes away (request dropped) the entry must not outlive it.
        let _forget = Forget {
            hub: self,
            conn_id,
            id: id.clone(),
        };
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(Outcome::Done(v))) => Ok(Some(v)),
            Ok(Ok(Outcome::Failed(msg))) => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::HOOK_FAILED,
                msg,
            )
            .with_detail("slug", slug)),
            Ok(Err(_)) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                code::WORKER_NOT_CONNECTED,
                format!("The worker running '{slug}' disconnected before answering; the call may have run partly. Retry when a worker is connected"),
            )
            .with_detail("slug", slug)),
            Err(_) => {
                self.send(
                    conn_id,
                    ToWorker::Cancel {
                        id,
                        reason: format!("timed out after {} ms", timeout.as_millis()),
                    },
                );
                Err(ApiError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    code::HOOK_TIMEOUT,
                    format!(
                        "'{slug}' did not answer within {} ms (the module's timeout_ms, or the platform default)",
                        timeout.as_millis()
                    ),
                )
                .with_detail("slug", slug)
                .with_detail("timeout_ms", timeout.as_millis() as u64))
            }
        }
    }

    /// What the workers of `project_id` serve now: `{workers, modules: [slug], events: [name],
    /// jobs: [type]}` (draining connections excluded), for `GET /v1/local/workers`.
    pub fn served(&self, project_id: &str) -> serde_json::Value {
        let conns = self.conns.lock();
        let live: Vec<&Conn> = conns.values().filter(|c| c.project_id == project_id && !c.draining).collect();
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v.dedup();
            v
        };
        let modules = live.iter().flat_map(|c| c.modules.iter()).filter(|m| m.trigger == TRIGGER_API);
        let events = live.iter().flat_map(|c| c.modules.iter()).filter(|m| m.trigger != TRIGGER_API);
        serde_json::json!({
            "workers": live.len(),
            "modules": sorted(modules.map(|m| m.slug.clone()).collect()),
            "events": sorted(events.map(|m| m.trigger.clone()).collect()),
            "jobs": sorted(live.iter().flat_map(|c| c.jobs.iter()).map(|j| j.job_type.clone()).collect()),
        })
    }

    /// Slugs of the modules of `project_id` triggered by `event` (one per slug).
    pub fn event_modules(&self, project_id: &str, event: &str) -> Vec<String> {
        let mut slugs: Vec<String> = self
            .conns
            .lock()
            .values()
            .filter(|c| c.project_id == project_id && !c.draining)
            .flat_map(|c| c.modules.iter().filter(|m| m.trigger == event))
            .map(|m| m.slug.clone())
            .collect();
        slugs.sort();
        slugs.dedup();
        slugs
    }

    /// Connections with room for jobs, with a fresh claim id each.
    pub fn job_slots(&self) -> Vec<JobSlot> {
        self.conns
            .lock()
            .iter()
            .filter(|(_, c)| !c.draining && !c.jobs.is_empty())
            .filter_map(|(id, c)| {
                let free = c.concurrency.saturating_sub(c.jobs_in_flight());
                (free > 0).then(|| JobSlot {
                    conn_id: *id,
                    claim: format!("{}:{}", c.label, uuid::Uuid::new_v4().simple()),
                    project_id: c.project_id.clone(),
                    types: c.jobs.iter().map(|j| j.job_type.clone()).collect(),
                    free,
                })
            })
            .collect()
    }

    /// Lease length for a job of `job_type` on a connection: its timeout.
    pub fn job_timeout(&self, conn_id: u64, job_type: &str) -> Duration {
        self.conns
            .lock()
            .get(&conn_id)
            .and_then(|c| c.jobs.iter().find(|j| j.job_type == job_type))
            .and_then(|j| j.timeout_ms)
            .map(Duration::from_millis)
            .unwrap_or(self.limits.hook_timeout)
    }

    /// Send a claimed job to its connection. `Err` gives the claim back when the connection is
    /// gone (the caller returns the job to the queue).
    pub fn deliver_job(
        &self,
        conn_id: u64,
        row: &crate::store::jobs::JobRow,
        claim: &str,
    ) -> Result<(), JobClaim> {
        let timeout = self.job_timeout(conn_id, &row.job_type);
        let jc = JobClaim {
            job_id: row.id.clone(),
            claim: claim.to_string(),
            attempts: row.attempts,
            max_retries: row.max_retries,
            deadline: Instant::now() + timeout,
        };
        let mut conns = self.conns.lock();
        let Some(conn) = conns.get_mut(&conn_id) else {
            return Err(jc);
        };
        let event = job_event(row);
        let inv = self.new_invoke(Kind::Job, &row.job_type, &row.project_id, timeout, event);
        let id = inv.id.clone();
        if conn.tx.send(ToWorker::Invoke(inv)).is_err() {
            return Err(jc);
        }
        conn.pending.insert(id, Pending::Job(jc));
        Ok(())
    }

    /// Jobs whose handler ran past its timeout, removed from their connections (the worker is
    /// told to cancel them).
    pub fn take_expired_jobs(&self) -> Vec<JobClaim> {
        let now = Instant::now();
        let mut out = Vec::new();
        for c in self.conns.lock().values_mut() {
            let expired: Vec<String> = c
                .pending
                .iter()
                .filter(|(_, p)| matches!(p, Pending::Job(j) if j.deadline <= now))
                .map(|(id, _)| id.clone())
                .collect();
            for id in expired {
                if let Some(Pending::Job(j)) = c.pending.remove(&id) {
                    let _ = c.tx.send(ToWorker::Cancel {
                        id,
                        reason: "timed out".into(),
                    });
                    out.push(j);
                }
            }
        }
        out
    }

    /// Delay before the next run of a job that failed its `attempts`-th run:
    /// `min(job_backoff_max, job_backoff_base * 2^(attempts-1))`.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let exp = attempts.clamp(1, 31) as u32 - 1;
        self.limits
            .job_backoff_base
            .saturating_mul(1u32 << exp)
            .min(self.limits.job_backoff_max)
    }
}

fn module_matches(m: &ModuleSpec, slug: &str, kind: Kind) -> bool {
    m.slug == slug
        && match kind {
            Kind::Custom | Kind::Service => m.trigger == TRIGGER_API,
            Kind::Event => m.trigger != TRIGGER_API,
            Kind::Job => false,
        }
}

/// The handler's `job` argument.
fn job_event(row: &crate::store::jobs::JobRow) -> Value {
    let data = serde_json::from_str::<Value>(&row.data).unwrap_or(Value::Null);
    json!({
        "event": format!("queue.{}", row.job_type),
        "timestamp": iso_ms(now_ms()),
        "id": row.id,
        "type": row.job_type,
        "data": data,
        "project_id": row.project_id,
        "attempt": row.attempts,
        "max_retries": row.max_retries,
        "created_at": iso_ms(row.created_at),
    })
}

/// Refuse a custom API call the module's switches do not allow.
fn check_custom(m: &ModuleSpec, authenticated: bool, method: &str) -> Result<(), ApiError> {
    if !m.public && !authenticated {
        return Err(ApiError::unauthorized(
            code::AUTH_INVALID_KEY,
            format!(
                "The custom API '{}' is not public: {}",
                m.slug,
                crate::keys::KEY_HELP
            ),
        )
        .with_detail("slug", m.slug.clone()));
    }
    if !m.methods.iter().any(|a| a.eq_ignore_ascii_case(method)) {
        let allowed: Vec<String> = m.methods.iter().map(|a| a.to_ascii_uppercase()).collect();
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            code::NOT_FOUND,
            format!(
                "The custom API '{}' does not accept {method}; use {}",
                m.slug,
                allowed.join(" or ")
            ),
        )
        .with_detail("method", method)
        .with_detail("allowed", allowed)
        .with_header("allow", m.methods.join(", ").to_ascii_uppercase()));
    }
    Ok(())
}

impl WorkerHub for Hub {
    fn invoke(&self, inv: Invocation) -> InvokeFuture<'_> {
        Box::pin(async move {
            let answer = match &inv {
                Invocation::Service {
                    project_id,
                    name,
                    data,
                } => {
                    let event = json!({
                        "event": format!("service.{name}"),
                        "timestamp": iso_ms(now_ms()),
                        "data": data,
                        "project_id": project_id,
                    });
                    self.call(project_id, name, Kind::Service, event, |_| Ok(()))
                        .await?
                }
                Invocation::Custom {
                    project_id,
                    slug,
                    event,
                    authenticated,
                } => {
                    let method = event["method"].as_str().unwrap_or("POST").to_string();
                    self.call(project_id, slug, Kind::Custom, event.clone(), |m| {
                        check_custom(m, *authenticated, &method)
                    })
                    .await?
                }
            };
            answer.ok_or_else(|| not_connected(&inv))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let hub = Hub::new(Limits {
            job_backoff_base: Duration::from_millis(100),
            job_backoff_max: Duration::from_millis(350),
            ..Limits::default()
        });
        let ms = |n| hub.backoff(n).as_millis();
        assert_eq!((ms(1), ms(2), ms(3), ms(40)), (100, 200, 350, 350));
    }

    #[tokio::test]
    async fn recent_invocations_keep_the_last_hundred_per_project() {
        let hub = Hub::new(Limits::default());
        for i in 0..RECENT_INVOCATIONS + 5 {
            let slug = format!("m{i}");
            let out = hub.call("p1", &slug, Kind::Custom, json!({"method": "GET"}), |_| Ok(())).await;
            assert!(matches!(out, Ok(None)), "no worker serves it");
        }
        hub.call("p2", "other", Kind::Service, json!({}), |_| Ok(())).await.unwrap();
        let log = hub.recent_invocations("p1");
        assert_eq!(log.len(), RECENT_INVOCATIONS);
        let last = format!("m{}", RECENT_INVOCATIONS + 4);
        assert_eq!((log[0].slug.as_str(), log[0].status, log[0].method.as_deref()), (last.as_str(), 503, Some("GET")));
        assert_eq!(log[RECENT_INVOCATIONS - 1].slug, "m5", "the oldest five were dropped");
        assert_eq!(hub.recent_invocations("p2")[0].kind, "service");
        assert!(hub.recent_invocations("p3").is_empty());
    }

    #[test]
    fn modules_match_by_trigger() {
        let api: ModuleSpec = serde_json::from_value(json!({"slug": "a"})).unwrap();
        let ev: ModuleSpec =
            serde_json::from_value(json!({"slug": "a", "trigger": "auth.login.after"})).unwrap();
        assert_eq!(api.methods, ["POST"]);
        assert!(
            module_matches(&api, "a", Kind::Custom) && module_matches(&api, "a", Kind::Service)
        );
        assert!(
            !module_matches(&api, "a", Kind::Event) && !module_matches(&api, "b", Kind::Custom)
        );
        assert!(module_matches(&ev, "a", Kind::Event) && !module_matches(&ev, "a", Kind::Custom));
    }
}
