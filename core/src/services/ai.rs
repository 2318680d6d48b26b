//! AI: chat (plain and streamed), single-prompt completion and embeddings under `/v1/ai/*`.
//! Search lives in [`crate::services::search`].

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::services::require;
use crate::services::search::Search;
use crate::sse::{SseEvent, SseParser};
use crate::transport::Call;

/// AI handle, from [`Client::ai`].
#[derive(Debug, Clone, Copy)]
pub struct Ai<'a> {
    client: &'a Client,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl ChatMessage {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "system".into(),
            content: content.into(),
        }
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "user".into(),
            content: content.into(),
        }
    }
    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "assistant".into(),
            content: content.into(),
        }
    }
}

/// A chat completion request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatRequest {
    /// The conversation so far.
    pub messages: Vec<ChatMessage>,
    /// Model name; the platform's default when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Sampling temperature, 0..2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Maximum tokens to generate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Nucleus sampling, 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
}

impl ChatRequest {
    /// A request with these messages and defaults otherwise.
    pub fn new(messages: Vec<ChatMessage>) -> ChatRequest {
        ChatRequest {
            messages,
            ..ChatRequest::default()
        }
    }
}

/// Token usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// Sum of both.
    pub total_tokens: u64,
}

/// Answer of [`Ai::chat`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The generated text (`choices[0].message.content`, or `response`).
    pub text: String,
    /// Model that answered.
    pub model: Option<String>,
    /// Token usage.
    pub usage: Option<Usage>,
    /// Why generation stopped.
    pub finish_reason: Option<String>,
    /// Completion id.
    pub id: Option<String>,
}

/// One piece of a streamed chat answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// Text added by this chunk (may be empty on the final usage chunk).
    pub delta: String,
    /// Why generation stopped, on the last content chunk.
    pub finish_reason: Option<String>,
    /// Token usage, on the final chunk when the upstream reports it.
    pub usage: Option<Usage>,
    /// Model that answered.
    pub model: Option<String>,
}

/// A stream of chat chunks; drop it to stop the generation and close the connection.
pub type ChatStream = BoxStream<'static, Result<ChatChunk>>;

/// Options of [`Ai::complete`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompleteOptions {
    /// Model name.
    pub model: Option<String>,
    /// Maximum tokens to generate.
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// System prompt sent before the user prompt.
    pub system: Option<String>,
}

/// Answer of [`Ai::complete`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The generated text.
    pub text: String,
    /// Token usage.
    pub usage: Option<Usage>,
    /// Model that answered.
    pub model: Option<String>,
}

/// Answer of [`Ai::embed`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// The vector.
    pub embedding: Vec<f32>,
    /// Model that produced it.
    pub model: Option<String>,
}

impl Embedding {
    /// Number of dimensions.
    pub fn dimensions(&self) -> usize {
        self.embedding.len()
    }
}

#[derive(Serialize)]
struct StreamBody<'r> {
    #[serde(flatten)]
    request: &'r ChatRequest,
    stream: bool,
    stream_options: StreamOptions,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Deserialize, Default)]
struct WireContent {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct WireChoice {
    #[serde(default)]
    message: Option<WireContent>,
    #[serde(default)]
    delta: Option<WireContent>,
    #[serde(default)]
    finish_reason: Option<String>,
}

/// Both generations: OpenAI-style `choices` and Workers-AI-style `response`.
#[derive(Deserialize)]
pub(crate) struct WireChat {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<WireChoice>,
    #[serde(default)]
    response: Option<String>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Serialize)]
struct EmbedBody<'t> {
    text: &'t str,
}

#[derive(Deserialize)]
struct WireEmbedding {
    embedding: Vec<f32>,
    #[serde(default)]
    model: Option<String>,
}

pub(crate) fn check_messages(messages: &[ChatMessage]) -> Result<()> {
    if messages.is_empty() {
        return Err(Error::validation(
            "messages",
            "messages must contain at least one message, e.g. {role: \"user\", content: \"Hi\"}",
        ));
    }
    for (i, m) in messages.iter().enumerate() {
        if !matches!(m.role.as_str(), "system" | "user" | "assistant") {
            return Err(Error::validation(
                &format!("messages[{i}].role"),
                format!(
                    "messages[{i}].role must be system, user or assistant (got {:?})",
                    m.role
                ),
            ));
        }
    }
    Ok(())
}

