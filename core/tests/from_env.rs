//! `Client::from_env` reads `AEROSTACK_API_URL`, `AEROSTACK_API_KEY`, `AEROSTACK_PROJECT_ID`.
//! Alone in its test binary because it changes the process environment.

mod common;

use aerostack::Client;
use common::Harness;
use serde_json::json;

#[tokio::test]
async fn from_env_fills_unset_options() {
    let h = Harness::start().await;
    // SAFETY: the only test of this binary; no other thread reads the environment concurrently.
    unsafe {
        std::env::set_var("AEROSTACK_API_URL", h.api_url());
        std::env::set_var("AEROSTACK_API_KEY", &h.project.api_key);
        std::env::set_var("AEROSTACK_PROJECT_ID", &h.project.id);
    }
    let c = Client::from_env().unwrap();
    assert_eq!(c.base_url(), h.api_url().trim_end_matches('/'));
    assert_eq!(c.project_id(), Some(h.project.id.as_str()));
    c.cache().set("env", &json!(true), None).await.unwrap();
    assert_eq!(
        h.client.cache().get("env").await.unwrap(),
        Some(json!(true))
    );
    // The project id from the env reaches the end-user auth routes.
    c.auth()
        .register("env@example.com", "Sup3r-Secret-pw", None, None)
        .await
        .unwrap();

    // Explicit options win over the environment.
    let explicit =
        Client::new(aerostack::ClientConfig::new().api_key("ac_secret_explicit")).unwrap();
    assert_eq!(
        explicit.cache().get("env").await.unwrap_err().code(),
        &aerostack::ErrorCode::AuthInvalidKey,
        "the explicit (wrong) key was used, against the env URL"
    );
    h.platform.shutdown().await;
}
