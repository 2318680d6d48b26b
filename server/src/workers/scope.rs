//! Scope tokens: short-lived keys (`ast_scope_<hex>`) that let a handler's scoped sdk act on the
//! invocation's project, and only that project, until the invocation's deadline plus a grace
//! period. They live in memory only: a restart invalidates them, as it ends every invocation.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::error::{ApiError, code};
use crate::state::AppState;
use crate::store::control::ProjectRec;

pub const PREFIX: &str = "ast_scope_";

#[derive(Default)]
pub struct ScopeTokens {
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl ScopeTokens {
    /// A new token for `project_id`, valid for `ttl`.
    pub fn issue(&self, project_id: &str, ttl: Duration) -> String {
        let token = format!("{PREFIX}{}", crate::util::random_hex(16));
        self.tokens.lock().insert(
            token.clone(),
            (project_id.to_string(), Instant::now() + ttl),
        );
        token
    }

    /// The project of a live token.
    pub fn project_of(&self, token: &str) -> Option<String> {
        let tokens = self.tokens.lock();
        let (project, until) = tokens.get(token)?;
        (Instant::now() < *until).then(|| project.clone())
    }

    /// Forget expired tokens.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.tokens.lock().retain(|_, (_, until)| *until > now);
    }
}

impl AppState {
    /// The project a scope token is bound to, or 401 when it is unknown or expired.
    pub(crate) async fn project_from_scope(
        &self,
        token: &str,
    ) -> Result<Arc<ProjectRec>, ApiError> {
        let expired = || {
            ApiError::unauthorized(
                code::AUTH_INVALID_KEY,
                "This scope token is unknown or expired: scope tokens are valid only while their invocation runs (plus a short grace period). Use the project's API key outside a handler",
            )
        };
        let project_id = self.hooks.scopes.project_of(token).ok_or_else(expired)?;
        self.project_by_ref(&project_id).await?.ok_or_else(expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_and_expire() {
        let t = ScopeTokens::default();
        let a = t.issue("proj_a", Duration::from_secs(60));
        let gone = t.issue("proj_b", Duration::ZERO);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 32);
        assert_eq!(t.project_of(&a).as_deref(), Some("proj_a"));
        assert_eq!(t.project_of(&gone), None);
        assert_eq!(t.project_of("ast_scope_unknown"), None);
        t.sweep();
        assert_eq!(t.tokens.lock().len(), 1);
    }
}
