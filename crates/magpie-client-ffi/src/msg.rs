//! NIM's C API for messages and what login syncs: `nim_talk_*` (P2P
//! messages), `nim_sysmsg_*` (custom system notifications), `nim_session_*`
//! (recent sessions), `nim_msglog_*` (history) and `nim_data_sync_*`.
//!
//! The conventions are the login chapter's (see the crate documentation).
//! Enum arguments are taken as `int`, as in the login functions; callbacks
//! receive NIM's enum types. Every JSON payload is NIM's.

use crate::bridge::{self, guard, text};
use magpie_client::{Client, Event, HistoryQuery, ImMessage, LocalOp, SysMsg};
use magpie_proto::ResCode;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::ffi::{c_char, c_int, c_void, CString};

/// NIMSessionType.
#[repr(C)]
#[derive(Clone, Copy)]
pub enum NIMSessionType {
    /// P2P.
    kNIMSessionTypeP2P = 0,
    /// Team.
    kNIMSessionTypeTeam = 1,
    /// Super team.
    kNIMSessionTypeSuperTeam = 5,
}

/// NIMMessageType.
#[repr(C)]
pub enum NIMMessageType {
    /// Text.
    kNIMMessageTypeText = 0,
    /// Image.
    kNIMMessageTypeImage = 1,
    /// Audio.
    kNIMMessageTypeAudio = 2,
    /// Video.
    kNIMMessageTypeVideo = 3,
    /// Location.
    kNIMMessageTypeLocation = 4,
    /// Team notification.
    kNIMMessageTypeNotification = 5,
    /// File.
    kNIMMessageTypeFile = 6,
    /// Tip.
    kNIMMessageTypeTips = 10,
    /// Robot.
    kNIMMessageTypeRobot = 11,
    /// G2 call.
    kNIMMessageTypeG2NetCall = 12,
    /// Custom (JSON attachment).
    kNIMMessageTypeCustom = 100,
    /// Unknown.
    kNIMMessageTypeUnknown = 1000,
}

/// NIMMessageFeature: how a received message came.
#[repr(C)]
pub enum NIMMessageFeature {
    /// Live.
    kNIMMessageFeatureDefault = 0,
    /// Offline, synced after login.
    kNIMMessageFeatureLeaveMsg = 1,
    /// Roaming, synced after login.
    kNIMMessageFeatureRoamMsg = 2,
    /// Sent by another device of mine.
    kNIMMessageFeatureSyncMsg = 3,
    /// Customised.
    kNIMMessageFeatureCustomizedMsg = 4,
}

/// NIMMsgLogStatus.
#[repr(C)]
pub enum NIMMsgLogStatus {
    /// None.
    kNIMMsgLogStatusNone = 0,
    /// Unread.
    kNIMMsgLogStatusUnread = 1,
    /// Read.
    kNIMMsgLogStatusRead = 2,
    /// Deleted.
    kNIMMsgLogStatusDeleted = 3,
    /// Sending.
    kNIMMsgLogStatusSending = 4,
    /// Sending failed.
    kNIMMsgLogStatusSendFailed = 5,
    /// Sent.
    kNIMMsgLogStatusSent = 6,
    /// Read by the peer.
    kNIMMsgLogStatusReceipt = 7,
    /// Draft.
    kNIMMsgLogStatusDraft = 8,
    /// Sending cancelled.
    kNIMMsgLogStatusSendCancel = 9,
    /// Refused by the peer (blacklist).
    kNIMMsgLogStatusRefused = 10,
}

/// NIMSessionCommand: what changed in a session item.
#[repr(C)]
pub enum NIMSessionCommand {
    /// Added.
    kNIMSessionCommandAdd = 0,
    /// Removed.
    kNIMSessionCommandRemove = 1,
    /// All removed.
    kNIMSessionCommandRemoveAll = 2,
    /// All P2P removed.
    kNIMSessionCommandRemoveAllP2P = 3,
    /// All team removed.
    kNIMSessionCommandRemoveAllTeam = 4,
    /// Its messages deleted.
    kNIMSessionCommandMsgDeleted = 5,
    /// All messages deleted.
    kNIMSessionCommandAllMsgDeleted = 6,
    /// All P2P messages deleted.
    kNIMSessionCommandAllP2PMsgDeleted = 7,
    /// All team messages deleted.
    kNIMSessionCommandAllTeamMsgDeleted = 8,
    /// Updated.
    kNIMSessionCommandUpdate = 9,
    /// All super-team removed.
    kNIMSessionCommandRemoveAllSuperTeam = 10,
    /// All super-team messages deleted.
    kNIMSessionCommandAllSuperTeamMsgDeleted = 11,
}

/// NIMSysMsgType.
#[repr(C)]
pub enum NIMSysMsgType {
    /// Team application.
    kNIMSysMsgTypeTeamApply = 0,
    /// Team application rejected.
    kNIMSysMsgTypeTeamReject = 1,
    /// Team invitation.
    kNIMSysMsgTypeTeamInvite = 2,
    /// Team invitation rejected.
    kNIMSysMsgTypeTeamInviteReject = 3,
    /// Friend added.
    kNIMSysMsgTypeFriendAdd = 5,
    /// Friend deleted.
    kNIMSysMsgTypeFriendDel = 6,
    /// Custom P2P notification.
    kNIMSysMsgTypeCustomP2PMsg = 100,
    /// Custom team notification.
    kNIMSysMsgTypeCustomTeamMsg = 101,
    /// Custom super-team notification.
    kNIMSysMsgTypeCustomSuperTeamMsg = 103,
    /// Unknown.
    kNIMSysMsgTypeUnknown = 1000,
}

