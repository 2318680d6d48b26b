//! The `aerostack-server` binary: management commands find the running server (or say they found
//! none and create nothing), and the rate limit flags. Each test runs the real binary on a free
//! loopback port, in its own working directory and announcement directory
//! (`AEROSTACK_RUNTIME_DIR`), so tests never see each other's servers.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_aerostack-server");

/// A working directory and an announcement directory for the commands of one test.
struct Sandbox {
    root: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("cwd")).unwrap();
        Sandbox { root }
    }

    fn cwd(&self) -> PathBuf {
        self.root.path().join("cwd")
    }

    /// Not created: the server creates it.
    fn runtime(&self) -> PathBuf {
        self.root.path().join("runtime")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(self.cwd())
            .env("AEROSTACK_RUNTIME_DIR", self.runtime())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        for var in [
            "AEROSTACK_DATA_DIR",
            "AEROSTACK_PORT",
            "AEROSTACK_API_KEY",
            "AEROSTACK_AI_BASE_URL",
            "AEROSTACK_AI_API_KEY",
            "AEROSTACK_AI_MODEL",
            "RUST_LOG",
        ] {
            c.env_remove(var);
        }
        c
    }

    /// Run a command to the end.
    fn run(&self, args: &[&str]) -> Run {
        Run(self.command(args).output().expect("run aerostack-server"))
    }

    /// Start a server with `args` (plus `--port 0` and a ready file) and wait until it is ready.
    fn serve(&self, args: &[&str]) -> Server {
        self.serve_with(args, |_| {})
    }

    /// [`serve`](Self::serve) with the command adjusted first (environment).
    fn serve_with(&self, args: &[&str], adjust: impl FnOnce(&mut Command)) -> Server {
        let n = std::fs::read_dir(self.root.path()).unwrap().count();
        let ready = self.root.path().join(format!("ready-{n}.json"));
        let out = self.root.path().join(format!("stdout-{n}.txt"));
        let mut all = vec!["--port", "0", "--ready-file", ready.to_str().unwrap()];
        all.extend_from_slice(args);
        let mut cmd = self.command(&all);
        adjust(&mut cmd);
        let child = cmd
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aerostack-server");
        let mut server = Server {
            child,
            stdout: out,
            info: Value::Null,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready.exists() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("aerostack-server exited early ({status})");
            }
            assert!(
                Instant::now() < deadline,
                "the server was not ready in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server.info = serde_json::from_slice(&std::fs::read(&ready).unwrap()).unwrap();
        server
    }

    /// Everything in the working directory (it must stay empty of data directories).
    fn cwd_entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.cwd())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

struct Run(Output);

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    #[track_caller]
    fn ok(self) -> Run {
        assert!(
            self.0.status.success(),
            "failed ({}): {}\n{}",
            self.0.status,
            self.stderr(),
            self.stdout()
        );
        self
    }
    #[track_caller]
    fn fails(self) -> Run {
        assert_eq!(
            self.0.status.code(),
            Some(1),
            "expected exit status 1:\n{}\n{}",
            self.stderr(),
            self.stdout()
        );
        self
    }
}

struct Server {
    child: Child,
    stdout: PathBuf,
    info: Value,
}

impl Server {
    fn url(&self) -> String {
        self.info["url"].as_str().unwrap().to_string()
    }
    fn key(&self) -> String {
        self.info["api_key"].as_str().unwrap().to_string()
    }
    fn data_dir(&self) -> PathBuf {
        PathBuf::from(self.info["data_dir"].as_str().unwrap())
    }
    fn port(&self) -> u16 {
        self.url().rsplit(':').next().unwrap().parse().unwrap()
    }
    fn banner(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap()
    }

