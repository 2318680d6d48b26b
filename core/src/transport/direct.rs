//! The client JSON calls go out through: hyper-util's pooled client (HTTP/1.1, and HTTP/2 where
//! TLS negotiates it) with no layers on top.
//!
//! reqwest wraps the same hyper client in a tower stack that, for every request, clones it (for
//! its protocol-NACK retries), parses its URL again (the redirect layer) and clones its client:
//! about a third of a call's user CPU with 100 calls in flight (docs/architecture.md). The engine
//! already does what those layers are for, retries and errors, so JSON calls skip them. reqwest
//! keeps everything else: streamed answers, uploads, URLs a proxy variable covers (the same
//! matcher reqwest uses decides), and redirects: a 3xx answer here is sent again through reqwest,
//! which follows it.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};

pub(crate) struct Direct {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    proxies: Matcher,
}

/// What one exchange gave back.
pub(crate) enum Exchange {
    /// The whole answer.
    Answer {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    },
    /// A redirect (301, 302, 303, 307, 308): for reqwest to send again and follow.
    Redirect,
}

/// Why an exchange failed.
pub(crate) enum Failure {
    TimedOut,
    /// Before an answer: connecting, or sending.
    Request(hyper_util::client::legacy::Error),
    /// While reading the answer's body.
    Body(hyper::Error),
}

impl Direct {
    /// `None` when TLS cannot be set up here (reqwest then carries every call and reports it).
    pub(crate) fn new(connect_timeout: Duration) -> Option<Direct> {
        let tls = crate::realtime::socket::tls_config().ok()?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_timer(TokioTimer::new())
            .build(https);
        Some(Direct {
            client,
            proxies: Matcher::from_system(),
        })
    }

    /// Whether a call to `uri` goes out here: not when a proxy variable covers it.
    pub(crate) fn serves(&self, uri: &Uri) -> bool {
        self.proxies.intercept(uri).is_none()
    }

    /// Sends one request and reads its whole answer, all within `timeout`.
    pub(crate) async fn exchange(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Exchange, Failure> {
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.headers_mut() = headers;
        let work = async {
            let resp = self.client.request(req).await.map_err(Failure::Request)?;
            if is_followed_redirect(resp.status()) {
                return Ok(Exchange::Redirect);
            }
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.map_err(Failure::Body)?.to_bytes();
            Ok(Exchange::Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(timeout, work)
            .await
            .unwrap_or(Err(Failure::TimedOut))
    }
}

/// The statuses reqwest's default policy follows.
fn is_followed_redirect(s: StatusCode) -> bool {
    matches!(s.as_u16(), 301 | 302 | 303 | 307 | 308)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_a_proxy_variable_covers_are_left_to_reqwest() {
        let mut d = Direct::new(Duration::from_secs(1)).expect("TLS setup");
        d.proxies = Matcher::builder()
            .http("http://proxy.invalid:3128")
            .no("localhost")
            .build();
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        assert!(!d.serves(&uri("http://api.example.com/v1/db/query")));
        assert!(
            d.serves(&uri("http://localhost:8787/v1/db/query")),
            "NO_PROXY"
        );
        assert!(
            d.serves(&uri("https://api.example.com/v1/db/query")),
            "no https proxy"
        );
    }

    #[test]
    fn the_redirects_reqwest_follows_are_handed_back() {
        for s in [301, 302, 303, 307, 308] {
            assert!(is_followed_redirect(StatusCode::from_u16(s).unwrap()));
        }
        for s in [200, 304, 400, 500] {
            assert!(!is_followed_redirect(StatusCode::from_u16(s).unwrap()));
        }
    }
}
