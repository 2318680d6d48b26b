//! Queue through the engine: enqueue/send, job, jobs (+ pagination), cancel, isolation.

mod common;

use std::collections::HashSet;

use aerostack::{ErrorCode, JobFilter};
use common::Harness;
use futures_util::TryStreamExt;
use serde_json::json;

#[tokio::test]
async fn enqueue_inspect_and_cancel() {
    let h = Harness::start().await;
    let q = h.client.queue();
    let id = q
        .send(
            "send-welcome-email",
            &json!({"userId": "u1"}),
            Some(3600),
            Some(2),
        )
        .await
        .unwrap();
    let job = q.job(&id).await.unwrap().expect("the job exists");
    assert_eq!(job.id, id);
    assert_eq!(job.job_type, "send-welcome-email");
    assert_eq!(job.data, json!({"userId": "u1"}));
    assert_eq!(job.status, "queued");
    assert_eq!(job.max_retries, Some(2));
    assert!(job.created_at.is_some());

    let c = q.cancel(&id).await.unwrap();
    assert!(c.success, "{c:?}");
    assert_eq!(q.job(&id).await.unwrap().unwrap().status, "cancelled");
    assert!(q.job("job-does-not-exist").await.unwrap().is_none());

    let cancelled = q
        .jobs(&JobFilter {
            status: Some("cancelled".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(cancelled.jobs.len(), 1);
    assert!(cancelled.list_complete);

    let e = q
        .jobs(&JobFilter {
            status: Some("done".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::ValidationError);
    assert_eq!(e.details().unwrap()["field"], json!("status"));
    let e = q.enqueue("", &json!({}), None, None).await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], json!("type"));
    h.platform.shutdown().await;
}

#[tokio::test]
async fn jobs_paginate() {
    let h = Harness::start().await;
    let q = h.client.queue();
    let mut ids = HashSet::new();
    for i in 0..7 {
        ids.insert(
            q.enqueue("batch-job", &json!({"i": i}), Some(3600), None)
                .await
                .unwrap(),
        );
    }
    q.enqueue("other-job", &json!({}), Some(3600), None)
        .await
        .unwrap();

    let filter = JobFilter {
        job_type: Some("batch-job".into()),
        limit: Some(3),
        ..Default::default()
    };
    let page = q.jobs(&filter).await.unwrap();
    assert_eq!(page.jobs.len(), 3);
    assert!(!page.list_complete);
    assert!(page.cursor.is_some());

    let all: Vec<_> = q.jobs_all(filter).try_collect().await.unwrap();
    let seen: HashSet<_> = all.iter().map(|j| j.id.clone()).collect();
    assert_eq!(all.len(), 7);
    assert_eq!(seen, ids);
    h.platform.shutdown().await;
}

#[tokio::test]
async fn another_projects_jobs_are_unreachable() {
    let h = Harness::start().await;
    let id = h
        .client
        .queue()
        .enqueue("private", &json!({"secret": 1}), Some(3600), None)
        .await
        .unwrap();
    let (_, other) = h.other_project("other").await;
    assert!(other.queue().job(&id).await.unwrap().is_none());
    assert!(
        other
            .queue()
            .jobs(&JobFilter::default())
            .await
            .unwrap()
            .jobs
            .is_empty()
    );
    let c = other.queue().cancel(&id).await;
    match c {
        Ok(r) => assert!(!r.success),
        Err(e) => assert_eq!(e.code(), &ErrorCode::NotFound),
    }
    assert_eq!(
        h.client.queue().job(&id).await.unwrap().unwrap().status,
        "queued"
    );
    h.platform.shutdown().await;
}
