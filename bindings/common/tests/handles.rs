//! The surface's handles driven the way a binding drives them: futures started as `Task`s and
//! waited for from a plain (host) thread, against a local platform started through
//! `LocalPlatformHandle`.

use std::future::Future;
use std::time::Duration;

use aerostack_bindings_common::{ClientHandle, Error, LocalPlatformHandle, Task, WorkerHandle};
use serde_json::{Value, json};

/// What a binding's blocking call does: start the future as a task, wait, take the outcome.
fn run<T: Send + 'static>(fut: Result<impl Future<Output = Result<T, Error>> + Send + 'static, Error>) -> Result<T, Error> {
    let task = Task::spawn(fut?).unwrap();
    assert!(task.wait(Some(Duration::from_secs(30))), "the call did not finish within 30 s");
    task.take().unwrap()
}

fn platform() -> LocalPlatformHandle {
    LocalPlatformHandle::start(json!({"from_env": false})).unwrap()
}

fn client(p: &LocalPlatformHandle) -> ClientHandle {
    let i = p.info();
    let options = json!({"base_url": i.api_url, "api_key": i.api_key, "project_id": i.project_id, "ignore_env": true});
    ClientHandle::new(options, "aerostack-test/0").unwrap()
}

fn field(e: &Error) -> Value {
    e.details().map(|d| d["field"].clone()).unwrap_or(Value::Null)
}

#[test]
fn calls_options_and_streams() {
    let p = platform();
    let c = client(&p);
    let rows = run(c.call("db.query", json!({"sql": "SELECT 1 AS one"}))).unwrap();
    assert_eq!(rows["results"], json!([{"one": 1}]));

    // Argument errors come back before anything runs, naming the field.
    let e = c.with_options(json!({"timeout": 5})).unwrap_err();
    assert_eq!(field(&e), "timeout", "{}", e.message());
    assert!(e.message().contains("timeout_ms"), "the message names the known fields: {}", e.message());
    let e = ClientHandle::new(json!({"api_key": 7}), "x").unwrap_err();
    assert_eq!((e.code().as_str(), field(&e)), ("INVALID_CONFIG", json!("api_key")));

    // A cursor stream yields every item across pages.
    for i in 0..5 {
        run(c.call("cache.set", json!({"key": format!("page:{i}"), "value": i}))).unwrap();
    }
    let stream = run(c.open_stream("cache.list_all", json!({"prefix": "page:", "page_size": 2}))).unwrap();
    let mut keys = Vec::new();
    loop {
        let s = stream.clone();
        let Some(item) = run(Ok::<_, Error>(async move { s.next().await })).unwrap() else { break };
        keys.push(item["key"].as_str().unwrap().to_string());
    }
    keys.sort();
    assert_eq!(keys, (0..5).map(|i| format!("page:{i}")).collect::<Vec<_>>());

    // fetch is an operation of the scoped sdk only.
    let e = run(c.call("fetch", json!({"url": "http://127.0.0.1:9/"}))).unwrap_err();
    assert_eq!(field(&e), "op");

    let project = p.create_project("second").unwrap();
    assert!(project["api_key"].as_str().unwrap().starts_with("ac_secret_"), "{project}");
    p.shutdown();
    assert!(!p.running());
    let e = p.create_project("late").unwrap_err();
    assert_eq!(e.code().as_str(), "INVALID_CONFIG");
}