/// NIMSysMsgStatus.
#[repr(C)]
pub enum NIMSysMsgStatus {
    /// None.
    kNIMSysMsgStatusNone = 0,
    /// Passed.
    kNIMSysMsgStatusPass = 1,
    /// Declined.
    kNIMSysMsgStatusDecline = 2,
    /// Read.
    kNIMSysMsgStatusRead = 3,
    /// Deleted.
    kNIMSysMsgStatusDeleted = 4,
    /// Invalid.
    kNIMSysMsgStatusInvalid = 5,
}

/// NIMMsgLogQueryRange: what a search covers.
#[repr(C)]
pub enum NIMMsgLogQueryRange {
    /// One P2P session (one id).
    kNIMMsgLogQueryRangeP2P = 0,
    /// One team.
    kNIMMsgLogQueryRangeTeam = 1,
    /// One super team.
    kNIMMsgLogQueryRangeSuperTeam = 5,
    /// Everything.
    kNIMMsgLogQueryRangeAll = 100,
    /// Every P2P session.
    kNIMMsgLogQueryRangeAllP2P = 101,
    /// Every team.
    kNIMMsgLogQueryRangeAllTeam = 102,
    /// Every super team.
    kNIMMsgLogQueryRangeAllSuperTeam = 103,
    /// A mix of P2P sessions and teams (not supported, as in NIM).
    kNIMMsgLogQueryRangeUnknown = 200,
}

/// NIMMsglogQuerySource: where a query's messages came from.
#[repr(C)]
pub enum NIMMsglogQuerySource {
    /// The local database.
    kNIMMsglogQuerySourceLocal = 0,
    /// The server.
    kNIMMsglogQuerySourceServer = 1,
}

/// NIMDataSyncType: the phases of the sync after login.
#[repr(C)]
#[derive(Clone, Copy)]
pub enum NIMDataSyncType {
    /// Offline (unread) messages.
    kNIMDataSyncTypeUnreadMsg = 2,
    /// Team information.
    kNIMDataSyncTypeTeamInfo = 3,
    /// Roaming messages (once per session).
    kNIMDataSyncTypeRoamMsg = 7,
    /// Super-team information.
    kNIMDataSyncTypeSuperTeamInfo = 22,
    /// One team's member list.
    kNIMDataSyncTypeTeamUserList = 1000,
    /// Every team's member list.
    kNIMDataSyncTypeAllTeamUserList = 1001,
    /// One super team's member list.
    kNIMDataSyncTypeSuperTeamUserList = 1010,
    /// Every super team's member list.
    kNIMDataSyncTypeAllSuperTeamUserList = 1011,
}

/// NIMDataSyncStatus.
#[repr(C)]
#[derive(Clone, Copy)]
pub enum NIMDataSyncStatus {
    /// Done.
    kNIMDataSyncStatusComplete = 1,
}

/// `nim_talk_ack_cb_func`: a sent message's ack, `{"rescode","msg_id","talk_id","msg_timetag"}`.
pub type nim_talk_ack_cb_func =
    Option<unsafe extern "C" fn(result: *const c_char, user_data: *const c_void)>;

