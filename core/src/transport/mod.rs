//! The one funnel every request goes through: headers (`X-Request-ID` once per logical call,
//! `Idempotency-Key` once per non-idempotent call), per-attempt timeouts, retries with backoff,
//! and turning non-2xx answers into [`Error`]s.
//!
//! Nothing here spawns a task: dropping the returned future drops the in-flight request, which is
//! how cancellation works.
//!
//! Each attempt goes out through reqwest, or through the host language's own HTTP client when the
//! call runs under [`host::with_host`]; everything above the wire is the same either way.

mod direct;
pub(crate) mod host;
mod idempotency;
mod payload;
pub(crate) mod retry_after;
mod url_cache;

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Response, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use direct::Direct;
pub(crate) use idempotency::{is_idempotent_request, sql_is_read};
pub(crate) use payload::{Activity, FormSource};
pub(crate) use url_cache::UrlCache;

use crate::config::header_map;
use crate::error::{Error, ErrorCode, Result, RouteFamily};
use crate::options::CallOptions;
use crate::retry::RetryPolicy;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
static X_PROJECT_ID: HeaderName = HeaderName::from_static("x-project-id");
static JSON: HeaderValue = HeaderValue::from_static("application/json");

/// What a request sends.
pub(crate) enum Payload {
    /// No body.
    Empty,
    /// A serialized JSON body; `Bytes` makes re-sending on retry free.
    Json(Bytes),
    /// A multipart form rebuilt per attempt (files are re-opened; readers cannot be replayed).
    Multipart(Box<dyn FormSource>),
}

/// One logical call, before retries.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub url: String,
    pub payload: Payload,
    /// Idempotent calls carry no `Idempotency-Key`; the others get one generated per call.
    pub idempotent: bool,
    pub family: RouteFamily,
    /// End-user access token sent as `Authorization: Bearer`.
    pub bearer: Option<&'a str>,
    /// Send `X-Project-Id` (custom API calls).
    pub project_header: bool,
}

impl<'a> Call<'a> {
    /// An API-key call with no body.
    pub(crate) fn new(method: Method, url: String, idempotent: bool) -> Call<'a> {
        Call {
            method,
            url,
            payload: Payload::Empty,
            idempotent,
            family: RouteFamily::ApiKey,
            bearer: None,
            project_header: false,
        }
    }

    /// Sets a JSON body.
    pub(crate) fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Call<'a>> {
        self.payload = Payload::Json(encode(body)?);
        Ok(self)
    }

    /// Marks the call as an end-user credential route (401 = bad credentials).
    pub(crate) fn user_auth(mut self) -> Call<'a> {
        self.family = RouteFamily::UserAuth;
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub(crate) fn bearer(mut self, token: &'a str) -> Call<'a> {
        self.bearer = Some(token);
        self
    }
}

/// Serializes a request body straight to bytes.
pub(crate) fn encode<B: Serialize + ?Sized>(body: &B) -> Result<Bytes> {
    serde_json::to_vec(body).map(Bytes::from).map_err(|e| {
        Error::new(
            ErrorCode::ValidationError,
            format!("the request body could not be encoded as JSON: {e}"),
        )
        .with_source(e)
    })
}

/// A successful answer with its body read.
pub(crate) struct Reply {
    /// `Content-Type` of the answer (a cheap, shared clone of the header value).
    pub content_type: Option<HeaderValue>,
    pub body: Bytes,
}

enum Mode {
    /// Read the whole body inside the attempt (so a broken body is retried too).
    Full,
    /// Return the response once the status is 2xx; the caller streams the body.
    Streaming,
}

enum Done {
    Full(Reply),
    Streaming(Response),
}

