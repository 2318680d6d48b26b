//! The page shell and small HTML helpers. Every value put into a page goes through [`esc`].

use axum::http::{HeaderName, HeaderValue, header};

/// HTML-escape text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Response headers of every page: no caching, no framing (clickjacking), scripts and styles only
/// from the dashboard's own files.
pub fn headers() -> [(HeaderName, HeaderValue); 5] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            ),
        ),
    ]
}

/// A page without navigation (the token page, errors).
pub fn bare(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <link rel=\"stylesheet\" href=\"/dashboard/assets/dashboard.css\"></head>\
         <body class=\"bare\"><main>{body}</main></body></html>",
        esc(title)
    )
}

/// A table: `head` are column titles, rows are pre-rendered cells (already escaped).
pub fn table(head: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{}</p>", esc(empty));
    }
    let mut s = String::from("<div class=\"scroll\"><table><thead><tr>");
    for h in head {
        s.push_str(&format!("<th>{}</th>", esc(h)));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            s.push_str(&format!("<td>{c}</td>"));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    s
}

/// A value with a copy button (the value is in the page, so this adds no exposure).
pub fn copyable(value: &str) -> String {
    format!(
        "<code>{v}</code> <button type=\"button\" class=\"copy\" data-copy=\"{v}\">copy</button>",
        v = esc(value)
    )
}

/// Unix ms as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn time(ms: i64) -> String {
    let iso = crate::util::iso_ms(ms);
    iso.get(..19).unwrap_or(&iso).replace('T', " ")
}

/// A byte count for people.
pub fn bytes(n: i64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{:.1} MiB", n / 1024.0 / 1024.0)
    }
}

/// A JSON value shortened for a table cell.
pub fn json_cell(v: &serde_json::Value, max: usize) -> String {
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => return "<span class=\"null\">NULL</span>".into(),
        v => v.to_string(),
    };
    if text.chars().count() > max {
        let short: String = text.chars().take(max).collect();
        format!("<span title=\"{}\">{}…</span>", esc(&text), esc(&short))
    } else {
        esc(&text)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(
            super::esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
