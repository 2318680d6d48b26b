//! Start-up cleaning (issue 13, item 9): an upload's temp file left by a killed platform and an
//! `--ephemeral` directory whose process died are removed; a live process's directory is kept.

use aerostack_server::ServerOptions;
use aerostack_server::cleanup::{EPHEMERAL_PREFIX, OWNER_FILE};

use crate::common::start_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leftovers_of_a_killed_platform_are_cleaned_at_start() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let tmp = data.join("projects").join("proj_000000000000").join("storage").join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("upload-0123456789abcdef"), b"half an upload").unwrap();

    // A pid that existed and is gone: a child that has exited and been reaped.
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let temp_root = std::env::temp_dir();
    let abandoned = tempfile::Builder::new()
        .prefix(EPHEMERAL_PREFIX)
        .tempdir_in(&temp_root)
        .unwrap()
        .keep();
    std::fs::write(abandoned.join(OWNER_FILE), dead_pid.to_string()).unwrap();
    std::fs::write(abandoned.join("control.sqlite"), b"x").unwrap();
    let alive = tempfile::Builder::new()
        .prefix(EPHEMERAL_PREFIX)
        .tempdir_in(&temp_root)
        .unwrap();
    std::fs::write(alive.path().join(OWNER_FILE), std::process::id().to_string()).unwrap();
    let unowned = tempfile::Builder::new()
        .prefix(EPHEMERAL_PREFIX)
        .tempdir_in(&temp_root)
        .unwrap();

    let ctx = start_with(ServerOptions {
        port: 0,
        data_dir: Some(data.clone()),
        project_dir: Some(root.path().to_path_buf()),
        ..ServerOptions::default()
    })
    .await;
    let leftover: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(leftover.is_empty(), "the unfinished upload is still there: {leftover:?}");
    if std::path::Path::new("/proc/self").exists() {
        assert!(!abandoned.exists(), "the abandoned ephemeral dir is still there");
    }
    assert!(alive.path().exists(), "a live process's ephemeral dir was removed");
    assert!(unowned.path().exists(), "a dir without an owner file was removed");
    ctx.p.shutdown().await;
    let _ = std::fs::remove_dir_all(&abandoned);

    // An ephemeral platform marks its own directory.
    let ctx = start_with(ServerOptions::ephemeral()).await;
    let owner = std::fs::read_to_string(ctx.p.data_dir().join(OWNER_FILE)).unwrap();
    assert_eq!(owner.trim(), std::process::id().to_string());
    ctx.p.shutdown().await;
}
