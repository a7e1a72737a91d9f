//! Messaging payloads with NIM's enums and JSON keys: P2P messages, custom
//! system notifications, the account log entries that carry them to every
//! device, and the requests and answers of sending, syncing, reading and
//! querying history.
//!
//! A message travels as NIM's message object (the `kNIMMsgKey*` keys:
//! `to_type`, `to_accid`, `from_id`, `msg_type`, `msg_body`, `msg_attach`,
//! `client_msg_id`, `server_msg_id`, `time`, the settings such as
//! `sync_msg` and `push_need_badge`, ...). Keys this crate does not name are
//! kept as they came, so an app's extra keys reach the other side.

use crate::code::ResCode;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::sync::Arc;

/// NIMSessionType values.
pub mod session_type {
    /// kNIMSessionTypeP2P.
    pub const P2P: u32 = 0;
    /// kNIMSessionTypeTeam.
    pub const TEAM: u32 = 1;
    /// kNIMSessionTypeSuperTeam.
    pub const SUPER_TEAM: u32 = 5;
}

/// NIMMessageType values.
pub mod message_type {
    /// kNIMMessageTypeText.
    pub const TEXT: i32 = 0;
    /// kNIMMessageTypeImage.
    pub const IMAGE: i32 = 1;
    /// kNIMMessageTypeAudio.
    pub const AUDIO: i32 = 2;
    /// kNIMMessageTypeVideo.
    pub const VIDEO: i32 = 3;
    /// kNIMMessageTypeLocation.
    pub const LOCATION: i32 = 4;
    /// kNIMMessageTypeNotification (server-generated).
    pub const NOTIFICATION: i32 = 5;
    /// kNIMMessageTypeFile.
    pub const FILE: i32 = 6;
    /// kNIMMessageTypeTips.
    pub const TIPS: i32 = 10;
    /// kNIMMessageTypeRobot.
    pub const ROBOT: i32 = 11;
    /// kNIMMessageTypeG2NetCall.
    pub const G2_NET_CALL: i32 = 12;
    /// kNIMMessageTypeCustom.
    pub const CUSTOM: i32 = 100;
    /// kNIMMessageTypeUnknown (local default, never sent).
    pub const UNKNOWN: i32 = 1000;

    /// The types a client may send.
    pub fn is_sendable(t: i32) -> bool {
        matches!(
            t,
            TEXT | IMAGE | AUDIO | VIDEO | LOCATION | FILE | TIPS | ROBOT | CUSTOM
        )
    }
}

/// NIMMessageFeature values: how a received message came.
pub mod message_feature {
    /// kNIMMessageFeatureDefault: live, while online.
    pub const DEFAULT: u32 = 0;
    /// kNIMMessageFeatureLeaveMsg: offline, synced after login.
    pub const LEAVE_MSG: u32 = 1;
    /// kNIMMessageFeatureRoamMsg: roaming, already delivered to another device.
    pub const ROAM_MSG: u32 = 2;
    /// kNIMMessageFeatureSyncMsg: sent by one of my other devices.
    pub const SYNC_MSG: u32 = 3;
    /// kNIMMessageFeatureCustomizedMsg: pass-through.
    pub const CUSTOMIZED_MSG: u32 = 4;
}

/// NIMMsgLogStatus values.
pub mod msglog_status {
    /// kNIMMsgLogStatusNone.
    pub const NONE: u32 = 0;
    /// kNIMMsgLogStatusUnread.
    pub const UNREAD: u32 = 1;
    /// kNIMMsgLogStatusRead.
    pub const READ: u32 = 2;
    /// kNIMMsgLogStatusDeleted.
    pub const DELETED: u32 = 3;
    /// kNIMMsgLogStatusSending.
    pub const SENDING: u32 = 4;
    /// kNIMMsgLogStatusSendFailed.
    pub const SEND_FAILED: u32 = 5;
    /// kNIMMsgLogStatusSent.
    pub const SENT: u32 = 6;
    /// kNIMMsgLogStatusReceipt.
    pub const RECEIPT: u32 = 7;
    /// kNIMMsgLogStatusDraft.
    pub const DRAFT: u32 = 8;
    /// kNIMMsgLogStatusSendCancel.
    pub const SEND_CANCEL: u32 = 9;
    /// kNIMMsgLogStatusRefused.
    pub const REFUSED: u32 = 10;
}

