//! Workers: serve Logic Modules (custom APIs, event handlers) and queue jobs from this process.
//! One name per concept: a *Logic Module* is the user's function, a *job* a queue job type, and a
//! *worker* the connection that serves them (`/api/workers`). A [`Worker`] connects to the platform, registers what it serves, and hands each
//! invocation to the host through a pull queue; the handler gets a scoped [`Sdk`] bound to the
//! invocation's project. The wire protocol is docs/workers.md.
//!
//! ```no_run
//! use aerostack::ClientConfig;
//! use aerostack::worker::{Module, Worker, WorkerOptions};
//! use serde_json::json;
//!
//! # async fn demo() -> aerostack::Result<()> {
//! let config = ClientConfig::new().server_index(1).api_key("ac_secret_…");
//! let options = WorkerOptions::new()
//!     .module(Module::api("search-products").allow_get(true))
//!     .job_fn("send_welcome_email");
//! let worker = Worker::connect(config, options).await?;
//! while let Some(inv) = worker.next_invocation().await {
//!     let rows = inv.sdk().db().query("SELECT 1 AS one", &[]).await;
//!     match rows {
//!         Ok(r) => worker.complete(&inv.id, json!({"results": r.results}))?,
//!         Err(e) => worker.fail(&inv.id, e.message())?,
//!     }
//! }
//! # Ok(()) }
//! ```

mod connection;
mod fetch;
mod frames;
mod scoped;

pub use aerostack_protocol::worker::{
    EVENT_LOGIN_AFTER, EVENT_REGISTER_AFTER, TRIGGER_API, job_type_from_function_name,
};
pub use connection::{Invocation, Worker, WorkerOptions, worker_url};
pub use fetch::{DEFAULT_FETCH_TIMEOUT, FETCH_USER_AGENT, FetchOptions, FetchResponse};
pub use frames::{InvocationKind, JobType, Module};
pub use scoped::{Sdk, SdkAi, SdkQueue};
