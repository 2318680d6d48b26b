//! Issue 13, item 11: a reused rotated refresh token ends its session family; successful
//! sign-ins do not count toward the per-email lockout; stored objects are never sniffed or
//! rendered as pages of the API's origin.

use std::time::Duration;

use aerostack_server::{Rate, ServerOptions};
use serde_json::json;

use crate::common::{assert_error, start, start_with};

fn auth(path: &str) -> String {
    format!("/api/v1/public/projects/default/auth{path}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reusing_a_rotated_refresh_token_ends_its_family() {
    let ctx = start().await;
    let (s, reg) = ctx
        .post(&auth("/register"), json!({"email": "fam@example.com", "password": "Sup3rSecret"}))
        .await;
    assert!(s.is_success(), "{reg}");
    let rt0 = reg["refreshToken"].as_str().unwrap().to_string();
    // Another session of the same user (another device) is another family.
    let (_, other) = ctx
        .post(&auth("/login"), json!({"email": "fam@example.com", "password": "Sup3rSecret"}))
        .await;
    let other_rt = other["refreshToken"].as_str().unwrap().to_string();

    let (s, v) = ctx.post(&auth("/refresh"), json!({"refreshToken": rt0})).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    let rt1 = v["refreshToken"].as_str().unwrap().to_string();
    // The rotated-out token comes back (a stolen copy): refused, and the family ends.
    let (s, v) = ctx.post(&auth("/refresh"), json!({"refreshToken": rt0})).await;
    assert_error(s, &v, 401, "AUTH_TOKEN_INVALID", None);
    let (s, v) = ctx.post(&auth("/refresh"), json!({"refreshToken": rt1})).await;
    assert_error(s, &v, 401, "AUTH_TOKEN_INVALID", None);
    // The other session is untouched.
    let (s, v) = ctx.post(&auth("/refresh"), json!({"refreshToken": other_rt})).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successful_sign_ins_do_not_lock_an_address() {
    let mut opts = ServerOptions::ephemeral();
    opts.limits.login_per_ip = Rate::new(0, Duration::from_secs(60));
    opts.limits.login_per_email = Rate::new(3, Duration::from_secs(60));
    let ctx = start_with(opts).await;
    let creds = json!({"email": "lock@example.com", "password": "Sup3rSecret"});
    let (s, _) = ctx.post(&auth("/register"), creds.clone()).await;
    assert!(s.is_success());
    for i in 0..6 {
        let (s, v) = ctx.post(&auth("/login"), creds.clone()).await;
        assert_eq!(s.as_u16(), 200, "sign-in {i}: {v}");
        let (s, v) = ctx.post("/v1/auth/signin", creds.clone()).await;
        assert_eq!(s.as_u16(), 200, "legacy sign-in {i}: {v}");
    }
    // Failures still count: three wrong passwords lock the address.
    for _ in 0..3 {
        let (s, v) = ctx
            .post(&auth("/login"), json!({"email": "lock@example.com", "password": "Wr0ngPassword"}))
            .await;
        assert_error(s, &v, 401, "AUTH_INVALID_CREDENTIALS", None);
    }
    let (s, v) = ctx.post(&auth("/login"), creds.clone()).await;
    assert_error(s, &v, 429, "RATE_LIMIT_EXCEEDED", None);
    // Unknown addresses answer like wrong passwords.
    let (s, v) = ctx
        .post(&auth("/login"), json!({"email": "nobody@example.com", "password": "Sup3rSecret"}))
        .await;
    assert_error(s, &v, 401, "AUTH_INVALID_CREDENTIALS", None);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_objects_are_not_sniffed_or_rendered() {
    let ctx = start().await;
    let mut urls = Vec::new();
    for (key, ct) in [("page.html", "text/html"), ("pic.png", "image/png"), ("logo.svg", "image/svg+xml")] {
        let (_, v) = ctx.upload(key, b"<script>alert(1)</script>".to_vec(), Some(ct)).await;
        urls.push((key, v["url"].as_str().unwrap().to_string()));
    }
    for (key, url) in urls {
        let r = ctx.http.get(&url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{url}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{key}");
        let disposition = r.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_string());
        if key == "pic.png" {
            assert_eq!(disposition, None, "{key}");
        } else {
            let d = disposition.unwrap_or_default();
            assert!(d.starts_with("attachment") && d.contains(key), "{key}: {d}");
            assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
        }
    }
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_send_is_limited_per_client_ip() {
    let mut opts = ServerOptions::ephemeral();
    // The per-IP limit applies while `otp_send` does: the hosted limits, on.
    opts.rate_limits = Some(true);
    opts.limits.otp_send_per_ip = Rate::new(3, Duration::from_secs(60));
    let ctx = start_with(opts).await;
    for i in 0..3 {
        let (s, v) = ctx
            .post(&auth("/otp/send"), json!({"email": format!("probe{i}@example.com")}))
            .await;
        assert_eq!(s.as_u16(), 200, "{v}");
    }
    // A fourth address from the same client: refused (addresses cannot be probed in bulk).
    let (s, v) = ctx
        .post(&auth("/otp/send"), json!({"email": "probe3@example.com"}))
        .await;
    assert_error(s, &v, 429, "RATE_LIMIT_EXCEEDED", None);
    assert!(v["message"].as_str().unwrap().contains("from this IP"), "{v}");
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_keys_are_used_as_sent() {
    let ctx = start().await;
    for key in [". ", ".", "./x", "a/./b", " x", "x ", "a/."] {
        let (s, v) = ctx.upload(key, b"bytes".to_vec(), None).await;
        assert_error(s, &v, 400, "VALIDATION_ERROR", Some("key"));
        let (s, v) = ctx.post("/v1/storage/get", json!({"key": key})).await;
        assert_eq!(s.as_u16(), 400, "get {key:?}: {v}");
    }
    ctx.p.shutdown().await;
}
