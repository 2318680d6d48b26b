//! Engine log lines (retries), pulled by the host for its logger (Go: the Config's slog.Logger).

use std::ffi::c_char;

use aerostack_bindings_common::logs;
use serde_json::json;

use crate::{c_string, ffi, write};

/// Starts collecting the engine's log lines (idempotent).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_logs_install() {
    let _ = std::panic::catch_unwind(logs::install);
}

/// Whether lines wait (cheap: one atomic load).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_logs_pending() -> bool {
    logs::pending()
}

/// Every waiting line, oldest first, as a JSON array of `{client, level, message}` (`client` is
/// the `aerostack_client_id` of the client whose call it is; `level` is `debug` or `warning`;
/// free the string).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_logs_drain(out: *mut *mut c_char, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        let lines: Vec<_> = logs::drain().into_iter().map(|l| json!({"client": l.client, "level": l.level.as_str(), "message": l.message})).collect();
        write(out, c_string(serde_json::Value::Array(lines).to_string()))
    })
}
