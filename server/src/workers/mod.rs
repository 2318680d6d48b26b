//! Workers, the platform side: workers connect over a WebSocket (`socket`), register the Logic
//! Modules and job types they serve (`frames`), and the hub (`hub`) routes custom API calls,
//! service calls (`route`: the `WorkerHub` trait the routes call), platform events
//! (`dispatch::fire_event`) and queue jobs (`dispatch::run`) to them. Handlers reach the platform
//! back with a scope token (`scope`). The protocol is documented in docs/workers.md.

pub mod dispatch;
pub mod frames;
pub mod hub;
pub mod route;
pub mod scope;
pub mod socket;

/// Events fired after an end user registered / logged in with a password (data: `{user}`).
pub use aerostack_protocol::worker::{EVENT_LOGIN_AFTER, EVENT_REGISTER_AFTER};
pub use dispatch::fire_event;
pub use hub::Hub;
pub use route::{Invocation, InvokeFuture, WorkerHub, not_connected};
