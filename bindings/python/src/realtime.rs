//! Realtime for Python: `NativeRealtime` / `NativeChannel` over the engine's `RealtimeClient`, and
//! `NativeTask` (an engine future started at once, then awaited, waited for, or ignored).
//!
//! Type conversion only. Events are **pulled** by the Python package (`aerostack/_realtime.py`),
//! which runs the user's callbacks on its own event loop or thread: the engine never calls Python.

use std::future::Future;
use std::time::{Duration, Instant};

use aerostack::realtime::{Backoff, Channel, PublishOptions, RealtimeClient, RealtimeConfig};
use aerostack::{Error, ErrorCode};
use aerostack_bindings_common::{ProcessGuard, family_of, ops};
use pyo3::prelude::*;
use serde_json::Value;
use tokio::sync::watch;

use crate::{NativeClient, NativeError, awaitable, block_on, parse_json, runtime_err, to_pyerr};

/// The `NativeError` arguments (see `to_pyerr`), kept so one outcome can be handed out again.
type ErrArgs = Box<(
    String,
    String,
    Option<u16>,
    Option<String>,
    bool,
    Option<f64>,
    Option<String>,
    Option<String>,
    String,
)>;

fn err_args(e: &Error) -> ErrArgs {
    let code = e.code().as_str().to_string();
    let family = family_of(&code, e.status()).as_str().to_string();
    Box::new((
        e.message().to_string(),
        code,
        e.status(),
        e.request_id().map(str::to_string),
        e.retryable(),
        e.retry_after().map(|d| d.as_secs_f64()),
        e.details().map(|d| d.to_string()),
        e.body().map(str::to_string),
        family,
    ))
}

#[allow(clippy::boxed_local)] // the box is what the outcome stores
fn pyerr(a: ErrArgs) -> PyErr {
    PyErr::new::<NativeError, _>(*a)
}

fn seconds(what: &str, v: f64) -> PyResult<Duration> {
    if !(v.is_finite() && v >= 0.0) {
        return Err(to_pyerr(Error::validation(
            what,
            format!("{what} must be a non-negative number of seconds, got {v}"),
        )));
    }
    Ok(Duration::from_secs_f64(v))
}

type Outcome = Option<Result<String, ErrArgs>>;

/// An engine call already running on the engine's runtime: `wait` (GIL released), `wait_async`
/// (an asyncio awaitable), or neither (it completes anyway).
#[pyclass(module = "aerostack._native", frozen)]
pub(crate) struct NativeTask {
    rx: watch::Receiver<Outcome>,
    abort: tokio::task::AbortHandle,
}

impl NativeTask {
    fn spawn<F>(fut: F) -> PyResult<Self>
    where
        F: Future<Output = Result<Value, Error>> + Send + 'static,
    {
        let rt = aerostack_bindings_common::runtime().map_err(runtime_err)?;
        let (tx, rx) = watch::channel(None);
        let handle = rt.spawn(async move {
            let r = fut.await.map(|v| v.to_string()).map_err(|e| err_args(&e));
            tx.send_replace(Some(r));
        });
        Ok(NativeTask {
            rx,
            abort: handle.abort_handle(),
        })
    }
}

async fn settled(mut rx: watch::Receiver<Outcome>) -> Result<String, ErrArgs> {
    match rx.wait_for(Option::is_some).await {
        Ok(v) => v
            .clone()
            .unwrap_or_else(|| Err(err_args(&Error::cancelled()))),
        Err(_) => Err(err_args(&Error::cancelled())),
    }
}

#[pymethods]
impl NativeTask {
    /// True once the call finished (successfully or not).
    fn done(&self) -> bool {
        self.rx.borrow().is_some()
    }

    /// The JSON answer, waiting (GIL released) at most `timeout` seconds (None: no limit).
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<String> {
        let limit = timeout.map(|t| seconds("timeout", t)).transpose()?;
        let rx = self.rx.clone();
        let rt = aerostack_bindings_common::runtime().map_err(runtime_err)?;
        py.detach(move || {
            rt.block_on(async move {
                let start = Instant::now();
                let mut fut = std::pin::pin!(settled(rx));
                loop {
                    tokio::select! {
                        r = &mut fut => return r.map_err(pyerr),
                        _ = tokio::time::sleep(Duration::from_millis(50)) => {
                            Python::attach(|py| py.check_signals())?;
                            if let Some(l) = limit && start.elapsed() >= l {
                                return Err(to_pyerr(Error::new(
                                    ErrorCode::Timeout,
                                    format!("the realtime call did not finish within {l:?}"),
                                )));
                            }
                        }
                    }
                }
            })
        })
    }

    /// `wait` as an asyncio awaitable (cancelling it does not cancel the call).
    fn wait_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rx = self.rx.clone();
        awaitable(py, async move { settled(rx).await.map_err(pyerr) })
    }

    /// Drop the engine call (a publish not sent yet may still be sent).
    fn cancel(&self) {
        self.abort.abort();
    }
}

