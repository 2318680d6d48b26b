//! The hook runtime end to end: Rust handlers served by `aerostack::worker::Worker` against the
//! real platform started in-process (custom APIs with their switches, errors and timeouts,
//! queue jobs with retries, dead-letter and redelivery, services, platform events, project
//! isolation, re-connection).

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aerostack::worker::{FetchOptions, Invocation, JobType, Module, Worker, WorkerOptions};
use aerostack::{Client, ErrorCode, JobRecord, Method};
use aerostack_server::{Limits, LocalPlatform, ServerOptions};
use common::{Harness, client_for, config_for, eventually};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// Short timeouts and backoff so retry paths run in milliseconds.
fn options() -> ServerOptions {
    ServerOptions {
        limits: Limits {
            hook_timeout: Duration::from_secs(3),
            scope_token_grace: Duration::from_millis(300),
            job_backoff_base: Duration::from_millis(100),
            job_backoff_max: Duration::from_secs(2),
            job_poll_interval: Duration::from_millis(50),
            ..Limits::default()
        },
        ..ServerOptions::ephemeral()
    }
}

/// The host loop a language binding runs: pull, run the handler on our own task, settle.
fn serve<F, Fut>(worker: Arc<Worker>, handler: F) -> JoinHandle<()>
where
    F: Fn(Invocation) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, String>> + Send + 'static,
{
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Some(inv) = worker.next_invocation().await {
            let (w, h) = (worker.clone(), handler.clone());
            tokio::spawn(async move {
                let id = inv.id.clone();
                let _ = match h(inv).await {
                    Ok(v) => w.complete(&id, v),
                    Err(e) => w.fail(&id, &e),
                };
            });
        }
    })
}

async fn connect(h: &Harness, key: &str, options: WorkerOptions) -> Arc<Worker> {
    Arc::new(
        Worker::connect(config_for(&h.api_url(), key, None), options)
            .await
            .expect("the worker connects and registers"),
    )
}

