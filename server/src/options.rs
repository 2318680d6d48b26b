//! Options of a local platform: where it listens, where it keeps data, and the limits it enforces.

use std::path::PathBuf;
use std::time::Duration;

/// How to start a [`crate::LocalPlatform`].
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Interface to bind. Default `127.0.0.1`.
    pub host: String,
    /// Port to bind. Default 8787 (server index 1 of the official SDKs); 0 picks a free port.
    pub port: u16,
    /// Persistent data directory. `None` means `./.aerostack/local`.
    pub data_dir: Option<PathBuf>,
    /// Keep everything in a temporary directory removed at shutdown (`data_dir` is ignored).
    pub ephemeral: bool,
    /// Directory whose `.dev.vars` seeds the default project's secrets. `None` means the cwd.
    pub project_dir: Option<PathBuf>,
    /// The OpenAI-compatible upstream behind `/v1/ai/chat`.
    pub ai: AiOptions,
    /// Rate limits and sizes. Defaults are the hosted platform's numbers.
    pub limits: Limits,
    /// When true, password sign-ups get no tokens until the email is verified.
    pub require_email_verification: bool,
    /// Print the start banner (API URL, data dir, default project and key) to stdout.
    pub print_banner: bool,
    /// With `print_banner`: log the banner's facts as one event instead of printing the text
    /// (`aerostack-server --log-format json`, where every stdout line is JSON).
    pub banner_as_log: bool,
    /// Whether the hosted platform's rate limits apply (the rates of `limits`, wire-facts §3.3).
    /// `None` (the default): on for a persistent data directory, off when `ephemeral`, since a
    /// test fixture signs up more than 5 users a minute. Off disables every rate still at its
    /// hosted default; rates set to other values, or named in `explicit_rate_limits`, apply
    /// either way.
    pub rate_limits: Option<bool>,
    /// Rates set on purpose (names of [`RATE_LIMIT_NAMES`], or `otp_send_per_ip`): they apply
    /// even when `rate_limits` is off, whatever their value.
    pub explicit_rate_limits: Vec<String>,
    /// Serve the local dashboard at `/` (session token, see `dashboard`). On in the
    /// `aerostack-server` binary unless `--no-dashboard`; off by default in process (the SDKs'
    /// `LocalPlatform`), which prints no banner to carry the token.
    pub dashboard: bool,
}

/// Upstream for AI chat: any OpenAI-compatible server (Ollama, llama.cpp, vLLM, OpenAI...).
#[derive(Clone, Debug, Default)]
pub struct AiOptions {
    /// e.g. `http://127.0.0.1:11434/v1`; `/chat/completions` is appended.
    pub base_url: Option<String>,
    /// Sent as `Authorization: Bearer <api_key>` when set.
    pub api_key: Option<String>,
    /// Model used when a request names none (or names a Workers AI `@cf/...` model).
    pub model: Option<String>,
}

/// A rate: at most `count` requests per sliding `window` (`count == 0` disables the limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub window: Duration,
}

impl Rate {
    pub const fn new(count: u32, window: Duration) -> Self {
        Rate { count, window }
    }
    pub const fn per_minute(count: u32) -> Self {
        Rate::new(count, Duration::from_secs(60))
    }
}

