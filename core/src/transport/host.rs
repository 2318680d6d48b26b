//! Sending requests through the host language's HTTP client.
//!
//! A binding whose user passed their own client (`SDK(client=httpx.Client(...))`) runs the engine
//! call inside [`with_host`]. Every attempt the transport would hand to reqwest becomes a
//! [`HostExchange`] on the link's channel instead; the binding *pulls* it, performs it with the
//! user's client and answers through [`HostExchange::reply`]. Everything else (URLs, headers,
//! idempotency keys, retries, timeouts, error mapping, decoding) stays in the engine, and the
//! engine never calls into the host from its own threads.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use reqwest::Response;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, ErrorCode, Result};

/// One HTTP request the host must perform, fully built (default and per-call headers included).
/// `Debug` hides credential header values, as the engine never prints keys.
#[derive(Clone)]
pub struct HostRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Every header to send, in order; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The whole body (multipart uploads are collected first); empty for none.
    pub body: Bytes,
}

impl std::fmt::Debug for HostRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let secret = ["x-aerostack-key", "x-api-key", "authorization"]
                    .iter()
                    .any(|s| n.eq_ignore_ascii_case(s));
                (n.as_str(), if secret { "<redacted>" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("HostRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The host's answer: status, headers and the whole (already decompressed) body.
#[derive(Debug, Clone)]
pub struct HostResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Bytes,
}

/// A request waiting for the host, with the channel its answer goes back on. Answer `Err(message)`
/// when the host client failed (connection refused, TLS, ...): the engine treats it as a network
/// error and retries it like one. Dropping `reply` unanswered counts as a failure too.
#[derive(Debug)]
pub struct HostExchange {
    /// What to send.
    pub request: HostRequest,
    /// Where the answer goes.
    pub reply: oneshot::Sender<std::result::Result<HostResponse, String>>,
}

/// The sending side of a host link; [`with_host`] makes it visible to the transport.
#[derive(Debug, Clone)]
pub struct HostLink(mpsc::UnboundedSender<HostExchange>);

impl HostLink {
    /// A link and the receiver the host pulls exchanges from.
    pub fn channel() -> (HostLink, mpsc::UnboundedReceiver<HostExchange>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (HostLink(tx), rx)
    }
}

impl From<mpsc::UnboundedSender<HostExchange>> for HostLink {
    fn from(tx: mpsc::UnboundedSender<HostExchange>) -> HostLink {
        HostLink(tx)
    }
}

tokio::task_local! {
    static HOST: HostLink;
}

/// Runs `fut` with every HTTP request it makes routed through `link` instead of reqwest.
/// Only requests made on this task are affected (not tasks it spawns, e.g. realtime sockets).
pub async fn with_host<F: Future>(link: HostLink, fut: F) -> F::Output {
    HOST.scope(link, fut).await
}

/// The link of the current task, if it runs under [`with_host`].
pub(crate) fn current() -> Option<HostLink> {
    HOST.try_with(HostLink::clone).ok()
}

/// Sends one attempt through the host and turns its answer into a `reqwest::Response`, so the
/// rest of the transport cannot tell the difference. `defaults` are the headers reqwest would have
/// added (without overriding the request's own).
pub(crate) async fn exchange(
    link: HostLink,
    mut req: reqwest::Request,
    defaults: &HeaderMap,
    timeout: Duration,
) -> Result<Response> {
    let what = super::what(req.method(), req.url());
    let method = req.method().as_str().to_owned();
    let url = req.url().as_str().to_owned();
    let mut headers = Vec::with_capacity(req.headers().len() + defaults.len());
    for (name, value) in req.headers().iter().chain(
        defaults
            .iter()
            .filter(|(name, _)| !req.headers().contains_key(*name)),
    ) {
        headers.push((name.as_str().to_owned(), header_string(value)));
    }
    // JSON bodies are one in-memory chunk (no copy); multipart uploads are streams, read here.
    let body = match req.body_mut().take() {
        Some(body) => body
            .collect()
            .await
            .map_err(|e| Error::from_reqwest(e, &format!("{what}: reading the upload"), timeout))?
            .to_bytes(),
        None => Bytes::new(),
    };

    let (tx, rx) = oneshot::channel();
    let request = HostRequest {
        method,
        url,
        headers,
        body,
    };
    if link.0.send(HostExchange { request, reply: tx }).is_err() {
        return Err(host_error(
            &what,
            "the host is no longer taking requests for this call",
        ));
    }
    match rx.await {
        Ok(Ok(resp)) => into_response(resp).map_err(|m| host_error(&what, &m)),
        Ok(Err(msg)) => Err(host_error(&what, &msg)),
        Err(_) => Err(host_error(
            &what,
            "the request was dropped without an answer",
        )),
    }
}

/// NETWORK_ERROR (retryable, like a failed connection) naming the host client as the cause.
fn host_error(what: &str, msg: &str) -> Error {
    Error::new(
        ErrorCode::NetworkError,
        format!("{what}: the host HTTP client failed: {msg}"),
    )
}

fn header_string(value: &HeaderValue) -> String {
    match value.to_str() {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
    }
}

fn into_response(resp: HostResponse) -> std::result::Result<Response, String> {
    let status = http::StatusCode::from_u16(resp.status)
        .map_err(|_| format!("it answered with an invalid HTTP status {}", resp.status))?;
    let mut out = http::Response::new(resp.body);
    *out.status_mut() = status;
    let h = out.headers_mut();
    for (name, value) in resp.headers {
        // A header the engine cannot represent is one it does not read either: skip it rather
        // than fail an otherwise good answer.
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(n), Ok(v)) => {
                h.append(n, v);
            }
            _ => {
                tracing::debug!(header = %name, "aerostack: skipping an invalid host response header")
            }
        }
    }
    Ok(Response::from(out))
}
