//! Collections as sdk-core's `client.db.collection(name)` calls them (wire-facts §2.4): list with
//! its query parameters, get, create, update -> `{success}`, delete -> `{success}`, and the
//! `db_change` frames the collection subscription (`table/{name}/{projectSlug}`) receives.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::common::{Ctx, assert_error, json_of, start};

async fn send(ctx: &Ctx, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    json_of(ctx.call(method, path, Some(&ctx.key), body).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_round_trip_as_sdk_core_calls_them() {
    let ctx = start().await;
    let (s, first) = send(&ctx, Method::POST, "/v1/collections/posts/items", Some(json!({"title": "Hello", "slug": "hello", "views": 3, "draft": false}))).await;
    assert_eq!(s.as_u16(), 201, "{first}");
    let id = first["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("item_"));
    assert_eq!(first["collection"], "posts");
    assert_eq!(first["slug"], "hello");
    assert_eq!(first["data"], json!({"title": "Hello", "slug": "hello", "views": 3, "draft": false}));
    assert!(first["created_at"].is_i64(), "created_at is unix ms (the CLI's types read a number)");
    assert_eq!(first["created_at"], first["updated_at"]);

    let (s, got) = send(&ctx, Method::GET, &format!("/v1/collections/items/{id}"), None).await;
    assert_eq!(s.as_u16(), 200);
    assert_eq!(got, first);

    for i in 0..4 {
        let (s, v) = send(&ctx, Method::POST, "/v1/collections/posts/items", Some(json!({"title": format!("p{i}"), "views": i, "draft": i % 2 == 0}))).await;
        assert_eq!(s.as_u16(), 201, "{v}");
    }
    send(&ctx, Method::POST, "/v1/collections/other/items", Some(json!({"title": "elsewhere"}))).await;

    // Pages of 2, oldest first, the cursor followed to the end: every item of `posts` once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = cursor.as_ref().map_or(String::new(), |c| format!("&cursor={c}"));
        let (s, page) = send(&ctx, Method::GET, &format!("/v1/collections/posts/items?limit=2{q}"), None).await;
        assert_eq!(s.as_u16(), 200, "{page}");
        for it in page["items"].as_array().unwrap() {
            seen.push(it["data"]["title"].as_str().unwrap().to_string());
        }
        match page["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["Hello", "p0", "p1", "p2", "p3"]);

    // Any other query parameter filters on `data`; `order=desc` is newest first.
    let (_, drafts) = send(&ctx, Method::GET, "/v1/collections/posts/items?draft=true&order=desc", None).await;
    let titles: Vec<&str> = drafts["items"].as_array().unwrap().iter().map(|i| i["data"]["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["p2", "p0"]);
    let (_, three) = send(&ctx, Method::GET, "/v1/collections/posts/items?views=3", None).await;
    assert_eq!(three["count"], 2, "{three}"); // Hello and p3
    let (s, v) = send(&ctx, Method::GET, "/v1/collections/posts/items?limit=0", None).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("limit"));
    let (s, v) = send(&ctx, Method::GET, "/v1/collections/posts/items?cursor=bogus", None).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("cursor"));
    let (s, v) = send(&ctx, Method::POST, "/v1/collections/bad%20name/items", Some(json!({}))).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("collection"));

    let (s, upd) = send(&ctx, Method::PUT, &format!("/v1/collections/items/{id}"), Some(json!({"title": "Hello again"}))).await;
    assert_eq!(s.as_u16(), 200, "{upd}");
    assert_eq!(upd["success"], true);
    assert_eq!(upd["item"]["data"], json!({"title": "Hello again"}));
    assert_eq!(upd["item"]["slug"], Value::Null);
    assert_eq!(upd["item"]["created_at"], first["created_at"]);

    let (s, del) = send(&ctx, Method::DELETE, &format!("/v1/collections/items/{id}"), None).await;
    assert_eq!((s.as_u16(), del), (200, json!({"success": true})));
    for m in [Method::GET, Method::DELETE] {
        let (s, v) = send(&ctx, m, &format!("/v1/collections/items/{id}"), None).await;
        assert_error(s, &v, 404, "NOT_FOUND", Some("id"));
    }
    let (s, v) = send(&ctx, Method::PUT, &format!("/v1/collections/items/{id}"), Some(json!({}))).await;
    assert_error(s, &v, 404, "NOT_FOUND", Some("id"));

    // The project's SQL sees the same items.
    let (_, rows) = ctx.post("/v1/db/query", json!({"sql": "SELECT count(*) AS n FROM _aerostack_collection_items WHERE collection = 'posts'"})).await;
    assert_eq!(rows["results"][0]["n"], 4);

    // Another project sees none of them.
    let other = ctx.p.create_project("other").await.unwrap();
    let r = ctx.call(Method::GET, "/v1/collections/posts/items", Some(&other.api_key), None).await;
    assert_eq!(json_of(r).await.1["count"], 0);
    ctx.p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_subscription_gets_its_item_changes() {
    let ctx = start().await;
    let slug = ctx.p.default_project().slug.clone();
    let (_, v) = send(&ctx, Method::POST, "/v1/collections/notes/items", Some(json!({"text": "first"}))).await;
    let first_id = v["id"].as_str().unwrap().to_string();

    let mut req = format!("{}/api/realtime", ctx.p.url().replacen("http", "ws", 1)).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_str(&format!("aerostack-key.{}, aerostack-v1", ctx.key)).unwrap());
    let (mut ws, _) = connect_async(req).await.expect("handshake");
    let topic = format!("table/notes/{slug}");
    ws.send(Message::Text(json!({"type": "subscribe", "topic": topic}).to_string().into())).await.unwrap();
    let mut next = async || -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a frame in time").unwrap().unwrap();
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == "subscribed" || v["type"] == "db_change" || v["type"] == "error" {
                    return v;
                }
            }
        }
    };
    assert_eq!(next().await["type"], "subscribed");

    let (_, created) = send(&ctx, Method::POST, "/v1/collections/notes/items", Some(json!({"text": "second"}))).await;
    let ins = next().await;
    assert_eq!((ins["type"].as_str(), ins["operation"].as_str(), ins["table"].as_str()), (Some("db_change"), Some("INSERT"), Some("notes")));
    assert_eq!(ins["data"], created);
    send(&ctx, Method::PUT, &format!("/v1/collections/items/{first_id}"), Some(json!({"text": "edited"}))).await;
    let upd = next().await;
    assert_eq!(upd["operation"], "UPDATE");
    assert_eq!((upd["data"]["data"]["text"].as_str(), upd["old"]["data"]["text"].as_str()), (Some("edited"), Some("first")));
    send(&ctx, Method::DELETE, &format!("/v1/collections/items/{first_id}"), None).await;
    let del = next().await;
    assert_eq!(del["operation"], "DELETE");
    assert_eq!(del["old"]["id"], first_id.as_str());
    // Items of another collection do not reach this topic.
    send(&ctx, Method::POST, "/v1/collections/elsewhere/items", Some(json!({"text": "x"}))).await;
    send(&ctx, Method::POST, "/v1/collections/notes/items", Some(json!({"text": "third"}))).await;
    assert_eq!(next().await["data"]["data"]["text"], "third");
    ctx.p.shutdown().await;
}
