//! The engine's entry point: [`Client`], a cheap-to-clone handle over one connection pool.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::Value;

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::options::CallOptions;
use crate::services::{Ai, Auth, Cache, Db, Queue, Secrets, Services, Storage};
use crate::transport::{Call, Http, Reply, Transport, is_idempotent_request};

/// A client of one Aerostack project.
///
/// Cloning is cheap (an `Arc`); clones share the connection pool. Every method's future can be
/// dropped to cancel the call: no background task keeps running.
///
/// ```no_run
/// # async fn demo() -> aerostack::Result<()> {
/// let client = aerostack::Client::new(
///     aerostack::ClientConfig::new().base_url("http://127.0.0.1:8787/v1").api_key("ac_secret_…"),
/// )?;
/// client.cache().set("greeting", &"hello", Some(60)).await?;
/// let rows = client.db().query("SELECT 1 AS one", &[]).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Http>,
    /// Per-call overrides set by [`Client::with_options`].
    pub(crate) opts: Option<Arc<CallOptions>>,
}

/// Client identities, from 1.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key.
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("project_id", &self.inner.project_id)
            .field("has_api_key", &self.inner.has_api_key)
            .field("options", &self.opts)
            .finish()
    }
}

impl Client {
    /// Builds a client; fails with `INVALID_CONFIG` naming the field to fix.
    pub fn new(config: ClientConfig) -> Result<Client> {
        let r = config.resolve()?;
        let http = reqwest::Client::builder()
            .default_headers(r.headers.clone())
            .connect_timeout(r.connect_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| Error::invalid_config(format!("could not build the HTTP client: {e}")))?;
        let project_header = r
            .project_id
            .as_deref()
            .and_then(|p| HeaderValue::from_str(p).ok());
        Ok(Client {
            inner: Arc::new(Http {
                http,
                default_headers: r.headers,
                base_url: r.base_url,
                host_url: r.host_url,
                project_id: r.project_id,
                has_api_key: r.api_key.is_some(),
                api_key: r.api_key.clone(),
                consumer_key: r.consumer_key.clone(),
                timeout: r.timeout,
                retry: r.retry,
                project_header,
                id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                urls: Default::default(),
                direct: crate::transport::Direct::new(r.connect_timeout),
            }),
            opts: None,
        })
    }

    /// This client's identity, shared by its [`Client::with_options`] views: what the engine's
    /// reports (retry notices, log lines) carry, so a host can route them to the client's own
    /// logger.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// A client configured only from `AEROSTACK_API_URL`, `AEROSTACK_API_KEY` and
    /// `AEROSTACK_PROJECT_ID`.
    pub fn from_env() -> Result<Client> {
        Client::new(ClientConfig::default())
    }

    /// A clone whose calls use `options` (timeout, retry policy, idempotency key, headers),
    /// replacing any options this client already had. Cheap: shares the connection pool.
    pub fn with_options(&self, options: CallOptions) -> Client {
        Client {
            inner: self.inner.clone(),
            opts: Some(Arc::new(options)),
        }
    }

