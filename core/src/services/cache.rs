//! Key-value cache: `POST /v1/cache/*`. Keys are scoped to the project by the platform.

use crate::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::services::{SuccessReply, require};

/// Cache handle, from [`Client::cache`].
#[derive(Debug, Clone, Copy)]
pub struct Cache<'a> {
    client: &'a Client,
}

/// One entry of [`Cache::get_many`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The key.
    pub key: String,
    /// The value, `None` when the key does not exist.
    #[serde(default)]
    pub value: Option<Value>,
    /// Whether the key exists.
    #[serde(default)]
    pub exists: bool,
}

/// One entry for [`Cache::set_many`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheSetEntry {
    /// The key.
    pub key: String,
    /// Any JSON value.
    pub value: Value,
    /// Time to live in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

impl CacheSetEntry {
    /// An entry without TTL.
    pub fn new(key: impl Into<String>, value: Value) -> CacheSetEntry {
        CacheSetEntry {
            key: key.into(),
            value,
            ttl: None,
        }
    }
}

/// Answer of [`Cache::delete_many`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteManyResult {
    /// Keys requested.
    #[serde(default)]
    pub count: u64,
    /// Keys that existed and were deleted.
    #[serde(default)]
    pub deleted: u64,
}

/// One key of [`Cache::list`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheKeyInfo {
    /// The key (project prefix stripped).
    pub key: String,
    /// When the key expires (the wire's unix seconds), `None` for no TTL.
    #[serde(default, deserialize_with = "crate::protocol::time::opt_lenient")]
    pub expiration: Option<Timestamp>,
}

/// A page of [`Cache::list`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheListPage {
    /// Keys of this page.
    #[serde(default)]
    pub keys: Vec<CacheKeyInfo>,
    /// True when there are no more pages.
    #[serde(default = "crate::wire::default_true")]
    pub list_complete: bool,
    /// Cursor for the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Answer of [`Cache::keys`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheKeys {
    /// All keys under the prefix (capped at 10 000).
    #[serde(default)]
    pub keys: Vec<String>,
    /// True when the cap cut the list short.
    #[serde(default)]
    pub truncated: bool,
}

#[derive(Serialize)]
struct KeyBody<'k> {
    key: &'k str,
}

#[derive(Serialize)]
struct SetBody<'k, V: ?Sized> {
    key: &'k str,
    value: &'k V,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<u64>,
}

#[derive(Serialize)]
struct KeysBody<'k, K> {
    keys: &'k [K],
}

#[derive(Serialize)]
struct EntriesBody<'k> {
    entries: &'k [CacheSetEntry],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody<'k> {
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<&'k str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<&'k str>,
}

#[derive(Serialize)]
struct ExpireBody<'k> {
    key: &'k str,
    ttl: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IncrementBody<'k> {
    key: &'k str,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_value: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<u64>,
}

#[derive(Deserialize)]
struct GetReply<T> {
    #[serde(default = "Option::default")]
    value: Option<T>,
    #[serde(default)]
    exists: Option<bool>,
}

#[derive(Deserialize)]
struct GetManyReply {
    #[serde(default)]
    results: Vec<CacheEntry>,
}

#[derive(Deserialize)]
struct CountReply {
    #[serde(default)]
    count: u64,
}

#[derive(Deserialize)]
struct DeletedReply {
    #[serde(default)]
    deleted: u64,
}

#[derive(Deserialize)]
struct ValueReply {
    value: i64,
}

