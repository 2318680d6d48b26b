//! AI search on the offline embedding.

use serde_json::json;

use crate::common::{assert_error, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_query_manage() {
    let ctx = start().await;
    for (id, content, t, brand) in [
        ("p1", "Red running shoes for road races", "product", "acme"),
        ("p2", "Blue winter jacket with hood", "product", "nord"),
        ("p3", "Trail running shoes, waterproof", "product", "nord"),
        (
            "f1",
            "How do I return shoes that do not fit?",
            "faq",
            "acme",
        ),
    ] {
        let (s, v) = ctx
            .post(
                "/v1/ai/search/ingest",
                json!({"id": id, "content": content, "type": t, "metadata": {"brand": brand}}),
            )
            .await;
        assert_eq!(s.as_u16(), 200, "{v}");
    }
    let (_, v) = ctx
        .post(
            "/v1/ai/search/query",
            json!({"text": "running shoes", "topK": 2}),
        )
        .await;
    let ids: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"p1") && ids.contains(&"p3"), "{v}");
    assert!(
        v["results"][0]["score"].as_f64().unwrap() >= v["results"][1]["score"].as_f64().unwrap()
    );
    assert!(v["results"][0]["metadata"]["brand"].is_string());
    let (_, v) = ctx
        .post(
            "/v1/ai/search/query",
            json!({"text": "shoes", "types": ["faq"]}),
        )
        .await;
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
    assert_eq!(v["results"][0]["id"], "f1");
    let (_, v) = ctx
        .post(
            "/v1/ai/search/query",
            json!({"text": "running shoes", "filter": {"brand": "nord"}}),
        )
        .await;
    assert_eq!(v["results"][0]["id"], "p3");
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["metadata"]["brand"] == "nord")
    );

    let r = ctx
        .call(
            reqwest::Method::GET,
            "/v1/ai/search/listTypes",
            Some(&ctx.key),
            None,
        )
        .await;
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["types"],
        json!([{"type": "faq", "count": 1}, {"type": "product", "count": 3}])
    );
    let (_, v) = ctx
        .post("/v1/ai/search/count", json!({"type": "product"}))
        .await;
    assert_eq!(v["count"], 3);
    let (_, v) = ctx
        .post(
            "/v1/ai/search/update",
            json!({"id": "p2", "content": "Red running shorts"}),
        )
        .await;
    assert_eq!(v["success"], true);
    let (_, v) = ctx.post("/v1/ai/search/get", json!({"id": "p2"})).await;
    assert_eq!(v["result"]["content"], "Red running shorts");
    assert_eq!(v["result"]["type"], "product");
    assert_eq!(v["result"]["metadata"]["brand"], "nord");
    let (s, v) = ctx
        .post("/v1/ai/search/update", json!({"id": "new", "content": "x"}))
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("type"));
    let (_, v) = ctx.post("/v1/ai/search/delete", json!({"id": "p1"})).await;
    assert_eq!(v["deleted"], true);
    let (_, v) = ctx
        .post("/v1/ai/search/deleteByType", json!({"type": "product"}))
        .await;
    assert_eq!(v["deleted"], 2);
    let (_, v) = ctx.post("/v1/ai/search/count", json!({})).await;
    assert_eq!(v["count"], 1);
    let (_, v) = ctx
        .post(
            "/v1/ai/search/configure",
            json!({"embeddingModel": "multilingual"}),
        )
        .await;
    assert_eq!(v["success"], true);
    let (s, v) = ctx
        .post(
            "/v1/ai/search/configure",
            json!({"embeddingModel": "klingon"}),
        )
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("embeddingModel"));
    let (s, v) = ctx
        .post("/v1/ai/search/ingest", json!({"content": "x"}))
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("type"));
    ctx.p.shutdown().await;
}
