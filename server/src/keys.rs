//! Where a request's project API key comes from: the headers the platform accepts, in order, and
//! the help that says so. A leaf: the state (key lookup), the extractors and the idempotency
//! middleware all use it, and it uses none of them.

use std::sync::Arc;

use axum::http::HeaderMap;

use crate::store::control::ProjectRec;

pub const KEY_HELP: &str = "send your project API key in the X-Aerostack-Key header (X-API-Key and Authorization: Bearer <key> are accepted too)";

/// Set by the idempotency middleware so the key is looked up once per request.
#[derive(Clone)]
pub(crate) struct ResolvedProject(pub Arc<ProjectRec>);

/// The API key candidates of a request, in order of precedence.
pub fn key_candidates(headers: &HeaderMap) -> [Option<&str>; 3] {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let bearer = h("authorization").and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    });
    [h("x-aerostack-key"), h("x-api-key"), bearer]
}

