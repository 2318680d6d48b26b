//! Where the user's own data is in what the surface hands out, per result type.
//!
//! The surface writes every key it owns in snake_case (`access_token`, `job_id`, `created_at`).
//! An SDK whose language spells keys differently (camelCase in JavaScript and PHP, exported
//! names in Go) renames those keys, and only those: the values at the paths listed here are the
//! user's (rows, cached values, job payloads, message data, tracked presence state, custom
//! profile fields, a Logic Module's answer) and come back exactly as stored, whatever their keys
//! are called (`{"Weird-Key": 1}`, a `user_id` column).
//!
//! Same syntax and result types as [`crate::times`]: dot-separated keys, `[]` for every element
//! of a list, `""` for "the whole result"; a path absent or `null` in an answer is skipped.
//! Every operation of `ops::OPERATIONS` and `ops::STREAMS` (for a stream: one item), plus
//! `storage.upload`, is listed, with an empty list when nothing in its result is the user's.
//! For an event of kind `presence`, `realtime.presence_event` replaces `realtime.event` (its
//! `data` is the platform's presence report; only the tracked `state` inside is the user's).
//! `tests/user_data.rs` runs every result type against the local platform with user keys that
//! are not snake_case identifiers and fails when such a key shows up outside the listed paths,
//! or when an SDK-owned key is not a snake_case identifier.

/// The user object (in sessions, `auth.me`, `auth.verify_token`): the custom profile fields.
const USER: &[&str] = &["custom_fields", "metadata"];
const SESSION: &[&str] = &["user.custom_fields", "user.metadata"];
/// A job record: the payload it was sent with and what its handler answered.
const JOB: &[&str] = &["data", "result"];
const NONE: &[&str] = &[];
/// The whole answer is the user's.
const ALL: &[&str] = &[""];

/// `(result type, user-data paths)`; the result types of [`crate::times::TIME_FIELDS`].
pub const USER_DATA: &[(&str, &[&str])] = &[
    ("db.query", &["results"]),
    ("db.query_one", ALL),
    ("db.batch", &["results[].results"]),
    ("db.collection.list", &["items[].data"]),
    ("db.collection.list_all", &["data"]),
    ("db.collection.get", &["data"]),
    ("db.collection.create", &["data"]),
    ("db.collection.update", &["data"]),
    ("db.collection.delete", NONE),
    ("gateway.chat", NONE),
    ("gateway.chat_stream", NONE),
    ("gateway.wallet", NONE),
    ("gateway.usage", NONE),
    ("gateway.billing_log", NONE),
    // A gateway socket's event (`unknown` carries the platform's frame) and a collected chat.
    ("gateway.socket_event", NONE),
    ("gateway.socket_chat", NONE),
    ("auth.signup", SESSION),
    ("auth.signin", SESSION),
    ("auth.register", SESSION),
    ("auth.login", SESSION),
    ("auth.send_otp", NONE),
    ("auth.verify_otp", SESSION),
    ("auth.verify_email", NONE),
    ("auth.resend_verification", NONE),
    ("auth.request_password_reset", NONE),
    ("auth.reset_password", NONE),
    ("auth.refresh", SESSION),
    ("auth.logout", NONE),
    ("auth.me", USER),
    ("auth.update_me", USER),
    ("auth.delete_avatar", NONE),
    ("auth.verify_token", USER),
    ("cache.get", ALL),
    ("cache.set", NONE),
    ("cache.has", NONE),
    ("cache.delete", NONE),
    // `{key: value}`: the keys are the user's cache keys, the values theirs.
    ("cache.get_many", ALL),
    ("cache.set_many", NONE),
    ("cache.delete_many", NONE),
    ("cache.list", NONE),
    ("cache.keys", NONE),
    ("cache.flush", NONE),
    ("cache.expire", NONE),
    ("cache.increment", NONE),
    ("cache.list_all", NONE),
    ("queue.enqueue", NONE),
    ("queue.send", NONE),
    ("queue.job", JOB),
    ("queue.jobs", &["jobs[].data", "jobs[].result"]),
    ("queue.cancel", NONE),
    ("queue.wait", JOB),
    ("queue.jobs_all", JOB),
    ("storage.upload", NONE),
    ("storage.get_url", NONE),
    ("storage.list", NONE),
    ("storage.delete", NONE),
    ("storage.exists", NONE),
    ("storage.metadata", NONE),
    ("storage.copy", NONE),
    ("storage.move", NONE),
    ("storage.list_all", NONE),
    ("ai.chat", NONE),
    ("ai.complete", NONE),
    ("ai.embed", NONE),
    ("ai.chat_stream", NONE),
    ("ai.search.ingest", NONE),
    ("ai.search.query", &["[].metadata"]),
    ("ai.search.get", &["metadata"]),
    ("ai.search.update", NONE),
    ("ai.search.delete", NONE),
    ("ai.search.delete_by_type", NONE),
    ("ai.search.list_types", NONE),
    ("ai.search.count", NONE),
    ("ai.search.configure", NONE),
    ("secrets.get", ALL),
    ("secrets.set", NONE),
    ("secrets.list", NONE),
    // `{success, result}`: `result` is what the service (a Logic Module) answered.
    ("services.invoke", &["result"]),
    // A Logic Module's answer, a raw platform answer, a REST operation's wire answer.
    ("call", ALL),
    ("request", ALL),
    ("rest", ALL),
    ("realtime.history", &["[].data"]),
    ("realtime.emit", NONE),
    ("local.outbox", NONE),
    ("local.workers", NONE),
    ("local.wait_served", NONE),
    // A message's data, a changed row (`data`) and the row before (`old`).
    ("realtime.event", &["data", "old"]),
    (
        "realtime.presence_event",
        &[
            "data.state",
            "data.presences[].state",
            "data.joins[].state",
            "data.leaves[].state",
        ],
    ),
    ("realtime.publish", NONE),
    ("realtime.presence", &["[].state"]),
    // A handler's event: the caller's body (or the job's payload), query parameters and headers.
    ("worker.invocation", &["data", "query", "headers"]),
];

/// The user-data paths of one result type; empty for a result without user data.
pub fn user_data_paths(result_type: &str) -> &'static [&'static str] {
    USER_DATA
        .iter()
        .find(|(name, _)| *name == result_type)
        .map_or(&[], |(_, paths)| paths)
}

/// Whether `key` is a snake_case identifier (`access_token`, `joined_at`, `id`): the form of
/// every key the surface owns, which SDKs rename to their language's casing.
pub fn is_snake_case(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !key.ends_with('_')
        && !key.contains("__")
}

/// Both result-shape tables (`times::TIME_FIELDS` and [`USER_DATA`]) as one JSON object,
/// `{"times": {type: [path]}, "user_data": {type: [path]}}`, with the paths in the installed
/// field case (the case results are handed out in: `crate::result_keys`), for a binding that
/// hands them to its package once (Node's `resultPaths()`, PHP's `Native\result_paths()`, the
/// C ABI's `aerostack_result_paths`).
pub fn result_paths() -> serde_json::Value {
    let table = |t: &[(&str, &[&str])]| -> serde_json::Map<String, serde_json::Value> {
        t.iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|p| crate::result_keys::path_in_case(p)).collect()))
            .collect()
    };
    serde_json::json!({"times": table(crate::times::TIME_FIELDS), "user_data": table(USER_DATA)})
}
