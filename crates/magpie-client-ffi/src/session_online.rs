//! NIM's session service (`nim_session_online_service_*`, "服务端会话服务"):
//! the account's sessions as the server keeps them, one per peer, moved up
//! by every message, with an app-defined extension that every device of
//! the account shares.
//!
//! A session is NIM's JSON object `{"info_session_type","info_session_id",
//! "info_update_time","info_ext","info_last_msg","info_last_msg_type"}`
//! (also under `"info_session_tpye"`, the spelling of NIM's older headers).
//! `info_last_msg` is a string: the last message as NIM's receive callback
//! gives it (`{"rescode","feature","content"}`), or with
//! `info_last_msg_type` 1 the recall notification of that message.

use crate::bridge::{self, guard, text};
use magpie_client::{ImMessage, ReceivedMessage};
use magpie_proto::frame::{
    server_session_action as act, ServerSessionAck, ServerSessionInfo, ServerSessionRequest,
    SessionKey,
};
use magpie_proto::msg::RecallNotify;
use magpie_proto::ResCode;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::ffi::{c_char, c_int, c_void, CString};

/// `nim_session_online_service_query_session_list_cb_func`: a page of
/// sessions, `{"query_list_res_code","query_list_has_more",
/// "query_list_sessions":[...]}`.
#[allow(non_camel_case_types)]
pub type nim_session_online_service_query_session_list_cb_func =
    Option<unsafe extern "C" fn(rescode: c_int, result: *const c_char, user_data: *const c_void)>;

/// `nim_session_online_service_query_session_cb_func`: one session (`{}`
/// with a failure).
#[allow(non_camel_case_types)]
pub type nim_session_online_service_query_session_cb_func =
    Option<unsafe extern "C" fn(rescode: c_int, result: *const c_char, user_data: *const c_void)>;

/// `nim_session_online_service_update_session_cb_func`: an extension's
/// result.
#[allow(non_camel_case_types)]
pub type nim_session_online_service_update_session_cb_func =
    Option<unsafe extern "C" fn(rescode: c_int, user_data: *const c_void)>;

/// `nim_session_online_service_delete_session_cb_func`: a deletion's
/// result.
#[allow(non_camel_case_types)]
pub type nim_session_online_service_delete_session_cb_func =
    Option<unsafe extern "C" fn(rescode: c_int, user_data: *const c_void)>;

/// `nim_session_online_service_session_changed_cb_func`: a session
/// another device of the account changed (without its last message).
#[allow(non_camel_case_types)]
pub type nim_session_online_service_session_changed_cb_func =
    Option<unsafe extern "C" fn(session_info: *const c_char, user_data: *const c_void)>;

type ResultFn = unsafe extern "C" fn(c_int, *const c_char, *const c_void);
type CodeFn = unsafe extern "C" fn(c_int, *const c_void);
type ChangedFn = unsafe extern "C" fn(*const c_char, *const c_void);

#[derive(Clone, Copy)]
struct Reg {
    f: ChangedFn,
    ud: usize,
}

static CHANGED: Mutex<Option<Reg>> = Mutex::new(None);