    /// This client's transport: its HTTP state with its per-call options.
    pub(crate) fn transport(&self) -> Transport<'_> {
        Transport {
            http: &self.inner,
            opts: self.opts.as_deref(),
        }
    }

    /// Full URL of a `/v1` path (`path` starts with `/`).
    pub(crate) fn api_url(&self, path: &str) -> String {
        self.transport().api_url(path)
    }

    /// Full URL of a host-level path such as `/api/v1/public/...`.
    pub(crate) fn host_url(&self, path: &str) -> String {
        self.transport().host_url(path)
    }

    /// POSTs a JSON body to a `/v1` path and decodes the JSON answer into `T`.
    pub(crate) async fn post<B, T>(&self, path: &str, body: &B, idempotent: bool) -> Result<T>
    where
        B: serde::Serialize + ?Sized,
        T: serde::de::DeserializeOwned,
    {
        self.transport().post(path, body, idempotent).await
    }

    /// Runs a call and decodes its JSON answer into `T`.
    pub(crate) async fn fetch_json<T: serde::de::DeserializeOwned>(
        &self,
        call: Call<'_>,
    ) -> Result<T> {
        self.transport().fetch_json(call).await
    }

    /// Runs a call (with retries) and reads the whole 2xx body.
    pub(crate) async fn fetch(&self, call: Call<'_>) -> Result<Reply> {
        self.transport().fetch(call).await
    }

    /// Runs a call and hands back the response to stream its body.
    pub(crate) async fn fetch_streaming(&self, call: Call<'_>) -> Result<reqwest::Response> {
        self.transport().fetch_streaming(call).await
    }

    /// The effective per-attempt timeout of this client (config or call options).
    pub(crate) fn timeout(&self) -> Duration {
        self.transport().timeout()
    }

    /// The base URL, e.g. `http://127.0.0.1:8787/v1`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The configured project id or slug.
    pub fn project_id(&self) -> Option<&str> {
        self.inner.project_id.as_deref()
    }

    /// SQL database.
    pub fn db(&self) -> Db<'_> {
        Db::new(self)
    }

    /// Legacy and end-user authentication.
    pub fn auth(&self) -> Auth<'_> {
        Auth::new(self)
    }

    /// Key-value cache.
    pub fn cache(&self) -> Cache<'_> {
        Cache::new(self)
    }

    /// Job queue.
    pub fn queue(&self) -> Queue<'_> {
        Queue::new(self)
    }

    /// File storage.
    pub fn storage(&self) -> Storage<'_> {
        Storage::new(self)
    }

    /// AI chat, completions, embeddings and search.
    pub fn ai(&self) -> Ai<'_> {
        Ai::new(self)
    }

    /// The AI gateway, as a consumer (and `billing_log` with the project key).
    pub fn gateway(&self) -> crate::services::Gateway<'_> {
        crate::services::Gateway::new(self)
    }

    /// The configured AI-gateway consumer key, if any.
    pub(crate) fn consumer_key(&self) -> Option<&str> {
        self.inner.consumer_key.as_deref()
    }

    /// Project secrets.
    pub fn secrets(&self) -> Secrets<'_> {
        Secrets::new(self)
    }

    /// Service invocation.
    pub fn services(&self) -> Services<'_> {
        Services::new(self)
    }

    /// Low-level JSON call for generic bindings (seed 002's op-style surface).
    ///
    /// `path` is relative to the base URL (`/cache/get`), or to the host when it starts with
    /// `/api/`. The call goes through the same funnel (headers, retries, errors) as the typed
    /// methods; reads are recognised as idempotent, other POSTs get an `Idempotency-Key`.
    /// An empty 2xx body yields `Value::Null`.
    pub async fn request_json(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        options: Option<&CallOptions>,
    ) -> Result<Value> {
        if !path.starts_with('/') {
            return Err(Error::validation(
                "path",
                format!("path must start with '/' (got {path:?}), e.g. /cache/get"),
            ));
        }
        let scoped;
        let client = match options {
            Some(o) => {
                scoped = self.with_options(o.clone());
                &scoped
            }
            None => self,
        };
        let url = if path.starts_with("/api/") {
            client.host_url(path)
        } else {
            client.api_url(path)
        };
        let idempotent = is_idempotent_request(&method, path, body);
        let mut call = Call::new(method.clone(), url.clone(), idempotent);
        if let Some(body) = body {
            call = call.json(body)?;
        }
        if path.contains("/auth/") {
            call = call.user_auth();
        }
        call.project_header = path.starts_with("/custom/") || path.starts_with("/api/v1/custom/");
        let reply = client.fetch(call).await?;
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        crate::transport::decode(&reply.body, &method, &url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}

    /// Bindings share clients across threads and spawn engine futures on a multi-thread
    /// runtime: both must stay `Send` (+ `Sync` for the client).
    #[test]
    fn clients_and_futures_are_thread_safe() {
        let c = Client::new(ClientConfig {
            ignore_env: true,
            api_key: Some("k".into()),
            ..ClientConfig::default()
        })
        .unwrap();
        send_sync(&c);
        send_sync(&Error::cancelled());
        send(c.cache().get("k"));
        send(c.db().query("SELECT 1", &[]));
        send(c.storage().upload(
            "k",
            crate::UploadSource::reader(tokio::io::empty(), None),
            Default::default(),
        ));
        send(c.ai().chat_stream(&crate::ChatRequest::default()));
        send(c.request_json(Method::GET, "/x", None, None));
        send(c.cache().list_all(None, None));
        send(c.auth().verify_token("t"));
        assert!(
            format!("{c:?}").contains("has_api_key: true"),
            "the key itself is never printed: {c:?}"
        );
        assert!(!format!("{c:?}").contains("\"k\""));
    }
}
