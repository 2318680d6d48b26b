//! `NativeWorker` and `NativeInvocation`: Logic Modules and queue jobs, pulled by the package's
//! serve loop (`nextInvocation`), answered with `complete`/`fail`.

use aerostack_bindings_common::{InvocationHandle, WorkerHandle};
use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::client::NativeClient;
use crate::completion::{NativeCancel, Out, submit};
use crate::{parse_json, to_napi, user_agent};

#[napi]
pub struct NativeWorker {
    h: WorkerHandle,
}

#[napi]
impl NativeWorker {
    /// Connects and registers: a Promise of the `NativeWorker` (or the error text).
    #[napi(ts_return_type = "Promise<string | NativeWorker>", catch_unwind)]
    pub fn connect<'e>(
        env: &'e Env,
        options_json: String,
        registration_json: String,
    ) -> Result<Object<'e>> {
        let fut = WorkerHandle::connect(
            parse_json("options", &options_json)?,
            parse_json("registration", &registration_json)?,
            &user_agent(),
        );
        submit(
            env,
            fut.map(|f| async move { f.await.map(|h| Out::Worker(NativeWorker { h })) }),
            None,
        )
    }

    /// A Promise of the next invocation, or `"0"` on timeout / once stopped.
    #[napi(ts_return_type = "Promise<string | NativeInvocation>", catch_unwind)]
    pub fn next_invocation<'e>(
        &self,
        env: &'e Env,
        timeout_ms: Option<u32>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'e>> {
        let fut = self
            .h
            .next_invocation(timeout_ms.map(u64::from))
            .map(|f| async move {
                f.await.map(|inv| match inv {
                    Some(h) => Out::Invocation(NativeInvocation { h }),
                    None => Out::Text("0".into()),
                })
            });
        submit(env, fut, cancel)
    }

    #[napi(catch_unwind)]
    pub fn complete(&self, id: String, result_json: String) -> Result<()> {
        self.h
            .complete(&id, parse_json("result", &result_json)?)
            .map_err(to_napi)
    }

    #[napi(catch_unwind)]
    pub fn fail(&self, id: String, message: String) -> Result<()> {
        self.h.fail(&id, &message).map_err(to_napi)
    }

    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn drain<'e>(&self, env: &'e Env) -> Result<Object<'e>> {
        submit(env, self.h.drain(), None)
    }

    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn stop<'e>(&self, env: &'e Env, grace_ms: u32) -> Result<Object<'e>> {
        submit(env, self.h.stop(u64::from(grace_ms)), None)
    }

    #[napi(getter, catch_unwind)]
    pub fn is_closed(&self) -> bool {
        self.h.is_closed()
    }

    #[napi(getter, catch_unwind)]
    pub fn project_id(&self) -> Option<String> {
        self.h.project_id()
    }
}

#[napi]
pub struct NativeInvocation {
    h: InvocationHandle,
}

#[napi]
impl NativeInvocation {
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> String {
        self.h.id().to_string()
    }

    /// `custom`, `service`, `event` or `job`.
    #[napi(getter, catch_unwind)]
    pub fn kind(&self) -> String {
        self.h.kind()
    }

    /// The module slug, or the job type.
    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> String {
        self.h.name().to_string()
    }

    #[napi(getter, catch_unwind)]
    pub fn project_id(&self) -> String {
        self.h.project_id().to_string()
    }

    /// The handler's `event` argument, as JSON.
    #[napi(getter, catch_unwind)]
    pub fn event_json(&self) -> String {
        self.h.event().to_string()
    }

    #[napi(getter, catch_unwind)]
    pub fn deadline_ms(&self) -> f64 {
        self.h.deadline_ms() as f64
    }

    #[napi(getter, catch_unwind)]
    pub fn is_cancelled(&self) -> bool {
        self.h.is_cancelled()
    }

    /// The scoped client (every operation, plus `fetch`).
    #[napi(catch_unwind)]
    pub fn client(&self) -> Result<NativeClient> {
        Ok(NativeClient {
            h: self.h.client().map_err(to_napi)?,
        })
    }
}