/// NIMSessionCommand values (the `command` of a session change).
pub mod session_command {
    /// kNIMSessionCommandAdd.
    pub const ADD: u32 = 0;
    /// kNIMSessionCommandRemove.
    pub const REMOVE: u32 = 1;
    /// kNIMSessionCommandRemoveAll.
    pub const REMOVE_ALL: u32 = 2;
    /// kNIMSessionCommandRemoveAllP2P.
    pub const REMOVE_ALL_P2P: u32 = 3;
    /// kNIMSessionCommandRemoveAllTeam.
    pub const REMOVE_ALL_TEAM: u32 = 4;
    /// kNIMSessionCommandMsgDeleted.
    pub const MSG_DELETED: u32 = 5;
    /// kNIMSessionCommandAllMsgDeleted.
    pub const ALL_MSG_DELETED: u32 = 6;
    /// kNIMSessionCommandAllP2PMsgDeleted.
    pub const ALL_P2P_MSG_DELETED: u32 = 7;
    /// kNIMSessionCommandAllTeamMsgDeleted.
    pub const ALL_TEAM_MSG_DELETED: u32 = 8;
    /// kNIMSessionCommandUpdate.
    pub const UPDATE: u32 = 9;
    /// kNIMSessionCommandRemoveAllSuperTeam.
    pub const REMOVE_ALL_SUPER_TEAM: u32 = 10;
    /// kNIMSessionCommandAllSuperTeamMsgDeleted.
    pub const ALL_SUPER_TEAM_MSG_DELETED: u32 = 11;
}

/// NIMSysMsgType values.
pub mod sysmsg_type {
    /// kNIMSysMsgTypeTeamApply.
    pub const TEAM_APPLY: u32 = 0;
    /// kNIMSysMsgTypeTeamReject.
    pub const TEAM_REJECT: u32 = 1;
    /// kNIMSysMsgTypeTeamInvite.
    pub const TEAM_INVITE: u32 = 2;
    /// kNIMSysMsgTypeTeamInviteReject.
    pub const TEAM_INVITE_REJECT: u32 = 3;
    /// kNIMSysMsgTypeFriendAdd.
    pub const FRIEND_ADD: u32 = 5;
    /// kNIMSysMsgTypeFriendDel.
    pub const FRIEND_DEL: u32 = 6;
    /// kNIMSysMsgTypeCustomP2PMsg: an app's custom notification to an account.
    pub const CUSTOM_P2P_MSG: u32 = 100;
    /// kNIMSysMsgTypeCustomTeamMsg.
    pub const CUSTOM_TEAM_MSG: u32 = 101;
    /// kNIMSysMsgTypeCustomSuperTeamMsg.
    pub const CUSTOM_SUPER_TEAM_MSG: u32 = 103;
    /// kNIMSysMsgTypeUnknown (local default).
    pub const UNKNOWN: u32 = 1000;

    /// Custom types never count as unread.
    pub fn is_custom(t: u32) -> bool {
        matches!(t, CUSTOM_P2P_MSG | CUSTOM_TEAM_MSG | CUSTOM_SUPER_TEAM_MSG)
    }
}

/// NIMSysMsgStatus values.
pub mod sysmsg_status {
    /// kNIMSysMsgStatusNone (unread).
    pub const NONE: u32 = 0;
    /// kNIMSysMsgStatusPass.
    pub const PASS: u32 = 1;
    /// kNIMSysMsgStatusDecline.
    pub const DECLINE: u32 = 2;
    /// kNIMSysMsgStatusRead.
    pub const READ: u32 = 3;
    /// kNIMSysMsgStatusDeleted.
    pub const DELETED: u32 = 4;
    /// kNIMSysMsgStatusInvalid.
    pub const INVALID: u32 = 5;
}

