//! Client configuration: key, project, base URL or server index, env fallbacks, timeouts, retries,
//! headers and the user-agent prefix, validated once when the client is built.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;

/// The official server list: index 0 is production, index 1 the local platform.
pub const SERVERS: [&str; 2] = ["https://api.aerostack.dev/v1", "http://localhost:8787/v1"];

/// Engine version, sent in the `User-Agent` as `aerostack-core/<version>`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Environment variable for the base URL.
pub const ENV_API_URL: &str = "AEROSTACK_API_URL";
/// Environment variable for the project API key.
pub const ENV_API_KEY: &str = "AEROSTACK_API_KEY";
/// Environment variable for the project id.
pub const ENV_PROJECT_ID: &str = "AEROSTACK_PROJECT_ID";
/// Environment variable read for [`ClientConfig::consumer_key`].
pub const ENV_CONSUMER_KEY: &str = "AEROSTACK_CONSUMER_KEY";

const DEFAULT_TIMEOUT_MS: u64 = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;

/// Options for [`crate::Client::new`]. Every field is optional; unset key, project and URL are
/// filled from `AEROSTACK_API_KEY`, `AEROSTACK_PROJECT_ID` and `AEROSTACK_API_URL` unless
/// `ignore_env` is set.
///
/// Base URL precedence: `base_url`, then `server_index`, then `AEROSTACK_API_URL`, then server 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// Project API key (`ac_secret_…`), sent as `X-Aerostack-Key`.
    pub api_key: Option<String>,
    /// Project id or slug; needed for end-user auth and sent as `X-Project-Id` on custom API calls.
    pub project_id: Option<String>,
    /// Base URL including `/v1`, e.g. `http://127.0.0.1:8787/v1`. A URL with no path gets `/v1`.
    pub base_url: Option<String>,
    /// Index into [`SERVERS`]: 0 = `https://api.aerostack.dev/v1`, 1 = `http://localhost:8787/v1`.
    pub server_index: Option<usize>,
    /// Per-attempt timeout in milliseconds (default 30 000).
    pub timeout_ms: Option<u64>,
    /// TCP/TLS connect timeout in milliseconds (default 10 000).
    pub connect_timeout_ms: Option<u64>,
    /// Retry policy for every call (default [`RetryPolicy::default`]).
    pub retry: Option<RetryPolicy>,
    /// Extra headers sent on every request.
    pub headers: BTreeMap<String, String>,
    /// Set by a language SDK, e.g. `aerostack-python/0.1.0`; the engine appends `aerostack-core/<ver>`.
    pub user_agent_prefix: Option<String>,
    /// Do not read `AEROSTACK_*` environment variables.
    pub ignore_env: bool,
    /// AI-gateway consumer key (`ask_…`) the gateway calls use unless a call names its own.
    pub consumer_key: Option<String>,
}

impl ClientConfig {
    /// An empty config (everything from the environment or defaults).
    pub fn new() -> ClientConfig {
        ClientConfig::default()
    }

    /// Sets the API key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the project id or slug.
    pub fn project_id(mut self, id: impl Into<String>) -> Self {
        self.project_id = Some(id.into());
        self
    }

    /// Sets the base URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Selects a server by index (see [`SERVERS`]).
    pub fn server_index(mut self, index: usize) -> Self {
        self.server_index = Some(index);
        self
    }

