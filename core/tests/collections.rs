//! Collections through the engine: create/get/update/delete, pages and filters, `list_all`,
//! argument errors before any request, and the item changes a realtime channel of the same name
//! receives.

mod common;

use std::time::Duration;

use aerostack::realtime::EventKind;
use aerostack::{CollectionQuery, ErrorCode};
use common::Harness;
use futures_util::StreamExt;
use serde_json::{Map, json};

#[tokio::test]
async fn items_pages_filters_and_errors() {
    let h = Harness::start().await;
    let posts = h.client.db().collection("posts").unwrap();
    let first = posts
        .create(&json!({"title": "Hello", "slug": "hello", "draft": false}))
        .await
        .unwrap();
    assert!(first.id.starts_with("item_"));
    assert_eq!(
        (first.collection.as_str(), first.slug.as_deref()),
        ("posts", Some("hello"))
    );
    assert!(first.created_at.is_some());
    assert_eq!(posts.get(&first.id).await.unwrap().as_ref(), Some(&first));
    for i in 0..5 {
        posts
            .create(&json!({"title": format!("p{i}"), "draft": i % 2 == 0, "n": i}))
            .await
            .unwrap();
    }

    let page = posts
        .list(&CollectionQuery {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.count), (2, 2));
    assert!(page.cursor.is_some());
    let all: Vec<String> = posts
        .list_all(CollectionQuery {
            limit: Some(2),
            ..Default::default()
        })
        .map(|r| r.unwrap().data["title"].as_str().unwrap().to_string())
        .collect()
        .await;
    assert_eq!(all, ["Hello", "p0", "p1", "p2", "p3", "p4"]);

    let mut filter = Map::new();
    filter.insert("draft".into(), json!(true));
    let drafts = posts
        .list(&CollectionQuery {
            filter,
            order: Some("desc".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let titles: Vec<&str> = drafts
        .items
        .iter()
        .map(|i| i.data["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["p4", "p2", "p0"]);

    let updated = posts
        .update(&first.id, &json!({"title": "Hello again"}))
        .await
        .unwrap();
    assert_eq!(updated.data, json!({"title": "Hello again"}));
    assert_eq!(updated.created_at, first.created_at);
    assert!(posts.delete(&first.id).await.unwrap());
    assert!(
        !posts.delete(&first.id).await.unwrap(),
        "deleting twice is not an error"
    );
    assert_eq!(posts.get(&first.id).await.unwrap(), None);
    assert_eq!(
        posts
            .update(&first.id, &json!({}))
            .await
            .unwrap_err()
            .code(),
        &ErrorCode::NotFound
    );

    // Argument errors name the field, before any request.
    for (err, field) in [
        (
            h.client.db().collection("bad name").unwrap_err(),
            "collection",
        ),
        (h.client.db().collection("items").unwrap_err(), "collection"),
        (posts.create(&json!([1])).await.unwrap_err(), "data"),
        (posts.get("a/b").await.unwrap_err(), "id"),
        (
            posts
                .list(&CollectionQuery {
                    order: Some("newest".into()),
                    ..Default::default()
                })
                .await
                .unwrap_err(),
            "order",
        ),
        (
            posts
                .list(&CollectionQuery {
                    limit: Some(0),
                    ..Default::default()
                })
                .await
                .unwrap_err(),
            "limit",
        ),
    ] {
        assert_eq!(err.code(), &ErrorCode::ValidationError, "{err}");
        assert_eq!(err.details().unwrap()["field"], json!(field), "{err}");
    }
    let mut bad = Map::new();
    bad.insert("tags".into(), json!(["a"]));
    let err = posts
        .list(&CollectionQuery {
            filter: bad,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.details().unwrap()["field"],
        json!("filter.tags"),
        "{err}"
    );
}

#[tokio::test]
async fn a_channel_of_the_collection_gets_its_changes() {
    let h = Harness::start().await;
    let notes = h.client.db().collection("notes").unwrap();
    notes.create(&json!({"text": "first"})).await.unwrap();
    let rt = h.client.realtime();
    let ch = rt.channel("notes");
    ch.on("INSERT");
    rt.connect().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut created = None;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let ev = rt
            .next_event_timeout(left)
            .await
            .expect("an INSERT event in time");
        if ev.kind == EventKind::Subscribed {
            created = Some(notes.create(&json!({"text": "second"})).await.unwrap());
        }
        if ev.kind == EventKind::DbChange {
            let item = created.expect("the insert came after subscribing");
            assert_eq!(ev.event, "INSERT");
            assert_eq!(ev.data["id"], item.id.as_str());
            assert_eq!(ev.data["data"], json!({"text": "second"}));
            break;
        }
    }
}
