//! The admin listener, bounded: at most `admin.max_connections` connections
//! (further ones wait in the accept backlog, so the admin API keeps its own
//! reserve of descriptors and cannot take the client port's), hyper's
//! header-read timeout (which in hyper 1.x also bounds the idle wait between
//! keep-alive requests), and a whole-request timeout for slow bodies
//! (tower-http's `TimeoutLayer`, answering 408).

use axum::extract::connect_info::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

/// Limits of the admin listener.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Connections served at once.
    pub max_connections: usize,
    /// Time to send a request's headers, and the most a keep-alive
    /// connection may sit idle between requests.
    pub header_timeout: Duration,
    /// Keep connections open between requests (the LBS answers one
    /// request per connection, so idle strangers hold no slot).
    pub keep_alive: bool,
}

/// Completes once `shutdown` turns true (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|v| *v).await;
}

/// Serves `router` on `listener` until `shutdown` turns true, then lets the
/// requests in progress finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    bounds: Bounds,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(bounds.max_connections));
    let mut conns = tokio::task::JoinSet::new();
    loop {
        // Wait for a free slot before accepting: over the limit, new
        // connections wait in the kernel's backlog instead of taking a
        // descriptor.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stopped(&mut shutdown) => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "admin accept failed; backing off");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped(&mut shutdown) => break,
        };
        let router = router.clone();
        let mut stop = shutdown.clone();
        let local = stream.local_addr().ok();
        conns.spawn(async move {
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                if let Some(a) = local {
                    req.extensions_mut().insert(crate::lbs::LocalAddr(a));
                }
                router.clone().oneshot(req.map(axum::body::Body::new))
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(bounds.header_timeout)
                .keep_alive(bounds.keep_alive)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "admin connection ended");
                    }
                }
                _ = stopped(&mut stop) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(permit);
        });
        // Reap finished connection tasks so the set does not grow.
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
}
