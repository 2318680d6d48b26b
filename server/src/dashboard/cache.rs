//! Cache: keys with their TTL and values; delete one, flush by prefix.

use axum::Form;
use axum::response::Response;
use serde::Deserialize;

use super::Ctx;
use super::html::{self, esc};
use crate::util::now_ms;

const PAGE: usize = 100;
/// Most keys one flush deletes (the API's cap is the same order: a flush is bounded work).
const FLUSH_CAP: usize = 10_000;

pub async fn page(ctx: Ctx) -> Response {
    let prefix = ctx.q("prefix").unwrap_or("").to_string();
    let after = ctx.q("after").map(str::to_string);
    let now = now_ms();
    let pid = ctx.project.id.clone();
    let (keys, more) = ctx
        .st
        .cache
        .list(&pid, &prefix, after.as_deref(), PAGE, now);
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|(k, exp)| {
            let value = ctx.st.cache.get(&pid, k, now).map(|v| v.to_string()).unwrap_or_default();
            let ttl = match exp {
                Some(e) => format!("{} s", ((e - now) as f64 / 1000.0).ceil() as i64),
                None => "no expiry".into(),
            };
            let shown = if value.chars().count() > 200 {
                format!("{}…", value.chars().take(200).collect::<String>())
            } else {
                value.clone()
            };
            vec![
                format!("<code class=\"cache-key\">{}</code>", esc(k)),
                ttl,
                format!("<code title=\"{}\">{}</code>", esc(&value), esc(&shown)),
                ctx.form_class(
                    "/cache/delete",
                    "inline",
                    &format!("<input type=\"hidden\" name=\"key\" value=\"{}\"><input type=\"hidden\" name=\"prefix\" value=\"{}\"><button class=\"danger\">Delete</button>", esc(k), esc(&prefix)),
                ),
            ]
        })
        .collect();
    let mut body = format!(
        "<form method=\"get\" action=\"/dashboard/cache\" class=\"inline\"><input type=\"hidden\" name=\"p\" value=\"{}\">\
         <label>Prefix <input name=\"prefix\" value=\"{}\" placeholder=\"user:\"></label><button>Filter</button></form>",
        esc(&ctx.project.slug),
        esc(&prefix)
    );
    body.push_str(&html::table(
        &["Key", "TTL", "Value", ""],
        &rows,
        "No live keys with this prefix.",
    ));
    if more && let Some((last, _)) = keys.last() {
        body.push_str(&format!(
            "<p class=\"pager\"><a href=\"{}\">next →</a></p>",
            esc(&ctx.href("/cache", &[("prefix", &prefix), ("after", last)]))
        ));
    }
    body.push_str(&ctx.form_class(
        "/cache/flush",
        "inline confirm",
        &format!(
            "<label>Flush every key starting with <input name=\"prefix\" value=\"{}\" placeholder=\"(empty: all keys)\"></label><button class=\"danger\">Flush</button>",
            esc(&prefix)
        ),
    ));
    ctx.render("/cache", "Cache", &body)
}

#[derive(Deserialize)]
pub struct KeyForm {
    key: String,
    #[serde(default)]
    prefix: String,
}

pub async fn delete(ctx: Ctx, Form(f): Form<KeyForm>) -> Response {
    let done = ctx.st.cache.delete(&ctx.project.id, &f.key, now_ms());
    let back = ctx.href(
        "/cache",
        &[
            ("prefix", &f.prefix),
            (
                if done { "ok" } else { "err" },
                &if done {
                    format!("Deleted {}", f.key)
                } else {
                    format!("{} was already gone", f.key)
                },
            ),
        ],
    );
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(&back))
}

#[derive(Deserialize)]
pub struct FlushForm {
    #[serde(default)]
    prefix: String,
}

pub async fn flush(ctx: Ctx, Form(f): Form<FlushForm>) -> Response {
    let (n, more) = ctx
        .st
        .cache
        .flush(&ctx.project.id, &f.prefix, FLUSH_CAP, now_ms());
    let what = if f.prefix.is_empty() {
        "every key".to_string()
    } else {
        format!("keys starting with {:?}", f.prefix)
    };
    let note = if more {
        format!(" ({FLUSH_CAP} at most per flush: flush again for the rest)")
    } else {
        String::new()
    };
    ctx.back("/cache", Ok(format!("Flushed {n} of {what}{note}")))
}
