//! The accept loop: HTTP/1.1 connections (with upgrades, for WebSockets) served by the router.
//! Our own loop rather than `axum::serve` so shutdown can end *every* connection: in-flight
//! requests get a grace period, then the rest (long streams, idle keep-alives) are aborted, and
//! the port is free when `shutdown` returns.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_service::Service;

/// How long in-flight requests may run after shutdown starts.
pub const GRACE: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct ConnService {
    router: Router,
    remote: SocketAddr,
}

impl hyper::service::Service<hyper::Request<Incoming>> for ConnService {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = <Router as Service<hyper::Request<Body>>>::Future;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(self.remote));
        // Router is always ready; calling a clone is how axum::serve drives it too.
        self.router.clone().call(req)
    }
}

pub async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    let _ = stream.set_nodelay(true);
                    let svc = ConnService { router: router.clone(), remote };
                    let mut stop = stop_rx.clone();
                    conns.spawn(async move {
                        let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).with_upgrades();
                        tokio::pin!(conn);
                        tokio::select! {
                            _ = conn.as_mut() => return,
                            _ = stop.changed() => conn.as_mut().graceful_shutdown(),
                        }
                        let _ = conn.await;
                    });
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained =
        tokio::time::timeout(GRACE, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}
