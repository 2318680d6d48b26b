//! End-user auth under `/api/v1/public/projects/{project}/auth/` (project = id or slug; no API key).
//! Every "sent" email lands in the local outbox (`GET /v1/local/outbox`, `aerostack-server outbox`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::{self, Claims, OTP_MAX_ATTEMPTS, OTP_TTL_MS, RESET_TTL_MS, Session, VERIFY_TTL_MS};
use crate::error::{ApiError, code};
use crate::extract::{ClientIp, JsonBody, key_candidates};
use crate::state::{AppState, send_mail};
use crate::store::control::{OutboxMessage, ProjectRec};
use crate::store::users::{self, LinkToken, UserRow};
use crate::util::{new_uuid, now_ms, sha256_hex};

const REGISTER_USAGE: &str = r#"{"email": "jane@example.com", "password": "Sup3rSecret", "name": "Jane"}"#;
const LOGIN_USAGE: &str = r#"{"email": "jane@example.com", "password": "Sup3rSecret"}"#;

fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

fn with_session(mut base: Map<String, Value>, s: &Session) -> Value {
    base.extend(s.fields());
    Value::Object(base)
}

/// Store a verification token for `user` and "email" the link.
pub(crate) fn send_verification(conn: &rusqlite::Connection, st: &AppState, project: &ProjectRec, user: &UserRow) -> Result<(), ApiError> {
    let Some(email) = &user.email else { return Ok(()) };
    let token = auth::new_link_token();
    users::put_link_token(conn, &token, "verify", &project.id, &user.id, now_ms() + VERIFY_TTL_MS)?;
    let link = format!("{}/api/v1/public/projects/{}/auth/verify-email?token={token}", st.base_url(), project.slug);
    send_mail(
        conn,
        &project.id,
        OutboxMessage {
            to: email.clone(),
            kind: "verify_email".into(),
            subject: format!("Verify your email for {}", project.name),
            body: format!("Confirm your email address by opening {link}\nThe link expires in 24 hours."),
            token: Some(token),
            ..Default::default()
        },
    )?;
    Ok(())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    key_candidates(headers)[2]
}

/// The user of the request's access token, checked against the project and revocations.
async fn current_user(st: &AppState, project: &ProjectRec, headers: &HeaderMap) -> Result<(Claims, UserRow), ApiError> {
    let token = bearer(headers).ok_or_else(|| {
        ApiError::unauthorized(code::AUTH_TOKEN_INVALID, "Missing access token: send Authorization: Bearer <accessToken> (from login or register)")
    })?;
    let claims = st.jwt.verify(token)?;
    if claims.pid != project.id {
        return Err(ApiError::unauthorized(code::AUTH_TOKEN_INVALID, "The access token belongs to another project"));
    }
    let (pid, c) = (project.id.clone(), claims.clone());
    let user = st
        .control(move |conn| {
            if users::jti_revoked(conn, &c.jti)? {
                return Err(ApiError::unauthorized(code::AUTH_TOKEN_INVALID, "The access token was revoked (logged out): log in again"));
            }
            users::by_id(conn, &pid, &c.sub)?.ok_or_else(|| ApiError::unauthorized(code::AUTH_TOKEN_INVALID, "The token's user no longer exists"))
        })
        .await?;
    Ok((claims, user))
}

async fn project(st: &AppState, r: &str) -> Result<Arc<ProjectRec>, ApiError> {
    st.project_from_path(r).await
}

pub async fn register(State(st): State<AppState>, Path(pref): Path<String>, ClientIp(ip): ClientIp, body: JsonBody) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let email = auth::normalize_email(body.req_str("email", REGISTER_USAGE)?, "email")?;
    let password = body.req_str("password", REGISTER_USAGE)?.to_string();
    auth::check_password_policy(&password, "password")?;
    let name = body.opt_str("name", REGISTER_USAGE)?.map(str::to_string);
    let extras = body.opt_object("customFields", REGISTER_USAGE)?.cloned().unwrap_or_default();
    st.limiter.check(format!("register:{ip}"), st.limits.register_per_ip, "registrations from this IP")?;
    let state = st.clone();
    let out = st
        .control(move |conn| {
            if users::by_email(conn, &project.id, &email)?.is_some() {
                return Err(exists_error());
            }
            let now = now_ms();
            let user = UserRow {
                id: new_uuid(),
                project_id: project.id.clone(),
                email: Some(email),
                password_hash: Some(auth::hash_password(&password)?),
                name,
                profile_extras: Value::Object(extras),
                metadata: json!({}),
                created_at: now,
                updated_at: now,
                ..Default::default()
            };
            if !users::insert(conn, &user)? {
                return Err(exists_error());
            }
            send_verification(conn, &state, &project, &user)?;
            let mut base = Map::new();
            base.insert("success".into(), json!(true));
            base.insert("user".into(), user.public_json());
            if state.require_email_verification {
                base.insert("requiresVerification".into(), json!(true));
                base.insert("token".into(), Value::Null);
                base.insert("accessToken".into(), Value::Null);
                base.insert("message".into(), json!("Check your email to verify the address, then log in"));
                return Ok(Value::Object(base));
            }
            base.insert("requiresVerification".into(), json!(false));
            let s = Session::issue(conn, &state.jwt, &user)?;
            Ok(with_session(base, &s))
        })
        .await?;
    Ok(created(out))
}

