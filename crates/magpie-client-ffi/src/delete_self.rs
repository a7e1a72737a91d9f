//! NIM's deletions on the server for my side only: a message deleted one
//! way (`nim_msglog_delete_message_self_async`, my other devices told
//! through `nim_msglog_register_delete_msgs_self_callback`) and a cleared
//! server history of a session (`nim_msglog_delete_history_online_async`).

use crate::bridge::{self, guard, text};
use crate::msg::NIMSessionType;
use magpie_client::ImMessage;
use magpie_proto::ResCode;
use parking_lot::Mutex;
use std::ffi::{c_char, c_int, c_void, CString};

/// `nim_msglog_delete_history_online_res_cb_func`: a cleared server
/// history's result and the peer's accid as it was given.
#[allow(non_camel_case_types)]
pub type nim_msglog_delete_history_online_res_cb_func =
    Option<unsafe extern "C" fn(res_code: c_int, accid: *const c_char, user_data: *const c_void)>;

/// `nim_msglog_delete_message_self_res_cb_func`: a one-way deletion's
/// result.
#[allow(non_camel_case_types)]
pub type nim_msglog_delete_message_self_res_cb_func =
    Option<unsafe extern "C" fn(res_code: c_int, user_data: *const c_void)>;

/// `nim_msglog_delete_message_self_notify_cb_func`: messages another
/// device of the account deleted one way (already deleted here): a JSON
/// array of `{"session_id","client_id","ext"}`.
#[allow(non_camel_case_types)]
pub type nim_msglog_delete_message_self_notify_cb_func =
    Option<unsafe extern "C" fn(infos: *const c_char, user_data: *const c_void)>;

type NotifyFn = unsafe extern "C" fn(*const c_char, *const c_void);

#[derive(Clone, Copy)]
struct Reg {
    f: NotifyFn,
    ud: usize,
}

static NOTIFY: Mutex<Option<Reg>> = Mutex::new(None);

/// Forgets the notify callbacks (cleanup).
pub(crate) fn forget() {
    *NOTIFY.lock() = None;
    *HISTORY_NOTIFY.lock() = None;
}

/// NIM's `NIMDeleteSessionHistoryMessagesNotifyInfo`: one server history
/// another device of the account cleared.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct NIMDeleteSessionHistoryMessagesNotifyInfo {
    /// The session's type.
    pub to_type: NIMSessionType,
    /// The session id, NUL-terminated.
    pub id: [c_char; 128],
    /// When it was cleared (messages up to then), ms.
    pub time: i64,
    /// The app's extension, NUL-terminated.
    pub ext: [c_char; 1024],
}

