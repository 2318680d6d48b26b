//! One file per platform service. Each handle borrows the [`crate::Client`] and is free to create.

pub mod ai;
pub mod auth;
pub mod cache;
pub mod collections;
pub mod custom;
pub mod db;
pub mod gateway;
pub mod gateway_socket;
pub mod invoke;
pub mod outbox;
pub mod queue;
pub mod realtime_history;
pub mod search;
pub mod secrets;
pub mod storage;
mod upload;

pub use ai::Ai;
pub use auth::Auth;
pub use cache::Cache;
pub use collections::Collection;
pub use db::Db;
pub use gateway::Gateway;
pub use invoke::Services;
pub use queue::Queue;
pub use search::Search;
pub use secrets::Secrets;
pub use storage::Storage;

use serde::Deserialize;

/// `{success}` answers; a missing field counts as success (the 2xx status already says so).
#[derive(Deserialize)]
pub(crate) struct SuccessReply {
    #[serde(default = "yes")]
    pub success: bool,
}

fn yes() -> bool {
    true
}

/// Rejects an empty required string argument with VALIDATION_ERROR naming it.
pub(crate) fn require(field: &str, value: &str) -> crate::Result<()> {
    if value.trim().is_empty() {
        return Err(crate::Error::validation(
            field,
            format!("{field} must not be empty"),
        ));
    }
    Ok(())
}
