//! Which calls are idempotent (safe to retry without an `Idempotency-Key`).
//!
//! Reads, and writes whose repetition leaves the same state (set, delete, overwrite), need no key.
//! Everything else (enqueue, increment, SQL writes, auth flows, unknown POSTs) gets one key per
//! logical call, reused on every retry, so the platform runs it once.

use reqwest::Method;
use serde_json::Value;

/// `/v1` POST routes that are idempotent.
const IDEMPOTENT_POSTS: &[&str] = &[
    "/cache/get",
    "/cache/getMany",
    "/cache/list",
    "/cache/keys",
    "/cache/set",
    "/cache/setMany",
    "/cache/delete",
    "/cache/deleteMany",
    "/cache/flush",
    "/storage/get",
    "/storage/getUrl",
    "/storage/list",
    "/storage/exists",
    "/storage/getMetadata",
    "/storage/delete",
    "/storage/copy",
    "/storage/upload",
    "/queue/job",
    "/queue/jobs",
    "/secrets/get",
    "/secrets/list",
    "/secrets/set",
    "/ai/embed",
    "/ai/search/query",
    "/ai/search/count",
    "/ai/search/get",
    "/ai/search/update",
    "/ai/search/delete",
    "/ai/search/deleteByType",
    "/ai/search/configure",
];

/// Whether SQL only reads (so `/db/query` needs no key).
pub(crate) fn sql_is_read(sql: &str) -> bool {
    let head = sql.trim_start();
    head.len() >= 6 && head[..6].eq_ignore_ascii_case("select")
}

/// Classifies a request of the generic `request_json` surface. `path` is relative to `/v1`
/// (or a host path starting with `/api/`), `body` the JSON body if any.
pub(crate) fn is_idempotent_request(method: &Method, path: &str, body: Option<&Value>) -> bool {
    if method != Method::POST && method != Method::PATCH {
        // GET, HEAD, PUT, DELETE, OPTIONS are idempotent by HTTP semantics.
        return true;
    }
    if method == Method::PATCH {
        return false;
    }
    let path = path.split('?').next().unwrap_or(path);
    if IDEMPOTENT_POSTS.contains(&path) {
        return true;
    }
    let sql = |v: &Value| {
        v.get("sql")
            .and_then(Value::as_str)
            .map(sql_is_read)
            .unwrap_or(false)
    };
    match path {
        "/db/query" => body.is_some_and(sql),
        "/db/batch" => body
            .and_then(|b| b.get("queries"))
            .and_then(Value::as_array)
            .is_some_and(|qs| !qs.is_empty() && qs.iter().all(sql)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_reads_and_writes() {
        assert!(is_idempotent_request(&Method::POST, "/cache/get", None));
        assert!(is_idempotent_request(
            &Method::GET,
            "/ai/search/listTypes",
            None
        ));
        assert!(!is_idempotent_request(
            &Method::POST,
            "/queue/enqueue",
            None
        ));
        assert!(!is_idempotent_request(
            &Method::POST,
            "/cache/increment",
            None
        ));
        assert!(!is_idempotent_request(&Method::POST, "/custom/hello", None));
        assert!(is_idempotent_request(
            &Method::POST,
            "/db/query",
            Some(&json!({"sql": "  select 1"}))
        ));
        assert!(!is_idempotent_request(
            &Method::POST,
            "/db/query",
            Some(&json!({"sql": "INSERT INTO t VALUES (1)"}))
        ));
        assert!(is_idempotent_request(
            &Method::POST,
            "/db/batch",
            Some(&json!({"queries": [{"sql": "SELECT 1"}, {"sql": "select 2"}]}))
        ));
        assert!(!is_idempotent_request(
            &Method::POST,
            "/db/batch",
            Some(&json!({"queries": [{"sql": "SELECT 1"}, {"sql": "DELETE FROM t"}]}))
        ));
    }

    #[test]
    fn sql_read_detection() {
        assert!(sql_is_read("SELECT * FROM t"));
        assert!(sql_is_read("\n\tSeLeCt 1"));
        assert!(!sql_is_read("UPDATE t SET a = 1"));
        assert!(!sql_is_read("SEL"));
    }
}
