// TEMPORARY: engine vs raw reqwest overhead check (deleted before handoff).
use std::time::Instant;
use axum::{Router, routing::post, Json};
use serde_json::{json, Value};

#[tokio::main]
async fn main() {
    let app = Router::new().route("/v1/cache/get", post(|Json(_b): Json<Value>| async { Json(json!({"value": {"a": 1, "b": "hello"}, "exists": true})) }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let base = format!("http://{addr}/v1");
    let n = 20000;
    let conc = 16;
    for round in 0..3 {
        // raw
        let raw = reqwest::Client::new();
        let t = Instant::now();
        let mut hs = vec![];
        for _ in 0..conc {
            let raw = raw.clone(); let url = format!("{base}/cache/get");
            hs.push(tokio::spawn(async move { for _ in 0..n/conc { let v: Value = raw.post(&url).header("x-aerostack-key", "k").json(&json!({"key": "k"})).send().await.unwrap().json().await.unwrap(); std::hint::black_box(v); } }));
        }
        for h in hs { h.await.unwrap(); }
        let raw_rate = n as f64 / t.elapsed().as_secs_f64();
        let c = aerostack::Client::new(aerostack::ClientConfig { ignore_env: true, ..Default::default() }.base_url(&base).api_key("k")).unwrap();
        let t = Instant::now();
        let mut hs = vec![];
        for _ in 0..conc {
            let c = c.clone();
            hs.push(tokio::spawn(async move { for _ in 0..n/conc { let v = c.cache().get("k").await.unwrap(); std::hint::black_box(v); } }));
        }
        for h in hs { h.await.unwrap(); }
        let eng_rate = n as f64 / t.elapsed().as_secs_f64();
        println!("round {round}: raw {raw_rate:.0}/s engine {eng_rate:.0}/s ratio {:.3}", eng_rate / raw_rate);
    }
}
