//! The safe side of the C API: global state, JSON conversion, dispatch.

use crate::{nim_json_transport_cb_func, nim_relogin_request_token_cb_func};
use magpie_client::{
    Client, ClientOptions, DbKey, Event, IpVersion, LbsOptions, LoginParams, Proxy, ProxyType,
};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Runs `f`, turning a panic into `fallback`: no panic crosses the C boundary.
pub fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Copies a C string (NULL is empty, invalid UTF-8 is replaced).
///
/// # Safety
/// `p` is NULL or a valid NUL-terminated string.
pub unsafe fn text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// A C callback and its user data.
#[derive(Clone, Copy)]
pub struct CCallback {
    f: unsafe extern "C" fn(*const c_char, *const c_void),
    user_data: usize,
}

impl CCallback {
    /// `None` when `f` is NULL.
    pub fn new(f: nim_json_transport_cb_func, user_data: *const c_void) -> Option<CCallback> {
        f.map(|f| CCallback {
            f,
            user_data: user_data as usize,
        })
    }

    fn call(&self, json: &str) {
        let c = CString::new(json).unwrap_or_default();
        // SAFETY: the app registered `f` for exactly this signature and keeps
        // it callable with `user_data`; `c` outlives the call.
        unsafe { (self.f)(c.as_ptr(), self.user_data as *const c_void) }
    }
}

/// Calls a one-shot callback, if any.
pub trait CallOnce {
    /// Calls it.
    fn fire_once(self, json: &str);
}

impl CallOnce for Option<CCallback> {
    fn fire_once(self, json: &str) {
        if let Some(c) = self {
            c.call(json);
        }
    }
}

/// The global callback slots.
#[derive(Clone, Copy)]
pub enum Slot {
    /// Login steps of the current login.
    Login,
    /// Re-login results.
    AutoRelogin,
    /// Disconnects.
    Disconnect,
    /// Kick-outs.
    Kickout,
    /// Multispot.
    MultiSpot,
    /// Kick-other results.
    KickOther,
}

#[derive(Clone, Copy)]
struct TokenCb {
    f: unsafe extern "C" fn(*mut *mut c_char, *mut u32, *const c_char, *const c_void),
    user_data: usize,
}

pub(crate) struct Sdk {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) client: Client,
}

static SDK: Mutex<Option<Sdk>> = Mutex::new(None);
static SLOTS: Mutex<[Option<CCallback>; 6]> = Mutex::new([None; 6]);
static TOKEN: Mutex<Option<TokenCb>> = Mutex::new(None);
static PENDING_PROXY: Mutex<Option<Proxy>> = Mutex::new(None);
static ACCOUNT: Mutex<Option<CString>> = Mutex::new(None);
static PUSH_SYNC: Mutex<Option<PushCb>> = Mutex::new(None);
/// A nim_client_login call is under way (it owns the login callback).
static LOGIN_IN_FLIGHT: AtomicBool = AtomicBool::new(false);
/// Bumped by every cleanup: a one-shot callback whose call began before it
/// does not fire after it (no callback after cleanup).
static EPOCH: AtomicU64 = AtomicU64::new(0);

fn epoch() -> u64 {
    EPOCH.load(Ordering::SeqCst)
}
/// The push token to store on the server (`nim_client_update_apns_token`),
/// and the init's `push_cer_name`.
static PUSH_TOKEN: Mutex<Option<String>> = Mutex::new(None);
static CER_NAME: Mutex<String> = Mutex::new(String::new());

/// A multiport push config callback and its user data.
pub type PushCb = (
    unsafe extern "C" fn(c_int, *const c_char, *const c_char, *const c_void),
    usize,
);
/// A server time callback and its user data.
pub type TimeCb = (unsafe extern "C" fn(c_int, bool, u64, *const c_void), usize);
/// A proxy detection callback and its user data.
pub type ProxyCb = (
    unsafe extern "C" fn(bool, crate::NIMProxyDetectStep, *const c_char, *const c_void),
    usize,
);