/// A client's HTTP state, owned here: one connection pool and the resolved settings. `Client`
/// holds it in an `Arc`; every call runs through a [`Transport`] view of it.
pub(crate) struct Http {
    pub http: reqwest::Client,
    /// The headers `http` adds to every request (key, user agent, config headers): reqwest keeps
    /// them private, and requests sent through a host HTTP client must carry them too.
    pub default_headers: reqwest::header::HeaderMap,
    pub base_url: String,
    pub host_url: String,
    pub project_id: Option<String>,
    pub has_api_key: bool,
    /// The key itself, for the realtime socket's `aerostack-key.<key>` subprotocol (never logged).
    pub api_key: Option<String>,
    /// The AI-gateway consumer key of the config (never logged).
    pub consumer_key: Option<String>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub project_header: Option<HeaderValue>,
    /// This client's identity in what it reports (log lines), shared by its `with_options` views.
    pub id: u64,
    pub urls: UrlCache,
    /// The client JSON calls go through (`direct.rs`); `None` leaves every call to `http`.
    pub direct: Option<Direct>,
}

/// One call's view of the transport: the client's HTTP state and its per-call options.
#[derive(Clone, Copy)]
pub(crate) struct Transport<'a> {
    pub http: &'a Http,
    pub opts: Option<&'a CallOptions>,
}

