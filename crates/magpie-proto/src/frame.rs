//! The frames of a connection, one enum per direction.
//!
//! Every frame has an operation code and a sequence number. A request's
//! response carries the request's `seq`; pushes carry `seq` 0.

use crate::code::ResCode;
use crate::msg::{
    ClearHistoryReq, CursorAck, DeleteSelfReq, EntryWire, HistoryQuery, HistoryResult, RecallReq,
    Receipt, SendMsg, SendMsgAck, SendSysMsg, SessionChange, SessionChangeAck, SyncBatch,
    SyncRequest, SysMsgAck,
};
use crate::types::{Kickout, MultiSpot, Presence};
use serde::{Deserialize, Serialize};

/// Operation codes on the wire.
pub mod op {
    /// Client hello (version handshake). Must be the first frame.
    pub const HELLO: u8 = 0x01;
    /// Client login request.
    pub const LOGIN: u8 = 0x02;
    /// Client logout request.
    pub const LOGOUT: u8 = 0x03;
    /// Client heartbeat.
    pub const PING: u8 = 0x04;
    /// Kick other devices of my account.
    pub const KICK_OTHER: u8 = 0x05;
    /// Ask the server's clock (NIM's get_server_current_time).
    pub const SERVER_TIME: u8 = 0x06;
    /// Set the account's multiport push switch (synced to my other devices).
    pub const SET_PUSH_CONFIG: u8 = 0x07;
    /// Read the account's multiport push switch.
    pub const GET_PUSH_CONFIG: u8 = 0x08;
    /// Store this device's push token (NIM's update_apns_token).
    pub const PUSH_TOKEN: u8 = 0x09;
    /// Send a message.
    pub const SEND_MSG: u8 = 0x10;
    /// Ask for my log after a cursor.
    pub const SYNC: u8 = 0x11;
    /// Report the log position this device has applied.
    pub const CURSOR_ACK: u8 = 0x12;
    /// Send a custom system notification.
    pub const SEND_SYSMSG: u8 = 0x13;
    /// Mark a session read (synced to my other devices).
    pub const SESSION_READ: u8 = 0x14;
    /// Delete a session (synced to my other devices).
    pub const SESSION_DELETE: u8 = 0x15;
    /// Query the server's history of a session.
    pub const HISTORY: u8 = 0x16;
    /// Send a P2P read receipt (answered with SESSION_ACK).
    pub const RECEIPT: u8 = 0x17;
    /// Recall a message I sent (answered with SESSION_ACK).
    pub const RECALL: u8 = 0x18;
    /// Stick a session on top, change or cancel that, or list the stuck
    /// sessions (answered with STICK_TOP_ACK).
    pub const STICK_TOP: u8 = 0x19;
    /// Delete one message for me only, here and on the server (answered
    /// with SESSION_ACK).
    pub const DELETE_SELF: u8 = 0x1A;
    /// Clear my server history of a session (answered with SESSION_ACK).
    pub const CLEAR_HISTORY: u8 = 0x1B;
    /// List, read, change or delete my server-side sessions (answered with
    /// SERVER_SESSION_ACK).
    pub const SERVER_SESSION: u8 = 0x1C;
    /// Server answer to HELLO.
    pub const HELLO_ACK: u8 = 0x81;
    /// Server answer to LOGIN.
    pub const LOGIN_ACK: u8 = 0x82;
    /// Server answer to LOGOUT.
    pub const LOGOUT_ACK: u8 = 0x83;
    /// Server answer to PING.
    pub const PONG: u8 = 0x84;
    /// Server answer to KICK_OTHER.
    pub const KICK_OTHER_ACK: u8 = 0x85;
    /// Server answer to SERVER_TIME.
    pub const SERVER_TIME_ACK: u8 = 0x86;
    /// Server answer to SET_PUSH_CONFIG and GET_PUSH_CONFIG.
    pub const PUSH_CONFIG_ACK: u8 = 0x87;
    /// Server answer to PUSH_TOKEN.
    pub const PUSH_TOKEN_ACK: u8 = 0x89;
    /// Server answer to SEND_MSG (NIM's send ack).
    pub const SEND_MSG_ACK: u8 = 0x90;
    /// Server answer to SYNC: a batch of my log.
    pub const SYNC_BATCH: u8 = 0x91;
    /// Server answer to SEND_SYSMSG.
    pub const SYSMSG_ACK: u8 = 0x93;
    /// Server answer to SESSION_READ and SESSION_DELETE.
    pub const SESSION_ACK: u8 = 0x94;
    /// Server answer to HISTORY.
    pub const HISTORY_RESULT: u8 = 0x96;
    /// Server answer to STICK_TOP.
    pub const STICK_TOP_ACK: u8 = 0x97;
    /// Server answer to SERVER_SESSION.
    pub const SERVER_SESSION_ACK: u8 = 0x98;
    /// Push: this device was kicked out.
    pub const KICKOUT: u8 = 0xA0;
    /// Push: another device of the account came or went.
    pub const MULTISPOT: u8 = 0xA1;
    /// Push: a new entry of my log (or, with seq 0, a message or custom
    /// notification for online devices only).
    pub const ENTRY: u8 = 0xA2;
    /// Push: another device of the account changed the multiport push switch.
    pub const PUSH_CONFIG: u8 = 0xA3;
    /// Push: another device of the account stuck a session on top, changed
    /// or cancelled that.
    pub const STICK_TOP_CHANGED: u8 = 0xA4;
    /// Push: another device of the account changed a server-side session's
    /// extension.
    pub const SERVER_SESSION_CHANGED: u8 = 0xA5;
    /// Server error for a frame it could not accept.
    pub const ERROR: u8 = 0xEE;
}

