//! The pure frame codec.
//!
//! ```text
//! frame   = length:u32be body
//! body    = op:u8 seq:u32be payload      (length = 5 + payload length)
//! payload = a UTF-8 JSON object, or nothing for PING and PONG
//! ```
//!
//! Decoding works on a byte slice that may hold a partial frame: "need more
//! bytes" is a normal outcome ([`Decoded::NeedMore`]). The length prefix is
//! checked against the caller's maximum before any body byte is awaited, so a
//! peer cannot make the reader buffer more than `max_frame + 4` bytes.

use crate::code::ResCode;
use crate::frame::{op, ClientFrame, ServerFrame};
use crate::msg::{EntryWire, SyncBatch};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Bytes of the length prefix.
pub const LEN_BYTES: usize = 4;
/// Bytes of op and seq after the length prefix.
pub const HEAD_BYTES: usize = 5;
/// Default maximum of the length prefix value (64 KiB).
pub const DEFAULT_MAX_FRAME: u32 = 64 * 1024;

/// The outcome of a decode attempt that did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<T> {
    /// A whole frame, and how many bytes of the input it took.
    Frame(T, usize),
    /// The input holds no whole frame yet; at least this many bytes are needed in all.
    NeedMore(usize),
}

/// Why bytes could not be decoded into a frame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The length prefix exceeds the maximum frame size.
    #[error("frame of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Announced length.
        len: u32,
        /// Allowed maximum.
        max: u32,
    },
    /// The length prefix is smaller than the fixed head.
    #[error("frame length {len} is shorter than the 5-byte head")]
    TooShort {
        /// Announced length.
        len: u32,
    },
    /// The op code is not known in this direction.
    #[error("unknown operation 0x{op:02x}")]
    UnknownOp {
        /// The op code.
        op: u8,
        /// The frame's seq.
        seq: u32,
        /// Bytes the frame took, so the reader can skip it.
        consumed: usize,
    },
    /// The payload is not what the op requires.
    #[error("malformed payload for operation 0x{op:02x}: {source}")]
    BadPayload {
        /// The op code.
        op: u8,
        /// The frame's seq.
        seq: u32,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A frame that must be empty carried a payload.
    #[error("operation 0x{op:02x} takes no payload, got {len} bytes")]
    UnexpectedPayload {
        /// The op code.
        op: u8,
        /// The frame's seq.
        seq: u32,
        /// Payload length.
        len: usize,
    },
}

impl DecodeError {
    /// The NIM code that reports this error to the peer.
    pub fn code(&self) -> ResCode {
        match self {
            DecodeError::TooLarge { .. } => ResCode::OVERRUN,
            DecodeError::TooShort { .. } => ResCode::INVALID_PROTOCOL,
            DecodeError::UnknownOp { .. } => ResCode::INVALID,
            DecodeError::BadPayload { .. } | DecodeError::UnexpectedPayload { .. } => {
                ResCode::E_UNPACKET
            }
        }
    }

    /// The seq of the offending frame, when it could be read.
    pub fn seq(&self) -> u32 {
        match self {
            DecodeError::UnknownOp { seq, .. }
            | DecodeError::BadPayload { seq, .. }
            | DecodeError::UnexpectedPayload { seq, .. } => *seq,
            _ => 0,
        }
    }

    /// When the framing is intact and the frame can be skipped, the bytes to skip.
    /// Only an unknown op is recoverable; everything else ends the connection.
    pub fn skippable(&self) -> Option<usize> {
        match self {
            DecodeError::UnknownOp { consumed, .. } => Some(*consumed),
            _ => None,
        }
    }
}

/// Why a frame could not be encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The encoded frame would exceed the maximum frame size.
    #[error("encoded frame of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Encoded length.
        len: usize,
        /// Allowed maximum.
        max: u32,
    },
    /// JSON serialisation failed.
    #[error("serialising the payload failed: {0}")]
    Json(#[from] serde_json::Error),
}

