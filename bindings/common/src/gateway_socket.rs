//! [`GatewaySocketHandle`]: the engine's gateway chat socket (`aerostack::GatewaySocket`, the
//! official `gateway.connectWebSocket`) as a binding holds it.
//!
//! Sends return the id of their frame; events are pulled by the host ([`GatewaySocketHandle::
//! next_event`]) as JSON objects with a `type`: `token` (`content`, `request`), `done`
//! (`content`: the chat's whole text, `usage`, `tokens_used`, `request`), `error` (`code`,
//! `message`, `request`, plus `family`: the exception family of the code, so a host raises the
//! same class as for a call), `pong` (`request`), `closed` (`code`, `reason`; once), `unknown`
//! (`frame`). Keys come in the client's result case. Every duration is in ms.

use std::future::Future;
use std::time::Duration;

use aerostack::{ChatStep, Error, ErrorCode, GatewaySocket, GatewaySocketEvent};
use serde_json::{Value, json};

use crate::errors::family_of;
use crate::naming::FieldCase;
use crate::ops::{Args, chat_request};
use crate::panic::contained;
use crate::result_keys::recase_as;
use crate::runtime::ProcessGuard;

/// The result type of an event (`crate::user_data`).
pub const EVENT: &str = "gateway.socket_event";
/// The result type of [`GatewaySocketHandle::chat`]'s answer.
pub const CHAT: &str = "gateway.socket_chat";

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, Error> {
    serde_json::to_value(v).map_err(|e| Error::new(ErrorCode::DecodeError, e.to_string()))
}

/// An event as the host gets it: an error event also names its exception family.
pub fn event_json(ev: &GatewaySocketEvent, case: FieldCase) -> Value {
    let mut v = to_json(ev).unwrap_or(Value::Null);
    if let GatewaySocketEvent::Error { code, .. } = ev {
        v["family"] = json!(family_of(code, None).as_str());
    }
    recase_as(case, EVENT, v)
}

/// One open gateway socket; cloning shares it.
#[derive(Clone)]
pub struct GatewaySocketHandle {
    socket: GatewaySocket,
    guard: ProcessGuard,
    case: FieldCase,
}

impl std::fmt::Debug for GatewaySocketHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.socket.fmt(f)
    }
}

impl GatewaySocketHandle {
    pub(crate) fn new(socket: GatewaySocket, case: FieldCase) -> GatewaySocketHandle {
        GatewaySocketHandle {
            socket,
            guard: ProcessGuard::new(),
            case,
        }
    }

    fn socket(&self) -> Result<GatewaySocket, Error> {
        self.guard.check()?;
        Ok(self.socket.clone())
    }

    /// `ws(s)://host/api/gateway/{apiSlug}/ws`.
    pub fn url(&self) -> &str {
        self.socket.url()
    }

    /// The gateway API it chats with.
    pub fn api_slug(&self) -> &str {
        self.socket.api_slug()
    }

    /// `open`, `closing` or `closed`.
    pub fn state(&self) -> String {
        match serde_json::to_value(self.socket.state()) {
            Ok(Value::String(s)) => s,
            _ => String::new(),
        }
    }

    /// Starts a chat: `args` are `gateway.chat`'s (`messages`, `model`, `temperature`,
    /// `max_tokens`, `top_p`); resolves to the id its events carry as `request`.
    pub fn send_chat(
        &self,
        args: Value,
    ) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let s = self.socket()?;
        let request = chat_request(&Args::new("gateway socket chat", args)?)?;
        Ok(contained(async move {
            s.send_chat(&request).await.map(Value::from)
        }))
    }

    /// A chat, collected: `send_chat`'s `args` plus `timeout_ms` (the longest wait between two
    /// events; default the client's timeout); resolves to `{content, tokens_used, usage}`, or the
    /// platform's error for it. Consumes the events that arrive meanwhile.
    pub fn chat(
        &self,
        args: Value,
    ) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let s = self.socket()?;
        let a = Args::new("gateway socket chat", args)?;
        let request = chat_request(&a)?;
        let timeout = a.opt_u64("timeout_ms")?.map(Duration::from_millis);
        let case = self.case;
        Ok(contained(async move {
            let reply = s.chat(&request, timeout).await?;
            Ok(recase_as(case, CHAT, to_json(&reply)?))
        }))
    }

    /// The next step of chat `request` (the id `send_chat` resolved to), waiting at most
    /// `timeout_ms` between two events (default: the client's timeout): `{type: "token", content}`,
    /// or `{type: "done", content, tokens_used, usage}` at its end; the platform's error for it, a
    /// close or a timeout is the error. A host's streamed chat (`onToken`, iterators) loops on it.
    pub fn chat_step(
        &self,
        request: u64,
        timeout_ms: Option<u64>,
    ) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let s = self.socket()?;
        let case = self.case;
        Ok(contained(async move {
            Ok(match s.chat_step(request, timeout_ms.map(Duration::from_millis)).await? {
                ChatStep::Token(content) => json!({"type": "token", "content": content}),
                ChatStep::Done(reply) => {
                    let mut v = recase_as(case, CHAT, to_json(&reply)?);
                    v["type"] = json!("done");
                    v
                }
            })
        }))
    }

    /// Sends a ping (answered with a `pong` event); resolves to its id.
    pub fn ping(
        &self,
    ) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let s = self.socket()?;
        Ok(contained(async move { s.ping().await.map(Value::from) }))
    }

    /// Sends `frame` as it is (JSON text); resolves to its id.
    pub fn send(
        &self,
        frame: Value,
    ) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let s = self.socket()?;
        Ok(contained(
            async move { s.send(&frame).await.map(Value::from) },
        ))
    }

    /// The next event, waiting at most `timeout_ms` (`None`: until one comes); `None` on timeout
    /// and once the `closed` event was handed out.
    pub fn next_event(
        &self,
        timeout_ms: Option<u64>,
    ) -> Result<impl Future<Output = Result<Option<Value>, Error>> + Send + 'static, Error> {
        let s = self.socket()?;
        let case = self.case;
        Ok(contained(async move {
            let ev = s.next_event(timeout_ms.map(Duration::from_millis)).await;
            Ok(ev.map(|e| event_json(&e, case)))
        }))
    }

    /// Closes the socket (`code` 1000 or 3000-4999, default 1000; `reason` at most 123 bytes).
    pub fn close(
        &self,
        code: Option<u16>,
        reason: Option<String>,
    ) -> Result<impl Future<Output = Result<Value, Error>> + Send + 'static, Error> {
        let s = self.socket()?;
        Ok(contained(async move {
            s.close(code, reason.as_deref()).await.map(|_| Value::Null)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_events_name_their_family_and_keys_follow_the_case() {
        let ev = GatewaySocketEvent::Error {
            code: "INSUFFICIENT_CREDITS".into(),
            message: "m".into(),
            request: Some(2),
        };
        let v = event_json(&ev, FieldCase::Snake);
        assert_eq!(
            v,
            json!({"type": "error", "code": "INSUFFICIENT_CREDITS", "message": "m", "request": 2, "family": "auth"})
        );
        let ev = GatewaySocketEvent::Done {
            content: "hi".into(),
            usage: aerostack::Usage {
                prompt_tokens: 1,
                completion_tokens: 2,
                total_tokens: 3,
            },
            tokens_used: 3,
            request: Some(1),
        };
        let v = event_json(&ev, FieldCase::Camel);
        assert_eq!(v["tokensUsed"], 3);
        assert_eq!(v["usage"]["totalTokens"], 3);
        assert_eq!(v["type"], "done");
    }
}
