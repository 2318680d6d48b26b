//! The option objects of the surface, decoded from JSON once, here, for every language.
//!
//! Every duration is a whole number of milliseconds in a field ending in `_ms`; unknown fields are
//! refused (a typo must not be silently ignored). [`parse`] turns serde's complaint into a
//! `VALIDATION_ERROR` whose `details.field` is the path of the offending field and whose message
//! says what to write instead.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use aerostack::Error;
use aerostack::worker::{FetchOptions as EngineFetch, JobType, Module, WorkerOptions};
use aerostack::realtime::{Backoff, PublishOptions as EnginePublish, RealtimeConfig};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Decodes option object `what` (e.g. "realtime options"); `null` is the defaults.
pub fn parse<T: DeserializeOwned + Default>(what: &str, v: Value) -> Result<T, Error> {
    if v.is_null() {
        return Ok(T::default());
    }
    if !v.is_object() {
        return Err(Error::validation(what, format!("{what} must be an object of named options, got {v}")));
    }
    serde_path_to_error::deserialize(v).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { what.to_string() } else { field };
        let message = format!("{what}: `{field}`: {}", e.inner());
        Error::validation(&field, crate::naming::spell_fields(&message).into_owned())
    })
}

/// [`parse`] for a client's configuration: the error is `INVALID_CONFIG` (a config error in
/// every language), still naming the field.
pub fn parse_config<T: DeserializeOwned + Default>(what: &str, v: Value) -> Result<T, Error> {
    parse(what, v).map_err(|e| {
        let details = e.details().cloned().unwrap_or(Value::Null);
        Error::invalid_config(e.message().to_string()).with_details(details)
    })
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Options of a realtime connection (`RealtimeConfig`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealtimeOptions {
    pub heartbeat_interval_ms: Option<u64>,
    pub pong_timeout_ms: Option<u64>,
    pub connect_timeout_ms: Option<u64>,
    pub ack_timeout_ms: Option<u64>,
    pub backoff_initial_ms: Option<u64>,
    pub backoff_max_ms: Option<u64>,
    pub backoff_factor: Option<f64>,
    pub max_reconnect_attempts: Option<u32>,
    pub event_capacity: Option<usize>,
    pub outbox_capacity: Option<usize>,
    pub dedup_capacity: Option<usize>,
    pub catch_up: Option<bool>,
    /// End-user access token.
    pub token: Option<String>,
    /// The user a key holder acts for.
    pub user_id: Option<String>,
}

impl RealtimeOptions {
    pub fn config(self) -> Result<RealtimeConfig, Error> {
        let mut c = RealtimeConfig::default();
        let mut b = Backoff::default();
        if let Some(f) = self.backoff_factor {
            if !(f.is_finite() && f >= 1.0) {
                return Err(Error::validation("backoff_factor", format!("`backoff_factor` must be a number ≥ 1, got {f}")));
            }
            b.factor = f;
        }
        macro_rules! set_ms {
            ($($field:ident => $target:expr),*) => { $( if let Some(v) = self.$field { $target = ms(v); } )* };
        }
        set_ms!(heartbeat_interval_ms => c.heartbeat_interval, pong_timeout_ms => c.pong_timeout,
            connect_timeout_ms => c.connect_timeout, ack_timeout_ms => c.ack_timeout,
            backoff_initial_ms => b.initial, backoff_max_ms => b.max);
        c.backoff = b;
        c.max_reconnect_attempts = self.max_reconnect_attempts.or(c.max_reconnect_attempts);
        c.event_capacity = self.event_capacity.unwrap_or(c.event_capacity);
        c.outbox_capacity = self.outbox_capacity.unwrap_or(c.outbox_capacity);
        c.dedup_capacity = self.dedup_capacity.unwrap_or(c.dedup_capacity);
        c.catch_up = self.catch_up.unwrap_or(c.catch_up);
        c.token = self.token;
        c.user_id = self.user_id;
        Ok(c)
    }
}

/// Options of `Channel.publish`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublishOptions {
    /// Store for history (and catch-up after reconnects).
    pub persist: bool,
    /// How long to wait for the platform's ack (default: the connection's `ack_timeout_ms`).
    pub timeout_ms: Option<u64>,
}

impl From<PublishOptions> for EnginePublish {
    fn from(o: PublishOptions) -> EnginePublish {
        EnginePublish { persist: o.persist, timeout: o.timeout_ms.map(ms) }
    }
}

/// What a worker serves: the `register` frame of docs/workers.md, plus local settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerRegistration {
    /// Logic Modules: `{slug, methods, public, trigger, timeout_ms, name}`.
    pub modules: Vec<Module>,
    /// Queue job types: `{type, timeout_ms}`.
    pub jobs: Vec<JobType>,
    /// Most queue jobs in flight at once (default 4).
    pub concurrency: Option<u32>,
    /// Shown in the platform's logs.
    pub label: Option<String>,
    /// Invocations buffered for the host (default 64).
    pub queue_capacity: Option<usize>,
    /// How long `connect` waits for the platform to confirm the registration (default 10 000).
    pub connect_timeout_ms: Option<u64>,
}