/// The client's hello: which protocol versions it speaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Highest protocol version the client speaks.
    pub version: u16,
    /// Lowest protocol version the client speaks.
    #[serde(default = "default_min_version")]
    pub min_version: u16,
    /// SDK name and version, for logs and diagnostics.
    #[serde(default)]
    pub sdk_version: String,
}

fn default_min_version() -> u16 {
    1
}

/// The server's answer to a hello.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloAck {
    /// 200, or 201 when no version is common.
    pub code: ResCode,
    /// The chosen protocol version.
    pub version: u16,
    /// How often the client should send a heartbeat, in ms.
    pub heartbeat_ms: u64,
    /// The server closes a connection silent for longer than this, in ms.
    pub idle_timeout_ms: u64,
    /// The largest frame the server accepts (length prefix value).
    pub max_frame: u32,
    /// Server time, ms since the epoch.
    pub server_time: i64,
}

/// A login request: NIM's login arguments plus the init-time device facts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoginRequest {
    /// The app key.
    pub app_key: String,
    /// The account (accid).
    pub account: String,
    /// The token; its meaning depends on `auth_type`.
    pub token: String,
    /// NIMAuthType: 0 static, 1 dynamic, 2 third-party.
    pub auth_type: u32,
    /// NIMClientType of this device.
    pub client_type: u32,
    /// Device id, stable per installation.
    pub device_id: String,
    /// OS string.
    pub client_os: String,
    /// MAC address.
    pub mac: String,
    /// Custom login data, shown to the account's other devices.
    pub custom_tag: String,
    /// App-defined client type, 0 for none.
    pub custom_client_type: u32,
    /// SDK version string.
    pub sdk_version: String,
    /// Extra data for the third-party callback (auth_type 2).
    pub login_ex: String,
    /// True for the SDK's automatic re-login (NIM's callback `autoLogin`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auto_login: bool,
}

/// The server's answer to a login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginAck {
    /// NIM result code.
    pub code: ResCode,
    /// Readable reason for a failure (empty on success).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub desc: String,
    /// Server time, ms since the epoch.
    pub server_time: i64,
    /// The account's other online devices (on success).
    #[serde(default)]
    pub other_clients_pres: Vec<Presence>,
    /// The account's multiport push switch (NIM's `switch_open`: 1 the
    /// desktop online mutes mobile push, 2 it does not), on success; 0
    /// from servers that do not send it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub switch_open: u32,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// The server's clock: answer to SERVER_TIME.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerTimeAck {
    /// NIM result code.
    pub code: ResCode,
    /// Server time, ms since the epoch.
    pub time: i64,
}

/// NIM's multiport push switch, `{"switch_open":1|2}`: the body of
/// SET_PUSH_CONFIG and of the PUSH_CONFIG push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushConfig {
    /// 1: while a desktop device is online, mobile devices get no push;
    /// 2: they still do.
    pub switch_open: u32,
}

/// Answer to SET_PUSH_CONFIG and GET_PUSH_CONFIG: the code and the switch
/// as it now is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushConfigAck {
    /// NIM result code.
    pub code: ResCode,
    /// The switch (1 or 2; 0 with a failure).
    pub switch_open: u32,
}