struct Raw<'a> {
    op: u8,
    seq: u32,
    payload: &'a [u8],
    consumed: usize,
}

fn split(buf: &[u8], max_frame: u32) -> Result<Option<Raw<'_>>, DecodeError> {
    if buf.len() < LEN_BYTES {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if len > max_frame {
        return Err(DecodeError::TooLarge {
            len,
            max: max_frame,
        });
    }
    if (len as usize) < HEAD_BYTES {
        return Err(DecodeError::TooShort { len });
    }
    let total = LEN_BYTES + len as usize;
    if buf.len() < total {
        return Ok(None);
    }
    let op = buf[4];
    let seq = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]);
    Ok(Some(Raw {
        op,
        seq,
        payload: &buf[LEN_BYTES + HEAD_BYTES..total],
        consumed: total,
    }))
}

/// How many bytes are needed before `split` can decide, given what is buffered.
fn need(buf: &[u8]) -> usize {
    if buf.len() < LEN_BYTES {
        LEN_BYTES
    } else {
        LEN_BYTES + u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize
    }
}

fn json<T: DeserializeOwned>(raw: &Raw<'_>) -> Result<T, DecodeError> {
    serde_json::from_slice(raw.payload).map_err(|source| DecodeError::BadPayload {
        op: raw.op,
        seq: raw.seq,
        source,
    })
}

/// [`json`] for what clients send: the payload must be a JSON object, as
/// docs/protocol.md specifies (serde would also take a struct as a
/// positional array).
fn object<T: DeserializeOwned>(raw: &Raw<'_>) -> Result<T, DecodeError> {
    let first = raw.payload.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(DecodeError::BadPayload {
            op: raw.op,
            seq: raw.seq,
            source: <serde_json::Error as serde::de::Error>::custom(
                "the payload must be a JSON object",
            ),
        });
    }
    json(raw)
}

fn empty(raw: &Raw<'_>) -> Result<(), DecodeError> {
    if raw.payload.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::UnexpectedPayload {
            op: raw.op,
            seq: raw.seq,
            len: raw.payload.len(),
        })
    }
}

/// Decodes one client frame from the front of `buf`.
pub fn decode_client(buf: &[u8], max_frame: u32) -> Result<Decoded<ClientFrame>, DecodeError> {
    let Some(raw) = split(buf, max_frame)? else {
        return Ok(Decoded::NeedMore(need(buf)));
    };
    let seq = raw.seq;
    let frame = match raw.op {
        op::HELLO => ClientFrame::Hello {
            seq,
            body: object(&raw)?,
        },
        op::LOGIN => ClientFrame::Login {
            seq,
            body: object(&raw)?,
        },
        op::LOGOUT => ClientFrame::Logout {
            seq,
            body: object(&raw)?,
        },
        op::PING => {
            empty(&raw)?;
            ClientFrame::Ping { seq }
        }
        op::KICK_OTHER => ClientFrame::KickOther {
            seq,
            body: object(&raw)?,
        },
        op::SERVER_TIME => {
            empty(&raw)?;
            ClientFrame::ServerTime { seq }
        }
        op::SET_PUSH_CONFIG => ClientFrame::SetPushConfig {
            seq,
            body: object(&raw)?,
        },
        op::GET_PUSH_CONFIG => {
            empty(&raw)?;
            ClientFrame::GetPushConfig { seq }
        }
        op::PUSH_TOKEN => ClientFrame::PushToken {
            seq,
            body: object(&raw)?,
        },
        op::SEND_MSG => ClientFrame::SendMsg {
            seq,
            body: object(&raw)?,
        },
        op::SYNC => ClientFrame::Sync {
            seq,
            body: object(&raw)?,
        },
        op::CURSOR_ACK => ClientFrame::CursorAck {
            seq,
            body: object(&raw)?,
        },
        op::SEND_SYSMSG => ClientFrame::SendSysMsg {
            seq,
            body: object(&raw)?,
        },
        op::SESSION_READ => ClientFrame::SessionRead {
            seq,
            body: object(&raw)?,
        },
        op::SESSION_DELETE => ClientFrame::SessionDelete {
            seq,
            body: object(&raw)?,
        },
        op::HISTORY => ClientFrame::History {
            seq,
            body: object(&raw)?,
        },
        op::RECEIPT => ClientFrame::Receipt {
            seq,
            body: object(&raw)?,
        },
        op::RECALL => ClientFrame::Recall {
            seq,
            body: object(&raw)?,
        },
        op::STICK_TOP => ClientFrame::StickTop {
            seq,
            body: object(&raw)?,
        },
        op::SERVER_SESSION => ClientFrame::ServerSession {
            seq,
            body: object(&raw)?,
        },
        op::DELETE_SELF => ClientFrame::DeleteSelf {
            seq,
            body: object(&raw)?,
        },
        op::CLEAR_HISTORY => ClientFrame::ClearHistory {
            seq,
            body: object(&raw)?,
        },
        other => {
            return Err(DecodeError::UnknownOp {
                op: other,
                seq,
                consumed: raw.consumed,
            })
        }
    };
    Ok(Decoded::Frame(frame, raw.consumed))
}

