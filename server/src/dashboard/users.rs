//! Auth: the project's end users; verify an email, disable (no tokens, sessions ended) or enable,
//! delete.

use axum::Form;
use axum::response::Response;
use serde::Deserialize;

use super::html::{self, esc};
use super::{Ctx, api_error_page, msg};
use crate::store::users;
use crate::util::now_ms;

const PAGE: i64 = 50;

pub async fn page(ctx: Ctx) -> Response {
    let page: i64 = ctx.q("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let pid = ctx.project.id.clone();
    let list = match ctx
        .st
        .control(move |c| Ok(users::list(c, &pid, PAGE + 1, page * PAGE)?))
        .await
    {
        Ok(l) => l,
        Err(e) => return api_error_page(e),
    };
    let more = list.len() as i64 > PAGE;
    let rows: Vec<Vec<String>> = list
        .iter()
        .take(PAGE as usize)
        .map(|(u, disabled)| {
            let button = |action: &str, label: &str, class: &str| {
                ctx.form_class(
                    "/auth/action",
                    &format!("inline{}", if action == "delete" { " confirm" } else { "" }),
                    &format!(
                        "<input type=\"hidden\" name=\"id\" value=\"{}\"><input type=\"hidden\" name=\"action\" value=\"{action}\"><button class=\"{class}\">{label}</button>",
                        esc(&u.id)
                    ),
                )
            };
            let mut actions = String::new();
            if u.email.is_some() && u.email_verified_at.is_none() {
                actions.push_str(&button("verify", "Verify", ""));
            }
            actions.push_str(&if disabled.is_some() { button("enable", "Enable", "") } else { button("disable", "Disable", "danger") });
            actions.push_str(&button("delete", "Delete", "danger"));
            vec![
                format!("<span class=\"user-email\">{}</span>", esc(u.email.as_deref().or(u.phone.as_deref()).unwrap_or(""))),
                esc(u.name.as_deref().unwrap_or("")),
                format!("<code>{}</code>", esc(&u.id)),
                match u.email_verified_at {
                    Some(t) => format!("<span class=\"on\">{}</span>", html::time(t)),
                    None => "<span class=\"off\">no</span>".into(),
                },
                match disabled {
                    Some(_) => "<span class=\"off user-state\">disabled</span>".into(),
                    None => "<span class=\"on user-state\">active</span>".into(),
                },
                html::time(u.created_at),
                actions,
            ]
        })
        .collect();
    let mut body = html::table(
        &[
            "Email / phone",
            "Name",
            "Id",
            "Verified",
            "State",
            "Created",
            "",
        ],
        &rows,
        "No users yet: they appear when they register or sign in with a code.",
    );
    let mut pager = String::from("<p class=\"pager\">");
    if page > 0 {
        pager.push_str(&format!(
            "<a href=\"{}\">← previous</a> ",
            esc(&ctx.href("/auth", &[("page", &(page - 1).to_string())]))
        ));
    }
    if more {
        pager.push_str(&format!(
            "<a href=\"{}\">next →</a>",
            esc(&ctx.href("/auth", &[("page", &(page + 1).to_string())]))
        ));
    }
    pager.push_str("</p>");
    body.push_str(&pager);
    body.push_str(&format!("<p class=\"hint\">Codes and links the platform sent are in the <a href=\"{}\">Outbox</a>.</p>", esc(&ctx.href("/outbox", &[]))));
    ctx.render("/auth", "Auth", &body)
}

#[derive(Deserialize)]
pub struct ActionForm {
    id: String,
    action: String,
}

pub async fn action(ctx: Ctx, Form(f): Form<ActionForm>) -> Response {
    let (pid, id, action) = (ctx.project.id.clone(), f.id.clone(), f.action.clone());
    let done = ctx
        .st
        .control(move |c| {
            let now = now_ms();
            Ok(match action.as_str() {
                "verify" => match users::by_id(c, &pid, &id)? {
                    Some(u) => {
                        users::mark_verified(c, &u.id, now)?;
                        Some(true)
                    }
                    None => Some(false),
                },
                "disable" => Some(users::set_disabled(c, &pid, &id, true, now)?),
                "enable" => Some(users::set_disabled(c, &pid, &id, false, now)?),
                "delete" => Some(users::delete(c, &pid, &id)?),
                _ => None,
            })
        })
        .await;
    let outcome = match done {
        Ok(Some(true)) => Ok(match f.action.as_str() {
            "verify" => "Email marked verified".to_string(),
            "disable" => "User disabled: logins refused, sessions ended".to_string(),
            "enable" => "User enabled".to_string(),
            _ => "User deleted".to_string(),
        }),
        Ok(Some(false)) => Err(format!("no user {} in this project", f.id)),
        Ok(None) => Err(format!(
            "unknown action {:?}: verify, disable, enable or delete",
            f.action
        )),
        Err(e) => Err(msg(e)),
    };
    ctx.back("/auth", outcome)
}
