//! Stable error codes and the code chosen for a response whose body named none.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::RouteFamily;

/// Stable error codes: the platform's codes passed through, plus the engine's client-side codes.
///
/// [`ErrorCode::as_str`] gives the wire spelling (`AUTH_INVALID_KEY`, ...). Codes the engine does not
/// know are kept verbatim in [`ErrorCode::Other`], so a newer platform never breaks an older SDK.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Missing or unknown project API key.
    AuthInvalidKey,
    /// Wrong email/password, or a rejected end-user credential.
    AuthInvalidCredentials,
    /// Registration with an email that already has an account.
    AuthUserExists,
    /// Login before the email address was verified.
    AuthEmailNotVerified,
    /// The end-user access token has expired.
    AuthTokenExpired,
    /// The end-user token is malformed, revoked or for another project.
    AuthTokenInvalid,
    /// The one-time code has expired.
    AuthOtpExpired,
    /// The one-time code is wrong or used up.
    AuthOtpInvalid,
    /// The password does not meet the policy.
    AuthPasswordWeak,
    /// The password-reset token is wrong or expired.
    AuthResetTokenInvalid,
    /// The SQL statement failed.
    DbQueryFailed,
    /// Too many requests; see [`Error::retry_after`].
    RateLimitExceeded,
    /// The request was rejected by validation; `details.field` names the field.
    ValidationError,
    /// The object, key, job or route does not exist.
    NotFound,
    /// The body is larger than the platform accepts.
    PayloadTooLarge,
    /// An `Idempotency-Key` was reused for a different request.
    IdempotencyConflict,
    /// No AI upstream is configured on the platform.
    AiNotConfigured,
    /// The AI upstream failed.
    AiRequestFailed,
    /// No Logic Module worker is connected for the custom API or service.
    WorkerNotConnected,
    /// A Logic Module threw an error.
    HookFailed,
    /// A Logic Module did not answer within its timeout (HTTP 504).
    HookTimeout,
    /// The key may not perform this operation.
    Forbidden,
    /// The platform failed.
    InternalError,
    /// The connection failed or broke (client-side).
    NetworkError,
    /// The request did not finish within its timeout (client-side).
    Timeout,
    /// The call was cancelled by the caller (client-side; set by bindings).
    Cancelled,
    /// The client configuration is invalid (client-side).
    InvalidConfig,
    /// The response could not be decoded into the expected shape (client-side).
    DecodeError,
    /// Any other code, kept verbatim.
    Other(String),
}