/// NIMDataSyncType values.
pub mod data_sync_type {
    /// kNIMDataSyncTypeUnreadMsg: offline messages synced.
    pub const UNREAD_MSG: u32 = 2;
    /// kNIMDataSyncTypeTeamInfo.
    pub const TEAM_INFO: u32 = 3;
    /// kNIMDataSyncTypeRoamMsg: roaming messages of one session synced.
    pub const ROAM_MSG: u32 = 7;
    /// kNIMDataSyncTypeSuperTeamInfo.
    pub const SUPER_TEAM_INFO: u32 = 22;
    /// kNIMDataSyncTypeTeamUserList.
    pub const TEAM_USER_LIST: u32 = 1000;
    /// kNIMDataSyncTypeAllTeamUserList.
    pub const ALL_TEAM_USER_LIST: u32 = 1001;
    /// kNIMDataSyncTypeSuperTeamUserList.
    pub const SUPER_TEAM_USER_LIST: u32 = 1010;
    /// kNIMDataSyncTypeAllSuperTeamUserList.
    pub const ALL_SUPER_TEAM_USER_LIST: u32 = 1011;
}

/// NIMDataSyncStatus values.
pub mod data_sync_status {
    /// kNIMDataSyncStatusComplete, the only value.
    pub const COMPLETE: u32 = 1;
}

/// kNIMResInBlack: the receiver blacklisted the sender.
pub const RES_IN_BLACK: ResCode = ResCode(7101);

/// A NIM message object. The server fills `from_id`, `from_client_type`,
/// `from_device_id`, `from_nick`, `time` and `server_msg_id`; other keys an
/// app sends (settings, anti-spam, thread info, ...) are kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImMessage {
    /// NIMSessionType.
    #[serde(default)]
    pub to_type: u32,
    /// Receiver accid (or team id).
    #[serde(default)]
    pub to_accid: String,
    /// Sender accid (server-filled).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from_id: String,
    /// Sender's NIMClientType (server-filled).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub from_client_type: u32,
    /// Sender's device id (server-filled).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from_device_id: String,
    /// Sender's nickname (server-filled).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from_nick: String,
    /// Server time of the message, ms.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub time: i64,
    /// NIMMessageType.
    #[serde(default = "unknown_type")]
    pub msg_type: i32,
    /// Body (text, tip content, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub msg_body: String,
    /// Attachment: JSON text inside a string.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub msg_attach: String,
    /// The sender's id of the message (a uuid).
    #[serde(default)]
    pub client_msg_id: String,
    /// The server's id of the message.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub server_msg_id: i64,
    /// 1 when the message is sent again.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub resend_flag: i32,
    /// App-defined subtype.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub msg_sub_type: i32,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn unknown_type() -> i32 {
    message_type::UNKNOWN
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

fn is_zero_i32(v: &i32) -> bool {
    *v == 0
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

impl ImMessage {
    /// A 0/1 setting (`sync_msg`, `offline_msg`, `push_need_badge`, ...):
    /// its value, or `default` when absent. NIM sends ints; booleans are
    /// taken too.
    pub fn setting(&self, key: &str, default: bool) -> bool {
        match self.extra.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_i64().map_or(default, |v| v != 0),
            _ => default,
        }
    }

    /// The session this message belongs to, seen from `me`: the peer's
    /// accid for P2P.
    pub fn talk_id(&self, me: &str) -> &str {
        if self.from_id == me {
            &self.to_accid
        } else {
            &self.from_id
        }
    }
}

