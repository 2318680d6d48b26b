//! `aerostack-server`: run the local platform, or manage one (projects, keys, secrets, outbox).
//!
//! Management commands act on a running server found through its announcement
//! (`aerostack_server::discovery`), on a data directory named with `--data-dir`, or on
//! `./.aerostack/local` when it exists; they say which on stderr. When they find nothing they say
//! what they looked for and exit non-zero. Reading never creates a data directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use aerostack_server::discovery::{self, Announcement};
use aerostack_server::store::control::{self, Control, ProjectRec};
use aerostack_server::{Limits, LocalPlatform, ServerError, ServerOptions};
use clap::{Args, Parser, Subcommand, ValueEnum};
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};

const DEFAULT_DATA_DIR: &str = ".aerostack/local";


const ABOUT_MANAGEMENT: &str = "\
Management commands (projects, keys, secrets, outbox, gateway) act on:
  --data-dir DIR        that data directory (also while a server runs on it);
  --url URL             the server at URL: its data directory when it announced one (a server
                        started by this command or `python -m aerostack.local` does), else its
                        HTTP API with --api-key KEY (outbox and secrets only);
  neither               the running server on port 8787, else the only running server, else
                        ./.aerostack/local when it exists.
Running servers announce themselves in $AEROSTACK_RUNTIME_DIR, else $XDG_RUNTIME_DIR/aerostack,
else <temp dir>/aerostack-<user> (server-<port>.json). Which server or directory was used is
printed on stderr; when none is found the command says so and exits with status 1. Reading never
creates a data directory; writing (projects create, keys create, secrets set, gateway create-api,
create-key, credit) creates one only
when it is named with --data-dir.
";

/// The long help's tail: how management commands find a server, then the rate limits.
static ABOUT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{ABOUT_MANAGEMENT}\n{}\n{RATE_LIMIT_SWITCH}",
        aerostack_server::options::RATE_LIMIT_HELP
    )
});

