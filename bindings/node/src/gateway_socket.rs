//! `NativeGatewaySocket`: the surface's gateway chat socket (the official
//! `gateway.connectWebSocket`). Sends resolve to the id of their frame; the package pulls events
//! (`nextEvent`) only while something waits for them, so an open socket keeps the event loop
//! alive only while a pull is pending.

use aerostack_bindings_common::GatewaySocketHandle;
use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::completion::{NativeCancel, submit};
use crate::parse_json;

#[napi]
pub struct NativeGatewaySocket {
    h: GatewaySocketHandle,
}

impl NativeGatewaySocket {
    pub fn new(h: GatewaySocketHandle) -> Self {
        NativeGatewaySocket { h }
    }
}

#[napi]
impl NativeGatewaySocket {
    #[napi(getter, catch_unwind)]
    pub fn url(&self) -> String {
        self.h.url().to_string()
    }

    #[napi(getter, catch_unwind)]
    pub fn api_slug(&self) -> String {
        self.h.api_slug().to_string()
    }

    /// `open`, `closing` or `closed`.
    #[napi(getter, catch_unwind)]
    pub fn state(&self) -> String {
        self.h.state()
    }

    /// Starts a chat (`gateway.chat`'s arguments): a Promise of its id.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn send_chat<'e>(&self, env: &'e Env, args_json: String) -> Result<Object<'e>> {
        submit(env, self.h.send_chat(parse_json("args", &args_json)?), None)
    }

    /// A chat, collected (`timeout_ms` between events): a Promise of `{content, tokensUsed, usage}`.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn chat<'e>(
        &self,
        env: &'e Env,
        args_json: String,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'e>> {
        submit(env, self.h.chat(parse_json("args", &args_json)?), cancel)
    }

    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn ping<'e>(&self, env: &'e Env) -> Result<Object<'e>> {
        submit(env, self.h.ping(), None)
    }

    /// Sends a frame as it is: a Promise of its id.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn send<'e>(&self, env: &'e Env, frame_json: String) -> Result<Object<'e>> {
        submit(env, self.h.send(parse_json("frame", &frame_json)?), None)
    }

    /// A Promise of the next event's text (`"0"` alone on timeout or after the `closed` event).
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn next_event<'e>(
        &self,
        env: &'e Env,
        timeout_ms: Option<u32>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'e>> {
        submit(env, self.h.next_event(timeout_ms.map(u64::from)), cancel)
    }

    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn close<'e>(
        &self,
        env: &'e Env,
        code: Option<u32>,
        reason: Option<String>,
    ) -> Result<Object<'e>> {
        let code = code.map(|c| c.min(u32::from(u16::MAX)) as u16);
        submit(env, self.h.close(code, reason), None)
    }
}
