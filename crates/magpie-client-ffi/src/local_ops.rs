//! NIM's local operations on messages, sessions and system notifications:
//! the `nim_msglog_*`, `nim_session_*` and `nim_sysmsg_*` functions that
//! work on the account's local database. Each runs on the SDK's thread and
//! calls its callback once; sessions it changes also go to the session
//! change callback.

use crate::bridge::{self, guard, text};
use crate::msg::NIMSessionType;
use crate::msg::{nim_session_change_cb_func, nim_session_query_recent_session_cb_func};
use magpie_client::{ImMessage, LocalOp, LocalResult};
use magpie_proto::ResCode;
use serde_json::{json, Value};
use std::ffi::{c_char, c_int, c_void, CString};

/// `nim_msglog_query_single_cb_func`: one message (`result`) by its id.
pub type nim_msglog_query_single_cb_func = Option<
    unsafe extern "C" fn(
        res_code: c_int,
        msg_id: *const c_char,
        result: *const c_char,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_msglog_res_cb_func`: the result of an operation on one message.
pub type nim_msglog_res_cb_func = Option<
    unsafe extern "C" fn(
        res_code: c_int,
        msg_id: *const c_char,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_msglog_res_ex_cb_func`: the result of an operation on a session's messages.
pub type nim_msglog_res_ex_cb_func = Option<
    unsafe extern "C" fn(
        res_code: c_int,
        uid: *const c_char,
        to_type: NIMSessionType,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_msglog_modify_res_cb_func`: the result of an operation on all messages.
pub type nim_msglog_modify_res_cb_func = Option<
    unsafe extern "C" fn(res_code: c_int, json_extension: *const c_char, user_data: *const c_void),
>;

/// `nim_session_query_sessiondata_by_id_cb_func`: one session item.
pub type nim_session_query_sessiondata_by_id_cb_func =
    Option<unsafe extern "C" fn(rescode: c_int, result: *const c_char, user_data: *const c_void)>;

/// `nim_sysmsg_res_ex_cb_func`: the result of an operation on one system
/// notification, with the unread count.
pub type nim_sysmsg_res_ex_cb_func = Option<
    unsafe extern "C" fn(
        res_code: c_int,
        msg_id: i64,
        unread_count: c_int,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// The `nim_sysmsg_res_cb_func` of the sysmsg functions (declared with them).
type SysResCb = crate::msg::nim_sysmsg_res_cb_func;

fn cs(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// Runs `op` on the SDK; `done` gets its result (20000 when the SDK is not
/// initialised), exactly once.
fn run(op: LocalOp, done: impl FnOnce(LocalResult) + Send + 'static) {
    let mut done = Some(done);
    let started = bridge::with_sdk(|s| {
        let client = s.client.clone();
        let done = done.take();
        s.runtime.spawn(async move {
            let r = client.local_op(op).await;
            if let Some(d) = done {
                d(r);
            }
        });
    });
    if started.is_none() {
        if let Some(d) = done {
            d(LocalResult {
                rescode: ResCode::LOCAL_INIT_UNDONE,
                ..Default::default()
            });
        }
    }
}

fn code(r: &LocalResult) -> c_int {
    r.rescode.0 as c_int
}

fn msg_res(
    cb: nim_msglog_res_cb_func,
    ud: usize,
    msg_id: String,
) -> impl FnOnce(LocalResult) + Send {
    move |r| {
        if let Some(f) = cb {
            let (m, x) = (cs(&msg_id), cs(""));
            // SAFETY: the app passed `f` for this signature with `ud`; the
            // strings outlive the call.
            unsafe { f(code(&r), m.as_ptr(), x.as_ptr(), ud as *const c_void) }
        }
    }
}

fn msg_res_ex(
    cb: nim_msglog_res_ex_cb_func,
    ud: usize,
    uid: String,
    to_type: c_int,
) -> impl FnOnce(LocalResult) + Send {
    move |r| {
        if let Some(f) = cb {
            let (u, x) = (cs(&uid), cs(""));
            // SAFETY: as in `msg_res`; the session type is a valid value.
            unsafe {
                f(
                    code(&r),
                    u.as_ptr(),
                    crate::msg::session_type(to_type.max(0) as u32),
                    x.as_ptr(),
                    ud as *const c_void,
                )
            }
        }
    }
}

fn modify_res(cb: nim_msglog_modify_res_cb_func, ud: usize) -> impl FnOnce(LocalResult) + Send {
    move |r| {
        if let Some(f) = cb {
            let x = cs("");
            // SAFETY: as in `msg_res`.
            unsafe { f(code(&r), x.as_ptr(), ud as *const c_void) }
        }
    }
}

fn session_res(cb: nim_session_change_cb_func, ud: usize) -> impl FnOnce(LocalResult) + Send {
    move |r| {
        if let Some(f) = cb {
            let item = r
                .session
                .as_ref()
                .or(r.changed.last())
                .map(|s| serde_json::to_string(s).unwrap_or_default())
                .unwrap_or_else(|| "{}".into());
            let (c, x) = (cs(&item), cs(""));
            // SAFETY: as in `msg_res`.
            unsafe {
                f(
                    code(&r),
                    c.as_ptr(),
                    r.unread as c_int,
                    x.as_ptr(),
                    ud as *const c_void,
                )
            }
        }
    }
}

fn sys_res(cb: SysResCb, ud: usize) -> impl FnOnce(LocalResult) + Send {
    move |r| {
        if let Some(f) = cb {
            let x = cs("");
            // SAFETY: as in `msg_res`.
            unsafe { f(code(&r), r.unread as c_int, x.as_ptr(), ud as *const c_void) }
        }
    }
}

fn sys_res_ex(
    cb: nim_sysmsg_res_ex_cb_func,
    ud: usize,
    msg_id: i64,
) -> impl FnOnce(LocalResult) + Send {
    move |r| {
        if let Some(f) = cb {
            let x = cs("");
            // SAFETY: as in `msg_res`.
            unsafe {
                f(
                    code(&r),
                    msg_id,
                    r.unread as c_int,
                    x.as_ptr(),
                    ud as *const c_void,
                )
            }
        }
    }
}

// ----- nim_msglog -----

/// One message of the local history by its client id; `result` is the
/// message JSON (with `log_status`), empty when it is not there (code 0).
///
/// # Safety
/// Strings are NULL or valid C strings; `cb` is NULL or callable with
/// `user_data` once, from the SDK's thread.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_query_msg_by_id_async(
    client_msg_id: *const c_char,
    json_extension: *const c_char,
    cb: nim_msglog_query_single_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let id = unsafe { text(client_msg_id) };
    let ud = user_data as usize;
    guard((), || {
        let key = id.clone();
        run(LocalOp::MsgById { client_msg_id: id }, move |r| {
            if let Some(f) = cb {
                let body = r
                    .message
                    .as_ref()
                    .map(|m| serde_json::to_string(m).unwrap_or_default())
                    .unwrap_or_default();
                let (k, b, x) = (cs(&key), cs(&body), cs(""));
                // SAFETY: as in `msg_res`.
                unsafe {
                    f(
                        code(&r),
                        k.as_ptr(),
                        b.as_ptr(),
                        x.as_ptr(),
                        ud as *const c_void,
                    )
                }
            }
        })
    })
}

/// Marks a session's unread messages read in the local history.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_batch_status_read_async(
    account_id: *const c_char,
    to_type: c_int,
    json_extension: *const c_char,
    cb: nim_msglog_res_ex_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let id = unsafe { text(account_id) };
    let ud = user_data as usize;
    guard((), || {
        let done = msg_res_ex(cb, ud, id.clone(), to_type);
        run(
            LocalOp::MsgSessionRead {
                to_type: to_type.max(0) as u32,
                id,
            },
            done,
        )
    })
}

/// Sets a message's NIMMsgLogStatus in the local history.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_set_status_async(
    msg_id: *const c_char,
    msglog_status: c_int,
    json_extension: *const c_char,
    cb: nim_msglog_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let id = unsafe { text(msg_id) };
    let ud = user_data as usize;
    guard((), || {
        let done = msg_res(cb, ud, id.clone());
        run(
            LocalOp::MsgSetStatus {
                client_msg_id: id,
                status: msglog_status.max(0) as u32,
            },
            done,
        )
    })
}

/// Sets a message's sub-status in the local history.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_set_sub_status_async(
    msg_id: *const c_char,
    msglog_sub_status: c_int,
    json_extension: *const c_char,
    cb: nim_msglog_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let id = unsafe { text(msg_id) };
    let ud = user_data as usize;
    guard((), || {
        let done = msg_res(cb, ud, id.clone());
        run(
            LocalOp::MsgSetSubStatus {
                client_msg_id: id,
                sub_status: msglog_sub_status.max(0) as u32,
            },
            done,
        )
    })
}

/// Writes a message to the local history only (an app's local message),
/// or updates it when its client id is there; with `need_update_session`
/// it becomes the session's last message.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_insert_msglog_async(
    talk_id: *const c_char,
    json_msg: *const c_char,
    need_update_session: bool,
    json_extension: *const c_char,
    cb: nim_msglog_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let (talk, raw) = unsafe { (text(talk_id), text(json_msg)) };
    let ud = user_data as usize;
    guard((), || match serde_json::from_str::<ImMessage>(&raw) {
        Ok(m) => {
            let done = msg_res(cb, ud, m.client_msg_id.clone());
            run(
                LocalOp::MsgInsert {
                    talk_id: talk,
                    msg: Box::new(m),
                    update_session: need_update_session,
                },
                done,
            )
        }
        Err(_) => msg_res(cb, ud, String::new())(LocalResult {
            rescode: ResCode::PARAMETER_ERROR,
            ..Default::default()
        }),
    })
}

/// Deletes a session's messages from the local history; the session stays,
/// reported with command kNIMSessionCommandMsgDeleted.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_batch_status_delete_async(
    account_id: *const c_char,
    to_type: c_int,
    json_extension: *const c_char,
    cb: nim_msglog_res_ex_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let id = unsafe { text(account_id) };
    let ud = user_data as usize;
    guard((), || {
        let done = msg_res_ex(cb, ud, id.clone(), to_type);
        run(
            LocalOp::MsgSessionDelete {
                to_type: to_type.max(0) as u32,
                id,
            },
            done,
        )
    })
}

/// Deletes every local message of a session type, and with
/// `delete_sessions` its sessions too (one bulk session change).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_delete_by_session_type_async(
    delete_sessions: bool,
    to_type: c_int,
    json_extension: *const c_char,
    cb: nim_msglog_res_ex_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        let done = msg_res_ex(cb, ud, String::new(), to_type);
        run(
            LocalOp::MsgDeleteByType {
                delete_sessions,
                to_type: to_type.max(0) as u32,
            },
            done,
        )
    })
}

/// Deletes one message from the local history.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_delete_async(
    account_id: *const c_char,
    to_type: c_int,
    msg_id: *const c_char,
    json_extension: *const c_char,
    cb: nim_msglog_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let (id, mid) = unsafe { (text(account_id), text(msg_id)) };
    let ud = user_data as usize;
    guard((), || {
        let done = msg_res(cb, ud, mid.clone());
        run(
            LocalOp::MsgDelete {
                to_type: to_type.max(0) as u32,
                id,
                client_msg_id: mid,
            },
            done,
        )
    })
}

/// Deletes the whole local history, and with `delete_sessions` every
/// session (one bulk session change).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_delete_all_async(
    delete_sessions: bool,
    json_extension: *const c_char,
    cb: nim_msglog_modify_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        run(
            LocalOp::MsgDeleteAll { delete_sessions },
            modify_res(cb, ud),
        )
    })
}

/// Marks every unread local message read.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_read_all_async(
    json_extension: *const c_char,
    cb: nim_msglog_modify_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || run(LocalOp::MsgReadAll, modify_res(cb, ud)))
}

/// Sets a message's `local_ext` (JSON text kept on this device only).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_update_localext_async(
    msg_id: *const c_char,
    local_ext: *const c_char,
    json_extension: *const c_char,
    cb: nim_msglog_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let (id, ext) = unsafe { (text(msg_id), text(local_ext)) };
    let ud = user_data as usize;
    guard((), || {
        let done = msg_res(cb, ud, id.clone());
        run(
            LocalOp::MsgUpdateLocalExt {
                client_msg_id: id,
                local_ext: ext,
            },
            done,
        )
    })
}

// ----- nim_session -----

/// One session item; code 0 when there is no such session.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_query_sessiondata_by_id_async(
    to_type: c_int,
    session_id: *const c_char,
    json_extension: *const c_char,
    cb: nim_session_query_sessiondata_by_id_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let id = unsafe { text(session_id) };
    let ud = user_data as usize;
    guard((), || {
        run(
            LocalOp::SessionById {
                to_type: to_type.max(0) as u32,
                id,
            },
            move |r| {
                if let Some(f) = cb {
                    let item = r
                        .session
                        .as_ref()
                        .map(|s| serde_json::to_string(s).unwrap_or_default())
                        .unwrap_or_else(|| "{}".into());
                    let c = cs(&item);
                    // SAFETY: as in `msg_res`.
                    unsafe { f(code(&r), c.as_ptr(), ud as *const c_void) }
                }
            },
        )
    })
}

/// The newest `limit` sessions, as `nim_session_query_all_recent_session_async` lists them.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_query_last_few_session_async(
    limit: c_int,
    json_extension: *const c_char,
    cb: nim_session_query_recent_session_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        let answer = session_list_answer(cb, ud);
        run(
            LocalOp::SessionsLastFew {
                limit: limit.max(0) as u32,
            },
            move |r| answer(r, ""),
        )
    })
}

/// Removes every recent session of this device (command kNIMSessionCommandRemoveAll).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_delete_all_recent_session_async(
    json_extension: *const c_char,
    cb: nim_session_change_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || run(LocalOp::SessionDeleteAll, session_res(cb, ud)))
}

/// Sets a session's local top flag (NIM: local only).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_set_top(
    to_type: c_int,
    id: *const c_char,
    top: bool,
    json_extension: *const c_char,
    cb: nim_session_change_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let id = unsafe { text(id) };
    let ud = user_data as usize;
    guard((), || {
        run(
            LocalOp::SessionSetTop {
                to_type: to_type.max(0) as u32,
                id,
                top,
            },
            session_res(cb, ud),
        )
    })
}

/// Sets a session's local extension data (NIM: local only, at most 4,096
/// characters; more is refused with 414).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_set_extend_data(
    to_type: c_int,
    id: *const c_char,
    data: *const c_char,
    json_extension: *const c_char,
    cb: nim_session_change_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let (id, data) = unsafe { (text(id), text(data)) };
    let ud = user_data as usize;
    guard((), || {
        run(
            LocalOp::SessionSetExtendData {
                to_type: to_type.max(0) as u32,
                id,
                data,
            },
            session_res(cb, ud),
        )
    })
}

/// Clears every session's unread count on this device; each session that
/// had unread messages is reported to the change callback.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_reset_all_unread_count_async(
    json_extension: *const c_char,
    cb: nim_session_change_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        run(LocalOp::SessionResetAllUnread, session_res(cb, ud))
    })
}

// ----- nim_sysmsg -----

/// Sets a stored system notification's NIMSysMsgStatus (`msg_id` as a
/// query returned it).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_sysmsg_set_status_async(
    msg_id: i64,
    status: c_int,
    json_extension: *const c_char,
    cb: nim_sysmsg_res_ex_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        run(
            LocalOp::SysMsgSetStatus {
                msg_id,
                status: status.max(0) as u32,
            },
            sys_res_ex(cb, ud, msg_id),
        )
    })
}

/// Marks every stored system notification read.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_sysmsg_read_all_async(
    json_extension: *const c_char,
    cb: crate::msg::nim_sysmsg_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || run(LocalOp::SysMsgReadAll, sys_res(cb, ud)))
}

/// Deletes one stored system notification.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_sysmsg_delete_async(
    msg_id: i64,
    json_extension: *const c_char,
    cb: nim_sysmsg_res_ex_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        run(LocalOp::SysMsgDelete { msg_id }, sys_res_ex(cb, ud, msg_id))
    })
}

/// Deletes every stored system notification.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_sysmsg_delete_all_async(
    json_extension: *const c_char,
    cb: crate::msg::nim_sysmsg_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || run(LocalOp::SysMsgDeleteAll, sys_res(cb, ud)))
}

/// Sets the status of every stored notification of a NIMSysMsgType.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_sysmsg_set_logs_status_by_type_async(
    r#type: c_int,
    status: c_int,
    json_extension: *const c_char,
    cb: crate::msg::nim_sysmsg_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        run(
            LocalOp::SysMsgSetStatusByType {
                msg_type: r#type.max(0) as u32,
                status: status.max(0) as u32,
            },
            sys_res(cb, ud),
        )
    })
}

/// Deletes every stored notification of a NIMSysMsgType.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_sysmsg_delete_logs_by_type_async(
    r#type: c_int,
    json_extension: *const c_char,
    cb: crate::msg::nim_sysmsg_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        run(
            LocalOp::SysMsgDeleteByType {
                msg_type: r#type.max(0) as u32,
            },
            sys_res(cb, ud),
        )
    })
}

// ----- the _ex variants and the rest -----
//
// `revert_by_query_online` asks NIM whether the server's history may bring
// deleted local messages back. Magpie's server history does not depend on
// what a device deletes locally, so an online query always can: the flag
// changes nothing.

/// As `nim_msglog_batch_status_delete_async` (`revert_by_query_online`: see above).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_batch_status_delete_async_ex(
    account_id: *const c_char,
    to_type: c_int,
    revert_by_query_online: bool,
    json_extension: *const c_char,
    cb: nim_msglog_res_ex_cb_func,
    user_data: *const c_void,
) {
    let _ = revert_by_query_online;
    // SAFETY: the caller's contract, passed on.
    unsafe {
        nim_msglog_batch_status_delete_async(account_id, to_type, json_extension, cb, user_data)
    }
}

/// As `nim_msglog_delete_by_session_type_async` (`revert_by_query_online`: see above).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_delete_by_session_type_async_ex(
    delete_sessions: bool,
    to_type: c_int,
    revert_by_query_online: bool,
    json_extension: *const c_char,
    cb: nim_msglog_res_ex_cb_func,
    user_data: *const c_void,
) {
    let _ = revert_by_query_online;
    // SAFETY: the caller's contract, passed on.
    unsafe {
        nim_msglog_delete_by_session_type_async(
            delete_sessions,
            to_type,
            json_extension,
            cb,
            user_data,
        )
    }
}

/// As `nim_msglog_delete_all_async` (`revert_by_query_online`: see above).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_delete_all_async_ex(
    delete_sessions: bool,
    revert_by_query_online: bool,
    json_extension: *const c_char,
    cb: nim_msglog_modify_res_cb_func,
    user_data: *const c_void,
) {
    let _ = revert_by_query_online;
    // SAFETY: the caller's contract, passed on.
    unsafe { nim_msglog_delete_all_async(delete_sessions, json_extension, cb, user_data) }
}

/// Deletes a session's local messages between two times (ms, inclusive,
/// in either order).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_delete_by_time_async(
    account_id: *const c_char,
    to_type: c_int,
    timestamp1: u64,
    timestamp2: u64,
    json_extension: *const c_char,
    cb: nim_msglog_modify_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let id = unsafe { text(account_id) };
    let ud = user_data as usize;
    guard((), || {
        run(
            LocalOp::MsgDeleteByTime {
                to_type: to_type.max(0) as u32,
                id,
                time1: timestamp1.min(i64::MAX as u64) as i64,
                time2: timestamp2.min(i64::MAX as u64) as i64,
            },
            modify_res(cb, ud),
        )
    })
}

/// As `nim_msglog_delete_by_time_async` (`revert_by_query_online`: see above).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // NIM's signature
pub unsafe extern "C" fn nim_msglog_delete_by_time_async_ex(
    account_id: *const c_char,
    to_type: c_int,
    revert_by_query_online: bool,
    timestamp1: u64,
    timestamp2: u64,
    json_extension: *const c_char,
    cb: nim_msglog_modify_res_cb_func,
    user_data: *const c_void,
) {
    let _ = revert_by_query_online;
    // SAFETY: the caller's contract, passed on.
    unsafe {
        nim_msglog_delete_by_time_async(
            account_id,
            to_type,
            timestamp1,
            timestamp2,
            json_extension,
            cb,
            user_data,
        )
    }
}

/// Writes this account's message history (sessions included, system
/// notifications not) to a new file at `dst_path` (414 when it exists).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_export_db_async(
    dst_path: *const c_char,
    json_extension: *const c_char,
    cb: nim_msglog_modify_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let path = unsafe { text(dst_path) };
    let ud = user_data as usize;
    guard((), || run(LocalOp::MsgExport { path }, modify_res(cb, ud)))
}

/// `nim_msglog_import_prg_cb_func`: messages imported so far, of all.
pub type nim_msglog_import_prg_cb_func = Option<
    unsafe extern "C" fn(
        imported_count: i64,
        total_count: i64,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// Adds the messages and sessions of a file `nim_msglog_export_db_async`
/// wrote for this account (what is already here stays); 10600 when the
/// file is another account's. The progress callback is called once, at the
/// end, with the number of messages added.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`; `prg_cb` likewise.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_import_db_async(
    src_path: *const c_char,
    json_extension: *const c_char,
    res_cb: nim_msglog_modify_res_cb_func,
    res_user_data: *const c_void,
    prg_cb: nim_msglog_import_prg_cb_func,
    prg_user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let path = unsafe { text(src_path) };
    let (ud, pud) = (res_user_data as usize, prg_user_data as usize);
    guard((), || {
        let done = modify_res(res_cb, ud);
        run(LocalOp::MsgImport { path }, move |r| {
            if let (Some(p), true) = (prg_cb, r.rescode.is_success()) {
                let x = cs("");
                let n = r.imported as i64;
                // SAFETY: as in `msg_res`.
                unsafe { p(n, n, x.as_ptr(), pud as *const c_void) }
            }
            done(r)
        })
    })
}

/// `nim_session_multi_change_cb_func`: the changed sessions (a JSON array)
/// and the total unread count.
pub type nim_session_multi_change_cb_func = Option<
    unsafe extern "C" fn(
        rescode: c_int,
        result: *const c_char,
        total_unread_counts: c_int,
        user_data: *const c_void,
    ),
>;

/// Marks several sessions read (`[{"type":0,"id":"..."}, ...]`), each as
/// `nim_session_set_unread_count_zero_async` does; the callback gets 200
/// and every session, or the first refusal's code. `super_team` is for
/// NIM's super teams, which Magpie does not have: with it set, 414.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_set_multi_unread_count_zero_async(
    super_team: bool,
    unread_count_zero_info_list: *const c_char,
    cb: nim_session_multi_change_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let raw = unsafe { text(unread_count_zero_info_list) };
    let ud = user_data as usize;
    guard((), || {
        let answer = move |code: ResCode, items: Vec<serde_json::Value>, total: u32| {
            if let Some(f) = cb {
                let c = cs(&serde_json::Value::Array(items).to_string());
                // SAFETY: as in `msg_res`.
                unsafe {
                    f(
                        code.0 as c_int,
                        c.as_ptr(),
                        total as c_int,
                        ud as *const c_void,
                    )
                }
            }
        };
        let list: Vec<(u32, String)> = serde_json::from_str::<serde_json::Value>(&raw)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|x| Some((x["type"].as_u64()? as u32, x["id"].as_str()?.to_owned())))
            .collect();
        if super_team || list.is_empty() {
            return answer(ResCode::PARAMETER_ERROR, Vec::new(), 0);
        }
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            s.runtime.spawn(async move {
                let (mut code, mut items, mut total) = (ResCode::SUCCESS, Vec::new(), 0);
                for (t, id) in list {
                    let r = client.set_unread_count_zero(t, &id).await;
                    if !r.rescode.is_success() && code.is_success() {
                        code = r.rescode;
                    }
                    total = r.total_unread;
                    items.push(serde_json::to_value(&r.session).unwrap_or_default());
                }
                answer(code, items, total);
            });
        });
        if started.is_none() {
            answer(ResCode::LOCAL_INIT_UNDONE, Vec::new(), 0);
        }
    })
}

