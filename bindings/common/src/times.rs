//! Where the times are in what the surface hands out, per result type.
//!
//! Every time the engine reports is an RFC 3339 UTC string with milliseconds
//! (`aerostack::Timestamp`). Each SDK turns those strings into its language's time type
//! (Python `datetime`, JS `Date`, Go `time.Time`, PHP `DateTimeImmutable`) at exactly the paths
//! listed here for the result it got: never by key name, because user data (a row with a
//! `created_at` column, a message whose data has one) must come back as the user stored it.
//!
//! A path is dot-separated keys; `[]` steps into every element of a list (`jobs[].created_at`,
//! `[].joined_at` for a result that is itself a list). A path that is absent or `null` in a
//! given answer is skipped. `tests/times.rs` runs every result type against the local platform
//! and fails when a time appears at an unlisted path or a listed path holds something else.

/// The user object (in sessions, `auth.me`, `auth.verify_token`).
const USER: &[&str] = &["created_at", "email_verified_at"];
/// A session: its expiry and its user's times.
const SESSION: &[&str] = &["expires_at", "user.created_at", "user.email_verified_at"];
/// A job record (`queue.job`, `queue.wait`, each item of `queue.jobs_all`).
const JOB: &[&str] = &["created_at", "updated_at", "run_at", "history[].started_at", "history[].ended_at"];
const JOBS_PAGE: &[&str] = &[
    "jobs[].created_at",
    "jobs[].updated_at",
    "jobs[].run_at",
    "jobs[].history[].started_at",
    "jobs[].history[].ended_at",
];
/// A stored object's description (`storage.metadata`, each item of `storage.list_all`).
const OBJECT: &[&str] = &["last_modified"];
/// A collection item.
const ITEM: &[&str] = &["created_at", "updated_at"];
const PRESENCE_LIST: &[&str] = &["[].joined_at"];

/// `(result type, paths)`. Result types are operation names (`ops::OPERATIONS`,
/// `ops::STREAMS`: for a stream, the paths of one item) and, for what realtime hands out:
/// `realtime.event` (every event), `realtime.presence_event` (the `data` of a `presence` event,
/// on top of `realtime.event`), `realtime.publish` (the ack), `realtime.presence` (the list);
/// `worker.invocation` is a handler's event.
pub const TIME_FIELDS: &[(&str, &[&str])] = &[
    ("auth.signup", SESSION),
    ("auth.signin", SESSION),
    ("auth.register", SESSION),
    ("auth.login", SESSION),
    ("auth.verify_otp", SESSION),
    ("auth.refresh", SESSION),
    ("auth.me", USER),
    ("auth.update_me", USER),
    ("auth.verify_token", USER),
    ("db.collection.list", &["items[].created_at", "items[].updated_at"]),
    ("db.collection.list_all", ITEM),
    ("db.collection.get", ITEM),
    ("db.collection.create", ITEM),
    ("db.collection.update", ITEM),
    ("cache.list", &["keys[].expiration"]),
    ("cache.list_all", &["expiration"]),
    ("queue.job", JOB),
    ("queue.wait", JOB),
    ("queue.jobs", JOBS_PAGE),
    ("queue.jobs_all", JOB),
    ("storage.list", &["objects[].last_modified"]),
    ("storage.list_all", OBJECT),
    ("storage.metadata", OBJECT),
    ("realtime.history", &["[].created_at"]),
    ("realtime.emit", &["timestamp"]),
    ("local.outbox", &["[].created_at"]),
    ("realtime.event", &["timestamp"]),
    (
        "realtime.presence_event",
        &["data.joined_at", "data.presences[].joined_at", "data.joins[].joined_at", "data.leaves[].joined_at"],
    ),
    ("realtime.publish", &["timestamp"]),
    ("realtime.presence", PRESENCE_LIST),
    // The event a Logic Module or job handler receives (`InvocationHandle::event`): when the
    // platform sent it and, for a job, when the job was created; `data` is the caller's.
    ("worker.invocation", &["timestamp", "created_at"]),
];

/// The time paths of one result type; empty for a result without times (`db.query`, ...).
pub fn time_paths(result_type: &str) -> &'static [&'static str] {
    TIME_FIELDS
        .iter()
        .find(|(name, _)| *name == result_type)
        .map_or(&[], |(_, paths)| paths)
}