fn realtime_config(v: &Value) -> PyResult<RealtimeConfig> {
    let bad = |field: &str, want: &str| {
        to_pyerr(Error::validation(
            field,
            format!("realtime option `{field}` must be {want}"),
        ))
    };
    let o = v.as_object().ok_or_else(|| bad("options", "an object"))?;
    let mut cfg = RealtimeConfig::default();
    let mut backoff = Backoff::default();
    for (k, val) in o {
        if val.is_null() {
            continue;
        }
        let secs = || -> PyResult<Duration> {
            seconds(
                k,
                val.as_f64().ok_or_else(|| bad(k, "a number of seconds"))?,
            )
        };
        let count = || -> PyResult<u64> { val.as_u64().ok_or_else(|| bad(k, "a whole number")) };
        match k.as_str() {
            "heartbeat_interval" => cfg.heartbeat_interval = secs()?,
            "pong_timeout" => cfg.pong_timeout = secs()?,
            "connect_timeout" => cfg.connect_timeout = secs()?,
            "ack_timeout" => cfg.ack_timeout = secs()?,
            "backoff_initial" => backoff.initial = secs()?,
            "backoff_max" => backoff.max = secs()?,
            "backoff_factor" => backoff.factor = val.as_f64().ok_or_else(|| bad(k, "a number"))?,
            "max_reconnect_attempts" => {
                cfg.max_reconnect_attempts =
                    Some(u32::try_from(count()?).map_err(|_| bad(k, "a smaller number"))?)
            }
            "event_capacity" => cfg.event_capacity = count()? as usize,
            "outbox_capacity" => cfg.outbox_capacity = count()? as usize,
            "dedup_capacity" => cfg.dedup_capacity = count()? as usize,
            "catch_up" => cfg.catch_up = val.as_bool().ok_or_else(|| bad(k, "true or false"))?,
            "token" => cfg.token = Some(val.as_str().ok_or_else(|| bad(k, "a string"))?.into()),
            "user_id" => cfg.user_id = Some(val.as_str().ok_or_else(|| bad(k, "a string"))?.into()),
            other => {
                return Err(bad(
                    other,
                    "a known option (heartbeat_interval, pong_timeout, connect_timeout, ack_timeout, backoff_initial, backoff_max, backoff_factor, max_reconnect_attempts, event_capacity, outbox_capacity, dedup_capacity, catch_up, token, user_id); it is not one",
                ));
            }
        }
    }
    cfg.backoff = backoff;
    Ok(cfg)
}

fn event_json(ev: Option<aerostack::realtime::RealtimeEvent>) -> Option<String> {
    ev.and_then(|e| serde_json::to_string(&e).ok())
}

/// One realtime connection (socket, channels, event queue) of a `NativeClient`'s project.
#[pyclass(module = "aerostack._native", frozen)]
pub(crate) struct NativeRealtime {
    rt: RealtimeClient,
    guard: ProcessGuard,
}

impl NativeRealtime {
    fn rt(&self) -> PyResult<RealtimeClient> {
        self.guard.check().map_err(runtime_err)?;
        Ok(self.rt.clone())
    }
}

#[pymethods]
impl NativeRealtime {
    /// `options_json`: RealtimeConfig fields (durations in seconds), see `realtime_config`.
    #[new]
    #[pyo3(signature = (client, options_json="{}"))]
    fn new(client: &NativeClient, options_json: &str) -> PyResult<Self> {
        let c = client.client()?;
        let cfg = realtime_config(&parse_json("options", options_json)?)?;
        Ok(NativeRealtime {
            rt: c.realtime_with(cfg),
            guard: ProcessGuard::new(),
        })
    }

    /// The socket URL.
    #[getter]
    fn url(&self) -> String {
        self.rt.url().to_string()
    }

    /// idle, connecting, connected, reconnecting or disconnected.
    #[getter]
    fn status(&self) -> String {
        serde_json::to_value(self.rt.status())
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Events dropped because they were not pulled fast enough.
    #[getter]
    fn dropped_events(&self) -> u64 {
        self.rt.dropped_events()
    }

    /// Open the socket; the task resolves (null) once connected.
    fn connect(&self) -> PyResult<NativeTask> {
        let rt = self.rt()?;
        NativeTask::spawn(async move { rt.connect().await.map(|_| Value::Null) })
    }

    /// Close the socket and stop reconnecting (channels are kept for a later `connect`).
    fn disconnect(&self) -> PyResult<NativeTask> {
        let rt = self.rt()?;
        NativeTask::spawn(async move {
            rt.disconnect().await;
            Ok(Value::Null)
        })
    }

    /// The channel of `topic` (subscribed on the current or next socket).
    fn channel(&self, topic: &str) -> PyResult<NativeChannel> {
        let rt = self.rt()?;
        let runtime = aerostack_bindings_common::runtime().map_err(runtime_err)?;
        let _entered = runtime.enter();
        Ok(NativeChannel {
            ch: rt.channel(topic),
        })
    }

    /// Replace the end-user token (sent in-band on a live socket).
    fn set_token(&self, token: &str) -> PyResult<()> {
        self.rt()?.set_token(token);
        Ok(())
    }

    /// The next event as JSON, waiting (GIL released) at most `timeout` seconds (None: until
    /// one arrives); None on timeout or once the client is closed.
    #[pyo3(signature = (timeout=None))]
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<String>> {
        let rt = self.rt()?;
        let limit = timeout.map(|t| seconds("timeout", t)).transpose()?;
        block_on(py, move || async move {
            let ev = match limit {
                Some(d) => rt.next_event_timeout(d).await,
                None => rt.next_event().await,
            };
            Ok::<_, Error>(event_json(ev))
        })
    }

    /// `next_event()` as an awaitable (cancelling it drops the wait, never an event).
    fn next_event_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rt = self.rt()?;
        awaitable(py, async move { Ok(event_json(rt.next_event().await)) })
    }