/// As `nim_session_delete_recent_session_async`; with `delete_roaming`
/// the session's messages go too: from this device, and from the sync of
/// the account's devices that have not received them (as
/// `nim_session_delete_session_roaming_async`; the server's history is
/// kept). When that server part fails (not logged in, 414), the callback
/// gets its code; the local deletions are done either way.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_delete_recent_session_async_ex(
    to_type: c_int,
    id: *const c_char,
    delete_roaming: bool,
    cb: nim_session_change_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let sid = unsafe { text(id) };
    let ud = user_data as usize;
    guard((), || {
        let t = to_type.max(0) as u32;
        let answer = move |r: magpie_client::SessionResult| {
            if let Some(f) = cb {
                let (c, x) = (
                    cs(&serde_json::to_string(&r.session).unwrap_or_default()),
                    cs(""),
                );
                // SAFETY: as in `msg_res`.
                unsafe {
                    f(
                        r.rescode.0 as c_int,
                        c.as_ptr(),
                        r.total_unread as c_int,
                        x.as_ptr(),
                        ud as *const c_void,
                    )
                }
            }
        };
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            let sid = sid.clone();
            s.runtime.spawn(async move {
                let mut roaming = ResCode::SUCCESS;
                // The server keeps roaming copies of P2P sessions only.
                if delete_roaming {
                    client
                        .local_op(LocalOp::MsgSessionDelete {
                            to_type: t,
                            id: sid.clone(),
                        })
                        .await;
                    if t == magpie_proto::msg::session_type::P2P {
                        roaming = client.delete_session_roaming(t, &sid).await;
                    }
                }
                let mut r = client.delete_recent_session(t, &sid).await;
                if r.rescode.is_success() && !roaming.is_success() {
                    r.rescode = roaming;
                }
                answer(r);
            });
        });
        if started.is_none() {
            answer(magpie_client::SessionResult {
                rescode: ResCode::LOCAL_INIT_UNDONE,
                session: magpie_client::SessionData {
                    id: sid,
                    to_type: t,
                    ..Default::default()
                },
                total_unread: 0,
            });
        }
    })
}