impl Transport<'_> {
    /// Full URL of a `/v1` path (`path` starts with `/`).
    pub(crate) fn api_url(&self, path: &str) -> String {
        let base = &self.http.base_url;
        let mut s = String::with_capacity(base.len() + path.len());
        s.push_str(base);
        s.push_str(path);
        s
    }

    /// Full URL of a host-level path such as `/api/v1/public/...`.
    pub(crate) fn host_url(&self, path: &str) -> String {
        let host = &self.http.host_url;
        let mut s = String::with_capacity(host.len() + path.len());
        s.push_str(host);
        s.push_str(path);
        s
    }

    /// POSTs a JSON body to a `/v1` path and decodes the JSON answer into `T`.
    pub(crate) async fn post<B, T>(&self, path: &str, body: &B, idempotent: bool) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let call = Call::new(Method::POST, self.api_url(path), idempotent).json(body)?;
        let reply = self.fetch(call).await?;
        decode(&reply.body, &Method::POST, path)
    }

    /// Runs a call and decodes its JSON answer into `T`.
    pub(crate) async fn fetch_json<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T> {
        let method = call.method.clone();
        let url = call.url.clone();
        let reply = self.fetch(call).await?;
        decode(&reply.body, &method, &url)
    }

    /// Runs a call (with retries) and reads the whole 2xx body.
    pub(crate) async fn fetch(&self, call: Call<'_>) -> Result<Reply> {
        match self.run(call, Mode::Full).await? {
            Done::Full(reply) => Ok(reply),
            Done::Streaming(_) => unreachable!("full mode reads the body"),
        }
    }

    /// Runs a call (with retries on the way to a 2xx status) and hands back the response so the
    /// caller can stream its body. The timeout covers the wait for the response head.
    pub(crate) async fn fetch_streaming(&self, call: Call<'_>) -> Result<Response> {
        match self.run(call, Mode::Streaming).await? {
            Done::Streaming(resp) => Ok(resp),
            Done::Full(_) => unreachable!("streaming mode returns the response"),
        }
    }

    /// The effective per-attempt timeout of this client (config or call options).
    pub(crate) fn timeout(&self) -> Duration {
        self.opts
            .and_then(|o| o.timeout_ms)
            .map(Duration::from_millis)
            .unwrap_or(self.http.timeout)
    }

    async fn run(&self, mut call: Call<'_>, mode: Mode) -> Result<Done> {
        let opts = self.opts;
        let policy = opts
            .and_then(|o| o.retry.as_ref())
            .unwrap_or(&self.http.retry);
        let timeout = self.timeout();
        let target = self.http.urls.parse(&call.url).map_err(|e| {
            Error::invalid_config(format!("invalid request URL {:?}: {e}", call.url))
        })?;
        let url = target.url;
        // Whole JSON answers go through the direct client unless the host carries the call or a
        // proxy variable covers the URL (see direct.rs).
        let direct = match (&mode, &call.payload, &self.http.direct, target.uri) {
            (Mode::Full, Payload::Json(_) | Payload::Empty, Some(d), Some(uri))
                if d.serves(&uri) && host::current().is_none() =>
            {
                Some((d, uri))
            }
            _ => None,
        };

        // Built once per logical call: the same ids go out on every attempt so logs correlate and
        // the platform can deduplicate.
        let request_id = random_header_value();
        let idempotency_key = match opts.and_then(|o| o.idempotency_key.as_deref()) {
            Some(k) => Some(HeaderValue::from_str(k).map_err(|_| {
                Error::invalid_config("CallOptions.idempotency_key must be printable ASCII")
            })?),
            None if !call.idempotent => Some(random_header_value()),
            None => None,
        };
        let extra = match opts {
            Some(o) if !o.headers.is_empty() => {
                Some(header_map(&o.headers, "CallOptions.headers")?)
            }
            _ => None,
        };
        let bearer = match call.bearer {
            Some(token) => {
                let mut v =
                    HeaderValue::try_from(format!("Bearer {}", token.trim())).map_err(|_| {
                        Error::validation(
                            "access_token",
                            "access_token contains characters not allowed in an HTTP header",
                        )
                    })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        let project = if call.project_header {
            self.http.project_header.clone()
        } else {
            None
        };
        let add_headers = |h: &mut HeaderMap| {
            h.insert(X_REQUEST_ID.clone(), request_id.clone());
            if let Some(k) = &idempotency_key {
                h.insert(IDEMPOTENCY_KEY.clone(), k.clone());
            }
            if let Some(b) = &bearer {
                h.insert(header::AUTHORIZATION, b.clone());
            }
            if let Some(p) = &project {
                h.insert(X_PROJECT_ID.clone(), p.clone());
            }
            if let Some(extra) = &extra {
                for (name, value) in extra {
                    h.insert(name.clone(), value.clone());
                }
            }
        };

        let started = Instant::now();
        let mut retry = 0u32;
        loop {
            let mut sent = None;
            if let Some((d, uri)) = &direct {
                let mut h = self.http.default_headers.clone();
                let body = match &call.payload {
                    Payload::Json(bytes) => {
                        h.insert(header::CONTENT_TYPE, JSON.clone());
                        bytes.clone()
                    }
                    _ => Bytes::new(),
                };
                add_headers(&mut h);
                let method = call.method.clone();
                sent = Some(d.exchange(method, uri.clone(), h, body, timeout).await);
            }
            let err = match sent {
                Some(Ok(direct::Exchange::Answer {
                    status,
                    headers,
                    body,
                })) => {
                    if status.is_success() {
                        let content_type = headers.get(header::CONTENT_TYPE).cloned();
                        return Ok(Done::Full(Reply { content_type, body }));
                    }
                    answer_error(status.as_u16(), &headers, &body, call.family)
                }
                Some(Err(failure)) => direct_error(failure, &call.method, &url, timeout),
                Some(Ok(direct::Exchange::Redirect)) | None => {
                    match self
                        .attempt(&mut call, &mode, &url, timeout, &add_headers)
                        .await
                    {
                        Ok(done) => return Ok(done),
                        Err(e) => e,
                    }
                }
            };

            let err = err.with_request_id(request_id.to_str().ok().map(str::to_owned));

            let may_retry = match err.status() {
                Some(_) => err.retryable(),
                None => policy.retry_connection_errors && err.retryable(),
            };
            let replayable = match &call.payload {
                Payload::Multipart(source) => source.replayable(),
                _ => true,
            };
            let delay = if may_retry && replayable {
                policy.next_delay(
                    retry,
                    started.elapsed(),
                    err.retry_after(),
                    crate::retry::jitter_unit(),
                )
            } else {
                None
            };
            let Some(delay) = delay else { return Err(err) };
            let mut shown = url.clone();
            shown.set_query(None);
            crate::observe::retry(&crate::observe::RetryNotice {
                client: self.http.id,
                method: call.method.as_str(),
                url: shown.as_str(),
                attempt: retry + 1,
                code: err.code().as_str(),
                status: err.status(),
                message: err.message(),
                delay,
            });
            tracing::debug!(
                method = %call.method, url = %url, attempt = retry + 1, code = %err.code(),
                delay_ms = delay.as_millis() as u64, "aerostack: retrying"
            );
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }
}

type Request = reqwest::Request;

impl Transport<'_> {
    /// One attempt through reqwest (uploads, streamed answers, proxied URLs, redirects).
    async fn attempt(
        &self,
        call: &mut Call<'_>,
        mode: &Mode,
        url: &Url,
        timeout: Duration,
        add_headers: &impl Fn(&mut HeaderMap),
    ) -> Result<Done> {
        let mut activity = None;
        let mut req = match &mut call.payload {
            Payload::Empty => Request::new(call.method.clone(), url.clone()),
            Payload::Json(bytes) => {
                let mut r = Request::new(call.method.clone(), url.clone());
                r.headers_mut().insert(header::CONTENT_TYPE, JSON.clone());
                *r.body_mut() = Some(bytes.clone().into());
                r
            }
            Payload::Multipart(source) => {
                let tracker = Activity::new();
                let form = source.form(tracker.clone()).await?;
                activity = Some(tracker);
                self.http
                    .http
                    .request(call.method.clone(), url.clone())
                    .multipart(form)
                    .build()
                    .map_err(|e| Error::from_reqwest(e, "building the upload", timeout))?
            }
        };
        add_headers(req.headers_mut());

        let result: Result<Response> = match (&mode, &activity) {
            // Uploads: the timeout is an idle timeout (no bytes moved), not a total.
            (_, Some(activity)) => {
                match activity
                    .guard(self.send(req, &call.method, url, timeout, false), timeout)
                    .await
                {
                    Some(r) => r,
                    None => Err(timeout_error(&call.method, url, timeout)),
                }
            }
            (Mode::Full, None) => {
                *req.timeout_mut() = Some(timeout);
                self.send(req, &call.method, url, timeout, true).await
            }
            (Mode::Streaming, None) => {
                match tokio::time::timeout(
                    timeout,
                    self.send(req, &call.method, url, timeout, false),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => Err(timeout_error(&call.method, url, timeout)),
                }
            }
        };

        match result {
            Ok(resp) if resp.status().is_success() => match mode {
                Mode::Streaming => Ok(Done::Streaming(resp)),
                Mode::Full => {
                    let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
                    match read_body(resp, timeout, activity.is_some()).await {
                        Ok(body) => Ok(Done::Full(Reply { content_type, body })),
                        Err(e) => Err(e.into_error(&call.method, url, timeout)),
                    }
                }
            },
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                let body = read_body(resp, timeout, true).await.unwrap_or_default();
                Err(answer_error(status, &headers, &body, call.family))
            }
            Err(e) => Err(e),
        }
    }

    /// Sends one attempt: through the host's HTTP client when this task runs under
    /// [`host::with_host`], else through reqwest. `total` asks for `timeout` to bound the whole
    /// exchange where the caller does not (reqwest enforces it from `Request::timeout`; a host
    /// answer arrives whole, so bounding the wait bounds everything).
    async fn send(
        &self,
        req: Request,
        method: &Method,
        url: &Url,
        timeout: Duration,
        total: bool,
    ) -> Result<Response> {
        let Some(link) = host::current() else {
            return self
                .http
                .http
                .execute(req)
                .await
                .map_err(|e| network_error(e, method, url, timeout));
        };
        let exchange = host::exchange(link, req, &self.http.default_headers, timeout);
        if !total {
            return exchange.await;
        }
        match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(timeout_error(method, url, timeout)),
        }
    }
}

