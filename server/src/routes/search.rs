//! `/v1/ai/search/*`: semantic search over the project's documents with the offline embedding
//! (brute-force cosine over the rows in SQLite; fine for the tens of thousands of documents a
//! local project holds).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::embed;
use crate::error::ApiError;
use crate::extract::{JsonBody, Project};
use crate::state::AppState;
use crate::store::search::{self, Doc};
use crate::util::{new_uuid, now_ms};

pub const DEFAULT_TOP_K: i64 = 5;
pub const MAX_TOP_K: i64 = 100;
const INGEST_USAGE: &str = r#"{"content": "Red running shoes", "type": "product", "id": "sku-1", "metadata": {"price": 59}}"#;

fn embed_content(content: &str, field: &str) -> Result<Vec<f32>, ApiError> {
    embed::embed(content).ok_or_else(|| {
        ApiError::validation(
            field,
            format!("`{field}` has no letters or digits to index: send some text"),
        )
    })
}

fn metadata(body: &JsonBody, usage: &str) -> Result<Option<Value>, ApiError> {
    Ok(body
        .opt_object("metadata", usage)?
        .map(|m| Value::Object(m.clone())))
}

pub async fn ingest(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let content = body.req_str("content", INGEST_USAGE)?.to_string();
    let doc_type = body.req_str("type", INGEST_USAGE)?.to_string();
    let id = body
        .opt_str("id", INGEST_USAGE)?
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(new_uuid);
    let doc = Doc {
        embedding: embed_content(&content, "content")?,
        metadata: metadata(&body, INGEST_USAGE)?.unwrap_or_else(|| json!({})),
        id: id.clone(),
        doc_type,
        content,
    };
    st.control(move |c| Ok(search::upsert(c, &p.id, &doc, now_ms())?))
        .await?;
    Ok(Json(json!({"success": true, "id": id})).into_response())
}

pub async fn query(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    const USAGE: &str = r#"{"text": "running shoes", "topK": 5, "types": ["product"], "filter": {"brand": "acme"}}"#;
    let text = body.req_str("text", USAGE)?;
    let q = embed::embed(text).ok_or_else(|| {
        ApiError::validation("text", "`text` has no letters or digits to search for")
    })?;
    let top_k = match body.get_any(&["topK", "top_k", "limit"]) {
        None => DEFAULT_TOP_K,
        Some((name, v)) => match crate::extract::as_integer(v) {
            Some(k) if (1..=MAX_TOP_K).contains(&k) => k,
            _ => {
                return Err(ApiError::validation(
                    name,
                    format!("`{name}` must be an integer between 1 and {MAX_TOP_K}, got {v}"),
                ));
            }
        },
    };
    let types: Vec<String> = match body.opt_array("types", USAGE)? {
        None => Vec::new(),
        Some(arr) => arr
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::validation(
                        &format!("types[{i}]"),
                        "`types` must be an array of strings",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let filter: Map<String, Value> = body
        .opt_object("filter", USAGE)?
        .cloned()
        .unwrap_or_default();
    let docs = st
        .control(move |c| Ok(search::scan(c, &p.id, &types)?))
        .await?;
    let mut scored: Vec<(f32, Doc)> = docs
        .into_iter()
        .filter(|d| search::matches_filter(&d.metadata, &filter))
        .map(|d| (embed::cosine(&q, &d.embedding), d))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
    let results: Vec<Value> = scored
        .into_iter()
        .take(top_k as usize)
        .map(|(s, d)| d.to_json(Some(s)))
        .collect();
    Ok(Json(json!({"results": results, "model": embed::MODEL})).into_response())
}

pub async fn delete(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let id = body.req_str("id", r#"{"id": "sku-1"}"#)?.to_string();
    let deleted = st
        .control(move |c| Ok(search::delete(c, &p.id, &id)?))
        .await?;
    Ok(Json(json!({"success": true, "deleted": deleted})).into_response())
}

pub async fn delete_by_type(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let t = body.req_str("type", r#"{"type": "product"}"#)?.to_string();
    let deleted = st
        .control(move |c| Ok(search::delete_by_type(c, &p.id, &t)?))
        .await?;
    Ok(Json(json!({"success": true, "deleted": deleted})).into_response())
}

pub async fn list_types(
    State(st): State<AppState>,
    Project(p): Project,
) -> Result<Response, ApiError> {
    let types = st
        .control(move |c| Ok(search::list_types(c, &p.id)?))
        .await?;
    let types: Vec<Value> = types
        .into_iter()
        .map(|(t, n)| json!({"type": t, "count": n}))
        .collect();
    Ok(Json(json!({"types": types})).into_response())
}

/// The hosted platform lets a project pick `english` or `multilingual` embeddings. Locally there
/// is one embedding for both; the choice is stored and echoed so SDK calls behave the same.
pub async fn configure(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let model = body
        .req_str("embeddingModel", r#"{"embeddingModel": "english"}"#)?
        .to_string();
    if model != "english" && model != "multilingual" {
        return Err(ApiError::validation(
            "embeddingModel",
            format!("`embeddingModel` must be \"english\" or \"multilingual\", got {model:?}"),
        ));
    }
    let m = model.clone();
    st.control(move |c| Ok(search::set_model(c, &p.id, &m)?))
        .await?;
    Ok(Json(json!({
        "success": true,
        "embeddingModel": model,
        "model": embed::MODEL,
        "note": format!("the local platform embeds every language with {}", embed::MODEL),
    }))
    .into_response())
}

/// Replace a document's content (and type/metadata when given); creates it when missing.
pub async fn update(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    const USAGE: &str =
        r#"{"id": "sku-1", "content": "New text", "type": "product", "metadata": {}}"#;
    let id = body.req_str("id", USAGE)?.to_string();
    let content = body.req_str("content", USAGE)?.to_string();
    let doc_type = body.opt_str("type", USAGE)?.map(str::to_string);
    let meta = metadata(&body, USAGE)?;
    let embedding = embed_content(&content, "content")?;
    let rid = id.clone();
    st.control(move |c| {
        let existing = search::get(c, &p.id, &id)?;
        let doc_type = match (doc_type, &existing) {
            (Some(t), _) => t,
            (None, Some(e)) => e.doc_type.clone(),
            (None, None) => {
                return Err(ApiError::validation(
                    "type",
                    format!(
                        "document {id:?} does not exist yet, so `type` is required: send {USAGE}"
                    ),
                ));
            }
        };
        let metadata = meta
            .or_else(|| existing.map(|e| e.metadata))
            .unwrap_or_else(|| json!({}));
        let doc = Doc {
            id,
            doc_type,
            content,
            metadata,
            embedding,
        };
        Ok(search::upsert(c, &p.id, &doc, now_ms())?)
    })
    .await?;
    Ok(Json(json!({"success": true, "id": rid})).into_response())
}

pub async fn count(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let t = body
        .opt_str("type", r#"{"type": "product"}"#)?
        .map(str::to_string);
    let n = st
        .control(move |c| Ok(search::count(c, &p.id, t.as_deref())?))
        .await?;
    Ok(Json(json!({"count": n})).into_response())
}

pub async fn get(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let id = body.req_str("id", r#"{"id": "sku-1"}"#)?.to_string();
    let doc = st.control(move |c| Ok(search::get(c, &p.id, &id)?)).await?;
    Ok(Json(match doc {
        Some(d) => json!({"result": d.to_json(None), "exists": true}),
        None => json!({"result": null, "exists": false}),
    })
    .into_response())
}