/// Searches the local history: `query_range` a P2P session (`ids`, a JSON
/// array of one id) or every P2P session (All, AllP2P); team ranges find
/// nothing (Magpie has no teams) and a mixed range is refused with 414, as
/// in NIM. `msg_type` kNIMMessageTypeUnknown means every type;
/// `search_content` matches a text body or a file's name, ignoring case;
/// `reverse` false pages back from `end_time`, true forward from
/// `from_time`; `end_client_msg_id` is left out. At most `limit_count`
/// (1 to 100) messages, in the callback of `nim_msglog_query_msg_async`.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // NIM's signature
pub unsafe extern "C" fn nim_msglog_query_msg_by_options_async(
    query_range: c_int,
    ids: *const c_char,
    limit_count: c_int,
    from_time: i64,
    end_time: i64,
    end_client_msg_id: *const c_char,
    reverse: bool,
    msg_type: c_int,
    search_content: *const c_char,
    json_extension: *const c_char,
    cb: crate::msg::nim_msglog_query_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let (ids, exclude, content) =
        unsafe { (text(ids), text(end_client_msg_id), text(search_content)) };
    let ud = user_data as usize;
    guard((), || {
        let ids: Vec<String> = serde_json::from_str(&ids).unwrap_or_default();
        let search = OptionsSearch {
            query_range,
            ids,
            limit_count,
            from_time,
            end_time,
            exclude,
            reverse,
            msg_type,
            content,
        };
        search.run(cb, ud)
    })
}

