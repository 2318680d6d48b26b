//! End-user auth: register/login, tokens (rotation, revocation, expiry), OTP, email flows via the
//! outbox, profile; and the legacy /v1/auth routes.

use aerostack_server::ServerOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Ctx, assert_error, json_of, start, start_with};

fn auth(path: &str) -> String {
    format!("/api/v1/public/projects/default/auth{path}")
}

async fn me(ctx: &Ctx, token: &str) -> (StatusCode, Value) {
    json_of(
        ctx.http
            .get(ctx.url(&auth("/me")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn outbox(ctx: &Ctx, to: &str) -> Vec<Value> {
    let r = ctx
        .http
        .get(ctx.url(&format!("/v1/local/outbox?to={to}")))
        .header("X-Aerostack-Key", &ctx.key)
        .send()
        .await
        .unwrap();
    let (_, v) = json_of(r).await;
    v["messages"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_sessions() {
    let ctx = start().await;
    let (s, v) = ctx.post(&auth("/register"), json!({"email": "Jane@Example.com", "password": "Sup3rSecret", "name": "Jane", "customFields": {"plan": "pro"}})).await;
    assert_eq!(s.as_u16(), 201, "{v}");
    for f in ["token", "accessToken", "refreshToken", "expiresAt"] {
        assert!(v[f].is_string(), "{f}: {v}");
    }
    assert_eq!(v["token"], v["accessToken"]);
    let u = &v["user"];
    assert_eq!(u["email"], "jane@example.com");
    assert_eq!(u["name"], "Jane");
    assert_eq!(u["profile_extras"], json!({"plan": "pro"}));
    assert!(u["email_verified_at"].is_null());
    assert_eq!(u["emailVerified"], false);
    assert!(u["created_at"].is_string() && u["createdAt"].is_string());

    let (s, v) = ctx
        .post(
            &auth("/register"),
            json!({"email": "jane@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert_error(s, &v, 409, "AUTH_USER_EXISTS", None);
    let (s, v) = ctx
        .post(
            &auth("/register"),
            json!({"email": "weak@example.com", "password": "password"}),
        )
        .await;
    assert_error(s, &v, 400, "AUTH_PASSWORD_WEAK", Some("password"));
    let (s, v) = ctx
        .post(
            &auth("/register"),
            json!({"email": "not-an-email", "password": "Sup3rSecret"}),
        )
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("email"));
    let (s, v) = ctx
        .post(
            &auth("/login"),
            json!({"email": "jane@example.com", "password": "Wrong1Password"}),
        )
        .await;
    assert_error(s, &v, 401, "AUTH_INVALID_CREDENTIALS", None);

    let (s, login) = ctx
        .post(
            &auth("/login"),
            json!({"email": "JANE@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{login}");
    let access = login["accessToken"].as_str().unwrap().to_string();
    let (s, v) = me(&ctx, &access).await;
    assert_eq!(s.as_u16(), 200);
    assert_eq!(v["email"], "jane@example.com");

    // PATCH /me and DELETE /me/avatar
    let r = ctx.http.patch(ctx.url(&auth("/me"))).bearer_auth(&access).json(&json!({"name": "Jane D.", "avatar_url": "http://x/a.png", "customFields": {"team": "a"}})).send().await.unwrap();
    let (s, v) = json_of(r).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert_eq!(v["user"]["name"], "Jane D.");
    assert_eq!(
        v["user"]["profile_extras"],
        json!({"plan": "pro", "team": "a"})
    );
    let r = ctx
        .http
        .delete(ctx.url(&auth("/me/avatar")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, v) = me(&ctx, &access).await;
    assert!(v["avatar_url"].is_null());

    // Refresh rotates; the old refresh token is dead.
    let old_rt = login["refreshToken"].as_str().unwrap().to_string();
    let (s, r1) = ctx
        .post(&auth("/refresh"), json!({"refreshToken": old_rt}))
        .await;
    assert_eq!(s.as_u16(), 200, "{r1}");
    assert_ne!(r1["refreshToken"], login["refreshToken"]);
    let (s, v) = ctx
        .post(&auth("/refresh"), json!({"refreshToken": old_rt}))
        .await;
    assert_error(s, &v, 401, "AUTH_TOKEN_INVALID", None);
    let new_access = r1["accessToken"].as_str().unwrap().to_string();
    let (s, _) = me(&ctx, &new_access).await;
    assert_eq!(s.as_u16(), 200);

    // Logout revokes the access token and the refresh token.
    let r = ctx
        .http
        .post(ctx.url(&auth("/logout")))
        .bearer_auth(&new_access)
        .json(&json!({"refreshToken": r1["refreshToken"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (s, v) = me(&ctx, &new_access).await;
    assert_error(s, &v, 401, "AUTH_TOKEN_INVALID", None);
    let (s, v) = ctx
        .post(
            &auth("/refresh"),
            json!({"refreshToken": r1["refreshToken"]}),
        )
        .await;
    assert_error(s, &v, 401, "AUTH_TOKEN_INVALID", None);

    // Garbage and expired tokens.
    let (s, v) = me(&ctx, "not.a.jwt").await;
    assert_error(s, &v, 401, "AUTH_TOKEN_INVALID", None);
    let r = ctx.http.get(ctx.url(&auth("/me"))).send().await.unwrap();
    let (s, v) = json_of(r).await;
    assert_error(s, &v, 401, "AUTH_TOKEN_INVALID", None);
    let secret: String = rusqlite::Connection::open(ctx.p.data_dir().join("control.sqlite"))
        .unwrap()
        .query_row("SELECT value FROM meta WHERE key = 'jwt_secret'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let now = aerostack_server::util::now_ms() / 1000;
    let claims = json!({"sub": login["user"]["id"], "pid": ctx.p.default_project().id, "jti": "x", "iat": now - 1000, "exp": now - 10});
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let (s, v) = me(&ctx, &expired).await;
    assert_error(s, &v, 401, "AUTH_TOKEN_EXPIRED", None);

    // Unknown project.
    let (s, v) = ctx
        .post(
            "/api/v1/public/projects/nope/auth/login",
            json!({"email": "a@b.co", "password": "x"}),
        )
        .await;
    assert_error(s, &v, 404, "NOT_FOUND", Some("project"));
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_and_email_flows() {
    let ctx = start().await;
    let (s, v) = ctx
        .post(&auth("/otp/send"), json!({"email": "otp@example.com"}))
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert_eq!(v["accountExists"], false);
    let msgs = outbox(&ctx, "otp@example.com").await;
    assert_eq!(msgs[0]["kind"], "otp");
    let code = msgs[0]["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (s, v) = ctx
        .post(
            &auth("/otp/verify"),
            json!({"email": "otp@example.com", "code": wrong}),
        )
        .await;
    assert_error(s, &v, 401, "AUTH_OTP_INVALID", None);
    assert_eq!(v["details"]["attemptsRemaining"], 2);
    let (s, v) = ctx
        .post(
            &auth("/otp/verify"),
            json!({"email": "otp@example.com", "code": code}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert_eq!(v["isNewUser"], true);
    assert_eq!(v["user"]["emailVerified"], true);
    assert!(v["accessToken"].is_string());
    let (s, v) = ctx
        .post(
            &auth("/otp/verify"),
            json!({"email": "otp@example.com", "code": code}),
        )
        .await;
    assert_error(s, &v, 401, "AUTH_OTP_INVALID", None);
    let (s, v) = ctx
        .post(
            &auth("/otp/verify"),
            json!({"email": "otp@example.com", "code": "12"}),
        )
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("code"));

    // Three wrong codes burn it.
    let (_, v) = ctx
        .post(&auth("/otp/send"), json!({"email": "otp2@example.com"}))
        .await;
    assert_eq!(v["accountExists"], false);
    let code = outbox(&ctx, "otp2@example.com").await[0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in [2, 1, 0] {
        let (s, v) = ctx
            .post(
                &auth("/otp/verify"),
                json!({"email": "otp2@example.com", "code": wrong}),
            )
            .await;
        assert_error(s, &v, 401, "AUTH_OTP_INVALID", None);
        assert_eq!(v["details"]["attemptsRemaining"], left);
    }

    // Email verification and password reset through the outbox.
    ctx.post(
        &auth("/register"),
        json!({"email": "v@example.com", "password": "Sup3rSecret"}),
    )
    .await;
    let msgs = outbox(&ctx, "v@example.com").await;
    assert_eq!(msgs[0]["kind"], "verify_email");
    let token = msgs[0]["token"].as_str().unwrap();
    let r = ctx
        .http
        .get(ctx.url(&auth(&format!("/verify-email?token={token}"))))
        .send()
        .await
        .unwrap();
    let (s, v) = json_of(r).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    let r = ctx
        .http
        .get(ctx.url(&auth(&format!("/verify-email?token={token}"))))
        .send()
        .await
        .unwrap();
    let (s, v) = json_of(r).await;
    assert_error(s, &v, 400, "AUTH_TOKEN_INVALID", None);
    assert_eq!(v["success"], false);

    let (s, _) = ctx
        .post(
            &auth("/reset-password-request"),
            json!({"email": "v@example.com"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200);
    let reset = outbox(&ctx, "v@example.com").await[0].clone();
    assert_eq!(reset["kind"], "password_reset");
    let (s, v) = ctx
        .post(
            &auth("/reset-password"),
            json!({"token": reset["token"], "newPassword": "weak"}),
        )
        .await;
    assert_error(s, &v, 400, "AUTH_PASSWORD_WEAK", Some("newPassword"));
    let (s, v) = ctx
        .post(
            &auth("/reset-password"),
            json!({"token": reset["token"], "newPassword": "N3wSecret!"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    let (s, v) = ctx
        .post(
            &auth("/reset-password"),
            json!({"token": reset["token"], "newPassword": "N3wSecret!"}),
        )
        .await;
    assert_error(s, &v, 400, "AUTH_RESET_TOKEN_INVALID", Some("token"));
    let (s, _) = ctx
        .post(
            &auth("/login"),
            json!({"email": "v@example.com", "password": "N3wSecret!"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200);
    let (s, _) = ctx
        .post(
            &auth("/resend-verification"),
            json!({"email": "v@example.com"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200);
    // Unknown addresses get the same answer (no account discovery).
    let (s, _) = ctx
        .post(
            &auth("/reset-password-request"),
            json!({"email": "ghost@example.com"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200);
    assert!(outbox(&ctx, "ghost@example.com").await.is_empty());
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_required_mode() {
    let ctx = start_with(ServerOptions {
        require_email_verification: true,
        ..ServerOptions::ephemeral()
    })
    .await;
    let (s, v) = ctx
        .post(
            &auth("/register"),
            json!({"email": "r@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert_eq!(s.as_u16(), 201);
    assert_eq!(v["requiresVerification"], true);
    assert!(v["token"].is_null());
    let (s, v) = ctx
        .post(
            &auth("/login"),
            json!({"email": "r@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert_error(s, &v, 403, "AUTH_EMAIL_NOT_VERIFIED", None);
    assert_eq!(v["emailNotVerified"], true);
    let token = outbox(&ctx, "r@example.com").await[0]["token"]
        .as_str()
        .unwrap()
        .to_string();
    ctx.http
        .get(ctx.url(&auth(&format!("/verify-email?token={token}"))))
        .send()
        .await
        .unwrap();
    let (s, _) = ctx
        .post(
            &auth("/login"),
            json!({"email": "r@example.com", "password": "Sup3rSecret"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_signup_signin() {
    let ctx = start().await;
    let (s, v) = ctx.post("/v1/auth/signup", json!({"email": "l@example.com", "password": "password1", "name": "L", "metadata": {"a": 1}})).await;
    assert_eq!(s.as_u16(), 201, "{v}");
    assert!(v["token"].is_string() && v["accessToken"].is_string() && v["expiresAt"].is_string());
    assert_eq!(v["user"]["metadata"], json!({"a": 1}));
    assert!(v["user"]["createdAt"].is_string());
    let (s, v) = ctx
        .post(
            "/v1/auth/signup",
            json!({"email": "l@example.com", "password": "password1"}),
        )
        .await;
    assert_error(s, &v, 409, "AUTH_USER_EXISTS", None);
    let (s, v) = ctx
        .post(
            "/v1/auth/signin",
            json!({"email": "l@example.com", "password": "password2"}),
        )
        .await;
    assert_error(s, &v, 401, "AUTH_INVALID_CREDENTIALS", None);
    let (s, v) = ctx
        .post(
            "/v1/auth/signin",
            json!({"email": "l@example.com", "password": "password1"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    // The same user logs in through the public routes of its project.
    let (s, _) = ctx
        .post(
            &auth("/login"),
            json!({"email": "l@example.com", "password": "password1"}),
        )
        .await;
    assert_eq!(s.as_u16(), 200);
    ctx.p.shutdown().await;
}
