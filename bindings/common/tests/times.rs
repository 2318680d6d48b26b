//! `times::TIME_FIELDS` against what the surface really hands out: every result type is run
//! against the local platform, and the test fails when a time shows up at a path the table
//! does not list (an SDK would hand it out as a string) or a listed path holds something other
//! than a time (an SDK would fail to convert it).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aerostack_bindings_common::times::{TIME_FIELDS, time_paths};
use aerostack_bindings_common::{Task, WorkerHandle};
use serde_json::{Value, json};

mod support;
use support::{platform_and_client, run, worker_options};


/// The one form the engine writes: `2026-01-02T03:04:05.678Z`.
fn is_time(s: &str) -> bool {
    s.len() == 24 && s.ends_with('Z') && aerostack::Timestamp::parse(s).is_some_and(|t| t.to_string() == s)
}

/// Fields that carry the user's own data (rows, payloads, tracked state, cached values).
const USER_DATA: &[&str] = &["results", "data", "state", "value", "result"];

/// Every path (in the table's syntax) of `v` that holds a time string.
fn times_in(v: &Value, at: &str, skip: &[&str], out: &mut BTreeSet<String>) {
    let join = |key: &str| if at.is_empty() { key.to_string() } else { format!("{at}.{key}") };
    match v {
        Value::String(s) if is_time(s) => {
            out.insert(at.to_string());
        }
        Value::Array(items) => items.iter().for_each(|x| times_in(x, &format!("{at}[]"), skip, out)),
        // The user's own payloads: whatever they hold is returned as stored, never converted.
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .for_each(|(k, x)| times_in(x, &join(k), skip, out)),
        _ => {}
    }
}

/// The values at `path` (`[]` = every element).
fn at_path<'a>(v: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    if path.is_empty() {
        out.push(v);
        return;
    }
    if let Some(rest) = path.strip_prefix("[]") {
        if let Value::Array(items) = v {
            items.iter().for_each(|x| at_path(x, rest.trim_start_matches('.'), out));
        }
        return;
    }
    let end = path.find(['.', '[']).unwrap_or(path.len());
    if let Some(x) = v.get(&path[..end]) {
        at_path(x, path[end..].trim_start_matches('.'), out);
    }
}

/// Checks one answer of `result_type`; records which listed paths held a time.
fn check(result_type: &str, v: &Value, seen: &mut BTreeMap<String, BTreeSet<String>>) {
    let declared: BTreeSet<String> = time_paths(result_type).iter().map(|p| p.to_string()).collect();
    let mut found = BTreeSet::new();
    // A presence event's data is the platform's (the tracked `state` inside is the user's).
    let skip = if result_type == "realtime.presence_event" { &["state"][..] } else { USER_DATA };
    times_in(v, "", skip, &mut found);
    let unlisted: Vec<_> = found.difference(&declared).collect();
    assert!(unlisted.is_empty(), "{result_type}: times at unlisted paths {unlisted:?} in {v}");
    for p in &declared {
        let mut vals = Vec::new();
        at_path(v, p, &mut vals);
        for x in vals {
            assert!(x.is_null() || x.as_str().is_some_and(is_time), "{result_type}: {p} holds {x}, not a time");
        }
    }
    seen.entry(result_type.to_string()).or_default().extend(found);
}

