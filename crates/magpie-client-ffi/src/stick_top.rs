//! NIM's stick-top sessions (`nim_session_set_to_stick_top` and its
//! siblings, v7.6): sessions on top are kept on the server for every device
//! of the account; a change made on one device reaches the account's other
//! online devices through the three notify callbacks, and a device that was
//! away reads the list when it asks.
//!
//! A stick-top session is NIM's JSON object `{"top","id","type","ext",
//! "create_time","update_time"}` plus, when this device has the session in
//! its list, `"session_data"` (the session item, as the session callbacks
//! give it). The list is a JSON array of them, the most recently set first.

use crate::bridge::{self, guard, text};
use crate::msg::{session_type, NIMSessionType};
use magpie_client::{Client, LocalOp};
use magpie_proto::frame::{stick_top_action as act, StickTopInfo, StickTopRequest};
use magpie_proto::ResCode;
use parking_lot::Mutex;
use serde_json::Value;
use std::ffi::{c_char, c_int, c_void, CString};

/// `nim_session_set_to_stick_top_cb_func`: the result of putting a session
/// on top, and the stick-top session.
#[allow(non_camel_case_types)]
pub type nim_session_set_to_stick_top_cb_func = Option<
    unsafe extern "C" fn(rescode: c_int, stick_session: *const c_char, user_data: *const c_void),
>;

/// `nim_session_update_stick_top_cb_func`: the result of changing the
/// extension of a session on top, and the stick-top session.
#[allow(non_camel_case_types)]
pub type nim_session_update_stick_top_cb_func = Option<
    unsafe extern "C" fn(rescode: c_int, stick_session: *const c_char, user_data: *const c_void),
>;

/// `nim_session_cancel_stick_top_cb_func`: the result of taking a session
/// off the top.
#[allow(non_camel_case_types)]
pub type nim_session_cancel_stick_top_cb_func = Option<
    unsafe extern "C" fn(
        rescode: c_int,
        session_id: *const c_char,
        to_type: NIMSessionType,
        user_data: *const c_void,
    ),
>;

/// `nim_session_query_stick_top_session_list_cb_func`: the sessions on top,
/// a JSON array.
#[allow(non_camel_case_types)]
pub type nim_session_query_stick_top_session_list_cb_func =
    Option<unsafe extern "C" fn(rescode: c_int, result: *const c_char, user_data: *const c_void)>;

/// `nim_session_set_to_stick_top_notify_cb_func`: another device put a
/// session on top.
#[allow(non_camel_case_types)]
pub type nim_session_set_to_stick_top_notify_cb_func =
    Option<unsafe extern "C" fn(stick_session: *const c_char, user_data: *const c_void)>;

/// `nim_session_update_stick_top_notify_cb_func`: another device changed
/// the extension of a session on top.
#[allow(non_camel_case_types)]
pub type nim_session_update_stick_top_notify_cb_func =
    Option<unsafe extern "C" fn(stick_session: *const c_char, user_data: *const c_void)>;

/// `nim_session_cancel_stick_top_notify_cb_func`: another device took a
/// session off the top.
#[allow(non_camel_case_types)]
pub type nim_session_cancel_stick_top_notify_cb_func = Option<
    unsafe extern "C" fn(
        session_id: *const c_char,
        to_type: NIMSessionType,
        user_data: *const c_void,
    ),
>;

type SessionFn = unsafe extern "C" fn(*const c_char, *const c_void);
type CancelFn = unsafe extern "C" fn(*const c_char, NIMSessionType, *const c_void);

#[derive(Clone, Copy)]
struct Reg<F> {
    f: F,
    ud: usize,
}

#[derive(Clone, Copy, Default)]
struct Regs {
    set: Option<Reg<SessionFn>>,
    update: Option<Reg<SessionFn>>,
    cancel: Option<Reg<CancelFn>>,
}

static REGS: Mutex<Regs> = Mutex::new(Regs {
    set: None,
    update: None,
    cancel: None,
});

