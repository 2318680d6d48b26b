//! End-user credentials: argon2 password hashes, the password policy, HS256 access tokens, opaque
//! refresh tokens and one-time codes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::http::StatusCode;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};

use serde_json::{Map, Value, json};

use crate::error::{ApiError, code};
use crate::store::users::{self, UserRow};
use crate::util::{new_uuid, random_hex};

/// Access tokens live 15 minutes (the hosted platform's default).
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Refresh tokens live 30 days; each use rotates them.
pub const REFRESH_TTL_MS: i64 = 30 * 24 * 3600 * 1000;
/// OTP codes: 10 minutes, 3 attempts.
pub const OTP_TTL_MS: i64 = 10 * 60 * 1000;
pub const OTP_MAX_ATTEMPTS: i64 = 3;
pub const VERIFY_TTL_MS: i64 = 24 * 3600 * 1000;
pub const RESET_TTL_MS: i64 = 3600 * 1000;

/// Claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Project id: a token only works on the project that issued it.
    pub pid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct Jwt {
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
}

/// Claims of a signed object URL's token: one object of one project, until `exp`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ObjectClaims {
    pub pid: String,
    /// The object's key.
    pub obj: String,
    pub exp: i64,
}

impl Jwt {
    /// A token for `?token=` on `/files/{project}/{key}`, valid `ttl_secs`. An access token is
    /// never one (it has no `obj`), nor is this an access token (it has no `sub`).
    pub fn sign_object(&self, project_id: &str, key: &str, ttl_secs: i64) -> Result<(String, i64), ApiError> {
        let exp = crate::util::now_ms() / 1000 + ttl_secs;
        let claims = ObjectClaims { pid: project_id.to_string(), obj: key.to_string(), exp };
        let token = jsonwebtoken::encode(&Header::default(), &claims, &self.enc)
            .map_err(|e| ApiError::internal(format!("could not sign the object URL: {e}")))?;
        Ok((token, exp))
    }

    /// Whether `token` grants `key` of `project_id` now.
    pub fn grants_object(&self, token: &str, project_id: &str, key: &str) -> bool {
        let mut v = Validation::new(jsonwebtoken::Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp"]);
        jsonwebtoken::decode::<ObjectClaims>(token, &self.dec, &v)
            .is_ok_and(|d| d.claims.pid == project_id && d.claims.obj == key)
    }

    pub fn new(secret: &str) -> Self {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Jwt {
            enc: EncodingKey::from_secret(secret.as_bytes()),
            dec: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    pub fn issue(
        &self,
        user_id: &str,
        project_id: &str,
        email: Option<&str>,
    ) -> Result<(String, Claims), ApiError> {
        let iat = crate::util::now_ms() / 1000;
        let claims = Claims {
            sub: user_id.to_string(),
            pid: project_id.to_string(),
            email: email.map(str::to_string),
            jti: new_uuid(),
            iat,
            exp: iat + ACCESS_TTL_SECS,
        };
        let token = jsonwebtoken::encode(&Header::default(), &claims, &self.enc)
            .map_err(|e| ApiError::internal(format!("could not sign the access token: {e}")))?;
        Ok((token, claims))
    }

    /// Signature and expiry only; revocation is checked against the database by the caller.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        use jsonwebtoken::errors::ErrorKind;
        jsonwebtoken::decode::<Claims>(token, &self.dec, &self.validation).map(|d| d.claims).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => ApiError::unauthorized(
                code::AUTH_TOKEN_EXPIRED,
                "The access token has expired: get a new one from POST .../auth/refresh with your refreshToken, or log in again",
            ),
            _ => ApiError::unauthorized(code::AUTH_TOKEN_INVALID, "The access token is not valid: log in again to get a new one"),
        })
    }
}

/// Argon2id with a lighter memory cost than the library default: this is a local development
/// platform and the hashes never leave the laptop; sign-ups in test suites stay fast.
fn argon2() -> Argon2<'static> {
    let params = Params::new(8 * 1024, 2, 1, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| ApiError::internal(format!("salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("could not hash the password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash with the real parameters, checked when the email is unknown (or has no password), so
/// a sign-in costs the same whether or not the account exists.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-password-of-anyone").unwrap_or_default())
}

/// Whether `password` matches `hash`; with no hash it runs a full verification anyway (and
/// answers false), so the time taken does not tell whether the account exists.
pub fn password_matches(password: &str, hash: Option<&str>) -> bool {
    match hash {
        Some(h) => verify_password(password, h),
        None => {
            let _ = verify_password(password, dummy_hash());
            false
        }
    }
}

/// At least 8 characters with an uppercase letter, a lowercase letter and a digit.
pub fn check_password_policy(password: &str, field: &str) -> Result<(), ApiError> {
    let mut missing = Vec::new();
    if password.chars().count() < 8 {
        missing.push("at least 8 characters");
    }
    if !password.chars().any(char::is_uppercase) {
        missing.push("an uppercase letter");
    }
    if !password.chars().any(char::is_lowercase) {
        missing.push("a lowercase letter");
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        missing.push("a digit");
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        code::AUTH_PASSWORD_WEAK,
        format!(
            "`{field}` is too weak: it needs {}. Example: \"Sup3rSecret\"",
            missing.join(", ")
        ),
    )
    .with_detail("field", field)
    .with_detail(
        "requirements",
        serde_json::json!([
            "at least 8 characters",
            "an uppercase letter",
            "a lowercase letter",
            "a digit"
        ]),
    ))
}

/// An opaque refresh token; only its SHA-256 is stored.
pub fn new_refresh_token() -> String {
    format!("rt_{}", random_hex(32))
}

/// A single-use token for email verification or password reset links.
pub fn new_link_token() -> String {
    random_hex(24)
}

pub fn new_otp() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// Lowercased, trimmed email, or a 400 naming `field` when it is not an address.
pub fn normalize_email(email: &str, field: &str) -> Result<String, ApiError> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        })
        && !e.contains(char::is_whitespace);
    if valid {
        Ok(e)
    } else {
        Err(ApiError::validation(
            field,
            format!("`{field}` must be an email address like \"jane@example.com\""),
        ))
    }
}