/// `nim_msglog_delete_history_online_res_cb_func_ex`: a cleared server
/// history's result, the session as given, the time of the deletion and
/// the extension.
#[allow(non_camel_case_types)]
pub type nim_msglog_delete_history_online_res_cb_func_ex = Option<
    unsafe extern "C" fn(
        res_code: c_int,
        accid: *const c_char,
        to_type: NIMSessionType,
        time: u64,
        ext: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_msglog_delete_history_online_notify_cb_func`: server histories
/// another device of the account cleared: `node_count` items from
/// `info_list_head_node`, valid during the call.
#[allow(non_camel_case_types)]
pub type nim_msglog_delete_history_online_notify_cb_func = Option<
    unsafe extern "C" fn(
        info_list_head_node: *mut NIMDeleteSessionHistoryMessagesNotifyInfo,
        node_count: c_int,
        user_data: *const c_void,
    ),
>;

type HistoryNotifyFn =
    unsafe extern "C" fn(*mut NIMDeleteSessionHistoryMessagesNotifyInfo, c_int, *const c_void);

#[derive(Clone, Copy)]
struct HistoryReg {
    f: HistoryNotifyFn,
    ud: usize,
}

static HISTORY_NOTIFY: Mutex<Option<HistoryReg>> = Mutex::new(None);

/// Copies `s` into a fixed C buffer, cut at a character boundary so that
/// the terminating NUL fits.
fn fill<const N: usize>(s: &str) -> [c_char; N] {
    let mut out = [0 as c_char; N];
    let mut end = s.len().min(N - 1);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    for (o, b) in out.iter_mut().zip(s.as_bytes()[..end].iter()) {
        *o = *b as c_char;
    }
    out
}

/// NIM 8's deletion of a session's server history: my server history of
/// the P2P session with `account_id` up to now goes, its roaming copies
/// too; with `notify_self` my other devices (now, and those that log in
/// later) get it through
/// [`nim_msglog_register_delete_history_messages_callback`] with `ext`.
/// Local histories stay. `cb` gets 200 (414 for a team session, a bad
/// accid or an `ext` over 1,023 bytes; 201 from a server older than
/// protocol version 5 when `notify_self`; 20001/415 when not logged in),
/// the session as given, the time of the deletion (ms) and `ext`.
///
/// # Safety
/// Strings are NULL or valid C strings; `cb` is NULL or callable with
/// `user_data` once, from the SDK's thread.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_delete_history_online_async_ex(
    account_id: *const c_char,
    to_type: c_int,
    notify_self: bool,
    ext: *const c_char,
    cb: nim_msglog_delete_history_online_res_cb_func_ex,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let (accid, ext) = unsafe { (text(account_id), text(ext)) };
    let ud = user_data as usize;
    guard((), || {
        let t = to_type.max(0) as u32;
        let answer = move |code: ResCode, accid: &str, time: i64, ext: &str| {
            if let Some(f) = cb {
                let (a, x) = (cs(accid), cs(ext));
                // SAFETY: the app passed `f` for this signature with `ud`;
                // the strings outlive the call; the type is a valid value.
                unsafe {
                    f(
                        code.0 as c_int,
                        a.as_ptr(),
                        crate::msg::session_type(t),
                        time.max(0) as u64,
                        x.as_ptr(),
                        ud as *const c_void,
                    )
                }
            }
        };
        let (peer, note) = (accid.clone(), ext.clone());
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            let (asked, told) = (peer.clone(), note.clone());
            // Not called once the SDK is cleaned up.
            bridge::spawn_current(
                s,
                async move {
                    client
                        .delete_history_online_ex(t, &asked, notify_self, &told)
                        .await
                },
                move |(code, time)| answer(code, &peer, time, &note),
            );
        });
        if started.is_none() {
            answer(ResCode::LOCAL_INIT_UNDONE, &accid, 0, &ext);
        }
    })
}

/// Registers the callback for server histories another device of the
/// account cleared with `notify_self` (NIM 8): an array of
/// `NIMDeleteSessionHistoryMessagesNotifyInfo`.
///
/// # Safety
/// `cb` is NULL or callable with `user_data` from the SDK's thread until
/// replaced or until cleanup.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_register_delete_history_messages_callback(
    cb: nim_msglog_delete_history_online_notify_cb_func,
    user_data: *const c_void,
) {
    let ud = user_data as usize;
    guard((), || {
        *HISTORY_NOTIFY.lock() = cb.map(|f| HistoryReg { f, ud })
    })
}

/// NIM's `NIMDeleteMessagesSelfParam`: one message of
/// [`nim_msglog_delete_messages_self_async`]'s array.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct NIMDeleteMessagesSelfParam {
    /// NIMSessionType (0 P2P).
    pub to_type_: c_int,
    /// The message's sender, NUL-terminated.
    pub from_account: [c_char; 128],
    /// Its receiver, NUL-terminated.
    pub to_account: [c_char; 128],
    /// Its server id.
    pub server_id: i64,
    /// Its client id, NUL-terminated.
    pub client_id: [c_char; 128],
    /// Its time, ms.
    pub time: i64,
    /// The app's extension, NUL-terminated.
    pub ext: [c_char; 1024],
}

/// The text of a fixed C buffer: up to its first NUL, or all of it.
fn from_buf(b: &[c_char]) -> String {
    let bytes: Vec<u8> = b
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Deletes several P2P messages for me only, as
/// [`nim_msglog_delete_message_self_async`] does one, in the array's
/// order: `cb` gets 200 when every one went, else the first failure's code
/// (those before it are deleted); 414 for an empty array.
///
/// # Safety
/// `param` is NULL or points to `param_count` items; `cb` is NULL or
/// callable with `user_data` once, from the SDK's thread.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_delete_messages_self_async(
    param: *mut NIMDeleteMessagesSelfParam,
    param_count: c_int,
    cb: nim_msglog_delete_message_self_res_cb_func,
    user_data: *const c_void,
) {
    let n = usize::try_from(param_count).unwrap_or(0);
    let items: Vec<NIMDeleteMessagesSelfParam> = if param.is_null() || n == 0 {
        Vec::new()
    } else {
        // SAFETY: the caller's contract: `n` items at `param`, read once
        // here (the app may free them when the call returns).
        unsafe { std::slice::from_raw_parts(param, n) }.to_vec()
    };
    let ud = user_data as usize;
    guard((), || {
        let answer = move |code: ResCode| {
            if let Some(f) = cb {
                // SAFETY: the app passed `f` for this signature with `ud`.
                unsafe { f(code.0 as c_int, ud as *const c_void) }
            }
        };
        if items.is_empty() {
            return answer(ResCode::PARAMETER_ERROR);
        }
        let msgs: Vec<(ImMessage, String)> = items
            .iter()
            .map(|p| {
                let m = ImMessage {
                    to_type: u32::try_from(p.to_type_).unwrap_or(u32::MAX),
                    from_id: from_buf(&p.from_account),
                    to_accid: from_buf(&p.to_account),
                    client_msg_id: from_buf(&p.client_id),
                    server_msg_id: p.server_id,
                    time: p.time,
                    ..Default::default()
                };
                (m, from_buf(&p.ext))
            })
            .collect();
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            // Not called once the SDK is cleaned up.
            bridge::spawn_current(
                s,
                async move {
                    for (m, ext) in &msgs {
                        let code = client.delete_message_self(m, ext).await;
                        if !code.is_success() {
                            return code;
                        }
                    }
                    ResCode::SUCCESS
                },
                answer,
            );
        });
        if started.is_none() {
            answer(ResCode::LOCAL_INIT_UNDONE);
        }
    })
}

/// Delivers server histories another device cleared; false when the event
/// is not that.
pub(crate) fn dispatch_history(e: &magpie_client::Event) -> bool {
    let magpie_client::Event::DeleteHistory(list) = e else {
        return false;
    };
    // Copied out: the callback may register again.
    let reg = *HISTORY_NOTIFY.lock();
    if let Some(r) = reg {
        let mut items: Vec<NIMDeleteSessionHistoryMessagesNotifyInfo> = list
            .iter()
            .map(|n| NIMDeleteSessionHistoryMessagesNotifyInfo {
                to_type: crate::msg::session_type(n.to_type),
                id: fill(&n.session_id),
                time: n.time,
                ext: fill(&n.ext),
            })
            .collect();
        // SAFETY: the app registered `f` for this signature with `ud`; the
        // items stay alive and in place during the call.
        unsafe {
            (r.f)(
                items.as_mut_ptr(),
                items.len() as c_int,
                r.ud as *const c_void,
            )
        }
    }
    true
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// Clears my server history of the P2P session with `account_id`; with
/// `delete_roaming` its messages also leave the sync of my devices that
/// have not received them (NIM's roaming messages). Local histories and
/// the peer's stay. `cb` gets 200, 414 for a bad accid, 20001/415 when not
/// logged in, with `account_id` as given.
///
/// # Safety
/// Strings are NULL or valid C strings; `cb` is NULL or callable with
/// `user_data` once, from the SDK's thread.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_delete_history_online_async(
    account_id: *const c_char,
    delete_roaming: bool,
    json_extension: *const c_char,
    cb: nim_msglog_delete_history_online_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let accid = unsafe { text(account_id) };
    let ud = user_data as usize;
    guard((), || {
        let answer = move |code: ResCode, accid: &str| {
            if let Some(f) = cb {
                let a = cs(accid);
                // SAFETY: the app passed `f` for this signature with `ud`;
                // the string outlives the call.
                unsafe { f(code.0 as c_int, a.as_ptr(), ud as *const c_void) }
            }
        };
        let peer = accid.clone();
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            let asked = peer.clone();
            // Not called once the SDK is cleaned up.
            bridge::spawn_current(
                s,
                async move { client.delete_history_online(&asked, delete_roaming).await },
                move |code| answer(code, &peer),
            );
        });
        if started.is_none() {
            answer(ResCode::LOCAL_INIT_UNDONE, &accid);
        }
    })
}

/// Deletes a P2P message (`json_msg`, as the SDK gave it: at least
/// `client_msg_id`, `from_id`, `to_accid`) for me only: from this device,
/// my server history and my devices' sync; my other devices delete it too
/// and get `ext` through their notify callback; the peer keeps it. `cb`
/// gets 200, 404 when the server has no such message in that session, 414
/// for bad JSON, a team message or an `ext` over 1,024 characters,
/// 20001/415 when not logged in.
///
/// # Safety
/// As [`nim_msglog_delete_history_online_async`].
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_delete_message_self_async(
    json_msg: *const c_char,
    ext: *const c_char,
    json_extension: *const c_char,
    cb: nim_msglog_delete_message_self_res_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let (json, ext) = unsafe { (text(json_msg), text(ext)) };
    let ud = user_data as usize;
    guard((), || {
        let answer = move |code: ResCode| {
            if let Some(f) = cb {
                // SAFETY: the app passed `f` for this signature with `ud`.
                unsafe { f(code.0 as c_int, ud as *const c_void) }
            }
        };
        let Ok(m) = serde_json::from_str::<ImMessage>(&json) else {
            return answer(ResCode::PARAMETER_ERROR);
        };
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            bridge::spawn_current(
                s,
                async move { client.delete_message_self(&m, &ext).await },
                answer,
            );
        });
        if started.is_none() {
            answer(ResCode::LOCAL_INIT_UNDONE);
        }
    })
}

/// Registers the callback for messages another device of the account
/// deleted one way (NULL to stop): a JSON array of
/// `{"session_id","client_id","ext"}`, called after they left this
/// device's history.
///
/// # Safety
/// `cb` is NULL or callable with `user_data` from the SDK's thread until
/// replaced or cleaned up.
#[no_mangle]
pub unsafe extern "C" fn nim_msglog_register_delete_msgs_self_callback(
    cb: nim_msglog_delete_message_self_notify_cb_func,
    user_data: *const c_void,
) {
    let ud = user_data as usize;
    guard((), || *NOTIFY.lock() = cb.map(|f| Reg { f, ud }))
}

/// Delivers one-way deletions of another device; false when the event is
/// not one.
pub(crate) fn dispatch(e: &magpie_client::Event) -> bool {
    let magpie_client::Event::DeleteSelf(list) = e else {
        return false;
    };
    // Copied out: the callback may register again.
    let reg = *NOTIFY.lock();
    if let Some(r) = reg {
        let items: Vec<serde_json::Value> = list
            .iter()
            .map(|n| {
                serde_json::json!({
                    "session_id": n.session_id,
                    "client_id": n.client_id,
                    "ext": n.ext,
                })
            })
            .collect();
        let infos = cs(&serde_json::Value::from(items).to_string());
        // SAFETY: the app registered `f` for this signature with `ud`; the
        // string outlives the call.
        unsafe { (r.f)(infos.as_ptr(), r.ud as *const c_void) }
    }
    true
}

/// `nim_session_delete_session_roaming_cb_func`: a roaming deletion's
/// result, with the session type as decimal text (NIM's signature) and id
/// as given.
#[allow(non_camel_case_types)]
pub type nim_session_delete_session_roaming_cb_func = Option<
    unsafe extern "C" fn(
        rescode: c_int,
        to_type: *const c_char,
        id: *const c_char,
        user_data: *const c_void,
    ),
>;

/// Deletes the roaming messages of a session: its messages up to now
/// leave the sync of my devices that have not received them (a device
/// that logs in later does not get them); the server's history and the
/// local one stay. `cb` gets 200, 414 for a session that is not P2P or a
/// bad accid, 20001/415 when not logged in.
///
/// # Safety
/// As [`nim_msglog_delete_history_online_async`].
#[no_mangle]
pub unsafe extern "C" fn nim_session_delete_session_roaming_async(
    to_type: c_int,
    session_id: *const c_char,
    json_extension: *const c_char,
    cb: nim_session_delete_session_roaming_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let id = unsafe { text(session_id) };
    let ud = user_data as usize;
    guard((), || {
        let answer = move |code: ResCode, id: &str| {
            if let Some(f) = cb {
                let (t, i) = (cs(&to_type.to_string()), cs(id));
                // SAFETY: the app passed `f` for this signature with `ud`;
                // the strings outlive the call.
                unsafe { f(code.0 as c_int, t.as_ptr(), i.as_ptr(), ud as *const c_void) }
            }
        };
        let sid = id.clone();
        let started = bridge::with_sdk(|s| {
            let client = s.client.clone();
            let asked = sid.clone();
            let t = u32::try_from(to_type).unwrap_or(u32::MAX);
            bridge::spawn_current(
                s,
                async move { client.delete_session_roaming(t, &asked).await },
                move |code| answer(code, &sid),
            );
        });
        if started.is_none() {
            answer(ResCode::LOCAL_INIT_UNDONE, &id);
        }
    })
}