/// Limits enforced by the platform. Tests shrink them to exercise 413/429 quickly.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest file accepted by `/v1/storage/upload` (100 MiB).
    pub max_upload_bytes: u64,
    /// Login attempts per client IP (10/min).
    pub login_per_ip: Rate,
    /// Login attempts per email (5 per 15 min).
    pub login_per_email: Rate,
    /// Registrations per client IP (5/min).
    pub register_per_ip: Rate,
    /// OTP codes sent per identifier (3 per 5 min).
    pub otp_send: Rate,
    /// OTP codes sent per client IP, whatever the address (20/min; `--otp-send-per-ip`): its
    /// answer says whether an account exists (`accountExists`, as the hosted platform's), so this
    /// bounds how fast addresses can be probed. Applies while `otp_send` is on (so
    /// `--no-rate-limits` and `otp_send=off` turn it off too), or whenever it is named in
    /// `ServerOptions::explicit_rate_limits`.
    pub otp_send_per_ip: Rate,
    /// OTP verification attempts per identifier (3 per 5 min).
    pub otp_verify: Rate,
    /// Password reset requests per email (3 per 15 min).
    pub password_reset: Rate,
    /// Verification email resends per email (3/min).
    pub resend_verification: Rate,
    /// `/v1/cache/flush` calls per project (5/min).
    pub cache_flush: Rate,
    /// How long an `Idempotency-Key` answer is remembered (24 h).
    pub idempotency_window: Duration,
    /// How long a Logic Module or job handler may run when it sets no `timeout_ms` (30 s).
    pub hook_timeout: Duration,
    /// How long a scope token outlives its invocation's deadline (60 s).
    pub scope_token_grace: Duration,
    /// Delay before the first retry of a failed job; doubles on each later attempt (1 s).
    pub job_backoff_base: Duration,
    /// Longest delay between two attempts of a job (10 min).
    pub job_backoff_max: Duration,
    /// How often the job dispatcher looks for due jobs when nothing woke it (250 ms).
    pub job_poll_interval: Duration,
    /// How long one statement of user SQL may run before it is interrupted (30 s); also how long
    /// a query waits for a free database slot of its project.
    pub query_timeout: Duration,
    /// User SQL statements of one project that run at once, each on its own blocking thread (8):
    /// one project's long queries cost its own slots, never the async workers or other projects.
    pub db_slots_per_project: usize,
    /// Rows one `db.query` answer (or one batch, all statements together) may hold (100,000).
    pub max_result_rows: usize,
    /// Bytes of JSON one `db.query` or `db.batch` answer may hold (64 MiB).
    pub max_result_bytes: usize,
    /// A read-only `db.query` answer larger than this (1 MiB) streams to the client as it is
    /// made instead of being built whole in memory (up to `max_result_bytes` all the same).
    pub result_stream_threshold: usize,
    /// Largest string or BLOB (and stored row) user SQL may make: SQLite's `SQLITE_LIMIT_LENGTH`
    /// on each user-SQL connection (16 MiB). Large files belong in storage.
    pub max_value_bytes: usize,
    /// Space a user-SQL connection's TEMP tables and indexes may take (256 MiB).
    pub max_temp_bytes: u64,
    /// SQLite's soft heap limit (512 MiB; 0 = none): past it SQLite frees cached pages before it
    /// takes more memory. Process-wide, set at start; with several platforms in one process the
    /// lowest applies. User SQL cannot change it.
    pub sqlite_soft_heap_bytes: u64,
    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may sit idle between requests, before it is closed (30 s).
    pub header_read_timeout: Duration,
    /// HTTP connections served at once; more wait in the listen backlog until one closes.
    /// 0 (the default): half the process's open-file limit, between 64 and 10,000.
    pub max_connections: usize,
    /// Realtime: topics one socket may listen to at once (100).
    pub realtime_topics_per_connection: usize,
    /// Realtime: sockets open at once per end user (20) and per project (2,000).
    pub realtime_connections_per_user: usize,
    pub realtime_connections_per_project: usize,
    /// Realtime: bytes of one tracked presence state (16 KiB) and of one message's data, socket
    /// publish, chat and server-side emit alike (256 KiB).
    pub realtime_presence_bytes: usize,
    pub realtime_message_bytes: usize,
    /// Realtime: persisted messages kept per topic; older ones are dropped (10,000).
    pub realtime_history_per_topic: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 100 * 1024 * 1024,
            login_per_ip: Rate::per_minute(10),
            login_per_email: Rate::new(5, Duration::from_secs(15 * 60)),
            register_per_ip: Rate::per_minute(5),
            otp_send: Rate::new(3, Duration::from_secs(5 * 60)),
            otp_send_per_ip: Rate::per_minute(20),
            otp_verify: Rate::new(3, Duration::from_secs(5 * 60)),
            password_reset: Rate::new(3, Duration::from_secs(15 * 60)),
            resend_verification: Rate::per_minute(3),
            cache_flush: Rate::per_minute(5),
            idempotency_window: Duration::from_secs(24 * 60 * 60),
            hook_timeout: Duration::from_secs(30),
            scope_token_grace: Duration::from_secs(60),
            job_backoff_base: Duration::from_secs(1),
            job_backoff_max: Duration::from_secs(10 * 60),
            job_poll_interval: Duration::from_millis(250),
            query_timeout: Duration::from_secs(30),
            db_slots_per_project: 8,
            max_result_rows: 100_000,
            max_result_bytes: 64 * 1024 * 1024,
            result_stream_threshold: 1024 * 1024,
            max_value_bytes: 16 * 1024 * 1024,
            max_temp_bytes: 256 * 1024 * 1024,
            sqlite_soft_heap_bytes: 512 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(30),
            max_connections: 0,
            realtime_topics_per_connection: 100,
            realtime_connections_per_user: 20,
            realtime_connections_per_project: 2_000,
            realtime_presence_bytes: 16 * 1024,
            realtime_message_bytes: 256 * 1024,
            realtime_history_per_topic: 10_000,
        }
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            host: "127.0.0.1".to_string(),
            port: 8787,
            data_dir: None,
            ephemeral: false,
            project_dir: None,
            ai: AiOptions::default(),
            limits: Limits::default(),
            require_email_verification: false,
            print_banner: false,
            banner_as_log: false,
            rate_limits: None,
            explicit_rate_limits: Vec::new(),
            dashboard: false,
        }
    }
}

