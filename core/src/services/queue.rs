//! Job queue: `POST /v1/queue/*`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Timestamp;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::services::require;

/// Queue handle, from [`Client::queue`].
#[derive(Debug, Clone, Copy)]
pub struct Queue<'a> {
    client: &'a Client,
}

/// A job as the platform reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "JobWire")]
pub struct JobRecord {
    /// Job id.
    pub id: String,
    /// Job type, e.g. `send-welcome-email`.
    #[serde(rename = "type")]
    pub job_type: String,
    /// Payload given at enqueue time.
    pub data: Value,
    /// `queued`, `processing`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: Option<u64>,
    /// Retries allowed before the job fails (dead-letter).
    pub max_retries: Option<u64>,
    /// Last handler error.
    pub last_error: Option<String>,
    /// Handler result, when completed.
    pub result: Option<Value>,
    /// Project the job belongs to.
    pub project_id: Option<String>,
    /// Creation time.
    pub created_at: Option<Timestamp>,
    /// Last update time.
    pub updated_at: Option<Timestamp>,
    /// When the job is due.
    pub run_at: Option<Timestamp>,
    /// Every run so far, oldest first (the local platform sends it with `queue.job`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<JobAttempt>>,
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobAttempt {
    /// 1 for the first run.
    pub attempt: u64,
    /// When a worker was handed the job (read from the wire's `startedAt`).
    #[serde(
        default,
        rename(serialize = "started_at", deserialize = "startedAt"),
        alias = "started_at",
        deserialize_with = "crate::protocol::time::opt_lenient"
    )]
    pub started_at: Option<Timestamp>,
    /// When it ended; `None` while it runs.
    #[serde(
        default,
        rename(serialize = "ended_at", deserialize = "endedAt"),
        alias = "ended_at",
        deserialize_with = "crate::protocol::time::opt_lenient"
    )]
    pub ended_at: Option<Timestamp>,
    /// `completed`, `failed`, `abandoned` (no answer before the lease ran out), or `None`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// The handler's error of a failed run.
    #[serde(default)]
    pub error: Option<String>,
}

/// The wire shape: platforms send snake_case, camelCase or both, so each spelling is its own
/// field (serde aliases would reject a body carrying both).
#[derive(Deserialize)]
struct JobWire {
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    id: Option<String>,
    #[serde(default, rename = "type")]
    job_type: Option<String>,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "crate::wire::lenient_u64")]
    attempts: Option<u64>,
    #[serde(default, deserialize_with = "crate::wire::lenient_u64")]
    max_retries: Option<u64>,
    #[serde(
        default,
        rename = "maxRetries",
        deserialize_with = "crate::wire::lenient_u64"
    )]
    max_retries_camel: Option<u64>,
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    last_error: Option<String>,
    #[serde(
        default,
        rename = "lastError",
        deserialize_with = "crate::wire::lenient_string"
    )]
    last_error_camel: Option<String>,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default, rename = "projectId")]
    project_id_camel: Option<String>,
    #[serde(default, deserialize_with = "crate::protocol::time::opt_lenient")]
    created_at: Option<Timestamp>,
    #[serde(
        default,
        rename = "createdAt",
        deserialize_with = "crate::protocol::time::opt_lenient"
    )]
    created_at_camel: Option<Timestamp>,
    #[serde(default, deserialize_with = "crate::protocol::time::opt_lenient")]
    updated_at: Option<Timestamp>,
    #[serde(
        default,
        rename = "updatedAt",
        deserialize_with = "crate::protocol::time::opt_lenient"
    )]
    updated_at_camel: Option<Timestamp>,
    #[serde(default, deserialize_with = "crate::protocol::time::opt_lenient")]
    run_at: Option<Timestamp>,
    #[serde(
        default,
        rename = "runAt",
        deserialize_with = "crate::protocol::time::opt_lenient"
    )]
    run_at_camel: Option<Timestamp>,
    #[serde(default)]
    history: Option<Vec<JobAttempt>>,
}

impl From<JobWire> for JobRecord {
    fn from(w: JobWire) -> JobRecord {
        JobRecord {
            id: w.id.unwrap_or_default(),
            job_type: w.job_type.unwrap_or_default(),
            data: w.data,
            status: w.status.unwrap_or_default(),
            attempts: w.attempts,
            max_retries: w.max_retries.or(w.max_retries_camel),
            last_error: w.last_error.or(w.last_error_camel),
            result: w.result.filter(|r| !r.is_null()),
            project_id: w.project_id.or(w.project_id_camel),
            created_at: w.created_at.or(w.created_at_camel),
            updated_at: w.updated_at.or(w.updated_at_camel),
            run_at: w.run_at.or(w.run_at_camel),
            history: w.history,
        }
    }
}

