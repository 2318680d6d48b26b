//! Overview: the platform (URLs, data directory, AI upstream, workers), projects and their API
//! keys (create, revoke, copy).

use axum::Form;
use axum::response::Response;
use serde::Deserialize;

use super::html::{self, copyable, esc};
use super::{Ctx, api_error_page, msg};
use crate::store::control;

pub async fn page(ctx: Ctx) -> Response {
    let pid = ctx.project.id.clone();
    let keys = match ctx
        .st
        .control(move |c| Ok(control::list_keys(c, Some(&pid))?))
        .await
    {
        Ok(k) => k,
        Err(e) => return api_error_page(e),
    };
    let st = &ctx.st;
    let ai = match &st.ai.base_url {
        Some(b) => format!(
            "{} (model {})",
            esc(b),
            esc(st.ai.model.as_deref().unwrap_or("from each request"))
        ),
        None => "not configured: start the platform with <code>AEROSTACK_AI_BASE_URL</code> (e.g. <code>http://127.0.0.1:11434/v1</code> for Ollama) and <code>AEROSTACK_AI_MODEL</code>".to_string(),
    };
    let workers = st.hooks.workers_of(&ctx.project.id).len();
    let mut body = format!(
        "<section class=\"facts\"><dl>\
         <dt>Platform URL</dt><dd>{url}</dd>\
         <dt>API URL</dt><dd>{api}</dd>\
         <dt>Data directory</dt><dd>{data}</dd>\
         <dt>AI upstream</dt><dd id=\"ai-status\">{ai}</dd>\
         <dt>Workers connected</dt><dd>{workers} (project {slug})</dd>\
         </dl></section>",
        url = copyable(st.base_url()),
        api = copyable(&format!("{}/v1", st.base_url())),
        data = copyable(&st.data_dir.display().to_string()),
        slug = esc(&ctx.project.slug),
    );

    let rows: Vec<Vec<String>> = ctx
        .projects
        .iter()
        .map(|(p, default, created)| {
            vec![
                format!(
                    "<a href=\"/dashboard?p={}\">{}</a>{}",
                    esc(&p.slug),
                    esc(&p.name),
                    if *default {
                        " <span class=\"tag\">default</span>"
                    } else {
                        ""
                    }
                ),
                esc(&p.slug),
                copyable(&p.id),
                esc(created),
            ]
        })
        .collect();
    body.push_str("<section><h2>Projects</h2>");
    body.push_str(&html::table(
        &["Name", "Slug", "Id", "Created"],
        &rows,
        "No projects.",
    ));
    body.push_str(&ctx.form_class(
        "/projects",
        "inline",
        "<label>New project <input name=\"name\" id=\"new-project-name\" required placeholder=\"My app\"></label>\
         <button id=\"create-project\">Create project</button>",
    ));
    body.push_str("</section>");

    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|(key, _, _, created)| {
            vec![
                format!("<span class=\"api-key\">{}</span>", copyable(key)),
                esc(created),
                ctx.form_class(
                    "/keys/revoke",
                    "inline confirm",
                    &format!(
                        "<input type=\"hidden\" name=\"key\" value=\"{}\"><button class=\"danger\">Revoke</button>",
                        esc(key)
                    ),
                ),
            ]
        })
        .collect();
    body.push_str(&format!(
        "<section><h2>API keys of {}</h2>",
        esc(&ctx.project.name)
    ));
    body.push_str(&html::table(&["Key", "Created", ""], &rows, "No keys."));
    body.push_str(&ctx.form_class(
        "/keys",
        "inline",
        "<button id=\"create-key\">Create API key</button>",
    ));
    body.push_str("</section>");
    ctx.render("", "Overview", &body)
}

#[derive(Deserialize)]
pub struct NewProject {
    name: String,
}

pub async fn create_project(ctx: Ctx, Form(f): Form<NewProject>) -> Response {
    let name = f.name.clone();
    let made = ctx
        .st
        .control(move |c| control::create_project(c, &name, None).map_err(super::from_server))
        .await;
    match made {
        Ok((p, _)) => {
            let mut ctx = ctx;
            ctx.project = std::sync::Arc::new(p.clone());
            ctx.back(
                "",
                Ok(format!(
                    "Project {} created (slug {}) with an API key",
                    p.name, p.slug
                )),
            )
        }
        Err(e) => ctx.back("", Err(msg(e))),
    }
}

pub async fn create_key(ctx: Ctx) -> Response {
    let pid = ctx.project.id.clone();
    match ctx
        .st
        .control(move |c| Ok(control::create_key(c, &pid)?))
        .await
    {
        Ok(_) => ctx.back("", Ok("API key created".into())),
        Err(e) => ctx.back("", Err(msg(e))),
    }
}

#[derive(Deserialize)]
pub struct KeyForm {
    key: String,
}

pub async fn revoke_key(ctx: Ctx, Form(f): Form<KeyForm>) -> Response {
    let (pid, key) = (ctx.project.id.clone(), f.key.clone());
    let done = ctx
        .st
        .control(move |c| {
            // Only a key of the chosen project (the form could name any).
            let mine = control::list_keys(c, Some(&pid))?
                .iter()
                .any(|(k, ..)| *k == key);
            if !mine {
                return Ok(false);
            }
            control::revoke_key(c, &key).map_err(super::from_server)
        })
        .await;
    match done {
        Ok(true) => {
            ctx.st.forget_key(&f.key);
            ctx.back(
                "",
                Ok("API key revoked: calls with it now get 401 AUTH_INVALID_KEY".into()),
            )
        }
        Ok(false) => ctx.back("", Err("no such key in this project".into())),
        Err(e) => ctx.back("", Err(msg(e))),
    }
}