/// `nim_talk_receive_cb_func`: `{"rescode","feature","content":{message}}`,
/// or an array of those (one session) for the batch registration.
pub type nim_talk_receive_cb_func = Option<
    unsafe extern "C" fn(
        content: *const c_char,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_talk_message_filter_func`: true when the app handled the message
/// and the receive callbacks should not get it.
pub type nim_talk_message_filter_func = Option<
    unsafe extern "C" fn(
        content: *const c_char,
        json_extension: *const c_char,
        user_data: *const c_void,
    ) -> bool,
>;

/// `nim_nos_upload_prg_cb_func`: upload progress of a file message.
pub type nim_nos_upload_prg_cb_func = Option<
    unsafe extern "C" fn(
        uploaded_size: i64,
        file_size: i64,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_custom_sysmsg_ack_cb_func`: `{"msg_id","talk_id","rescode"}`.
pub type nim_custom_sysmsg_ack_cb_func =
    Option<unsafe extern "C" fn(result: *const c_char, user_data: *const c_void)>;

/// `nim_sysmsg_receive_cb_func`: `{"rescode","feature","unread_count","content":{notification}}`.
pub type nim_sysmsg_receive_cb_func = Option<
    unsafe extern "C" fn(
        content: *const c_char,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_sysmsg_query_cb_func`: `result` is `{"count","unread_count","content":[...]}`.
pub type nim_sysmsg_query_cb_func = Option<
    unsafe extern "C" fn(
        count: c_int,
        result: *const c_char,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_sysmsg_res_cb_func`: a result code and the unread count.
pub type nim_sysmsg_res_cb_func = Option<
    unsafe extern "C" fn(
        res_code: c_int,
        unread_count: c_int,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_session_change_cb_func`: a session item and the total unread count.
pub type nim_session_change_cb_func = Option<
    unsafe extern "C" fn(
        rescode: c_int,
        result: *const c_char,
        total_unread_counts: c_int,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_session_query_recent_session_cb_func`: `{"count","unread_counts","content":[items]}`.
pub type nim_session_query_recent_session_cb_func = Option<
    unsafe extern "C" fn(
        total_unread_count: c_int,
        result: *const c_char,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_msglog_query_cb_func`: `{"count","source","content":[messages]}`.
pub type nim_msglog_query_cb_func = Option<
    unsafe extern "C" fn(
        res_code: c_int,
        id: *const c_char,
        to_type: NIMSessionType,
        result: *const c_char,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_data_sync_cb_func`: a phase of the sync after login completed.
pub type nim_data_sync_cb_func = Option<
    unsafe extern "C" fn(
        sync_type: NIMDataSyncType,
        status: NIMDataSyncStatus,
        json_attachment: *const c_char,
        user_data: *const c_void,
    ),
>;

/// A registered C function and its user data (as an address, so it can be
/// kept in a static and called from the SDK's thread).
#[derive(Clone, Copy)]
struct Reg<F> {
    f: F,
    ud: usize,
}

impl<F: Copy> Reg<F> {
    fn ud(&self) -> *const c_void {
        self.ud as *const c_void
    }
}

type Receive = unsafe extern "C" fn(content: *const c_char, ext: *const c_char, ud: *const c_void);
type Json = unsafe extern "C" fn(result: *const c_char, ud: *const c_void);
type Filter =
    unsafe extern "C" fn(content: *const c_char, ext: *const c_char, ud: *const c_void) -> bool;
type SessionFn = unsafe extern "C" fn(c_int, *const c_char, c_int, *const c_char, *const c_void);
type SyncFn =
    unsafe extern "C" fn(NIMDataSyncType, NIMDataSyncStatus, *const c_char, *const c_void);
type StatusFn = unsafe extern "C" fn(c_int, *const c_char, *const c_char, *const c_void);

/// nim_msglog_status_changed_cb_func: a read receipt's result, or peers'
/// receipts: `result` is a JSON array of
/// `{"talk_id","msg_timetag","status"}` (status 7, kNIMMsgLogStatusReceipt).
#[allow(non_camel_case_types)]
pub type nim_msglog_status_changed_cb_func = Option<
    unsafe extern "C" fn(
        res_code: c_int,
        result: *const c_char,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// Registers the recall callback (`nim_talk_reg_recall_msg_cb`).
pub(crate) fn register_recall(cb: crate::recall::nim_talk_recall_msg_func, ud: usize) {
    REGS.lock().recall = cb.map(|f| Reg { f, ud });
}

/// Calls a function of the (code, JSON, extension, user data) shape: the
/// status-changed and the recall callbacks.
pub(crate) fn call_status(f: StatusFn, ud: usize, code: c_int, result: &str) {
    let (c, x) = (cstring(result), cstring(""));
    // SAFETY: the app passed `f` for this signature with `ud`; the strings
    // outlive the call.
    unsafe { f(code, c.as_ptr(), x.as_ptr(), ud as *const c_void) }
}

/// The callbacks of this chapter.
#[derive(Clone, Copy, Default)]
struct Regs {
    ack: Option<Reg<Json>>,
    receive: Option<Reg<Receive>>,
    receive_batch: Option<Reg<Receive>>,
    filter: Option<Reg<Filter>>,
    sysmsg: Option<Reg<Receive>>,
    sysmsg_ack: Option<Reg<Json>>,
    session: Option<Reg<SessionFn>>,
    data_sync: Option<Reg<SyncFn>>,
    status_changed: Option<Reg<StatusFn>>,
    recall: Option<Reg<StatusFn>>,
}

static REGS: Mutex<Regs> = Mutex::new(Regs {
    ack: None,
    receive: None,
    receive_batch: None,
    filter: None,
    sysmsg: None,
    sysmsg_ack: None,
    session: None,
    data_sync: None,
    status_changed: None,
    recall: None,
});

/// Forgets every callback of this chapter (cleanup).
pub(crate) fn forget() {
    *REGS.lock() = Regs::default();
}

fn cstring(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// True when the filter says the app handled this message.
fn filtered(filter: Option<Reg<Filter>>, content: &str) -> bool {
    let Some(r) = filter else {
        return false;
    };
    let (c, e) = (cstring(content), cstring(""));
    // SAFETY: the app registered `f` with this signature and keeps it
    // callable with its user data; the strings outlive the call.
    unsafe { (r.f)(c.as_ptr(), e.as_ptr(), r.ud()) }
}

fn call_receive(r: Reg<Receive>, content: &str) {
    let (c, e) = (cstring(content), cstring(""));
    // SAFETY: as in `filtered`.
    unsafe { (r.f)(c.as_ptr(), e.as_ptr(), r.ud()) }
}

fn call_json(r: Reg<Json>, json: &str) {
    let c = cstring(json);
    // SAFETY: as in `filtered`.
    unsafe { (r.f)(c.as_ptr(), r.ud()) }
}

/// NIM's session type of a number (P2P for any unknown value).
pub(crate) fn session_type(t: u32) -> NIMSessionType {
    match t {
        1 => NIMSessionType::kNIMSessionTypeTeam,
        5 => NIMSessionType::kNIMSessionTypeSuperTeam,
        _ => NIMSessionType::kNIMSessionTypeP2P,
    }
}

fn sync_type(t: u32) -> Option<NIMDataSyncType> {
    Some(match t {
        2 => NIMDataSyncType::kNIMDataSyncTypeUnreadMsg,
        3 => NIMDataSyncType::kNIMDataSyncTypeTeamInfo,
        7 => NIMDataSyncType::kNIMDataSyncTypeRoamMsg,
        22 => NIMDataSyncType::kNIMDataSyncTypeSuperTeamInfo,
        1000 => NIMDataSyncType::kNIMDataSyncTypeTeamUserList,
        1001 => NIMDataSyncType::kNIMDataSyncTypeAllTeamUserList,
        1010 => NIMDataSyncType::kNIMDataSyncTypeSuperTeamUserList,
        1011 => NIMDataSyncType::kNIMDataSyncTypeAllSuperTeamUserList,
        _ => return None,
    })
}

/// Delivers a messaging event to the app's callbacks; false when the event
/// is not of this chapter.
pub(crate) fn dispatch(e: &Event) -> bool {
    let regs = *REGS.lock();
    match e {
        Event::SendAck(_) => {
            if let Some(r) = regs.ack {
                call_json(r, &e.json().to_string());
            }
        }
        Event::Receive(_) => {
            let content = e.json().to_string();
            if let Some(r) = regs.receive {
                if !filtered(regs.filter, &content) {
                    call_receive(r, &content);
                }
            }
        }
        Event::ReceiveBatch(list) => {
            let kept: Vec<Value> = list
                .iter()
                .filter_map(|m| serde_json::to_value(m).ok())
                .filter(|v| !filtered(regs.filter, &v.to_string()))
                .collect();
            if let (Some(r), false) = (regs.receive_batch, kept.is_empty()) {
                call_receive(r, &Value::Array(kept).to_string());
            }
        }
        Event::SysMsg(_) => {
            if let Some(r) = regs.sysmsg {
                call_receive(r, &e.json().to_string());
            }
        }
        Event::SysMsgAck(_) => {
            if let Some(r) = regs.sysmsg_ack {
                call_json(r, &e.json().to_string());
            }
        }
        Event::SessionChange(s) => {
            if let Some(r) = regs.session {
                let item = serde_json::to_string(&s.session).unwrap_or_default();
                let (c, x) = (cstring(&item), cstring(""));
                // SAFETY: as in `filtered`.
                unsafe {
                    (r.f)(
                        s.rescode.0 as c_int,
                        c.as_ptr(),
                        s.total_unread as c_int,
                        x.as_ptr(),
                        r.ud(),
                    )
                }
            }
        }
        Event::DataSync(d) => {
            if let (Some(r), Some(t)) = (regs.data_sync, sync_type(d.sync_type)) {
                let a = cstring(&d.attachment);
                // SAFETY: as in `filtered`; `t` and the status are valid
                // values of the enums the callback takes.
                unsafe {
                    (r.f)(
                        t,
                        NIMDataSyncStatus::kNIMDataSyncStatusComplete,
                        a.as_ptr(),
                        r.ud(),
                    )
                }
            }
        }
        Event::MsgStatusChanged(_) => {
            if let Some(r) = regs.status_changed {
                call_status(r.f, r.ud, 200, &e.json().to_string());
            }
        }
        Event::Recall(_) => {
            if let Some(r) = regs.recall {
                call_status(r.f, r.ud, 200, &e.json().to_string());
            }
        }
        _ => return false,
    }
    true
}

/// Registers the callback for peers' read receipts of my messages: `result`
/// is a JSON array of `{"talk_id","msg_timetag","status":7}`; every message
/// of mine to `talk_id` up to `msg_timetag` has been read.
///
/// # Safety
/// As `nim_talk_reg_ack_cb`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_reg_status_changed_cb(
    json_extension: *const c_char,
    cb: nim_msglog_status_changed_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    guard((), || {
        REGS.lock().status_changed = cb.map(|f| Reg {
            f,
            ud: user_data as usize,
        })
    })
}

/// Puts the SDK in batch mode while a batch callback is registered.
pub(crate) fn apply_batch_mode(client: &Client) {
    if REGS.lock().receive_batch.is_some() {
        // The SDK batches synced messages while this slot is set.
        client.on_receive_batch(|list| {
            dispatch(&Event::ReceiveBatch(list.to_vec()));
        });
    } else {
        client.off_receive_batch();
    }
}

fn parse(json: &str) -> Option<Value> {
    serde_json::from_str(json).ok()
}

fn session_result_json(v: &magpie_client::SessionResult) -> String {
    serde_json::to_string(&v.session).unwrap_or_default()
}

// ----- nim_talk -----

/// Sends a message (NIM's message JSON). The result goes to the callback of
/// `nim_talk_reg_ack_cb`: 200 with the server time in `msg_timetag`, or a
/// refusal (414 too large or bad parameters, 404 unknown recipient, 416 too
/// frequent, 7101 blacklisted by the receiver, 20001 not logged in, 10414
/// unreadable JSON). Magpie has no file upload, so `prg_cb` is never called.
///
/// # Safety
/// `json_msg` and `json_extension` are NULL or valid C strings.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_send_msg(
    json_msg: *const c_char,
    json_extension: *const c_char,
    prg_cb: nim_nos_upload_prg_cb_func,
    prg_user_data: *const c_void,
) {
    let _ = (json_extension, prg_cb, prg_user_data);
    // SAFETY: the caller's contract.
    let raw = unsafe { text(json_msg) };
    guard((), || {
        let msg: ImMessage = match serde_json::from_str(&raw) {
            Ok(m) => m,
            Err(e) => {
                if let Some(r) = REGS.lock().ack {
                    let id = parse(&raw)
                        .and_then(|v| v["client_msg_id"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    call_json(
                        r,
                        &json!({"rescode": 10414, "msg_id": id, "talk_id": "", "msg_timetag": 0,
                                "desc": format!("the message is not NIM's message JSON: {e}")})
                        .to_string(),
                    );
                }
                return;
            }
        };
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            s.runtime.spawn(async move {
                // The ack reaches the app through the ack callback.
                client.send_message(msg).await;
            });
        });
        if started.is_none() {
            if let Some(r) = REGS.lock().ack {
                call_json(
                    r,
                    &json!({"rescode": 20000, "msg_id": "", "talk_id": "", "msg_timetag": 0})
                        .to_string(),
                );
            }
        }
    })
}

/// Stops the upload of a file message in progress. Magpie sends no files
/// through the SDK (attachments are URLs the app uploaded), so there is
/// never an upload to stop.
///
/// # Safety
/// The arguments are NULL or valid C strings.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_stop_send_msg(
    json_msg: *const c_char,
    json_extension: *const c_char,
) {
    let _ = (json_msg, json_extension);
}

/// Registers the send-ack callback (global: every sent message's ack).
///
/// # Safety
/// `cb` is NULL or callable with `user_data` from the SDK's thread until
/// replaced or until cleanup.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_reg_ack_cb(
    json_extension: *const c_char,
    cb: nim_talk_ack_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    guard((), || {
        REGS.lock().ack = cb.map(|f| Reg {
            f,
            ud: user_data as usize,
        })
    })
}

/// Registers the receive callback: live messages, my other devices'
/// messages, and synced ones when no batch callback is registered.
///
/// # Safety
/// As `nim_talk_reg_ack_cb`.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_reg_receive_cb(
    json_extension: *const c_char,
    cb: nim_talk_receive_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    guard((), || {
        REGS.lock().receive = cb.map(|f| Reg {
            f,
            ud: user_data as usize,
        })
    })
}

/// Registers the batch receive callback: messages synced after login (and
/// after a reconnection) come to it one session at a time, as a JSON array,
/// instead of one by one to the receive callback.
///
/// # Safety
/// As `nim_talk_reg_ack_cb`.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_reg_receive_msgs_cb(
    json_extension: *const c_char,
    cb: nim_talk_receive_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    guard((), || {
        REGS.lock().receive_batch = cb.map(|f| Reg {
            f,
            ud: user_data as usize,
        });
        bridge::with_sdk(|s| apply_batch_mode(&s.client));
    })
}

