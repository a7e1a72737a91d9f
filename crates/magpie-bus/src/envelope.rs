//! What travels from the directory to a connection, on this node or another:
//! one serialisable, versioned type, defined once.
//!
//! On the wire (between nodes) an envelope is a JSON object:
//! `{"v":1,"to":{"node":N,"conn":C},"push":{"type":"kickout","body":{...}}}`.
//! A node refuses an envelope of a newer version than it knows, and one
//! whose push type it does not know, with an [`EnvelopeError`]; the sender's
//! log and the receiver's drop it, never a connection.

use crate::addr::DeviceAddr;
use magpie_proto::frame::{ServerSessionChanged, StickTopChanged};
use magpie_proto::msg::{SendMsgAck, SessionChangeAck, SysMsgAck};
use magpie_proto::types::{Kickout, MultiSpot};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The envelope version this build writes and the newest it reads.
pub const ENVELOPE_VERSION: u16 = 1;

/// What a connection is asked to do.
///
/// Every connection's outbox allocates room for a block of pushes when it
/// opens, so pushes stay small: the answers (large) are boxed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "body", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Push {
    /// Write the kick-out push, then close: the session is already gone
    /// from the directory.
    Kickout(Kickout),
    /// Another device of the account came or went: write the multispot push.
    MultiSpot(MultiSpot),
    /// The same device logged in on another connection: say so (ERROR 417,
    /// fatal) and close without touching the directory.
    Replaced,
    /// An entry of the account's log, or (with seq 0) a message or custom
    /// notification for online devices only: its JSON text, built once and
    /// shared by every device it goes to.
    Entry(Arc<str>),
    /// The answer to a message this connection sent (request seq, NIM's ack).
    SendMsgAck(u32, Box<SendMsgAck>),
    /// The answer to a custom notification this connection sent.
    SysMsgAck(u32, Box<SysMsgAck>),
    /// The answer to a session change this connection asked for.
    SessionAck(u32, Box<SessionChangeAck>),
    /// Another device of the account changed a session on top.
    StickTop(Box<StickTopChanged>),
    /// Another device of the account changed a server-side session.
    ServerSession(Box<ServerSessionChanged>),
    /// Another device of the account set the multiport push switch (NIM's
    /// `switch_open`, 1 or 2).
    PushConfig(u32),
}

/// A push addressed to one device's connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Format version ([`ENVELOPE_VERSION`]).
    pub v: u16,
    /// The connection it is for.
    pub to: DeviceAddr,
    /// What to do.
    pub push: Push,
}

/// An envelope that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Not an envelope, or a push this build does not know.
    #[error("unreadable envelope: {0}")]
    Malformed(#[from] serde_json::Error),
    /// Written by a newer node.
    #[error("envelope version {0} is newer than this node reads ({ENVELOPE_VERSION})")]
    TooNew(u16),
}

impl Envelope {
    /// An envelope of the current version.
    pub fn new(to: DeviceAddr, push: Push) -> Envelope {
        Envelope {
            v: ENVELOPE_VERSION,
            to,
            push,
        }
    }

    /// The bytes sent between nodes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("envelopes serialise")
    }

    /// Reads the bytes of [`Envelope::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        #[derive(Deserialize)]
        struct Version {
            v: u16,
        }
        let Version { v } = serde_json::from_slice(bytes)?;
        if v > ENVELOPE_VERSION {
            return Err(EnvelopeError::TooNew(v));
        }
        Ok(serde_json::from_slice(bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::NodeId;
    use magpie_proto::types::Presence;

    #[test]
    fn pushes_stay_small_for_every_outbox() {
        // An outbox allocates a block of 32 pushes when it opens: at 48
        // bytes a push, 1.5 KiB of every idle connection.
        assert!(
            std::mem::size_of::<Push>() <= 48,
            "Push is {} bytes: box the large variant",
            std::mem::size_of::<Push>()
        );
    }

    #[test]
    fn envelopes_round_trip_and_refuse_what_they_cannot_read() {
        let to = DeviceAddr {
            node: NodeId(7),
            conn: 42,
        };
        for push in [
            Push::Kickout(Kickout::by_server("bye")),
            Push::MultiSpot(MultiSpot {
                multi_spot_notiy_type: 2,
                other_clients_pres: vec![Presence {
                    app_account: "a".into(),
                    device_id: "d".into(),
                    ..Default::default()
                }],
            }),
            Push::Replaced,
            Push::PushConfig(1),
            Push::ServerSession(Box::new(ServerSessionChanged {
                info: magpie_proto::frame::ServerSessionInfo {
                    id: "bob".into(),
                    update_time: 3,
                    ext: "e".into(),
                    ..Default::default()
                },
            })),
            Push::StickTop(Box::new(StickTopChanged {
                action: 1,
                info: magpie_proto::frame::StickTopInfo {
                    top: true,
                    id: "bob".into(),
                    to_type: 0,
                    ext: "x".into(),
                    create_time: 1,
                    update_time: 2,
                },
            })),
        ] {
            let e = Envelope::new(to, push);
            assert_eq!(Envelope::decode(&e.encode()).unwrap(), e);
        }
        let text = String::from_utf8(Envelope::new(to, Push::Replaced).encode()).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"to":{"node":7,"conn":42},"push":{"type":"replaced"}}"#
        );
        assert!(matches!(
            Envelope::decode(br#"{"v":2,"to":{"node":7,"conn":42},"push":{"type":"replaced"}}"#),
            Err(EnvelopeError::TooNew(2))
        ));
        assert!(matches!(
            Envelope::decode(br#"{"v":1,"to":{"node":7,"conn":42},"push":{"type":"teleport"}}"#),
            Err(EnvelopeError::Malformed(_))
        ));
    }
}