impl WorkerRegistration {
    pub fn options(self) -> Result<WorkerOptions, Error> {
        if self.modules.is_empty() && self.jobs.is_empty() {
            return Err(Error::validation(
                "modules",
                "a worker must serve something: register at least one module (a custom API or event handler) or one job type",
            ));
        }
        let mut o = WorkerOptions::new();
        o.modules = self.modules;
        o.jobs = self.jobs;
        if let Some(n) = self.concurrency {
            o = o.concurrency(n);
        }
        o.label = self.label;
        if let Some(n) = self.queue_capacity {
            o.queue_capacity = n.max(1);
        }
        if let Some(v) = self.connect_timeout_ms {
            o.connect_timeout = ms(v);
        }
        Ok(o)
    }
}

/// Options of the scoped sdk's `fetch(url, options)` (the `init` of JavaScript's `fetch`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchOptions {
    pub method: Option<String>,
    /// Header values may be strings or any JSON (sent as its text).
    pub headers: BTreeMap<String, Value>,
    /// The request body as text.
    pub body: Option<String>,
    /// Whole-request timeout (default 30 000).
    pub timeout_ms: Option<u64>,
}

impl From<FetchOptions> for EngineFetch {
    fn from(o: FetchOptions) -> EngineFetch {
        let headers = o
            .headers
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect();
        EngineFetch { method: o.method, headers, body: o.body, timeout: o.timeout_ms.map(ms) }
    }
}

/// A rate limit: `{count, window_ms}` or `[count, window_ms]`; `count` 0 disables it.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum RateOption {
    Pair(u32, u64),
    Object { count: u32, window_ms: u64 },
}

/// How to start an in-process local platform.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalPlatformOptions {
    /// Default `127.0.0.1`.
    pub host: Option<String>,
    /// Default 0: a free port.
    pub port: u16,
    /// Persistent data directory (default: ephemeral).
    pub data_dir: Option<PathBuf>,
    /// Keep everything in a temporary directory removed at shutdown (default true unless
    /// `data_dir` is given).
    pub ephemeral: Option<bool>,
    /// Where a `.dev.vars` file of secrets is read from.
    pub project_dir: Option<PathBuf>,
    pub print_banner: bool,
    pub require_email_verification: bool,
    pub ai_base_url: Option<String>,
    pub ai_api_key: Option<String>,
    pub ai_model: Option<String>,
    pub max_upload_bytes: Option<u64>,
    /// `{name: [count, window_ms]}`; the names are `aerostack_server::options::RATE_LIMIT_NAMES`.
    pub rate_limits: Option<BTreeMap<String, RateOption>>,
    /// Whether the hosted platform's rate limits apply (register 5/min/IP, ...). Default false:
    /// an in-process platform is a test fixture. The limits named in `rate_limits` apply either
    /// way.
    pub hosted_rate_limits: Option<bool>,
    /// Fill unset AI options and the data directory from `AEROSTACK_*` variables (default true).
    pub from_env: bool,
}

impl Default for LocalPlatformOptions {
    fn default() -> Self {
        LocalPlatformOptions {
            host: None,
            port: 0,
            data_dir: None,
            ephemeral: None,
            project_dir: None,
            print_banner: false,
            require_email_verification: false,
            ai_base_url: None,
            ai_api_key: None,
            ai_model: None,
            max_upload_bytes: None,
            rate_limits: None,
            hosted_rate_limits: None,
            from_env: true,
        }
    }
}

impl LocalPlatformOptions {
    pub fn server_options(self) -> Result<aerostack_server::ServerOptions, Error> {
        use aerostack_server::options::RATE_LIMIT_NAMES;
        use aerostack_server::{Rate, ServerOptions};
        let mut o = ServerOptions { port: self.port, ..ServerOptions::default() };
        if let Some(h) = self.host {
            o.host = h;
        }
        o.ephemeral = self.ephemeral.unwrap_or(self.data_dir.is_none());
        o.data_dir = self.data_dir;
        o.project_dir = self.project_dir;
        o.print_banner = self.print_banner;
        o.require_email_verification = self.require_email_verification;
        o.ai.base_url = self.ai_base_url;
        o.ai.api_key = self.ai_api_key;
        o.ai.model = self.ai_model;
        if let Some(n) = self.max_upload_bytes {
            o.limits.max_upload_bytes = n;
        }
        o.rate_limits = Some(self.hosted_rate_limits.unwrap_or(false));
        for (name, r) in self.rate_limits.unwrap_or_default() {
            let (count, window) = match r {
                RateOption::Pair(count, window) | RateOption::Object { count, window_ms: window } => (count, window),
            };
            let slot = o.limits.rate_mut(&name).ok_or_else(|| {
                let field = format!("rate_limits.{name}");
                Error::validation(&field, format!("unknown rate limit {name:?}; valid names: {}", RATE_LIMIT_NAMES.join(", ")))
            })?;
            *slot = Rate::new(count, ms(window));
            o.explicit_rate_limits.push(name);
        }
        Ok(if self.from_env { o.from_env() } else { o })
    }
}

