//! Storage through the engine: uploads from bytes, file and reader with progress, downloads,
//! listing and pagination, metadata, copy/move/delete, 413, isolation.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use aerostack::{ErrorCode, UploadOptions, UploadProgress, UploadSource};
use aerostack_server::{Limits, ServerOptions};
use common::net::FaultProxy;
use common::{Harness, client_for};
use futures_util::TryStreamExt;
use serde_json::json;

fn recorder() -> (UploadOptions, Arc<Mutex<Vec<UploadProgress>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    (
        UploadOptions::default().on_progress(move |p| sink.lock().unwrap().push(p)),
        events,
    )
}

fn assert_progress(events: &[UploadProgress], total: u64) {
    assert!(
        events.len() >= 2,
        "several progress reports for a multi-chunk upload: {}",
        events.len()
    );
    assert!(
        events.windows(2).all(|w| w[0].sent < w[1].sent),
        "monotonic"
    );
    let last = events.last().unwrap();
    assert_eq!(last.sent, total);
}

#[tokio::test]
async fn upload_from_bytes_file_and_reader_then_download() {
    let h = Harness::start().await;
    let storage = h.client.storage();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();

    // Bytes.
    let (opts, events) = recorder();
    let up = storage
        .upload("files/blob.bin", data.clone(), opts)
        .await
        .unwrap();
    assert_eq!(up.key, "files/blob.bin");
    assert_eq!(up.size, Some(data.len() as u64));
    assert!(up.url.starts_with("http"), "{}", up.url);
    assert_progress(&events.lock().unwrap(), data.len() as u64);
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .all(|p| p.total == Some(data.len() as u64))
    );
    let got = storage.get("files/blob.bin").await.unwrap();
    assert_eq!(got.data.as_ref(), data.as_slice());

    // File path, content type from the extension.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.png");
    std::fs::write(&path, &data).unwrap();
    let (opts, events) = recorder();
    let up = storage
        .upload("images/photo.png", UploadSource::path(&path), opts)
        .await
        .unwrap();
    assert_eq!(up.content_type.as_deref(), Some("image/png"));
    assert_progress(&events.lock().unwrap(), data.len() as u64);
    let got = storage.get("images/photo.png").await.unwrap();
    assert_eq!(got.content_type.as_deref(), Some("image/png"));
    assert_eq!(got.data.len(), data.len());

    // Reader of unknown length (chunked), explicit content type.
    let file = tokio::fs::File::open(&path).await.unwrap();
    let (opts, events) = recorder();
    let up = storage
        .upload(
            "streams/raw.dat",
            UploadSource::reader(file, None),
            opts.content_type("application/x-test"),
        )
        .await
        .unwrap();
    assert_eq!(up.content_type.as_deref(), Some("application/x-test"));
    assert_progress(&events.lock().unwrap(), data.len() as u64);
    assert!(events.lock().unwrap().iter().all(|p| p.total.is_none()));
    assert_eq!(
        storage.get("streams/raw.dat").await.unwrap().data.len(),
        data.len()
    );

    // The served URL returns the bytes.
    let served = reqwest::get(&storage.get_url("files/blob.bin", None).await.unwrap())
        .await
        .unwrap();
    assert!(served.status().is_success());
    assert_eq!(served.bytes().await.unwrap().len(), data.len());
    h.platform.shutdown().await;
}

#[tokio::test]
async fn metadata_copy_move_delete_and_not_found() {
    let h = Harness::start().await;
    let s = h.client.storage();
    s.upload("docs/a.txt", "hello", UploadOptions::default())
        .await
        .unwrap();
    assert!(s.exists("docs/a.txt").await.unwrap());
    let meta = s.metadata("docs/a.txt").await.unwrap().unwrap();
    assert_eq!(meta.size, Some(5));
    assert_eq!(meta.content_type.as_deref(), Some("text/plain"));
    assert!(meta.etag.is_some());
    assert!(s.metadata("docs/none.txt").await.unwrap().is_none());

    let url = s.copy("docs/a.txt", "docs/b.txt").await.unwrap();
    assert!(url.contains("docs/b.txt"), "{url}");
    s.r#move("docs/b.txt", "archive/b.txt").await.unwrap();
    assert!(!s.exists("docs/b.txt").await.unwrap());
    assert_eq!(
        s.get("archive/b.txt").await.unwrap().data.as_ref(),
        b"hello"
    );

    assert!(s.delete("docs/a.txt").await.unwrap());
    let e = s.get("docs/a.txt").await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::NotFound);
    assert_eq!(e.status(), Some(404));

    let e = s.get("../escape").await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::ValidationError);
    assert_eq!(e.details().unwrap()["field"], json!("key"));
    h.platform.shutdown().await;
}

#[tokio::test]
async fn list_and_list_all() {
    let h = Harness::start().await;
    let s = h.client.storage();
    for i in 0..12 {
        s.upload(
            &format!("many/{i:02}.txt"),
            format!("n{i}").into_bytes(),
            UploadOptions::default(),
        )
        .await
        .unwrap();
    }
    s.upload("elsewhere/x.txt", "x", UploadOptions::default())
        .await
        .unwrap();
    let page = s.list(Some("many/"), Some(5), None).await.unwrap();
    assert_eq!(page.objects.len(), 5);
    assert!(page.truncated);
    let all: Vec<_> = s
        .list_all(Some("many/"), Some(5))
        .try_collect()
        .await
        .unwrap();
    let keys: HashSet<_> = all.iter().map(|o| o.key.clone()).collect();
    assert_eq!(all.len(), 12);
    assert_eq!(keys.len(), 12);
    assert!(all.iter().all(|o| o.size.is_some()));
    h.platform.shutdown().await;
}

