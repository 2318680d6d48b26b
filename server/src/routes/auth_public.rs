//! End-user auth under `/api/v1/public/projects/{project}/auth/` (project = id or slug; no API
//! key): register, login, tokens (refresh, logout) and the profile. The flows that send email
//! (OTP, verification, reset) are in `auth_mail.rs`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::{self, Claims, Session, VERIFY_TTL_MS};
use crate::error::{ApiError, code};
use crate::extract::{ClientIp, JsonBody};
use crate::keys::key_candidates;
use crate::state::{AppState, send_mail};
use crate::store::control::ProjectRec;
use crate::store::outbox::OutboxRow;
use crate::store::users::{self, UserRow};
use crate::util::{new_uuid, now_ms};

const REGISTER_USAGE: &str =
    r#"{"email": "jane@example.com", "password": "Sup3rSecret", "name": "Jane"}"#;
const LOGIN_USAGE: &str = r#"{"email": "jane@example.com", "password": "Sup3rSecret"}"#;
const UPDATE_ME_USAGE: &str =
    r#"{"name": "Jane D.", "avatar_url": "https://...", "customFields": {"plan": "pro"}}"#;

fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

pub(crate) fn with_session(mut base: Map<String, Value>, s: &Session) -> Value {
    base.extend(s.fields());
    Value::Object(base)
}

/// Store a verification token for `user` and "email" the link.
pub(crate) fn send_verification(
    conn: &rusqlite::Connection,
    st: &AppState,
    project: &ProjectRec,
    user: &UserRow,
) -> Result<(), ApiError> {
    let Some(email) = &user.email else {
        return Ok(());
    };
    let token = auth::new_link_token();
    users::put_link_token(
        conn,
        &token,
        "verify",
        &project.id,
        &user.id,
        now_ms() + VERIFY_TTL_MS,
    )?;
    let link = format!(
        "{}/api/v1/public/projects/{}/auth/verify-email?token={token}",
        st.base_url(),
        project.slug
    );
    send_mail(
        conn,
        &project.id,
        OutboxRow {
            to: email.clone(),
            kind: "verify_email".into(),
            subject: format!("Verify your email for {}", project.name),
            body: format!(
                "Confirm your email address by opening {link}\nThe link expires in 24 hours."
            ),
            token: Some(token),
            ..Default::default()
        },
    )?;
    Ok(())
}

/// Login rate limits (wire-facts §3.3): per client IP and per email, shared by the public and
/// the legacy sign-in routes.
pub(crate) fn check_login_limits(
    st: &AppState,
    ip: &impl std::fmt::Display,
    project_id: &str,
    email: &str,
) -> Result<(), ApiError> {
    st.limiter.check(
        format!("login-ip:{ip}"),
        st.limits.login_per_ip,
        "login attempts from this IP",
    )?;
    st.limiter.check(
        login_email_bucket(project_id, email),
        st.limits.login_per_email,
        "login attempts for this email",
    )
}

fn login_email_bucket(project_id: &str, email: &str) -> String {
    format!("login-email:{project_id}:{email}")
}

/// A sign-in succeeded: its attempt does not count toward the per-email limit (only failures
/// lock an address, so nobody can lock out an account by signing in to it).
pub(crate) fn login_succeeded(st: &AppState, project_id: &str, email: &str) {
    st.limiter.uncount(&login_email_bucket(project_id, email));
}

