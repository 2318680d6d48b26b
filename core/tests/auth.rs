//! Auth end to end: legacy sign-up/in, register, login, me, refresh rotation, logout, OTP and
//! password reset through the local outbox, email verification, profile updates.

mod common;

use aerostack::{Client, ErrorCode};
use aerostack_server::ServerOptions;
use common::{Harness, unique};
use serde_json::json;

const PASSWORD: &str = "Sup3r-Secret-pw";

fn email(prefix: &str) -> String {
    format!("{}@example.com", unique(prefix))
}

async fn outbox_item(client: &Client, to: &str, kind: &str) -> aerostack::OutboxMessage {
    let msgs = client.local_outbox(Some(to), Some(10)).await.unwrap();
    msgs.into_iter()
        .find(|m| m.kind.contains(kind))
        .unwrap_or_else(|| panic!("no {kind} message for {to}"))
}

#[tokio::test]
async fn register_login_me_refresh_logout() {
    let h = Harness::start().await;
    let auth = h.client.auth();
    let mail = email("jane");

    let reg = auth
        .register(&mail, PASSWORD, Some("Jane"), None)
        .await
        .unwrap();
    let user = reg.user.clone().unwrap();
    assert_eq!(user.email.as_deref(), Some(mail.as_str()));
    assert_eq!(user.name.as_deref(), Some("Jane"));
    assert!(reg.access_token.is_some());

    let e = auth
        .register(&mail, PASSWORD, None, None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::AuthUserExists);
    assert_eq!(e.status(), Some(409));

    let s = auth.login(&mail, PASSWORD).await.unwrap();
    let access = s.access_token.clone().unwrap();
    let refresh = s.refresh_token.clone().unwrap();
    assert!(s.expires_at.is_some());
    assert_eq!(auth.me(&access).await.unwrap().id, user.id);
    assert_eq!(
        auth.verify_token(&access).await.unwrap().unwrap().id,
        user.id
    );
    assert_eq!(
        auth.verify_token(&format!("Bearer {access}"))
            .await
            .unwrap()
            .unwrap()
            .id,
        user.id
    );
    assert!(auth.verify_token("not-a-jwt").await.unwrap().is_none());

    let e = auth.login(&mail, "Wrong-passw0rd").await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::AuthInvalidCredentials);
    assert_eq!(e.status(), Some(401));

    // Refresh rotates: the new refresh token works, the old one no longer does.
    let s2 = auth.refresh(&refresh).await.unwrap();
    let refresh2 = s2.refresh_token.clone().unwrap();
    assert_ne!(refresh2, refresh);
    assert!(auth.me(s2.access_token.as_deref().unwrap()).await.is_ok());
    let e = auth.refresh(&refresh).await.unwrap_err();
    assert_eq!(e.status(), Some(401), "{e}");

    // Logout revokes the access token and the refresh token.
    let access2 = s2.access_token.unwrap();
    assert!(
        auth.logout(&access2, Some(&refresh2))
            .await
            .unwrap()
            .success
    );
    assert_eq!(
        auth.refresh(&refresh2).await.unwrap_err().status(),
        Some(401)
    );
    assert!(auth.verify_token(&access2).await.unwrap().is_none());
    h.platform.shutdown().await;
}

#[tokio::test]
async fn profile_update_and_avatar() {
    let h = Harness::start().await;
    let auth = h.client.auth();
    let mail = email("prof");
    let s = auth.register(&mail, PASSWORD, None, None).await.unwrap();
    let token = s.access_token.unwrap();
    let u = auth
        .update_me(
            &token,
            &json!({"name": "New Name", "avatar_url": "https://img.example/a.png"}),
        )
        .await
        .unwrap();
    assert_eq!(u.name.as_deref(), Some("New Name"));
    assert_eq!(u.avatar_url.as_deref(), Some("https://img.example/a.png"));
    assert!(auth.delete_avatar(&token).await.unwrap().success);
    assert_eq!(auth.me(&token).await.unwrap().avatar_url, None);
    let e = auth.update_me(&token, &json!("nope")).await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], json!("fields"));
    h.platform.shutdown().await;
}

