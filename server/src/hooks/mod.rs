//! The hook runtime's platform side: workers connect over a WebSocket (`socket`), register the
//! Logic Modules and job types they serve (`frames`), and the hub (`hub`) routes custom API
//! calls, service calls, platform events (`dispatch::fire_event`) and queue jobs
//! (`dispatch::run`) to them. Handlers reach the platform back with a scope token (`scope`).
//! The protocol is documented in docs/workers.md.

pub mod dispatch;
pub mod frames;
pub mod hub;
pub mod scope;
pub mod socket;

pub use dispatch::fire_event;
pub use hub::Hub;

/// Event fired after an end user registered (data: `{user}`).
pub const EVENT_REGISTER_AFTER: &str = "auth.register.after";
/// Event fired after an end user logged in with a password (data: `{user}`).
pub const EVENT_LOGIN_AFTER: &str = "auth.login.after";