/// Registers the message filter: it sees each received message before the
/// receive callbacks; returning true keeps the message from them (it is
/// still in the local history).
///
/// # Safety
/// As `nim_talk_reg_ack_cb`; the filter runs on the SDK's thread.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_reg_message_filter_cb(
    json_extension: *const c_char,
    cb: nim_talk_message_filter_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    guard((), || {
        REGS.lock().filter = cb.map(|f| Reg {
            f,
            ud: user_data as usize,
        })
    })
}

// ----- nim_sysmsg -----

/// Registers the system notification callback.
///
/// # Safety
/// As `nim_talk_reg_ack_cb`.
#[no_mangle]
pub unsafe extern "C" fn nim_sysmsg_reg_sysmsg_cb(
    json_extension: *const c_char,
    cb: nim_sysmsg_receive_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    guard((), || {
        REGS.lock().sysmsg = cb.map(|f| Reg {
            f,
            ud: user_data as usize,
        })
    })
}

/// Sends a custom system notification (NIM's JSON: `to_account`,
/// `msg_type` 100, `attach`, `client_msg_id`, `custom_save_flag` 1 to keep
/// it for an offline receiver). The result goes to the callback of
/// `nim_sysmsg_reg_custom_notification_ack_cb`.
///
/// # Safety
/// The arguments are NULL or valid C strings.
#[no_mangle]
pub unsafe extern "C" fn nim_sysmsg_send_custom_notification(
    json_msg: *const c_char,
    json_extension: *const c_char,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let raw = unsafe { text(json_msg) };
    guard((), || {
        let n: SysMsg = match serde_json::from_str(&raw) {
            Ok(n) => n,
            Err(_) => {
                if let Some(r) = REGS.lock().sysmsg_ack {
                    let v = parse(&raw).unwrap_or(Value::Null);
                    call_json(
                        r,
                        &json!({"msg_id": v["client_msg_id"].as_str().unwrap_or(""),
                                "talk_id": v["to_account"].as_str().unwrap_or(""),
                                "rescode": 10414})
                        .to_string(),
                    );
                }
                return;
            }
        };
        bridge::with_sdk(|s| {
            let client = s.client.clone();
            s.runtime.spawn(async move {
                client.send_custom_notification(n).await;
            });
        });
    })
}