fn call_push(cb: PushCb, code: i32, switch_open: u32) {
    let content =
        CString::new(json!({ "switch_open": switch_open }).to_string()).unwrap_or_default();
    // SAFETY: the app registered `cb.0` for this signature with `cb.1` as
    // its user data; the strings outlive the call.
    unsafe { (cb.0)(code, content.as_ptr(), c"".as_ptr(), cb.1 as *const c_void) }
}

fn call_time(cb: TimeCb, code: i32, calc_local: bool, time: i64) {
    // SAFETY: the app passed `cb.0` for this signature with `cb.1` as its
    // user data.
    unsafe { (cb.0)(code, calc_local, time.max(0) as u64, cb.1 as *const c_void) }
}

fn call_proxy(cb: ProxyCb, connected: bool, json: &str) {
    let j = CString::new(json).unwrap_or_default();
    // SAFETY: the app passed `cb.0` for this signature with `cb.1` as its
    // user data; `j` outlives the call.
    unsafe {
        (cb.0)(
            connected,
            crate::NIMProxyDetectStep::kNIMProxyDetectStepAllComplete,
            j.as_ptr(),
            cb.1 as *const c_void,
        )
    }
}

fn slot(s: Slot) -> Option<CCallback> {
    SLOTS.lock()[s as usize]
}

/// Sets a slot (NULL clears it).
pub fn register(s: Slot, cb: Option<CCallback>) {
    SLOTS.lock()[s as usize] = cb;
}

/// Sets the token callback.
pub fn register_token(cb: nim_relogin_request_token_cb_func, user_data: *const c_void) {
    *TOKEN.lock() = cb.map(|f| TokenCb {
        f,
        user_data: user_data as usize,
    });
}

/// `magpie-nim/<version>`.
pub fn version_string() -> &'static CStr {
    static V: OnceLock<CString> = OnceLock::new();
    V.get_or_init(|| CString::new(magpie_client::SDK_VERSION).unwrap_or_default())
}

fn dispatch(e: &Event) {
    if crate::msg::dispatch(e)
        || crate::stick_top::dispatch(e)
        || crate::delete_self::dispatch(e)
        || crate::delete_self::dispatch_history(e)
        || crate::session_online::dispatch(e)
    {
        return;
    }
    if let Event::PushConfigSync(v) = e {
        // Copied out: the callback may clean up or register again.
        let cb = *PUSH_SYNC.lock();
        if let Some(cb) = cb {
            call_push(cb, 200, *v);
        }
        return;
    }
    match e {
        Event::Login(r) => {
            // The login under way has ended (or reached step 3): a login
            // called from here, inside its callback, is a new one.
            if !r.err_code.is_success() || r.login_step == magpie_proto::types::login_step::LOGIN {
                LOGIN_IN_FLIGHT.store(false, Ordering::SeqCst);
            }
            if r.err_code.is_success() && r.login_step == magpie_proto::types::login_step::LOGIN {
                send_push_token();
            }
        }
        Event::AutoRelogin(r)
            if r.err_code.is_success()
                && r.login_step == magpie_proto::types::login_step::LOGIN =>
        {
            send_push_token();
        }
        _ => {}
    }
    let target = match e {
        Event::Login(_) => Slot::Login,
        Event::AutoRelogin(_) => Slot::AutoRelogin,
        Event::Disconnect => Slot::Disconnect,
        Event::Kickout(_) => Slot::Kickout,
        Event::MultiSpot(_) => Slot::MultiSpot,
        Event::KickOtherClient(_) => Slot::KickOther,
        // The logout result goes to the callback of that logout call.
        _ => return,
    };
    if let Some(cb) = slot(target) {
        cb.call(&e.json().to_string());
    }
}

