//! The Magpie server: the client listener, one task per connection, the
//! login service, and the admin HTTP API.
//!
//! [`start`] takes listeners that are already bound (the binary binds the
//! configured addresses, tests bind port 0) and the [`Services`] to run on
//! (stores, session directory, router), and returns a [`ServerHandle`].
//! The server depends on the store and bus traits only: the binary picks
//! the backends. Shutdown signals every task, then waits for them.

pub mod admin;
pub mod apps;
pub mod callback;
pub mod config;
mod conn;
pub mod console;
pub mod datadir;
pub mod dynamic;
pub mod lbs;
pub mod logging;
pub mod login;
pub mod messaging;
pub mod metrics;
pub mod prelogin;
pub mod ratelimit;
pub mod retention;
pub mod session;
pub mod state;
mod tls;
pub mod webhooks;

pub use config::ServerConfig;
pub use state::{Services, Shared};

use magpie_proto::codec::encode_server;
use magpie_proto::frame::ErrorBody;
use magpie_proto::{ResCode, ServerFrame};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// The sockets a server serves, bound by the caller.
pub struct Listeners {
    /// Client protocol listener.
    pub client: TcpListener,
    /// Admin HTTP listener.
    pub admin: TcpListener,
}

impl Listeners {
    /// Binds both addresses. The client listener gets a deep accept backlog
    /// (4096, capped by the kernel's somaxconn), so a login storm does not
    /// overflow it and make clients wait for SYN retransmits.
    pub async fn bind(client: SocketAddr, admin: SocketAddr) -> std::io::Result<Listeners> {
        Ok(Listeners {
            client: Self::bind_client(client)?,
            admin: TcpListener::bind(admin).await?,
        })
    }

    /// Binds the client listener alone (with the deep backlog), so a caller
    /// can tell which of the two addresses failed.
    pub fn bind_client(client: SocketAddr) -> std::io::Result<TcpListener> {
        let sock = if client.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        sock.set_reuseaddr(true)?;
        sock.bind(client)?;
        sock.listen(4096)
    }
}

/// A running server.
pub struct ServerHandle {
    /// Where clients connect.
    pub client_addr: SocketAddr,
    /// Where the admin API listens.
    pub admin_addr: SocketAddr,
    /// Where the LBS listens, when configured (`lbs.listen`).
    pub lbs_addr: Option<SocketAddr>,
    /// The server's shared state (for tests and metrics).
    pub shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    retention_rounds: watch::Receiver<u64>,
}

impl ServerHandle {
    /// Signals shutdown and waits until every connection task has ended.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Waits until the server stops (after [`ServerHandle::shutdown`] from a clone
    /// of the signal, or a fatal error).
    pub fn shutdown_signal(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }

    /// Rounds of the retention job finished so far.
    pub fn retention_rounds(&self) -> watch::Receiver<u64> {
        self.retention_rounds.clone()
    }

    /// Waits for the server to end.
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Starts a server on bound listeners with its services.
pub async fn start(
    listeners: Listeners,
    config: ServerConfig,
    services: Services,
) -> anyhow::Result<ServerHandle> {
    config.validate()?;
    let shared = Arc::new(Shared::new(config, services));
    let client_addr = listeners.client.local_addr()?;
    let admin_addr = listeners.admin.local_addr()?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);

    let router = admin::router(shared.clone());
    let bounds = admin::serve::Bounds {
        max_connections: shared.config.admin.max_connections,
        header_timeout: Duration::from_millis(shared.config.admin.header_timeout_ms),
        keep_alive: true,
    };
    let admin_task = tokio::spawn(admin::serve::serve(
        listeners.admin,
        router,
        bounds,
        shutdown_rx.clone(),
    ));

