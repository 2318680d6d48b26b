//! Client-side topic qualification (the official TS client's rules, wire-facts §4.2). The
//! platform's `subscribed` reply is authoritative; this only names a channel before it arrives.

/// `todos` -> `table/todos/{project}`; `chat/x` -> `chat/x/{project}`; a path already ending
/// with a project id is kept. Without a project id the topic is sent as given.
pub fn qualify(topic: &str, project_id: Option<&str>) -> String {
    let t = topic.trim().trim_matches('/');
    let Some(pid) = project_id.filter(|p| !p.is_empty()) else {
        return t.to_string();
    };
    if !t.contains('/') {
        format!("table/{t}/{pid}")
    } else if t.ends_with(&format!("/{pid}"))
        || t.rsplit('/').next().is_some_and(looks_like_project_id)
    {
        // Qualified already (with another project's id the platform answers FORBIDDEN).
        t.to_string()
    } else {
        format!("{t}/{pid}")
    }
}

/// A project id as the platform issues them: `proj_` + 12 hex digits.
fn looks_like_project_id(s: &str) -> bool {
    s.strip_prefix("proj_")
        .is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `http(s)://host[/v1]` -> `ws(s)://host`: the origin of the platform's WebSocket endpoints.
pub fn ws_base(host_url: &str) -> String {
    let h = host_url.trim_end_matches('/');
    let h = h.strip_suffix("/v1").unwrap_or(h);
    if let Some(rest) = h.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = h.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        h.to_string()
    }
}

/// `http(s)://host[/v1]` -> `ws(s)://host/api/realtime`.
pub fn ws_url(host_url: &str) -> String {
    format!("{}/api/realtime", ws_base(host_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifies_topics() {
        let p = Some("proj_1");
        assert_eq!(qualify("todos", p), "table/todos/proj_1");
        assert_eq!(qualify("chat/general", p), "chat/general/proj_1");
        assert_eq!(qualify("chat/general/proj_1", p), "chat/general/proj_1");
        assert_eq!(qualify("/chat/x/", p), "chat/x/proj_1");
        assert_eq!(qualify("todos", None), "todos");
        assert_eq!(
            qualify("chat/x/proj_0123456789ab", p),
            "chat/x/proj_0123456789ab"
        );
    }

    #[test]
    fn derives_the_socket_url() {
        assert_eq!(
            ws_url("http://127.0.0.1:8787"),
            "ws://127.0.0.1:8787/api/realtime"
        );
        assert_eq!(
            ws_url("http://127.0.0.1:8787/v1"),
            "ws://127.0.0.1:8787/api/realtime"
        );
        assert_eq!(
            ws_url("https://api.aerostack.dev/"),
            "wss://api.aerostack.dev/api/realtime"
        );
    }
}
