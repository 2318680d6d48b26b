//! Authentication: legacy `/v1/auth/signup|signin` and the public end-user API at
//! `{host}/api/v1/public/projects/{project_id}/auth/*` (register, login, OTP, verification,
//! password reset, refresh, logout, profile).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Timestamp;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::services::require;
use crate::transport::Call;

/// Auth handle, from [`Client::auth`].
#[derive(Debug, Clone, Copy)]
pub struct Auth<'a> {
    client: &'a Client,
}

/// An end user. Built from snake_case or camelCase wire fields; `raw` keeps the JSON as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// User id.
    pub id: String,
    /// Email address.
    pub email: Option<String>,
    /// Phone number (E.164).
    pub phone: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Whether the email address is verified.
    pub email_verified: bool,
    /// When the email was verified.
    pub email_verified_at: Option<Timestamp>,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Admin-configured custom profile fields (`profile_extras` / `customFields`).
    pub custom_fields: Option<Value>,
    /// Free-form metadata (legacy sign-up).
    pub metadata: Option<Value>,
    /// Creation time.
    pub created_at: Option<Timestamp>,
    /// The user object exactly as the platform sent it.
    // Kept for Rust callers; bindings get one shape (the typed fields), not the wire's twice.
    #[serde(skip_serializing, default)]
    pub raw: Value,
}

impl User {
    /// Reads a user from a bare user object or a `{user: {...}}` envelope.
    pub fn from_json(v: &Value) -> Option<User> {
        let obj = match v.get("user") {
            Some(u @ Value::Object(_)) => u,
            _ => v,
        };
        let m = obj.as_object()?;
        let id = text(m, &["id", "user_id", "userId"])?;
        let email_verified_at = time(m, &["email_verified_at", "emailVerifiedAt"]);
        let email_verified = m
            .get("email_verified")
            .or_else(|| m.get("emailVerified"))
            .and_then(Value::as_bool)
            .unwrap_or(email_verified_at.is_some());
        Some(User {
            id,
            email: text(m, &["email"]),
            phone: text(m, &["phone"]),
            name: text(m, &["name"]),
            email_verified,
            email_verified_at,
            avatar_url: text(m, &["avatar_url", "avatarUrl"]),
            custom_fields: first(
                m,
                &[
                    "profile_extras",
                    "customFields",
                    "custom_fields",
                    "profileExtras",
                ],
            ),
            metadata: first(m, &["metadata"]),
            created_at: time(m, &["created_at", "createdAt"]),
            raw: obj.clone(),
        })
    }
}

/// Tokens and user after register, login, OTP verification or refresh.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthSession {
    /// Access token (JWT), from `accessToken` or `token`. `None` when verification is required.
    pub access_token: Option<String>,
    /// Refresh token.
    pub refresh_token: Option<String>,
    /// Access token expiry (read from an ISO time or a unix number).
    pub expires_at: Option<Timestamp>,
    /// The user, when the answer carried one.
    pub user: Option<User>,
    /// True when the email must be verified before tokens are issued.
    pub requires_verification: bool,
    /// The answer exactly as sent.
    // Kept for Rust callers; bindings get one shape (the typed fields), not the wire's twice.
    #[serde(skip_serializing, default)]
    pub raw: Value,
}

impl AuthSession {
    /// Reads a session from any generation's answer shape.
    pub fn from_json(v: Value) -> AuthSession {
        let empty = Map::new();
        let m = v.as_object().unwrap_or(&empty);
        AuthSession {
            access_token: text(m, &["accessToken", "access_token", "token"]),
            refresh_token: text(m, &["refreshToken", "refresh_token"]),
            expires_at: time(m, &["expiresAt", "expires_at"]),
            user: m.get("user").and_then(User::from_json),
            requires_verification: m
                .get("requiresVerification")
                .or_else(|| m.get("requires_verification"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            raw: v,
        }
    }
}

/// Answer of [`Auth::send_otp`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OtpSent {
    /// Message from the platform.
    pub message: Option<String>,
    /// Whether an account exists for the identifier.
    pub account_exists: Option<bool>,
    /// The answer exactly as sent.
    // Kept for Rust callers; bindings get one shape (the typed fields), not the wire's twice.
    #[serde(skip_serializing, default)]
    pub raw: Value,
}

/// `{success, message}` answers (verification, reset, logout, avatar).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionResult {
    /// Whether the action succeeded.
    pub success: bool,
    /// Message from the platform.
    pub message: Option<String>,
    /// The answer exactly as sent.
    // Kept for Rust callers; bindings get one shape (the typed fields), not the wire's twice.
    #[serde(skip_serializing, default)]
    pub raw: Value,
}

