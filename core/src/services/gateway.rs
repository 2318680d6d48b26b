//! The AI gateway as its consumers use it (wire-facts §2.6, the official SDKs' `gateway`): chat
//! through a gateway API with a consumer key (`ask_…`), streamed or not, and the consumer's wallet
//! and usage; plus `billing_log`, with which a project's own backend debits a consumer for what
//! it metered itself (`POST /v1/gateway/billing/log`, the project key).
//!
//! The consumer key comes from the call (`consumer_key`), else [`crate::ClientConfig::consumer_key`]
//! (`AEROSTACK_CONSUMER_KEY`). Consumer calls go to the host's `/api/gateway/...` paths (those the
//! official SDKs call) with `Authorization: Bearer <key>`; [`Gateway::connect_socket`] opens the
//! chat socket (gateway_socket.rs).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::services::ai::{
    ChatRequest, ChatResponse, ChatStream, WireChat, check_messages, response_from_wire,
    stream_chat,
};
use crate::services::gateway_socket::GatewaySocket;
use crate::services::require;
use crate::transport::Call;

/// Gateway handle, from [`Client::gateway`].
#[derive(Debug, Clone, Copy)]
pub struct Gateway<'a> {
    client: &'a Client,
}

/// A consumer's wallet, in tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayWallet {
    /// Tokens left.
    pub balance: i64,
    /// Tokens ever credited.
    pub total_purchased: i64,
    /// Tokens ever used.
    pub total_consumed: i64,
    /// `prepaid` locally.
    pub plan_type: Option<String>,
    /// Usage stops at this many consumed tokens, when set.
    pub hard_limit: Option<i64>,
    /// A warning threshold, when set.
    pub soft_limit: Option<i64>,
}

/// A consumer's usage over the last days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayUsage {
    /// Tokens over the period.
    pub total_tokens: u64,
    /// Requests over the period.
    pub total_requests: u64,
    /// The days with usage, oldest first.
    pub days: Vec<GatewayUsageDay>,
}

/// Usage of one UTC day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayUsageDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Tokens that day.
    pub tokens: u64,
    /// Requests that day.
    pub requests: u64,
}

/// Answer of [`Gateway::billing_log`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BillingLogged {
    /// Whether the units were logged.
    #[serde(default)]
    pub success: bool,
    /// The units logged (debited from the consumer's wallet).
    #[serde(default, alias = "loggedUnits")]
    pub logged_units: u64,
}

#[derive(Deserialize)]
struct WalletReply {
    wallet: GatewayWallet,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BillingBody<'a> {
    consumer_id: &'a str,
    api_id: &'a str,
    units: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric: Option<&'a str>,
}

fn check_slug(api_slug: &str) -> Result<()> {
    if crate::protocol::names::is_name(api_slug) {
        return Ok(());
    }
    Err(Error::validation(
        "api_slug",
        format!(
            "api_slug {api_slug:?} is not a gateway API's slug ({})",
            crate::protocol::names::NAME_RULE
        ),
    ))
}

