//! What keeps other web pages out of the dashboard (a page on localhost can be reached from any
//! site the user visits):
//! - a session token (random, per process), printed in the start banner and the ready file as
//!   `http://127.0.0.1:PORT/?token=...`; opening that URL stores it in an HttpOnly,
//!   SameSite=Strict cookie and redirects to a URL without it (Jupyter's scheme);
//! - the `Host` header must be a loopback name or address, or the bound address (DNS
//!   rebinding: a hostile name resolving to 127.0.0.1 arrives with its own name as the host);
//! - every request that changes something (not GET/HEAD) carries the CSRF token (form field
//!   `_csrf` or header `X-CSRF-Token`) and, when the browser sends one, a same-origin `Origin`.

use std::net::IpAddr;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::state::AppState;
use crate::util::random_hex;

/// Largest form body the dashboard reads (SQL, a secret value, a description for the AI).
pub const MAX_FORM_BYTES: usize = 1024 * 1024;

/// The dashboard's secrets for this process.
pub struct Guard {
    token: String,
    csrf: String,
}

impl Default for Guard {
    fn default() -> Self {
        Guard::new()
    }
}

impl Guard {
    pub fn new() -> Guard {
        Guard {
            token: random_hex(24),
            csrf: random_hex(24),
        }
    }

    /// The session token (in the dashboard URL).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The CSRF token every form and state-changing fetch carries.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Equal strings, compared in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The cookie's name carries the port: cookies are not per-port, and two platforms on one
/// machine must not share (or overwrite) each other's session.
pub fn cookie_name(st: &AppState) -> String {
    let port = st.base_url().rsplit(':').next().unwrap_or("0");
    format!("aerostack_dashboard_{port}")
}

fn cookie_session(st: &AppState, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(st);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Whether the request carries the session cookie.
pub fn has_session(st: &AppState, guard: &Guard, headers: &HeaderMap) -> bool {
    cookie_session(st, headers).is_some_and(|v| same(&v, &guard.token))
}

/// The host name of a `Host` header value (without port; IPv6 without brackets).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    })
}

/// Loopback names and addresses, and the address the platform is bound to.
pub fn host_allowed(st: &AppState, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    let name = host_name(host).to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    if let Ok(ip) = name.parse::<IpAddr>()
        && ip.is_loopback()
    {
        return true;
    }
    let bound = st.base_url().trim_start_matches("http://");
    host_name(bound).eq_ignore_ascii_case(&name)
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = super::html::bare(title, body);
    (status, super::html::headers(), page).into_response()
}

fn forbidden(msg: &str) -> Response {
    html(
        StatusCode::FORBIDDEN,
        "Forbidden",
        &format!("<p>{}</p>", super::html::esc(msg)),
    )
}

/// The page shown without a session: where to find the token.
pub fn login_page() -> Response {
    html(
        StatusCode::UNAUTHORIZED,
        "Aerostack dashboard: session token needed",
        "<h1>Session token needed</h1>\
         <p>The local dashboard opens only with its session token, so that other web pages cannot \
         use it. Open the <b>Dashboard</b> URL printed in the platform's start banner \
         (<code>http://127.0.0.1:PORT/?token=…</code>), or the <code>dashboard_url</code> field of \
         the file written with <code>--ready-file</code>.</p>\
         <p>A new token is made each time the platform starts. <code>--no-dashboard</code> turns \
         the dashboard off.</p>",
    )
}

#[derive(serde::Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `GET /`: trade `?token=` for the session cookie and go to the dashboard without the token in
/// the URL; with the cookie already, go there; else say where to find the token.
pub async fn root(
    State(st): State<AppState>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(guard) = st.dashboard.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !host_allowed(&st, headers.get(header::HOST).and_then(|h| h.to_str().ok())) {
        return forbidden(
            "This Host is not served: open the dashboard at 127.0.0.1 or localhost (the URL printed in the start banner).",
        );
    }
    match q.token {
        Some(t) if same(&t, guard.token()) => {
            let cookie = format!(
                "{}={}; Path=/; HttpOnly; SameSite=Strict",
                cookie_name(&st),
                guard.token()
            );
            let mut r = Redirect::to("/dashboard").into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).expect("ASCII cookie"),
            );
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Some(_) => login_page(),
        None if has_session(&st, &guard, &headers) => Redirect::to("/dashboard").into_response(),
        None => login_page(),
    }
}

/// Middleware on every `/dashboard/...` route: Host, session, and for state changes the CSRF
/// token and Origin. Assets (CSS, JS) need no session (the 401 page uses them too).
pub async fn check(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let Some(guard) = st.dashboard.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    if !host_allowed(&st, host.as_deref()) {
        return forbidden(
            "This Host is not served: open the dashboard at 127.0.0.1 or localhost (the URL printed in the start banner).",
        );
    }
    if req.uri().path().starts_with("/dashboard/assets/") {
        return next.run(req).await;
    }
    if !has_session(&st, &guard, req.headers()) {
        return login_page();
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    // A state change: the Origin (browsers send it on cross-site POSTs) must be this origin.
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let expected = format!("http://{}", host.as_deref().unwrap_or(""));
        if origin.to_str().ok() != Some(expected.as_str()) {
            return forbidden(
                "Cross-origin request refused: the dashboard accepts changes only from its own pages.",
            );
        }
    }
    if let Some(h) = req.headers().get("x-csrf-token") {
        if h.to_str().is_ok_and(|v| same(v, guard.csrf())) {
            return next.run(req).await;
        }
        return forbidden("The CSRF token is wrong: reload the page and try again.");
    }
    // A form: read it (bounded) to find `_csrf`, then hand the same bytes on.
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return html(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                &format!("<p>A dashboard form is limited to {MAX_FORM_BYTES} bytes.</p>"),
            );
        }
    };
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let ok = fields
        .iter()
        .any(|(k, v)| k == "_csrf" && same(v, guard.csrf()));
    if !ok {
        return forbidden(
            "Missing or wrong CSRF token: reload the page and submit the form again.",
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(host_name("127.0.0.1:8787"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8787"), "::1");
        assert_eq!(host_name("localhost"), "localhost");
        assert_eq!(host_name("evil.example:80"), "evil.example");
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