/// What STICK_TOP asks (`action`, one of [`stick_top_action`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickTopRequest {
    /// Set, update, cancel or list.
    pub action: u32,
    /// NIMSessionType of the session (not for a list).
    #[serde(default)]
    pub to_type: u32,
    /// The session id (not for a list).
    #[serde(default)]
    pub id: String,
    /// The app's extension (set and update).
    #[serde(default)]
    pub ext: String,
}

/// STICK_TOP's actions, also the kind of a STICK_TOP_CHANGED push.
pub mod stick_top_action {
    /// Stick a session on top (or, when it is, replace its extension).
    pub const SET: u32 = 1;
    /// Change the extension of a session on top.
    pub const UPDATE: u32 = 2;
    /// Take a session off the top.
    pub const CANCEL: u32 = 3;
    /// The account's sessions on top.
    pub const LIST: u32 = 4;
}

/// NIM's stick-top information (`StickTopSessionInfo`), with NIM's keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickTopInfo {
    /// On top (false in a cancellation).
    pub top: bool,
    /// The session id.
    pub id: String,
    /// NIMSessionType.
    #[serde(rename = "type")]
    pub to_type: u32,
    /// The app's extension.
    #[serde(default)]
    pub ext: String,
    /// When it was stuck on top, ms.
    #[serde(default)]
    pub create_time: i64,
    /// When it was last set or updated, ms.
    #[serde(default)]
    pub update_time: i64,
}

/// Answer to STICK_TOP: the code, the session's information (set, update,
/// cancel) or the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickTopAck {
    /// NIM result code.
    pub code: ResCode,
    /// The session as it now is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<StickTopInfo>,
    /// The account's sessions on top, newest first (LIST).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub list: Vec<StickTopInfo>,
}

/// Push: a change another device made (`action` SET, UPDATE or CANCEL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickTopChanged {
    /// What was done.
    pub action: u32,
    /// The session as it now is.
    pub info: StickTopInfo,
}

/// SERVER_SESSION: NIM's session service (`nim_session_online_service_*`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSessionRequest {
    /// One of [`server_session_action`].
    pub action: u32,
    /// LIST: earliest update time, ms (0: no bound).
    #[serde(default)]
    pub min_time: i64,
    /// LIST: update times before this, ms (0: no bound).
    #[serde(default)]
    pub max_time: i64,
    /// LIST: with each session's last message.
    #[serde(default)]
    pub need_last_msg: bool,
    /// LIST: most sessions (0: the most, 100).
    #[serde(default)]
    pub limit: u32,
    /// GET and UPDATE: NIMSessionType.
    #[serde(default)]
    pub to_type: u32,
    /// GET and UPDATE: the session id.
    #[serde(default)]
    pub id: String,
    /// UPDATE: the app's extension.
    #[serde(default)]
    pub ext: String,
    /// DELETE: the sessions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<SessionKey>,
}

/// SERVER_SESSION's actions.
pub mod server_session_action {
    /// A page of the account's sessions, newest first.
    pub const LIST: u32 = 1;
    /// One session.
    pub const GET: u32 = 2;
    /// Set a session's extension.
    pub const UPDATE: u32 = 3;
    /// Delete sessions.
    pub const DELETE: u32 = 4;
}

/// A session named by type and id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionKey {
    /// NIMSessionType.
    pub to_type: u32,
    /// The session id.
    pub id: String,
}

/// One server-side session as the protocol carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSessionInfo {
    /// NIMSessionType.
    pub to_type: u32,
    /// The session id.
    pub id: String,
    /// Its last message or extension change, ms.
    pub update_time: i64,
    /// The app's extension.
    #[serde(default)]
    pub ext: String,
    /// The last message's JSON, as delivered (absent when not asked for,
    /// deleted for this account or removed by retention).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_msg: Option<String>,
    /// 1 when the last message was recalled (NIM's `last_message_type`).
    #[serde(default)]
    pub last_msg_type: u32,
}

/// Answer to SERVER_SESSION.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSessionAck {
    /// NIM result code.
    pub code: ResCode,
    /// GET: the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<ServerSessionInfo>,
    /// LIST: the page, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub list: Vec<ServerSessionInfo>,
    /// LIST: more sessions beyond this page.
    #[serde(default)]
    pub has_more: bool,
}

/// Push: another device of the account changed a session's extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSessionChanged {
    /// The session as it now is (without its last message).
    pub info: ServerSessionInfo,
}

