//! A TCP proxy that injects faults between an SDK and the server.

use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Forward bytes both ways.
    Pass,
    /// Keep every connection open but forward nothing (a silent dead link).
    Blackhole,
}

/// A fault-injecting TCP proxy on 127.0.0.1:0.
pub struct FaultProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    upstream: watch::Sender<SocketAddr>,
    reset: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// A proxy forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().unwrap();
        let (mode, mode_rx) = watch::channel(Mode::Pass);
        let (up, up_rx) = watch::channel(upstream);
        let (reset, reset_rx) = watch::channel(0u64);
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let target = *up_rx.borrow();
                let (m, r) = (mode_rx.clone(), reset_rx.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        abort(&client);
                        return;
                    };
                    relay(client, server, m, r).await;
                });
            }
        });
        FaultProxy {
            addr,
            mode,
            upstream: up,
            reset,
            task,
        }
    }

    /// Switches the mode for every current and future connection.
    pub fn set_mode(&self, m: Mode) {
        self.mode.send_replace(m);
    }

    /// Points new connections at another server.
    pub fn set_upstream(&self, a: SocketAddr) {
        self.upstream.send_replace(a);
    }

    /// Resets (RST) every current connection.
    pub fn reset_all(&self) {
        self.reset.send_modify(|n| *n += 1);
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    mut mode: watch::Receiver<Mode>,
    mut reset: watch::Receiver<u64>,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    reset.mark_unchanged();
    let client = Arc::new(client);
    let server = Arc::new(server);
    let mut a = [0u8; 8192];
    let mut b = [0u8; 8192];
    loop {
        if *mode.borrow() == Mode::Blackhole {
            tokio::select! {
                _ = mode.changed() => continue,
                _ = reset.changed() => break,
            }
        }
        tokio::select! {
            r = read(&client, &mut a) => match r {
                Some(n) => if write(&server, &a[..n]).await.is_none() { break },
                None => break,
            },
            r = read(&server, &mut b) => match r {
                Some(n) => if write(&client, &b[..n]).await.is_none() { break },
                None => break,
            },
            _ = mode.changed() => {}
            _ = reset.changed() => break,
        }
    }
    // Abortive close on both sides: the peers see a reset, not a clean FIN.
    abort(&client);
    abort(&server);
}

/// Sets a zero linger, so dropping the socket sends RST. (tokio deprecates
/// `set_linger` because a non-zero linger blocks on drop; zero never does.)
#[allow(deprecated)]
fn abort(s: &TcpStream) {
    let _ = s.set_linger(Some(std::time::Duration::ZERO));
}

async fn read(s: &TcpStream, buf: &mut [u8]) -> Option<usize> {
    loop {
        s.readable().await.ok()?;
        match s.try_read(buf) {
            Ok(0) => return None,
            Ok(n) => return Some(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return None,
        }
    }
}

async fn write(s: &TcpStream, mut buf: &[u8]) -> Option<()> {
    while !buf.is_empty() {
        s.writable().await.ok()?;
        match s.try_write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return None,
        }
    }
    Some(())
}