/// A custom system notification (NIM's sysmsg object, `kNIMSysMsgKey*`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SysMsg {
    /// Time, ms (server-filled).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub msg_time: i64,
    /// NIMSysMsgType (100 for a custom P2P notification).
    #[serde(default)]
    pub msg_type: u32,
    /// Receiver accid.
    #[serde(default)]
    pub to_account: String,
    /// Sender accid (server-filled).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from_account: String,
    /// The app's content: JSON text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub attach: String,
    /// Server id; 0 for custom notifications.
    #[serde(default)]
    pub msg_id: i64,
    /// The sender's id of the notification.
    #[serde(default)]
    pub client_msg_id: String,
    /// 1: stored and delivered at the next login; 0: online devices only.
    #[serde(default)]
    pub custom_save_flag: i32,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What one entry of an account's log carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntryBody {
    /// A message to or from the account.
    Msg {
        /// The message.
        msg: ImMessage,
    },
    /// A stored custom system notification to the account.
    Sysmsg {
        /// The notification.
        sysmsg: SysMsg,
    },
    /// One of the account's devices marked a session read up to a log position.
    Read {
        /// NIMSessionType.
        to_type: u32,
        /// The session id (peer accid).
        id: String,
        /// Everything in the session up to this log position is read.
        read_seq: u64,
    },
    /// One of the account's devices deleted a session.
    DeleteSession {
        /// NIMSessionType.
        to_type: u32,
        /// The session id.
        id: String,
    },
    /// The peer `id` has read the account's messages up to `msg_timetag`.
    Receipt {
        /// NIMSessionType.
        to_type: u32,
        /// The reader.
        id: String,
        /// Time of the newest message read, ms.
        msg_timetag: i64,
    },
    /// One of the account's devices sent `id` a receipt up to `msg_timetag`.
    ReceiptSent {
        /// NIMSessionType.
        to_type: u32,
        /// The peer told.
        id: String,
        /// Time of the newest message read, ms.
        msg_timetag: i64,
    },
    /// A message to or from the account was recalled.
    Recall(RecallNotify),
    /// One of the account's devices deleted a message for the account
    /// only (NIM's one-way deletion): its other devices delete it too.
    DeleteSelf(DeleteSelfNotify),
    /// One of the account's devices cleared the account's server history
    /// of a session and asked its other devices to be told (NIM 8's
    /// nim_msglog_delete_history_online_async_ex; protocol version 5).
    ClearHistory(ClearHistoryNotify),
}

/// One entry of an account's ordered log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Its position in the account's log: 1, 2, 3, ... without gaps.
    pub seq: u64,
    /// NIMMessageFeature of a message entry as the server sees it when it
    /// syncs (offline or roaming); absent on live pushes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<u32>,
    /// What it carries.
    #[serde(flatten)]
    pub body: EntryBody,
}

/// An entry as it travels. Receivers decode it; a server may send the JSON
/// text of an entry built once and shared by every device it goes to
/// (the codec writes it as it is).
#[derive(Clone, Debug, PartialEq)]
pub enum EntryWire {
    /// A decoded entry.
    Decoded(Box<Entry>),
    /// The JSON text of an entry.
    Raw(Arc<str>),
}

impl EntryWire {
    /// The entry, decoding the text of a raw one.
    pub fn into_entry(self) -> Result<Entry, serde_json::Error> {
        match self {
            EntryWire::Decoded(e) => Ok(*e),
            EntryWire::Raw(s) => serde_json::from_str(&s),
        }
    }
}

impl From<Entry> for EntryWire {
    fn from(e: Entry) -> Self {
        EntryWire::Decoded(Box::new(e))
    }
}

impl Serialize for EntryWire {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            EntryWire::Decoded(e) => e.serialize(s),
            EntryWire::Raw(text) => serde_json::value::RawValue::from_string(text.to_string())
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for EntryWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Entry::deserialize(d).map(EntryWire::from)
    }
}

/// SEND_MSG: a message to send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendMsg {
    /// The message (NIM's object).
    pub msg: ImMessage,
}

/// SEND_MSG_ACK: NIM's send ack plus Magpie's ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMsgAck {
    /// NIM result code.
    pub rescode: ResCode,
    /// The client message id.
    pub msg_id: String,
    /// The session id (the receiver for P2P).
    pub talk_id: String,
    /// The message's server time, ms.
    #[serde(default)]
    pub msg_timetag: i64,
    /// The server's message id (0 on failure).
    #[serde(default)]
    pub server_msg_id: i64,
    /// The message's position in the sender's log (0 on failure).
    #[serde(default)]
    pub seq: u64,
    /// Why it failed, in words (absent on success).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub desc: String,
}

/// SYNC: send me my log after `cursor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The last log position this device has applied (0: none).
    pub cursor: u64,
    /// Most entries in the answer.
    #[serde(default)]
    pub limit: u32,
}

/// SYNC_BATCH: entries after the cursor, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncBatch {
    /// NIM result code.
    pub code: ResCode,
    /// Entries, in log order, contiguous from `from`.
    pub entries: Vec<EntryWire>,
    /// The first position this answer covers (cursor + 1, or later when
    /// retention removed older entries).
    pub from: u64,
    /// The log's last position when the answer was made.
    pub head: u64,
}

/// ACK: this device has applied its log up to `cursor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorAck {
    /// The last applied log position.
    pub cursor: u64,
}

/// SEND_SYSMSG: a custom system notification to send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendSysMsg {
    /// The notification (NIM's object).
    pub sysmsg: SysMsg,
}