    /// Sets the default per-attempt timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout_ms = Some(timeout.as_millis() as u64);
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Adds a header sent on every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets the user-agent prefix of the language SDK.
    pub fn user_agent_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.user_agent_prefix = Some(prefix.into());
        self
    }

    /// Validates the config and applies env fallbacks and defaults.
    pub(crate) fn resolve(&self) -> Result<Resolved> {
        self.resolve_with(|name| std::env::var(name).ok())
    }

    /// [`ClientConfig::resolve`] with an injectable environment lookup.
    fn resolve_with(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Resolved> {
        let env = |name: &str| -> Option<String> {
            if self.ignore_env {
                return None;
            }
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let (raw_url, source) = if let Some(url) = &self.base_url {
            (url.clone(), "base_url")
        } else if let Some(index) = self.server_index {
            let url = SERVERS.get(index).ok_or_else(|| {
                Error::invalid_config(format!(
                    "server_index must be 0 ({}) or 1 ({}), got {index}",
                    SERVERS[0], SERVERS[1]
                ))
            })?;
            ((*url).to_owned(), "server_index")
        } else if let Some(url) = env(ENV_API_URL) {
            (url, ENV_API_URL)
        } else {
            (SERVERS[0].to_owned(), "default server")
        };
        let base_url = normalize_base_url(&raw_url, source)?;
        let host_url = host_of(&base_url);

        let api_key = self.api_key.clone().or_else(|| env(ENV_API_KEY));
        if let Some(key) = &api_key {
            if key.trim().is_empty() {
                return Err(Error::invalid_config(
                    "api_key is empty; pass the project key (ac_secret_…) or leave it unset",
                ));
            }
            if HeaderValue::from_str(key).is_err() {
                return Err(Error::invalid_config(
                    "api_key contains characters not allowed in an HTTP header; copy the key again without line breaks",
                ));
            }
        }
        let project_id = self.project_id.clone().or_else(|| env(ENV_PROJECT_ID));
        if let Some(p) = &project_id
            && (p.trim().is_empty() || p.contains(['/', '?', '#']))
        {
            return Err(Error::invalid_config(format!(
                "project_id must be a project id or slug without '/', '?' or '#' (got {p:?})"
            )));
        }

        let consumer_key = self
            .consumer_key
            .clone()
            .or_else(|| env(ENV_CONSUMER_KEY))
            .filter(|k| !k.trim().is_empty());
        if api_key.is_none() && project_id.is_none() && consumer_key.is_none() {
            // Found now rather than as a confusing failure of the first call.
            return Err(Error::invalid_config(format!(
                "no API key and no project id (for {base_url}): set ClientConfig.api_key or {ENV_API_KEY} to call the \
                 project's APIs, ClientConfig.project_id or {ENV_PROJECT_ID} for end-user auth alone, or \
                 ClientConfig.consumer_key or {ENV_CONSUMER_KEY} for the AI gateway alone"
            )));
        }
        let timeout = positive_ms(self.timeout_ms, DEFAULT_TIMEOUT_MS, "timeout_ms")?;
        let connect_timeout = positive_ms(
            self.connect_timeout_ms,
            DEFAULT_CONNECT_TIMEOUT_MS,
            "connect_timeout_ms",
        )?;
        let retry = self.retry.clone().unwrap_or_default();
        retry.validate()?;

        let mut headers = header_map(&self.headers, "headers")?;
        let ua = match &self.user_agent_prefix {
            Some(p) if !p.trim().is_empty() => format!("{} aerostack-core/{VERSION}", p.trim()),
            _ => format!("aerostack-core/{VERSION}"),
        };
        let ua = HeaderValue::from_str(&ua).map_err(|_| {
            Error::invalid_config(
                "user_agent_prefix must be printable ASCII, e.g. aerostack-python/0.1.0",
            )
        })?;
        headers.insert(reqwest::header::USER_AGENT, ua);
        if let Some(key) = &api_key {
            let mut v = HeaderValue::from_str(key).expect("checked above");
            v.set_sensitive(true);
            headers.insert(HeaderName::from_static("x-aerostack-key"), v);
        }

        Ok(Resolved {
            base_url,
            host_url,
            api_key,
            consumer_key,
            project_id,
            timeout,
            connect_timeout,
            retry,
            headers,
        })
    }
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub base_url: String,
    pub host_url: String,
    pub api_key: Option<String>,
    pub consumer_key: Option<String>,
    pub project_id: Option<String>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// Default headers: user agent, API key, extra headers.
    pub headers: HeaderMap,
}

fn positive_ms(value: Option<u64>, default: u64, field: &str) -> Result<Duration> {
    match value {
        Some(0) => Err(Error::invalid_config(format!(
            "{field} must be greater than 0 (milliseconds); leave it unset for the default of {default}"
        ))),
        Some(ms) => Ok(Duration::from_millis(ms)),
        None => Ok(Duration::from_millis(default)),
    }
}

/// Converts user headers, naming the bad one.
pub(crate) fn header_map(headers: &BTreeMap<String, String>, field: &str) -> Result<HeaderMap> {
    let mut map = HeaderMap::with_capacity(headers.len() + 2);
    for (name, value) in headers {
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Error::invalid_config(format!(
                "{field}: {name:?} is not a valid HTTP header name (use letters, digits and '-')"
            ))
        })?;
        let v = HeaderValue::from_str(value).map_err(|_| {
            Error::invalid_config(format!(
                "{field}: the value of {name:?} is not a valid HTTP header value (no line breaks or control characters)"
            ))
        })?;
        map.insert(n, v);
    }
    Ok(map)
}

/// Validates and normalizes a base URL: scheme http(s), host present, no query/fragment,
/// no trailing slash, `/v1` appended when the path is empty.
fn normalize_base_url(raw: &str, source: &str) -> Result<String> {
    let raw = raw.trim();
    if !(raw.starts_with("http://") || raw.starts_with("https://")) {
        return Err(Error::invalid_config(format!(
            "base_url must start with http:// or https:// (got {raw:?} from {source}), e.g. http://127.0.0.1:8787/v1"
        )));
    }
    let url = url::Url::parse(raw).map_err(|e| {
        Error::invalid_config(format!(
            "base_url {raw:?} (from {source}) is not a valid URL: {e}; e.g. https://api.aerostack.dev/v1"
        ))
    })?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_config(format!(
            "base_url {raw:?} has no host"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_config(format!(
            "base_url {raw:?} must not contain a query string or fragment"
        )));
    }
    let mut s = url.as_str().trim_end_matches('/').to_owned();
    if url.path() == "/" || url.path().is_empty() {
        s.push_str("/v1");
    }
    Ok(s)
}

