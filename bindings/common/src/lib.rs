//! The binding surface: every engine capability as handles, FFI-free, JSON in and out, every
//! duration in `_ms`. A language binding (pyo3, napi-rs, the C ABI, ext-php-rs) depends on this
//! crate alone and converts types and idioms; anything it would otherwise write twice lives here.
//!
//! - Handles (`Arc`-backed, `Clone + Send + Sync`, refused after `fork()` with an error that says
//!   what to do): [`ClientHandle`] (calls, uploads, downloads, streams, host-routed calls,
//!   realtime, gateway sockets), [`RealtimeHandle`] + [`ChannelHandle`], [`GatewaySocketHandle`], [`WorkerHandle`] + [`InvocationHandle`]
//!   (Logic Modules and queue jobs), [`StreamHandle`], [`HostedCall`], [`LocalPlatformHandle`].
//! - Methods that wait return the engine future; the binding runs it as a [`Task`] (block with
//!   spin-then-park, or hand the outcome once to a completion callback) and never blocks an
//!   engine thread on host code (BRIEF §5: events and results are pulled by the host).
//! - One error object, [`ErrorDto`] (`family` picks the exception class); option objects decoded
//!   once in [`options`], whose errors name the field; the operation table in [`ops`].
//! - The process runtime ([`runtime`]): one per process, lazy, with a pid guard.
//! - Where the times are in each result ([`times`]): every time is RFC 3339 UTC text, and each
//!   SDK converts exactly the listed paths into its language's time type.
//! - Where the user's own data is in each result ([`user_data`]): SDKs rename the keys they own
//!   to their language's casing and leave those paths exactly as stored.
//!
//! docs/bindings.md is the page a new binding author reads first.

/// Every language SDK's library (each links this crate) allocates with mimalloc: with many calls
/// in flight the engine's threads and the host's calling thread allocate at once, and glibc's
/// arena locks cost a measured 10-14% of throughput at 100 and 1,000 calls in flight (Go bench;
/// sequential calls are unchanged). Host allocations (V8, PHP, CPython, Go) are unaffected.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod chat_decoder;
pub mod client;
pub mod errors;
pub mod events;
pub mod gateway_socket;
pub mod hosted;
pub mod logs;
pub mod naming;
pub mod ops;
pub mod options;
pub mod panic;
pub mod platform;
pub mod progress;
pub mod queue;
pub mod realtime;
pub mod rest;
pub mod result_keys;
pub mod runtime;
pub mod stream;
pub mod task;
pub mod times;
pub mod upload_stream;
pub mod user_data;
pub mod worker;

pub use aerostack::{
    Error, ErrorCode, HostRequest, HostResponse, ProgressFn, StoredObject, UploadProgress, VERSION as ENGINE_VERSION,
};
pub use chat_decoder::ChatDecoderHandle;
pub use client::ClientHandle;
pub use errors::{ErrorDto, ErrorFamily, family_of};
pub use events::{EventQueue, OverflowPolicy};
pub use gateway_socket::GatewaySocketHandle;
pub use hosted::{HostedCall, Step};
pub use platform::{LocalPlatformHandle, PlatformInfo};
pub use progress::ProgressCell;
pub use queue::CompletionQueue;
pub use realtime::{ChannelHandle, RealtimeHandle};
pub use runtime::{ProcessGuard, RuntimeError, runtime};
pub use stream::StreamHandle;
pub use task::{AbortHandle, Canceller, Task};
pub use upload_stream::UploadWriter;
pub use worker::{InvocationHandle, WorkerHandle, job_type_from_function_name};