/// SYSMSG_ACK: NIM's custom notification ack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SysMsgAck {
    /// The client message id.
    pub msg_id: String,
    /// The receiver.
    pub talk_id: String,
    /// NIM result code.
    pub rescode: ResCode,
}

/// SESSION_READ / SESSION_DELETE: a change to one of my sessions, synced
/// to my other devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionChange {
    /// NIMSessionType.
    pub to_type: u32,
    /// The session id.
    pub id: String,
    /// For a read mark: everything up to this log position is read.
    #[serde(default)]
    pub read_seq: u64,
}

/// RECEIPT: NIM's P2P read receipt: I have read the peer's messages up to
/// `msg_timetag` (the time of the received message the app acknowledged).
/// The peer's devices learn it (NIM's message status 7, "receipt"), and so
/// do my other devices (the receipt counts as sent there too). Answered
/// with SESSION_ACK: the position of the note in my log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// NIMSessionType: P2P (0) only.
    pub to_type: u32,
    /// The peer: the sender of the messages read.
    pub id: String,
    /// Time of the newest message read, ms.
    pub msg_timetag: i64,
}

/// RECALL: recall a P2P message I sent (NIM's nim_talk_recall_msg). The
/// server answers with SESSION_ACK: 200 and the position of the recall in
/// my log; 508 past the recall window (2 minutes); 404 for no such message
/// of mine to `id`; 414 for a bad request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallReq {
    /// NIMSessionType: P2P (0) only.
    pub to_type: u32,
    /// The message's receiver (empty: whoever it was).
    #[serde(default)]
    pub id: String,
    /// The message's client id.
    pub client_msg_id: String,
    /// The app's notification text.
    #[serde(default)]
    pub notify: String,
    /// The recaller's nickname, as the notification shows it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from_nick: String,
    /// App-defined attachment of the notification.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub attach: String,
}

/// A recall notification, with NIM's keys (`nim_talk_recall_msg_func`'s
/// content is an array of these).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallNotify {
    /// NIMSessionType.
    pub to_type: u32,
    /// The recalled message's sender.
    pub from_id: String,
    /// Its receiver.
    pub to_id: String,
    /// Its client id.
    pub msg_id: String,
    /// The app's notification text.
    #[serde(default)]
    pub notify: String,
    /// When it was recalled, ms.
    pub time: i64,
    /// The recalled message's time, ms.
    #[serde(default)]
    pub msg_time: i64,
    /// The recaller's nickname.
    #[serde(default)]
    pub from_nick: String,
    /// Who recalled it.
    #[serde(default)]
    pub operator_id: String,
    /// App-defined attachment.
    #[serde(default)]
    pub attach: String,
    /// NIMMessageFeature of the notification (set by the SDK).
    #[serde(default)]
    pub feature: u32,
    /// The message was in this device's history when the recall came
    /// (set by the SDK).
    #[serde(default = "yes")]
    pub msg_exist: bool,
}

fn yes() -> bool {
    true
}

/// DELETE_SELF: delete a P2P message for me only (NIM's
/// nim_msglog_delete_message_self_async): it leaves my server history and
/// the sync of my devices that have not received it yet, and my other
/// devices delete it too; the peer keeps it. Answered with SESSION_ACK: 200
/// and the position of the deletion in my log; 404 when no such message
/// is between me and `id`; 414 for a bad request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteSelfReq {
    /// NIMSessionType: P2P (0) only.
    pub to_type: u32,
    /// The session: the peer.
    pub id: String,
    /// The message's sender (me or the peer).
    pub from_id: String,
    /// The message's client id.
    pub client_msg_id: String,
    /// The app's extension, told to my other devices.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ext: String,
}

/// A one-way deletion as my devices learn it, with NIM's keys (the items
/// of `nim_msglog_delete_message_self_notify_cb_func`'s array).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteSelfNotify {
    /// NIMSessionType.
    #[serde(default)]
    pub to_type: u32,
    /// The session id (the peer).
    pub session_id: String,
    /// The message's client id.
    pub client_id: String,
    /// The app's extension.
    #[serde(default)]
    pub ext: String,
    /// When it was deleted, ms.
    #[serde(default)]
    pub time: i64,
}

