//! The scoped `sdk` a handler receives: a [`Client`] whose key is the invocation's scope token,
//! so every call acts on the invocation's project and only while the invocation lives. Names
//! follow seed 000: `sdk.db().query(sql, params)`, `sdk.cache().get/set(key, value, ttl)`,
//! `sdk.ai().chat(model, messages)`, `sdk.fetch(url, options)`, `sdk.secrets().get(key)`,
//! `sdk.queue().enqueue(job_name, data)`, `sdk.socket().emit(event, data, room)`.

use std::ops::Deref;

use serde::Serialize;

use super::fetch::{FetchOptions, FetchResponse};
use crate::client::Client;
use crate::error::Result;
use crate::options::CallOptions;
use crate::services::{Ai, Cache, Db, Queue, Secrets, Storage};
use crate::{ChatMessage, ChatRequest, ChatResponse};

/// The handler's view of the platform, bound to one invocation's project.
#[derive(Clone, Debug)]
pub struct Sdk {
    client: Client,
    project_id: String,
    fetch_http: reqwest::Client,
}

impl Sdk {
    /// `worker_client` shares its connection pool; the scope token replaces its key on every
    /// call (per-call headers win over client headers).
    pub(crate) fn new(
        worker_client: &Client,
        scope_token: &str,
        project_id: &str,
        fetch_http: reqwest::Client,
    ) -> Sdk {
        let options = CallOptions::new()
            .header("X-Aerostack-Key", scope_token)
            .header("X-Project-Id", project_id);
        Sdk {
            client: worker_client.with_options(options),
            project_id: project_id.to_string(),
            fetch_http,
        }
    }

    /// The invocation's project id.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The scoped client itself, for anything not wrapped here.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// SQL database of the project: `query(sql, params)`, `query_one`, `batch`.
    pub fn db(&self) -> Db<'_> {
        self.client.db()
    }

    /// Cache of the project: `get(key)`, `set(key, value, ttl)`, ...
    pub fn cache(&self) -> Cache<'_> {
        self.client.cache()
    }

    /// Storage of the project.
    pub fn storage(&self) -> Storage<'_> {
        self.client.storage()
    }

    /// Secrets of the project: `get(key)`.
    pub fn secrets(&self) -> Secrets<'_> {
        self.client.secrets()
    }

    /// Queue of the project: `enqueue(job_name, data)`, and every [`Queue`] method.
    pub fn queue(&self) -> SdkQueue<'_> {
        SdkQueue(self.client.queue())
    }

    /// AI: `chat(model, messages)`, and every [`Ai`] method.
    pub fn ai(&self) -> SdkAi<'_> {
        SdkAi(self.client.ai())
    }

    /// Realtime: `emit(event, data, room)` to the project's rooms (the engine's REST emit,
    /// `POST /v1/realtime/emit`, authenticated by the scope token).
    pub fn socket(&self) -> crate::realtime::Socket<'_> {
        self.client.socket()
    }

    /// Outbound HTTP with `User-Agent: aerostack-hooks/<version>` and a timeout (30 s unless
    /// `options.timeout`). Any status is an answer; only network failures are errors.
    pub async fn fetch(&self, url: &str, options: FetchOptions) -> Result<FetchResponse> {
        super::fetch::fetch(&self.fetch_http, url, options).await
    }
}

/// [`Sdk::queue`]: seed 000's `enqueue(job_name, data)` over [`Queue`].
#[derive(Debug, Clone, Copy)]
pub struct SdkQueue<'a>(Queue<'a>);

impl SdkQueue<'_> {
    /// Enqueues a job of type `job_name` now, with the platform's retry default; returns its id.
    pub async fn enqueue<D: Serialize + ?Sized>(&self, job_name: &str, data: &D) -> Result<String> {
        self.0.enqueue(job_name, data, None, None).await
    }
}

impl<'a> Deref for SdkQueue<'a> {
    type Target = Queue<'a>;
    fn deref(&self) -> &Queue<'a> {
        &self.0
    }
}

/// [`Sdk::ai`]: seed 000's `chat(model, messages)` over [`Ai`].
#[derive(Debug, Clone, Copy)]
pub struct SdkAi<'a>(Ai<'a>);

impl SdkAi<'_> {
    /// Chat with `model` (e.g. `@cf/meta/llama-3-8b-instruct`).
    pub async fn chat(&self, model: &str, messages: Vec<ChatMessage>) -> Result<ChatResponse> {
        let mut request = ChatRequest::new(messages);
        request.model = Some(model.to_string());
        self.0.chat(&request).await
    }
}

impl<'a> Deref for SdkAi<'a> {
    type Target = Ai<'a>;
    fn deref(&self) -> &Ai<'a> {
        &self.0
    }
}