enum BodyError {
    Http(reqwest::Error),
    TimedOut,
}

impl BodyError {
    fn into_error(self, method: &Method, url: &Url, timeout: Duration) -> Error {
        match self {
            BodyError::Http(e) => network_error(e, method, url, timeout),
            BodyError::TimedOut => timeout_error(method, url, timeout),
        }
    }
}

/// Reads a body. `bound` adds an engine-side timeout where reqwest's is not set (uploads, and
/// error bodies in streaming mode).
async fn read_body(
    resp: Response,
    timeout: Duration,
    bound: bool,
) -> std::result::Result<Bytes, BodyError> {
    if !bound {
        return resp.bytes().await.map_err(BodyError::Http);
    }
    match tokio::time::timeout(timeout, resp.bytes()).await {
        Ok(r) => r.map_err(BodyError::Http),
        Err(_) => Err(BodyError::TimedOut),
    }
}

fn what(method: &Method, url: &Url) -> String {
    format!("{method} {}", url.path())
}

/// A failed exchange, naming the whole URL it tried (scheme, host and port included: the usual
/// cause is a wrong base URL or a platform that is not running).
fn network_error(e: reqwest::Error, method: &Method, url: &Url, timeout: Duration) -> Error {
    Error::from_reqwest(e, &exchange_what(method, url), timeout)
}