impl<'a> Ai<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Ai { client }
    }

    /// Vector search over ingested documents.
    pub fn search(&self) -> Search<'a> {
        Search::new(self.client)
    }

    /// A chat completion. `AI_NOT_CONFIGURED` when the platform has no AI upstream.
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        check_messages(&request.messages)?;
        let w: WireChat = self.client.post("/ai/chat", request, true).await?;
        Ok(response_from_wire(w))
    }

    /// A streamed chat completion (SSE). Errors before the first byte (bad key, no AI upstream)
    /// are returned here; errors mid-stream come as stream items. The call timeout applies to
    /// the wait for the response head and then to each gap between chunks.
    pub async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream> {
        stream_chat(
            self.client,
            self.client.api_url("/ai/chat"),
            "/ai/chat",
            request,
            None,
        )
        .await
    }

    /// One prompt in, text out: sends a chat with an optional system message and the prompt.
    pub async fn complete(&self, prompt: &str, options: CompleteOptions) -> Result<Completion> {
        require("prompt", prompt)?;
        let mut messages = Vec::with_capacity(2);
        if let Some(system) = options.system.filter(|s| !s.is_empty()) {
            messages.push(ChatMessage::system(system));
        }
        messages.push(ChatMessage::user(prompt));
        let request = ChatRequest {
            messages,
            model: options.model,
            temperature: options.temperature,
            max_tokens: options.max_tokens,
            top_p: None,
        };
        let r = self.chat(&request).await?;
        Ok(Completion {
            text: r.text,
            usage: r.usage,
            model: r.model,
        })
    }

    /// An embedding vector for `text` (computed offline by the local platform).
    pub async fn embed(&self, text: &str) -> Result<Embedding> {
        require("text", text)?;
        let w: WireEmbedding = self
            .client
            .post("/ai/embed", &EmbedBody { text }, true)
            .await?;
        Ok(Embedding {
            embedding: w.embedding,
            model: w.model,
        })
    }
}

/// A streamed chat completion from `url` (`what` names it in errors): the platform's `/ai/chat`,
/// or a gateway API's completions with the consumer's `bearer` key.
pub(crate) async fn stream_chat(
    client: &Client,
    url: String,
    what: &str,
    request: &ChatRequest,
    bearer: Option<&str>,
) -> Result<ChatStream> {
    check_messages(&request.messages)?;
    let body = StreamBody {
        request,
        stream: true,
        stream_options: StreamOptions {
            include_usage: true,
        },
    };
    let mut call = Call::new(Method::POST, url, true).json(&body)?;
    if let Some(key) = bearer {
        call = call.user_auth().bearer(key);
    }
    let resp = client.fetch_streaming(call).await?;
    let idle = client.timeout();

    let is_sse = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    if !is_sse {
        // The platform answered with one JSON body: deliver it as a single chunk.
        let bytes = match tokio::time::timeout(idle, resp.bytes()).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => return Err(Error::from_reqwest(e, &format!("POST {what}"), idle)),
            Err(_) => {
                return Err(Error::new(
                    ErrorCode::Timeout,
                    format!("POST {what} timed out reading the answer"),
                ));
            }
        };
        let w: WireChat = crate::transport::decode(&bytes, &Method::POST, what)?;
        let r = response_from_wire(w);
        let chunk = ChatChunk {
            delta: r.text,
            finish_reason: r.finish_reason,
            usage: r.usage,
            model: r.model,
        };
        return Ok(futures_util::stream::once(async move { Ok(chunk) }).boxed());
    }
    Ok(sse_chunks(resp.bytes_stream(), idle).boxed())
}

pub(crate) fn response_from_wire(w: WireChat) -> ChatResponse {
    let first = w.choices.into_iter().next();
    let (content, finish_reason) = match first {
        Some(c) => (c.message.and_then(|m| m.content), c.finish_reason),
        None => (None, None),
    };
    ChatResponse {
        text: content.or(w.response).unwrap_or_default(),
        model: w.model,
        usage: w.usage,
        finish_reason,
        id: w.id,
    }
}