    /// The next event if one is waiting.
    fn try_next_event(&self) -> PyResult<Option<String>> {
        Ok(event_json(self.rt()?.try_next_event()))
    }
}

/// One topic of a `NativeRealtime`.
#[pyclass(module = "aerostack._native", frozen)]
pub(crate) struct NativeChannel {
    ch: Channel,
}

#[pymethods]
impl NativeChannel {
    /// The full topic (the platform's, once confirmed).
    #[getter]
    fn topic(&self) -> String {
        self.ch.topic()
    }

    /// True while the platform confirmed the subscription on the current socket.
    #[getter]
    fn is_subscribed(&self) -> bool {
        self.ch.is_subscribed()
    }

    /// Register a listener filter; events it matches carry the returned id in `listeners`.
    fn on(&self, event: &str) -> u64 {
        self.ch.on(event)
    }

    /// Remove a listener; false if unknown.
    fn off(&self, id: u64) -> bool {
        self.ch.off(id)
    }

    /// Publish (started at once); the task resolves to the ack JSON `{id, timestamp, persisted}`.
    #[pyo3(signature = (event, data_json, persist=false, timeout=None))]
    fn publish(
        &self,
        event: &str,
        data_json: &str,
        persist: bool,
        timeout: Option<f64>,
    ) -> PyResult<NativeTask> {
        let data = parse_json("data", data_json)?;
        let options = PublishOptions {
            persist,
            timeout: timeout.map(|t| seconds("timeout", t)).transpose()?,
        };
        let ch = self.ch.clone();
        let event = event.to_string();
        NativeTask::spawn(async move {
            let ack = ch.publish(&event, data, options).await?;
            serde_json::to_value(ack)
                .map_err(|e| Error::new(ErrorCode::Other("ENCODE".into()), e.to_string()))
        })
    }

    /// Be present with `state_json` (an object).
    fn track(&self, state_json: &str) -> PyResult<()> {
        self.ch
            .track(parse_json("state", state_json)?)
            .map_err(to_pyerr)
    }

    /// Stop being present.
    fn untrack(&self) -> PyResult<()> {
        self.ch.untrack().map_err(to_pyerr)
    }

    /// Everyone present, JSON list of `{key, state, userId, joinedAt}`.
    fn presence(&self) -> String {
        serde_json::to_string(&self.ch.presence()).unwrap_or_else(|_| "[]".into())
    }

    /// What this client tracks here (JSON), if anything.
    fn tracked(&self) -> Option<String> {
        self.ch.tracked().map(|v| v.to_string())
    }

    /// Persisted messages, newest first; the task resolves to a JSON list.
    #[pyo3(signature = (limit=None, before=None))]
    fn history(&self, limit: Option<u32>, before: Option<i64>) -> PyResult<NativeTask> {
        let ch = self.ch.clone();
        NativeTask::spawn(async move {
            let list = ch.history(limit, before).await?;
            serde_json::to_value(list)
                .map_err(|e| Error::new(ErrorCode::Other("ENCODE".into()), e.to_string()))
        })
    }

    /// Leave the topic.
    fn unsubscribe(&self) -> PyResult<()> {
        self.ch.unsubscribe().map_err(to_pyerr)
    }
}

/// Operation `op` started at once on the engine's runtime (what `call_async` does, without
/// needing a running event loop): `client.socket.emit` uses it.
#[pyfunction]
fn spawn_call(client: &NativeClient, op: &str, args_json: &str) -> PyResult<NativeTask> {
    let c = client.client()?;
    let args = parse_json("args", args_json)?;
    let op = op.to_string();
    NativeTask::spawn(async move { ops::dispatch(&c, &op, args).await })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeTask>()?;
    m.add_class::<NativeRealtime>()?;
    m.add_class::<NativeChannel>()?;
    m.add_function(wrap_pyfunction!(spawn_call, m)?)?;
    Ok(())
}
