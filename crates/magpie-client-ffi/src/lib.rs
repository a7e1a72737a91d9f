//! NIM's C API for the login chapter, over the Magpie SDK.
//!
//! The functions, enums and JSON payloads are NIM's (NIM's C API reference: `nim_client.h`, `nim_global.h`, `nim_talk.h`, ... and their `*_def.h`), so
//! code written for NIM's PC SDK builds against `libnim` and runs against a
//! Magpie server. This crate is a thin layer: it converts C strings and JSON,
//! calls `magpie-client`, and turns SDK events into NIM's callbacks.
//!
//! Conventions:
//! - Input strings are UTF-8, NUL-terminated, owned by the caller and read
//!   only during the call; NULL counts as empty.
//! - Callback strings are owned by the library and valid only while the
//!   callback runs. `user_data` is handed back untouched.
//! - Callbacks run on the SDK's thread (`magpie-sdk-*`), never on the
//!   caller's; return quickly.
//! - One-shot callbacks (login steps aside: logout, cleanup2) fire exactly once.
//! - No panic crosses the boundary: every function catches it and behaves as
//!   a failed call.
//! - `nim_client_cleanup` is synchronous: when it returns, no SDK thread runs
//!   and no callback fires any more.

#![allow(non_camel_case_types, non_upper_case_globals)]

mod bridge;
#[doc(hidden)]
pub mod delete_self;
pub mod fuzzing;
pub mod local_ops;
pub mod msg;
pub mod recall;
pub mod session_online;
pub mod stick_top;
pub mod talk_extra;

use std::ffi::{c_char, c_int, c_void};

pub use bridge::version_string;

/// `nim_json_transport_cb_func`: NIM's callback with a JSON payload.
pub type nim_json_transport_cb_func =
    Option<unsafe extern "C" fn(json_params: *const c_char, user_data: *const c_void)>;