pub(crate) fn exists_error() -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code::AUTH_USER_EXISTS, "An account with this email already exists: log in, or reset the password")
        .with_detail("field", "email")
}

pub(crate) fn bad_credentials() -> ApiError {
    ApiError::unauthorized(code::AUTH_INVALID_CREDENTIALS, "Invalid email or password")
}

pub async fn login(State(st): State<AppState>, Path(pref): Path<String>, ClientIp(ip): ClientIp, body: JsonBody) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let email = auth::normalize_email(body.req_str("email", LOGIN_USAGE)?, "email")?;
    let password = body.req_str("password", LOGIN_USAGE)?.to_string();
    st.limiter.check(format!("login-ip:{ip}"), st.limits.login_per_ip, "login attempts from this IP")?;
    st.limiter.check(format!("login-email:{}:{email}", project.id), st.limits.login_per_email, "login attempts for this email")?;
    let state = st.clone();
    let out = st
        .control(move |conn| {
            let user = users::by_email(conn, &project.id, &email)?.ok_or_else(bad_credentials)?;
            if !user.password_hash.as_deref().is_some_and(|h| auth::verify_password(&password, h)) {
                return Err(bad_credentials());
            }
            if state.require_email_verification && user.email_verified_at.is_none() {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    code::AUTH_EMAIL_NOT_VERIFIED,
                    "Verify your email first: open the link we sent (see the outbox), or call resend-verification",
                )
                .with_extra("emailNotVerified", true)
                .with_detail("emailNotVerified", true));
            }
            let s = Session::issue(conn, &state.jwt, &user)?;
            let mut base = Map::new();
            base.insert("success".into(), json!(true));
            base.insert("user".into(), user.public_json());
            Ok(with_session(base, &s))
        })
        .await?;
    Ok(Json(out).into_response())
}

/// `{email}` or `{phone}` -> (identifier, is_email).
fn identifier(body: &JsonBody, usage: &str) -> Result<(String, bool), ApiError> {
    if let Some(e) = body.opt_str("email", usage)? {
        return Ok((auth::normalize_email(e, "email")?, true));
    }
    if let Some(p) = body.opt_str("phone", usage)? {
        return Ok((auth::normalize_phone(p)?, false));
    }
    Err(ApiError::validation("email", format!("`email` (or `phone`) is required: send {usage}")))
}

pub async fn otp_send(State(st): State<AppState>, Path(pref): Path<String>, body: JsonBody) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"email": "jane@example.com"}"#;
    let project = project(&st, &pref).await?;
    let (ident, is_email) = identifier(&body, USAGE)?;
    st.limiter.check(format!("otp-send:{}:{ident}", project.id), st.limits.otp_send, "codes sent to this address")?;
    let out = st
        .control(move |conn| {
            let exists = if is_email { users::by_email(conn, &project.id, &ident)? } else { users::by_phone(conn, &project.id, &ident)? }.is_some();
            let code = auth::new_otp();
            let now = now_ms();
            users::put_otp(conn, &project.id, &ident, &code, now + OTP_TTL_MS, now)?;
            send_mail(
                conn,
                &project.id,
                OutboxMessage {
                    to: ident.clone(),
                    kind: if is_email { "otp".into() } else { "otp_sms".into() },
                    subject: format!("Your {} sign-in code", project.name),
                    body: format!("Your sign-in code is {code}. It expires in 10 minutes."),
                    code: Some(code),
                    ..Default::default()
                },
            )?;
            Ok(json!({"success": true, "message": "Code sent", "accountExists": exists}))
        })
        .await?;
    Ok(Json(out).into_response())
}

