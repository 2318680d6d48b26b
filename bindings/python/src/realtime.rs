//! `NativeRealtime` / `NativeChannel`: the surface's `RealtimeHandle` / `ChannelHandle`.
//!
//! Events are pulled by the Python package (`aerostack/_realtime.py`), which runs the user's
//! callbacks on its own loop or thread: the engine never calls Python. Calls that wait start at
//! once as a `NativeTask` (await it, wait for it, or ignore it).

use aerostack_bindings_common::{ChannelHandle, RealtimeHandle};
use pyo3::prelude::*;

use crate::client::NativeClient;
use crate::completion::{NativeCall, NativePort, NativeTask, block_on, submit};
use crate::{parse_json, to_pyerr};

fn text(v: Option<serde_json::Value>) -> Option<String> {
    v.map(|v| v.to_string())
}

/// One realtime connection (socket, channels, event queue) of a `NativeClient`'s project.
#[pyclass(module = "aerostack._native", frozen)]
pub struct NativeRealtime {
    h: RealtimeHandle,
}

#[pymethods]
impl NativeRealtime {
    /// `options_json`: the surface's realtime options (durations in ms).
    #[new]
    #[pyo3(signature = (client, options_json="{}"))]
    fn new(client: &NativeClient, options_json: &str) -> PyResult<Self> {
        Ok(NativeRealtime { h: client.h.realtime(parse_json("options", options_json)?).map_err(to_pyerr)? })
    }

    /// The socket URL.
    #[getter]
    fn url(&self) -> String {
        self.h.url().to_string()
    }

    /// idle, connecting, connected, reconnecting or disconnected.
    #[getter]
    fn status(&self) -> String {
        self.h.status()
    }

    /// Events dropped because they were not pulled fast enough.
    #[getter]
    fn dropped_events(&self) -> u64 {
        self.h.dropped_events()
    }

    /// Open the socket; the task resolves (null) once connected.
    fn connect(&self) -> PyResult<NativeTask> {
        NativeTask::spawn(self.h.connect())
    }

    /// Close the socket and stop reconnecting (channels are kept for a later `connect`).
    fn disconnect(&self) -> PyResult<NativeTask> {
        NativeTask::spawn(self.h.disconnect())
    }

    /// The channel of `topic` (subscribed on the current or next socket); `filter_json` a
    /// table topic's row filter replacing the channel's (`null`: leave it).
    fn channel(&self, topic: &str, filter_json: &str) -> PyResult<NativeChannel> {
        Ok(NativeChannel { h: self.h.channel(topic, parse_json("filter", filter_json)?).map_err(to_pyerr)? })
    }

    /// A chat message to room `room_id` (`metadata_json`: an object's JSON, or `null`).
    fn send_chat(&self, room_id: &str, text: &str, metadata_json: &str) -> PyResult<()> {
        self.h.send_chat(room_id, text, parse_json("metadata", metadata_json)?).map_err(to_pyerr)
    }

    /// Replace the end-user token (sent in-band on a live socket).
    fn set_token(&self, token: &str) -> PyResult<()> {
        self.h.set_token(token).map_err(to_pyerr)
    }

    /// The next event as JSON, waiting (GIL released) at most `timeout_ms` (None: until one
    /// arrives); None on timeout or once the connection is closed.
    #[pyo3(signature = (timeout_ms=None))]
    fn next_event(&self, py: Python<'_>, timeout_ms: Option<u64>) -> PyResult<Option<String>> {
        let next = self.h.next_event(timeout_ms);
        block_on(py, next.map(|f| async move { f.await.map(text) }))
    }

    /// `next_event` on the port (cancelling it drops the wait, never an event).
    #[pyo3(signature = (port, fut, timeout_ms=None))]
    fn next_event_async(&self, port: &NativePort, fut: Py<PyAny>, timeout_ms: Option<u64>) -> PyResult<NativeCall> {
        let next = self.h.next_event(timeout_ms);
        submit(port, fut, next.map(|f| async move { f.await.map(text) }))
    }

    /// The next event if one is waiting.
    fn try_next_event(&self) -> PyResult<Option<String>> {
        Ok(text(self.h.try_next_event().map_err(to_pyerr)?))
    }
}

/// One topic of a `NativeRealtime`.
#[pyclass(module = "aerostack._native", frozen)]
pub struct NativeChannel {
    h: ChannelHandle,
}

#[pymethods]
impl NativeChannel {
    /// The full topic (the platform's, once confirmed).
    #[getter]
    fn topic(&self) -> String {
        self.h.topic()
    }

    /// True while the platform confirmed the subscription on the current socket.
    #[getter]
    fn is_subscribed(&self) -> bool {
        self.h.is_subscribed()
    }

    /// Started at once: resolves once the platform confirmed the subscription, fails with its
    /// refusal, or with TIMEOUT after `timeout_ms`.
    fn wait_subscribed(&self, timeout_ms: u64) -> PyResult<NativeTask> {
        NativeTask::spawn(self.h.wait_subscribed(timeout_ms))
    }

    /// Register a listener filter; events it matches carry the returned id in `listeners`.
    fn on(&self, event: &str) -> u64 {
        self.h.on(event)
    }

    /// Remove a listener; false if unknown.
    fn off(&self, id: u64) -> bool {
        self.h.off(id)
    }

    /// Publish (started at once); resolves to the ack `{id, timestamp, persisted}`.
    /// `options_json`: `{persist, timeout_ms}`.
    #[pyo3(signature = (event, data_json, options_json="{}"))]
    fn publish(&self, event: &str, data_json: &str, options_json: &str) -> PyResult<NativeTask> {
        NativeTask::spawn(self.h.publish(event, parse_json("data", data_json)?, parse_json("options", options_json)?))
    }

    /// Be present with `state_json` (an object).
    fn track(&self, state_json: &str) -> PyResult<()> {
        self.h.track(parse_json("state", state_json)?).map_err(to_pyerr)
    }

    /// Stop being present.
    fn untrack(&self) -> PyResult<()> {
        self.h.untrack().map_err(to_pyerr)
    }

    /// Everyone present, as JSON.
    fn presence(&self) -> String {
        self.h.presence().to_string()
    }

    /// What this client tracks here (JSON), if anything.
    fn tracked(&self) -> Option<String> {
        self.h.tracked().map(|v| v.to_string())
    }

    /// Persisted messages, newest first (started at once; a JSON list).
    #[pyo3(signature = (limit=None, before=None))]
    fn history(&self, limit: Option<u32>, before: Option<i64>) -> PyResult<NativeTask> {
        NativeTask::spawn(self.h.history(limit, before))
    }

    /// Leave the topic.
    fn unsubscribe(&self) -> PyResult<()> {
        self.h.unsubscribe().map_err(to_pyerr)
    }
}
