//! File storage: `POST /v1/storage/*`. Keys are scoped to the project by the platform.

use crate::Timestamp;
use bytes::Bytes;
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::{ErrorCode, Result};
use crate::services::upload::UploadForm;
pub use crate::services::upload::{
    ProgressFn, UploadOptions, UploadProgress, UploadSource, guess_content_type,
};
use crate::services::{SuccessReply, require};
use crate::transport::{Call, Payload};

/// Storage handle, from [`Client::storage`].
#[derive(Debug, Clone, Copy)]
pub struct Storage<'a> {
    client: &'a Client,
}

/// Answer of [`Storage::upload`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UploadResult {
    /// URL the object is served at.
    pub url: String,
    /// The key it was stored under.
    pub key: String,
    /// Size in bytes.
    pub size: Option<u64>,
    /// MIME type.
    pub content_type: Option<String>,
    /// Entity tag.
    pub etag: Option<String>,
    /// False for a private object (its `url` is then a signed, expiring one).
    #[serde(default)]
    pub public: Option<bool>,
}

/// A downloaded object.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    /// The content.
    pub data: Bytes,
    /// Its MIME type.
    pub content_type: Option<String>,
}

/// One object of [`Storage::list`], or the answer of [`Storage::metadata`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "ObjectWire")]
pub struct ObjectInfo {
    /// The key (project prefix stripped).
    pub key: String,
    /// Size in bytes.
    pub size: Option<u64>,
    /// MIME type.
    pub content_type: Option<String>,
    /// Last modification time.
    pub last_modified: Option<Timestamp>,
    /// Entity tag.
    pub etag: Option<String>,
    /// False for a private object (served only through signed URLs).
    pub public: Option<bool>,
}

/// Each spelling its own field: the platform may send snake_case and camelCase together.
#[derive(Deserialize)]
struct ObjectWire {
    #[serde(default)]
    key: Option<String>,
    #[serde(default, deserialize_with = "crate::wire::lenient_u64")]
    size: Option<u64>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default, rename = "contentType")]
    content_type_camel: Option<String>,
    #[serde(default, deserialize_with = "crate::protocol::time::opt_lenient")]
    last_modified: Option<Timestamp>,
    #[serde(
        default,
        rename = "lastModified",
        deserialize_with = "crate::protocol::time::opt_lenient"
    )]
    last_modified_camel: Option<Timestamp>,
    #[serde(default, deserialize_with = "crate::protocol::time::opt_lenient")]
    uploaded: Option<Timestamp>,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    public: Option<bool>,
}

impl From<ObjectWire> for ObjectInfo {
    fn from(w: ObjectWire) -> ObjectInfo {
        ObjectInfo {
            key: w.key.unwrap_or_default(),
            size: w.size,
            content_type: w.content_type.or(w.content_type_camel),
            last_modified: w.last_modified.or(w.last_modified_camel).or(w.uploaded),
            etag: w.etag,
            public: w.public,
        }
    }
}

/// A page of [`Storage::list`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoragePage {
    /// Objects of this page.
    #[serde(default)]
    pub objects: Vec<ObjectInfo>,
    /// True when more pages follow.
    #[serde(default)]
    pub truncated: bool,
    /// Cursor for the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Serialize)]
struct KeyBody<'k> {
    key: &'k str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CopyBody<'k> {
    source_key: &'k str,
    dest_key: &'k str,
}

#[derive(Serialize)]
struct ListBody<'k> {
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<&'k str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<&'k str>,
}

#[derive(Serialize)]
struct UrlBody<'k> {
    key: &'k str,
    #[serde(rename = "expiresIn", skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct UrlReply {
    #[serde(default)]
    url: String,
}

#[derive(Deserialize)]
struct UploadWire {
    #[serde(default)]
    url: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default, deserialize_with = "crate::wire::lenient_u64")]
    size: Option<u64>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default, rename = "contentType")]
    content_type_camel: Option<String>,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    public: Option<bool>,
}

#[derive(Deserialize)]
struct ExistsReply {
    #[serde(default)]
    exists: bool,
}

/// Validates a storage key the way the platform does, but before any bytes are sent.
fn check_key(field: &str, key: &str) -> Result<()> {
    require(field, key)?;
    if key.split('/').any(|seg| seg == "..") {
        return Err(crate::Error::validation(
            field,
            format!("{field} must not contain '..' segments (got {key:?})"),
        ));
    }
    Ok(())
}

