//! Private objects (issue 13 #13): uploaded with `public=false`, served only through signed URLs
//! that expire; public objects stay served to anyone, and may get signed URLs too.

use reqwest::Method;
use serde_json::json;

use crate::common::{assert_error, json_of, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_objects_are_served_only_through_signed_urls() {
    let ctx = start().await;
    let form = reqwest::multipart::Form::new()
        .text("key", "payslips/ann.pdf")
        .text("public", "false")
        .part("file", reqwest::multipart::Part::bytes(b"secret".to_vec()).file_name("a.pdf"));
    let r = ctx.http.post(ctx.url("/v1/storage/upload")).header("X-Aerostack-Key", &ctx.key).multipart(form).send().await.unwrap();
    let (s, up) = json_of(r).await;
    assert_eq!(s.as_u16(), 200, "{up}");
    assert_eq!(up["public"], false);
    assert!(up["url"].as_str().unwrap().contains("?token="), "an upload answers a signed URL for a private object: {up}");

    let plain = format!("/files/{}/payslips/ann.pdf", ctx.p.default_project().id);
    let r = ctx.http.get(ctx.url(&plain)).send().await.unwrap();
    let (s, v) = json_of(r).await;
    assert_error(s, &v, 403, "FORBIDDEN", None);
    let r = ctx.http.get(ctx.url(&format!("{plain}?token=forged"))).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);

    // A signed URL (default 1 h for a private object, or expiresIn) serves it to anyone.
    let (s, signed) = ctx.post("/v1/storage/getUrl", json!({"key": "payslips/ann.pdf", "expiresIn": 60})).await;
    assert_eq!(s.as_u16(), 200, "{signed}");
    assert!(signed["expiresAt"].is_string());
    let r = ctx.http.get(signed["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"secret");
    // The token is for that object only.
    let (_, other) = ctx.upload("payslips/bob.pdf", b"bob".to_vec(), None).await;
    assert_eq!(other["public"], true);
    let token = signed["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_string();
    let bob = format!("/files/{}/payslips/bob.pdf?token={token}", ctx.p.default_project().id);
    assert_eq!(ctx.http.get(ctx.url(&bob)).send().await.unwrap().status().as_u16(), 200, "a public object stays public");

    // Copy keeps the visibility; metadata says it; the key holder reads it as ever.
    let (s, v) = ctx.post("/v1/storage/copy", json!({"sourceKey": "payslips/ann.pdf", "destKey": "archive/ann.pdf"})).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    let (_, meta) = ctx.post("/v1/storage/getMetadata", json!({"key": "archive/ann.pdf"})).await;
    assert_eq!(meta["public"], false, "{meta}");
    let r = ctx.call(Method::POST, "/v1/storage/get", Some(&ctx.key), Some(json!({"key": "archive/ann.pdf"}))).await;
    assert_eq!(r.status().as_u16(), 200);

    // expiresIn is checked.
    let (s, v) = ctx.post("/v1/storage/getUrl", json!({"key": "payslips/ann.pdf", "expiresIn": 0})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("expiresIn"));
    let (s, v) = ctx.post("/v1/storage/getUrl", json!({"key": "payslips/bob.pdf"})).await;
    assert_eq!((s.as_u16(), v["public"].as_bool()), (200, Some(true)));
    assert!(!v["url"].as_str().unwrap().contains("token="), "{v}");
    ctx.p.shutdown().await;
}