impl<'a> Cache<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Cache { client }
    }

    pub(crate) fn client(&self) -> &'a Client {
        self.client
    }

    /// The value of `key`, or `None` when it does not exist (or has expired).
    pub async fn get(&self, key: &str) -> Result<Option<Value>> {
        self.get_as::<Value>(key).await
    }

    /// Like [`Cache::get`], decoding the value straight into `T`.
    pub async fn get_as<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        require("key", key)?;
        let r: GetReply<T> = self
            .client
            .post("/cache/get", &KeyBody { key }, true)
            .await?;
        // `exists` is authoritative; older platforms omit it, then the value's presence decides.
        match r.exists {
            Some(false) => Ok(None),
            Some(true) if r.value.is_none() => {
                // A stored JSON null: decode it as T if T accepts null.
                Ok(serde_json::from_value(Value::Null).ok())
            }
            _ => Ok(r.value),
        }
    }

    /// Stores any serializable value, with an optional TTL in seconds.
    pub async fn set<V: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &V,
        ttl: Option<u64>,
    ) -> Result<()> {
        require("key", key)?;
        if ttl == Some(0) {
            return Err(Error::validation(
                "ttl",
                "ttl must be at least 1 second; pass None for no expiry",
            ));
        }
        let _: Value = self
            .client
            .post("/cache/set", &SetBody { key, value, ttl }, true)
            .await?;
        Ok(())
    }

    /// Whether `key` exists.
    pub async fn has(&self, key: &str) -> Result<bool> {
        require("key", key)?;
        let r: GetReply<Value> = self
            .client
            .post("/cache/get", &KeyBody { key }, true)
            .await?;
        Ok(r.exists.unwrap_or(r.value.is_some()))
    }

    /// Deletes `key`; true when the platform reports success.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        require("key", key)?;
        let r: SuccessReply = self
            .client
            .post("/cache/delete", &KeyBody { key }, true)
            .await?;
        Ok(r.success)
    }

    /// Values of up to 100 keys, in request order.
    pub async fn get_many<K: AsRef<str> + Serialize>(&self, keys: &[K]) -> Result<Vec<CacheEntry>> {
        let r: GetManyReply = self
            .client
            .post("/cache/getMany", &KeysBody { keys }, true)
            .await?;
        Ok(r.results)
    }

    /// Stores up to 100 entries; returns how many were stored.
    pub async fn set_many(&self, entries: &[CacheSetEntry]) -> Result<u64> {
        let r: CountReply = self
            .client
            .post("/cache/setMany", &EntriesBody { entries }, true)
            .await?;
        Ok(r.count)
    }

    /// Deletes up to 500 keys.
    pub async fn delete_many<K: AsRef<str> + Serialize>(
        &self,
        keys: &[K],
    ) -> Result<DeleteManyResult> {
        self.client
            .post("/cache/deleteMany", &KeysBody { keys }, true)
            .await
    }

    /// One page of keys under `prefix` (default 100, max 1000 per page).
    /// [`Cache::list_all`] follows the cursor for you.
    pub async fn list(
        &self,
        prefix: Option<&str>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<CacheListPage> {
        self.client
            .post(
                "/cache/list",
                &ListBody {
                    prefix,
                    limit,
                    cursor,
                },
                true,
            )
            .await
    }

    /// Every key under `prefix` in one call (capped at 10 000; see `truncated`).
    pub async fn keys(&self, prefix: Option<&str>) -> Result<CacheKeys> {
        self.client
            .post(
                "/cache/keys",
                &ListBody {
                    prefix,
                    limit: None,
                    cursor: None,
                },
                true,
            )
            .await
    }

    /// Deletes every key under `prefix` (all project keys when `None`); returns how many.
    pub async fn flush(&self, prefix: Option<&str>) -> Result<u64> {
        let r: DeletedReply = self
            .client
            .post(
                "/cache/flush",
                &ListBody {
                    prefix,
                    limit: None,
                    cursor: None,
                },
                true,
            )
            .await?;
        Ok(r.deleted)
    }

    /// Sets the TTL of an existing key to `ttl` seconds from now; false when the key is missing.
    pub async fn expire(&self, key: &str, ttl: u64) -> Result<bool> {
        require("key", key)?;
        if ttl == 0 {
            return Err(Error::validation(
                "ttl",
                "ttl must be at least 1 second; use delete() to remove a key",
            ));
        }
        let r: SuccessReply = self
            .client
            .post("/cache/expire", &ExpireBody { key, ttl }, true)
            .await?;
        Ok(r.success)
    }

    /// Adds `amount` (default 1, may be negative) to a numeric key, creating it from
    /// `initial_value` (default 0) with `ttl` when missing; returns the new value.
    pub async fn increment(
        &self,
        key: &str,
        amount: Option<i64>,
        initial_value: Option<i64>,
        ttl: Option<u64>,
    ) -> Result<i64> {
        require("key", key)?;
        let body = IncrementBody {
            key,
            amount,
            initial_value,
            ttl,
        };
        let r: ValueReply = self.client.post("/cache/increment", &body, false).await?;
        Ok(r.value)
    }
}
