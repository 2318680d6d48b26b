//! Project secrets: `POST /v1/secrets/get|set|list`.

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Result;
use crate::services::require;

/// Secrets handle, from [`Client::secrets`].
#[derive(Debug, Clone, Copy)]
pub struct Secrets<'a> {
    client: &'a Client,
}

#[derive(Serialize)]
struct KeyBody<'k> {
    key: &'k str,
}

#[derive(Serialize)]
struct SetBody<'k> {
    key: &'k str,
    value: &'k str,
}

#[derive(Deserialize)]
struct GetReply {
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    exists: Option<bool>,
}

#[derive(Deserialize)]
struct ListReply {
    #[serde(default)]
    keys: Vec<String>,
}

impl<'a> Secrets<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Secrets { client }
    }

    /// The secret's value, or `None` when the project has no such secret.
    pub async fn get(&self, key: &str) -> Result<Option<String>> {
        require("key", key)?;
        let r: GetReply = self
            .client
            .post("/secrets/get", &KeyBody { key }, true)
            .await?;
        Ok(if r.exists == Some(false) {
            None
        } else {
            r.value
        })
    }

    /// Creates or replaces a secret.
    pub async fn set(&self, key: &str, value: &str) -> Result<()> {
        require("key", key)?;
        let _: serde_json::Value = self
            .client
            .post("/secrets/set", &SetBody { key, value }, true)
            .await?;
        Ok(())
    }

    /// Names of the project's secrets (never their values).
    pub async fn list(&self) -> Result<Vec<String>> {
        let r: ListReply = self
            .client
            .post("/secrets/list", &serde_json::json!({}), true)
            .await?;
        Ok(r.keys)
    }
}
