//! Frames of the worker protocol over `GET /api/workers`: one JSON object per WebSocket text
//! message, tagged by `type`. The types are the shared wire contract (`aerostack_protocol::worker`,
//! also what the engine's worker speaks); docs/workers.md documents every field, and the
//! protocol crate's tests pin them to it.

pub use aerostack_protocol::worker::{
    FromWorker, InvocationKind as Kind, Invoke, JobType as JobSpec, Module as ModuleSpec,
    TRIGGER_API, ToWorker,
};
