//! `GET /v1/openapi.json`: the hand-written OpenAPI 3.1 document of everything served
//! (`server/openapi.json`; `tests/it/openapi.rs` keeps it equal to the route table).

use std::sync::OnceLock;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::routes::request_origin;
use crate::state::AppState;

/// The document as shipped.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(OPENAPI_JSON).expect("server/openapi.json is valid JSON")
    })
}

/// The document with `servers` pointing at the address the caller used.
pub async fn spec(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let mut doc = document().clone();
    doc["servers"] =
        json!([{"url": request_origin(&headers, &st), "description": "this local platform"}]);
    Json(doc).into_response()
}
