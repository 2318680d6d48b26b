//! The napi-rs binding of the Aerostack engine behind the `aerostack` npm package (`node/`), over
//! the binding surface (`aerostack_bindings_common`) alone.
//!
//! Type conversion only (BRIEF §3): one class per surface handle, each method one to three lines;
//! JSON crosses as text; the idiomatic TypeScript API is written in `node/src` on top. Rules kept
//! here:
//!
//! - the process runtime is the surface's, created on first use (never when the addon loads);
//! - every call that waits returns a Promise; the surface's `Task::on_done` settles it, which
//!   only queues the outcome on the environment's one completion queue, drained on the JS thread
//!   (completion.rs): no engine thread ever runs JS, and an idle client keeps nothing alive in
//!   the event loop;
//! - a settled outcome is text: `"0"` + the JSON answer, or `"1"` + the surface's `ErrorDto`
//!   JSON (`"2"`/`"3"` the same with engine log lines waiting: `drainLogs()`); the package turns
//!   `"1"` into the `AerostackError` subclass of the error's family;
//! - a panic never crosses into JS: every exported function is `catch_unwind` (napi-rs turns a
//!   panic into a thrown error); engine futures run on the runtime, where a panic ends only that
//!   task.

// Free functions exported to JS only through napi's registration, which a `cargo test` build of
// the lib (`--all-targets`) leaves out: there they look unused.
#![cfg_attr(test, allow(dead_code))]

mod client;
mod completion;
mod gateway_socket;
mod hosted;
mod logs;
mod platform;
mod realtime;
mod stream;
mod upload;
mod worker;

use aerostack_bindings_common::{Error, ErrorDto};
use napi_derive::napi;
use serde_json::Value;

/// The version of this package (= the workspace version), used in the User-Agent.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `aerostack-node/<version>`: the User-Agent prefix of every request.
fn user_agent() -> String {
    format!("aerostack-node/{VERSION}")
}

/// How JavaScript spells the engine's option names in error messages.
const NAMES: aerostack_bindings_common::naming::Names = &[
    ("CallOptions.timeout_ms", "the call option { timeoutMs }"),
    (
        "ClientConfig.timeout_ms",
        "new AerostackClient({ timeoutMs })",
    ),
    ("ClientConfig.api_key", "new AerostackClient({ apiKey })"),
    (
        "ClientConfig.project_id",
        "new AerostackClient({ projectId })",
    ),
    (
        "CallOptions.idempotency_key",
        "the call option { idempotencyKey }",
    ),
    ("CallOptions.headers", "the call option { headers }"),
    (
        "RealtimeConfig::outbox_capacity",
        "client.realtime.configure({ outboxCapacity })",
    ),
];

/// The text of an error for the package: `"1"` + the `ErrorDto` JSON (`"3"` with logs waiting).
pub(crate) fn error_text(e: impl Into<ErrorDto>) -> String {
    let d: ErrorDto = e.into();
    let flag = if aerostack_bindings_common::logs::pending() {
        '3'
    } else {
        '1'
    };
    format!("{flag}{}", d.to_json())
}

/// The text of an answer: `"0"` + JSON (`"2"` with logs waiting).
pub(crate) fn value_text(v: &Value) -> String {
    let flag = if aerostack_bindings_common::logs::pending() {
        '2'
    } else {
        '0'
    };
    format!("{flag}{v}")
}

/// A thrown JS error carrying the `ErrorDto` (for methods that answer at once).
pub(crate) fn to_napi(e: impl Into<ErrorDto>) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, error_text(e))
}

/// JSON text from JS.
pub(crate) fn parse_json(what: &str, text: &str) -> napi::Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        to_napi(Error::validation(
            what,
            format!("{what} is not valid JSON: {e}"),
        ))
    })
}

/// Installs the names and the log queue; called by the package once when it loads the addon.
#[napi(catch_unwind)]
pub fn init() {
    // One JS thread submits every call: one engine thread serves it best (see the function).
    aerostack_bindings_common::runtime::prefer_worker_threads(1);
    aerostack_bindings_common::naming::install(NAMES);
    aerostack_bindings_common::naming::install_field_case(aerostack_bindings_common::naming::FieldCase::Camel);
    aerostack_bindings_common::logs::install();
}

/// The engine's version.
#[napi(catch_unwind)]
pub fn engine_version() -> String {
    aerostack_bindings_common::ENGINE_VERSION.to_string()
}

/// This package's version.
#[napi(catch_unwind)]
pub fn version() -> String {
    VERSION.to_string()
}

/// The operation names `call` accepts.
#[napi(catch_unwind)]
pub fn operations() -> Vec<String> {
    aerostack_bindings_common::ops::OPERATIONS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The REST operations of the operation-style `SDK`, as `group.name` (snake_case).
#[napi(catch_unwind)]
pub fn rest_operations() -> Vec<String> {
    aerostack_bindings_common::rest::REST_OPERATIONS
        .iter()
        .map(|o| format!("{}.{}", o.group, o.name))
        .collect()
}

/// The path and query parameters of REST operation `operation` (`group.name`), as the spec
/// names them (`apiSlug`, `api_slug`); empty for an unknown operation.
#[napi(catch_unwind)]
pub fn rest_parameters(operation: String) -> Vec<String> {
    aerostack_bindings_common::rest::find(&operation)
        .map(|o| o.parameters().into_iter().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The queue job type a function named `name` serves (`sendWelcomeEmail` -> `send-welcome-email`).
#[napi(catch_unwind)]
pub fn job_type_from_function_name(name: String) -> String {
    aerostack_bindings_common::job_type_from_function_name(&name)
}

/// The engine's option names that appear in error messages, and JavaScript's spelling of each
/// (`null` when not covered: a test keeps the table complete).
#[napi(catch_unwind)]
pub fn engine_option_names() -> Vec<Vec<Option<String>>> {
    aerostack_bindings_common::naming::ENGINE_NAMES
        .iter()
        .map(|e| {
            vec![
                Some(e.to_string()),
                NAMES
                    .iter()
                    .find(|(n, _)| n == e)
                    .map(|(_, p)| p.to_string()),
            ]
        })
        .collect()
}

/// Where the times and the user's data are in each result type (the surface's `times` and
/// `user_data` tables), as JSON `{"times": {type: [path]}, "user_data": {type: [path]}}`: the
/// package's one conversion (node/src/shape.ts) reads it once.
#[napi(catch_unwind)]
pub fn result_paths() -> String {
    aerostack_bindings_common::user_data::result_paths().to_string()
}
