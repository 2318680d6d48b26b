//! Vector search: `/v1/ai/search/*` (ingest, query, get, update, delete, types, count, configure).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::services::{SuccessReply, require};
use crate::transport::Call;

/// Search handle, from [`crate::services::Ai::search`].
#[derive(Debug, Clone, Copy)]
pub struct Search<'a> {
    client: &'a Client,
}

/// A search document, or a hit with its `score`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchResult {
    /// Document id.
    pub id: String,
    /// Document text.
    pub content: String,
    /// Similarity in `[-1, 1]` (hits only).
    pub score: Option<f64>,
    /// Document type (e.g. `product`, `faq`).
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// Metadata given at ingest time.
    pub metadata: Option<Value>,
}

/// Options of [`Search::query`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SearchQuery {
    /// Number of hits (default 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Only these document types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub types: Option<Vec<String>>,
    /// Metadata equality filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
}

/// A document type and how many documents have it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TypeCount {
    /// The type.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// Documents of that type.
    pub count: u64,
}

/// Answer of [`Search::ingest`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestResult {
    /// Whether the document was stored.
    pub success: bool,
    /// Its id (generated when none was given).
    pub id: Option<String>,
}

#[derive(Serialize)]
struct IngestBody<'a> {
    content: &'a str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    doc_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Value>,
}

#[derive(Serialize)]
struct QueryBody<'a> {
    text: &'a str,
    #[serde(flatten)]
    options: &'a SearchQuery,
}

#[derive(Serialize)]
struct IdBody<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct TypeBody<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    doc_type: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigureBody<'a> {
    embedding_model: &'a str,
}

#[derive(Deserialize)]
struct ResultsReply {
    #[serde(default)]
    results: Vec<SearchResult>,
}

#[derive(Deserialize)]
struct TypesReply {
    #[serde(default)]
    types: Vec<TypeCount>,
}

#[derive(Deserialize)]
struct CountReply {
    #[serde(default)]
    count: u64,
}

#[derive(Deserialize)]
struct GetReply {
    #[serde(default)]
    result: Option<SearchResult>,
    #[serde(default)]
    exists: Option<bool>,
}

impl<'a> Search<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Search { client }
    }

    /// Stores a document of `doc_type` (upsert by `id` when given).
    pub async fn ingest(
        &self,
        content: &str,
        doc_type: &str,
        id: Option<&str>,
        metadata: Option<&Value>,
    ) -> Result<IngestResult> {
        require("content", content)?;
        require("type", doc_type)?;
        let body = IngestBody {
            content,
            doc_type: Some(doc_type),
            id,
            metadata,
        };
        // Re-ingesting with an id is an upsert; without one a retry could duplicate, so key it.
        self.client
            .post("/ai/search/ingest", &body, id.is_some())
            .await
    }

    /// The `top_k` documents most similar to `text`, best first.
    pub async fn query(&self, text: &str, options: &SearchQuery) -> Result<Vec<SearchResult>> {
        require("text", text)?;
        let r: ResultsReply = self
            .client
            .post("/ai/search/query", &QueryBody { text, options }, true)
            .await?;
        Ok(r.results)
    }

    /// A document by id, or `None`.
    pub async fn get(&self, id: &str) -> Result<Option<SearchResult>> {
        require("id", id)?;
        let r: GetReply = self
            .client
            .post("/ai/search/get", &IdBody { id }, true)
            .await?;
        Ok(if r.exists == Some(false) {
            None
        } else {
            r.result
        })
    }

    /// Replaces a document's content (and type/metadata when given).
    pub async fn update(
        &self,
        id: &str,
        content: &str,
        doc_type: Option<&str>,
        metadata: Option<&Value>,
    ) -> Result<bool> {
        require("id", id)?;
        require("content", content)?;
        let body = IngestBody {
            content,
            doc_type,
            id: Some(id),
            metadata,
        };
        let r: SuccessReply = self.client.post("/ai/search/update", &body, true).await?;
        Ok(r.success)
    }

    /// Deletes a document.
    pub async fn delete(&self, id: &str) -> Result<bool> {
        require("id", id)?;
        let r: SuccessReply = self
            .client
            .post("/ai/search/delete", &IdBody { id }, true)
            .await?;
        Ok(r.success)
    }

    /// Deletes every document of a type.
    pub async fn delete_by_type(&self, doc_type: &str) -> Result<bool> {
        require("type", doc_type)?;
        let r: SuccessReply = self
            .client
            .post(
                "/ai/search/deleteByType",
                &TypeBody {
                    doc_type: Some(doc_type),
                },
                true,
            )
            .await?;
        Ok(r.success)
    }

    /// Document types with their counts (`GET /ai/search/listTypes`).
    pub async fn list_types(&self) -> Result<Vec<TypeCount>> {
        let call = Call::new(
            Method::GET,
            self.client.api_url("/ai/search/listTypes"),
            true,
        );
        let r: TypesReply = self.client.fetch_json(call).await?;
        Ok(r.types)
    }

    /// Number of documents, of one type or all.
    pub async fn count(&self, doc_type: Option<&str>) -> Result<u64> {
        let r: CountReply = self
            .client
            .post("/ai/search/count", &TypeBody { doc_type }, true)
            .await?;
        Ok(r.count)
    }

    /// Selects the embedding model: `english` or `multilingual`.
    pub async fn configure(&self, embedding_model: &str) -> Result<bool> {
        if !matches!(embedding_model, "english" | "multilingual") {
            return Err(Error::validation(
                "embedding_model",
                format!(
                    "embedding_model must be \"english\" or \"multilingual\" (got {embedding_model:?})"
                ),
            ));
        }
        let r: SuccessReply = self
            .client
            .post(
                "/ai/search/configure",
                &ConfigureBody { embedding_model },
                true,
            )
            .await?;
        Ok(r.success)
    }
}
