//! The local dashboard: server-rendered pages over the platform's own stores, served at `/` and
//! `/dashboard/...` behind a session token (see `guard`). One file per page; `assets/` holds the
//! one CSS file and the one script, embedded in the binary (no CDN, no build step).
//!
//! The dashboard acts as the platform's operator: it sees every project, one at a time (the
//! project picker, `?p=<slug>` on every URL).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::control::{self, ProjectRec};

mod cache;
mod database;
pub mod guard;
pub mod html;
mod logic;
mod outbox;
mod overview;
mod queue;
mod realtime;
mod secrets;
mod storage;
mod users;

pub use guard::Guard;
use html::esc;

/// The dashboard's routes (none when it is off: `/` is then the API's 404 as before).
pub fn router(state: &AppState) -> Router<AppState> {
    if state.dashboard.is_none() {
        return Router::new();
    }
    Router::new()
        .route("/dashboard", get(overview::page))
        .route("/dashboard/", get(|| async { Redirect::to("/dashboard") }))
        .route("/dashboard/projects", post(overview::create_project))
        .route("/dashboard/keys", post(overview::create_key))
        .route("/dashboard/keys/revoke", post(overview::revoke_key))
        .route("/dashboard/logic", get(logic::page))
        .route("/dashboard/logic/generate", post(logic::generate))
        .route("/dashboard/db", get(database::page))
        .route("/dashboard/db/query", post(database::query))
        .route("/dashboard/cache", get(cache::page))
        .route("/dashboard/cache/delete", post(cache::delete))
        .route("/dashboard/cache/flush", post(cache::flush))
        .route("/dashboard/storage", get(storage::page))
        .route("/dashboard/storage/file", get(storage::file))
        .route("/dashboard/queue", get(queue::page))
        .route("/dashboard/queue/retry", post(queue::retry))
        .route("/dashboard/queue/cancel", post(queue::cancel))
        .route("/dashboard/realtime", get(realtime::page))
        .route("/dashboard/realtime/tail", get(realtime::tail))
        .route("/dashboard/auth", get(users::page))
        .route("/dashboard/auth/action", post(users::action))
        .route("/dashboard/outbox", get(outbox::page))
        .route("/dashboard/secrets", get(secrets::page))
        .route("/dashboard/secrets/set", post(secrets::set))
        .route("/dashboard/secrets/delete", post(secrets::delete))
        .route("/dashboard/secrets/reveal", post(secrets::reveal))
        .route("/dashboard/assets/dashboard.css", get(css))
        .route("/dashboard/assets/dashboard.js", get(js))
        .route_layer(from_fn_with_state(state.clone(), guard::check))
        // `/` checks the token itself (it is where the token arrives).
        .route("/", get(guard::root))
}

async fn css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("assets/dashboard.css"),
    )
}

