//! End-user auth flows that go through the outbox: one-time codes (`otp/send`, `otp/verify`),
//! email verification and password reset. Read the "sent" messages with `GET /v1/local/outbox`
//! or `aerostack-server outbox`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::{self, OTP_MAX_ATTEMPTS, OTP_TTL_MS, RESET_TTL_MS, Session};
use crate::error::{ApiError, code};
use crate::extract::ClientIp;
use crate::extract::JsonBody;
use crate::routes::auth_public::{exists_error, project, send_verification, with_session};
use crate::state::{AppState, send_mail};
use crate::store::outbox::OutboxRow;
use crate::store::users::{self, LinkToken, UserRow};
use crate::util::{new_uuid, now_ms, sha256_hex};

/// `{email}` or `{phone}` -> (identifier, is_email).
fn identifier(body: &JsonBody, usage: &str) -> Result<(String, bool), ApiError> {
    if let Some(e) = body.opt_str("email", usage)? {
        return Ok((auth::normalize_email(e, "email")?, true));
    }
    if let Some(p) = body.opt_str("phone", usage)? {
        return Ok((auth::normalize_phone(p)?, false));
    }
    Err(ApiError::validation(
        "email",
        format!("`email` (or `phone`) is required: send {usage}"),
    ))
}

pub async fn otp_send(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    ClientIp(ip): ClientIp,
    body: JsonBody,
) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"email": "jane@example.com"}"#;
    let project = project(&st, &pref).await?;
    let (ident, is_email) = identifier(&body, USAGE)?;
    // The answer tells whether an account exists: bound how fast one client can probe
    // (`Limits::otp_send_per_ip`, `--otp-send-per-ip`; off with `otp_send` unless set on purpose,
    // see `ServerOptions::effective_limits`).
    st.limiter.check(
        format!("otp-send-ip:{}:{ip}", project.id),
        st.limits.otp_send_per_ip,
        "codes sent from this IP",
    )?;
    st.limiter.check(
        format!("otp-send:{}:{ident}", project.id),
        st.limits.otp_send,
        "codes sent to this address",
    )?;
    let out = st
        .control(move |conn| {
            let exists = if is_email {
                users::by_email(conn, &project.id, &ident)?
            } else {
                users::by_phone(conn, &project.id, &ident)?
            }
            .is_some();
            let code = auth::new_otp();
            let now = now_ms();
            users::put_otp(conn, &project.id, &ident, &code, now + OTP_TTL_MS, now)?;
            send_mail(
                conn,
                &project.id,
                OutboxRow {
                    to: ident.clone(),
                    kind: if is_email {
                        "otp".into()
                    } else {
                        "otp_sms".into()
                    },
                    subject: format!("Your {} sign-in code", project.name),
                    body: format!("Your sign-in code is {code}. It expires in 10 minutes."),
                    code: Some(code),
                    ..Default::default()
                },
            )?;
            // `accountExists` stays although it tells whether an address has an account: the
            // hosted platform sends it (wire-facts §2.2, `POST /otp/send` -> `{message,
            // accountExists}`) and clients read it (this project's engine does, as
            // `account_exists`). The per-IP limit above bounds how fast it can be probed.
            Ok(json!({"success": true, "message": "Code sent", "accountExists": exists}))
        })
        .await?;
    Ok(Json(out).into_response())
}

pub async fn otp_verify(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"email": "jane@example.com", "code": "123456"}"#;
    let project = project(&st, &pref).await?;
    let (ident, is_email) = identifier(&body, USAGE)?;
    let code = body.req_str("code", USAGE)?.trim().to_string();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::validation(
            "code",
            "`code` must be the 6 digits from the message",
        ));
    }
    st.limiter.check(
        format!("otp-verify:{}:{ident}", project.id),
        st.limits.otp_verify,
        "code attempts for this address",
    )?;
    let state = st.clone();
    let out = st
        .control(move |conn| {
            let now = now_ms();
            let Some(otp) = users::get_otp(conn, &project.id, &ident)? else {
                return Err(ApiError::unauthorized(
                    code::AUTH_OTP_INVALID,
                    "No active code for this address: request one with POST .../auth/otp/send",
                ));
            };
            if otp.expires_at <= now {
                users::delete_otp(conn, &project.id, &ident)?;
                return Err(ApiError::unauthorized(
                    code::AUTH_OTP_EXPIRED,
                    "The code has expired (codes last 10 minutes): request a new one",
                ));
            }
            if otp.code_hash != sha256_hex(code.as_bytes()) {
                let attempts = users::bump_otp(conn, &project.id, &ident)?;
                let remaining = (OTP_MAX_ATTEMPTS - attempts).max(0);
                if remaining == 0 {
                    users::delete_otp(conn, &project.id, &ident)?;
                }
                let msg = if remaining == 0 {
                    "Wrong code, and that was the last attempt: request a new code".to_string()
                } else {
                    format!("Wrong code: {remaining} attempt(s) left")
                };
                return Err(ApiError::unauthorized(code::AUTH_OTP_INVALID, msg)
                    .with_detail("attemptsRemaining", remaining));
            }
            users::delete_otp(conn, &project.id, &ident)?;
            let existing = if is_email {
                users::by_email(conn, &project.id, &ident)?
            } else {
                users::by_phone(conn, &project.id, &ident)?
            };
            let (user, is_new) = match existing {
                Some(u) => {
                    // Receiving the code proves the address.
                    if is_email && u.email_verified_at.is_none() {
                        users::mark_verified(conn, &u.id, now)?;
                    }
                    (users::by_id(conn, &project.id, &u.id)?.unwrap_or(u), false)
                }
                None => {
                    let u = UserRow {
                        id: new_uuid(),
                        project_id: project.id.clone(),
                        email: is_email.then(|| ident.clone()),
                        phone: (!is_email).then(|| ident.clone()),
                        profile_extras: json!({}),
                        metadata: json!({}),
                        email_verified_at: is_email.then_some(now),
                        created_at: now,
                        updated_at: now,
                        ..Default::default()
                    };
                    if !users::insert(conn, &u)? {
                        return Err(exists_error());
                    }
                    (u, true)
                }
            };
            let s = Session::issue(conn, &state.jwt, &user)?;
            let mut base = Map::new();
            base.insert("success".into(), json!(true));
            base.insert("isNewUser".into(), json!(is_new));
            base.insert("user".into(), user.public_json());
            Ok(with_session(base, &s))
        })
        .await?;
    Ok(Json(out).into_response())
}

