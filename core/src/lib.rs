//! # aerostack — the Aerostack engine
//!
//! A pure-Rust client for the Aerostack platform that the Python, Node, Go and PHP SDKs wrap.
//! One [`Client`] per project: database, auth, cache, queue, storage, AI, secrets, services,
//! custom APIs and realtime history, all through one transport with retries (exponential backoff
//! with full jitter, `Retry-After`, idempotency keys), timeouts, cancellation by drop, and one
//! error type with stable codes.
//!
//! ```no_run
//! use aerostack::{Client, ClientConfig};
//! use serde_json::json;
//!
//! # async fn demo() -> aerostack::Result<()> {
//! let client = Client::new(ClientConfig::new().server_index(1).api_key("ac_secret_…"))?;
//! client.db().query("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)", &[]).await?;
//! client.db().query("INSERT INTO notes (body) VALUES (?)", &[json!("hello")]).await?;
//! let note = client.db().query_one("SELECT * FROM notes LIMIT 1", &[]).await?;
//! client.cache().set("last-note", &note, Some(300)).await?;
//! let job_id = client.queue().send("index-note", &json!({"id": 1}), None, Some(3)).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod client;
pub mod config;
pub mod error;
pub mod events;
pub mod observe;
mod options;
pub mod pagination;
mod poll;
pub mod realtime;
mod retry;
pub mod services;
mod sse;
mod transport;
mod wire;
pub mod worker;

/// The wire contract shared with the platform: realtime and worker frames, the outbox message,
/// the error body (the `aerostack-protocol` crate).
pub use aerostack_protocol as protocol;
pub use aerostack_protocol::Timestamp;

pub use client::Client;
pub use config::{ClientConfig, SERVERS, VERSION};
pub use error::{Error, ErrorCode, Result};
pub use options::CallOptions;
pub use pagination::ItemStream;
pub use reqwest::Method;
pub use retry::RetryPolicy;
pub use transport::host::{HostExchange, HostLink, HostRequest, HostResponse, with_host};

pub use services::ai::{
    ChatChunk, ChatMessage, ChatRequest, ChatResponse, ChatStream, ChatStreamDecoder,
    CompleteOptions, Completion, Embedding, Usage,
};
pub use services::auth::{ActionResult, AuthSession, OtpSent, User};
pub use services::cache::{
    CacheEntry, CacheKeyInfo, CacheKeys, CacheListPage, CacheSetEntry, DeleteManyResult,
};
pub use services::collections::{CollectionItem, CollectionPage, CollectionQuery};
pub use services::db::{BatchItem, BatchResult, QueryResult, Row, Statement};
pub use services::gateway::{BillingLogged, GatewayUsage, GatewayUsageDay, GatewayWallet};
pub use services::gateway_socket::{
    ChatStep, GatewaySocket, GatewaySocketEvent, GatewaySocketReply, SocketState,
};
pub use services::invoke::InvokeResult;
pub use services::outbox::{OutboxMessage, ServedNow};
pub use services::queue::{CancelResult, JobAttempt, JobFilter, JobRecord, JobsPage};
pub use services::realtime_history::HistoryMessage;
pub use services::search::{IngestResult, SearchQuery, SearchResult, TypeCount};
pub use services::storage::{
    ObjectInfo, ProgressFn, StoragePage, StoredObject, UploadOptions, UploadProgress, UploadResult,
    UploadSource, guess_content_type,
};