/// A search of the local history by options (NIM's
/// `nim_msglog_query_msg_by_options_async` and its JSON form).
struct OptionsSearch {
    query_range: c_int,
    ids: Vec<String>,
    limit_count: c_int,
    from_time: i64,
    end_time: i64,
    exclude: String,
    reverse: bool,
    msg_type: c_int,
    content: String,
}

impl OptionsSearch {
    fn run(self, cb: crate::msg::nim_msglog_query_cb_func, ud: usize) {
        let first = self.ids.first().cloned().unwrap_or_default();
        let answer = crate::msg::query_answer(cb, ud, first, 0);
        let search_ids = match self.query_range {
            0 if self.ids.len() == 1 => Some(self.ids),
            0 => return answer(ResCode::PARAMETER_ERROR.0 as c_int, 0, Vec::new()),
            100 | 101 => None,
            1 | 5 | 102 | 103 => return answer(200, 0, Vec::new()),
            _ => return answer(ResCode::PARAMETER_ERROR.0 as c_int, 0, Vec::new()),
        };
        run(
            LocalOp::MsgSearch {
                ids: search_ids,
                limit: self.limit_count.max(0) as u32,
                from_time: self.from_time,
                end_time: self.end_time,
                reverse: self.reverse,
                msg_types: if self.msg_type == 1000 {
                    Vec::new()
                } else {
                    vec![self.msg_type]
                },
                content: self.content,
                exclude: self.exclude,
            },
            move |r| answer(code(&r), 0, r.messages),
        )
    }
}

