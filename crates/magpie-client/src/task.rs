//! The connection task: the only owner of the socket, the session and the
//! login state machine (NIM-REFERENCE.md §3).
//!
//! ```text
//!  Idle ──login──▶ (manual attempts) ──200──▶ Online ──drop──▶ Reconnecting
//!   ▲                    │ fail                  │ kick          │  ▲  │ 200
//!   └────────────────────┘                       ▼               │  └──┘ retryable
//!   ◀──logout / fatal code────────────────── Kicked          Online ◀┘
//! ```

use crate::cache::{self, Cache, LoginRecord};
use crate::connect::Tls;
use crate::event::{Callbacks, Event, KickOtherRes, LoginRes, LogoutRes};
use crate::link::{Link, LinkError, SDK_VERSION};
use crate::options::{ClientOptions, LoginParams, Proxy};
use crate::{Command, LoginState, Status};
use magpie_proto::frame::{KickOtherRequest, LoginRequest, LogoutRequest};
use magpie_proto::types::login_step;
use magpie_proto::{ClientFrame, ResCode, ServerFrame};
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// The credentials of the current session, kept for re-login.
#[derive(Clone)]
struct Session {
    app_key: String,
    account: String,
    token: String,
    params: LoginParams,
}

enum Phase {
    /// No link: never logged in, logged out, or re-login gave up.
    Idle,
    /// Logged in.
    Online(Box<Link>),
    /// Waiting for the next automatic re-login attempt.
    Reconnecting { attempt: u32, at: Instant },
    /// Kicked: nothing happens until the app acts.
    Kicked,
}

/// What the task shares with the handle.
pub(crate) struct Shared {
    pub callbacks: Callbacks,
    pub proxy: Mutex<Option<Proxy>>,
    pub token_provider: Mutex<Option<Provider>>,
    pub login_ext_provider: Mutex<Option<Provider>>,
}

/// What a provider is asked for.
#[derive(Clone, Debug)]
pub struct ProviderRequest {
    /// App key of the login.
    pub app_key: String,
    /// Account of the login.
    pub account: String,
    /// NIMAuthType of the login.
    pub auth_type: u32,
    /// True for a re-login.
    pub relogin: bool,
}

/// A token or login-extension provider: returns a fresh value, or `None` to
/// keep the current one. It may block (it runs on a blocking thread).
pub type Provider = Arc<dyn Fn(&ProviderRequest) -> Option<String> + Send + Sync>;

pub(crate) struct ConnectionTask {
    options: ClientOptions,
    data_dir: PathBuf,
    device_id: String,
    tls: Option<Tls>,
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
    status: watch::Sender<Status>,
    session: Option<Session>,
    next_link: usize,
    /// The login record being written to the cache, at most one at a time.
    cache_write: Option<tokio::task::JoinHandle<rusqlite::Result<()>>>,
}

/// How one login attempt ended.
enum Attempt {
    Ok(Box<Link>, LoginRes),
    /// Worth another try (network class: 408, 415, local errors).
    Retry(LoginRes),
    /// Final (302, 403, 417, 422, ...).
    Fatal(LoginRes),
}

fn retryable(code: ResCode) -> bool {
    code == ResCode::TIMEOUT || code == ResCode::CONNECTION_ERROR || code.0 >= 10000
}

