//! `aerostack-server`: run the local platform, or manage its data directory (projects, keys,
//! secrets, outbox). Management commands work on the data directory directly, also while a
//! server is running on it (SQLite WAL).

use std::path::PathBuf;
use std::process::ExitCode;

use aerostack_server::store::control::{self, Control, ProjectRec};
use aerostack_server::{LocalPlatform, ServerError, ServerOptions};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "aerostack-server",
    version,
    about = "The local Aerostack platform: offline, wire-compatible, SQLite-backed."
)]
struct Cli {
    /// Data directory (default ./.aerostack/local).
    #[arg(long, global = true, env = "AEROSTACK_DATA_DIR")]
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
    /// Once listening, write {url, api_url, project_id, project_slug, api_key, data_dir} as JSON
    /// here, so scripts can wait for readiness and learn the port and key (with --port 0).
    #[arg(long)]
    ready_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform (the default command).
    Serve(ServeArgs),
    /// Create and list projects.
    Projects {
        #[command(subcommand)]
        command: ProjectsCommand,
    },
    /// Create and list API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Set and list project secrets.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Show the emails and codes the platform "sent" (verification, OTP, password reset).
    Outbox {
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
    let data_dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(".aerostack").join("local"));
    let result = match cli.command {
        None => serve(cli.serve, cli.data_dir),
        Some(Command::Serve(args)) => serve(args, cli.data_dir),
        Some(cmd) => manage(cmd, &data_dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs, data_dir: Option<PathBuf>) -> Result<(), ServerError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("aerostack_server=info,warn")
            }),
        )
        .with_target(false)
        .init();
    let ready_file = args.ready_file.clone();
    let opts = ServerOptions {
        host: args.host,
        port: args.port,
        data_dir,
        ephemeral: args.ephemeral,
        project_dir: args.project_dir,
        require_email_verification: args.require_email_verification,
        print_banner: true,
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
        eprintln!("shutting down...");
        platform.shutdown().await;
        Ok(())
    })
}

/// Written to a temporary name then renamed, so a reader never sees half a file.
fn write_ready_file(path: &std::path::Path, p: &LocalPlatform) -> Result<(), ServerError> {
    let project = p.default_project();
    let info = serde_json::json!({
        "url": p.url(),
        "api_url": p.api_url(),
        "project_id": project.id,
        "project_slug": project.slug,
        "api_key": project.api_key,
        "data_dir": p.data_dir(),
    });
    let tmp = path.with_extension("tmp");
    let io = |e: std::io::Error| ServerError::Internal(format!("--ready-file {}: {e}", path.display()));
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

fn project(c: &rusqlite::Connection, r: Option<&str>) -> Result<ProjectRec, ServerError> {
    match r {
        None => control::default_project(c),
        Some(r) => control::find_project(c, r)?.ok_or_else(|| {
            ServerError::NotFound(format!(
                "no project with id or slug {r:?} (see `aerostack-server projects list`)"
            ))
        }),
    }
}

fn manage(cmd: Command, data_dir: &std::path::Path) -> Result<(), ServerError> {
    let ctl = Control::open(data_dir)?;
    ctl.with(|c| {
        match cmd {
            Command::Serve(_) => unreachable!("handled by serve()"),
            Command::Projects {
                command: ProjectsCommand::Create { name, slug },
            } => {
                let (p, key) = control::create_project(c, &name, slug.as_deref())?;
                println!(
                    "created project {} (slug: {}, name: {})\nAPI key: {key}",
                    p.id, p.slug, p.name
                );
            }
            Command::Projects {
                command: ProjectsCommand::List,
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
            } => {
                let p = project(c, r.as_deref())?;
                println!("{}", control::create_key(c, &p.id)?);
            }
            Command::Keys {
                command: KeysCommand::List { project: r },
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
            } => {
                if !control::valid_secret_name(&key) {
                    return Err(ServerError::Invalid(format!(
                        "invalid secret name {key:?}: use letters, digits, '_', '.' or '-'"
                    )));
                }
                let p = project(c, r.as_deref())?;
                control::set_secret(c, &p.id, &key, &value)?;
                println!("set {key} for project {} ({})", p.slug, p.id);
            }
            Command::Secrets {
                command: SecretsCommand::List { project: r },
            } => {
                let p = project(c, r.as_deref())?;
                for name in control::list_secrets(c, &p.id)? {
                    println!("{name}");
                }
            }
            Command::Outbox {
                project: r,
                to,
                limit,
            } => {
                let p = project(c, r.as_deref())?;
                let messages = aerostack_server::store::outbox::list_outbox(
                    c,
                    &p.id,
                    to.as_deref(),
                    limit.max(1),
                )?;
                if messages.is_empty() {
                    println!("(no messages for project {})", p.slug);
                }
                for m in messages {
                    println!(
                        "--- {} | {} | to {} | {}",
                        aerostack_server::util::iso_ms(m.created_at),
                        m.kind,
                        m.to,
                        m.subject
                    );
                    if let Some(code) = &m.code {
                        println!("code:  {code}");
                    }
                    if let Some(token) = &m.token {
                        println!("token: {token}");
                    }
                    println!("{}\n", m.body);
                }
            }
        }
        Ok(())
    })
}