impl ActionResult {
    fn from_json(v: Value) -> ActionResult {
        let empty = Map::new();
        let m = v.as_object().unwrap_or(&empty);
        ActionResult {
            // A 2xx without `success` (e.g. `{message}`) is a success.
            success: m.get("success").and_then(Value::as_bool).unwrap_or(true),
            message: text(m, &["message"]),
            raw: v,
        }
    }
}

fn text(m: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match m.get(*n) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The first of `names` that holds a time (ISO text or a unix number).
fn time(m: &Map<String, Value>, names: &[&str]) -> Option<Timestamp> {
    names
        .iter()
        .find_map(|n| m.get(*n).and_then(Timestamp::from_json))
}

fn first(m: &Map<String, Value>, names: &[&str]) -> Option<Value> {
    names
        .iter()
        .find_map(|n| m.get(*n).filter(|v| !v.is_null()).cloned())
}

fn check_email(email: &str) -> Result<()> {
    let e = email.trim();
    if e.is_empty() || !e.contains('@') || e.starts_with('@') || e.ends_with('@') {
        return Err(Error::validation(
            "email",
            format!("email must be an address like jane@example.com (got {email:?})"),
        ));
    }
    Ok(())
}

fn check_password(field: &str, password: &str) -> Result<()> {
    if password.is_empty() {
        return Err(Error::validation(
            field,
            format!("{field} must not be empty"),
        ));
    }
    Ok(())
}

fn check_code(code: &str) -> Result<()> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::validation(
            "code",
            "code must be the 6 digits sent to the user, e.g. 482916",
        ));
    }
    Ok(())
}

/// `{email}` or `{phone}`, exactly one.
fn identifier(email: Option<&str>, phone: Option<&str>) -> Result<Value> {
    match (email, phone) {
        (Some(e), None) => {
            check_email(e)?;
            Ok(json!({ "email": e.trim() }))
        }
        (None, Some(p)) => {
            let digits = p.strip_prefix('+').unwrap_or(p);
            if !p.starts_with('+')
                || digits.len() < 6
                || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(Error::validation(
                    "phone",
                    format!("phone must be in E.164 form like +14155550123 (got {p:?})"),
                ));
            }
            Ok(json!({ "phone": p }))
        }
        (Some(_), Some(_)) => Err(Error::validation(
            "email",
            "pass either email or phone, not both",
        )),
        (None, None) => Err(Error::validation(
            "email",
            "pass an email or a phone number",
        )),
    }
}

