//! Calls whose HTTP requests are performed by the host language's own HTTP client.
//!
//! `SDK(client=httpx.Client(...))` and friends: the engine still builds every request (URL,
//! headers, idempotency key), retries, enforces timeouts, maps errors and decodes answers; only the
//! bytes on the wire go through the user's client. The host drives a [`HostedCall`] by pulling:
//!
//! ```text
//! call = HostedCall::start(client, op, args)
//! loop {
//!     match call.next().await {
//!         Step::Send { id, request } => call.respond(id, host_client.send(request)),   // Err(msg) on failure
//!         Step::Done(result) => break result,
//!     }
//! }
//! ```
//!
//! The engine never calls into the host from its threads: requests wait in a channel until the
//! host asks for them. A request the host answers too late has already timed out in the engine
//! (TIMEOUT, retried per the policy); the late answer is dropped.

use std::collections::HashMap;

use aerostack::{
    Client, Error, ErrorCode, HostExchange, HostLink, HostRequest, HostResponse, with_host,
};
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{AbortHandle, JoinHandle};

use crate::ops;
use crate::runtime::{RuntimeError, runtime};

type Reply = oneshot::Sender<Result<HostResponse, String>>;

/// What the host does next.
#[derive(Debug)]
pub enum Step {
    /// Perform `request` with the host's client and answer with [`HostedCall::respond`]`(id, ..)`.
    Send { id: u64, request: HostRequest },
    /// The call finished: the operation's JSON answer or the engine's typed error.
    Done(Result<Value, Error>),
}

/// One engine operation whose HTTP goes through the host. Dropping it aborts the operation.
pub struct HostedCall {
    /// Held across `next().await`, so concurrent `next` calls take turns.
    state: tokio::sync::Mutex<State>,
    /// Requests handed to the host and not answered yet, by id.
    waiting: Mutex<Waiting>,
    abort: AbortHandle,
}

struct State {
    exchanges: mpsc::UnboundedReceiver<HostExchange>,
    /// `None` once the result has been handed out.
    task: Option<JoinHandle<Result<Value, Error>>>,
}

#[derive(Default)]
struct Waiting {
    next_id: u64,
    replies: HashMap<u64, Reply>,
}

impl HostedCall {
    /// Starts `op` (any [`ops::dispatch`] operation) with `args` on the process runtime; its HTTP
    /// requests come out of [`next`](HostedCall::next).
    pub fn start(client: Client, op: String, args: Value) -> Result<HostedCall, RuntimeError> {
        HostedCall::spawn(async move { ops::dispatch(&client, &op, args).await })
    }

    /// Starts any engine future (e.g. [`ops::upload`]) with its HTTP requests routed to the host.
    pub fn spawn<F>(fut: F) -> Result<HostedCall, RuntimeError>
    where
        F: Future<Output = Result<Value, Error>> + Send + 'static,
    {
        let rt = runtime()?;
        let (link, exchanges) = HostLink::channel();
        let task = rt.spawn(with_host(link, fut));
        Ok(HostedCall {
            abort: task.abort_handle(),
            state: tokio::sync::Mutex::new(State {
                exchanges,
                task: Some(task),
            }),
            waiting: Mutex::new(Waiting::default()),
        })
    }

    /// The next request to perform, or the result. After [`Step::Done`] has been returned once,
    /// every further call returns `Done(Err(VALIDATION_ERROR))` saying the call already finished
    /// (the result is handed out exactly once). Cancel-safe: dropping the future loses nothing.
    pub async fn next(&self) -> Step {
        let mut state = self.state.lock().await;
        let State { exchanges, task } = &mut *state;
        let Some(handle) = task.as_mut() else {
            return Step::Done(Err(Error::validation(
                "call",
                "this call has already finished; its result was returned by an earlier next()",
            )));
        };
        let result = loop {
            tokio::select! {
                // Requests first: a finished task cannot have a live one left behind.
                biased;
                exchange = exchanges.recv() => match exchange {
                    // The engine stopped waiting (per-attempt timeout): nothing to send.
                    Some(x) if x.reply.is_closed() => continue,
                    Some(x) => {
                        let mut w = self.waiting.lock();
                        let id = w.next_id;
                        w.next_id += 1;
                        w.replies.insert(id, x.reply);
                        return Step::Send { id, request: x.request };
                    }
                    // The link is gone, so the task is finishing: wait for it alone (`recv`
                    // would keep answering `None` at once).
                    None => break handle.await,
                },
                joined = &mut *handle => break joined,
            }
        };
        *task = None;
        Step::Done(match result {
            Ok(r) => r,
            Err(e) if e.is_panic() => Err(Error::new(
                ErrorCode::InternalError,
                "the engine failed unexpectedly while running this call (a bug: please report it)",
            )),
            Err(_) => Err(Error::cancelled()),
        })
    }

    /// Answers request `id`: the host client's response, or `Err(message)` when it failed (the
    /// engine treats that as a network error: retried, then `NETWORK_ERROR` naming the host
    /// client). An answer to a request the engine already gave up on (timed out) is accepted
    /// and dropped. An id that was never handed out, or was already answered, is a
    /// `VALIDATION_ERROR`.
    pub fn respond(&self, id: u64, reply: Result<HostResponse, String>) -> Result<(), Error> {
        let Some(tx) = self.waiting.lock().replies.remove(&id) else {
            return Err(Error::validation(
                "id",
                format!(
                    "no request with id {id} is waiting for an answer: answer each id from next() exactly once"
                ),
            ));
        };
        // Err only when the engine stopped waiting; the next `next()` reports what it did instead.
        let _ = tx.send(reply);
        Ok(())
    }
}

impl Drop for HostedCall {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

impl std::fmt::Debug for HostedCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostedCall")
            .field("waiting", &self.waiting.lock().replies.len())
            .field("finished", &self.abort.is_finished())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<HostedCall>();
    }
}
