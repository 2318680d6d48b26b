//! The PHP extension `aerostack`: the ext-php-rs binding of the Aerostack engine, over the binding
//! surface (`aerostack_bindings_common`) alone.
//!
//! Type conversion only: one PHP class per surface handle (namespace `Aerostack\Native`), each
//! method one to three lines; JSON crosses as text (PHP's `json_encode`/`json_decode` are C); the
//! idiomatic API (`Aerostack\Client`, exceptions, workers, realtime) is PHP on top (`php/src`).
//! Rules kept here:
//!
//! - the process runtime is the surface's, created on first call (never at MINIT);
//! - PHP is single-threaded: a blocking call parks this thread on the surface's `Task` while the
//!   engine runs the request on its runtime; `spawn` returns the running `Task` so PHP can keep
//!   many calls in flight and wait later (`Aerostack\all`);
//! - the engine never calls PHP: events, invocations, progress and log lines are pulled;
//! - handles created before `fork()` refuse use in the child with an error that says what to do.

#![cfg_attr(windows, feature(abi_vectorcall))]

mod client;
mod completion;
mod gateway_socket;
mod logs;
mod platform;
mod realtime;
mod stream;
mod worker;

use aerostack_bindings_common::{Error, ErrorDto};
use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use ext_php_rs::zend::ce;
use serde_json::Value;

/// The version of this extension (= the workspace version), used in the User-Agent.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `aerostack-php/<version>`: the User-Agent prefix of every request.
fn user_agent() -> String {
    format!("aerostack-php/{VERSION}")
}

/// Every engine failure. Its message is the surface's error object as JSON
/// (`{code, family, status, message, request_id, retryable, retry_after_ms, details, body}`);
/// the Composer package rethrows it as the `Aerostack\Exception\*` class of its `family`.
#[php_class]
#[php(name = "Aerostack\\Native\\NativeError")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct NativeError;

/// The surface's error object as a `NativeError`.
fn to_php(e: impl Into<ErrorDto>) -> PhpException {
    let d: ErrorDto = e.into();
    PhpException::from_class::<NativeError>(d.to_json().to_string())
}

/// JSON text from PHP.
fn parse_json(what: &str, text: &str) -> PhpResult<Value> {
    serde_json::from_str(text).map_err(|e| {
        to_php(Error::validation(
            what,
            format!("{what} is not valid JSON: {e}"),
        ))
    })
}

/// The engine's version.
#[php_function]
#[php(name = "Aerostack\\Native\\engine_version")]
pub fn engine_version() -> &'static str {
    aerostack_bindings_common::ENGINE_VERSION
}

/// This extension's version.
#[php_function]
#[php(name = "Aerostack\\Native\\version")]
pub fn version() -> &'static str {
    VERSION
}

/// The operation names `Client::call` accepts.
#[php_function]
#[php(name = "Aerostack\\Native\\operations")]
pub fn operations() -> Vec<String> {
    aerostack_bindings_common::ops::OPERATIONS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Both result-shape tables (`bindings_common::times` and `user_data`) as JSON,
/// `{"times": {type: [path]}, "user_data": {type: [path]}}`: `Aerostack\Shape` turns exactly the
/// listed times into `DateTimeImmutable` and camelCases every key outside the user's data.
#[php_function]
#[php(name = "Aerostack\\Native\\result_paths")]
pub fn result_paths() -> String {
    aerostack_bindings_common::user_data::result_paths().to_string()
}

/// The queue job type a function named `name` serves (`send_welcome_email` -> `send-welcome-email`).
#[php_function]
#[php(name = "Aerostack\\Native\\job_type_from_function_name")]
pub fn job_type_from_function_name(name: &str) -> String {
    aerostack_bindings_common::job_type_from_function_name(name)
}

/// Every waiting engine log line as `[client id, level, message]` (`debug` or `warning`; the id
/// is `Client::id()` of the client whose call it is), oldest first.
#[php_function]
#[php(name = "Aerostack\\Native\\drain_logs")]
pub fn drain_logs() -> Vec<Vec<Zval>> {
    logs::drain()
        .into_iter()
        .map(|(client, level, message)| {
            let mut id = Zval::new();
            id.set_long(client);
            let mut l = Zval::new();
            let mut m = Zval::new();
            // Strings without NUL bytes: these cannot fail.
            let _ = l.set_string(&level, false);
            let _ = m.set_string(&message, false);
            vec![id, l, m]
        })
        .collect()
}

/// `--rate-limit` specs and `--no-rate-limits` as `{name: [count, window_ms]}` JSON.
#[php_function]
#[php(name = "Aerostack\\Native\\rate_limits_from_flags")]
pub fn rate_limits_from_flags(specs: Vec<String>, no_rate_limits: bool) -> PhpResult<String> {
    platform::rate_limits_from_flags(&specs, no_rate_limits)
}

/// How PHP spells the engine's option names in error messages.
const NAMES: aerostack_bindings_common::naming::Names = &[
    (
        "CallOptions.timeout_ms",
        "the per-call option ['timeoutMs' => ...] (or $client->withOptions(timeoutMs: ...))",
    ),
    (
        "ClientConfig.timeout_ms",
        "new Aerostack\\Client(timeoutMs: ...)",
    ),
    ("ClientConfig.api_key", "new Aerostack\\Client(apiKey: ...)"),
    (
        "ClientConfig.project_id",
        "new Aerostack\\Client(projectId: ...)",
    ),
    (
        "CallOptions.idempotency_key",
        "the per-call option ['idempotencyKey' => ...]",
    ),
    (
        "CallOptions.headers",
        "the per-call option ['headers' => [...]]",
    ),
    (
        "RealtimeConfig::outbox_capacity",
        "$client->realtime->configure(outboxCapacity: ...)",
    ),
];

/// The engine's option names that appear in error messages, and PHP's spelling of each
/// (`[engine, php]` pairs; the PHP suite checks that every name has one).
#[php_function]
#[php(name = "Aerostack\\Native\\engine_option_names")]
pub fn engine_option_names() -> Vec<Vec<String>> {
    aerostack_bindings_common::naming::ENGINE_NAMES
        .iter()
        .map(|e| {
            vec![
                e.to_string(),
                NAMES
                    .iter()
                    .find(|(n, _)| n == e)
                    .map(|(_, p)| p.to_string())
                    .unwrap_or_default(),
            ]
        })
        .collect()
}

extern "C" fn module_startup(_ty: i32, _module_number: i32) -> i32 {
    // Only registrations here (no runtime, no threads): the runtime starts on the first call.
    aerostack_bindings_common::naming::install(NAMES);
    aerostack_bindings_common::naming::install_field_case(
        aerostack_bindings_common::naming::FieldCase::Camel,
    );
    aerostack_bindings_common::logs::install();
    0
}

#[php_module]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .name("aerostack")
        .version(VERSION)
        .startup_function(module_startup)
        .class::<NativeError>()
        .class::<completion::Task>()
        .class::<client::Client>()
        .class::<stream::Stream>()
        .class::<gateway_socket::GatewaySocket>()
        .class::<realtime::Realtime>()
        .class::<realtime::Channel>()
        .class::<worker::Worker>()
        .class::<worker::Invocation>()
        .class::<platform::LocalPlatform>()
        .function(wrap_function!(engine_version))
        .function(wrap_function!(version))
        .function(wrap_function!(operations))
        .function(wrap_function!(result_paths))
        .function(wrap_function!(job_type_from_function_name))
        .function(wrap_function!(engine_option_names))
        .function(wrap_function!(drain_logs))
        .function(wrap_function!(rate_limits_from_flags))
}
