//! Nothing acknowledged is lost on `kill -9` (issue 13, item 7: cache writes): the real binary
//! under concurrent `setMany` load is killed, restarted on the same data directory, and every
//! key whose write was acknowledged must be there.
#![cfg(unix)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_aerostack-server");

/// Start the binary on a free loopback port with `data`; `(child, url, key)` once ready.
fn serve(root: &Path, data: &Path, n: usize) -> (Child, String, String) {
    let ready = root.join(format!("ready-{n}.json"));
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--no-rate-limits", "--ready-file"])
        .arg(&ready)
        .arg("--data-dir")
        .arg(data)
        .current_dir(root)
        .env("AEROSTACK_RUNTIME_DIR", root.join("runtime"))
        .env_remove("AEROSTACK_PORT")
        .env_remove("AEROSTACK_DATA_DIR")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aerostack-server");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("aerostack-server exited early ({status})");
        }
        assert!(Instant::now() < deadline, "the server was not ready in time");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(50));
    let info: Value = serde_json::from_slice(&std::fs::read(&ready).unwrap()).unwrap();
    (
        child,
        info["url"].as_str().unwrap().to_string(),
        info["api_key"].as_str().unwrap().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_cache_writes_survive_kill_9() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let http = reqwest::Client::new();
    let mut acked_all: Vec<String> = Vec::new();
    // Bounded: 3 rounds of load + kill -9, each checked after the restart.
    for round in 0..3 {
        let (mut child, url, key) = serve(root.path(), &data, round);
        check(&http, &url, &key, &acked_all).await;
        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        // 8 writers, at most 400 calls of 100 keys each, or until the kill.
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let (http, url, key, acked, stop) =
                    (http.clone(), url.clone(), key.clone(), acked.clone(), stop.clone());
                tokio::spawn(async move {
                    for call in 0..400 {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let keys: Vec<String> =
                            (0..100).map(|i| format!("r{round}-w{w}-c{call}-k{i}")).collect();
                        let entries: Vec<Value> = keys
                            .iter()
                            .map(|k| json!({"key": k, "value": {"pad": "x".repeat(200)}}))
                            .collect();
                        let r = http
                            .post(format!("{url}/v1/cache/setMany"))
                            .header("X-Aerostack-Key", &key)
                            .json(&json!({"entries": entries}))
                            .send()
                            .await;
                        match r {
                            Ok(r) if r.status().is_success() => match r.bytes().await {
                                Ok(_) => acked.lock().extend(keys),
                                Err(_) => break,
                            },
                            _ => break,
                        }
                    }
                })
            })
            .collect();
        // Kill mid-load, once some writes were acknowledged.
        let deadline = Instant::now() + Duration::from_secs(30);
        while acked.lock().len() < 20_000 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            let _ = w.await;
        }
        let acked = std::mem::take(&mut *acked.lock());
        assert!(acked.len() >= 1000, "too few writes were acknowledged to test anything");
        acked_all.extend(acked);
    }
    let (mut child, url, key) = serve(root.path(), &data, 3);
    check(&http, &url, &key, &acked_all).await;
    child.kill().unwrap();
    let _ = child.wait();
}

/// Every key of `acked` is there.
async fn check(http: &reqwest::Client, url: &str, key: &str, acked: &[String]) {
    let mut lost = Vec::new();
    for chunk in acked.chunks(100) {
        let v: Value = http
            .post(format!("{url}/v1/cache/getMany"))
            .header("X-Aerostack-Key", key)
            .json(&json!({"keys": chunk}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for k in chunk {
            if missing(&v, k) {
                lost.push(k.clone());
            }
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged keys were lost after kill -9, e.g. {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
}

/// Whether `getMany`'s answer lacks a value for `k` (it answers `{values: {k: v|null}}` or a list).
fn missing(v: &Value, k: &str) -> bool {
    if let Some(m) = v["values"].as_object() {
        return m.get(k).is_none_or(Value::is_null);
    }
    if let Some(list) = v["values"].as_array().or(v["results"].as_array()) {
        return !list.iter().any(|e| e["key"] == k && !e["value"].is_null());
    }
    true
}