/// As [`nim_msglog_query_msg_by_options_async`], the options in one JSON
/// object with NIM's keys: `query_range`, `ids` (an array), `limit_count`,
/// `from_time`, `end_time`, `end_client_msg_id`, `reverse`, `msg_type`
/// (default kNIMMessageTypeUnknown, every type), `msg_sub_type` (0; another
/// sub-type answers 414: Magpie's messages carry none) and
/// `search_content`. A `json_param` that is not a JSON object answers 414.
///
/// # Safety
/// `json_param` is NULL or a valid C string; `cb` as in
/// [`nim_msglog_query_msg_by_options_async`].
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_query_msg_by_options_async_ex(
    json_param: *const c_char,
    cb: crate::msg::nim_msglog_query_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let raw = unsafe { text(json_param) };
    let ud = user_data as usize;
    guard((), || {
        let Ok(Value::Object(o)) = serde_json::from_str::<Value>(&raw) else {
            return crate::msg::query_answer(cb, ud, String::new(), 0)(
                ResCode::PARAMETER_ERROR.0 as c_int,
                0,
                Vec::new(),
            );
        };
        let int = |k: &str, d: i64| o.get(k).and_then(Value::as_i64).unwrap_or(d);
        let string = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let ids: Vec<String> = o
            .get("ids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if int("msg_sub_type", 0) != 0 {
            return crate::msg::query_answer(cb, ud, ids.first().cloned().unwrap_or_default(), 0)(
                ResCode::PARAMETER_ERROR.0 as c_int,
                0,
                Vec::new(),
            );
        }
        let search = OptionsSearch {
            query_range: int("query_range", 100) as c_int,
            ids,
            limit_count: int("limit_count", 100) as c_int,
            from_time: int("from_time", 0),
            end_time: int("end_time", 0),
            exclude: string("end_client_msg_id"),
            reverse: o.get("reverse").and_then(Value::as_bool).unwrap_or(false),
            msg_type: int("msg_type", 1000) as c_int,
            content: string("search_content"),
        };
        search.run(cb, ud)
    })
}

