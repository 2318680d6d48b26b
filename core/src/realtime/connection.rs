//! The connection task: open the socket, (re)subscribe, pump frames both ways, heartbeat, catch
//! up after a gap, and reconnect with backoff until stopped.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use http::HeaderValue;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{WebSocketStream, tungstenite};
use tokio_util::sync::CancellationToken;

use super::frames::{self, Incoming};
use super::state::{Outgoing, PublishAck, Shared};
use super::{ConnectionStatus, EventKind, RealtimeEvent};
use crate::error::{Error, ErrorCode};
use crate::services::realtime_history::HistoryMessage;

type Ws = WebSocketStream<super::socket::Stream>;

/// History page size during catch-up, and the most messages fetched per topic per gap.
const PAGE: u32 = 200;
const MAX_CATCH_UP: usize = 10_000;

enum OpenError {
    /// Worth retrying (network, 5xx, timeout).
    Retry(String),
    /// Retrying cannot help (401/403: bad key or token).
    Fatal(String),
}

/// Why a session ended.
enum End {
    Stopped,
    Lost(String),
}

pub(crate) async fn run(shared: Arc<Shared>, stop: CancellationToken) {
    let mut failures: u32 = 0;
    let mut ever_connected = false;
    loop {
        let status = if ever_connected {
            ConnectionStatus::Reconnecting
        } else {
            ConnectionStatus::Connecting
        };
        shared.set_status(status, None).await;
        let opened = tokio::select! {
            _ = stop.cancelled() => break,
            r = open(&shared) => r,
        };
        match opened {
            Ok(ws) => {
                ever_connected = true;
                failures = 0;
                match session(&shared, ws, &stop).await {
                    End::Stopped => break,
                    End::Lost(why) => {
                        tracing::debug!(url = %shared.url, "realtime socket lost: {why}");
                        shared.lock().last_error = Some(why.clone());
                        shared
                            .set_status(ConnectionStatus::Reconnecting, Some(why))
                            .await;
                    }
                }
            }
            Err(OpenError::Fatal(why)) => {
                push_error(&shared, "AUTH_INVALID_KEY", &why, None).await;
                shared.lock().last_error = Some(why);
                break;
            }
            Err(OpenError::Retry(why)) => {
                failures += 1;
                shared.lock().last_error = Some(why.clone());
                if let Some(max) = shared.config.max_reconnect_attempts
                    && failures > max
                {
                    push_error(
                        &shared,
                        "NETWORK_ERROR",
                        &format!("gave up after {max} reconnect attempts: {why}"),
                        Some(GAVE_UP),
                    )
                    .await;
                    break;
                }
            }
        }
        let delay = shared.config.backoff.delay(failures.saturating_sub(1));
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(delay) => {}
        }
    }
    {
        // Cancel our token so the check below also clears it when we stopped by ourselves
        // (fatal error, attempts exhausted): `connect` can then start a new task. A newer
        // task's token is not cancelled and stays.
        stop.cancel();
        let mut st = shared.lock();
        st.connected = false;
        if st.stop.as_ref().is_some_and(|s| s.is_cancelled()) {
            st.stop = None;
        }
    }
    shared
        .set_status(ConnectionStatus::Disconnected, None)
        .await;
}

/// The `reason` of the error event that ends the connection after `max_reconnect_attempts`
/// (the official clients' `onMaxRetriesExceeded`).
pub const GAVE_UP: &str = "max_reconnect_attempts";

async fn push_error(shared: &Shared, code: &str, message: &str, reason: Option<&str>) {
    let mut data = serde_json::json!({"code": code, "message": message});
    if let Some(r) = reason {
        data["reason"] = r.into();
    }
    let ev = RealtimeEvent::new(EventKind::Error, None, "error", data);
    shared.events.push(ev).await;
}

