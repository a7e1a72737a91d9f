//! Messages and every account's ordered log: the records of
//! [`MessageStore`](crate::MessageStore).
//!
//! Each account has one log: positions 1, 2, 3, ... without gaps, assigned
//! in the transaction that stores what they carry. A message appears in its
//! receiver's log and, unless the sender turned both roaming and multi-device
//! sync off, in its sender's log; custom notifications stored for offline
//! delivery and a device's session changes (read marks, deletions) are
//! entries too. Devices keep their position in the log and ask for what
//! follows it, so each gets everything exactly once and in order.

use crate::id::AccountId;

/// What kind of thing a log entry carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A message (its JSON is in the message row).
    Msg = 1,
    /// A stored custom system notification.
    Sysmsg = 2,
    /// A session marked read.
    Read = 3,
    /// A session deleted.
    DeleteSession = 4,
    /// A peer read the account's messages up to a time (a P2P receipt).
    Receipt = 5,
    /// A device of the account sent a peer a receipt.
    ReceiptSent = 6,
    /// A message was recalled (in the receiver's and the sender's log).
    Recall = 7,
    /// A device of the account deleted a message for the account only.
    DeleteSelf = 8,
    /// A device of the account cleared its server history of a session
    /// and had its other devices told.
    ClearHistory = 9,
}

impl EntryKind {
    /// From the stored number.
    pub fn from_i64(v: i64) -> Option<EntryKind> {
        Some(match v {
            1 => EntryKind::Msg,
            2 => EntryKind::Sysmsg,
            3 => EntryKind::Read,
            4 => EntryKind::DeleteSession,
            5 => EntryKind::Receipt,
            6 => EntryKind::ReceiptSent,
            7 => EntryKind::Recall,
            8 => EntryKind::DeleteSelf,
            9 => EntryKind::ClearHistory,
            _ => return None,
        })
    }
}

/// A message to store.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// Sender.
    pub from: AccountId,
    /// Receiver.
    pub to: AccountId,
    /// The sender's id of the message: a resend with the same (sender,
    /// client id) gets the first copy back instead of a second message.
    pub client_msg_id: String,
    /// The sender marks this a resend (NIM's `resend_flag`; the SDK sets
    /// it on every automatic resend after a reconnect). When false the
    /// store may skip looking for an earlier copy among the messages
    /// already in its tables (writes not yet there are still checked), so
    /// a first send costs no index lookup; a client that reuses a client
    /// id without the flag gets a second message.
    pub resent: bool,
    /// Server time, ms.
    pub time: i64,
    /// NIMMessageType.
    pub msg_type: i32,
    /// The message's JSON as delivered, with `"server_msg_id":0` standing
    /// where the store writes the id it assigns (see [`with_server_id`]).
    pub json: String,
    /// Kept for history queries (NIM's `cloud_history`).
    pub history: bool,
    /// Entered in the receiver's log (stored for offline delivery); when
    /// false the message reaches only devices online now.
    pub to_log: bool,
    /// Entered in the sender's log (roaming and multi-device sync).
    pub from_log: bool,
}

/// Replaces the `"server_msg_id":0` placeholder of a message's JSON with
/// the assigned id.
pub fn with_server_id(json: &str, id: i64) -> String {
    json.replacen(SERVER_ID_PLACEHOLDER, &format!("\"server_msg_id\":{id}"), 1)
}

/// The placeholder [`NewMessage::json`] carries for the server id.
pub const SERVER_ID_PLACEHOLDER: &str = "\"server_msg_id\":0";

/// Something other than a message to enter in one account's log.
#[derive(Clone, Debug)]
pub struct NewNote {
    /// Whose log.
    pub account: AccountId,
    /// What it is.
    pub kind: EntryKind,
    /// Its JSON (the entry body without `seq`).
    pub json: String,
    /// For a stored notification: (sender, client id), unique like a message's.
    pub dedup: Option<(AccountId, String)>,
    /// Server time, ms.
    pub time: i64,
}