/// A device's push token (NIM's `update_apns_token`), kept per device for
/// the push service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushToken {
    /// The token the platform's push service gave the app (empty removes it).
    pub token: String,
    /// The app's push certificate name (NIM's `push_cer_name`), if any.
    #[serde(default)]
    pub cer_name: String,
}

/// A logout request with NIM's logout type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutRequest {
    /// NIMLogoutType (1..=4).
    pub logout_type: u32,
}

/// Kick other devices of my account (NIM's kick_other_client).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KickOtherRequest {
    /// Device ids to kick.
    pub device_ids: Vec<String>,
}

/// The answer to a kick-other request: `{"err_code":200,"device_ids":[...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KickOtherAck {
    /// NIM result code.
    pub err_code: ResCode,
    /// The devices that were kicked.
    pub device_ids: Vec<String>,
}

/// A result carrying only a code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeAck {
    /// NIM result code.
    pub code: ResCode,
}

/// An error about a frame the server could not accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// NIM result code (998 undecodable, 419 oversized, 997 not a Magpie frame, ...).
    pub code: ResCode,
    /// Readable description.
    pub desc: String,
    /// True when the server closes the connection after this frame.
    #[serde(default)]
    pub fatal: bool,
}

/// A frame from the client to the server.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ClientFrame {
    /// Version handshake; the first frame of a connection.
    Hello {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: Hello,
    },
    /// Login.
    Login {
        /// Sequence number.
        seq: u32,
        /// Body (boxed: it is by far the largest client frame).
        body: Box<LoginRequest>,
    },
    /// Logout.
    Logout {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: LogoutRequest,
    },
    /// Heartbeat.
    Ping {
        /// Sequence number.
        seq: u32,
    },
    /// Kick other devices of my account.
    KickOther {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: KickOtherRequest,
    },
    /// Ask the server's clock.
    ServerTime {
        /// Sequence number.
        seq: u32,
    },
    /// Set the multiport push switch.
    SetPushConfig {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: PushConfig,
    },
    /// Read the multiport push switch.
    GetPushConfig {
        /// Sequence number.
        seq: u32,
    },
    /// Store this device's push token.
    PushToken {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: PushToken,
    },
    /// Send a message.
    SendMsg {
        /// Sequence number.
        seq: u32,
        /// Body (boxed: a message is large).
        body: Box<SendMsg>,
    },
    /// Ask for my log after a cursor.
    Sync {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: SyncRequest,
    },
    /// Report the log position this device has applied (no answer).
    CursorAck {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: CursorAck,
    },
    /// Send a custom system notification.
    SendSysMsg {
        /// Sequence number.
        seq: u32,
        /// Body (boxed).
        body: Box<SendSysMsg>,
    },
    /// Mark a session read.
    SessionRead {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: SessionChange,
    },
    /// Delete a session.
    SessionDelete {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: SessionChange,
    },
    /// Query the server's history of a session.
    History {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: HistoryQuery,
    },
    /// Tell a peer I have read its messages up to a time.
    Receipt {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: Receipt,
    },
    /// Recall a message I sent.
    Recall {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: RecallReq,
    },
    /// Stick-top sessions.
    StickTop {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: StickTopRequest,
    },
    /// NIM's session service.
    ServerSession {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: ServerSessionRequest,
    },
    /// Delete one message for me only.
    DeleteSelf {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: DeleteSelfReq,
    },
    /// Clear my server history of a session.
    ClearHistory {
        /// Sequence number.
        seq: u32,
        /// Body.
        body: ClearHistoryReq,
    },
}

impl ClientFrame {
    /// The frame's sequence number.
    pub fn seq(&self) -> u32 {
        match self {
            ClientFrame::Hello { seq, .. }
            | ClientFrame::Login { seq, .. }
            | ClientFrame::Logout { seq, .. }
            | ClientFrame::Ping { seq }
            | ClientFrame::KickOther { seq, .. }
            | ClientFrame::ServerTime { seq }
            | ClientFrame::SetPushConfig { seq, .. }
            | ClientFrame::GetPushConfig { seq }
            | ClientFrame::PushToken { seq, .. }
            | ClientFrame::SendMsg { seq, .. }
            | ClientFrame::Sync { seq, .. }
            | ClientFrame::CursorAck { seq, .. }
            | ClientFrame::SendSysMsg { seq, .. }
            | ClientFrame::SessionRead { seq, .. }
            | ClientFrame::SessionDelete { seq, .. }
            | ClientFrame::History { seq, .. }
            | ClientFrame::Receipt { seq, .. }
            | ClientFrame::Recall { seq, .. }
            | ClientFrame::StickTop { seq, .. }
            | ClientFrame::ServerSession { seq, .. }
            | ClientFrame::DeleteSelf { seq, .. }
            | ClientFrame::ClearHistory { seq, .. } => *seq,
        }
    }

