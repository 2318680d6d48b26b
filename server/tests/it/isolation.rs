//! Two projects never see each other's data, whatever names they use.

use reqwest::multipart;
use serde_json::json;

use crate::common::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_are_isolated() {
    let ctx = start().await;
    let a = ctx.p.default_project().clone();
    let b = ctx.p.create_project("Second app").await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(b.slug, "second-app");

    // cache
    ctx.post_key(
        &a.api_key,
        "/v1/cache/set",
        json!({"key": "shared", "value": "from-a"}),
    )
    .await;
    let (_, v) = ctx
        .post_key(&b.api_key, "/v1/cache/get", json!({"key": "shared"}))
        .await;
    assert_eq!(v, json!({"value": null, "exists": false}));
    ctx.post_key(
        &b.api_key,
        "/v1/cache/set",
        json!({"key": "shared", "value": "from-b"}),
    )
    .await;
    let (_, v) = ctx
        .post_key(&a.api_key, "/v1/cache/get", json!({"key": "shared"}))
        .await;
    assert_eq!(v["value"], "from-a");
    let (_, v) = ctx.post_key(&b.api_key, "/v1/cache/keys", json!({})).await;
    assert_eq!(v["keys"], json!(["shared"]));
    ctx.post_key(&b.api_key, "/v1/cache/flush", json!({})).await;
    let (_, v) = ctx
        .post_key(&a.api_key, "/v1/cache/get", json!({"key": "shared"}))
        .await;
    assert_eq!(v["exists"], true);

    // db
    let (s, _) = ctx
        .post_key(
            &a.api_key,
            "/v1/db/query",
            json!({"sql": "CREATE TABLE notes (body TEXT)"}),
        )
        .await;
    assert!(s.is_success());
    ctx.post_key(
        &a.api_key,
        "/v1/db/query",
        json!({"sql": "INSERT INTO notes VALUES (?)", "params": ["secret"]}),
    )
    .await;
    let (s, v) = ctx
        .post_key(
            &b.api_key,
            "/v1/db/query",
            json!({"sql": "SELECT * FROM notes"}),
        )
        .await;
    assert_eq!(s.as_u16(), 400);
    assert!(
        v["message"].as_str().unwrap().contains("no such table"),
        "{v}"
    );
    let (s, v) = ctx
        .post_key(
            &b.api_key,
            "/v1/db/query",
            json!({"sql": "ATTACH DATABASE 'x.sqlite' AS other"}),
        )
        .await;
    assert_eq!(s.as_u16(), 400, "{v}");

    // storage
    let form = multipart::Form::new()
        .text("key", "doc.txt")
        .part("file", multipart::Part::bytes(b"hello a".to_vec()));
    let r = ctx
        .http
        .post(ctx.url("/v1/storage/upload"))
        .header("X-Aerostack-Key", &a.api_key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (_, v) = ctx
        .post_key(&b.api_key, "/v1/storage/exists", json!({"key": "doc.txt"}))
        .await;
    assert_eq!(v["exists"], false);
    let (s, _) = ctx
        .post_key(&b.api_key, "/v1/storage/get", json!({"key": "doc.txt"}))
        .await;
    assert_eq!(s.as_u16(), 404);
    let r = ctx
        .http
        .get(ctx.url(&format!("/files/{}/doc.txt", b.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = ctx
        .http
        .get(ctx.url(&format!("/files/{}/doc.txt", a.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"hello a");
    let (_, v) = ctx
        .post_key(&b.api_key, "/v1/storage/list", json!({}))
        .await;
    assert_eq!(v["objects"], json!([]));

    // secrets
    ctx.post_key(
        &a.api_key,
        "/v1/secrets/set",
        json!({"key": "TOKEN", "value": "a-only"}),
    )
    .await;
    let (_, v) = ctx
        .post_key(&b.api_key, "/v1/secrets/get", json!({"key": "TOKEN"}))
        .await;
    assert_eq!(v, json!({"key": "TOKEN", "value": null, "exists": false}));
    let (_, v) = ctx
        .post_key(&b.api_key, "/v1/secrets/list", json!({}))
        .await;
    assert_eq!(v["keys"], json!([]));

    // jobs
    let (s, v) = ctx
        .post_key(
            &a.api_key,
            "/v1/queue/enqueue",
            json!({"type": "email", "data": {"to": "x"}}),
        )
        .await;
    assert_eq!(s.as_u16(), 201);
    let job_id = v["jobId"].as_str().unwrap().to_string();
    let (_, v) = ctx
        .post_key(&b.api_key, "/v1/queue/job", json!({"jobId": job_id}))
        .await;
    assert_eq!(v, json!({"job": null, "exists": false}));
    let (_, v) = ctx
        .post_key(&b.api_key, "/v1/queue/cancel", json!({"jobId": job_id}))
        .await;
    assert_eq!(v["success"], false);
    let (_, v) = ctx.post_key(&b.api_key, "/v1/queue/jobs", json!({})).await;
    assert_eq!(v["jobs"], json!([]));
    let (_, v) = ctx
        .post_key(&a.api_key, "/v1/queue/job", json!({"jobId": job_id}))
        .await;
    assert_eq!(v["job"]["status"], "queued");

    // search documents
    ctx.post_key(
        &a.api_key,
        "/v1/ai/search/ingest",
        json!({"content": "red shoes", "type": "product"}),
    )
    .await;
    let (_, v) = ctx
        .post_key(&b.api_key, "/v1/ai/search/count", json!({}))
        .await;
    assert_eq!(v["count"], 0);

    // end users
    let reg = json!({"email": "jane@example.com", "password": "Sup3rSecret"});
    let (s, _) = ctx
        .post(
            &format!("/api/v1/public/projects/{}/auth/register", a.slug),
            reg.clone(),
        )
        .await;
    assert_eq!(s.as_u16(), 201);
    let (s, v) = ctx
        .post(
            &format!("/api/v1/public/projects/{}/auth/login", b.slug),
            reg.clone(),
        )
        .await;
    assert_eq!(s.as_u16(), 401, "{v}");
    let (_, v) = ctx
        .post(
            &format!("/api/v1/public/projects/{}/auth/login", a.slug),
            reg,
        )
        .await;
    let token = v["accessToken"].as_str().unwrap().to_string();
    let r = ctx
        .http
        .get(ctx.url(&format!("/api/v1/public/projects/{}/auth/me", b.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    ctx.p.shutdown().await;
}
