//! A lean protocol client for load: connect from a chosen source address,
//! hello, login, heartbeats; reads pushes. Like the SDK, it sends HELLO and
//! LOGIN together (docs/protocol.md, pipelining) unless told to say hello
//! first.

use magpie_proto::codec::{decode_server, encode_client};
use magpie_proto::frame::{Hello, LoginRequest};
use magpie_proto::{ClientFrame, Decoded, ResCode, ServerFrame};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// One logged-in (or trying) connection.
pub struct RawConn {
    stream: TcpStream,
    buf: Vec<u8>,
    seq: u32,
    hello_done: bool,
}

/// Source address number `i` of `spread` (127.0.0.1, 127.0.0.2, ...).
pub fn source(i: usize, spread: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (i % spread.max(1)) as u8))
}

impl RawConn {
    /// Connects from `src`; the hello goes with the login. The default source
    /// (127.0.0.1) is left to connect(): binding port 0 first makes the
    /// kernel search the whole ephemeral range (TIME_WAIT included) on every
    /// call, which costs more CPU than the server's login.
    pub async fn connect(server: SocketAddr, src: IpAddr) -> anyhow::Result<RawConn> {
        let stream = if src == IpAddr::V4(Ipv4Addr::LOCALHOST) {
            TcpStream::connect(server).await?
        } else {
            let sock = TcpSocket::new_v4()?;
            sock.bind(SocketAddr::new(src, 0))?;
            sock.connect(server).await?
        };
        stream.set_nodelay(true)?;
        Ok(RawConn {
            stream,
            buf: Vec::with_capacity(256),
            seq: 1,
            hello_done: false,
        })
    }

    fn hello_frame() -> ClientFrame {
        ClientFrame::Hello {
            seq: 1,
            body: Hello {
                version: 1,
                min_version: 1,
                sdk_version: "magpie-bench".into(),
            },
        }
    }

    async fn hello_ack(&mut self) -> anyhow::Result<()> {
        match self.recv().await? {
            ServerFrame::HelloAck { body, .. } if body.code == ResCode::SUCCESS => {
                self.hello_done = true;
                Ok(())
            }
            other => anyhow::bail!("hello refused: {other:?}"),
        }
    }

    /// Exchanges hellos on their own, so that a later login is one round trip.
    pub async fn hello(&mut self) -> anyhow::Result<()> {
        self.send_all(&[Self::hello_frame()]).await?;
        self.hello_ack().await
    }

    /// Sends a frame.
    pub async fn send(&mut self, f: &ClientFrame) -> anyhow::Result<()> {
        self.send_all(std::slice::from_ref(f)).await
    }

    /// Sends frames in one write.
    async fn send_all(&mut self, frames: &[ClientFrame]) -> anyhow::Result<()> {
        let mut out = Vec::with_capacity(128 * frames.len());
        for f in frames {
            encode_client(f, &mut out, u32::MAX)?;
        }
        self.stream.write_all(&out).await?;
        Ok(())
    }

    /// The next frame.
    pub async fn recv(&mut self) -> anyhow::Result<ServerFrame> {
        loop {
            if let Decoded::Frame(f, n) = decode_server(&self.buf, 4 << 20)? {
                self.buf.drain(..n);
                return Ok(f);
            }
            let mut chunk = [0u8; 1024];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                anyhow::bail!("closed");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Logs in (with the hello, when not yet exchanged); returns the
    /// server's code.
    pub async fn login(
        &mut self,
        app_key: &str,
        account: &str,
        token: &str,
        device: &str,
        client_type: u32,
    ) -> anyhow::Result<ResCode> {
        self.seq += 1;
        let seq = self.seq + 1;
        let login = ClientFrame::Login {
            seq,
            body: Box::new(LoginRequest {
                app_key: app_key.into(),
                account: account.into(),
                token: token.into(),
                client_type,
                device_id: device.into(),
                client_os: "bench".into(),
                sdk_version: "magpie-bench".into(),
                ..Default::default()
            }),
        };
        if self.hello_done {
            self.send(&login).await?;
        } else {
            self.send_all(&[Self::hello_frame(), login]).await?;
            self.hello_ack().await?;
        }
        loop {
            if let ServerFrame::LoginAck { body, .. } = self.recv().await? {
                return Ok(body.code);
            }
        }
    }

    /// Sends a heartbeat (the answer is read by whoever reads next).
    pub async fn ping(&mut self) -> anyhow::Result<()> {
        self.seq += 1;
        let seq = self.seq + 1;
        self.send(&ClientFrame::Ping { seq }).await
    }

    /// Splits a logged-in connection: frames go out through the writer
    /// while the reader reads.
    pub fn split(self) -> (RawReader, RawWriter) {
        let (r, w) = self.stream.into_split();
        (
            RawReader { r, buf: self.buf },
            RawWriter {
                w,
                seq: self.seq + 1,
                out: Vec::with_capacity(4096),
            },
        )
    }
}

/// The reading half of a [`RawConn`].
pub struct RawReader {
    r: tokio::net::tcp::OwnedReadHalf,
    buf: Vec<u8>,
}

impl RawReader {
    /// The next frame.
    pub async fn recv(&mut self) -> anyhow::Result<ServerFrame> {
        loop {
            if let Decoded::Frame(f, n) = decode_server(&self.buf, 4 << 20)? {
                self.buf.drain(..n);
                return Ok(f);
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.r.read(&mut chunk).await?;
            if n == 0 {
                anyhow::bail!("closed");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// The writing half of a [`RawConn`]: numbers requests, writes them in one go.
pub struct RawWriter {
    w: tokio::net::tcp::OwnedWriteHalf,
    seq: u32,
    out: Vec<u8>,
}

impl RawWriter {
    /// The next request number.
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Queues a frame for the next [`RawWriter::flush`].
    pub fn push(&mut self, f: &ClientFrame) -> anyhow::Result<()> {
        encode_client(f, &mut self.out, u32::MAX)?;
        Ok(())
    }

    /// Writes what is queued.
    pub async fn flush(&mut self) -> anyhow::Result<()> {
        if !self.out.is_empty() {
            self.w.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }
}