/// One write of a batch.
#[derive(Clone, Debug)]
pub enum Append {
    /// A message.
    Msg(NewMessage),
    /// A note in one log.
    Note(NewNote),
    /// A recalled message leaves the server's history (its log entries
    /// stay: positions never change).
    Recall {
        /// The message's sender.
        from: AccountId,
        /// Its client id.
        client_msg_id: String,
    },
    /// A message leaves one of its two accounts' history and that account's
    /// sync (NIM's one-way deletion); the other account keeps it, and the
    /// log entries stay (positions never change).
    Hide {
        /// The account it is deleted for: its sender or its receiver.
        account: AccountId,
        /// The message's sender.
        from: AccountId,
        /// Its client id.
        client_msg_id: String,
    },
    /// Every message between `account` and `peer` up to `upto` leaves
    /// `account`'s history (with `history`) and its sync (with `sync`);
    /// `peer` keeps them.
    ClearHistory {
        /// Whose history.
        account: AccountId,
        /// The other side of the conversation.
        peer: AccountId,
        /// Messages at or before this time, ms.
        upto: i64,
        /// Leave them out of the account's history query.
        history: bool,
        /// Leave them out of the account's sync.
        sync: bool,
    },
    /// Sets the extension of one of the account's server-side sessions
    /// (NIM's session service), creating the session when the account has
    /// none with that peer yet; its update time becomes `time`.
    SessionExt {
        /// Whose session.
        account: AccountId,
        /// NIMSessionType.
        to_type: u32,
        /// The peer (an accid for a P2P session).
        session_id: String,
        /// The app's extension.
        ext: String,
        /// Server time, ms.
        time: i64,
    },
    /// Takes a session out of the account's server-side list; the next
    /// message with that peer brings it back (without the extension).
    DropSession {
        /// Whose session.
        account: AccountId,
        /// NIMSessionType.
        to_type: u32,
        /// The peer.
        session_id: String,
    },
    /// A device of the account applied its log up to `upto` (the highest
    /// report wins; it decides whether a synced message counts as offline
    /// or roaming).
    Delivered {
        /// The account.
        account: AccountId,
        /// The position applied.
        upto: u64,
    },
}

/// What became of one write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The server id of a message (0 for a note).
    pub server_id: i64,
    /// Its time, ms (the stored one, for a duplicate).
    pub time: i64,
    /// Its position in the receiver's (or the note's) log; 0 when not entered.
    pub to_seq: u64,
    /// Its position in the sender's log; 0 when not entered.
    pub from_seq: u64,
    /// The JSON as stored (with the server id), for delivery.
    pub json: String,
    /// True when (sender, client id) was already stored: nothing new was
    /// written, and the fields are the stored ones.
    pub duplicate: bool,
}

impl Appended {
    /// The answer to a write that enters no log (a delivered mark, a
    /// recall): only the message id it concerned, if any.
    pub fn bare(server_id: i64) -> Appended {
        Appended {
            server_id,
            time: 0,
            to_seq: 0,
            from_seq: 0,
            json: String::new(),
            duplicate: false,
        }
    }
}

/// One entry of a log, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Its position.
    pub seq: u64,
    /// Its kind.
    pub kind: EntryKind,
    /// For a message: its JSON; else the entry body's JSON.
    pub json: String,
    /// For a message: its sender.
    pub from: Option<AccountId>,
    /// A message deleted for this log's account (one-way or with its
    /// history and roaming): the position stays, sync leaves it out.
    pub hidden: bool,
}

/// Which of a message's two accounts it is hidden for, and from what: the
/// bits of a message's `hidden` mark.
pub mod hidden {
    /// Out of the sender's history.
    pub const FROM_HISTORY: i64 = 1;
    /// Out of the receiver's history.
    pub const TO_HISTORY: i64 = 2;
    /// Out of the sender's sync.
    pub const FROM_SYNC: i64 = 4;
    /// Out of the receiver's sync.
    pub const TO_SYNC: i64 = 8;

    /// The bits that hide a message from an account's history (with
    /// `history`) and its sync (with `sync`), given whether the account
    /// sent and received it.
    pub fn bits(sent: bool, received: bool, history: bool, sync: bool) -> i64 {
        let pick = |on: bool, bit: i64| if on { bit } else { 0 };
        let mut b = 0;
        if sent {
            b |= pick(history, FROM_HISTORY) | pick(sync, FROM_SYNC);
        }
        if received {
            b |= pick(history, TO_HISTORY) | pick(sync, TO_SYNC);
        }
        b
    }

    /// Whether a message with the mark `mark` is out of the history (or
    /// with `sync`, the sync) of the account that sent it (`sent`) or
    /// received it.
    pub fn applies(mark: i64, sent: bool, sync: bool) -> bool {
        let bit = match (sent, sync) {
            (true, false) => FROM_HISTORY,
            (false, false) => TO_HISTORY,
            (true, true) => FROM_SYNC,
            (false, true) => TO_SYNC,
        };
        mark & bit != 0
    }
}

/// A page of an account's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogPage {
    /// Entries in order, contiguous from `from`.
    pub entries: Vec<LogEntry>,
    /// The first position this page covers: the asked one, or the first
    /// still kept when retention removed older ones.
    pub from: u64,
    /// The log's last position.
    pub head: u64,
    /// The highest position any device of the account reported applied.
    pub delivered: u64,
}