#[test]
fn realtime_subscription_is_awaited_and_a_refusal_is_an_error() {
    let p = platform();
    let c = client(&p);
    let rt = c.realtime(json!({"ack_timeout_ms": 5000})).unwrap();
    let room = rt.channel("chat/handles", Value::Null).unwrap();
    let listener = room.on("hello");
    run(room.wait_subscribed(10_000)).unwrap();
    assert!(room.is_subscribed());

    let emitted = run(c.call("realtime.emit", json!({"event": "hello", "data": {"n": 1}, "room": "chat/handles"}))).unwrap();
    assert_eq!(emitted["delivered"], 1, "{emitted}");
    let ev = loop {
        let ev = run(rt.next_event(Some(5000))).unwrap().expect("an event within 5 s");
        if ev["event"] == "hello" {
            break ev;
        }
    };
    assert_eq!(ev["data"], json!({"n": 1}));
    assert_eq!(ev["listeners"], json!([listener]));

    // Another project's topic: the platform refuses it and the wait says so at once.
    let foreign = rt.channel("chat/handles/proj_000000000000", Value::Null).unwrap();
    let e = run(foreign.wait_subscribed(10_000)).unwrap_err();
    assert_eq!(e.code().as_str(), "FORBIDDEN", "{}", e.message());

    let e = room.publish("x", json!({}), json!({"persist": "yes"})).err().expect("a bad option is refused");
    assert_eq!(field(&e), "persist");
    run(rt.disconnect()).unwrap();
    p.shutdown();
}

#[test]
fn a_worker_serves_a_module_and_stops_within_its_grace() {
    let p = platform();
    let c = client(&p);
    let i = p.info();
    let options = json!({"base_url": i.api_url, "api_key": i.api_key, "ignore_env": true});
    let e = WorkerHandle::connect(options.clone(), json!({}), "aerostack-test/0").err().expect("nothing to serve");
    assert_eq!(field(&e), "modules");

    let registration = json!({"modules": [{"slug": "echo", "methods": ["POST"], "public": false, "trigger": "api"}]});
    let w = run(WorkerHandle::connect(options, registration, "aerostack-test/0")).unwrap();
    let call = Task::spawn(c.call("call", json!({"slug": "echo", "data": {"x": 1}})).unwrap()).unwrap();
    let inv = run(w.next_invocation(Some(10_000))).unwrap().expect("an invocation");
    assert_eq!((inv.kind().as_str(), inv.name()), ("custom", "echo"));
    // The scoped client reaches the same project.
    let scoped = inv.client().unwrap();
    run(scoped.call("cache.set", json!({"key": "from-module", "value": true}))).unwrap();
    w.complete(inv.id(), json!({"echo": inv.event()["data"]})).unwrap();
    assert!(call.wait(Some(Duration::from_secs(10))));
    assert_eq!(call.take().unwrap().unwrap(), json!({"echo": {"x": 1}}));
    assert_eq!(run(c.call("cache.get", json!({"key": "from-module"}))).unwrap(), json!(true));

    // An invocation never answered: stop closes the connection once the grace period is over.
    let pending = Task::spawn(c.call("call", json!({"slug": "echo", "data": {}})).unwrap()).unwrap();
    let _unanswered = run(w.next_invocation(Some(10_000))).unwrap().expect("a second invocation");
    run(w.stop(300)).unwrap();
    assert!(w.is_closed());
    assert!(pending.wait(Some(Duration::from_secs(10))));
    let e = pending.take().unwrap().unwrap_err();
    assert_eq!(e.status(), Some(503), "{}: {}", e.code().as_str(), e.message());
    p.shutdown();
}

/// A stand-in OpenAI-compatible upstream (the third party behind the gateway): every request is
/// answered with the same stream, "echo: " and "hi", then usage {4, 7, 11}.
fn sse_upstream() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { break };
            let mut reader = BufReader::new(conn);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut frames = String::new();
            for piece in ["echo: ", "hi"] {
                frames.push_str(&format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": piece}}]})));
            }
            let usage = json!({"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 7, "total_tokens": 11}});
            frames.push_str(&format!("data: {usage}\n\ndata: [DONE]\n\n"));
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
            let _ = reader.get_mut().write_all(format!("{head}{frames}").as_bytes());
        }
    });
    format!("http://{addr}/v1")
}