fn ask_token(account: &str) -> Option<String> {
    let cb = (*TOKEN.lock())?;
    let mut ptr: *mut c_char = std::ptr::null_mut();
    let mut len: u32 = 0;
    let json = CString::new(json!({"account": account}).to_string()).unwrap_or_default();
    // SAFETY: the app registered `f` for this signature; the out-pointers are
    // valid locals and `json` outlives the call.
    unsafe {
        (cb.f)(
            &mut ptr,
            &mut len,
            json.as_ptr(),
            cb.user_data as *const c_void,
        )
    };
    if ptr.is_null() || len == 0 {
        return None;
    }
    // SAFETY: the callback's contract: `ptr` points at `len` readable bytes
    // that stay valid until the callback has returned (which it has; NIM's
    // wrappers keep the buffer until the next request).
    let bytes = unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) };
    Some(String::from_utf8_lossy(bytes).into_owned())
}

fn links(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) if !s.is_empty() => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Why an init JSON cannot be used: printed to standard error, since
/// nim_client_init can only answer false.
fn refuse_init(why: &str) -> bool {
    eprintln!("nim_client_init: {why}");
    false
}

/// The options NIM's init JSON asks for (NIM's `nim_client_init`
/// json_extension: `app_key`, `global_config`, `private_server_setting`,
/// `server_conf_file_path`), or why not. What each key does in Magpie is in
/// docs/c-api.md ("Init JSON").
pub(crate) fn options_from_init(cfg: &Value) -> Result<(ClientOptions, u32), String> {
    let g = &cfg["global_config"];
    let mut private = cfg["private_server_setting"].clone();
    if let Some(path) = cfg["server_conf_file_path"]
        .as_str()
        .filter(|p| !p.is_empty())
    {
        // NIM: the private server settings in a file instead.
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("server_conf_file_path {path}: {e}"))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("server_conf_file_path {path}: not JSON: {e}"))?;
        private = if v["private_server_setting"].is_object() {
            v["private_server_setting"].clone()
        } else {
            v
        };
    }
    let ip = match g.get("ip_protocol_version").and_then(Value::as_i64) {
        None => IpVersion::V4,
        Some(v) => IpVersion::from_nim(v).ok_or_else(|| {
            format!("global_config.ip_protocol_version {v}: use 0 (IPv4), 1 (IPv6) or 2 (auto)")
        })?,
    };
    let mut link = links(&private["link"]);
    link.extend(links(&private["default_link"]));
    if ip != IpVersion::V4 {
        link.extend(links(&private["link_ipv6"]));
    }
    if link.is_empty() {
        if let Ok(env) = std::env::var("MAGPIE_LINK_ADDRESS") {
            link = env.split(',').map(str::to_owned).collect();
        }
    }
    let lbs = private["lbs"]
        .as_str()
        .filter(|u| !u.is_empty())
        .map(|url| LbsOptions {
            url: url.to_owned(),
            before_relogin: g["need_update_lbs_befor_relogin"]
                .as_bool()
                .unwrap_or(false),
        });
    let mut opts = match (link.first(), lbs) {
        (Some(first), lbs) => {
            let mut o = ClientOptions::new(first.clone());
            for l in &link[1..] {
                o = o.with_link_address(l.clone());
            }
            if let Some(l) = lbs {
                o = o.with_lbs(l);
            }
            o
        }
        (None, Some(l)) => ClientOptions::from_lbs(l),
        (None, None) => {
            return Err("no server: set private_server_setting.link to the Magpie server's host:port (or private_server_setting.lbs to its LBS URL, or MAGPIE_LINK_ADDRESS)".into())
        }
    };
    opts = opts.with_ip_version(ip);
    if let Some(k) = cfg["app_key"].as_str() {
        opts = opts.with_app_key(k);
    }
    if let Some(n) = g["login_retry_max_times"].as_u64() {
        opts = opts.with_login_retry_max_times(n as u32);
    }
    if let Some(t) = g
        .get("custom_timeout")
        .and_then(Value::as_u64)
        .filter(|t| *t > 0)
    {
        // The login's answer may take this long; a logout waits a sixth of
        // it, within NIM's 1-20 s (30 s, the default, gives 5 s).
        let secs = Duration::from_secs(t);
        opts = opts
            .with_request_timeout(secs)
            .with_logout_timeout((secs / 6).clamp(Duration::from_secs(1), Duration::from_secs(20)));
    }
    if let Some(c) = g.get("custom_client_type") {
        match c.as_i64() {
            Some(c) if c > 0 => opts = opts.with_custom_client_type(c as u32),
            _ => {
                return Err(format!(
                    "global_config.custom_client_type {c}: must be a number > 0"
                ))
            }
        }
    }
    if let Some(t) = g["magpie_client_type"].as_u64() {
        opts = opts.with_client_type(t as u32);
    }
    match g["db_encrypt_key"].as_str().unwrap_or_default() {
        "" => {}
        k => match DbKey::new(k) {
            Some(key) => opts = opts.with_db_key(key),
            None => return Err("global_config.db_encrypt_key: at most 32 characters".into()),
        },
    }
    let level = g["sdk_log_level"].as_u64().unwrap_or(5) as u32;
    Ok((opts, level))
}

