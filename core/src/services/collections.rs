//! Collections: JSON documents by collection name (`client.db().collection(name)`, sdk-core's
//! `client.db.collection(name)`): `GET|POST /v1/collections/{name}/items`,
//! `GET|PUT|DELETE /v1/collections/items/{id}`. Changes reach realtime subscribers of the
//! collection's topic (`realtime.channel(name)`) as `INSERT`/`UPDATE`/`DELETE` events.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Timestamp;
use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::protocol::names::{NAME_RULE, is_name};
use reqwest::Method;

use crate::transport::Call;

/// A collection of one project, from [`crate::services::Db::collection`].
#[derive(Debug, Clone)]
pub struct Collection<'a> {
    client: &'a Client,
    name: String,
}

/// One item of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionItem {
    /// The item's id (`item_...`).
    pub id: String,
    /// The collection's name.
    #[serde(default)]
    pub collection: String,
    /// `data.slug` when the data has a string `slug`.
    #[serde(default)]
    pub slug: Option<String>,
    /// The item's own data, as stored.
    #[serde(default)]
    pub data: Value,
    /// When the item was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// When its data was last replaced.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

/// One page of [`Collection::list`]; `cursor` fetches the next (None on the last page).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollectionPage {
    /// The page's items.
    #[serde(default)]
    pub items: Vec<CollectionItem>,
    /// How many items the page holds.
    #[serde(default)]
    pub count: u64,
    /// The next page's cursor; None on the last page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// What [`Collection::list`] returns: a page size, where to start, the order, and equality
/// filters on the items' top-level data fields (`{"status": "open", "done": false}`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionQuery {
    /// Items per page (1..=1000; the platform's default is 50).
    pub limit: Option<u32>,
    /// Where to start: the `cursor` of a previous page.
    pub cursor: Option<String>,
    /// `asc` (oldest first, the default) or `desc`.
    pub order: Option<String>,
    /// Field -> value: only items whose `data.field` equals the value.
    pub filter: Map<String, Value>,
}

#[derive(Deserialize)]
struct UpdateReply {
    item: CollectionItem,
}

impl<'a> Collection<'a> {
    pub(crate) fn new(client: &'a Client, name: &str) -> Result<Collection<'a>> {
        if !is_name(name) || name == "items" {
            return Err(Error::validation(
                "collection",
                format!("collection name {name:?} is not valid: use {NAME_RULE} (and not `items`)"),
            ));
        }
        Ok(Collection {
            client,
            name: name.to_string(),
        })
    }

    /// The collection's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn item_url(&self, id: &str) -> Result<String> {
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        {
            return Err(Error::validation(
                "id",
                format!("item id {id:?} is not one the platform issues: pass the `id` of an item"),
            ));
        }
        Ok(self.client.api_url(&format!("/collections/items/{id}")))
    }

    /// One page of items. [`Collection::list_all`] follows the cursor for you.
    pub async fn list(&self, query: &CollectionQuery) -> Result<CollectionPage> {
        let qs = query_string(query)?;
        let path = format!(
            "/collections/{}/items{}",
            self.name,
            if qs.is_empty() {
                String::new()
            } else {
                format!("?{qs}")
            }
        );
        self.client
            .fetch_json(Call::new(Method::GET, self.client.api_url(&path), true))
            .await
    }

    /// The item, or `None` when the project has no item `id`.
    pub async fn get(&self, id: &str) -> Result<Option<CollectionItem>> {
        match self
            .client
            .fetch_json(Call::new(Method::GET, self.item_url(id)?, true))
            .await
        {
            Ok(item) => Ok(Some(item)),
            Err(e) if *e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Adds an item whose data is `data` (a JSON object); the stored item.
    pub async fn create(&self, data: &Value) -> Result<CollectionItem> {
        require_object(data)?;
        let url = self
            .client
            .api_url(&format!("/collections/{}/items", self.name));
        self.client
            .fetch_json(Call::new(Method::POST, url, false).json(data)?)
            .await
    }

    /// Replaces the data of item `id`; the updated item (NOT_FOUND when there is none).
    pub async fn update(&self, id: &str, data: &Value) -> Result<CollectionItem> {
        require_object(data)?;
        // Replacing with the same data twice leaves the same item: safe to retry.
        let r: UpdateReply = self
            .client
            .fetch_json(Call::new(Method::PUT, self.item_url(id)?, true).json(data)?)
            .await?;
        Ok(r.item)
    }

    /// Deletes item `id`; false when there was no such item.
    pub async fn delete(&self, id: &str) -> Result<bool> {
        let r: Result<Value> = self
            .client
            .fetch_json(Call::new(Method::DELETE, self.item_url(id)?, true))
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if *e.code() == ErrorCode::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every item matching `query`, page by page (`query.limit` is the page size).
    pub fn list_all(&self, query: CollectionQuery) -> crate::ItemStream<CollectionItem> {
        crate::pagination::collection_items(self.client.clone(), self.name.clone(), query)
    }
}

fn require_object(data: &Value) -> Result<()> {
    if data.is_object() {
        return Ok(());
    }
    Err(Error::validation(
        "data",
        format!("an item's data must be a JSON object (e.g. {{\"title\": \"Hello\"}}), got {data}"),
    ))
}

fn query_string(q: &CollectionQuery) -> Result<String> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if let Some(l) = q.limit {
        if !(1..=1000).contains(&l) {
            return Err(Error::validation(
                "limit",
                format!("limit must be between 1 and 1000, got {l}"),
            ));
        }
        s.append_pair("limit", &l.to_string());
    }
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        s.append_pair("cursor", c);
    }
    match q.order.as_deref() {
        None => {}
        Some(o @ ("asc" | "desc")) => {
            s.append_pair("order", o);
        }
        Some(o) => {
            return Err(Error::validation(
                "order",
                format!("order is \"asc\" (oldest first) or \"desc\", got {o:?}"),
            ));
        }
    }
    for (k, v) in &q.filter {
        let field = format!("filter.{k}");
        if !is_name(k) || ["limit", "cursor", "order"].contains(&k.as_str()) {
            return Err(Error::validation(
                &field,
                format!(
                    "cannot filter on {k:?}: a filter names a top-level data field ({NAME_RULE}; not limit, cursor or order)"
                ),
            ));
        }
        let text = match v {
            Value::String(t) => t.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(Error::validation(
                    &field,
                    format!(
                        "a filter value is a string, number or boolean (items match by equality), got {other}"
                    ),
                ));
            }
        };
        s.append_pair(k, &text);
    }
    Ok(s.finish())
}
