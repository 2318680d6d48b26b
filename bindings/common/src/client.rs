//! [`ClientHandle`]: one engine client (one connection pool) as a binding holds it; it also opens
//! the realtime connection and gateway sockets.
//!
//! Every method checks the process guard, decodes its JSON arguments, and returns the engine
//! future to run (the binding starts it as a [`crate::Task`], or awaits it where its host has a
//! Rust executor): so a binding method is one to three lines, and every language gets the same
//! names, argument checks and errors. Inside a Logic Module the handle is the invocation's scoped
//! client, whose ops also include `fetch`.

use std::future::Future;

use aerostack::worker::Sdk;
use aerostack::{CallOptions, Client, ClientConfig, Error, ProgressFn, StoredObject};
use bytes::Bytes;
use serde_json::Value;

use crate::panic::contained;
use crate::gateway_socket::GatewaySocketHandle;
use crate::hosted::HostedCall;
use crate::options::{self, FetchOptions, RealtimeOptions};
use crate::realtime::RealtimeHandle;
use crate::runtime::{ProcessGuard, runtime};
use crate::stream::StreamHandle;
use crate::ops;
use crate::naming::{FieldCase, field_case};
use crate::result_keys::recase_as;

/// A client of one project. Cloning is cheap and shares the pool.
#[derive(Clone)]
pub struct ClientHandle {
    client: Client,
    /// Set on an invocation's scoped client: serves `fetch`.
    sdk: Option<Sdk>,
    guard: ProcessGuard,
    /// The key case of its results (`crate::result_keys`): the language's, unless the options
    /// asked for the wire's (`result_case: "snake"`, for faces that promise the wire's shapes).
    case: FieldCase,
}

impl std::fmt::Debug for ClientHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHandle").field("base_url", &self.client.base_url()).field("scoped", &self.sdk.is_some()).finish()
    }
}

impl ClientHandle {
    /// A client from `options` (the engine's `ClientConfig` fields: `api_key`, `project_id`,
    /// `base_url`, `server_index`, `timeout_ms`, `connect_timeout_ms`, `retry`, `headers`,
    /// `ignore_env`; plus the surface's `result_case`, `"snake"` for results in the wire's
    /// keys whatever the language's case); `user_agent` names the language SDK, e.g.
    /// `aerostack-python/0.1.0`.
    pub fn new(mut options: Value, user_agent: &str) -> Result<ClientHandle, Error> {
        let case = match options.as_object_mut().and_then(|o| o.remove("result_case")) {
            None | Some(Value::Null) => field_case(),
            Some(Value::String(s)) if s == "snake" => FieldCase::Snake,
            Some(Value::String(s)) if s == "camel" => FieldCase::Camel,
            Some(other) => {
                return Err(Error::invalid_config(format!("`result_case` must be \"snake\" or \"camel\", got {other}")));
            }
        };
        let mut cfg: ClientConfig = options::parse_config("client options", options)?;
        if cfg.user_agent_prefix.is_none() {
            cfg.user_agent_prefix = Some(user_agent.to_string());
        }
        // reqwest wants a runtime context to build its pool.
        let rt = runtime()?;
        let _entered = rt.enter();
        Ok(ClientHandle { client: Client::new(cfg)?, sdk: None, guard: ProcessGuard::new(), case })
    }

    /// The key case of this client's results (`crate::result_keys`).
    pub fn result_case(&self) -> FieldCase {
        self.case
    }

    /// The engine client's identity (`logs::LogLine::client` of its calls' log lines), shared
    /// with its `with_options` views.
    pub fn id(&self) -> u64 {
        self.client.id()
    }

    /// The scoped client of a Logic Module invocation.
    pub(crate) fn scoped(sdk: Sdk) -> ClientHandle {
        ClientHandle { client: sdk.client().clone(), sdk: Some(sdk), guard: ProcessGuard::new(), case: field_case() }
    }

    /// The engine client, refused after `fork()` with an error naming the fix.
    pub fn client(&self) -> Result<Client, Error> {
        self.guard.check()?;
        Ok(self.client.clone())
    }

    /// A client sharing this one's pool with per-call options (`timeout_ms`, `retry`,
    /// `idempotency_key`, `headers`).
    pub fn with_options(&self, call_options: Value) -> Result<ClientHandle, Error> {
        let opts: CallOptions = options::parse("call options", call_options)?;
        Ok(ClientHandle { client: self.client()?.with_options(opts), sdk: self.sdk.clone(), guard: self.guard, case: self.case })
    }

