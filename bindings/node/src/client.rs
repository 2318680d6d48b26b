//! `NativeClient`: the surface's `ClientHandle` (calls, uploads, downloads, streams, realtime,
//! gateway sockets); every waiting method returns a Promise (completion.rs) and takes an optional
//! cancel token.

use aerostack_bindings_common::ClientHandle;
use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::completion::{NativeCancel, NativeProgress, Out, submit};
use crate::gateway_socket::NativeGatewaySocket;
use crate::hosted::NativeHostedCall;
use crate::realtime::NativeRealtime;
use crate::stream::NativeStream;
use crate::{parse_json, to_napi, user_agent};

/// One engine client (one connection pool). `optionsJson`: the surface's client options.
#[napi]
pub struct NativeClient {
    pub(crate) h: ClientHandle,
}

#[napi]
impl NativeClient {
    #[napi(constructor, catch_unwind)]
    pub fn new(options_json: String) -> Result<Self> {
        let h = ClientHandle::new(parse_json("options", &options_json)?, &user_agent())
            .map_err(to_napi)?;
        Ok(NativeClient { h })
    }

    /// A client sharing this one's pool with per-call options (`timeout_ms`, `retry`, ...).
    #[napi(catch_unwind)]
    pub fn with_options(&self, call_options_json: String) -> Result<NativeClient> {
        Ok(NativeClient {
            h: self
                .h
                .with_options(parse_json("options", &call_options_json)?)
                .map_err(to_napi)?,
        })
    }

    /// Runs operation `op` with JSON arguments: a Promise of the `"0"`/`"1"` text.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn call<'e>(
        &self,
        env: &'e Env,
        op: String,
        args_json: String,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'e>> {
        submit(
            env,
            self.h.call(&op, parse_json("args", &args_json)?),
            cancel,
        )
    }

    /// `storage.upload` from `data`, or from the file at `args.path` when `data` is null.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn upload<'e>(
        &self,
        env: &'e Env,
        args_json: String,
        data: Option<Buffer>,
        progress: Option<&NativeProgress>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'e>> {
        let engine_fn = progress.map(|p| p.cell.engine_fn(|| {}));
        let data = data.map(|b| bytes::Bytes::copy_from_slice(&b));
        submit(
            env,
            self.h
                .upload(parse_json("args", &args_json)?, data, engine_fn),
            cancel,
        )
    }

    /// `storage.get`: a Promise of `{ data, contentType }` (or the error text).
    #[napi(
        ts_return_type = "Promise<string | { data: Buffer, contentType?: string | null }>",
        catch_unwind
    )]
    pub fn download<'e>(
        &self,
        env: &'e Env,
        args_json: String,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'e>> {
        let fut = self
            .h
            .download(parse_json("args", &args_json)?)
            .map(|f| async move {
                f.await
                    .map(|o| Out::Download(o.data.to_vec(), o.content_type))
            });
        submit(env, fut, cancel)
    }

    /// Opens streamed operation `op`: a Promise of the `NativeStream` (or the error text).
    #[napi(ts_return_type = "Promise<string | NativeStream>", catch_unwind)]
    pub fn stream<'e>(
        &self,
        env: &'e Env,
        op: String,
        args_json: String,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'e>> {
        let open = self.h.open_stream(&op, parse_json("args", &args_json)?);
        submit(
            env,
            open.map(|f| async move { f.await.map(|s| Out::Stream(NativeStream::new(s))) }),
            cancel,
        )
    }

    /// Starts `op` with its HTTP requests handed to JS (see `NativeHostedCall`).
    #[napi(catch_unwind)]
    pub fn hosted(&self, op: String, args_json: String) -> Result<NativeHostedCall> {
        Ok(NativeHostedCall::new(
            self.h
                .hosted(&op, parse_json("args", &args_json)?)
                .map_err(to_napi)?,
        ))
    }

    /// `upload` with its HTTP requests handed to JS.
    #[napi(catch_unwind)]
    pub fn hosted_upload(
        &self,
        args_json: String,
        data: Option<Buffer>,
    ) -> Result<NativeHostedCall> {
        let data = data.map(|b| bytes::Bytes::copy_from_slice(&b));
        Ok(NativeHostedCall::new(
            self.h
                .hosted_upload(parse_json("args", &args_json)?, data)
                .map_err(to_napi)?,
        ))
    }

    /// Opens gateway API `api_slug`'s chat socket with `consumer_key` (else the client's): a
    /// Promise of the `NativeGatewaySocket` (or the error text: a refused key fails here).
    #[napi(ts_return_type = "Promise<string | NativeGatewaySocket>", catch_unwind)]
    pub fn gateway_socket<'e>(
        &self,
        env: &'e Env,
        api_slug: String,
        consumer_key: Option<String>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'e>> {
        let open = self.h.gateway_socket(&api_slug, consumer_key.as_deref());
        submit(
            env,
            open.map(|f| async move {
                f.await
                    .map(|s| Out::GatewaySocket(NativeGatewaySocket::new(s)))
            }),
            cancel,
        )
    }

    /// A realtime connection of this client's project (opened on first use).
    #[napi(catch_unwind)]
    pub fn realtime(&self, options_json: String) -> Result<NativeRealtime> {
        Ok(NativeRealtime {
            h: self
                .h
                .realtime(parse_json("options", &options_json)?)
                .map_err(to_napi)?,
        })
    }
}