#[tokio::test]
async fn too_large_upload_is_413() {
    let limits = Limits {
        max_upload_bytes: 1024,
        ..Limits::default()
    };
    let h = Harness::start_with(ServerOptions {
        limits,
        ..ServerOptions::ephemeral()
    })
    .await;
    let e = h
        .client
        .storage()
        .upload("big.bin", vec![7u8; 4096], UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::PayloadTooLarge, "{e}");
    assert_eq!(e.status(), Some(413));
    assert!(
        !h.client.storage().exists("big.bin").await.unwrap(),
        "nothing half-written"
    );
    h.client
        .storage()
        .upload("small.bin", vec![7u8; 512], UploadOptions::default())
        .await
        .unwrap();
    h.platform.shutdown().await;
}

#[tokio::test]
async fn another_projects_objects_are_unreachable() {
    let h = Harness::start().await;
    h.client
        .storage()
        .upload("private/report.txt", "a only", UploadOptions::default())
        .await
        .unwrap();
    let (_, other) = h.other_project("other").await;
    assert!(!other.storage().exists("private/report.txt").await.unwrap());
    assert_eq!(
        other
            .storage()
            .get("private/report.txt")
            .await
            .unwrap_err()
            .code(),
        &ErrorCode::NotFound
    );
    assert!(
        other
            .storage()
            .list(None, None, None)
            .await
            .unwrap()
            .objects
            .is_empty()
    );
    h.platform.shutdown().await;
}

#[tokio::test]
async fn uploads_are_retried_unless_the_source_is_a_reader() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retry.txt");
    std::fs::write(&path, vec![b'r'; 100_000]).unwrap();

    // Each source gets a proxy that loses the platform's first answer to an upload.
    type MakeSource = Box<dyn Fn() -> UploadSource>;
    let sources: Vec<(&str, MakeSource)> = vec![
        (
            "bytes",
            Box::new(|| UploadSource::from(vec![b'b'; 100_000])),
        ),
        (
            "path",
            Box::new({
                let path = path.clone();
                move || UploadSource::path(&path)
            }),
        ),
    ];
    for (name, make) in sources {
        let proxy = FaultProxy::start(h.platform.addr(), "/storage/upload", 1).await;
        let c = client_for(&proxy.api_url(), &h.project.api_key, Some(&h.project.id));
        let (opts, events) = recorder();
        let key = format!("retried/{name}.txt");
        let up = c
            .storage()
            .upload(&key, make(), opts)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(up.size, Some(100_000), "{name}");
        let attempts = proxy
            .seen()
            .iter()
            .filter(|s| s.path.ends_with("/storage/upload"))
            .count();
        assert_eq!(attempts, 2, "{name}: the source was sent again");
        // Progress restarts with the second attempt and ends complete.
        {
            let ev = events.lock().unwrap();
            assert!(
                ev.iter().filter(|p| p.sent == 100_000).count() >= 2,
                "{name}: both attempts reported"
            );
            assert_eq!(ev.last().unwrap().sent, 100_000);
        }
        assert_eq!(
            h.client.storage().get(&key).await.unwrap().data.len(),
            100_000
        );
    }

    let proxy = FaultProxy::start(h.platform.addr(), "/storage/upload", 1).await;
    let c = client_for(&proxy.api_url(), &h.project.api_key, Some(&h.project.id));
    let file = tokio::fs::File::open(&path).await.unwrap();
    let e = c
        .storage()
        .upload(
            "retried/reader.txt",
            UploadSource::reader(file, Some(100_000)),
            UploadOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), &ErrorCode::NetworkError, "{e}");
    let attempts = proxy
        .seen()
        .iter()
        .filter(|s| s.path.ends_with("/storage/upload"))
        .count();
    assert_eq!(
        attempts, 1,
        "a reader cannot be replayed, so it is not retried"
    );
    h.platform.shutdown().await;
}

/// A private object: its URL is signed and expires; the plain URL is refused (issue 13 #13).
#[tokio::test]
async fn private_objects_have_signed_urls() {
    let h = Harness::start().await;
    let storage = h.client.storage();
    let opts = aerostack::UploadOptions {
        public: Some(false),
        ..Default::default()
    };
    let up = storage
        .upload("private/a.txt", bytes::Bytes::from_static(b"hidden"), opts)
        .await
        .unwrap();
    assert_eq!(up.public, Some(false));
    let plain = up.url.split('?').next().unwrap().to_string();
    assert_eq!(reqwest::get(&plain).await.unwrap().status().as_u16(), 403);
    let signed = storage
        .get_url("private/a.txt", Some(std::time::Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(
        reqwest::get(&signed).await.unwrap().text().await.unwrap(),
        "hidden"
    );
    assert_eq!(
        storage
            .metadata("private/a.txt")
            .await
            .unwrap()
            .unwrap()
            .public,
        Some(false)
    );
    let e = storage
        .get_url(
            "private/a.txt",
            Some(std::time::Duration::from_secs(8 * 24 * 3600)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.details().unwrap()["field"], "expires_in");
}