/// Registers the custom notification ack callback.
///
/// # Safety
/// As `nim_talk_reg_ack_cb`.
#[no_mangle]
pub unsafe extern "C" fn nim_sysmsg_reg_custom_notification_ack_cb(
    json_extension: *const c_char,
    cb: nim_custom_sysmsg_ack_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    guard((), || {
        REGS.lock().sysmsg_ack = cb.map(|f| Reg {
            f,
            ud: user_data as usize,
        })
    })
}

/// Stored system notifications, newest first, before `last_time` (0: now);
/// the callback gets `{"count","unread_count","content":[...]}`.
///
/// # Safety
/// `cb` is NULL or callable with `user_data` once, from the SDK's thread.
#[no_mangle]
pub unsafe extern "C" fn nim_sysmsg_query_msg_async(
    limit_count: c_int,
    last_time: i64,
    json_extension: *const c_char,
    cb: nim_sysmsg_query_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        let Some(f) = cb else { return };
        let answer = move |list: Vec<SysMsg>, unread: u32| {
            let result = json!({"count": list.len(), "unread_count": unread, "content": list});
            let (c, x) = (cstring(&result.to_string()), cstring(""));
            // SAFETY: the app passed `f` for this signature with `ud`.
            unsafe {
                f(
                    list.len() as c_int,
                    c.as_ptr(),
                    x.as_ptr(),
                    ud as *const c_void,
                )
            }
        };
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            s.runtime.spawn(async move {
                let (list, unread) = client
                    .system_messages(limit_count.max(0) as u32, last_time)
                    .await;
                answer(list, unread);
            });
        });
        if started.is_none() {
            answer(Vec::new(), 0);
        }
    })
}

