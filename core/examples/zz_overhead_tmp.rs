// TEMPORARY: engine vs raw reqwest CPU cost per call (deleted before handoff).
use std::time::{Duration, Instant};
use axum::{Router, routing::post};
use serde_json::{json, Value};

fn cpu_ticks() -> u64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

async fn run<F, Fut>(name: &str, n: usize, f: F) where F: Fn() -> Fut, Fut: std::future::Future<Output=()> {
    let c0 = cpu_ticks(); let t = Instant::now();
    for _ in 0..n { f().await; }
    let cpu_ms = (cpu_ticks() - c0) as f64 * 10.0;
    let wall = t.elapsed().as_secs_f64();
    println!("{name:<14} {:.1} us cpu/call  {:.0} calls/s", cpu_ms * 1000.0 / n as f64, n as f64 / wall);
}

const DB: &str = r#"{"results":[{"id":42,"name":"item 42"}],"count":1,"meta":{"changes":0,"last_row_id":0,"duration_ms":0.01}}"#;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = Router::new().route("/v1/db/query", post(|_b: axum::body::Bytes| async { ([("content-type", "application/json")], DB) }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let base = format!("http://{addr}/v1");
    let url = format!("{base}/db/query");
    let n = 30000;
    let raw = reqwest::Client::new();
    let c = aerostack::Client::new(aerostack::ClientConfig { ignore_env: true, ..Default::default() }.base_url(&base).api_key("k")).unwrap();
    let sql = "SELECT id, name FROM items WHERE id = ?";
    for _ in 0..3 {
        run("raw", n, || async { let r = raw.post(&url).header("X-Aerostack-Key", "k").json(&json!({"sql": sql, "params": [42]})).send().await.unwrap(); let b = r.bytes().await.unwrap(); let v: Value = serde_json::from_slice(&b).unwrap(); std::hint::black_box(v); }).await;
        run("raw+timeout", n, || async { let r = raw.post(&url).timeout(Duration::from_secs(30)).header("X-Aerostack-Key", "k").json(&json!({"sql": sql, "params": [42]})).send().await.unwrap(); let b = r.bytes().await.unwrap(); let v: Value = serde_json::from_slice(&b).unwrap(); std::hint::black_box(v); }).await;
        run("raw+hdrs", n, || async { let r = raw.post(&url).header("X-Aerostack-Key", "k").header("x-request-id", uuid::Uuid::new_v4().to_string()).header("user-agent", "aerostack-core/0.1.0").json(&json!({"sql": sql, "params": [42]})).send().await.unwrap(); let b = r.bytes().await.unwrap(); let v: Value = serde_json::from_slice(&b).unwrap(); std::hint::black_box(v); }).await;
        run("engine", n, || async { let r = c.db().query(sql, &[json!(42)]).await.unwrap(); std::hint::black_box(r); }).await;
    }
}
