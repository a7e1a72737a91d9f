//! The connection task: the only owner of the socket and of the login state.

use crate::event::{Event, LoginRes, LogoutRes};
use crate::link::{Link, LinkError};
use crate::options::{ClientOptions, LoginParams};
use crate::{Command, EventHandler, LoginState, Status};
use magpie_proto::frame::{LoginRequest, LogoutRequest};
use magpie_proto::types::login_step;
use magpie_proto::{ClientFrame, ResCode, ServerFrame};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

pub(crate) struct ConnectionTask {
    options: ClientOptions,
    handler: EventHandler,
    commands: mpsc::Receiver<Command>,
    status: watch::Sender<Status>,
    /// The parameters of the last successful or attempted login, for relogin.
    last: Option<LoginParams>,
}

impl ConnectionTask {
    pub fn new(
        options: ClientOptions,
        handler: EventHandler,
        commands: mpsc::Receiver<Command>,
        status: watch::Sender<Status>,
    ) -> Self {
        ConnectionTask {
            options,
            handler,
            commands,
            status,
            last: None,
        }
    }

    fn emit(&self, e: Event) {
        (self.handler)(e);
    }

    fn set_state(&self, s: LoginState, account: Option<&str>) {
        self.status.send_modify(|st| {
            st.state = Some(s);
            if let Some(a) = account {
                st.account = a.to_owned();
            }
        });
    }

