//! `user_data::USER_DATA` against what the surface really hands out: every result type is run
//! against the local platform with user data whose keys are not snake_case identifiers
//! (`Weird-Key`), and the test fails when a key outside the listed user-data paths is not a
//! snake_case identifier (an SDK would rename the user's key, or leave one of its own keys
//! unrenamed), or when a listed path never showed up where the user's data is.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aerostack_bindings_common::ops::{OPERATIONS, STREAMS};
use aerostack_bindings_common::user_data::{USER_DATA, is_snake_case, user_data_paths};
use aerostack_bindings_common::{Task, WorkerHandle};
use serde_json::{Value, json};

mod support;
use support::{platform_and_client, run, worker_options};


/// The user's data, with keys no SDK may rename.
fn weird() -> Value {
    json!({"Weird-Key": 1, "camelKey": {"Nested Key": [{"x-y": true}]}, "user_id": "u"})
}

/// Walks `v`: every key outside the user-data paths must be a snake_case identifier; records
/// the listed paths that held a value.
fn walk(ty: &str, v: &Value, at: &str, paths: &[&str], seen: &mut BTreeSet<String>) {
    if paths.contains(&at) {
        if !v.is_null() {
            seen.insert(at.to_string());
        }
        return;
    }
    match v {
        Value::Array(items) => items
            .iter()
            .for_each(|x| walk(ty, x, &format!("{at}[]"), paths, seen)),
        Value::Object(m) => {
            for (k, x) in m {
                let p = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                assert!(
                    is_snake_case(k),
                    "{ty}: the key {k:?} at {p:?} is not a snake_case identifier and not under a user-data path \
                     {paths:?}: either the table misses a user-data path or the surface hands out a key it does not own"
                );
                walk(ty, x, &p, paths, seen);
            }
        }
        _ => {}
    }
}

fn check(ty: &str, v: &Value, seen: &mut BTreeMap<String, BTreeSet<String>>) {
    assert!(
        USER_DATA.iter().any(|(n, _)| *n == ty),
        "{ty} is not listed in USER_DATA"
    );
    let mut found = BTreeSet::new();
    walk(ty, v, "", user_data_paths(ty), &mut found);
    seen.entry(ty.to_string()).or_default().extend(found);
}

#[test]
fn every_result_type_is_listed_once() {
    let mut names = BTreeSet::new();
    for (n, _) in USER_DATA {
        assert!(names.insert(*n), "{n} is listed twice");
    }
    for op in OPERATIONS.iter().chain(STREAMS).chain(&["storage.upload"]) {
        assert!(
            names.contains(op),
            "{op} (ops.rs) is missing from USER_DATA: list it, with [] when it has no user data"
        );
    }
    for ty in [
        "realtime.event",
        "realtime.presence_event",
        "realtime.publish",
        "realtime.presence",
        "worker.invocation",
    ] {
        assert!(names.contains(ty), "{ty} is missing from USER_DATA");
    }
    for (ty, _) in aerostack_bindings_common::times::TIME_FIELDS {
        assert!(
            names.contains(ty),
            "{ty} (times.rs) is missing from USER_DATA"
        );
    }
    assert!(is_snake_case("access_token") && is_snake_case("id") && is_snake_case("x2"));
    assert!(
        !is_snake_case("Weird-Key")
            && !is_snake_case("camelKey")
            && !is_snake_case("_x")
            && !is_snake_case("")
    );
}