/// NIM's sdk_log_level as a tracing level: 1 fatal and 2 error log errors,
/// 3 warnings, 5 (app, the default) information, 6 (pro) everything.
fn log_level(level: u32) -> tracing::Level {
    match level {
        0..=2 => tracing::Level::ERROR,
        3 | 4 => tracing::Level::WARN,
        5 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    }
}

/// The SDK's log: `magpie_sdk.log` in the app data dir, at the init's
/// level (once per process; an app that set its own tracing subscriber
/// keeps it).
fn start_log(dir: &str, level: u32) {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let path = std::path::Path::new(dir).join("magpie_sdk.log");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path);
        match file {
            Ok(f) => {
                let _ = tracing_subscriber::fmt()
                    .with_max_level(log_level(level))
                    .with_ansi(false)
                    .with_writer(std::sync::Mutex::new(f))
                    .try_init();
            }
            Err(e) => eprintln!("nim_client_init: no SDK log at {}: {e}", path.display()),
        }
    });
}

/// nim_client_init.
pub fn init(dir: &str, json_ext: &str) -> bool {
    let mut sdk = SDK.lock();
    if sdk.is_some() {
        return true;
    }
    let cfg: Value = match serde_json::from_str(if json_ext.is_empty() { "{}" } else { json_ext }) {
        Ok(v) => v,
        Err(e) => return refuse_init(&format!("json_extension is not JSON: {e}")),
    };
    let (opts, level) = match options_from_init(&cfg) {
        Ok(v) => v,
        Err(why) => return refuse_init(&why),
    };
    if let Some(c) = cfg["global_config"]["push_cer_name"].as_str() {
        *CER_NAME.lock() = c.to_owned();
    }
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(2)
        .thread_name(SDK_THREAD)
        .enable_all()
        .build()
    else {
        return refuse_init("could not start the SDK's threads");
    };
    let dir = if dir.is_empty() { "." } else { dir };
    if std::fs::create_dir_all(dir).is_ok() {
        start_log(dir, level);
    }
    let client = match Client::init(dir, opts.with_runtime(runtime.handle().clone())) {
        Ok(c) => c,
        Err(e) => return refuse_init(&e.to_string()),
    };
    client.on_every_event(dispatch);
    crate::msg::apply_batch_mode(&client);
    client.set_token_provider(|req| ask_token(&req.account));
    if let Some(p) = PENDING_PROXY.lock().take() {
        let _ = client.set_proxy(p.kind, &p.host, p.port, &p.user, &p.password);
    }
    *sdk = Some(Sdk { runtime, client });
    true
}