/// Decodes one server frame from the front of `buf`.
pub fn decode_server(buf: &[u8], max_frame: u32) -> Result<Decoded<ServerFrame>, DecodeError> {
    let Some(raw) = split(buf, max_frame)? else {
        return Ok(Decoded::NeedMore(need(buf)));
    };
    let seq = raw.seq;
    let frame = match raw.op {
        op::HELLO_ACK => ServerFrame::HelloAck {
            seq,
            body: json(&raw)?,
        },
        op::LOGIN_ACK => ServerFrame::LoginAck {
            seq,
            body: json(&raw)?,
        },
        op::LOGOUT_ACK => ServerFrame::LogoutAck {
            seq,
            body: json(&raw)?,
        },
        op::PONG => {
            empty(&raw)?;
            ServerFrame::Pong { seq }
        }
        op::KICK_OTHER_ACK => ServerFrame::KickOtherAck {
            seq,
            body: json(&raw)?,
        },
        op::SERVER_TIME_ACK => ServerFrame::ServerTimeAck {
            seq,
            body: json(&raw)?,
        },
        op::PUSH_CONFIG_ACK => ServerFrame::PushConfigAck {
            seq,
            body: json(&raw)?,
        },
        op::PUSH_TOKEN_ACK => ServerFrame::PushTokenAck {
            seq,
            body: json(&raw)?,
        },
        op::PUSH_CONFIG => ServerFrame::PushConfig { body: json(&raw)? },
        op::KICKOUT => ServerFrame::Kickout { body: json(&raw)? },
        op::MULTISPOT => ServerFrame::MultiSpot { body: json(&raw)? },
        op::SEND_MSG_ACK => ServerFrame::SendMsgAck {
            seq,
            body: json(&raw)?,
        },
        op::SYNC_BATCH => ServerFrame::SyncBatch {
            seq,
            body: json(&raw)?,
        },
        op::SYSMSG_ACK => ServerFrame::SysMsgAck {
            seq,
            body: json(&raw)?,
        },
        op::SESSION_ACK => ServerFrame::SessionAck {
            seq,
            body: json(&raw)?,
        },
        op::HISTORY_RESULT => ServerFrame::HistoryResult {
            seq,
            body: json(&raw)?,
        },
        op::STICK_TOP_ACK => ServerFrame::StickTopAck {
            seq,
            body: json(&raw)?,
        },
        op::STICK_TOP_CHANGED => ServerFrame::StickTopChanged { body: json(&raw)? },
        op::SERVER_SESSION_ACK => ServerFrame::ServerSessionAck {
            seq,
            body: json(&raw)?,
        },
        op::SERVER_SESSION_CHANGED => ServerFrame::ServerSessionChanged { body: json(&raw)? },
        op::ENTRY => ServerFrame::Entry { body: json(&raw)? },
        op::ERROR => ServerFrame::Error {
            seq,
            body: json(&raw)?,
        },
        other => {
            return Err(DecodeError::UnknownOp {
                op: other,
                seq,
                consumed: raw.consumed,
            })
        }
    };
    Ok(Decoded::Frame(frame, raw.consumed))
}

