//! Service invocation: `POST /v1/services/invoke`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::Result;
use crate::services::require;

/// Services handle, from [`Client::services`].
#[derive(Debug, Clone, Copy)]
pub struct Services<'a> {
    client: &'a Client,
}

/// Answer of [`Services::invoke`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvokeResult {
    /// Whether the service ran successfully.
    pub success: bool,
    /// What the service returned.
    pub result: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvokeBody<'a, D: ?Sized> {
    service_name: &'a str,
    data: &'a D,
}

impl<'a> Services<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Services { client }
    }

    /// Invokes the service (Logic Module) `service_name` with `data`.
    /// `WORKER_NOT_CONNECTED` (503) when no worker serves it.
    pub async fn invoke<D: Serialize + ?Sized>(
        &self,
        service_name: &str,
        data: &D,
    ) -> Result<InvokeResult> {
        require("service_name", service_name)?;
        self.client
            .post(
                "/services/invoke",
                &InvokeBody { service_name, data },
                false,
            )
            .await
    }
}
