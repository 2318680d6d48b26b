//! Gateway chat over a WebSocket (the official SDKs' `gateway.connectWebSocket`):
//! `{wsHost}/api/gateway/{apiSlug}/ws`, authenticated with the subprotocol `bearer-<consumerKey>`
//! (wire-facts §2.6).
//!
//! Frames (public sources name none; these are the local platform's, server/src/routes/
//! gateway_ws.rs): the client sends `{"type": "chat", "messages", "model"?, ...}` and
//! `{"type": "ping"}`; the platform answers a chat with `token` frames then one `done` (with
//! `usage`) or one `error`, a ping with `pong`, anything else with `error`; an error leaves the
//! socket open. The platform answers frames one at a time, in order, so each answer is matched to
//! the frame it answers (`request`, the id the send returned), and a `done` event carries the
//! whole text of its chat.
//!
//! Events are pulled by the caller ([`GatewaySocket::next_event`]); no engine task runs for a
//! socket. Dropping the last clone cuts the connection; [`GatewaySocket::close`] ends it politely.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use http::HeaderValue;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::client::Client;
use crate::error::{Error, ErrorCode, Result, RouteFamily};
use crate::realtime::socket::{self, Stream};
use crate::services::ai::{ChatRequest, Usage, check_messages};

type Ws = WebSocketStream<Stream>;

/// The subprotocol that carries the consumer key: `bearer-<key>`.
pub const SUBPROTOCOL_PREFIX: &str = "bearer-";

/// The close code of a socket that ended without a close frame (RFC 6455 §7.1.5).
const ABNORMAL: u16 = 1006;

/// One thing the gateway socket hands the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GatewaySocketEvent {
    /// A piece of the answer to chat `request`.
    Token {
        /// The text.
        content: String,
        /// The id the chat's send returned (`None` if the platform answered nothing we sent).
        request: Option<u64>,
    },
    /// The answer to chat `request` is complete.
    Done {
        /// The whole text of the answer (every token since the chat began).
        content: String,
        /// Token usage the platform billed.
        usage: Usage,
        /// `usage.total_tokens`, else `completion_tokens`, else an estimate (chars / 4).
        tokens_used: u64,
        /// The id the chat's send returned.
        request: Option<u64>,
    },
    /// The platform refused or failed a frame; the socket stays open.
    Error {
        /// A stable error code (`VALIDATION_ERROR`, `INSUFFICIENT_CREDITS`, `AI_REQUEST_FAILED`, ...).
        code: String,
        /// What went wrong and what to send instead.
        message: String,
        /// The id of the frame it answers.
        request: Option<u64>,
    },
    /// The answer to a ping.
    Pong {
        /// The id the ping returned.
        request: Option<u64>,
    },
    /// The socket is closed (handed out once; later pulls get nothing).
    Closed {
        /// The close code: 1000 normal, 1001 idle, 1012 the platform is shutting down, 1006 the
        /// connection broke off without a close frame.
        code: u16,
        /// The reason the closing side gave.
        reason: String,
    },
    /// A frame this engine does not know, as the platform sent it.
    Unknown {
        /// The frame.
        frame: Value,
    },
}

/// The answer to [`GatewaySocket::chat`]: the official SDK's `{content, tokensUsed}` plus usage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GatewaySocketReply {
    /// The whole answer.
    pub content: String,
    /// Tokens billed (see [`GatewaySocketEvent::Done::tokens_used`]).
    pub tokens_used: u64,
    /// Token usage the platform billed.
    pub usage: Usage,
}

/// One step of a chat over the socket ([`GatewaySocket::chat_step`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ChatStep {
    /// A piece of the answer's text.
    Token(String),
    /// The whole answer: the chat is over.
    Done(GatewaySocketReply),
}

/// Whether the socket can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SocketState {
    /// Connected.
    Open,
    /// [`GatewaySocket::close`] sent the close frame; the platform's answer has not been read.
    Closing,
    /// Gone: closed by either side, or the connection broke off.
    Closed,
}

/// What a sent frame is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// tokens, then `done` or `error`
    Chat,
    Pong,
    /// anything else the platform cannot use: `error`
    Refusal,
}