async fn open(shared: &Shared) -> Result<Ws, OpenError> {
    let (token, project) = (
        shared.lock().token.clone(),
        shared.client.project_id().map(str::to_string),
    );
    let mut url = url::Url::parse(&shared.url)
        .map_err(|e| OpenError::Fatal(format!("invalid realtime URL {}: {e}", shared.url)))?;
    {
        let mut q = url.query_pairs_mut();
        if let Some(p) = &project {
            q.append_pair("projectId", p);
        }
        if let Some(u) = &shared.config.user_id {
            q.append_pair("userId", u);
        }
    }
    let mut req = url
        .as_str()
        .into_client_request()
        .map_err(|e| OpenError::Fatal(e.to_string()))?;
    // Credentials travel as subprotocols, never in the URL (wire-facts §4.1).
    let mut protocols = Vec::new();
    if let Some(k) = &shared.client.inner.api_key {
        protocols.push(format!("aerostack-key.{k}"));
    }
    if let Some(t) = &token {
        protocols.push(format!("aerostack-token.{t}"));
    }
    protocols.push("aerostack-v1".to_string());
    let header = HeaderValue::from_str(&protocols.join(", ")).map_err(|_| {
        OpenError::Fatal("the API key or token has characters not allowed in a header".into())
    })?;
    req.headers_mut().insert("sec-websocket-protocol", header);
    let connecting = async {
        let stream = super::socket::connect(&url)
            .await
            .map_err(OpenError::Retry)?;
        tokio_tungstenite::client_async(req, stream)
            .await
            .map_err(|e| match e {
                tungstenite::Error::Http(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp
                        .body()
                        .as_ref()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default();
                    let why =
                        format!("the platform refused the realtime connection ({status}): {body}");
                    if status == 401 || status == 403 {
                        OpenError::Fatal(why)
                    } else {
                        OpenError::Retry(why)
                    }
                }
                e => OpenError::Retry(format!("could not open {}: {e}", shared.url)),
            })
    };
    match tokio::time::timeout(shared.config.connect_timeout, connecting).await {
        Err(_) => Err(OpenError::Retry(format!(
            "no connection within {:?}",
            shared.config.connect_timeout
        ))),
        Ok(r) => r.map(|(ws, _)| ws),
    }
}

/// Frames for a fresh socket: every channel's `subscribe` (and `track`), then unacknowledged
/// publications of the previous socket, then what was queued meanwhile.
fn opening_frames(shared: &Shared) -> Vec<String> {
    let mut st = shared.lock();
    st.connected = true;
    let mut out = Vec::new();
    for c in st.channels.values() {
        out.push(frames::subscribe(&c.requested, &c.filter));
        if let Some(state) = &c.tracked {
            out.push(frames::track(&c.requested, state));
        }
    }
    let queued: Vec<Outgoing> = st.outbox.drain(..).collect();
    for o in queued {
        if let Some(id) = o.publish_id {
            st.inflight.push((id, o.text.clone()));
        }
        out.push(o.text);
    }
    out
}

/// Queued frames to send now.
fn take_outbox(shared: &Shared) -> Vec<String> {
    let mut st = shared.lock();
    let queued: Vec<Outgoing> = st.outbox.drain(..).collect();
    queued
        .into_iter()
        .map(|o| {
            if let Some(id) = o.publish_id {
                st.inflight.push((id, o.text.clone()));
            }
            o.text
        })
        .collect()
}

/// The socket is gone: publications in flight go back to the front of the outbox (re-sent on
/// the next socket), control frames are dropped (state is re-sent), held frames are released.
fn after_close(shared: &Shared) -> Vec<RealtimeEvent> {
    let mut st = shared.lock();
    st.connected = false;
    let inflight = std::mem::take(&mut st.inflight);
    st.outbox.retain(|o| o.publish_id.is_some());
    for (id, text) in inflight.into_iter().rev() {
        st.outbox.push_front(Outgoing {
            text,
            publish_id: Some(id),
        });
    }
    let mut events = Vec::new();
    for c in st.channels.values_mut() {
        c.confirmed_before |= c.live;
        c.live = false;
        if let Some(held) = c.held.take() {
            events.extend(held.into_iter().filter_map(|f| c.deliver(f, false)));
        }
    }
    events
}

struct CatchUp {
    key: String,
    result: crate::Result<Vec<HistoryMessage>>,
}