async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("assets/dashboard.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// The pages, in navigation order: `(path under /dashboard, title)`.
const PAGES: [(&str, &str); 10] = [
    ("", "Overview"),
    ("/logic", "Logic Lab"),
    ("/db", "Database"),
    ("/cache", "Cache"),
    ("/storage", "Storage"),
    ("/queue", "Queue"),
    ("/realtime", "Realtime"),
    ("/auth", "Auth"),
    ("/outbox", "Outbox"),
    ("/secrets", "Secrets"),
];

/// What every page handler gets: the state, the chosen project and the query string.
pub struct Ctx {
    pub st: AppState,
    pub project: Arc<ProjectRec>,
    pub projects: Vec<(ProjectRec, bool, String)>,
    pub query: HashMap<String, String>,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Ctx, Response> {
        let Query(query) = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map_err(|e| error_page(StatusCode::BAD_REQUEST, &e.to_string()))?;
        let projects = st
            .control(|c| Ok(control::list_projects(c)?))
            .await
            .map_err(api_error_page)?;
        let wanted = query.get("p").map(String::as_str).unwrap_or("");
        let project = projects
            .iter()
            .find(|(p, _, _)| p.slug == wanted || p.id == wanted)
            .or_else(|| projects.iter().find(|(_, default, _)| *default))
            .map(|(p, _, _)| Arc::new(p.clone()))
            .ok_or_else(|| error_page(StatusCode::INTERNAL_SERVER_ERROR, "no project"))?;
        Ok(Ctx {
            st: st.clone(),
            project,
            projects,
            query,
        })
    }
}

impl Ctx {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn csrf(&self) -> &str {
        self.st.dashboard.as_ref().map_or("", |g| g.csrf())
    }

    /// A dashboard URL for this project: `/dashboard{path}?p=slug&k=v...`.
    pub fn href(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut all: Vec<(&str, &str)> = vec![("p", self.project.slug.as_str())];
        all.extend(params.iter().filter(|(_, v)| !v.is_empty()));
        let qs = serde_urlencoded::to_string(&all).unwrap_or_default();
        format!("/dashboard{path}?{qs}")
    }

    /// A POST form to `/dashboard{action}` with the CSRF token; `inner` is its fields and button.
    pub fn form(&self, action: &str, inner: &str) -> String {
        self.form_class(action, "", inner)
    }

    pub fn form_class(&self, action: &str, class: &str, inner: &str) -> String {
        format!(
            "<form method=\"post\" action=\"{}\" class=\"{class}\"><input type=\"hidden\" name=\"_csrf\" value=\"{}\">{inner}</form>",
            esc(&self.href(action, &[])),
            esc(self.csrf())
        )
    }

    /// After a POST: back to a page of this project with a message (303).
    pub fn back(&self, path: &str, outcome: Result<String, String>) -> Response {
        let (k, v) = match &outcome {
            Ok(m) => ("ok", m.as_str()),
            Err(m) => ("err", m.as_str()),
        };
        Redirect::to(&self.href(path, &[(k, v)])).into_response()
    }

    /// The page shell around `body`, `active` being the page's path under /dashboard.
    pub fn render(&self, active: &str, title: &str, body: &str) -> Response {
        let mut nav = String::new();
        for (path, name) in PAGES {
            let class = if path == active {
                " class=\"active\""
            } else {
                ""
            };
            nav.push_str(&format!(
                "<a href=\"{}\"{class}>{}</a>",
                esc(&self.href(path, &[])),
                esc(name)
            ));
        }
        let mut options = String::new();
        for (p, default, _) in &self.projects {
            options.push_str(&format!(
                "<option value=\"{}\"{}>{}{}</option>",
                esc(&p.slug),
                if p.id == self.project.id {
                    " selected"
                } else {
                    ""
                },
                esc(&p.name),
                if *default { " (default)" } else { "" }
            ));
        }
        let mut flash = String::new();
        if let Some(m) = self.q("ok") {
            flash.push_str(&format!(
                "<p class=\"flash ok\" role=\"status\">{}</p>",
                esc(m)
            ));
        }
        if let Some(m) = self.q("err") {
            flash.push_str(&format!(
                "<p class=\"flash err\" role=\"alert\">{}</p>",
                esc(m)
            ));
        }
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"csrf-token\" content=\"{csrf}\">\
             <title>{title} · Aerostack local</title>\
             <link rel=\"stylesheet\" href=\"/dashboard/assets/dashboard.css\">\
             <script src=\"/dashboard/assets/dashboard.js\" defer></script></head><body>\
             <header><span class=\"brand\">Aerostack <small>local</small></span>\
             <form method=\"get\" action=\"/dashboard{active}\" class=\"picker\">\
             <label>Project <select name=\"p\" id=\"project-picker\">{options}</select></label>\
             <noscript><button>Go</button></noscript></form></header>\
             <nav>{nav}</nav><main><h1>{title}</h1>{flash}{body}</main></body></html>",
            csrf = esc(self.csrf()),
            title = esc(title),
        );
        (html::headers(), page).into_response()
    }
}

/// An error as a small page.
pub fn error_page(status: StatusCode, msg: &str) -> Response {
    (
        status,
        html::headers(),
        html::bare("Error", &format!("<h1>Error</h1><p>{}</p>", esc(msg))),
    )
        .into_response()
}

pub fn api_error_page(e: ApiError) -> Response {
    error_page(e.status, &format!("{}: {}", e.code, e.message))
}

/// A control-store error (bad input or storage) as an API error.
pub fn from_server(e: crate::error::ServerError) -> ApiError {
    match e {
        crate::error::ServerError::Invalid(m) => ApiError::validation("name", m),
        crate::error::ServerError::NotFound(m) => ApiError::not_found(m),
        e => ApiError::internal(e.to_string()),
    }
}

/// A store error as the message shown after an action.
pub fn msg(e: ApiError) -> String {
    format!("{}: {}", e.code, e.message)
}