    /// SIGTERM, then wait for a clean exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                return;
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Make the platform "send" a one-time code to `email` (an outbox message).
async fn send_otp(url: &str, email: &str) {
    let (status, body) = otp_send_status(url, email).await;
    assert_eq!(status, 200, "{body}");
}

async fn register(url: &str, email: &str) -> u16 {
    reqwest::Client::new()
        .post(format!(
            "{url}/api/v1/public/projects/default/auth/register"
        ))
        .json(&json!({"email": email, "password": "Sup3rSecret"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn assert_no_server_found(r: &Run, runtime: &Path) {
    let e = r.stderr();
    assert!(
        e.contains("no running Aerostack server found")
            && e.contains(&runtime.display().to_string())
            && e.contains("./.aerostack/local")
            && e.contains("--url URL")
            && e.contains("--data-dir DIR")
            && e.contains("nothing was created"),
        "{e}"
    );
}

#[test]
fn management_commands_without_a_server_say_so_and_create_nothing() {
    let sb = Sandbox::new();
    for args in [
        &["outbox"][..],
        &["projects", "list"],
        &["keys", "list"],
        &["secrets", "list"],
        &["secrets", "set", "A", "b"],
        &["projects", "create", "x"],
        &["keys", "create"],
    ] {
        let r = sb.run(args).fails();
        assert_no_server_found(&r, &sb.runtime());
        assert_eq!(r.stdout(), "", "{args:?}");
    }
    let r = sb.run(&["--data-dir", "elsewhere", "outbox"]).fails();
    assert!(
        r.stderr()
            .contains("no data directory at elsewhere (--data-dir)"),
        "{}",
        r.stderr()
    );
    let r = sb.run(&["outbox", "--url", "http://127.0.0.1:1"]).fails();
    assert!(
        r.stderr()
            .contains("no server answers at http://127.0.0.1:1"),
        "{}",
        r.stderr()
    );
    let r = sb.run(&["outbox", "--url", "127.0.0.1:8787"]).fails();
    assert!(r.stderr().contains("is not a server URL"), "{}", r.stderr());
    assert_eq!(
        sb.cwd_entries(),
        Vec::<String>::new(),
        "nothing was created"
    );
    assert!(!sb.runtime().exists());
    assert!(!sb.cwd().join("elsewhere").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_commands_follow_a_running_ephemeral_server() {
    let sb = Sandbox::new();
    let server = sb.serve(&["--ephemeral"]);
    let (url, port) = (server.url(), server.port());

    // The banner names the command that reaches this server; the server announced itself.
    let banner = server.banner();
    assert!(
        banner.contains(&format!("Outbox:    aerostack-server outbox --url {url} ")),
        "{banner}"
    );
    let announced: Value = serde_json::from_slice(
        &std::fs::read(sb.runtime().join(format!("server-{port}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(announced["url"], url);
    assert_eq!(announced["data_dir"], server.info["data_dir"]);
    assert_eq!(announced["pid"], server.child.id());
    assert_eq!(announced["ephemeral"], true);
    assert!(
        announced.get("api_key").is_none(),
        "no key in the announcement"
    );
    assert!(server.data_dir().join("server.json").is_file());

    send_otp(&url, "new@example.com").await;
    // The exact command of the banner, the URL as an SDK takes it, and no arguments at all (the
    // only running server) all read this server's outbox.
    for args in [
        &["outbox", "--url", url.as_str()][..],
        &["outbox", "--url", &format!("{url}/v1/")],
        &["outbox"],
    ] {
        let r = sb.run(args).ok();
        assert!(
            r.stdout().contains("to new@example.com") && r.stdout().contains("code:  "),
            "{args:?}: {}",
            r.stdout()
        );
        assert!(
            r.stderr().contains(&format!(
                "server {url} (data dir {}, ephemeral)",
                server.data_dir().display()
            )),
            "{}",
            r.stderr()
        );
    }
    sb.run(&["secrets", "set", "STRIPE_KEY", "sk_1"]).ok();
    assert_eq!(sb.run(&["secrets", "list"]).ok().stdout(), "STRIPE_KEY\n");
    // Access rules of the running server's project (issue 13 #12).
    assert!(sb.run(&["rules", "list"]).ok().stdout().contains("no rules"));
    sb.run(&["rules", "allow-table", "todos", "--owner-column", "user_id"]).ok();
    sb.run(&["rules", "allow-topic", "chat/*"]).ok();
    let listed = sb.run(&["rules", "list"]).ok().stdout().to_string();
    assert!(listed.contains("table  todos  (rows whose user_id is the user's id)") && listed.contains("topic  chat/*"), "{listed}");
    sb.run(&["rules", "remove", "topic", "chat/*"]).ok();
    assert!(!sb.run(&["rules", "list"]).ok().stdout().contains("chat/*"));
    assert!(
        sb.run(&["projects", "list"])
            .ok()
            .stdout()
            .contains("Default project (default)")
    );

    // Known only by URL (its announcement is elsewhere): the outbox and secrets over HTTP with a
    // key; without one the error says what to pass.
    let other = Sandbox::new();
    let r = other.run(&["outbox", "--url", &url]).fails();
    assert!(
        r.stderr().contains("announced no data directory")
            && r.stderr().contains("--data-dir DIR")
            && r.stderr().contains("--api-key KEY"),
        "{}",
        r.stderr()
    );
    let r = other
        .run(&["outbox", "--url", &url, "--api-key", &server.key()])
        .ok();
    assert!(r.stdout().contains("to new@example.com"), "{}", r.stdout());
    assert!(r.stderr().contains("(over HTTP)"), "{}", r.stderr());
    let r = other
        .run(&["secrets", "list", "--url", &url, "--api-key", &server.key()])
        .ok();
    assert_eq!(r.stdout(), "STRIPE_KEY\n");
    let r = other
        .run(&[
            "projects",
            "list",
            "--url",
            &url,
            "--api-key",
            &server.key(),
        ])
        .fails();
    assert!(
        r.stderr()
            .contains("only outbox and secrets work over HTTP"),
        "{}",
        r.stderr()
    );

    // Stopped: the announcements are gone with the server.
    let data_dir = server.data_dir();
    server.stop();
    assert!(!sb.runtime().join(format!("server-{port}.json")).exists());
    assert!(!data_dir.exists());
    assert_no_server_found(&sb.run(&["outbox"]).fails(), &sb.runtime());
    let r = sb.run(&["outbox", "--url", &url]).fails();
    assert!(r.stderr().contains("no server answers"), "{}", r.stderr());
    assert_eq!(
        sb.cwd_entries(),
        Vec::<String>::new(),
        "nothing was created in the working directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_data_dirs_and_several_servers() {
    let sb = Sandbox::new();
    // A persistent server in the working directory's ./.aerostack/local.
    let persistent = sb.serve(&[]);
    let local = sb.cwd().join(".aerostack").join("local");
    assert_eq!(
        std::fs::canonicalize(persistent.data_dir()).unwrap(),
        std::fs::canonicalize(&local).unwrap()
    );
    assert!(local.join("server.json").is_file());
    send_otp(&persistent.url(), "p@example.com").await;
    let ephemeral = sb.serve(&["--ephemeral"]);

    // Two servers, none on the default port: the command asks which.
    let r = sb.run(&["outbox"]).fails();
    let e = r.stderr();
    assert!(
        e.contains("2 servers are running") && e.contains("--url URL"),
        "{e}"
    );
    assert!(
        e.contains(&persistent.url()) && e.contains(&ephemeral.url()),
        "{e}"
    );
    // Named by data directory, from anywhere.
    let elsewhere = Sandbox::new();
    let dir = local.to_str().unwrap();
    let r = elsewhere.run(&["--data-dir", dir, "outbox"]).ok();
    assert!(r.stdout().contains("to p@example.com"), "{}", r.stdout());
    assert!(
        r.stderr().contains(&format!("server {}", persistent.url())),
        "{}",
        r.stderr()
    );
    let r = sb.run(&["outbox", "--url", &ephemeral.url()]).ok();
    assert!(
        r.stdout().contains("(no messages for project default)"),
        "{}",
        r.stdout()
    );

    ephemeral.stop();
    persistent.stop();
    assert!(!local.join("server.json").exists());
    // No server: the data directory of the working directory, said so.
    let r = sb.run(&["outbox"]).ok();
    assert!(r.stdout().contains("to p@example.com"), "{}", r.stdout());
    assert!(
        r.stderr().contains("(no server running on it)"),
        "{}",
        r.stderr()
    );
    // Writing creates a data directory only when it is named.
    let fresh = elsewhere.cwd().join("fresh");
    elsewhere
        .run(&[
            "--data-dir",
            fresh.to_str().unwrap(),
            "projects",
            "create",
            "Shop",
        ])
        .ok();
    assert!(fresh.join("control.sqlite").is_file());
}

/// `otp/send` from this process: the status, and `accountExists` when answered.
async fn otp_send_status(url: &str, email: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!(
            "{url}/api/v1/public/projects/default/auth/otp/send"
        ))
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_send_per_ip_flag() {
    let sb = Sandbox::new();
    let help = sb.run(&["--help"]).ok().stdout();
    assert!(
        help.contains("--otp-send-per-ip <COUNT/WINDOW>") && help.contains("accountExists"),
        "{help}"
    );
    for bad in ["5", "x/60s", "5/0"] {
        let r = sb.run(&["--ephemeral", "--otp-send-per-ip", bad]);
        assert_eq!(r.0.status.code(), Some(2), "{bad}");
        assert!(r.stderr().contains("--otp-send-per-ip"), "{}", r.stderr());
    }
    // Named on purpose: it applies even with the hosted limits off (--ephemeral).
    let two = sb.serve(&["--ephemeral", "--otp-send-per-ip", "2/60s"]);
    for i in 0..2 {
        let (s, v) = otp_send_status(&two.url(), &format!("probe{i}@example.com")).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["accountExists"], false, "the hosted answer's field stays: {v}");
    }
    let (s, v) = otp_send_status(&two.url(), "probe2@example.com").await;
    assert_eq!(s, 429, "{v}");
    assert!(v["message"].as_str().unwrap().contains("from this IP"), "{v}");
    two.stop();
    // Off, with the hosted limits on (the default would refuse the 21st address a minute).
    let off = sb.serve(&[
        "--ephemeral",
        "--rate-limits",
        "on",
        "--otp-send-per-ip",
        "off",
    ]);
    for i in 0..21 {
        let (s, v) = otp_send_status(&off.url(), &format!("probe{i}@example.com")).await;
        assert_eq!(s, 200, "{i}: {v}");
    }
    off.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_soft_heap_flag() {
    let sb = Sandbox::new();
    let help = sb.run(&["--help"]).ok().stdout();
    assert!(help.contains("--sqlite-soft-heap-mib"), "{help}");
    let r = sb.run(&["--ephemeral", "--sqlite-soft-heap-mib", "lots"]);
    assert_eq!(r.0.status.code(), Some(2));
    assert!(
        r.stderr().contains("--sqlite-soft-heap-mib"),
        "{}",
        r.stderr()
    );
    for mib in ["64", "0"] {
        let server = sb.serve(&["--ephemeral", "--sqlite-soft-heap-mib", mib]);
        let (s, v) = crate::common::json_of(
            reqwest::Client::new()
                .post(format!("{}/v1/db/query", server.url()))
                .header("X-Aerostack-Key", server.key())
                .json(&json!({"sql": "SELECT 1 AS one"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s.as_u16(), &v["results"][0]["one"]), (200, &json!(1)), "{v}");
        server.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_flags() {
    let sb = Sandbox::new();
    let help = sb.run(&["--help"]).ok().stdout();
    for name in [
        "--rate-limit",
        "--no-rate-limits",
        "--rate-limits on|off",
        "login_per_ip",
        "login_per_email",
        "register_per_ip",
        "otp_send",
        "otp_verify",
        "password_reset",
        "resend_verification",
        "cache_flush",
    ] {
        assert!(help.contains(name), "--help names {name}");
    }
    for bad in [
        "logins=1/60",
        "register_per_ip=x/60",
        "register_per_ip=1/0s",
        "register_per_ip",
    ] {
        let r = sb.run(&["--ephemeral", "--rate-limit", bad]);
        assert_eq!(r.0.status.code(), Some(2), "{bad}");
        let e = r.stderr();
        assert!(e.contains("--rate-limit") && e.contains(bad), "{e}");
    }
    let e = sb.run(&["--rate-limit", "logins=1/60"]).stderr();
    assert!(
        e.contains("unknown rate limit \"logins\"; valid names: login_per_ip, login_per_email, register_per_ip, otp_send, otp_verify, password_reset, resend_verification, cache_flush"),
        "{e}"
    );

    // Ephemeral: the hosted limits are off, the one named applies.
    let one = sb.serve(&["--ephemeral", "--rate-limit", "register_per_ip=1/60s"]);
    assert!(
        one.banner()
            .contains("rate limits register_per_ip=1/60s (others off)"),
        "{}",
        one.banner()
    );
    assert_eq!(register(&one.url(), "a@example.com").await, 201);
    assert_eq!(register(&one.url(), "b@example.com").await, 429);
    one.stop();

    // Ephemeral by default, and a persistent data directory switched off: no limits.
    let data = sb.root.path().join("data");
    for args in [
        vec!["--ephemeral"],
        vec!["--ephemeral", "--no-rate-limits"],
        vec!["--data-dir", data.to_str().unwrap(), "--rate-limits", "off"],
    ] {
        let off = sb.serve(&args);
        assert!(
            off.banner().contains("rate limits off"),
            "{args:?}: {}",
            off.banner()
        );
        for i in 0..7 {
            assert_eq!(
                register(&off.url(), &format!("u{i}-{}@example.com", args.len())).await,
                201,
                "{args:?}"
            );
        }
        off.stop();
    }

    // A persistent data directory by default, and an ephemeral one switched on: the hosted
    // limits (register 5/min/IP).
    let data = sb.root.path().join("data2");
    for args in [
        vec!["--data-dir", data.to_str().unwrap()],
        vec!["--ephemeral", "--rate-limits", "on"],
    ] {
        let on = sb.serve(&args);
        assert!(
            !on.banner().contains("rate limits"),
            "{args:?}: {}",
            on.banner()
        );
        for i in 0..5 {
            assert_eq!(
                register(&on.url(), &format!("h{i}@example.com")).await,
                201,
                "{args:?}"
            );
        }
        assert_eq!(register(&on.url(), "h5@example.com").await, 429, "{args:?}");
        on.stop();
    }
    let both = sb.run(&["--ephemeral", "--no-rate-limits", "--rate-limits", "on"]);
    assert_eq!(both.0.status.code(), Some(2), "{}", both.stderr());
    let bad = sb.run(&["--ephemeral", "--rate-limits", "maybe"]);
    assert_eq!(bad.0.status.code(), Some(2), "{}", bad.stderr());
}

/// Logs written to a file or a pipe carry no ANSI escape codes (colour only on a terminal), and
/// `--log-format json` (or `AEROSTACK_LOG_FORMAT=json`) makes every stdout line one JSON object,
/// the start banner included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_to_a_pipe_are_plain_and_json_logs_are_json() {
    let sb = Sandbox::new();
    // NO_COLOR unset: only the terminal check keeps colour out.
    let text = sb.serve_with(&["--ephemeral"], |c| {
        c.env_remove("NO_COLOR");
    });
    send_otp(&text.url(), "plain@example.com").await;
    let path = text.stdout.clone();
    text.stop();
    let out = std::fs::read_to_string(&path).unwrap();
    assert!(out.contains("outbox:"), "a log line was written: {out}");
    assert!(
        !out.contains('\u{1b}'),
        "no escape codes on a pipe: {out:?}"
    );

    for (flag, env) in [(Some("json"), None), (None, Some("json"))] {
        let mut args = vec!["--ephemeral"];
        if let Some(f) = flag {
            args.extend(["--log-format", f]);
        }
        let json_server = sb.serve_with(&args, |c| {
            c.env_remove("NO_COLOR");
            if let Some(v) = env {
                c.env("AEROSTACK_LOG_FORMAT", v);
            }
        });
        send_otp(&json_server.url(), "json@example.com").await;
        let (path, key) = (json_server.stdout.clone(), json_server.key());
        json_server.stop();
        let out = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = out
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
            .collect();
        let started = lines
            .iter()
            .find(|v| v["message"] == "Aerostack local platform started")
            .unwrap_or_else(|| panic!("the banner is a log event: {out}"));
        assert_eq!(started["api_key"], key.as_str());
        assert_eq!(started["level"], "INFO");
        assert!(
            lines.iter().any(|v| v["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("outbox:"))
                && v["to"] == "json@example.com"),
            "{out}"
        );
        assert!(
            lines.iter().any(|v| v["message"] == "shutting down"),
            "{out}"
        );
    }
    let bad = sb.run(&["--ephemeral", "--log-format", "xml"]);
    assert_eq!(bad.0.status.code(), Some(2));
    assert!(
        bad.stderr().contains("text") && bad.stderr().contains("json"),
        "{}",
        bad.stderr()
    );
}