/// Sends the peer a P2P read receipt for a received message (`json_msg`):
/// the peer learns I read its messages up to this one's time. `cb` gets the
/// code (200; 414 for a message that is not a received P2P one; 404 when
/// the peer is gone; 20001/415 when not logged in) and
/// `[{"talk_id","msg_timetag","status":7}]`.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_send_receipt_async(
    json_msg: *const c_char,
    json_extension: *const c_char,
    cb: crate::msg::nim_msglog_status_changed_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let raw = unsafe { text(json_msg) };
    let ud = user_data as usize;
    guard((), || {
        let answer = move |code: ResCode, talk: &str, time: i64| {
            if let Some(f) = cb {
                let result = json!([{"talk_id": talk, "msg_timetag": time, "status": 7}]);
                crate::msg::call_status(f, ud, code.0 as c_int, &result.to_string());
            }
        };
        let Ok(m) = serde_json::from_str::<ImMessage>(&raw) else {
            return answer(ResCode::PARAMETER_ERROR, "", 0);
        };
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            let m = m.clone();
            s.runtime.spawn(async move {
                let code = client.send_receipt(&m).await;
                answer(code, &m.from_id, m.time);
            });
        });
        if started.is_none() {
            answer(ResCode::LOCAL_INIT_UNDONE, &m.from_id, m.time);
        }
    })
}

/// Whether the peer has read this message of mine (`json_msg`), as this
/// device knows from the peer's receipts.
///
/// # Safety
/// Strings are NULL or valid C strings.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_query_be_readed(
    json_msg: *const c_char,
    json_extension: *const c_char,
) -> bool {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let raw = unsafe { text(json_msg) };
    guard(false, || receipt_query(&raw, true))
}

/// Whether one of my devices has sent the peer a read receipt covering this
/// received message (`json_msg`).
///
/// # Safety
/// Strings are NULL or valid C strings.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_query_receipt_sent(
    json_msg: *const c_char,
    json_extension: *const c_char,
) -> bool {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let raw = unsafe { text(json_msg) };
    guard(false, || receipt_query(&raw, false))
}

fn receipt_query(raw: &str, mine: bool) -> bool {
    let Ok(m) = serde_json::from_str::<ImMessage>(raw) else {
        return false;
    };
    bridge::with_sdk(|s| {
        if mine {
            s.client.is_read_by_peer(&m)
        } else {
            s.client.is_receipt_sent(&m)
        }
    })
    .unwrap_or(false)
}

/// The answer of the session list queries: `{"count","unread_counts","content"}`,
/// with `json_extension` for an error (`{"error": ...}`), since NIM's
/// callback has no result code.
fn session_list_answer(
    cb: nim_session_query_recent_session_cb_func,
    ud: usize,
) -> impl FnOnce(LocalResult, &str) + Send + 'static {
    move |r, error| {
        if let Some(f) = cb {
            let list = json!({"count": r.sessions.len(), "unread_counts": r.unread, "content": r.sessions});
            let ext = if error.is_empty() {
                String::new()
            } else {
                json!({ "error": error }).to_string()
            };
            let (c, x) = (cs(&list.to_string()), cs(&ext));
            // SAFETY: as in `msg_res`.
            unsafe {
                f(
                    r.unread as c_int,
                    c.as_ptr(),
                    x.as_ptr(),
                    ud as *const c_void,
                )
            }
        }
    }
}

/// Every session, as `nim_session_query_all_recent_session_async` lists
/// them, each with its newest message that is not of type
/// `last_msg_excluded_type` as its last message (a session whose every
/// message is of that type has no last message).
/// `kNIMMessageTypeUnknown` (1000) excludes nothing.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_query_all_recent_session_with_last_msg_excluded_type_async(
    json_extension: *const c_char,
    cb: nim_session_query_recent_session_cb_func,
    last_msg_excluded_type: c_int,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let ud = user_data as usize;
    guard((), || {
        let answer = session_list_answer(cb, ud);
        let types = if last_msg_excluded_type == 1000 {
            Vec::new()
        } else {
            vec![last_msg_excluded_type]
        };
        run(LocalOp::SessionsExcluding { types }, move |r| answer(r, ""))
    })
}