/// Turns one SSE data payload into a chunk: `None` for frames to skip (malformed, empty).
fn chunk_from_frame(data: &str) -> Option<Result<ChatChunk>> {
    let w: WireChat = serde_json::from_str(data).ok()?;
    if let Some(err) = w.error.filter(|e| !e.is_null()) {
        let message = err
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| err.as_str())
            .unwrap_or("the AI upstream failed mid-stream")
            .to_owned();
        return Some(Err(
            Error::new(ErrorCode::AiRequestFailed, message).with_details(err)
        ));
    }
    let (delta, finish_reason) = match w.choices.into_iter().next() {
        Some(c) => (
            c.delta.or(c.message).and_then(|d| d.content),
            c.finish_reason,
        ),
        None => (None, None),
    };
    let delta = delta.or(w.response).unwrap_or_default();
    if delta.is_empty() && finish_reason.is_none() && w.usage.is_none() {
        return None;
    }
    Some(Ok(ChatChunk {
        delta,
        finish_reason,
        usage: w.usage,
        model: w.model,
    }))
}

/// Decodes a streamed chat answer (OpenAI-style SSE) fed in chunks of bytes as they arrive: the
/// engine's own streams use it, and so does a host that holds the HTTP response itself (the
/// official JS `stream(response, { onToken })`). Chunks may split lines and characters anywhere.
#[derive(Debug, Default)]
pub struct ChatStreamDecoder {
    parser: SseParser,
    events: Vec<SseEvent>,
    done: bool,
}

impl ChatStreamDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> ChatStreamDecoder {
        ChatStreamDecoder::default()
    }

    /// The chunks (or an upstream's mid-stream error) completed by `bytes`.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Result<ChatChunk>> {
        self.parser.feed(bytes, &mut self.events);
        self.drain()
    }

    /// End of input: what a last event without its blank line completes.
    pub fn finish(&mut self) -> Vec<Result<ChatChunk>> {
        self.parser.finish(&mut self.events);
        self.done = true;
        self.drain()
    }

    /// The error of an answer that is not a stream: its status (not 2xx) and body, read the
    /// way the engine reads its own answers (the platform's error code, message and details).
    pub fn error_for(status: u16, body: &[u8]) -> Error {
        Error::from_response(
            status,
            body,
            None,
            None,
            crate::error::RouteFamily::UserAuth,
        )
    }

    /// Whether the stream is over (`data: [DONE]`, or [`finish`](Self::finish)).
    pub fn is_done(&self) -> bool {
        self.done || self.parser.is_done()
    }

    fn drain(&mut self) -> Vec<Result<ChatChunk>> {
        let mut out = Vec::new();
        for ev in self.events.drain(..) {
            match ev {
                SseEvent::Data(data) => out.extend(chunk_from_frame(&data)),
                SseEvent::Done => self.done = true,
            }
        }
        out
    }
}

struct SseState {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    decoder: ChatStreamDecoder,
    pending: VecDeque<Result<ChatChunk>>,
    finished: bool,
    idle: Duration,
}

