//! Storage: uploads streamed to disk, public URLs, limits, key validation, list/copy/move.

use aerostack_server::{Limits, ServerOptions};
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::common::{assert_error, json_of, start, start_with};


#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_serve_and_manage() {
    let ctx = start().await;
    let pid = ctx.p.default_project().id.clone();
    let (s, v) = ctx.upload("avatars/jane doe.png", vec![7u8; 3000], None).await;
    assert!(s.is_success(), "{v}");
    assert_eq!(v["key"], "avatars/jane doe.png");
    assert_eq!(v["size"], 3000);
    assert_eq!(v["contentType"], "image/png");
    let url = v["url"].as_str().unwrap().to_string();
    assert_eq!(
        url,
        format!("{}/files/{pid}/avatars/jane%20doe.png", ctx.p.url())
    );
    let etag = v["etag"].as_str().unwrap().to_string();

    let r = ctx.http.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["content-length"], "3000");
    assert_eq!(r.headers()["etag"].to_str().unwrap(), format!("\"{etag}\""));
    assert_eq!(r.bytes().await.unwrap().len(), 3000);
    let r = ctx
        .http
        .get(&url)
        .header("If-None-Match", format!("\"{etag}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 304);

    let r = ctx
        .http
        .post(ctx.url("/v1/storage/get"))
        .header("X-Aerostack-Key", &ctx.key)
        .json(&json!({"key": "avatars/jane doe.png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        vec![7u8; 3000].as_slice()
    );

    let (_, v) = ctx
        .post(
            "/v1/storage/getMetadata",
            json!({"key": "avatars/jane doe.png"}),
        )
        .await;
    assert_eq!(v["exists"], true);
    assert_eq!(v["size"], 3000);
    let (_, v) = ctx
        .post("/v1/storage/getUrl", json!({"key": "avatars/jane doe.png"}))
        .await;
    assert_eq!(v["url"], url);

    // overwrite replaces
    let (_, v) = ctx.upload(
        "avatars/jane doe.png",
        b"new".to_vec(),
        Some("text/plain"),
    )
    .await;
    assert_eq!(v["size"], 3);
    assert_eq!(
        ctx.http
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "new"
    );

    for i in 0..5 {
        ctx.upload(
            &format!("docs/{i}.txt"),
            format!("doc {i}").into_bytes(),
            None,
        )
        .await;
    }
    let (_, v) = ctx
        .post("/v1/storage/list", json!({"prefix": "docs/", "limit": 3}))
        .await;
    assert_eq!(v["objects"].as_array().unwrap().len(), 3);
    assert_eq!(v["truncated"], true);
    assert_eq!(v["objects"][0]["key"], "docs/0.txt");
    assert_eq!(v["objects"][0]["contentType"], "text/plain; charset=utf-8");
    let (_, v2) = ctx
        .post(
            "/v1/storage/list",
            json!({"prefix": "docs/", "limit": 3, "cursor": v["cursor"]}),
        )
        .await;
    assert_eq!(v2["objects"].as_array().unwrap().len(), 2);
    assert_eq!(v2["truncated"], false);
    let (_, v) = ctx
        .post("/v1/storage/list", json!({"prefix": "DOCS/"}))
        .await;
    assert_eq!(v["objects"], json!([]), "prefixes are case-sensitive");

    let (_, v) = ctx
        .post(
            "/v1/storage/copy",
            json!({"sourceKey": "docs/0.txt", "destKey": "copy.txt"}),
        )
        .await;
    assert_eq!(v["success"], true);
    let (_, v) = ctx
        .post(
            "/v1/storage/move",
            json!({"sourceKey": "docs/1.txt", "destKey": "moved.txt"}),
        )
        .await;
    assert_eq!(v["success"], true);
    let (_, v) = ctx
        .post("/v1/storage/exists", json!({"key": "docs/1.txt"}))
        .await;
    assert_eq!(v["exists"], false);
    let r = ctx
        .http
        .get(ctx.url(&format!("/files/{pid}/moved.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "doc 1");
    let r = ctx
        .http
        .get(ctx.url(&format!("/files/{pid}/copy.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "doc 0");
    let (s, v) = ctx
        .post(
            "/v1/storage/move",
            json!({"sourceKey": "nope", "destKey": "x"}),
        )
        .await;
    assert_error(s, &v, 404, "NOT_FOUND", Some("sourceKey"));

    let (_, v) = ctx
        .post("/v1/storage/delete", json!({"key": "copy.txt"}))
        .await;
    assert_eq!(v["success"], true);
    let (s, v) = ctx
        .post("/v1/storage/get", json!({"key": "copy.txt"}))
        .await;
    assert_error(s, &v, 404, "NOT_FOUND", Some("key"));
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_large_is_413_and_leaves_nothing() {
    let ctx = start_with(ServerOptions {
        limits: Limits {
            max_upload_bytes: 64 * 1024,
            ..Limits::default()
        },
        ..ServerOptions::ephemeral()
    })
    .await;
    let (s, v) = ctx.upload("big.bin", vec![1u8; 200 * 1024], None).await;
    assert_error(s, &v, 413, "PAYLOAD_TOO_LARGE", Some("file"));
    let (_, v) = ctx
        .post("/v1/storage/exists", json!({"key": "big.bin"}))
        .await;
    assert_eq!(v["exists"], false);
    let storage = ctx
        .p
        .data_dir()
        .join("projects")
        .join(&ctx.p.default_project().id)
        .join("storage");
    let leftovers: Vec<_> = std::fs::read_dir(storage.join("tmp"))
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    assert!(!storage.join("objects").exists() || walk(&storage.join("objects")) == 0);
    // Exactly at the limit is fine.
    let (s, v) = ctx.upload("edge.bin", vec![1u8; 64 * 1024], None).await;
    assert!(s.is_success(), "{v}");
    ctx.p.shutdown().await;
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_validated() {
    let ctx = start().await;
    let long = "k".repeat(1025);
    for bad in [
        "../etc/passwd",
        "a/../../b",
        "/abs",
        "a\\b",
        "nul\0byte",
        long.as_str(),
    ] {
        let (s, v) = ctx.upload(bad, b"x".to_vec(), None).await;
        assert_error(s, &v, 400, "VALIDATION_ERROR", Some("key"));
        let (s, v) = ctx.post("/v1/storage/get", json!({"key": bad})).await;
        assert_error(s, &v, 400, "VALIDATION_ERROR", Some("key"));
    }
    let (s, v) = ctx
        .post(
            "/v1/storage/copy",
            json!({"sourceKey": "ok", "destKey": "../x"}),
        )
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("destKey"));
    // Missing pieces of the multipart body.
    let form = Form::new().part("file", Part::bytes(b"x".to_vec()));
    let r = ctx
        .http
        .post(ctx.url("/v1/storage/upload"))
        .header("X-Aerostack-Key", &ctx.key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (s, v) = json_of(r).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("key"));
    let form = Form::new().text("key", "a.txt");
    let r = ctx
        .http
        .post(ctx.url("/v1/storage/upload"))
        .header("X-Aerostack-Key", &ctx.key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (s, v) = json_of(r).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("file"));
    let (s, v) = ctx.post("/v1/storage/upload", json!({"key": "a"})).await;
    assert_error(s, &v, 415, "VALIDATION_ERROR", Some("file"));
    ctx.p.shutdown().await;
}