#[test]
fn a_gateway_socket_streams_collects_and_refuses_a_bad_key() {
    let p = LocalPlatformHandle::start(json!({"from_env": false, "ai_base_url": sse_upstream(), "ai_model": "m"})).unwrap();
    let i = p.info();
    // Results in camelCase, as Node and PHP get them.
    let options = json!({"base_url": i.api_url, "api_key": i.api_key, "project_id": i.project_id, "ignore_env": true, "result_case": "camel"});
    let c = ClientHandle::new(options, "aerostack-test/0").unwrap();
    run(c.call("request", json!({"method": "POST", "path": "/local/gateway/apis", "body": {"slug": "hs"}}))).unwrap();
    let consumer = run(c.call("request", json!({"method": "POST", "path": "/local/gateway/keys", "body": {"api_slug": "hs", "credits": 100}}))).unwrap();
    let key = consumer["key"].as_str().unwrap();

    let s = run(c.gateway_socket("hs", Some(key))).unwrap();
    assert_eq!((s.state().as_str(), s.api_slug()), ("open", "hs"));
    let hi = json!([{"role": "user", "content": "hi"}]);
    let id = run(s.send_chat(json!({"messages": hi}))).unwrap();
    let mut events = Vec::new();
    while events.last().is_none_or(|e: &Value| e["type"] != "done") {
        events.push(run(s.next_event(Some(10_000))).unwrap().expect("an event within 10 s"));
    }
    assert_eq!(events[0], json!({"type": "token", "content": "echo: ", "request": id}));
    assert_eq!(events[1]["content"], "hi");
    let done = &events[2];
    assert_eq!((&done["content"], &done["tokensUsed"], &done["request"]), (&json!("echo: hi"), &json!(11), &id), "{done}");
    assert_eq!(done["usage"]["totalTokens"], 11, "{done}");

    let reply = run(s.chat(json!({"messages": hi, "timeout_ms": 10_000}))).unwrap();
    assert_eq!(reply, json!({"content": "echo: hi", "tokensUsed": 11, "usage": {"promptTokens": 4, "completionTokens": 7, "totalTokens": 11}}));

    // Step by step: its pieces, then its answer (the collected reply plus its type).
    let id = run(s.send_chat(json!({"messages": hi}))).unwrap();
    let step = |s: &aerostack_bindings_common::GatewaySocketHandle| run(s.chat_step(id.as_u64().unwrap(), Some(10_000))).unwrap();
    assert_eq!(step(&s), json!({"type": "token", "content": "echo: "}));
    assert_eq!(step(&s), json!({"type": "token", "content": "hi"}));
    let mut done = reply.clone();
    done["type"] = json!("done");
    assert_eq!(step(&s), done);

    // An error event names its family; the socket goes on. Arguments are checked first.
    let refused = run(s.send(json!({"type": "dance"}))).unwrap();
    let ev = run(s.next_event(Some(10_000))).unwrap().expect("an error event");
    assert_eq!((&ev["type"], &ev["family"], &ev["request"]), (&json!("error"), &json!("validation"), &refused), "{ev}");
    let e = s.send_chat(json!({"messages": "hi"})).err().expect("messages must be a list");
    assert_eq!(field(&e), "messages");
    let e = run(s.chat(json!({"messages": hi, "temperature": 9}))).unwrap_err();
    assert_eq!(e.code().as_str(), "VALIDATION_ERROR", "{}", e.message());
    let pong = run(s.ping()).unwrap();
    assert_eq!(run(s.next_event(Some(10_000))).unwrap(), Some(json!({"type": "pong", "request": pong})));

    run(s.close(None, None)).unwrap();
    assert_eq!(s.state(), "closed");
    assert_eq!(run(s.next_event(Some(10_000))).unwrap(), Some(json!({"type": "closed", "code": 1000, "reason": ""})));
    assert_eq!(run(s.next_event(Some(10_000))).unwrap(), None);
    let e = run(s.ping()).unwrap_err();
    assert_eq!(e.code().as_str(), "NETWORK_ERROR");

    // A key the platform does not know: refused at the handshake, an auth error.
    let e = run(c.gateway_socket("hs", Some("ask_test_nope"))).unwrap_err();
    let dto = aerostack_bindings_common::ErrorDto::from(&e);
    assert_eq!((dto.code.as_str(), dto.family.as_str(), dto.status), ("AUTH_INVALID_KEY", "auth", Some(401)));
    p.shutdown();
}
