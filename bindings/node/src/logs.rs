//! Engine log lines (retries) for the package's debug logger, pulled on the JS thread: the surface
//! queues them (`bindings_common::logs`). The package drains them with [`drain_logs`] when a
//! settled call says some wait (its text starts with `"2"`/`"3"`), and when the surface wakes it
//! through [`on_logs_pending`] while a call still waits (a long `Retry-After` is logged at once,
//! not when the call ends).

use aerostack_bindings_common::logs;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;

/// Every waiting line as `[level, message]`, oldest first.
#[napi(catch_unwind)]
pub fn drain_logs() -> Vec<Vec<String>> {
    logs::drain()
        .into_iter()
        .map(|l| vec![l.level.as_str().to_string(), l.message])
        .collect()
}

/// Registers `wake` (the package's drain) to run on the JS thread when lines start waiting. The
/// threadsafe function is weak: it never keeps the process alive. The first call wins.
#[napi(catch_unwind)]
pub fn on_logs_pending(wake: Function<(), ()>) -> Result<()> {
    let tsfn = wake
        .build_threadsafe_function::<()>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    // On an engine thread: only queues the call to the JS thread (BRIEF §5).
    logs::on_pending(move || {
        let _ = tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
    });
    Ok(())
}