/// Forgets the change callback (cleanup).
pub(crate) fn forget() {
    *CHANGED.lock() = None;
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// NIM's session object of the session service.
fn session_json(info: &ServerSessionInfo) -> Value {
    let last = info.last_msg.as_deref().map(|m| last_msg_text(info, m));
    json!({
        "info_session_type": info.to_type,
        "info_session_tpye": info.to_type,
        "info_session_id": info.id,
        "info_update_time": info.update_time,
        "info_ext": info.ext,
        "info_last_msg": last.unwrap_or_default(),
        "info_last_msg_type": info.last_msg_type,
    })
}

/// The last message as NIM's C++ wrapper parses it: the receive callback's
/// object, or for a recalled one the recall notification.
fn last_msg_text(info: &ServerSessionInfo, wire: &str) -> String {
    let Ok(m) = serde_json::from_str::<ImMessage>(wire) else {
        return String::new();
    };
    if info.last_msg_type == 1 {
        let n = RecallNotify {
            to_type: m.to_type,
            from_id: m.from_id.clone(),
            to_id: m.to_accid.clone(),
            msg_id: m.client_msg_id.clone(),
            notify: String::new(),
            time: info.update_time,
            msg_time: m.time,
            from_nick: m.from_nick.clone(),
            operator_id: m.from_id.clone(),
            attach: String::new(),
            feature: 0,
            msg_exist: true,
        };
        return serde_json::to_string(&n).unwrap_or_default();
    }
    let r = ReceivedMessage {
        rescode: 200,
        feature: 0,
        content: m,
    };
    serde_json::to_string(&r).unwrap_or_default()
}

/// Sends a session-service request and hands the answer to `done` (20000
/// before init; the SDK's codes when not logged in).
fn request(req: ServerSessionRequest, done: impl FnOnce(ServerSessionAck) + Send + 'static) {
    let mut done = Some(done);
    let started = bridge::with_sdk(|s| {
        let client = s.client.clone();
        let done = done.take();
        // Not called once the SDK is cleaned up.
        bridge::spawn_current(
            s,
            async move { client.server_session(req).await },
            move |ack| {
                if let Some(d) = done {
                    d(ack)
                }
            },
        );
    });
    if started.is_none() {
        if let Some(d) = done {
            d(magpie_client::server_session_failed(
                ResCode::LOCAL_INIT_UNDONE,
            ))
        }
    }
}

fn call_result(cb: Option<ResultFn>, ud: usize, code: ResCode, result: &str) {
    if let Some(f) = cb {
        let c = cs(result);
        // SAFETY: the app passed `f` for this signature with `ud`; the
        // string outlives the call.
        unsafe { f(code.0 as c_int, c.as_ptr(), ud as *const c_void) }
    }
}

fn call_code(cb: Option<CodeFn>, ud: usize, code: ResCode) {
    if let Some(f) = cb {
        // SAFETY: the app passed `f` for this signature with `ud`.
        unsafe { f(code.0 as c_int, ud as *const c_void) }
    }
}

/// A page of the account's sessions on the server, the most recently
/// updated first: those updated from `min_time` (ms, inclusive) and
/// before `max_time` (0 for no bound on either), at most `limit` (1 to
/// 100; 0 or more than 100 is 100) and every other session of the last
/// one's millisecond, each with its last message when `need_last_msg`.
/// `cb` gets 200 and `{"query_list_res_code","query_list_has_more",
/// "query_list_sessions"}`; with `query_list_has_more` ask again with
/// `max_time` the last session's `info_update_time`. 20001/415 when not
/// logged in.
///
/// # Safety
/// `cb` is NULL or callable with `user_data` once, from the SDK's thread.
#[no_mangle]
pub unsafe extern "C" fn nim_session_online_service_query_session_list(
    min_time: u64,
    max_time: u64,
    need_last_msg: bool,
    limit: c_int,
    cb: nim_session_online_service_query_session_list_cb_func,
    user_data: *const c_void,
) {
    let ud = user_data as usize;
    guard((), || {
        let req = ServerSessionRequest {
            action: act::LIST,
            min_time: i64::try_from(min_time).unwrap_or(i64::MAX),
            max_time: i64::try_from(max_time).unwrap_or(0),
            need_last_msg,
            limit: limit.max(0) as u32,
            ..Default::default()
        };
        request(req, move |ack| {
            let result = json!({
                "query_list_res_code": ack.code.0,
                "query_list_has_more": ack.has_more,
                "query_list_sessions": ack.list.iter().map(session_json).collect::<Vec<_>>(),
            });
            call_result(cb, ud, ack.code, &result.to_string())
        })
    })
}

/// One of the account's sessions on the server, with its last message:
/// `cb` gets 200 and the session, 404 (kNIMResNotExist) and `{}` when the
/// account has no session with `session_id`; 414 for an empty id;
/// 20001/415 when not logged in.
///
/// # Safety
/// `session_id` is NULL or a valid C string; `cb` as in
/// [`nim_session_online_service_query_session_list`].
#[no_mangle]
pub unsafe extern "C" fn nim_session_online_service_query_session(
    to_type: c_int,
    session_id: *const c_char,
    cb: nim_session_online_service_query_session_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let id = unsafe { text(session_id) };
    let ud = user_data as usize;
    guard((), || {
        let req = ServerSessionRequest {
            action: act::GET,
            to_type: to_type.max(0) as u32,
            id,
            ..Default::default()
        };
        request(req, move |ack| {
            let result = ack.info.as_ref().map_or(json!({}), session_json);
            call_result(cb, ud, ack.code, &result.to_string())
        })
    })
}

/// Sets the extension of a P2P session on the server (creating the session
/// when the account has none with that peer yet); the account's other
/// online devices get it through their change callback. `cb` gets 200,
/// 414 for a team session, a bad accid or an extension over 4,096 bytes,
/// 20001/415 when not logged in.
///
/// # Safety
/// Strings are NULL or valid C strings; `cb` as in
/// [`nim_session_online_service_query_session_list`].
#[no_mangle]
pub unsafe extern "C" fn nim_session_online_service_update_session(
    to_type: c_int,
    session_id: *const c_char,
    ext: *const c_char,
    cb: nim_session_online_service_update_session_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let (id, ext) = unsafe { (text(session_id), text(ext)) };
    let ud = user_data as usize;
    guard((), || {
        let req = ServerSessionRequest {
            action: act::UPDATE,
            to_type: to_type.max(0) as u32,
            id,
            ext,
            ..Default::default()
        };
        request(req, move |ack| call_code(cb, ud, ack.code))
    })
}

/// Takes sessions off the account's list on the server (a new message
/// brings a session back); `session_list` is a JSON array of
/// `{"delete_session_type","delete_session_id"}`, 1 to 100 of them. `cb`
/// gets 200, 414 for a list that is not such an array, 20001/415 when not
/// logged in.
///
/// # Safety
/// As [`nim_session_online_service_update_session`].
#[no_mangle]
pub unsafe extern "C" fn nim_session_online_service_delete_session(
    session_list: *const c_char,
    cb: nim_session_online_service_delete_session_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let list = unsafe { text(session_list) };
    let ud = user_data as usize;
    guard((), || {
        let Some(sessions) = delete_list(&list) else {
            return call_code(cb, ud, ResCode::PARAMETER_ERROR);
        };
        let req = ServerSessionRequest {
            action: act::DELETE,
            sessions,
            ..Default::default()
        };
        request(req, move |ack| call_code(cb, ud, ack.code))
    })
}

/// The sessions of a deletion's JSON array; `None` when it is not one.
fn delete_list(list: &str) -> Option<Vec<SessionKey>> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(list) else {
        return None;
    };
    items
        .iter()
        .map(|i| {
            Some(SessionKey {
                to_type: u32::try_from(i.get("delete_session_type")?.as_u64()?).ok()?,
                id: i.get("delete_session_id")?.as_str()?.to_owned(),
            })
        })
        .collect()
}

