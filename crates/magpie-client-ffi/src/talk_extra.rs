//! The rest of `nim_talk.h` that needs no server feature of its own:
//! building a retweet, replying in a thread, the attachment path, the team
//! notification filter and broadcast registrations, and the buffer-freeing
//! functions of `nim_global.h` for the strings these return.

use crate::bridge::{guard, text};
use crate::msg::{nim_talk_message_filter_func, nim_talk_receive_cb_func};
use magpie_client::ImMessage;
use serde_json::{json, Value};
use std::ffi::{c_char, c_int, c_void, CString};

/// `nim_talk_team_notification_filter_func`: as the message filter, for team
/// notifications.
pub type nim_talk_team_notification_filter_func = nim_talk_message_filter_func;

/// `nim_talk_receive_broadcast_cb_func`: a broadcast message (or a JSON
/// array of them for the batch registration).
pub type nim_talk_receive_broadcast_cb_func = nim_talk_receive_cb_func;

/// A heap string for the caller, released with `nim_global_free_str_buf`
/// (or `nim_global_free_buf`).
fn give(s: String) -> *mut c_char {
    CString::new(s).unwrap_or_default().into_raw()
}

/// Releases a string this library returned (`nim_talk_create_retweet_msg`,
/// `nim_talk_get_attachment_path_from_msg`). NULL is ignored.
///
/// # Safety
/// `str` is NULL or a pointer this library returned and not released yet.
#[no_mangle]
pub unsafe extern "C" fn nim_global_free_str_buf(str: *mut c_char) {
    if str.is_null() {
        return;
    }
    // SAFETY: the pointer came from `CString::into_raw` in this library
    // (the caller's contract) and is released once.
    drop(unsafe { CString::from_raw(str) });
}

/// Releases a buffer this library returned; the strings above are its only
/// buffers, so this is `nim_global_free_str_buf`.
///
/// # Safety
/// As `nim_global_free_str_buf`.
#[no_mangle]
pub unsafe extern "C" fn nim_global_free_buf(data: *mut c_void) {
    // SAFETY: the caller's contract, as for nim_global_free_str_buf.
    unsafe { nim_global_free_str_buf(data as *mut c_char) }
}

/// A new message carrying `src_msg_json`'s content to another session:
/// new client id, receiver and session type, the settings of `msg_setting`
/// (a JSON object of NIM's setting keys) and `timetag` when above 0; the
/// sender's and server's fields are cleared (the server fills them again).
/// Returns NULL when the source is not a message; release the result with
/// `nim_global_free_str_buf`.
///
/// # Safety
/// Strings are NULL or valid C strings.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_create_retweet_msg(
    src_msg_json: *const c_char,
    client_msg_id: *const c_char,
    retweet_to_session_type: c_int,
    retweet_to_session_id: *const c_char,
    msg_setting: *const c_char,
    timetag: i64,
) -> *mut c_char {
    // SAFETY: the caller's contract.
    let (src, id, to, setting) = unsafe {
        (
            text(src_msg_json),
            text(client_msg_id),
            text(retweet_to_session_id),
            text(msg_setting),
        )
    };
    guard(std::ptr::null_mut(), || {
        let Ok(mut m) = serde_json::from_str::<ImMessage>(&src) else {
            return std::ptr::null_mut();
        };
        m.client_msg_id = id;
        m.to_type = retweet_to_session_type.max(0) as u32;
        m.to_accid = to.clone();
        m.from_id.clear();
        m.from_client_type = 0;
        m.from_device_id.clear();
        m.from_nick.clear();
        m.server_msg_id = 0;
        m.resend_flag = 0;
        m.time = timetag.max(0);
        for k in [
            "talk_id",
            "log_status",
            "log_sub_status",
            "local_ext",
            "thread_info",
        ] {
            m.extra.remove(k);
        }
        m.extra.insert("talk_id".into(), Value::from(to));
        if let Ok(Value::Object(s)) = serde_json::from_str::<Value>(&setting) {
            m.extra.extend(s);
        }
        give(serde_json::to_string(&m).unwrap_or_default())
    })
}