pub async fn otp_verify(State(st): State<AppState>, Path(pref): Path<String>, body: JsonBody) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"email": "jane@example.com", "code": "123456"}"#;
    let project = project(&st, &pref).await?;
    let (ident, is_email) = identifier(&body, USAGE)?;
    let code = body.req_str("code", USAGE)?.trim().to_string();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::validation("code", "`code` must be the 6 digits from the message"));
    }
    st.limiter.check(format!("otp-verify:{}:{ident}", project.id), st.limits.otp_verify, "code attempts for this address")?;
    let state = st.clone();
    let out = st
        .control(move |conn| {
            let now = now_ms();
            let Some(otp) = users::get_otp(conn, &project.id, &ident)? else {
                return Err(ApiError::unauthorized(code::AUTH_OTP_INVALID, "No active code for this address: request one with POST .../auth/otp/send"));
            };
            if otp.expires_at <= now {
                users::delete_otp(conn, &project.id, &ident)?;
                return Err(ApiError::unauthorized(code::AUTH_OTP_EXPIRED, "The code has expired (codes last 10 minutes): request a new one"));
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
                return Err(ApiError::unauthorized(code::AUTH_OTP_INVALID, msg).with_detail("attemptsRemaining", remaining));
            }
            users::delete_otp(conn, &project.id, &ident)?;
            let existing = if is_email { users::by_email(conn, &project.id, &ident)? } else { users::by_phone(conn, &project.id, &ident)? };
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

pub async fn verify_email(State(st): State<AppState>, Path(pref): Path<String>, Query(q): Query<std::collections::HashMap<String, String>>) -> Result<Response, ApiError> {
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
                LinkToken::Expired => Err(ApiError::new(StatusCode::BAD_REQUEST, code::AUTH_TOKEN_EXPIRED, "The verification link has expired: request a new one with resend-verification")
                    .with_extra("success", false)),
                LinkToken::Invalid => Err(ApiError::new(StatusCode::BAD_REQUEST, code::AUTH_TOKEN_INVALID, "The verification link is invalid or was already used")
                    .with_extra("success", false)),
            }
        })
        .await?;
    Ok(Json(out).into_response())
}

