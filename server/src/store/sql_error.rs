//! Turning SQLite failures into answers that say what happened and what to do.

use axum::http::StatusCode;

use super::pool::Db;
use crate::error::{ApiError, code};

/// A statement failure, turned into `DB_QUERY_FAILED` by the caller (which knows the batch index).
#[derive(Debug)]
pub enum SqlError {
    /// Bad input caught before SQLite ran anything (wrong params, multiple statements).
    Input {
        field: &'static str,
        message: String,
    },
    /// SQLite refused or failed the statement.
    Sqlite {
        message: String,
        suggestion: Option<&'static str>,
        recovery: Option<&'static str>,
    },
}

impl SqlError {
    pub fn into_api(self, index: Option<usize>) -> ApiError {
        let prefix = index
            .map(|i| format!("Query {i} failed: "))
            .unwrap_or_default();
        let suffix = if index.is_some() {
            " (the batch was rolled back; nothing was written)"
        } else {
            ""
        };
        let mut err = match self {
            SqlError::Input { field, message } => {
                let field = match index {
                    Some(i) => format!("queries[{i}].{field}"),
                    None => field.to_string(),
                };
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    code::VALIDATION_ERROR,
                    format!("{prefix}{message}{suffix}"),
                )
                .with_detail("field", field)
            }
            SqlError::Sqlite {
                message,
                suggestion,
                recovery,
            } => {
                let mut e = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    code::DB_QUERY_FAILED,
                    format!("{prefix}{message}{suffix}"),
                )
                .with_detail("sqlite_message", message.clone());
                if let Some(s) = suggestion {
                    e = e.with_detail("suggestion", s);
                }
                if let Some(r) = recovery {
                    e = e.with_detail("recoveryAction", r);
                }
                e
            }
        };
        if let Some(i) = index {
            err = err.with_detail("index", i);
        }
        err
    }
}

pub(crate) fn sqlite_error(db: &Db, e: rusqlite::Error) -> SqlError {
    if let Some(reason) = db.ctl.take_denied() {
        return SqlError::Sqlite {
            message: reason,
            suggestion: None,
            recovery: None,
        };
    }
    let message = match &e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        rusqlite::Error::MultipleStatement => {
            return SqlError::Input {
                field: "sql",
                message: "`sql` must hold exactly one statement: send several statements to POST /v1/db/batch as {\"queries\": [{\"sql\": \"...\", \"params\": []}, ...]}".into(),
            };
        }
        other => other.to_string(),
    };
    let lower = message.to_ascii_lowercase();
    let (suggestion, recovery) = if lower.contains("no such table") {
        (
            Some("Create the table first, e.g. CREATE TABLE name (id INTEGER PRIMARY KEY, ...)"),
            Some("CREATE_TABLE"),
        )
    } else if lower.contains("no such column") || lower.contains("has no column named") {
        (
            Some("Check the column name, or add it with ALTER TABLE name ADD COLUMN ..."),
            Some("ALTER_TABLE"),
        )
    } else if lower.contains("syntax error") || lower.contains("incomplete input") {
        (
            Some(
                "Check the SQL syntax (SQLite dialect); pass values as ? placeholders with `params`",
            ),
            None,
        )
    } else if lower.contains("constraint failed") {
        (
            Some(
                "The row violates a UNIQUE, NOT NULL, CHECK or FOREIGN KEY constraint of the table",
            ),
            None,
        )
    } else if lower.contains("string or blob too big") {
        return SqlError::Sqlite {
            message: format!(
                "{message}: a string, BLOB or row may hold at most {} bytes on this platform (max_value_bytes)",
                db.ctl.limits.max_value_bytes
            ),
            suggestion: Some("Keep large files in storage (POST /v1/storage/upload) and store their key in the table"),
            recovery: None,
        };
    } else if lower.contains("database or disk is full") {
        return SqlError::Sqlite {
            message: format!(
                "{message} (TEMP tables and indexes may take at most {} bytes per connection: max_temp_bytes)",
                db.ctl.limits.max_temp_bytes
            ),
            suggestion: Some("Use smaller TEMP tables, or a regular table"),
            recovery: None,
        };
    } else if lower.contains("interrupted") {
        return SqlError::Sqlite {
            message: format!(
                "the query ran longer than {} s (query_timeout) and was interrupted",
                db.ctl.limits.query_timeout.as_secs_f64()
            ),
            suggestion: Some("Add an index or a LIMIT, or split the work into smaller queries"),
            recovery: None,
        };
    } else {
        (None, None)
    };
    SqlError::Sqlite {
        message,
        suggestion,
        recovery,
    }
}