impl ServerOptions {
    /// A throw-away platform for tests: free port, temporary data removed at shutdown.
    pub fn ephemeral() -> Self {
        ServerOptions {
            port: 0,
            ephemeral: true,
            ..ServerOptions::default()
        }
    }

    /// Fill unset options from the environment: `AEROSTACK_AI_BASE_URL`, `AEROSTACK_AI_API_KEY`,
    /// `AEROSTACK_AI_MODEL`, and `AEROSTACK_DATA_DIR` (when `data_dir` is unset).
    pub fn from_env(mut self) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if self.ai.base_url.is_none() {
            self.ai.base_url = var("AEROSTACK_AI_BASE_URL");
        }
        if self.ai.api_key.is_none() {
            self.ai.api_key = var("AEROSTACK_AI_API_KEY");
        }
        if self.ai.model.is_none() {
            self.ai.model = var("AEROSTACK_AI_MODEL");
        }
        if self.data_dir.is_none() {
            self.data_dir = var("AEROSTACK_DATA_DIR").map(PathBuf::from);
        }
        self
    }

    /// Whether the hosted rate limits apply: `rate_limits`, else on unless `ephemeral`.
    pub fn rate_limits_on(&self) -> bool {
        self.rate_limits.unwrap_or(!self.ephemeral)
    }

    /// `limits` as the platform applies them: with rate limits off, the rates still at their
    /// hosted defaults (and not named in `explicit_rate_limits`) are disabled.
    pub fn effective_limits(&self) -> Limits {
        let mut l = self.limits.clone();
        if !self.rate_limits_on() {
            l.disable_default_rates(&self.explicit_rate_limits);
        }
        // The per-IP limit of OTP codes goes with `otp_send` unless it was set on purpose.
        let on_purpose = self
            .explicit_rate_limits
            .iter()
            .any(|n| n == OTP_SEND_PER_IP);
        if l.otp_send.count == 0 && !on_purpose {
            l.otp_send_per_ip.count = 0;
        }
        l
    }

    /// The data directory used when not ephemeral.
    pub(crate) fn resolved_data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(".aerostack").join("local"))
    }
}

// ---------------------------------------------------------------------------------------------
// Rate limits on the command line: `--rate-limit NAME=COUNT/WINDOW` and `--no-rate-limits`.

/// The name of `Limits::otp_send_per_ip` (its own flag, `--otp-send-per-ip`).
pub const OTP_SEND_PER_IP: &str = "otp_send_per_ip";

/// The rate limits `--rate-limit` can set (the fields of `Limits` that are rates).
pub const RATE_LIMIT_NAMES: [&str; 8] = [
    "login_per_ip",
    "login_per_email",
    "register_per_ip",
    "otp_send",
    "otp_verify",
    "password_reset",
    "resend_verification",
    "cache_flush",
];

/// The help text of the rate-limit flags (each limit, its meaning and default).
pub const RATE_LIMIT_HELP: &str = "\
Rate limits (--rate-limit NAME=COUNT/WINDOW, repeatable; COUNT 0 or `NAME=off` disables one):
  login_per_ip          login attempts per client IP           (default 10/60s)
  login_per_email       login attempts per email               (default 5/15m)
  register_per_ip       sign-ups per client IP                 (default 5/60s)
  otp_send              one-time codes sent per identifier     (default 3/5m)
  otp_verify            code checks per identifier             (default 3/5m)
  password_reset        password reset requests per email      (default 3/15m)
  resend_verification   verification email resends per email   (default 3/60s)
  cache_flush           /v1/cache/flush calls per project      (default 5/60s)
