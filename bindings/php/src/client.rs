//! `Client`: the surface's `ClientHandle` (calls, uploads, downloads, streams, realtime, gateway
//! sockets), each call blocking (`call`) or started as a `Task` (`spawn`, `upload`).

use aerostack_bindings_common::{ClientHandle, ProgressCell};
use ext_php_rs::binary_slice::BinarySlice;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;

use crate::completion::{Task, block_on, block_on_interruptible};
use crate::gateway_socket::GatewaySocket;
use crate::realtime::Realtime;
use crate::stream::Stream;
use crate::{parse_json, to_php, user_agent};

/// One engine client (one connection pool) of a project.
#[php_class]
#[php(name = "Aerostack\\Native\\Client")]
pub struct Client {
    pub(crate) h: ClientHandle,
}

#[php_impl]
impl Client {
    /// `options_json`: the surface's client options (`api_key`, `project_id`, `base_url`,
    /// `timeout_ms`, `retry`, `headers`, ...).
    pub fn __construct(options_json: &str) -> PhpResult<Self> {
        Ok(Client {
            h: ClientHandle::new(parse_json("options", options_json)?, &user_agent())
                .map_err(to_php)?,
        })
    }

    /// A client sharing this one's pool whose calls use `call_options_json` (`timeout_ms`,
    /// `retry`, `idempotency_key`, `headers`).
    pub fn with_options(&self, call_options_json: &str) -> PhpResult<Client> {
        Ok(Client {
            h: self
                .h
                .with_options(parse_json("options", call_options_json)?)
                .map_err(to_php)?,
        })
    }

    /// The engine client's identity, shared with its `withOptions` views: engine log lines carry
    /// it (`drain_logs`), so PHP writes each through the logger of the client that made the call.
    pub fn id(&self) -> i64 {
        self.h.id() as i64
    }

    /// Runs operation `op` with JSON arguments, blocking; the JSON answer, or null when a signal
    /// for PHP's handler interrupted the wait (the call is dropped; PHP runs the handler next).
    pub fn call(&self, op: &str, args_json: &str) -> PhpResult<Option<String>> {
        let fut = self.h.call(op, parse_json("args", args_json)?);
        block_on_interruptible(fut).map(|v| v.map(|v| v.to_string()))
    }

    /// `call` started at once: the running `Task` (wait for it, or not).
    pub fn spawn(&self, op: &str, args_json: &str) -> PhpResult<Task> {
        Task::spawn(self.h.call(op, parse_json("args", args_json)?))
    }

    /// `storage.upload` from `data`, or from the file at `args.path` when `data` is null;
    /// the running `Task`, whose `progress()` gives the upload's figures while it runs.
    pub fn upload(&self, args_json: &str, data: Option<BinarySlice<u8>>) -> PhpResult<Task> {
        let cell = ProgressCell::new();
        let data = data.map(|d| bytes::Bytes::copy_from_slice(&d));
        let fut = self.h.upload(
            parse_json("args", args_json)?,
            data,
            Some(cell.engine_fn(|| {})),
        );
        Task::spawn_with(fut, Some(cell))
    }

    /// `storage.get`: `[bytes, content_type]`, or `[]` when a signal for PHP's handler
    /// interrupted the wait (the download is dropped; PHP runs the handler next).
    pub fn download(&self, args_json: &str) -> PhpResult<Vec<Zval>> {
        let Some(obj) = block_on_interruptible(self.h.download(parse_json("args", args_json)?))?
        else {
            return Ok(Vec::new());
        };
        let mut data = Zval::new();
        data.set_binary(obj.data.to_vec());
        let mut ct = Zval::new();
        match obj.content_type.as_deref() {
            Some(t) => ct
                .set_string(t, false)
                .map_err(|e| PhpException::from(e.to_string()))?,
            None => ct.set_null(),
        }
        Ok(vec![data, ct])
    }

    /// Opens streamed operation `op` (`ai.chat_stream`, `*.list_all`); pull it with `next()`.
    pub fn stream(&self, op: &str, args_json: &str) -> PhpResult<Stream> {
        let open = self.h.open_stream(op, parse_json("args", args_json)?);
        block_on(open).map(Stream::new)
    }

    /// The realtime connection of this client's project (`options_json`: the surface's
    /// realtime options, durations in ms); the socket opens on first use.
    pub fn realtime(&self, options_json: &str) -> PhpResult<Realtime> {
        Ok(Realtime {
            h: self
                .h
                .realtime(parse_json("options", options_json)?)
                .map_err(to_php)?,
        })
    }

    /// Opens the AI gateway's chat socket of API `api_slug` with `consumer_key` (null: the
    /// client's); null when a signal for PHP's handler interrupted the handshake.
    pub fn gateway_socket(
        &self,
        api_slug: &str,
        consumer_key: Option<String>,
    ) -> PhpResult<Option<GatewaySocket>> {
        let open = self.h.gateway_socket(api_slug, consumer_key.as_deref());
        Ok(block_on_interruptible(open)?.map(GatewaySocket::new))
    }
}