/// Seed 000's search-products module, in Rust against the scoped sdk.
async fn search_products(inv: Invocation) -> Result<Value, String> {
    let event = &inv.event;
    let data = if event["data"].is_object() {
        &event["data"]
    } else {
        &event["query"]
    };
    let q = data["q"].as_str().unwrap_or("");
    let limit = data["limit"]
        .as_i64()
        .or_else(|| data["limit"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(10);
    let rows = inv
        .sdk()
        .db()
        .query(
            "SELECT id, name, slug FROM products WHERE project_id = ? AND name LIKE ? LIMIT ?",
            &[
                json!(event["project_id"]),
                json!(format!("%{q}%")),
                json!(limit),
            ],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(json!({"results": rows.results, "count": rows.results.len()}))
}

async fn seed_products(client: &Client, project_id: &str) {
    client
        .db()
        .query(
            "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, slug TEXT, project_id TEXT)",
            &[],
        )
        .await
        .unwrap();
    for (name, slug) in [
        ("Blue shirt", "blue-shirt"),
        ("Red shirt", "red-shirt"),
        ("Green hat", "green-hat"),
    ] {
        client
            .db()
            .query(
                "INSERT INTO products (name, slug, project_id) VALUES (?, ?, ?)",
                &[json!(name), json!(slug), json!(project_id)],
            )
            .await
            .unwrap();
    }
}

async fn http(method: Method, url: &str, key: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method, url);
    if let Some(k) = key {
        r = r.header("X-API-Key", k);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn job_when(client: &Client, id: &str, status: &str) -> JobRecord {
    let found = eventually(Duration::from_secs(10), || async {
        let j = client.queue().job(id).await.unwrap()?;
        (j.status == status).then_some(j)
    })
    .await;
    match found {
        Some(j) => j,
        None => panic!(
            "job {id} never reached {status}: {:?}",
            client.queue().job(id).await
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn custom_api_modules_with_their_switches() {
    let h = Harness::start_with(options()).await;
    let (slug, key) = (h.project.slug.clone(), h.project.api_key.clone());
    seed_products(&h.client, &h.project.id).await;
    let url = |m: &str| {
        format!(
            "{}/api/v1/public/projects/{slug}/custom/{m}",
            h.platform.url()
        )
    };

    // No worker yet: 503 that says how to start one.
    let (s, v) = http(
        Method::POST,
        &url("search-products"),
        Some(&key),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["code"], "WORKER_NOT_CONNECTED");
    assert!(v["message"].as_str().unwrap().contains("docs/workers.md"));

    let worker = connect(
        &h,
        &key,
        WorkerOptions::new()
            .module(Module::api("search-products").name("Search products"))
            .module(Module::api("open-search").public(true).allow_get(true))
            .module(Module::api("broken"))
            .module(Module::api("slow").timeout(Duration::from_millis(300))),
    )
    .await;
    let broken_runs = Arc::new(AtomicU32::new(0));
    let runs = broken_runs.clone();
    let looping = serve(worker.clone(), move |inv| {
        let runs = runs.clone();
        async move {
            match inv.name.as_str() {
                "broken" => {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Err("the shelf is empty".to_string())
                }
                "slow" => {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Ok(json!("too late"))
                }
                _ => search_products(inv).await,
            }
        }
    });

    let (s, v) = http(
        Method::POST,
        &url("search-products"),
        Some(&key),
        Some(json!({"q": "shirt", "limit": 5})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["count"], 2);
    assert_eq!(v["results"][0]["slug"], "blue-shirt");

    // The engine's own call(): /v1/custom/{slug}.
    let v = h
        .client
        .call("search-products", &json!({"q": "hat"}), Method::POST)
        .await
        .unwrap();
    assert_eq!(v["results"][0]["name"], "Green hat");

    // Not public: a key is required.
    let (s, v) = http(Method::POST, &url("search-products"), None, Some(json!({}))).await;
    assert_eq!(s, 401, "{v}");
    assert_eq!(v["code"], "AUTH_INVALID_KEY");
    // GET not allowed: 405 naming the allowed methods.
    let (s, v) = http(Method::GET, &url("search-products"), Some(&key), None).await;
    assert_eq!(s, 405, "{v}");
    assert_eq!(v["details"]["allowed"], json!(["POST"]));
    // Public with GET: no key needed, query string as input.
    let (s, v) = http(
        Method::GET,
        &format!("{}?q=Red", url("open-search")),
        None,
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["results"][0]["slug"], "red-shirt");
    let (s, _) = http(
        Method::POST,
        &url("open-search"),
        None,
        Some(json!({"q": "x"})),
    )
    .await;
    assert_eq!(s, 200);

    // A thrown error is a 500 HOOK_FAILED with the message; a slow handler a 504.
    let (s, v) = http(Method::POST, &url("broken"), Some(&key), Some(json!({}))).await;
    assert_eq!(s, 500, "{v}");
    assert_eq!(v["code"], "HOOK_FAILED");
    assert_eq!(v["message"], "the shelf is empty");
    // The engine does not retry a handler that threw: it would throw again.
    let e = h
        .client
        .call("broken", &json!({}), Method::POST)
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::HookFailed);
    assert_eq!(e.message(), "the shelf is empty");
    assert!(!e.retryable());
    assert_eq!(broken_runs.load(Ordering::SeqCst), 2);
    let started = Instant::now();
    let (s, v) = http(Method::POST, &url("slow"), Some(&key), Some(json!({}))).await;
    assert_eq!(s, 504, "{v}");
    assert_eq!(v["code"], "HOOK_TIMEOUT");
    assert!(started.elapsed() < Duration::from_millis(1500));

    // Graceful drain: the loop ends, and the platform answers 503 again.
    worker.drain().await;
    tokio::time::timeout(Duration::from_secs(5), looping)
        .await
        .expect("the host loop ends after drain")
        .unwrap();
    let (s, _) = http(
        Method::POST,
        &url("search-products"),
        Some(&key),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 503);
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn jobs_retry_with_backoff_and_dead_letter() {
    let h = Harness::start_with(options()).await;
    let runs = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let worker = connect(
        &h,
        &h.project.api_key,
        WorkerOptions::new()
            .job(JobType::new("flaky"))
            .job(JobType::new("doomed")),
    )
    .await;
    let seen = runs.clone();
    let _loop = serve(worker.clone(), move |inv| {
        let seen = seen.clone();
        async move {
            if inv.name == "doomed" {
                return Err(format!("boom on attempt {}", inv.event["attempt"]));
            }
            let n = {
                let mut s = seen.lock().unwrap();
                s.push(Instant::now());
                s.len()
            };
            if n < 3 {
                Err(format!("flaky failure {n}"))
            } else {
                Ok(json!({"sent": true, "payload": inv.data()}))
            }
        }
    });

    let q = h.client.queue();
    let flaky = q
        .enqueue("flaky", &json!({"n": 1}), None, Some(3))
        .await
        .unwrap();
    let doomed = q
        .enqueue("doomed", &json!({}), None, Some(2))
        .await
        .unwrap();

    let j = job_when(&h.client, &flaky, "completed").await;
    assert_eq!(j.attempts, Some(3));
    assert_eq!(j.result.as_ref().unwrap()["payload"], json!({"n": 1}));
    let at = runs.lock().unwrap().clone();
    // Backoff: 100 ms after the first failure, 200 ms after the second.
    assert!(
        at[1] - at[0] >= Duration::from_millis(90),
        "{:?}",
        at[1] - at[0]
    );
    assert!(
        at[2] - at[1] >= Duration::from_millis(180),
        "{:?}",
        at[2] - at[1]
    );

    let j = job_when(&h.client, &doomed, "failed").await;
    assert_eq!(j.attempts, Some(3), "max_retries + 1 runs");
    assert_eq!(j.last_error.as_deref(), Some("boom on attempt 3"));
    let page = q
        .jobs(&aerostack::JobFilter {
            status: Some("failed".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.jobs.iter().any(|j| j.id == doomed));
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_of_a_dead_worker_is_redelivered() {
    let h = Harness::start_with(options()).await;
    let key = h.project.api_key.clone();
    let a = connect(
        &h,
        &key,
        WorkerOptions::new().job(JobType::new("resize")).label("a"),
    )
    .await;
    let id = h
        .client
        .queue()
        .enqueue("resize", &json!({"image": "cat.png"}), None, None)
        .await
        .unwrap();
    // Worker A takes the job and dies without answering.
    let inv = tokio::time::timeout(Duration::from_secs(5), a.next_invocation())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inv.event["id"], json!(id));
    drop(inv);
    drop(a);

    let b = connect(
        &h,
        &key,
        WorkerOptions::new().job(JobType::new("resize")).label("b"),
    )
    .await;
    let _loop = serve(b, |inv| async move {
        Ok(json!({"resized": inv.data()["image"]}))
    });
    let j = job_when(&h.client, &id, "completed").await;
    assert_eq!(j.attempts, Some(2));
    assert_eq!(j.result.unwrap()["resized"], "cat.png");
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn welcome_email_worker_uses_db_secrets_and_fetch() {
    // A stand-in for SendGrid (a third party): records what it receives.
    let received = Arc::new(Mutex::new(Vec::<(String, String, String)>::new()));
    let rec = received.clone();
    let app = axum::Router::new().route(
        "/v3/mail/send",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let rec = rec.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                rec.lock()
                    .unwrap()
                    .push((h("authorization"), h("user-agent"), body));
                (axum::http::StatusCode::ACCEPTED, "")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sendgrid = format!("http://{}/v3/mail/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let h = Harness::start_with(options()).await;
    h.client
        .secrets()
        .set("SENDGRID_KEY", "sg-test-key")
        .await
        .unwrap();
    h.client
        .db()
        .query(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)",
            &[],
        )
        .await
        .unwrap();
    h.client
        .db()
        .query(
            "INSERT INTO users (id, name, email) VALUES (7, 'Jane', 'jane@example.com')",
            &[],
        )
        .await
        .unwrap();

    let worker = connect(
        &h,
        &h.project.api_key,
        WorkerOptions::new().job_fn("send_welcome_email"),
    )
    .await;
    let url = sendgrid.clone();
    let _loop = serve(worker, move |inv| {
        let url = url.clone();
        async move {
            assert_eq!(inv.name, "send-welcome-email");
            let sdk = inv.sdk();
            let job = &inv.event;
            let user = sdk
                .db()
                .query_one(
                    "SELECT * FROM users WHERE id = ?",
                    &[job["data"]["user_id"].clone()],
                )
                .await
                .map_err(|e| e.to_string())?
                .ok_or("no such user")?;
            let key = sdk
                .secrets()
                .get("SENDGRID_KEY")
                .await
                .map_err(|e| e.to_string())?
                .ok_or("SENDGRID_KEY is not set")?;
            let body = json!({
                "personalizations": [{"to": [{"email": job["data"]["email"]}]}],
                "from": {"email": "hello@aerostack.dev"},
                "subject": "Welcome to Aerostack!",
                "content": [{"type": "text/html", "value": format!("<h1>Hi {}!</h1>", user["name"].as_str().unwrap_or(""))}],
            });
            let resp = sdk
                .fetch(
                    &url,
                    FetchOptions::method("POST")
                        .header("Authorization", format!("Bearer {key}"))
                        .json(&body)
                        .map_err(|e| e.to_string())?,
                )
                .await
                .map_err(|e| e.to_string())?;
            if !resp.ok() {
                return Err(format!("sendgrid answered {}", resp.status));
            }
            Ok(json!({"status": resp.status}))
        }
    });

    let id = h
        .client
        .queue()
        .enqueue(
            "send-welcome-email",
            &json!({"user_id": 7, "email": "jane@example.com"}),
            None,
            None,
        )
        .await
        .unwrap();
    let j = job_when(&h.client, &id, "completed").await;
    assert_eq!(j.result.unwrap()["status"], 202);
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "Bearer sg-test-key");
    assert!(got[0].1.starts_with("aerostack-hooks/"), "{}", got[0].1);
    assert!(got[0].2.contains("<h1>Hi Jane!</h1>"), "{}", got[0].2);
    assert!(got[0].2.contains("jane@example.com"));
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn services_and_platform_events_reach_modules() {
    let h = Harness::start_with(options()).await;
    let worker = connect(
        &h,
        &h.project.api_key,
        WorkerOptions::new()
            .module(Module::api("billing"))
            .module(Module::api("notify"))
            .module(Module::on_event("on-signup", "auth.register.after"))
            .module(Module::on_event("on-login", "auth.login.after")),
    )
    .await;
    let _loop = serve(worker, |inv| async move {
        let sdk = inv.sdk();
        match inv.name.as_str() {
            "billing" => Ok(json!({"charged": inv.data()["amount"], "event": inv.event["event"]})),
            "notify" => {
                let sent = sdk
                    .socket()
                    .emit("order.created", inv.data(), "orders")
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(json!({"topic": sent.topic}))
            }
            hook => {
                let email = inv.data()["user"]["email"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string();
                sdk.cache()
                    .set(&format!("{hook}:{email}"), &inv.event["event"], Some(60))
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(json!({"proceed": true}))
            }
        }
    });

    let r = h
        .client
        .services()
        .invoke("billing", &json!({"amount": 42}))
        .await
        .unwrap();
    assert!(r.success);
    assert_eq!(r.result, json!({"charged": 42, "event": "service.billing"}));
    // sdk.socket().emit reaches the realtime hub with the scope token.
    let r = h
        .client
        .services()
        .invoke("notify", &json!({"order": 1}))
        .await
        .unwrap();
    assert!(
        r.result["topic"].as_str().unwrap().contains("orders"),
        "{}",
        r.result
    );
    let missing = h
        .client
        .services()
        .invoke("nope", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), &ErrorCode::WorkerNotConnected);

    h.client
        .auth()
        .register("ada@example.com", "Sup3r-Secret-pw", Some("Ada"), None)
        .await
        .unwrap();
    h.client
        .auth()
        .login("ada@example.com", "Sup3r-Secret-pw")
        .await
        .unwrap();
    for key in ["on-signup:ada@example.com", "on-login:ada@example.com"] {
        let v = eventually(Duration::from_secs(5), || async {
            h.client.cache().get(key).await.unwrap()
        })
        .await;
        assert!(v.is_some(), "{key} was not written by the event module");
    }
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn projects_are_isolated() {
    let h = Harness::start_with(options()).await;
    let (b, b_client) = h.other_project("other shop").await;
    h.client.cache().set("owner", &"a", None).await.unwrap();
    b_client.cache().set("owner", &"b", None).await.unwrap();

    let tokens = Arc::new(Mutex::new(Vec::<String>::new()));
    let a_jobs = Arc::new(AtomicU32::new(0));
    let worker = connect(
        &h,
        &h.project.api_key,
        WorkerOptions::new()
            .module(
                Module::api("who")
                    .public(true)
                    .timeout(Duration::from_millis(1000)),
            )
            .job(JobType::new("shared-type")),
    )
    .await;
    let (t, n) = (tokens.clone(), a_jobs.clone());
    let _loop = serve(worker, move |inv| {
        let (t, n) = (t.clone(), n.clone());
        async move {
            if inv.name == "shared-type" {
                n.fetch_add(1, Ordering::SeqCst);
                return Ok(json!(null));
            }
            t.lock().unwrap().push(inv.scope_token().to_string());
            let owner = inv
                .sdk()
                .cache()
                .get("owner")
                .await
                .map_err(|e| e.to_string())?;
            Ok(json!({"project": inv.project_id, "owner": owner}))
        }
    });

    // A's module answers for A; B cannot reach it.
    let v = h
        .client
        .call("who", &json!({}), Method::POST)
        .await
        .unwrap();
    let issued = Instant::now();
    assert_eq!(v, json!({"project": h.project.id, "owner": "a"}));
    // The scope token acts on A only, whatever project the caller names.
    let token = tokens.lock().unwrap()[0].clone();
    assert!(token.starts_with("ast_scope_"));
    let scoped = client_for(&h.api_url(), &token, Some(&b.id));
    assert_eq!(scoped.cache().get("owner").await.unwrap(), Some(json!("a")));
    let (s, v) = http(
        Method::POST,
        &format!(
            "{}/api/v1/public/projects/{}/custom/who",
            h.platform.url(),
            b.slug
        ),
        Some(&token),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    // A scope token cannot connect a worker.
    let e = Worker::connect(
        config_for(&h.api_url(), &token, None),
        WorkerOptions::new().module(Module::api("x")),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::AuthInvalidKey);
    let e = b_client
        .call("who", &json!({}), Method::POST)
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::WorkerNotConnected);
    let (s, _) = http(
        Method::POST,
        &format!(
            "{}/api/v1/public/projects/{}/custom/who",
            h.platform.url(),
            b.slug
        ),
        None,
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 503);
    let e = b_client
        .services()
        .invoke("who", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::WorkerNotConnected);

    // B's job of the same type never reaches A's worker.
    let b_job = b_client
        .queue()
        .enqueue("shared-type", &json!({}), None, None)
        .await
        .unwrap();
    let a_job = h
        .client
        .queue()
        .enqueue("shared-type", &json!({}), None, None)
        .await
        .unwrap();
    job_when(&h.client, &a_job, "completed").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(a_jobs.load(Ordering::SeqCst), 1);
    assert_eq!(
        b_client.queue().job(&b_job).await.unwrap().unwrap().status,
        "queued"
    );

    // It expires with its invocation (1 s timeout + 300 ms grace).
    tokio::time::sleep_until((issued + Duration::from_millis(1500)).into()).await;
    let e = scoped.cache().get("owner").await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::AuthInvalidKey);
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_reconnects_and_registers_again() {
    let dir = tempfile::tempdir().unwrap();
    let opts = |port: u16| ServerOptions {
        port,
        data_dir: Some(dir.path().to_path_buf()),
        ephemeral: false,
        ..options()
    };
    let p = LocalPlatform::start(opts(0)).await.unwrap();
    let project = p.default_project().clone();
    let api_url = p.api_url();
    let port = p.addr().port();
    let client = client_for(&api_url, &project.api_key, Some(&project.id));
    let mut wopts = WorkerOptions::new().module(Module::api("ping"));
    wopts.reconnect_max = Duration::from_millis(300);
    let worker = Arc::new(
        Worker::connect(config_for(&api_url, &project.api_key, None), wopts)
            .await
            .unwrap(),
    );
    let _loop = serve(worker, |_| async { Ok(json!("pong")) });
    assert_eq!(
        client.call("ping", &json!({}), Method::POST).await.unwrap(),
        "pong"
    );

    // The platform goes away (every socket with it) and comes back on the same port.
    p.shutdown().await;
    let p = LocalPlatform::start(opts(port)).await.unwrap();
    let answered = eventually(Duration::from_secs(10), || async {
        client.call("ping", &json!({}), Method::POST).await.ok()
    })
    .await;
    assert_eq!(answered, Some(json!("pong")));
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scoped_sdk_speaks_seed_000() {
    // A stand-in for the AI upstream (a third party): answers every chat with a fixed verdict.
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(|axum::Json(body): axum::Json<Value>| async move {
            axum::Json(json!({
                "id": "c1", "object": "chat.completion", "created": 1, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "{\"sentiment\": \"positive\"}"}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut opts = options();
    opts.ai.base_url = Some(upstream);
    let h = Harness::start_with(opts).await;

    let worker = connect(
        &h,
        &h.project.api_key,
        WorkerOptions::new().module(Module::api("review")),
    )
    .await;
    let _loop = serve(worker, |inv| async move {
        let sdk = inv.sdk();
        let text = inv.data()["text"].as_str().unwrap_or("").to_string();
        let err = |e: aerostack::Error| e.to_string();
        let answer = sdk
            .ai()
            .chat(
                "@cf/meta/llama-3-8b-instruct",
                vec![
                    aerostack::ChatMessage::system("You are a helpful assistant."),
                    aerostack::ChatMessage::user(format!("Classify this review: {text}")),
                ],
            )
            .await
            .map_err(err)?;
        let verdict: Value = serde_json::from_str(&answer.text).map_err(|e| e.to_string())?;
        sdk.cache()
            .set("last-verdict", &verdict, Some(60))
            .await
            .map_err(err)?;
        let cached = sdk.cache().get("last-verdict").await.map_err(err)?;
        let job = sdk
            .queue()
            .enqueue("send-welcome-email", &json!({"review": text}))
            .await
            .map_err(err)?;
        Ok(json!({"verdict": cached, "job": job, "model": answer.model}))
    });

    let v = h
        .client
        .call("review", &json!({"text": "Great product!"}), Method::POST)
        .await
        .unwrap();
    assert_eq!(v["verdict"], json!({"sentiment": "positive"}));
    let job = h
        .client
        .queue()
        .job(v["job"].as_str().unwrap())
        .await
        .unwrap()
        .expect("the job was enqueued in the module's project");
    assert_eq!(job.job_type, "send-welcome-email");
    assert_eq!(
        h.client.cache().get("last-verdict").await.unwrap(),
        Some(json!({"sentiment": "positive"}))
    );
    h.platform.shutdown().await;
}

/// The wire protocol of docs/workers.md, spoken by hand (as a worker in another language would),
/// with the key in the `aerostack-key.<key>` subprotocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn raw_protocol_as_documented() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let h = Harness::start_with(options()).await;
    let url = aerostack::worker::worker_url(&h.api_url()).unwrap();
    assert!(url.starts_with("ws://") && url.ends_with("/api/workers"));

    // Without a key: refused before the upgrade.
    let err = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    // A plain GET is not a WebSocket: 426.
    let (s, v) = http(
        Method::GET,
        &url.replace("ws://", "http://"),
        Some(&h.project.api_key),
        None,
    )
    .await;
    assert_eq!(s, 426, "{v}");

    let mut req = url.as_str().into_client_request().unwrap();
    let protocol = format!("aerostack-key.{}", h.project.api_key);
    req.headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (mut ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(resp.headers()["sec-websocket-protocol"], protocol.as_str());

    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(
        json!({"type": "register", "modules": [{"slug": "bad slug!"}]}),
    ))
    .await
    .unwrap();
    let v = read(&mut ws).await;
    assert_eq!(v["type"], "error");
    assert_eq!(v["code"], "VALIDATION_ERROR");
    assert!(v["message"].as_str().unwrap().contains("modules[0].slug"));
    ws.send(send(json!({"type": "hello?"}))).await.unwrap();
    assert_eq!(read(&mut ws).await["type"], "error");

    ws.send(send(json!({
        "type": "register", "worker": "raw", "concurrency": 2,
        "modules": [{"slug": "echo", "methods": ["POST", "GET"]}],
        "jobs": [{"type": "raw-job"}]
    })))
    .await
    .unwrap();
    let v = read(&mut ws).await;
    assert_eq!(v["type"], "registered", "{v}");
    assert_eq!(v["project_id"], json!(h.project.id));
    assert_eq!(v["modules"][0]["public"], false);
    assert_eq!(v["modules"][0]["trigger"], "api");
    ws.send(send(json!({"type": "ping"}))).await.unwrap();
    assert_eq!(read(&mut ws).await["type"], "pong");

    // A custom call arrives as `invoke`; `complete` answers it.
    let client = h.client.clone();
    let call = tokio::spawn(async move {
        client
            .call("echo", &json!({"hello": "raw"}), Method::POST)
            .await
    });
    let inv = read(&mut ws).await;
    assert_eq!(inv["type"], "invoke");
    assert_eq!(inv["kind"], "custom");
    assert_eq!(inv["name"], "echo");
    assert_eq!(inv["event"]["event"], "custom.echo");
    assert_eq!(inv["event"]["data"], json!({"hello": "raw"}));
    assert_eq!(inv["event"]["method"], "POST");
    assert!(inv["event"]["headers"]["x-aerostack-key"].is_null());
    assert!(
        inv["scope_token"]
            .as_str()
            .unwrap()
            .starts_with("ast_scope_")
    );
    assert!(inv["deadline_ms"].as_i64().unwrap() > 0);
    ws.send(send(
        json!({"type": "complete", "id": inv["id"], "result": {"echo": inv["event"]["data"]}}),
    ))
    .await
    .unwrap();
    assert_eq!(
        call.await.unwrap().unwrap(),
        json!({"echo": {"hello": "raw"}})
    );

    // A job arrives as `invoke` of kind job; `fail` schedules a retry.
    let id = h
        .client
        .queue()
        .enqueue("raw-job", &json!({"n": 1}), None, Some(1))
        .await
        .unwrap();
    let inv = read(&mut ws).await;
    assert_eq!(inv["kind"], "job");
    assert_eq!(inv["event"]["id"], json!(id));
    assert_eq!(inv["event"]["attempt"], 1);
    ws.send(send(
        json!({"type": "fail", "id": inv["id"], "error": "nope"}),
    ))
    .await
    .unwrap();
    let inv = read(&mut ws).await;
    assert_eq!(inv["event"]["attempt"], 2);
    ws.send(send(
        json!({"type": "complete", "id": inv["id"], "result": 42}),
    ))
    .await
    .unwrap();
    let j = job_when(&h.client, &id, "completed").await;
    assert_eq!(j.result, Some(json!(42)));
    assert_eq!(j.last_error, None);

    // Drain: acknowledged, then nothing new arrives.
    ws.send(send(json!({"type": "drain"}))).await.unwrap();
    assert_eq!(read(&mut ws).await["type"], "draining");
    let e = h
        .client
        .with_options(aerostack::CallOptions::new().retry(aerostack::RetryPolicy::none()))
        .call("echo", &json!({}), Method::POST)
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::WorkerNotConnected);
    h.platform.shutdown().await;
}

async fn read<S>(ws: &mut S) -> Value
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use futures_util::StreamExt;
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("the socket is open")
            .expect("a readable frame");
        if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drain_finishes_in_flight_work_and_a_dropped_call_fails_fast() {
    let h = Harness::start_with(options()).await;
    let key = h.project.api_key.clone();

    // Drain while a job runs: the job completes on this worker (one attempt), then the loop ends.
    let worker = connect(&h, &key, WorkerOptions::new().job(JobType::new("report"))).await;
    let looping = serve(worker.clone(), |_| async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(json!("done"))
    });
    let id = h
        .client
        .queue()
        .enqueue("report", &json!({}), None, None)
        .await
        .unwrap();
    job_when(&h.client, &id, "processing").await;
    worker.drain().await;
    let j = h.client.queue().job(&id).await.unwrap().unwrap();
    assert_eq!((j.status.as_str(), j.attempts), ("completed", Some(1)));
    tokio::time::timeout(Duration::from_secs(2), looping)
        .await
        .expect("next_invocation yields None after drain")
        .unwrap();

    // A worker that vanishes mid-call: the caller gets 503 at once, not a hang until timeout.
    let w = connect(&h, &key, WorkerOptions::new().module(Module::api("hang"))).await;
    let client = h
        .client
        .with_options(aerostack::CallOptions::new().retry(aerostack::RetryPolicy::none()));
    let call = tokio::spawn(async move { client.call("hang", &json!({}), Method::POST).await });
    let inv = tokio::time::timeout(Duration::from_secs(5), w.next_invocation())
        .await
        .unwrap()
        .unwrap();
    let started = Instant::now();
    drop(inv);
    drop(w);
    let e = call.await.unwrap().unwrap_err();
    assert_eq!(e.code(), &ErrorCode::WorkerNotConnected);
    assert!(e.message().contains("disconnected"), "{}", e.message());
    assert!(started.elapsed() < Duration::from_secs(2));
    h.platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn calls_go_round_robin_and_the_platform_timeout_applies() {
    let mut opts = options();
    opts.limits.hook_timeout = Duration::from_millis(300);
    let h = Harness::start_with(opts).await;
    let key = h.project.api_key.clone();
    let mut loops = Vec::new();
    for name in ["one", "two"] {
        let w = connect(
            &h,
            &key,
            WorkerOptions::new()
                .module(Module::api("whoami"))
                .module(Module::api("sleepy"))
                .label(name),
        )
        .await;
        loops.push(serve(w, move |inv| async move {
            if inv.name == "sleepy" {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(json!(name))
        }));
    }
    let mut seen = Vec::new();
    for _ in 0..4 {
        let v = h
            .client
            .call("whoami", &json!({}), Method::POST)
            .await
            .unwrap();
        seen.push(v.as_str().unwrap().to_string());
    }
    seen.sort();
    assert_eq!(seen, ["one", "one", "two", "two"]);

    // No module timeout: the platform default (Limits::hook_timeout, shrunk to 300 ms here).
    let e = h
        .client
        .with_options(aerostack::CallOptions::new().retry(aerostack::RetryPolicy::none()))
        .call("sleepy", &json!({}), Method::POST)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(504));
    assert_eq!(e.code(), &ErrorCode::HookTimeout);
    h.platform.shutdown().await;
}
