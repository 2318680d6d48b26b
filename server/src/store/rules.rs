//! Access rules for end users on realtime (issue 13 #12): what a connection authenticated by an
//! end user's access token alone (no API key) may subscribe to and publish on. Kept per project
//! in the control database, set from the CLI (`aerostack-server rules ...`) or
//! `/v1/local/rules`.
//!
//! A project without rules keeps the hosted platform's behaviour (end users reach every table
//! and topic; the start banner says so). Once a project has a rule, an end user reaches only:
//! - a table allowed by a `table` rule; with an `owner_column`, only the rows whose column equals
//!   the user's id (an implicit row filter);
//! - a message topic matching a `topic` rule (`chat/*`: a trailing `*` matches any rest).
//!
//! Key holders (server code, the SDKs with the project key) are never restricted.

use rusqlite::{Connection, params};
use serde_json::{Value, json};

pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS access_rules (
    project_id TEXT NOT NULL, kind TEXT NOT NULL, pattern TEXT NOT NULL, owner_column TEXT,
    created_at INTEGER NOT NULL, PRIMARY KEY (project_id, kind, pattern)) WITHOUT ROWID;";

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// `table` or `topic`.
    pub kind: String,
    /// A table name, or a topic pattern (a trailing `*` matches any rest).
    pub pattern: String,
    /// Tables: the column that holds the owning user's id.
    pub owner_column: Option<String>,
}

impl Rule {
    pub fn to_json(&self) -> Value {
        json!({"kind": self.kind, "pattern": self.pattern, "owner_column": self.owner_column})
    }
}

/// What an end user may do with a topic, under a project's rules.
#[derive(Debug, PartialEq)]
pub enum Access {
    /// No rules: everything (the hosted behaviour).
    Open,
    Allowed { owner_column: Option<String> },
    Denied,
}

pub fn list(conn: &Connection, project_id: &str) -> rusqlite::Result<Vec<Rule>> {
    // A data directory opened read-only from before rules existed has no table: no rules.
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'access_rules'",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT kind, pattern, owner_column FROM access_rules WHERE project_id = ?1 ORDER BY kind, pattern",
    )?;
    let rows = stmt.query_map([project_id], |r| {
        Ok(Rule { kind: r.get(0)?, pattern: r.get(1)?, owner_column: r.get(2)? })
    })?;
    rows.collect()
}

/// Adds (or replaces) a rule. `kind` is checked by the caller.
pub fn put(conn: &Connection, project_id: &str, rule: &Rule) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO access_rules (project_id, kind, pattern, owner_column, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (project_id, kind, pattern) DO UPDATE SET owner_column = excluded.owner_column",
        params![project_id, rule.kind, rule.pattern, rule.owner_column, crate::util::now_ms()],
    )?;
    Ok(())
}

/// Removes a rule; whether it existed.
pub fn remove(conn: &Connection, project_id: &str, kind: &str, pattern: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM access_rules WHERE project_id = ?1 AND kind = ?2 AND pattern = ?3",
        params![project_id, kind, pattern],
    )? > 0)
}

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// An end user's access to `table` (a table topic) or to message topic `topic` (full name,
/// without the project suffix), under `rules`.
pub fn access(rules: &[Rule], table: Option<&str>, topic: &str) -> Access {
    if rules.is_empty() {
        return Access::Open;
    }
    let found = match table {
        Some(t) => rules.iter().find(|r| r.kind == "table" && r.pattern == t),
        None => rules.iter().find(|r| r.kind == "topic" && matches(&r.pattern, topic)),
    };
    match found {
        Some(r) => Access::Allowed { owner_column: r.owner_column.clone() },
        None => Access::Denied,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: &str, pattern: &str, owner: Option<&str>) -> Rule {
        Rule { kind: kind.into(), pattern: pattern.into(), owner_column: owner.map(str::to_string) }
    }

    #[test]
    fn rules_decide_access() {
        assert_eq!(access(&[], Some("todos"), "table/todos"), Access::Open);
        let rules = [rule("table", "todos", Some("user_id")), rule("topic", "chat/*", None)];
        assert_eq!(access(&rules, Some("todos"), "table/todos"), Access::Allowed { owner_column: Some("user_id".into()) });
        assert_eq!(access(&rules, Some("salaries"), "table/salaries"), Access::Denied);
        assert_eq!(access(&rules, None, "chat/general"), Access::Allowed { owner_column: None });
        assert_eq!(access(&rules, None, "admin/ops"), Access::Denied);
    }
}
