//! The operations of the REST API under the names of the generated `SDK` (seed 002:
//! `sdk.database.db_query(request=...)`), each mapped to its method and path once, here, for
//! every language's operation-style face. The `rest` operation of [`crate::ops::dispatch`] runs
//! one: `{"operation": "database.db_query", "request": {...wire fields...}}` answers the
//! platform's JSON as it is. Uploads and downloads carry bytes and have their own calls.

/// One REST operation: `group.name` in the generated SDK, and where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestOperation {
    /// `database`, `cache`, ...: the SDK's group.
    pub group: &'static str,
    /// `db_query`, `cache_get`, ...: the operation's method name (snake_case; each language
    /// spells it in its idiom).
    pub name: &'static str,
    pub method: &'static str,
    /// Under the base URL (`/v1`).
    pub path: &'static str,
}

const fn op(group: &'static str, name: &'static str, method: &'static str, path: &'static str) -> RestOperation {
    RestOperation { group, name, method, path }
}

/// Every operation of the generated SDK that takes and answers JSON.
pub const REST_OPERATIONS: &[RestOperation] = &[
    op("ai", "ai_chat", "POST", "/ai/chat"),
    op("ai", "ingest", "POST", "/ai/search/ingest"),
    op("ai", "query", "POST", "/ai/search/query"),
    op("ai", "delete", "POST", "/ai/search/delete"),
    op("ai", "delete_by_type", "POST", "/ai/search/deleteByType"),
    op("ai", "list_types", "GET", "/ai/search/listTypes"),
    op("ai", "configure", "POST", "/ai/search/configure"),
    op("ai", "search_count", "POST", "/ai/search/count"),
    op("ai", "search_get", "POST", "/ai/search/get"),
    op("ai", "search_update", "POST", "/ai/search/update"),
    op("authentication", "auth_signin", "POST", "/auth/signin"),
    op("authentication", "auth_signup", "POST", "/auth/signup"),
    op("cache", "cache_get", "POST", "/cache/get"),
    op("cache", "cache_set", "POST", "/cache/set"),
    op("cache", "cache_delete", "POST", "/cache/delete"),
    op("cache", "cache_get_many", "POST", "/cache/getMany"),
    op("cache", "cache_set_many", "POST", "/cache/setMany"),
    op("cache", "cache_delete_many", "POST", "/cache/deleteMany"),
    op("cache", "cache_list", "POST", "/cache/list"),
    op("cache", "cache_keys", "POST", "/cache/keys"),
    op("cache", "cache_flush", "POST", "/cache/flush"),
    op("cache", "cache_expire", "POST", "/cache/expire"),
    op("cache", "cache_increment", "POST", "/cache/increment"),
    op("database", "db_query", "POST", "/db/query"),
    op("database", "db_batch", "POST", "/db/batch"),
    op("queue", "queue_enqueue", "POST", "/queue/enqueue"),
    op("queue", "queue_get_job", "POST", "/queue/job"),
    op("queue", "queue_list_jobs", "POST", "/queue/jobs"),
    op("queue", "queue_cancel_job", "POST", "/queue/cancel"),
    op("services", "services_invoke", "POST", "/services/invoke"),
    op("storage", "storage_get_url", "POST", "/storage/getUrl"),
    op("storage", "storage_list", "POST", "/storage/list"),
    op("storage", "storage_delete", "POST", "/storage/delete"),
    op("storage", "storage_exists", "POST", "/storage/exists"),
    op("storage", "storage_get_metadata", "POST", "/storage/getMetadata"),
    op("storage", "storage_copy", "POST", "/storage/copy"),
    op("storage", "storage_move", "POST", "/storage/move"),
];

/// The operation named `group.name`.
pub fn find(qualified: &str) -> Option<&'static RestOperation> {
    let (group, name) = qualified.split_once('.')?;
    REST_OPERATIONS.iter().find(|o| o.group == group && o.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for o in REST_OPERATIONS {
            let q = format!("{}.{}", o.group, o.name);
            assert_eq!(find(&q), Some(o), "{q}");
            assert!(o.path.starts_with('/') && (o.method == "GET" || o.method == "POST"), "{q}");
        }
        assert_eq!(find("database.nope"), None);
        assert_eq!(find("nodot"), None);
    }
}