#[test]
fn every_time_the_surface_hands_out_is_listed() {
    let (p, c) = platform_and_client();
    let mut seen = BTreeMap::new();
    let call = |op: &str, args: Value, seen: &mut BTreeMap<String, BTreeSet<String>>| {
        let v = run(c.call(op, args));
        check(op, &v, seen);
        v
    };

    // A user row with a time-looking column stays the user's: db.query lists no paths.
    let rows = call("db.query", json!({"sql": "SELECT '2026-01-02T03:04:05.678Z' AS created_at"}), &mut seen);
    assert_eq!(rows["results"][0]["created_at"], "2026-01-02T03:04:05.678Z");
    assert!(time_paths("db.query").is_empty());

    let s = call("auth.register", json!({"email": "t@example.com", "password": "Pw-12345678", "name": "T"}), &mut seen);
    let s = if s["access_token"].is_null() {
        call("auth.login", json!({"email": "t@example.com", "password": "Pw-12345678"}), &mut seen)
    } else {
        s
    };
    let token = s["access_token"].as_str().expect("a session").to_string();
    call("auth.login", json!({"email": "t@example.com", "password": "Pw-12345678"}), &mut seen);
    call("auth.me", json!({"access_token": token}), &mut seen);
    call("auth.verify_token", json!({"token": token}), &mut seen);
    call("auth.update_me", json!({"access_token": token, "fields": {"name": "U"}}), &mut seen);
    call("auth.refresh", json!({"refresh_token": s["refresh_token"]}), &mut seen);
    call("local.outbox", json!({}), &mut seen);

    call("cache.set", json!({"key": "t:1", "value": 1, "ttl": 600}), &mut seen);
    call("cache.list", json!({"prefix": "t:"}), &mut seen);

    let item = call("db.collection.create", json!({"collection": "timed", "data": {"at": "2026-01-02T03:04:05.678Z"}}), &mut seen);
    call("db.collection.get", json!({"collection": "timed", "id": item["id"]}), &mut seen);
    call("db.collection.update", json!({"collection": "timed", "id": item["id"], "data": {"n": 1}}), &mut seen);
    call("db.collection.list", json!({"collection": "timed"}), &mut seen);

    let job = call("queue.send", json!({"type": "timed", "data": {}, "delay_seconds": 3600}), &mut seen);
    let id = job["job_id"].clone();
    call("queue.job", json!({"job_id": id}), &mut seen);
    call("queue.jobs", json!({"type": "timed"}), &mut seen);
    call("queue.cancel", json!({"job_id": id}), &mut seen);
    call("queue.wait", json!({"job_id": id, "timeout_ms": 5000}), &mut seen);

    run(c.upload(json!({"key": "t/a.txt"}), Some(bytes::Bytes::from_static(b"a")), None));
    call("storage.list", json!({"prefix": "t/"}), &mut seen);
    call("storage.metadata", json!({"key": "t/a.txt"}), &mut seen);

    for (op, args) in [
        ("cache.list_all", json!({"prefix": "t:"})),
        ("db.collection.list_all", json!({"collection": "timed"})),
        ("queue.jobs_all", json!({"type": "timed"})),
        ("storage.list_all", json!({"prefix": "t/"})),
    ] {
        let stream = run(c.open_stream(op, args));
        let rt = aerostack_bindings_common::runtime().unwrap();
        while let Some(item) = rt.block_on(stream.next()).unwrap() {
            check(op, &item, &mut seen);
        }
    }

    call("realtime.emit", json!({"event": "note", "data": {"at": "2026-01-02T03:04:05.678Z"}, "room": "timed", "persist": true}), &mut seen);
    call("realtime.history", json!({"room": "timed"}), &mut seen);

    // Realtime: an ack, presence, and the events (a presence event's data has its own paths).
    let rt = c.realtime(json!({"ack_timeout_ms": 5000})).unwrap();
    let room = rt.channel("rooms/timed", Value::Null).unwrap();
    room.on("*");
    run(room.wait_subscribed(5000));
    room.track(json!({"typing": false})).unwrap();
    let ack = run(room.publish("note", json!({"created_at": "2026-01-02T03:04:05.678Z"}), json!({"persist": true})));
    check("realtime.publish", &ack, &mut seen);
    let mut events = 0;
    while events < 20 {
        let Some(ev) = run(rt.next_event(Some(2000))) else { break };
        events += 1;
        let mut ev_only = ev.clone();
        if ev["kind"] == "presence" {
            check("realtime.presence_event", &json!({"data": ev["data"]}), &mut seen);
            ev_only["data"] = Value::Null;
        } else {
            // A message's data is the user's: never converted, whatever it holds.
            ev_only["data"] = Value::Null;
        }
        check("realtime.event", &ev_only, &mut seen);
        if ev["kind"] == "message" && seen.get("realtime.presence").is_none_or(|s| s.is_empty()) {
            check("realtime.presence", &room.presence(), &mut seen);
        }
    }
    check("realtime.presence", &room.presence(), &mut seen);
    check("realtime.history", &run(room.history(Some(10), None)), &mut seen);

    // A second connection joins: its presence:sync lists the first (presences, joins).
    let rt2 = c.realtime(json!({"ack_timeout_ms": 5000})).unwrap();
    let room2 = rt2.channel("rooms/timed", Value::Null).unwrap();
    room2.on("*");
    run(room2.wait_subscribed(5000));
    for _ in 0..20 {
        let Some(ev) = run(rt2.next_event(Some(2000))) else { break };
        if ev["event"] == "presence:sync" && ev["data"]["presences"].as_array().is_some_and(|p| !p.is_empty()) {
            check("realtime.presence_event", &json!({"data": ev["data"]}), &mut seen);
            break;
        }
    }

    // A handler's event, for a Logic Module and for a job.
    let options = worker_options(&p);
    let registration = json!({"modules": [{"slug": "timed-echo", "methods": ["POST"], "public": false, "trigger": "api"}],
        "jobs": [{"type": "timed-job"}]});
    let w = run(WorkerHandle::connect(options, registration, "aerostack-test/0"));
    let pending = Task::spawn(c.call("call", json!({"slug": "timed-echo", "data": {"at": "2026-01-02T03:04:05.678Z"}})).unwrap()).unwrap();
    let inv = run(w.next_invocation(Some(10_000))).expect("a module invocation");
    check("worker.invocation", &inv.event(), &mut seen);
    w.complete(inv.id(), json!({})).unwrap();
    assert!(pending.wait(Some(Duration::from_secs(10))));
    run(c.call("queue.send", json!({"type": "timed-job", "data": {}})));
    let inv = run(w.next_invocation(Some(10_000))).expect("a job invocation");
    check("worker.invocation", &inv.event(), &mut seen);
    w.complete(inv.id(), json!({})).unwrap();
    run(w.stop(1000));

    // Every result type exercised here showed each of its listed paths at least once, except
    // those that are legitimately empty on a fresh platform.
    let may_stay_empty = ["email_verified_at", "user.email_verified_at", "history[].ended_at", "jobs[].history[].started_at",
        "jobs[].history[].ended_at", "history[].started_at", "data.leaves[].joined_at"];
    for (ty, paths) in TIME_FIELDS {
        let Some(found) = seen.get(*ty) else { continue };
        for p in paths.iter().filter(|p| !may_stay_empty.contains(p)) {
            assert!(found.contains(*p), "{ty}: listed path {p} never held a time (seen: {found:?})");
        }
    }
    for ty in ["auth.register", "auth.me", "cache.list", "db.collection.list", "db.collection.list_all", "queue.job", "queue.jobs", "storage.list", "realtime.event",
        "realtime.presence_event", "realtime.publish", "realtime.presence", "realtime.history", "local.outbox",
        "worker.invocation"] {
        assert!(seen.contains_key(ty), "{ty} was not exercised");
    }
    p.shutdown();
}