/// The unread count of stored system notifications (custom ones never
/// count, as in NIM).
///
/// # Safety
/// As `nim_sysmsg_query_msg_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_sysmsg_query_unread_count(
    json_extension: *const c_char,
    cb: nim_sysmsg_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        let Some(f) = cb else { return };
        let answer = move |code: c_int, unread: u32| {
            let x = cstring("");
            // SAFETY: the app passed `f` for this signature with `ud`.
            unsafe { f(code, unread as c_int, x.as_ptr(), ud as *const c_void) }
        };
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            s.runtime.spawn(async move {
                let (_, unread) = client.system_messages(1, 0).await;
                answer(200, unread);
            });
        });
        if started.is_none() {
            answer(20000, 0);
        }
    })
}

// ----- nim_session -----

/// Registers the session change callback.
///
/// # Safety
/// As `nim_talk_reg_ack_cb`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_reg_change_cb(
    json_extension: *const c_char,
    cb: nim_session_change_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    guard((), || {
        REGS.lock().session = cb.map(|f| Reg {
            f,
            ud: user_data as usize,
        })
    })
}

/// Every recent session, newest first: `{"count","unread_counts","content":[items]}`.
///
/// # Safety
/// As `nim_sysmsg_query_msg_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_query_all_recent_session_async(
    json_extension: *const c_char,
    cb: nim_session_query_recent_session_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        let Some(f) = cb else { return };
        let answer = move |list: Vec<magpie_client::SessionData>, total: u32| {
            let result = json!({"count": list.len(), "unread_counts": total, "content": list});
            let (c, x) = (cstring(&result.to_string()), cstring(""));
            // SAFETY: the app passed `f` for this signature with `ud`.
            unsafe { f(total as c_int, c.as_ptr(), x.as_ptr(), ud as *const c_void) }
        };
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            s.runtime.spawn(async move {
                let (list, total) = client.recent_sessions().await;
                answer(list, total);
            });
        });
        if started.is_none() {
            answer(Vec::new(), 0);
        }
    })
}

fn session_op(to_type: c_int, id: String, delete: bool, cb: nim_session_change_cb_func, ud: usize) {
    let answer = move |code: c_int, item: String, total: u32| {
        if let Some(f) = cb {
            let (c, x) = (cstring(&item), cstring(""));
            // SAFETY: the app passed `f` for this signature with `ud`.
            unsafe {
                f(
                    code,
                    c.as_ptr(),
                    total as c_int,
                    x.as_ptr(),
                    ud as *const c_void,
                )
            }
        }
    };
    let to_type = to_type.max(0) as u32;
    let started = bridge::with_sdk(|s| {
        let client = s.client.clone();
        let id = id.clone();
        s.runtime.spawn(async move {
            let r = if delete {
                client.delete_recent_session(to_type, &id).await
            } else {
                client.set_unread_count_zero(to_type, &id).await
            };
            answer(
                r.rescode.0 as c_int,
                session_result_json(&r),
                r.total_unread,
            );
        });
    });
    if started.is_none() {
        answer(20000, json!({"id": id, "type": to_type}).to_string(), 0);
    }
}

/// Deletes a recent session here and on my other devices.
///
/// # Safety
/// `id` and `json_extension` are NULL or valid C strings; `cb` as in
/// `nim_sysmsg_query_msg_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_delete_recent_session_async(
    to_type: c_int,
    id: *const c_char,
    json_extension: *const c_char,
    cb: nim_session_change_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let id = unsafe { text(id) };
    guard((), || session_op(to_type, id, true, cb, user_data as usize))
}

/// Marks a session read here and, through the server, on my other devices
/// (NIM's multi-device unread sync).
///
/// # Safety
/// As `nim_session_delete_recent_session_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_set_unread_count_zero_async(
    to_type: c_int,
    id: *const c_char,
    json_extension: *const c_char,
    cb: nim_session_change_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let id = unsafe { text(id) };
    guard((), || {
        session_op(to_type, id, false, cb, user_data as usize)
    })
}

// ----- nim_msglog -----

pub(crate) fn query_answer(
    cb: nim_msglog_query_cb_func,
    ud: usize,
    id: String,
    to_type: u32,
) -> impl FnOnce(c_int, u32, Vec<ImMessage>) + Send + 'static {
    move |code, source, content| {
        if let Some(f) = cb {
            let result = json!({"count": content.len(), "source": source, "content": content});
            let (i, c, x) = (cstring(&id), cstring(&result.to_string()), cstring(""));
            // SAFETY: the app passed `f` for this signature with `ud`; the
            // session type is a valid value of the enum.
            unsafe {
                f(
                    code,
                    i.as_ptr(),
                    session_type(to_type),
                    c.as_ptr(),
                    x.as_ptr(),
                    ud as *const c_void,
                )
            }
        }
    }
}

