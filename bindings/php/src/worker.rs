//! `Worker` / `Invocation`: the surface's `WorkerHandle` / `InvocationHandle` (Logic Modules and
//! queue jobs). The PHP loop (`Aerostack\Worker::run`) pulls invocations in short slices (so
//! SIGTERM is noticed between them) and answers them; the engine never calls PHP.

use aerostack_bindings_common::{InvocationHandle, WorkerHandle};
use ext_php_rs::prelude::*;

use crate::client::Client;
use crate::completion::block_on;
use crate::{parse_json, to_php, user_agent};

/// A connected worker (one WebSocket to the platform, reconnecting by itself).
#[php_class]
#[php(name = "Aerostack\\Native\\Worker")]
pub struct Worker {
    h: WorkerHandle,
}

#[php_impl]
impl Worker {
    /// Connects and registers (`registration_json`: `{modules, jobs, concurrency, label, ...}`);
    /// returns once registered.
    pub fn connect(options_json: &str, registration_json: &str) -> PhpResult<Worker> {
        let c = WorkerHandle::connect(
            parse_json("options", options_json)?,
            parse_json("registration", registration_json)?,
            &user_agent(),
        );
        Ok(Worker { h: block_on(c)? })
    }

    /// The next invocation, or null after `timeout_ms` (or once the worker stopped).
    pub fn next_invocation(&self, timeout_ms: Option<i64>) -> PhpResult<Option<Invocation>> {
        let next = self
            .h
            .next_invocation(timeout_ms.map(|ms| ms.max(0) as u64));
        block_on(next.map(|f| async move { f.await.map(|i| i.map(|h| Invocation { h })) }))
    }

    /// Answers invocation `id` with the JSON `result_json`.
    pub fn complete(&self, id: &str, result_json: &str) -> PhpResult<()> {
        self.h
            .complete(id, parse_json("result", result_json)?)
            .map_err(to_php)
    }

    /// Fails invocation `id` (custom API: 500 HOOK_FAILED with `message`; job: retried).
    pub fn fail(&self, id: &str, message: &str) -> PhpResult<()> {
        self.h.fail(id, message).map_err(to_php)
    }

    /// Stops taking new invocations and waits for the ones in flight to be answered.
    pub fn drain(&self) -> PhpResult<()> {
        block_on(self.h.drain()).map(|_| ())
    }

    /// Closes the connection after at most `grace_ms` for the invocations in flight.
    pub fn stop(&self, grace_ms: i64) -> PhpResult<()> {
        block_on(self.h.stop(grace_ms.max(0) as u64)).map(|_| ())
    }

    /// Whether the worker has stopped.
    pub fn is_closed(&self) -> bool {
        self.h.is_closed()
    }

    /// The project the platform registered this worker for.
    pub fn project_id(&self) -> Option<String> {
        self.h.project_id()
    }
}

/// One module call or queue job to answer.
#[php_class]
#[php(name = "Aerostack\\Native\\Invocation")]
pub struct Invocation {
    h: InvocationHandle,
}

#[php_impl]
impl Invocation {
    pub fn id(&self) -> String {
        self.h.id().to_string()
    }

    /// `module`, `event` or `job`.
    pub fn kind(&self) -> String {
        self.h.kind()
    }

    /// The module slug, event name or job type.
    pub fn name(&self) -> String {
        self.h.name().to_string()
    }

    pub fn project_id(&self) -> String {
        self.h.project_id().to_string()
    }

    /// The handler's event (request or job) as JSON.
    pub fn event(&self) -> String {
        self.h.event().to_string()
    }

    /// When the platform stops waiting (Unix ms).
    pub fn deadline_ms(&self) -> i64 {
        self.h.deadline_ms()
    }

    /// The whole invocation as JSON.
    pub fn to_json(&self) -> String {
        self.h.to_json().to_string()
    }

    /// Whether the platform gave up on it.
    pub fn is_cancelled(&self) -> bool {
        self.h.is_cancelled()
    }

    /// The scoped sdk's client (every operation plus `fetch`, bound to this project).
    pub fn client(&self) -> PhpResult<Client> {
        Ok(Client {
            h: self.h.client().map_err(to_php)?,
        })
    }
}
