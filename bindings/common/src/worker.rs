//! [`WorkerHandle`] and [`InvocationHandle`]: workers (serving Logic Modules and queue jobs)
//! as a binding holds it. The host pulls invocations, runs the user's function with the
//! invocation's scoped client, and answers with `complete` / `fail`; stopping (drain, then close
//! after a grace period) is the engine's.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aerostack::worker::{Invocation, Worker};
use aerostack::{ClientConfig, Error};
use serde_json::Value;

use crate::panic::contained;
use crate::client::ClientHandle;
use crate::options::{self, WorkerRegistration};
use crate::runtime::ProcessGuard;

pub use aerostack::worker::job_type_from_function_name;

/// A connected worker: one WebSocket to the platform, reconnecting and re-registering by itself.
#[derive(Clone)]
pub struct WorkerHandle {
    worker: Arc<Worker>,
    guard: ProcessGuard,
}

impl WorkerHandle {
    /// Connects with client `options` (as [`ClientHandle::new`]) and registers `registration`
    /// (`{modules, jobs, concurrency, label, queue_capacity, connect_timeout_ms}`); resolves once
    /// the platform confirmed the registration.
    pub fn connect(
        options: Value,
        registration: Value,
        user_agent: &str,
    ) -> Result<impl Future<Output = Result<WorkerHandle, Error>> + Send + 'static, Error> {
        let mut cfg: ClientConfig = options::parse_config("client options", options)?;
        if cfg.user_agent_prefix.is_none() {
            cfg.user_agent_prefix = Some(user_agent.to_string());
        }
        let opts = options::parse::<WorkerRegistration>("worker registration", registration)?.options()?;
        Ok(contained(async move {
            let worker = Worker::connect(cfg, opts).await?;
            Ok(WorkerHandle { worker: Arc::new(worker), guard: ProcessGuard::new() })
        }))
    }

    fn worker(&self) -> Result<Arc<Worker>, Error> {
        self.guard.check()?;
        Ok(self.worker.clone())
    }

    /// The next invocation, or `None` after `timeout_ms` (`None`: wait) or once the worker
    /// stopped (tell the two apart with [`is_closed`](WorkerHandle::is_closed)).
    pub fn next_invocation(
        &self,
        timeout_ms: Option<u64>,
    ) -> Result<impl Future<Output = Result<Option<InvocationHandle>, Error>> + Send + 'static, Error> {
        let w = self.worker()?;
        let guard = self.guard;
        Ok(contained(async move {
            let inv = match timeout_ms {
                Some(ms) => w.next_invocation_timeout(Duration::from_millis(ms)).await,
                None => w.next_invocation().await,
            };
            Ok(inv.map(|inv| InvocationHandle { inv: Arc::new(inv), guard }))
        }))
    }

    /// Answers invocation `id` with `result` (the custom API's JSON body, the job's result).
    pub fn complete(&self, id: &str, result: Value) -> Result<(), Error> {
        self.worker()?.complete(id, result)
    }

    /// Fails invocation `id`: a custom API answers `500 HOOK_FAILED` with `message`; a job is
    /// retried with backoff, then dead-lettered.
    pub fn fail(&self, id: &str, message: &str) -> Result<(), Error> {
        self.worker()?.fail(id, message)
    }

    /// Graceful shutdown: no new work; resolves once everything received was answered (keep
    /// pulling and answering meanwhile) and the connection closed.
    pub fn drain(&self) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let w = self.worker()?;
        Ok(contained(async move {
            w.drain().await;
            Ok(Value::Null)
        }))
    }

    /// `drain`, but the connection closes after `grace_ms` whatever is still running.
    pub fn stop(&self, grace_ms: u64) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let w = self.worker()?;
        Ok(contained(async move {
            w.stop(Duration::from_millis(grace_ms)).await;
            Ok(Value::Null)
        }))
    }

    /// Whether the worker stopped (drained, stopped, or its connection task ended).
    pub fn is_closed(&self) -> bool {
        self.worker.is_closed()
    }

    /// The project served (known once registered).
    pub fn project_id(&self) -> Option<String> {
        self.worker.project_id()
    }
}

/// One call to user code.
#[derive(Clone)]
pub struct InvocationHandle {
    inv: Arc<Invocation>,
    guard: ProcessGuard,
}

impl InvocationHandle {
    pub fn id(&self) -> &str {
        &self.inv.id
    }

    /// `custom`, `service`, `event` or `job`.
    pub fn kind(&self) -> String {
        match serde_json::to_value(self.inv.kind) {
            Ok(Value::String(s)) => s,
            _ => String::new(),
        }
    }

    /// The module slug, or the job type.
    pub fn name(&self) -> &str {
        &self.inv.name
    }

    pub fn project_id(&self) -> &str {
        &self.inv.project_id
    }

    /// The handler's `event` argument, its keys in the language's case (`crate::result_keys`).
    pub fn event(&self) -> Value {
        crate::result_keys::recase("worker.invocation", self.inv.event.clone())
    }

    /// Unix ms after which the platform stops waiting.
    pub fn deadline_ms(&self) -> i64 {
        self.inv.deadline_ms
    }

    /// Everything about the invocation (without its scope token).
    pub fn to_json(&self) -> Value {
        self.inv.to_json()
    }

    /// Whether the platform gave up on the invocation (timed out, worker reconnected).
    pub fn is_cancelled(&self) -> bool {
        self.inv.is_cancelled()
    }

    /// The scoped client: every operation of a client, bound to the invocation's project by its
    /// scope token (the worker's pool), plus `fetch`; `realtime.emit` is `sdk.socket.emit`.
    pub fn client(&self) -> Result<ClientHandle, Error> {
        self.guard.check()?;
        Ok(ClientHandle::scoped(self.inv.sdk().clone()))
    }
}