/// Messages of a session from the local database, newest first, before
/// `anchor_msg_time` (0: now), at most `limit_count`. NIM's
/// `json_extension` keys: `direction` (kForward 0, the default: back in
/// time from the anchor; kBackward 1: forward in time, oldest first),
/// `reverse` (true: the page in the opposite order), `endtime` (ms, 0 for
/// none: where the page stops, exclusive, on the far side of the anchor).
///
/// # Safety
/// As `nim_session_delete_recent_session_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_query_msg_async(
    account_id: *const c_char,
    to_type: c_int,
    limit_count: c_int,
    anchor_msg_time: i64,
    json_extension: *const c_char,
    cb: nim_msglog_query_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let (id, ext) = unsafe { (text(account_id), text(json_extension)) };
    let ext = parse(&ext).unwrap_or(Value::Null);
    let opts = magpie_client::LocalQueryOptions {
        backward: ext["direction"].as_i64() == Some(1),
        reverse: ext["reverse"].as_bool().unwrap_or(false),
        end_time: ext["endtime"].as_i64().unwrap_or(0),
    };
    let ud = user_data as usize;
    guard((), || {
        let t = to_type.max(0) as u32;
        let answer = query_answer(cb, ud, id.clone(), t);
        let limit = limit_count.max(0) as u32;
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            let id = id.clone();
            s.runtime.spawn(async move {
                let r = client
                    .query_local_messages_with(t, &id, limit, anchor_msg_time, opts)
                    .await;
                answer(r.rescode.0 as c_int, r.source, r.content);
            });
        });
        if started.is_none() {
            query_answer(cb, ud, id, t)(20000, 0, Vec::new());
        }
    })
}

/// The server's history of a session (NIM's online query): at most
/// `limit_count` (1 to 100) messages between `from_time` and `end_time`
/// (ms, 0: no bound), leaving out `end_msg_id` (the server id of the
/// previous page's last message); newest first unless `reverse`.
/// With `need_save_to_local` the messages found are also kept in the local
/// history (those whose client id is already there are left as they are)
/// before the callback runs.
///
/// # Safety
/// As `nim_session_delete_recent_session_async`.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // NIM's signature
pub unsafe extern "C" fn nim_msglog_query_msg_online_async(
    id: *const c_char,
    to_type: c_int,
    limit_count: c_int,
    from_time: i64,
    end_time: i64,
    end_msg_id: i64,
    reverse: bool,
    need_save_to_local: bool,
    json_extension: *const c_char,
    cb: nim_msglog_query_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let (id, ext) = unsafe { (text(id), text(json_extension)) };
    let ud = user_data as usize;
    guard((), || {
        let t = to_type.max(0) as u32;
        let msg_types: Vec<i32> = parse(&ext)
            .and_then(|v| {
                v["query_msg_type_list"].as_array().map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_i64().map(|n| n as i32))
                        .collect()
                })
            })
            .unwrap_or_default();
        let q = HistoryQuery {
            to_type: t,
            id: id.clone(),
            limit_count: limit_count.max(0) as u32,
            from_time,
            end_time,
            end_msg_id,
            reverse,
            msg_types,
            keyword: String::new(),
        };
        online_query(q, need_save_to_local, cb, ud)
    })
}

/// Runs an online history query and answers `cb` as
/// `nim_msglog_query_msg_online_async` does, keeping the messages found in
/// the local history first when `need_save_to_local`.
pub(crate) fn online_query(
    q: HistoryQuery,
    need_save_to_local: bool,
    cb: nim_msglog_query_cb_func,
    ud: usize,
) {
    let (id, t) = (q.id.clone(), q.to_type);
    let answer = query_answer(cb, ud, id.clone(), t);
    let started = bridge::with_sdk(|s| {
        let client = s.client.clone();
        let talk_id = q.id.clone();
        s.runtime.spawn(async move {
            let r = client.query_online_messages(q).await;
            if need_save_to_local && r.rescode == ResCode::SUCCESS && !r.content.is_empty() {
                let op = LocalOp::MsgSave {
                    talk_id,
                    msgs: r.content.clone(),
                };
                let saved = client.local_op(op).await;
                if saved.rescode != ResCode::SUCCESS {
                    tracing::warn!(
                        rescode = saved.rescode.0,
                        "keeping the server's history in the local database failed"
                    );
                }
            }
            answer(r.rescode.0 as c_int, r.source, r.content);
        });
    });
    if started.is_none() {
        query_answer(cb, ud, id, t)(20000, 1, Vec::new());
    }
}

/// NIM's `NIMQueryMsgOnlineAsyncParam`: the online query's options, passed
/// by value to [`nim_msglog_query_msg_online_async2`].
#[repr(C)]
#[derive(Clone, Copy)]
pub struct NIMQueryMsgOnlineAsyncParam {
    /// NIMSessionType (0 P2P).
    pub to_type_: c_int,
    /// Most messages (1 to 100).
    pub limit_count_: c_int,
    /// Earliest time, ms (0: no bound).
    pub from_time_: i64,
    /// Latest time, ms (0: now).
    pub end_time_: i64,
    /// Server id of the previous page's last message, left out (0: none).
    pub end_msg_id_: i64,
    /// true: oldest first from `from_time_`; false: newest first.
    pub reverse_: bool,
    /// Keep the messages found in the local history.
    pub need_save_to_local_: bool,
    /// Download attachments (Magpie's messages carry none to download).
    pub auto_download_attachment_: bool,
    /// The message types to get or (with `is_exclusion_type_`) to leave out.
    pub msg_type_list_: *mut NIMMessageType,
    /// How many types `msg_type_list_` holds.
    pub type_list_length_: c_int,
    /// Leave out the listed types instead of getting only them.
    pub is_exclusion_type_: bool,
}