pub async fn verify_email(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let q: std::collections::HashMap<String, String> =
        Query::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    let project = project(&st, &pref).await?;
    let token = q.get("token").filter(|t| !t.is_empty()).cloned().ok_or_else(|| {
        ApiError::validation("token", "the `token` query parameter is required: open the link from the verification email")
    })?;
    let out = st
        .control(move |conn| {
            let now = now_ms();
            match users::use_link_token(conn, &token, "verify", &project.id, now)? {
                LinkToken::Valid { user_id } => {
                    users::mark_verified(conn, &user_id, now)?;
                    Ok(json!({"success": true, "message": "Email verified"}))
                }
                LinkToken::Expired => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    code::AUTH_TOKEN_EXPIRED,
                    "The verification link has expired: request a new one with resend-verification",
                )
                .with_extra("success", false)),
                LinkToken::Invalid => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    code::AUTH_TOKEN_INVALID,
                    "The verification link is invalid or was already used",
                )
                .with_extra("success", false)),
            }
        })
        .await?;
    Ok(Json(out).into_response())
}

pub async fn resend_verification(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let email = auth::normalize_email(
        body.req_str("email", r#"{"email": "jane@example.com"}"#)?,
        "email",
    )?;
    st.limiter.check(
        format!("resend:{}:{email}", project.id),
        st.limits.resend_verification,
        "verification emails for this address",
    )?;
    let state = st.clone();
    st.control(move |conn| {
        if let Some(u) = users::by_email(conn, &project.id, &email)?
            && u.email_verified_at.is_none()
        {
            send_verification(conn, &state, &project, &u)?;
        }
        Ok(())
    })
    .await?;
    Ok(Json(json!({"success": true, "message": "If the account exists and is not verified yet, a verification email was sent"})).into_response())
}

pub async fn reset_password_request(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let email = auth::normalize_email(
        body.req_str("email", r#"{"email": "jane@example.com"}"#)?,
        "email",
    )?;
    st.limiter.check(
        format!("reset:{}:{email}", project.id),
        st.limits.password_reset,
        "password reset requests for this address",
    )?;
    st.control(move |conn| {
        if let Some(u) = users::by_email(conn, &project.id, &email)? {
            let token = auth::new_link_token();
            users::put_link_token(conn, &token, "reset", &project.id, &u.id, now_ms() + RESET_TTL_MS)?;
            send_mail(
                conn,
                &project.id,
                OutboxRow {
                    to: email.clone(),
                    kind: "password_reset".into(),
                    subject: format!("Reset your {} password", project.name),
                    body: format!(
                        "Use this token to choose a new password: POST /api/v1/public/projects/{}/auth/reset-password {{\"token\": \"{token}\", \"newPassword\": \"...\"}}\nIt expires in 1 hour.",
                        project.slug
                    ),
                    token: Some(token),
                    ..Default::default()
                },
            )?;
        }
        Ok(())
    })
    .await?;
    Ok(Json(json!({"success": true, "message": "If an account exists for this email, a reset email was sent"})).into_response())
}

pub async fn reset_password(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"token": "<token from the email>", "newPassword": "N3wSecret"}"#;
    let project = project(&st, &pref).await?;
    let token = body.req_str("token", USAGE)?.to_string();
    let (field, password) = match body.get_any(&["newPassword", "new_password", "password"]) {
        Some((f, Value::String(p))) => (f, p.clone()),
        Some((f, other)) => return Err(crate::extract::wrong_type(f, "a string", other, USAGE)),
        None => return Err(crate::extract::required("newPassword", USAGE)),
    };
    auth::check_password_policy(&password, field)?;
    st.control(move |conn| {
        let now = now_ms();
        match users::use_link_token(conn, &token, "reset", &project.id, now)? {
            LinkToken::Valid { user_id } => {
                users::set_password(conn, &user_id, &auth::hash_password(&password)?, now)?;
                users::mark_verified(conn, &user_id, now)?;
                // A reset ends every session of the account.
                users::revoke_user_refresh(conn, &user_id, now)?;
                Ok(())
            }
            LinkToken::Expired | LinkToken::Invalid => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                code::AUTH_RESET_TOKEN_INVALID,
                "The reset token is invalid, expired or already used: request a new one with reset-password-request",
            )
            .with_detail("field", "token")
            .with_extra("success", false)),
        }
    })
    .await?;
    Ok(
        Json(json!({"success": true, "message": "Password updated: log in with the new password"}))
            .into_response(),
    )
}
