//! Which PRAGMAs user SQL may run.
//!
//! Some PRAGMAs change state beyond the statement: process-wide (`hard_heap_limit`,
//! `soft_heap_limit`, `temp_store_directory`: every project's queries, the control database),
//! the pooled connection (`foreign_keys`, `query_only`, `writable_schema`, `cache_size`: they would
//! leak into whichever request borrows the connection next) or the file (`journal_mode`,
//! `locking_mode`, `page_size`). User SQL may run only the PRAGMAs below; the authorizer refuses
//! the rest with a message naming the PRAGMA.

/// Introspection: read-only whatever the argument (a table or index name).
pub const INTROSPECTION: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
    "collation_list",
    "function_list",
    "module_list",
    "pragma_list",
    "compile_options",
];

/// Readable without an argument (`PRAGMA foreign_keys`); setting them is refused.
pub const READ_ONLY: &[&str] = &[
    "foreign_keys",
    "journal_mode",
    "synchronous",
    "schema_version",
    "page_count",
    "page_size",
    "freelist_count",
    "data_version",
    "encoding",
    "auto_vacuum",
    "application_id",
];

/// Settable: stored in the project's own file (migration tools keep their version there) or
/// reset by SQLite at the end of every transaction.
pub const SETTABLE: &[&str] = &["user_version", "defer_foreign_keys", "optimize"];

/// `Ok` when user SQL may run `PRAGMA name [= value]`, else why not (names the PRAGMA).
pub fn check_pragma(name: &str, value: Option<&str>) -> Result<(), String> {
    let lower = name.to_ascii_lowercase();
    let n = lower.as_str();
    if INTROSPECTION.contains(&n) || SETTABLE.contains(&n) {
        return Ok(());
    }
    if READ_ONLY.contains(&n) {
        if value.is_none() {
            return Ok(());
        }
        return Err(format!(
            "PRAGMA {name} may be read but not set through the API: the platform manages it for every connection (send `PRAGMA {name}` without a value to read it)"
        ));
    }
    Err(format!(
        "PRAGMA {name} is not allowed: it changes state beyond this statement (the process, the pooled connection or the database file). Allowed: {}; read-only: {}; settable: {}",
        INTROSPECTION.join(", "),
        READ_ONLY.join(", "),
        SETTABLE.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::check_pragma;

    #[test]
    fn policy() {
        assert!(check_pragma("table_info", Some("t")).is_ok());
        assert!(check_pragma("TABLE_INFO", Some("t")).is_ok());
        assert!(check_pragma("foreign_keys", None).is_ok());
        assert!(check_pragma("user_version", Some("3")).is_ok());
        let e = check_pragma("foreign_keys", Some("OFF")).unwrap_err();
        assert!(e.contains("PRAGMA foreign_keys"), "{e}");
        let e = check_pragma("hard_heap_limit", Some("1")).unwrap_err();
        assert!(e.contains("PRAGMA hard_heap_limit is not allowed"), "{e}");
        assert!(check_pragma("journal_mode", Some("OFF")).is_err());
        assert!(check_pragma("writable_schema", None).is_err());
        assert!(check_pragma("temp_store_directory", Some("'/tmp'")).is_err());
        // SQLite's memory bounds, set by the platform (store::memory): not even readable.
        for name in ["soft_heap_limit", "hard_heap_limit", "cache_size", "cache_spill"] {
            assert!(check_pragma(name, None).is_err(), "{name}");
            assert!(check_pragma(name, Some("0")).is_err(), "{name}");
        }
    }
}
