//! The OpenAPI document lists exactly the routes the router serves, and every documented
//! operation is routed (never a route-not-found 404 or a 405).

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::common::start;

fn documented() -> BTreeSet<(String, String)> {
    let doc: Value = serde_json::from_str(aerostack_server::routes::openapi::OPENAPI_JSON)
        .expect("openapi.json parses");
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["components"]["securitySchemes"]["ApiKeyAuth"].is_object());
    assert!(doc["components"]["schemas"]["ErrorResponse"].is_object());
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                assert!(
                    op["operationId"].is_string(),
                    "{method} {path} has an operationId"
                );
                assert!(op["responses"].is_object(), "{method} {path} has responses");
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn document_matches_route_table() {
    let docs = documented();
    let routes: BTreeSet<(String, String)> = aerostack_server::route_list().into_iter().collect();
    let undocumented: Vec<_> = routes.difference(&docs).collect();
    let unserved: Vec<_> = docs.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in openapi.json: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in openapi.json but not served: {unserved:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_routed() {
    let ctx = start().await;
    let project = ctx.p.default_project().clone();
    for (method, path) in documented() {
        let concrete = path
            .replace("{project}", &project.slug)
            .replace("{project_id}", &project.id)
            .replace("{slug}", "some-api")
            .replace("{key}", "missing/file.txt");
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let body = (m != Method::GET).then(|| serde_json::json!({}));
        let r = ctx.call(m, &concrete, Some(&ctx.key), body).await;
        let status = r.status();
        assert!(
            r.headers().contains_key("x-request-id"),
            "{method} {path}: X-Request-ID"
        );
        let text = r.text().await.unwrap();
        assert_ne!(status.as_u16(), 405, "{method} {path}: {text}");
        if status.as_u16() == 404 {
            let v: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{method} {path}: 404 is not JSON: {text}"));
            assert!(
                v["details"]["documentation"].is_null(),
                "{method} {path} is not routed: {text}"
            );
        }
    }
    // The served document names this server.
    let r = ctx.call(Method::GET, "/v1/openapi.json", None, None).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["servers"][0]["url"].as_str().unwrap(), ctx.p.url());
    ctx.p.shutdown().await;
}
