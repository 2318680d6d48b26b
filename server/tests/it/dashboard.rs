//! The local dashboard (issue 15): the session token, the Host check, CSRF and Origin checks,
//! `--no-dashboard`, secrets masked until revealed, every page rendering real data, and the
//! operator actions the pages offer (revoke a key, disable a user, retry a dead letter).

use std::time::Duration;

use aerostack_server::ServerOptions;
use futures_util::{SinkExt, StreamExt};
use reqwest::header::{COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::{Ctx, json_of, start_with};

/// `RequestBuilder::form` (reqwest's optional `form` feature is off in this workspace).
trait FormBody {
    fn form_body<T: serde::Serialize + ?Sized>(self, form: &T) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form_body<T: serde::Serialize + ?Sized>(self, form: &T) -> Self {
        self.header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(serde_urlencoded::to_string(form).unwrap())
    }
}

/// A platform with the dashboard on, and a client that does not follow redirects.
async fn start() -> (Ctx, reqwest::Client) {
    let ctx = start_with(ServerOptions {
        dashboard: true,
        ..ServerOptions::ephemeral()
    })
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (ctx, http)
}

/// Trade the token for the session cookie (`name=value`).
async fn session(ctx: &Ctx, http: &reqwest::Client) -> String {
    let url = ctx.p.dashboard_url().expect("dashboard on");
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        "/dashboard",
        "the token leaves the URL"
    );
    let cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_string()
}

/// The CSRF token of a page (its `<meta name="csrf-token">`).
fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf-token\" content=\"")
        .expect("csrf meta")
        + 27;
    page[at..].split('"').next().unwrap().to_string()
}