/// `METHOD url` without the query (which may hold tokens), as failed exchanges name themselves.
fn exchange_what(method: &Method, url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    format!("{method} {shown}")
}

/// A failed exchange of the direct client, worded as reqwest's are.
fn direct_error(f: direct::Failure, method: &Method, url: &Url, timeout: Duration) -> Error {
    let what = exchange_what(method, url);
    match f {
        direct::Failure::TimedOut => Error::timed_out(&what, timeout),
        direct::Failure::Request(e) => {
            let connect = e.is_connect();
            Error::network(&what, connect, e)
        }
        direct::Failure::Body(e) => Error::network(&what, false, e),
    }
}

/// The error a non-2xx answer stands for.
fn answer_error(status: u16, headers: &HeaderMap, body: &[u8], family: RouteFamily) -> Error {
    let retry_after = retry_after::from_headers(headers);
    let echoed = headers
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Error::from_response(status, body, retry_after, echoed, family)
}

/// TIMEOUT for timeouts the engine enforces itself (stream heads, uploads).
pub(crate) fn timeout_error(method: &Method, url: &Url, timeout: Duration) -> Error {
    Error::new(
        ErrorCode::Timeout,
        format!(
            "{} timed out after {} ms; raise CallOptions.timeout_ms or ClientConfig.timeout_ms if the operation is slow",
            what(method, url),
            timeout.as_millis()
        ),
    )
}

/// Decodes a JSON body; `target` (a URL or a path) names the call on failure.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8], method: &Method, target: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        if let Some(cut) = stream_error(body) {
            return cut;
        }
        let path = Url::parse(target)
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|_| target.to_owned());
        Error::decode(&format!("{method} {path}"), e, body)
    })
}

/// The error of a streamed answer the platform cut short (a result cap or the deadline, met
/// after the 200 went out): the body then ends with a newline and the error object plus its
/// `status` (compact JSON never holds a raw newline). `None` for any other body.
fn stream_error(body: &[u8]) -> Option<Error> {
    let nl = body.iter().rposition(|&b| b == b'\n')?;
    let tail = &body[nl + 1..];
    let v: serde_json::Value = serde_json::from_slice(tail).ok()?;
    let status = u16::try_from(v.get("status")?.as_u64()?).ok()?;
    v.get("code")?.as_str()?;
    Some(Error::from_response(
        status,
        tail,
        None,
        None,
        crate::error::RouteFamily::ApiKey,
    ))
}

/// A random UUIDv4 as a header value (request ids, idempotency keys).
pub(crate) fn random_header_value() -> HeaderValue {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let s = id.hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(s).expect("a uuid is a valid header value")
}
