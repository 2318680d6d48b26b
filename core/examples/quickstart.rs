//! Rust quickstart: touches every service of a running Aerostack platform, one line per step.
//!
//! ```sh
//! cargo run -p aerostack-server -- --ephemeral          # prints the API key
//! AEROSTACK_API_KEY=ac_secret_… cargo run -p aerostack-core --example quickstart
//! ```
//! Reads `AEROSTACK_API_URL` (default `http://127.0.0.1:8787/v1`), `AEROSTACK_API_KEY` and
//! `AEROSTACK_PROJECT_ID` (default: the `default` project).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aerostack::worker::{Invocation, Module, Worker, WorkerOptions};
use aerostack::{
    CallOptions, ChatMessage, ChatRequest, Client, ClientConfig, ErrorCode, Method, RetryPolicy,
    SearchQuery, Statement, UploadOptions,
};
use serde_json::json;

type Res<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("quickstart failed: {e}");
        std::process::exit(1);
    }
}

fn step(name: &str, detail: impl std::fmt::Display) {
    println!("{name:<22} {detail}");
}

async fn run() -> Res {
    let url =
        std::env::var("AEROSTACK_API_URL").unwrap_or_else(|_| "http://127.0.0.1:8787/v1".into());
    let project = std::env::var("AEROSTACK_PROJECT_ID").unwrap_or_else(|_| "default".into());
    let client = Client::new(
        ClientConfig::new()
            .base_url(url)
            .project_id(project)
            .user_agent_prefix("aerostack-quickstart/0.1.0"),
    )?;
    if std::env::var("AEROSTACK_API_KEY").is_err() {
        return Err(
            "set AEROSTACK_API_KEY to the key printed by `aerostack-server` at start".into(),
        );
    }
    let run_id = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();

    // Database
    let db = client.db();
    db.query(
        "CREATE TABLE IF NOT EXISTS quickstart_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
        &[],
    )
    .await?;
    db.query(
        "INSERT INTO quickstart_notes (body) VALUES (?)",
        &[json!(format!("hello from run {run_id}"))],
    )
    .await?;
    let rows = db
        .query(
            "SELECT id, body FROM quickstart_notes ORDER BY id DESC LIMIT 3",
            &[],
        )
        .await?;
    step(
        "db.query",
        format!(
            "{} row(s), newest: {}",
            rows.count,
            json!(rows.results.first())
        ),
    );
    let batch = db
        .batch(&[
            Statement::new(
                "INSERT INTO quickstart_notes (body) VALUES (?)",
                vec![json!("batched")],
            ),
            Statement::new("SELECT COUNT(*) AS n FROM quickstart_notes", vec![]),
        ])
        .await?;
    step(
        "db.batch",
        format!(
            "success={} total notes={}",
            batch.success, batch.results[1].results[0]["n"]
        ),
    );

    // Auth (end users of the project)
    let auth = client.auth();
    let email = format!("quickstart+{run_id}@example.com");
    let password = "Quickstart-Passw0rd!";
    let session = auth
        .register(&email, password, Some("Quick Start"), None)
        .await?;
    step(
        "auth.register",
        format!(
            "user {}",
            session.user.as_ref().map_or("?", |u| u.id.as_str())
        ),
    );
    let session = auth.login(&email, password).await?;
    let token = session
        .access_token
        .clone()
        .ok_or("login returned no access token")?;
    let user = auth
        .verify_token(&token)
        .await?
        .ok_or("a fresh token did not verify")?;
    step(
        "auth.verify_token",
        format!("{} ({})", user.email.unwrap_or_default(), user.id),
    );
    auth.send_otp(Some(&email), None).await?;
    let code = client
        .local_outbox(Some(&email), Some(5))
        .await?
        .into_iter()
        .find_map(|m| m.code)
        .ok_or("no OTP code in the local outbox")?;
    let otp = auth.verify_otp(&code, Some(&email), None).await?;
    step(
        "auth.verify_otp",
        format!(
            "code {code} -> token issued: {}",
            otp.access_token.is_some()
        ),
    );

    // Cache
    let cache = client.cache();
    cache
        .set("quickstart:greeting", &json!({"text": "hi"}), Some(300))
        .await?;
    let value = cache.get("quickstart:greeting").await?;
    let visits = cache
        .increment("quickstart:visits", Some(1), Some(0), None)
        .await?;
    step("cache", format!("get={} visits={visits}", json!(value)));

    // Queue
    let queue = client.queue();
    let job_id = queue
        .send(
            "send-welcome-email",
            &json!({"email": email}),
            None,
            Some(3),
        )
        .await?;
    let job = queue
        .job(&job_id)
        .await?
        .ok_or("the job just enqueued is missing")?;
    step("queue", format!("job {job_id} is {}", job.status));

    // Storage
    let storage = client.storage();
    let key = format!("quickstart/{run_id}.txt");
    let uploaded = storage
        .upload(
            &key,
            b"Hello, Aerostack!".to_vec(),
            UploadOptions::default(),
        )
        .await?;
    let object = storage.get(&key).await?;
    let listed = storage.list(Some("quickstart/"), Some(10), None).await?;
    step(
        "storage",
        format!(
            "{} ({} bytes, {}) listed={}",
            uploaded.url,
            object.data.len(),
            object.content_type.unwrap_or_default(),
            listed.objects.len()
        ),
    );

    // AI: embeddings and search run offline; chat needs an upstream model.
    let ai = client.ai();
    let emb = ai.embed("offline embeddings").await?;
    step("ai.embed", format!("{} dimensions", emb.dimensions()));
    let search = ai.search();
    search
        .ingest(
            "Rust engines make fast SDKs",
            "faq",
            Some("faq-1"),
            Some(&json!({"lang": "en"})),
        )
        .await?;
    search
        .ingest("Bananas are yellow", "faq", Some("faq-2"), None)
        .await?;
    let hits = search
        .query(
            "fast SDK engine",
            &SearchQuery {
                top_k: Some(1),
                ..Default::default()
            },
        )
        .await?;
    step(
        "ai.search",
        format!("best hit: {:?}", hits.first().map(|h| &h.content)),
    );
    match ai
        .chat(&ChatRequest::new(vec![ChatMessage::user("Say hi")]))
        .await
    {
        Ok(r) => step("ai.chat", r.text),
        Err(e) if e.code() == &ErrorCode::AiNotConfigured => step(
            "ai.chat",
            "skipped: no AI upstream configured (AI_NOT_CONFIGURED)",
        ),
        Err(e) => return Err(e.into()),
    }

    // Secrets
    let secrets = client.secrets();
    secrets.set("QUICKSTART_TOKEN", "s3cret").await?;
    let secret = secrets.get("QUICKSTART_TOKEN").await?;
    step(
        "secrets",
        format!(
            "QUICKSTART_TOKEN is {}",
            if secret.is_some() { "set" } else { "missing" }
        ),
    );

    // Realtime: the notes table's change feed and a persisted publish, pulled from the
    // engine's event queue (the engine never calls back into user code).
    let rt = client.realtime();
    let feed = rt.channel("quickstart_notes");
    let on_insert = feed.on("INSERT");
    rt.connect().await?;
    let pull = |what: &'static str| {
        let rt = rt.clone();
        async move {
            rt.next_event_timeout(std::time::Duration::from_secs(5))
                .await
                .ok_or(format!("no realtime {what} within 5 s"))
        }
    };
    while pull("subscription").await?.kind != aerostack::realtime::EventKind::Subscribed {}
    db.query(
        "INSERT INTO quickstart_notes (body) VALUES (?)",
        &[json!("seen live")],
    )
    .await?;
    let change = loop {
        let ev = pull("change").await?;
        if ev.listeners.contains(&on_insert) {
            break ev;
        }
    };
    step(
        "realtime.db_change",
        format!("{} {}", change.event, change.data["body"]),
    );
    let ack = rt
        .channel("chat/quickstart")
        .publish(
            "hello",
            json!({"run": run_id.to_string()}),
            aerostack::realtime::PublishOptions::persisted(),
        )
        .await?;
    step("realtime.publish", format!("acked, message {}", ack.id));
    rt.disconnect().await;

    // Custom API served by a Rust Logic Module: a worker runs in this process (a tokio task
    // standing in for your worker process), serves seed 000's search-products, then drains.
    let worker = Arc::new(
        Worker::connect(
            ClientConfig::new().base_url(client.base_url()),
            WorkerOptions::new().module(Module::api("search-products").allow_get(true)),
        )
        .await?,
    );
    let project_id = worker.project_id().unwrap_or_default();
    db.query(
        "CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT, slug TEXT, project_id TEXT)",
        &[],
    )
    .await?;
    db.query(
        "INSERT INTO products (name, slug, project_id) VALUES (?, ?, ?)",
        &[
            json!("Blue shirt"),
            json!(format!("blue-shirt-{run_id}")),
            json!(project_id),
        ],
    )
    .await?;
    let serving = tokio::spawn({
        let worker = worker.clone();
        async move {
            while let Some(inv) = worker.next_invocation().await {
                let answer = search_products(&inv).await;
                let _ = match answer {
                    Ok(v) => worker.complete(&inv.id, v),
                    Err(e) => worker.fail(&inv.id, &e.to_string()),
                };
            }
        }
    });
    let found = client
        .call(
            "search-products",
            &json!({"q": "shirt", "limit": 5}),
            Method::POST,
        )
        .await?;
    step("custom.call", format!("search-products -> {found}"));
    worker.drain().await;
    serving.await?;
    let once = client.with_options(CallOptions::new().retry(RetryPolicy::none()));
    match once.call("search-products", &json!({}), Method::POST).await {
        Err(e) if e.code() == &ErrorCode::WorkerNotConnected => {
            step("worker.drain", "drained; the custom API answers 503 again")
        }
        other => step("worker.drain", format!("unexpected: {other:?}")),
    }

    println!("quickstart complete");
    Ok(())
}

/// Seed 000's search-products handler: `{q, limit}` -> `{results, count}`.
async fn search_products(inv: &Invocation) -> aerostack::Result<serde_json::Value> {
    let data = inv.data();
    let q = data["q"].as_str().unwrap_or("");
    let limit = data["limit"].as_i64().unwrap_or(10);
    let rows = inv
        .sdk()
        .db()
        .query(
            "SELECT id, name, slug FROM products WHERE project_id = ? AND name LIKE ? LIMIT ?",
            &[json!(inv.project_id), json!(format!("%{q}%")), json!(limit)],
        )
        .await?;
    Ok(json!({"count": rows.results.len(), "results": rows.results}))
}
