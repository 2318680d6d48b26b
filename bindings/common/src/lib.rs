//! Helpers every language binding shares, with no FFI in them.
//!
//! A binding (pyo3, napi-rs, the C ABI, ext-php-rs) converts types and idioms; anything it would
//! otherwise write twice lives here: the one tokio runtime per process ([`runtime`]), the mapping of
//! engine error codes onto the exception families each language exposes ([`errors`]), the bounded
//! queue through which events are *pulled* by the host ([`events`]), cancellation of in-flight
//! calls by id ([`cancel`]), calls whose HTTP goes through the host's own client ([`hosted`]),
//! streamed operations as one pulled handle ([`stream`]), blocking on a call from a host thread
//! ([`wait`]), upload progress pulled by the host ([`progress`]), and the operation table that maps
//! every call by name, with JSON arguments, onto the engine ([`ops`]).

pub mod cancel;
pub mod errors;
pub mod events;
pub mod hosted;
pub mod ops;
pub mod progress;
pub mod runtime;
pub mod stream;
pub mod wait;

pub use cancel::CancelRegistry;
pub use errors::{ErrorFamily, family_of};
pub use events::{EventQueue, OverflowPolicy};
pub use hosted::{HostedCall, Step};
pub use progress::ProgressCell;
pub use runtime::{ProcessGuard, RuntimeError, runtime};
pub use stream::StreamHandle;
pub use wait::Waiter;
