//! Storage: objects by prefix with size and type, download, and a preview of images.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::html::{self, esc};
use super::{Ctx, api_error_page, error_page};
use crate::store::objects;

const PAGE: i64 = 100;

pub async fn page(ctx: Ctx) -> Response {
    let prefix = ctx.q("prefix").unwrap_or("").to_string();
    let after = ctx.q("after").map(str::to_string);
    let (pid, pre, aft) = (ctx.project.id.clone(), prefix.clone(), after.clone());
    let rows = match ctx
        .st
        .control(move |c| Ok(objects::list(c, &pid, &pre, aft.as_deref(), PAGE + 1)?))
        .await
    {
        Ok(r) => r,
        Err(e) => return api_error_page(e),
    };
    let more = rows.len() as i64 > PAGE;
    let shown = &rows[..rows.len().min(PAGE as usize)];
    let cells: Vec<Vec<String>> = shown
        .iter()
        .map(|o| {
            let view = ctx.href("/storage/file", &[("key", &o.key)]);
            let download = ctx.href("/storage/file", &[("key", &o.key), ("download", "1")]);
            let preview = if o.content_type.starts_with("image/") {
                format!(
                    "<img class=\"thumb\" src=\"{}\" alt=\"{}\" loading=\"lazy\">",
                    esc(&view),
                    esc(&o.key)
                )
            } else {
                String::new()
            };
            vec![
                preview,
                format!("<a href=\"{}\">{}</a>", esc(&view), esc(&o.key)),
                html::bytes(o.size),
                esc(&o.content_type),
                if o.private {
                    "private".into()
                } else {
                    "public".into()
                },
                html::time(o.updated_at),
                format!("<a href=\"{}\" download>download</a>", esc(&download)),
            ]
        })
        .collect();
    let mut body = format!(
        "<form method=\"get\" action=\"/dashboard/storage\" class=\"inline\"><input type=\"hidden\" name=\"p\" value=\"{}\">\
         <label>Prefix <input name=\"prefix\" value=\"{}\" placeholder=\"avatars/\"></label><button>Filter</button></form>",
        esc(&ctx.project.slug),
        esc(&prefix)
    );
    body.push_str(&html::table(
        &["", "Key", "Size", "Type", "Access", "Updated", ""],
        &cells,
        "No objects with this prefix.",
    ));
    if more && let Some(last) = shown.last() {
        body.push_str(&format!(
            "<p class=\"pager\"><a href=\"{}\">next →</a></p>",
            esc(&ctx.href("/storage", &[("prefix", &prefix), ("after", &last.key)]))
        ));
    }
    ctx.render("/storage", "Storage", &body)
}

/// An object's bytes for the operator (private ones too). Served with a sandboxing CSP, so an
/// uploaded HTML or SVG file cannot run script on the dashboard's origin.
pub async fn file(ctx: Ctx, headers: axum::http::HeaderMap) -> Response {
    let Some(key) = ctx.q("key").map(str::to_string) else {
        return error_page(StatusCode::BAD_REQUEST, "`key` is required");
    };
    let (pid, k) = (ctx.project.id.clone(), key.clone());
    let obj = match ctx
        .st
        .control(move |c| Ok(objects::get(c, &pid, &k)?))
        .await
    {
        Ok(Some(o)) => o,
        Ok(None) => {
            return error_page(
                StatusCode::NOT_FOUND,
                &format!("no object {key:?} in this project"),
            );
        }
        Err(e) => return api_error_page(e),
    };
    // The API's own streaming (64 KiB chunks, ETag, active content as an attachment), plus a
    // sandbox for everything: nothing served here runs script on the dashboard's origin.
    let mut r =
        match crate::routes::object_io::stream_object(&ctx.st, &ctx.project.id, &obj, &headers)
            .await
        {
            Ok(r) => r,
            Err(e) => return api_error_page(e),
        };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if ctx.q("download").is_some() {
        let name: String = key
            .rsplit('/')
            .next()
            .unwrap_or("file")
            .chars()
            .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    r
}
