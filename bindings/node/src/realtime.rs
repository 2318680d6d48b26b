//! `NativeRealtime` and `NativeChannel`: the surface's realtime handles. Events are pulled by the
//! package (`nextEvent`), which routes them to listeners by their `listeners` ids.

use aerostack_bindings_common::{ChannelHandle, RealtimeHandle};
use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::completion::{NativeCancel, submit};
use crate::{parse_json, to_napi};

#[napi]
pub struct NativeRealtime {
    pub(crate) h: RealtimeHandle,
}

#[napi]
impl NativeRealtime {
    #[napi(getter, catch_unwind)]
    pub fn url(&self) -> String {
        self.h.url().to_string()
    }

    /// `idle`, `connecting`, `connected`, `reconnecting` or `disconnected`.
    #[napi(getter, catch_unwind)]
    pub fn status(&self) -> String {
        self.h.status()
    }

    #[napi(getter, catch_unwind)]
    pub fn dropped_events(&self) -> f64 {
        self.h.dropped_events() as f64
    }

    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn connect<'e>(&self, env: &'e Env, cancel: Option<&NativeCancel>) -> Result<Object<'e>> {
        submit(env, self.h.connect(), cancel)
    }

    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn disconnect<'e>(&self, env: &'e Env) -> Result<Object<'e>> {
        submit(env, self.h.disconnect(), None)
    }

    #[napi(catch_unwind)]
    pub fn set_token(&self, token: String) -> Result<()> {
        self.h.set_token(&token).map_err(to_napi)
    }

    /// `metadata_json`: an object's JSON text, or `"null"`.
    #[napi(catch_unwind)]
    pub fn send_chat(&self, room_id: String, text: String, metadata_json: String) -> Result<()> {
        self.h.send_chat(&room_id, &text, parse_json("metadata", &metadata_json)?).map_err(to_napi)
    }

    #[napi(catch_unwind)]
    pub fn channel(&self, topic: String, filter_json: String) -> Result<NativeChannel> {
        Ok(NativeChannel {
            h: self.h.channel(&topic, parse_json("filter", &filter_json)?).map_err(to_napi)?,
        })
    }

    /// A Promise of the next event's text (`"0"` alone on timeout or once closed for good).
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn next_event<'e>(
        &self,
        env: &'e Env,
        timeout_ms: Option<u32>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'e>> {
        submit(env, self.h.next_event(timeout_ms.map(u64::from)), cancel)
    }

    /// The next event's JSON if one is waiting.
    #[napi(catch_unwind)]
    pub fn try_next_event(&self) -> Result<Option<String>> {
        Ok(self
            .h
            .try_next_event()
            .map_err(to_napi)?
            .map(|v| v.to_string()))
    }
}

#[napi]
pub struct NativeChannel {
    h: ChannelHandle,
}

#[napi]
impl NativeChannel {
    #[napi(getter, catch_unwind)]
    pub fn topic(&self) -> String {
        self.h.topic()
    }

    #[napi(getter, catch_unwind)]
    pub fn is_subscribed(&self) -> bool {
        self.h.is_subscribed()
    }

    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn wait_subscribed<'e>(
        &self,
        env: &'e Env,
        timeout_ms: u32,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'e>> {
        submit(env, self.h.wait_subscribed(u64::from(timeout_ms)), cancel)
    }

    /// Registers a listener filter; the events it matches carry the returned id in `listeners`.
    #[napi(catch_unwind)]
    pub fn on(&self, event: String) -> f64 {
        self.h.on(&event) as f64
    }

    #[napi(catch_unwind)]
    pub fn off(&self, id: f64) -> bool {
        self.h.off(id as u64)
    }

    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn publish<'e>(
        &self,
        env: &'e Env,
        event: String,
        data_json: String,
        options_json: String,
    ) -> Result<Object<'e>> {
        let fut = self.h.publish(
            &event,
            parse_json("data", &data_json)?,
            parse_json("options", &options_json)?,
        );
        submit(env, fut, None)
    }

    #[napi(catch_unwind)]
    pub fn track(&self, state_json: String) -> Result<()> {
        self.h
            .track(parse_json("state", &state_json)?)
            .map_err(to_napi)
    }

    #[napi(catch_unwind)]
    pub fn untrack(&self) -> Result<()> {
        self.h.untrack().map_err(to_napi)
    }

    /// Everyone present, as JSON.
    #[napi(catch_unwind)]
    pub fn presence(&self) -> String {
        self.h.presence().to_string()
    }

    /// The tracked state's JSON, if any.
    #[napi(catch_unwind)]
    pub fn tracked(&self) -> Option<String> {
        self.h.tracked().map(|v| v.to_string())
    }

    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn history<'e>(
        &self,
        env: &'e Env,
        limit: Option<u32>,
        before: Option<f64>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'e>> {
        submit(env, self.h.history(limit, before.map(|b| b as i64)), cancel)
    }

    #[napi(catch_unwind)]
    pub fn unsubscribe(&self) -> Result<()> {
        self.h.unsubscribe().map_err(to_napi)
    }
}