async fn session(shared: &Arc<Shared>, ws: Ws, stop: &CancellationToken) -> End {
    let (mut sink, mut stream) = ws.split();
    let (catch_tx, mut catch_rx) = mpsc::unbounded_channel::<CatchUp>();
    let mut end = None;
    for text in opening_frames(shared) {
        if let Err(e) = sink.send(Message::Text(text.into())).await {
            end = Some(End::Lost(format!("send failed: {e}")));
            break;
        }
    }
    if end.is_none() {
        shared.set_status(ConnectionStatus::Connected, None).await;
    }
    let hb = shared.config.heartbeat_interval;
    let mut heartbeat = tokio::time::interval_at(Instant::now() + hb, hb);
    let mut ping_sent: Option<Instant> = None;
    while end.is_none() {
        let dead_at = ping_sent.map(|t| t + shared.config.pong_timeout);
        let mut events = Vec::new();
        tokio::select! {
            _ = stop.cancelled() => {
                let _ = sink.send(Message::Close(None)).await;
                end = Some(End::Stopped);
            }
            _ = shared.wake.notified() => {
                for text in take_outbox(shared) {
                    if let Err(e) = sink.send(Message::Text(text.into())).await {
                        end = Some(End::Lost(format!("send failed: {e}")));
                        break;
                    }
                }
            }
            _ = heartbeat.tick() => {
                if ping_sent.is_none() {
                    ping_sent = Some(Instant::now());
                    if let Err(e) = sink.send(Message::Text(frames::ping().into())).await {
                        end = Some(End::Lost(format!("send failed: {e}")));
                    }
                }
            }
            _ = sleep_until(dead_at), if dead_at.is_some() => {
                end = Some(End::Lost(format!("no pong within {:?}: the socket is dead", shared.config.pong_timeout)));
            }
            Some(done) = catch_rx.recv() => events = finish_catch_up(shared, done),
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let Some(frame) = frames::parse(text.as_str()) else { continue };
                    if frame == Incoming::Pong {
                        ping_sent = None;
                    }
                    events = handle(shared, frame, &catch_tx);
                }
                Some(Ok(Message::Close(close))) => {
                    end = Some(End::Lost(close.map_or_else(|| "closed by the platform".into(), |c| format!("closed by the platform ({}: {})", u16::from(c.code), c.reason))));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => end = Some(End::Lost(format!("socket error: {e}"))),
                None => end = Some(End::Lost("socket closed".into())),
            },
        }
        for ev in events {
            shared.events.push(ev).await;
        }
    }
    for ev in after_close(shared) {
        shared.events.push(ev).await;
    }
    end.unwrap_or(End::Stopped)
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Apply one frame from the platform; the events it produces for the host.
fn handle(
    shared: &Arc<Shared>,
    frame: Incoming,
    catch_tx: &mpsc::UnboundedSender<CatchUp>,
) -> Vec<RealtimeEvent> {
    let mut st = shared.lock();
    match frame {
        Incoming::Subscribed {
            topic,
            requested,
            timestamp,
        } => {
            let key = st
                .channels
                .iter()
                .find(|(_, c)| {
                    requested.as_deref().is_some_and(|r| c.requested == r) || c.is(&topic)
                })
                .map(|(k, _)| k.clone());
            let Some(key) = key else { return Vec::new() };
            let c = st.channels.get_mut(&key).expect("found above");
            c.topic = Some(topic.clone());
            c.live = true;
            c.refused = None;
            shared.subscriptions.notify_waiters();
            if c.floor.is_none() {
                c.floor = timestamp;
            }
            // After a gap: fetch what was persisted meanwhile, holding live frames back so the
            // host sees messages in order. `since` is one ms early so equal timestamps are not
            // skipped; duplicates are dropped by id.
            if c.confirmed_before
                && shared.config.catch_up
                && c.held.is_none()
                && let Some(since) = c.last_persisted.or(c.floor)
            {
                c.held = Some(Vec::new());
                let (client, tx) = (shared.client.clone(), catch_tx.clone());
                tokio::spawn(async move {
                    let result = fetch_missed(&client, &topic, since - 1).await;
                    let _ = tx.send(CatchUp { key, result });
                });
            }
            vec![c.subscribed_event()]
        }
        Incoming::Event {
            ref topic,
            ref event,
            ..
        } => {
            let presence = event.starts_with("presence:");
            let Some(c) = st.channels.values_mut().find(|c| c.is(topic)) else {
                return Vec::new();
            };
            match &mut c.held {
                Some(held) if !presence => {
                    held.push(frame);
                    Vec::new()
                }
                _ => c.deliver(frame, true).into_iter().collect(),
            }
        }
        Incoming::DbChange { ref topic, .. } => {
            let Some(c) = st.channels.values_mut().find(|c| c.is(topic)) else {
                return Vec::new();
            };
            c.deliver(frame, true).into_iter().collect()
        }
        Incoming::Ack {
            id,
            message_id,
            timestamp,
            persisted,
        } => {
            st.inflight.retain(|(i, _)| *i != id);
            if let Some(tx) = st.acks.remove(&id) {
                let _ = tx.send(Ok(PublishAck {
                    id: message_id.unwrap_or(id),
                    timestamp: timestamp.map(aerostack_protocol::Timestamp::from_unix_ms),
                    persisted,
                }));
            }
            Vec::new()
        }
        Incoming::Error {
            code,
            message,
            topic,
            id,
        } => {
            if let Some(id) = &id {
                st.inflight.retain(|(i, _)| i != id);
                if let Some(tx) = st.acks.remove(id) {
                    let _ = tx.send(Err(Error::new(ErrorCode::parse(&code), message)));
                    return Vec::new();
                }
            }
            let on_channel = topic
                .as_deref()
                .and_then(|t| st.channels.values_mut().find(|c| c.is(t)));
            match on_channel {
                Some(c) => {
                    if !c.live {
                        c.refused = Some((code.clone(), message.clone()));
                        shared.subscriptions.notify_waiters();
                    }
                    vec![c.error_event(&code, &message)]
                }
                None => {
                    let mut ev = RealtimeEvent::new(
                        EventKind::Error,
                        topic,
                        "error",
                        serde_json::json!({"code": code, "message": message}),
                    );
                    ev.listeners = Vec::new();
                    vec![ev]
                }
            }
        }
        Incoming::Connected { .. }
        | Incoming::Unsubscribed
        | Incoming::Pong
        | Incoming::Authenticated
        | Incoming::Other => Vec::new(),
    }
}