async fn get(ctx: &Ctx, http: &reqwest::Client, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = http
        .get(ctx.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// A form POST from the dashboard's own page (same Origin, CSRF token); returns status and the
/// redirect target (or the page).
async fn post(
    ctx: &Ctx,
    http: &reqwest::Client,
    cookie: &str,
    csrf: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut fields: Vec<(&str, &str)> = vec![("_csrf", csrf)];
    fields.extend_from_slice(form);
    let r = http
        .post(ctx.url(path))
        .header(COOKIE, cookie)
        .header(ORIGIN, ctx.p.url())
        .form_body(&fields)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_string());
    let text = r.text().await.unwrap();
    (status, location.unwrap_or(text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_token_guards_every_page() {
    let (ctx, http) = start().await;
    for path in ["/", "/dashboard", "/dashboard/db", "/?token=wrong"] {
        let r = http.get(ctx.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains("start banner") && page.contains("dashboard_url"),
            "{path}: says where the token is: {page}"
        );
    }
    let cookie = session(&ctx, &http).await;
    let (s, page) = get(&ctx, &http, &cookie, "/dashboard").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Overview") && page.contains(&ctx.key),
        "{page}"
    );
    // With the cookie, `/` goes to the dashboard.
    let r = http
        .get(ctx.url("/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status(), r.headers()[LOCATION].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/dashboard")
    );
    // Another platform's cookie (another port) or a stale token does not open it.
    let r = http
        .get(ctx.url("/dashboard"))
        .header(COOKIE, format!("{}x", cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_is_refused() {
    let (ctx, http) = start().await;
    let cookie = session(&ctx, &http).await;
    let port = ctx.p.addr().port();
    for host in [
        format!("evil.example:{port}"),
        "attacker.test".into(),
        format!("192.0.2.1:{port}"),
    ] {
        let r = http
            .get(ctx.url("/dashboard"))
            .header(COOKIE, &cookie)
            .header(HOST, &host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{host}");
        let r = http
            .get(format!("{}?token=x", ctx.url("/")))
            .header(HOST, &host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{host}");
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        let r = http
            .get(ctx.url("/dashboard"))
            .header(COOKIE, &cookie)
            .header(HOST, &host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{host}");
    }
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_need_the_csrf_token_and_our_origin() {
    let (ctx, http) = start().await;
    let cookie = session(&ctx, &http).await;
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard").await;
    let csrf = csrf_of(&page);
    let send = |form: Vec<(&'static str, String)>, origin: Option<&'static str>| {
        let mut req = http
            .post(ctx.url("/dashboard/projects"))
            .header(COOKIE, &cookie)
            .form_body(&form);
        if let Some(o) = origin {
            req = req.header(ORIGIN, o);
        }
        req.send()
    };
    let r = send(vec![("name", "No token".into())], None).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = send(
        vec![("name", "Wrong".into()), ("_csrf", "0".repeat(48))],
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = send(
        vec![("name", "Foreign".into()), ("_csrf", csrf.clone())],
        Some("http://evil.example"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A fetch with the header instead of the field, from a foreign origin: refused too.
    let r = http
        .post(ctx.url("/dashboard/keys"))
        .header(COOKIE, &cookie)
        .header("x-csrf-token", &csrf)
        .header(ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // No session at all: 401 whatever the token.
    let r = http
        .post(ctx.url("/dashboard/projects"))
        .form_body(&[("name", "x"), ("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard").await;
    assert!(
        !page.contains("No token") && !page.contains("Foreign"),
        "a refused form changed nothing"
    );
    // The dashboard's own form works.
    let (s, to) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/projects",
        &[("name", "Shop")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{to}");
    assert!(to.contains("p=shop") && to.contains("ok="), "{to}");
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard?p=shop").await;
    assert!(page.contains("API keys of Shop"), "{page}");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dashboard_leaves_the_root_as_it_was() {
    let ctx = start_with(ServerOptions::ephemeral()).await;
    assert!(ctx.p.dashboard_url().is_none());
    for path in ["/", "/dashboard", "/dashboard/assets/dashboard.css"] {
        let (s, v) = json_of(ctx.http.get(ctx.url(path)).send().await.unwrap()).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("NOT_FOUND")),
            "{path}: {v}"
        );
    }
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_values_stay_masked_until_revealed() {
    let (ctx, http) = start().await;
    let cookie = session(&ctx, &http).await;
    let (s, _) = ctx
        .post(
            "/v1/secrets/set",
            json!({"key": "STRIPE_KEY", "value": "sk_live_topsecret_42"}),
        )
        .await;
    assert!(s.is_success());
    let (s, page) = get(&ctx, &http, &cookie, "/dashboard/secrets").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("STRIPE_KEY"), "{page}");
    assert!(
        !page.contains("sk_live_topsecret_42"),
        "the value is in the listing"
    );
    let csrf = csrf_of(&page);
    // Reveal is a POST with the CSRF token: a link cannot do it.
    let r = http
        .post(ctx.url("/dashboard/secrets/reveal"))
        .header(COOKIE, &cookie)
        .form_body(&[("name", "STRIPE_KEY")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (s, page) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/secrets/reveal",
        &[("name", "STRIPE_KEY")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("sk_live_topsecret_42"), "{page}");
    // Set from the dashboard: the value never comes back in the page that follows.
    let (s, to) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/secrets/set",
        &[("name", "OTHER"), ("value", "hunter2-value")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page) = get(&ctx, &http, &cookie, &to).await;
    assert!(
        page.contains("OTHER") && !page.contains("hunter2-value"),
        "{page}"
    );
    let (s, v) = ctx.post("/v1/secrets/get", json!({"key": "OTHER"})).await;
    assert!(
        s.is_success() && v.to_string().contains("hunter2-value"),
        "{v}"
    );
    ctx.p.shutdown().await;
}

/// A raw worker (as an SDK's would be): module `hello` answers `{hello: data}`; job type `boom`
/// always fails.
async fn worker(ctx: &Ctx) {
    let url = format!("{}/api/workers", ctx.p.url().replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("x-aerostack-key", ctx.key.parse().unwrap());
    req.headers_mut().insert(
        "user-agent",
        "aerostack-python/0.1.0 aerostack-core/0.1.0"
            .parse()
            .unwrap(),
    );
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let (mut tx, mut rx) = ws.split();
    let register = json!({"type": "register", "worker": "test-worker", "modules": [{"slug": "hello", "name": "Say hello", "public": true, "methods": ["GET", "POST"]}], "jobs": [{"type": "boom"}]});
    tx.send(Message::Text(register.to_string().into()))
        .await
        .unwrap();
    let (registered_tx, registered) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut registered_tx = Some(registered_tx);
        while let Some(Ok(msg)) = rx.next().await {
            let Message::Text(t) = msg else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            let answer = match (v["type"].as_str(), v["kind"].as_str()) {
                (Some("registered"), _) => {
                    if let Some(s) = registered_tx.take() {
                        let _ = s.send(());
                    }
                    continue;
                }
                (Some("invoke"), Some("job")) => {
                    json!({"type": "fail", "id": v["id"], "error": "boom failed on purpose"})
                }
                (Some("invoke"), _) => {
                    json!({"type": "complete", "id": v["id"], "result": {"hello": v["event"]["data"]}})
                }
                _ => continue,
            };
            tx.send(Message::Text(answer.to_string().into()))
                .await
                .unwrap();
        }
    });
    tokio::time::timeout(Duration::from_secs(5), registered)
        .await
        .expect("registered")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_the_platforms_data() {
    let mut opts = ServerOptions {
        dashboard: true,
        ..ServerOptions::ephemeral()
    };
    opts.limits.job_backoff_base = Duration::from_millis(10);
    let ctx = start_with(opts).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = session(&ctx, &http).await;
    worker(&ctx).await;
    let slug = ctx.p.default_project().slug.clone();

    // Data in every service, through the API.
    let (s, v) = ctx
        .post(
            "/v1/db/query",
            json!({"sql": "CREATE TABLE gadgets (id INTEGER PRIMARY KEY, name TEXT)"}),
        )
        .await;
    assert!(s.is_success(), "{v}");
    ctx.post(
        "/v1/db/query",
        json!({"sql": "INSERT INTO gadgets (name) VALUES (?)", "params": ["sprocket-<b>"]}),
    )
    .await;
    ctx.post(
        "/v1/cache/set",
        json!({"key": "greeting:en", "value": {"text": "hi there"}, "ttl": 600}),
    )
    .await;
    let (s, v) = ctx
        .upload(
            "pics/logo.png",
            vec![137, 80, 78, 71, 1, 2, 3],
            Some("image/png"),
        )
        .await;
    assert!(s.is_success(), "{v}");
    let (_, v) = ctx
        .post(
            "/v1/queue/enqueue",
            json!({"type": "boom", "data": {"n": 7}, "maxRetries": 0}),
        )
        .await;
    let job = v["jobId"].as_str().expect("job id").to_string();
    let auth = format!("/api/v1/public/projects/{slug}/auth");
    let (s, v) = ctx
        .post(
            &format!("{auth}/otp/send"),
            json!({"email": "ann@example.com"}),
        )
        .await;
    assert!(s.is_success(), "{v}");
    let (s, v) = ctx
        .post(
            &format!("{auth}/register"),
            json!({"email": "cy@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert!(s.is_success(), "{v}");
    let r = ctx
        .call(
            Method::POST,
            &format!("/api/v1/public/projects/{slug}/custom/hello"),
            None,
            Some(json!({"who": "dash"})),
        )
        .await;
    assert_eq!(r.status(), 200);

    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/logic").await;
    for want in [
        "test-worker",
        "Python",
        "hello",
        "Say hello",
        "GET, POST",
        "GET on",
        "public",
        "boom",
        &format!("{}/api/v1/public/projects/{slug}/custom/hello", ctx.p.url()),
        &format!("{}/v1/custom/hello", ctx.p.url()),
        "id=\"try-form\"",
        "AEROSTACK_AI_BASE_URL",
    ] {
        assert!(page.contains(want), "Logic Lab lacks {want:?}");
    }
    // The invocation log: the call above, its status and method.
    assert!(
        page.contains("<span class=\"status s2\">200</span>") && page.contains(">POST<"),
        "no invocation row"
    );

    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/db?table=gadgets").await;
    assert!(
        page.contains("gadgets")
            && page.contains("sprocket-&lt;b&gt;")
            && !page.contains("sprocket-<b>"),
        "rows, escaped"
    );
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/cache").await;
    assert!(
        page.contains("greeting:en") && page.contains("hi there") && page.contains(" s</td>"),
        "cache key, value and TTL"
    );
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/storage?prefix=pics/").await;
    assert!(
        page.contains("pics/logo.png")
            && page.contains("image/png")
            && page.contains("class=\"thumb\""),
        "object with preview"
    );
    let r = http
        .get(ctx.url("/dashboard/storage/file?key=pics/logo.png&download=1"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"logo.png\""
    );
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        &[137, 80, 78, 71, 1, 2, 3]
    );
    let (s, v) = ctx
        .post(
            &format!("{auth}/reset-password-request"),
            json!({"email": "cy@example.com"}),
        )
        .await;
    assert!(s.is_success(), "{v}");
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/outbox").await;
    let (_, o) = json_of(
        ctx.http
            .get(ctx.url("/v1/local/outbox?to=cy@example.com"))
            .header("X-Aerostack-Key", &ctx.key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let reset = o["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|m| m["token"].as_str())
        .expect("a reset token")
        .to_string();
    assert!(
        page.contains("class=\"mail-token\"") && page.contains(&format!("data-copy=\"{reset}\"")),
        "the reset token is in the outbox"
    );
    assert!(
        page.contains("ann@example.com") && page.contains("class=\"otp-code\""),
        "the OTP code is in the outbox"
    );
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/auth").await;
    assert!(
        page.contains("cy@example.com") && page.contains(">active<"),
        "{page}"
    );
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/realtime").await;
    assert!(
        page.contains("Live tail") && page.contains("/dashboard/realtime/tail"),
        "{page}"
    );
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard").await;
    assert!(
        page.contains(&ctx.p.data_dir().display().to_string()) && page.contains("not configured"),
        "data dir, AI status"
    );

    // The job dead-letters (one run), shows in the dead-letter tab, and the Queue page retries it.
    let dead = async {
        loop {
            let (_, v) = ctx.post("/v1/queue/job", json!({"jobId": job})).await;
            if v["status"] == "failed" || v["job"]["status"] == "failed" {
                break v;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), dead)
        .await
        .expect("the job dead-letters");
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/queue?status=failed").await;
    assert!(
        page.contains(&job)
            && page.contains("boom failed on purpose")
            && page.contains("class=\"retry\""),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let (s, to) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/queue/retry",
        &[("id", &job), ("status", "failed")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(to.contains("ok="), "{to}");
    let runs = async {
        loop {
            let (_, v) = ctx.post("/v1/queue/job", json!({"jobId": job})).await;
            let j = if v["job"].is_object() {
                v["job"].clone()
            } else {
                v.clone()
            };
            if j["attempts"] == 2 && j["status"] == "failed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), runs)
        .await
        .expect("the retried job ran once more");
    // Retrying a job that is not dead is refused with the reason.
    let (_, v) = ctx
        .post(
            "/v1/queue/enqueue",
            json!({"type": "later", "data": {}, "delay": 3600}),
        )
        .await;
    let queued = v["jobId"].as_str().unwrap().to_string();
    let (_, to) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/queue/retry",
        &[("id", &queued)],
    )
    .await;
    assert!(to.contains("err=") && to.contains("queued"), "{to}");
    let (_, to) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/queue/cancel",
        &[("id", &queued)],
    )
    .await;
    assert!(to.contains("ok="), "{to}");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_answers_as_the_api_does() {
    let (ctx, http) = start().await;
    let cookie = session(&ctx, &http).await;
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/db").await;
    let csrf = csrf_of(&page);
    let (s, page) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/db/query",
        &[("sql", "SELECT 40 + 2 AS answer, 'x' AS letter")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("<th>answer</th><th>letter</th>") && page.contains("<td>42</td>"),
        "{page}"
    );
    let bad = "SELECT * FROM no_such_table";
    let (_, page) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/db/query",
        &[("sql", bad)],
    )
    .await;
    let (status, api) = ctx.post("/v1/db/query", json!({"sql": bad})).await;
    let code = api["details"]["code"]
        .as_str()
        .or(api["code"].as_str())
        .unwrap();
    let message = api["message"].as_str().unwrap();
    let shown = format!(
        "<b>{} {}</b>: {}",
        status.as_u16(),
        code,
        message.replace('\'', "&#39;").replace('"', "&quot;")
    );
    assert!(
        page.contains(&shown),
        "the API says {api}; the console: {page}"
    );
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_stops_working() {
    let (ctx, http) = start().await;
    let cookie = session(&ctx, &http).await;
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard").await;
    let csrf = csrf_of(&page);
    // The only key cannot go.
    let (_, to) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/keys/revoke",
        &[("key", &ctx.key)],
    )
    .await;
    assert!(to.contains("err="), "{to}");
    post(&ctx, &http, &cookie, &csrf, "/dashboard/keys", &[]).await;
    let (s, _) = ctx.post("/v1/cache/get", json!({"key": "k"})).await;
    assert!(
        s.is_success(),
        "the key works (and is now cached in memory)"
    );
    let (_, to) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/keys/revoke",
        &[("key", &ctx.key)],
    )
    .await;
    assert!(to.contains("ok="), "{to}");
    let (s, v) = ctx.post("/v1/cache/get", json!({"key": "k"})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_user_cannot_log_in() {
    let (ctx, http) = start().await;
    let cookie = session(&ctx, &http).await;
    let auth = |p: &str| format!("/api/v1/public/projects/default/auth{p}");
    let (s, v) = ctx
        .post(
            &auth("/register"),
            json!({"email": "bo@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert_eq!(s.as_u16(), 201, "{v}");
    let (access, refresh) = (
        v["accessToken"].as_str().unwrap().to_string(),
        v["refreshToken"].as_str().unwrap().to_string(),
    );
    let user = v["user"]["id"].as_str().unwrap().to_string();
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/auth").await;
    assert!(
        page.contains("bo@example.com") && page.contains(">active<"),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let (_, to) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/auth/action",
        &[("id", &user), ("action", "disable")],
    )
    .await;
    assert!(to.contains("ok="), "{to}");

    let (s, v) = ctx
        .post(
            &auth("/login"),
            json!({"email": "bo@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("disabled"), "{v}");
    let (s, v) = ctx
        .post(&auth("/refresh"), json!({"refreshToken": refresh}))
        .await;
    assert!(s.is_client_error(), "the session ended: {v}");
    let r = ctx
        .http
        .get(ctx.url(&auth("/me")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the access token it holds stops working"
    );
    let url = crate::realtime::ws_url(&ctx, &format!("?token={access}"));
    match tokio_tungstenite::connect_async(url.into_client_request().unwrap()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 403, "no realtime socket either")
        }
        other => panic!(
            "a disabled user opened a realtime socket: {:?}",
            other.map(|_| ())
        ),
    }
    let (s, v) = ctx
        .post(&auth("/otp/send"), json!({"email": "bo@example.com"}))
        .await;
    assert!(s.is_success(), "{v}");
    let (_, o) = json_of(
        ctx.http
            .get(ctx.url("/v1/local/outbox?to=bo@example.com"))
            .header("X-Aerostack-Key", &ctx.key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let code = o["messages"][0]["code"].as_str().unwrap().to_string();
    let (s, v) = ctx
        .post(
            &auth("/otp/verify"),
            json!({"email": "bo@example.com", "code": code}),
        )
        .await;
    assert_eq!(
        s.as_u16(),
        403,
        "a code does not log a disabled user in either: {v}"
    );
    let (s, v) = ctx
        .post(
            "/v1/auth/signin",
            json!({"email": "bo@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert!(s.is_client_error(), "legacy sign-in refused: {v}");

    let (_, to) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/auth/action",
        &[("id", &user), ("action", "enable")],
    )
    .await;
    assert!(to.contains("ok="), "{to}");
    let (s, v) = ctx
        .post(
            &auth("/login"),
            json!({"email": "bo@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    let (_, to) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/auth/action",
        &[("id", &user), ("action", "delete")],
    )
    .await;
    assert!(to.contains("ok="), "{to}");
    let (s, _) = ctx
        .post(
            &auth("/login"),
            json!({"email": "bo@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert_eq!(s.as_u16(), 401);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_asks_the_ai_upstream_for_a_handler() {
    use axum::routing::post as route_post;
    // The third-party OpenAI-compatible server we cannot run here: answers with a code block
    // echoing what it was asked.
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let upstream = axum::Router::new().route(
        "/v1/chat/completions",
        route_post(move |axum::Json(body): axum::Json<Value>| {
            let seen_tx = seen_tx.clone();
            async move {
                let _ = seen_tx.send(body.clone());
                let content = "Here you go:\n```python\nasync def handler(sdk, event):\n    return {\"ok\": \"<yes>\"}\n```\nEnjoy.";
                axum::Json(json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, upstream).await.unwrap() });
    let ai = aerostack_server::AiOptions {
        base_url: Some(format!("http://{addr}/v1")),
        api_key: None,
        model: Some("coder-test".into()),
    };
    let ctx = start_with(ServerOptions {
        dashboard: true,
        ai,
        ..ServerOptions::ephemeral()
    })
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = session(&ctx, &http).await;
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/logic").await;
    assert!(
        !page.contains("id=\"generate-off\"") && page.contains("Describe the API"),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let (s, page) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/logic/generate",
        &[
            ("description", "Greets by name"),
            ("slug", "greet"),
            ("language", "python"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("async def handler(sdk, event):")
            && page.contains("&quot;&lt;yes&gt;&quot;")
            && !page.contains("Enjoy"),
        "the code block, escaped: {page}"
    );
    let asked = seen.recv().await.unwrap();
    assert_eq!(asked["model"], "coder-test");
    let text = asked["messages"].to_string();
    assert!(
        text.contains("Greets by name")
            && text.contains("@hooks.module(\\\"greet\\\"")
            && text.contains("handler(sdk, event)"),
        "{text}"
    );
    // A language it does not write is refused with the choices.
    let (_, page) = post(
        &ctx,
        &http,
        &cookie,
        &csrf,
        "/dashboard/logic/generate",
        &[("description", "x"), ("language", "cobol")],
    )
    .await;
    assert!(
        page.contains("language must be one of python, javascript, go, php"),
        "{page}"
    );
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_topics_and_the_live_tail() {
    let (ctx, http) = start().await;
    let cookie = session(&ctx, &http).await;
    let proto = format!("aerostack-key.{}, aerostack-v1", ctx.key);
    let (_, mut ws) = crate::realtime::open(&ctx, "", &proto).await;
    crate::realtime::send(
        &mut ws,
        json!({"type": "subscribe", "topic": "chat/general"}),
    )
    .await;
    crate::realtime::recv(&mut ws, "subscribed").await;
    let (_, page) = get(&ctx, &http, &cookie, "/dashboard/realtime").await;
    assert!(
        page.contains("<code>chat/general</code></td><td>1</td>"),
        "{page}"
    );

    // The tail: an SSE stream of the project's frames, a db change included (no table subscriber).
    let mut tail = http
        .get(ctx.url("/dashboard/realtime/tail"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(tail.headers()["content-type"], "text/event-stream");
    tokio::time::sleep(Duration::from_millis(100)).await;
    ctx.post(
        "/v1/realtime/emit",
        json!({"event": "order.created", "data": {"id": 42}, "room": "chat/general"}),
    )
    .await;
    ctx.post(
        "/v1/db/query",
        json!({"sql": "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"}),
    )
    .await;
    ctx.post(
        "/v1/db/query",
        json!({"sql": "INSERT INTO t (v) VALUES ('tailed')"}),
    )
    .await;
    let mut text = String::new();
    let read = async {
        while !(text.contains("order.created") && text.contains("tailed")) {
            let chunk = tail.chunk().await.unwrap().expect("the stream stays open");
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .unwrap_or_else(|_| panic!("tail so far: {text}"));
    assert!(
        text.contains("event: frame")
            && text.contains("\"topic\":\"chat/general\"")
            && text.contains("\"topic\":\"table/t\""),
        "{text}"
    );
    ctx.p.shutdown().await;
}

/// The binary: the dashboard is on by default (banner line, `dashboard_url` in the ready file) and
/// `--no-dashboard` turns it off (`/` is the API's 404 again).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_it_unless_no_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (n, off) in [(0, false), (1, true)] {
        let ready = dir.path().join(format!("ready-{n}.json"));
        let stdout = dir.path().join(format!("stdout-{n}.txt"));
        let mut args = vec![
            "--ephemeral",
            "--port",
            "0",
            "--ready-file",
            ready.to_str().unwrap(),
        ];
        if off {
            args.push("--no-dashboard");
        }
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aerostack-server"))
            .args(&args)
            .current_dir(dir.path())
            .env("AEROSTACK_RUNTIME_DIR", dir.path().join("run"))
            .env("NO_COLOR", "1")
            .env_remove("AEROSTACK_PORT")
            .env_remove("AEROSTACK_LOG_FORMAT")
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !ready.exists() {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the server exited early"
            );
            assert!(std::time::Instant::now() < deadline, "not ready in time");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let info: Value = serde_json::from_slice(&std::fs::read(&ready).unwrap()).unwrap();
        let url = info["url"].as_str().unwrap().to_string();
        let banner = std::fs::read_to_string(&stdout).unwrap();
        if off {
            assert!(info["dashboard_url"].is_null(), "{info}");
            assert!(
                banner.contains("Dashboard: off (--no-dashboard)"),
                "{banner}"
            );
            let r = http.get(format!("{url}/")).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
            assert!(r.text().await.unwrap().contains("NOT_FOUND"));
        } else {
            let dash = info["dashboard_url"]
                .as_str()
                .expect("dashboard_url")
                .to_string();
            assert!(
                dash.starts_with(&format!("{url}/?token=")) && dash.len() > url.len() + 40,
                "{dash}"
            );
            assert!(banner.contains(&format!("Dashboard: {dash}")), "{banner}");
            let r = http.get(&dash).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
        }
        // SIGTERM: a clean shutdown removes the ephemeral directory.
        let term = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        assert!(child.wait().unwrap().success());
    }
}
