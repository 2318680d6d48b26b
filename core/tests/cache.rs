//! Cache through the engine: every operation, TTL expiry, pagination, isolation.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use aerostack::{CacheSetEntry, ErrorCode};
use common::Harness;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Profile {
    name: String,
    visits: u32,
}

#[tokio::test]
async fn set_get_has_delete_and_typed_values() {
    let h = Harness::start().await;
    let cache = h.client.cache();
    assert_eq!(cache.get("missing").await.unwrap(), None);
    assert!(!cache.has("missing").await.unwrap());

    cache
        .set("user:1", &json!({"name": "Jane", "tags": ["a"]}), None)
        .await
        .unwrap();
    assert_eq!(
        cache.get("user:1").await.unwrap(),
        Some(json!({"name": "Jane", "tags": ["a"]}))
    );
    assert!(cache.has("user:1").await.unwrap());

    let p = Profile {
        name: "Ann".into(),
        visits: 3,
    };
    cache.set("profile", &p, Some(60)).await.unwrap();
    assert_eq!(cache.get_as::<Profile>("profile").await.unwrap(), Some(p));

    cache.set("nothing", &json!(null), None).await.unwrap();
    assert!(cache.has("nothing").await.unwrap(), "a stored null exists");
    assert_eq!(cache.get("nothing").await.unwrap(), Some(json!(null)));

    assert!(cache.delete("user:1").await.unwrap());
    assert_eq!(cache.get("user:1").await.unwrap(), None);

    let e = cache.set("", &1, None).await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::ValidationError);
    assert_eq!(e.details().unwrap()["field"], json!("key"));
    h.platform.shutdown().await;
}

#[tokio::test]
async fn bulk_operations_increment_and_keys() {
    let h = Harness::start().await;
    let cache = h.client.cache();
    let stored = cache
        .set_many(&[
            CacheSetEntry::new("m:a", json!(1)),
            CacheSetEntry::new("m:b", json!("two")),
            CacheSetEntry {
                key: "m:c".into(),
                value: json!([3]),
                ttl: Some(60),
            },
        ])
        .await
        .unwrap();
    assert_eq!(stored, 3);
    let got = cache.get_many(&["m:a", "m:zzz", "m:c"]).await.unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(
        (got[0].key.as_str(), got[0].exists, got[0].value.clone()),
        ("m:a", true, Some(json!(1)))
    );
    assert!(!got[1].exists);
    assert_eq!(got[2].value, Some(json!([3])));

    let mut keys = cache.keys(Some("m:")).await.unwrap();
    keys.keys.sort();
    assert_eq!(keys.keys, vec!["m:a", "m:b", "m:c"]);
    assert!(!keys.truncated);

    let d = cache.delete_many(&["m:a", "m:b", "m:nope"]).await.unwrap();
    assert_eq!((d.count, d.deleted), (3, 2));

    assert_eq!(cache.increment("hits", None, None, None).await.unwrap(), 1);
    assert_eq!(
        cache.increment("hits", Some(5), None, None).await.unwrap(),
        6
    );
    assert_eq!(
        cache
            .increment("hits", Some(-10), None, None)
            .await
            .unwrap(),
        -4
    );
    assert_eq!(
        cache
            .increment("fresh", Some(1), Some(100), None)
            .await
            .unwrap(),
        101
    );

    cache.set("p:1", &1, None).await.unwrap();
    cache.set("p:2", &2, None).await.unwrap();
    assert_eq!(cache.flush(Some("p:")).await.unwrap(), 2);
    assert!(
        cache.has("hits").await.unwrap(),
        "flush with a prefix keeps other keys"
    );
    h.platform.shutdown().await;
}

#[tokio::test]
async fn ttl_and_expire() {
    let h = Harness::start().await;
    let cache = h.client.cache();
    cache.set("short", &"v", Some(1)).await.unwrap();
    cache.set("later", &"v", None).await.unwrap();
    assert!(cache.expire("later", 1).await.unwrap());
    assert!(!cache.expire("never-set", 10).await.unwrap());
    assert_eq!(cache.get("short").await.unwrap(), Some(json!("v")));
    let listed = cache.list(Some("short"), None, None).await.unwrap();
    assert!(listed.keys[0].expiration.is_some());

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        cache.get("short").await.unwrap(),
        None,
        "expired after its TTL"
    );
    assert!(!cache.has("later").await.unwrap(), "expire() applied");

    let e = cache.set("k", &1, Some(0)).await.unwrap_err();
    assert_eq!(e.details().unwrap()["field"], json!("ttl"));
    h.platform.shutdown().await;
}

#[tokio::test]
async fn list_pages_and_list_all_follows_cursors() {
    let h = Harness::start().await;
    let cache = h.client.cache();
    let entries: Vec<CacheSetEntry> = (0..25)
        .map(|i| CacheSetEntry::new(format!("page:{i:02}"), json!(i)))
        .collect();
    cache.set_many(&entries).await.unwrap();
    cache.set("other:1", &1, None).await.unwrap();

    let first = cache.list(Some("page:"), Some(10), None).await.unwrap();
    assert_eq!(first.keys.len(), 10);
    assert!(!first.list_complete);
    let cursor = first.cursor.clone().expect("a cursor for page 2");
    let second = cache
        .list(Some("page:"), Some(10), Some(&cursor))
        .await
        .unwrap();
    assert_eq!(second.keys.len(), 10);
    assert!(first.keys.iter().all(|k| !second.keys.contains(k)));

    let all: Vec<_> = cache
        .list_all(Some("page:"), Some(10))
        .try_collect()
        .await
        .unwrap();
    let names: HashSet<_> = all.iter().map(|k| k.key.clone()).collect();
    assert_eq!(all.len(), 25);
    assert_eq!(names.len(), 25);
    assert!(names.iter().all(|k| k.starts_with("page:")));
    h.platform.shutdown().await;
}

#[tokio::test]
async fn another_projects_keys_are_unreachable() {
    let h = Harness::start().await;
    h.client
        .cache()
        .set("shared-name", &"a's value", None)
        .await
        .unwrap();
    let (_, other) = h.other_project("other").await;
    assert_eq!(other.cache().get("shared-name").await.unwrap(), None);
    assert!(other.cache().keys(None).await.unwrap().keys.is_empty());
    other
        .cache()
        .set("shared-name", &"b's value", None)
        .await
        .unwrap();
    assert_eq!(other.cache().flush(None).await.unwrap(), 1);
    assert_eq!(
        h.client.cache().get("shared-name").await.unwrap(),
        Some(json!("a's value"))
    );
    h.platform.shutdown().await;
}