/// CLEAR_HISTORY: clear my server history of a P2P session (NIM's
/// nim_msglog_delete_history_online_async), or with `keep_history` only
/// its roaming copies (nim_session_delete_session_roaming_async): the peer
/// keeps its own. Answered with SESSION_ACK (200, `seq` 0: nothing enters
/// the log; 414 for a bad request).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearHistoryReq {
    /// NIMSessionType: P2P (0) only.
    pub to_type: u32,
    /// The session: the peer.
    pub id: String,
    /// Also leave out the session's messages from the sync of my devices
    /// that have not received them yet (NIM's roaming messages).
    #[serde(default)]
    pub delete_roaming: bool,
    /// Leave the history query as it is (only the roaming copies go).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_history: bool,
    /// Tell my other devices, now and when they log in, with a
    /// `clear_history` entry in my log (NIM 8's `notify_self`; protocol
    /// version 5: the SDK does not ask an older server).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify: bool,
    /// The app's extension, told to my other devices (at most 1,023 bytes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ext: String,
}

/// A cleared server history as my other devices learn it (NIM's
/// `NIMDeleteSessionHistoryMessagesNotifyInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearHistoryNotify {
    /// NIMSessionType.
    #[serde(default)]
    pub to_type: u32,
    /// The session id (the peer).
    pub session_id: String,
    /// When the history was cleared (messages up to then), ms.
    pub time: i64,
    /// The app's extension.
    #[serde(default)]
    pub ext: String,
}

/// The answer to a session change: its position in my log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionChangeAck {
    /// NIM result code.
    pub rescode: ResCode,
    /// The change's log position (0 on failure).
    #[serde(default)]
    pub seq: u64,
}

/// HISTORY: NIM's online history query of one session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// NIMSessionType.
    pub to_type: u32,
    /// The session id (peer accid).
    pub id: String,
    /// Most messages (1 to 100).
    pub limit_count: u32,
    /// Earliest time, ms (0: no bound).
    #[serde(default)]
    pub from_time: i64,
    /// Latest time, ms (0: now).
    #[serde(default)]
    pub end_time: i64,
    /// Server id of the previous page's last message, left out (0: none).
    #[serde(default)]
    pub end_msg_id: i64,
    /// false: newest first from `end_time`; true: oldest first from `from_time`.
    #[serde(default)]
    pub reverse: bool,
    /// Only these NIMMessageType values (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub msg_types: Vec<i32>,
    /// Only messages whose text or file name contains this, ignoring case
    /// (NIM's keyword search of the server's history; empty: all). Protocol
    /// version 5: the SDK does not send it to an older server, which would
    /// not filter.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyword: String,
}

/// HISTORY_RESULT: NIM's query result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryResult {
    /// NIM result code.
    pub rescode: ResCode,
    /// The messages, in the order asked for.
    pub content: Vec<ImMessage>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_the_keys_they_do_not_name_and_read_settings_as_nim_sends_them() {
        let text = r#"{"to_type":0,"to_accid":"bob","msg_type":0,"msg_body":"hi","client_msg_id":"c1","sync_msg":0,"push_need_badge":1,"thread_info":{"deleted":false},"anti_spam_enable":1}"#;
        let m: ImMessage = serde_json::from_str(text).unwrap();
        assert_eq!(
            (m.to_accid.as_str(), m.msg_type, m.msg_body.as_str()),
            ("bob", 0, "hi")
        );
        assert!(!m.setting("sync_msg", true));
        assert!(m.setting("push_need_badge", false));
        assert!(m.setting("roam_msg", true), "absent: the default");
        let back: Value = serde_json::to_value(&m).unwrap();
        assert_eq!(back["thread_info"]["deleted"], false);
        assert_eq!(back["anti_spam_enable"], 1);
        assert!(back.get("server_msg_id").is_none(), "zero ids are left out");
        let e = Entry {
            seq: 7,
            feature: Some(message_feature::LEAVE_MSG),
            body: EntryBody::Msg { msg: m },
        };
        let j = serde_json::to_string(&e).unwrap();
        assert!(
            j.starts_with(r#"{"seq":7,"feature":1,"kind":"msg","msg":{"#),
            "{j}"
        );
        assert_eq!(serde_json::from_str::<Entry>(&j).unwrap(), e);
    }
}
