//! The worker: one WebSocket to the platform's `/api/workers`, re-connected (backoff with full
//! jitter) and re-registered after every drop. Invocations land in a bounded queue that the host
//! pulls (`next_invocation`) and settles (`complete` / `fail`): the engine never calls user code
//! from its own threads (BRIEF §5), so every language binding drives this loop on its own terms.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_util::sync::CancellationToken;

use super::frames::{Incoming, InvocationKind, JobType, Module, Outgoing};
use super::scoped::Sdk;
use crate::client::Client;
use crate::config::ClientConfig;
use crate::error::{Error, ErrorCode, Result};

/// Locks a mutex, ignoring poisoning: no critical section here can panic half-way.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How often the worker pings; a socket silent for three intervals is considered dead.
const PING_EVERY: Duration = Duration::from_secs(15);
/// How long `drain` waits for the platform's `draining` answer.
const DRAIN_ACK_WAIT: Duration = Duration::from_secs(5);

/// What a worker serves and how it behaves.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Logic Modules (custom APIs, event handlers).
    pub modules: Vec<Module>,
    /// Queue job types.
    pub jobs: Vec<JobType>,
    /// Most queue jobs in flight at once (default 4). Custom calls are not limited by it.
    pub concurrency: u32,
    /// Capacity of the local invocation queue (default 64); when full, the worker stops reading
    /// from the socket until the host pulls.
    pub queue_capacity: usize,
    /// Label shown in the platform's logs.
    pub label: Option<String>,
    /// First reconnect delay (default 100 ms); doubles up to `reconnect_max`, with full jitter.
    pub reconnect_initial: Duration,
    /// Longest reconnect delay (default 5 s).
    pub reconnect_max: Duration,
    /// How long [`Worker::connect`] waits for the first registration (default 10 s).
    pub connect_timeout: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            modules: Vec::new(),
            jobs: Vec::new(),
            concurrency: 4,
            queue_capacity: 64,
            label: None,
            reconnect_initial: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl WorkerOptions {
    /// Empty options with the defaults.
    pub fn new() -> WorkerOptions {
        WorkerOptions::default()
    }

    /// Serve a module.
    pub fn module(mut self, module: Module) -> Self {
        self.modules.push(module);
        self
    }

    /// Consume jobs of a type.
    pub fn job(mut self, job: JobType) -> Self {
        self.jobs.push(job);
        self
    }

    /// Consume the jobs served by a function named `name` (`send_welcome_email` ->
    /// `send-welcome-email`).
    pub fn job_fn(self, name: &str) -> Self {
        self.job(JobType::from_function_name(name))
    }

    /// Most jobs in flight at once.
    pub fn concurrency(mut self, n: u32) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Label shown in the platform's logs.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
}

/// One call to user code, pulled with [`Worker::next_invocation`].
#[derive(Debug)]
pub struct Invocation {
    /// Id to pass to [`Worker::complete`] / [`Worker::fail`].
    pub id: String,
    /// Custom API, service, event or job.
    pub kind: InvocationKind,
    /// Module slug, or job type.
    pub name: String,
    /// The project the invocation belongs to.
    pub project_id: String,
    /// The handler's second argument: `{event, timestamp, data, project_id, ...}` for modules,
    /// `{id, type, data, attempt, max_retries, ...}` for jobs.
    pub event: Value,
    /// How long the platform waits for the answer.
    pub timeout: Duration,
    /// Unix ms after which the platform stops waiting.
    pub deadline_ms: i64,
    scope_token: String,
    sdk: Sdk,
    cancel: CancellationToken,
}

impl Invocation {
    /// The scoped sdk for this invocation's project.
    pub fn sdk(&self) -> &Sdk {
        &self.sdk
    }

    /// The scope token (for bindings that build their own sdk object over the engine).
    pub fn scope_token(&self) -> &str {
        &self.scope_token
    }

    /// The request or job payload (`event.data`).
    pub fn data(&self) -> &Value {
        &self.event["data"]
    }

    /// Whether the platform gave up on this invocation (timeout, or its connection dropped).
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Resolves when the platform gives up on this invocation.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// Everything a binding needs, as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "project_id": self.project_id,
            "event": self.event,
            "timeout_ms": self.timeout.as_millis() as u64,
            "deadline_ms": self.deadline_ms,
            "scope_token": self.scope_token,
        })
    }
}

struct InFlight {
    deadline: Instant,
    cancel: CancellationToken,
}