/// A message as history returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    /// Server id.
    pub server_id: i64,
    /// Time, ms.
    pub time: i64,
    /// NIMMessageType.
    pub msg_type: i32,
    /// JSON as delivered.
    pub json: String,
}

/// A message found by its sender and client id, or by its server id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    /// Server id.
    pub server_id: i64,
    /// Sender.
    pub from: AccountId,
    /// The sender's client id.
    pub client_msg_id: String,
    /// Receiver.
    pub to: AccountId,
    /// Time, ms.
    pub time: i64,
    /// Still in the server's history (false once recalled, or when sent
    /// without `cloud_history`).
    pub in_history: bool,
}

/// A history query of the conversation between two accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRange {
    /// Earliest time, ms, inclusive (0: no bound).
    pub from_time: i64,
    /// Latest time, ms, inclusive (0: no bound).
    pub end_time: i64,
    /// Leave out this message and, in the query's direction, stop there
    /// (the previous page's last server id; 0: none).
    pub end_msg_id: i64,
    /// Most messages.
    pub limit: u32,
    /// Oldest first (else newest first).
    pub ascending: bool,
    /// Only these message types (empty: all).
    pub msg_types: Vec<i32>,
    /// Only messages whose text (or file name) contains this, ignoring
    /// case (empty: all); see [`keyword_matches`].
    pub keyword: String,
}

/// Whether a message (its stored JSON) matches a history query's keyword:
/// its body (a text's words) or, for a file, its name contains `keyword`,
/// ignoring case, as NIM's keyword search of the server's history and the
/// SDK's local search both read it. An empty keyword matches every message.
pub fn keyword_matches(json: &str, keyword: &str) -> bool {
    if keyword.is_empty() {
        return true;
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
        return false;
    };
    let needle = keyword.to_lowercase();
    let body = v["msg_body"].as_str().unwrap_or_default().to_lowercase();
    let name = v["msg_attach"]
        .as_str()
        .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
        .and_then(|a| a["name"].as_str().map(str::to_lowercase))
        .unwrap_or_default();
    body.contains(&needle) || name.contains(&needle)
}

/// What a retention pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Messages removed.
    pub messages: u64,
    /// Log entries removed.
    pub entries: u64,
}

/// The most sessions one page of [`crate::MessageStore::server_sessions`]
/// returns (NIM's limit for the session service and its server API).
pub const MAX_SESSION_PAGE: u32 = 100;

/// One of an account's server-side sessions (NIM's session service,
/// "服务端会话服务"): kept by the server for every peer the account
/// exchanged a message with, newest first, with the app's extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSession {
    /// NIMSessionType (0: P2P).
    pub to_type: u32,
    /// The peer.
    pub session_id: String,
    /// The time of its last message or extension change, ms.
    pub update_time: i64,
    /// The app's extension ("" until set).
    pub ext: String,
    /// Its last message, unless it was deleted for this account or removed
    /// by retention.
    pub last: Option<LastMessage>,
}

/// The last message of a server-side session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastMessage {
    /// Its JSON as delivered.
    pub json: String,
    /// It was recalled (NIM's `last_message_type` 1).
    pub recalled: bool,
}

/// A page of server-side sessions, newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionQuery {
    /// Earliest update time, ms, inclusive (0: no bound).
    pub min_time: i64,
    /// Update times before this, ms (0: no bound); the next page asks with
    /// the last update time of the previous one.
    pub max_time: i64,
    /// Most sessions (1 to [`MAX_SESSION_PAGE`]); a page goes past it to
    /// hold every session of its last millisecond, so the next page, which
    /// starts before that millisecond, loses none and repeats none.
    pub limit: u32,
}

/// Cuts a page of sessions sorted newest first (`update_time` of each):
/// the first `limit`, and after them those of the same update time as the
/// last one; and whether any are left.
pub fn cut_page<T>(sorted: Vec<T>, limit: u32, update_time: impl Fn(&T) -> i64) -> (Vec<T>, bool) {
    let limit = limit.clamp(1, MAX_SESSION_PAGE) as usize;
    if sorted.len() <= limit {
        return (sorted, false);
    }
    let last = update_time(&sorted[limit - 1]);
    let end = limit
        + sorted[limit..]
            .iter()
            .take_while(|s| update_time(s) == last)
            .count();
    let more = sorted.len() > end;
    let mut page = sorted;
    page.truncate(end);
    (page, more)
}

/// What [`crate::MessageStore::server_sessions`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionPage {
    /// Newest first.
    pub sessions: Vec<ServerSession>,
    /// More sessions match beyond this page.
    pub has_more: bool,
}
