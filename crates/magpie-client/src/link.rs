//! One framed connection to a server.

use magpie_proto::codec::{decode_server, encode_client, DecodeError, EncodeError};
use magpie_proto::frame::{Hello, HelloAck};
use magpie_proto::{ClientFrame, Decoded, ServerFrame, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why a link failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Socket error.
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection.
    #[error("connection closed by the server")]
    Closed,
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The server sent something undecodable.
    #[error("bad frame from the server: {0}")]
    Decode(#[from] DecodeError),
    /// A frame could not be encoded.
    #[error("could not encode a frame: {0}")]
    Encode(#[from] EncodeError),
    /// The server refused the hello.
    #[error("server refused the protocol version (code {0})")]
    Version(u32),
    /// The server answered something unexpected.
    #[error("unexpected frame from the server")]
    Unexpected,
}

pub(crate) struct Link {
    stream: TcpStream,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    seq: u32,
    max_frame: u32,
    pub hello: HelloAck,
}

impl Link {
    /// Connects and exchanges hellos.
    pub async fn connect(addr: &str, timeout: Duration, max_frame: u32) -> Result<Link, LinkError> {
        let fut = async {
            let stream = TcpStream::connect(addr).await?;
            let _ = stream.set_nodelay(true);
            let mut link = Link {
                stream,
                rbuf: Vec::with_capacity(512),
                wbuf: Vec::with_capacity(512),
                seq: 0,
                max_frame,
                hello: HelloAck {
                    code: magpie_proto::ResCode::SUCCESS,
                    version: 0,
                    heartbeat_ms: 0,
                    idle_timeout_ms: 0,
                    max_frame: 0,
                    server_time: 0,
                },
            };
            let seq = link.next_seq();
            link.send(&ClientFrame::Hello {
                seq,
                body: Hello {
                    version: PROTOCOL_VERSION,
                    min_version: MIN_PROTOCOL_VERSION,
                    sdk_version: concat!("magpie-rust/", env!("CARGO_PKG_VERSION")).into(),
                },
            })
            .await?;
            match link.recv().await? {
                ServerFrame::HelloAck { body, .. } if body.code.is_success() => {
                    link.hello = body;
                    Ok(link)
                }
                ServerFrame::HelloAck { body, .. } => Err(LinkError::Version(body.code.0)),
                _ => Err(LinkError::Unexpected),
            }
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| LinkError::Timeout)?
    }

    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    pub async fn send(&mut self, f: &ClientFrame) -> Result<(), LinkError> {
        self.wbuf.clear();
        encode_client(f, &mut self.wbuf, u32::MAX)?;
        self.stream.write_all(&self.wbuf).await?;
        Ok(())
    }

    /// Reads the next frame. Cancel-safe: partial frames stay buffered.
    pub async fn recv(&mut self) -> Result<ServerFrame, LinkError> {
        loop {
            match decode_server(&self.rbuf, self.max_frame)? {
                Decoded::Frame(f, n) => {
                    self.rbuf.drain(..n);
                    return Ok(f);
                }
                Decoded::NeedMore(n) => {
                    self.rbuf.reserve(n.saturating_sub(self.rbuf.len()));
                }
            }
            if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                return Err(LinkError::Closed);
            }
        }
    }

    pub async fn close(&mut self) {
        let _ = self.stream.shutdown().await;
    }
}
