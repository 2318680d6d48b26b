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