impl<'a> Storage<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Storage { client }
    }

    pub(crate) fn client(&self) -> &'a Client {
        self.client
    }

    /// Uploads `source` under `key` as a streamed multipart body.
    ///
    /// The content type is `options.content_type` or guessed from the extension. Progress is
    /// reported through `options.progress` as bytes go out. Bytes and path sources are retried
    /// on transient failures; reader sources are not (they cannot be rewound).
    pub async fn upload(
        &self,
        key: &str,
        source: impl Into<UploadSource>,
        options: UploadOptions,
    ) -> Result<UploadResult> {
        check_key("key", key)?;
        let form = UploadForm::new(key, source.into(), &options);
        let content_type = form.content_type().to_owned();
        let size = form.known_size();
        let mut call = Call::new(Method::POST, self.client.api_url("/storage/upload"), true);
        call.payload = Payload::Multipart(Box::new(form));
        let reply = self.client.fetch(call).await?;
        let w: UploadWire =
            crate::transport::decode(&reply.body, &Method::POST, "/storage/upload")?;
        Ok(UploadResult {
            url: w.url,
            key: w.key.unwrap_or_else(|| key.to_owned()),
            size: w.size.or(size),
            content_type: w
                .content_type
                .or(w.content_type_camel)
                .or(Some(content_type)),
            etag: w.etag,
            public: w.public,
        })
    }

    /// Downloads an object; `NOT_FOUND` when it does not exist.
    pub async fn get(&self, key: &str) -> Result<StoredObject> {
        check_key("key", key)?;
        let call = Call::new(Method::POST, self.client.api_url("/storage/get"), true)
            .json(&KeyBody { key })?;
        let reply = self.client.fetch(call).await?;
        let content_type = reply
            .content_type
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(StoredObject {
            data: reply.body,
            content_type,
        })
    }

    /// The URL an object is served at: with `expires_in`, a signed URL that works that long (1 s
    /// to 7 days); a private object always gets a signed one (1 h when not asked).
    pub async fn get_url(&self, key: &str, expires_in: Option<Duration>) -> Result<String> {
        check_key("key", key)?;
        let expires_in = match expires_in {
            None => None,
            Some(d) if (1..=7 * 24 * 3600).contains(&d.as_secs()) => Some(d.as_secs()),
            Some(d) => {
                return Err(crate::Error::validation(
                    "expires_in",
                    format!(
                        "expires_in is the signed URL's lifetime, 1 second to 7 days, got {d:?}"
                    ),
                ));
            }
        };
        let body = UrlBody { key, expires_in };
        let r: UrlReply = self.client.post("/storage/getUrl", &body, true).await?;
        Ok(r.url)
    }

    /// One page of objects under `prefix` (default 100, max 1000 per page).
    /// [`Storage::list_all`] follows the cursor for you.
    pub async fn list(
        &self,
        prefix: Option<&str>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<StoragePage> {
        self.client
            .post(
                "/storage/list",
                &ListBody {
                    prefix,
                    limit,
                    cursor,
                },
                true,
            )
            .await
    }

    /// Deletes an object; true when the platform reports success.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        check_key("key", key)?;
        let r: SuccessReply = self
            .client
            .post("/storage/delete", &KeyBody { key }, true)
            .await?;
        Ok(r.success)
    }

    /// Whether an object exists.
    pub async fn exists(&self, key: &str) -> Result<bool> {
        check_key("key", key)?;
        let r: ExistsReply = self
            .client
            .post("/storage/exists", &KeyBody { key }, true)
            .await?;
        Ok(r.exists)
    }

    /// Size, type, modification time and etag of an object, or `None` when it does not exist.
    pub async fn metadata(&self, key: &str) -> Result<Option<ObjectInfo>> {
        check_key("key", key)?;
        let v: Value = match self
            .client
            .post("/storage/getMetadata", &KeyBody { key }, true)
            .await
        {
            Ok(v) => v,
            Err(e) if e.code() == &ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if v.get("exists").and_then(Value::as_bool) == Some(false) {
            return Ok(None);
        }
        let mut info: ObjectInfo = serde_json::from_value(v)
            .map_err(|e| crate::Error::decode("POST /storage/getMetadata", e, b""))?;
        if info.key.is_empty() {
            info.key = key.to_owned();
        }
        Ok(Some(info))
    }

    /// Copies an object; returns the URL of the copy.
    pub async fn copy(&self, source_key: &str, dest_key: &str) -> Result<String> {
        check_key("source_key", source_key)?;
        check_key("dest_key", dest_key)?;
        let r: UrlReply = self
            .client
            .post(
                "/storage/copy",
                &CopyBody {
                    source_key,
                    dest_key,
                },
                true,
            )
            .await?;
        Ok(r.url)
    }

    /// Moves (renames) an object; returns its new URL. Copy then delete, not atomic.
    pub async fn r#move(&self, source_key: &str, dest_key: &str) -> Result<String> {
        check_key("source_key", source_key)?;
        check_key("dest_key", dest_key)?;
        let r: UrlReply = self
            .client
            .post(
                "/storage/move",
                &CopyBody {
                    source_key,
                    dest_key,
                },
                false,
            )
            .await?;
        Ok(r.url)
    }
}
