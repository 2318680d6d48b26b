//! Frames of the worker protocol (docs/workers.md). The wire types live in the
//! `aerostack-protocol` crate, shared with the platform (`server/src/workers/frames.rs`); this
//! module is the worker's view of them: a borrowing builder for what it sends and the part of
//! each platform frame it acts on.

use aerostack_protocol::worker::{FromWorker, ToWorker};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

pub(crate) use aerostack_protocol::worker::Invoke as InvokeFrame;
pub use aerostack_protocol::worker::{InvocationKind, JobType, Module};

/// Worker -> platform, borrowing what it sends; written as [`FromWorker`].
#[derive(Debug)]
pub(crate) enum Outgoing<'a> {
    Register {
        modules: &'a [Module],
        jobs: &'a [JobType],
        concurrency: u32,
        worker: Option<&'a str>,
    },
    Complete {
        id: &'a str,
        result: &'a Value,
    },
    Fail {
        id: &'a str,
        error: &'a str,
    },
    Drain,
}

impl Outgoing<'_> {
    /// The protocol frame.
    pub(crate) fn to_frame(&self) -> FromWorker {
        match *self {
            Outgoing::Register {
                modules,
                jobs,
                concurrency,
                worker,
            } => FromWorker::Register {
                worker: worker.map(str::to_owned),
                concurrency: Some(concurrency),
                modules: modules.to_vec(),
                jobs: jobs.to_vec(),
            },
            Outgoing::Complete { id, result } => FromWorker::Complete {
                id: id.to_owned(),
                result: result.clone(),
            },
            Outgoing::Fail { id, error } => FromWorker::Fail {
                id: id.to_owned(),
                error: error.to_owned(),
            },
            Outgoing::Drain => FromWorker::Drain,
        }
    }
}

impl Serialize for Outgoing<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_frame().serialize(serializer)
    }
}

/// Platform -> worker: what the worker acts on, read as [`ToWorker`].
#[derive(Debug, Deserialize)]
#[serde(from = "ToWorker")]
pub(crate) enum Incoming {
    Registered { project_id: String },
    Invoke(InvokeFrame),
    Cancel { id: String, reason: String },
    Draining,
    Pong,
    Error { code: String, message: String },
}

impl From<ToWorker> for Incoming {
    fn from(frame: ToWorker) -> Incoming {
        match frame {
            ToWorker::Registered { project_id, .. } => Incoming::Registered { project_id },
            ToWorker::Invoke(inv) => Incoming::Invoke(inv),
            ToWorker::Cancel { id, reason } => Incoming::Cancel { id, reason },
            ToWorker::Draining => Incoming::Draining,
            ToWorker::Pong => Incoming::Pong,
            ToWorker::Error { code, message } => Incoming::Error { code, message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_and_reads_the_protocol_frames() {
        let modules = [Module::api("echo")];
        let jobs = [JobType::new("j")];
        let register = Outgoing::Register {
            modules: &modules,
            jobs: &jobs,
            concurrency: 2,
            worker: None,
        };
        assert_eq!(
            serde_json::to_value(&register).unwrap(),
            json!({"type": "register", "concurrency": 2, "jobs": [{"type": "j"}],
                   "modules": [{"slug": "echo", "methods": ["POST"], "public": false, "trigger": "api"}]})
        );
        let result = json!({"ok": true});
        assert_eq!(
            serde_json::to_value(Outgoing::Complete {
                id: "i",
                result: &result
            })
            .unwrap(),
            json!({"type": "complete", "id": "i", "result": {"ok": true}})
        );
        assert_eq!(
            serde_json::to_string(&Outgoing::Drain).unwrap(),
            r#"{"type":"drain"}"#
        );
        let r: Incoming =
            serde_json::from_str(r#"{"type":"registered","project_id":"p","concurrency":1}"#)
                .unwrap();
        assert!(matches!(r, Incoming::Registered { project_id } if project_id == "p"));
        let e: Incoming = serde_json::from_str(r#"{"type":"error"}"#).unwrap();
        assert!(matches!(e, Incoming::Error { code, .. } if code.is_empty()));
        assert!(serde_json::from_str::<Incoming>(r#"{"type":"nope"}"#).is_err());
    }
}