#[test]
fn every_key_outside_user_data_is_snake_case() {
    let (p, c) = platform_and_client();
    let mut seen = BTreeMap::new();
    let call = |op: &str, args: Value, seen: &mut BTreeMap<String, BTreeSet<String>>| {
        let v = run(c.call(op, args));
        check(op, &v, seen);
        v
    };
    let stream = |op: &str, args: Value, seen: &mut BTreeMap<String, BTreeSet<String>>| {
        let s = run(c.open_stream(op, args));
        let rt = aerostack_bindings_common::runtime().unwrap();
        while let Some(item) = rt.block_on(s.next()).unwrap() {
            check(op, &item, seen);
        }
    };

    // database
    call(
        "db.query",
        json!({"sql": "CREATE TABLE ud (id INTEGER PRIMARY KEY, \"Weird-Key\" TEXT)"}),
        &mut seen,
    );
    call(
        "db.query",
        json!({"sql": "INSERT INTO ud (id, \"Weird-Key\") VALUES (1, 'a')"}),
        &mut seen,
    );
    call(
        "db.query",
        json!({"sql": "SELECT id, \"Weird-Key\", 2 AS camelCase FROM ud"}),
        &mut seen,
    );
    call(
        "db.query_one",
        json!({"sql": "SELECT \"Weird-Key\" FROM ud"}),
        &mut seen,
    );
    call(
        "db.batch",
        json!({"queries": [{"sql": "SELECT 1 AS \"Weird-Key\"", "params": []}]}),
        &mut seen,
    );

    // auth: custom profile fields and legacy metadata are the user's
    let s = call(
        "auth.register",
        json!({"email": "ud@example.com", "password": "Pw-12345678", "name": "U", "custom_fields": weird()}),
        &mut seen,
    );
    let token = s["access_token"].as_str().expect("a session").to_string();
    let s = call(
        "auth.login",
        json!({"email": "ud@example.com", "password": "Pw-12345678"}),
        &mut seen,
    );
    call("auth.me", json!({"access_token": token}), &mut seen);
    call("auth.verify_token", json!({"token": token}), &mut seen);
    call(
        "auth.update_me",
        json!({"access_token": token, "fields": {"name": "V", "customFields": weird()}}),
        &mut seen,
    );
    let s = call(
        "auth.refresh",
        json!({"refresh_token": s["refresh_token"]}),
        &mut seen,
    );
    call(
        "auth.signup",
        json!({"email": "ud2@example.com", "password": "Pw-12345678", "metadata": weird()}),
        &mut seen,
    );
    call(
        "auth.signin",
        json!({"email": "ud2@example.com", "password": "Pw-12345678"}),
        &mut seen,
    );
    call(
        "auth.send_otp",
        json!({"email": "ud@example.com"}),
        &mut seen,
    );
    let outbox = call("local.outbox", json!({"to": "ud@example.com"}), &mut seen);
    let code = outbox[0]["code"]
        .as_str()
        .expect("an OTP code in the outbox")
        .to_string();
    call(
        "auth.verify_otp",
        json!({"code": code, "email": "ud@example.com"}),
        &mut seen,
    );
    call(
        "auth.resend_verification",
        json!({"email": "ud@example.com"}),
        &mut seen,
    );
    call(
        "auth.request_password_reset",
        json!({"email": "ud@example.com"}),
        &mut seen,
    );
    let outbox = call("local.outbox", json!({"to": "ud@example.com"}), &mut seen);
    let reset = outbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "password_reset")
        .expect("a reset mail");
    call(
        "auth.reset_password",
        json!({"token": reset["token"], "new_password": "Pw-87654321"}),
        &mut seen,
    );
    if let Some(v) = outbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "verify_email")
    {
        call("auth.verify_email", json!({"token": v["token"]}), &mut seen);
    }
    let s2 = call(
        "auth.login",
        json!({"email": "ud@example.com", "password": "Pw-87654321"}),
        &mut seen,
    );
    call(
        "auth.delete_avatar",
        json!({"access_token": s2["access_token"]}),
        &mut seen,
    );
    call(
        "auth.logout",
        json!({"access_token": s2["access_token"], "refresh_token": s["refresh_token"]}),
        &mut seen,
    );

    // cache: values (and get_many's key -> value map) are the user's
    call(
        "cache.set",
        json!({"key": "ud:1", "value": weird(), "ttl": 600}),
        &mut seen,
    );
    call("cache.get", json!({"key": "ud:1"}), &mut seen);
    call("cache.has", json!({"key": "ud:1"}), &mut seen);
    call(
        "cache.set_many",
        json!({"entries": [{"key": "ud:Weird-Key", "value": weird()}, {"key": "ud:n", "value": 1}]}),
        &mut seen,
    );
    call(
        "cache.get_many",
        json!({"keys": ["ud:1", "ud:Weird-Key"]}),
        &mut seen,
    );
    call("cache.list", json!({"prefix": "ud:"}), &mut seen);
    stream("cache.list_all", json!({"prefix": "ud:"}), &mut seen);

    // The AI gateway: an API and a consumer key with credits (the local platform's management
    // routes), then the consumer's wallet and usage, and a billing log by the project.
    call("request", json!({"method": "POST", "path": "/local/gateway/apis", "body": {"slug": "ud-api"}}), &mut seen);
    let consumer = call(
        "request",
        json!({"method": "POST", "path": "/local/gateway/keys", "body": {"api_slug": "ud-api", "credits": 100}}),
        &mut seen,
    );
    let key = consumer["key"].clone();
    call("gateway.billing_log", json!({"consumer_id": consumer["consumer_id"], "api_id": consumer["api_id"], "units": 3}), &mut seen);
    call("gateway.wallet", json!({"api_slug": "ud-api", "consumer_key": key}), &mut seen);
    call("gateway.usage", json!({"api_slug": "ud-api", "consumer_key": key}), &mut seen);
    // Its chat socket: a pong, and a chat refused (no AI upstream here) as an error event.
    let sock = run(c.gateway_socket("ud-api", key.as_str()));
    run(sock.ping());
    run(sock.send_chat(json!({"messages": [{"role": "user", "content": "hi"}]})));
    for _ in 0..2 {
        let ev = run(sock.next_event(Some(10_000))).expect("an event within 10 s");
        check("gateway.socket_event", &ev, &mut seen);
    }
    run(sock.close(None, None));

    let item = call("db.collection.create", json!({"collection": "ud", "data": weird()}), &mut seen);
    let item_id = item["id"].clone();
    call("db.collection.update", json!({"collection": "ud", "id": item_id, "data": weird()}), &mut seen);
    call("db.collection.get", json!({"collection": "ud", "id": item_id}), &mut seen);
    call("db.collection.list", json!({"collection": "ud"}), &mut seen);
    stream("db.collection.list_all", json!({"collection": "ud"}), &mut seen);
    call("db.collection.delete", json!({"collection": "ud", "id": item_id}), &mut seen);
    call("cache.keys", json!({"prefix": "ud:"}), &mut seen);
    call(
        "cache.expire",
        json!({"key": "ud:1", "ttl": 600}),
        &mut seen,
    );
    call("cache.increment", json!({"key": "ud:n"}), &mut seen);
    call("cache.delete", json!({"key": "ud:1"}), &mut seen);
    call("cache.delete_many", json!({"keys": ["ud:n"]}), &mut seen);
    call("cache.flush", json!({"prefix": "ud:"}), &mut seen);

    // storage
    let up = run(c.upload(
        json!({"key": "ud/a.txt"}),
        Some(bytes::Bytes::from_static(b"a")),
        None,
    ));
    check("storage.upload", &up, &mut seen);
    call("storage.get_url", json!({"key": "ud/a.txt"}), &mut seen);
    call("storage.list", json!({"prefix": "ud/"}), &mut seen);
    stream("storage.list_all", json!({"prefix": "ud/"}), &mut seen);
    call("storage.exists", json!({"key": "ud/a.txt"}), &mut seen);
    call("storage.metadata", json!({"key": "ud/a.txt"}), &mut seen);
    call(
        "storage.copy",
        json!({"source_key": "ud/a.txt", "dest_key": "ud/b.txt"}),
        &mut seen,
    );
    call(
        "storage.move",
        json!({"source_key": "ud/b.txt", "dest_key": "ud/c.txt"}),
        &mut seen,
    );
    call("storage.delete", json!({"key": "ud/c.txt"}), &mut seen);

    // search (local embeddings); chat and completions need an AI upstream, which is off here
    call("ai.embed", json!({"text": "hello"}), &mut seen);
    call(
        "ai.search.ingest",
        json!({"content": "Refunds within 30 days", "type": "ud", "id": "ud-1", "metadata": weird()}),
        &mut seen,
    );
    call(
        "ai.search.query",
        json!({"text": "refunds", "types": ["ud"]}),
        &mut seen,
    );
    call("ai.search.get", json!({"id": "ud-1"}), &mut seen);
    call(
        "ai.search.update",
        json!({"id": "ud-1", "content": "Refunds within 60 days", "metadata": weird()}),
        &mut seen,
    );
    call("ai.search.list_types", json!({}), &mut seen);
    call("ai.search.count", json!({"type": "ud"}), &mut seen);
    call("ai.search.delete", json!({"id": "ud-1"}), &mut seen);
    call("ai.search.delete_by_type", json!({"type": "ud"}), &mut seen);

    // secrets, local
    call(
        "secrets.set",
        json!({"key": "UD_TOKEN", "value": "v"}),
        &mut seen,
    );
    call("secrets.get", json!({"key": "UD_TOKEN"}), &mut seen);
    call("secrets.list", json!({}), &mut seen);
    call("local.workers", json!({}), &mut seen);
    call(
        "request",
        json!({"method": "POST", "path": "/cache/get", "body": {"key": "none"}}),
        &mut seen,
    );
    call(
        "rest",
        json!({"operation": "cache.cache_get", "request": {"key": "none"}}),
        &mut seen,
    );

    // queue + worker: a job's payload and answer, a module's event and answer
    let options = worker_options(&p);
    let registration = json!({"modules": [{"slug": "ud-echo", "methods": ["POST"], "public": false, "trigger": "api"}],
        "jobs": [{"type": "ud-job"}]});
    let w = run(WorkerHandle::connect(
        options,
        registration,
        "aerostack-test/0",
    ));
    call("local.wait_served", json!({"name": "ud-echo"}), &mut seen);
    let job = call(
        "queue.send",
        json!({"type": "ud-job", "data": weird()}),
        &mut seen,
    );
    let inv = run(w.next_invocation(Some(10_000))).expect("a job invocation");
    check("worker.invocation", &inv.event(), &mut seen);
    w.complete(inv.id(), weird()).unwrap();
    call(
        "queue.wait",
        json!({"job_id": job["job_id"], "timeout_ms": 10_000}),
        &mut seen,
    );
    call("queue.job", json!({"job_id": job["job_id"]}), &mut seen);
    call("queue.jobs", json!({"type": "ud-job"}), &mut seen);
    stream("queue.jobs_all", json!({"type": "ud-job"}), &mut seen);
    let later = call(
        "queue.enqueue",
        json!({"type": "ud-later", "data": weird(), "delay_seconds": 3600}),
        &mut seen,
    );
    call(
        "queue.cancel",
        json!({"job_id": later["job_id"]}),
        &mut seen,
    );
    for op in ["call", "services.invoke"] {
        let args = if op == "call" {
            json!({"slug": "ud-echo", "data": weird()})
        } else {
            json!({"service_name": "ud-echo", "data": weird()})
        };
        let pending = Task::spawn(c.call(op, args).unwrap()).unwrap();
        let inv = run(w.next_invocation(Some(10_000))).expect("a module invocation");
        check("worker.invocation", &inv.event(), &mut seen);
        w.complete(inv.id(), json!({"Weird-Key": inv.event()["data"].clone()}))
            .unwrap();
        assert!(pending.wait(Some(Duration::from_secs(10))));
        check(op, &pending.take().unwrap().unwrap(), &mut seen);
    }
    run(w.stop(1000));

    // realtime: messages, row changes (new and old rows), presence, history, emit
    call(
        "realtime.emit",
        json!({"event": "note", "data": weird(), "room": "ud", "persist": true}),
        &mut seen,
    );
    call("realtime.history", json!({"room": "ud"}), &mut seen);
    let rt = c.realtime(json!({"ack_timeout_ms": 5000})).unwrap();
    let room = rt.channel("rooms/ud", Value::Null).unwrap();
    room.on("*");
    let table = rt.channel("ud", Value::Null).unwrap();
    table.on("*");
    run(room.wait_subscribed(5000));
    run(table.wait_subscribed(5000));
    // A second connection in the room: it gets the first one's messages and presence.
    let rt2 = c.realtime(json!({"ack_timeout_ms": 5000})).unwrap();
    let room2 = rt2.channel("rooms/ud", Value::Null).unwrap();
    room2.on("*");
    run(room2.wait_subscribed(5000));
    room.track(weird()).unwrap();
    let ack = run(room.publish("note", weird(), json!({"persist": true})));
    check("realtime.publish", &ack, &mut seen);
    call(
        "db.query",
        json!({"sql": "INSERT INTO ud (id, \"Weird-Key\") VALUES (2, 'b')"}),
        &mut seen,
    );
    call(
        "db.query",
        json!({"sql": "UPDATE ud SET \"Weird-Key\" = 'c' WHERE id = 2"}),
        &mut seen,
    );
    let mut events = BTreeSet::new();
    for (q, n) in [(&rt, 30), (&rt2, 30)] {
        for _ in 0..n {
            let Some(ev) = run(q.next_event(Some(1500))) else {
                break;
            };
            let ty = if ev["kind"] == "presence" {
                "realtime.presence_event"
            } else {
                "realtime.event"
            };
            check(ty, &ev, &mut seen);
            events.insert(ev["event"].as_str().unwrap_or("").to_string());
        }
    }
    assert!(
        events.contains("UPDATE") && events.contains("note"),
        "events seen: {events:?}"
    );
    check("realtime.presence", &room.presence(), &mut seen);
    check(
        "realtime.history",
        &run(room.history(Some(10), None)),
        &mut seen,
    );

    // Every listed path held the user's data at least once, except those that stay empty here
    // (legacy sessions carry `metadata`, public-auth ones `custom_fields`; presence lists only
    // hold the other connection at some moments).
    let may_stay_absent = [
        "user.metadata",
        "metadata",
        "data.leaves[].state",
        "data.joins[].state",
        "data.presences[].state",
    ];
    let legacy = ["auth.signup", "auth.signin"];
    let mut missing = Vec::new();
    for (ty, paths) in USER_DATA {
        let Some(found) = seen.get(*ty) else { continue };
        for p in paths.iter().filter(|p| !may_stay_absent.contains(p)) {
            if legacy.contains(ty) && *p == "user.custom_fields" {
                continue;
            }
            if !found.contains(*p) {
                missing.push(format!("{ty}: {p:?} (seen: {found:?})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "user-data paths that never held the user's data: {missing:#?}"
    );
    for ty in legacy {
        assert!(
            seen[ty].contains("user.metadata"),
            "{ty}: the legacy user's metadata was not seen"
        );
    }
    let not_run = [
        "ai.chat",
        "ai.complete",
        "ai.chat_stream",
        // through a gateway API, chat needs an AI upstream (the platform has none here)
        "gateway.chat",
        "gateway.chat_stream",
        "gateway.socket_chat",
        "ai.search.configure",
    ];
    for (ty, _) in USER_DATA {
        assert!(
            seen.contains_key(*ty) || not_run.contains(ty),
            "{ty} was not exercised"
        );
    }
    p.shutdown();
}
