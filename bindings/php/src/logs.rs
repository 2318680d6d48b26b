//! Engine log lines (retries) for the logger given in the PHP client's options: the surface
//! queues them (`bindings_common::logs`); PHP drains them after calls and between the slices of
//! its waits, and writes each through the logger of the client whose call it is (PSR-3 style,
//! duck-typed; `LogLine::client` = `ClientHandle::id`) on its own thread.

use aerostack_bindings_common::logs;

/// Every waiting line as `[level, message]` (`debug` or `warning`), oldest first; `[]` at once
/// when none waits (one atomic load).
pub fn drain() -> Vec<(i64, String, String)> {
    if !logs::pending() {
        return Vec::new();
    }
    logs::drain()
        .into_iter()
        .map(|l| (l.client as i64, l.level.as_str().to_string(), l.message))
        .collect()
}
