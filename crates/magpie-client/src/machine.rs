//! The SDK's login machine, without I/O (in the style of quinn-proto): a
//! plain struct fed [`Input`]s (the app's commands, the outcome of opening a
//! link, frames from the server, a lost link, fresh credentials, its
//! deadline passing) together with `now`, answering with [`Effect`]s for the
//! connection task (events and replies for the app, links to open and close,
//! frames to send, the local cache) and one deadline
//! ([`LoginMachine::poll_timeout`]). The connection task only moves bytes
//! and timers, so every rule below is unit-tested on a fake clock.
//!
//! ```text
//!  Idle ──login──▶ Attempt(manual) ─200─▶ Online ──lost──▶ Reconnecting ◀─┐
//!   ▲  ◀──fail, logout──┘  │ retryable        │ kick       │ at      408/415│
//!   │                      ▼                  ▼            ▼                │
//!   │                    Pause             Idle(kicked)  Attempt(auto) ─────┘
//!   ◀──logout ack / timeout── LoggingOut ◀──logout── Online   │ 200 → Online
//!                                                             │ other → Idle
//! ```
//!
//! The rules (NIM's login chapter): a manual login reports steps 0 to 3 to
//! the login callback and tries up to `login_retry_max_times` link
//! addresses; a dropped link fires the disconnect callback and re-logs in by
//! itself with jittered exponential backoff, reporting each try to the
//! auto-relogin callback, until it succeeds or a code that is not 408, 415
//! or local (10000+) ends it; a kick-out stops everything until the app
//! acts; a logout is bounded by the logout timeout and cancels a login in
//! progress.

use crate::event::{Event, KickOtherRes, LoginRes, LogoutRes, PushConfigRes};
use crate::link::{LinkError, SDK_VERSION};
use crate::local::SessionData;
use crate::msgs::{DbDone, DbJob, Msgs, QueryResult, SessionResult};
use crate::options::{Backoff, ClientOptions, LoginParams};
use crate::task::ProviderRequest;
use crate::LoginState;
use magpie_proto::frame::{Hello, KickOtherRequest, LoginRequest, LogoutRequest};
use magpie_proto::msg::{HistoryQuery, ImMessage, SendMsgAck, SysMsg, SysMsgAck};
use magpie_proto::types::{auth_type, login_step};
use magpie_proto::{ClientFrame, ResCode, ServerFrame, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::{Duration, Instant};

/// Identifies a command, so its reply can find its caller.
pub(crate) type CmdId = u64;

/// What the app asked for.
#[derive(Debug)]
pub(crate) enum Cmd {
    Login {
        app_key: String,
        account: String,
        token: String,
        params: LoginParams,
    },
    Relogin(Option<String>),
    Logout(u32),
    KickOther(Vec<String>),
    Cleanup,
    /// The server's clock; `true`: computed locally, without asking.
    ServerTime(bool),
    /// Set (`Some`) or read the multiport push switch.
    PushConfig(Option<u32>),
    /// Store this device's push token (token, certificate name).
    PushToken(String, String),
    /// Change or list the sessions on top.
    StickTop(magpie_proto::frame::StickTopRequest),
    /// NIM's session service.
    ServerSession(magpie_proto::frame::ServerSessionRequest),
    SendMsg(Box<ImMessage>),
    SendSysMsg(Box<SysMsg>),
    SetUnreadZero {
        to_type: u32,
        id: String,
    },
    DeleteSession {
        to_type: u32,
        id: String,
    },
    Sessions,
    /// A P2P read receipt to a peer.
    Receipt(magpie_proto::msg::Receipt),
    /// A recall of a message I sent.
    Recall(magpie_proto::msg::RecallReq),
    /// A one-way deletion.
    DeleteSelf(magpie_proto::msg::DeleteSelfReq),
    /// A cleared server history.
    ClearHistory(magpie_proto::msg::ClearHistoryReq),
    /// One of NIM's local operations.
    Local(Box<crate::ops::LocalOp>),
    QueryLocal {
        to_type: u32,
        id: String,
        limit: u32,
        anchor_time: i64,
        opts: crate::local::LocalQueryOptions,
    },
    QueryOnline(HistoryQuery),
    SysMsgs {
        limit: u32,
        last_time: i64,
    },
}

/// The answer to a command.
#[derive(Debug, PartialEq)]
pub(crate) enum Reply {
    Login(LoginRes),
    Logout(LogoutRes),
    KickOther(KickOtherRes),
    Cleanup(Result<(), &'static str>),
    /// The server's clock; `None`: compute it locally (`calc_local`).
    ServerTime(ResCode, Option<i64>),
    PushConfig(PushConfigRes),
    StickTop(magpie_proto::frame::StickTopAck),
    ServerSession(Box<magpie_proto::frame::ServerSessionAck>),
    /// A result that is only a code.
    Code(ResCode),
    SendMsg(SendMsgAck),
    SysMsg(SysMsgAck),
    Session(SessionResult),
    Sessions(Vec<SessionData>, u32),
    /// A local operation's result.
    Local(Box<crate::ops::LocalResult>),
    Query(QueryResult),
    SysMsgs(Vec<SysMsg>, u32),
}

/// Something that happened.
#[derive(Debug)]
pub(crate) enum Input {
    /// A command from the app.
    Command(CmdId, Cmd),
    /// The providers' answer to [`Effect::AskProviders`] (`None`: keep the
    /// current value), with the LBS's link addresses when it was asked and
    /// answered.
    Credentials {
        token: Option<String>,
        login_ex: Option<String>,
        links: Option<Vec<String>>,
    },
    /// The outcome of [`Effect::Open`].
    Opened(Result<(), LinkError>),
    /// A frame from the server.
    Frame(ServerFrame),
    /// The link failed (read, write, or closed by the server).
    Lost(LinkError),
    /// [`LoginMachine::poll_timeout`] has passed.
    Timeout,
    /// A local-database job ([`Effect::Db`]) finished.
    Db(DbDone),
}

/// One login, as the local cache records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoginRecordReq {
    pub app_key: String,
    pub account: String,
    pub relogin: bool,
    pub server_time: i64,
    pub others_json: String,
}

/// What the connection task is asked to do, in order.
#[derive(Debug)]
pub(crate) enum Effect {
    /// Report an event to the callbacks and the event stream.
    Emit(Event),
    /// Answer a command.
    Reply(CmdId, Reply),
    /// The login state changed; `account` is the session's (empty when logged out).
    State(LoginState, String),
    /// The server's clock, ms since the epoch, as just heard.
    Clock(i64),
    /// Ask the token and login-extension providers; feed back [`Input::Credentials`].
    AskProviders(ProviderRequest),
    /// Open a link to this address; feed back [`Input::Opened`].
    Open(String),
    /// Write these frames in one write; a failure is fed back as [`Input::Lost`].
    Send(Vec<ClientFrame>),
    /// Close the link, or give up the one being opened.
    Close,
    /// Record a login in the account's cache (in the background).
    RecordLogin(LoginRecordReq),
    /// Wait for the cache write in flight.
    SettleCache,
    /// The account whose local database the next jobs use.
    UseAccount { app_key: String, account: String },
    /// Run a local-database job (in order, one at a time); feed back [`Input::Db`].
    Db(DbJob),
    /// End the connection task (cleanup).
    Exit,
}

/// What the machine needs of the client's options.
#[derive(Clone, Debug)]
pub(crate) struct MachineConfig {
    pub link_addresses: Vec<String>,
    pub app_key: String,
    pub login_retry_max_times: u32,
    pub client_type: u32,
    pub custom_client_type: u32,
    pub client_os: String,
    pub mac: String,
    pub device_id: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub logout_timeout: Duration,
    pub dead_link_timeout: Duration,
    pub reconnect: Backoff,
    /// An LBS gives the link addresses.
    pub lbs: bool,
    /// Ask the LBS again before every automatic re-login.
    pub lbs_before_relogin: bool,
}

impl MachineConfig {
    pub fn new(o: &ClientOptions, device_id: String) -> MachineConfig {
        MachineConfig {
            link_addresses: o.link_addresses.clone(),
            app_key: o.app_key.clone(),
            login_retry_max_times: o.login_retry_max_times,
            client_type: o.client_type,
            custom_client_type: o.custom_client_type,
            client_os: o.client_os.clone(),
            mac: o.mac.clone(),
            device_id,
            connect_timeout: o.connect_timeout,
            request_timeout: o.request_timeout,
            logout_timeout: o.logout_timeout,
            dead_link_timeout: o.dead_link_timeout,
            reconnect: o.reconnect,
            lbs: o.lbs.is_some(),
            lbs_before_relogin: o.lbs.as_ref().is_some_and(|l| l.before_relogin),
        }
    }

    /// Tries of a manual login (0 means NIM's default, 3).
    fn tries(&self) -> u32 {
        match self.login_retry_max_times {
            0 => 3,
            n => n,
        }
    }
}

/// True for the codes worth another try: 408, 415 and local (10000+) codes.
pub(crate) fn retryable(code: ResCode) -> bool {
    code == ResCode::TIMEOUT || code == ResCode::CONNECTION_ERROR || code.0 >= 10000
}

/// The credentials of the current session, kept for re-login.
#[derive(Clone, Debug)]
struct Creds {
    app_key: String,
    account: String,
    token: String,
    params: LoginParams,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A login the app asked for: its command, whether it is a relogin, and
    /// which of how many tries.
    Manual {
        cmd: CmdId,
        relogin: bool,
        index: u32,
        tries: u32,
    },
    /// An automatic re-login: its number since the link dropped.
    Auto { attempt: u32 },
}

impl Kind {
    fn relogin(&self) -> bool {
        match self {
            Kind::Manual { relogin, .. } => *relogin,
            Kind::Auto { .. } => true,
        }
    }
}

#[derive(Debug)]
enum Step {
    /// Waiting for the providers.
    Credentials,
    /// Opening the link.
    Opening { addr: String, deadline: Instant },
    /// HELLO and LOGIN sent; waiting for HELLO_ACK.
    Hello {
        addr: String,
        login_seq: u32,
        hello_by: Instant,
        deadline: Instant,
    },
    /// Waiting for LOGIN_ACK.
    LoginAck {
        login_seq: u32,
        deadline: Instant,
        heartbeat: Duration,
    },
}

#[derive(Debug)]
struct Attempt {
    kind: Kind,
    /// Report steps 0 to 2 (the first try of a manual login).
    steps: bool,
    step: Step,
}

#[derive(Debug)]
struct Online {
    seq: u32,
    ping_every: Duration,
    next_ping: Instant,
    dead_after: Duration,
    dead_at: Instant,
    /// Requests waiting for their answer.
    pending: Vec<Pending>,
}

/// A request sent and waiting for its answer.
#[derive(Debug)]
struct Pending {
    seq: u32,
    deadline: Instant,
    cmd: CmdId,
    what: Waiting,
}

/// What a pending request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    KickOther,
    ServerTime,
    PushConfig,
    PushToken,
    StickTop,
    ServerSession,
}

