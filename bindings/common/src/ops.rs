//! The operation table: every engine call by name, with JSON arguments and a JSON answer.
//!
//! Each binding exposes one `call(op, args)` (sync and async) and writes its idiomatic face in the
//! host language on top; so the mapping from "what the user called" to "which engine method with
//! which arguments" is written once, here, and every language gets the same names, the same
//! argument names and the same validation errors. Argument names are the engine's (snake_case);
//! `_options` carries per-call [`CallOptions`] (timeout_ms, retry, idempotency_key, headers).
//!
//! Binary payloads do not fit JSON: uploads and downloads have their own functions, [`upload`]
//! and [`download`].

use aerostack::{
    CallOptions, ChatRequest, Client, CollectionQuery, CompleteOptions, Error, JobFilter, Method, SearchQuery, Statement,
    UploadOptions, UploadSource,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// Every operation [`dispatch`] knows, for documentation and for bindings' own checks.
pub const OPERATIONS: &[&str] = &[
    "db.query", "db.query_one", "db.batch",
    "db.collection.list", "db.collection.get", "db.collection.create", "db.collection.update", "db.collection.delete",
    "auth.signup", "auth.signin", "auth.register", "auth.login", "auth.send_otp", "auth.verify_otp",
    "auth.verify_email", "auth.resend_verification", "auth.request_password_reset", "auth.reset_password",
    "auth.refresh", "auth.logout", "auth.me", "auth.update_me", "auth.delete_avatar", "auth.verify_token",
    "cache.get", "cache.set", "cache.has", "cache.delete", "cache.get_many", "cache.set_many",
    "cache.delete_many", "cache.list", "cache.keys", "cache.flush", "cache.expire", "cache.increment",
    "queue.enqueue", "queue.send", "queue.job", "queue.jobs", "queue.cancel", "queue.wait",
    "storage.get_url", "storage.list", "storage.delete", "storage.exists", "storage.metadata",
    "storage.copy", "storage.move",
    "ai.chat", "ai.complete", "ai.embed",
    "gateway.chat", "gateway.wallet", "gateway.usage", "gateway.billing_log",
    "ai.search.ingest", "ai.search.query", "ai.search.get", "ai.search.update", "ai.search.delete",
    "ai.search.delete_by_type", "ai.search.list_types", "ai.search.count", "ai.search.configure",
    "secrets.get", "secrets.set", "secrets.list",
    "services.invoke", "call", "realtime.history", "realtime.emit", "local.outbox", "local.workers", "local.wait_served", "request", "rest",
];

/// The arguments of one call, with accessors whose errors name the field and the fix.
pub struct Args {
    op: String,
    map: Map<String, Value>,
}

impl Args {
    /// `args` must be a JSON object (or null for no arguments).
    pub fn new(op: &str, args: Value) -> Result<Args, Error> {
        let map = match args {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => {
                return Err(Error::validation(
                    "args",
                    format!("the arguments of {op} must be an object of named arguments, got {other}"),
                ));
            }
        };
        Ok(Args { op: op.to_string(), map })
    }

    fn present(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// `what`: the value wanted, in words or as a JSON example (never one language's call
    /// syntax: the message reaches every SDK).
    fn missing(&self, name: &str, what: &str) -> Error {
        Error::validation(name, format!("{} needs `{name}`: {what}", self.op))
    }

    fn wrong(&self, name: &str, want: &str, got: &Value) -> Error {
        Error::validation(name, format!("`{name}` of {} must be {want}, got {got}", self.op))
    }

    /// A required string.
    pub fn str(&self, name: &str) -> Result<&str, Error> {
        match self.present(name) {
            Some(Value::String(s)) => Ok(s),
            Some(v) => Err(self.wrong(name, "a string", v)),
            None => Err(self.missing(name, "a string")),
        }
    }

    /// An optional string.
    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, Error> {
        match self.present(name) {
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.wrong(name, "a string", v)),
            None => Ok(None),
        }
    }

    /// An optional non-negative integer.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, Error> {
        match self.present(name) {
            Some(v) => v.as_u64().map(Some).ok_or_else(|| self.wrong(name, "a non-negative integer", v)),
            None => Ok(None),
        }
    }

    /// An optional integer that fits `u32`.
    pub fn opt_u32(&self, name: &str) -> Result<Option<u32>, Error> {
        match self.opt_u64(name)? {
            Some(n) => u32::try_from(n).map(Some).map_err(|_| self.wrong(name, "at most 4294967295", &json!(n))),
            None => Ok(None),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.present(name) {
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(self.wrong(name, "true or false", v)),
            None => Ok(None),
        }
    }

    /// An optional signed integer.
    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, Error> {
        match self.present(name) {
            Some(v) => v.as_i64().map(Some).ok_or_else(|| self.wrong(name, "an integer", v)),
            None => Ok(None),
        }
    }

    /// A required value of any JSON type (null allowed when present).
    pub fn value(&self, name: &str) -> Result<&Value, Error> {
        self.map.get(name).ok_or_else(|| self.missing(name, "a value"))
    }

    /// An optional value of any JSON type.
    pub fn opt_value(&self, name: &str) -> Option<&Value> {
        self.present(name)
    }

    /// An optional list of JSON values (SQL parameters).
    pub fn list(&self, name: &str) -> Result<Vec<Value>, Error> {
        match self.present(name) {
            Some(Value::Array(a)) => Ok(a.clone()),
            Some(v) => Err(self.wrong(name, "a list", v)),
            None => Ok(Vec::new()),
        }
    }

    /// A typed argument decoded from its JSON.
    pub fn typed<T: DeserializeOwned>(&self, name: &str, example: &str) -> Result<T, Error> {
        let v = self.present(name).ok_or_else(|| self.missing(name, &format!("e.g. {example}")))?;
        serde_json::from_value(v.clone())
            .map_err(|e| Error::validation(name, format!("`{name}` of {} is not valid: {e}; e.g. {example}", self.op)))
    }

    /// An optional typed argument.
    pub fn opt_typed<T: DeserializeOwned>(&self, name: &str, example: &str) -> Result<Option<T>, Error> {
        if self.present(name).is_none() {
            return Ok(None);
        }
        self.typed(name, example).map(Some)
    }
}

fn out<T: Serialize>(v: T) -> Result<Value, Error> {
    serde_json::to_value(v).map_err(|e| Error::new(aerostack::ErrorCode::DecodeError, e.to_string()))
}

/// The client to use for this call: with `_options` applied when given.
fn client_for(client: &Client, a: &Args) -> Result<Client, Error> {
    match a.opt_typed::<CallOptions>("_options", "{\"timeout_ms\": 5000}")? {
        Some(opts) => Ok(client.with_options(opts)),
        None => Ok(client.clone()),
    }
}

fn method(a: &Args) -> Result<Method, Error> {
    let m = a.opt_str("method")?.unwrap_or("POST").to_ascii_uppercase();
    Method::from_bytes(m.as_bytes()).map_err(|_| Error::validation("method", format!("`method` {m:?} is not an HTTP method")))
}

/// Runs `op` with `args` and returns its JSON answer.
pub async fn dispatch(client: &Client, op: &str, args: Value) -> Result<Value, Error> {
    let a = Args::new(op, args)?;
    let c = client_for(client, &a)?;
    match op {
        // database
        "db.query" => out(c.db().query(a.str("sql")?, &a.list("params")?).await?),
        "db.query_one" => out(c.db().query_one(a.str("sql")?, &a.list("params")?).await?),
        "db.batch" => {
            let stmts: Vec<Statement> = a.typed("queries", "[{\"sql\": \"INSERT ...\", \"params\": [1]}]")?;
            out(c.db().batch(&stmts).await?)
        }
        // collections: `collection` names it; `id` an item; `data` an item's data (an object)
        "db.collection.list" => out(c.db().collection(a.str("collection")?)?.list(&collection_query(&a)?).await?),
        "db.collection.get" => out(c.db().collection(a.str("collection")?)?.get(a.str("id")?).await?),
        "db.collection.create" => out(c.db().collection(a.str("collection")?)?.create(a.value("data")?).await?),
        "db.collection.update" => {
            out(c.db().collection(a.str("collection")?)?.update(a.str("id")?, a.value("data")?).await?)
        }
        "db.collection.delete" => out(c.db().collection(a.str("collection")?)?.delete(a.str("id")?).await?),
        // auth
        "auth.signup" => out(c.auth().signup(a.str("email")?, a.str("password")?, a.opt_str("name")?, a.opt_value("metadata")).await?),
        "auth.signin" => out(c.auth().signin(a.str("email")?, a.str("password")?).await?),
        "auth.register" => {
            out(c.auth().register(a.str("email")?, a.str("password")?, a.opt_str("name")?, a.opt_value("custom_fields")).await?)
        }
        "auth.login" => out(c.auth().login(a.str("email")?, a.str("password")?).await?),
        "auth.send_otp" => out(c.auth().send_otp(a.opt_str("email")?, a.opt_str("phone")?).await?),
        "auth.verify_otp" => out(c.auth().verify_otp(a.str("code")?, a.opt_str("email")?, a.opt_str("phone")?).await?),
        "auth.verify_email" => out(c.auth().verify_email(a.str("token")?).await?),
        "auth.resend_verification" => out(c.auth().resend_verification(a.str("email")?).await?),
        "auth.request_password_reset" => out(c.auth().request_password_reset(a.str("email")?).await?),
        "auth.reset_password" => out(c.auth().reset_password(a.str("token")?, a.str("new_password")?).await?),
        "auth.refresh" => out(c.auth().refresh(a.str("refresh_token")?).await?),
        "auth.logout" => out(c.auth().logout(a.str("access_token")?, a.opt_str("refresh_token")?).await?),
        "auth.me" => out(c.auth().me(a.str("access_token")?).await?),
        "auth.update_me" => out(c.auth().update_me(a.str("access_token")?, a.value("fields")?).await?),
        "auth.delete_avatar" => out(c.auth().delete_avatar(a.str("access_token")?).await?),
        "auth.verify_token" => out(c.auth().verify_token(a.str("token")?).await?),
        // cache
        "cache.get" => out(c.cache().get(a.str("key")?).await?),
        "cache.set" => out(c.cache().set(a.str("key")?, a.value("value")?, a.opt_u64("ttl")?).await?),
        "cache.has" => out(c.cache().has(a.str("key")?).await?),
        "cache.delete" => out(c.cache().delete(a.str("key")?).await?),
        // Result shapes decided once for every language: the found keys and their values.
        "cache.get_many" => {
            let keys: Vec<String> = a.typed("keys", "[\"a\", \"b\"]")?;
            let found = c.cache().get_many(&keys).await?.into_iter().filter(|e| e.exists);
            Ok(Value::Object(found.map(|e| (e.key, e.value.unwrap_or(Value::Null))).collect()))
        }
        "cache.set_many" => {
            let entries: Vec<aerostack::CacheSetEntry> =
                a.typed("entries", "[{\"key\": \"a\", \"value\": 1, \"ttl\": 60}]")?;
            out(c.cache().set_many(&entries).await?)
        }
        "cache.delete_many" => {
            let keys: Vec<String> = a.typed("keys", "[\"a\", \"b\"]")?;
            out(c.cache().delete_many(&keys).await?)
        }
        "cache.list" => out(c.cache().list(a.opt_str("prefix")?, a.opt_u32("limit")?, a.opt_str("cursor")?).await?),
        "cache.keys" => out(c.cache().keys(a.opt_str("prefix")?).await?.keys),
        "cache.flush" => out(c.cache().flush(a.opt_str("prefix")?).await?),
        "cache.expire" => {
            let ttl = a.opt_u64("ttl")?.ok_or_else(|| a.missing("ttl", "a number of seconds, e.g. 60"))?;
            out(c.cache().expire(a.str("key")?, ttl).await?)
        }
        "cache.increment" => out(
            c.cache()
                .increment(a.str("key")?, a.opt_i64("amount")?, a.opt_i64("initial_value")?, a.opt_u64("ttl")?)
                .await?,
        ),
        // queue
        "queue.enqueue" | "queue.send" => {
            let data = a.opt_value("data").cloned().unwrap_or_else(|| json!({}));
            let id = c.queue().enqueue(a.str("type")?, &data, a.opt_u64("delay_seconds")?, a.opt_u32("max_retries")?).await?;
            Ok(json!({ "job_id": id }))
        }
        "queue.job" => out(c.queue().job(a.str("job_id")?).await?),
        "queue.jobs" => {
            let filter = JobFilter {
                status: a.opt_str("status")?.map(str::to_string),
                job_type: a.opt_str("type")?.map(str::to_string),
                limit: a.opt_u32("limit")?,
                cursor: a.opt_str("cursor")?.map(str::to_string),
            };
            out(c.queue().jobs(&filter).await?)
        }
        "queue.cancel" => out(c.queue().cancel(a.str("job_id")?).await?),
        "queue.wait" => {
            let timeout = a.opt_u64("timeout_ms")?.unwrap_or(30_000);
            out(c.queue().wait(a.str("job_id")?, std::time::Duration::from_millis(timeout)).await?)
        }
        // storage (upload and get carry bytes: see `upload` and `download`)
        "storage.get_url" => {
            let expires_in = a.opt_u64("expires_in")?.map(std::time::Duration::from_secs);
            out(c.storage().get_url(a.str("key")?, expires_in).await?)
        }
        "storage.list" => out(c.storage().list(a.opt_str("prefix")?, a.opt_u32("limit")?, a.opt_str("cursor")?).await?),
        "storage.delete" => out(c.storage().delete(a.str("key")?).await?),
        "storage.exists" => out(c.storage().exists(a.str("key")?).await?),
        "storage.metadata" => out(c.storage().metadata(a.str("key")?).await?),
        "storage.copy" => out(c.storage().copy(a.str("source_key")?, a.str("dest_key")?).await?),
        "storage.move" => out(c.storage().r#move(a.str("source_key")?, a.str("dest_key")?).await?),
        // ai
        "ai.chat" => out(c.ai().chat(&chat_request(&a)?).await?),
        // the AI gateway: `api_slug` a gateway API, `consumer_key` (else the client's) its consumer
        "gateway.chat" => out(c.gateway().chat(a.str("api_slug")?, &chat_request(&a)?, a.opt_str("consumer_key")?).await?),
        "gateway.wallet" => out(c.gateway().wallet(a.opt_str("api_slug")?, a.opt_str("consumer_key")?).await?),
        "gateway.usage" => {
            out(c.gateway().usage(a.opt_str("api_slug")?, a.opt_u32("days")?, a.opt_str("consumer_key")?).await?)
        }
        "gateway.billing_log" => out(
            c.gateway()
                .billing_log(a.str("consumer_id")?, a.str("api_id")?, a.opt_u64("units")?.unwrap_or(0), a.opt_str("metric")?)
                .await?,
        ),
        "ai.complete" => {
            let opts = CompleteOptions {
                model: a.opt_str("model")?.map(str::to_string),
                max_tokens: a.opt_u32("max_tokens")?,
                temperature: a.opt_typed("temperature", "0.7")?,
                system: a.opt_str("system")?.map(str::to_string),
            };
            out(c.ai().complete(a.str("prompt")?, opts).await?)
        }
        "ai.embed" => out(c.ai().embed(a.str("text")?).await?),
        "ai.search.ingest" => out(
            c.ai().search().ingest(a.str("content")?, a.str("type")?, a.opt_str("id")?, a.opt_value("metadata")).await?,
        ),
        "ai.search.query" => {
            let q = SearchQuery {
                top_k: a.opt_u32("top_k")?,
                types: a.opt_typed("types", "[\"faq\"]")?,
                filter: a.opt_value("filter").cloned(),
            };
            out(c.ai().search().query(a.str("text")?, &q).await?)
        }
        "ai.search.get" => out(c.ai().search().get(a.str("id")?).await?),
        "ai.search.update" => out(
            c.ai().search().update(a.str("id")?, a.str("content")?, a.opt_str("type")?, a.opt_value("metadata")).await?,
        ),
        "ai.search.delete" => out(c.ai().search().delete(a.str("id")?).await?),
        "ai.search.delete_by_type" => out(c.ai().search().delete_by_type(a.str("type")?).await?),
        "ai.search.list_types" => out(c.ai().search().list_types().await?),
        "ai.search.count" => out(c.ai().search().count(a.opt_str("type")?).await?),
        "ai.search.configure" => out(c.ai().search().configure(a.str("embedding_model")?).await?),
        // secrets, services, custom APIs, realtime history, local outbox
        "secrets.get" => out(c.secrets().get(a.str("key")?).await?),
        "secrets.set" => out(c.secrets().set(a.str("key")?, a.str("value")?).await?),
        "secrets.list" => out(c.secrets().list().await?),
        "services.invoke" => {
            let data = a.opt_value("data").cloned().unwrap_or(Value::Null);
            out(c.services().invoke(a.str("service_name")?, &data).await?)
        }
        "call" => {
            let data = a.opt_value("data").cloned().unwrap_or_else(|| json!({}));
            out(c.call(a.str("slug")?, &data, method(&a)?).await?)
        }
        "realtime.history" => out(c.realtime_history(a.str("room")?, a.opt_u32("limit")?, a.opt_i64("before")?).await?),
        "realtime.emit" => {
            let data = a.opt_value("data").cloned().unwrap_or(Value::Null);
            let persist = a.opt_typed::<bool>("persist", "true")?.unwrap_or(false);
            out(c.socket().emit_with(a.str("event")?, &data, a.str("room")?, persist).await?)
        }
        "local.outbox" => out(c.local_outbox(a.opt_str("to")?, a.opt_u32("limit")?).await?),
        "local.workers" => out(c.local_workers().await?),
        "local.wait_served" => {
            let timeout = a.opt_u64("timeout_ms")?.unwrap_or(10_000);
            out(c.local_wait_served(a.str("name")?, std::time::Duration::from_millis(timeout)).await?)
        }
        "request" => c.request_json(method(&a)?, a.str("path")?, a.opt_value("body"), None).await,
        "rest" => {
            let name = a.str("operation")?;
            let rest = crate::rest::find(name).ok_or_else(|| {
                Error::validation(
                    "operation",
                    format!("unknown REST operation {name:?}: name one of rest::REST_OPERATIONS as group.name, e.g. \"database.db_query\""),
                )
            })?;
            let method = Method::from_bytes(rest.method.as_bytes()).expect("the table's methods are valid");
            let body = if rest.method == "GET" { None } else { Some(a.opt_value("request").cloned().unwrap_or_else(|| json!({}))) };
            let target = rest.target(a.opt_value("params"))?;
            match rest.auth {
                crate::rest::RestAuth::ProjectKey => c.request_json(method, &target, body.as_ref(), None).await,
                crate::rest::RestAuth::Consumer => {
                    c.gateway().consumer_request(method, &target, body.as_ref(), a.opt_str("consumer_key")?).await
                }
            }
        }
        other => Err(Error::validation(
            "op",
            format!("unknown operation {other:?}; the operations are listed in aerostack_bindings_common::ops::OPERATIONS"),
        )),
    }
}

/// `storage.upload`: from `data` when given, else from the file at `args.path`.
pub async fn upload(
    client: &Client,
    args: Value,
    data: Option<bytes::Bytes>,
    progress: Option<aerostack::ProgressFn>,
) -> Result<Value, Error> {
    let a = Args::new("storage.upload", args)?;
    let c = client_for(client, &a)?;
    let source = match (data, a.opt_str("path")?) {
        (Some(d), None) => UploadSource::Bytes(d),
        (None, Some(p)) => UploadSource::Path(p.into()),
        (Some(_), Some(_)) => {
            return Err(Error::validation("path", "storage.upload takes either file bytes or a file path, not both"));
        }
        (None, None) => return Err(a.missing("file_bytes", "the bytes to upload, or a file path such as ./photo.jpg")),
    };
    let opts = UploadOptions { content_type: a.opt_str("content_type")?.map(str::to_string), progress, public: a.opt_bool("public")? };
    out(c.storage().upload(a.str("key")?, source, opts).await?)
}

/// The operations [`open_stream`] knows: streamed chat, and the cursor-following listings that
/// yield every item across pages (`page_size` sets the page; `cursor` of `queue.jobs_all` is the
/// starting point).
pub const STREAMS: &[&str] =
    &["ai.chat_stream", "gateway.chat_stream", "cache.list_all", "storage.list_all", "queue.jobs_all", "db.collection.list_all"];

/// A stream of JSON items (see [`crate::stream::StreamHandle`]).
pub type ValueStream = futures_util::stream::BoxStream<'static, Result<Value, Error>>;

/// Opens a streamed operation: `ai.chat_stream` (the arguments of `ai.chat`) yields
/// `{delta, finish_reason, usage, model}` chunks. Errors before the first item (bad arguments,
/// `AI_NOT_CONFIGURED`, ...) come from here, not from the stream.
pub async fn open_stream(client: &Client, op: &str, args: Value) -> Result<ValueStream, Error> {
    use futures_util::StreamExt;
    let a = Args::new(op, args)?;
    let c = client_for(client, &a)?;
    match op {
        "ai.chat_stream" => {
            let chunks = c.ai().chat_stream(&chat_request(&a)?).await?;
            Ok(chunks.map(|r| r.and_then(out)).boxed())
        }
        "gateway.chat_stream" => {
            let chunks = c.gateway().chat_stream(a.str("api_slug")?, &chat_request(&a)?, a.opt_str("consumer_key")?).await?;
            Ok(chunks.map(|r| r.and_then(out)).boxed())
        }
        "cache.list_all" => {
            Ok(c.cache().list_all(a.opt_str("prefix")?, a.opt_u32("page_size")?).map(|r| r.and_then(out)).boxed())
        }
        "storage.list_all" => {
            Ok(c.storage().list_all(a.opt_str("prefix")?, a.opt_u32("page_size")?).map(|r| r.and_then(out)).boxed())
        }
        "db.collection.list_all" => {
            let mut q = collection_query(&a)?;
            q.limit = a.opt_u32("page_size")?.or(q.limit);
            Ok(c.db().collection(a.str("collection")?)?.list_all(q).map(|r| r.and_then(out)).boxed())
        }
        "queue.jobs_all" => {
            let filter = JobFilter {
                status: a.opt_str("status")?.map(str::to_string),
                job_type: a.opt_str("type")?.map(str::to_string),
                limit: a.opt_u32("page_size")?,
                cursor: a.opt_str("cursor")?.map(str::to_string),
            };
            Ok(c.queue().jobs_all(filter).map(|r| r.and_then(out)).boxed())
        }
        _ => Err(Error::validation(
            "op",
            format!("unknown streamed operation {op:?}; the streamed operations are: {}", STREAMS.join(", ")),
        )),
    }
}

/// `limit`, `cursor`, `order` and `filter` (`{field: value}`) of a collection listing.
fn collection_query(a: &Args) -> Result<CollectionQuery, Error> {
    Ok(CollectionQuery {
        limit: a.opt_u32("limit")?,
        cursor: a.opt_str("cursor")?.map(str::to_string),
        order: a.opt_str("order")?.map(str::to_string),
        filter: a.opt_typed("filter", "{\"status\": \"open\"}")?.unwrap_or_default(),
    })
}

pub(crate) fn chat_request(a: &Args) -> Result<ChatRequest, Error> {
    Ok(ChatRequest {
        messages: a.typed("messages", "[{\"role\": \"user\", \"content\": \"Hi\"}]")?,
        model: a.opt_str("model")?.map(str::to_string),
        temperature: a.opt_typed("temperature", "0.7")?,
        max_tokens: a.opt_u32("max_tokens")?,
        top_p: a.opt_typed("top_p", "0.9")?,
    })
}

/// `storage.get`: the object's bytes and content type.
pub async fn download(client: &Client, args: Value) -> Result<aerostack::StoredObject, Error> {
    let a = Args::new("storage.get", args)?;
    client_for(client, &a)?.storage().get(a.str("key")?).await
}

/// Bindings run these futures on a multi-threaded runtime: they must stay `Send`.
#[allow(dead_code)]
fn _futures_are_send(c: &Client) {
    fn send<T: Send>(_: T) {}
    send(dispatch(c, "", Value::Null));
    send(upload(c, Value::Null, None, None));
    send(download(c, Value::Null));
    send(open_stream(c, "", Value::Null));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline_client() -> Client {
        // Port 9 (discard) on loopback: nothing answers, so only argument checks are exercised.
        let mut cfg = aerostack::ClientConfig::new().base_url("http://127.0.0.1:9/v1").api_key("k");
        cfg.ignore_env = true;
        Client::new(cfg).unwrap()
    }

    #[tokio::test]
    async fn unknown_operations_are_named() {
        let e = dispatch(&offline_client(), "db.qurey", json!({})).await.unwrap_err();
        assert_eq!(e.code().as_str(), "VALIDATION_ERROR");
        assert!(e.message().contains("\"db.qurey\""), "{}", e.message());
    }

    #[tokio::test]
    async fn missing_and_mistyped_arguments_name_the_field() {
        let c = offline_client();
        let e = dispatch(&c, "db.query", json!({"params": []})).await.unwrap_err();
        assert_eq!(e.details().unwrap()["field"], "sql");
        let e = dispatch(&c, "cache.set", json!({"key": "k", "value": 1, "ttl": "soon"})).await.unwrap_err();
        assert_eq!(e.details().unwrap()["field"], "ttl");
        assert!(e.message().contains("non-negative integer"), "{}", e.message());
        let e = dispatch(&c, "db.batch", json!({"queries": [{"params": []}]})).await.unwrap_err();
        assert_eq!(e.details().unwrap()["field"], "queries");
        let e = dispatch(&c, "cache.get", json!(["k"])).await.unwrap_err();
        assert_eq!(e.details().unwrap()["field"], "args");
    }

    #[test]
    fn every_listed_operation_is_dispatched() {
        let src = include_str!("ops.rs");
        for op in OPERATIONS.iter().chain(STREAMS) {
            assert!(src.contains(&format!("\"{op}\" =>")) || src.contains(&format!("\"{op}\" |")), "{op} is listed but not dispatched");
        }
    }
}

