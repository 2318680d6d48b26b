//! `/v1/auth/signup` and `/v1/auth/signin` (the OpenAPI "Authentication" operations): the same
//! users as the public auth routes, with the project taken from the API key.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::{self, Session};
use crate::error::ApiError;
use crate::extract::{ClientIp, JsonBody, Project};
use crate::routes::auth_public::{
    bad_credentials, check_login_limits, exists_error, login_succeeded, send_verification,
};
use crate::state::AppState;
use crate::store::users::{self, UserRow};
use crate::util::{new_uuid, now_ms};

const SIGNUP_USAGE: &str = r#"{"email": "jane@example.com", "password": "at-least-8-chars", "name": "Jane", "metadata": {}}"#;
const SIGNIN_USAGE: &str = r#"{"email": "jane@example.com", "password": "..."}"#;

fn answer(user: &UserRow, s: &Session) -> Value {
    let mut m: Map<String, Value> = s.fields();
    m.insert("user".into(), user.legacy_json());
    Value::Object(m)
}

/// The spec's rule for this operation is `minLength: 8` only (the public register route applies
/// the full policy).
pub async fn signup(
    State(st): State<AppState>,
    Project(p): Project,
    ClientIp(ip): ClientIp,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let email = auth::normalize_email(body.req_str("email", SIGNUP_USAGE)?, "email")?;
    let password = body.req_str("password", SIGNUP_USAGE)?.to_string();
    if password.chars().count() < 8 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            crate::error::code::AUTH_PASSWORD_WEAK,
            "`password` must be at least 8 characters",
        )
        .with_detail("field", "password"));
    }
    let name = body.opt_str("name", SIGNUP_USAGE)?.map(str::to_string);
    let metadata = body
        .opt_object("metadata", SIGNUP_USAGE)?
        .cloned()
        .unwrap_or_default();
    st.limiter.check(
        format!("register:{ip}"),
        st.limits.register_per_ip,
        "registrations from this IP",
    )?;
    let state = st.clone();
    let out = st
        .control(move |conn| {
            if users::by_email(conn, &p.id, &email)?.is_some() {
                return Err(exists_error());
            }
            let now = now_ms();
            let user = UserRow {
                id: new_uuid(),
                project_id: p.id.clone(),
                email: Some(email),
                password_hash: Some(auth::hash_password(&password)?),
                name,
                profile_extras: json!({}),
                metadata: Value::Object(metadata),
                created_at: now,
                updated_at: now,
                ..Default::default()
            };
            if !users::insert(conn, &user)? {
                return Err(exists_error());
            }
            send_verification(conn, &state, &p, &user)?;
            let s = Session::issue(conn, &state.jwt, &user)?;
            Ok(answer(&user, &s))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

pub async fn signin(
    State(st): State<AppState>,
    Project(p): Project,
    ClientIp(ip): ClientIp,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let email = auth::normalize_email(body.req_str("email", SIGNIN_USAGE)?, "email")?;
    let password = body.req_str("password", SIGNIN_USAGE)?.to_string();
    check_login_limits(&st, &ip, &p.id, &email)?;
    let state = st.clone();
    let (project_id, login_email) = (p.id.clone(), email.clone());
    let out = st
        .control(move |conn| {
            let user = users::by_email(conn, &p.id, &email)?;
            let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
            if !auth::password_matches(&password, hash) {
                return Err(bad_credentials());
            }
            let user = user.ok_or_else(bad_credentials)?;
            let s = Session::issue(conn, &state.jwt, &user)?;
            Ok(answer(&user, &s))
        })
        .await?;
    login_succeeded(&st, &project_id, &login_email);
    Ok(Json(out).into_response())
}