/// Within this long of the last server time query, the time is computed
/// locally (as NIM's SDK does).
const SERVER_TIME_REUSE: Duration = Duration::from_millis(1000);

#[derive(Debug)]
enum Phase {
    /// No link: never logged in, logged out, failed, kicked, or re-login gave up.
    Idle,
    /// A login attempt.
    Attempt(Attempt),
    /// Between two tries of a manual login.
    Pause {
        kind: Kind,
        last: LoginRes,
        until: Instant,
    },
    /// Logged in.
    Online(Online),
    /// Waiting for the next automatic re-login attempt.
    Reconnecting { attempt: u32, at: Instant },
    /// LOGOUT sent; waiting for its answer.
    LoggingOut {
        cmds: Vec<CmdId>,
        seq: u32,
        deadline: Instant,
    },
    /// Cleaned up.
    Exited,
}

/// The login machine of one client.
pub(crate) struct LoginMachine {
    cfg: MachineConfig,
    phase: Phase,
    creds: Option<Creds>,
    next_link: usize,
    rng: StdRng,
    /// Messaging: the log position, sync, sends and requests in flight.
    pub(crate) msgs: Msgs,
    /// When the server's clock was last asked.
    last_time_query: Option<Instant>,
    /// The multiport push switch as last heard (0: not yet).
    switch_open: u32,
    /// The protocol version of the current (or last) link.
    server_version: u16,
    /// The LBS has given link addresses.
    lbs_fetched: bool,
    /// The init's link addresses, the fallback after the LBS's.
    init_links: Vec<String>,
}

impl LoginMachine {
    /// A machine with fresh randomness for the backoff jitter.
    pub fn new(cfg: MachineConfig) -> LoginMachine {
        Self::with_rng(cfg, StdRng::from_entropy())
    }

    /// A machine with given randomness (tests).
    pub fn with_rng(cfg: MachineConfig, rng: StdRng) -> LoginMachine {
        let init_links = cfg.link_addresses.clone();
        LoginMachine {
            cfg,
            phase: Phase::Idle,
            creds: None,
            next_link: 0,
            rng,
            msgs: Msgs::default(),
            last_time_query: None,
            switch_open: 0,
            server_version: 0,
            lbs_fetched: false,
            init_links,
        }
    }

