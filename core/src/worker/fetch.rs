//! `sdk.fetch(url, options)`: outbound HTTP from a handler (webhooks, third-party APIs). It uses
//! its own HTTP client so the project's key and scope token never leak to third parties, and
//! sends `User-Agent: aerostack-hooks/<version>`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};

/// User-Agent of outbound requests.
pub const FETCH_USER_AGENT: &str = concat!("aerostack-hooks/", env!("CARGO_PKG_VERSION"));
/// Timeout of a fetch that sets none.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Options of [`super::Sdk::fetch`] (the `init` of JavaScript's `fetch`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FetchOptions {
    /// HTTP method; `GET` when `None`.
    pub method: Option<String>,
    /// Request headers.
    pub headers: BTreeMap<String, String>,
    /// Request body (text, e.g. `JSON.stringify`-ed data).
    pub body: Option<String>,
    /// Whole-request timeout; 30 s when `None`.
    pub timeout: Option<Duration>,
}

impl FetchOptions {
    /// A request with `method`.
    pub fn method(method: impl Into<String>) -> FetchOptions {
        FetchOptions {
            method: Some(method.into()),
            ..FetchOptions::default()
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets a text body.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets a JSON body and `Content-Type: application/json` (unless already set).
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let text = serde_json::to_string(body)
            .map_err(|e| Error::validation("body", format!("body is not serializable: {e}")))?;
        if !self
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("content-type"))
        {
            self.headers
                .insert("Content-Type".into(), "application/json".into());
        }
        self.body = Some(text);
        Ok(self)
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// The answer of a fetch. Non-2xx statuses are answers too, not errors (as in JavaScript).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FetchResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers (lower-case names; repeated headers joined with `, `).
    pub headers: BTreeMap<String, String>,
    /// The body as text (lossy UTF-8).
    pub body: String,
}

impl FetchResponse {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.body).map_err(|e| {
            Error::new(
                ErrorCode::DecodeError,
                format!("the fetched body is not JSON ({e}); read `.body` as text instead"),
            )
        })
    }
}

/// The HTTP client behind `fetch`: no default headers of the platform client.
pub(crate) fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(FETCH_USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::invalid_config(format!("could not build the fetch client: {e}")))
}

pub(crate) async fn fetch(
    http: &reqwest::Client,
    url: &str,
    options: FetchOptions,
) -> Result<FetchResponse> {
    let parsed = url::Url::parse(url).map_err(|e| {
        Error::validation(
            "url",
            format!("{url:?} is not an absolute URL ({e}), e.g. https://api.example.com/hook"),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::validation(
            "url",
            format!(
                "fetch supports http and https URLs, got {:?}",
                parsed.scheme()
            ),
        ));
    }
    let method_name = options
        .method
        .as_deref()
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let method = reqwest::Method::from_bytes(method_name.as_bytes()).map_err(|_| {
        Error::validation("method", format!("{method_name:?} is not an HTTP method"))
    })?;
    let timeout = options.timeout.unwrap_or(DEFAULT_FETCH_TIMEOUT);
    let mut req = http.request(method, parsed).timeout(timeout);
    for (k, v) in &options.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    if let Some(body) = options.body {
        req = req.body(body);
    }
    let what = format!("fetch {method_name} {url}");
    let resp = req
        .send()
        .await
        .map_err(|e| Error::from_reqwest(e, &what, timeout))?;
    let status = resp.status().as_u16();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in resp.headers() {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        headers
            .entry(k.as_str().to_string())
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(&v);
            })
            .or_insert(v);
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| Error::from_reqwest(e, &what, timeout))?;
    Ok(FetchResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}