/// NIM's `NIMQueryMsgByKeywordOnlineAsyncParam`: the keyword search's
/// options, passed by value to [`nim_msglog_query_msg_by_keyword_online_async`].
#[repr(C)]
#[derive(Clone, Copy)]
pub struct NIMQueryMsgByKeywordOnlineAsyncParam {
    /// NIMSessionType (0 P2P).
    pub to_type_: c_int,
    /// Most messages (1 to 100).
    pub limit: c_int,
    /// Earliest time, ms (0: no bound).
    pub from_time_: i64,
    /// Latest time, ms (0: now).
    pub end_time_: i64,
    /// true: oldest first from `from_time_`; false: newest first.
    pub reverse_: bool,
}

/// Every message type NIM's wrapper knows, for an exclusion list.
const ALL_MSG_TYPES: [i32; 11] = [0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 100];

/// The types an online query asks for: `list` itself, or every other type
/// with `exclude` (none left: no type matches, answered with nothing).
fn query_types(list: &[c_int], exclude: bool) -> Vec<i32> {
    if exclude {
        ALL_MSG_TYPES
            .iter()
            .copied()
            .filter(|t| !list.contains(t))
            .collect()
    } else {
        list.to_vec()
    }
}

/// The server's history of a session, with NIM's options in one struct:
/// as [`nim_msglog_query_msg_online_async`], only the types in
/// `msg_type_list_` (or with `is_exclusion_type_` every other type; as in
/// NIM, a query by type never saves to the local history).
///
/// # Safety
/// `id` is NULL or a valid C string; `msg_type_list_` is NULL or points to
/// `type_list_length_` values; `cb` as in
/// [`nim_msglog_query_msg_online_async`].
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_query_msg_online_async2(
    id: *const c_char,
    query_param: NIMQueryMsgOnlineAsyncParam,
    cb: nim_msglog_query_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let id = unsafe { text(id) };
    let p = query_param;
    let n = usize::try_from(p.type_list_length_).unwrap_or(0);
    let listed: Vec<c_int> = if p.msg_type_list_.is_null() || n == 0 {
        Vec::new()
    } else {
        // SAFETY: the caller's contract: `n` values at the pointer. They
        // are read as C ints (an enum's storage), so a value that is no
        // NIMMessageType is only a type that matches no message.
        unsafe { std::slice::from_raw_parts(p.msg_type_list_ as *const c_int, n) }.to_vec()
    };
    let ud = user_data as usize;
    guard((), || {
        let asked_types = !listed.is_empty() || p.is_exclusion_type_;
        let mut msg_types = query_types(&listed, p.is_exclusion_type_);
        if asked_types && msg_types.is_empty() {
            // Every type left out: a type no message has.
            msg_types.push(-1);
        }
        let q = HistoryQuery {
            to_type: p.to_type_.max(0) as u32,
            id,
            limit_count: p.limit_count_.max(0) as u32,
            from_time: p.from_time_,
            end_time: p.end_time_,
            end_msg_id: p.end_msg_id_,
            reverse: p.reverse_,
            msg_types,
            keyword: String::new(),
        };
        online_query(q, p.need_save_to_local_ && !asked_types, cb, ud)
    })
}

/// Searches the server's history of a session for `keyword` (in a text's
/// body or a file's name, ignoring case): at most `limit` (1 to 100)
/// messages between `from_time_` and `end_time_`, newest first unless
/// `reverse_`; answered like [`nim_msglog_query_msg_online_async`]. 414
/// for an empty keyword; 201 (kNIMResVersionError) from a server older
/// than the SDK's protocol version 5, which cannot search.
///
/// # Safety
/// Strings are NULL or valid C strings; `cb` as in
/// [`nim_msglog_query_msg_online_async`].
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_query_msg_by_keyword_online_async(
    id: *const c_char,
    keyword: *const c_char,
    query_param: NIMQueryMsgByKeywordOnlineAsyncParam,
    cb: nim_msglog_query_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let (id, keyword) = unsafe { (text(id), text(keyword)) };
    let p = query_param;
    let ud = user_data as usize;
    guard((), || {
        let t = p.to_type_.max(0) as u32;
        if keyword.is_empty() {
            return query_answer(cb, ud, id, t)(ResCode::PARAMETER_ERROR.0 as c_int, 1, Vec::new());
        }
        let q = HistoryQuery {
            to_type: t,
            id,
            limit_count: p.limit.max(0) as u32,
            from_time: p.from_time_,
            end_time: p.end_time_,
            end_msg_id: 0,
            reverse: p.reverse_,
            msg_types: Vec::new(),
            keyword,
        };
        online_query(q, false, cb, ud)
    })
}

// ----- nim_data_sync -----

/// Registers the data-sync callback: after each login it fires as each
/// phase completes: kNIMDataSyncTypeUnreadMsg when the offline messages are
/// in, kNIMDataSyncTypeRoamMsg once per session with roaming messages (the
/// session id in `json_attachment`). Magpie has no teams, so the team types
/// never fire.
///
/// # Safety
/// `cb` is NULL or callable with `user_data` from the SDK's thread until
/// replaced or until cleanup.
#[no_mangle]
pub unsafe extern "C" fn nim_data_sync_reg_complete_cb(
    cb: nim_data_sync_cb_func,
    user_data: *const c_void,
) {
    guard((), || {
        REGS.lock().data_sync = cb.map(|f| Reg {
            f,
            ud: user_data as usize,
        })
    })
}
