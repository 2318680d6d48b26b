// Temporary load check (not part of the deliverable).
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

async fn static_server() -> String {
    use hyper::server::conn::http1;
    use hyper_util::rt::TokioIo;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (s, _) = l.accept().await.unwrap();
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::builder().header("content-type", "application/json").body(http_body_util::Full::new(bytes::Bytes::from_static(b"{\"value\":{\"hello\":\"world\",\"n\":42},\"exists\":true}"))).unwrap())
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(s), svc).await;
            });
        }
    });
    format!("http://{addr}")
}

async fn load(url: String, key: String, body: serde_json::Value, conc: usize, dur: Duration) -> f64 {
    let client = reqwest::Client::new();
    let n = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (c, u, k, b, n) = (client.clone(), url.clone(), key.clone(), body.clone(), n.clone());
        tasks.push(tokio::spawn(async move {
            while start.elapsed() < dur {
                let r = if b.is_null() { c.get(&u).send().await.unwrap() } else { c.post(&u).header("X-Aerostack-Key", &k).json(&b).send().await.unwrap() };
                
                let _ = r.bytes().await.unwrap();
                n.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks { t.await.unwrap(); }
    n.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let p = aerostack_server::LocalPlatform::start(aerostack_server::ServerOptions::ephemeral()).await.unwrap();
    let key = p.default_project().api_key.clone();
    let c = reqwest::Client::new();
    let post = |path: &str, b: serde_json::Value| c.post(format!("{}{path}", p.url())).header("X-Aerostack-Key", &key).json(&b).send();
    post("/v1/db/query", json!({"sql": "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)"})).await.unwrap();
    for i in 1..=100 { post("/v1/db/query", json!({"sql": "INSERT INTO items VALUES (?, ?)", "params": [i, format!("item {i}")]})).await.unwrap(); }
    post("/v1/cache/set", json!({"key": "bench:key", "value": {"hello": "world", "n": 42}})).await.unwrap();
    let stat = static_server().await;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let alt = format!("http://{}", l.local_addr().unwrap());
    let router = aerostack_server::router(p.state().clone());
    tokio::spawn(async move { axum::serve(l, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap() });
    let d = Duration::from_secs(3);
    for conc in [1usize, 100] {
        let s1 = load(format!("{stat}/v1/cache/get"), key.clone(), json!({"key": "bench:key"}), conc, d).await;
        let c1 = load(format!("{}/v1/cache/get", p.url()), key.clone(), json!({"key": "bench:key"}), conc, d).await;
        let q1 = load(format!("{}/v1/db/query", p.url()), key.clone(), json!({"sql": "SELECT id, name FROM items WHERE id = ?", "params": [7]}), conc, d).await;
        let h1 = load(format!("{alt}/v1/cache/get"), key.clone(), json!({"key": "bench:key"}), conc, d).await;
        println!("conc {conc}: axum::serve cache.get {h1:.0}/s");
        let h2 = load(format!("{}/v1/health", p.url()), key.clone(), serde_json::Value::Null, conc, d).await;
        let h3 = load(format!("{stat}/v1/health"), key.clone(), serde_json::Value::Null, conc, d).await;
        let h4 = load(format!("{}/v1/secrets/list", p.url()), key.clone(), json!({}), conc, d).await;
        println!("conc {conc}: GET health {h2:.0}/s; static GET {h3:.0}/s; secrets.list {h4:.0}");
        println!("conc {conc}: static {s1:.0}/s  cache.get {c1:.0}/s ({:.0}%)  db.query {q1:.0}/s ({:.0}%)", c1 / s1 * 100.0, q1 / s1 * 100.0);
    }
    p.shutdown().await;
}