impl ConnectionTask {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        options: ClientOptions,
        data_dir: PathBuf,
        device_id: String,
        tls: Option<Tls>,
        shared: Arc<Shared>,
        commands: mpsc::Receiver<Command>,
        status: watch::Sender<Status>,
    ) -> Self {
        ConnectionTask {
            options,
            data_dir,
            device_id,
            tls,
            shared,
            commands,
            status,
            session: None,
            next_link: 0,
            cache_write: None,
        }
    }

    fn emit(&self, e: Event) {
        self.shared.callbacks.emit(e);
    }

    fn set_state(&self, s: LoginState) {
        let account = match s {
            LoginState::Unlogin => String::new(),
            _ => self
                .session
                .as_ref()
                .map(|s| s.account.clone())
                .unwrap_or_default(),
        };
        self.status.send_modify(|st| {
            st.state = s;
            st.account = account;
        });
    }

    /// Runs until cleanup or until every handle is gone.
    pub async fn run(mut self) {
        let mut phase = Phase::Idle;
        loop {
            phase = match phase {
                Phase::Idle | Phase::Kicked => {
                    let kicked = matches!(phase, Phase::Kicked);
                    let Some(cmd) = self.commands.recv().await else {
                        break;
                    };
                    match self.idle_command(cmd, kicked).await {
                        Some(p) => p,
                        None => break,
                    }
                }
                Phase::Online(link) => self.online(link).await,
                Phase::Reconnecting { attempt, at } => {
                    tokio::select! {
                        cmd = self.commands.recv() => {
                            let Some(cmd) = cmd else { break };
                            match self.reconnecting_command(cmd, attempt, at).await {
                                Some(p) => p,
                                None => break,
                            }
                        }
                        _ = tokio::time::sleep_until(at) => self.reconnect(attempt).await,
                    }
                }
            };
        }
        self.settle_cache().await;
        self.status.send_modify(|s| s.state = LoginState::Unlogin);
    }

    async fn idle_command(&mut self, cmd: Command, kicked: bool) -> Option<Phase> {
        let idle = || if kicked { Phase::Kicked } else { Phase::Idle };
        Some(match cmd {
            Command::Login(s, reply) => {
                let session = Session {
                    app_key: if s.app_key.is_empty() {
                        self.options.app_key.clone()
                    } else {
                        s.app_key
                    },
                    account: s.account,
                    token: s.token,
                    params: s.params,
                };
                self.session = Some(session);
                let (res, phase) = self.manual_login(false).await;
                let _ = reply.send(res);
                phase
            }
            Command::Relogin(token, reply) => {
                let Some(s) = self.session.as_mut() else {
                    let res = LoginRes::failed(ResCode::LOCAL_LOGIN_UNDONE, 0, true)
                        .with_desc("no account to log in again: call login first");
                    self.emit(Event::AutoRelogin(res.clone()));
                    let _ = reply.send(res);
                    return Some(idle());
                };
                if let Some(t) = token {
                    s.token = t;
                }
                let (res, phase) = self.manual_login(true).await;
                let _ = reply.send(res);
                phase
            }
            Command::Logout(_, reply) => {
                // Nothing to tell the server: the session is already gone there.
                let code = if self.session.is_some() {
                    ResCode::SUCCESS
                } else {
                    ResCode::LOCAL_LOGIN_UNDONE
                };
                self.finish_logout(code, reply).await;
                Phase::Idle
            }
            Command::Cleanup(reply) => {
                self.settle_cache().await;
                let _ = reply.send(Ok(()));
                return None;
            }
            Command::KickOther(_, reply) => {
                self.kick_other_offline(reply);
                idle()
            }
        })
    }

    fn kick_other_offline(&self, reply: oneshot::Sender<KickOtherRes>) {
        let res = KickOtherRes {
            err_code: ResCode::LOCAL_LOGIN_UNDONE,
            device_ids: Vec::new(),
        };
        self.emit(Event::KickOtherClient(res.clone()));
        let _ = reply.send(res);
    }

    async fn reconnecting_command(
        &mut self,
        cmd: Command,
        attempt: u32,
        at: Instant,
    ) -> Option<Phase> {
        Some(match cmd {
            Command::Login(_, reply) => {
                let res = LoginRes::failed(ResCode::LOCAL_LOGINED, 0, false)
                    .with_desc("a session is active and re-logging in; log out first");
                let _ = reply.send(res);
                Phase::Reconnecting { attempt, at }
            }
            Command::Relogin(token, reply) => {
                // An automatic re-login is running: do nothing but take a new token.
                if let (Some(t), Some(s)) = (token, self.session.as_mut()) {
                    s.token = t;
                }
                let mut res = LoginRes::failed(ResCode::LOCAL_LOGINED, 0, true)
                    .with_desc("an automatic re-login is already running");
                res.retrying = true;
                let _ = reply.send(res);
                Phase::Reconnecting { attempt, at }
            }
            Command::Logout(_, reply) => {
                // The server cannot be reached right now: stop, and say so.
                self.finish_logout(ResCode::CONNECTION_ERROR, reply).await;
                Phase::Idle
            }
            Command::Cleanup(reply) => {
                let _ = reply.send(Err("a session is re-logging in; log out first"));
                Phase::Reconnecting { attempt, at }
            }
            Command::KickOther(_, reply) => {
                self.kick_other_offline(reply);
                Phase::Reconnecting { attempt, at }
            }
        })
    }

    async fn online(&mut self, mut link: Box<Link>) -> Phase {
        let dead_after = self
            .options
            .dead_link_timeout
            .max(Duration::from_millis(100));
        let server_hb = Duration::from_millis(link.hello.heartbeat_ms.max(50));
        let ping_every = server_hb.min(dead_after / 3);
        let mut next_ping = Instant::now() + ping_every;
        let mut dead_at = Instant::now() + dead_after;
        // Kick-other requests waiting for their answer: (seq, deadline, reply).
        let mut pending: Vec<(u32, Instant, oneshot::Sender<KickOtherRes>)> = Vec::new();
        let far = Instant::now() + Duration::from_secs(86_400);
        let end = loop {
            let next_expiry = pending.iter().map(|p| p.1).min().unwrap_or(far);
            tokio::select! {
                cmd = self.commands.recv() => {
                    let Some(cmd) = cmd else { break None };
                    match cmd {
                        Command::Login(_, reply) => {
                            let res = LoginRes::failed(ResCode::LOCAL_LOGINED, login_step::LOGIN, false)
                                .with_desc("already logged in");
                            let _ = reply.send(res);
                        }
                        Command::Relogin(_, reply) => {
                            let res = LoginRes::failed(ResCode::LOCAL_LOGINED, login_step::LOGIN, true)
                                .with_desc("already logged in");
                            let _ = reply.send(res);
                        }
                        Command::Logout(t, reply) => {
                            let code = self.logout(&mut link, t).await;
                            link.close().await;
                            self.finish_logout(code, reply).await;
                            return Phase::Idle;
                        }
                        Command::Cleanup(reply) => {
                            let _ = reply.send(Err("logged in; log out and wait for the logout callback first"));
                        }
                        Command::KickOther(ids, reply) => {
                            let seq = link.next_seq();
                            let frame = ClientFrame::KickOther { seq, body: KickOtherRequest { device_ids: ids } };
                            if link.send(&frame).await.is_err() {
                                let _ = reply.send(KickOtherRes { err_code: ResCode::CONNECTION_ERROR, device_ids: Vec::new() });
                                break Some(());
                            }
                            pending.push((seq, Instant::now() + self.options.request_timeout, reply));
                        }
                    }
                }
                _ = tokio::time::sleep_until(next_expiry) => {
                    let now = Instant::now();
                    let (late, keep): (Vec<_>, Vec<_>) = pending.into_iter().partition(|p| p.1 <= now);
                    pending = keep;
                    for (_, _, reply) in late {
                        let res = KickOtherRes { err_code: ResCode::TIMEOUT, device_ids: Vec::new() };
                        self.emit(Event::KickOtherClient(res.clone()));
                        let _ = reply.send(res);
                    }
                }
                f = link.recv() => match f {
                    Ok(f) => {
                        dead_at = Instant::now() + dead_after;
                        match f {
                            ServerFrame::Kickout { body } => {
                                link.close().await;
                                self.set_state(LoginState::Kicked);
                                self.emit(Event::Kickout(body));
                                return Phase::Kicked;
                            }
                            ServerFrame::MultiSpot { body } => self.emit(Event::MultiSpot(body)),
                            ServerFrame::KickOtherAck { seq, body } => {
                                if let Some(i) = pending.iter().position(|p| p.0 == seq) {
                                    let (_, _, reply) = pending.swap_remove(i);
                                    self.emit(Event::KickOtherClient(body.clone()));
                                    let _ = reply.send(body);
                                }
                            }
                            ServerFrame::Error { body, .. } if body.fatal && body.code == ResCode::EXIST => {
                                // The same device logged in on another connection: that
                                // one is the device now; this instance stops for good.
                                link.close().await;
                                self.set_state(LoginState::Unlogin);
                                self.emit(Event::Disconnect);
                                let res = LoginRes::failed(ResCode::EXIST, login_step::LOGIN, true)
                                    .with_desc(body.desc);
                                self.emit(Event::AutoRelogin(res));
                                return Phase::Idle;
                            }
                            ServerFrame::Error { body, .. } if body.fatal => {
                                tracing::info!(code = %body.code, desc = %body.desc, "server ended the session");
                                break Some(());
                            }
                            _ => {}
                        }
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "link lost");
                        break Some(());
                    }
                },
                _ = tokio::time::sleep_until(next_ping) => {
                    let seq = link.next_seq();
                    if link.send(&ClientFrame::Ping { seq }).await.is_err() {
                        break Some(());
                    }
                    next_ping = Instant::now() + ping_every;
                }
                _ = tokio::time::sleep_until(dead_at) => {
                    tracing::info!(after = ?dead_after, "dead link: nothing heard");
                    break Some(());
                }
            }
        };
        link.close().await;
        match end {
            None => Phase::Idle, // every handle is gone
            Some(()) => {
                self.set_state(LoginState::Relogining);
                self.emit(Event::Disconnect);
                Phase::Reconnecting {
                    attempt: 0,
                    at: Instant::now() + self.options.reconnect.delay(0),
                }
            }
        }
    }

    async fn reconnect(&mut self, attempt: u32) -> Phase {
        match self.attempt(true, false).await {
            Attempt::Ok(link, res) => {
                self.set_state(LoginState::Logined);
                self.emit(Event::AutoRelogin(res));
                Phase::Online(link)
            }
            Attempt::Retry(mut res) => {
                res.retrying = true;
                self.emit(Event::AutoRelogin(res));
                let next = attempt.saturating_add(1);
                Phase::Reconnecting {
                    attempt: next,
                    at: Instant::now() + self.options.reconnect.delay(next),
                }
            }
            Attempt::Fatal(res) => {
                self.set_state(LoginState::Unlogin);
                self.emit(Event::AutoRelogin(res));
                Phase::Idle
            }
        }
    }

    /// A manual login or relogin: up to `login_retry_max_times` attempts
    /// across the link addresses.
    async fn manual_login(&mut self, relogin: bool) -> (LoginRes, Phase) {
        self.set_state(LoginState::Logging);
        let tries = match self.options.login_retry_max_times {
            0 => 3,
            n => n,
        };
        let mut last = LoginRes::failed(ResCode::CONNECTION_ERROR, 0, relogin);
        for i in 0..tries {
            match self.attempt(relogin, i == 0 && !relogin).await {
                Attempt::Ok(link, res) => {
                    self.set_state(LoginState::Logined);
                    self.report(res.clone());
                    return (res, Phase::Online(link));
                }
                Attempt::Fatal(res) => {
                    last = res;
                    break;
                }
                Attempt::Retry(res) => {
                    last = res;
                    if i + 1 < tries {
                        tokio::time::sleep(self.options.reconnect.delay(0) / 2).await;
                    }
                }
            }
        }
        self.set_state(LoginState::Unlogin);
        self.report(last.clone());
        (last, Phase::Idle)
    }

    fn report(&self, res: LoginRes) {
        if res.relogin {
            self.emit(Event::AutoRelogin(res));
        } else {
            self.emit(Event::Login(res));
        }
    }

    /// Asks a provider, on a blocking thread, within `limit`.
    async fn ask_provider(
        p: Option<Provider>,
        req: ProviderRequest,
        limit: Duration,
    ) -> Option<String> {
        let p = p?;
        let job = tokio::task::spawn_blocking(move || p(&req));
        match tokio::time::timeout(limit, job).await {
            Ok(Ok(v)) => v.filter(|v| !v.is_empty()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "a provider panicked");
                None
            }
            Err(_) => {
                tracing::warn!("a provider did not answer in time");
                None
            }
        }
    }

    /// Before every login and re-login with auth type 1 or 2: a fresh token
    /// from the token provider, and for type 2 a fresh login extension.
    async fn refresh_credentials(&mut self, relogin: bool) {
        let Some(s) = &self.session else { return };
        if s.params.auth_type == 0 {
            return;
        }
        let req = ProviderRequest {
            app_key: s.app_key.clone(),
            account: s.account.clone(),
            auth_type: s.params.auth_type,
            relogin,
        };
        let limit = self.options.request_timeout;
        let tp = self.shared.token_provider.lock().clone();
        let token = Self::ask_provider(tp, req.clone(), limit).await;
        let ext = if req.auth_type == magpie_proto::types::auth_type::THIRD_PARTY {
            let lp = self.shared.login_ext_provider.lock().clone();
            Self::ask_provider(lp, req, limit).await
        } else {
            None
        };
        if let Some(s) = self.session.as_mut() {
            if let Some(t) = token {
                s.token = t;
            }
            if let Some(e) = ext {
                s.params.login_ex = e;
            }
        }
    }

    /// One login attempt on the next link address. Reports steps 0 to 2 when
    /// `steps` is set (the first attempt of a manual login).
    async fn attempt(&mut self, relogin: bool, steps: bool) -> Attempt {
        self.refresh_credentials(relogin).await;
        let Some(session) = self.session.clone() else {
            return Attempt::Fatal(LoginRes::failed(ResCode::LOCAL_LOGIN_UNDONE, 0, relogin));
        };
        let addrs = &self.options.link_addresses;
        let addr = addrs[self.next_link % addrs.len()].clone();
        self.next_link = self.next_link.wrapping_add(1);
        if steps {
            self.report(LoginRes::step(login_step::LINKING, relogin));
        }
        let proxy = self.shared.proxy.lock().clone();
        let mut link = match Link::open(
            &addr,
            proxy.as_ref(),
            self.tls.as_ref(),
            self.options.connect_timeout,
            self.options.max_frame,
        )
        .await
        {
            Ok(l) => Box::new(l),
            Err(e) => {
                tracing::debug!(%addr, error = %e, "link failed");
                let res = LoginRes::failed(e.code(), login_step::LINKING, relogin)
                    .with_desc(format!("{addr}: {e}"));
                return Attempt::Retry(res);
            }
        };
        if steps {
            self.report(LoginRes::step(login_step::LINK, relogin));
        }
        // HELLO and LOGIN go out together: one round trip, one write each way.
        let hello = link.hello_frame();
        let o = &self.options;
        let seq = link.next_seq();
        let frame = ClientFrame::Login {
            seq,
            body: LoginRequest {
                app_key: session.app_key.clone(),
                account: session.account.clone(),
                token: session.token.clone(),
                auth_type: session.params.auth_type,
                client_type: o.client_type,
                device_id: self.device_id.clone(),
                client_os: o.client_os.clone(),
                mac: o.mac.clone(),
                custom_tag: session.params.custom_tag.clone(),
                custom_client_type: o.custom_client_type,
                sdk_version: SDK_VERSION.into(),
                login_ex: session.params.login_ex.clone(),
            },
        };
        if let Err(e) = link.send_all(&[&hello, &frame]).await {
            let res =
                LoginRes::failed(e.code(), login_step::LOGINING, relogin).with_desc(e.to_string());
            return Attempt::Retry(res);
        }
        if steps {
            self.report(LoginRes::step(login_step::LOGINING, relogin));
        }
        let sent = tokio::time::Instant::now();
        let deadline = sent + self.options.request_timeout;
        // The hello is part of connecting: its answer is due within the
        // connect timeout (the server does not hold it behind a slow login).
        let hello_by = (sent + self.options.connect_timeout).min(deadline);
        if let Err(e) = link.hello_ack(hello_by).await {
            tracing::debug!(%addr, error = %e, "hello failed");
            link.close().await;
            let res = LoginRes::failed(e.code(), login_step::LOGIN, relogin)
                .with_desc(format!("{addr}: {e}"));
            return if matches!(e, LinkError::Version(_)) {
                Attempt::Fatal(res)
            } else {
                Attempt::Retry(res)
            };
        }
        self.clock(link.hello.server_time);
        let wait = async {
            loop {
                match link.recv().await? {
                    ServerFrame::LoginAck { seq: s, body } if s == seq => return Ok(body),
                    ServerFrame::Error { body, .. } if body.fatal => {
                        return Err(LinkError::Refused(body.code, body.desc));
                    }
                    _ => {}
                }
            }
        };
        let ack = match tokio::time::timeout_at(deadline, wait).await {
            Ok(Ok(ack)) => ack,
            Ok(Err(e)) => {
                link.close().await;
                let res =
                    LoginRes::failed(e.code(), login_step::LOGIN, relogin).with_desc(e.to_string());
                return Attempt::Retry(res);
            }
            Err(_) => {
                link.close().await;
                let res = LoginRes::failed(ResCode::TIMEOUT, login_step::LOGIN, relogin)
                    .with_desc("no answer to the login in time");
                return Attempt::Retry(res);
            }
        };
        self.clock(ack.server_time);
        let mut res = LoginRes::failed(ack.code, login_step::LOGIN, relogin).with_desc(ack.desc);
        if !ack.code.is_success() {
            link.close().await;
            return if retryable(ack.code) {
                Attempt::Retry(res)
            } else {
                Attempt::Fatal(res)
            };
        }
        res.other_clients_pres = Some(ack.other_clients_pres);
        self.record_login(&session, &res, ack.server_time).await;
        Attempt::Ok(link, res)
    }

    async fn logout(&mut self, link: &mut Link, logout_type: u32) -> ResCode {
        let seq = link.next_seq();
        let frame = ClientFrame::Logout {
            seq,
            body: LogoutRequest { logout_type },
        };
        let wait = async {
            link.send(&frame).await?;
            loop {
                if let ServerFrame::LogoutAck { seq: s, body } = link.recv().await? {
                    if s == seq {
                        return Ok::<_, LinkError>(body.code);
                    }
                }
            }
        };
        match tokio::time::timeout(self.options.logout_timeout, wait).await {
            Ok(Ok(code)) => code,
            Ok(Err(e)) => e.code(),
            Err(_) => ResCode::TIMEOUT,
        }
    }

    /// Ends a session: flushes the cache, reports the result.
    async fn finish_logout(
        &mut self,
        code: ResCode,
        reply: tokio::sync::oneshot::Sender<LogoutRes>,
    ) {
        // The cache is flushed before the logout is confirmed.
        self.settle_cache().await;
        self.session = None;
        self.set_state(LoginState::Unlogin);
        let res = LogoutRes { err_code: code };
        self.emit(Event::Logout(res.clone()));
        let _ = reply.send(res);
    }

    fn clock(&self, server_time: i64) {
        let off = server_time - crate::now_ms();
        self.status.send_modify(|s| s.clock_offset_ms = off);
    }

    /// Records a login in the account's cache file: opened, written and
    /// closed each time, so no file stays open between writes (an app with
    /// many clients does not run out of descriptors). The write runs on a
    /// blocking thread while the login result goes to the app at once; the
    /// next write, a logout and cleanup wait for it, so a confirmed logout
    /// has nothing left to flush.
    async fn record_login(&mut self, s: &Session, res: &LoginRes, server_time: i64) {
        self.settle_cache().await;
        let path = cache::path(&self.data_dir, &s.app_key, &s.account);
        let rec = LoginRecord {
            at_ms: crate::now_ms(),
            server_time,
            relogin: res.relogin,
            device_id: self.device_id.clone(),
            others_json: serde_json::to_string(&res.other_clients_pres).unwrap_or_default(),
        };
        self.cache_write = Some(tokio::task::spawn_blocking(move || {
            Cache::open(&path)?.record_login(&rec)
        }));
    }

    /// Waits for the cache write in flight, if any.
    async fn settle_cache(&mut self) {
        let Some(job) = self.cache_write.take() else {
            return;
        };
        match job.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "local cache unavailable"),
            Err(e) => tracing::warn!(error = %e, "local cache task failed"),
        }
    }
}