WINDOW is seconds (60) or a duration with a unit: 500ms, 60s, 15m, 1h.
--no-rate-limits disables all of them (with --rate-limit too: all off except those named).";

/// `NAME=COUNT/WINDOW` (or `NAME=off`) of `--rate-limit`.
pub fn parse_rate_limit(s: &str) -> Result<(String, Rate), String> {
    let names = RATE_LIMIT_NAMES.join(", ");
    let Some((name, value)) = s.split_once('=') else {
        return Err(format!(
            "expected NAME=COUNT/WINDOW, e.g. register_per_ip=100/60s; NAME is one of {names}"
        ));
    };
    let name = name.trim();
    if !RATE_LIMIT_NAMES.contains(&name) {
        return Err(format!("unknown rate limit {name:?}; valid names: {names}"));
    }
    let value = value.trim();
    if !value.eq_ignore_ascii_case("off") && !value.contains('/') {
        return Err(format!(
            "expected {name}=COUNT/WINDOW (e.g. {name}=100/60s) or {name}=off, got {value:?}"
        ));
    }
    Ok((name.to_string(), parse_rate(value, s)?))
}

/// One rate: `COUNT/WINDOW` (e.g. `20/60s`) or `off`; `whole` is what the messages quote (the
/// flag's whole value).
pub fn parse_rate(value: &str, whole: &str) -> Result<Rate, String> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("off") {
        return Ok(Rate::per_minute(0));
    }
    let Some((count, window)) = value.split_once('/') else {
        return Err(format!(
            "expected COUNT/WINDOW (e.g. 20/60s) or off, got {whole:?}"
        ));
    };
    let count: u32 = count.trim().parse().map_err(|_| {
        format!("COUNT must be a whole number (0 disables the limit), got {count:?} in {whole:?}")
    })?;
    let window = parse_window(window.trim()).ok_or_else(|| {
        format!(
            "WINDOW must be a duration above zero: seconds (60) or with a unit (500ms, 60s, 15m, 1h), got {window:?} in {whole:?}"
        )
    })?;
    Ok(Rate::new(count, window))
}

