//! The Magpie SDK, in the shape of NIM's client API (NIM's Windows/macOS
//! guide, page "登录登出" (Login and logout), and the messaging pages after
//! it). docs/sdk.md in the repository is the guide; `examples/` has a login +
//! multispot + logout program and a token-provider program.
//!
//! Add it by path (`magpie-client = { path = "../magpie/crates/magpie-client" }`);
//! every type and NIM constant a caller names is re-exported here.
//!
//! [`Client::init`] starts one connection task (on the SDK's own small
//! runtime, or on a runtime you pass in [`ClientOptions::runtime`]) and
//! returns a cheap, cloneable handle. The handle sends commands to the task
//! and gets replies back; the task owns the socket and the login state
//! machine: NIM's login steps, heartbeats and dead-link detection, automatic
//! re-login with exponential backoff and full jitter, kick-out, logout and the
//! local cache. Results come as callbacks registered with the `on_*` methods,
//! as an async stream ([`Client::events`]), and as the return values of the
//! async calls. Payloads serialise to NIM's JSON.
//!
//! ```no_run
//! # async fn demo() -> Result<(), magpie_client::ClientError> {
//! use magpie_client::{Client, ClientOptions, LoginParams};
//! let client = Client::init("/tmp/app-data", ClientOptions::new("127.0.0.1:9300"))?;
//! client.on_kickout(|k| eprintln!("kicked: reason {}", k.reason_code));
//! let res = client.login("app key", "alice", "token", LoginParams::default()).await;
//! assert!(res.is_success());
//! client.logout(magpie_client::logout_type::APP_EXIT).await;
//! client.cleanup().await?;
//! # Ok(()) }
//! ```

mod cache;
mod connect;
mod error;
mod event;
mod lbs;
mod link;
mod local;
mod machine;
mod msgs;
mod ops;
mod options;
mod probe;
mod task;

pub use error::ClientError;
pub use event::{
    Callback, Event, KickOtherRes, LoginRes, LogoutRes, MsgStatusChanged, PushConfigRes,
    ServerTimeRes, EVENT_STREAM_CAPACITY,
};
pub use link::{LinkError, SDK_VERSION};
pub use local::{LocalQueryOptions, ReceivedMessage, ReceivedSysMsg, SessionData};
pub use machine::server_session_failed;
pub use magpie_proto::msg::{HistoryQuery, ImMessage, RecallNotify, SendMsgAck, SysMsg, SysMsgAck};
pub use msgs::{DataSync, QueryResult, SessionResult};
pub use ops::{LocalOp, LocalResult, RoamHasMoreOp, RoamTag};
pub use options::{
    platform_client_type, platform_mac, platform_os, Backoff, ClientOptions, DbKey, IpVersion,
    LbsOptions, LoginParams, Proxy, ProxyType, TlsOptions,
};
pub use probe::{ProbeStep, ProxyDetection};
pub use task::{Provider, ProviderRequest};

/// docs/sdk.md's Rust snippets, compiled as doc tests so the guide stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/sdk.md")]
pub struct SdkGuide;

/// The wire protocol crate, for what the re-exports below do not cover.
pub use magpie_proto as proto;
/// NIM's messaging enums: session, message and system-notification types,
/// message status and features, data-sync types and statuses.
pub use magpie_proto::msg::{
    data_sync_status, data_sync_type, message_feature, message_type, msglog_status,
    session_command, session_type, sysmsg_status, sysmsg_type,
};
/// NIM's enums as constants: client types, logout types, login steps, kick
/// reasons, auth types (`NIMClientType`, `NIMLogoutType`, ...).
pub use magpie_proto::types::{
    auth_type, client_type, kick_reason, login_step, logout_type, Kickout, MultiSpot, Presence,
};
/// NIM's result codes (`NIMResCode`).
pub use magpie_proto::ResCode;

use event::{CallbackKind, Callbacks};
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// The login state: NIMLoginState plus the states NIM leaves implicit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LoginState {
    /// Not logged in (kNIMLoginStateUnLogin).
    #[default]
    Unlogin,
    /// A manual login is running.
    Logging,
    /// Logged in (kNIMLoginStateLogin).
    Logined,
    /// The link dropped and an automatic re-login is running.
    Relogining,
    /// Kicked out: no automatic login follows.
    Kicked,
}

impl LoginState {
    /// The NIMLoginState number: 1 logged in, 2 not.
    pub fn nim_value(self) -> u32 {
        match self {
            LoginState::Logined => 1,
            _ => 2,
        }
    }
}

/// What the handle can read without asking the task.
#[derive(Clone, Debug, Default)]
pub(crate) struct Status {
    state: LoginState,
    account: String,
    clock_offset_ms: i64,
    /// (app key, account) of the local database in use.
    db_account: Option<(String, String)>,
}

pub(crate) struct LoginCmd {
    app_key: String,
    account: String,
    token: String,
    params: LoginParams,
}

pub(crate) enum Command {
    Login(LoginCmd, oneshot::Sender<LoginRes>),
    Relogin(Option<String>, oneshot::Sender<LoginRes>),
    Logout(u32, oneshot::Sender<LogoutRes>),
    KickOther(Vec<String>, oneshot::Sender<KickOtherRes>),
    Cleanup(oneshot::Sender<Result<(), &'static str>>),
    /// Messaging commands, answered with the machine's reply.
    Messaging(machine::Cmd, oneshot::Sender<machine::Reply>),
}

/// The SDK handle. Clones share one connection task.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<Command>,
    status: watch::Receiver<Status>,
    shared: Arc<task::Shared>,
    data_dir: PathBuf,
    device_id: String,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    thread_name: String,
    live_threads: Arc<AtomicUsize>,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    /// Where `detect_proxy` goes.
    probe: probe::ProbeTarget,
    /// The local databases' key, for reads outside the connection task.
    db_key: Option<DbKey>,
}

/// A login in flight ([`Client::login_queued`]).
pub type LoginFuture = std::pin::Pin<Box<dyn std::future::Future<Output = LoginRes> + Send>>;

