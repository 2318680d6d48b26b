//! Large answers of `/v1/db/query` stream to the client instead of being built whole in memory.
//!
//! The statement runs on a blocking thread as always. Its answer is buffered up to
//! `Limits::result_stream_threshold`: a statement that finishes inside it (or fails, or writes)
//! is answered as before, with its own status. Once a read-only statement's answer passes the
//! threshold the response starts (200, chunked) and the rest goes through a bounded channel in
//! chunks: a slow reader blocks the statement (backpressure), so memory stays bounded by the
//! threshold plus a few chunks. The statement keeps its project slot until the last chunk is
//! handed over, and everything (reading included) must end within `query_timeout`.
//!
//! A failure after the start (the deadline, a result cap, an error) cannot change the status any
//! more. The body then ends with a newline and the error, as the `/v1` error object plus its
//! `status` (compact JSON never holds a raw newline, so no client takes the bytes for a complete
//! answer: they do not parse), and the engine raises that error, naming the limit and how to page,
//! as it would have for a buffered answer. When even that cannot be delivered (the client went
//! away or stopped reading) the body is aborted without the chunked encoding's last chunk. The
//! failure is logged.

use std::time::Duration;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::error::{ApiError, ErrorShape};
use crate::realtime::db_changes::run_capturing;
use crate::state::AppState;
use crate::store::project_db::{self, Spill};
use crate::store::sql_error::SqlError;

/// Bytes per chunk once streaming.
const CHUNK: usize = 64 * 1024;
/// Chunks made but not yet read by the client: with the threshold, what one answer may hold.
const CHUNKS_IN_FLIGHT: usize = 4;

enum Msg {
    Bytes(Bytes),
    /// The answer is complete: only now does the body end normally.
    End,
}

/// The [`Spill`] of a streamed answer (on the statement's blocking thread).
struct Streamer {
    threshold: usize,
    /// Told once the answer passes the threshold: the handler then answers with the stream.
    started: Option<oneshot::Sender<()>>,
    tx: mpsc::Sender<Msg>,
    rt: tokio::runtime::Handle,
    deadline: Instant,
    timeout: Duration,
    sent: usize,
}

impl Streamer {
    fn streaming(&self) -> bool {
        self.started.is_none()
    }

    /// Hand one message to the body, waiting for the client to read (never past the deadline).
    fn send(&mut self, msg: Msg) -> Result<(), SqlError> {
        let tx = self.tx.clone();
        let sent = self
            .rt
            .block_on(tokio::time::timeout_at(self.deadline, tx.send(msg)));
        let message = match sent {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(_)) => "the client went away while the answer was streaming".to_string(),
            Err(_) => format!(
                "the answer was not read within query_timeout ({} s): the client reads too slowly for an answer this large",
                self.timeout.as_secs_f64()
            ),
        };
        Err(SqlError::Sqlite {
            message,
            suggestion: Some(project_db::PAGE_HINT),
            recovery: None,
        })
    }

    /// Ends the body with `\n` and the error (the `/v1` error object plus `status`) if the client
    /// still takes it; whether it could. No time is added: past the deadline a send still goes
    /// through when the channel has room (a client that keeps reading gets the error), and fails
    /// at once for a client that stopped reading, so the slot is never held past the deadline.
    fn send_error(&mut self, error: &ApiError) -> bool {
        let mut trailer = error.body(None, ErrorShape::Spec);
        trailer["status"] = error.status.as_u16().into();
        let mut bytes = b"\n".to_vec();
        bytes.extend(serde_json::to_vec(&trailer).unwrap_or_default());
        self.send(Msg::Bytes(Bytes::from(bytes))).is_ok() && self.send(Msg::End).is_ok()
    }

    fn send_bytes(&mut self, out: &mut Vec<u8>) -> Result<usize, SqlError> {
        let n = out.len();
        let chunk = std::mem::replace(out, Vec::with_capacity(CHUNK + 1024));
        self.send(Msg::Bytes(Bytes::from(chunk)))?;
        self.sent += n;
        Ok(n)
    }
}

impl Spill for Streamer {
    fn row_done(&mut self, out: &mut Vec<u8>, readonly: bool) -> Result<usize, SqlError> {
        if !self.streaming() {
            // A write keeps the buffered path: its row changes publish only once it committed.
            if !readonly || out.len() <= self.threshold {
                return Ok(0);
            }
            let started = self.started.take().expect("not streaming yet");
            if started.send(()).is_err() {
                return Err(SqlError::Sqlite {
                    message: "the request was cancelled before its answer started".into(),
                    suggestion: None,
                    recovery: None,
                });
            }
        } else if out.len() < CHUNK {
            return Ok(0);
        }
        self.send_bytes(out)
    }
}

/// The answer of `/v1/db/query`: buffered when small or a write, streamed when large.
pub async fn query_response(
    st: &AppState,
    project_id: &str,
    sql: String,
    params: Value,
) -> Result<Response, ApiError> {
    let (started_tx, started_rx) = oneshot::channel();
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let capture = st.realtime.wants_db_changes(project_id);
    let timeout = st.limits.query_timeout;
    let mut streamer = Streamer {
        threshold: st.limits.result_stream_threshold,
        started: Some(started_tx),
        tx,
        rt: tokio::runtime::Handle::current(),
        deadline: Instant::now() + timeout,
        timeout,
        sent: 0,
    };
    let pid = project_id.to_string();
    let work = st.project_db(project_id, move |db| {
        // The deadline counts from when the statement starts, as the statement's own.
        streamer.deadline = Instant::now() + timeout;
        let result = run_capturing(db, capture, || {
            project_db::query_with(db, &sql, &params, Some(&mut streamer))
        });
        if !streamer.streaming() {
            return result.map(Some);
        }
        // Streaming: the status is sent; only a complete answer may end the body normally.
        let failure = match result {
            Ok((mut rest, _)) => streamer
                .send_bytes(&mut rest)
                .and_then(|_| streamer.send(Msg::End))
                .err()
                .map(|e| e.into_api(None)),
            Err(e) => Some(e),
        };
        if let Some(error) = failure {
            let told = streamer.send_error(&error);
            tracing::warn!(
                project = %pid,
                bytes_sent = streamer.sent,
                error = %error.message,
                "db.query: a streamed answer was cut short; the client {}",
                if told { "gets the error after the rows it read" } else { "sees an aborted body" }
            );
        }
        Ok(None)
    });
    tokio::pin!(work);
    tokio::select! {
        done = &mut work => {
            if let Some((out, changes)) = done? {
                st.realtime.publish_db_changes(project_id, changes);
                return Ok(super::db::json_bytes(out));
            }
        }
        Ok(()) = started_rx => {}
    }
    // Streaming (the statement goes on on its blocking thread, holding its slot).
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body(rx)),
    )
        .into_response())
}

/// The chunks as a body; a channel closed without [`Msg::End`] is an error (aborted body).
fn body(
    rx: mpsc::Receiver<Msg>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Some(Msg::Bytes(b)) => Some((Ok(b), Some(rx))),
            Some(Msg::End) => None,
            None => Some((
                Err(std::io::Error::other(
                    "the query's answer was cut short (see the platform log)",
                )),
                None,
            )),
        }
    })
}
