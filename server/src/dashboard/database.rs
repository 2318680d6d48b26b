//! Database: the project's tables and views, their rows (paged), and a SQL console whose errors
//! are the API's (same code, message and details as `POST /v1/db/query`).

use axum::Form;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::Ctx;
use super::html::{self, esc};
use crate::error::ApiError;

const PAGE: usize = 50;

/// Run one statement as `/v1/db/query` does (the project's slots, realtime row changes).
async fn run(ctx: &Ctx, sql: String, params: Value) -> Result<Value, ApiError> {
    let out = crate::routes::db::run_query(&ctx.st, &ctx.project.id, sql, params).await?;
    serde_json::from_slice(&out).map_err(|e| ApiError::internal(format!("query answer: {e}")))
}

/// A results grid for rows (objects keeping their column order).
fn grid(rows: &[Value]) -> String {
    let Some(Value::Object(first)) = rows.first() else {
        return "<p class=\"empty\">No rows.</p>".into();
    };
    let cols: Vec<&String> = first.keys().collect();
    let head: Vec<&str> = cols.iter().map(|c| c.as_str()).collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| html::json_cell(&r[c.as_str()], 120))
                .collect()
        })
        .collect();
    html::table(&head, &body, "No rows.")
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub async fn page(ctx: Ctx) -> Response {
    render(ctx, None, None).await
}

async fn render(
    ctx: Ctx,
    sql: Option<String>,
    result: Option<Result<Value, ApiError>>,
) -> Response {
    let tables = run(
        &ctx,
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name".into(),
        Value::Null,
    )
    .await;
    let mut body = String::from("<div class=\"split\"><aside><h2>Tables</h2>");
    let selected = ctx.q("table").map(str::to_string);
    match &tables {
        Ok(t) => {
            let list = t["results"].as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                body.push_str("<p class=\"empty\">No tables yet: create one in the console.</p>");
            }
            body.push_str("<ul class=\"tables\">");
            for row in list {
                let name = row["name"].as_str().unwrap_or("");
                let class = if selected.as_deref() == Some(name) {
                    " class=\"active\""
                } else {
                    ""
                };
                body.push_str(&format!(
                    "<li><a href=\"{}\"{class}>{}</a> <small>{}</small></li>",
                    esc(&ctx.href("/db", &[("table", name)])),
                    esc(name),
                    esc(row["type"].as_str().unwrap_or(""))
                ));
            }
            body.push_str("</ul>");
        }
        Err(e) => body.push_str(&format!(
            "<p class=\"flash err\">{}</p>",
            esc(&super::msg(e.clone()))
        )),
    }
    body.push_str("</aside><div class=\"grow\">");

    // The console
    let default_sql = selected
        .as_deref()
        .map(|t| format!("SELECT * FROM {} LIMIT 100", quote_ident(t)))
        .unwrap_or_else(|| "SELECT 1 AS one".into());
    body.push_str("<section><h2>SQL console</h2>");
    body.push_str(&ctx.form_class(
        "/db/query",
        "console",
        &format!(
            "<textarea name=\"sql\" id=\"sql\" rows=\"5\" spellcheck=\"false\">{}</textarea><button id=\"run-sql\">Run</button>",
            esc(sql.as_deref().unwrap_or(&default_sql))
        ),
    ));
    match result {
        Some(Ok(v)) => {
            let rows = v["results"].as_array().cloned().unwrap_or_default();
            let meta = &v["meta"];
            body.push_str(&format!(
                "<p class=\"hint\" id=\"sql-meta\">{} row(s) · {} change(s) · last row id {} · {} ms</p>",
                rows.len(),
                meta["changes"].as_i64().unwrap_or(0),
                meta["last_row_id"].as_i64().unwrap_or(0),
                meta["duration"].as_f64().unwrap_or(0.0)
            ));
            body.push_str(&format!("<div id=\"sql-results\">{}</div>", grid(&rows)));
        }
        Some(Err(e)) => {
            let details = if e.details.is_empty() {
                String::new()
            } else {
                format!(
                    "<pre>{}</pre>",
                    esc(&serde_json::to_string_pretty(&e.details).unwrap_or_default())
                )
            };
            body.push_str(&format!(
                "<div class=\"flash err\" id=\"sql-error\"><b>{} {}</b>: {}{details}</div>",
                e.status.as_u16(),
                esc(e.code),
                esc(&e.message)
            ));
        }
        None => {}
    }
    body.push_str("</section>");

    // Rows of the chosen table
    if let Some(t) = &selected {
        let page: usize = ctx.q("page").and_then(|p| p.parse().ok()).unwrap_or(0);
        let sql = format!(
            "SELECT * FROM {} LIMIT {} OFFSET {}",
            quote_ident(t),
            PAGE + 1,
            page * PAGE
        );
        body.push_str(&format!("<section><h2>{}</h2>", esc(t)));
        match run(&ctx, sql, Value::Null).await {
            Ok(v) => {
                let mut rows = v["results"].as_array().cloned().unwrap_or_default();
                let more = rows.len() > PAGE;
                rows.truncate(PAGE);
                body.push_str(&format!(
                    "<p class=\"hint\">Rows {}–{}</p>",
                    page * PAGE + usize::from(!rows.is_empty()),
                    page * PAGE + rows.len()
                ));
                body.push_str(&grid(&rows));
                let mut pager = String::from("<p class=\"pager\">");
                if page > 0 {
                    pager.push_str(&format!(
                        "<a href=\"{}\">← previous</a> ",
                        esc(&ctx.href("/db", &[("table", t), ("page", &(page - 1).to_string())]))
                    ));
                }
                if more {
                    pager.push_str(&format!(
                        "<a href=\"{}\">next →</a>",
                        esc(&ctx.href("/db", &[("table", t), ("page", &(page + 1).to_string())]))
                    ));
                }
                pager.push_str("</p>");
                body.push_str(&pager);
            }
            Err(e) => body.push_str(&format!(
                "<p class=\"flash err\">{}</p>",
                esc(&super::msg(e))
            )),
        }
        body.push_str("</section>");
    }
    body.push_str("</div></div>");
    ctx.render("/db", "Database", &body)
}

#[derive(Deserialize)]
pub struct QueryForm {
    sql: String,
}

pub async fn query(ctx: Ctx, Form(f): Form<QueryForm>) -> Response {
    let result = if f.sql.trim().is_empty() {
        Err(ApiError::validation(
            "sql",
            "`sql` is blank: write a statement, e.g. SELECT 1",
        ))
    } else {
        run(&ctx, f.sql.clone(), Value::Null).await
    };
    render(ctx, Some(f.sql), Some(result)).await
}
