//! Requests routed through a host HTTP client (`with_host`) against the real platform: JSON calls,
//! a multipart upload (a streamed body, collected for the host), and host failures.

mod common;

use aerostack::{
    ErrorCode, HostExchange, HostLink, HostRequest, HostResponse, RetryPolicy, UploadOptions,
    with_host,
};
use common::{Harness, config_for};
use tokio::sync::mpsc;

/// Performs a host request with a separate reqwest client, as a user's own client would.
async fn forward(http: &reqwest::Client, req: HostRequest) -> Result<HostResponse, String> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut b = http.request(method, &req.url).body(req.body);
    for (name, value) in &req.headers {
        b = b.header(name, value);
    }
    let resp = b.send().await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    Ok(HostResponse {
        status,
        headers,
        body,
    })
}

/// A host that forwards every exchange and records what it was asked to send.
fn forwarding_host(
    mut rx: mpsc::UnboundedReceiver<HostExchange>,
) -> tokio::task::JoinHandle<Vec<HostRequest>> {
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut seen = Vec::new();
        while let Some(x) = rx.recv().await {
            seen.push(x.request.clone());
            let _ = x.reply.send(forward(&http, x.request).await);
        }
        seen
    })
}

fn header<'a>(req: &'a HostRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn json_calls_and_multipart_uploads_go_through_the_host() {
    let h = Harness::start().await;
    let (link, rx) = HostLink::channel();
    let host = forwarding_host(rx);

    let c = h.client.clone();
    let (uploaded, got) = with_host(link, async move {
        c.cache()
            .set("hk", &serde_json::json!({"n": 1}), None)
            .await?;
        let up = c
            .storage()
            .upload(
                "host/a.txt",
                b"hello through the host".to_vec(),
                UploadOptions::default(),
            )
            .await?;
        let got = c.cache().get("hk").await?;
        Ok::<_, aerostack::Error>((up, got))
    })
    .await
    .unwrap();
    assert!(uploaded.url.ends_with("/host/a.txt"), "{}", uploaded.url);
    assert_eq!(got, Some(serde_json::json!({"n": 1})));

    // The link was dropped with the scope, so the host loop ends.
    let seen = host.await.unwrap();
    assert_eq!(seen.len(), 3, "{seen:?}");
    let upload = &seen[1];
    assert_eq!(upload.method, "POST");
    assert!(upload.url.ends_with("/v1/storage/upload"), "{}", upload.url);
    assert!(
        header(upload, "content-type").is_some_and(|v| v.starts_with("multipart/form-data")),
        "{upload:?}"
    );
    assert!(
        upload
            .body
            .windows(22)
            .any(|w| w == b"hello through the host")
    );
    for req in &seen {
        assert_eq!(
            header(req, "x-aerostack-key"),
            Some(h.project.api_key.as_str())
        );
        assert!(header(req, "user-agent").is_some_and(|v| v.contains("aerostack-core/")));
        assert!(header(req, "x-request-id").is_some());
        assert!(
            !format!("{req:?}").contains(&h.project.api_key),
            "Debug hides the key"
        );
    }

    // Outside the scope the engine's own client is used again.
    let obj = h.client.storage().get("host/a.txt").await.unwrap();
    assert_eq!(&obj.data[..], b"hello through the host");
    h.platform.shutdown().await;
}

#[tokio::test]
async fn an_unanswered_exchange_is_a_network_error_naming_the_host() {
    let h = Harness::start().await;
    let mut cfg = config_for(&h.api_url(), &h.project.api_key, None);
    cfg.retry = Some(RetryPolicy::none());
    let c = aerostack::Client::new(cfg).unwrap();
    let (link, mut rx) = HostLink::channel();
    // The host drops every exchange without answering.
    let host = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let e = with_host(link, c.cache().get("k")).await.unwrap_err();
    assert_eq!(e.code(), &ErrorCode::NetworkError, "{e}");
    assert!(e.retryable());
    assert!(
        e.message()
            .starts_with("POST /v1/cache/get: the host HTTP client failed: "),
        "{e}"
    );
    host.await.unwrap();
    h.platform.shutdown().await;
}