/// Persisted messages of `topic` after `since`, oldest first, across pages. Pages follow the
/// platform's strict order (`created_at`, `seq`), so messages sharing a millisecond across a page
/// boundary are all fetched; ids drop what the live socket already delivered.
async fn fetch_missed(
    client: &crate::Client,
    topic: &str,
    since: i64,
) -> crate::Result<Vec<HistoryMessage>> {
    let mut out = Vec::new();
    let mut ids = HashSet::new();
    let (mut since, mut since_seq) = (since, None);
    loop {
        let page = client
            .realtime_history_since(topic, since, since_seq, Some(PAGE))
            .await?;
        let full = page.len() as u32 >= PAGE;
        let mut new = 0;
        for m in page {
            match m.seq {
                Some(seq) => (since, since_seq) = (m.created_at.unix_ms(), Some(seq)),
                // A platform without `seq`: one ms early, duplicates dropped by id.
                None => since = since.max(m.created_at.unix_ms() - 1),
            }
            if m.id.as_ref().is_some_and(|id| ids.insert(id.clone())) {
                new += 1;
                out.push(m);
            }
        }
        if !full || new == 0 || out.len() >= MAX_CATCH_UP {
            return Ok(out);
        }
    }
}

/// Deliver caught-up messages, then the live frames held meanwhile (duplicates dropped).
fn finish_catch_up(shared: &Shared, done: CatchUp) -> Vec<RealtimeEvent> {
    let mut st = shared.lock();
    let Some(c) = st.channels.get_mut(&done.key) else {
        return Vec::new();
    };
    let held = c.held.take().unwrap_or_default();
    let mut events = Vec::new();
    let advance = match done.result {
        Ok(messages) => {
            events.extend(messages.into_iter().filter_map(|m| c.replay(m)));
            true
        }
        Err(e) => {
            events.push(c.error_event(
                e.code().as_str(),
                &format!(
                    "could not fetch the messages missed while disconnected: {}",
                    e.message()
                ),
            ));
            false
        }
    };
    events.extend(held.into_iter().filter_map(|f| c.deliver(f, advance)));
    events
}
