//! The local platform's outbox (`GET /v1/local/outbox`): emails and SMS it would have sent,
//! so tests and demos can read OTP codes and verification/reset tokens. Local platform only.

use aerostack_protocol::OutboxPage;
use reqwest::Method;

use crate::client::Client;
use crate::error::Result;
use crate::transport::Call;

/// A message the local platform "sent" (the wire type, shared with the platform).
pub use aerostack_protocol::OutboxMessage;

impl Client {
    /// Messages in the local platform's outbox, newest first, optionally only those to `to`.
    pub async fn local_outbox(
        &self,
        to: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Vec<OutboxMessage>> {
        // Built in a block: the serializer is not `Send` and must not live across the await.
        let query = {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            if let Some(t) = to {
                q.append_pair("to", t);
            }
            if let Some(l) = limit {
                q.append_pair("limit", &l.to_string());
            }
            q.finish()
        };
        let path = if query.is_empty() {
            "/local/outbox".to_owned()
        } else {
            format!("/local/outbox?{query}")
        };
        let r: OutboxPage = self
            .fetch_json(Call::new(Method::GET, self.api_url(&path), true))
            .await?;
        Ok(r.messages)
    }
}

/// What the project's connected workers serve now (`GET /v1/local/workers`). Local platform only.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ServedNow {
    /// Connected workers that are not draining.
    pub workers: u64,
    /// Custom API slugs (also `services.invoke` names).
    pub modules: Vec<String>,
    /// Platform events handled (`auth.register.after`, ...).
    pub events: Vec<String>,
    /// Queue job types.
    pub jobs: Vec<String>,
}

impl ServedNow {
    /// Whether `name` is served: a module slug, an event or a job type.
    pub fn serves(&self, name: &str) -> bool {
        [&self.modules, &self.events, &self.jobs]
            .iter()
            .any(|l| l.iter().any(|n| n == name))
    }
}

impl Client {
    /// What the project's connected workers serve now. Local platform only.
    pub async fn local_workers(&self) -> Result<ServedNow> {
        self.fetch_json(Call::new(Method::GET, self.api_url("/local/workers"), true))
            .await
    }

    /// Waits until a connected worker serves `name` (a custom API slug, a platform event or a
    /// job type): calls to it then no longer answer `WORKER_NOT_CONNECTED`. `TIMEOUT` after
    /// `timeout`, listing what is served. Local platform only.
    pub async fn local_wait_served(
        &self,
        name: &str,
        timeout: std::time::Duration,
    ) -> Result<ServedNow> {
        use crate::poll::{Seen, until};
        crate::services::require("name", name)?;
        let ms = std::time::Duration::from_millis;
        let waited = until(timeout, ms(20), ms(500), || async {
            let now = self.local_workers().await?;
            Ok(if now.serves(name) {
                Seen::Done(now)
            } else {
                Seen::Not(now)
            })
        })
        .await?;
        waited.map_err(|now| {
            crate::Error::new(
                crate::ErrorCode::Timeout,
                format!(
                    "no worker serves {name:?} after {} ms; {} worker(s) connected, serving modules {:?}, events {:?}, jobs {:?}. Start a worker that registers it",
                    timeout.as_millis(),
                    now.workers,
                    now.modules,
                    now.events,
                    now.jobs
                ),
            )
        })
    }
}
