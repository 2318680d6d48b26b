//! A public Logic Module's failure, seen by an anonymous caller and by the project's key holder
//! (issue 13 #14): the anonymous caller gets HOOK_FAILED with a generic message and the request
//! id; the key holder gets the module's own error text.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::{json_of, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_modules_error_text_stays_with_the_project() {
    let ctx = start().await;
    let url = format!("{}/api/workers", ctx.p.url().replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("x-aerostack-key", ctx.key.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let (mut tx, mut rx) = ws.split();
    let register = json!({"type": "register", "modules": [{"slug": "leaky", "public": true, "methods": ["POST"]}]});
    tx.send(Message::Text(register.to_string().into())).await.unwrap();
    let (registered_tx, registered) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut registered_tx = Some(registered_tx);
        while let Some(Ok(msg)) = rx.next().await {
            let Message::Text(t) = msg else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            match v["type"].as_str() {
                Some("registered") => {
                    if let Some(s) = registered_tx.take() {
                        let _ = s.send(());
                    }
                }
                Some("invoke") => {
                    let fail = json!({"type": "fail", "id": v["id"], "error": "DB_QUERY_FAILED (400): no such table: secret_payroll"});
                    tx.send(Message::Text(fail.to_string().into())).await.unwrap();
                }
                _ => {}
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(5), registered).await.expect("registered").unwrap();

    let slug = ctx.p.default_project().slug.clone();
    let path = format!("/api/v1/public/projects/{slug}/custom/leaky");
    let (s, anon) = json_of(ctx.call(Method::POST, &path, None, Some(json!({}))).await).await;
    assert_eq!((s.as_u16(), anon["code"].as_str()), (500, Some("HOOK_FAILED")), "{anon}");
    let text = anon.to_string();
    assert!(!text.contains("secret_payroll"), "the module's error reached an anonymous caller: {text}");
    assert!(anon["request_id"].is_string() && anon["message"].as_str().unwrap().contains("request id"), "{anon}");
    // The project's own key holder sees what failed.
    let (s, keyed) = json_of(ctx.call(Method::POST, &path, Some(&ctx.key), Some(json!({}))).await).await;
    assert_eq!(s.as_u16(), 500);
    assert!(keyed["message"].as_str().unwrap().contains("secret_payroll"), "{keyed}");
    ctx.p.shutdown().await;
}