/// `nim_relogin_request_token_cb_func`: the app points `*auth_token` at a
/// buffer it owns holding the token and sets `*length` to its byte length.
/// (NIM's header writes `char *&auth_token`; at the ABI level it is `char **`.)
pub type nim_relogin_request_token_cb_func = Option<
    unsafe extern "C" fn(
        auth_token: *mut *mut c_char,
        length: *mut u32,
        json_params: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_client_multiport_push_config_cb_func`: the result of setting or
/// reading the multiport push switch, and its sync from other devices:
/// `rescode`, `content` = `{"switch_open":1|2}`.
pub type nim_client_multiport_push_config_cb_func = Option<
    unsafe extern "C" fn(
        rescode: c_int,
        content: *const c_char,
        json_params: *const c_char,
        user_data: *const c_void,
    ),
>;

/// `nim_client_get_server_current_time_cb_func`: the server's time in ms;
/// `calc_local` when it was computed locally.
pub type nim_client_get_server_current_time_cb_func = Option<
    unsafe extern "C" fn(rescode: c_int, calc_local: bool, time: u64, user_data: *const c_void),
>;

/// `nim_global_detect_proxy_cb_func`: the result of a proxy detection,
/// called once with `kNIMProxyDetectStepAllComplete`; `json_params` holds
/// the steps taken.
pub type nim_global_detect_proxy_cb_func = Option<
    unsafe extern "C" fn(
        network_connect: bool,
        step: NIMProxyDetectStep,
        json_params: *const c_char,
        user_data: *const c_void,
    ),
>;

/// NIMProxyDetectStep.
#[repr(C)]
#[derive(Clone, Copy)]
pub enum NIMProxyDetectStep {
    /// The detection has ended.
    kNIMProxyDetectStepAllComplete = 5,
}

/// NIMLoginState.
#[repr(C)]
pub enum NIMLoginState {
    /// Logged in.
    kNIMLoginStateLogin = 1,
    /// Not logged in.
    kNIMLoginStateUnLogin = 2,
}

/// NIMLogoutType.
#[repr(C)]
pub enum NIMLogoutType {
    /// Log out, back to the login screen ("Accout" as NIM spells it).
    kNIMLogoutChangeAccout = 1,
    /// Log out after a kick.
    kNIMLogoutKickout = 2,
    /// The program exits.
    kNIMLogoutAppExit = 3,
    /// Log out to log in again.
    kNIMLogoutRelogin = 4,
}

/// NIMLoginStep.
#[repr(C)]
pub enum NIMLoginStep {
    /// Connecting.
    kNIMLoginStepLinking = 0,
    /// Connected.
    kNIMLoginStepLink = 1,
    /// Login sent.
    kNIMLoginStepLogining = 2,
    /// Login answered.
    kNIMLoginStepLogin = 3,
}

/// NIMKickReason.
#[repr(C)]
pub enum NIMKickReason {
    /// The multi-device policy.
    kNIMKickReasonSameGeneric = 1,
    /// The server.
    kNIMKickReasonServerKick = 2,
    /// One of my other devices.
    kNIMKickReasonKickBySelfOtherClient = 3,
}

/// NIMClientType.
#[repr(C)]
pub enum NIMClientType {
    /// Unset.
    kNIMClientTypeDefault = 0,
    /// Android.
    kNIMClientTypeAndroid = 1,
    /// iOS.
    kNIMClientTypeiOS = 2,
    /// Windows.
    kNIMClientTypePCWindows = 4,
    /// Windows Phone.
    kNIMClientTypeWindowsPhone = 8,
    /// Web.
    kNIMClientTypeWeb = 16,
    /// Server REST API.
    kNIMClientTypeRestAPI = 32,
    /// macOS.
    kNIMClientTypeMacOS = 64,
    /// HarmonyOS.
    kNIMClientTypeHarmonyOS = 65,
}

/// NIMMultiSpotNotifyType.
#[repr(C)]
pub enum NIMMultiSpotNotifyType {
    /// Another device of mine came online.
    kNIMMultiSpotNotifyTypeImIn = 2,
    /// Another device of mine went offline.
    kNIMMultiSpotNotifyTypeImOut = 3,
}

/// NIMAuthType.
#[repr(C)]
pub enum NIMAuthType {
    /// Static token.
    kNIMAuthTypeDefault = 0,
    /// Dynamic token.
    kNIMAuthTypeBySecretToken = 1,
    /// Third-party callback.
    kNIMAuthTypeByAppToken = 2,
}

/// NIMProxyType.
#[repr(C)]
pub enum NIMProxyType {
    /// No proxy.
    kNIMProxyNone = 0,
    /// HTTP 1.1 (not supported).
    kNIMProxyHttp11 = 1,
    /// SOCKS4.
    kNIMProxySocks4 = 4,
    /// SOCKS4a.
    kNIMProxySocks4a = 5,
    /// SOCKS5.
    kNIMProxySocks5 = 6,
    /// Audio/video only (not supported here).
    kNIMProxyNrtc = 10,
}

/// NIMSDKLogLevel: how much the SDK logs (`sdk_log_level` of the init).
#[repr(C)]
pub enum NIMSDKLogLevel {
    /// Fatal errors only.
    kNIMSDKLogLevelFatal = 1,
    /// Errors.
    kNIMSDKLogLevelError = 2,
    /// Warnings.
    kNIMSDKLogLevelWarn = 3,
    /// The app level (the default).
    kNIMSDKLogLevelApp = 5,
    /// Everything, for debugging.
    kNIMSDKLogLevelPro = 6,
}

/// NIMSDKException (of NIM's exception callback, which Magpie never calls).
#[repr(C)]
pub enum NIMSDKException {
    /// The data directory's disk is (nearly) full.
    kNIMSDKExceptionSpaceEmpty = 1,
}

/// NIMDBOperation (of NIM's database error callback, which Magpie never calls).
#[repr(C)]
pub enum NIMDBOperation {
    /// Insert.
    kNIMDBOperationInsert = 0x0001,
    /// Read.
    kNIMDBOperationRead = 0x0002,
    /// Update.
    kNIMDBOperationUpdate = 0x0004,
    /// Delete.
    kNIMDBOperationDelete = 0x0008,
}

/// Initialises the SDK. `json_extension` is NIM's init JSON: `app_key`,
/// `global_config` (`login_retry_max_times`, `custom_client_type`, and
/// Magpie's `magpie_client_type`) and `private_server_setting.link` (the
/// Magpie server's `host:port`, a string or an array). Returns false on bad
/// input. `app_install_dir` is not needed.
///
/// # Safety
/// Each pointer is NULL or a valid NUL-terminated string for the call.
#[no_mangle]
pub unsafe extern "C" fn nim_client_init(
    app_data_dir: *const c_char,
    app_install_dir: *const c_char,
    json_extension: *const c_char,
) -> bool {
    let _ = app_install_dir;
    // SAFETY: the caller passes NULL or valid C strings (this function's contract).
    let (dir, json) = unsafe { (bridge::text(app_data_dir), bridge::text(json_extension)) };
    bridge::guard(false, || bridge::init(&dir, &json))
}

/// Ends the SDK synchronously: logs out if still logged in, stops every SDK
/// thread and forgets every callback. Safe inside a callback (NIM's C++
/// sample cleans up in the logout callback): no callback fires from then
/// on, and the SDK's last thread ends as the callback returns.
///
/// # Safety
/// `json_extension` is NULL or a valid C string.
#[no_mangle]
pub unsafe extern "C" fn nim_client_cleanup(json_extension: *const c_char) {
    let _ = json_extension;
    bridge::guard((), || bridge::cleanup(|| {}))
}

/// Like `nim_client_cleanup`, then calls `cb` exactly once with
/// `{"err_code":200}` (inside a callback: once the SDK's threads have ended,
/// from a thread of its own).
///
/// # Safety
/// `json_extension` is NULL or a valid C string; `cb` is NULL or callable.
#[no_mangle]
pub unsafe extern "C" fn nim_client_cleanup2(
    cb: nim_json_transport_cb_func,
    json_extension: *const c_char,
    user_data: *const c_void,
) {
    let _ = json_extension;
    use bridge::CallOnce;
    let cb = bridge::CCallback::new(cb, user_data);
    let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let once = fired.clone();
    let done = move || {
        if !once.swap(true, std::sync::atomic::Ordering::SeqCst) {
            cb.fire_once(r#"{"err_code":200}"#);
        }
    };
    let finished = bridge::guard(false, || {
        bridge::cleanup(done);
        true
    });
    // A panic before `done` ran still answers, exactly once.
    if !finished && !fired.swap(true, std::sync::atomic::Ordering::SeqCst) {
        cb.fire_once(r#"{"err_code":200}"#);
    }
}

/// Logs in. `cb` fires once per login step with NIM's login JSON.
/// `json_extension`: `{"custom_tag","auth_type","login_ex","token"}`, all optional.
///
/// # Safety
/// Strings are NULL or valid C strings; `cb` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn nim_client_login(
    app_key: *const c_char,
    account: *const c_char,
    token: *const c_char,
    json_extension: *const c_char,
    cb: nim_json_transport_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller passes NULL or valid C strings (this function's contract).
    let (k, a, t, j) = unsafe {
        (
            bridge::text(app_key),
            bridge::text(account),
            bridge::text(token),
            bridge::text(json_extension),
        )
    };
    let cb = bridge::CCallback::new(cb, user_data);
    bridge::guard((), move || bridge::login(k, a, t, &j, cb))
}

/// NIMLoginState: 1 logged in, 2 not.
///
/// # Safety
/// `json_extension` is NULL or a valid C string.
#[no_mangle]
pub unsafe extern "C" fn nim_client_get_login_state(json_extension: *const c_char) -> c_int {
    let _ = json_extension;
    bridge::guard(2, bridge::login_state)
}

/// Logs in again after automatic re-login gave up; results go to the
/// auto-relogin callback. `json_extension` may carry `{"token":"..."}`.
///
/// # Safety
/// `json_extension` is NULL or a valid C string.
#[no_mangle]
pub unsafe extern "C" fn nim_client_relogin(json_extension: *const c_char) {
    // SAFETY: the caller passes NULL or a valid C string.
    let j = unsafe { bridge::text(json_extension) };
    bridge::guard((), move || bridge::relogin(&j))
}

/// Logs out with a NIMLogoutType; `cb` fires once with `{"err_code":..}`.
///
/// # Safety
/// `json_extension` is NULL or a valid C string; `cb` is NULL or callable.
#[no_mangle]
pub unsafe extern "C" fn nim_client_logout(
    logout_type: c_int,
    json_extension: *const c_char,
    cb: nim_json_transport_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let cb = bridge::CCallback::new(cb, user_data);
    bridge::guard((), move || bridge::logout(logout_type, cb))
}

/// Kicks other devices of my account: `{"device_ids":[...]}`. The result goes
/// to the kick-other callback.
///
/// # Safety
/// `json_extension` is NULL or a valid C string.
#[no_mangle]
pub unsafe extern "C" fn nim_client_kick_other_client(json_extension: *const c_char) {
    // SAFETY: the caller passes NULL or a valid C string.
    let j = unsafe { bridge::text(json_extension) };
    bridge::guard((), move || bridge::kick_other(&j))
}

/// Registers the disconnect callback.
///
/// # Safety
/// `json_extension` is NULL or a valid C string; `cb` is NULL or callable
/// with `user_data` from the SDK's thread until replaced or until cleanup.
#[no_mangle]
pub unsafe extern "C" fn nim_client_reg_disconnect_cb(
    json_extension: *const c_char,
    cb: nim_json_transport_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let cb = bridge::CCallback::new(cb, user_data);
    bridge::guard((), || bridge::register(bridge::Slot::Disconnect, cb))
}

/// Registers the auto-relogin callback (same JSON as login, `relogin:true`).
///
/// # Safety
/// `json_extension` is NULL or a valid C string; `cb` is NULL or callable
/// with `user_data` from the SDK's thread until replaced or until cleanup.
#[no_mangle]
pub unsafe extern "C" fn nim_client_reg_auto_relogin_cb(
    json_extension: *const c_char,
    cb: nim_json_transport_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let cb = bridge::CCallback::new(cb, user_data);
    bridge::guard((), || bridge::register(bridge::Slot::AutoRelogin, cb))
}

/// Registers the kick-out callback.
///
/// # Safety
/// `json_extension` is NULL or a valid C string; `cb` is NULL or callable
/// with `user_data` from the SDK's thread until replaced or until cleanup.
#[no_mangle]
pub unsafe extern "C" fn nim_client_reg_kickout_cb(
    json_extension: *const c_char,
    cb: nim_json_transport_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let cb = bridge::CCallback::new(cb, user_data);
    bridge::guard((), || bridge::register(bridge::Slot::Kickout, cb))
}

/// Registers the multispot login notification callback.
///
/// # Safety
/// `json_extension` is NULL or a valid C string; `cb` is NULL or callable
/// with `user_data` from the SDK's thread until replaced or until cleanup.
#[no_mangle]
pub unsafe extern "C" fn nim_client_reg_multispot_login_notify_cb(
    json_extension: *const c_char,
    cb: nim_json_transport_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let cb = bridge::CCallback::new(cb, user_data);
    bridge::guard((), || bridge::register(bridge::Slot::MultiSpot, cb))
}

/// Registers the callback of `nim_client_kick_other_client`.
///
/// # Safety
/// `json_extension` is NULL or a valid C string; `cb` is NULL or callable
/// with `user_data` from the SDK's thread until replaced or until cleanup.
#[no_mangle]
pub unsafe extern "C" fn nim_client_reg_kickout_other_client_cb(
    json_extension: *const c_char,
    cb: nim_json_transport_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let cb = bridge::CCallback::new(cb, user_data);
    bridge::guard((), || bridge::register(bridge::Slot::KickOther, cb))
}

/// Registers the token request callback (auth types 1 and 2): asked for a
/// fresh token before every login and automatic re-login.
///
/// # Safety
/// `json_extension` is NULL or a valid C string; `cb` is NULL or callable with
/// `user_data` from an SDK thread; the buffer it returns must stay valid until
/// the callback returns.
#[no_mangle]
pub unsafe extern "C" fn nim_client_reg_relogin_request_token_cb(
    json_extension: *const c_char,
    cb: nim_relogin_request_token_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    bridge::guard((), || bridge::register_token(cb, user_data))
}

/// Sets the proxy for the next connections (SOCKS4, SOCKS4a, SOCKS5;
/// `kNIMProxyNone` clears it). HTTP proxies are refused, as in NIM: the
/// setting is ignored and an error is logged.
///
/// # Safety
/// Strings are NULL or valid C strings.
#[no_mangle]
pub unsafe extern "C" fn nim_global_set_proxy(
    r#type: c_int,
    host: *const c_char,
    port: c_int,
    user: *const c_char,
    password: *const c_char,
) {
    // SAFETY: the caller passes NULL or valid C strings.
    let (h, u, p) = unsafe {
        (
            bridge::text(host),
            bridge::text(user),
            bridge::text(password),
        )
    };
    bridge::guard((), move || bridge::set_proxy(r#type, h, port, u, p))
}

/// The SDK version, owned by the library.
#[no_mangle]
pub extern "C" fn nim_client_version() -> *const c_char {
    version_string().as_ptr()
}

/// The logged-in account, or "". Owned by the library; valid until the next
/// call of this function.
#[no_mangle]
pub extern "C" fn nim_client_current_user_account() -> *const c_char {
    bridge::guard(c"".as_ptr(), bridge::current_account)
}

/// The server's current time. `cb` fires exactly once with the server's
/// clock in ms: asked of the server, or computed locally from the offset
/// measured at login (`calc_local` true) when `calc_local` is set, within a
/// second of the last query, or when the server cannot answer (then
/// `rescode` says why).
///
/// # Safety
/// `json_extension` is NULL or a valid C string; `cb` is NULL or callable
/// with `user_data` from an SDK thread.
#[no_mangle]
pub unsafe extern "C" fn nim_client_get_server_current_time(
    calc_local: bool,
    cb: nim_client_get_server_current_time_cb_func,
    json_extension: *const c_char,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let cb = cb.map(|f| (f, user_data as usize));
    bridge::guard((), move || bridge::server_time(calc_local, cb))
}

/// Stores this device's push token (NIM: the iOS device token; no effect on
/// NIM's PC SDK). Magpie keeps it on the server per device, for push: sent
/// now when logged in, else after the next login.
///
/// # Safety
/// `device_token` is NULL or a valid C string.
#[no_mangle]
pub unsafe extern "C" fn nim_client_update_apns_token(device_token: *const c_char) {
    // SAFETY: the caller passes NULL or a valid C string.
    let t = unsafe { bridge::text(device_token) };
    bridge::guard((), move || bridge::update_push_token(t))
}

/// Registers the callback that hears the multiport push switch: at login,
/// and when another device of the account changes it.
///
/// # Safety
/// `json_extension` is NULL or a valid C string; `cb` is NULL or callable
/// with `user_data` from the SDK's thread until replaced or until cleanup.
#[no_mangle]
pub unsafe extern "C" fn nim_client_reg_sync_multiport_push_config_cb(
    json_extension: *const c_char,
    cb: nim_client_multiport_push_config_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let cb = cb.map(|f| (f, user_data as usize));
    bridge::guard((), move || bridge::register_push_sync(cb))
}

/// Sets the multiport push switch: `switch_content` = `{"switch_open":1}`
/// (while a desktop is online, mobile devices get no push) or `2` (they
/// still do). Stored on the server and synced to the account's other
/// devices; `cb` fires once with the code and the switch.
///
/// # Safety
/// Strings are NULL or valid C strings; `cb` is NULL or callable with
/// `user_data` from an SDK thread.
#[no_mangle]
pub unsafe extern "C" fn nim_client_set_multiport_push_config(
    switch_content: *const c_char,
    json_extension: *const c_char,
    cb: nim_client_multiport_push_config_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    // SAFETY: the caller passes NULL or a valid C string.
    let content = unsafe { bridge::text(switch_content) };
    let cb = cb.map(|f| (f, user_data as usize));
    bridge::guard((), move || bridge::push_config(Some(content), cb))
}

/// Reads the multiport push switch from the server; `cb` fires once.
///
/// # Safety
/// `json_extension` is NULL or a valid C string; `cb` is NULL or callable
/// with `user_data` from an SDK thread.
#[no_mangle]
pub unsafe extern "C" fn nim_client_get_multiport_push_config(
    json_extension: *const c_char,
    cb: nim_client_multiport_push_config_cb_func,
    user_data: *const c_void,
) {
    let _ = json_extension;
    let cb = cb.map(|f| (f, user_data as usize));
    bridge::guard((), move || bridge::push_config(None, cb))
}

/// Tests a proxy for real: connects to it, through it to the first link
/// address (with TLS when configured) and exchanges a HELLO with the
/// server. `cb` fires once, with `kNIMProxyDetectStepAllComplete`, whether
/// the server was reached, and the steps as JSON
/// (`{"connected","proxy","server","steps":[{"step","ok","ms","detail"}]}`).
/// Needs `nim_client_init` first (it tries the init's link address).
///
/// # Safety
/// Strings are NULL or valid C strings; `cb` is NULL or callable with
/// `user_data` from an SDK thread.
#[no_mangle]
pub unsafe extern "C" fn nim_global_detect_proxy(
    r#type: c_int,
    host: *const c_char,
    port: c_int,
    user: *const c_char,
    password: *const c_char,
    cb: nim_global_detect_proxy_cb_func,
    user_data: *const c_void,
) {
    // SAFETY: the caller passes NULL or valid C strings.
    let (h, u, p) = unsafe {
        (
            bridge::text(host),
            bridge::text(user),
            bridge::text(password),
        )
    };
    let cb = cb.map(|f| (f, user_data as usize));
    bridge::guard((), move || bridge::detect_proxy(r#type, h, port, u, p, cb))
}
