//! The contract, pinned: every frame reads from and writes to the JSON that docs/realtime.md and
//! docs/workers.md show (field names, which optional fields are omitted and which are sent as
//! `null`). A change to a wire type that changes the JSON fails here; change the docs with it.

use std::fmt::Debug;

use aerostack_protocol::realtime::{ClientFrame, ServerFrame};
use aerostack_protocol::worker::{FromWorker, InvocationKind, Invoke, JobType, Module, ToWorker};
use aerostack_protocol::{ErrorBody, ErrorField, OutboxMessage, OutboxPage};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// `text` reads as `frame`, and `frame` writes exactly the JSON of `text` (no field more, none
/// less, nulls where the text has nulls).
#[track_caller]
fn wire<T: Serialize + DeserializeOwned + PartialEq + Debug>(text: &str, frame: T) {
    let read: T = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{text} does not read as {frame:?}: {e}"));
    assert_eq!(read, frame, "reading {text}");
    let written = serde_json::to_value(&frame).unwrap();
    let expected: Value = serde_json::from_str(text).unwrap();
    assert_eq!(written, expected, "writing {frame:?}");
}

const UUID: &str = "6f1c0b3e-8a4d-4c55-9a57-0c9f4c2b1e7d";
const PROJECT: &str = "proj_0123456789ab";

// ---- realtime, client -> platform (docs/realtime.md §3) ----

