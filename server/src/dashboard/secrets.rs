//! Secrets: names, set, delete; a value is shown only after an explicit reveal (a POST with the
//! CSRF token), one at a time, and never in the listing.

use axum::Form;
use axum::response::Response;
use serde::Deserialize;

use super::html::{self, esc};
use super::{Ctx, api_error_page, msg};
use crate::store::control;

pub async fn page(ctx: Ctx) -> Response {
    render(ctx, None).await
}

async fn render(ctx: Ctx, revealed: Option<(String, Option<String>)>) -> Response {
    let pid = ctx.project.id.clone();
    let names = match ctx
        .st
        .control(move |c| Ok(control::list_secrets(c, &pid)?))
        .await
    {
        Ok(n) => n,
        Err(e) => return api_error_page(e),
    };
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|name| {
            let value = match &revealed {
                Some((n, Some(v))) if n == name => format!("<code class=\"secret-value\">{}</code>", esc(v)),
                _ => ctx.form_class(
                    "/secrets/reveal",
                    "inline",
                    &format!("<span class=\"masked\">••••••••</span> <input type=\"hidden\" name=\"name\" value=\"{}\"><button class=\"reveal\">Reveal</button>", esc(name)),
                ),
            };
            vec![
                format!("<code class=\"secret-name\">{}</code>", esc(name)),
                value,
                ctx.form_class(
                    "/secrets/delete",
                    "inline confirm",
                    &format!("<input type=\"hidden\" name=\"name\" value=\"{}\"><button class=\"danger\">Delete</button>", esc(name)),
                ),
            ]
        })
        .collect();
    let mut body = html::table(
        &["Name", "Value", ""],
        &rows,
        "No secrets. Handlers read them with sdk.secrets.get(name); a .dev.vars file seeds the default project's.",
    );
    body.push_str(&ctx.form_class(
        "/secrets/set",
        "inline",
        "<label>Name <input name=\"name\" required pattern=\"[A-Za-z0-9_.\\-]{1,256}\" placeholder=\"STRIPE_KEY\"></label>\
         <label>Value <input name=\"value\" type=\"password\" autocomplete=\"off\" required></label><button>Set secret</button>",
    ));
    ctx.render("/secrets", "Secrets", &body)
}

#[derive(Deserialize)]
pub struct SetForm {
    name: String,
    value: String,
}

pub async fn set(ctx: Ctx, Form(f): Form<SetForm>) -> Response {
    if !control::valid_secret_name(&f.name) {
        return ctx.back(
            "/secrets",
            Err(format!(
                "invalid secret name {:?}: use 1-256 letters, digits, '_', '.' or '-'",
                f.name
            )),
        );
    }
    let (pid, name, value) = (ctx.project.id.clone(), f.name.clone(), f.value);
    match ctx
        .st
        .control(move |c| Ok(control::set_secret(c, &pid, &name, &value)?))
        .await
    {
        Ok(()) => ctx.back("/secrets", Ok(format!("Secret {} set", f.name))),
        Err(e) => ctx.back("/secrets", Err(msg(e))),
    }
}

#[derive(Deserialize)]
pub struct NameForm {
    name: String,
}

pub async fn delete(ctx: Ctx, Form(f): Form<NameForm>) -> Response {
    let (pid, name) = (ctx.project.id.clone(), f.name.clone());
    match ctx
        .st
        .control(move |c| Ok(control::delete_secret(c, &pid, &name)?))
        .await
    {
        Ok(true) => ctx.back("/secrets", Ok(format!("Secret {} deleted", f.name))),
        Ok(false) => ctx.back("/secrets", Err(format!("no secret {}", f.name))),
        Err(e) => ctx.back("/secrets", Err(msg(e))),
    }
}

pub async fn reveal(ctx: Ctx, Form(f): Form<NameForm>) -> Response {
    let (pid, name) = (ctx.project.id.clone(), f.name.clone());
    match ctx
        .st
        .control(move |c| Ok(control::get_secret(c, &pid, &name)?))
        .await
    {
        Ok(v) => render(ctx, Some((f.name, v))).await,
        Err(e) => api_error_page(e),
    }
}