    /// The frame's operation code.
    pub fn op(&self) -> u8 {
        match self {
            ClientFrame::Hello { .. } => op::HELLO,
            ClientFrame::Login { .. } => op::LOGIN,
            ClientFrame::Logout { .. } => op::LOGOUT,
            ClientFrame::Ping { .. } => op::PING,
            ClientFrame::KickOther { .. } => op::KICK_OTHER,
            ClientFrame::ServerTime { .. } => op::SERVER_TIME,
            ClientFrame::SetPushConfig { .. } => op::SET_PUSH_CONFIG,
            ClientFrame::GetPushConfig { .. } => op::GET_PUSH_CONFIG,
            ClientFrame::PushToken { .. } => op::PUSH_TOKEN,
            ClientFrame::SendMsg { .. } => op::SEND_MSG,
            ClientFrame::Sync { .. } => op::SYNC,
            ClientFrame::CursorAck { .. } => op::CURSOR_ACK,
            ClientFrame::SendSysMsg { .. } => op::SEND_SYSMSG,
            ClientFrame::SessionRead { .. } => op::SESSION_READ,
            ClientFrame::SessionDelete { .. } => op::SESSION_DELETE,
            ClientFrame::History { .. } => op::HISTORY,
            ClientFrame::Receipt { .. } => op::RECEIPT,
            ClientFrame::Recall { .. } => op::RECALL,
            ClientFrame::StickTop { .. } => op::STICK_TOP,
            ClientFrame::ServerSession { .. } => op::SERVER_SESSION,
            ClientFrame::DeleteSelf { .. } => op::DELETE_SELF,
            ClientFrame::ClearHistory { .. } => op::CLEAR_HISTORY,
        }
    }
}

/// A frame from the server to the client.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerFrame {
    /// Answer to a hello.
    HelloAck {
        /// Sequence number of the hello.
        seq: u32,
        /// Body.
        body: HelloAck,
    },
    /// Answer to a login.
    LoginAck {
        /// Sequence number of the login.
        seq: u32,
        /// Body.
        body: LoginAck,
    },
    /// Answer to a logout; the server closes after it.
    LogoutAck {
        /// Sequence number of the logout.
        seq: u32,
        /// Body.
        body: CodeAck,
    },
    /// Answer to a ping.
    Pong {
        /// Sequence number of the ping.
        seq: u32,
    },
    /// Answer to a kick-other request.
    KickOtherAck {
        /// Sequence number of the request.
        seq: u32,
        /// Body.
        body: KickOtherAck,
    },
    /// Answer to SERVER_TIME.
    ServerTimeAck {
        /// Sequence number of the request.
        seq: u32,
        /// Body.
        body: ServerTimeAck,
    },
    /// Answer to SET_PUSH_CONFIG or GET_PUSH_CONFIG.
    PushConfigAck {
        /// Sequence number of the request.
        seq: u32,
        /// Body.
        body: PushConfigAck,
    },
    /// Answer to PUSH_TOKEN.
    PushTokenAck {
        /// Sequence number of the request.
        seq: u32,
        /// Body.
        body: CodeAck,
    },
    /// Push: another device of the account changed the multiport push switch.
    PushConfig {
        /// Body.
        body: PushConfig,
    },
    /// Push: this device was kicked; the server closes after it.
    Kickout {
        /// Body.
        body: Kickout,
    },
    /// Push: another device of the account came or went.
    MultiSpot {
        /// Body.
        body: MultiSpot,
    },
    /// Answer to a message send (NIM's send ack).
    SendMsgAck {
        /// Sequence number of the request.
        seq: u32,
        /// Body.
        body: SendMsgAck,
    },
    /// Answer to a sync: a batch of my log.
    SyncBatch {
        /// Sequence number of the request.
        seq: u32,
        /// Body.
        body: SyncBatch,
    },
    /// Answer to a custom notification send.
    SysMsgAck {
        /// Sequence number of the request.
        seq: u32,
        /// Body.
        body: SysMsgAck,
    },
    /// Answer to a session read or delete.
    SessionAck {
        /// Sequence number of the request.
        seq: u32,
        /// Body.
        body: SessionChangeAck,
    },
    /// Answer to a history query.
    HistoryResult {
        /// Sequence number of the request.
        seq: u32,
        /// Body (boxed: it may be large).
        body: Box<HistoryResult>,
    },
    /// Answer to STICK_TOP.
    StickTopAck {
        /// Sequence number of the request.
        seq: u32,
        /// Body.
        body: StickTopAck,
    },
    /// Answer to SERVER_SESSION.
    ServerSessionAck {
        /// Sequence number of the request.
        seq: u32,
        /// Body (boxed: a page is large).
        body: Box<ServerSessionAck>,
    },
    /// Push: another device changed a server-side session.
    ServerSessionChanged {
        /// Body.
        body: ServerSessionChanged,
    },
    /// Push: another device changed a session on top.
    StickTopChanged {
        /// Body.
        body: StickTopChanged,
    },
    /// Push: an entry of my log (seq 0: for online devices only).
    Entry {
        /// Body.
        body: EntryWire,
    },
    /// Error about a frame.
    Error {
        /// Sequence number of the offending frame, 0 when unknown.
        seq: u32,
        /// Body.
        body: ErrorBody,
    },
}