/// A nullable string field sent under its snake_case or camelCase name: `None` when absent,
/// `Some(None)` for an explicit null.
fn nullable_str(
    body: &JsonBody,
    snake: &str,
    camel: &str,
) -> Result<Option<Option<String>>, ApiError> {
    let Some((name, v)) = body
        .0
        .get_key_value(snake)
        .or_else(|| body.0.get_key_value(camel))
    else {
        return Ok(None);
    };
    match v {
        Value::Null => Ok(Some(None)),
        Value::String(s) => Ok(Some(Some(s.clone()))),
        other => Err(crate::extract::wrong_type(
            name,
            "a string or null",
            other,
            UPDATE_ME_USAGE,
        )),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    key_candidates(headers)[2]
}

/// The user of the request's access token, checked against the project and revocations.
async fn current_user(
    st: &AppState,
    project: &ProjectRec,
    headers: &HeaderMap,
) -> Result<(Claims, UserRow), ApiError> {
    let token = bearer(headers).ok_or_else(|| {
        ApiError::unauthorized(code::AUTH_TOKEN_INVALID, "Missing access token: send Authorization: Bearer <accessToken> (from login or register)")
    })?;
    let claims = st.jwt.verify(token)?;
    if claims.pid != project.id {
        return Err(ApiError::unauthorized(
            code::AUTH_TOKEN_INVALID,
            "The access token belongs to another project",
        ));
    }
    let (pid, c) = (project.id.clone(), claims.clone());
    let user = st
        .control(move |conn| {
            if users::jti_revoked(conn, &c.jti)? {
                return Err(ApiError::unauthorized(
                    code::AUTH_TOKEN_INVALID,
                    "The access token was revoked (logged out): log in again",
                ));
            }
            let user = users::by_id(conn, &pid, &c.sub)?.ok_or_else(|| {
                ApiError::unauthorized(
                    code::AUTH_TOKEN_INVALID,
                    "The token's user no longer exists",
                )
            })?;
            if users::is_disabled(conn, &user.id)? {
                return Err(crate::auth::account_disabled());
            }
            Ok(user)
        })
        .await?;
    Ok((claims, user))
}

pub(crate) async fn project(st: &AppState, r: &str) -> Result<Arc<ProjectRec>, ApiError> {
    st.project_from_path(r).await
}

pub async fn register(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    ClientIp(ip): ClientIp,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let email = auth::normalize_email(body.req_str("email", REGISTER_USAGE)?, "email")?;
    let password = body.req_str("password", REGISTER_USAGE)?.to_string();
    auth::check_password_policy(&password, "password")?;
    let name = body.opt_str("name", REGISTER_USAGE)?.map(str::to_string);
    let extras = body
        .opt_object("customFields", REGISTER_USAGE)?
        .cloned()
        .unwrap_or_default();
    st.limiter.check(
        format!("register:{ip}"),
        st.limits.register_per_ip,
        "registrations from this IP",
    )?;
    let state = st.clone();
    let project_id = project.id.clone();
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
                base.insert(
                    "message".into(),
                    json!("Check your email to verify the address, then log in"),
                );
                return Ok(Value::Object(base));
            }
            base.insert("requiresVerification".into(), json!(false));
            let s = Session::issue(conn, &state.jwt, &user)?;
            Ok(with_session(base, &s))
        })
        .await?;
    crate::workers::fire_event(
        &st,
        &project_id,
        crate::workers::EVENT_REGISTER_AFTER,
        json!({"user": out["user"]}),
    );
    Ok(created(out))
}

pub(crate) fn exists_error() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        code::AUTH_USER_EXISTS,
        "An account with this email already exists: log in, or reset the password",
    )
    .with_detail("field", "email")
}

pub(crate) fn bad_credentials() -> ApiError {
    ApiError::unauthorized(code::AUTH_INVALID_CREDENTIALS, "Invalid email or password")
}

