//! One framed connection to a server: transport, hello, frames.

use crate::connect::{open, BoxStream, Tls};
use crate::options::Proxy;
use magpie_proto::codec::{decode_server, encode_client, DecodeError, EncodeError};
use magpie_proto::{ClientFrame, Decoded, ResCode, ServerFrame};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The SDK's version string, sent in the hello and the login.
pub const SDK_VERSION: &str = concat!("magpie-rust/", env!("CARGO_PKG_VERSION"));

/// Why a link failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Socket error.
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
    /// The link address is not `host:port`.
    #[error("invalid link address {0:?} (expected host:port)")]
    Address(String),
    /// The link address has no address of the IP version asked for.
    #[error("{0}")]
    NoAddress(String),
    /// The proxy failed or refused.
    #[error("proxy error: {0}")]
    Proxy(String),
    /// The TLS handshake failed.
    #[error("TLS error: {0}")]
    Tls(String),
    /// The server closed the connection.
    #[error("connection closed by the server")]
    Closed,
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The server sent something undecodable.
    #[error("bad frame from the server: {0}")]
    Decode(#[from] DecodeError),
    /// The other end speaks another protocol (HTTP, TLS): the cause and
    /// the fix.
    #[error("{0}")]
    NotMagpie(&'static str),
    /// A frame could not be encoded.
    #[error("could not encode a frame: {0}")]
    Encode(#[from] EncodeError),
    /// The server refused the hello.
    #[error("the server refused the protocol version (code {0})")]
    Version(ResCode),
    /// The server refused the connection with an error frame.
    #[error("the server refused the connection: {1} ({0})")]
    Refused(ResCode, String),
    /// The server answered something unexpected.
    #[error("unexpected frame from the server")]
    Unexpected,
}

/// What an answer that is not Magpie's protocol is, when it can tell:
/// HTTP (the admin port) or TLS (a TLS listener reached without TLS).
fn not_magpie(b: &[u8]) -> Option<LinkError> {
    if b.starts_with(b"HTTP/") {
        return Some(LinkError::NotMagpie(
            "the server answered in HTTP: this address is an HTTP port (Magpie's admin API listens on 9380 by default), not Magpie's client port (9300 by default)",
        ));
    }
    // A TLS record: handshake (0x16) or alert (0x15), version 3.x.
    if b.len() >= 2 && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03 {
        return Some(LinkError::NotMagpie(
            "the server answered in TLS: this listener expects TLS; connect with TLS (`magpie client --tls`, `ClientOptions::with_tls`)",
        ));
    }
    None
}

impl LinkError {
    /// The NIM code a login reports for this failure: 408 for a timeout, 201
    /// for a version mismatch, 415 (network) for everything else.
    pub fn code(&self) -> ResCode {
        match self {
            LinkError::Timeout => ResCode::TIMEOUT,
            LinkError::Version(_) => ResCode::VERSION_ERROR,
            _ => ResCode::CONNECTION_ERROR,
        }
    }
}

pub(crate) struct Link {
    stream: BoxStream,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    max_frame: u32,
}

impl Link {
    /// Opens a transport (TCP, proxy, TLS). The caller bounds the time it
    /// may take; the hello goes with the login (pipelining).
    pub async fn open(
        addr: &str,
        proxy: Option<&Proxy>,
        tls: Option<&Tls>,
        ip: crate::options::IpVersion,
        max_frame: u32,
    ) -> Result<Link, LinkError> {
        let stream = open(addr, proxy, tls, ip).await?;
        Ok(Link {
            stream,
            rbuf: Vec::with_capacity(512),
            wbuf: Vec::with_capacity(512),
            max_frame,
        })
    }

    /// Sends frames in one write.
    pub async fn send_all(&mut self, frames: &[ClientFrame]) -> Result<(), LinkError> {
        self.wbuf.clear();
        for f in frames {
            encode_client(f, &mut self.wbuf, u32::MAX)?;
        }
        self.stream.write_all(&self.wbuf).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// After a failed write: the frames the server sent before it closed,
    /// as far as they arrive promptly (at most 64, each within 100 ms).
    pub async fn drain(&mut self) -> Vec<ServerFrame> {
        let mut out = Vec::new();
        while out.len() < 64 {
            match tokio::time::timeout(std::time::Duration::from_millis(100), self.recv()).await {
                Ok(Ok(f)) => out.push(f),
                _ => break,
            }
        }
        out
    }

    /// Reads the next frame. Cancel-safe: partial frames stay buffered.
    /// A whole frame of an operation this SDK does not know (a newer
    /// server's push) is skipped, not taken for a broken link.
    pub async fn recv(&mut self) -> Result<ServerFrame, LinkError> {
        loop {
            let decoded = match decode_server(&self.rbuf, self.max_frame) {
                Err(e) if matches!(e, magpie_proto::DecodeError::UnknownOp { .. }) => {
                    if let Some(n) = e.skippable() {
                        tracing::debug!(error = %e, "skipping a frame this SDK does not know");
                        self.rbuf.drain(..n);
                        continue;
                    }
                    Err(LinkError::Decode(e))
                }
                other => other.map_err(|e| not_magpie(&self.rbuf).unwrap_or(LinkError::Decode(e))),
            };
            match decoded? {
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
        let _ = tokio::time::timeout(Duration::from_secs(1), self.stream.shutdown()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_tls_answers_are_named() {
        let http = not_magpie(b"HTTP/1.1 400 Bad Request\r\n").expect("HTTP");
        assert!(http.to_string().contains("admin API"), "{http}");
        let alert = not_magpie(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]).expect("TLS");
        assert!(alert.to_string().contains("--tls"), "{alert}");
        assert!(not_magpie(&[0x00, 0x00, 0x00, 0x10]).is_none());
        assert!(not_magpie(b"").is_none());
    }
}