/// The host URL every SDK derives by stripping a trailing `/v1` (wire-facts §1.1).
fn host_of(base: &str) -> String {
    base.strip_suffix("/v1").unwrap_or(base).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No environment; a project id, since a client with neither key nor project is refused.
    fn cfg() -> ClientConfig {
        ClientConfig {
            ignore_env: true,
            project_id: Some("proj_test".into()),
            ..ClientConfig::default()
        }
    }

    #[test]
    fn neither_key_nor_project_is_refused_at_construction() {
        let e = ClientConfig {
            ignore_env: true,
            ..ClientConfig::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(e.code().as_str(), "INVALID_CONFIG");
        for needed in [
            "ClientConfig.api_key",
            ENV_API_KEY,
            "ClientConfig.project_id",
            ENV_PROJECT_ID,
            SERVERS[0],
        ] {
            assert!(
                e.message().contains(needed),
                "the message names {needed}: {}",
                e.message()
            );
        }
    }

    #[test]
    fn defaults_to_production() {
        let r = cfg().resolve().unwrap();
        assert_eq!(r.base_url, "https://api.aerostack.dev/v1");
        assert_eq!(r.host_url, "https://api.aerostack.dev");
        assert_eq!(r.timeout, Duration::from_secs(30));
        assert_eq!(
            r.headers.get("user-agent").unwrap(),
            &format!("aerostack-core/{VERSION}")
        );
    }

    #[test]
    fn server_index_and_base_url() {
        let r = cfg().server_index(1).resolve().unwrap();
        assert_eq!(r.base_url, "http://localhost:8787/v1");
        assert_eq!(r.host_url, "http://localhost:8787");
        let e = cfg().server_index(2).resolve().unwrap_err();
        assert!(e.message().contains("server_index must be 0"));
        let r = cfg()
            .base_url("http://127.0.0.1:9000/v1/")
            .server_index(0)
            .resolve()
            .unwrap();
        assert_eq!(
            r.base_url, "http://127.0.0.1:9000/v1",
            "base_url wins over server_index"
        );
        let r = cfg().base_url("http://127.0.0.1:9000").resolve().unwrap();
        assert_eq!(r.base_url, "http://127.0.0.1:9000/v1");
        assert_eq!(r.host_url, "http://127.0.0.1:9000");
    }

    #[test]
    fn invalid_urls_name_the_fix() {
        let e = cfg().base_url("localhost:8787").resolve().unwrap_err();
        assert_eq!(e.code(), &crate::ErrorCode::InvalidConfig);
        assert!(
            e.message()
                .contains("base_url must start with http:// or https://")
        );
        let e = cfg().base_url("http://h/v1?x=1").resolve().unwrap_err();
        assert!(e.message().contains("query"));
    }

    #[test]
    fn user_agent_prefix_and_headers() {
        let r = cfg()
            .user_agent_prefix("aerostack-python/0.1.0")
            .header("X-Team", "core")
            .api_key("ac_secret_x")
            .resolve()
            .unwrap();
        assert_eq!(
            r.headers.get("user-agent").unwrap(),
            &format!("aerostack-python/0.1.0 aerostack-core/{VERSION}")
        );
        assert_eq!(r.headers.get("x-team").unwrap(), "core");
        assert_eq!(r.headers.get("x-aerostack-key").unwrap(), "ac_secret_x");
        let e = cfg().header("bad header", "x").resolve().unwrap_err();
        assert!(e.message().contains("not a valid HTTP header name"));
    }

    #[test]
    fn env_fills_only_unset_options() {
        let env = |name: &str| match name {
            ENV_API_URL => Some("http://127.0.0.1:7000/v1".to_owned()),
            ENV_API_KEY => Some("ac_secret_env".to_owned()),
            ENV_PROJECT_ID => Some("proj_env".to_owned()),
            _ => None,
        };
        let r = ClientConfig::default().resolve_with(env).unwrap();
        assert_eq!(r.base_url, "http://127.0.0.1:7000/v1");
        assert_eq!(r.api_key.as_deref(), Some("ac_secret_env"));
        assert_eq!(r.project_id.as_deref(), Some("proj_env"));
        let r = ClientConfig::default()
            .api_key("k")
            .server_index(1)
            .resolve_with(env)
            .unwrap();
        assert_eq!(r.api_key.as_deref(), Some("k"));
        assert_eq!(
            r.base_url, "http://localhost:8787/v1",
            "server_index beats the env URL"
        );
        let r = cfg().resolve_with(env).unwrap();
        assert_eq!(r.api_key, None, "ignore_env skips the environment");
    }

    #[test]
    fn zero_timeout_rejected() {
        let e = ClientConfig {
            timeout_ms: Some(0),
            ..cfg()
        }
        .resolve()
        .unwrap_err();
        assert!(e.message().starts_with("timeout_ms must be greater than 0"));
    }
}