#[tokio::test]
async fn otp_sign_in_through_the_outbox() {
    let h = Harness::start().await;
    let auth = h.client.auth();
    let mail = email("otp");
    auth.send_otp(Some(&mail), None).await.unwrap();
    let code = outbox_item(&h.client, &mail, "otp")
        .await
        .code
        .expect("an OTP code");
    assert_eq!(code.len(), 6);

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let e = auth.verify_otp(wrong, Some(&mail), None).await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::AuthOtpInvalid, "{e}");

    let s = auth.verify_otp(&code, Some(&mail), None).await.unwrap();
    let token = s.access_token.unwrap();
    assert_eq!(
        auth.me(&token).await.unwrap().email.as_deref(),
        Some(mail.as_str())
    );

    // Client-side checks happen before any request.
    let e = auth.verify_otp("12", Some(&mail), None).await.unwrap_err();
    assert_eq!((e.code(), e.status()), (&ErrorCode::ValidationError, None));
    assert_eq!(e.details().unwrap()["field"], json!("code"));
    let e = auth.send_otp(Some("not-an-email"), None).await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], json!("email"));
    h.platform.shutdown().await;
}

#[tokio::test]
async fn password_reset_through_the_outbox() {
    let h = Harness::start().await;
    let auth = h.client.auth();
    let mail = email("reset");
    auth.register(&mail, PASSWORD, None, None).await.unwrap();
    assert!(auth.request_password_reset(&mail).await.unwrap().success);
    let token = outbox_item(&h.client, &mail, "reset")
        .await
        .token
        .expect("a reset token");

    let e = auth
        .reset_password("bogus-token", "An0ther-Passw0rd")
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::AuthResetTokenInvalid, "{e}");
    assert!(
        auth.reset_password(&token, "An0ther-Passw0rd")
            .await
            .unwrap()
            .success
    );
    assert_eq!(
        auth.login(&mail, PASSWORD).await.unwrap_err().code(),
        &ErrorCode::AuthInvalidCredentials
    );
    assert!(
        auth.login(&mail, "An0ther-Passw0rd")
            .await
            .unwrap()
            .access_token
            .is_some()
    );
    h.platform.shutdown().await;
}

#[tokio::test]
async fn email_verification_when_required() {
    let h = Harness::start_with(ServerOptions {
        require_email_verification: true,
        ..ServerOptions::ephemeral()
    })
    .await;
    let auth = h.client.auth();
    let mail = email("verify");
    let s = auth.register(&mail, PASSWORD, None, None).await.unwrap();
    assert!(s.requires_verification);
    assert!(s.access_token.is_none());
    let e = auth.login(&mail, PASSWORD).await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::AuthEmailNotVerified, "{e}");

    assert!(auth.resend_verification(&mail).await.unwrap().success);
    let token = outbox_item(&h.client, &mail, "verif")
        .await
        .token
        .expect("a verification token");
    assert!(auth.verify_email(&token).await.unwrap().success);
    let s = auth.login(&mail, PASSWORD).await.unwrap();
    assert!(s.user.unwrap().email_verified);
    h.platform.shutdown().await;
}

#[tokio::test]
async fn legacy_signup_and_signin() {
    let h = Harness::start().await;
    let auth = h.client.auth();
    let mail = email("legacy");
    let s = auth
        .signup(&mail, PASSWORD, Some("Leg"), Some(&json!({"plan": "free"})))
        .await
        .unwrap();
    assert!(s.access_token.is_some());
    assert_eq!(s.user.unwrap().metadata, Some(json!({"plan": "free"})));
    let s = auth.signin(&mail, PASSWORD).await.unwrap();
    assert!(s.access_token.is_some());
    let e = auth.signin(&mail, "Wrong-pass1").await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::AuthInvalidCredentials);
    h.platform.shutdown().await;
}
