//! `GatewaySocket`: the surface's `GatewaySocketHandle` (the AI gateway's chat socket). Events are
//! pulled by the Composer package (`Aerostack\Gateway\GatewaySocket`); the engine never calls PHP.

use std::sync::atomic::{AtomicBool, Ordering};

use aerostack_bindings_common::{Error, GatewaySocketHandle};
use ext_php_rs::prelude::*;
use serde_json::Value;

use crate::completion::{block_on, block_on_interruptible};
use crate::{parse_json, to_php};

/// One open gateway chat socket. Sends return the id of their frame, which the events that
/// answer it carry as `request`; events and answers are JSON text.
#[php_class]
#[php(name = "Aerostack\\Native\\GatewaySocket")]
pub struct GatewaySocket {
    h: GatewaySocketHandle,
    interrupted: AtomicBool,
}

impl GatewaySocket {
    pub fn new(h: GatewaySocketHandle) -> GatewaySocket {
        GatewaySocket {
            h,
            interrupted: AtomicBool::new(false),
        }
    }

    /// Waits for `fut` like `block_on_interruptible`, remembering whether a signal cut it short.
    fn wait<T: Send + 'static>(
        &self,
        fut: Result<impl std::future::Future<Output = Result<T, Error>> + Send + 'static, Error>,
    ) -> PhpResult<Option<T>> {
        let out = block_on_interruptible(fut)?;
        self.interrupted.store(out.is_none(), Ordering::Release);
        Ok(out)
    }
}

/// A frame id as PHP's int (ids count up from 1).
fn id(v: Value) -> i64 {
    v.as_i64().unwrap_or_default()
}

#[php_impl]
impl GatewaySocket {
    /// `ws(s)://host/api/gateway/{apiSlug}/ws`.
    pub fn url(&self) -> String {
        self.h.url().to_string()
    }

    /// The gateway API it chats with.
    pub fn api_slug(&self) -> String {
        self.h.api_slug().to_string()
    }

    /// `open`, `closing` or `closed`.
    pub fn state(&self) -> String {
        self.h.state()
    }

    /// Starts a chat (`args_json`: `messages`, `model`, `temperature`, `max_tokens`, `top_p`);
    /// its id.
    pub fn send_chat(&self, args_json: &str) -> PhpResult<i64> {
        block_on(self.h.send_chat(parse_json("args", args_json)?)).map(id)
    }

    /// A chat, collected (`args_json`: `send_chat`'s plus `timeout_ms`, the longest wait between
    /// two events): `{content, tokensUsed, usage}` as JSON, or null when a signal for PHP's
    /// handler interrupted the wait (`interrupted()`).
    pub fn chat(&self, args_json: &str) -> PhpResult<Option<String>> {
        let fut = self.h.chat(parse_json("args", args_json)?);
        Ok(self.wait(fut)?.map(|v| v.to_string()))
    }

    /// The next step of chat `request` as JSON (`{type: "token", content}`, or `{type: "done",
    /// content, tokensUsed, usage}` at its end), waiting at most `timeout_ms` between two events
    /// (null: the client's timeout); the platform's error for it is thrown; null when a signal
    /// interrupted the wait (`interrupted()`).
    pub fn chat_step(&self, request: i64, timeout_ms: Option<i64>) -> PhpResult<Option<String>> {
        let request = u64::try_from(request).map_err(|_| {
            to_php(Error::validation("request", format!("a request id is a positive integer, got {request}")))
        })?;
        let step = self.h.chat_step(request, timeout_ms.map(|ms| ms.max(0) as u64));
        Ok(self.wait(step)?.map(|v| v.to_string()))
    }

    /// Sends a ping (answered by a `pong` event); its id.
    pub fn ping(&self) -> PhpResult<i64> {
        block_on(self.h.ping()).map(id)
    }

    /// Sends `frame_json` as it is; its id.
    pub fn send(&self, frame_json: &str) -> PhpResult<i64> {
        block_on(self.h.send(parse_json("frame", frame_json)?)).map(id)
    }

    /// The next event as JSON, waiting at most `timeout_ms` (null: until one comes); null on
    /// timeout, after the `closed` event, or when a signal for PHP's handler interrupted the wait
    /// (`interrupted()` tells which). No event is lost to an interrupt: the engine keeps it.
    pub fn next_event(&self, timeout_ms: Option<i64>) -> PhpResult<Option<String>> {
        let next = self.h.next_event(timeout_ms.map(|ms| ms.max(0) as u64));
        Ok(self.wait(next)?.flatten().map(|v| v.to_string()))
    }

    /// Whether the last `chat`, `chatStep` or `nextEvent` returned null because a signal
    /// interrupted it.
    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::Acquire)
    }

    /// Closes the socket (`code` 1000 or 3000-4999, default 1000; `reason` at most 123 bytes)
    /// and waits for the platform's answer.
    pub fn close(&self, code: Option<i64>, reason: Option<String>) -> PhpResult<()> {
        let code = code
            .map(|c| {
                u16::try_from(c).map_err(|_| {
                    to_php(Error::validation(
                        "code",
                        format!("a close code is 1000 or between 3000 and 4999, got {c}"),
                    ))
                })
            })
            .transpose()?;
        block_on(self.h.close(code, reason)).map(|_| ())
    }
}