struct Shared {
    client: Client,
    api_key: String,
    ws_url: String,
    options: WorkerOptions,
    fetch_http: reqwest::Client,
    /// Frames for the current connection's writer; `None` while disconnected.
    out: Mutex<Option<mpsc::UnboundedSender<Message>>>,
    in_flight: Mutex<HashMap<String, InFlight>>,
    draining: AtomicBool,
    drain_ack: Notify,
    /// From the last `registered` frame.
    project_id: Mutex<Option<String>>,
    /// Ends the connection loop (drain finished).
    stop: CancellationToken,
}

/// A connected worker. Dropping it closes the connection at once (in-flight jobs are then
/// redelivered by the platform); [`Worker::drain`] is the graceful way.
pub struct Worker {
    shared: Arc<Shared>,
    rx: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("url", &self.shared.ws_url)
            .field("modules", &self.shared.options.modules.len())
            .field("jobs", &self.shared.options.jobs.len())
            .finish()
    }
}

/// `http://host:port/v1` -> `ws://host:port/api/workers`.
pub fn worker_url(base_url: &str) -> Result<String> {
    let base = base_url.trim_end_matches('/');
    let base = base.strip_suffix("/v1").unwrap_or(base);
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        return Err(Error::invalid_config(format!(
            "base_url {base_url:?} must start with http:// or https://"
        )));
    };
    Ok(format!("{ws}/api/workers"))
}

