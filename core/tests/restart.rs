//! Data written through the engine survives a platform restart on the same data dir and port.

mod common;

use aerostack::UploadOptions;
use aerostack_server::{LocalPlatform, ServerOptions};
use common::client_for;
use serde_json::json;

#[tokio::test]
async fn data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let options = |port: u16| ServerOptions {
        port,
        data_dir: Some(dir.path().to_path_buf()),
        ephemeral: false,
        ..ServerOptions::ephemeral()
    };

    let p = LocalPlatform::start(options(0)).await.unwrap();
    let project = p.default_project().clone();
    let api_url = p.api_url().to_string();
    let port = url::Url::parse(&api_url).unwrap().port().unwrap();
    let c = client_for(&api_url, &project.api_key, Some(&project.id));
    c.db()
        .query("CREATE TABLE kept (v TEXT)", &[])
        .await
        .unwrap();
    c.db()
        .query("INSERT INTO kept VALUES (?)", &[json!("still here")])
        .await
        .unwrap();
    c.cache().set("kept", &json!({"n": 1}), None).await.unwrap();
    c.storage()
        .upload("kept.txt", "file body", UploadOptions::default())
        .await
        .unwrap();
    let job = c
        .queue()
        .enqueue("kept-job", &json!({}), Some(3600), None)
        .await
        .unwrap();
    c.secrets().set("KEPT", "yes").await.unwrap();
    let user = c
        .auth()
        .register("kept@example.com", "Sup3r-Secret-pw", None, None)
        .await
        .unwrap();
    p.shutdown().await;

    // The stopped platform refuses connections; the engine reports it as a network error.
    assert_eq!(
        c.cache().get("kept").await.unwrap_err().code(),
        &aerostack::ErrorCode::NetworkError
    );

    let p = LocalPlatform::start(options(port)).await.unwrap();
    assert_eq!(
        p.default_project().api_key,
        project.api_key,
        "same project and key"
    );
    // The same client (same URL) reconnects transparently.
    assert_eq!(
        c.db()
            .query_one("SELECT v FROM kept", &[])
            .await
            .unwrap()
            .unwrap()["v"],
        json!("still here")
    );
    assert_eq!(c.cache().get("kept").await.unwrap(), Some(json!({"n": 1})));
    assert_eq!(
        c.storage().get("kept.txt").await.unwrap().data.as_ref(),
        b"file body"
    );
    assert_eq!(c.queue().job(&job).await.unwrap().unwrap().status, "queued");
    assert_eq!(
        c.secrets().get("KEPT").await.unwrap().as_deref(),
        Some("yes")
    );
    let s = c
        .auth()
        .login("kept@example.com", "Sup3r-Secret-pw")
        .await
        .unwrap();
    assert_eq!(s.user.unwrap().id, user.user.unwrap().id);
    p.shutdown().await;
}