/// Chunks from an SSE body, with an idle timeout between network reads.
fn sse_chunks(
    body: impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    idle: Duration,
) -> impl Stream<Item = Result<ChatChunk>> + Send + 'static {
    let state = SseState {
        body: Box::pin(body),
        decoder: ChatStreamDecoder::new(),
        pending: VecDeque::new(),
        finished: false,
        idle,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.pending.pop_front() {
                return Some((item, st));
            }
            if st.finished {
                return None;
            }
            match tokio::time::timeout(st.idle, st.body.next()).await {
                Ok(Some(Ok(bytes))) => {
                    let chunks = st.decoder.feed(&bytes);
                    st.pending.extend(chunks);
                    st.finished = st.decoder.is_done();
                }
                Ok(Some(Err(e))) => {
                    st.finished = true;
                    return Some((
                        Err(Error::from_reqwest(e, "POST /ai/chat (stream)", st.idle)),
                        st,
                    ));
                }
                Ok(None) => {
                    let chunks = st.decoder.finish();
                    st.pending.extend(chunks);
                    st.finished = true;
                }
                Err(_) => {
                    st.finished = true;
                    let msg = format!(
                        "POST /ai/chat (stream): no data for {} ms",
                        st.idle.as_millis()
                    );
                    return Some((Err(Error::new(ErrorCode::Timeout, msg)), st));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoder_takes_bytes_split_anywhere() {
        let body = "data: {\"choices\":[{\"delta\":{\"content\":\"hé\"}}]}\n\n: keep-alive\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"llo\"},\"finish_reason\":\"stop\"}]}\r\n\r\ndata: {\"error\":{\"message\":\"boom\"}}\n\ndata: [DONE]\n\n";
        let bytes = body.as_bytes();
        for split in 1..bytes.len() {
            let mut d = ChatStreamDecoder::new();
            let mut got = d.feed(&bytes[..split]);
            got.extend(d.feed(&bytes[split..]));
            assert!(d.is_done(), "split at {split}");
            got.extend(d.finish());
            let text: String = got
                .iter()
                .filter_map(|c| c.as_ref().ok())
                .map(|c| c.delta.as_str())
                .collect();
            assert_eq!(text, "héllo", "split at {split}");
            assert_eq!(got.len(), 3);
            assert_eq!(got[2].as_ref().unwrap_err().message(), "boom");
        }
        // Without [DONE], finish() ends it and keeps a last event with no blank line.
        let mut d = ChatStreamDecoder::new();
        assert!(d.feed(b"data: {\"response\":\"x\"}").is_empty());
        assert_eq!(d.finish()[0].as_ref().unwrap().delta, "x");
        assert!(d.is_done());
    }

    #[test]
    fn frames_to_chunks() {
        let c = chunk_from_frame(r#"{"choices":[{"delta":{"content":"Hel"}}],"model":"m"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(c.delta, "Hel");
        assert_eq!(c.model.as_deref(), Some("m"));
        let c = chunk_from_frame(r#"{"response":"lo"}"#).unwrap().unwrap();
        assert_eq!(c.delta, "lo");
        let c = chunk_from_frame(
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.usage.unwrap().total_tokens, 5);
        assert!(
            chunk_from_frame("not json").is_none(),
            "malformed frames are skipped"
        );
        assert!(
            chunk_from_frame(r#"{"choices":[{"delta":{}}]}"#).is_none(),
            "empty deltas are skipped"
        );
        let e = chunk_from_frame(r#"{"error":{"message":"overloaded"}}"#)
            .unwrap()
            .unwrap_err();
        assert_eq!(e.code(), &ErrorCode::AiRequestFailed);
        assert_eq!(e.message(), "overloaded");
    }

    #[tokio::test]
    async fn sse_stream_over_split_chunks() {
        let raw = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: garbage\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        let chunks: Vec<reqwest::Result<Bytes>> = raw
            .as_bytes()
            .chunks(7)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let items: Vec<_> = sse_chunks(futures_util::stream::iter(chunks), Duration::from_secs(5))
            .collect()
            .await;
        let text: String = items
            .iter()
            .map(|i| i.as_ref().unwrap().delta.as_str())
            .collect();
        assert_eq!(text, "Hello");
        assert_eq!(
            items
                .last()
                .unwrap()
                .as_ref()
                .unwrap()
                .finish_reason
                .as_deref(),
            Some("stop")
        );
    }

    #[test]
    fn chat_response_from_both_generations() {
        let w: WireChat = serde_json::from_str(
            r#"{"response":"old","choices":[{"message":{"role":"assistant","content":"new"},"finish_reason":"stop"}],"usage":{"total_tokens":9}}"#,
        )
        .unwrap();
        let r = response_from_wire(w);
        assert_eq!(r.text, "new");
        assert_eq!(r.usage.unwrap().total_tokens, 9);
        let w: WireChat = serde_json::from_str(r#"{"response":"only"}"#).unwrap();
        assert_eq!(response_from_wire(w).text, "only");
    }
}