#[test]
fn realtime_client_frames_of_the_docs() {
    wire(
        r#"{"type":"subscribe","topic":"todos"}"#,
        ClientFrame::Subscribe {
            topic: "todos".into(),
            filter: Value::Null,
            presence: None,
        },
    );
    wire(
        r#"{"type":"publish","topic":"chat/general","event":"message","data":{"text":"hi"},"persist":true,"id":"6f1c0b3e-8a4d-4c55-9a57-0c9f4c2b1e7d"}"#,
        ClientFrame::Publish {
            topic: "chat/general".into(),
            event: "message".into(),
            data: json!({"text": "hi"}),
            persist: true,
            id: Some(json!(UUID)),
        },
    );
    wire(
        r#"{"type":"track","topic":"rooms/lobby","state":{"name":"Ada"}}"#,
        ClientFrame::Track {
            topic: "rooms/lobby".into(),
            state: json!({"name": "Ada"}),
        },
    );
    wire(
        r#"{"type":"subscribe","topic":"orders","filter":{"status":"open"},"presence":true}"#,
        ClientFrame::Subscribe {
            topic: "orders".into(),
            filter: json!({"status": "open"}),
            presence: Some(true),
        },
    );
    wire(
        r#"{"type":"chat","roomId":"general","text":"hi","metadata":{"m":1}}"#,
        ClientFrame::Chat {
            room_id: "general".into(),
            text: "hi".into(),
            metadata: json!({"m": 1}),
        },
    );
    wire(
        r#"{"type":"chat","roomId":"general","text":"hi"}"#,
        ClientFrame::Chat {
            room_id: "general".into(),
            text: "hi".into(),
            metadata: Value::Null,
        },
    );
    wire(r#"{"type":"ping"}"#, ClientFrame::Ping { id: None });
    wire(
        r#"{"type":"auth","token":"eyJhbGciOi..."}"#,
        ClientFrame::Auth {
            token: "eyJhbGciOi...".into(),
        },
    );
    wire(
        r#"{"type":"unsubscribe","topic":"todos"}"#,
        ClientFrame::Unsubscribe {
            topic: "todos".into(),
        },
    );
    wire(
        r#"{"type":"untrack","topic":"rooms/lobby"}"#,
        ClientFrame::Untrack {
            topic: "rooms/lobby".into(),
        },
    );
    wire(
        r#"{"type":"ping","id":7}"#,
        ClientFrame::Ping { id: Some(json!(7)) },
    );
    assert_eq!(
        ClientFrame::Ping { id: None }.to_text(),
        r#"{"type":"ping"}"#
    );
}

#[test]
fn realtime_client_frames_take_the_documented_defaults() {
    // publish: data null, persist false, no id (a publish of the official clients' counters
    // carries a number id, echoed as sent).
    assert_eq!(
        serde_json::from_str::<ClientFrame>(r#"{"type":"publish","topic":"t","event":"e"}"#)
            .unwrap(),
        ClientFrame::Publish {
            topic: "t".into(),
            event: "e".into(),
            data: Value::Null,
            persist: false,
            id: None,
        }
    );
    // subscribe: `filter` accepted (and kept), not required.
    assert_eq!(
        serde_json::from_str::<ClientFrame>(r#"{"type":"subscribe","topic":"t","filter":{"a":1}}"#)
            .unwrap(),
        ClientFrame::Subscribe {
            topic: "t".into(),
            filter: json!({"a": 1}),
            presence: None,
        }
    );
    // track: a missing state is null (the platform stores {}).
    assert_eq!(
        serde_json::from_str::<ClientFrame>(r#"{"type":"track","topic":"t"}"#).unwrap(),
        ClientFrame::Track {
            topic: "t".into(),
            state: Value::Null,
        }
    );
    // What the platform refuses: no type, an unknown type, a missing required field.
    for bad in [
        r#"{"topic":"t"}"#,
        r#"{"type":"hello","topic":"t"}"#,
        r#"{"type":"chat","topic":"t","text":"no roomId"}"#,
        r#"{"type":"subscribe"}"#,
        r#"{"type":"auth"}"#,
    ] {
        assert!(serde_json::from_str::<ClientFrame>(bad).is_err(), "{bad}");
    }
}

// ---- realtime, platform -> client (docs/realtime.md §4, §6) ----

#[test]
fn realtime_server_frames_of_the_docs() {
    wire(
        r#"{"type":"connected","connectionId":"conn_3_1f2e3d4c","projectId":"proj_0123456789ab","userId":null,"timestamp":1760000000000}"#,
        ServerFrame::Connected {
            connection_id: "conn_3_1f2e3d4c".into(),
            project_id: PROJECT.into(),
            user_id: None,
            timestamp: Some(1_760_000_000_000),
        },
    );
    wire(
        r#"{"type":"subscribed","topic":"table/todos/proj_0123456789ab","requested":"todos","timestamp":1760000000001}"#,
        ServerFrame::Subscribed {
            topic: "table/todos/proj_0123456789ab".into(),
            requested: Some("todos".into()),
            timestamp: Some(1_760_000_000_001),
        },
    );
    wire(
        r#"{"type":"db_change","topic":"table/todos/proj_0123456789ab","table":"todos","operation":"UPDATE","data":{"id":1,"title":"a","done":1},"old":{"id":1,"title":"a","done":0},"timestamp":1760000000500}"#,
        ServerFrame::DbChange {
            topic: "table/todos/proj_0123456789ab".into(),
            table: Some("todos".into()),
            operation: "UPDATE".into(),
            data: json!({"id": 1, "title": "a", "done": 1}),
            old: Some(json!({"id": 1, "title": "a", "done": 0})),
            timestamp: Some(1_760_000_000_500),
        },
    );
    wire(
        r#"{"type":"event","topic":"chat/general/proj_0123456789ab","event":"message","data":{"text":"hi"},"userId":"usr_1","id":"6f1c0b3e-8a4d-4c55-9a57-0c9f4c2b1e7d","timestamp":1760000000600,"persisted":true}"#,
        ServerFrame::Event {
            topic: "chat/general/proj_0123456789ab".into(),
            event: "message".into(),
            data: json!({"text": "hi"}),
            user_id: Some("usr_1".into()),
            id: Some(UUID.into()),
            timestamp: Some(1_760_000_000_600),
            persisted: Some(true),
        },
    );
    wire(
        r#"{"type":"ack","id":"6f1c0b3e-8a4d-4c55-9a57-0c9f4c2b1e7d","messageId":"6f1c0b3e-8a4d-4c55-9a57-0c9f4c2b1e7d","timestamp":1760000000600,"persisted":true}"#,
        ServerFrame::Ack {
            id: json!(UUID),
            message_id: Some(UUID.into()),
            timestamp: Some(1_760_000_000_600),
            persisted: true,
        },
    );
    wire(
        r#"{"type":"error","code":"FORBIDDEN","message":"topic \"chat/x/proj_ffffffffffff\" belongs to project proj_ffffffffffff; ...","topic":"chat/x/proj_ffffffffffff"}"#,
        ServerFrame::Error {
            code: "FORBIDDEN".into(),
            message: "topic \"chat/x/proj_ffffffffffff\" belongs to project proj_ffffffffffff; ..."
                .into(),
            topic: Some("chat/x/proj_ffffffffffff".into()),
            id: None,
        },
    );
}

#[test]
fn realtime_server_frames_in_the_tables() {
    // A DELETE: no new row, the old one.
    wire(
        r#"{"type":"db_change","topic":"table/t/proj_0123456789ab","table":"t","operation":"DELETE","data":null,"old":{"id":1},"timestamp":5}"#,
        ServerFrame::DbChange {
            topic: "table/t/proj_0123456789ab".into(),
            table: Some("t".into()),
            operation: "DELETE".into(),
            data: Value::Null,
            old: Some(json!({"id": 1})),
            timestamp: Some(5),
        },
    );
    // An INSERT: `old` is sent as null.
    wire(
        r#"{"type":"db_change","topic":"table/t/p","table":"t","operation":"INSERT","data":{"id":2},"old":null,"timestamp":6}"#,
        ServerFrame::DbChange {
            topic: "table/t/p".into(),
            table: Some("t".into()),
            operation: "INSERT".into(),
            data: json!({"id": 2}),
            old: None,
            timestamp: Some(6),
        },
    );
    // Presence is an `event` frame with `userId: null`, no `id` and no `persisted` (§4, §6).
    wire(
        r#"{"type":"event","topic":"rooms/lobby/proj_0123456789ab","event":"presence:join","data":{"key":"conn_1_ab","state":{"name":"Ada"},"userId":null,"joinedAt":9},"userId":null,"timestamp":9}"#,
        ServerFrame::Event {
            topic: "rooms/lobby/proj_0123456789ab".into(),
            event: "presence:join".into(),
            data: json!({"key": "conn_1_ab", "state": {"name": "Ada"}, "userId": null, "joinedAt": 9}),
            user_id: None,
            id: None,
            timestamp: Some(9),
            persisted: None,
        },
    );
    // A server emit: userId null, not persisted.
    wire(
        r#"{"type":"event","topic":"todos/shared/p","event":"todo.created","data":{"id":1},"userId":null,"id":"m1","timestamp":3,"persisted":false}"#,
        ServerFrame::Event {
            topic: "todos/shared/p".into(),
            event: "todo.created".into(),
            data: json!({"id": 1}),
            user_id: None,
            id: Some("m1".into()),
            timestamp: Some(3),
            persisted: Some(false),
        },
    );
    wire(
        r#"{"type":"unsubscribed","topic":"chat/x/p"}"#,
        ServerFrame::Unsubscribed {
            topic: "chat/x/p".into(),
        },
    );
    wire(
        r#"{"type":"pong","timestamp":11}"#,
        ServerFrame::Pong {
            timestamp: Some(11),
            id: None,
        },
    );
    wire(
        r#"{"type":"pong","timestamp":11,"id":3}"#,
        ServerFrame::Pong {
            timestamp: Some(11),
            id: Some(json!(3)),
        },
    );
    wire(
        r#"{"type":"authenticated","userId":"usr_2"}"#,
        ServerFrame::Authenticated {
            user_id: Some("usr_2".into()),
        },
    );
    // The publish id is echoed as sent: a number stays a number.
    wire(
        r#"{"type":"ack","id":7,"messageId":"m","timestamp":5,"persisted":false}"#,
        ServerFrame::Ack {
            id: json!(7),
            message_id: Some("m".into()),
            timestamp: Some(5),
            persisted: false,
        },
    );
    wire(
        r#"{"type":"error","code":"INTERNAL_ERROR","message":"storing the message failed","topic":"t/p","id":7}"#,
        ServerFrame::Error {
            code: "INTERNAL_ERROR".into(),
            message: "storing the message failed".into(),
            topic: Some("t/p".into()),
            id: Some(json!(7)),
        },
    );
    wire(
        r#"{"type":"error","code":"VALIDATION_ERROR","message":"binary frames are not supported"}"#,
        ServerFrame::Error {
            code: "VALIDATION_ERROR".into(),
            message: "binary frames are not supported".into(),
            topic: None,
            id: None,
        },
    );
}

#[test]
fn realtime_server_frames_read_leniently() {
    // Unknown types (the legacy chat_message, future frames) are read as Other, never sent.
    assert_eq!(
        ServerFrame::parse(r#"{"type":"chat_message","text":"x"}"#),
        Some(ServerFrame::Other)
    );
    assert_eq!(ServerFrame::Other.to_text(), "");
    assert_eq!(ServerFrame::parse("not json"), None);
    assert_eq!(ServerFrame::parse(r#"{"topic":"t"}"#), None);
    // Missing fields take defaults; an error without a code is INTERNAL_ERROR.
    assert_eq!(
        ServerFrame::parse(r#"{"type":"error"}"#),
        Some(ServerFrame::Error {
            code: "INTERNAL_ERROR".into(),
            message: String::new(),
            topic: None,
            id: None,
        })
    );
    // Ids and names may be numbers; a field of an odd type reads as absent.
    assert_eq!(
        ServerFrame::parse(
            r#"{"type":"event","topic":"t","event":"e","userId":12,"id":99,"timestamp":1.5,"persisted":"yes"}"#
        ),
        Some(ServerFrame::Event {
            topic: "t".into(),
            event: "e".into(),
            data: Value::Null,
            user_id: Some("12".into()),
            id: Some("99".into()),
            timestamp: None,
            persisted: None,
        })
    );
    // An ack needs its id.
    assert_eq!(
        ServerFrame::parse(r#"{"type":"ack","messageId":"m"}"#),
        None
    );
}

#[test]
fn realtime_frames_write_one_line_of_text() {
    let text = ServerFrame::Subscribed {
        topic: "t/p".into(),
        requested: Some("t".into()),
        timestamp: Some(1),
    }
    .to_text();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"type": "subscribed", "topic": "t/p", "requested": "t", "timestamp": 1})
    );
    assert!(!text.contains('\n'));
}

// ---- worker protocol (docs/workers.md) ----

fn search_products() -> Module {
    Module {
        slug: "search-products".into(),
        name: Some("Search products".into()),
        methods: vec!["POST".into(), "GET".into()],
        public: true,
        trigger: "api".into(),
        timeout_ms: Some(10_000),
    }
}

#[test]
fn worker_frames_of_the_docs() {
    // The register example: what the worker writes has every module field except the absent
    // optional ones; the platform reads the short form with defaults.
    let register = FromWorker::Register {
        worker: Some("billing-box-1".into()),
        concurrency: Some(4),
        modules: vec![
            search_products(),
            Module::on_event("on-signup", "auth.register.after"),
        ],
        jobs: vec![JobType::new("send-welcome-email").timeout(std::time::Duration::from_secs(60))],
    };
    let doc = r#"{
      "type": "register",
      "worker": "billing-box-1",
      "concurrency": 4,
      "modules": [
        {"slug": "search-products", "name": "Search products", "methods": ["POST", "GET"],
         "public": true, "trigger": "api", "timeout_ms": 10000},
        {"slug": "on-signup", "trigger": "auth.register.after"}
      ],
      "jobs": [
        {"type": "send-welcome-email", "timeout_ms": 60000}
      ]
    }"#;
    assert_eq!(serde_json::from_str::<FromWorker>(doc).unwrap(), register);
    assert_eq!(
        serde_json::to_value(&register).unwrap(),
        json!({
            "type": "register", "worker": "billing-box-1", "concurrency": 4,
            "modules": [
                {"slug": "search-products", "name": "Search products", "methods": ["POST", "GET"],
                 "public": true, "trigger": "api", "timeout_ms": 10000},
                {"slug": "on-signup", "methods": ["POST"], "public": false, "trigger": "auth.register.after"}
            ],
            "jobs": [{"type": "send-welcome-email", "timeout_ms": 60000}]
        })
    );
    wire(
        r#"{"type": "complete", "id": "inv_3f2a", "result": {"results": [], "count": 0}}"#,
        FromWorker::Complete {
            id: "inv_3f2a".into(),
            result: json!({"results": [], "count": 0}),
        },
    );
    wire(
        r#"{"type": "fail", "id": "inv_3f2a", "error": "the shelf is empty"}"#,
        FromWorker::Fail {
            id: "inv_3f2a".into(),
            error: "the shelf is empty".into(),
        },
    );
    wire(r#"{"type": "drain"}"#, FromWorker::Drain);
    wire(r#"{"type": "ping"}"#, FromWorker::Ping);

    wire(
        r#"{"type": "registered", "worker_id": "w12", "project_id": "proj_0a1b2c3d4e5f",
            "project_slug": "default",
            "modules": [{"slug": "search-products", "name": "Search products", "methods": ["POST", "GET"],
                         "public": true, "trigger": "api", "timeout_ms": 10000}],
            "jobs": [{"type": "send-welcome-email"}], "concurrency": 4}"#,
        ToWorker::Registered {
            worker_id: "w12".into(),
            project_id: "proj_0a1b2c3d4e5f".into(),
            project_slug: "default".into(),
            modules: vec![search_products()],
            jobs: vec![JobType::new("send-welcome-email")],
            concurrency: 4,
        },
    );
    wire(
        r#"{
          "type": "invoke",
          "id": "inv_9c1d",
          "kind": "custom",
          "name": "search-products",
          "project_id": "proj_0a1b2c3d4e5f",
          "scope_token": "ast_scope_5e0f",
          "timeout_ms": 30000,
          "deadline_ms": 1763750000000,
          "event": {"event": "custom.search-products", "timestamp": "2026-11-21T20:00:00.000Z",
                    "data": {"q": "hat"}, "project_id": "proj_0a1b2c3d4e5f", "slug": "search-products",
                    "method": "POST", "headers": {}, "query": {}}
        }"#,
        ToWorker::Invoke(Invoke {
            id: "inv_9c1d".into(),
            kind: InvocationKind::Custom,
            name: "search-products".into(),
            project_id: "proj_0a1b2c3d4e5f".into(),
            scope_token: "ast_scope_5e0f".into(),
            timeout_ms: 30_000,
            deadline_ms: 1_763_750_000_000,
            event: json!({"event": "custom.search-products", "timestamp": "2026-11-21T20:00:00.000Z",
                          "data": {"q": "hat"}, "project_id": "proj_0a1b2c3d4e5f", "slug": "search-products",
                          "method": "POST", "headers": {}, "query": {}}),
        }),
    );
    wire(
        r#"{"type": "cancel", "id": "inv_9c1d", "reason": "timed out after 30000 ms"}"#,
        ToWorker::Cancel {
            id: "inv_9c1d".into(),
            reason: "timed out after 30000 ms".into(),
        },
    );
    wire(r#"{"type": "draining"}"#, ToWorker::Draining);
    wire(r#"{"type": "pong"}"#, ToWorker::Pong);
    wire(
        r#"{"type": "error", "code": "VALIDATION_ERROR", "message": "unreadable frame (...)"}"#,
        ToWorker::Error {
            code: "VALIDATION_ERROR".into(),
            message: "unreadable frame (...)".into(),
        },
    );
}

#[test]
fn worker_frames_take_the_documented_defaults() {
    // register: everything but the type is optional; concurrency and worker are omitted when
    // absent (the platform's default is 1).
    wire(
        r#"{"type": "register", "modules": [], "jobs": []}"#,
        FromWorker::Register {
            worker: None,
            concurrency: None,
            modules: vec![],
            jobs: vec![],
        },
    );
    assert_eq!(
        serde_json::from_str::<FromWorker>(r#"{"type": "register"}"#).unwrap(),
        FromWorker::Register {
            worker: None,
            concurrency: None,
            modules: vec![],
            jobs: vec![],
        }
    );
    // A module is a slug: POST, not public, trigger api, no name, platform timeout.
    assert_eq!(
        serde_json::from_value::<Module>(json!({"slug": "a"})).unwrap(),
        Module::api("a")
    );
    assert_eq!(
        serde_json::to_value(Module::api("a")).unwrap(),
        json!({"slug": "a", "methods": ["POST"], "public": false, "trigger": "api"})
    );
    assert_eq!(
        serde_json::to_value(Module::api("a").allow_get(true).public(true)).unwrap(),
        json!({"slug": "a", "methods": ["POST", "GET"], "public": true, "trigger": "api"})
    );
    assert_eq!(
        serde_json::to_value(JobType::from_function_name("sendWelcomeEmail")).unwrap(),
        json!({"type": "send-welcome-email"})
    );
    // complete: result null when omitted.
    assert_eq!(
        serde_json::from_str::<FromWorker>(r#"{"type": "complete", "id": "i"}"#).unwrap(),
        FromWorker::Complete {
            id: "i".into(),
            result: Value::Null,
        }
    );
    // What the worker reads of a newer or older platform: informational fields default.
    assert_eq!(
        serde_json::from_str::<ToWorker>(r#"{"type": "registered", "project_id": "p"}"#).unwrap(),
        ToWorker::Registered {
            worker_id: String::new(),
            project_id: "p".into(),
            project_slug: String::new(),
            modules: vec![],
            jobs: vec![],
            concurrency: 0,
        }
    );
    for kind in ["custom", "service", "event", "job"] {
        let k: InvocationKind = serde_json::from_value(json!(kind)).unwrap();
        assert_eq!(serde_json::to_value(k).unwrap(), json!(kind));
    }
    for bad in [
        r#"{"type": "hello?"}"#,
        r#"{"type": "fail", "id": "i"}"#,
        r#"{"type": "complete"}"#,
    ] {
        assert!(serde_json::from_str::<FromWorker>(bad).is_err(), "{bad}");
    }
}

// ---- outbox and error body ----

#[test]
fn outbox_message() {
    wire(
        r#"{"messages": [{"id": "m1", "to": "ada@example.com", "kind": "otp", "subject": "Your Demo sign-in code",
            "body": "Your sign-in code is 123456.", "code": "123456", "token": null,
            "created_at": "2026-01-02T03:04:05.678Z"}]}"#,
        OutboxPage {
            messages: vec![OutboxMessage {
                id: "m1".into(),
                to: "ada@example.com".into(),
                kind: "otp".into(),
                subject: "Your Demo sign-in code".into(),
                body: "Your sign-in code is 123456.".into(),
                code: Some("123456".into()),
                token: None,
                created_at: aerostack_protocol::Timestamp::parse("2026-01-02T03:04:05.678Z"),
            }],
        },
    );
    // A unix-ms timestamp (another platform generation) reads as the same time.
    let m: OutboxMessage =
        serde_json::from_str(r#"{"id": "m", "created_at": 1700000000000}"#).unwrap();
    assert_eq!(m.created_at.map(|t| t.to_string()).as_deref(), Some("2023-11-14T22:13:20.000Z"));
    assert_eq!(m.code, None);
}

#[test]
fn error_body() {
    let body = ErrorBody {
        details: json!({"field": "email"}).as_object().unwrap().clone(),
        request_id: Some("req_1".into()),
        ..ErrorBody::new("VALIDATION_ERROR", "email is required")
    };
    wire(
        r#"{"code":"VALIDATION_ERROR","message":"email is required","details":{"field":"email"},"error":"email is required","request_id":"req_1"}"#,
        body.clone(),
    );
    assert_eq!(
        body.into_value(),
        json!({"code": "VALIDATION_ERROR", "message": "email is required", "details": {"field": "email"},
               "error": "email is required", "request_id": "req_1"})
    );
    // The rate-limit shape: `error` is {code, message}; no request id is null.
    wire(
        r#"{"code":"RATE_LIMIT_EXCEEDED","message":"slow down","details":{},"error":{"code":"RATE_LIMIT_EXCEEDED","message":"slow down"},"request_id":null}"#,
        ErrorBody::new("RATE_LIMIT_EXCEEDED", "slow down").error_as_object(),
    );
    // Extra top-level fields sit next to the fixed ones and never override them.
    let mut body = ErrorBody::new("AUTH_OTP_INVALID", "wrong code");
    body.extra.insert("success".into(), json!(false));
    body.extra.insert("code".into(), json!("NOPE"));
    assert_eq!(
        body.clone().into_value(),
        json!({"success": false, "code": "AUTH_OTP_INVALID", "message": "wrong code", "details": {},
               "error": "wrong code", "request_id": null})
    );
    let read: ErrorBody = serde_json::from_str(
        r#"{"success":false,"code":"AUTH_OTP_INVALID","message":"wrong code","details":{},"error":"wrong code","request_id":null}"#,
    )
    .unwrap();
    assert_eq!(read.extra.get("success"), Some(&json!(false)));
    assert_eq!(read.error, ErrorField::Message("wrong code".into()));
}