/// Forgets the notify callbacks (cleanup).
pub(crate) fn forget() {
    *REGS.lock() = Regs::default();
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// NIM's stick-top session object; `session` is the session item when this
/// device has one.
fn stick_session(info: &StickTopInfo, session: Option<Value>) -> Value {
    let mut v = serde_json::to_value(info).unwrap_or(Value::Null);
    if let (Some(s), Some(o)) = (session, v.as_object_mut()) {
        o.insert("session_data".into(), s);
    }
    v
}

/// The session item this device has for a stick-top session, if any.
async fn session_item(client: &Client, info: &StickTopInfo) -> Option<Value> {
    let r = client
        .local_op(LocalOp::SessionById {
            to_type: info.to_type,
            id: info.id.clone(),
        })
        .await;
    r.session.and_then(|s| serde_json::to_value(s).ok())
}

/// Sends a stick-top request and hands the answer, with the session items
/// this device has, to `done` (20000 before init; the SDK's codes when not
/// logged in).
fn request(
    req: StickTopRequest,
    done: impl FnOnce(ResCode, Option<Value>, Vec<Value>) + Send + 'static,
) {
    let mut done = Some(done);
    let started = bridge::with_sdk(|s| {
        let client = s.client.clone();
        let done = done.take();
        bridge::spawn_current(
            s,
            async move {
                let ack = client.stick_top(req).await;
                let one = match &ack.info {
                    Some(i) => Some(stick_session(i, session_item(&client, i).await)),
                    None => None,
                };
                // The list's session items in one local job.
                let items = if ack.list.is_empty() {
                    Vec::new()
                } else {
                    let keys = ack.list.iter().map(|i| (i.to_type, i.id.clone())).collect();
                    client
                        .local_op(LocalOp::SessionsByIds { keys })
                        .await
                        .sessions
                };
                let by_key: std::collections::HashMap<(u32, &str), &magpie_client::SessionData> =
                    items
                        .iter()
                        .map(|s| ((s.to_type, s.id.as_str()), s))
                        .collect();
                let list = ack
                    .list
                    .iter()
                    .map(|i| {
                        let item = by_key
                            .get(&(i.to_type, i.id.as_str()))
                            .and_then(|s| serde_json::to_value(s).ok());
                        stick_session(i, item)
                    })
                    .collect();
                (ack.code, one, list)
            },
            move |(code, one, list)| {
                if let Some(d) = done {
                    d(code, one, list)
                }
            },
        );
    });
    if started.is_none() {
        if let Some(d) = done {
            d(ResCode::LOCAL_INIT_UNDONE, None, Vec::new());
        }
    }
}

/// Calls a (code, stick session) callback: the session object, or `{}`
/// with a failure.
fn answer_session(
    cb: Option<unsafe extern "C" fn(c_int, *const c_char, *const c_void)>,
    ud: usize,
) -> impl FnOnce(ResCode, Option<Value>, Vec<Value>) + Send + 'static {
    move |code, one, _| {
        if let Some(f) = cb {
            let c = cs(&one.map_or_else(|| "{}".to_owned(), |v| v.to_string()));
            // SAFETY: the app passed `f` for this signature with `ud`; the
            // string outlives the call.
            unsafe { f(code.0 as c_int, c.as_ptr(), ud as *const c_void) }
        }
    }
}

/// Set or update: the two share NIM's signature.
///
/// # Safety
/// As [`nim_session_set_to_stick_top`].
unsafe fn change(
    action: u32,
    session_id: *const c_char,
    to_type: c_int,
    ext: *const c_char,
    cb: nim_session_set_to_stick_top_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let (id, ext) = unsafe { (text(session_id), text(ext)) };
    let ud = user_data as usize;
    guard((), || {
        let req = StickTopRequest {
            action,
            to_type: to_type.max(0) as u32,
            id,
            ext,
        };
        request(req, answer_session(cb, ud))
    })
}

/// Puts a session on top for every device of the account, with the app's
/// `ext`; on a session already on top it replaces the extension (its
/// `create_time` kept). `cb` gets 200 and the stick-top session; 414 for
/// an empty or too long id (over 128 bytes) or extension (over 1,024);
/// 419 (kNIMResOverrun) when the account has 1,000 sessions on top
/// already; 20001/415 when not logged in.
///
/// # Safety
/// Strings are NULL or valid C strings; `cb` is NULL or callable with
/// `user_data` once, from the SDK's thread.
#[no_mangle]
pub unsafe extern "C" fn nim_session_set_to_stick_top(
    session_id: *const c_char,
    to_type: c_int,
    ext: *const c_char,
    cb: nim_session_set_to_stick_top_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    unsafe { change(act::SET, session_id, to_type, ext, cb, user_data) }
}

/// Changes the extension of a session on top; 404 (kNIMResNotExist) when
/// it is not on top. Otherwise as [`nim_session_set_to_stick_top`].
///
/// # Safety
/// As [`nim_session_set_to_stick_top`].
#[no_mangle]
pub unsafe extern "C" fn nim_session_update_stick_top(
    session_id: *const c_char,
    to_type: c_int,
    ext: *const c_char,
    cb: nim_session_update_stick_top_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    unsafe { change(act::UPDATE, session_id, to_type, ext, cb, user_data) }
}