impl Client {
    /// NIM's init: checks the options, prepares `app_data_dir` (the device id
    /// and the per-account caches live there) and starts the connection task.
    pub fn init(
        app_data_dir: impl AsRef<Path>,
        options: ClientOptions,
    ) -> Result<Client, ClientError> {
        if options.link_addresses.is_empty() && options.lbs.is_none() {
            return Err(ClientError::InvalidOptions(
                "no link address: give the server's host:port (private_server_setting.link) or an LBS URL (lbs)".into(),
            ));
        }
        for a in &options.link_addresses {
            connect::split_addr(a).map_err(|e| ClientError::InvalidOptions(e.to_string()))?;
        }
        let dir = app_data_dir.as_ref().to_path_buf();
        let io = |source| ClientError::DataDir {
            path: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let device_id = match &options.device_id {
            Some(d) if !d.is_empty() => d.clone(),
            _ => cache::device_id(&dir).map_err(io)?,
        };
        if let Err((path, e)) = cache::check_key(&dir, options.db_key.as_ref()) {
            return Err(ClientError::DatabaseKey {
                path: path.display().to_string(),
                reason: e.to_string(),
                keyed: options.db_key.is_some(),
            });
        }
        let tls = match &options.tls {
            Some(t) => Some(connect::Tls::new(t).map_err(ClientError::InvalidOptions)?),
            None => None,
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let thread_name = format!(
            "magpie-sdk-{}",
            NEXT.fetch_add(1, Ordering::Relaxed) % 10_000
        );
        let live_threads = Arc::new(AtomicUsize::new(0));
        let (runtime, handle) = match &options.runtime {
            Some(h) => (None, h.clone()),
            None => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .max_blocking_threads(2)
                    .thread_name(thread_name.clone())
                    .on_thread_start({
                        let n = live_threads.clone();
                        move || {
                            n.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                    .on_thread_stop({
                        let n = live_threads.clone();
                        move || {
                            n.fetch_sub(1, Ordering::SeqCst);
                        }
                    })
                    .enable_all()
                    .build()
                    .map_err(ClientError::Runtime)?;
                let h = rt.handle().clone();
                (Some(rt), h)
            }
        };
        let db_key = options.db_key.clone();
        let probe = probe::ProbeTarget {
            link: options.link_addresses.first().cloned().unwrap_or_default(),
            tls: tls.clone(),
            timeout: options.connect_timeout,
            max_frame: options.max_frame,
            ip: options.ip_version,
        };
        let (tx, rx) = mpsc::channel(16);
        let (status_tx, status) = watch::channel(Status::default());
        let shared = Arc::new(task::Shared {
            callbacks: Callbacks::new(),
            proxy: Mutex::new(None),
            token_provider: Mutex::new(None),
            login_ext_provider: Mutex::new(None),
        });
        let t = task::ConnectionTask::new(
            options,
            dir.clone(),
            device_id.clone(),
            tls,
            shared.clone(),
            rx,
            status_tx,
        );
        let join = handle.spawn(t.run());
        Ok(Client {
            inner: Arc::new(Inner {
                tx,
                status,
                shared,
                data_dir: dir,
                device_id,
                task: Mutex::new(Some(join)),
                thread_name,
                live_threads,
                runtime: Mutex::new(runtime),
                probe,
                db_key,
            }),
        })
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.inner.tx.send(make(tx)).await.ok()?;
        rx.await.ok()
    }

    /// NIM's cleanup: ends the connection task and the SDK's threads. Refused
    /// with [`ClientError::SessionActive`] while a session is active: log out
    /// and wait for the logout callback first.
    pub async fn cleanup(&self) -> Result<(), ClientError> {
        match self.ask(Command::Cleanup).await {
            Some(Ok(())) => {}
            Some(Err(why)) => return Err(ClientError::SessionActive(why)),
            None => return Err(ClientError::NotInitialised),
        }
        let join = self.inner.task.lock().take();
        if let Some(j) = join {
            let _ = j.await;
        }
        let rt = self.inner.runtime.lock().take();
        if let Some(rt) = rt {
            // A runtime cannot be dropped inside async code: let a plain
            // thread wait for its threads to end.
            let (done_tx, done_rx) = oneshot::channel();
            std::thread::spawn(move || {
                rt.shutdown_timeout(Duration::from_secs(5));
                let _ = done_tx.send(());
            });
            let _ = done_rx.await;
        }
        Ok(())
    }

    /// NIM's set_proxy: applies to the next connection. HTTP proxies are
    /// refused, as in NIM; `ProxyType::None` removes the proxy.
    pub fn set_proxy(
        &self,
        kind: ProxyType,
        host: &str,
        port: u16,
        user: &str,
        password: &str,
    ) -> Result<(), ClientError> {
        if self.inner.tx.is_closed() {
            return Err(ClientError::NotInitialised);
        }
        let p = match kind {
            ProxyType::Http11 => {
                return Err(ClientError::UnsupportedProxy(
                    "HTTP proxies are not supported; use SOCKS4, SOCKS4a or SOCKS5",
                ))
            }
            ProxyType::None => None,
            _ if host.is_empty() || port == 0 => {
                return Err(ClientError::InvalidOptions(
                    "a proxy needs a host and a port".into(),
                ))
            }
            _ => Some(Proxy {
                kind,
                host: host.to_owned(),
                port,
                user: user.to_owned(),
                password: password.to_owned(),
            }),
        };
        *self.inner.shared.proxy.lock() = p;
        Ok(())
    }

    /// NIM's login. An empty `app_key` means the init app key. Each step is
    /// also reported to the login callback; the returned value is the last.
    pub async fn login(
        &self,
        app_key: &str,
        account: &str,
        token: &str,
        params: LoginParams,
    ) -> LoginRes {
        self.login_queued(app_key, account, token, params).await
    }

    /// [`login`](Client::login), queued at the call rather than when the
    /// future is first polled: logins started one after the other reach
    /// the SDK in that order (NIM's C API answers the later one 20002).
    pub fn login_queued(
        &self,
        app_key: &str,
        account: &str,
        token: &str,
        params: LoginParams,
    ) -> LoginFuture {
        let cmd = LoginCmd {
            app_key: app_key.to_owned(),
            account: account.to_owned(),
            token: token.to_owned(),
            params,
        };
        let (tx, rx) = oneshot::channel();
        let sender = self.inner.tx.clone();
        let waiting = match sender.try_send(Command::Login(cmd, tx)) {
            Ok(()) => None,
            Err(mpsc::error::TrySendError::Full(c)) => Some(c),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                return Box::pin(std::future::ready(LoginRes::failed(
                    ResCode::LOCAL_INIT_UNDONE,
                    0,
                    false,
                )))
            }
        };
        Box::pin(async move {
            if let Some(c) = waiting {
                if sender.send(c).await.is_err() {
                    return LoginRes::failed(ResCode::LOCAL_INIT_UNDONE, 0, false);
                }
            }
            rx.await
                .unwrap_or_else(|_| LoginRes::failed(ResCode::LOCAL_INIT_UNDONE, 0, false))
        })
    }

    /// NIM's relogin: logs the last account in again, after automatic
    /// re-login gave up. Does nothing while an automatic re-login runs.
    /// Results also go to the auto-relogin callback.
    pub async fn relogin(&self) -> LoginRes {
        self.relogin_with_token(None).await
    }

    /// Relogin with a new token (for auth types 1 and 2).
    pub async fn relogin_with_token(&self, token: Option<String>) -> LoginRes {
        self.ask(|r| Command::Relogin(token, r))
            .await
            .unwrap_or_else(|| LoginRes::failed(ResCode::LOCAL_INIT_UNDONE, 0, true))
    }

    /// NIM's logout with a NIMLogoutType. Tells the server when it can,
    /// flushes the local cache, and answers within the logout timeout: 200, or
    /// 408/415 when the server could not be told.
    pub async fn logout(&self, logout_type: u32) -> LogoutRes {
        if !logout_type::is_valid(logout_type) {
            return LogoutRes {
                err_code: ResCode::PARAMETER_ERROR,
            };
        }
        self.ask(|r| Command::Logout(logout_type, r))
            .await
            .unwrap_or(LogoutRes {
                err_code: ResCode::LOCAL_INIT_UNDONE,
            })
    }

    /// NIM's kick_other_client: kicks other devices of my account by device
    /// id (they get reason 3). Also reported to the kick-other callback.
    pub async fn kick_other_client(&self, device_ids: Vec<String>) -> KickOtherRes {
        self.ask(|r| Command::KickOther(device_ids, r))
            .await
            .unwrap_or(KickOtherRes {
                err_code: ResCode::LOCAL_INIT_UNDONE,
                device_ids: Vec::new(),
            })
    }

    /// NIM's get_server_current_time: the server's clock, asked of the
    /// server (which also corrects [`server_time`](Client::server_time)),
    /// or computed locally from the last measured offset when `calc_local`
    /// is set, within a second of the last query, or when the server cannot
    /// answer (then `calc_local` is true and `rescode` says why).
    pub async fn server_current_time(&self, calc_local: bool) -> ServerTimeRes {
        let (rescode, time) = match self.messaging(machine::Cmd::ServerTime(calc_local)).await {
            Some(machine::Reply::ServerTime(c, t)) => (c, t),
            _ => (ResCode::LOCAL_INIT_UNDONE, None),
        };
        ServerTimeRes {
            rescode,
            calc_local: time.is_none(),
            time: time.unwrap_or_else(|| self.server_time()),
        }
    }

    /// NIM's detect_proxy: tries `proxy` for real against the first link
    /// address (the proxy's port, the tunnel through it with TLS when used,
    /// the server's answer to a HELLO), each step within the connect
    /// timeout. The proxy setting of the client is not changed.
    pub async fn detect_proxy(&self, proxy: Proxy) -> ProxyDetection {
        probe::detect(&self.inner.probe, &proxy).await
    }

    /// NIM's set_multiport_push_config: 1, while a desktop device of the
    /// account is online its mobile devices get no push; 2, they still do.
    /// Stored on the server; the account's other online devices hear it
    /// through [`on_push_config_sync`](Client::on_push_config_sync), the
    /// others at their next login. 414 for any other value.
    pub async fn set_multiport_push_config(&self, switch_open: u32) -> PushConfigRes {
        self.push_config(Some(switch_open)).await
    }

    /// NIM's get_multiport_push_config: the switch as the server has it.
    pub async fn get_multiport_push_config(&self) -> PushConfigRes {
        self.push_config(None).await
    }

    async fn push_config(&self, set: Option<u32>) -> PushConfigRes {
        match self.messaging(machine::Cmd::PushConfig(set)).await {
            Some(machine::Reply::PushConfig(r)) => r,
            _ => PushConfigRes {
                rescode: ResCode::LOCAL_INIT_UNDONE,
                switch_open: 0,
            },
        }
    }

    /// NIM's stick-top sessions, kept on the server for every device of the
    /// account: `action` one of `magpie_proto::frame::stick_top_action`
    /// (SET puts a session on top or replaces its extension, UPDATE
    /// replaces the extension of one on top, CANCEL takes it off; 404 for
    /// a session not on top; LIST answers the sessions on top, the most
    /// recently set first). The account's other online devices hear each
    /// change through [`on_stick_top_changed`](Client::on_stick_top_changed).
    /// Needs a session (20001 without); 414 for an empty or too long id or
    /// extension.
    pub async fn stick_top(
        &self,
        req: magpie_proto::frame::StickTopRequest,
    ) -> magpie_proto::frame::StickTopAck {
        match self.messaging(machine::Cmd::StickTop(req)).await {
            Some(machine::Reply::StickTop(r)) => r,
            _ => magpie_proto::frame::StickTopAck {
                code: ResCode::LOCAL_INIT_UNDONE,
                info: None,
                list: Vec::new(),
            },
        }
    }

    /// NIM's session service (`nim_session_online_service_*`): the
    /// account's sessions as the server keeps them, one per peer, moved up
    /// by every message. `action` is one of
    /// `magpie_proto::frame::server_session_action`: LIST answers a page
    /// newest first (update times from `min_time`, inclusive, and before
    /// `max_time`, 0 for none; `limit` 1 to 100, 0 for 100, and a page holds
    /// every session of its last millisecond; `has_more` when more match:
    /// ask again with `max_time` the last one's update time),
    /// GET one session (404 when the account has none with that peer),
    /// UPDATE sets a P2P session's extension (creating the session) and
    /// tells the account's other online devices through
    /// [`on_server_session_changed`](Client::on_server_session_changed),
    /// DELETE takes sessions off the list until the next message. Needs a
    /// session (20001 without); 414 for a request without what its action
    /// needs.
    pub async fn server_session(
        &self,
        req: magpie_proto::frame::ServerSessionRequest,
    ) -> magpie_proto::frame::ServerSessionAck {
        match self.messaging(machine::Cmd::ServerSession(req)).await {
            Some(machine::Reply::ServerSession(r)) => *r,
            _ => machine::server_session_failed(ResCode::LOCAL_INIT_UNDONE),
        }
    }

    /// Changes another device of the account made to its server-side
    /// sessions.
    pub fn on_server_session_changed(
        &self,
        f: impl Fn(&magpie_proto::frame::ServerSessionInfo) + Send + Sync + 'static,
    ) {
        self.set(
            CallbackKind::ServerSessionChanged,
            Arc::new(move |e| {
                if let Event::ServerSessionChanged(c) = e {
                    f(c)
                }
            }),
        );
    }

    /// Changes another device of the account made to its sessions on top.
    pub fn on_stick_top_changed(
        &self,
        f: impl Fn(&magpie_proto::frame::StickTopChanged) + Send + Sync + 'static,
    ) {
        self.set(
            CallbackKind::StickTopChanged,
            Arc::new(move |e| {
                if let Event::StickTopChanged(c) = e {
                    f(c)
                }
            }),
        );
    }

    /// NIM's update_apns_token: stores this device's push token (and the
    /// app's push certificate name) on the server, for the push service;
    /// an empty token removes it. Needs a session (20001 without).
    pub async fn update_push_token(&self, token: &str, cer_name: &str) -> ResCode {
        let cmd = machine::Cmd::PushToken(token.to_owned(), cer_name.to_owned());
        match self.messaging(cmd).await {
            Some(machine::Reply::Code(c)) => c,
            _ => ResCode::LOCAL_INIT_UNDONE,
        }
    }

    async fn messaging(&self, cmd: machine::Cmd) -> Option<machine::Reply> {
        self.ask(|r| Command::Messaging(cmd, r)).await
    }

    /// NIM's send_msg: sends a message and returns its ack (also reported
    /// to the send-ack callback). While an automatic re-login runs, the
    /// message waits and goes out after it; when not logged in, 20001.
    /// Resending after a failure with the same `client_msg_id` is safe:
    /// the server keeps one copy.
    pub async fn send_message(&self, msg: ImMessage) -> SendMsgAck {
        let fallback = crate::msgs::failed_ack(&msg, ResCode::LOCAL_INIT_UNDONE, "not initialised");
        match self.messaging(machine::Cmd::SendMsg(Box::new(msg))).await {
            Some(machine::Reply::SendMsg(a)) => a,
            _ => fallback,
        }
    }

    /// NIM's send_custom_notification: a custom system notification
    /// (`msg_type` 100), stored for offline delivery when
    /// `custom_save_flag` is 1. Returns its ack (also reported to the
    /// custom-notification ack callback).
    pub async fn send_custom_notification(&self, n: SysMsg) -> SysMsgAck {
        let fallback = SysMsgAck {
            msg_id: n.client_msg_id.clone(),
            talk_id: n.to_account.clone(),
            rescode: ResCode::LOCAL_INIT_UNDONE,
        };
        match self.messaging(machine::Cmd::SendSysMsg(Box::new(n))).await {
            Some(machine::Reply::SysMsg(a)) => a,
            _ => fallback,
        }
    }

    async fn session_result(&self, cmd: machine::Cmd, id: &str, to_type: u32) -> SessionResult {
        match self.messaging(cmd).await {
            Some(machine::Reply::Session(r)) => r,
            _ => SessionResult {
                rescode: ResCode::LOCAL_INIT_UNDONE,
                session: SessionData {
                    id: id.to_owned(),
                    to_type,
                    ..Default::default()
                },
                total_unread: 0,
            },
        }
    }

    /// NIM's set_unread_count_zero: marks a session read here and, when
    /// logged in, on the account's other devices (NIM's session ack).
    pub async fn set_unread_count_zero(&self, to_type: u32, id: &str) -> SessionResult {
        let cmd = machine::Cmd::SetUnreadZero {
            to_type,
            id: id.to_owned(),
        };
        self.session_result(cmd, id, to_type).await
    }

    /// NIM's delete_recent_session: deletes a session here and, when logged
    /// in, on the account's other devices.
    pub async fn delete_recent_session(&self, to_type: u32, id: &str) -> SessionResult {
        let cmd = machine::Cmd::DeleteSession {
            to_type,
            id: id.to_owned(),
        };
        self.session_result(cmd, id, to_type).await
    }

    /// NIM's P2P read receipt (nim_msglog_send_receipt_async) for a
    /// message received from a peer: the peer's devices learn that I read
    /// its messages up to this one's time (their status-changed callback,
    /// status 7), and so do my other devices. 200 once the server stored
    /// it; 414 for a message that is not a received P2P one; 404 when the
    /// peer is gone; 20001/415 when not logged in.
    pub async fn send_receipt(&self, msg: &ImMessage) -> ResCode {
        let me = self.inner.status.borrow().account.clone();
        if msg.to_type != magpie_proto::msg::session_type::P2P
            || msg.time <= 0
            || msg.from_id.is_empty()
            || msg.from_id.eq_ignore_ascii_case(&me)
        {
            return ResCode::PARAMETER_ERROR;
        }
        let r = magpie_proto::msg::Receipt {
            to_type: msg.to_type,
            id: msg.from_id.clone(),
            msg_timetag: msg.time,
        };
        match self.messaging(machine::Cmd::Receipt(r)).await {
            Some(machine::Reply::Local(r)) => r.rescode,
            _ => ResCode::LOCAL_INIT_UNDONE,
        }
    }

    /// NIM's recall (nim_talk_recall_msg) of a P2P message I sent, by its
    /// client id (`msg.to_accid` may be empty): within two minutes of its
    /// time it leaves the server's history and every device's, and the
    /// receiver's devices and my other ones get the recall callback. The
    /// answer: 200 with the notification (`msg_exist` says whether this
    /// device had the message); 508 past the two minutes; 404 when I sent
    /// no such message; 414 for a non-P2P one; 20001/415 when not logged in.
    pub async fn recall(
        &self,
        msg: &ImMessage,
        notify: &str,
        attach: &str,
    ) -> (ResCode, Option<RecallNotify>) {
        if msg.to_type != magpie_proto::msg::session_type::P2P || msg.client_msg_id.is_empty() {
            return (ResCode::PARAMETER_ERROR, None);
        }
        let me = self.inner.status.borrow().account.clone();
        let r = magpie_proto::msg::RecallReq {
            to_type: msg.to_type,
            id: msg.to_accid.clone(),
            client_msg_id: msg.client_msg_id.clone(),
            notify: notify.to_owned(),
            from_nick: msg.from_nick.clone(),
            attach: attach.to_owned(),
        };
        let res = match self.messaging(machine::Cmd::Recall(r)).await {
            Some(machine::Reply::Local(r)) => *r,
            _ => return (ResCode::LOCAL_INIT_UNDONE, None),
        };
        if !res.rescode.is_success() {
            return (res.rescode, None);
        }
        let local = res.message.as_ref();
        let note = RecallNotify {
            to_type: msg.to_type,
            from_id: me.clone(),
            to_id: local
                .map(|m| m.to_accid.clone())
                .unwrap_or_else(|| msg.to_accid.clone()),
            msg_id: msg.client_msg_id.clone(),
            notify: notify.to_owned(),
            time: self.server_time(),
            msg_time: local.map(|m| m.time).unwrap_or(msg.time),
            from_nick: msg.from_nick.clone(),
            operator_id: me,
            attach: attach.to_owned(),
            feature: magpie_proto::msg::message_feature::DEFAULT,
            msg_exist: local.is_some(),
        };
        (ResCode::SUCCESS, Some(note))
    }

    /// NIM's one-way deletion (nim_msglog_delete_message_self_async) of a
    /// P2P message I sent or received: it leaves this device, my server
    /// history and the sync of my devices that have not received it, my
    /// other devices delete it too (their [`Client::on_delete_self`]
    /// callback gets `ext`), and the peer keeps it. The answer: 200; 404
    /// when the server has no such message in that session; 414 for a
    /// non-P2P message or an `ext` over 1,024 characters; 20001/415 when
    /// not logged in.
    pub async fn delete_message_self(&self, msg: &ImMessage, ext: &str) -> ResCode {
        if msg.to_type != magpie_proto::msg::session_type::P2P || msg.client_msg_id.is_empty() {
            return ResCode::PARAMETER_ERROR;
        }
        let me = self.inner.status.borrow().account.clone();
        // No sender: a message of mine (as the app built it).
        let from = if msg.from_id.is_empty() {
            me.clone()
        } else {
            msg.from_id.clone()
        };
        // The session: the other end of the message.
        let peer = if from.eq_ignore_ascii_case(&me) {
            &msg.to_accid
        } else {
            &from
        };
        let r = magpie_proto::msg::DeleteSelfReq {
            to_type: msg.to_type,
            id: peer.clone(),
            from_id: from.clone(),
            client_msg_id: msg.client_msg_id.clone(),
            ext: ext.to_owned(),
        };
        match self.messaging(machine::Cmd::DeleteSelf(r)).await {
            Some(machine::Reply::Local(r)) => r.rescode,
            _ => ResCode::LOCAL_INIT_UNDONE,
        }
    }

    /// NIM's nim_msglog_delete_history_online_async: clears my server
    /// history of the P2P session with `peer` (the online history query no
    /// longer returns its messages up to now); with `delete_roaming` they
    /// also leave the sync of my devices that have not received them. This
    /// device's local history and the peer's history stay. The answer: 200;
    /// 414 for a bad accid; 20001/415 when not logged in.
    pub async fn delete_history_online(&self, peer: &str, delete_roaming: bool) -> ResCode {
        self.clear_history(magpie_proto::msg::ClearHistoryReq {
            to_type: magpie_proto::msg::session_type::P2P,
            id: peer.to_owned(),
            delete_roaming,
            ..Default::default()
        })
        .await
    }

    /// NIM 8's nim_msglog_delete_history_online_async_ex: clears my server
    /// history of the session up to now (its roaming copies too), and with
    /// `notify_self` my other devices, now and when they log in, get it
    /// through [`on_delete_history`](Client::on_delete_history) with `ext`.
    /// This device's history stays. Answers the code and the time of the
    /// deletion (ms, this device's estimate of the server's clock; 0 on a
    /// failure): 200;
    /// 414 for a session that is not P2P, a bad accid or an `ext` over
    /// 1,023 bytes; 201 from a server older than protocol version 5 when
    /// `notify_self`; 20001/415 when not logged in.
    pub async fn delete_history_online_ex(
        &self,
        to_type: u32,
        peer: &str,
        notify_self: bool,
        ext: &str,
    ) -> (ResCode, i64) {
        let code = self
            .clear_history(magpie_proto::msg::ClearHistoryReq {
                to_type,
                id: peer.to_owned(),
                delete_roaming: true,
                notify: notify_self,
                ext: ext.to_owned(),
                ..Default::default()
            })
            .await;
        let time = if code.is_success() {
            self.server_time()
        } else {
            0
        };
        (code, time)
    }

    /// Server histories another device of the account cleared with
    /// `notify_self` (NIM's nim_msglog_register_delete_history_messages_callback).
    pub fn on_delete_history(
        &self,
        f: impl Fn(&[magpie_proto::msg::ClearHistoryNotify]) + Send + Sync + 'static,
    ) {
        self.set(
            CallbackKind::DeleteHistory,
            Arc::new(move |e| {
                if let Event::DeleteHistory(list) = e {
                    f(list)
                }
            }),
        );
    }

    /// NIM's nim_session_delete_session_roaming_async: the session's
    /// messages up to now leave the sync of my devices that have not
    /// received them (NIM's roaming messages: a device that logs in later
    /// does not get them); the server's history and this device's stay.
    /// The answer: 200; 414 for a session that is not P2P or a bad accid;
    /// 20001/415 when not logged in.
    pub async fn delete_session_roaming(&self, to_type: u32, id: &str) -> ResCode {
        self.clear_history(magpie_proto::msg::ClearHistoryReq {
            to_type,
            id: id.to_owned(),
            delete_roaming: true,
            keep_history: true,
            ..Default::default()
        })
        .await
    }

    async fn clear_history(&self, r: magpie_proto::msg::ClearHistoryReq) -> ResCode {
        match self.messaging(machine::Cmd::ClearHistory(r)).await {
            Some(machine::Reply::Local(r)) => r.rescode,
            _ => ResCode::LOCAL_INIT_UNDONE,
        }
    }

    /// NIM's query_be_readed: has the peer sent a read receipt covering
    /// this message of mine (as this device knows). Reads the local
    /// database directly, so it may be called from any thread, callbacks
    /// included.
    pub fn is_read_by_peer(&self, msg: &ImMessage) -> bool {
        self.receipt_state(msg).0
    }

    /// NIM's query_receipt_sent: has one of my devices sent the peer a read
    /// receipt covering this received message.
    pub fn is_receipt_sent(&self, msg: &ImMessage) -> bool {
        self.receipt_state(msg).1
    }

    fn receipt_state(&self, msg: &ImMessage) -> (bool, bool) {
        let who = self.inner.status.borrow().db_account.clone();
        let Some((app_key, account)) = who else {
            return (false, false);
        };
        local::receipt_state(
            &self.inner.data_dir,
            self.inner.db_key.as_ref(),
            &app_key,
            &account,
            msg,
        )
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading read receipts from the local database failed");
            (false, false)
        })
    }

    /// NIM's query_all_recent_session: the sessions, newest first, and the
    /// total unread count.
    pub async fn recent_sessions(&self) -> (Vec<SessionData>, u32) {
        match self.messaging(machine::Cmd::Sessions).await {
            Some(machine::Reply::Sessions(list, total)) => (list, total),
            _ => (Vec::new(), 0),
        }
    }

    /// NIM's msglog query_msg_async: up to `limit` messages of a session
    /// from the local database, before `anchor_time` (0: now), newest first.
    pub async fn query_local_messages(
        &self,
        to_type: u32,
        id: &str,
        limit: u32,
        anchor_time: i64,
    ) -> QueryResult {
        self.query_local_messages_with(
            to_type,
            id,
            limit,
            anchor_time,
            LocalQueryOptions::default(),
        )
        .await
    }

    /// As [`query_local_messages`](Client::query_local_messages), with
    /// NIM's options: the direction from the anchor, the order of the page
    /// and an end time (see [`LocalQueryOptions`]).
    pub async fn query_local_messages_with(
        &self,
        to_type: u32,
        id: &str,
        limit: u32,
        anchor_time: i64,
        opts: LocalQueryOptions,
    ) -> QueryResult {
        let cmd = machine::Cmd::QueryLocal {
            to_type,
            id: id.to_owned(),
            limit,
            anchor_time,
            opts,
        };
        match self.messaging(cmd).await {
            Some(machine::Reply::Query(r)) => r,
            _ => QueryResult {
                rescode: ResCode::LOCAL_INIT_UNDONE,
                source: 0,
                content: Vec::new(),
            },
        }
    }

    /// NIM's msglog query_msg_online_async: the server's history of a session.
    pub async fn query_online_messages(&self, q: HistoryQuery) -> QueryResult {
        match self.messaging(machine::Cmd::QueryOnline(q)).await {
            Some(machine::Reply::Query(r)) => r,
            _ => QueryResult {
                rescode: ResCode::LOCAL_INIT_UNDONE,
                source: 1,
                content: Vec::new(),
            },
        }
    }

    /// NIM's sysmsg query_msg_async: stored system notifications, newest
    /// first, before `last_time` (0: now), and the unread count.
    pub async fn system_messages(&self, limit: u32, last_time: i64) -> (Vec<SysMsg>, u32) {
        match self
            .messaging(machine::Cmd::SysMsgs { limit, last_time })
            .await
        {
            Some(machine::Reply::SysMsgs(list, unread)) => (list, unread),
            _ => (Vec::new(), 0),
        }
    }

    /// One of NIM's local operations on the account's messages, sessions
    /// and system notifications (see [`LocalOp`]); sessions it changes are
    /// also reported to the session change callback. Needs an account (the
    /// last login's), not a link: 20001 before any login.
    pub async fn local_op(&self, op: LocalOp) -> LocalResult {
        match self.messaging(machine::Cmd::Local(Box::new(op))).await {
            Some(machine::Reply::Local(r)) => *r,
            _ => LocalResult {
                rescode: ResCode::LOCAL_INIT_UNDONE,
                ..Default::default()
            },
        }
    }

    /// Send acks (nim_talk_reg_ack_cb).
    pub fn on_send_ack(&self, f: impl Fn(&SendMsgAck) + Send + Sync + 'static) {
        self.set(
            CallbackKind::SendAck,
            Arc::new(move |e| {
                if let Event::SendAck(a) = e {
                    f(a)
                }
            }),
        );
    }

    /// Received messages, one by one (nim_talk_reg_receive_cb).
    pub fn on_receive(&self, f: impl Fn(&ReceivedMessage) + Send + Sync + 'static) {
        self.set(
            CallbackKind::Receive,
            Arc::new(move |e| {
                if let Event::Receive(m) = e {
                    f(m)
                }
            }),
        );
    }

    /// Synced messages, one session's batch at a time
    /// (nim_talk_reg_receive_msgs_cb). While registered, synced messages
    /// come here instead of one by one.
    pub fn on_receive_batch(&self, f: impl Fn(&[ReceivedMessage]) + Send + Sync + 'static) {
        self.set(
            CallbackKind::ReceiveBatch,
            Arc::new(move |e| {
                if let Event::ReceiveBatch(list) = e {
                    f(list)
                }
            }),
        );
    }

    /// Unregisters the batch callback: synced messages go one by one to the
    /// receive callback again (NIM: registering a NULL batch callback).
    pub fn off_receive_batch(&self) {
        self.inner
            .shared
            .callbacks
            .set(CallbackKind::ReceiveBatch, None);
    }

    /// System notifications (nim_sysmsg_reg_sysmsg_cb).
    pub fn on_sysmsg(&self, f: impl Fn(&ReceivedSysMsg) + Send + Sync + 'static) {
        self.set(
            CallbackKind::SysMsg,
            Arc::new(move |e| {
                if let Event::SysMsg(n) = e {
                    f(n)
                }
            }),
        );
    }

    /// Custom notification acks (nim_sysmsg_reg_custom_notification_ack_cb).
    pub fn on_sysmsg_ack(&self, f: impl Fn(&SysMsgAck) + Send + Sync + 'static) {
        self.set(
            CallbackKind::SysMsgAck,
            Arc::new(move |e| {
                if let Event::SysMsgAck(a) = e {
                    f(a)
                }
            }),
        );
    }

    /// Session changes (nim_session_reg_change_cb).
    pub fn on_session_change(&self, f: impl Fn(&SessionResult) + Send + Sync + 'static) {
        self.set(
            CallbackKind::SessionChange,
            Arc::new(move |e| {
                if let Event::SessionChange(s) = e {
                    f(s)
                }
            }),
        );
    }

    /// Recalls of messages to me, and of mine from my other devices
    /// (nim_talk_reg_recall_msg_cb).
    pub fn on_recall(&self, f: impl Fn(&[RecallNotify]) + Send + Sync + 'static) {
        self.set(
            CallbackKind::Recall,
            Arc::new(move |e| {
                if let Event::Recall(list) = e {
                    f(list)
                }
            }),
        );
    }

    /// Messages another device of the account deleted one way, already
    /// deleted here (nim_msglog_register_delete_msgs_self_callback).
    pub fn on_delete_self(
        &self,
        f: impl Fn(&[magpie_proto::msg::DeleteSelfNotify]) + Send + Sync + 'static,
    ) {
        self.set(
            CallbackKind::DeleteSelf,
            Arc::new(move |e| {
                if let Event::DeleteSelf(list) = e {
                    f(list)
                }
            }),
        );
    }

    /// Peers' read receipts (nim_msglog_reg_status_changed_cb).
    pub fn on_msg_status_changed(&self, f: impl Fn(&[MsgStatusChanged]) + Send + Sync + 'static) {
        self.set(
            CallbackKind::MsgStatusChanged,
            Arc::new(move |e| {
                if let Event::MsgStatusChanged(list) = e {
                    f(list)
                }
            }),
        );
    }

    /// Data sync phases (nim_data_sync_reg_complete_cb).
    pub fn on_data_sync(&self, f: impl Fn(&DataSync) + Send + Sync + 'static) {
        self.set(
            CallbackKind::DataSync,
            Arc::new(move |e| {
                if let Event::DataSync(d) = e {
                    f(d)
                }
            }),
        );
    }

    /// NIM's relogin-request-token callback: with auth type 1 or 2, asked for
    /// a fresh token before every login and every automatic re-login. It may
    /// block (it runs on a blocking thread) and returns `None` to keep the
    /// current token.
    pub fn set_token_provider(
        &self,
        f: impl Fn(&ProviderRequest) -> Option<String> + Send + Sync + 'static,
    ) {
        *self.inner.shared.token_provider.lock() = Some(Arc::new(f));
    }

    /// NIM's login-extension callback: with auth type 2, asked for a fresh
    /// `login_ex` before every login and re-login.
    pub fn set_login_ext_provider(
        &self,
        f: impl Fn(&ProviderRequest) -> Option<String> + Send + Sync + 'static,
    ) {
        *self.inner.shared.login_ext_provider.lock() = Some(Arc::new(f));
    }

    /// The current login state.
    pub fn login_state(&self) -> LoginState {
        self.inner.status.borrow().state
    }

    /// The logged-in account, or an empty string.
    pub fn current_account(&self) -> String {
        self.inner.status.borrow().account.clone()
    }

    /// The server's clock now (ms since the epoch), from the offset measured
    /// at the last hello or login.
    pub fn server_time(&self) -> i64 {
        now_ms() + self.inner.status.borrow().clock_offset_ms
    }

    /// The name of the SDK's own threads (when it runs its own runtime).
    pub fn thread_name(&self) -> &str {
        &self.inner.thread_name
    }

    /// How many threads of the SDK's own runtime are alive (0 after cleanup,
    /// and always 0 on a runtime passed in the options).
    pub fn live_threads(&self) -> usize {
        self.inner.live_threads.load(Ordering::SeqCst)
    }

    /// This device's id.
    pub fn device_id(&self) -> &str {
        &self.inner.device_id
    }

    /// The local cache file of an account.
    pub fn cache_file(&self, app_key: &str, account: &str) -> PathBuf {
        cache::path(&self.inner.data_dir, app_key, account)
    }

    /// Logins recorded in an account's cache file (for diagnostics); an
    /// encrypted file needs its key.
    pub fn cached_login_count(path: &Path, key: Option<&DbKey>) -> Option<i64> {
        cache::Cache::login_count(path, key).ok()
    }

    /// Waits until the login state satisfies `f`; returns it.
    pub async fn wait_for_state(&self, f: impl Fn(LoginState) -> bool) -> LoginState {
        let mut rx = self.inner.status.clone();
        let r = rx.wait_for(|s| f(s.state)).await.map(|s| s.state);
        r.unwrap_or(LoginState::Unlogin)
    }

    fn set(&self, k: CallbackKind, cb: Callback) {
        self.inner.shared.callbacks.set(k, Some(cb));
    }

    /// Login steps (NIM's login callback).
    pub fn on_login(&self, f: impl Fn(&LoginRes) + Send + Sync + 'static) {
        self.set(
            CallbackKind::Login,
            Arc::new(move |e| {
                if let Event::Login(r) = e {
                    f(r)
                }
            }),
        );
    }

    /// Re-login results (nim_client_reg_auto_relogin_cb).
    pub fn on_auto_relogin(&self, f: impl Fn(&LoginRes) + Send + Sync + 'static) {
        self.set(
            CallbackKind::AutoRelogin,
            Arc::new(move |e| {
                if let Event::AutoRelogin(r) = e {
                    f(r)
                }
            }),
        );
    }

    /// Link drops (nim_client_reg_disconnect_cb).
    pub fn on_disconnect(&self, f: impl Fn() + Send + Sync + 'static) {
        self.set(
            CallbackKind::Disconnect,
            Arc::new(move |e| {
                if let Event::Disconnect = e {
                    f()
                }
            }),
        );
    }

    /// Kick-outs (nim_client_reg_kickout_cb).
    pub fn on_kickout(&self, f: impl Fn(&Kickout) + Send + Sync + 'static) {
        self.set(
            CallbackKind::Kickout,
            Arc::new(move |e| {
                if let Event::Kickout(k) = e {
                    f(k)
                }
            }),
        );
    }

    /// The multiport push switch, at login when it is new to this instance
    /// and whenever another device of the account changes it
    /// (nim_client_reg_sync_multiport_push_config_cb): `{"switch_open":1|2}`.
    pub fn on_push_config_sync(&self, f: impl Fn(u32) + Send + Sync + 'static) {
        self.set(
            CallbackKind::PushConfigSync,
            Arc::new(move |e| {
                if let Event::PushConfigSync(v) = e {
                    f(*v)
                }
            }),
        );
    }

    /// Multispot notifications (nim_client_reg_multispot_login_notify_cb).
    pub fn on_multispot(&self, f: impl Fn(&MultiSpot) + Send + Sync + 'static) {
        self.set(
            CallbackKind::MultiSpot,
            Arc::new(move |e| {
                if let Event::MultiSpot(m) = e {
                    f(m)
                }
            }),
        );
    }

    /// Logout results (nim_client_logout's callback).
    pub fn on_logout(&self, f: impl Fn(&LogoutRes) + Send + Sync + 'static) {
        self.set(
            CallbackKind::Logout,
            Arc::new(move |e| {
                if let Event::Logout(l) = e {
                    f(l)
                }
            }),
        );
    }

    /// Kick-other results (nim_client_reg_kickout_other_client_cb).
    pub fn on_kickout_other_client(&self, f: impl Fn(&KickOtherRes) + Send + Sync + 'static) {
        self.set(
            CallbackKind::KickOtherClient,
            Arc::new(move |e| {
                if let Event::KickOtherClient(k) = e {
                    f(k)
                }
            }),
        );
    }

    /// One callback for every event, replacing all the others.
    pub fn on_every_event(&self, f: impl Fn(&Event) + Send + Sync + 'static) {
        let f: Callback = Arc::new(f);
        for k in [
            CallbackKind::Login,
            CallbackKind::AutoRelogin,
            CallbackKind::Disconnect,
            CallbackKind::Kickout,
            CallbackKind::MultiSpot,
            CallbackKind::Logout,
            CallbackKind::KickOtherClient,
            CallbackKind::SendAck,
            CallbackKind::Receive,
            CallbackKind::SysMsg,
            CallbackKind::SysMsgAck,
            CallbackKind::SessionChange,
            CallbackKind::DataSync,
            CallbackKind::MsgStatusChanged,
            CallbackKind::Recall,
            CallbackKind::PushConfigSync,
            CallbackKind::StickTopChanged,
            CallbackKind::DeleteSelf,
            CallbackKind::ServerSessionChanged,
            CallbackKind::DeleteHistory,
        ] {
            self.set(k, f.clone());
        }
    }

    /// An async stream of every event from now on. It buffers
    /// [`EVENT_STREAM_CAPACITY`] events; a reader further behind misses the
    /// oldest ones (counted by [`EventStream::missed`]).
    pub fn events(&self) -> EventStream {
        EventStream {
            rx: self.inner.shared.callbacks.subscribe(),
            missed: 0,
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropped without cleanup: stop the SDK's threads without waiting.
        if let Some(rt) = self.runtime.get_mut().take() {
            rt.shutdown_background();
        }
    }
}

/// The async event stream of a client.
pub struct EventStream {
    rx: broadcast::Receiver<Event>,
    missed: u64,
}

impl EventStream {
    /// The next event, or `None` once the client is cleaned up.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            match self.rx.recv().await {
                Ok(e) => return Some(e),
                Err(broadcast::error::RecvError::Lagged(n)) => self.missed += n,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Events this reader missed by falling behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
