//! Queue: durable jobs, lookup, paginated listing, cancellation.

use serde_json::json;

use crate::common::{assert_error, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_list_cancel() {
    let ctx = start().await;
    let (s, v) = ctx
        .post(
            "/v1/queue/enqueue",
            json!({"type": "send-email", "data": {"to": "a@b.co"}, "delay": 60, "max_retries": 5}),
        )
        .await;
    assert_eq!(s.as_u16(), 201, "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["status"], "queued");
    let id = v["jobId"].as_str().unwrap().to_string();
    let (_, v) = ctx.post("/v1/queue/job", json!({"jobId": id})).await;
    let job = &v["job"];
    assert_eq!(v["exists"], true);
    assert_eq!(job["type"], "send-email");
    assert_eq!(job["data"], json!({"to": "a@b.co"}));
    assert_eq!(job["maxRetries"], 5);
    assert_eq!(job["attempts"], 0);
    assert_eq!(job["projectId"], ctx.p.default_project().id);
    assert!(job["runAt"].as_str().unwrap() > job["createdAt"].as_str().unwrap());
    for k in ["updatedAt", "lastError", "result"] {
        assert!(job.get(k).is_some(), "{k}");
    }

    for i in 0..6 {
        ctx.post(
            "/v1/queue/enqueue",
            json!({"type": if i % 2 == 0 { "even" } else { "odd" }, "data": {"i": i}}),
        )
        .await;
    }
    let (_, v) = ctx.post("/v1/queue/jobs", json!({"type": "even"})).await;
    assert_eq!(v["jobs"].as_array().unwrap().len(), 3);
    assert_eq!(v["list_complete"], true);
    let mut seen = 0;
    let mut cursor = None;
    loop {
        let mut body = json!({"limit": 3});
        if let Some(c) = &cursor {
            body["cursor"] = json!(c);
        }
        let (_, v) = ctx.post("/v1/queue/jobs", body).await;
        seen += v["jobs"].as_array().unwrap().len();
        if v["list_complete"] == true {
            break;
        }
        cursor = Some(v["cursor"].as_str().unwrap().to_string());
    }
    assert_eq!(seen, 7);

    let (_, v) = ctx.post("/v1/queue/cancel", json!({"jobId": id})).await;
    assert_eq!(v["success"], true);
    let (_, v) = ctx.post("/v1/queue/cancel", json!({"jobId": id})).await;
    assert_eq!(v["success"], false);
    assert!(v["note"].as_str().unwrap().contains("cancelled"), "{v}");
    let (_, v) = ctx
        .post("/v1/queue/jobs", json!({"status": "cancelled"}))
        .await;
    assert_eq!(v["jobs"][0]["id"], id);
    let (_, v) = ctx
        .post("/v1/queue/job", json!({"jobId": "job_nope"}))
        .await;
    assert_eq!(v, json!({"job": null, "exists": false}));

    let (s, v) = ctx.post("/v1/queue/enqueue", json!({"data": {}})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("type"));
    let (s, v) = ctx
        .post(
            "/v1/queue/enqueue",
            json!({"type": "x", "data": {}, "delay": -1}),
        )
        .await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("delay"));
    let (s, v) = ctx.post("/v1/queue/jobs", json!({"status": "weird"})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("status"));
    let (s, v) = ctx.post("/v1/queue/jobs", json!({"limit": 201})).await;
    assert_error(s, &v, 400, "VALIDATION_ERROR", Some("limit"));
    ctx.p.shutdown().await;
}