fn put<T: Serialize>(
    out: &mut Vec<u8>,
    op: u8,
    seq: u32,
    body: Option<&T>,
    max_frame: u32,
) -> Result<usize, EncodeError> {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0, op]);
    out.extend_from_slice(&seq.to_be_bytes());
    if let Some(body) = body {
        if let Err(e) = serde_json::to_writer(&mut *out, body) {
            out.truncate(start);
            return Err(e.into());
        }
    }
    let len = out.len() - start - LEN_BYTES;
    if len > max_frame as usize {
        out.truncate(start);
        return Err(EncodeError::TooLarge {
            len,
            max: max_frame,
        });
    }
    out[start..start + LEN_BYTES].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(len + LEN_BYTES)
}

/// Appends a client frame to `out`; returns the bytes written.
pub fn encode_client(
    frame: &ClientFrame,
    out: &mut Vec<u8>,
    max_frame: u32,
) -> Result<usize, EncodeError> {
    let (op, seq) = (frame.op(), frame.seq());
    match frame {
        ClientFrame::Hello { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::Login { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::Logout { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::Ping { .. } => put::<()>(out, op, seq, None, max_frame),
        ClientFrame::KickOther { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::ServerTime { .. } | ClientFrame::GetPushConfig { .. } => {
            put::<()>(out, op, seq, None, max_frame)
        }
        ClientFrame::SetPushConfig { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::PushToken { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::SendMsg { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::Sync { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::CursorAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::SendSysMsg { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::SessionRead { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::SessionDelete { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::History { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::Receipt { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::Recall { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::DeleteSelf { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::ClearHistory { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::StickTop { body, .. } => put(out, op, seq, Some(body), max_frame),
        ClientFrame::ServerSession { body, .. } => put(out, op, seq, Some(body), max_frame),
    }
}

/// Appends a server frame to `out`; returns the bytes written.
pub fn encode_server(
    frame: &ServerFrame,
    out: &mut Vec<u8>,
    max_frame: u32,
) -> Result<usize, EncodeError> {
    let (op, seq) = (frame.op(), frame.seq());
    match frame {
        ServerFrame::HelloAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::LoginAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::LogoutAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::Pong { .. } => put::<()>(out, op, seq, None, max_frame),
        ServerFrame::KickOtherAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::ServerTimeAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::PushConfigAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::PushTokenAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::PushConfig { body } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::Kickout { body } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::MultiSpot { body } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::SendMsgAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::SyncBatch { body, .. } => put_sync_batch(out, seq, body, max_frame),
        ServerFrame::SysMsgAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::SessionAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::HistoryResult { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::StickTopAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::StickTopChanged { body } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::ServerSessionAck { body, .. } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::ServerSessionChanged { body } => put(out, op, seq, Some(body), max_frame),
        ServerFrame::Entry { body } => match body {
            EntryWire::Raw(text) => put_parts(out, op, seq, &[text.as_bytes()], max_frame),
            EntryWire::Decoded(e) => put(out, op, seq, Some(e), max_frame),
        },
        ServerFrame::Error { body, .. } => put(out, op, seq, Some(body), max_frame),
    }
}

/// Appends a frame whose payload is the concatenation of `parts`, already
/// JSON (the server's shared entry texts: written, not re-encoded).
fn put_parts(
    out: &mut Vec<u8>,
    op: u8,
    seq: u32,
    parts: &[&[u8]],
    max_frame: u32,
) -> Result<usize, EncodeError> {
    let len = HEAD_BYTES + parts.iter().map(|p| p.len()).sum::<usize>();
    if len > max_frame as usize {
        return Err(EncodeError::TooLarge {
            len,
            max: max_frame,
        });
    }
    out.reserve(LEN_BYTES + len);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.push(op);
    out.extend_from_slice(&seq.to_be_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    Ok(LEN_BYTES + len)
}

/// SYNC_BATCH: raw entries are written as they are, the rest by serde.
fn put_sync_batch(
    out: &mut Vec<u8>,
    seq: u32,
    b: &SyncBatch,
    max_frame: u32,
) -> Result<usize, EncodeError> {
    if !b.entries.iter().all(|e| matches!(e, EntryWire::Raw(_))) {
        return put(out, op::SYNC_BATCH, seq, Some(b), max_frame);
    }
    let head = format!(r#"{{"code":{},"entries":["#, b.code.0);
    let tail = format!(r#"],"from":{},"head":{}}}"#, b.from, b.head);
    let mut parts: Vec<&[u8]> = Vec::with_capacity(b.entries.len() * 2 + 2);
    parts.push(head.as_bytes());
    for (i, e) in b.entries.iter().enumerate() {
        if i > 0 {
            parts.push(b",");
        }
        if let EntryWire::Raw(text) = e {
            parts.push(text.as_bytes());
        }
    }
    parts.push(tail.as_bytes());
    put_parts(out, op::SYNC_BATCH, seq, &parts, max_frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::*;
    use crate::types::*;
    use proptest::prelude::*;

    const MAX: u32 = DEFAULT_MAX_FRAME;

    /// Found by the `client_payloads` fuzz target: an unknown numeric field
    /// that a client sends is carried on (NIM's extension keys), and must
    /// come out exactly as it went in (serde_json's `float_roundtrip`).
    #[test]
    fn unknown_float_fields_survive_a_decode_and_encode_exactly() {
        let payload = br#"{"sysmsg":{"msg_typE":50002000000000000000000000000000000000000000000000000000000000000,"to_account":"bob"}}"#;
        let mut frame = ((payload.len() + 5) as u32).to_be_bytes().to_vec();
        frame.push(crate::frame::op::SEND_SYSMSG);
        frame.extend_from_slice(&7u32.to_be_bytes());
        frame.extend_from_slice(payload);
        let Ok(Decoded::Frame(f, _)) = decode_client(&frame, MAX) else {
            panic!("decodes")
        };
        let mut out = Vec::new();
        encode_client(&f, &mut out, MAX).unwrap();
        let Ok(Decoded::Frame(g, _)) = decode_client(&out, MAX) else {
            panic!("decodes again")
        };
        assert_eq!(f, g);
    }

    fn s() -> impl Strategy<Value = String> {
        ".{0,40}"
    }

    fn presence() -> impl Strategy<Value = Presence> {
        (
            s(),
            any::<u32>(),
            s(),
            s(),
            s(),
            any::<i64>(),
            s(),
            any::<u32>(),
        )
            .prop_map(|(a, t, os, mac, dev, lt, tag, cct)| Presence {
                app_account: a,
                client_type: t,
                client_os: os,
                mac,
                device_id: dev,
                login_time: lt,
                custom_tag: tag,
                custom_client_type: cct,
            })
    }

    fn client_frame() -> impl Strategy<Value = ClientFrame> {
        prop_oneof![
            (any::<u32>(), any::<u16>(), any::<u16>(), s()).prop_map(|(seq, v, m, sdk)| {
                ClientFrame::Hello {
                    seq,
                    body: Hello {
                        version: v,
                        min_version: m,
                        sdk_version: sdk,
                    },
                }
            }),
            (
                any::<u32>(),
                (s(), s(), s(), any::<u32>(), any::<u32>(), s()),
                (s(), s(), s(), any::<u32>(), s(), s())
            )
                .prop_map(
                    |(seq, (app_key, account, token, auth_type, client_type, device_id), r)| {
                        ClientFrame::Login {
                            seq,
                            body: Box::new(LoginRequest {
                                app_key,
                                account,
                                token,
                                auth_type,
                                client_type,
                                device_id,
                                client_os: r.0,
                                mac: r.1,
                                custom_tag: r.2,
                                custom_client_type: r.3,
                                auto_login: r.5.len() % 2 == 1,
                                sdk_version: r.4,
                                login_ex: r.5,
                            }),
                        }
                    }
                ),
            (any::<u32>(), any::<u32>()).prop_map(|(seq, t)| ClientFrame::Logout {
                seq,
                body: LogoutRequest { logout_type: t }
            }),
            any::<u32>().prop_map(|seq| ClientFrame::Ping { seq }),
            (any::<u32>(), prop::collection::vec(s(), 0..4)).prop_map(|(seq, ids)| {
                ClientFrame::KickOther {
                    seq,
                    body: KickOtherRequest { device_ids: ids },
                }
            }),
            any::<u32>().prop_map(|seq| ClientFrame::ServerTime { seq }),
            any::<u32>().prop_map(|seq| ClientFrame::GetPushConfig { seq }),
            (any::<u32>(), any::<u32>()).prop_map(|(seq, v)| ClientFrame::SetPushConfig {
                seq,
                body: PushConfig { switch_open: v }
            }),
            (any::<u32>(), s(), s()).prop_map(|(seq, token, cer_name)| {
                ClientFrame::PushToken {
                    seq,
                    body: PushToken { token, cer_name },
                }
            }),
            (any::<u32>(), 1u32..5, any::<i64>(), any::<u32>(), s(), s()).prop_map(
                |(seq, action, t, limit, id, ext)| ClientFrame::ServerSession {
                    seq,
                    body: ServerSessionRequest {
                        action,
                        min_time: t,
                        max_time: t / 2,
                        need_last_msg: limit % 2 == 0,
                        limit,
                        to_type: limit % 3,
                        id: id.clone(),
                        ext,
                        sessions: if action == 4 {
                            vec![SessionKey { to_type: 0, id }]
                        } else {
                            Vec::new()
                        },
                    },
                }
            ),
            (any::<u32>(), 1u32..5, 0u32..2, s(), s()).prop_map(
                |(seq, action, to_type, id, ext)| ClientFrame::StickTop {
                    seq,
                    body: StickTopRequest {
                        action,
                        to_type,
                        id,
                        ext,
                    },
                }
            ),
        ]
    }

    fn server_frame() -> impl Strategy<Value = ServerFrame> {
        prop_oneof![
            (
                any::<u32>(),
                any::<u32>(),
                any::<u16>(),
                any::<u64>(),
                any::<i64>()
            )
                .prop_map(|(seq, c, v, hb, t)| ServerFrame::HelloAck {
                    seq,
                    body: HelloAck {
                        code: ResCode(c),
                        version: v,
                        heartbeat_ms: hb,
                        idle_timeout_ms: hb / 2,
                        max_frame: c,
                        server_time: t,
                    },
                }),
            (
                any::<u32>(),
                any::<u32>(),
                s(),
                any::<i64>(),
                prop::collection::vec(presence(), 0..4)
            )
                .prop_map(|(seq, c, desc, t, pres)| ServerFrame::LoginAck {
                    seq,
                    body: LoginAck {
                        code: ResCode(c),
                        desc,
                        server_time: t,
                        other_clients_pres: pres,
                        switch_open: c % 3,
                    },
                }),
            (any::<u32>(), any::<u32>(), any::<i64>()).prop_map(|(seq, c, t)| {
                ServerFrame::ServerTimeAck {
                    seq,
                    body: ServerTimeAck {
                        code: ResCode(c),
                        time: t,
                    },
                }
            }),
            (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(seq, c, v)| {
                ServerFrame::PushConfigAck {
                    seq,
                    body: PushConfigAck {
                        code: ResCode(c),
                        switch_open: v,
                    },
                }
            }),
            (any::<u32>(), any::<u32>()).prop_map(|(seq, c)| ServerFrame::PushTokenAck {
                seq,
                body: CodeAck { code: ResCode(c) }
            }),
            any::<u32>().prop_map(|v| ServerFrame::PushConfig {
                body: PushConfig { switch_open: v }
            }),
            (any::<u32>(), any::<u32>(), s(), s(), any::<i64>()).prop_map(
                |(seq, c, id, ext, t)| {
                    let info = StickTopInfo {
                        top: c % 2 == 0,
                        id,
                        to_type: c % 3,
                        ext,
                        create_time: t,
                        update_time: t,
                    };
                    ServerFrame::StickTopAck {
                        seq,
                        body: StickTopAck {
                            code: ResCode(c),
                            info: (c % 2 == 0).then(|| info.clone()),
                            list: if c % 3 == 0 { vec![info] } else { Vec::new() },
                        },
                    }
                }
            ),
            (any::<u32>(), any::<u32>(), s(), s(), any::<i64>()).prop_map(
                |(seq, c, id, ext, t)| {
                    let info = ServerSessionInfo {
                        to_type: c % 3,
                        id,
                        update_time: t,
                        ext: ext.clone(),
                        last_msg: (c % 2 == 0).then_some(ext),
                        last_msg_type: c % 2,
                    };
                    ServerFrame::ServerSessionAck {
                        seq,
                        body: Box::new(ServerSessionAck {
                            code: ResCode(c),
                            info: (c % 2 == 0).then(|| info.clone()),
                            list: if c % 3 == 0 { vec![info] } else { Vec::new() },
                            has_more: c % 5 == 0,
                        }),
                    }
                }
            ),
            (s(), any::<i64>()).prop_map(|(id, t)| ServerFrame::ServerSessionChanged {
                body: ServerSessionChanged {
                    info: ServerSessionInfo {
                        id,
                        update_time: t,
                        ..Default::default()
                    },
                },
            }),
            (1u32..4, s(), s()).prop_map(|(action, id, ext)| ServerFrame::StickTopChanged {
                body: StickTopChanged {
                    action,
                    info: StickTopInfo {
                        top: action != 3,
                        id,
                        to_type: 0,
                        ext,
                        create_time: 1,
                        update_time: 2,
                    },
                },
            }),
            (any::<u32>(), any::<u32>()).prop_map(|(seq, c)| ServerFrame::LogoutAck {
                seq,
                body: CodeAck { code: ResCode(c) }
            }),
            any::<u32>().prop_map(|seq| ServerFrame::Pong { seq }),
            (any::<u32>(), any::<u32>(), prop::collection::vec(s(), 0..4)).prop_map(
                |(seq, c, ids)| ServerFrame::KickOtherAck {
                    seq,
                    body: KickOtherAck {
                        err_code: ResCode(c),
                        device_ids: ids,
                    },
                }
            ),
            (any::<u32>(), any::<u32>(), s(), any::<u32>()).prop_map(|(t, r, d, c)| {
                ServerFrame::Kickout {
                    body: Kickout {
                        client_type: t,
                        reason_code: r,
                        reason_description: d,
                        custom_client_type: c,
                    },
                }
            }),
            (any::<u32>(), prop::collection::vec(presence(), 0..4)).prop_map(|(t, p)| {
                ServerFrame::MultiSpot {
                    body: MultiSpot {
                        multi_spot_notiy_type: t,
                        other_clients_pres: p,
                    },
                }
            }),
            (any::<u32>(), any::<u32>(), s(), any::<bool>()).prop_map(|(seq, c, d, f)| {
                ServerFrame::Error {
                    seq,
                    body: ErrorBody {
                        code: ResCode(c),
                        desc: d,
                        fatal: f,
                    },
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), max in 0u32..1024) {
            let _ = decode_client(&bytes, max);
            let _ = decode_server(&bytes, max);
        }

        #[test]
        fn framed_garbage_never_panics(op in any::<u8>(), seq in any::<u32>(), payload in prop::collection::vec(any::<u8>(), 0..256)) {
            let mut buf = ((payload.len() + 5) as u32).to_be_bytes().to_vec();
            buf.push(op);
            buf.extend_from_slice(&seq.to_be_bytes());
            buf.extend_from_slice(&payload);
            let _ = decode_client(&buf, MAX);
            let _ = decode_server(&buf, MAX);
        }

        #[test]
        fn client_frames_round_trip(frame in client_frame()) {
            let mut buf = Vec::new();
            let n = encode_client(&frame, &mut buf, MAX).unwrap();
            prop_assert_eq!(n, buf.len());
            prop_assert_eq!(decode_client(&buf, MAX).unwrap(), Decoded::Frame(frame, n));
        }

        #[test]
        fn server_frames_round_trip(frame in server_frame()) {
            let mut buf = Vec::new();
            let n = encode_server(&frame, &mut buf, MAX).unwrap();
            prop_assert_eq!(decode_server(&buf, MAX).unwrap(), Decoded::Frame(frame, n));
        }

        #[test]
        fn any_split_point_yields_the_same_frames(frames in prop::collection::vec(client_frame(), 1..5), cut in any::<prop::sample::Index>()) {
            let mut wire = Vec::new();
            for f in &frames {
                encode_client(f, &mut wire, MAX).unwrap();
            }
            let cut = cut.index(wire.len() + 1);
            // Feed the stream in two pieces, decoding greedily as a reader would.
            let mut buf = Vec::new();
            let mut got = Vec::new();
            for piece in [&wire[..cut], &wire[cut..]] {
                buf.extend_from_slice(piece);
                while let Decoded::Frame(f, n) = decode_client(&buf, MAX).unwrap() {
                    got.push(f);
                    buf.drain(..n);
                }
            }
            prop_assert!(buf.is_empty());
            prop_assert_eq!(got, frames);
        }
    }

    #[test]
    fn oversized_length_is_rejected_before_the_body_arrives() {
        let buf = (MAX + 1).to_be_bytes();
        let err = decode_client(&buf, MAX).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge { .. }));
        assert_eq!(err.code(), ResCode::OVERRUN);
    }

    #[test]
    fn short_length_and_partial_frames() {
        assert!(matches!(
            decode_client(&[0, 0, 0, 2, 1, 2], MAX),
            Err(DecodeError::TooShort { len: 2 })
        ));
        assert_eq!(decode_client(&[0, 0], MAX).unwrap(), Decoded::NeedMore(4));
        assert_eq!(
            decode_client(&[0, 0, 0, 9, 1], MAX).unwrap(),
            Decoded::NeedMore(13)
        );
    }

    #[test]
    fn unknown_op_is_skippable_and_bad_json_is_not() {
        let mut buf = vec![0, 0, 0, 5, 0x7f, 0, 0, 0, 9];
        let err = decode_client(&buf, MAX).unwrap_err();
        assert_eq!(err.skippable(), Some(9));
        assert_eq!(err.seq(), 9);
        buf = vec![0, 0, 0, 7, op::LOGIN, 0, 0, 0, 3, b'{', b'x'];
        let err = decode_client(&buf, MAX).unwrap_err();
        assert_eq!(err.skippable(), None);
        assert_eq!(err.code(), ResCode::E_UNPACKET);
        assert_eq!(err.seq(), 3);
    }

    #[test]
    fn encoding_past_the_maximum_fails_and_leaves_the_buffer_alone() {
        let frame = ClientFrame::Login {
            seq: 1,
            body: Box::new(LoginRequest {
                token: "x".repeat(200),
                ..Default::default()
            }),
        };
        let mut out = vec![1, 2, 3];
        assert!(matches!(
            encode_client(&frame, &mut out, 100),
            Err(EncodeError::TooLarge { .. })
        ));
        assert_eq!(out, vec![1, 2, 3]);
    }
}