/// Where the message's attachment is on this device: its `local_res_path`.
/// Magpie's SDK downloads no attachments (they are URLs the app fetches),
/// so a received message's path is empty. Release the result with
/// `nim_global_free_str_buf`.
///
/// # Safety
/// `json_msg` is NULL or a valid C string.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_get_attachment_path_from_msg(
    json_msg: *const c_char,
) -> *mut c_char {
    // SAFETY: the caller's contract.
    let raw = unsafe { text(json_msg) };
    guard(std::ptr::null_mut(), || {
        let v: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
        give(v["local_res_path"].as_str().unwrap_or_default().to_owned())
    })
}

/// Replies to `json_msg` with `json_reply_msg` in its thread: the reply is
/// sent with NIM's `thread_info` (the replied message's sender, receiver,
/// time and ids, and the thread's root: the replied message's own root, or
/// the message itself). The ack goes to the send-ack callback.
///
/// # Safety
/// Strings are NULL or valid C strings.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_reply_msg(
    json_msg: *const c_char,
    json_reply_msg: *const c_char,
    json_extension: *const c_char,
    prg_cb: crate::msg::nim_nos_upload_prg_cb_func,
    prg_user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let (orig, reply) = unsafe { (text(json_msg), text(json_reply_msg)) };
    let with_thread = guard(None, || {
        let o: Value = serde_json::from_str(&orig).ok()?;
        let mut r: Value = serde_json::from_str(&reply).ok()?;
        let root = o.get("thread_info").filter(|t| {
            t["thread_msg_id_client"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        });
        let (tf, tt, ttime, tsid, tcid) = match root {
            Some(t) => (
                t["thread_msg_from_account"].clone(),
                t["thread_msg_to_account"].clone(),
                t["thread_msg_time"].clone(),
                t["thread_msg_id_server"].clone(),
                t["thread_msg_id_client"].clone(),
            ),
            None => (
                o["from_id"].clone(),
                o["to_accid"].clone(),
                o["time"].clone(),
                o["server_msg_id"].clone(),
                o["client_msg_id"].clone(),
            ),
        };
        r["thread_info"] = json!({
            "reply_msg_from_account": o["from_id"],
            "replymsg_to_account": o["to_accid"],
            "reply_msg_time": o["time"],
            "reply_msg_id_server": o["server_msg_id"],
            "reply_msg_id_client": o["client_msg_id"],
            "thread_msg_from_account": tf,
            "thread_msg_to_account": tt,
            "thread_msg_time": ttime,
            "thread_msg_id_server": tsid,
            "thread_msg_id_client": tcid,
            "deleted": 0,
        });
        CString::new(r.to_string()).ok()
    });
    let json = with_thread.unwrap_or_else(|| CString::new(reply).unwrap_or_default());
    // SAFETY: `json` is a valid C string for the call; the other arguments
    // are the caller's, passed on.
    unsafe { crate::msg::nim_talk_send_msg(json.as_ptr(), json_extension, prg_cb, prg_user_data) }
}

/// Registers the team notification filter. Magpie has no teams, so there
/// is never a team notification to filter and it is never called.
///
/// # Safety
/// Any arguments: none is used.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_reg_notification_filter_cb(
    json_extension: *const c_char,
    cb: nim_talk_team_notification_filter_func,
    user_data: *const c_void,
) {
    let _ = (json_extension, cb, user_data);
}

/// Registers the broadcast message callback. A Magpie server sends no
/// broadcast messages (NIM's all-users broadcast), so it is never called.
///
/// # Safety
/// Any arguments: none is used.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_reg_receive_broadcast_cb(
    json_extension: *const c_char,
    cb: nim_talk_receive_broadcast_cb_func,
    user_data: *const c_void,
) {
    let _ = (json_extension, cb, user_data);
}

/// Registers the batch broadcast callback; never called (see
/// `nim_talk_reg_receive_broadcast_cb`).
///
/// # Safety
/// Any arguments: none is used.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_reg_receive_broadcast_msgs_cb(
    json_extension: *const c_char,
    cb: nim_talk_receive_broadcast_cb_func,
    user_data: *const c_void,
) {
    let _ = (json_extension, cb, user_data);
}