/// The name of the SDK's threads (its runtime's workers and blocking pool),
/// on which every callback runs.
const SDK_THREAD: &str = "magpie-sdk";

/// True on one of the SDK's own threads, i.e. inside a callback.
fn on_sdk_thread() -> bool {
    std::thread::current().name() == Some(SDK_THREAD)
}

/// nim_client_cleanup: synchronous, and safe inside a callback. From an
/// app thread it returns when no SDK thread runs any more. Inside a
/// callback (NIM's C++ sample cleans up in the logout callback) the calling
/// thread is the SDK's own, which cannot wait for itself: no callback fires
/// from the moment it is called, and the last SDK threads end right after
/// the callback returns. `done` runs when everything has ended.
pub fn cleanup(done: impl FnOnce() + Send + 'static) {
    let Some(sdk) = SDK.lock().take() else {
        done();
        return;
    };
    // No callback may fire from here on.
    EPOCH.fetch_add(1, Ordering::SeqCst);
    *SLOTS.lock() = [None; 6];
    *TOKEN.lock() = None;
    *PUSH_SYNC.lock() = None;
    LOGIN_IN_FLIGHT.store(false, Ordering::SeqCst);
    crate::msg::forget();
    crate::stick_top::forget();
    crate::delete_self::forget();
    crate::session_online::forget();
    if on_sdk_thread() {
        let work = std::sync::Arc::new(Mutex::new(Some((sdk, done))));
        let theirs = work.clone();
        let spawned = std::thread::Builder::new()
            .name("magpie-sdk-cleanup".into())
            .spawn(move || {
                if let Some((sdk, done)) = theirs.lock().take() {
                    teardown(sdk);
                    done();
                }
            });
        if let Err(e) = spawned {
            // No thread to finish on: the runtime is left to end with the
            // process (dropping it here, on one of its own threads, would
            // panic); the caller still hears that cleanup is done.
            eprintln!("nim_client_cleanup inside a callback: no thread to finish on ({e})");
            if let Some((sdk, done)) = work.lock().take() {
                std::mem::forget(sdk);
                done();
            }
        }
        return;
    }
    teardown(sdk);
    done();
}

fn teardown(sdk: Sdk) {
    let client = sdk.client.clone();
    sdk.runtime.block_on(async move {
        if client.cleanup().await.is_err() {
            client
                .logout(magpie_proto::types::logout_type::APP_EXIT)
                .await;
            let _ = client.cleanup().await;
        }
    });
    drop(sdk.client);
    sdk.runtime.shutdown_timeout(Duration::from_secs(5));
}

pub(crate) fn with_sdk<T>(f: impl FnOnce(&Sdk) -> T) -> Option<T> {
    SDK.lock().as_ref().map(f)
}

/// Runs `work` on the SDK's runtime and hands its result to `then`, unless
/// cleanup came in between: no one-shot callback fires after cleanup.
pub(crate) fn spawn_current<T: Send + 'static>(
    s: &Sdk,
    work: impl std::future::Future<Output = T> + Send + 'static,
    then: impl FnOnce(T) + Send + 'static,
) {
    let e = epoch();
    s.runtime.spawn(async move {
        let r = work.await;
        if epoch() == e {
            then(r);
        }
    });
}

