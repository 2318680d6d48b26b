//! The Aerostack wire contract, in one place: the engine (`aerostack-core`) and the local
//! platform (`aerostack-server`) both depend on this crate, so the two sides of a protocol
//! cannot drift apart.
//!
//! - [`realtime`]: the frames of `/api/realtime` (docs/realtime.md), client → platform
//!   ([`realtime::ClientFrame`]) and platform → client ([`realtime::ServerFrame`]).
//! - [`worker`]: the frames of `/api/workers` (docs/workers.md), worker → platform
//!   ([`worker::FromWorker`]) and platform → worker ([`worker::ToWorker`]), with the
//!   registration types [`worker::Module`] and [`worker::JobType`].
//! - [`OutboxMessage`]: an entry of `GET /v1/local/outbox`.
//! - [`ErrorResponse`] (`/v1` routes) and [`ErrorBody`] (the others): the platform's error bodies.
//! - [`Timestamp`]: every point in time, read from any form the platforms send, written as
//!   RFC 3339 UTC with milliseconds.
//!
//! Every type both serialises (the side that sends it) and deserialises (the side that reads
//! it). Readers are lenient where the engine must also read the hosted platform (missing
//! fields take defaults, ids may be strings or numbers); writers produce exactly the JSON the
//! docs show, which the tests in `tests/wire.rs` pin.
//!
//! This crate depends on serde and serde_json only: no I/O, no runtime.

pub mod error;
pub mod lenient;
pub mod names;
pub mod outbox;
pub mod realtime;
pub mod time;
pub mod worker;

pub use error::{ErrorBody, ErrorField, ErrorResponse, SPEC_CODES};
pub use outbox::{OutboxMessage, OutboxPage};
pub use time::Timestamp;