/// When the hosted rate limits apply (`ServerOptions::rate_limits`).
const RATE_LIMIT_SWITCH: &str = "\
The hosted rate limits are on by default for a persistent data directory and off with
--ephemeral (as in every SDK's in-process LocalPlatform), so a test suite can sign up users
freely; --rate-limits on|off switches them either way (--no-rate-limits is --rate-limits off).
Limits named with --rate-limit apply either way.";

#[derive(Parser)]
#[command(
    name = "aerostack-server",
    version,
    about = "The local Aerostack platform: offline, wire-compatible, SQLite-backed.",
    after_long_help = ABOUT.as_str(),
    after_help = "Run with --help for how management commands find a server, and the rate limit names."
)]
struct Cli {
    /// Data directory (default ./.aerostack/local, or $AEROSTACK_DATA_DIR). With a management
    /// command: use this directory instead of looking for a running server.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Interface to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 = any free port).
    #[arg(long, env = "AEROSTACK_PORT", default_value_t = 8787)]
    port: u16,
    /// Keep all data in a temporary directory removed at shutdown.
    #[arg(long)]
    ephemeral: bool,
    /// Directory whose .dev.vars seeds the default project's secrets (default: current directory).
    #[arg(long)]
    project_dir: Option<PathBuf>,
    /// Password sign-ups get no tokens until the email is verified.
    #[arg(long)]
    require_email_verification: bool,
    /// Once listening, write {url, api_url, project_id, project_slug, api_key, data_dir,
    /// dashboard_url} as JSON
    /// here, so scripts can wait for readiness and learn the port and key (with --port 0).
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Set one rate limit, e.g. `register_per_ip=100/60s` (repeatable; COUNT 0 or `NAME=off`
    /// disables it). NAME is one of login_per_ip, login_per_email, register_per_ip, otp_send,
    /// otp_verify, password_reset, resend_verification, cache_flush; WINDOW is seconds or a
    /// duration such as 500ms, 60s, 15m, 1h.
    #[arg(long = "rate-limit", value_name = "NAME=COUNT/WINDOW", value_parser = check_rate_limit)]
    rate_limits: Vec<String>,
    /// The hosted rate limits: on by default for a persistent data directory, off with
    /// --ephemeral (a test fixture signs up more than 5 users a minute). Those named with
    /// --rate-limit apply either way.
    #[arg(long = "rate-limits", value_name = "on|off", value_enum)]
    rate_limits_switch: Option<Switch>,
    /// The same as --rate-limits off (every rate limit off; those named with --rate-limit still
    /// apply).
    #[arg(long, conflicts_with = "rate_limits_switch")]
    no_rate_limits: bool,
    /// One-time codes sent per client IP, whatever the address, as COUNT/WINDOW (e.g. 20/60s,
    /// the default) or `off`. `otp/send` answers whether an account exists (`accountExists`, as
    /// the hosted platform does), so this bounds how fast one client can probe addresses. It
    /// goes with the otp_send limit (off with --no-rate-limits or --ephemeral) unless given here.
    #[arg(long, value_name = "COUNT/WINDOW", value_parser = check_rate)]
    otp_send_per_ip: Option<String>,
    /// SQLite's soft heap limit for the whole process, in MiB (default 512; 0 = none): past it
    /// SQLite frees cached pages before it takes more memory. User SQL cannot change it.
    #[arg(long, value_name = "MIB")]
    sqlite_soft_heap_mib: Option<u64>,
    /// Log lines as text (coloured only when stdout is a terminal and NO_COLOR is unset) or as
    /// JSON, one object per line, for tools (the start banner becomes a log event too).
    #[arg(long, env = "AEROSTACK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Do not serve the local dashboard at / (it is on by default, behind the session token
    /// printed in the banner).
    #[arg(long)]
    no_dashboard: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Switch {
    On,
    Off,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Where a management command finds its server (`--data-dir` is the global flag).
#[derive(Args, Clone, Default)]
struct Target {
    /// The server to manage, e.g. http://127.0.0.1:41234 (as printed in its banner).
    #[arg(long, global = true, value_name = "URL")]
    url: Option<String>,
    /// With --url of a server whose data directory is not known here: read its outbox and
    /// secrets over HTTP with this project API key (default $AEROSTACK_API_KEY).
    #[arg(long, global = true, value_name = "KEY")]
    api_key: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform (the default command).
    Serve(ServeArgs),
    /// Create and list projects.
    Projects {
        #[command(flatten)]
        target: Target,
        #[command(subcommand)]
        command: ProjectsCommand,
    },
    /// Create and list API keys.
    Keys {
        #[command(flatten)]
        target: Target,
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Set and list project secrets.
    Secrets {
        #[command(flatten)]
        target: Target,
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Access rules for end users on realtime: the tables (their own rows, with an owner column)
    /// and topics an end user's access token reaches. Without rules: everything (the hosted
    /// behaviour); with one, only what the rules list. Key holders are never restricted.
    Rules {
        #[command(flatten)]
        target: Target,
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// AI gateway: gateway APIs, consumer keys (ask_test_...) and their token wallets.
    Gateway {
        #[command(flatten)]
        target: Target,
        #[command(subcommand)]
        command: GatewayCommand,
    },
    /// Show the emails and codes the platform "sent" (verification, OTP, password reset).
    Outbox {
        #[command(flatten)]
        target: Target,
        /// Project id or slug (default: the default project).
        #[arg(long)]
        project: Option<String>,
        /// Only messages to this address.
        #[arg(long)]
        to: Option<String>,
        /// How many messages, newest first.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// List the project's rules.
    List {
        #[arg(long)]
        project: Option<String>,
    },
    /// Let end users receive a table's row changes; with --owner-column, only the rows whose
    /// column holds their user id.
    AllowTable {
        table: String,
        #[arg(long)]
        owner_column: Option<String>,
        #[arg(long)]
        project: Option<String>,
    },
    /// Let end users subscribe and publish to topics matching PATTERN (a trailing * matches any
    /// rest, e.g. 'chat/*').
    AllowTopic {
        pattern: String,
        #[arg(long)]
        project: Option<String>,
    },
    /// Remove a rule.
    Remove {
        kind: RuleKind,
        pattern: String,
        #[arg(long)]
        project: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RuleKind {
    Table,
    Topic,
}

#[derive(Subcommand)]
enum ProjectsCommand {
    /// Create a project and its first API key.
    Create {
        name: String,
        #[arg(long)]
        slug: Option<String>,
    },
    /// List projects.
    List,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create another API key for a project.
    Create {
        #[arg(long)]
        project: Option<String>,
    },
    /// List API keys.
    List {
        #[arg(long)]
        project: Option<String>,
    },
}

#[derive(Subcommand)]
enum GatewayCommand {
    /// List the project's gateway APIs.
    Apis {
        #[arg(long)]
        project: Option<String>,
    },
    /// Create a gateway API (consumers call /api/gateway/<slug>/v1/chat/completions).
    CreateApi {
        slug: String,
        #[arg(long)]
        name: Option<String>,
        /// Model asked of the AI server when a request names none (else AEROSTACK_AI_MODEL).
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        project: Option<String>,
    },
    /// Create a consumer key (printed once) with a token wallet.
    CreateKey {
        api_slug: String,
        #[arg(long)]
        name: Option<String>,
        /// Tokens put into the new wallet.
        #[arg(long, default_value_t = 0)]
        credits: i64,
        #[arg(long)]
        project: Option<String>,
    },
    /// Add tokens to a consumer's wallet.
    Credit {
        consumer_id: String,
        tokens: i64,
        #[arg(long)]
        project: Option<String>,
    },
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Set (or replace) a secret.
    Set {
        key: String,
        value: String,
        #[arg(long)]
        project: Option<String>,
    },
    /// List secret names (values are not printed).
    List {
        #[arg(long)]
        project: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve, cli.data_dir),
        Some(Command::Serve(args)) => serve(args, cli.data_dir),
        Some(cmd) => manage(cmd, cli.data_dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Checks a `COUNT/WINDOW` value (`--otp-send-per-ip`) as clap parses it.
fn check_rate(s: &str) -> Result<String, String> {
    aerostack_server::options::parse_rate(s, s).map(|_| s.to_string())
}

/// Checks a `--rate-limit` value as clap parses it (the spec is applied by `Limits`).
fn check_rate_limit(s: &str) -> Result<String, String> {
    aerostack_server::options::parse_rate_limit(s).map(|_| s.to_string())
}

/// Logs go to stdout: text with colour only on a terminal (a pipe or file gets no escape codes),
/// or one JSON object per line.
fn init_logs(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("aerostack_server=info,warn"));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match format {
        LogFormat::Json => fmt.json().flatten_event(true).with_ansi(false).init(),
        LogFormat::Text => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            fmt.with_ansi(colour).init()
        }
    }
}

fn serve(args: ServeArgs, data_dir: Option<PathBuf>) -> Result<(), ServerError> {
    init_logs(args.log_format);
    let json_logs = args.log_format == LogFormat::Json;
    let ready_file = args.ready_file.clone();
    let mut limits = Limits::default();
    limits
        .apply_rate_limit_flags(&args.rate_limits, args.no_rate_limits)
        .map_err(ServerError::Invalid)?;
    let mut explicit_rate_limits: Vec<String> = args
        .rate_limits
        .iter()
        .filter_map(|s| aerostack_server::options::parse_rate_limit(s).ok())
        .map(|(name, _)| name)
        .collect();
    if let Some(spec) = &args.otp_send_per_ip {
        limits.otp_send_per_ip =
            aerostack_server::options::parse_rate(spec, spec).map_err(ServerError::Invalid)?;
        explicit_rate_limits.push(aerostack_server::options::OTP_SEND_PER_IP.to_string());
    }
    if let Some(mib) = args.sqlite_soft_heap_mib {
        limits.sqlite_soft_heap_bytes = mib.saturating_mul(1024 * 1024);
    }
    let opts = ServerOptions {
        host: args.host,
        port: args.port,
        data_dir,
        ephemeral: args.ephemeral,
        project_dir: args.project_dir,
        require_email_verification: args.require_email_verification,
        print_banner: true,
        // With JSON logs every stdout line is JSON: the banner's facts are logged instead.
        banner_as_log: json_logs,
        rate_limits: if args.no_rate_limits {
            Some(false)
        } else {
            args.rate_limits_switch.map(|s| s == Switch::On)
        },
        dashboard: !args.no_dashboard,
        explicit_rate_limits,
        limits,
        ..ServerOptions::default()
    }
    .from_env();
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| ServerError::Internal(format!("tokio runtime: {e}")))?;
    rt.block_on(async {
        let platform = LocalPlatform::start(opts).await?;
        if let Some(path) = ready_file {
            write_ready_file(&path, &platform)?;
        }
        wait_for_signal().await;
        if json_logs {
            tracing::info!("shutting down");
        } else {
            eprintln!("shutting down...");
        }
        platform.shutdown().await;
        Ok(())
    })
}

/// Written to a temporary name then renamed, so a reader never sees half a file.
fn write_ready_file(path: &Path, p: &LocalPlatform) -> Result<(), ServerError> {
    let project = p.default_project();
    let info = json!({
        "url": p.url(),
        "api_url": p.api_url(),
        "project_id": project.id,
        "project_slug": project.slug,
        "api_key": project.api_key,
        "data_dir": p.data_dir(),
        "pid": std::process::id(),
        "dashboard_url": p.dashboard_url(),
    });
    let tmp = path.with_extension("tmp");
    let io =
        |e: std::io::Error| ServerError::Internal(format!("--ready-file {}: {e}", path.display()));
    std::fs::write(&tmp, serde_json::to_vec_pretty(&info).expect("JSON")).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Finding what to manage

/// What a management command acts on.
enum Located {
    /// A data directory, with the server running on it when there is one.
    Dir {
        dir: PathBuf,
        server: Option<Announcement>,
    },
    /// A server known only by its URL, through its HTTP API.
    Http { url: String, api_key: String },
}

impl Located {
    fn describe(&self) -> String {
        match self {
            Located::Dir {
                dir,
                server: Some(a),
            } => format!(
                "server {} (data dir {}{})",
                a.url,
                dir.display(),
                if a.ephemeral { ", ephemeral" } else { "" }
            ),
            Located::Dir { dir, server: None } => {
                format!("data dir {} (no server running on it)", dir.display())
            }
            Located::Http { url, .. } => format!("server {url} (over HTTP)"),
        }
    }
}

fn not_found(msg: String) -> ServerError {
    ServerError::NotFound(msg)
}

/// `http://host:port` from what a user may paste: trailing `/`, a `/v1` suffix.
fn base_url(url: &str) -> Result<String, ServerError> {
    let u = url.trim().trim_end_matches('/');
    let u = u.strip_suffix("/v1").unwrap_or(u).trim_end_matches('/');
    if !(u.starts_with("http://") || u.starts_with("https://"))
        || discovery::socket_addr(u).is_none()
    {
        return Err(ServerError::Invalid(format!(
            "--url {url:?} is not a server URL: pass the URL from the server's banner, e.g. http://127.0.0.1:8787"
        )));
    }
    Ok(u.to_string())
}

/// `(host, port)` of an `http(s)://host:port` URL.
fn host_port(url: &str) -> Option<(String, u16)> {
    let addr = discovery::socket_addr(url)?;
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = match authority.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.is_empty() => h,
        _ => authority,
    };
    Some((
        host.trim_matches(['[', ']']).to_ascii_lowercase(),
        addr.port(),
    ))
}

fn same_server(a: &str, b: &str) -> bool {
    let loopback = |h: &str| matches!(h, "localhost" | "127.0.0.1" | "::1" | "0.0.0.0" | "::");
    match (host_port(a), host_port(b)) {
        (Some((ha, pa)), Some((hb, pb))) => {
            pa == pb && (ha == hb || (loopback(&ha) && loopback(&hb)))
        }
        _ => false,
    }
}

fn has_control(dir: &Path) -> bool {
    dir.join("control.sqlite").is_file()
}

/// The server running on `dir`, from its `server.json`.
fn server_on(dir: &Path) -> Option<Announcement> {
    discovery::read(&dir.join(discovery::DATA_DIR_FILE)).filter(discovery::is_alive)
}

fn absolute(dir: &Path) -> PathBuf {
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// How to point a command at a server, for the errors.
const POINT_HELP: &str = "Start one with `aerostack-server` (or `aerostack-server --ephemeral`), or point at one with --url URL (the API URL of its banner, without /v1) or --data-dir DIR";

fn locate(
    data_dir: Option<PathBuf>,
    target: &Target,
    write: bool,
    over_http: bool,
) -> Result<Located, ServerError> {
    let env_dir = std::env::var_os("AEROSTACK_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    if data_dir.is_some() && target.url.is_some() {
        return Err(ServerError::Invalid(
            "pass either --url or --data-dir, not both".into(),
        ));
    }
    // An explicit directory.
    let explicit = match (data_dir, env_dir) {
        (Some(d), _) => Some((d, "--data-dir")),
        (None, Some(d)) if target.url.is_none() => Some((d, "AEROSTACK_DATA_DIR")),
        _ => None,
    };
    if let Some((dir, how)) = explicit {
        if has_control(&dir) {
            return Ok(Located::Dir {
                server: server_on(&dir),
                dir: absolute(&dir),
            });
        }
        if write {
            let dir = absolute(&dir);
            eprintln!("creating the data directory {} ({how})", dir.display());
            Control::open(&dir)?;
            return Ok(Located::Dir { dir, server: None });
        }
        return Err(not_found(format!(
            "no data directory at {} ({how}): it has no control.sqlite. A server creates one on its first start (`aerostack-server --data-dir {}`); nothing was created",
            dir.display(),
            dir.display()
        )));
    }
    let runtime = discovery::runtime_dir();
    // A server named by URL.
    if let Some(url) = &target.url {
        let url = base_url(url)?;
        let announced = discovery::announcements()
            .into_iter()
            .find(|a| same_server(&a.url, &url) && discovery::is_alive(a));
        if let Some(a) = announced {
            return Ok(Located::Dir {
                dir: a.data_dir.clone(),
                server: Some(a),
            });
        }
        let answering = discovery::socket_addr(&url).is_some_and(|addr| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
        });
        if !answering {
            return Err(not_found(format!(
                "no server answers at {url} (nothing accepts connections there). {POINT_HELP}"
            )));
        }
        let key = target.api_key.clone().or_else(|| {
            std::env::var("AEROSTACK_API_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty())
        });
        return match key {
            Some(api_key) if over_http => Ok(Located::Http { url, api_key }),
            Some(_) => Err(not_found(format!(
                "the server at {url} announced no data directory in {} (one started in-process without a banner does not), and this command needs it: only outbox and secrets work over HTTP. Pass --data-dir DIR (the Data line of its banner)",
                runtime.display()
            ))),
            None => Err(not_found(format!(
                "the server at {url} announced no data directory in {} (one started in-process without a banner does not). Pass --data-dir DIR (the Data line of its banner){}",
                runtime.display(),
                if over_http {
                    ", or --api-key KEY (or $AEROSTACK_API_KEY) to read over HTTP"
                } else {
                    ""
                }
            ))),
        };
    }
    // Look for a running server, then the default data directory.
    let alive: Vec<Announcement> = discovery::announcements()
        .into_iter()
        .filter(discovery::is_alive)
        .collect();
    let chosen = alive
        .iter()
        .find(|a| a.port == discovery::DEFAULT_PORT)
        .cloned()
        .or_else(|| (alive.len() == 1).then(|| alive[0].clone()));
    if let Some(a) = chosen {
        return Ok(Located::Dir {
            dir: a.data_dir.clone(),
            server: Some(a),
        });
    }
    if alive.len() > 1 {
        let list: Vec<String> = alive
            .iter()
            .map(|a| format!("  {}   data dir {}", a.url, a.data_dir.display()))
            .collect();
        return Err(ServerError::Invalid(format!(
            "{} servers are running and none on port {}: pick one with --url URL\n{}",
            alive.len(),
            discovery::DEFAULT_PORT,
            list.join("\n")
        )));
    }
    let default_dir = PathBuf::from(DEFAULT_DATA_DIR);
    if has_control(&default_dir) {
        return Ok(Located::Dir {
            server: server_on(&default_dir),
            dir: absolute(&default_dir),
        });
    }
    Err(not_found(format!(
        "no running Aerostack server found (no live server-<port>.json in {}) and no data directory at ./{DEFAULT_DATA_DIR}. {POINT_HELP}{}; nothing was created",
        runtime.display(),
        if write {
            " (--data-dir DIR creates a new data directory)"
        } else {
            ""
        }
    )))
}

// ---------------------------------------------------------------------------------------------
// Management commands

fn project(c: &Connection, r: Option<&str>) -> Result<ProjectRec, ServerError> {
    match r {
        None => control::default_project(c),
        Some(r) => control::find_project(c, r)?.ok_or_else(|| {
            ServerError::NotFound(format!(
                "no project with id or slug {r:?} (see `aerostack-server projects list`)"
            ))
        }),
    }
}

/// A read-only connection to the control database of `dir` (creates nothing).
fn open_read_only(dir: &Path) -> Result<Connection, ServerError> {
    let c = Connection::open_with_flags(
        dir.join("control.sqlite"),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_timeout(Duration::from_secs(5))?;
    Ok(c)
}

fn manage(cmd: Command, data_dir: Option<PathBuf>) -> Result<(), ServerError> {
    let (target, write, over_http) = match &cmd {
        Command::Serve(_) => unreachable!("handled by serve()"),
        Command::Projects { target, command } => (
            target,
            matches!(command, ProjectsCommand::Create { .. }),
            false,
        ),
        Command::Keys { target, command } => {
            (target, matches!(command, KeysCommand::Create { .. }), false)
        }
        Command::Secrets { target, command } => {
            (target, matches!(command, SecretsCommand::Set { .. }), true)
        }
        Command::Gateway { target, command } => (
            target,
            !matches!(command, GatewayCommand::Apis { .. }),
            false,
        ),
        Command::Outbox { target, .. } => (target, false, true),
        Command::Rules { target, command } => (target, !matches!(command, RulesCommand::List { .. }), false),
    };
    let located = locate(data_dir, target, write, over_http)?;
    eprintln!("{}", located.describe());
    match located {
        Located::Http { url, api_key } => manage_http(cmd, &url, &api_key),
        Located::Dir { dir, .. } if write => {
            let ctl = Control::open(&dir)?;
            ctl.with(|c| run(cmd, c))
        }
        Located::Dir { dir, .. } => run(cmd, &open_read_only(&dir)?),
    }
}

fn run(cmd: Command, c: &Connection) -> Result<(), ServerError> {
    match cmd {
        Command::Serve(_) => unreachable!("handled by serve()"),
        Command::Projects {
            command: ProjectsCommand::Create { name, slug },
            ..
        } => {
            let (p, key) = control::create_project(c, &name, slug.as_deref())?;
            println!(
                "created project {} (slug: {}, name: {})\nAPI key: {key}",
                p.id, p.slug, p.name
            );
        }
        Command::Projects {
            command: ProjectsCommand::List,
            ..
        } => {
            println!("{:<18} {:<24} {:<28} CREATED", "ID", "SLUG", "NAME");
            for (p, is_default, created) in control::list_projects(c)? {
                let name = if is_default {
                    format!("{} (default)", p.name)
                } else {
                    p.name
                };
                println!("{:<18} {:<24} {:<28} {created}", p.id, p.slug, name);
            }
        }
        Command::Keys {
            command: KeysCommand::Create { project: r },
            ..
        } => {
            let p = project(c, r.as_deref())?;
            println!("{}", control::create_key(c, &p.id)?);
        }
        Command::Keys {
            command: KeysCommand::List { project: r },
            ..
        } => {
            let filter = match r {
                Some(r) => Some(project(c, Some(&r))?.id),
                None => None,
            };
            println!("{:<44} {:<18} {:<24} CREATED", "KEY", "PROJECT", "SLUG");
            for (key, pid, slug, created) in control::list_keys(c, filter.as_deref())? {
                println!("{key:<44} {pid:<18} {slug:<24} {created}");
            }
        }
        Command::Secrets {
            command:
                SecretsCommand::Set {
                    key,
                    value,
                    project: r,
                },
            ..
        } => {
            check_secret_name(&key)?;
            let p = project(c, r.as_deref())?;
            control::set_secret(c, &p.id, &key, &value)?;
            println!("set {key} for project {} ({})", p.slug, p.id);
        }
        Command::Rules { command, .. } => {
            use aerostack_server::store::rules::{self, Rule};
            match command {
                RulesCommand::List { project: r } => {
                    let p = project(c, r.as_deref())?;
                    let list = rules::list(c, &p.id)?;
                    if list.is_empty() {
                        println!("(no rules for project {}: end users reach every table and topic)", p.slug);
                    }
                    for rule in list {
                        let owner = rule.owner_column.map(|o| format!("  (rows whose {o} is the user's id)")).unwrap_or_default();
                        println!("{:<6} {}{owner}", rule.kind, rule.pattern);
                    }
                }
                RulesCommand::AllowTable { table, owner_column, project: r } => {
                    let p = project(c, r.as_deref())?;
                    rules::put(c, &p.id, &Rule { kind: "table".into(), pattern: table.clone(), owner_column })?;
                    println!("end users of project {} may read table {table}", p.slug);
                }
                RulesCommand::AllowTopic { pattern, project: r } => {
                    let p = project(c, r.as_deref())?;
                    rules::put(c, &p.id, &Rule { kind: "topic".into(), pattern: pattern.clone(), owner_column: None })?;
                    println!("end users of project {} may use topics {pattern}", p.slug);
                }
                RulesCommand::Remove { kind, pattern, project: r } => {
                    let p = project(c, r.as_deref())?;
                    let kind = match kind {
                        RuleKind::Table => "table",
                        RuleKind::Topic => "topic",
                    };
                    let removed = rules::remove(c, &p.id, kind, &pattern)?;
                    println!("{} {kind} rule {pattern} of project {}", if removed { "removed" } else { "no" }, p.slug);
                }
            }
        }
        Command::Secrets {
            command: SecretsCommand::List { project: r },
            ..
        } => {
            let p = project(c, r.as_deref())?;
            for name in control::list_secrets(c, &p.id)? {
                println!("{name}");
            }
        }
        Command::Gateway { command, .. } => run_gateway(command, c)?,
        Command::Outbox {
            project: r,
            to,
            limit,
            ..
        } => {
            let p = project(c, r.as_deref())?;
            let messages = aerostack_server::store::outbox::list_outbox(
                c,
                &p.id,
                to.as_deref(),
                limit.max(1),
            )?;
            let messages: Vec<Value> = messages
                .iter()
                .map(|m| {
                    json!({
                        "to": m.to, "kind": m.kind, "subject": m.subject, "body": m.body,
                        "code": m.code, "token": m.token,
                        "created_at": aerostack_server::util::iso_ms(m.created_at),
                    })
                })
                .collect();
            print_outbox(&messages, &format!("project {}", p.slug));
        }
    }
    Ok(())
}

fn run_gateway(cmd: GatewayCommand, c: &Connection) -> Result<(), ServerError> {
    use aerostack_server::store::gateway;
    match cmd {
        GatewayCommand::Apis { project: r } => {
            let p = project(c, r.as_deref())?;
            // A data directory no server of this version has opened yet has no gateway tables.
            let has_tables: bool = c.query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'gateway_apis'",
                [],
                |r| r.get(0),
            )?;
            let apis = if has_tables {
                gateway::list_apis(c, &p.id)?
            } else {
                Vec::new()
            };
            println!("{:<22} {:<24} {:<24} {:<20} CREATED", "ID", "SLUG", "NAME", "MODEL");
            for a in apis {
                let model = a.model.as_deref().unwrap_or("-");
                println!(
                    "{:<22} {:<24} {:<24} {model:<20} {}",
                    a.id, a.slug, a.name, a.created_at
                );
            }
        }
        GatewayCommand::CreateApi {
            slug,
            name,
            model,
            project: r,
        } => {
            let p = project(c, r.as_deref())?;
            let a = gateway::create_api(c, &p.id, &slug, name.as_deref(), model.as_deref())?;
            println!(
                "created gateway API {} (slug: {}, name: {}, model: {}) in project {}",
                a.id,
                a.slug,
                a.name,
                a.model.as_deref().unwrap_or("AEROSTACK_AI_MODEL"),
                p.slug
            );
        }
        GatewayCommand::CreateKey {
            api_slug,
            name,
            credits,
            project: r,
        } => {
            let p = project(c, r.as_deref())?;
            let api = gateway::require_api(c, &p.id, &api_slug, "api_slug")?;
            let (consumer, key, wallet) =
                gateway::create_consumer(c, &api, name.as_deref(), credits)?;
            println!(
                "created consumer {} ({}) of gateway API {} with {} tokens\nkey: {key}\n(the key is shown only now)",
                consumer.id, consumer.name, api.slug, wallet.balance
            );
        }
        GatewayCommand::Credit {
            consumer_id,
            tokens,
            project: r,
        } => {
            let p = project(c, r.as_deref())?;
            if gateway::find_consumer(c, &p.id, &consumer_id)?.is_none() {
                return Err(not_found(format!(
                    "no gateway consumer {consumer_id:?} in project {} (`gateway create-key` prints consumer ids)",
                    p.slug
                )));
            }
            let w = gateway::credit(c, &consumer_id, tokens)?;
            println!(
                "credited {tokens} tokens to {consumer_id}: balance {} (purchased {}, consumed {})",
                w.balance, w.total_purchased, w.total_consumed
            );
        }
    }
    Ok(())
}

fn check_secret_name(key: &str) -> Result<(), ServerError> {
    if control::valid_secret_name(key) {
        Ok(())
    } else {
        Err(ServerError::Invalid(format!(
            "invalid secret name {key:?}: use letters, digits, '_', '.' or '-'"
        )))
    }
}

fn print_outbox(messages: &[Value], whose: &str) {
    if messages.is_empty() {
        println!("(no messages for {whose})");
    }
    let s = |m: &Value, k: &str| m[k].as_str().unwrap_or_default().to_string();
    for m in messages {
        println!(
            "--- {} | {} | to {} | {}",
            s(m, "created_at"),
            s(m, "kind"),
            s(m, "to"),
            s(m, "subject")
        );
        if let Some(code) = m["code"].as_str() {
            println!("code:  {code}");
        }
        if let Some(token) = m["token"].as_str() {
            println!("token: {token}");
        }
        println!("{}\n", s(m, "body"));
    }
}

/// Outbox and secrets of a server known only by URL, through its API (the key decides the project).
fn manage_http(cmd: Command, url: &str, api_key: &str) -> Result<(), ServerError> {
    let no_project = |r: &Option<String>| {
        match r {
        Some(_) => Err(ServerError::Invalid(
            "over HTTP the API key decides the project: drop --project, or pass --data-dir DIR to pick a project by id or slug".into(),
        )),
        None => Ok(()),
    }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ServerError::Internal(format!("tokio runtime: {e}")))?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| ServerError::Internal(format!("HTTP client: {e}")))?;
    let call = |method: reqwest::Method, path: String, body: Option<Value>| {
        let req = http
            .request(method, format!("{url}{path}"))
            .header("X-Aerostack-Key", api_key);
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(b.to_string()),
            None => req,
        };
        rt.block_on(async {
            let r = req
                .send()
                .await
                .map_err(|e| ServerError::Internal(format!("{url}{path}: {e}")))?;
            let status = r.status();
            let text = r
                .text()
                .await
                .map_err(|e| ServerError::Internal(format!("{url}{path}: {e}")))?;
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            if status.is_success() {
                Ok(v)
            } else {
                let msg = v["message"]
                    .as_str()
                    .map_or_else(|| v.to_string(), str::to_string);
                Err(ServerError::Invalid(format!(
                    "{url}{path} answered {status}: {msg}"
                )))
            }
        })
    };
    match cmd {
        Command::Outbox {
            project, to, limit, ..
        } => {
            no_project(&project)?;
            let mut path = format!("/v1/local/outbox?limit={}", limit.clamp(1, 500));
            if let Some(to) = to {
                let to: String = to
                    .bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect();
                path.push_str(&format!("&to={to}"));
            }
            let v = call(reqwest::Method::GET, path, None)?;
            let messages = v["messages"].as_array().cloned().unwrap_or_default();
            print_outbox(&messages, "the key's project");
        }
        Command::Secrets {
            command: SecretsCommand::List { project },
            ..
        } => {
            no_project(&project)?;
            let v = call(
                reqwest::Method::POST,
                "/v1/secrets/list".into(),
                Some(json!({})),
            )?;
            for k in v["keys"].as_array().into_iter().flatten() {
                println!("{}", k.as_str().unwrap_or_default());
            }
        }
        Command::Secrets {
            command:
                SecretsCommand::Set {
                    key,
                    value,
                    project,
                },
            ..
        } => {
            no_project(&project)?;
            check_secret_name(&key)?;
            call(
                reqwest::Method::POST,
                "/v1/secrets/set".into(),
                Some(json!({"key": key, "value": value})),
            )?;
            println!("set {key} for the key's project");
        }
        _ => unreachable!("locate() answers Http only for outbox and secrets"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_same_server() {
        assert_eq!(
            base_url("http://127.0.0.1:8787/v1/").unwrap(),
            "http://127.0.0.1:8787"
        );
        assert!(base_url("127.0.0.1:8787").is_err());
        assert!(same_server(
            "http://127.0.0.1:41234",
            "http://localhost:41234"
        ));
        assert!(!same_server(
            "http://127.0.0.1:41234",
            "http://127.0.0.1:41235"
        ));
    }
}
