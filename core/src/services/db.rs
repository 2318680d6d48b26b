//! SQL database: `POST /v1/db/query` and `/v1/db/batch`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::Result;
use crate::services::require;

/// One row: column name to value.
pub type Row = Map<String, Value>;

/// Database handle, from [`Client::db`].
#[derive(Debug, Clone, Copy)]
pub struct Db<'a> {
    client: &'a Client,
}

/// Answer of [`Db::query`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    /// Rows returned by the statement.
    #[serde(default)]
    pub results: Vec<Row>,
    /// Number of rows in `results`.
    #[serde(default)]
    pub count: u64,
    /// Statement metadata from the platform (rows changed, last insert id, duration...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// One statement of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// SQL with `?` placeholders.
    pub sql: String,
    /// Positional parameters.
    #[serde(default)]
    pub params: Vec<Value>,
}

impl Statement {
    /// A statement with parameters.
    pub fn new(sql: impl Into<String>, params: Vec<Value>) -> Statement {
        Statement {
            sql: sql.into(),
            params,
        }
    }
}

/// Result of one statement in a batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchItem {
    /// Rows returned by the statement.
    #[serde(default)]
    pub results: Vec<Row>,
    /// Whether the statement succeeded.
    #[serde(default)]
    pub success: bool,
    /// Error message when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Statement metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// Answer of [`Db::batch`]: `success` is true only when every statement succeeded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchResult {
    /// Per-statement results, in order.
    #[serde(default)]
    pub results: Vec<BatchItem>,
    /// Whether all statements succeeded.
    #[serde(default)]
    pub success: bool,
}

#[derive(Serialize)]
struct QueryBody<'a> {
    sql: &'a str,
    params: &'a [Value],
}

#[derive(Serialize)]
struct BatchBody<'a> {
    queries: &'a [Statement],
}

impl<'a> Db<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Db { client }
    }

    /// Runs one statement with positional `?` parameters.
    pub async fn query(&self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        require("sql", sql)?;
        let idempotent = crate::transport::sql_is_read(sql);
        let mut r: QueryResult = self
            .client
            .post("/db/query", &QueryBody { sql, params }, idempotent)
            .await?;
        if r.count == 0 {
            r.count = r.results.len() as u64;
        }
        Ok(r)
    }

    /// The collection `name` (JSON documents; see [`crate::services::Collection`]). Fails on a
    /// name that is not 1-64 letters, digits, `_` or `-`.
    pub fn collection(&self, name: &str) -> Result<crate::services::Collection<'a>> {
        crate::services::Collection::new(self.client, name)
    }

    /// Runs a statement and returns its first row, or `None` when there is none.
    pub async fn query_one(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params).await?.results.into_iter().next())
    }

    /// Runs up to 25 statements in one request.
    pub async fn batch(&self, statements: &[Statement]) -> Result<BatchResult> {
        if statements.is_empty() {
            return Err(crate::Error::validation(
                "statements",
                "statements must contain at least one statement",
            ));
        }
        for (i, s) in statements.iter().enumerate() {
            require(&format!("statements[{i}].sql"), &s.sql)?;
        }
        let idempotent = statements
            .iter()
            .all(|s| crate::transport::sql_is_read(&s.sql));
        self.client
            .post(
                "/db/batch",
                &BatchBody {
                    queries: statements,
                },
                idempotent,
            )
            .await
    }
}