struct State {
    next_id: u64,
    /// Frames sent and not yet answered, oldest first.
    waiting: VecDeque<(u64, Expect)>,
    /// The code and reason of our close frame, once sent.
    closing: Option<(u16, String)>,
    closed: Option<(u16, String)>,
}

impl State {
    /// The id of the oldest waiting frame that `answer` can answer, removed.
    fn answered(&mut self, answer: Expect) -> Option<u64> {
        let ok = |e: Expect| match answer {
            Expect::Chat => e == Expect::Chat,
            Expect::Pong => e == Expect::Pong,
            Expect::Refusal => e != Expect::Pong,
        };
        let at = self.waiting.iter().position(|(_, e)| ok(*e))?;
        self.waiting.remove(at).map(|(id, _)| id)
    }

    fn current_chat(&self) -> Option<u64> {
        self.waiting
            .iter()
            .find(|(_, e)| *e == Expect::Chat)
            .map(|(id, _)| *id)
    }
}

struct Reader {
    stream: SplitStream<Ws>,
    /// The text of the chat being answered so far.
    text: String,
    /// A `Closed` event to hand out at the next pull (after `close` read the platform's answer).
    closed_event: Option<GatewaySocketEvent>,
    /// `Closed` was handed out: later pulls get nothing.
    ended: bool,
}

struct Inner {
    url: String,
    api_slug: String,
    /// The client's per-attempt timeout: how long [`GatewaySocket::chat`] waits between events.
    timeout: Duration,
    sink: tokio::sync::Mutex<SplitSink<Ws, Message>>,
    reader: tokio::sync::Mutex<Reader>,
    state: Mutex<State>,
}

impl Inner {
    // A panic while holding the lock cannot leave the state inconsistent: keep using it.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An open gateway socket, from [`crate::services::Gateway::connect_socket`]. Cheap to clone
/// (clones share the connection).
#[derive(Clone)]
pub struct GatewaySocket {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for GatewaySocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key (it is not in the URL).
        f.debug_struct("GatewaySocket")
            .field("url", &self.inner.url)
            .field("state", &self.state())
            .finish()
    }
}

/// Removes a frame from the waiting list unless its send went through (a cancelled send).
struct Unsent<'a> {
    inner: &'a Inner,
    id: u64,
    armed: bool,
}

impl Drop for Unsent<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.inner.lock().waiting.retain(|(id, _)| *id != self.id);
        }
    }
}

/// Opens the socket of gateway API `api_slug` with consumer key `key` (both checked already).
pub(crate) async fn connect(client: &Client, api_slug: &str, key: &str) -> Result<GatewaySocket> {
    let url = format!(
        "{}/api/gateway/{api_slug}/ws",
        crate::realtime::ws_base(&client.inner.host_url)
    );
    let parsed = url::Url::parse(&url).map_err(|e| {
        Error::invalid_config(format!("the gateway socket URL {url} is invalid: {e}"))
    })?;
    let mut req = url.as_str().into_client_request().map_err(|e| {
        Error::invalid_config(format!("the gateway socket URL {url} is invalid: {e}"))
    })?;
    // The client's headers as on its HTTP gateway calls (user agent, project key, config headers).
    for (name, value) in &client.inner.default_headers {
        req.headers_mut().insert(name.clone(), value.clone());
    }
    if let Some(h) = client.opts.as_deref().map(|o| &o.headers) {
        for (name, value) in h {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                req.headers_mut().insert(n, v);
            }
        }
    }
    // The consumer key travels as the subprotocol, as the official SDK sends it: a subprotocol
    // is an HTTP token, so a key with spaces, commas or quotes cannot be one.
    let token_char = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !key.bytes().all(token_char) {
        return Err(Error::validation(
            "consumer_key",
            "consumer_key has characters a WebSocket subprotocol cannot carry: copy the key (ask_…) again without spaces or line breaks",
        ));
    }
    let protocol = HeaderValue::from_str(&format!("{SUBPROTOCOL_PREFIX}{key}")).map_err(|_| {
        Error::validation("consumer_key", "consumer_key is not a valid header value")
    })?;
    req.headers_mut().insert("sec-websocket-protocol", protocol);
    let timeout = client.timeout();
    let opening = async {
        let stream = socket::connect(&parsed).await.map_err(|why| {
            Error::new(
                ErrorCode::NetworkError,
                format!("could not open the gateway socket {url}: {why}"),
            )
        })?;
        tokio_tungstenite::client_async(req, stream)
            .await
            .map_err(|e| handshake_error(&url, e))
    };
    let ws = match tokio::time::timeout(timeout, opening).await {
        Ok(r) => r?.0,
        Err(_) => {
            return Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "opening the gateway socket {url} timed out after {} ms; raise CallOptions.timeout_ms or ClientConfig.timeout_ms if the platform is slow",
                    timeout.as_millis()
                ),
            ));
        }
    };
    let (sink, stream) = ws.split();
    Ok(GatewaySocket {
        inner: Arc::new(Inner {
            url,
            api_slug: api_slug.to_string(),
            timeout,
            sink: tokio::sync::Mutex::new(sink),
            reader: tokio::sync::Mutex::new(Reader {
                stream,
                text: String::new(),
                closed_event: None,
                ended: false,
            }),
            state: Mutex::new(State {
                next_id: 0,
                waiting: VecDeque::new(),
                closing: None,
                closed: None,
            }),
        }),
    })
}

