//! Collections (wire-facts §2.4, sdk-core's `client.db.collection(name)`):
//! `GET|POST /v1/collections/{name}/items`, `GET|PUT|DELETE /v1/collections/items/{id}`.
//! Writes go out to realtime subscribers of the collection's topic (`table/{name}/...`, what the
//! official collection subscription listens to) as `db_change` frames whose `data` is the item.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::extract::{JsonBody, Project};
use crate::realtime::db_changes::RowChange;
use crate::state::AppState;
use crate::store::collections::{self, DEFAULT_LIMIT, Item, ListQuery, MAX_LIMIT, NAME_RULE};

/// List parameters with a meaning of their own; every other parameter filters on `data.<name>`.
const RESERVED: [&str; 3] = ["limit", "cursor", "order"];

fn check_name(name: &str) -> Result<(), ApiError> {
    if !collections::valid_name(name) || name == "items" {
        return Err(ApiError::validation(
            "collection",
            format!("collection name {name:?} is not valid: use {NAME_RULE} (and not `items`, which the item routes use)"),
        ));
    }
    Ok(())
}

fn change(op: &'static str, item: Option<&Item>, old: Option<&Item>) -> RowChange {
    let table = item.or(old).map(|i| i.collection.clone()).unwrap_or_default();
    RowChange { table, operation: op, data: item.map(Item::to_map), old: old.map(Item::to_map) }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("no collection item {id:?} in this project")).with_detail("field", "id")
}

pub async fn list(
    State(st): State<AppState>,
    Project(p): Project,
    Path(name): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    check_name(&name)?;
    let params: HashMap<String, String> = Query::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    let limit = match params.get("limit").filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(s) => s.parse::<u32>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
            ApiError::validation("limit", format!("`limit` must be an integer between 1 and {MAX_LIMIT}, got {s:?}"))
        })?,
    };
    let descending = match params.get("order").map(String::as_str) {
        None | Some("") | Some("asc") => false,
        Some("desc") => true,
        Some(o) => {
            return Err(ApiError::validation("order", format!("`order` is `asc` (oldest first, the default) or `desc`, got {o:?}")));
        }
    };
    let mut filters: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    filters.sort();
    if let Some((k, _)) = filters.iter().find(|(k, _)| !collections::valid_name(k)) {
        return Err(ApiError::validation(
            k,
            format!("query parameter {k:?} is neither limit, cursor nor order, nor a field name to filter `data` on ({NAME_RULE})"),
        ));
    }
    let q = ListQuery { limit, cursor: params.get("cursor").filter(|c| !c.is_empty()).cloned(), descending, filters };
    let (items, cursor) = st.project_db(&p.id, move |db| collections::list(&db.conn, &name, &q)).await?;
    let items: Vec<Value> = items.iter().map(Item::to_json).collect();
    Ok(Json(json!({ "count": items.len(), "items": items, "cursor": cursor })).into_response())
}

pub async fn create(
    State(st): State<AppState>,
    Project(p): Project,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    check_name(&name)?;
    let data = Value::Object(body.0);
    let item = st.project_db(&p.id, move |db| collections::create(&db.conn, &name, data)).await?;
    st.realtime.publish_db_changes(&p.id, vec![change("INSERT", Some(&item), None)]);
    Ok((StatusCode::CREATED, Json(item.to_json())).into_response())
}

pub async fn get(
    State(st): State<AppState>,
    Project(p): Project,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let key = id.clone();
    match st.project_db(&p.id, move |db| collections::get(&db.conn, &key)).await? {
        Some(item) => Ok(Json(item.to_json()).into_response()),
        None => Err(not_found(&id)),
    }
}

pub async fn update(
    State(st): State<AppState>,
    Project(p): Project,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let key = id.clone();
    let data = Value::Object(body.0);
    let Some((before, after)) = st.project_db(&p.id, move |db| collections::update(&db.conn, &key, data)).await? else {
        return Err(not_found(&id));
    };
    st.realtime.publish_db_changes(&p.id, vec![change("UPDATE", Some(&after), Some(&before))]);
    Ok(Json(json!({ "success": true, "item": after.to_json() })).into_response())
}

pub async fn delete(
    State(st): State<AppState>,
    Project(p): Project,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let key = id.clone();
    let Some(gone) = st.project_db(&p.id, move |db| collections::delete(&db.conn, &key)).await? else {
        return Err(not_found(&id));
    };
    st.realtime.publish_db_changes(&p.id, vec![change("DELETE", None, Some(&gone))]);
    Ok(Json(json!({ "success": true })).into_response())
}