/// nim_client_login.
pub fn login(
    app_key: String,
    account: String,
    token: String,
    json_ext: &str,
    cb: Option<CCallback>,
) {
    let ext: Value = serde_json::from_str(json_ext).unwrap_or(Value::Null);
    let params = LoginParams {
        custom_tag: ext["custom_tag"].as_str().unwrap_or_default().to_owned(),
        auth_type: ext["auth_type"].as_u64().unwrap_or(0) as u32,
        login_ex: ext["login_ex"].as_str().unwrap_or_default().to_owned(),
    };
    let token = ext["token"].as_str().map(str::to_owned).unwrap_or(token);
    let started = with_sdk(|s| {
        // The login under way keeps the login callback; a login refused
        // while one is under way (or a session is active) gets its 20002
        // through its own callback only, as NIM answers.
        let busy = LOGIN_IN_FLIGHT.swap(true, Ordering::SeqCst);
        if !busy {
            register(Slot::Login, cb);
        }
        // Queued now, in call order: of two logins called one after the
        // other, the later is the one refused.
        let queued = s.client.login_queued(&app_key, &account, &token, params);
        let e = epoch();
        s.runtime.spawn(async move {
            let r = queued.await;
            if !busy {
                LOGIN_IN_FLIGHT.store(false, Ordering::SeqCst);
            }
            let refused = r.err_code == magpie_proto::ResCode::LOCAL_LOGINED
                || r.err_code == magpie_proto::ResCode::LOCAL_INIT_UNDONE;
            if refused && epoch() == e {
                cb.fire_once(&Event::Login(r).json().to_string());
            }
        });
    });
    if started.is_none() {
        cb.fire_once(r#"{"err_code":20000,"relogin":false,"login_step":0,"retrying":false}"#);
    }
}

/// nim_client_get_login_state.
pub fn login_state() -> i32 {
    with_sdk(|s| s.client.login_state().nim_value() as i32).unwrap_or(2)
}

/// nim_client_relogin.
pub fn relogin(json_ext: &str) {
    let ext: Value = serde_json::from_str(json_ext).unwrap_or(Value::Null);
    let token = ext["token"].as_str().map(str::to_owned);
    with_sdk(|s| {
        let client = s.client.clone();
        s.runtime.spawn(async move {
            client.relogin_with_token(token).await;
        });
    });
}

/// nim_client_logout: the callback fires exactly once.
pub fn logout(logout_type: i32, cb: Option<CCallback>) {
    let started = with_sdk(|s| {
        let client = s.client.clone();
        spawn_current(
            s,
            async move { client.logout(logout_type.max(0) as u32).await },
            move |r| cb.fire_once(&json!({"err_code": r.err_code}).to_string()),
        );
    });
    if started.is_none() {
        // Not initialised or cleaned up: NIM's logout answers 200 or 500.
        cb.fire_once(r#"{"err_code":500}"#);
    }
}

/// nim_client_kick_other_client.
pub fn kick_other(json_ext: &str) {
    let ext: Value = serde_json::from_str(json_ext).unwrap_or(Value::Null);
    let ids: Vec<String> = ext["device_ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    with_sdk(|s| {
        let client = s.client.clone();
        s.runtime.spawn(async move {
            client.kick_other_client(ids).await;
        });
    });
}

/// nim_global_set_proxy.
pub fn set_proxy(kind: i32, host: String, port: i32, user: String, password: String) {
    let Some(k) = u32::try_from(kind).ok().and_then(ProxyType::from_nim) else {
        eprintln!("nim_global_set_proxy: unknown proxy type {kind}");
        return;
    };
    if k == ProxyType::Http11 {
        eprintln!(
            "nim_global_set_proxy: HTTP proxies are not supported; use SOCKS4, SOCKS4a or SOCKS5"
        );
        return;
    }
    let port = u16::try_from(port).unwrap_or(0);
    let applied = with_sdk(|s| s.client.set_proxy(k, &host, port, &user, &password));
    match applied {
        Some(Err(e)) => eprintln!("nim_global_set_proxy: {e}"),
        Some(Ok(())) => {}
        None => {
            *PENDING_PROXY.lock() = Some(Proxy {
                kind: k,
                host,
                port,
                user,
                password,
            })
        }
    }
}

/// nim_client_current_user_account.
pub fn current_account() -> *const c_char {
    let acct = with_sdk(|s| s.client.current_account()).unwrap_or_default();
    let mut keep = ACCOUNT.lock();
    *keep = Some(CString::new(acct).unwrap_or_default());
    keep.as_ref().map(|c| c.as_ptr()).unwrap_or(c"".as_ptr())
}

/// nim_client_reg_sync_multiport_push_config_cb.
pub fn register_push_sync(cb: Option<PushCb>) {
    *PUSH_SYNC.lock() = cb;
}

/// nim_client_get_server_current_time: the callback fires exactly once.
pub fn server_time(calc_local: bool, cb: Option<TimeCb>) {
    let started = with_sdk(|s| {
        let client = s.client.clone();
        spawn_current(
            s,
            async move { client.server_current_time(calc_local).await },
            move |r| {
                if let Some(cb) = cb {
                    call_time(cb, r.rescode.0 as i32, r.calc_local, r.time);
                }
            },
        );
    });
    if started.is_none() {
        if let Some(cb) = cb {
            call_time(cb, 20000, true, local_now_ms());
        }
    }
}

/// This machine's clock, ms since the epoch.
fn local_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// nim_client_set_multiport_push_config (`Some(content)`) and
/// nim_client_get_multiport_push_config: the callback fires exactly once.
pub fn push_config(content: Option<String>, cb: Option<PushCb>) {
    let set = match &content {
        None => None,
        Some(c) => match serde_json::from_str::<Value>(c)
            .ok()
            .and_then(|v| v["switch_open"].as_u64())
        {
            Some(v) => Some(v as u32),
            None => {
                eprintln!("nim_client_set_multiport_push_config: switch_content must be {{\"switch_open\":1}} or {{\"switch_open\":2}}, got {c:?}");
                if let Some(cb) = cb {
                    call_push(cb, 414, 0);
                }
                return;
            }
        },
    };
    let started = with_sdk(|s| {
        let client = s.client.clone();
        let work = async move {
            match set {
                Some(v) => client.set_multiport_push_config(v).await,
                None => client.get_multiport_push_config().await,
            }
        };
        spawn_current(s, work, move |r| {
            if let Some(cb) = cb {
                call_push(cb, r.rescode.0 as i32, r.switch_open);
            }
        });
    });
    if started.is_none() {
        if let Some(cb) = cb {
            call_push(cb, 20000, 0);
        }
    }
}

/// nim_client_update_apns_token: kept, and stored on the server now when
/// logged in, else after the next login.
pub fn update_push_token(token: String) {
    *PUSH_TOKEN.lock() = Some(token);
    send_push_token();
}

fn send_push_token() {
    let Some(token) = PUSH_TOKEN.lock().clone() else {
        return;
    };
    let cer = CER_NAME.lock().clone();
    with_sdk(|s| {
        if s.client.login_state() != magpie_client::LoginState::Logined {
            return;
        }
        let client = s.client.clone();
        // Kept and sent after every login too: the server keeps one token
        // per device, for the account logged in on it.
        s.runtime.spawn(async move {
            let code = client.update_push_token(&token, &cer).await;
            if !code.is_success() {
                tracing::warn!(%code, "the server did not store the push token; it is sent again after the next login");
            }
        });
    });
}

/// nim_global_detect_proxy: the callback fires exactly once.
pub fn detect_proxy(
    kind: i32,
    host: String,
    port: i32,
    user: String,
    password: String,
    cb: Option<ProxyCb>,
) {
    let fail = |why: &str| {
        if let Some(cb) = cb {
            call_proxy(
                cb,
                false,
                &json!({"connected": false, "error": why}).to_string(),
            );
        }
    };
    let Some(kind) = u32::try_from(kind).ok().and_then(ProxyType::from_nim) else {
        return fail(&format!(
            "unknown proxy type {kind}: use 4 (SOCKS4), 5 (SOCKS4a) or 6 (SOCKS5)"
        ));
    };
    let proxy = Proxy {
        kind,
        host,
        port: u16::try_from(port).unwrap_or(0),
        user,
        password,
    };
    let started = with_sdk(|s| {
        let client = s.client.clone();
        spawn_current(
            s,
            async move { client.detect_proxy(proxy).await },
            move |d| {
                if let Some(cb) = cb {
                    let j = serde_json::to_string(&d).unwrap_or_default();
                    call_proxy(cb, d.connected, &j);
                }
            },
        );
    });
    if started.is_none() {
        fail("the SDK is not initialised: call nim_client_init first (the detection tries its link address)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_json_of_nim_s_wrappers_sets_what_magpie_honours() {
        // As NIM's C++ wrapper writes it (plain-string link) ...
        let cpp = json!({
            "app_key": "k",
            "global_config": {
                "db_encrypt_key": "0123456789", "login_retry_max_times": 5, "custom_timeout": 12,
                "sdk_log_level": 6, "need_update_lbs_befor_relogin": true, "ip_protocol_version": 2,
                "custom_client_type": 9, "use_https": true, "hand_shake_type": 1, "preload_attach": true
            },
            "private_server_setting": {
                "lbs": "http://lbs.example:9381/lbs", "link": "im.example:9300",
                "link_ipv6": "[::1]:9300", "nos_lbs": ""
            }
        });
        let (o, level) = options_from_init(&cpp).unwrap();
        assert_eq!(o.link_addresses, ["im.example:9300", "[::1]:9300"]);
        assert_eq!(o.app_key, "k");
        assert_eq!(o.login_retry_max_times, 5);
        assert_eq!(o.request_timeout, Duration::from_secs(12));
        assert_eq!(o.logout_timeout, Duration::from_secs(2));
        assert_eq!(o.custom_client_type, 9);
        assert_eq!(o.ip_version, IpVersion::Auto);
        assert_eq!(o.db_key, DbKey::new("0123456789"));
        assert_eq!(
            o.lbs,
            Some(LbsOptions {
                url: "http://lbs.example:9381/lbs".into(),
                before_relogin: true
            })
        );
        assert_eq!(log_level(level), tracing::Level::DEBUG);
        // ... and as NIM's C# wrapper writes it (default_link list).
        let cs = json!({
            "global_config": {"private_server_setting": true, "custom_timeout": 300, "sdk_log_level": 5},
            "private_server_setting": {"default_link": ["a:1", "b:2"]},
            "app_key": "k"
        });
        let (o, level) = options_from_init(&cs).unwrap();
        assert_eq!(o.link_addresses, ["a:1", "b:2"]);
        assert_eq!(o.logout_timeout, Duration::from_secs(20), "bounded at 20 s");
        assert_eq!(o.ip_version, IpVersion::V4);
        assert!(o.lbs.is_none() && o.db_key.is_none());
        assert_eq!(log_level(level), tracing::Level::INFO);
        // What cannot be used is refused with the key named.
        for (bad, key) in [
            (
                json!({"private_server_setting": {}}),
                "private_server_setting.link",
            ),
            (
                json!({"global_config": {"ip_protocol_version": 3}, "private_server_setting": {"link": "a:1"}}),
                "ip_protocol_version",
            ),
            (
                json!({"global_config": {"db_encrypt_key": "x".repeat(33)}, "private_server_setting": {"link": "a:1"}}),
                "db_encrypt_key",
            ),
            (
                json!({"global_config": {"custom_client_type": 0}, "private_server_setting": {"link": "a:1"}}),
                "custom_client_type",
            ),
            (
                json!({"server_conf_file_path": "/nonexistent/magpie.json"}),
                "server_conf_file_path",
            ),
        ] {
            match options_from_init(&bad) {
                Err(why) => assert!(why.contains(key), "{why}"),
                Ok(_) => panic!("{bad} must be refused"),
            }
        }
        // The private server settings may come from a file.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("server.json");
        std::fs::write(&f, r#"{"link": ["c:3"]}"#).unwrap();
        let (o, _) =
            options_from_init(&json!({"server_conf_file_path": f.to_str().unwrap()})).unwrap();
        assert_eq!(o.link_addresses, ["c:3"]);
    }
}
