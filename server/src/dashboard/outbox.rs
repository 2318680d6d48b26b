//! Outbox: the emails, one-time codes and links the platform "sent", newest first.

use axum::response::Response;

use super::html::{self, esc};
use super::{Ctx, api_error_page};
use crate::store::outbox;

const LIMIT: u32 = 200;

pub async fn page(ctx: Ctx) -> Response {
    let to = ctx.q("to").map(str::to_string);
    let (pid, t) = (ctx.project.id.clone(), to.clone());
    let rows = match ctx
        .st
        .control(move |c| Ok(outbox::list_outbox(c, &pid, t.as_deref(), LIMIT)?))
        .await
    {
        Ok(r) => r,
        Err(e) => return api_error_page(e),
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|m| {
            let link = m.body.split_whitespace().find(|w| w.starts_with("http://") || w.starts_with("https://"));
            vec![
                html::time(m.created_at),
                esc(&m.to),
                format!("<span class=\"tag\">{}</span>", esc(&m.kind)),
                esc(&m.subject),
                match (m.code.as_deref(), m.token.as_deref()) {
                    (Some(c), _) => format!("<b class=\"otp-code\">{c}</b> <button type=\"button\" class=\"copy\" data-copy=\"{c}\">copy</button>", c = esc(c)),
                    // Reset and verification tokens (the reset email carries no link).
                    (None, Some(t)) => format!("<code class=\"mail-token\" title=\"{t}\">{}…</code> <button type=\"button\" class=\"copy\" data-copy=\"{t}\">copy</button>", esc(&t.chars().take(12).collect::<String>()), t = esc(t)),
                    (None, None) => String::new(),
                },
                link.map(|l| format!("<a class=\"mail-link\" href=\"{l}\" target=\"_blank\" rel=\"noopener noreferrer\">open link</a>", l = esc(l))).unwrap_or_default(),
                format!("<details><summary>body</summary><pre>{}</pre></details>", esc(&m.body)),
            ]
        })
        .collect();
    let mut body = format!(
        "<form method=\"get\" action=\"/dashboard/outbox\" class=\"inline\"><input type=\"hidden\" name=\"p\" value=\"{}\">\
         <label>To <input name=\"to\" value=\"{}\" placeholder=\"someone@example.com\"></label><button>Filter</button> <a href=\"{}\">Refresh</a></form>",
        esc(&ctx.project.slug),
        esc(to.as_deref().unwrap_or("")),
        esc(&ctx.href("/outbox", &[("to", to.as_deref().unwrap_or(""))]))
    );
    body.push_str(&html::table(
        &["When", "To", "Kind", "Subject", "Code / token", "Link", "Body"],
        &cells,
        "Nothing sent yet: sign-up verification, one-time codes and password resets land here.",
    ));
    ctx.render("/outbox", "Outbox", &body)
}
