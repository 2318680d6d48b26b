//! `NativeHostedCall`: an engine call whose HTTP requests JavaScript performs with the user's own
//! `fetch` (the generated SDK's `new SDK({ fetchApi })`). JS pulls each request with `next()`,
//! sends it, and answers with `respond()` or `fail()`; the engine keeps building requests,
//! retries, timeouts, errors and decoding.

use std::sync::Arc;

use aerostack_bindings_common::{Error, HostResponse, HostedCall, Step};
use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::completion::{NativeCancel, Out, submit};
use crate::to_napi;

/// A request for the host to send.
#[napi(object)]
pub struct HostRequestOut {
    pub id: f64,
    pub method: String,
    pub url: String,
    /// `[name, value]` pairs, in order.
    pub headers: Vec<Vec<String>>,
    pub body: Buffer,
}

#[napi]
pub struct NativeHostedCall {
    call: Arc<HostedCall>,
}

impl NativeHostedCall {
    pub fn new(call: HostedCall) -> Self {
        NativeHostedCall {
            call: Arc::new(call),
        }
    }
}

#[napi]
impl NativeHostedCall {
    /// A Promise of the next request to send (`{ id, method, url, headers, body }`), or of the
    /// call's outcome text once it is over.
    #[napi(ts_return_type = "Promise<string | HostRequestOut>", catch_unwind)]
    pub fn next<'e>(&self, env: &'e Env, cancel: Option<&NativeCancel>) -> Result<Object<'e>> {
        let call = self.call.clone();
        let fut = async move {
            match call.next().await {
                Step::Send { id, request } => Ok(Out::HostRequest(id, request)),
                Step::Done(result) => result.map(|v| Out::Text(crate::value_text(&v))),
            }
        };
        submit::<_, Out>(env, Ok::<_, Error>(fut), cancel)
    }

    /// Answers request `id` with the host's response.
    #[napi(catch_unwind)]
    pub fn respond(
        &self,
        id: f64,
        status: u32,
        headers: Vec<Vec<String>>,
        body: Buffer,
    ) -> Result<()> {
        let headers = headers
            .into_iter()
            .filter_map(|mut h| (h.len() == 2).then(|| (h.remove(0), h.remove(0))))
            .collect();
        let status = u16::try_from(status).map_err(|_| {
            to_napi(Error::validation(
                "status",
                format!("HTTP status {status} is out of range"),
            ))
        })?;
        let reply = HostResponse {
            status,
            headers,
            body: bytes::Bytes::copy_from_slice(&body),
        };
        self.call.respond(id as u64, Ok(reply)).map_err(to_napi)
    }

    /// Answers request `id` with the host's failure (treated as a network error: retried).
    #[napi(catch_unwind)]
    pub fn fail(&self, id: f64, message: String) -> Result<()> {
        self.call.respond(id as u64, Err(message)).map_err(to_napi)
    }
}