    /// The next instant at which [`Input::Timeout`] is due, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.phase {
            Phase::Idle | Phase::Exited => None,
            Phase::Attempt(a) => match &a.step {
                Step::Credentials => None,
                Step::Opening { deadline, .. } => Some(*deadline),
                Step::Hello { hello_by, .. } => Some(*hello_by),
                Step::LoginAck { deadline, .. } => Some(*deadline),
            },
            Phase::Pause { until, .. } => Some(*until),
            Phase::Online(o) => {
                let first = o.next_ping.min(o.dead_at);
                let first = match self.msgs.poll_timeout() {
                    Some(m) => first.min(m),
                    None => first,
                };
                Some(
                    o.pending
                        .iter()
                        .map(|p| p.deadline)
                        .fold(first, Instant::min),
                )
            }
            Phase::Reconnecting { at, .. } => Some(*at),
            Phase::LoggingOut { deadline, .. } => Some(*deadline),
        }
    }

    /// True while a login is in progress, online, re-logging in or logging out.
    pub fn in_session(&self) -> bool {
        !matches!(self.phase, Phase::Idle | Phase::Exited)
    }

    /// True once cleaned up.
    pub fn exited(&self) -> bool {
        matches!(self.phase, Phase::Exited)
    }

    /// Handles one input at `now`, appending the effects to `fx`.
    pub fn handle(&mut self, now: Instant, input: Input, fx: &mut Vec<Effect>) {
        match input {
            Input::Command(id, cmd) => self.command(now, id, cmd, fx),
            Input::Credentials {
                token,
                login_ex,
                links,
            } => {
                if let Some(mut l) = links.filter(|l| !l.is_empty()) {
                    // The LBS's addresses first, the init's after them.
                    for own in &self.init_links {
                        if !l.contains(own) {
                            l.push(own.clone());
                        }
                    }
                    self.cfg.link_addresses = l;
                    self.next_link = 0;
                    self.lbs_fetched = true;
                }
                if let Phase::Attempt(a) = &self.phase {
                    if matches!(a.step, Step::Credentials) {
                        if let Some(c) = self.creds.as_mut() {
                            if let Some(t) = token {
                                c.token = t;
                            }
                            if let Some(e) = login_ex {
                                c.params.login_ex = e;
                            }
                        }
                        self.open_link(now, fx);
                    }
                }
            }
            Input::Opened(r) => self.opened(now, r, fx),
            Input::Frame(f) => self.frame(now, f, fx),
            Input::Lost(e) => self.lost(now, e, fx),
            Input::Timeout => self.timeout(now, fx),
            Input::Db(done) => match &mut self.phase {
                Phase::Online(o) => {
                    let mut link = crate::msgs::Link {
                        seq: &mut o.seq,
                        now,
                    };
                    self.msgs.db_done(done, Some(&mut link), fx)
                }
                _ => self.msgs.db_done(done, None, fx),
            },
        }
    }

    fn account(&self) -> String {
        self.creds
            .as_ref()
            .map(|c| c.account.clone())
            .unwrap_or_default()
    }

    fn state(&self, s: LoginState, fx: &mut Vec<Effect>) {
        let account = match s {
            LoginState::Unlogin => String::new(),
            _ => self.account(),
        };
        fx.push(Effect::State(s, account));
    }

    /// Reports a login result to the login callback, or to the auto-relogin
    /// callback for a relogin.
    fn report(res: LoginRes, fx: &mut Vec<Effect>) {
        if res.relogin {
            fx.push(Effect::Emit(Event::AutoRelogin(res)));
        } else {
            fx.push(Effect::Emit(Event::Login(res)));
        }
    }

    fn delay(&mut self, attempt: u32) -> Duration {
        self.cfg.reconnect.delay_with(attempt, &mut self.rng)
    }

    // ---- commands ----

    fn command(&mut self, now: Instant, id: CmdId, cmd: Cmd, fx: &mut Vec<Effect>) {
        match cmd {
            Cmd::Login {
                app_key,
                account,
                token,
                params,
            } => self.login(now, id, app_key, account, token, params, fx),
            Cmd::Relogin(token) => self.relogin(now, id, token, fx),
            Cmd::Logout(t) => self.logout(now, id, t, fx),
            Cmd::KickOther(ids) => self.kick_other(now, id, ids, fx),
            Cmd::Cleanup => self.cleanup(id, fx),
            Cmd::ServerTime(local) => self.server_time(now, id, local, fx),
            Cmd::PushConfig(set) => {
                let frame = |seq| match set {
                    Some(v) => ClientFrame::SetPushConfig {
                        seq,
                        body: magpie_proto::frame::PushConfig { switch_open: v },
                    },
                    None => ClientFrame::GetPushConfig { seq },
                };
                self.request(now, id, Waiting::PushConfig, frame, fx)
            }
            Cmd::PushToken(token, cer_name) => {
                let frame = |seq| ClientFrame::PushToken {
                    seq,
                    body: magpie_proto::frame::PushToken { token, cer_name },
                };
                self.request(now, id, Waiting::PushToken, frame, fx)
            }
            Cmd::StickTop(req) => {
                let frame = |seq| ClientFrame::StickTop { seq, body: req };
                self.request(now, id, Waiting::StickTop, frame, fx)
            }
            Cmd::ServerSession(req) => {
                let frame = |seq| ClientFrame::ServerSession { seq, body: req };
                self.request(now, id, Waiting::ServerSession, frame, fx)
            }
            other => self.messaging_command(now, id, other, fx),
        }
    }

    /// Messaging commands: online they go to the server; while re-logging
    /// in, messages wait and go out after the re-login; local queries need
    /// only an account.
    fn messaging_command(&mut self, now: Instant, id: CmdId, cmd: Cmd, fx: &mut Vec<Effect>) {
        let online = matches!(self.phase, Phase::Online(_));
        let relogging = matches!(
            self.phase,
            Phase::Reconnecting { .. }
                | Phase::Attempt(Attempt {
                    kind: Kind::Auto { .. },
                    ..
                })
        );
        let has_account = self.creds.is_some() && !self.exited();
        let not_logged_in = if self.exited() {
            ResCode::LOCAL_INIT_UNDONE
        } else {
            ResCode::LOCAL_LOGIN_UNDONE
        };
        let (me, my_type, my_device) = (
            self.account(),
            self.cfg.client_type,
            self.cfg.device_id.clone(),
        );
        let mut link_seq = 0u32;
        let o_seq: &mut u32 = match &mut self.phase {
            Phase::Online(o) => &mut o.seq,
            _ => &mut link_seq,
        };
        let mut link = crate::msgs::Link { seq: o_seq, now };
        match cmd {
            Cmd::SendMsg(mut msg) => {
                // The local copy shows who sent it, as the server will.
                msg.from_id = me;
                msg.from_client_type = my_type;
                msg.from_device_id = my_device;
                if online {
                    self.msgs.send(Some(&mut link), Some(id), msg, fx);
                } else if relogging {
                    self.msgs.send(None, Some(id), msg, fx);
                } else {
                    let ack = crate::msgs::failed_ack(&msg, not_logged_in, "not logged in");
                    fx.push(Effect::Emit(Event::SendAck(ack.clone())));
                    fx.push(Effect::Reply(id, Reply::SendMsg(ack)));
                }
            }
            Cmd::SendSysMsg(n) => {
                if online {
                    self.msgs.send_sysmsg(&mut link, id, *n, fx);
                } else {
                    let code = if relogging {
                        ResCode::CONNECTION_ERROR
                    } else {
                        not_logged_in
                    };
                    let ack = SysMsgAck {
                        msg_id: n.client_msg_id.clone(),
                        talk_id: n.to_account.clone(),
                        rescode: code,
                    };
                    fx.push(Effect::Emit(Event::SysMsgAck(ack.clone())));
                    fx.push(Effect::Reply(id, Reply::SysMsg(ack)));
                }
            }
            Cmd::SetUnreadZero { to_type, id: sid } if has_account => {
                let l = online.then_some(&mut link);
                self.msgs.set_unread_zero(l, id, to_type, sid, fx);
            }
            Cmd::DeleteSession { to_type, id: sid } if has_account => {
                let l = online.then_some(&mut link);
                self.msgs.delete_session(l, id, to_type, sid, fx);
            }
            Cmd::Sessions if has_account => self.msgs.local(DbJob::Sessions { cmd: id }, fx),
            Cmd::Receipt(r) if online => self.msgs.send_receipt(&mut link, id, r, fx),
            Cmd::Recall(r) if online => self.msgs.send_recall(&mut link, id, r, fx),
            Cmd::DeleteSelf(r) if online => self.msgs.send_delete_self(&mut link, id, r, fx),
            // An older server would not tell the other devices (version 5).
            Cmd::ClearHistory(r) if online && r.notify && self.server_version < 5 => {
                fx.push(Effect::Reply(
                    id,
                    Reply::Local(Box::new(crate::ops::LocalResult::code(
                        ResCode::VERSION_ERROR,
                    ))),
                ))
            }
            Cmd::ClearHistory(r) if online => self.msgs.send_clear_history(&mut link, id, r, fx),
            Cmd::Receipt(_) | Cmd::Recall(_) | Cmd::DeleteSelf(_) | Cmd::ClearHistory(_) => fx
                .push(Effect::Reply(
                    id,
                    Reply::Local(Box::new(crate::ops::LocalResult {
                        rescode: if relogging {
                            ResCode::CONNECTION_ERROR
                        } else {
                            not_logged_in
                        },
                        ..Default::default()
                    })),
                )),
            Cmd::Local(op) if has_account => self.msgs.local(DbJob::Local { cmd: id, op }, fx),
            Cmd::Local(_) => fx.push(Effect::Reply(
                id,
                Reply::Local(Box::new(crate::ops::LocalResult {
                    rescode: not_logged_in,
                    ..Default::default()
                })),
            )),
            Cmd::QueryLocal {
                to_type,
                id: sid,
                limit,
                anchor_time,
                opts,
            } if has_account => self.msgs.local(
                DbJob::Query {
                    cmd: id,
                    to_type,
                    id: sid,
                    limit,
                    anchor_time,
                    opts,
                },
                fx,
            ),
            Cmd::SysMsgs { limit, last_time } if has_account => self.msgs.local(
                DbJob::SysMsgs {
                    cmd: id,
                    limit,
                    last_time,
                },
                fx,
            ),
            // An older server would not filter by the keyword (version 5).
            Cmd::QueryOnline(q) if online && !q.keyword.is_empty() && self.server_version < 5 => fx
                .push(Effect::Reply(
                    id,
                    Reply::Query(QueryResult {
                        rescode: ResCode::VERSION_ERROR,
                        source: 1,
                        content: Vec::new(),
                    }),
                )),
            Cmd::QueryOnline(q) if online => self.msgs.query_online(&mut link, id, q, fx),
            Cmd::QueryOnline(_) => fx.push(Effect::Reply(
                id,
                Reply::Query(QueryResult {
                    rescode: if relogging {
                        ResCode::CONNECTION_ERROR
                    } else {
                        not_logged_in
                    },
                    source: 1,
                    content: Vec::new(),
                }),
            )),
            Cmd::SetUnreadZero { to_type, id: sid } | Cmd::DeleteSession { to_type, id: sid } => fx
                .push(Effect::Reply(
                    id,
                    Reply::Session(SessionResult {
                        rescode: not_logged_in,
                        session: SessionData {
                            id: sid,
                            to_type,
                            ..Default::default()
                        },
                        total_unread: 0,
                    }),
                )),
            Cmd::Sessions => fx.push(Effect::Reply(id, Reply::Sessions(Vec::new(), 0))),
            Cmd::QueryLocal { .. } => fx.push(Effect::Reply(
                id,
                Reply::Query(QueryResult {
                    rescode: not_logged_in,
                    source: 0,
                    content: Vec::new(),
                }),
            )),
            Cmd::SysMsgs { .. } => fx.push(Effect::Reply(id, Reply::SysMsgs(Vec::new(), 0))),
            Cmd::Login { .. }
            | Cmd::Relogin(_)
            | Cmd::Logout(_)
            | Cmd::KickOther(_)
            | Cmd::ServerTime(_)
            | Cmd::PushConfig(_)
            | Cmd::PushToken(..)
            | Cmd::StickTop(_)
            | Cmd::ServerSession(_)
            | Cmd::Cleanup => unreachable!("handled by command()"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn login(
        &mut self,
        now: Instant,
        id: CmdId,
        app_key: String,
        account: String,
        token: String,
        params: LoginParams,
        fx: &mut Vec<Effect>,
    ) {
        let busy = |step: u32, desc: &str| {
            LoginRes::failed(ResCode::LOCAL_LOGINED, step, false).with_desc(desc)
        };
        let res = match &self.phase {
            Phase::Idle => {
                let app_key = if app_key.is_empty() {
                    self.cfg.app_key.clone()
                } else {
                    app_key
                };
                fx.push(Effect::UseAccount {
                    app_key: app_key.clone(),
                    account: account.clone(),
                });
                self.creds = Some(Creds {
                    app_key,
                    account,
                    token,
                    params,
                });
                self.state(LoginState::Logging, fx);
                let kind = Kind::Manual {
                    cmd: id,
                    relogin: false,
                    index: 0,
                    tries: self.cfg.tries(),
                };
                self.begin(now, kind, true, fx);
                return;
            }
            Phase::Online(_) => busy(login_step::LOGIN, "already logged in"),
            Phase::Attempt(Attempt {
                kind: Kind::Auto { .. },
                ..
            })
            | Phase::Reconnecting { .. } => busy(
                login_step::LINKING,
                "a session is active and re-logging in; log out first",
            ),
            Phase::Attempt(_) | Phase::Pause { .. } => {
                busy(login_step::LINKING, "a login is already in progress")
            }
            Phase::LoggingOut { .. } => busy(login_step::LINKING, "a logout is in progress"),
            Phase::Exited => LoginRes::failed(ResCode::LOCAL_INIT_UNDONE, 0, false),
        };
        // Only the refused call hears why (its reply): the login callback
        // belongs to the login under way.
        fx.push(Effect::Reply(id, Reply::Login(res)));
    }

    fn relogin(&mut self, now: Instant, id: CmdId, token: Option<String>, fx: &mut Vec<Effect>) {
        let busy = |step: u32, desc: &str| {
            LoginRes::failed(ResCode::LOCAL_LOGINED, step, true).with_desc(desc)
        };
        let res = match &self.phase {
            Phase::Idle => {
                let Some(c) = self.creds.as_mut() else {
                    let res = LoginRes::failed(ResCode::LOCAL_LOGIN_UNDONE, 0, true)
                        .with_desc("no account to log in again: call login first");
                    fx.push(Effect::Emit(Event::AutoRelogin(res.clone())));
                    fx.push(Effect::Reply(id, Reply::Login(res)));
                    return;
                };
                if let Some(t) = token {
                    c.token = t;
                }
                self.state(LoginState::Logging, fx);
                let kind = Kind::Manual {
                    cmd: id,
                    relogin: true,
                    index: 0,
                    tries: self.cfg.tries(),
                };
                self.begin(now, kind, false, fx);
                return;
            }
            Phase::Attempt(Attempt {
                kind: Kind::Auto { .. },
                ..
            })
            | Phase::Reconnecting { .. } => {
                // An automatic re-login is running: only take the new token.
                if let (Some(t), Some(c)) = (token, self.creds.as_mut()) {
                    c.token = t;
                }
                let mut res = busy(0, "an automatic re-login is already running");
                res.retrying = true;
                res
            }
            Phase::Online(_) => busy(login_step::LOGIN, "already logged in"),
            Phase::Attempt(_) | Phase::Pause { .. } => busy(0, "a login is already in progress"),
            Phase::LoggingOut { .. } => busy(0, "a logout is in progress"),
            Phase::Exited => LoginRes::failed(ResCode::LOCAL_INIT_UNDONE, 0, true),
        };
        fx.push(Effect::Reply(id, Reply::Login(res)));
    }

    fn logout(&mut self, now: Instant, id: CmdId, logout_type: u32, fx: &mut Vec<Effect>) {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Idle => {
                // Nothing to tell the server: the session is already gone
                // there (or there never was one). Logged out is logged out:
                // NIM answers 200, and apps clean up on 200 only.
                self.finish_logout(ResCode::SUCCESS, vec![id], fx);
            }
            Phase::Reconnecting { .. }
            | Phase::Attempt(Attempt {
                kind: Kind::Auto { .. },
                ..
            }) => {
                // Offline: the server has lost the connection already, and
                // the re-login stops. Logged out.
                fx.push(Effect::Close);
                self.finish_logout(ResCode::SUCCESS, vec![id], fx);
            }
            Phase::Attempt(Attempt { kind, step, .. }) => {
                // A manual login in progress: the logout cancels it.
                let at = match step {
                    Step::Credentials | Step::Opening { .. } => login_step::LINKING,
                    Step::Hello { .. } => login_step::LOGINING,
                    Step::LoginAck { .. } => login_step::LOGIN,
                };
                fx.push(Effect::Close);
                self.cancel_manual(kind, at, fx);
                self.finish_logout(ResCode::SUCCESS, vec![id], fx);
            }
            Phase::Pause { kind, last, .. } => {
                self.cancel_manual(kind, last.login_step, fx);
                self.finish_logout(ResCode::SUCCESS, vec![id], fx);
            }
            Phase::Online(mut o) => {
                Self::fail_pending(&mut o, fx);
                o.seq = o.seq.wrapping_add(1).max(1);
                fx.push(Effect::Send(vec![ClientFrame::Logout {
                    seq: o.seq,
                    body: LogoutRequest { logout_type },
                }]));
                self.phase = Phase::LoggingOut {
                    cmds: vec![id],
                    seq: o.seq,
                    deadline: now + self.cfg.logout_timeout,
                };
            }
            Phase::LoggingOut {
                mut cmds,
                seq,
                deadline,
            } => {
                // One logout at a time: this one shares the result.
                cmds.push(id);
                self.phase = Phase::LoggingOut {
                    cmds,
                    seq,
                    deadline,
                };
            }
            Phase::Exited => {
                // After cleanup: NIM's "unknown" (its logout answers 200 or
                // 500 only).
                self.phase = Phase::Exited;
                let res = LogoutRes {
                    err_code: ResCode::UNKNOWN_ERROR,
                };
                fx.push(Effect::Reply(id, Reply::Logout(res)));
            }
        }
    }

    /// Ends a manual login that a logout interrupted: its caller hears 20001.
    fn cancel_manual(&mut self, kind: Kind, step: u32, fx: &mut Vec<Effect>) {
        if let Kind::Manual { cmd, relogin, .. } = kind {
            let res = LoginRes::failed(ResCode::LOCAL_LOGIN_UNDONE, step, relogin)
                .with_desc("the login was cancelled by a logout");
            Self::report(res.clone(), fx);
            fx.push(Effect::Reply(cmd, Reply::Login(res)));
        }
    }

    /// Ends a session: flushes the cache, reports the result.
    fn finish_logout(&mut self, code: ResCode, cmds: Vec<CmdId>, fx: &mut Vec<Effect>) {
        self.msgs.ended(ResCode::LOCAL_LOGIN_UNDONE, fx);
        fx.push(Effect::SettleCache);
        self.creds = None;
        self.phase = Phase::Idle;
        self.state(LoginState::Unlogin, fx);
        let res = LogoutRes { err_code: code };
        fx.push(Effect::Emit(Event::Logout(res.clone())));
        for id in cmds {
            fx.push(Effect::Reply(id, Reply::Logout(res.clone())));
        }
    }

    fn kick_other(&mut self, now: Instant, id: CmdId, ids: Vec<String>, fx: &mut Vec<Effect>) {
        if let Phase::Online(o) = &mut self.phase {
            o.seq = o.seq.wrapping_add(1).max(1);
            fx.push(Effect::Send(vec![ClientFrame::KickOther {
                seq: o.seq,
                body: KickOtherRequest { device_ids: ids },
            }]));
            o.pending.push(Pending {
                seq: o.seq,
                deadline: now + self.cfg.request_timeout,
                cmd: id,
                what: Waiting::KickOther,
            });
            return;
        }
        let code = if self.exited() {
            ResCode::LOCAL_INIT_UNDONE
        } else {
            ResCode::LOCAL_LOGIN_UNDONE
        };
        Self::kick_other_done(id, code, Vec::new(), fx);
    }

    fn kick_other_done(id: CmdId, code: ResCode, device_ids: Vec<String>, fx: &mut Vec<Effect>) {
        let res = KickOtherRes {
            err_code: code,
            device_ids,
        };
        fx.push(Effect::Emit(Event::KickOtherClient(res.clone())));
        fx.push(Effect::Reply(id, Reply::KickOther(res)));
    }

    fn cleanup(&mut self, id: CmdId, fx: &mut Vec<Effect>) {
        let refused = match &self.phase {
            Phase::Idle => {
                fx.push(Effect::SettleCache);
                fx.push(Effect::Reply(id, Reply::Cleanup(Ok(()))));
                fx.push(Effect::Exit);
                self.phase = Phase::Exited;
                return;
            }
            Phase::Reconnecting { .. }
            | Phase::Attempt(Attempt {
                kind: Kind::Auto { .. },
                ..
            }) => "a session is re-logging in; log out first",
            Phase::Attempt(_) | Phase::Pause { .. } => "a login is in progress; log out first",
            Phase::Online(_) => "logged in; log out and wait for the logout callback first",
            Phase::LoggingOut { .. } => "a logout is in progress; wait for its callback",
            Phase::Exited => return,
        };
        fx.push(Effect::Reply(id, Reply::Cleanup(Err(refused))));
    }

    // ---- login attempts ----

    /// Starts an attempt: fresh credentials first for auth types 1 and 2.
    fn begin(&mut self, now: Instant, kind: Kind, steps: bool, fx: &mut Vec<Effect>) {
        self.phase = Phase::Attempt(Attempt {
            kind,
            steps,
            step: Step::Credentials,
        });
        // The LBS before the first login, and (when asked to) before each
        // automatic re-login after a drop.
        let lbs = self.cfg.lbs
            && (!self.lbs_fetched
                || (self.cfg.lbs_before_relogin && matches!(kind, Kind::Auto { attempt: 0 })));
        match &self.creds {
            Some(c) if c.params.auth_type != auth_type::DEFAULT || lbs => {
                fx.push(Effect::AskProviders(ProviderRequest {
                    app_key: c.app_key.clone(),
                    account: c.account.clone(),
                    auth_type: c.params.auth_type,
                    relogin: kind.relogin(),
                    lbs,
                }))
            }
            _ => self.open_link(now, fx),
        }
    }

    /// Opens a link to the next address (round robin).
    fn open_link(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        let Phase::Attempt(a) = &mut self.phase else {
            return;
        };
        let addrs = &self.cfg.link_addresses;
        if addrs.is_empty() {
            // Only an LBS gives addresses, and it did not answer.
            let res = LoginRes::failed(
                ResCode::CONNECTION_ERROR,
                login_step::LINKING,
                a.kind.relogin(),
            )
            .with_desc("no link address: the LBS could not be reached (see the log) and the init gives no link");
            self.attempt_failed(now, res, fx);
            return;
        }
        let addr = addrs[self.next_link % addrs.len()].clone();
        self.next_link = self.next_link.wrapping_add(1);
        if a.steps {
            Self::report(LoginRes::step(login_step::LINKING, a.kind.relogin()), fx);
        }
        fx.push(Effect::Open(addr.clone()));
        a.step = Step::Opening {
            addr,
            deadline: now + self.cfg.connect_timeout,
        };
    }

    fn opened(&mut self, now: Instant, r: Result<(), LinkError>, fx: &mut Vec<Effect>) {
        let Phase::Attempt(a) = &mut self.phase else {
            return;
        };
        let Step::Opening { addr, .. } = &a.step else {
            return;
        };
        let addr = addr.clone();
        let relogin = a.kind.relogin();
        if let Err(e) = r {
            tracing::debug!(%addr, error = %e, "link failed");
            let res = LoginRes::failed(e.code(), login_step::LINKING, relogin)
                .with_desc(format!("{addr}: {e}"));
            self.attempt_failed(now, res, fx);
            return;
        }
        if a.steps {
            Self::report(LoginRes::step(login_step::LINK, relogin), fx);
        }
        let Some(c) = &self.creds else { return };
        // HELLO and LOGIN go out together: one round trip, one write each way.
        let hello = ClientFrame::Hello {
            seq: 1,
            body: Hello {
                version: PROTOCOL_VERSION,
                min_version: MIN_PROTOCOL_VERSION,
                sdk_version: SDK_VERSION.into(),
            },
        };
        let login = ClientFrame::Login {
            seq: 2,
            body: Box::new(LoginRequest {
                app_key: c.app_key.clone(),
                account: c.account.clone(),
                token: c.token.clone(),
                auth_type: c.params.auth_type,
                client_type: self.cfg.client_type,
                device_id: self.cfg.device_id.clone(),
                client_os: self.cfg.client_os.clone(),
                mac: self.cfg.mac.clone(),
                custom_tag: c.params.custom_tag.clone(),
                custom_client_type: self.cfg.custom_client_type,
                sdk_version: SDK_VERSION.into(),
                login_ex: c.params.login_ex.clone(),
                auto_login: matches!(a.kind, Kind::Auto { .. }),
            }),
        };
        fx.push(Effect::Send(vec![hello, login]));
        if a.steps {
            Self::report(LoginRes::step(login_step::LOGINING, relogin), fx);
        }
        // The hello is part of connecting: its answer is due within the
        // connect timeout (the server does not hold it behind a slow login).
        let deadline = now + self.cfg.request_timeout;
        a.step = Step::Hello {
            addr,
            login_seq: 2,
            hello_by: (now + self.cfg.connect_timeout).min(deadline),
            deadline,
        };
    }

    fn attempt_frame(&mut self, now: Instant, f: ServerFrame, fx: &mut Vec<Effect>) {
        let Phase::Attempt(a) = &mut self.phase else {
            return;
        };
        let relogin = a.kind.relogin();
        match &mut a.step {
            Step::Hello {
                addr,
                login_seq,
                deadline,
                ..
            } => {
                let addr = addr.clone();
                let fail = |code, desc: String| {
                    LoginRes::failed(code, login_step::LOGIN, relogin)
                        .with_desc(format!("{addr}: {desc}"))
                };
                match f {
                    ServerFrame::HelloAck { body, .. } if body.code.is_success() => {
                        fx.push(Effect::Clock(body.server_time));
                        self.server_version = body.version;
                        a.step = Step::LoginAck {
                            login_seq: *login_seq,
                            deadline: *deadline,
                            heartbeat: Duration::from_millis(body.heartbeat_ms),
                        };
                    }
                    ServerFrame::HelloAck { body, .. } => {
                        fx.push(Effect::Close);
                        let e = LinkError::Version(body.code);
                        let res = fail(e.code(), e.to_string());
                        self.attempt_over(now, res, false, fx);
                    }
                    ServerFrame::Error { body, .. } => {
                        fx.push(Effect::Close);
                        let e = LinkError::Refused(body.code, body.desc);
                        let res = fail(e.code(), e.to_string());
                        self.attempt_failed(now, res, fx);
                    }
                    _ => {
                        fx.push(Effect::Close);
                        let e = LinkError::Unexpected;
                        let res = fail(e.code(), e.to_string());
                        self.attempt_failed(now, res, fx);
                    }
                }
            }
            Step::LoginAck {
                login_seq,
                heartbeat,
                ..
            } => match f {
                ServerFrame::LoginAck { seq, body } if seq == *login_seq => {
                    fx.push(Effect::Clock(body.server_time));
                    let mut res = LoginRes::failed(body.code, login_step::LOGIN, relogin)
                        .with_desc(body.desc);
                    if !body.code.is_success() {
                        fx.push(Effect::Close);
                        self.attempt_failed(now, res, fx);
                        return;
                    }
                    res.other_clients_pres = Some(body.other_clients_pres);
                    let heartbeat = *heartbeat;
                    let switch_open = body.switch_open;
                    self.attempt_ok(now, res, body.server_time, heartbeat, fx);
                    // The switch as the server has it: synced when it is
                    // new to this instance (the first login, or changed
                    // while this device was away).
                    if switch_open != 0 && switch_open != self.switch_open {
                        self.switch_open = switch_open;
                        fx.push(Effect::Emit(Event::PushConfigSync(switch_open)));
                    }
                }
                ServerFrame::Error { body, .. } if body.fatal => {
                    fx.push(Effect::Close);
                    let e = LinkError::Refused(body.code, body.desc);
                    let res = LoginRes::failed(e.code(), login_step::LOGIN, relogin)
                        .with_desc(e.to_string());
                    self.attempt_failed(now, res, fx);
                }
                _ => {}
            },
            Step::Credentials | Step::Opening { .. } => {}
        }
    }

    /// A failed attempt: another try when the code is retryable. During
    /// automatic re-login 416 (too frequent) is retried too, after the
    /// backoff: the server's limits are transient, and a stranger's failed
    /// guesses must not end the owner's session for good.
    fn attempt_failed(&mut self, now: Instant, res: LoginRes, fx: &mut Vec<Effect>) {
        let auto = matches!(&self.phase, Phase::Attempt(a) if matches!(a.kind, Kind::Auto { .. }));
        let again = retryable(res.err_code) || (auto && res.err_code == ResCode::FREQUENTLY);
        self.attempt_over(now, res, again, fx);
    }

    fn attempt_over(&mut self, now: Instant, mut res: LoginRes, again: bool, fx: &mut Vec<Effect>) {
        let Phase::Attempt(a) = &self.phase else {
            return;
        };
        match a.kind {
            Kind::Manual {
                cmd,
                relogin,
                index,
                tries,
            } if again && index + 1 < tries => {
                let until = now + self.delay(0) / 2;
                self.phase = Phase::Pause {
                    kind: Kind::Manual {
                        cmd,
                        relogin,
                        index: index + 1,
                        tries,
                    },
                    last: res,
                    until,
                };
            }
            Kind::Manual { cmd, .. } => {
                self.phase = Phase::Idle;
                self.state(LoginState::Unlogin, fx);
                Self::report(res.clone(), fx);
                fx.push(Effect::Reply(cmd, Reply::Login(res)));
            }
            Kind::Auto { attempt } if again => {
                res.retrying = true;
                fx.push(Effect::Emit(Event::AutoRelogin(res)));
                let next = attempt.saturating_add(1);
                let at = now + self.delay(next);
                self.phase = Phase::Reconnecting { attempt: next, at };
            }
            Kind::Auto { .. } => {
                self.phase = Phase::Idle;
                self.msgs.ended(res.err_code, fx);
                self.state(LoginState::Unlogin, fx);
                fx.push(Effect::Emit(Event::AutoRelogin(res)));
            }
        }
    }

    fn attempt_ok(
        &mut self,
        now: Instant,
        res: LoginRes,
        server_time: i64,
        heartbeat: Duration,
        fx: &mut Vec<Effect>,
    ) {
        let Phase::Attempt(a) = &self.phase else {
            return;
        };
        let kind = a.kind;
        if let Some(c) = &self.creds {
            fx.push(Effect::RecordLogin(LoginRecordReq {
                app_key: c.app_key.clone(),
                account: c.account.clone(),
                relogin: res.relogin,
                server_time,
                others_json: serde_json::to_string(&res.other_clients_pres).unwrap_or_default(),
            }));
        }
        let dead_after = self.cfg.dead_link_timeout.max(Duration::from_millis(100));
        let ping_every = heartbeat.max(Duration::from_millis(50)).min(dead_after / 3);
        self.phase = Phase::Online(Online {
            seq: 2,
            ping_every,
            next_ping: now + ping_every,
            dead_after,
            dead_at: now + dead_after,
            pending: Vec::new(),
        });
        if let Phase::Online(o) = &mut self.phase {
            let mut link = crate::msgs::Link {
                seq: &mut o.seq,
                now,
            };
            self.msgs.online(&mut link, fx);
        }
        self.state(LoginState::Logined, fx);
        match kind {
            Kind::Manual { cmd, .. } => {
                Self::report(res.clone(), fx);
                fx.push(Effect::Reply(cmd, Reply::Login(res)));
            }
            Kind::Auto { .. } => fx.push(Effect::Emit(Event::AutoRelogin(res))),
        }
    }

    // ---- the link ----

    fn frame(&mut self, now: Instant, f: ServerFrame, fx: &mut Vec<Effect>) {
        match &mut self.phase {
            Phase::Attempt(_) => self.attempt_frame(now, f, fx),
            Phase::Online(o) => {
                o.dead_at = now + o.dead_after;
                match f {
                    ServerFrame::Kickout { body } => {
                        fx.push(Effect::Close);
                        Self::fail_pending(o, fx);
                        self.msgs.ended(ResCode::CONNECTION_ERROR, fx);
                        self.phase = Phase::Idle;
                        self.state(LoginState::Kicked, fx);
                        fx.push(Effect::Emit(Event::Kickout(body)));
                    }
                    ServerFrame::MultiSpot { body } => {
                        fx.push(Effect::Emit(Event::MultiSpot(body)))
                    }
                    ServerFrame::KickOtherAck { seq, body } => {
                        if let Some(p) = Self::answered(o, seq, Waiting::KickOther) {
                            fx.push(Effect::Emit(Event::KickOtherClient(body.clone())));
                            fx.push(Effect::Reply(p.cmd, Reply::KickOther(body)));
                        }
                    }
                    ServerFrame::ServerTimeAck { seq, body } => {
                        if let Some(p) = Self::answered(o, seq, Waiting::ServerTime) {
                            let time = body.code.is_success().then_some(body.time);
                            if let Some(t) = time {
                                fx.push(Effect::Clock(t));
                            }
                            fx.push(Effect::Reply(p.cmd, Reply::ServerTime(body.code, time)));
                        }
                    }
                    ServerFrame::PushConfigAck { seq, body } => {
                        if let Some(p) = Self::answered(o, seq, Waiting::PushConfig) {
                            if body.code.is_success() {
                                self.switch_open = body.switch_open;
                            }
                            let res = PushConfigRes {
                                rescode: body.code,
                                switch_open: body.switch_open,
                            };
                            fx.push(Effect::Reply(p.cmd, Reply::PushConfig(res)));
                        }
                    }
                    ServerFrame::PushTokenAck { seq, body } => {
                        if let Some(p) = Self::answered(o, seq, Waiting::PushToken) {
                            fx.push(Effect::Reply(p.cmd, Reply::Code(body.code)));
                        }
                    }
                    ServerFrame::PushConfig { body } => {
                        self.switch_open = body.switch_open;
                        fx.push(Effect::Emit(Event::PushConfigSync(body.switch_open)));
                    }
                    ServerFrame::StickTopAck { seq, body } => {
                        if let Some(p) = Self::answered(o, seq, Waiting::StickTop) {
                            fx.push(Effect::Reply(p.cmd, Reply::StickTop(body)));
                        }
                    }
                    ServerFrame::StickTopChanged { body } => {
                        fx.push(Effect::Emit(Event::StickTopChanged(body)));
                    }
                    ServerFrame::ServerSessionAck { seq, body } => {
                        if let Some(p) = Self::answered(o, seq, Waiting::ServerSession) {
                            fx.push(Effect::Reply(p.cmd, Reply::ServerSession(body)));
                        }
                    }
                    ServerFrame::ServerSessionChanged { body } => {
                        fx.push(Effect::Emit(Event::ServerSessionChanged(body.info)));
                    }
                    ServerFrame::Error { body, .. }
                        if body.fatal && body.code == ResCode::EXIST =>
                    {
                        // The same device logged in on another connection: that
                        // one is the device now; this instance stops for good.
                        fx.push(Effect::Close);
                        Self::fail_pending(o, fx);
                        self.msgs.ended(ResCode::CONNECTION_ERROR, fx);
                        self.phase = Phase::Idle;
                        self.state(LoginState::Unlogin, fx);
                        fx.push(Effect::Emit(Event::Disconnect));
                        let res = LoginRes::failed(ResCode::EXIST, login_step::LOGIN, true)
                            .with_desc(body.desc);
                        fx.push(Effect::Emit(Event::AutoRelogin(res)));
                    }
                    ServerFrame::Entry { body } => match body.into_entry() {
                        Ok(e) => self.msgs.entry(e, now, fx),
                        Err(err) => {
                            tracing::warn!(error = %err, "an unreadable entry; the next sync brings it")
                        }
                    },
                    ServerFrame::SyncBatch { seq, body } => {
                        let mut link = crate::msgs::Link {
                            seq: &mut o.seq,
                            now,
                        };
                        self.msgs.sync_batch(seq, body, &mut link, fx);
                    }
                    ServerFrame::SendMsgAck { seq, body } => self.msgs.send_ack(seq, body, now, fx),
                    ServerFrame::SysMsgAck { seq, body } => self.msgs.sysmsg_ack(seq, body, fx),
                    ServerFrame::SessionAck { seq, body } => {
                        self.msgs.session_ack(seq, body, now, fx)
                    }
                    ServerFrame::HistoryResult { seq, body } => {
                        self.msgs.history_result(seq, *body, fx)
                    }
                    ServerFrame::Error { body, .. } if body.fatal => {
                        tracing::info!(code = %body.code, desc = %body.desc, "server ended the session");
                        self.link_dropped(now, fx);
                    }
                    ServerFrame::Error { seq, body } if seq != 0 => {
                        // A request the server could not take (an older
                        // server that does not know it): fail it now rather
                        // than at its timeout.
                        if let Some(i) = o.pending.iter().position(|p| p.seq == seq) {
                            let p = o.pending.swap_remove(i);
                            tracing::info!(code = %body.code, desc = %body.desc, "the server refused a request");
                            Self::fail_request(p, body.code, fx);
                        } else if self.msgs.refused(seq, body.code, fx) {
                            tracing::info!(code = %body.code, desc = %body.desc, "the server refused a request");
                        }
                    }
                    _ => {}
                }
            }
            Phase::LoggingOut { seq, .. } => {
                if let ServerFrame::LogoutAck { seq: s, body } = f {
                    if s == *seq {
                        self.logged_out(Some(body.code), fx);
                    }
                }
            }
            _ => {}
        }
    }

    fn lost(&mut self, now: Instant, e: LinkError, fx: &mut Vec<Effect>) {
        match &self.phase {
            Phase::Attempt(a) => {
                let relogin = a.kind.relogin();
                let res = match &a.step {
                    Step::Hello { addr, .. } => {
                        LoginRes::failed(e.code(), login_step::LOGIN, relogin)
                            .with_desc(format!("{addr}: {e}"))
                    }
                    Step::LoginAck { .. } => LoginRes::failed(e.code(), login_step::LOGIN, relogin)
                        .with_desc(e.to_string()),
                    // No link yet: nothing was lost.
                    Step::Credentials | Step::Opening { .. } => return,
                };
                fx.push(Effect::Close);
                self.attempt_failed(now, res, fx);
            }
            Phase::Online(_) => {
                tracing::info!(error = %e, "link lost");
                self.link_dropped(now, fx);
            }
            Phase::LoggingOut { .. } => self.logged_out(None, fx),
            _ => {}
        }
    }

    /// The link of a logged-in session dropped: automatic re-login begins.
    fn link_dropped(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        fx.push(Effect::Close);
        self.msgs.offline(fx);
        if let Phase::Online(o) = &mut self.phase {
            Self::fail_pending(o, fx);
        }
        self.state(LoginState::Relogining, fx);
        fx.push(Effect::Emit(Event::Disconnect));
        let at = now + self.delay(0);
        self.phase = Phase::Reconnecting { attempt: 0, at };
    }

    /// Requests on a link that ends get 415.
    fn fail_pending(o: &mut Online, fx: &mut Vec<Effect>) {
        for p in o.pending.drain(..) {
            Self::fail_request(p, ResCode::CONNECTION_ERROR, fx);
        }
    }

    /// A request that gets no answer: its failure, in its own shape.
    fn fail_request(p: Pending, code: ResCode, fx: &mut Vec<Effect>) {
        match p.what {
            Waiting::KickOther => Self::kick_other_done(p.cmd, code, Vec::new(), fx),
            Waiting::ServerTime => fx.push(Effect::Reply(p.cmd, Reply::ServerTime(code, None))),
            Waiting::PushConfig => fx.push(Effect::Reply(
                p.cmd,
                Reply::PushConfig(PushConfigRes {
                    rescode: code,
                    switch_open: 0,
                }),
            )),
            Waiting::PushToken => fx.push(Effect::Reply(p.cmd, Reply::Code(code))),
            Waiting::StickTop => fx.push(Effect::Reply(
                p.cmd,
                Reply::StickTop(magpie_proto::frame::StickTopAck {
                    code,
                    info: None,
                    list: Vec::new(),
                }),
            )),
            Waiting::ServerSession => fx.push(Effect::Reply(
                p.cmd,
                Reply::ServerSession(Box::new(server_session_failed(code))),
            )),
        }
    }

    /// The pending request a `seq` answers, if it is of that kind.
    fn answered(o: &mut Online, seq: u32, what: Waiting) -> Option<Pending> {
        let i = o
            .pending
            .iter()
            .position(|p| p.seq == seq && p.what == what)?;
        Some(o.pending.swap_remove(i))
    }

    /// Sends a request that needs a session and waits for its answer; not
    /// logged in: 20001 (20000 after cleanup).
    fn request(
        &mut self,
        now: Instant,
        id: CmdId,
        what: Waiting,
        frame: impl FnOnce(u32) -> ClientFrame,
        fx: &mut Vec<Effect>,
    ) {
        let deadline = now + self.cfg.request_timeout;
        if let Phase::Online(o) = &mut self.phase {
            o.seq = o.seq.wrapping_add(1).max(1);
            fx.push(Effect::Send(vec![frame(o.seq)]));
            o.pending.push(Pending {
                seq: o.seq,
                deadline,
                cmd: id,
                what,
            });
            return;
        }
        let code = if self.exited() {
            ResCode::LOCAL_INIT_UNDONE
        } else {
            ResCode::LOCAL_LOGIN_UNDONE
        };
        Self::fail_request(
            Pending {
                seq: 0,
                deadline,
                cmd: id,
                what,
            },
            code,
            fx,
        );
    }

    /// NIM's get_server_current_time: asks the server unless asked to
    /// compute locally or asked within the last second; the answer's time
    /// also corrects the clock offset.
    fn server_time(&mut self, now: Instant, id: CmdId, local: bool, fx: &mut Vec<Effect>) {
        let recent = self
            .last_time_query
            .is_some_and(|t| now.saturating_duration_since(t) < SERVER_TIME_REUSE);
        if local || recent {
            fx.push(Effect::Reply(id, Reply::ServerTime(ResCode::SUCCESS, None)));
            return;
        }
        if matches!(self.phase, Phase::Online(_)) {
            self.last_time_query = Some(now);
        }
        self.request(
            now,
            id,
            Waiting::ServerTime,
            |seq| ClientFrame::ServerTime { seq },
            fx,
        );
    }

    /// The logout ends: answered by the server (its code), or the link
    /// ended or the answer did not come in time (`None`). Either way this
    /// device is logged out, the connection closed (the server ends a
    /// closed session itself), so NIM's two codes: 200, or 500 when the
    /// server answered with an error.
    fn logged_out(&mut self, answer: Option<ResCode>, fx: &mut Vec<Effect>) {
        let Phase::LoggingOut { cmds, .. } = std::mem::replace(&mut self.phase, Phase::Idle) else {
            return;
        };
        fx.push(Effect::Close);
        let code = match answer {
            Some(c) if c != ResCode::SUCCESS => {
                tracing::info!(code = %c, "the server answered the logout with an error");
                ResCode::UNKNOWN_ERROR
            }
            Some(_) => ResCode::SUCCESS,
            None => {
                tracing::info!("logout: no answer from the server; logged out locally");
                ResCode::SUCCESS
            }
        };
        self.finish_logout(code, cmds, fx);
    }

    fn timeout(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        match &mut self.phase {
            Phase::Attempt(a) => {
                let relogin = a.kind.relogin();
                let res = match &a.step {
                    Step::Opening { addr, deadline } if now >= *deadline => {
                        LoginRes::failed(ResCode::TIMEOUT, login_step::LINKING, relogin)
                            .with_desc(format!("{addr}: {}", LinkError::Timeout))
                    }
                    Step::Hello { addr, hello_by, .. } if now >= *hello_by => {
                        LoginRes::failed(ResCode::TIMEOUT, login_step::LOGIN, relogin)
                            .with_desc(format!("{addr}: {}", LinkError::Timeout))
                    }
                    Step::LoginAck { deadline, .. } if now >= *deadline => {
                        LoginRes::failed(ResCode::TIMEOUT, login_step::LOGIN, relogin)
                            .with_desc("no answer to the login in time")
                    }
                    _ => return,
                };
                fx.push(Effect::Close);
                self.attempt_failed(now, res, fx);
            }
            Phase::Pause { until, .. } if now >= *until => {
                let Phase::Pause { kind, .. } = std::mem::replace(&mut self.phase, Phase::Idle)
                else {
                    return;
                };
                self.begin(now, kind, false, fx);
            }
            Phase::Reconnecting { attempt, at } if now >= *at => {
                let attempt = *attempt;
                self.begin(now, Kind::Auto { attempt }, false, fx);
            }
            Phase::Online(o) => {
                let (late, keep): (Vec<_>, Vec<_>) =
                    o.pending.drain(..).partition(|p| p.deadline <= now);
                o.pending = keep;
                for p in late {
                    Self::fail_request(p, ResCode::TIMEOUT, fx);
                }
                if now >= o.dead_at {
                    tracing::info!(after = ?o.dead_after, "dead link: nothing heard");
                    self.link_dropped(now, fx);
                    return;
                }
                if now >= o.next_ping {
                    o.seq = o.seq.wrapping_add(1).max(1);
                    fx.push(Effect::Send(vec![ClientFrame::Ping { seq: o.seq }]));
                    o.next_ping = now + o.ping_every;
                }
                let mut link = crate::msgs::Link {
                    seq: &mut o.seq,
                    now,
                };
                self.msgs.timeout(Some(&mut link), now, fx);
            }
            Phase::LoggingOut { deadline, .. } if now >= *deadline => {
                self.logged_out(None, fx);
            }
            _ => {}
        }
    }
}

/// The answer of a session-service request that failed with `code`.
pub fn server_session_failed(code: ResCode) -> magpie_proto::frame::ServerSessionAck {
    magpie_proto::frame::ServerSessionAck {
        code,
        info: None,
        list: Vec::new(),
        has_more: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use magpie_proto::frame::{CodeAck, HelloAck, KickOtherAck, LoginAck};
    use magpie_proto::types::{logout_type, Kickout};

    fn cfg() -> MachineConfig {
        MachineConfig {
            link_addresses: vec!["a:1".into(), "b:2".into()],
            app_key: "key".into(),
            login_retry_max_times: 3,
            client_type: 4,
            custom_client_type: 0,
            client_os: "test".into(),
            mac: String::new(),
            device_id: "dev".into(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
            logout_timeout: Duration::from_secs(5),
            dead_link_timeout: Duration::from_secs(30),
            reconnect: Backoff {
                base: Duration::from_millis(500),
                cap: Duration::from_secs(8),
            },
            lbs: false,
            lbs_before_relogin: false,
        }
    }

    /// A machine on a fake clock: `ms` is the time since its start.
    struct Fake {
        m: LoginMachine,
        t0: Instant,
        now: u64,
    }

    impl Fake {
        fn new(cfg: MachineConfig) -> Fake {
            Fake {
                m: LoginMachine::with_rng(cfg, StdRng::seed_from_u64(7)),
                t0: Instant::now(),
                now: 0,
            }
        }

        fn at(&self, ms: u64) -> Instant {
            self.t0 + Duration::from_millis(ms)
        }

        fn feed(&mut self, ms: u64, input: Input) -> Vec<Effect> {
            assert!(ms >= self.now, "time runs forward");
            self.now = ms;
            let mut fx = Vec::new();
            self.m.handle(self.at(ms), input, &mut fx);
            fx
        }

        /// Advances to the machine's deadline and feeds the timeout.
        fn fire(&mut self) -> (u64, Vec<Effect>) {
            let d = self.m.poll_timeout().expect("a deadline");
            let ms = d.duration_since(self.t0).as_micros().div_ceil(1000) as u64;
            (ms, self.feed(ms, Input::Timeout))
        }

        fn login(&mut self, ms: u64) -> Vec<Effect> {
            self.feed(
                ms,
                Input::Command(
                    1,
                    Cmd::Login {
                        app_key: String::new(),
                        account: "ann".into(),
                        token: "t".into(),
                        params: LoginParams::default(),
                    },
                ),
            )
        }

        /// Drives a fresh machine to logged in; returns the time.
        fn online(&mut self) -> u64 {
            self.login(0);
            self.feed(1, Input::Opened(Ok(())));
            self.feed(2, Input::Frame(hello_ack()));
            let fx = self.feed(3, Input::Frame(login_ack(ResCode::SUCCESS)));
            assert!(replied(&fx, 1).is_some_and(|r| matches!(r, Reply::Login(l) if l.is_success())));
            3
        }
    }

    /// `f.online()` links with a version 1 server: a keyword search, which
    /// such a server would not filter, is refused without asking it; a
    /// query without a keyword is sent.
    #[test]
    fn a_keyword_search_is_not_sent_to_a_server_older_than_version_5() {
        let mut f = Fake::new(cfg());
        let t = f.online();
        let q = |keyword: &str| magpie_proto::msg::HistoryQuery {
            id: "bob".into(),
            limit_count: 10,
            keyword: keyword.into(),
            ..Default::default()
        };
        let fx = f.feed(t + 1, Input::Command(9, Cmd::QueryOnline(q("lunch"))));
        assert!(
            matches!(replied(&fx, 9), Some(Reply::Query(r)) if r.rescode == ResCode::VERSION_ERROR),
            "{fx:?}"
        );
        assert!(!fx.iter().any(|e| matches!(e, Effect::Send(_))), "{fx:?}");
        let fx = f.feed(t + 2, Input::Command(10, Cmd::QueryOnline(q(""))));
        assert!(replied(&fx, 10).is_none());
        assert!(fx.iter().any(|e| matches!(e, Effect::Send(fr) if fr.iter().any(|x| matches!(x, ClientFrame::History { .. })))), "{fx:?}");
    }

    #[test]
    fn a_deletion_an_older_server_refuses_is_answered_at_once() {
        use magpie_proto::frame::ErrorBody;
        let mut f = Fake::new(cfg());
        let t = f.online();
        let req = magpie_proto::msg::DeleteSelfReq {
            to_type: 0,
            id: "bob".into(),
            from_id: "bob".into(),
            client_msg_id: "c1".into(),
            ext: String::new(),
        };
        let fx = f.feed(t + 1, Input::Command(9, Cmd::DeleteSelf(req)));
        let seq = fx
            .iter()
            .find_map(|e| match e {
                Effect::Send(frames) => frames.iter().find_map(|fr| match fr {
                    ClientFrame::DeleteSelf { seq, .. } => Some(*seq),
                    _ => None,
                }),
                _ => None,
            })
            .expect("DELETE_SELF sent");
        assert!(replied(&fx, 9).is_none());
        // A version 3 server does not know the operation.
        let fx = f.feed(
            t + 2,
            Input::Frame(ServerFrame::Error {
                seq,
                body: ErrorBody {
                    code: ResCode(998),
                    desc: "unknown operation".into(),
                    fatal: false,
                },
            }),
        );
        assert!(
            matches!(replied(&fx, 9), Some(Reply::Local(r)) if r.rescode == ResCode(998)),
            "{fx:?}"
        );
    }

    fn hello_ack() -> ServerFrame {
        ServerFrame::HelloAck {
            seq: 1,
            body: HelloAck {
                code: ResCode::SUCCESS,
                version: 1,
                heartbeat_ms: 10_000,
                idle_timeout_ms: 35_000,
                max_frame: 65536,
                server_time: 1_700_000_000_000,
            },
        }
    }

    fn login_ack(code: ResCode) -> ServerFrame {
        ServerFrame::LoginAck {
            seq: 2,
            body: LoginAck {
                code,
                desc: String::new(),
                server_time: 1_700_000_000_000,
                other_clients_pres: Vec::new(),
                switch_open: 0,
            },
        }
    }

    fn replied(fx: &[Effect], id: CmdId) -> Option<&Reply> {
        fx.iter().find_map(|e| match e {
            Effect::Reply(i, r) if *i == id => Some(r),
            _ => None,
        })
    }

    fn events(fx: &[Effect]) -> Vec<&Event> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Emit(ev) => Some(ev),
                _ => None,
            })
            .collect()
    }

    fn states(fx: &[Effect]) -> Vec<LoginState> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::State(s, _) => Some(*s),
                _ => None,
            })
            .collect()
    }

    fn opened(fx: &[Effect]) -> Option<&str> {
        fx.iter().find_map(|e| match e {
            Effect::Open(a) => Some(a.as_str()),
            _ => None,
        })
    }

    fn refused() -> LinkError {
        LinkError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
    }

    #[test]
    fn a_manual_login_reports_its_steps_and_pipelines_hello_and_login() {
        let mut f = Fake::new(cfg());
        let fx = f.login(0);
        assert_eq!(states(&fx), [LoginState::Logging]);
        assert_eq!(opened(&fx), Some("a:1"));
        let fx = f.feed(1, Input::Opened(Ok(())));
        match fx.iter().find(|e| matches!(e, Effect::Send(_))) {
            Some(Effect::Send(frames)) => {
                assert!(matches!(
                    frames[..],
                    [ClientFrame::Hello { .. }, ClientFrame::Login { .. }]
                ))
            }
            other => panic!("{other:?}"),
        }
        f.feed(2, Input::Frame(hello_ack()));
        let fx = f.feed(3, Input::Frame(login_ack(ResCode::SUCCESS)));
        assert!(fx
            .iter()
            .any(|e| matches!(e, Effect::RecordLogin(r) if r.account == "ann" && !r.relogin)));
        assert_eq!(states(&fx), [LoginState::Logined]);
        // All four steps went to the login callback, in order.
        let mut f = Fake::new(cfg());
        let mut all = f.login(0);
        all.extend(f.feed(1, Input::Opened(Ok(()))));
        all.extend(f.feed(2, Input::Frame(hello_ack())));
        all.extend(f.feed(3, Input::Frame(login_ack(ResCode::SUCCESS))));
        let steps: Vec<u32> = events(&all)
            .iter()
            .map(|e| match e {
                Event::Login(r) => r.login_step,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(steps, [0, 1, 2, 3]);
    }

    #[test]
    fn heartbeats_go_out_and_a_silent_link_is_declared_dead() {
        let mut f = Fake::new(cfg());
        let t = f.online();
        // Pings every 10 s (the server's heartbeat; a third of 30 s is the same).
        let (ms, fx) = f.fire();
        assert_eq!(ms, t + 10_000);
        assert!(
            matches!(&fx[..], [Effect::Send(p)] if matches!(p[..], [ClientFrame::Ping { .. }]))
        );
        // A frame keeps the link alive.
        f.feed(15_000, Input::Frame(ServerFrame::Pong { seq: 3 }));
        for n in 2..=4 {
            let (ms, fx) = f.fire();
            assert_eq!(ms, t + n * 10_000);
            assert!(matches!(&fx[..], [Effect::Send(_)]), "ping {n}");
        }
        // Nothing heard for 30 s after the pong at 15 s: dead.
        let (ms, fx) = f.fire();
        assert_eq!(ms, 45_000);
        assert!(matches!(fx[0], Effect::Close));
        assert_eq!(states(&fx), [LoginState::Relogining]);
        assert_eq!(events(&fx), [&Event::Disconnect]);
        let at = f.m.poll_timeout().unwrap();
        assert!(
            at >= f.at(45_000) && at <= f.at(45_500),
            "first re-login within the base window"
        );
    }

    #[test]
    fn connect_hello_and_login_answers_are_timed_out() {
        let code = |fx: &[Effect]| match replied(fx, 1) {
            Some(Reply::Login(r)) => (r.err_code, r.login_step, r.desc.clone()),
            other => panic!("{other:?}"),
        };
        let mut c = cfg();
        c.login_retry_max_times = 1;
        // No connection within the connect timeout.
        let mut f = Fake::new(c.clone());
        f.login(0);
        let (ms, fx) = f.fire();
        assert_eq!(ms, 10_000);
        assert!(matches!(fx[0], Effect::Close));
        assert_eq!(
            code(&fx),
            (
                ResCode::TIMEOUT,
                login_step::LINKING,
                "a:1: timed out".into()
            )
        );
        // No hello answer within the connect timeout.
        let mut f = Fake::new(c.clone());
        f.login(0);
        f.feed(100, Input::Opened(Ok(())));
        let (ms, fx) = f.fire();
        assert_eq!(ms, 10_100);
        assert_eq!(code(&fx).0, ResCode::TIMEOUT);
        // No login answer within the request timeout.
        let mut f = Fake::new(c);
        f.login(0);
        f.feed(100, Input::Opened(Ok(())));
        f.feed(200, Input::Frame(hello_ack()));
        let (ms, fx) = f.fire();
        assert_eq!(ms, 15_100);
        assert_eq!(
            code(&fx),
            (
                ResCode::TIMEOUT,
                login_step::LOGIN,
                "no answer to the login in time".into()
            )
        );
        assert_eq!(states(&fx), [LoginState::Unlogin]);
    }

    #[test]
    fn a_manual_login_tries_the_next_address_after_a_pause_and_gives_up_after_the_limit() {
        let mut f = Fake::new(cfg());
        f.login(0);
        let fx = f.feed(5, Input::Opened(Err(refused())));
        assert!(replied(&fx, 1).is_none(), "not yet: 2 tries left");
        let (ms, fx) = f.fire();
        assert!(
            ms <= 5 + 250,
            "the pause is at most half the base window: {ms}"
        );
        assert_eq!(opened(&fx), Some("b:2"));
        assert!(
            events(&fx).is_empty(),
            "steps are reported for the first try only"
        );
        f.feed(ms + 1, Input::Opened(Err(refused())));
        let (ms, fx) = f.fire();
        assert_eq!(opened(&fx), Some("a:1"));
        let fx = f.feed(ms + 1, Input::Opened(Err(refused())));
        match replied(&fx, 1) {
            Some(Reply::Login(r)) => {
                assert_eq!((r.err_code, r.retrying), (ResCode::CONNECTION_ERROR, false));
                assert!(r.desc.starts_with("a:1: network error"), "{}", r.desc);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(f.m.poll_timeout(), None, "nothing more happens");
    }

    #[test]
    fn backoff_stays_within_its_jitter_window_and_reaches_the_cap() {
        let c = cfg();
        let mut f = Fake::new(c.clone());
        let mut now = f.online();
        let fx = f.feed(now + 1, Input::Lost(LinkError::Closed));
        assert_eq!(events(&fx), [&Event::Disconnect]);
        now += 1;
        let mut waits = Vec::new();
        for n in 0..12u32 {
            let at = f.m.poll_timeout().unwrap();
            let wait = at.duration_since(f.at(now));
            assert!(wait <= c.reconnect.window(n), "attempt {n}: {wait:?}");
            waits.push(wait);
            let (ms, fx) = f.fire();
            assert!(opened(&fx).is_some(), "attempt {n} opens a link");
            let fx = f.feed(ms + 1, Input::Opened(Err(refused())));
            match &events(&fx)[..] {
                [Event::AutoRelogin(r)] => {
                    assert!(r.relogin && r.retrying && r.err_code == ResCode::CONNECTION_ERROR)
                }
                other => panic!("{other:?}"),
            }
            now = ms + 1;
        }
        assert_eq!(c.reconnect.window(11), c.reconnect.cap);
        let mut sorted = waits.clone();
        sorted.dedup();
        assert!(sorted.len() > 6, "jittered, not fixed: {waits:?}");
        // Full jitter over many draws: uniform-ish in [0, window].
        let mut rng = StdRng::seed_from_u64(1);
        let w = c.reconnect.window(3);
        let draws: Vec<Duration> = (0..2000)
            .map(|_| c.reconnect.delay_with(3, &mut rng))
            .collect();
        assert!(draws.iter().all(|d| *d <= w));
        assert!(draws.iter().any(|d| *d < w / 10) && draws.iter().any(|d| *d > w * 9 / 10));
    }

    #[test]
    fn automatic_relogin_goes_on_for_network_codes_and_416_and_stops_for_every_other() {
        let codes = [
            302, 403, 404, 408, 414, 415, 416, 417, 422, 500, 503, 509, 10010, 20000, 20003,
        ];
        for code in codes.map(ResCode) {
            let mut f = Fake::new(cfg());
            let t = f.online();
            f.feed(t + 1, Input::Lost(LinkError::Closed));
            let (ms, _) = f.fire();
            f.feed(ms, Input::Opened(Ok(())));
            f.feed(ms, Input::Frame(hello_ack()));
            let fx = f.feed(ms, Input::Frame(login_ack(code)));
            let r = match &events(&fx)[..] {
                [Event::AutoRelogin(r)] => r.clone(),
                other => panic!("{code}: {other:?}"),
            };
            assert_eq!((r.err_code, r.relogin), (code, true));
            if retryable(code) || code == ResCode::FREQUENTLY {
                assert!(r.retrying, "{code} retries");
                assert!(f.m.poll_timeout().is_some());
            } else {
                assert!(!r.retrying, "{code} ends re-login");
                assert_eq!(states(&fx), [LoginState::Unlogin]);
                assert_eq!(f.m.poll_timeout(), None);
            }
        }
        // The version check is final too.
        let mut f = Fake::new(cfg());
        f.login(0);
        f.feed(1, Input::Opened(Ok(())));
        let mut ack = hello_ack();
        if let ServerFrame::HelloAck { body, .. } = &mut ack {
            body.code = ResCode::VERSION_ERROR;
        }
        let fx = f.feed(2, Input::Frame(ack));
        assert!(
            matches!(replied(&fx, 1), Some(Reply::Login(r)) if r.err_code == ResCode::VERSION_ERROR)
        );
    }

    #[test]
    fn logout_is_bounded_and_answers_with_the_server_s_code() {
        let logout = |f: &mut Fake, ms, id| {
            f.feed(ms, Input::Command(id, Cmd::Logout(logout_type::APP_EXIT)))
        };
        let mut f = Fake::new(cfg());
        let t = f.online();
        let fx = logout(&mut f, t + 1, 9);
        assert!(
            matches!(&fx[..], [Effect::Send(l)] if matches!(l[..], [ClientFrame::Logout { .. }]))
        );
        let fx = logout(&mut f, t + 2, 10);
        assert!(fx.is_empty(), "a second logout waits for the same answer");
        let (ms, fx) = f.fire();
        assert_eq!(ms, t + 1 + 5_000, "the logout timeout");
        // Unanswered: logged out locally, 200 (NIM answers 200 or 500).
        for id in [9, 10] {
            assert!(
                matches!(replied(&fx, id), Some(Reply::Logout(r)) if r.err_code == ResCode::SUCCESS)
            );
        }
        assert!(fx.iter().any(|e| matches!(e, Effect::SettleCache)));
        assert_eq!(states(&fx), [LoginState::Unlogin]);

        // The server's answer: 200 is 200, an error is NIM's 500.
        for (server, expected) in [
            (ResCode::SUCCESS, ResCode::SUCCESS),
            (ResCode::TOO_BUSY, ResCode::UNKNOWN_ERROR),
        ] {
            let mut f = Fake::new(cfg());
            let t = f.online();
            logout(&mut f, t + 1, 9);
            let ack = ServerFrame::LogoutAck {
                seq: 3,
                body: CodeAck { code: server },
            };
            let fx = f.feed(t + 2, Input::Frame(ack));
            assert!(
                matches!(replied(&fx, 9), Some(Reply::Logout(r)) if r.err_code == expected),
                "server {server:?}"
            );
        }
        // While re-logging in (offline): 200 at once, and no more attempts.
        let mut f = Fake::new(cfg());
        let t = f.online();
        f.feed(t + 1, Input::Lost(LinkError::Closed));
        let fx = logout(&mut f, t + 2, 9);
        assert!(
            matches!(replied(&fx, 9), Some(Reply::Logout(r)) if r.err_code == ResCode::SUCCESS)
        );
        assert_eq!(f.m.poll_timeout(), None);
        // Never logged in: 200 as well.
        let mut f = Fake::new(cfg());
        let fx = logout(&mut f, 0, 9);
        assert!(
            matches!(replied(&fx, 9), Some(Reply::Logout(r)) if r.err_code == ResCode::SUCCESS)
        );
    }

    #[test]
    fn a_logout_during_a_login_cancels_it_at_once() {
        for stage in 0..3 {
            let mut f = Fake::new(cfg());
            f.login(0);
            if stage >= 1 {
                f.feed(1, Input::Opened(Ok(())));
            }
            if stage >= 2 {
                f.feed(2, Input::Frame(hello_ack()));
            }
            let fx = f.feed(
                3,
                Input::Command(5, Cmd::Logout(logout_type::CHANGE_ACCOUNT)),
            );
            assert!(matches!(fx[0], Effect::Close), "stage {stage}: {fx:?}");
            match replied(&fx, 1) {
                Some(Reply::Login(r)) => assert_eq!(r.err_code, ResCode::LOCAL_LOGIN_UNDONE),
                other => panic!("stage {stage}: {other:?}"),
            }
            assert!(events(&fx).iter().any(
                |e| matches!(e, Event::Login(r) if r.err_code == ResCode::LOCAL_LOGIN_UNDONE)
            ));
            assert!(
                matches!(replied(&fx, 5), Some(Reply::Logout(r)) if r.err_code == ResCode::SUCCESS)
            );
            assert_eq!(f.m.poll_timeout(), None);
            // A late answer of the cancelled login changes nothing.
            assert!(f
                .feed(4, Input::Frame(login_ack(ResCode::SUCCESS)))
                .is_empty());
        }
        // During the pause between tries as well.
        let mut f = Fake::new(cfg());
        f.login(0);
        f.feed(1, Input::Opened(Err(refused())));
        let fx = f.feed(2, Input::Command(5, Cmd::Logout(logout_type::APP_EXIT)));
        assert!(
            matches!(replied(&fx, 1), Some(Reply::Login(r)) if r.err_code == ResCode::LOCAL_LOGIN_UNDONE)
        );
        assert!(
            matches!(replied(&fx, 5), Some(Reply::Logout(r)) if r.err_code == ResCode::SUCCESS)
        );
    }

    #[test]
    fn busy_logins_answer_20002_and_kicks_and_kick_other_end_cleanly() {
        let mut f = Fake::new(cfg());
        f.login(0);
        let fx = f.feed(
            1,
            Input::Command(
                2,
                Cmd::Login {
                    app_key: String::new(),
                    account: "ann".into(),
                    token: "t".into(),
                    params: LoginParams::default(),
                },
            ),
        );
        assert!(
            matches!(replied(&fx, 2), Some(Reply::Login(r)) if r.err_code == ResCode::LOCAL_LOGINED)
        );
        assert!(
            events(&fx).is_empty(),
            "the login under way keeps its callback to itself"
        );
        f.feed(2, Input::Opened(Ok(())));
        f.feed(3, Input::Frame(hello_ack()));
        f.feed(4, Input::Frame(login_ack(ResCode::SUCCESS)));
        // Kick-other: answered, or 408 after the request timeout.
        let fx = f.feed(5, Input::Command(3, Cmd::KickOther(vec!["x".into()])));
        let seq = match &fx[..] {
            [Effect::Send(k)] => k[0].seq(),
            other => panic!("{other:?}"),
        };
        let fx = f.feed(
            6,
            Input::Frame(ServerFrame::KickOtherAck {
                seq,
                body: KickOtherAck {
                    err_code: ResCode::SUCCESS,
                    device_ids: vec!["x".into()],
                },
            }),
        );
        assert!(matches!(replied(&fx, 3), Some(Reply::KickOther(k)) if k.device_ids == ["x"]));
        f.feed(7, Input::Command(4, Cmd::KickOther(vec!["y".into()])));
        // Pings are due at 10 s; the request times out at 15 s.
        let (_, fx) = f.fire();
        assert!(replied(&fx, 4).is_none());
        let (ms, fx) = f.fire();
        assert_eq!(ms, 7 + 15_000);
        assert!(
            matches!(replied(&fx, 4), Some(Reply::KickOther(k)) if k.err_code == ResCode::TIMEOUT)
        );
        // A kick-out: the state says so, nothing re-logs in, a new login is allowed.
        let fx = f.feed(
            ms + 1,
            Input::Frame(ServerFrame::Kickout {
                body: Kickout::by_server(""),
            }),
        );
        assert_eq!(states(&fx), [LoginState::Kicked]);
        assert_eq!(f.m.poll_timeout(), None);
        let fx = f.login(ms + 2);
        assert_eq!(opened(&fx), Some("b:2"));
    }
}