/// A refused handshake is the error the HTTP gateway calls raise for the same answer (a bad
/// consumer key: 401 `AUTH_INVALID_KEY`; another API's key: 403 `FORBIDDEN`).
fn handshake_error(url: &str, e: tungstenite::Error) -> Error {
    match e {
        tungstenite::Error::Http(resp) => {
            let status = resp.status().as_u16();
            let request_id = resp
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = resp.body().as_deref().unwrap_or_default();
            Error::from_response(status, body, None, request_id, RouteFamily::UserAuth)
        }
        e => Error::new(
            ErrorCode::NetworkError,
            format!("could not open the gateway socket {url}: {e}"),
        )
        .with_source(e),
    }
}

fn usage_tokens(usage: &Usage, text: &str) -> u64 {
    if usage.total_tokens > 0 {
        usage.total_tokens
    } else if usage.completion_tokens > 0 {
        usage.completion_tokens
    } else {
        text.chars().count().div_ceil(4) as u64
    }
}

impl GatewaySocket {
    /// `ws(s)://host/api/gateway/{apiSlug}/ws`.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The gateway API this socket chats with.
    pub fn api_slug(&self) -> &str {
        &self.inner.api_slug
    }

    /// Open, closing or closed.
    pub fn state(&self) -> SocketState {
        let st = self.inner.lock();
        if st.closed.is_some() {
            SocketState::Closed
        } else if st.closing.is_some() {
            SocketState::Closing
        } else {
            SocketState::Open
        }
    }

    /// The close code and reason, once closed.
    pub fn closed_with(&self) -> Option<(u16, String)> {
        self.inner.lock().closed.clone()
    }

    fn refuse_closed(&self) -> Result<()> {
        let st = self.inner.lock();
        let why = match (&st.closed, &st.closing) {
            (Some((code, reason)), _) => format!("closed ({code}{})", reason_suffix(reason)),
            (None, Some(_)) => "closing".to_string(),
            (None, None) => return Ok(()),
        };
        Err(Error::new(
            ErrorCode::NetworkError,
            format!(
                "the gateway socket of {} is {why}: open another with gateway.connect_socket",
                self.inner.api_slug
            ),
        ))
    }

    /// Sends `text`, answered with `expect`; the id of the frame.
    async fn send_frame(&self, text: String, expect: Expect) -> Result<u64> {
        self.refuse_closed()?;
        let mut sink = self.inner.sink.lock().await;
        // Registered before the send, under the sink's lock: ids are in the order of the frames,
        // and an answer that comes back at once finds its frame.
        let id = {
            let mut st = self.inner.lock();
            st.next_id += 1;
            let id = st.next_id;
            st.waiting.push_back((id, expect));
            id
        };
        let mut unsent = Unsent {
            inner: &self.inner,
            id,
            armed: true,
        };
        let sent = async {
            sink.feed(Message::Text(text.into())).await?;
            // Queued: the frame goes out even if this future is dropped during the flush.
            unsent.armed = false;
            sink.flush().await
        };
        sent.await.map_err(|e| {
            Error::new(
                ErrorCode::NetworkError,
                format!(
                    "could not send on the gateway socket of {}: {e}",
                    self.inner.api_slug
                ),
            )
        })?;
        Ok(id)
    }