/// Takes a session off the top for every device of the account; `cb` gets
/// 200 (404 when it was not on top), the session id and type.
///
/// # Safety
/// As [`nim_session_set_to_stick_top`].
#[no_mangle]
pub unsafe extern "C" fn nim_session_cancel_stick_top(
    session_id: *const c_char,
    to_type: c_int,
    cb: nim_session_cancel_stick_top_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let id = unsafe { text(session_id) };
    let ud = user_data as usize;
    guard((), || {
        let t = to_type.max(0) as u32;
        let req = StickTopRequest {
            action: act::CANCEL,
            to_type: t,
            id: id.clone(),
            ext: String::new(),
        };
        request(req, move |code, _, _| {
            if let Some(f) = cb {
                let c = cs(&id);
                // SAFETY: as in `answer_session`; the type is a valid value.
                unsafe {
                    f(
                        code.0 as c_int,
                        c.as_ptr(),
                        session_type(t),
                        ud as *const c_void,
                    )
                }
            }
        })
    })
}

/// The account's sessions on top, as the server keeps them (the most
/// recently set first): `cb` gets 200 and a JSON array of stick-top
/// sessions (`[]` with a failure).
///
/// # Safety
/// `cb` is NULL or callable with `user_data` once, from the SDK's thread.
#[no_mangle]
pub unsafe extern "C" fn nim_session_query_stick_top_session_list(
    cb: nim_session_query_stick_top_session_list_cb_func,
    user_data: *const c_void,
) {
    let ud = user_data as usize;
    guard((), || {
        let req = StickTopRequest {
            action: act::LIST,
            to_type: 0,
            id: String::new(),
            ext: String::new(),
        };
        request(req, move |code, _, list| {
            if let Some(f) = cb {
                let c = cs(&Value::Array(list).to_string());
                // SAFETY: as in `answer_session`.
                unsafe { f(code.0 as c_int, c.as_ptr(), ud as *const c_void) }
            }
        })
    })
}

/// Registers the callback for sessions another device of the account put
/// on top (the stick-top session, without `session_data`).
///
/// # Safety
/// `cb` is NULL or callable with `user_data` from the SDK's thread until
/// replaced or until cleanup.
#[no_mangle]
pub unsafe extern "C" fn nim_session_reg_set_to_stick_top_notify_cb(
    cb: nim_session_set_to_stick_top_notify_cb_func,
    user_data: *const c_void,
) {
    let ud = user_data as usize;
    guard((), || REGS.lock().set = cb.map(|f| Reg { f, ud }))
}

/// Registers the callback for extensions another device changed.
///
/// # Safety
/// As [`nim_session_reg_set_to_stick_top_notify_cb`].
#[no_mangle]
pub unsafe extern "C" fn nim_session_reg_update_stick_top_notify_cb(
    cb: nim_session_update_stick_top_notify_cb_func,
    user_data: *const c_void,
) {
    let ud = user_data as usize;
    guard((), || REGS.lock().update = cb.map(|f| Reg { f, ud }))
}

/// Registers the callback for sessions another device took off the top
/// (NIM's name, with its two l's).
///
/// # Safety
/// As [`nim_session_reg_set_to_stick_top_notify_cb`].
#[no_mangle]
pub unsafe extern "C" fn nim_session_reg_cancell_stick_top_notify_cb(
    cb: nim_session_cancel_stick_top_notify_cb_func,
    user_data: *const c_void,
) {
    let ud = user_data as usize;
    guard((), || REGS.lock().cancel = cb.map(|f| Reg { f, ud }))
}

/// Delivers a stick-top change of another device; false when the event is
/// not one.
pub(crate) fn dispatch(e: &magpie_client::Event) -> bool {
    let magpie_client::Event::StickTopChanged(c) = e else {
        return false;
    };
    let regs = *REGS.lock();
    match c.action {
        act::CANCEL => {
            if let Some(r) = regs.cancel {
                let id = cs(&c.info.id);
                // SAFETY: the app registered `f` for this signature with
                // `ud`; the string outlives the call; the type is valid.
                unsafe {
                    (r.f)(
                        id.as_ptr(),
                        session_type(c.info.to_type),
                        r.ud as *const c_void,
                    )
                }
            }
        }
        action => {
            let reg = if action == act::SET {
                regs.set
            } else {
                regs.update
            };
            if let Some(r) = reg {
                let s = cs(&stick_session(&c.info, None).to_string());
                // SAFETY: as above.
                unsafe { (r.f)(s.as_ptr(), r.ud as *const c_void) }
            }
        }
    }
    true
}