impl<'a> Auth<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Auth { client }
    }

    fn public_url(&self, op: &str) -> Result<String> {
        let project = self.client.inner.project_id.as_deref().ok_or_else(|| {
            Error::invalid_config(
                "project_id is required for end-user auth: set ClientConfig.project_id or AEROSTACK_PROJECT_ID",
            )
        })?;
        Ok(self
            .client
            .host_url(&format!("/api/v1/public/projects/{project}/auth/{op}")))
    }

    async fn public(
        &self,
        method: Method,
        op: &str,
        body: Option<&Value>,
        bearer: Option<&str>,
        idempotent: bool,
    ) -> Result<Value> {
        let mut call = Call::new(method, self.public_url(op)?, idempotent).user_auth();
        if let Some(b) = body {
            call = call.json(b)?;
        }
        if let Some(token) = bearer {
            call = call.bearer(token);
        }
        self.client.fetch_json(call).await
    }

    // ---- legacy /v1/auth ----

    /// Legacy sign-up (`POST /v1/auth/signup`).
    pub async fn signup(
        &self,
        email: &str,
        password: &str,
        name: Option<&str>,
        metadata: Option<&Value>,
    ) -> Result<AuthSession> {
        check_email(email)?;
        check_password("password", password)?;
        let body = json!({ "email": email.trim(), "password": password, "name": name, "metadata": metadata });
        let call = Call::new(Method::POST, self.client.api_url("/auth/signup"), false)
            .user_auth()
            .json(&body)?;
        Ok(AuthSession::from_json(self.client.fetch_json(call).await?))
    }

    /// Legacy sign-in (`POST /v1/auth/signin`).
    pub async fn signin(&self, email: &str, password: &str) -> Result<AuthSession> {
        check_email(email)?;
        check_password("password", password)?;
        let body = json!({ "email": email.trim(), "password": password });
        let call = Call::new(Method::POST, self.client.api_url("/auth/signin"), false)
            .user_auth()
            .json(&body)?;
        Ok(AuthSession::from_json(self.client.fetch_json(call).await?))
    }

    // ---- public end-user auth ----

    /// Registers an end user. `custom_fields` must be admin-configured profile fields.
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        name: Option<&str>,
        custom_fields: Option<&Value>,
    ) -> Result<AuthSession> {
        check_email(email)?;
        check_password("password", password)?;
        let mut body = json!({ "email": email.trim(), "password": password });
        if let Some(n) = name {
            body["name"] = json!(n);
        }
        if let Some(c) = custom_fields {
            body["customFields"] = c.clone();
        }
        Ok(AuthSession::from_json(
            self.public(Method::POST, "register", Some(&body), None, false)
                .await?,
        ))
    }

    /// Logs in with email and password.
    pub async fn login(&self, email: &str, password: &str) -> Result<AuthSession> {
        check_email(email)?;
        check_password("password", password)?;
        let body = json!({ "email": email.trim(), "password": password });
        Ok(AuthSession::from_json(
            self.public(Method::POST, "login", Some(&body), None, false)
                .await?,
        ))
    }

    /// Sends a one-time code to an email address or (E.164) phone number; pass exactly one.
    pub async fn send_otp(&self, email: Option<&str>, phone: Option<&str>) -> Result<OtpSent> {
        let body = identifier(email, phone)?;
        let v = self
            .public(Method::POST, "otp/send", Some(&body), None, false)
            .await?;
        Ok(OtpSent {
            message: v.get("message").and_then(Value::as_str).map(str::to_owned),
            account_exists: v
                .get("accountExists")
                .or_else(|| v.get("account_exists"))
                .and_then(Value::as_bool),
            raw: v,
        })
    }

    /// Verifies a 6-digit code sent to `email` or `phone`; signs the user in.
    pub async fn verify_otp(
        &self,
        code: &str,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<AuthSession> {
        check_code(code)?;
        let mut body = identifier(email, phone)?;
        body["code"] = json!(code);
        Ok(AuthSession::from_json(
            self.public(Method::POST, "otp/verify", Some(&body), None, false)
                .await?,
        ))
    }

    /// Confirms an email address with the token from the verification email.
    pub async fn verify_email(&self, token: &str) -> Result<ActionResult> {
        require("token", token)?;
        let op = format!(
            "verify-email?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("token", token)
                .finish()
        );
        Ok(ActionResult::from_json(
            self.public(Method::GET, &op, None, None, true).await?,
        ))
    }

    /// Sends the verification email again.
    pub async fn resend_verification(&self, email: &str) -> Result<ActionResult> {
        check_email(email)?;
        let body = json!({ "email": email.trim() });
        Ok(ActionResult::from_json(
            self.public(
                Method::POST,
                "resend-verification",
                Some(&body),
                None,
                false,
            )
            .await?,
        ))
    }

    /// Sends a password-reset email.
    pub async fn request_password_reset(&self, email: &str) -> Result<ActionResult> {
        check_email(email)?;
        let body = json!({ "email": email.trim() });
        Ok(ActionResult::from_json(
            self.public(
                Method::POST,
                "reset-password-request",
                Some(&body),
                None,
                false,
            )
            .await?,
        ))
    }

    /// Sets a new password with the token from the reset email.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<ActionResult> {
        require("token", token)?;
        check_password("new_password", new_password)?;
        let body = json!({ "token": token, "newPassword": new_password });
        Ok(ActionResult::from_json(
            self.public(Method::POST, "reset-password", Some(&body), None, false)
                .await?,
        ))
    }

    /// Exchanges a refresh token for new tokens (the old refresh token is rotated out).
    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthSession> {
        require("refresh_token", refresh_token)?;
        let body = json!({ "refreshToken": refresh_token });
        Ok(AuthSession::from_json(
            self.public(Method::POST, "refresh", Some(&body), None, false)
                .await?,
        ))
    }

    /// Logs out: revokes the access token and, when given, the refresh token.
    pub async fn logout(
        &self,
        access_token: &str,
        refresh_token: Option<&str>,
    ) -> Result<ActionResult> {
        require("access_token", access_token)?;
        let mut body = json!({ "accessToken": access_token });
        if let Some(r) = refresh_token {
            body["refreshToken"] = json!(r);
        }
        Ok(ActionResult::from_json(
            self.public(
                Method::POST,
                "logout",
                Some(&body),
                Some(access_token),
                false,
            )
            .await?,
        ))
    }

    /// The user an access token belongs to.
    pub async fn me(&self, access_token: &str) -> Result<User> {
        require("access_token", access_token)?;
        let v = self
            .public(Method::GET, "me", None, Some(access_token), true)
            .await?;
        user_or_decode_error(&v, "GET me")
    }

    /// Updates the profile (`name`, `avatar_url`, `avatar_image_id`, `customFields`).
    pub async fn update_me(&self, access_token: &str, fields: &Value) -> Result<User> {
        require("access_token", access_token)?;
        if !fields.is_object() {
            return Err(Error::validation(
                "fields",
                "fields must be a JSON object, e.g. {\"name\": \"Jane\"}",
            ));
        }
        let v = self
            .public(Method::PATCH, "me", Some(fields), Some(access_token), true)
            .await?;
        user_or_decode_error(&v, "PATCH me")
    }

    /// Removes the avatar.
    pub async fn delete_avatar(&self, access_token: &str) -> Result<ActionResult> {
        require("access_token", access_token)?;
        Ok(ActionResult::from_json(
            self.public(Method::DELETE, "me/avatar", None, Some(access_token), true)
                .await?,
        ))
    }

    /// Server-side token check: the user, or `None` when the platform answers 401 (expired,
    /// revoked or forged token). Other failures are errors.
    pub async fn verify_token(&self, token: &str) -> Result<Option<User>> {
        let token = token.trim().strip_prefix("Bearer ").unwrap_or(token.trim());
        if token.is_empty() {
            return Ok(None);
        }
        match self.me(token).await {
            Ok(user) => Ok(Some(user)),
            Err(e) if e.status() == Some(401) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn user_or_decode_error(v: &Value, what: &str) -> Result<User> {
    User::from_json(v).ok_or_else(|| {
        Error::new(
            crate::ErrorCode::DecodeError,
            format!("{what}: the answer carries no user with an id"),
        )
        .with_body(v.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_from_every_generation() {
        let s = AuthSession::from_json(json!({
            "token": "t1", "accessToken": "t1", "refreshToken": "r1", "expiresAt": 1700000000,
            "user": {"id": "u1", "email": "a@b.c", "email_verified_at": "2026-01-01T00:00:00Z", "profile_extras": {"plan": "pro"}}
        }));
        assert_eq!(s.access_token.as_deref(), Some("t1"));
        assert_eq!(s.refresh_token.as_deref(), Some("r1"));
        // unix seconds on this generation; every time is written back as RFC 3339 UTC
        assert_eq!(
            s.expires_at.map(|t| t.to_string()).as_deref(),
            Some("2023-11-14T22:13:20.000Z")
        );
        let u = s.user.unwrap();
        assert!(u.email_verified);
        assert_eq!(u.custom_fields, Some(json!({"plan": "pro"})));

        let s = AuthSession::from_json(
            json!({"token": "legacy", "user": {"id": "u2", "createdAt": "2026-01-01 10:00:00", "emailVerified": false}}),
        );
        assert_eq!(s.access_token.as_deref(), Some("legacy"));
        assert_eq!(
            s.user
                .as_ref()
                .unwrap()
                .created_at
                .map(|t| t.to_string())
                .as_deref(),
            Some("2026-01-01T10:00:00.000Z")
        );

        let s = AuthSession::from_json(
            json!({"user": {"id": "u3"}, "requiresVerification": true, "token": null}),
        );
        assert_eq!(s.access_token, None);
        assert!(s.requires_verification);
    }

    #[test]
    fn user_from_envelope_or_bare() {
        assert_eq!(
            User::from_json(&json!({"user": {"id": "u"}})).unwrap().id,
            "u"
        );
        assert_eq!(
            User::from_json(&json!({"id": "v", "avatarUrl": "http://x"}))
                .unwrap()
                .avatar_url
                .as_deref(),
            Some("http://x")
        );
        assert!(User::from_json(&json!({"message": "no"})).is_none());
    }

    #[test]
    fn client_side_validation() {
        assert_eq!(
            check_email("nope").unwrap_err().details(),
            Some(&json!({"field": "email"}))
        );
        check_email("jane@example.com").unwrap();
        assert!(check_code("12345").is_err());
        assert!(check_code("12a456").is_err());
        check_code("482916").unwrap();
        assert!(identifier(None, None).is_err());
        assert!(identifier(Some("a@b.c"), Some("+1415555")).is_err());
        assert_eq!(
            identifier(None, Some("+14155550123")).unwrap(),
            json!({"phone": "+14155550123"})
        );
        assert_eq!(
            identifier(None, Some("4155550123")).unwrap_err().details(),
            Some(&json!({"field": "phone"}))
        );
    }
}