impl ServerFrame {
    /// The frame's sequence number (0 for pushes).
    pub fn seq(&self) -> u32 {
        match self {
            ServerFrame::HelloAck { seq, .. }
            | ServerFrame::LoginAck { seq, .. }
            | ServerFrame::LogoutAck { seq, .. }
            | ServerFrame::Pong { seq }
            | ServerFrame::KickOtherAck { seq, .. }
            | ServerFrame::ServerTimeAck { seq, .. }
            | ServerFrame::PushConfigAck { seq, .. }
            | ServerFrame::PushTokenAck { seq, .. }
            | ServerFrame::SendMsgAck { seq, .. }
            | ServerFrame::SyncBatch { seq, .. }
            | ServerFrame::SysMsgAck { seq, .. }
            | ServerFrame::SessionAck { seq, .. }
            | ServerFrame::HistoryResult { seq, .. }
            | ServerFrame::StickTopAck { seq, .. }
            | ServerFrame::ServerSessionAck { seq, .. }
            | ServerFrame::Error { seq, .. } => *seq,
            ServerFrame::Kickout { .. }
            | ServerFrame::PushConfig { .. }
            | ServerFrame::StickTopChanged { .. }
            | ServerFrame::ServerSessionChanged { .. }
            | ServerFrame::MultiSpot { .. }
            | ServerFrame::Entry { .. } => 0,
        }
    }

    /// The frame's operation code.
    pub fn op(&self) -> u8 {
        match self {
            ServerFrame::HelloAck { .. } => op::HELLO_ACK,
            ServerFrame::LoginAck { .. } => op::LOGIN_ACK,
            ServerFrame::LogoutAck { .. } => op::LOGOUT_ACK,
            ServerFrame::Pong { .. } => op::PONG,
            ServerFrame::KickOtherAck { .. } => op::KICK_OTHER_ACK,
            ServerFrame::ServerTimeAck { .. } => op::SERVER_TIME_ACK,
            ServerFrame::PushConfigAck { .. } => op::PUSH_CONFIG_ACK,
            ServerFrame::PushTokenAck { .. } => op::PUSH_TOKEN_ACK,
            ServerFrame::PushConfig { .. } => op::PUSH_CONFIG,
            ServerFrame::Kickout { .. } => op::KICKOUT,
            ServerFrame::MultiSpot { .. } => op::MULTISPOT,
            ServerFrame::SendMsgAck { .. } => op::SEND_MSG_ACK,
            ServerFrame::SyncBatch { .. } => op::SYNC_BATCH,
            ServerFrame::SysMsgAck { .. } => op::SYSMSG_ACK,
            ServerFrame::SessionAck { .. } => op::SESSION_ACK,
            ServerFrame::HistoryResult { .. } => op::HISTORY_RESULT,
            ServerFrame::StickTopAck { .. } => op::STICK_TOP_ACK,
            ServerFrame::StickTopChanged { .. } => op::STICK_TOP_CHANGED,
            ServerFrame::ServerSessionAck { .. } => op::SERVER_SESSION_ACK,
            ServerFrame::ServerSessionChanged { .. } => op::SERVER_SESSION_CHANGED,
            ServerFrame::Entry { .. } => op::ENTRY,
            ServerFrame::Error { .. } => op::ERROR,
        }
    }
}