    /// Asks for a chat answer, streamed back as `token` events and one `done` (or `error`);
    /// returns the id those events carry as `request`. `request.messages` are checked first.
    pub async fn send_chat(&self, request: &ChatRequest) -> Result<u64> {
        check_messages(&request.messages)?;
        let mut frame = serde_json::to_value(request).map_err(|e| {
            Error::new(
                ErrorCode::ValidationError,
                format!("the chat could not be encoded as JSON: {e}"),
            )
        })?;
        frame["type"] = json!("chat");
        self.send_frame(frame.to_string(), Expect::Chat).await
    }

    /// Sends a ping, answered with a `pong` event; returns its id.
    pub async fn ping(&self) -> Result<u64> {
        self.send_frame(json!({"type": "ping"}).to_string(), Expect::Pong)
            .await
    }

    /// Sends `frame` as it is (a JSON text frame); returns its id. A `chat` frame is answered
    /// like [`GatewaySocket::send_chat`]'s, a `ping` with `pong`, anything else with `error`.
    pub async fn send(&self, frame: &Value) -> Result<u64> {
        let expect = match frame.get("type").and_then(Value::as_str) {
            Some("chat") => Expect::Chat,
            Some("ping") => Expect::Pong,
            _ => Expect::Refusal,
        };
        self.send_frame(frame.to_string(), expect).await
    }

    /// The next event, waiting at most `timeout` (`None`: until one comes). `None` on timeout,
    /// and at once after the `Closed` event was handed out. Cancel-safe: dropping the future
    /// loses no event.
    pub async fn next_event(&self, timeout: Option<Duration>) -> Option<GatewaySocketEvent> {
        let deadline = timeout.map(|d| Instant::now() + d);
        let mut r = match deadline {
            Some(at) => tokio::time::timeout_at(at, self.inner.reader.lock())
                .await
                .ok()?,
            None => self.inner.reader.lock().await,
        };
        if r.ended {
            return None;
        }
        if let Some(ev) = r.closed_event.take() {
            r.ended = true;
            return Some(ev);
        }
        loop {
            let msg = match deadline {
                Some(at) => tokio::time::timeout_at(at, r.stream.next()).await.ok()?,
                None => r.stream.next().await,
            };
            let (code, reason) = match msg {
                Some(Ok(Message::Text(text))) => match self.on_text(&mut r, text.as_str()) {
                    Some(ev) => return Some(ev),
                    None => continue,
                },
                // Pings are answered by the WebSocket layer; binary frames are not ours.
                Some(Ok(Message::Close(frame))) => frame.map_or((1005, String::new()), |f| {
                    (u16::from(f.code), f.reason.to_string())
                }),
                Some(Ok(_)) => continue,
                Some(Err(e)) => self.cut(format!("the connection failed: {e}")),
                None => self.cut("the connection dropped without a close frame".to_string()),
            };
            r.ended = true;
            return Some(self.finish(code, reason));
        }
    }