/// As `nim_session_query_all_recent_session_with_last_msg_excluded_type_async`,
/// with several types: `last_msg_excluded_type_list` is a JSON array of
/// NIMMessageType numbers (`[0,10]`; empty or null excludes nothing). Not
/// an array: an empty list, and `json_extension` of the callback is
/// `{"error": ...}` naming the fix.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_query_all_recent_session_with_last_msg_excluded_type_async_ex(
    json_extension: *const c_char,
    cb: nim_session_query_recent_session_cb_func,
    last_msg_excluded_type_list: *const c_char,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let list = unsafe { text(last_msg_excluded_type_list) };
    let ud = user_data as usize;
    guard((), || {
        let answer = session_list_answer(cb, ud);
        let types = if list.trim().is_empty() {
            Vec::new()
        } else {
            match serde_json::from_str::<Vec<i32>>(&list) {
                Ok(t) => t,
                Err(_) => {
                    let why = "last_msg_excluded_type_list must be a JSON array of NIMMessageType numbers, such as [0,10]";
                    return answer(LocalResult::default(), why);
                }
            }
        };
        run(LocalOp::SessionsExcluding { types }, move |r| answer(r, ""))
    })
}

/// Local messages of one session whose type is one of `msg_types` (a JSON
/// array of NIMMessageType numbers, `[0,1]`): at most `limit_count` (1 to
/// 100; 0 or less: 100) between `from_time` and `end_time` (ms; 0: no
/// bound), newest first, or oldest first with `reverse`, leaving out
/// `end_client_msg_id` (the previous page's last). `cb` gets 200 and
/// `{"count","source":0,"content":[...]}`; 414 for `msg_types` that is
/// not such an array or an empty `id`. Team sessions have no messages in
/// Magpie (200, none).
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // NIM's signature
pub unsafe extern "C" fn nim_msglog_query_the_message_of_the_specified_type_async(
    to_type: c_int,
    id: *const c_char,
    limit_count: c_int,
    from_time: i64,
    end_time: i64,
    end_client_msg_id: *const c_char,
    reverse: bool,
    msg_types: *const c_char,
    json_extension: *const c_char,
    cb: crate::msg::nim_msglog_query_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let (id, exclude, types) = unsafe { (text(id), text(end_client_msg_id), text(msg_types)) };
    let ud = user_data as usize;
    guard((), || {
        let answer = crate::msg::query_answer(cb, ud, id.clone(), to_type.max(0) as u32);
        let Ok(types) = serde_json::from_str::<Vec<i32>>(&types) else {
            return answer(ResCode::PARAMETER_ERROR.0 as c_int, 0, Vec::new());
        };
        if id.is_empty() {
            return answer(ResCode::PARAMETER_ERROR.0 as c_int, 0, Vec::new());
        }
        if to_type != 0 {
            return answer(200, 0, Vec::new());
        }
        let limit = if limit_count <= 0 {
            100
        } else {
            limit_count as u32
        };
        run(
            LocalOp::MsgSearch {
                ids: Some(vec![id.to_ascii_lowercase()]),
                limit,
                from_time,
                end_time,
                reverse,
                msg_types: types,
                content: String::new(),
                exclude,
            },
            move |r| answer(code(&r), 0, r.messages),
        )
    })
}

/// NIM's `SessionMainTagInfo`: a session by id and type.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SessionMainTagInfo {
    /// The session id, NUL-terminated.
    pub session_id: [c_char; 64],
    /// NIMSessionType.
    pub to_type: c_int,
}

/// NIM's `SessionRoamMsgHasMoreTagInfo`: the server keeps messages of the
/// session older than this one (time and server id).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SessionRoamMsgHasMoreTagInfo {
    /// The session.
    pub session_tag_info: SessionMainTagInfo,
    /// The message's time, ms.
    pub message_time_tag: u64,
    /// The message's server id.
    pub message_server_id: u64,
}

/// `nim_session_query_session_hasmore_roammsg_cb_func`: one session's tag.
pub type nim_session_query_session_hasmore_roammsg_cb_func = Option<
    unsafe extern "C" fn(
        rescode: c_int,
        tag_info: *const SessionRoamMsgHasMoreTagInfo,
        user_data: *const c_void,
    ),
>;

/// `nim_session_query_all_session_hasmore_roammsg_cb_func`: every tag.
pub type nim_session_query_all_session_hasmore_roammsg_cb_func = Option<
    unsafe extern "C" fn(
        rescode: c_int,
        tag_info_list: *const SessionRoamMsgHasMoreTagInfo,
        size: c_int,
        user_data: *const c_void,
    ),
>;

/// `nim_session_update_session_hasmore_roammsg_cb_func`: an update's result.
pub type nim_session_update_session_hasmore_roammsg_cb_func =
    Option<unsafe extern "C" fn(rescode: c_int, user_data: *const c_void)>;

/// `nim_session_delete_session_hasmore_roammsg_cb_func`: a removal's result.
pub type nim_session_delete_session_hasmore_roammsg_cb_func =
    Option<unsafe extern "C" fn(rescode: c_int, user_data: *const c_void)>;

/// The answer of the tag update and removal: a code only.
fn code_answer(
    cb: nim_session_update_session_hasmore_roammsg_cb_func,
    ud: usize,
) -> impl FnOnce(c_int) + Send + 'static {
    move |code| {
        if let Some(f) = cb {
            // SAFETY: the app passed `f` for this signature with `ud`.
            unsafe { f(code, ud as *const c_void) }
        }
    }
}

fn main_tag(id: &str, to_type: u32) -> SessionMainTagInfo {
    let mut session_id = [0 as c_char; 64];
    for (d, b) in session_id.iter_mut().zip(id.bytes().take(63)) {
        *d = b as c_char;
    }
    SessionMainTagInfo {
        session_id,
        to_type: to_type as c_int,
    }
}