    let (lbs_task, lbs_addr) = if shared.config.lbs.listen.is_empty() {
        (None, None)
    } else {
        let at = config::parse_listen(&shared.config.lbs.listen, &["http"], "lbs.listen")
            .map_err(anyhow::Error::msg)?;
        let l = TcpListener::bind(at).await.map_err(|e| {
            anyhow::anyhow!("lbs.listen {at}: {e} (another process holds the port? choose another)")
        })?;
        let addr = l.local_addr()?;
        // Public: one request per connection, 2 s to send it, the admin
        // listener's connection count (its descriptors are reserved too).
        let lbs_bounds = admin::serve::Bounds {
            max_connections: bounds.max_connections,
            header_timeout: Duration::from_secs(2),
            keep_alive: false,
        };
        let task = tokio::spawn(admin::serve::serve(
            l,
            lbs::router(shared.clone(), client_addr.port()),
            lbs_bounds,
            shutdown_rx.clone(),
        ));
        (Some(task), Some(addr))
    };
    let tls = match &shared.config.tls {
        Some(t) => Some(tls::acceptor(t)?),
        None => None,
    };
    let sweeper = tokio::spawn(sweep(shared.clone(), shutdown_rx.clone()));
    let (finish_writer, writer_finish) = watch::channel(false);
    let writer = messaging::Messaging::start(shared.clone(), writer_finish);
    let (rounds_tx, retention_rounds) = watch::channel(0);
    let retention = tokio::spawn(retention::job(
        shared.clone(),
        Duration::from_millis(shared.config.retention_interval_ms),
        rounds_tx,
        shutdown_rx.clone(),
    ));
    let (hooks_finish_tx, hooks_finish) = watch::channel(false);
    let hook_writer = tokio::spawn(webhooks::writer(shared.clone(), hooks_finish));
    let hook_deliverer = tokio::spawn(webhooks::deliverer(shared.clone(), shutdown_rx.clone()));
    let accept_shared = shared.clone();
    let task = tokio::spawn(async move {
        accept_loop(listeners.client, accept_shared, tls, shutdown_rx).await;
        // Connections have ended: their last events are queued.
        let _ = hooks_finish_tx.send(true);
        let _ = hook_writer.await;
        let _ = hook_deliverer.await;
        let _ = admin_task.await;
        if let Some(t) = lbs_task {
            let _ = t.await;
        }
        let _ = sweeper.await;
        let _ = retention.await;
        // Every connection has ended: nothing sends any more. The writer
        // stores what is queued and ends, letting go of the stores.
        let _ = finish_writer.send(true);
        if let Some(w) = writer {
            let _ = w.await;
        }
    });
    tracing::info!(%client_addr, %admin_addr, node = %shared.bus.node(), max_connections = shared.max_connections, "listening");
    Ok(ServerHandle {
        client_addr,
        admin_addr,
        lbs_addr,
        shared,
        shutdown: shutdown_tx,
        task,
        retention_rounds,
    })
}

async fn sweep(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = Instant::now();
                shared.account_limiter.sweep(now);
                shared.messaging.sweep(now);
                shared.ip_limiter.sweep(now);
                shared.failed_by_ip.sweep(now);
                shared.failed_by_source.sweep(now);
                shared.admin_limiter.sweep(now);
                shared.nonces.sweep();
            }
            _ = shutdown.wait_for(|v| *v) => return,
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Each connection task holds a clone of `done_tx`; when all are dropped,
    // `done_rx` completes: that is how shutdown waits for them.
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let mut backoff = Duration::from_millis(5);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.wait_for(|v| *v) => break,
        };
        let (stream, peer) = match accepted {
            Ok(v) => {
                backoff = Duration::from_millis(5);
                v
            }
            Err(e) => {
                // Usually out of file descriptors: wait, then try again.
                tracing::warn!(error = %e, "accept failed; backing off {:?}", backoff);
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.wait_for(|v| *v) => break,
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if shared.connections.load(Ordering::Relaxed) >= shared.max_connections {
            shared.metrics.rate_limited("max_connections", "");
            refuse_busy(&stream, "server is at its connection limit");
            continue;
        }
        let Some(slot) = prelogin::PreLogin::enter(&shared, peer.ip()) else {
            shared.metrics.rate_limited("pre_login_per_address", "");
            refuse_busy(
                &stream,
                "too many connections from this address that have not logged in",
            );
            continue;
        };
        shared.connections.fetch_add(1, Ordering::Relaxed);
        shared.metrics.connections.inc();
        let (s, sd, done) = (shared.clone(), shutdown.clone(), done_tx.clone());
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => conn::serve(s.clone(), stream, peer, slot, sd).await,
                // Boxed: a TLS connection's state (the session and its
                // handshake) is several KiB, which plain connections'
                // tasks should not reserve.
                Some(acceptor) => {
                    Box::pin(async {
                        let limit = Duration::from_millis(s.config.handshake_timeout_ms);
                        match tokio::time::timeout(limit, acceptor.accept(stream)).await {
                            Ok(Ok(tls_stream)) => {
                                conn::serve(s.clone(), tls_stream, peer, slot, sd).await
                            }
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed")
                            }
                            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                        }
                    })
                    .await
                }
            }
            s.connection_closed();
            drop(done);
        });
    }
    drop(listener);
    drop(done_tx);
    let _ = done_rx.recv().await;
    tracing::info!("all client connections closed");
}

fn refuse_busy(stream: &tokio::net::TcpStream, why: &str) {
    // Logged once per hundred, with the count, so a flood cannot flood
    // the log too.
    static REFUSED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = REFUSED.fetch_add(1, Ordering::Relaxed) + 1;
    if n % 100 == 1 {
        let peer = stream.peer_addr().ok();
        tracing::info!(?peer, refused_so_far = n, "connection refused: {why}");
    }
    let mut buf = Vec::new();
    let frame = ServerFrame::Error {
        seq: 0,
        body: ErrorBody {
            code: ResCode::TOO_BUSY,
            desc: why.into(),
            fatal: true,
        },
    };
    if encode_server(&frame, &mut buf, conn::MAX_SERVER_FRAME).is_ok() {
        let _ = stream.try_write(&buf);
    }
}