impl ErrorCode {
    /// The wire spelling of the code, e.g. `"AUTH_INVALID_KEY"`.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::AuthInvalidKey => "AUTH_INVALID_KEY",
            ErrorCode::AuthInvalidCredentials => "AUTH_INVALID_CREDENTIALS",
            ErrorCode::AuthUserExists => "AUTH_USER_EXISTS",
            ErrorCode::AuthEmailNotVerified => "AUTH_EMAIL_NOT_VERIFIED",
            ErrorCode::AuthTokenExpired => "AUTH_TOKEN_EXPIRED",
            ErrorCode::AuthTokenInvalid => "AUTH_TOKEN_INVALID",
            ErrorCode::AuthOtpExpired => "AUTH_OTP_EXPIRED",
            ErrorCode::AuthOtpInvalid => "AUTH_OTP_INVALID",
            ErrorCode::AuthPasswordWeak => "AUTH_PASSWORD_WEAK",
            ErrorCode::AuthResetTokenInvalid => "AUTH_RESET_TOKEN_INVALID",
            ErrorCode::DbQueryFailed => "DB_QUERY_FAILED",
            ErrorCode::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::IdempotencyConflict => "IDEMPOTENCY_CONFLICT",
            ErrorCode::AiNotConfigured => "AI_NOT_CONFIGURED",
            ErrorCode::AiRequestFailed => "AI_REQUEST_FAILED",
            ErrorCode::WorkerNotConnected => "WORKER_NOT_CONNECTED",
            ErrorCode::HookFailed => "HOOK_FAILED",
            ErrorCode::HookTimeout => "HOOK_TIMEOUT",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::NetworkError => "NETWORK_ERROR",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Cancelled => "CANCELLED",
            ErrorCode::InvalidConfig => "INVALID_CONFIG",
            ErrorCode::DecodeError => "DECODE_ERROR",
            ErrorCode::Other(code) => code,
        }
    }

    /// Parses a wire code; unknown codes become [`ErrorCode::Other`].
    pub fn parse(code: &str) -> ErrorCode {
        match code {
            "AUTH_INVALID_KEY" => ErrorCode::AuthInvalidKey,
            "AUTH_INVALID_CREDENTIALS" => ErrorCode::AuthInvalidCredentials,
            "AUTH_USER_EXISTS" => ErrorCode::AuthUserExists,
            "AUTH_EMAIL_NOT_VERIFIED" => ErrorCode::AuthEmailNotVerified,
            "AUTH_TOKEN_EXPIRED" => ErrorCode::AuthTokenExpired,
            "AUTH_TOKEN_INVALID" => ErrorCode::AuthTokenInvalid,
            "AUTH_OTP_EXPIRED" => ErrorCode::AuthOtpExpired,
            "AUTH_OTP_INVALID" => ErrorCode::AuthOtpInvalid,
            "AUTH_PASSWORD_WEAK" => ErrorCode::AuthPasswordWeak,
            "AUTH_RESET_TOKEN_INVALID" => ErrorCode::AuthResetTokenInvalid,
            "DB_QUERY_FAILED" => ErrorCode::DbQueryFailed,
            "RATE_LIMIT_EXCEEDED" => ErrorCode::RateLimitExceeded,
            "VALIDATION_ERROR" => ErrorCode::ValidationError,
            "NOT_FOUND" => ErrorCode::NotFound,
            "PAYLOAD_TOO_LARGE" => ErrorCode::PayloadTooLarge,
            "IDEMPOTENCY_CONFLICT" => ErrorCode::IdempotencyConflict,
            "AI_NOT_CONFIGURED" => ErrorCode::AiNotConfigured,
            "AI_REQUEST_FAILED" => ErrorCode::AiRequestFailed,
            "WORKER_NOT_CONNECTED" => ErrorCode::WorkerNotConnected,
            "HOOK_FAILED" => ErrorCode::HookFailed,
            "HOOK_TIMEOUT" => ErrorCode::HookTimeout,
            "FORBIDDEN" => ErrorCode::Forbidden,
            "INTERNAL_ERROR" => ErrorCode::InternalError,
            "NETWORK_ERROR" => ErrorCode::NetworkError,
            "TIMEOUT" => ErrorCode::Timeout,
            "CANCELLED" => ErrorCode::Cancelled,
            "INVALID_CONFIG" => ErrorCode::InvalidConfig,
            "DECODE_ERROR" => ErrorCode::DecodeError,
            other => ErrorCode::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        Ok(ErrorCode::parse(&s))
    }
}

/// Code for a response whose body named none.
pub(crate) fn code_for_status(status: u16, family: RouteFamily) -> ErrorCode {
    match (status, family) {
        (400 | 422, _) => ErrorCode::ValidationError,
        (401, RouteFamily::ApiKey) => ErrorCode::AuthInvalidKey,
        (401, RouteFamily::UserAuth) => ErrorCode::AuthInvalidCredentials,
        (403, _) => ErrorCode::Forbidden,
        (404, _) => ErrorCode::NotFound,
        (408, _) => ErrorCode::Timeout,
        (409, RouteFamily::UserAuth) => ErrorCode::AuthUserExists,
        (413, _) => ErrorCode::PayloadTooLarge,
        (429, _) => ErrorCode::RateLimitExceeded,
        (500..=599, _) => ErrorCode::InternalError,
        (other, _) => ErrorCode::Other(format!("HTTP_{other}")),
    }
}
