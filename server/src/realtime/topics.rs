//! Topic normalisation (wire-facts §4.2). Every topic a connection uses ends with its project's
//! id, so a project can never reach another project's rooms whatever it sends.

/// Why a topic was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicError {
    /// Empty, too long, or with empty path segments: the message says what to send.
    Invalid(String),
    /// Qualified with another project's id.
    Forbidden(String),
}

impl TopicError {
    pub fn code(&self) -> &'static str {
        match self {
            TopicError::Invalid(_) => crate::error::code::VALIDATION_ERROR,
            TopicError::Forbidden(_) => crate::error::code::FORBIDDEN,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            TopicError::Invalid(m) | TopicError::Forbidden(m) => m,
        }
    }
}

pub const MAX_TOPIC_LEN: usize = 512;

/// A project id as the platform issues them: `proj_` + 12 lowercase hex digits.
fn looks_like_project_id(s: &str) -> bool {
    s.strip_prefix("proj_")
        .is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The full topic for `topic` as sent by a client of project `project_id` (slug `slug`):
/// - a bare name (`todos`) is a table: `table/todos/{projectId}`;
/// - a path ending with the project's id is kept; one ending with its slug gets the id instead;
/// - a path ending with another project's id is refused (FORBIDDEN);
/// - any other path gets `/{projectId}` appended (`chat/general` -> `chat/general/{projectId}`).
pub fn normalize(topic: &str, project_id: &str, slug: &str) -> Result<String, TopicError> {
    let t = topic.trim().trim_matches('/');
    if t.is_empty() {
        return Err(TopicError::Invalid(
            "`topic` is required: send a table name (\"todos\") or a path (\"chat/general\")"
                .into(),
        ));
    }
    if t.len() > MAX_TOPIC_LEN {
        return Err(TopicError::Invalid(format!(
            "`topic` is {} bytes; topics are limited to {MAX_TOPIC_LEN}",
            t.len()
        )));
    }
    let segments: Vec<&str> = t.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(TopicError::Invalid(format!(
            "topic {topic:?} has an empty path segment: use e.g. \"chat/general\""
        )));
    }
    if segments.len() == 1 {
        return Ok(format!("table/{t}/{project_id}"));
    }
    let last = segments[segments.len() - 1];
    let head = &t[..t.len() - last.len() - 1];
    if last == project_id {
        Ok(t.to_string())
    } else if last == slug {
        Ok(format!("{head}/{project_id}"))
    } else if looks_like_project_id(last) {
        Err(TopicError::Forbidden(format!(
            "topic {topic:?} belongs to project {last}; this connection's key is for project {project_id}, and a project can only use its own topics"
        )))
    } else {
        Ok(format!("{t}/{project_id}"))
    }
}

/// The name a connection's frames of `full` should carry when it subscribed with `requested`.
///
/// The official Python/Go/Flutter clients send topics verbatim and re-key a subscription to the
/// `subscribed` topic only when that topic *starts with* what they sent (`chat/x` ->
/// `chat/x/{projectId}`). For `todos` -> `table/todos/{projectId}` they keep the key `todos`,
/// so frames must carry `todos` for them to be routed. `None`: the full topic works.
pub fn alias_for(requested: &str, full: &str) -> Option<String> {
    (!full.starts_with(requested)).then(|| requested.to_string())
}

/// The table of a `table/{name}/{projectId}` topic.
pub fn table_topic(table: &str, project_id: &str) -> String {
    format!("table/{table}/{project_id}")
}

/// The table whose change feed `full` (a normalised topic of project `project_id`) is:
/// `table/{name}/{projectId}` -> `name`; `None` for other topics.
pub fn table_of<'a>(full: &'a str, project_id: &str) -> Option<&'a str> {
    full.strip_prefix("table/")?
        .strip_suffix(project_id)?
        .strip_suffix('/')
        .filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "proj_0123456789ab";

    #[test]
    fn qualifies_like_the_official_clients() {
        assert_eq!(
            normalize("todos", P, "demo").unwrap(),
            format!("table/todos/{P}")
        );
        assert_eq!(
            normalize("chat/general", P, "demo").unwrap(),
            format!("chat/general/{P}")
        );
        assert_eq!(
            normalize(&format!("chat/general/{P}"), P, "demo").unwrap(),
            format!("chat/general/{P}")
        );
        assert_eq!(
            normalize("table/todos", P, "demo").unwrap(),
            format!("table/todos/{P}")
        );
        assert_eq!(
            normalize("table/todos/demo", P, "demo").unwrap(),
            format!("table/todos/{P}")
        );
        assert_eq!(
            normalize("/chat/x/", P, "demo").unwrap(),
            format!("chat/x/{P}")
        );
    }

    #[test]
    fn aliases_only_what_a_prefix_re_key_cannot_reach() {
        assert_eq!(
            alias_for("todos", &format!("table/todos/{P}")).as_deref(),
            Some("todos")
        );
        assert_eq!(alias_for("chat/x", &format!("chat/x/{P}")), None);
        assert_eq!(
            alias_for(&format!("chat/x/{P}"), &format!("chat/x/{P}")),
            None
        );
        assert_eq!(
            alias_for("table/t/demo", &format!("table/t/{P}")).as_deref(),
            Some("table/t/demo")
        );
    }

    #[test]
    fn finds_the_table_of_a_topic() {
        assert_eq!(table_of(&format!("table/todos/{P}"), P), Some("todos"));
        assert_eq!(table_of(&format!("table/{P}"), P), None);
        assert_eq!(table_of(&format!("chat/todos/{P}"), P), None);
    }

    #[test]
    fn refuses_other_projects_and_bad_input() {
        let e = normalize("chat/general/proj_ffffffffffff", P, "demo").unwrap_err();
        assert_eq!(e.code(), "FORBIDDEN");
        assert!(normalize("  ", P, "demo").is_err());
        assert!(normalize("a//b", P, "demo").is_err());
        assert!(normalize(&"x".repeat(600), P, "demo").is_err());
    }
}
