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
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
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

/// Connection limits of the accept loop.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    /// Headers must arrive within this (a kept-alive idle connection is closed after it too).
    pub header_read_timeout: Duration,
    /// Connections served at once; the next accept waits for one to close.
    pub max_connections: usize,
}

/// The process's soft open-file limit (`ulimit -n`), when the platform can tell (Linux).
pub fn open_file_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    soft.parse().ok() // "unlimited" -> None
}

/// `max_connections` as configured, or (0) half the open-file limit, between 64 and 10,000.
pub fn connection_cap(configured: usize, file_limit: Option<u64>) -> usize {
    if configured > 0 {
        return configured;
    }
    file_limit.map_or(10_000, |l| (l / 2).clamp(64, 10_000) as usize)
}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
    limits: ConnLimits,
) {
    let mut conns = JoinSet::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    let slots = std::sync::Arc::new(Semaphore::new(limits.max_connections.max(1)));
    'accept: loop {
        // A free connection slot first: at the cap, new clients wait in the listen backlog
        // instead of the process running out of file descriptors.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            _ = shutdown.changed() => break 'accept,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue 'accept,
        };
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, remote)) => {
                        let _ = stream.set_nodelay(true);
                        let svc = ConnService { router: router.clone(), remote };
                        let mut stop = stop_rx.clone();
                        conns.spawn(async move {
                            let _slot = slot;
                            let conn = http1::Builder::new()
                                .timer(TokioTimer::new())
                                .header_read_timeout(limits.header_read_timeout)
                                .serve_connection(TokioIo::new(stream), svc)
                                .with_upgrades();
                            tokio::pin!(conn);
                            tokio::select! {
                                _ = conn.as_mut() => return,
                                _ = stop.changed() => conn.as_mut().graceful_shutdown(),
                            }
                            let _ = conn.await;
                        });
                        continue 'accept;
                    }
                    // Out of file descriptors and the like: back off instead of spinning.
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                _ = shutdown.changed() => break 'accept,
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
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