pub async fn resend_verification(State(st): State<AppState>, Path(pref): Path<String>, body: JsonBody) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let email = auth::normalize_email(body.req_str("email", r#"{"email": "jane@example.com"}"#)?, "email")?;
    st.limiter.check(format!("resend:{}:{email}", project.id), st.limits.resend_verification, "verification emails for this address")?;
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

pub async fn reset_password_request(State(st): State<AppState>, Path(pref): Path<String>, body: JsonBody) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let email = auth::normalize_email(body.req_str("email", r#"{"email": "jane@example.com"}"#)?, "email")?;
    st.limiter.check(format!("reset:{}:{email}", project.id), st.limits.password_reset, "password reset requests for this address")?;
    st.control(move |conn| {
        if let Some(u) = users::by_email(conn, &project.id, &email)? {
            let token = auth::new_link_token();
            users::put_link_token(conn, &token, "reset", &project.id, &u.id, now_ms() + RESET_TTL_MS)?;
            send_mail(
                conn,
                &project.id,
                OutboxMessage {
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

pub async fn reset_password(State(st): State<AppState>, Path(pref): Path<String>, body: JsonBody) -> Result<Response, ApiError> {
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
    Ok(Json(json!({"success": true, "message": "Password updated: log in with the new password"})).into_response())
}

pub async fn refresh(State(st): State<AppState>, Path(pref): Path<String>, body: JsonBody) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let token = match body.get_any(&["refreshToken", "refresh_token"]) {
        Some((_, Value::String(t))) if !t.is_empty() => t.clone(),
        _ => return Err(crate::extract::required("refreshToken", r#"{"refreshToken": "rt_..."}"#)),
    };
    let state = st.clone();
    let out = st
        .control(move |conn| {
            let now = now_ms();
            let invalid = |m: &str| ApiError::unauthorized(code::AUTH_TOKEN_INVALID, m.to_string());
            let row = users::get_refresh(conn, &token)?.ok_or_else(|| invalid("Unknown refresh token: log in again"))?;
            if row.project_id != project.id {
                return Err(invalid("The refresh token belongs to another project"));
            }
            if row.revoked_at.is_some() {
                return Err(invalid("The refresh token was already used or revoked (each refresh returns a new one): log in again"));
            }
            if row.expires_at <= now {
                return Err(ApiError::unauthorized(code::AUTH_TOKEN_EXPIRED, "The refresh token has expired: log in again"));
            }
            // Rotation: the old token dies here; losing a race with a concurrent refresh is invalid.
            if !users::revoke_refresh(conn, &token, now)? {
                return Err(invalid("The refresh token was already used: log in again"));
            }
            let user = users::by_id(conn, &project.id, &row.user_id)?.ok_or_else(|| invalid("The token's user no longer exists"))?;
            let s = Session::issue(conn, &state.jwt, &user)?;
            let mut base = Map::new();
            base.insert("success".into(), json!(true));
            base.insert("user".into(), user.public_json());
            Ok(with_session(base, &s))
        })
        .await?;
    Ok(Json(out).into_response())
}

pub async fn logout(State(st): State<AppState>, Path(pref): Path<String>, headers: HeaderMap, body: JsonBody) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let access = bearer(&headers).map(str::to_string).or_else(|| body.opt_str("accessToken", "").ok().flatten().map(str::to_string));
    let refresh = body.get_any(&["refreshToken", "refresh_token"]).and_then(|(_, v)| v.as_str()).map(str::to_string);
    let claims = access.as_deref().and_then(|t| st.jwt.verify(t).ok()).filter(|c| c.pid == project.id);
    if claims.is_none() && refresh.is_none() {
        return Err(ApiError::unauthorized(
            code::AUTH_TOKEN_INVALID,
            "Nothing to log out: send Authorization: Bearer <accessToken> (a valid one) and/or {\"refreshToken\": \"rt_...\"}",
        ));
    }
    st.control(move |conn| {
        let now = now_ms();
        if let Some(rt) = &refresh {
            match users::get_refresh(conn, rt)? {
                Some(row) if row.project_id == project.id => {
                    users::revoke_refresh(conn, rt, now)?;
                }
                _ if claims.is_none() => {
                    return Err(ApiError::unauthorized(code::AUTH_TOKEN_INVALID, "Unknown refresh token"));
                }
                _ => {}
            }
        }
        if let Some(c) = &claims {
            users::revoke_jti(conn, &c.jti, c.exp)?;
            if refresh.is_none() {
                users::revoke_user_refresh(conn, &c.sub, now)?;
            }
        }
        Ok(())
    })
    .await?;
    Ok(Json(json!({"success": true, "message": "Logged out"})).into_response())
}

pub async fn me(State(st): State<AppState>, Path(pref): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let (_, user) = current_user(&st, &project, &headers).await?;
    Ok(Json(user.public_json()).into_response())
}

pub async fn update_me(State(st): State<AppState>, Path(pref): Path<String>, headers: HeaderMap, body: JsonBody) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"name": "Jane D.", "avatar_url": "https://...", "customFields": {"plan": "pro"}}"#;
    let project = project(&st, &pref).await?;
    let (_, mut user) = current_user(&st, &project, &headers).await?;
    if body.0.contains_key("name") {
        user.name = body.opt_str("name", USAGE)?.map(str::to_string);
    }
    if let Some((name, v)) = body.0.get_key_value("avatar_url").or_else(|| body.0.get_key_value("avatarUrl")) {
        user.avatar_url = match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => return Err(crate::extract::wrong_type(name, "a string or null", other, USAGE)),
        };
    }
    if let Some((name, v)) = body.0.get_key_value("avatar_image_id").or_else(|| body.0.get_key_value("avatarImageId")) {
        user.avatar_image_id = match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => return Err(crate::extract::wrong_type(name, "a string or null", other, USAGE)),
        };
    }
    if let Some(fields) = body.opt_object("customFields", USAGE)? {
        let mut extras = user.profile_extras.as_object().cloned().unwrap_or_default();
        for (k, v) in fields {
            if v.is_null() {
                extras.remove(k);
            } else {
                extras.insert(k.clone(), v.clone());
            }
        }
        user.profile_extras = Value::Object(extras);
    }
    let now = now_ms();
    user.updated_at = now;
    let u = user.clone();
    st.control(move |conn| Ok(users::save_profile(conn, &u, now)?)).await?;
    Ok(Json(json!({"success": true, "user": user.public_json()})).into_response())
}

pub async fn delete_avatar(State(st): State<AppState>, Path(pref): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let (_, mut user) = current_user(&st, &project, &headers).await?;
    user.avatar_url = None;
    user.avatar_image_id = None;
    let now = now_ms();
    st.control(move |conn| Ok(users::save_profile(conn, &user, now)?)).await?;
    Ok(Json(json!({"success": true, "message": "Avatar removed"})).into_response())
}