impl<'a> Gateway<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Gateway { client }
    }

    /// The consumer key of a call: the argument, else the client's.
    fn key<'k>(&'k self, consumer_key: Option<&'k str>) -> Result<&'k str> {
        consumer_key
            .filter(|k| !k.is_empty())
            .or_else(|| self.client.consumer_key())
            .ok_or_else(|| {
                Error::validation(
                    "consumer_key",
                    "the AI gateway is called with a consumer key (ask_…): pass consumer_key, or set the client's \
                     consumer_key option or AEROSTACK_CONSUMER_KEY (locally: `aerostack-server gateway create-key <api-slug>`)",
                )
            })
    }

    fn query(pairs: &[(&str, Option<String>)]) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        let s = q.finish();
        if s.is_empty() { s } else { format!("?{s}") }
    }

    /// A chat completion through gateway API `api_slug`, billed to the consumer.
    pub async fn chat(
        &self,
        api_slug: &str,
        request: &ChatRequest,
        consumer_key: Option<&str>,
    ) -> Result<ChatResponse> {
        check_slug(api_slug)?;
        check_messages(&request.messages)?;
        let key = self.key(consumer_key)?;
        let url = self
            .client
            .host_url(&format!("/api/gateway/{api_slug}/v1/chat/completions"));
        // Billed per call: a retry after the upstream answered would bill twice, so only
        // failures before any answer are retried (non-idempotent: an Idempotency-Key goes along).
        let call = Call::new(Method::POST, url, false)
            .json(request)?
            .user_auth()
            .bearer(key);
        let w: WireChat = self.client.fetch_json(call).await?;
        Ok(response_from_wire(w))
    }

    /// A streamed chat completion through gateway API `api_slug` (SSE), billed to the consumer.
    pub async fn chat_stream(
        &self,
        api_slug: &str,
        request: &ChatRequest,
        consumer_key: Option<&str>,
    ) -> Result<ChatStream> {
        check_slug(api_slug)?;
        let key = self.key(consumer_key)?;
        let path = format!("/api/gateway/{api_slug}/v1/chat/completions");
        stream_chat(
            self.client,
            self.client.host_url(&path),
            &path,
            request,
            Some(key),
        )
        .await
    }

    /// Opens gateway API `api_slug`'s chat socket (`{wsHost}/api/gateway/{apiSlug}/ws`, the
    /// official `gateway.connectWebSocket`), authenticated with the consumer key as the
    /// subprotocol `bearer-<key>`. A key the platform refuses fails here with the error the HTTP
    /// calls raise (401 `AUTH_INVALID_KEY`; 403 `FORBIDDEN` for another API's key).
    pub async fn connect_socket(
        &self,
        api_slug: &str,
        consumer_key: Option<&str>,
    ) -> Result<GatewaySocket> {
        check_slug(api_slug)?;
        let key = self.key(consumer_key)?;
        crate::services::gateway_socket::connect(self.client, api_slug, key).await
    }

    /// The consumer's wallet (of API `api_slug` when given).
    pub async fn wallet(
        &self,
        api_slug: Option<&str>,
        consumer_key: Option<&str>,
    ) -> Result<GatewayWallet> {
        if let Some(s) = api_slug {
            check_slug(s)?;
        }
        let key = self.key(consumer_key)?;
        let q = Self::query(&[("api_slug", api_slug.map(str::to_string))]);
        let call = Call::new(
            Method::GET,
            self.client.host_url(&format!("/api/gateway/me/wallet{q}")),
            true,
        )
        .user_auth()
        .bearer(key);
        let r: WalletReply = self.client.fetch_json(call).await?;
        Ok(r.wallet)
    }

    /// The consumer's usage over the last `days` days (platform default 30).
    pub async fn usage(
        &self,
        api_slug: Option<&str>,
        days: Option<u32>,
        consumer_key: Option<&str>,
    ) -> Result<GatewayUsage> {
        if let Some(s) = api_slug {
            check_slug(s)?;
        }
        if let Some(d) = days
            && !(1..=365).contains(&d)
        {
            return Err(Error::validation(
                "days",
                format!("days must be between 1 and 365, got {d}"),
            ));
        }
        let key = self.key(consumer_key)?;
        let q = Self::query(&[
            ("api_slug", api_slug.map(str::to_string)),
            ("days", days.map(|d| d.to_string())),
        ]);
        let call = Call::new(
            Method::GET,
            self.client.host_url(&format!("/api/gateway/me/usage{q}")),
            true,
        )
        .user_auth()
        .bearer(key);
        self.client.fetch_json(call).await
    }

    /// A consumer call answered as the platform sent it (the generated SDKs' `GatewayApi`
    /// operations): `method` on `path` under the API base (`/ai/gateway/{apiSlug}/chat/
    /// completions`, `/ai/gateway/me/wallet?api_slug=`) with the consumer key as Bearer. Writes
    /// (a billed chat) are not retried after an answer.
    pub async fn consumer_request(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        consumer_key: Option<&str>,
    ) -> Result<serde_json::Value> {
        let key = self.key(consumer_key)?;
        let idempotent = method == Method::GET;
        let mut call = Call::new(method, self.client.api_url(path), idempotent)
            .user_auth()
            .bearer(key);
        if let Some(b) = body {
            call = call.json(b)?;
        }
        self.client.fetch_json(call).await
    }

    /// Debits consumer `consumer_id` of API `api_id` by `units` (a project-key call, for usage the
    /// project's backend metered itself; `metric` defaults to `units`).
    pub async fn billing_log(
        &self,
        consumer_id: &str,
        api_id: &str,
        units: u64,
        metric: Option<&str>,
    ) -> Result<BillingLogged> {
        require("consumer_id", consumer_id)?;
        require("api_id", api_id)?;
        if units == 0 {
            return Err(Error::validation(
                "units",
                "units must be a positive integer",
            ));
        }
        let body = BillingBody {
            consumer_id,
            api_id,
            units,
            metric,
        };
        // Each log debits once more: not retried after an answer (an Idempotency-Key goes along).
        self.client.post("/gateway/billing/log", &body, false).await
    }
}
