//! A Logic Module in Rust: seed 000's search-products custom API, served by a worker until
//! Ctrl-C, then drained.
//!
//! ```sh
//! cargo run -p aerostack-server -- --ephemeral          # prints the API key
//! AEROSTACK_API_KEY=ac_secret_… cargo run -p aerostack-core --example worker_module
//! curl -X POST "http://127.0.0.1:8787/api/v1/public/projects/default/custom/search-products" \
//!   -H "X-API-Key: $AEROSTACK_API_KEY" -H "Content-Type: application/json" -d '{"q":"shirt","limit":5}'
//! ```
//! Reads `AEROSTACK_API_URL` (default `http://127.0.0.1:8787/v1`) and `AEROSTACK_API_KEY`.

use std::sync::Arc;

use aerostack::ClientConfig;
use aerostack::worker::{Invocation, Module, Worker, WorkerOptions};
use serde_json::{Value, json};

type Res<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("worker_module failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Res {
    let mut config = ClientConfig::new();
    if std::env::var("AEROSTACK_API_URL").is_err() {
        config = config.server_index(1);
    }
    let worker = Arc::new(
        Worker::connect(
            config,
            WorkerOptions::new()
                .module(
                    Module::api("search-products")
                        .name("Search products")
                        .allow_get(true),
                )
                .label("worker_module example"),
        )
        .await?,
    );
    let project_id = worker.project_id().unwrap_or_default();
    seed(worker.client(), &project_id).await?;
    println!("serving search-products for project {project_id}; Ctrl-C drains and exits");

    let serving = tokio::spawn({
        let worker = worker.clone();
        async move {
            // Each invocation runs on its own task; the loop only pulls.
            while let Some(inv) = worker.next_invocation().await {
                let worker = worker.clone();
                tokio::spawn(async move {
                    let _ = match search_products(&inv).await {
                        Ok(v) => worker.complete(&inv.id, v),
                        Err(e) => worker.fail(&inv.id, &e.to_string()),
                    };
                });
            }
        }
    });
    tokio::signal::ctrl_c().await?;
    println!("draining…");
    worker.drain().await;
    serving.await?;
    Ok(())
}

/// `handler(sdk, event)`: `{q, limit}` (body, or query string for GET) -> `{results, count}`.
async fn search_products(inv: &Invocation) -> aerostack::Result<Value> {
    let input = if inv.data().is_object() {
        inv.data()
    } else {
        &inv.event["query"]
    };
    let q = input["q"].as_str().unwrap_or("");
    let limit = input["limit"]
        .as_i64()
        .or_else(|| input["limit"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(10);
    let rows = inv
        .sdk()
        .db()
        .query(
            "SELECT id, name, slug FROM products WHERE project_id = ? AND name LIKE ? LIMIT ?",
            &[json!(inv.project_id), json!(format!("%{q}%")), json!(limit)],
        )
        .await?;
    Ok(json!({"results": rows.results, "count": rows.results.len()}))
}

/// A products table with a few rows, so the API has something to find.
async fn seed(client: &aerostack::Client, project_id: &str) -> Res {
    let db = client.db();
    db.query(
        "CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT, slug TEXT, project_id TEXT)",
        &[],
    )
    .await?;
    let have = db
        .query(
            "SELECT COUNT(*) AS n FROM products WHERE project_id = ?",
            &[json!(project_id)],
        )
        .await?;
    if have.results.first().and_then(|r| r["n"].as_i64()) == Some(0) {
        for (name, slug) in [
            ("Blue shirt", "blue-shirt"),
            ("Red shirt", "red-shirt"),
            ("Green hat", "green-hat"),
        ] {
            db.query(
                "INSERT INTO products (name, slug, project_id) VALUES (?, ?, ?)",
                &[json!(name), json!(slug), json!(project_id)],
            )
            .await?;
        }
    }
    Ok(())
}
