//! Drives one kind of call for a fixed time with N callers and reports calls per second.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::raw::Raw;

const WARMUP: Duration = Duration::from_millis(300);

/// Runs `call` from `callers` concurrent tasks for `dur` (after a warm-up) and returns calls/s.
async fn measure<F, Fut>(callers: usize, dur: Duration, call: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let counting_from = start + WARMUP;
    let end = counting_from + dur;
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (call, done) = (call.clone(), done.clone());
            tokio::spawn(async move {
                loop {
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    call().await;
                    if now >= counting_from {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("load task");
    }
    done.load(Ordering::Relaxed) as f64 / dur.as_secs_f64()
}

const SQL: &str = "SELECT id, name FROM items WHERE id = ?";

pub async fn engine_rate(api: &str, key: &str, op: &'static str, callers: usize, dur: Duration) -> f64 {
    let client = aerostack::Client::new(
        aerostack::ClientConfig::new().api_key(key).base_url(api),
    )
    .expect("engine client");
    measure(callers, dur, move || {
        let client = client.clone();
        async move {
            match op {
                "db.query" => {
                    let r = client.db().query(SQL, &[json!(42)]).await.expect("engine db.query");
                    assert_eq!(r.count, 1);
                }
                _ => {
                    let v = client.cache().get("bench:key").await.expect("engine cache.get");
                    assert!(v.is_some());
                }
            }
        }
    })
    .await
}

/// Writes through raw HTTP: `queue.enqueue`, a one-row `db.insert`, or `cache.set`.
pub async fn raw_write_rate(api: &str, key: &str, op: &'static str, callers: usize, dur: Duration) -> f64 {
    let raw = Arc::new(Raw::new(api, key));
    let n = Arc::new(std::sync::atomic::AtomicU64::new(0));
    measure(callers, dur, move || {
        let (raw, n) = (raw.clone(), n.clone());
        async move {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match op {
                "queue.enqueue" => {
                    raw.enqueue("bench-write", json!({"i": i})).await;
                }
                "db.insert" => {
                    raw.db_query("INSERT INTO writes (n) VALUES (?)", &[json!(i)]).await;
                }
                _ => {
                    raw.cache_set(&format!("bench:w:{}", i % 1000), json!({"i": i})).await;
                }
            }
        }
    })
    .await
}

pub async fn raw_rate(api: &str, key: &str, op: &'static str, callers: usize, dur: Duration) -> f64 {
    let raw = Arc::new(Raw::new(api, key));
    measure(callers, dur, move || {
        let raw = raw.clone();
        async move {
            match op {
                "db.query" => {
                    let v = raw.db_query(SQL, &[json!(42)]).await;
                    assert_eq!(v["count"], 1);
                }
                _ => {
                    let v = raw.cache_get("bench:key").await;
                    assert_eq!(v["exists"], true);
                }
            }
        }
    })
    .await
}
