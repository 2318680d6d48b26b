//! Engine log lines (retries) for the package's debug logger, pulled on the JS thread: the surface
//! queues them (`bindings_common::logs`); a settled call whose text starts with `"2"`/`"3"` tells
//! the package to call [`drain_logs`] and write them (`AEROSTACK_LOG=debug`).

use napi_derive::napi;

/// Every waiting line as `[level, message]`, oldest first.
#[napi(catch_unwind)]
pub fn drain_logs() -> Vec<Vec<String>> {
    aerostack_bindings_common::logs::drain().into_iter().map(|l| vec![l.level.as_str().to_string(), l.message]).collect()
}