    /// Runs until every handle is dropped.
    pub async fn run(mut self) {
        let mut link: Option<Link> = None;
        loop {
            let Some(l) = link.as_mut() else {
                // Offline: wait for a command.
                let Some(cmd) = self.commands.recv().await else {
                    return;
                };
                link = self.offline_command(cmd).await;
                continue;
            };
            let heartbeat = Duration::from_millis(l.hello.heartbeat_ms.max(100));
            let dead_after = Duration::from_millis(l.hello.idle_timeout_ms.max(1000));
            let mut next_ping = Instant::now() + heartbeat;
            let mut last_heard = Instant::now();
            let end = loop {
                tokio::select! {
                    cmd = self.commands.recv() => {
                        let Some(cmd) = cmd else {
                            l.close().await;
                            return;
                        };
                        if let Some(end) = self.online_command(l, cmd).await {
                            break end;
                        }
                    }
                    f = l.recv() => match f {
                        Ok(f) => {
                            last_heard = Instant::now();
                            if let Some(end) = self.push(f) {
                                break end;
                            }
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "link lost");
                            break End::Dropped;
                        }
                    },
                    _ = tokio::time::sleep_until(next_ping) => {
                        if last_heard.elapsed() >= dead_after {
                            break End::Dropped;
                        }
                        let seq = l.next_seq();
                        if l.send(&ClientFrame::Ping { seq }).await.is_err() {
                            break End::Dropped;
                        }
                        next_ping = Instant::now() + heartbeat;
                    }
                }
            };
            l.close().await;
            link = None;
            match end {
                End::Dropped => {
                    self.set_state(LoginState::Unlogin, Some(""));
                    self.emit(Event::Disconnect);
                }
                End::Kicked => self.set_state(LoginState::Kicked, Some("")),
                End::LoggedOut => {}
            }
        }
    }

    /// A push or stray frame while logged in; `Some` ends the session.
    fn push(&self, f: ServerFrame) -> Option<End> {
        match f {
            ServerFrame::Kickout { body } => {
                self.emit(Event::Kickout(body));
                Some(End::Kicked)
            }
            ServerFrame::MultiSpot { body } => {
                self.emit(Event::MultiSpot(body));
                None
            }
            ServerFrame::Error { body, .. } if body.fatal => {
                tracing::warn!(code = %body.code, desc = %body.desc, "server closed the session");
                Some(End::Dropped)
            }
            _ => None,
        }
    }

    async fn offline_command(&mut self, cmd: Command) -> Option<Link> {
        match cmd {
            Command::Login(p, reply) => {
                self.last = Some(p.clone());
                let (res, link) = self.login(&p, false).await;
                let _ = reply.send(res);
                link
            }
            Command::Relogin(reply) => {
                let Some(p) = self.last.clone() else {
                    let res = LoginRes::failed(ResCode::LOCAL_LOGIN_UNDONE, 0, true);
                    self.emit(Event::AutoRelogin(res.clone()));
                    let _ = reply.send(res);
                    return None;
                };
                let (res, link) = self.login(&p, true).await;
                let _ = reply.send(res);
                link
            }
            Command::Logout(_, reply) => {
                let res = LogoutRes {
                    err_code: ResCode::LOCAL_LOGIN_UNDONE,
                };
                self.emit(Event::Logout(res.clone()));
                let _ = reply.send(res);
                None
            }
        }
    }

    async fn online_command(&mut self, l: &mut Link, cmd: Command) -> Option<End> {
        match cmd {
            Command::Login(_, reply) => {
                let res = LoginRes::failed(ResCode::LOCAL_LOGINED, login_step::LOGIN, false);
                self.emit(Event::Login(res.clone()));
                let _ = reply.send(res);
                None
            }
            Command::Relogin(reply) => {
                let res = LoginRes::failed(ResCode::LOCAL_LOGINED, login_step::LOGIN, true);
                let _ = reply.send(res);
                None
            }
            Command::Logout(t, reply) => {
                let code = self.logout(l, t).await;
                let res = LogoutRes { err_code: code };
                self.set_state(LoginState::Unlogin, Some(""));
                self.emit(Event::Logout(res.clone()));
                let _ = reply.send(res);
                Some(End::LoggedOut)
            }
        }
    }

    async fn logout(&mut self, l: &mut Link, logout_type: u32) -> ResCode {
        let seq = l.next_seq();
        let frame = ClientFrame::Logout {
            seq,
            body: LogoutRequest { logout_type },
        };
        let wait = async {
            l.send(&frame).await?;
            loop {
                if let ServerFrame::LogoutAck { seq: s, body } = l.recv().await? {
                    if s == seq {
                        return Ok::<_, LinkError>(body.code);
                    }
                }
            }
        };
        match tokio::time::timeout(self.options.request_timeout, wait).await {
            Ok(Ok(code)) => code,
            Ok(Err(_)) => ResCode::CONNECTION_ERROR,
            Err(_) => ResCode::TIMEOUT,
        }
    }

    fn report(&self, res: LoginRes) {
        if res.relogin {
            self.emit(Event::AutoRelogin(res));
        } else {
            self.emit(Event::Login(res));
        }
    }

    /// Runs the login steps over the link addresses. Reports every step.
    async fn login(&mut self, p: &LoginParams, relogin: bool) -> (LoginRes, Option<Link>) {
        self.set_state(LoginState::Logging, None);
        if !relogin {
            self.report(LoginRes::step(login_step::LINKING, relogin));
        }
        let mut last_err = ResCode::CONNECTION_ERROR;
        for addr in self.options.servers.clone() {
            let mut link =
                match Link::connect(&addr, self.options.connect_timeout, self.options.max_frame)
                    .await
                {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::debug!(%addr, error = %e, "link failed");
                        last_err = match e {
                            LinkError::Timeout => ResCode::TIMEOUT,
                            LinkError::Version(_) => ResCode::VERSION_ERROR,
                            _ => ResCode::CONNECTION_ERROR,
                        };
                        continue;
                    }
                };
            self.offset(link.hello.server_time);
            if !relogin {
                self.report(LoginRes::step(login_step::LINK, relogin));
            }
            let res = self.authenticate(&mut link, p, relogin).await;
            if res.is_success() {
                self.set_state(LoginState::Logined, Some(&p.account));
                self.report(res.clone());
                return (res, Some(link));
            }
            link.close().await;
            self.set_state(LoginState::Unlogin, Some(""));
            self.report(res.clone());
            return (res, None);
        }
        self.set_state(LoginState::Unlogin, Some(""));
        let res = LoginRes::failed(last_err, login_step::LINKING, relogin);
        self.report(res.clone());
        (res, None)
    }

    async fn authenticate(&mut self, link: &mut Link, p: &LoginParams, relogin: bool) -> LoginRes {
        let o = &self.options;
        let seq = link.next_seq();
        let frame = ClientFrame::Login {
            seq,
            body: LoginRequest {
                app_key: p.app_key.clone(),
                account: p.account.clone(),
                token: p.token.clone(),
                auth_type: p.auth_type,
                client_type: o.client_type,
                device_id: o.device_id.clone(),
                client_os: o.client_os.clone(),
                mac: o.mac.clone(),
                custom_tag: p.custom_tag.clone(),
                custom_client_type: o.custom_client_type,
                sdk_version: concat!("magpie-rust/", env!("CARGO_PKG_VERSION")).into(),
                login_ex: p.login_ex.clone(),
            },
        };
        if link.send(&frame).await.is_err() {
            return LoginRes::failed(ResCode::CONNECTION_ERROR, login_step::LOGINING, relogin);
        }
        if !relogin {
            self.report(LoginRes::step(login_step::LOGINING, relogin));
        }
        let wait = async {
            loop {
                match link.recv().await? {
                    ServerFrame::LoginAck { seq: s, body } if s == seq => return Ok(body),
                    ServerFrame::Error { body, .. } if body.fatal => {
                        return Err(LinkError::Closed);
                    }
                    _ => {}
                }
            }
        };
        match tokio::time::timeout(self.options.request_timeout, wait).await {
            Ok(Ok(ack)) => {
                self.offset(ack.server_time);
                let mut res = LoginRes::failed(ack.code, login_step::LOGIN, relogin);
                if ack.code.is_success() {
                    res.other_clients_pres = Some(ack.other_clients_pres);
                }
                res
            }
            Ok(Err(_)) => LoginRes::failed(ResCode::CONNECTION_ERROR, login_step::LOGIN, relogin),
            Err(_) => LoginRes::failed(ResCode::TIMEOUT, login_step::LOGIN, relogin),
        }
    }

    fn offset(&self, server_time: i64) {
        let off = server_time - crate::now_ms();
        self.status.send_modify(|s| s.clock_offset_ms = off);
    }
}

enum End {
    Dropped,
    Kicked,
    LoggedOut,
}
