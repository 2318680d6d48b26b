//! Slow and idle clients cannot hold the platform's sockets forever, connections are capped, a
//! low open-file limit is reported at start, and a burst cannot open hundreds of handles on
//! `control.sqlite` (issue 13, item 5). Loopback only; every wait is bounded.

use std::time::Duration;

use aerostack_server::ServerOptions;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::start_with;

/// Reads until the server closes the connection; `true` when it did within `bound`.
async fn closed_within(stream: &mut TcpStream, bound: Duration) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(bound, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_closed() {
    let mut opts = ServerOptions::ephemeral();
    opts.limits.header_read_timeout = Duration::from_secs(1);
    let ctx = start_with(opts).await;
    let addr = ctx.p.addr();
    // Slowloris: one header byte at a time, never finishing.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let drip = async {
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if slow.write_all(b"X").await.is_err() {
                break;
            }
        }
    };
    drip.await;
    assert!(
        closed_within(&mut slow, Duration::from_secs(10)).await,
        "a client sending headers slowly was never closed"
    );
    // Connected and silent.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_within(&mut idle, Duration::from_secs(10)).await,
        "an idle connection was never closed"
    );
    // A normal request still works.
    let r = ctx.http.get(ctx.url("/v1/health")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped() {
    let mut opts = ServerOptions::ephemeral();
    opts.limits.max_connections = 4;
    let ctx = start_with(opts).await;
    let addr = ctx.p.addr();
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        // A complete request keeps the connection served (kept alive) after the answer.
        s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        held.push(s);
    }
    // A fifth client waits in the backlog ...
    let fifth = tokio::spawn({
        let url = ctx.url("/v1/health");
        async move {
            reqwest::Client::new().get(url).send().await.unwrap().status().as_u16()
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!fifth.is_finished(), "a fifth connection was served beyond the cap of 4");
    // ... and is served once one closes.
    drop(held.pop());
    let status = tokio::time::timeout(Duration::from_secs(20), fifth)
        .await
        .expect("the waiting client was served after a connection closed")
        .unwrap();
    assert_eq!(status, 200);
    drop(held);
    ctx.p.shutdown().await;
}

/// File descriptors of this process open on `name` (Linux).
fn open_handles(name: &str) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|t| t.to_string_lossy().ends_with(name))
                })
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_opens_a_bounded_number_of_control_db_handles() {
    if !std::path::Path::new("/proc/self/fd").exists() {
        return;
    }
    let ctx = start_with(ServerOptions::ephemeral()).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        let name = ctx.p.data_dir().join("control.sqlite").to_string_lossy().into_owned();
        tokio::task::spawn_blocking(move || {
            let mut max = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                max = max.max(open_handles(&name));
                std::thread::sleep(Duration::from_millis(5));
            }
            max
        })
    };
    // 300 concurrent calls that each use a control.sqlite connection.
    let calls: Vec<_> = (0..300)
        .map(|i| {
            let (http, url, key) = (ctx.http.clone(), ctx.url("/v1/queue/enqueue"), ctx.key.clone());
            tokio::spawn(async move {
                http.post(url)
                    .header("X-Aerostack-Key", key)
                    .json(&json!({"type": "burst", "data": {"i": i}}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    for c in calls {
        let status = c.await.unwrap().unwrap();
        assert!(status == 200 || status == 201, "{status}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let max = sampler.await.unwrap();
    assert!(
        max <= aerostack_server::store::pool::MAX_OPEN + 2,
        "{max} handles were open on control.sqlite during the burst"
    );
    ctx.p.shutdown().await;
}

#[cfg(target_os = "linux")]
#[test]
fn a_low_open_file_limit_is_reported_at_start() {
    let root = tempfile::tempdir().unwrap();
    let ready = root.path().join("ready.json");
    let err = root.path().join("stdout.txt"); // the log goes to stdout
    let bin = env!("CARGO_BIN_EXE_aerostack-server");
    let script = format!(
        "ulimit -n 512 && exec '{bin}' --port 0 --ephemeral --ready-file '{}'",
        ready.display()
    );
    let mut child = std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(root.path())
        .env("AEROSTACK_RUNTIME_DIR", root.path().join("runtime"))
        .env_remove("AEROSTACK_PORT")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&err).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !ready.exists() && std::time::Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&err).unwrap();
    assert!(ready.exists(), "the server did not start: {text}");
    assert!(
        text.contains("open-file limit (ulimit -n) is 512") && text.contains("256 connections"),
        "no warning about the low open-file limit: {text}"
    );
}

/// A body that stalls fails its read after the idle limit (issue 13 #5: the header timeout alone
/// let a client trickle a body and hold the connection).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut o = aerostack_server::ServerOptions::ephemeral();
    o.limits.header_read_timeout = std::time::Duration::from_secs(1);
    let ctx = crate::common::start_with(o).await;
    let addr = ctx.p.url().trim_start_matches("http://").to_string();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/cache/set HTTP/1.1\r\nHost: {addr}\r\nX-Aerostack-Key: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"key\": ",
        ctx.key
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), sock.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("stalled"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    ctx.p.shutdown().await;
}