/// The `--rate-limit NAME=COUNT/WINDOW` / `--no-rate-limits` flags of a local-platform command
/// line as `{name: [count, window_ms]}` (every limit when `none`), parsed once, by the platform,
/// for every SDK's command (Python's `python -m aerostack.local`, ...).
pub fn rate_limits_from_flags(specs: &[String], none: bool) -> Result<Value, Error> {
    use aerostack_server::options::RATE_LIMIT_NAMES;
    let mut limits = aerostack_server::Limits::default();
    limits.apply_rate_limit_flags(specs, none).map_err(|e| Error::validation("rate_limit", e))?;
    // The names the flags set (the specs already parsed above, so these cannot fail).
    let named: Vec<String> = specs.iter().filter_map(|s| aerostack_server::options::parse_rate_limit(s).ok()).map(|(n, _)| n).collect();
    let mut chosen = serde_json::Map::new();
    for name in RATE_LIMIT_NAMES {
        if none || named.iter().any(|n| n == name) {
            let r = *limits.rate_mut(name).expect("a listed name");
            chosen.insert(name.to_string(), serde_json::json!([r.count, r.window.as_millis() as u64]));
        }
    }
    Ok(Value::Object(chosen))
}

/// The help text of those flags: each limit, what it counts, and its default.
pub use aerostack_server::options::RATE_LIMIT_HELP;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_and_mistyped_fields_are_named() {
        let e = parse::<RealtimeOptions>("realtime options", json!({"heartbeat_interval": 5})).unwrap_err();
        assert_eq!(e.details().unwrap()["field"], "heartbeat_interval");
        assert!(e.message().contains("heartbeat_interval_ms"), "the message lists the known fields: {}", e.message());
        let e = parse::<LocalPlatformOptions>("local platform options", json!({"rate_limits": {"otp_send": "x"}})).unwrap_err();
        assert_eq!(e.details().unwrap()["field"], "rate_limits.otp_send");
        let bad = parse::<LocalPlatformOptions>("o", json!({"rate_limits": {"otp_sent": [1, 1000]}})).unwrap();
        let e = bad.server_options().unwrap_err();
        assert_eq!(e.details().unwrap()["field"], "rate_limits.otp_sent");
        assert!(e.message().contains("otp_send"), "the valid names are listed: {}", e.message());
        let e = parse::<PublishOptions>("publish options", json!(3)).unwrap_err();
        assert_eq!(e.details().unwrap()["field"], "publish options");
    }

    #[test]
    fn durations_are_milliseconds_and_rates_take_both_shapes() {
        let c = parse::<RealtimeOptions>("o", json!({"ack_timeout_ms": 1500})).unwrap().config().unwrap();
        assert_eq!(c.ack_timeout, Duration::from_millis(1500));
        let o = parse::<LocalPlatformOptions>(
            "o",
            json!({"from_env": false, "rate_limits": {"otp_send": [2, 1000], "cache_flush": {"count": 1, "window_ms": 50}}}),
        )
        .unwrap()
        .server_options()
        .unwrap();
        assert_eq!(o.limits.otp_send.count, 2);
        assert_eq!(o.limits.cache_flush.window, Duration::from_millis(50));
        assert!(o.ephemeral, "ephemeral unless a data_dir is given");
        // In-process: the hosted rate limits are off, the ones given apply.
        let l = o.effective_limits();
        assert_eq!((l.register_per_ip.count, l.otp_send.count, l.cache_flush.count), (0, 2, 1));
        let hosted = json!({"from_env": false, "data_dir": "/tmp/x", "hosted_rate_limits": true});
        let o = parse::<LocalPlatformOptions>("o", hosted).unwrap().server_options().unwrap();
        assert_eq!(o.effective_limits().register_per_ip.count, 5);
        // Even a persistent in-process platform is a fixture by default; an explicit rate that
        // equals the hosted one still applies.
        let keep = json!({"from_env": false, "data_dir": "/tmp/x", "rate_limits": {"register_per_ip": [5, 60000]}});
        let l = parse::<LocalPlatformOptions>("o", keep).unwrap().server_options().unwrap().effective_limits();
        assert_eq!((l.register_per_ip.count, l.login_per_ip.count), (5, 0));
    }

    #[test]
    fn command_line_flags_become_rate_limits() {
        let v = rate_limits_from_flags(&["otp_send=2/1s".into()], false).unwrap();
        assert_eq!(v, json!({"otp_send": [2, 1000]}));
        let all = rate_limits_from_flags(&[], true).unwrap();
        assert_eq!(all.as_object().unwrap().len(), aerostack_server::options::RATE_LIMIT_NAMES.len());
        assert!(all.as_object().unwrap().values().all(|r| r[0] == 0));
        let e = rate_limits_from_flags(&["x=1/1".into()], false).unwrap_err();
        assert!(e.message().contains("valid names"), "{}", e.message());
    }

    #[test]
    fn a_worker_must_serve_something() {
        let e = parse::<WorkerRegistration>("registration", json!({})).unwrap().options().unwrap_err();
        assert_eq!(e.details().unwrap()["field"], "modules");
    }
}
