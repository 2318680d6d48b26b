//! The baseline server: bare hyper answering static JSON shaped like the platform's answers.
//! It reads the whole request body (as any server must) and does nothing else.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming, service::service_fn};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;

const DB: &str = r#"{"results":[{"id":42,"name":"item 42"}],"count":1,"meta":{"changes":0,"last_row_id":0,"duration_ms":0.01}}"#;
const CACHE: &str = r#"{"value":{"hello":"world","n":42},"exists":true}"#;

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = if req.uri().path().ends_with("/db/query") { DB } else { CACHE };
    let _ = req.into_body().collect().await;
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("static response"))
}

/// Starts the responder on a free loopback port; returns its base URL.
pub async fn start() -> String {
    start_on(0).await
}

/// Starts the responder on the given loopback port (0: a free one); returns its base URL.
pub async fn start_on(port: u16) -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(answer))
                    .await;
            });
        }
    });
    format!("http://{addr}")
}