/// E.164 phone number (`+` then 8-15 digits).
pub fn normalize_phone(phone: &str) -> Result<String, ApiError> {
    let p: String = phone
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = p.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(p)
    } else {
        Err(ApiError::validation(
            "phone",
            "`phone` must be in E.164 format, e.g. \"+14155550123\"",
        ))
    }
}

/// A freshly issued access + refresh token pair.
pub struct Session {
    pub access: String,
    pub claims: Claims,
    pub refresh: String,
}

impl Session {
    /// Issue tokens for `user` and store the refresh token's hash (blocking).
    pub fn issue(
        conn: &rusqlite::Connection,
        jwt: &Jwt,
        user: &UserRow,
    ) -> Result<Session, ApiError> {
        Session::issue_in_family(conn, jwt, user, None)
    }

    /// [`Session::issue`] for a refresh: the new refresh token joins `family`.
    pub fn issue_in_family(
        conn: &rusqlite::Connection,
        jwt: &Jwt,
        user: &UserRow,
        family: Option<&str>,
    ) -> Result<Session, ApiError> {
        // Every login path (password, code, refresh, legacy sign-in) issues its tokens here.
        if users::is_disabled(conn, &user.id)? {
            return Err(account_disabled());
        }
        let (access, claims) = jwt.issue(&user.id, &user.project_id, user.email.as_deref())?;
        let refresh = new_refresh_token();
        let now = crate::util::now_ms();
        users::insert_refresh(
            conn,
            &refresh,
            &user.project_id,
            &user.id,
            now,
            now + REFRESH_TTL_MS,
            family,
        )?;
        Ok(Session {
            access,
            claims,
            refresh,
        })
    }

    /// The token fields every auth answer carries (`token` and `accessToken` for both SDK generations).
    pub fn fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("token".into(), json!(self.access));
        m.insert("accessToken".into(), json!(self.access));
        m.insert("refreshToken".into(), json!(self.refresh));
        m.insert(
            "expiresAt".into(),
            json!(crate::util::iso_ms(self.claims.exp * 1000)),
        );
        m.insert("expiresIn".into(), json!(ACCESS_TTL_SECS));
        m.insert("tokenType".into(), json!("Bearer"));
        m
    }
}

/// An end user's verified token still in force: refused when it was revoked (logged out) or its
/// user was disabled. Signature and expiry are `Jwt::verify`'s.
pub async fn still_valid(st: &crate::state::AppState, claims: &Claims) -> Result<(), ApiError> {
    let (jti, sub) = (claims.jti.clone(), claims.sub.clone());
    let (revoked, disabled) = st
        .control(move |c| Ok((users::jti_revoked(c, &jti)?, users::is_disabled(c, &sub)?)))
        .await?;
    if revoked {
        return Err(ApiError::unauthorized(code::AUTH_TOKEN_INVALID, "the access token was revoked (logged out): log in again"));
    }
    if disabled {
        return Err(account_disabled());
    }
    Ok(())
}

/// 403 for a user the operator disabled (the dashboard's Auth page).
pub fn account_disabled() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        crate::error::code::FORBIDDEN,
        "This account is disabled: the project's operator turned it off (the local dashboard's Auth page enables it again)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_accounts_cost_a_real_verification() {
        // The dummy hash has the real parameters, so checking it costs what a real check costs.
        let real = PasswordHash::new(&hash_password("Sup3rSecret").unwrap().clone())
            .map(|h| (h.algorithm.to_string(), h.params.to_string()))
            .unwrap();
        let dummy = PasswordHash::new(dummy_hash())
            .map(|h| (h.algorithm.to_string(), h.params.to_string()))
            .unwrap();
        assert_eq!(real, dummy);
        assert!(!password_matches("not-a-password-of-anyone", None));
        let h = hash_password("Sup3rSecret").unwrap();
        assert!(password_matches("Sup3rSecret", Some(&h)));
    }

    #[test]
    fn passwords_and_policy() {
        let h = hash_password("Sup3rSecret").unwrap();
        assert!(verify_password("Sup3rSecret", &h));
        assert!(!verify_password("sup3rSecret", &h));
        assert!(check_password_policy("Sup3rSecret", "password").is_ok());
        let e = check_password_policy("short", "password").unwrap_err();
        assert_eq!(e.code, code::AUTH_PASSWORD_WEAK);
    }

    #[test]
    fn jwt_roundtrip() {
        let j = Jwt::new("secret");
        let (t, c) = j.issue("u1", "p1", Some("a@b.c")).unwrap();
        let back = j.verify(&t).unwrap();
        assert_eq!(back.sub, "u1");
        assert_eq!(back.jti, c.jti);
        assert_eq!(
            Jwt::new("other").verify(&t).unwrap_err().code,
            code::AUTH_TOKEN_INVALID
        );
        assert_eq!(new_otp().len(), 6);
        assert!(normalize_email("Jane@Example.com ", "email").is_ok());
        assert!(normalize_email("nope", "email").is_err());
        assert!(normalize_phone("+1 415 555 0123").is_ok());
    }
}
