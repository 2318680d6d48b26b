// TEMPORARY: engine vs raw reqwest overhead check (deleted before handoff).
use std::time::{Duration, Instant};
use axum::{Router, routing::post, Json};
use serde_json::{json, Value};

async fn bench<F, Fut>(n: usize, conc: usize, f: F) -> f64 where F: Fn() -> Fut + Clone + Send + 'static, Fut: std::future::Future<Output=()> + Send {
    let t = Instant::now();
    let mut hs = vec![];
    for _ in 0..conc { let f = f.clone(); hs.push(tokio::spawn(async move { for _ in 0..n/conc { f().await } })); }
    for h in hs { h.await.unwrap(); }
    n as f64 / t.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let app = Router::new().route("/v1/cache/get", post(|Json(_b): Json<Value>| async { Json(json!({"value": {"a": 1, "b": "hello"}, "exists": true})) }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let base = format!("http://{addr}/v1");
    let url = format!("{base}/cache/get");
    let n = 20000; let conc = 16;
    for round in 0..3 {
        let raw = reqwest::Client::new();
        let (r, u) = (raw.clone(), url.clone());
        let raw_rate = bench(n, conc, move || { let (r, u) = (r.clone(), u.clone()); async move { let v: Value = r.post(&u).header("x-aerostack-key", "k").json(&json!({"key": "k"})).send().await.unwrap().json().await.unwrap(); std::hint::black_box(v); } }).await;
        let (r, u) = (raw.clone(), url.clone());
        let raw_to = bench(n, conc, move || { let (r, u) = (r.clone(), u.clone()); async move { let v: Value = r.post(&u).timeout(Duration::from_secs(30)).header("x-aerostack-key", "k").json(&json!({"key": "k"})).send().await.unwrap().json().await.unwrap(); std::hint::black_box(v); } }).await;
        let (r, u) = (raw.clone(), url.clone());
        let raw_hdr = bench(n, conc, move || { let (r, u) = (r.clone(), u.clone()); async move { let v: Value = r.post(&u).header("x-aerostack-key", "k").header("x-request-id", uuid::Uuid::new_v4().to_string()).header("user-agent", "aerostack-core/0.1.0").json(&json!({"key": "k"})).send().await.unwrap().json().await.unwrap(); std::hint::black_box(v); } }).await;
        let c = aerostack::Client::new(aerostack::ClientConfig { ignore_env: true, ..Default::default() }.base_url(&base).api_key("k")).unwrap();
        let eng_rate = bench(n, conc, move || { let c = c.clone(); async move { let v = c.cache().get("k").await.unwrap(); std::hint::black_box(v); } }).await;
        println!("round {round}: raw {raw_rate:.0} raw+timeout {raw_to:.0} raw+hdrs {raw_hdr:.0} engine {eng_rate:.0} ratio {:.3}", eng_rate / raw_rate);
    }
}
