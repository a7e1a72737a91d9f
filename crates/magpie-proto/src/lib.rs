//! The Magpie wire protocol, shared by the server and the SDK.
//!
//! A connection carries length-prefixed frames (see `docs/protocol.md` at the
//! repository root). This crate holds the frame types ([`ClientFrame`],
//! [`ServerFrame`]), the pure codec ([`codec`]), NIM's result codes
//! ([`ResCode`]), NIM's enums and payload shapes ([`types`] for login,
//! [`msg`] for messaging) and NIM's signatures ([`sign`]). It has no
//! sockets, no async runtime and no clock: every function takes bytes and
//! returns bytes or values, so it can be property-tested and fuzzed.

pub mod code;
pub mod codec;
pub mod frame;
pub mod msg;
pub mod sign;
pub mod types;

pub use code::ResCode;
pub use codec::{DecodeError, Decoded, DEFAULT_MAX_FRAME};
pub use frame::{ClientFrame, ServerFrame};

/// The protocol version this crate speaks. A client names the versions it
/// speaks in its hello; the server picks the highest one both sides know.
/// Version 2 adds SERVER_TIME, the multiport push switch (and its PUSH_CONFIG
/// push, sent to version 2 SDKs only) and PUSH_TOKEN; version 3 adds
/// STICK_TOP (and its STICK_TOP_CHANGED push, sent to version 3 SDKs only);
/// version 4 adds DELETE_SELF and CLEAR_HISTORY, and the `delete_self` log
/// entry (left out of the sync of older SDKs); version 5 adds SERVER_SESSION
/// (and its SERVER_SESSION_CHANGED push, sent to version 5 SDKs only) and
/// HISTORY's `keyword`.
pub const PROTOCOL_VERSION: u16 = 5;
/// The lowest protocol version this crate still accepts.
pub const MIN_PROTOCOL_VERSION: u16 = 1;
