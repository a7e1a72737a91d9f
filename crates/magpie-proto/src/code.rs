//! NIM result codes (`NIMResCode`), as numbers on the wire and in JSON.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A NIM result code. Server codes are below 10000; client-local codes
/// (network down, not initialised, ...) are 10000 and above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(transparent)]
pub struct ResCode(pub u32);

impl ResCode {
    /// kNIMResError: generic error.
    pub const ERROR: ResCode = ResCode(0);
    /// kNIMResSuccess.
    pub const SUCCESS: ResCode = ResCode(200);
    /// kNIMResVersionError: no common protocol version.
    pub const VERSION_ERROR: ResCode = ResCode(201);
    /// kNIMResUidPassError: wrong account or token (also a replaced token).
    pub const UID_PASS_ERROR: ResCode = ResCode(302);
    /// kNIMResForbidden: unknown app key, or not allowed.
    pub const FORBIDDEN: ResCode = ResCode(403);
    /// kNIMResNotExist: the target does not exist.
    pub const NOT_EXIST: ResCode = ResCode(404);
    /// kNIMResTimeoutError: request timed out (retryable).
    pub const TIMEOUT: ResCode = ResCode(408);
    /// kNIMResParameterError: bad parameter.
    pub const PARAMETER_ERROR: ResCode = ResCode(414);
    /// kNIMResConnectionError: network connection error (retryable).
    pub const CONNECTION_ERROR: ResCode = ResCode(415);
    /// kNIMResFrequently: too frequent.
    pub const FREQUENTLY: ResCode = ResCode(416);
    /// kNIMResExist: already exists / duplicate.
    pub const EXIST: ResCode = ResCode(417);
    /// kNIMResOverrun: over a limit (used for oversized frames).
    pub const OVERRUN: ResCode = ResCode(419);
    /// kNIMResAccountBlock: the account is blocked.
    pub const ACCOUNT_BLOCK: ResCode = ResCode(422);
    /// kNIMResUnknownError.
    pub const UNKNOWN_ERROR: ResCode = ResCode(500);
    /// kNIMResServerDataError.
    pub const SERVER_DATA_ERROR: ResCode = ResCode(501);
    /// kNIMResTooBuzy: server too busy (transient).
    pub const TOO_BUSY: ResCode = ResCode(503);
    /// kNIMResInvalid: operation not allowed in this protocol state.
    pub const INVALID: ResCode = ResCode(509);
    /// kNIMResInvalidProtocol: the frame is not a Magpie frame.
    pub const INVALID_PROTOCOL: ResCode = ResCode(997);
    /// kNIMResEUnpacket: the frame could not be decoded.
    pub const E_UNPACKET: ResCode = ResCode(998);
    /// kNIMResEPacket: a frame could not be encoded.
    pub const E_PACKET: ResCode = ResCode(999);
    /// kNIMLocalResNetworkError: the local network is down.
    pub const LOCAL_NETWORK_ERROR: ResCode = ResCode(10010);
    /// kNIMLocalResAPIErrorInitUndone: SDK not initialised.
    pub const LOCAL_INIT_UNDONE: ResCode = ResCode(20000);
    /// kNIMLocalResAPIErrorLoginUndone: not logged in.
    pub const LOCAL_LOGIN_UNDONE: ResCode = ResCode(20001);
    /// kNIMLocalResAPIErrorLogined: already logged in.
    pub const LOCAL_LOGINED: ResCode = ResCode(20002);

    /// True for 200.
    pub fn is_success(self) -> bool {
        self == Self::SUCCESS
    }
}

impl fmt::Display for ResCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<ResCode> for u32 {
    fn from(c: ResCode) -> u32 {
        c.0
    }
}