impl Worker {
    /// Connects to the platform of `config` with its API key, registers what `options` serves,
    /// and returns once the platform confirmed the registration. Fails with the platform's error
    /// (e.g. `AUTH_INVALID_KEY`, `VALIDATION_ERROR` naming a bad module) or `NETWORK_ERROR`.
    pub async fn connect(config: ClientConfig, options: WorkerOptions) -> Result<Worker> {
        let resolved = config.resolve()?;
        let api_key = resolved.api_key.clone().ok_or_else(|| {
            Error::invalid_config(
                "a worker needs the project's API key: set ClientConfig.api_key or AEROSTACK_API_KEY",
            )
        })?;
        if options.modules.is_empty() && options.jobs.is_empty() {
            return Err(Error::validation(
                "options",
                "a worker must serve at least one module or job type: add WorkerOptions::module(..) or ::job(..)",
            ));
        }
        let ws_url = worker_url(&resolved.base_url)?;
        let client = Client::new(config)?;
        let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
        let connect_timeout = options.connect_timeout;
        let shared = Arc::new(Shared {
            client,
            api_key,
            ws_url,
            options,
            fetch_http: super::fetch::http_client()?,
            out: Mutex::new(None),
            in_flight: Mutex::new(HashMap::new()),
            draining: AtomicBool::new(false),
            drain_ack: Notify::new(),
            project_id: Mutex::new(None),
            stop: CancellationToken::new(),
        });
        let (first_tx, first_rx) = oneshot::channel();
        let task = tokio::spawn(run(shared.clone(), tx, first_tx));
        let worker = Worker {
            shared,
            rx: tokio::sync::Mutex::new(rx),
            task,
        };
        match tokio::time::timeout(connect_timeout, first_rx).await {
            Ok(Ok(Ok(()))) => Ok(worker),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(Error::new(
                ErrorCode::NetworkError,
                "the worker stopped before registering",
            )),
            Err(_) => Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "the platform did not confirm the worker's registration within {} ms ({})",
                    connect_timeout.as_millis(),
                    worker.shared.ws_url
                ),
            )),
        }
    }

    /// The worker's own client (the project's key).
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// The id of the project the worker serves (known once registered).
    pub fn project_id(&self) -> Option<String> {
        lock(&self.shared.project_id).clone()
    }

    /// The next invocation; `None` once the worker is drained or stopped.
    pub async fn next_invocation(&self) -> Option<Invocation> {
        self.rx.lock().await.recv().await
    }

    /// Like [`Worker::next_invocation`], giving up after `timeout` (then `None`; tell it from
    /// the end of the worker with [`Worker::is_closed`]).
    pub async fn next_invocation_timeout(&self, timeout: Duration) -> Option<Invocation> {
        tokio::time::timeout(timeout, self.next_invocation())
            .await
            .ok()
            .flatten()
    }

    /// Whether the worker stopped (drained, or its task ended).
    pub fn is_closed(&self) -> bool {
        self.task.is_finished()
    }

    /// Answer invocation `id` with `result` (the custom API's JSON body, or the job's result).
    pub fn complete(&self, id: &str, result: Value) -> Result<()> {
        self.settle(
            id,
            &Outgoing::Complete {
                id,
                result: &result,
            },
        )
    }

    /// Fail invocation `id`: a custom API answers 500 `HOOK_FAILED` with `message`; a job is
    /// retried with backoff, then dead-lettered.
    pub fn fail(&self, id: &str, message: &str) -> Result<()> {
        self.settle(id, &Outgoing::Fail { id, error: message })
    }

    fn settle(&self, id: &str, frame: &Outgoing<'_>) -> Result<()> {
        lock(&self.shared.in_flight).remove(id);
        let text = serde_json::to_string(frame)
            .map_err(|e| Error::validation("result", format!("the result is not JSON: {e}")))?;
        match lock(&self.shared.out).as_ref() {
            Some(out) if out.send(Message::Text(text.into())).is_ok() => Ok(()),
            _ => Err(Error::new(
                ErrorCode::NetworkError,
                format!(
                    "invocation {id}: not connected to the platform, the answer is lost (a job is redelivered; a custom API caller already got an error)"
                ),
            )),
        }
    }

    /// Graceful shutdown: the platform stops sending work, the host finishes what it already
    /// received (keep pulling and completing until `next_invocation` yields `None`), then the
    /// connection closes. Invocations past their deadline are not waited for.
    pub async fn drain(&self) {
        let s = &self.shared;
        if !s.draining.swap(true, Ordering::SeqCst) {
            let frame = serde_json::to_string(&Outgoing::Drain).unwrap_or_default();
            let sent = lock(&s.out)
                .as_ref()
                .is_some_and(|o| o.send(Message::Text(frame.into())).is_ok());
            if sent {
                let _ = tokio::time::timeout(DRAIN_ACK_WAIT, s.drain_ack.notified()).await;
            }
        }
        loop {
            let busy = {
                let now = Instant::now();
                let mut f = lock(&s.in_flight);
                f.retain(|_, v| v.deadline > now && !v.cancel.is_cancelled());
                !f.is_empty()
            };
            if !busy || self.task.is_finished() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        s.stop.cancel();
        // The connection task closes the socket and ends; the queue then yields `None`.
        while !self.task.is_finished() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Worker {
    /// [`Worker::drain`] with a deadline: after `grace` the connection closes even if
    /// invocations are still running. Their answers are then lost: a job is redelivered to
    /// another worker, a custom API caller gets `503`.
    pub async fn stop(&self, grace: Duration) {
        if tokio::time::timeout(grace, self.drain()).await.is_err() {
            self.shared.stop.cancel();
            while !self.task.is_finished() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The connection loop: connect, serve until the socket drops, wait, repeat; until drained.
async fn run(
    shared: Arc<Shared>,
    tx: mpsc::Sender<Invocation>,
    first: oneshot::Sender<Result<()>>,
) {
    let mut first = Some(first);
    let mut attempt: u32 = 0;
    loop {
        if shared.stop.is_cancelled() {
            return;
        }
        match open(&shared).await {
            Ok(ws) => {
                let registered = serve(&shared, ws, &tx, &mut first).await;
                *lock(&shared.out) = None;
                // The platform failed this connection's calls and requeued its jobs: nothing
                // waits for their answers any more.
                for (_, f) in lock(&shared.in_flight).drain() {
                    f.cancel.cancel();
                }
                if registered {
                    attempt = 0;
                }
            }
            Err(e) => {
                if let Some(f) = first.take() {
                    let _ = f.send(Err(e));
                    return;
                }
                tracing::warn!("worker: reconnect failed: {}", e.message());
            }
        }
        if shared.stop.is_cancelled() || shared.draining.load(Ordering::SeqCst) {
            return;
        }
        let cap = shared
            .options
            .reconnect_initial
            .saturating_mul(1u32 << attempt.min(16))
            .min(shared.options.reconnect_max);
        let wait = cap
            .mul_f64(rand::random::<f64>())
            .max(Duration::from_millis(10));
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.stop.cancelled() => return,
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(shared: &Shared) -> Result<Ws> {
    let mut req = shared
        .ws_url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::invalid_config(format!("worker URL {}: {e}", shared.ws_url)))?;
    let key = HeaderValue::from_str(&shared.api_key).map_err(|_| {
        Error::invalid_config("the API key contains characters not allowed in a header")
    })?;
    req.headers_mut().insert("x-aerostack-key", key);
    // The SDK and its language (`aerostack-python/...`), for the platform's dashboard.
    if let Some(ua) = shared
        .client
        .inner
        .default_headers
        .get(reqwest::header::USER_AGENT)
    {
        req.headers_mut()
            .insert(reqwest::header::USER_AGENT, ua.clone());
    }
    let connect = tokio_tungstenite::connect_async(req);
    match tokio::time::timeout(shared.options.connect_timeout, connect).await {
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(resp))) => {
            let status = resp.status().as_u16();
            let body = resp
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let code = parsed["code"]
                .as_str()
                .map(ErrorCode::parse)
                .unwrap_or(ErrorCode::NetworkError);
            let message = parsed["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "the platform refused the worker connection to {} with HTTP {status}",
                        shared.ws_url
                    )
                });
            Err(Error::new(code, message))
        }
        Ok(Err(e)) => Err(Error::new(
            ErrorCode::NetworkError,
            format!("could not connect the worker to {}: {e}", shared.ws_url),
        )),
        Err(_) => Err(Error::new(
            ErrorCode::Timeout,
            format!("connecting the worker to {} timed out", shared.ws_url),
        )),
    }
}

/// Serve one connection until it drops or the worker stops. Returns whether it registered.
async fn serve(
    shared: &Arc<Shared>,
    ws: Ws,
    tx: &mpsc::Sender<Invocation>,
    first: &mut Option<oneshot::Sender<Result<()>>>,
) -> bool {
    let (mut sink, mut stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
    let o = &shared.options;
    let register = Outgoing::Register {
        modules: &o.modules,
        jobs: &o.jobs,
        concurrency: o.concurrency.max(1),
        worker: o.label.as_deref(),
    };
    let _ = out_tx.send(Message::Text(
        serde_json::to_string(&register).unwrap_or_default().into(),
    ));
    *lock(&shared.out) = Some(out_tx.clone());
    let mut registered = false;

    // Writer and reader in one task, so aborting the worker drops the whole socket at once.
    let writer = async {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            let msg = tokio::select! {
                m = out_rx.recv() => match m { Some(m) => m, None => break },
                _ = ping.tick() => Message::Ping(Default::default()),
                _ = shared.stop.cancelled() => {
                    // Answers settled just before the stop are still queued here: send them
                    // before closing, or their callers get a 503 for work that was done.
                    while let Ok(m) = out_rx.try_recv() {
                        if sink.send(m).await.is_err() {
                            break;
                        }
                    }
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
            };
            if sink.send(msg).await.is_err() {
                break;
            }
        }
    };
    let reader = async {
        loop {
            let next = tokio::time::timeout(PING_EVERY * 3, stream.next()).await;
            let text = match next {
                Ok(Some(Ok(Message::Text(t)))) => t,
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => break,
                Ok(Some(Ok(_))) => continue,
                Err(_) => {
                    tracing::warn!(
                        "worker: no frame from the platform for {:?}; reconnecting",
                        PING_EVERY * 3
                    );
                    break;
                }
            };
            let frame = match serde_json::from_str::<Incoming>(&text) {
                Ok(f) => f,
                Err(e) => {
                    tracing::warn!("worker: unreadable frame from the platform ({e})");
                    continue;
                }
            };
            match frame {
                Incoming::Registered { project_id } => {
                    registered = true;
                    tracing::debug!(%project_id, "worker registered");
                    *lock(&shared.project_id) = Some(project_id);
                    if let Some(f) = first.take() {
                        let _ = f.send(Ok(()));
                    }
                }
                Incoming::Invoke(inv) => {
                    let cancel = CancellationToken::new();
                    let timeout = Duration::from_millis(inv.timeout_ms);
                    lock(&shared.in_flight).insert(
                        inv.id.clone(),
                        InFlight {
                            deadline: Instant::now() + timeout,
                            cancel: cancel.clone(),
                        },
                    );
                    let sdk = Sdk::new(
                        &shared.client,
                        &inv.scope_token,
                        &inv.project_id,
                        shared.fetch_http.clone(),
                    );
                    let invocation = Invocation {
                        id: inv.id,
                        kind: inv.kind,
                        name: inv.name,
                        project_id: inv.project_id,
                        event: inv.event,
                        timeout,
                        deadline_ms: inv.deadline_ms,
                        scope_token: inv.scope_token,
                        sdk,
                        cancel,
                    };
                    // Bounded: a slow host makes us stop reading, never lose an invocation.
                    if tx.send(invocation).await.is_err() {
                        break;
                    }
                }
                Incoming::Cancel { id, reason } => {
                    tracing::debug!(%id, %reason, "worker: invocation cancelled by the platform");
                    if let Some(f) = lock(&shared.in_flight).remove(&id) {
                        f.cancel.cancel();
                    }
                }
                Incoming::Draining => shared.drain_ack.notify_one(),
                Incoming::Pong => {}
                Incoming::Error { code, message } => {
                    tracing::warn!(%code, "worker: the platform refused a frame: {message}");
                    if !registered && let Some(f) = first.take() {
                        let _ = f.send(Err(Error::new(ErrorCode::parse(&code), message)));
                        return;
                    }
                }
            }
        }
    };
    tokio::select! {
        _ = writer => {}
        _ = reader => {}
        // Backstop: the writer flushes and closes on stop; a socket that no longer accepts
        // writes must not hold the shutdown up.
        _ = async {
            shared.stop.cancelled().await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        } => {}
    }
    registered
}