    /// The event of one text frame (`None`: nothing for the caller).
    fn on_text(&self, r: &mut Reader, text: &str) -> Option<GatewaySocketEvent> {
        let Ok(frame) = serde_json::from_str::<Value>(text) else {
            tracing::debug!(url = %self.inner.url, "gateway socket: a frame that is not JSON was skipped");
            return None;
        };
        let str_of = |k: &str| {
            frame
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let mut st = self.inner.lock();
        Some(match frame.get("type").and_then(Value::as_str) {
            Some("token") => {
                let content = str_of("content");
                r.text.push_str(&content);
                GatewaySocketEvent::Token {
                    content,
                    request: st.current_chat(),
                }
            }
            Some("done") => {
                let usage: Usage = frame
                    .get("usage")
                    .and_then(|u| serde_json::from_value(u.clone()).ok())
                    .unwrap_or_default();
                let content = std::mem::take(&mut r.text);
                GatewaySocketEvent::Done {
                    tokens_used: usage_tokens(&usage, &content),
                    content,
                    usage,
                    request: st.answered(Expect::Chat),
                }
            }
            Some("error") => {
                let request = st.answered(Expect::Refusal);
                // The end of a chat (refused, or failed midway): its text so far is dropped.
                r.text.clear();
                GatewaySocketEvent::Error {
                    code: Some(str_of("code"))
                        .filter(|c| !c.is_empty())
                        .unwrap_or_else(|| "INTERNAL_ERROR".into()),
                    message: str_of("message"),
                    request,
                }
            }
            Some("pong") => GatewaySocketEvent::Pong {
                request: st.answered(Expect::Pong),
            },
            _ => GatewaySocketEvent::Unknown { frame },
        })
    }

    /// How a connection that ended without the platform's close frame closed: as our close
    /// frame said when we had sent one (the platform may drop the connection without echoing
    /// it), else abnormally (1006) with `why`.
    fn cut(&self, why: String) -> (u16, String) {
        self.inner.lock().closing.clone().unwrap_or((ABNORMAL, why))
    }

    /// Records the end of the socket; its `Closed` event.
    fn finish(&self, code: u16, reason: String) -> GatewaySocketEvent {
        let mut st = self.inner.lock();
        st.waiting.clear();
        st.closed.get_or_insert((code, reason.clone()));
        GatewaySocketEvent::Closed { code, reason }
    }

    /// A chat, collected: sends it, then takes its steps ([`GatewaySocket::chat_step`]) until
    /// its answer. The events of other frames that arrive meanwhile are consumed: pull events
    /// yourself ([`GatewaySocket::next_event`]) to see them.
    pub async fn chat(
        &self,
        request: &ChatRequest,
        timeout: Option<Duration>,
    ) -> Result<GatewaySocketReply> {
        let id = self.send_chat(request).await?;
        loop {
            if let ChatStep::Done(reply) = self.chat_step(id, timeout).await? {
                return Ok(reply);
            }
        }
    }

    /// The next step of chat `request` (the id [`GatewaySocket::send_chat`] returned): a piece
    /// of its text, or its whole answer; the platform's error for it is this call's error. Waits
    /// at most `timeout` between two events (default: the client's per-attempt timeout); a socket
    /// that closes first is a `NETWORK_ERROR`. The events of other frames are consumed. Every
    /// SDK's streamed socket chat (`onToken`, iterators) is this in a loop.
    pub async fn chat_step(&self, request: u64, timeout: Option<Duration>) -> Result<ChatStep> {
        let gap = timeout.unwrap_or(self.inner.timeout);
        loop {
            match self.next_event(Some(gap)).await {
                Some(GatewaySocketEvent::Token {
                    content,
                    request: Some(r),
                }) if r == request => return Ok(ChatStep::Token(content)),
                Some(GatewaySocketEvent::Done {
                    content,
                    usage,
                    tokens_used,
                    request: Some(r),
                }) if r == request => {
                    return Ok(ChatStep::Done(GatewaySocketReply {
                        content,
                        tokens_used,
                        usage,
                    }));
                }
                Some(GatewaySocketEvent::Error {
                    code,
                    message,
                    request: Some(r),
                }) if r == request => return Err(Error::new(ErrorCode::parse(&code), message)),
                Some(GatewaySocketEvent::Closed { code, reason }) => {
                    return Err(Error::new(
                        ErrorCode::NetworkError,
                        format!(
                            "the gateway socket of {} closed ({code}{}) before the chat's answer was complete",
                            self.inner.api_slug,
                            reason_suffix(&reason)
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    self.refuse_closed()?;
                    return Err(Error::new(
                        ErrorCode::Timeout,
                        format!(
                            "no answer on the gateway socket of {} for {} ms; pass a longer timeout, or raise ClientConfig.timeout_ms",
                            self.inner.api_slug,
                            gap.as_millis()
                        ),
                    ));
                }
            }
        }
    }

    /// Closes the socket with `code` (1000, or 3000-4999; default 1000) and `reason`, and waits
    /// (at most 5 s) for the platform's answer, so the state is `Closed` after it. A pull in
    /// progress gets the `Closed` event; otherwise the next pull does. Closing twice is a no-op.
    pub async fn close(&self, code: Option<u16>, reason: Option<&str>) -> Result<()> {
        let code = code.unwrap_or(1000);
        if code != 1000 && !(3000..=4999).contains(&code) {
            return Err(Error::validation(
                "code",
                format!("a close code is 1000 or between 3000 and 4999, got {code}"),
            ));
        }
        let reason = reason.unwrap_or_default();
        if reason.len() > 123 {
            return Err(Error::validation(
                "reason",
                format!("a close reason is at most 123 bytes, got {}", reason.len()),
            ));
        }
        {
            let mut st = self.inner.lock();
            if st.closed.is_some() || st.closing.is_some() {
                return Ok(());
            }
            st.closing = Some((code, reason.to_string()));
        }
        let frame = CloseFrame {
            code: code.into(),
            reason: reason.to_string().into(),
        };
        let sent = self
            .inner
            .sink
            .lock()
            .await
            .send(Message::Close(Some(frame)))
            .await;
        if let Err(e) = sent {
            // Already gone: nothing to wait for.
            self.finish(ABNORMAL, format!("the connection failed: {e}"));
            if let Ok(mut r) = self.inner.reader.try_lock()
                && !r.ended
            {
                r.closed_event = Some(GatewaySocketEvent::Closed {
                    code: ABNORMAL,
                    reason: format!("the connection failed: {e}"),
                });
            }
            return Ok(());
        }
        // Read up to the platform's close frame (what arrives before it is dropped: the caller
        // is done with this socket); a pull in progress reads it instead, and we wait for it.
        let ours = (code, reason.to_string());
        let wait = self.inner.timeout.min(Duration::from_secs(5));
        let drained = tokio::time::timeout(wait, async {
            let mut r = self.inner.reader.lock().await;
            if r.ended || r.closed_event.is_some() {
                return;
            }
            let (code, reason) = loop {
                match r.stream.next().await {
                    Some(Ok(Message::Close(f))) => {
                        break f
                            .map_or(ours.clone(), |f| (u16::from(f.code), f.reason.to_string()));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break ours.clone(),
                }
            };
            r.text.clear();
            r.closed_event = Some(self.finish(code, reason));
        })
        .await;
        if drained.is_err() {
            // No answer in time: closed as far as the caller is concerned.
            let ev = self.finish(ours.0, ours.1);
            if let Ok(mut r) = self.inner.reader.try_lock()
                && !r.ended
            {
                r.closed_event = Some(ev);
            }
        }
        Ok(())
    }
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_match_the_frames_they_answer() {
        let mut st = State {
            next_id: 0,
            waiting: VecDeque::from([(1, Expect::Pong), (2, Expect::Chat), (3, Expect::Refusal)]),
            closing: None,
            closed: None,
        };
        assert_eq!(st.current_chat(), Some(2));
        assert_eq!(
            st.answered(Expect::Refusal),
            Some(2),
            "a chat's error ends the chat"
        );
        assert_eq!(st.answered(Expect::Pong), Some(1));
        assert_eq!(st.answered(Expect::Chat), None, "no chat waits");
        assert_eq!(st.answered(Expect::Refusal), Some(3));
        assert!(st.waiting.is_empty());
    }

    #[test]
    fn tokens_used_prefers_the_total() {
        let u = |p, c, t| Usage {
            prompt_tokens: p,
            completion_tokens: c,
            total_tokens: t,
        };
        assert_eq!(usage_tokens(&u(4, 7, 11), "x"), 11);
        assert_eq!(usage_tokens(&u(0, 7, 0), "x"), 7);
        assert_eq!(usage_tokens(&u(0, 0, 0), "hello there"), 3);
    }

    #[test]
    fn events_serialize_with_their_type() {
        let ev = GatewaySocketEvent::Closed {
            code: 1012,
            reason: "platform shutting down".into(),
        };
        assert_eq!(
            serde_json::to_value(&ev).unwrap(),
            json!({"type": "closed", "code": 1012, "reason": "platform shutting down"})
        );
        let ev = GatewaySocketEvent::Token {
            content: "hi".into(),
            request: Some(1),
        };
        assert_eq!(
            serde_json::to_value(&ev).unwrap(),
            json!({"type": "token", "content": "hi", "request": 1})
        );
    }
}
