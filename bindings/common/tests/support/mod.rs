//! What the table tests (times.rs, user_data.rs) share: a local platform with a client, and a
//! blocking run of a surface future the way a binding runs one.

use std::future::Future;
use std::time::Duration;

use aerostack_bindings_common::{ClientHandle, Error, LocalPlatformHandle, Task};
use serde_json::{Value, json};

/// Starts the future as a `Task`, waits (at most 30 s) and unwraps its outcome.
pub fn run<T: Send + 'static>(fut: Result<impl Future<Output = Result<T, Error>> + Send + 'static, Error>) -> T {
    let task = Task::spawn(fut.unwrap()).unwrap();
    assert!(task.wait(Some(Duration::from_secs(30))), "the call did not finish within 30 s");
    task.take().unwrap().unwrap()
}

/// A fresh in-process platform and a client of its default project.
pub fn platform_and_client() -> (LocalPlatformHandle, ClientHandle) {
    let p = LocalPlatformHandle::start(json!({"from_env": false})).unwrap();
    let i = p.info();
    let c = ClientHandle::new(
        json!({"base_url": i.api_url, "api_key": i.api_key, "project_id": i.project_id, "ignore_env": true}),
        "aerostack-test/0",
    )
    .unwrap();
    (p, c)
}

/// The worker options of `p`'s default project.
pub fn worker_options(p: &LocalPlatformHandle) -> Value {
    let i = p.info();
    json!({"base_url": i.api_url, "api_key": i.api_key, "ignore_env": true})
}