/// Filter and page of [`Queue::jobs`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobFilter {
    /// Only jobs in this status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Only jobs of this type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    /// Page size (default 50, max 200).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A page of [`Queue::jobs`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobsPage {
    /// Jobs of this page, oldest first.
    #[serde(default)]
    pub jobs: Vec<JobRecord>,
    /// True when there are no more pages.
    #[serde(default = "crate::wire::default_true")]
    pub list_complete: bool,
    /// Cursor for the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Answer of [`Queue::cancel`]: cancellation is advisory (finished jobs cannot be cancelled).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CancelResult {
    /// Whether the job was cancelled.
    #[serde(default)]
    pub success: bool,
    /// Why not, when it was not.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnqueueBody<'a, D: ?Sized> {
    #[serde(rename = "type")]
    job_type: &'a str,
    data: &'a D,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_retries: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnqueueReply {
    job_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobIdBody<'a> {
    job_id: &'a str,
}

#[derive(Deserialize)]
struct JobReply {
    #[serde(default)]
    job: Option<JobRecord>,
}

impl<'a> Queue<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Queue { client }
    }

    pub(crate) fn client(&self) -> &'a Client {
        self.client
    }

    /// Enqueues a job of `job_type` with `data`, due after `delay_seconds`, retried up to
    /// `max_retries` times; returns the job id. Safe to retry: the engine sends one
    /// `Idempotency-Key` per call, so a retried enqueue creates one job.
    pub async fn enqueue<D: Serialize + ?Sized>(
        &self,
        job_type: &str,
        data: &D,
        delay_seconds: Option<u64>,
        max_retries: Option<u32>,
    ) -> Result<String> {
        require("type", job_type)?;
        let body = EnqueueBody {
            job_type,
            data,
            delay: delay_seconds,
            max_retries,
        };
        let r: EnqueueReply = self.client.post("/queue/enqueue", &body, false).await?;
        Ok(r.job_id)
    }

    /// Seed name for [`Queue::enqueue`]: `send(type, data, delay_seconds, max_retries)`.
    pub async fn send<D: Serialize + ?Sized>(
        &self,
        job_type: &str,
        data: &D,
        delay_seconds: Option<u64>,
        max_retries: Option<u32>,
    ) -> Result<String> {
        self.enqueue(job_type, data, delay_seconds, max_retries)
            .await
    }

    /// The job with `job_id`, or `None` when unknown (or another project's).
    pub async fn job(&self, job_id: &str) -> Result<Option<JobRecord>> {
        require("job_id", job_id)?;
        match self
            .client
            .post::<_, JobReply>("/queue/job", &JobIdBody { job_id }, true)
            .await
        {
            Ok(r) => Ok(r.job),
            Err(e) if e.code() == &crate::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Waits until job `job_id` is over (`completed`, `failed` or `cancelled`) and returns it;
    /// `TIMEOUT` after `timeout` naming its last status, `NOT_FOUND` for an unknown id. Polls
    /// `queue.job` (every 50 ms at first, backing off to 1 s), so it works against any platform.
    pub async fn wait(&self, job_id: &str, timeout: std::time::Duration) -> Result<JobRecord> {
        use crate::poll::{Seen, until};
        let ms = std::time::Duration::from_millis;
        let waited = until(timeout, ms(50), ms(1000), || async {
            let job = self.job(job_id).await?.ok_or_else(|| {
                Error::new(
                    crate::ErrorCode::NotFound,
                    format!("no job {job_id} in this project"),
                )
                .with_details(serde_json::json!({"field": "job_id"}))
            })?;
            Ok(
                if matches!(job.status.as_str(), "completed" | "failed" | "cancelled") {
                    Seen::Done(job)
                } else {
                    Seen::Not(job)
                },
            )
        })
        .await?;
        waited.map_err(|job| {
            Error::new(
                crate::ErrorCode::Timeout,
                format!(
                    "job {job_id} ({}) is still {} after {} ms (attempt {} of {}); is a worker serving it? raise the timeout to wait longer",
                    job.job_type,
                    job.status,
                    timeout.as_millis(),
                    job.attempts.unwrap_or(0),
                    job.max_retries.map_or(1, |m| m + 1)
                ),
            )
        })
    }

    /// One page of jobs matching `filter`. [`Queue::jobs_all`] follows the cursor for you.
    pub async fn jobs(&self, filter: &JobFilter) -> Result<JobsPage> {
        if let Some(status) = &filter.status {
            const STATUSES: [&str; 5] =
                ["queued", "processing", "completed", "failed", "cancelled"];
            if !STATUSES.contains(&status.as_str()) {
                return Err(Error::validation(
                    "status",
                    format!(
                        "status must be one of {} (got {status:?})",
                        STATUSES.join(", ")
                    ),
                ));
            }
        }
        self.client.post("/queue/jobs", filter, true).await
    }

    /// Cancels a queued job (advisory).
    pub async fn cancel(&self, job_id: &str) -> Result<CancelResult> {
        require("job_id", job_id)?;
        self.client
            .post("/queue/cancel", &JobIdBody { job_id }, false)
            .await
    }
}