/// Registers the callback for sessions another device of the account
/// changed on the server (a new extension): the session without its last
/// message.
///
/// # Safety
/// `cb` is NULL or callable with `user_data` from the SDK's thread until
/// replaced or until cleanup.
#[no_mangle]
pub unsafe extern "C" fn nim_session_online_service_reg_session_changed(
    cb: nim_session_online_service_session_changed_cb_func,
    user_data: *const c_void,
) {
    let ud = user_data as usize;
    guard((), || *CHANGED.lock() = cb.map(|f| Reg { f, ud }))
}

/// Delivers a session another device changed; false when the event is not
/// one.
pub(crate) fn dispatch(e: &magpie_client::Event) -> bool {
    let magpie_client::Event::ServerSessionChanged(info) = e else {
        return false;
    };
    // Copied out: the callback may register again.
    let reg = *CHANGED.lock();
    if let Some(r) = reg {
        let c = cs(&session_json(info).to_string());
        // SAFETY: the app registered `f` for this signature with `ud`; the
        // string outlives the call.
        unsafe { (r.f)(c.as_ptr(), r.ud as *const c_void) }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deletion_list_is_nims_array_of_type_and_id() {
        assert_eq!(
            delete_list(r#"[{"delete_session_type":0,"delete_session_id":"bob"}]"#),
            Some(vec![SessionKey {
                to_type: 0,
                id: "bob".into()
            }])
        );
        for bad in [
            "",
            "{}",
            r#"[{"delete_session_id":"bob"}]"#,
            r#"[{"delete_session_type":0}]"#,
        ] {
            assert_eq!(delete_list(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_last_message_is_the_receive_object_or_the_recall() {
        let wire = r#"{"to_type":0,"from_id":"ann","to_accid":"bob","client_msg_id":"k1","time":5,"msg_type":0,"msg_body":"hi","server_msg_id":9}"#;
        let mut info = ServerSessionInfo {
            id: "bob".into(),
            update_time: 7,
            last_msg: Some(wire.into()),
            ..Default::default()
        };
        let v: Value = serde_json::from_str(&last_msg_text(&info, wire)).unwrap();
        assert_eq!(v["rescode"], 200);
        assert_eq!(v["content"]["client_msg_id"], "k1");
        info.last_msg_type = 1;
        let v: Value = serde_json::from_str(&last_msg_text(&info, wire)).unwrap();
        assert_eq!(
            (
                v["msg_id"].as_str(),
                v["to_id"].as_str(),
                v["msg_time"].as_i64()
            ),
            (Some("k1"), Some("bob"), Some(5))
        );
        let s = session_json(&info);
        assert_eq!(
            (
                s["info_session_type"].as_u64(),
                s["info_session_tpye"].as_u64()
            ),
            (Some(0), Some(0))
        );
        assert_eq!(s["info_last_msg_type"], 1);
    }
}