fn roam_tag(t: &magpie_client::RoamTag) -> SessionRoamMsgHasMoreTagInfo {
    SessionRoamMsgHasMoreTagInfo {
        session_tag_info: main_tag(&t.id, t.to_type),
        message_time_tag: t.msg_time.max(0) as u64,
        message_server_id: t.msg_server_id.max(0) as u64,
    }
}

/// The session a `SessionMainTagInfo` names (None for a null pointer or an
/// empty id).
///
/// # Safety
/// `info` is null or points to a `SessionMainTagInfo`.
unsafe fn tag_key(info: *const SessionMainTagInfo) -> Option<(u32, String)> {
    // SAFETY: the caller's contract.
    let info = unsafe { info.as_ref()? };
    let bytes: Vec<u8> = info
        .session_id
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    let id = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
    (!id.is_empty()).then_some((info.to_type.max(0) as u32, id))
}

/// One session's has-more-roaming tag: the oldest message this device has
/// of a session whose older messages stay on the server, as the app set it
/// (`nim_session_update_session_hasmore_roammsg`). `cb` gets 200 and the
/// tag; 0 (kNIMResError) and a tag with only the session when there is
/// none; 414 for a null or empty session.
///
/// # Safety
/// `session_main_tag_info` is null or points to a `SessionMainTagInfo`;
/// `cb` is null or a function of that signature.
#[no_mangle]
pub unsafe extern "C" fn nim_session_query_session_hasmore_roammsg(
    session_main_tag_info: *const SessionMainTagInfo,
    cb: nim_session_query_session_hasmore_roammsg_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let key = unsafe { tag_key(session_main_tag_info) };
    let ud = user_data as usize;
    guard((), || {
        let answer = move |code: c_int, tag: SessionRoamMsgHasMoreTagInfo| {
            if let Some(f) = cb {
                // SAFETY: the app passed `f` for this signature with `ud`;
                // the tag outlives the call.
                unsafe { f(code, &tag, ud as *const c_void) }
            }
        };
        let Some((to_type, id)) = key else {
            return answer(
                ResCode::PARAMETER_ERROR.0 as c_int,
                roam_tag(&Default::default()),
            );
        };
        let empty = roam_tag(&magpie_client::RoamTag {
            id: id.clone(),
            to_type,
            ..Default::default()
        });
        run(
            LocalOp::RoamHasMore(magpie_client::RoamHasMoreOp::Query { to_type, id }),
            move |r| {
                let tag = r.roam_tags.first().map_or(empty, roam_tag);
                answer(code(&r), tag)
            },
        )
    })
}

/// Every has-more-roaming tag, newest first: `cb` gets 200, a pointer to
/// the first and their number (the array lives for the call only).
///
/// # Safety
/// `cb` is null or a function of that signature.
#[no_mangle]
pub unsafe extern "C" fn nim_session_query_all_session_hasmore_roammsg(
    cb: nim_session_query_all_session_hasmore_roammsg_cb_func,
    user_data: *const c_void,
) {
    let ud = user_data as usize;
    guard((), || {
        run(
            LocalOp::RoamHasMore(magpie_client::RoamHasMoreOp::All),
            move |r| {
                if let Some(f) = cb {
                    let tags: Vec<SessionRoamMsgHasMoreTagInfo> =
                        r.roam_tags.iter().map(roam_tag).collect();
                    // SAFETY: the app passed `f` for this signature with
                    // `ud`; the array outlives the call.
                    unsafe {
                        f(
                            code(&r),
                            tags.as_ptr(),
                            tags.len() as c_int,
                            ud as *const c_void,
                        )
                    }
                }
            },
        )
    })
}

/// Sets the has-more-roaming tag of the session of `json_msg` (a message
/// JSON with its server id and time): the server keeps messages older than
/// it. `cb` gets 200; 414 for a message that is not JSON or has no server
/// id or session.
///
/// # Safety
/// As `nim_msglog_query_msg_by_id_async`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_update_session_hasmore_roammsg(
    json_msg: *const c_char,
    cb: nim_session_update_session_hasmore_roammsg_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let json = unsafe { text(json_msg) };
    let ud = user_data as usize;
    guard((), || {
        let answer = code_answer(cb, ud);
        let Ok(msg) = serde_json::from_str::<ImMessage>(&json) else {
            return answer(ResCode::PARAMETER_ERROR.0 as c_int);
        };
        run(
            LocalOp::RoamHasMore(magpie_client::RoamHasMoreOp::Update(Box::new(msg))),
            move |r| answer(code(&r)),
        )
    })
}

/// Removes a session's has-more-roaming tag (200 also when it had none;
/// 414 for a null or empty session).
///
/// # Safety
/// As `nim_session_query_session_hasmore_roammsg`.
#[no_mangle]
pub unsafe extern "C" fn nim_session_delete_session_hasmore_roammsg(
    session_main_tag_info: *const SessionMainTagInfo,
    cb: nim_session_delete_session_hasmore_roammsg_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let key = unsafe { tag_key(session_main_tag_info) };
    let ud = user_data as usize;
    guard((), || {
        let answer = code_answer(cb, ud);
        let Some((to_type, id)) = key else {
            return answer(ResCode::PARAMETER_ERROR.0 as c_int);
        };
        run(
            LocalOp::RoamHasMore(magpie_client::RoamHasMoreOp::Delete { to_type, id }),
            move |r| answer(code(&r)),
        )
    })
}

/// `nim_session_badge_count_cb_func`: the app icon's badge number (iOS).
pub type nim_session_badge_count_cb_func =
    Option<unsafe extern "C" fn(json_extension: *const c_char, user_data: *const c_void) -> c_int>;

/// NIM's SDK asks this callback for the app icon's badge number when an
/// iOS app goes to the background (NIM's header: iOS only). A desktop SDK
/// never calls it, Magpie's included: it is accepted so that code shared
/// with an iOS build compiles and links.
#[no_mangle]
pub extern "C" fn nim_session_reg_badge_count_cb(
    json_extension: *const c_char,
    cb: nim_session_badge_count_cb_func,
    user_data: *const c_void,
) {
    let _ = (json_extension, cb, user_data);
}
