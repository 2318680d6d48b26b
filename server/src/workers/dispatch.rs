//! Background work of the hub: hand due queue jobs to connections with free slots, time out
//! jobs that run too long, settle job outcomes in the database (retry with backoff, or
//! dead-letter), and fire platform events at the modules registered for them.

use std::time::Duration;

use serde_json::{Value, json};

use super::frames::{JobSpec, Kind, ModuleSpec};
use super::hub::JobClaim;
use crate::routes::ANY_METHODS;
use crate::state::AppState;
use crate::store::jobs;
use crate::util::{iso_ms, now_ms};

/// Longest `timeout_ms` a module or job type may ask for.
const MAX_TIMEOUT_MS: u64 = 60 * 60 * 1000;
/// A lease outlives the job's timeout by this much, so the hub (not the lease) times jobs out
/// while it runs; the lease only matters after a platform crash.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// The dispatcher loop; runs for the platform's lifetime.
pub async fn run(st: AppState) {
    let hub = st.hooks.clone();
    let mut rounds: u64 = 0;
    loop {
        tokio::select! {
            _ = hub.wakeup.notified() => {}
            _ = tokio::time::sleep(hub.limits.job_poll_interval) => {}
        }
        rounds += 1;
        if rounds.is_multiple_of(200) {
            hub.scopes.sweep();
        }
        for job in hub.take_expired_jobs() {
            let msg = "the job's handler did not answer within its timeout".to_string();
            settle_job(&st, job, Err(msg), false).await;
        }
        for slot in hub.job_slots() {
            let lease = slot
                .types
                .iter()
                .map(|t| hub.job_timeout(slot.conn_id, t))
                .max()
                .unwrap_or(hub.limits.hook_timeout)
                + LEASE_MARGIN;
            let (pid, types, claim, free) = (
                slot.project_id.clone(),
                slot.types.clone(),
                slot.claim.clone(),
                slot.free as i64,
            );
            let claimed = st
                .control(move |c| {
                    Ok(jobs::claim_due(
                        c,
                        &pid,
                        &types,
                        &claim,
                        lease.as_millis() as i64,
                        free,
                        now_ms(),
                    )?)
                })
                .await;
            let rows = match claimed {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!("claiming jobs failed: {}", e.message);
                    continue;
                }
            };
            for row in rows {
                if let Err(back) = hub.deliver_job(slot.conn_id, &row, &slot.claim) {
                    settle_job(&st, back, Err("the worker disconnected".into()), true).await;
                }
            }
        }
    }
}

/// Record a job's outcome for its claim. A failure is retried after the backoff (at once when
/// the worker vanished: the job was not at fault) while attempts remain, else dead-lettered.
/// A claim that is no longer current (the lease ran out and another worker took the job) is
/// ignored by the database conditions.
pub async fn settle_job(
    st: &AppState,
    job: JobClaim,
    outcome: Result<Value, String>,
    redeliver_now: bool,
) {
    let now = now_ms();
    let retry_at = if redeliver_now {
        now
    } else {
        now + st.hooks.backoff(job.attempts).as_millis() as i64
    };
    let id = job.job_id.clone();
    let done = st
        .control(move |c| {
            Ok(match outcome {
                Ok(v) => jobs::complete(c, &job.job_id, &job.claim, &v, now)?
                    .then(|| "completed".to_string()),
                Err(e) => jobs::fail(c, &job.job_id, &job.claim, &e, retry_at, now)?,
            })
        })
        .await;
    match done {
        Ok(Some(status)) => tracing::debug!(job = %id, %status, "job settled"),
        Ok(None) => tracing::debug!(job = %id, "stale claim ignored"),
        Err(e) => tracing::warn!(job = %id, "settling job failed: {}", e.message),
    }
    st.hooks.wakeup.notify_one();
}

/// Check a `register` frame; the message names the bad field.
pub fn validate_registration(modules: &[ModuleSpec], jobs: &[JobSpec]) -> Result<(), String> {
    for (i, m) in modules.iter().enumerate() {
        crate::routes::custom::check_slug(&m.slug)
            .map_err(|e| format!("modules[{i}].slug: {}", e.message))?;
        if m.methods.is_empty() {
            return Err(format!(
                "modules[{i}].methods must name at least one of {}",
                ANY_METHODS.join(", ")
            ));
        }
        if let Some(bad) = m
            .methods
            .iter()
            .find(|x| !ANY_METHODS.contains(&x.to_ascii_uppercase().as_str()))
        {
            return Err(format!(
                "modules[{i}].methods: {bad:?} is not one of {}",
                ANY_METHODS.join(", ")
            ));
        }
        if m.trigger.trim().is_empty() {
            return Err(format!(
                "modules[{i}].trigger must be \"api\" or an event name such as \"auth.register.after\""
            ));
        }
        check_timeout(m.timeout_ms, &format!("modules[{i}].timeout_ms"))?;
    }
    for (i, j) in jobs.iter().enumerate() {
        if j.job_type.trim().is_empty() || j.job_type.len() > 256 {
            return Err(format!(
                "jobs[{i}].type must be 1-256 characters, e.g. \"send-welcome-email\""
            ));
        }
        check_timeout(j.timeout_ms, &format!("jobs[{i}].timeout_ms"))?;
    }
    Ok(())
}

fn check_timeout(t: Option<u64>, field: &str) -> Result<(), String> {
    match t {
        Some(ms) if ms == 0 || ms > MAX_TIMEOUT_MS => Err(format!(
            "{field} must be between 1 and {MAX_TIMEOUT_MS} ms, or absent for the platform default"
        )),
        _ => Ok(()),
    }
}

/// Run every module of `project_id` registered for `event` with `data`, without waiting:
/// platform events never slow down or fail the request that raised them. Errors are logged.
pub fn fire_event(st: &AppState, project_id: &str, event: &str, data: Value) {
    let slugs = st.hooks.event_modules(project_id, event);
    for slug in slugs {
        let hub = st.hooks.clone();
        let (pid, name) = (project_id.to_string(), event.to_string());
        let payload = json!({
            "event": name,
            "timestamp": iso_ms(now_ms()),
            "data": data,
            "project_id": pid,
        });
        tokio::spawn(async move {
            match hub
                .call(&pid, &slug, Kind::Event, payload, |_| Ok(()))
                .await
            {
                Ok(_) => tracing::debug!(%slug, event = %name, "event handled"),
                Err(e) => {
                    tracing::warn!(%slug, event = %name, "event handler failed: {}", e.message)
                }
            }
        });
    }
}
