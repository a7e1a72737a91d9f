//! NIM's recall (`nim_talk_recall_msg` and its forms, and the recall
//! callback): a sender takes back a P2P message within two minutes.

use crate::bridge::{self, guard, text};
use crate::msg::{call_status, register_recall};
use magpie_client::ImMessage;
use magpie_proto::ResCode;
use std::ffi::{c_char, c_int, c_void};

/// `nim_talk_recall_msg_func`: a recall's result, or recalls of messages
/// to me (and of mine from my other devices): `content` is a JSON array of
/// `{"to_type","from_id","to_id","msg_id","notify","time","msg_time",
/// "from_nick","operator_id","attach","feature","msg_exist"}`.
#[allow(non_camel_case_types)]
pub type nim_talk_recall_msg_func = Option<
    unsafe extern "C" fn(
        rescode: c_int,
        content: *const c_char,
        json_extension: *const c_char,
        user_data: *const c_void,
    ),
>;

/// NIM's extra parameters of `nim_talk_recall_msg_ex` (push text and
/// payload are not used: Magpie sends no pushes).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct nim_talk_recall_extra_params {
    /// Push text (unused).
    pub apnstext: *const c_char,
    /// Push payload (unused).
    pub pushpayload: *const c_char,
    /// Extension (unused).
    pub json_extension: *const c_char,
    /// Routing environment (unused).
    pub env_config: *const c_char,
    /// App-defined attachment of the notification.
    pub attach: *const c_char,
}

fn recall(
    json_msg: String,
    notify: String,
    attach: String,
    cb: nim_talk_recall_msg_func,
    ud: usize,
) {
    let answer = move |code: ResCode, content: String| {
        if let Some(f) = cb {
            call_status(f, ud, code.0 as c_int, &content);
        }
    };
    let Ok(m) = serde_json::from_str::<ImMessage>(&json_msg) else {
        return answer(ResCode::PARAMETER_ERROR, "[]".into());
    };
    let started = bridge::with_sdk(|s| {
        let client = s.client.clone();
        s.runtime.spawn(async move {
            let (code, note) = client.recall(&m, &notify, &attach).await;
            let list: Vec<_> = note.into_iter().collect();
            answer(
                code,
                serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()),
            );
        });
    });
    if started.is_none() {
        answer(ResCode::LOCAL_INIT_UNDONE, "[]".into());
    }
}

/// Recalls a P2P message I sent (`json_msg`: the message, or at least its
/// `client_msg_id`; `to_accid` when known). `cb` gets 200 and the
/// notification, 508 past two minutes, 404 for a message I did not send,
/// 414 for a team message, 20001/415 when not logged in.
///
/// # Safety
/// Strings are NULL or valid C strings; `cb` is NULL or callable with
/// `user_data` once, from the SDK's thread.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_recall_msg(
    json_msg: *const c_char,
    notify: *const c_char,
    json_extension: *const c_char,
    cb: nim_talk_recall_msg_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller's contract.
    let (m, n) = unsafe { (text(json_msg), text(notify)) };
    let ud = user_data as usize;
    guard((), || recall(m, n, String::new(), cb, ud))
}

/// As `nim_talk_recall_msg`, with push text and payload (unused: Magpie
/// sends no pushes).
///
/// # Safety
/// As `nim_talk_recall_msg`.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_recall_msg2(
    json_msg: *const c_char,
    notify: *const c_char,
    apnstext: *const c_char,
    pushpayload: *const c_char,
    json_extension: *const c_char,
    cb: nim_talk_recall_msg_func,
    user_data: *const c_void,
) {
    let _ = (apnstext, pushpayload, json_extension);
    // SAFETY: the caller's contract.
    let (m, n) = unsafe { (text(json_msg), text(notify)) };
    let ud = user_data as usize;
    guard((), || recall(m, n, String::new(), cb, ud))
}

/// As `nim_talk_recall_msg`, with NIM's extra parameters (NIM declares
/// them as a C++ reference, which is a pointer in the ABI); their `attach`
/// goes with the notification.
///
/// # Safety
/// As `nim_talk_recall_msg`; `extra_params` is NULL or points to a valid
/// struct whose strings are NULL or valid C strings.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_recall_msg_ex(
    json_msg: *const c_char,
    notify: *const c_char,
    cb: nim_talk_recall_msg_func,
    extra_params: *const nim_talk_recall_extra_params,
    user_data: *const c_void,
) {
    // SAFETY: the caller's contract.
    let (m, n) = unsafe { (text(json_msg), text(notify)) };
    let attach = if extra_params.is_null() {
        String::new()
    } else {
        // SAFETY: not NULL, so valid by the caller's contract; its strings
        // are NULL or valid C strings.
        unsafe { text((*extra_params).attach) }
    };
    let ud = user_data as usize;
    guard((), || recall(m, n, attach, cb, ud))
}

/// Registers the callback for recalls of messages to me, and of mine made
/// on my other devices (code 200 and the JSON array of notifications).
///
/// # Safety
/// As `nim_talk_reg_ack_cb`.
#[no_mangle]
pub unsafe extern "C" fn nim_talk_reg_recall_msg_cb(
    json_extension: *const c_char,
    cb: nim_talk_recall_msg_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    guard((), || register_recall(cb, user_data as usize))
}