    /// Operation `op` (see [`ops::OPERATIONS`]; `fetch` on a scoped client) with JSON arguments.
    pub fn call(&self, op: &str, args: Value) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let client = self.client()?;
        let op = op.to_string();
        let sdk = if op == "fetch" { Some(self.fetch_sdk()?) } else { None };
        let case = self.case;
        Ok(contained(async move {
            let out = match sdk {
                Some(sdk) => fetch(&sdk, args).await,
                None => ops::dispatch(&client, &op, args).await,
            };
            out.map(|v| recase_as(case, &op, v))
        }))
    }

    fn fetch_sdk(&self) -> Result<Sdk, Error> {
        self.sdk.clone().ok_or_else(|| {
            Error::validation(
                "op",
                "`fetch` is an operation of the scoped sdk a Logic Module receives; from a client, use your language's HTTP client",
            )
        })
    }

    /// `storage.upload` from `data`, else from the file at `args.path`; `progress` is the
    /// engine's progress function (see [`crate::ProgressCell`]).
    pub fn upload(
        &self,
        args: Value,
        data: Option<Bytes>,
        progress: Option<ProgressFn>,
    ) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let client = self.client()?;
        let case = self.case;
        Ok(contained(async move { ops::upload(&client, args, data, progress).await.map(|v| recase_as(case, "storage.upload", v)) }))
    }

    /// `storage.get`: the object's bytes and content type.
    pub fn download(&self, args: Value) -> Result<impl Future<Output = Result<StoredObject, Error>> + Send + 'static, Error> {
        let client = self.client()?;
        Ok(contained(async move { ops::download(&client, args).await }))
    }

    /// Opens streamed operation `op` (see [`ops::STREAMS`]).
    pub fn open_stream(
        &self,
        op: &str,
        args: Value,
    ) -> Result<impl Future<Output = Result<StreamHandle, Error>> + Send + 'static, Error> {
        let client = self.client()?;
        let op = op.to_string();
        let case = self.case;
        Ok(contained(async move { StreamHandle::open(&client, &op, args, case).await }))
    }

    /// Operation `op` with its HTTP requests performed by the host's own client.
    pub fn hosted(&self, op: &str, args: Value) -> Result<HostedCall, Error> {
        Ok(HostedCall::start(self.client()?, op.to_string(), args)?)
    }

    /// `upload` with its HTTP requests performed by the host's own client.
    pub fn hosted_upload(&self, args: Value, data: Option<Bytes>) -> Result<HostedCall, Error> {
        let client = self.client()?;
        Ok(HostedCall::spawn(async move { ops::upload(&client, args, data, None).await })?)
    }

    /// Opens gateway API `api_slug`'s chat socket with `consumer_key` (else the client's
    /// consumer key); a refused key fails here with the error the HTTP gateway calls raise.
    pub fn gateway_socket(
        &self,
        api_slug: &str,
        consumer_key: Option<&str>,
    ) -> Result<impl Future<Output = Result<GatewaySocketHandle, Error>> + Send + 'static, Error> {
        let client = self.client()?;
        let (slug, key, case) = (api_slug.to_string(), consumer_key.map(str::to_string), self.case);
        Ok(contained(async move {
            let socket = client.gateway().connect_socket(&slug, key.as_deref()).await?;
            Ok(GatewaySocketHandle::new(socket, case))
        }))
    }

    /// A realtime connection of this client's project (the socket opens on first use).
    pub fn realtime(&self, options: Value) -> Result<RealtimeHandle, Error> {
        let cfg = options::parse::<RealtimeOptions>("realtime options", options)?.config()?;
        RealtimeHandle::new(self.client()?.realtime_with(cfg))
    }
}

/// The scoped sdk's `fetch`: `{url, method, headers, body, timeout_ms}` → `{status, headers, body}`.
async fn fetch(sdk: &Sdk, args: Value) -> Result<Value, Error> {
    let mut args = match args {
        Value::Object(m) => m,
        other => return Err(Error::validation("args", format!("the arguments of fetch must be an object, got {other}"))),
    };
    let url = match args.remove("url") {
        Some(Value::String(u)) => u,
        _ => return Err(Error::validation("url", "fetch needs `url`, e.g. \"https://api.example.com/items\"")),
    };
    let opts: FetchOptions = options::parse("fetch options", Value::Object(args))?;
    let r = sdk.fetch(&url, opts.into()).await?;
    serde_json::to_value(r).map_err(|e| Error::new(aerostack::ErrorCode::DecodeError, e.to_string()))
}