pub async fn login(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    ClientIp(ip): ClientIp,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let email = auth::normalize_email(body.req_str("email", LOGIN_USAGE)?, "email")?;
    let password = body.req_str("password", LOGIN_USAGE)?.to_string();
    check_login_limits(&st, &ip, &project.id, &email)?;
    let state = st.clone();
    let project_id = project.id.clone();
    let login_email = email.clone();
    let out = st
        .control(move |conn| {
            let user = users::by_email(conn, &project.id, &email)?;
            let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
            if !auth::password_matches(&password, hash) {
                return Err(bad_credentials());
            }
            let user = user.ok_or_else(bad_credentials)?;
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
    login_succeeded(&st, &project_id, &login_email);
    crate::workers::fire_event(
        &st,
        &project_id,
        crate::workers::EVENT_LOGIN_AFTER,
        json!({"user": out["user"]}),
    );
    Ok(Json(out).into_response())
}

pub async fn refresh(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let token = match body.get_any(&["refreshToken", "refresh_token"]) {
        Some((_, Value::String(t))) if !t.is_empty() => t.clone(),
        _ => {
            return Err(crate::extract::required(
                "refreshToken",
                r#"{"refreshToken": "rt_..."}"#,
            ));
        }
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
                // Reuse of a rotated-out token: someone holds a copy. End the whole family (the
                // sessions descended from that login), as OAuth's refresh-token rotation does.
                users::revoke_refresh_family(conn, &row.family, now)?;
                return Err(invalid("The refresh token was already used or revoked (each refresh returns a new one); its session was ended for safety: log in again"));
            }
            if row.expires_at <= now {
                return Err(ApiError::unauthorized(code::AUTH_TOKEN_EXPIRED, "The refresh token has expired: log in again"));
            }
            // Rotation: the old token dies here; losing a race with a concurrent refresh is invalid.
            if !users::revoke_refresh(conn, &token, now)? {
                return Err(invalid("The refresh token was already used: log in again"));
            }
            let user = users::by_id(conn, &project.id, &row.user_id)?.ok_or_else(|| invalid("The token's user no longer exists"))?;
            let s = Session::issue_in_family(conn, &state.jwt, &user, Some(&row.family))?;
            let mut base = Map::new();
            base.insert("success".into(), json!(true));
            base.insert("user".into(), user.public_json());
            Ok(with_session(base, &s))
        })
        .await?;
    Ok(Json(out).into_response())
}

pub async fn logout(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let access = bearer(&headers).map(str::to_string).or_else(|| {
        body.opt_str("accessToken", "")
            .ok()
            .flatten()
            .map(str::to_string)
    });
    let refresh = body
        .get_any(&["refreshToken", "refresh_token"])
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string);
    let claims = access
        .as_deref()
        .and_then(|t| st.jwt.verify(t).ok())
        .filter(|c| c.pid == project.id);
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
                    // The session: every token descended from its login.
                    users::revoke_refresh_family(conn, &row.family, now)?;
                }
                _ if claims.is_none() => {
                    return Err(ApiError::unauthorized(
                        code::AUTH_TOKEN_INVALID,
                        "Unknown refresh token",
                    ));
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

pub async fn me(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let (_, user) = current_user(&st, &project, &headers).await?;
    Ok(Json(user.public_json()).into_response())
}

pub async fn update_me(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let (_, mut user) = current_user(&st, &project, &headers).await?;
    if body.0.contains_key("name") {
        user.name = body.opt_str("name", UPDATE_ME_USAGE)?.map(str::to_string);
    }
    if let Some(v) = nullable_str(&body, "avatar_url", "avatarUrl")? {
        user.avatar_url = v;
    }
    if let Some(v) = nullable_str(&body, "avatar_image_id", "avatarImageId")? {
        user.avatar_image_id = v;
    }
    if let Some(fields) = body.opt_object("customFields", UPDATE_ME_USAGE)? {
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
    st.control(move |conn| Ok(users::save_profile(conn, &u, now)?))
        .await?;
    Ok(Json(json!({"success": true, "user": user.public_json()})).into_response())
}

pub async fn delete_avatar(
    State(st): State<AppState>,
    Path(pref): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let project = project(&st, &pref).await?;
    let (_, mut user) = current_user(&st, &project, &headers).await?;
    user.avatar_url = None;
    user.avatar_image_id = None;
    let now = now_ms();
    st.control(move |conn| Ok(users::save_profile(conn, &user, now)?))
        .await?;
    Ok(Json(json!({"success": true, "message": "Avatar removed"})).into_response())
}