fn parse_window(s: &str) -> Option<Duration> {
    let (number, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = number.trim().parse().ok()?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

impl Limits {
    /// The rate named `name` (one of [`RATE_LIMIT_NAMES`]), to read or change.
    pub fn rate_mut(&mut self, name: &str) -> Option<&mut Rate> {
        Some(match name {
            "login_per_ip" => &mut self.login_per_ip,
            "login_per_email" => &mut self.login_per_email,
            "register_per_ip" => &mut self.register_per_ip,
            "otp_send" => &mut self.otp_send,
            "otp_verify" => &mut self.otp_verify,
            "password_reset" => &mut self.password_reset,
            "resend_verification" => &mut self.resend_verification,
            "cache_flush" => &mut self.cache_flush,
            _ => return None,
        })
    }

    /// Disables every rate that is still at its hosted default, except those named in `keep`.
    pub fn disable_default_rates(&mut self, keep: &[String]) {
        let mut hosted = Limits::default();
        for name in RATE_LIMIT_NAMES {
            if keep.iter().any(|k| k == name) {
                continue;
            }
            let default = *hosted.rate_mut(name).expect("a known name");
            let rate = self.rate_mut(name).expect("a known name");
            if *rate == default {
                rate.count = 0;
            }
        }
    }

    /// Applies `--no-rate-limits` (every limit off) and then each `--rate-limit` spec, in order.
    /// The one implementation of the flags: `aerostack-server` and every SDK's local-platform
    /// command line (through the binding surface) use it.
    pub fn apply_rate_limit_flags(&mut self, specs: &[String], none: bool) -> Result<(), String> {
        if none {
            for name in RATE_LIMIT_NAMES {
                if let Some(r) = self.rate_mut(name) {
                    r.count = 0;
                }
            }
        }
        for spec in specs {
            let (name, rate) = parse_rate_limit(spec)?;
            *self.rate_mut(&name).expect("parse_rate_limit accepts only known names") = rate;
        }
        Ok(())
    }
}

#[cfg(test)]
mod rate_limit_tests {
    use super::*;

    #[test]
    fn rate_limit_flags() {
        assert_eq!(
            parse_rate_limit("register_per_ip=100/60s").unwrap(),
            (
                "register_per_ip".into(),
                Rate::new(100, Duration::from_secs(60))
            )
        );
        assert_eq!(
            parse_rate_limit("otp_send=3/15m").unwrap().1,
            Rate::new(3, Duration::from_secs(900))
        );
        assert_eq!(
            parse_rate_limit("cache_flush=1/500ms").unwrap().1,
            Rate::new(1, Duration::from_millis(500))
        );
        assert_eq!(
            parse_rate_limit("login_per_ip=7/1h").unwrap().1.window,
            Duration::from_secs(3600)
        );
        assert_eq!(
            parse_rate_limit("login_per_ip=7/90").unwrap().1.window,
            Duration::from_secs(90)
        );
        assert_eq!(parse_rate_limit("login_per_ip=off").unwrap().1.count, 0);
        let e = parse_rate_limit("logins=1/60").unwrap_err();
        assert!(
            e.contains("\"logins\"") && e.contains("login_per_ip, login_per_email"),
            "{e}"
        );
        assert!(
            parse_rate_limit("otp_send")
                .unwrap_err()
                .contains("NAME=COUNT/WINDOW")
        );
        assert!(
            parse_rate_limit("otp_send=x/60")
                .unwrap_err()
                .contains("COUNT")
        );
        assert!(
            parse_rate_limit("otp_send=1/0")
                .unwrap_err()
                .contains("WINDOW")
        );
        assert!(
            parse_rate_limit("otp_send=1/5d")
                .unwrap_err()
                .contains("WINDOW")
        );
        assert!(
            parse_rate_limit("otp_send=3")
                .unwrap_err()
                .contains("otp_send=COUNT/WINDOW")
        );
    }

    #[test]
    fn rate_limits_default_on_for_persistent_data_off_when_ephemeral() {
        let persistent = ServerOptions::default();
        assert!(persistent.rate_limits_on());
        assert_eq!(persistent.effective_limits().register_per_ip, Rate::per_minute(5));

        let mut eph = ServerOptions::ephemeral();
        assert!(!eph.rate_limits_on());
        // A changed rate applies; one named explicitly applies even at the hosted value.
        eph.limits.cache_flush = Rate::per_minute(2);
        eph.explicit_rate_limits = vec!["otp_send".into()];
        let l = eph.effective_limits();
        assert_eq!(l.register_per_ip.count, 0);
        assert_eq!(l.login_per_ip.count, 0);
        assert_eq!(l.cache_flush, Rate::per_minute(2));
        assert_eq!(l.otp_send, Limits::default().otp_send);

        eph.rate_limits = Some(true);
        assert_eq!(eph.effective_limits().register_per_ip, Rate::per_minute(5));
        let off = ServerOptions { rate_limits: Some(false), ..ServerOptions::default() };
        assert_eq!(off.effective_limits().login_per_email.count, 0);
    }

    #[test]
    fn otp_send_per_ip_goes_with_otp_send_unless_set_on_purpose() {
        assert_eq!(
            parse_rate("5/30s", "5/30s").unwrap(),
            Rate::new(5, Duration::from_secs(30))
        );
        assert_eq!(parse_rate("off", "off").unwrap().count, 0);
        assert!(parse_rate("5", "5").unwrap_err().contains("COUNT/WINDOW"));
        let mut eph = ServerOptions::ephemeral();
        assert_eq!(eph.effective_limits().otp_send_per_ip.count, 0);
        eph.limits.otp_send_per_ip = Rate::per_minute(5);
        eph.explicit_rate_limits = vec![OTP_SEND_PER_IP.into()];
        assert_eq!(eph.effective_limits().otp_send_per_ip, Rate::per_minute(5));
        let on = ServerOptions {
            rate_limits: Some(true),
            ..ServerOptions::default()
        };
        assert_eq!(on.effective_limits().otp_send_per_ip, Rate::per_minute(20));
    }

    #[test]
    fn flags_apply_in_order_after_none() {
        let mut l = Limits::default();
        l.apply_rate_limit_flags(&["otp_send=2/1s".into()], true).unwrap();
        assert_eq!(l.otp_send, Rate::new(2, Duration::from_secs(1)));
        assert_eq!(l.login_per_ip.count, 0, "--no-rate-limits turned the others off");
        assert!(l.apply_rate_limit_flags(&["nope=1/1".into()], false).unwrap_err().contains("valid names"));
    }
}
