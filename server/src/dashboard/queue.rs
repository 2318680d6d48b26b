//! Queue: jobs by status (dead-letter = `failed`), payload, attempts and runs; retry a
//! dead-lettered or cancelled job, cancel a queued one.

use axum::Form;
use axum::response::Response;
use serde::Deserialize;

use super::html::{self, esc};
use super::{Ctx, api_error_page, msg};
use crate::store::jobs;
use crate::util::now_ms;

const PAGE: i64 = 50;
const STATUSES: [(&str, &str); 6] = [
    ("", "all"),
    ("queued", "queued"),
    ("processing", "processing"),
    ("completed", "completed"),
    ("failed", "dead-letter (failed)"),
    ("cancelled", "cancelled"),
];

pub async fn page(ctx: Ctx) -> Response {
    let status = ctx.q("status").map(str::to_string);
    let (pid, s) = (ctx.project.id.clone(), status.clone());
    let loaded = ctx
        .st
        .control(move |c| {
            let counts = jobs::counts(c, &pid)?;
            let list = jobs::list(c, &pid, s.as_deref(), None, PAGE, None)?;
            let mut with_runs = Vec::new();
            for j in list {
                let runs = jobs::history(c, &j.id)?;
                with_runs.push((j, runs));
            }
            Ok((counts, with_runs))
        })
        .await;
    let (counts, list) = match loaded {
        Ok(x) => x,
        Err(e) => return api_error_page(e),
    };
    let mut body = String::from("<p class=\"tabs\">");
    for (value, label) in STATUSES {
        let n: i64 = if value.is_empty() {
            counts.iter().map(|(_, n)| n).sum()
        } else {
            counts
                .iter()
                .find(|(s, _)| s == value)
                .map_or(0, |(_, n)| *n)
        };
        let active = status.as_deref().unwrap_or("") == value;
        body.push_str(&format!(
            "<a href=\"{}\"{}>{} <span class=\"count\">{n}</span></a>",
            esc(&ctx.href("/queue", &[("status", value)])),
            if active { " class=\"active\"" } else { "" },
            esc(label)
        ));
    }
    body.push_str("</p>");
    let here = status.clone().unwrap_or_default();
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|(j, runs)| {
            let mut actions = String::new();
            if j.status == "failed" || j.status == "cancelled" {
                actions.push_str(&ctx.form_class(
                    "/queue/retry",
                    "inline",
                    &format!("<input type=\"hidden\" name=\"id\" value=\"{}\"><input type=\"hidden\" name=\"status\" value=\"{}\"><button class=\"retry\">Retry</button>", esc(&j.id), esc(&here)),
                ));
            }
            if j.status == "queued" {
                actions.push_str(&ctx.form_class(
                    "/queue/cancel",
                    "inline",
                    &format!("<input type=\"hidden\" name=\"id\" value=\"{}\"><input type=\"hidden\" name=\"status\" value=\"{}\"><button class=\"danger\">Cancel</button>", esc(&j.id), esc(&here)),
                ));
            }
            let runs_text: Vec<String> = runs
                .iter()
                .map(|r| {
                    format!(
                        "#{} {}{}",
                        r["attempt"],
                        r["outcome"].as_str().unwrap_or("running"),
                        r["error"].as_str().map(|e| format!(": {e}")).unwrap_or_default()
                    )
                })
                .collect();
            vec![
                format!("<code class=\"job-id\">{}</code>", esc(&j.id)),
                esc(&j.job_type),
                format!("<span class=\"job-status {s}\">{s}</span>", s = esc(&j.status)),
                format!("{} / {}", j.attempts, j.max_retries + 1),
                html::json_cell(&serde_json::from_str(&j.data).unwrap_or(serde_json::Value::String(j.data.clone())), 100),
                esc(j.last_error.as_deref().unwrap_or("")),
                format!("<small>{}</small>", esc(&runs_text.join("\n")).replace('\n', "<br>")),
                html::time(j.created_at),
                actions,
            ]
        })
        .collect();
    body.push_str(&html::table(
        &[
            "Id",
            "Type",
            "Status",
            "Runs / allowed",
            "Payload",
            "Last error",
            "History",
            "Created",
            "",
        ],
        &rows,
        "No jobs with this status.",
    ));
    ctx.render("/queue", "Queue", &body)
}

#[derive(Deserialize)]
pub struct JobForm {
    id: String,
    #[serde(default)]
    status: String,
}

fn back(ctx: &Ctx, status: &str, outcome: Result<String, String>) -> Response {
    let (k, v) = match &outcome {
        Ok(m) => ("ok", m.as_str()),
        Err(m) => ("err", m.as_str()),
    };
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(
        &ctx.href("/queue", &[("status", status), (k, v)]),
    ))
}

pub async fn retry(ctx: Ctx, Form(f): Form<JobForm>) -> Response {
    let (pid, id) = (ctx.project.id.clone(), f.id.clone());
    let done = ctx
        .st
        .control(move |c| Ok(jobs::retry(c, &pid, &id, now_ms())?))
        .await;
    let outcome = match done {
        Ok(Some(Ok(()))) => {
            ctx.st.hooks.wakeup.notify_one();
            Ok(format!("Job {} queued again", f.id))
        }
        Ok(Some(Err(s))) => Err(format!(
            "job {} is {s}: only failed (dead-letter) or cancelled jobs can be retried",
            f.id
        )),
        Ok(None) => Err(format!("no job {} in this project", f.id)),
        Err(e) => Err(msg(e)),
    };
    back(&ctx, &f.status, outcome)
}

pub async fn cancel(ctx: Ctx, Form(f): Form<JobForm>) -> Response {
    let (pid, id) = (ctx.project.id.clone(), f.id.clone());
    let done = ctx
        .st
        .control(move |c| Ok(jobs::cancel(c, &pid, &id, now_ms())?))
        .await;
    let outcome = match done {
        Ok(Some(Ok(()))) => Ok(format!("Job {} cancelled", f.id)),
        Ok(Some(Err(s))) => Err(format!(
            "job {} is {s}: only queued jobs can be cancelled",
            f.id
        )),
        Ok(None) => Err(format!("no job {} in this project", f.id)),
        Err(e) => Err(msg(e)),
    };
    back(&ctx, &f.status, outcome)
}
