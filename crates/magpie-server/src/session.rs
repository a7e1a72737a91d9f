//! The server's per-connection session machine, without I/O (in the style
//! of quinn-proto): a plain struct fed inputs (decoded frames, decode
//! errors, pushes from the bus, results of the services it asked for, end
//! of stream, its deadline passing) together with `now`, answering with
//! [`Action`]s for the connection task to carry out (frames to write,
//! services to call, the session to detach, the connection to close) and
//! one deadline ([`ServerSession::deadline`]). The task only moves bytes and
//! timers, so every protocol rule here is unit-tested on a fake clock.
//!
//! The rules (docs/protocol.md): the first frame must be HELLO, within the
//! handshake timeout; after it, any frame within the idle timeout keeps the
//! connection open; a refused HELLO closes it; LOGIN on a logged-in
//! connection gets 417; LOGOUT answers and closes; a kick-out push is
//! written and closes; a replaced connection hears ERROR 417 and closes.

use crate::login::{LoggedIn, LoginOutcome};
use magpie_bus::Push;
use magpie_proto::frame::{
    CodeAck, ErrorBody, Hello, HelloAck, KickOtherAck, KickOtherRequest, LoginRequest, PushConfig,
    PushConfigAck, PushToken, ServerSessionAck, ServerSessionRequest, ServerTimeAck, StickTopAck,
    StickTopRequest,
};
use magpie_proto::msg::{
    ClearHistoryReq, DeleteSelfReq, EntryWire, HistoryQuery, HistoryResult, ImMessage, RecallReq,
    Receipt, SendMsgAck, SessionChange, SessionChangeAck, SyncBatch, SyncRequest, SysMsg,
    SysMsgAck,
};
use magpie_proto::types::{auth_type, logout_type, Kickout};
use magpie_proto::{
    ClientFrame, DecodeError, ResCode, ServerFrame, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION,
};
use std::time::{Duration, Instant};

/// The settings a session machine follows (from the server's config).
#[derive(Clone, Copy, Debug)]
pub struct SessionConfig {
    /// Time to send HELLO.
    pub handshake_timeout: Duration,
    /// A connection silent this long after HELLO is closed.
    pub idle_timeout: Duration,
    /// Heartbeat interval advertised in HELLO_ACK.
    pub heartbeat: Duration,
    /// Largest client frame, advertised in HELLO_ACK.
    pub max_frame: u32,
}

/// What a request that needs a session hears before the login.
const NOT_LOGGED_IN: &str = "log in first";

/// Most device ids in one kick-other request.
pub const MAX_KICK_OTHER: usize = 20;

/// Longest push token or certificate name, bytes.
pub const MAX_PUSH_TOKEN: usize = 1024;

/// Longest session id of a stick-top request, bytes (NIM's
/// `SessionMainTagInfo` holds 64; team ids and accids are shorter).
pub const MAX_STICK_TOP_ID: usize = 128;

/// Longest extension of a session on top, bytes.
pub const MAX_STICK_TOP_EXT: usize = 1024;

/// Longest extension of a server-side session, bytes (NIM's local
/// session extension holds as much).
pub const MAX_SERVER_SESSION_EXT: usize = 4096;

/// Most sessions one SERVER_SESSION deletes.
pub const MAX_SERVER_SESSION_DELETE: usize = 100;

/// Something that happened to the connection.
#[derive(Debug)]
pub enum Input {
    /// A decoded client frame.
    Frame(ClientFrame),
    /// Bytes that did not decode.
    BadFrame(DecodeError),
    /// A push from the bus.
    Push(Push),
    /// The login service answered the LOGIN with this `seq`.
    LoginDone {
        /// The LOGIN's seq.
        seq: u32,
        /// Its outcome.
        outcome: LoginOutcome,
    },
    /// The log batch of a SYNC with this `seq`.
    SyncDone {
        /// The request's seq.
        seq: u32,
        /// The batch.
        batch: SyncBatch,
    },
    /// The answer to a HISTORY with this `seq`.
    HistoryDone {
        /// The request's seq.
        seq: u32,
        /// The answer.
        result: Box<HistoryResult>,
    },
    /// The bus kicked the devices of a KICK_OTHER with this `seq`.
    KickOtherDone {
        /// The request's seq.
        seq: u32,
        /// The devices kicked, or the code of a failure.
        result: Result<Vec<String>, ResCode>,
    },
    /// The multiport push switch of a SET/GET_PUSH_CONFIG with this `seq`
    /// (its value, or the code of a failure).
    PushConfigDone {
        /// The request's seq.
        seq: u32,
        /// The switch, or why not.
        result: Result<u32, ResCode>,
    },
    /// The answer to a STICK_TOP with this `seq`.
    StickTopDone {
        /// The request's seq.
        seq: u32,
        /// The answer.
        ack: StickTopAck,
    },
    /// The answer to a SERVER_SESSION with this `seq`.
    ServerSessionDone {
        /// The request's seq.
        seq: u32,
        /// The answer.
        ack: ServerSessionAck,
    },
    /// The push token of a PUSH_TOKEN with this `seq` is stored (or the
    /// code of a failure).
    PushTokenDone {
        /// The request's seq.
        seq: u32,
        /// 200 or the failure.
        code: ResCode,
    },
    /// The peer closed its side, with `buffered` bytes of an unfinished frame.
    Eof {
        /// Bytes of a partial frame left unread.
        buffered: usize,
    },
    /// The push queue overflowed: the peer reads too slowly.
    SlowReader,
    /// [`ServerSession::deadline`] has passed.
    Timeout,
}

/// A request answered with SESSION_ACK that enters notes in logs.
#[derive(Debug)]
pub enum NoteRequest {
    /// A P2P read receipt.
    Receipt(Receipt),
    /// A recall.
    Recall(RecallReq),
    /// A one-way deletion.
    DeleteSelf(DeleteSelfReq),
    /// A cleared server history.
    ClearHistory(ClearHistoryReq),
}

/// What the connection task is asked to do, in order.
#[derive(Debug)]
pub enum Action {
    /// Queue a frame for writing.
    Send(ServerFrame),
    /// Write the queued frames now (before a login that may wait long).
    Flush,
    /// Run the login service; feed back [`Input::LoginDone`].
    Login {
        /// The LOGIN's seq.
        seq: u32,
        /// The request.
        req: Box<LoginRequest>,
    },
    /// Kick the account's other devices; feed back [`Input::KickOtherDone`].
    KickOther {
        /// The request's seq.
        seq: u32,
        /// The session of the kicker.
        session: LoggedIn,
        /// Device ids to kick.
        device_ids: Vec<String>,
        /// The kick-out they receive (reason 3).
        why: Kickout,
    },
    /// The session ended by logout: remove it from the directory.
    Detach(LoggedIn),
    /// Set (and tell the account's other devices) or read the multiport
    /// push switch; feed back [`Input::PushConfigDone`].
    PushConfig {
        /// The request's seq.
        seq: u32,
        /// The device's session.
        session: LoggedIn,
        /// The new value, or `None` to read it.
        set: Option<u32>,
    },
    /// Change or list the account's sessions on top (telling its other
    /// devices of a change); feed back [`Input::StickTopDone`].
    StickTop {
        /// The request's seq.
        seq: u32,
        /// The device's session.
        session: LoggedIn,
        /// What it asks.
        req: StickTopRequest,
    },
    /// List, read, change or delete the account's server-side sessions
    /// (telling its other devices of a change); feed back
    /// [`Input::ServerSessionDone`].
    ServerSession {
        /// The request's seq.
        seq: u32,
        /// The device's session.
        session: LoggedIn,
        /// What it asks.
        req: ServerSessionRequest,
    },
    /// Store the device's push token; feed back [`Input::PushTokenDone`].
    PushToken {
        /// The request's seq.
        seq: u32,
        /// The device's session.
        session: LoggedIn,
        /// The token.
        token: PushToken,
    },
    /// Send a message (the answer comes back as a push).
    SendMsg {
        /// The request's seq.
        seq: u32,
        /// The sender.
        session: LoggedIn,
        /// The message.
        msg: Box<ImMessage>,
    },
    /// Send a custom notification (the answer comes back as a push).
    SendSysMsg {
        /// The request's seq.
        seq: u32,
        /// The sender.
        session: LoggedIn,
        /// The notification.
        sysmsg: Box<SysMsg>,
    },
    /// Record a session change (the answer comes back as a push).
    SessionChange {
        /// The request's seq.
        seq: u32,
        /// The device's session.
        session: LoggedIn,
        /// A deletion (else a read mark).
        delete: bool,
        /// The change.
        change: SessionChange,
    },
    /// A read receipt or a recall (the answer comes back as a push).
    Note {
        /// The request's seq.
        seq: u32,
        /// The device's session.
        session: LoggedIn,
        /// What is asked.
        req: NoteRequest,
    },
    /// Read the log after a cursor; feed back [`Input::SyncDone`].
    Sync {
        /// The request's seq.
        seq: u32,
        /// The device's session.
        session: LoggedIn,
        /// The request.
        req: SyncRequest,
    },
    /// The device applied its log up to this position.
    CursorAck {
        /// The device's session.
        session: LoggedIn,
        /// The position.
        cursor: u64,
    },
    /// Query history; feed back [`Input::HistoryDone`].
    History {
        /// The request's seq.
        seq: u32,
        /// The device's session.
        session: LoggedIn,
        /// The query.
        query: HistoryQuery,
    },
    /// End the connection after writing what is queued; `graceful` also
    /// shuts the write side down, so the last frames are not lost to a reset.
    Close {
        /// Shut down the write side after flushing.
        graceful: bool,
    },
}

/// The actions of one input, in order. Most inputs give one action, which
/// stays inline; more spill to the heap.
#[derive(Debug, Default)]
pub struct Actions {
    first: Option<Action>,
    rest: Vec<Action>,
}

impl Actions {
    /// Appends an action.
    pub fn push(&mut self, a: Action) {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(a);
        } else {
            self.rest.push(a);
        }
    }

    /// Takes the next action out, in order.
    pub fn pop(&mut self) -> Option<Action> {
        match self.first.take() {
            Some(a) => Some(a),
            None if self.rest.is_empty() => None,
            None => Some(self.rest.remove(0)),
        }
    }

    /// How many actions there are.
    pub fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The actions as a vector (for tests and inspection).
    pub fn to_vec(self) -> Vec<Action> {
        self.into_iter().collect()
    }
}

impl IntoIterator for Actions {
    type Item = Action;
    type IntoIter = std::iter::Chain<std::option::IntoIter<Action>, std::vec::IntoIter<Action>>;
    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.rest)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    AwaitHello,
    Open,
    Closed,
}

/// The kind of an entry's text: the key right after `seq` (`note_text` in
/// messaging), not one a message carries.
fn entry_kind(text: &str) -> Option<magpie_store::EntryKind> {
    let rest = text
        .strip_prefix(r#"{"seq":"#)?
        .trim_start_matches(|c: char| c.is_ascii_digit());
    if rest.starts_with(r#","kind":"delete_self""#) {
        Some(magpie_store::EntryKind::DeleteSelf)
    } else if rest.starts_with(r#","kind":"clear_history""#) {
        Some(magpie_store::EntryKind::ClearHistory)
    } else {
        None
    }
}

/// One connection's protocol state.
#[derive(Debug)]
pub struct ServerSession {
    phase: Phase,
    session: Option<LoggedIn>,
    deadline: Instant,
    /// The connection's whole budget for HELLO and a successful LOGIN:
    /// accepted + handshake timeout. Frames before the login (heartbeats
    /// included) do not extend it.
    login_by: Instant,
    /// The protocol version agreed in the hello.
    version: u16,
}

fn error(seq: u32, code: ResCode, desc: impl Into<String>, fatal: bool) -> Action {
    Action::Send(ServerFrame::Error {
        seq,
        body: ErrorBody {
            code,
            desc: desc.into(),
            fatal,
        },
    })
}

impl ServerSession {
    /// A connection accepted at `now`: it has the handshake timeout to say HELLO.
    pub fn new(cfg: &SessionConfig, now: Instant) -> ServerSession {
        ServerSession {
            phase: Phase::AwaitHello,
            session: None,
            deadline: now + cfg.handshake_timeout,
            login_by: now + cfg.handshake_timeout,
            version: MIN_PROTOCOL_VERSION,
        }
    }

    /// When the connection times out unless a frame arrives first.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The protocol version agreed in the hello.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The logged-in session, if any.
    pub fn session(&self) -> Option<&LoggedIn> {
        self.session.as_ref()
    }

    /// Takes the session out, when the connection ends: the caller detaches it.
    pub fn take_session(&mut self) -> Option<LoggedIn> {
        self.session.take()
    }

    /// True once HELLO was exchanged and until the machine asks to close.
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// True once the machine asked to close.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    fn close(&mut self, graceful: bool, out: &mut Actions) {
        self.phase = Phase::Closed;
        out.push(Action::Close { graceful });
    }

    /// Handles one input at `now`, appending the actions to `out`.
    pub fn handle(&mut self, cfg: &SessionConfig, now: Instant, input: Input, out: &mut Actions) {
        if self.phase == Phase::Closed {
            return;
        }
        match input {
            Input::Frame(f) => self.frame(cfg, now, f, out),
            Input::BadFrame(e) if self.phase == Phase::AwaitHello => {
                // Not even a frame we know as the first one: not Magpie's
                // protocol (docs/protocol.md: 997, then close).
                out.push(error(
                    e.seq(),
                    ResCode::INVALID_PROTOCOL,
                    format!("the first frame must be HELLO: {e}"),
                    true,
                ));
                self.close(false, out);
            }
            Input::BadFrame(e) => {
                let fatal = e.skippable().is_none();
                out.push(error(e.seq(), e.code(), e.to_string(), fatal));
                if fatal {
                    self.close(false, out);
                }
            }
            Input::Push(p) => self.push(p, out),
            Input::LoginDone { seq, outcome } => {
                if outcome.session.is_some() {
                    self.session = outcome.session;
                    self.deadline = now + cfg.idle_timeout;
                }
                out.push(Action::Send(ServerFrame::LoginAck {
                    seq,
                    body: outcome.ack,
                }));
            }
            Input::SyncDone { seq, batch } => {
                out.push(Action::Send(ServerFrame::SyncBatch { seq, body: batch }))
            }
            Input::HistoryDone { seq, result } => {
                out.push(Action::Send(ServerFrame::HistoryResult {
                    seq,
                    body: result,
                }))
            }
            Input::PushConfigDone { seq, result } => {
                let (code, switch_open) = match result {
                    Ok(v) => (ResCode::SUCCESS, v),
                    Err(c) => (c, 0),
                };
                out.push(Action::Send(ServerFrame::PushConfigAck {
                    seq,
                    body: PushConfigAck { code, switch_open },
                }));
            }
            Input::StickTopDone { seq, ack } => {
                out.push(Action::Send(ServerFrame::StickTopAck { seq, body: ack }))
            }
            Input::ServerSessionDone { seq, ack } => {
                out.push(Action::Send(ServerFrame::ServerSessionAck {
                    seq,
                    body: Box::new(ack),
                }))
            }
            Input::PushTokenDone { seq, code } => {
                out.push(Action::Send(ServerFrame::PushTokenAck {
                    seq,
                    body: CodeAck { code },
                }));
            }
            Input::KickOtherDone { seq, result } => {
                let (err_code, device_ids) = match result {
                    Ok(ids) => (ResCode::SUCCESS, ids),
                    Err(code) => (code, Vec::new()),
                };
                out.push(Action::Send(ServerFrame::KickOtherAck {
                    seq,
                    body: KickOtherAck {
                        err_code,
                        device_ids,
                    },
                }));
            }
            Input::Eof { buffered } => {
                if buffered > 0 {
                    let desc =
                        format!("connection ended inside a frame ({buffered} bytes buffered)");
                    out.push(error(0, ResCode::E_UNPACKET, desc, true));
                }
                self.close(false, out);
            }
            Input::SlowReader => self.close(false, out),
            Input::Timeout => {
                if now < self.deadline {
                    return;
                }
                let desc = match self.phase {
                    Phase::AwaitHello => "handshake timeout: no HELLO in time",
                    _ if self.session.is_none() => {
                        "handshake timeout: no successful LOGIN in time after connecting"
                    }
                    _ => "idle timeout: no heartbeat",
                };
                out.push(error(0, ResCode::TIMEOUT, desc, true));
                self.close(false, out);
            }
        }
    }

    fn frame(&mut self, cfg: &SessionConfig, now: Instant, f: ClientFrame, out: &mut Actions) {
        let seq = f.seq();
        if self.phase == Phase::AwaitHello {
            match f {
                ClientFrame::Hello { seq, body } => self.hello(cfg, now, seq, body, out),
                _ => {
                    out.push(error(
                        seq,
                        ResCode::INVALID_PROTOCOL,
                        "the first frame must be HELLO",
                        true,
                    ));
                    self.close(false, out);
                }
            }
            return;
        }
        // Logged in: any frame shows the link is alive. Not logged in: the
        // login budget stands, whatever arrives.
        self.deadline = if self.session.is_some() {
            now + cfg.idle_timeout
        } else {
            self.login_by
        };
        let f_is_delete = matches!(f, ClientFrame::SessionDelete { .. });
        match f {
            ClientFrame::Hello { .. } => out.push(error(
                seq,
                ResCode::INVALID,
                "HELLO was already exchanged",
                false,
            )),
            ClientFrame::Ping { seq } => out.push(Action::Send(ServerFrame::Pong { seq })),
            ClientFrame::Login { seq, body } => {
                if self.session.is_some() {
                    out.push(Action::Send(ServerFrame::LoginAck {
                        seq,
                        body: magpie_proto::frame::LoginAck {
                            code: ResCode::EXIST,
                            desc: "already logged in on this connection".into(),
                            server_time: magpie_store::now_ms(),
                            other_clients_pres: Vec::new(),
                            switch_open: 0,
                        },
                    }));
                    return;
                }
                // The app server's callback may take its whole timeout:
                // answers queued before this login (a pipelined HELLO_ACK)
                // go out first.
                if body.auth_type == auth_type::THIRD_PARTY {
                    out.push(Action::Flush);
                }
                out.push(Action::Login { seq, req: body });
            }
            ClientFrame::KickOther { seq, body } => self.kick_other(seq, body, out),
            ClientFrame::ServerTime { seq } => out.push(Action::Send(ServerFrame::ServerTimeAck {
                seq,
                body: ServerTimeAck {
                    code: ResCode::SUCCESS,
                    time: magpie_store::now_ms(),
                },
            })),
            ClientFrame::SetPushConfig { seq, body } => {
                let refuse = |code| {
                    Action::Send(ServerFrame::PushConfigAck {
                        seq,
                        body: PushConfigAck {
                            code,
                            switch_open: 0,
                        },
                    })
                };
                match &self.session {
                    None => out.push(refuse(ResCode::INVALID)),
                    Some(_) if !matches!(body.switch_open, 1 | 2) => {
                        out.push(refuse(ResCode::PARAMETER_ERROR))
                    }
                    Some(s) => out.push(Action::PushConfig {
                        seq,
                        session: s.clone(),
                        set: Some(body.switch_open),
                    }),
                }
            }
            ClientFrame::GetPushConfig { seq } => match &self.session {
                None => out.push(Action::Send(ServerFrame::PushConfigAck {
                    seq,
                    body: PushConfigAck {
                        code: ResCode::INVALID,
                        switch_open: 0,
                    },
                })),
                Some(s) => out.push(Action::PushConfig {
                    seq,
                    session: s.clone(),
                    set: None,
                }),
            },
            ClientFrame::StickTop { seq, body } => {
                use magpie_proto::frame::stick_top_action as act;
                let refuse = |code| {
                    Action::Send(ServerFrame::StickTopAck {
                        seq,
                        body: StickTopAck {
                            code,
                            info: None,
                            list: Vec::new(),
                        },
                    })
                };
                let about_a_session = matches!(body.action, act::SET | act::UPDATE | act::CANCEL);
                let valid = body.action == act::LIST
                    || (about_a_session
                        && !body.id.is_empty()
                        && body.id.len() <= MAX_STICK_TOP_ID
                        && body.ext.len() <= MAX_STICK_TOP_EXT);
                match &self.session {
                    None => out.push(refuse(ResCode::INVALID)),
                    Some(_) if !valid => out.push(refuse(ResCode::PARAMETER_ERROR)),
                    Some(s) => out.push(Action::StickTop {
                        seq,
                        session: s.clone(),
                        req: body,
                    }),
                }
            }
            ClientFrame::ServerSession { seq, body } => {
                let refuse = |code| {
                    Action::Send(ServerFrame::ServerSessionAck {
                        seq,
                        body: Box::new(ServerSessionAck {
                            code,
                            info: None,
                            list: Vec::new(),
                            has_more: false,
                        }),
                    })
                };
                match &self.session {
                    None => out.push(refuse(ResCode::INVALID)),
                    Some(_) if !server_session_valid(&body) => {
                        out.push(refuse(ResCode::PARAMETER_ERROR))
                    }
                    Some(s) => out.push(Action::ServerSession {
                        seq,
                        session: s.clone(),
                        req: body,
                    }),
                }
            }
            ClientFrame::PushToken { seq, body } => {
                let refuse = |code| {
                    Action::Send(ServerFrame::PushTokenAck {
                        seq,
                        body: CodeAck { code },
                    })
                };
                match &self.session {
                    None => out.push(refuse(ResCode::INVALID)),
                    Some(_)
                        if body.token.len() > MAX_PUSH_TOKEN
                            || body.cer_name.len() > MAX_PUSH_TOKEN =>
                    {
                        out.push(refuse(ResCode::PARAMETER_ERROR))
                    }
                    Some(s) => out.push(Action::PushToken {
                        seq,
                        session: s.clone(),
                        token: body,
                    }),
                }
            }
            ClientFrame::SendMsg { seq, body } => match &self.session {
                Some(s) => out.push(Action::SendMsg {
                    seq,
                    session: s.clone(),
                    msg: Box::new(body.msg),
                }),
                None => out.push(Action::Send(ServerFrame::SendMsgAck {
                    seq,
                    body: SendMsgAck {
                        rescode: ResCode::INVALID,
                        talk_id: body.msg.to_accid,
                        msg_id: body.msg.client_msg_id,
                        msg_timetag: 0,
                        server_msg_id: 0,
                        seq: 0,
                        desc: NOT_LOGGED_IN.into(),
                    },
                })),
            },
            ClientFrame::SendSysMsg { seq, body } => match &self.session {
                Some(s) => out.push(Action::SendSysMsg {
                    seq,
                    session: s.clone(),
                    sysmsg: Box::new(body.sysmsg),
                }),
                None => out.push(Action::Send(ServerFrame::SysMsgAck {
                    seq,
                    body: SysMsgAck {
                        msg_id: body.sysmsg.client_msg_id,
                        talk_id: body.sysmsg.to_account,
                        rescode: ResCode::INVALID,
                    },
                })),
            },
            ClientFrame::SessionRead { seq, body } | ClientFrame::SessionDelete { seq, body } => {
                let delete = f_is_delete;
                match &self.session {
                    Some(s) => out.push(Action::SessionChange {
                        seq,
                        session: s.clone(),
                        delete,
                        change: body,
                    }),
                    None => out.push(Action::Send(ServerFrame::SessionAck {
                        seq,
                        body: SessionChangeAck {
                            rescode: ResCode::INVALID,
                            seq: 0,
                        },
                    })),
                }
            }
            ClientFrame::Sync { seq, body } => match &self.session {
                Some(s) => out.push(Action::Sync {
                    seq,
                    session: s.clone(),
                    req: body,
                }),
                None => out.push(Action::Send(ServerFrame::SyncBatch {
                    seq,
                    body: SyncBatch {
                        code: ResCode::INVALID,
                        entries: Vec::new(),
                        from: 0,
                        head: 0,
                    },
                })),
            },
            ClientFrame::CursorAck { body, .. } => {
                if let Some(s) = &self.session {
                    out.push(Action::CursorAck {
                        session: s.clone(),
                        cursor: body.cursor,
                    });
                }
            }
            ClientFrame::Recall { seq, .. }
            | ClientFrame::Receipt { seq, .. }
            | ClientFrame::DeleteSelf { seq, .. }
            | ClientFrame::ClearHistory { seq, .. } => {
                let req = match f {
                    ClientFrame::Recall { body, .. } => NoteRequest::Recall(body),
                    ClientFrame::Receipt { body, .. } => NoteRequest::Receipt(body),
                    ClientFrame::DeleteSelf { body, .. } => NoteRequest::DeleteSelf(body),
                    ClientFrame::ClearHistory { body, .. } => NoteRequest::ClearHistory(body),
                    _ => unreachable!("matched above"),
                };
                match &self.session {
                    Some(s) => out.push(Action::Note {
                        seq,
                        session: s.clone(),
                        req,
                    }),
                    None => out.push(Action::Send(ServerFrame::SessionAck {
                        seq,
                        body: SessionChangeAck {
                            rescode: ResCode::INVALID,
                            seq: 0,
                        },
                    })),
                }
            }
            ClientFrame::History { seq, body } => match &self.session {
                Some(s) => out.push(Action::History {
                    seq,
                    session: s.clone(),
                    query: body,
                }),
                None => out.push(Action::Send(ServerFrame::HistoryResult {
                    seq,
                    body: Box::new(HistoryResult {
                        rescode: ResCode::INVALID,
                        content: Vec::new(),
                    }),
                })),
            },
            ClientFrame::Logout { seq, body } => {
                if !logout_type::is_valid(body.logout_type) {
                    out.push(Action::Send(ServerFrame::LogoutAck {
                        seq,
                        body: CodeAck {
                            code: ResCode::PARAMETER_ERROR,
                        },
                    }));
                    return;
                }
                if let Some(s) = self.session.take() {
                    out.push(Action::Detach(s));
                }
                out.push(Action::Send(ServerFrame::LogoutAck {
                    seq,
                    body: CodeAck {
                        code: ResCode::SUCCESS,
                    },
                }));
                self.close(true, out);
            }
            _ => out.push(error(
                seq,
                ResCode::INVALID,
                "operation not supported",
                false,
            )),
        }
    }

    fn hello(&mut self, cfg: &SessionConfig, _now: Instant, seq: u32, h: Hello, out: &mut Actions) {
        let common = h.version.min(PROTOCOL_VERSION);
        let ok = h.min_version <= common && common >= MIN_PROTOCOL_VERSION;
        out.push(Action::Send(ServerFrame::HelloAck {
            seq,
            body: HelloAck {
                code: if ok {
                    ResCode::SUCCESS
                } else {
                    ResCode::VERSION_ERROR
                },
                version: if ok { common } else { PROTOCOL_VERSION },
                heartbeat_ms: cfg.heartbeat.as_millis() as u64,
                idle_timeout_ms: cfg.idle_timeout.as_millis() as u64,
                max_frame: cfg.max_frame,
                server_time: magpie_store::now_ms(),
            },
        }));
        if ok {
            self.version = common;
            self.phase = Phase::Open;
            self.deadline = self.login_by;
        } else {
            self.close(false, out);
        }
    }

    fn kick_other(&mut self, seq: u32, req: KickOtherRequest, out: &mut Actions) {
        let refuse = |code| {
            Action::Send(ServerFrame::KickOtherAck {
                seq,
                body: KickOtherAck {
                    err_code: code,
                    device_ids: Vec::new(),
                },
            })
        };
        let Some(s) = &self.session else {
            out.push(refuse(ResCode::INVALID));
            return;
        };
        if req.device_ids.is_empty() || req.device_ids.len() > MAX_KICK_OTHER {
            out.push(refuse(ResCode::PARAMETER_ERROR));
            return;
        }
        out.push(Action::KickOther {
            seq,
            why: Kickout::by_own_device(s.client_type, s.custom_client_type),
            session: s.clone(),
            device_ids: req.device_ids,
        });
    }

    fn push(&mut self, p: Push, out: &mut Actions) {
        match p {
            Push::MultiSpot(body) => out.push(Action::Send(ServerFrame::MultiSpot { body })),
            // Version 1 SDKs take an operation they do not know for a
            // broken link: they learn the switch at their next login.
            Push::PushConfig(_) if self.version < 2 => {}
            Push::PushConfig(switch_open) => out.push(Action::Send(ServerFrame::PushConfig {
                body: PushConfig { switch_open },
            })),
            // Entries an older SDK cannot read (a one-way deletion before
            // version 4, a cleared history before 5): left out here and
            // from its sync.
            Push::Entry(text)
                if entry_kind(&text)
                    .is_some_and(|k| crate::messaging::unknown_to(self.version, k)) => {}
            Push::Entry(text) => out.push(Action::Send(ServerFrame::Entry {
                body: EntryWire::Raw(text),
            })),
            Push::SendMsgAck(seq, body) => {
                out.push(Action::Send(ServerFrame::SendMsgAck { seq, body: *body }))
            }
            Push::SysMsgAck(seq, body) => {
                out.push(Action::Send(ServerFrame::SysMsgAck { seq, body: *body }))
            }
            Push::SessionAck(seq, body) => {
                out.push(Action::Send(ServerFrame::SessionAck { seq, body: *body }))
            }
            // Older SDKs do not know the push: they read the list when asked.
            Push::StickTop(_) if self.version < 3 => {}
            Push::StickTop(body) => {
                out.push(Action::Send(ServerFrame::StickTopChanged { body: *body }))
            }
            Push::ServerSession(_) if self.version < 5 => {}
            Push::ServerSession(body) => {
                out.push(Action::Send(ServerFrame::ServerSessionChanged {
                    body: *body,
                }))
            }
            Push::Kickout(body) => {
                // The directory has removed this session already.
                self.session = None;
                out.push(Action::Send(ServerFrame::Kickout { body }));
                self.close(true, out);
            }
            Push::Replaced => {
                // Another connection of this same device took over. Say so,
                // so a second instance sharing the device id stops instead
                // of fighting over the session.
                self.session = None;
                out.push(error(
                    0,
                    ResCode::EXIST,
                    "replaced by a newer connection of the same device",
                    true,
                ));
                self.close(false, out);
            }
            other => tracing::warn!(push = ?other, "a push this server does not handle"),
        }
    }
}

/// Whether a SERVER_SESSION names what its action needs: a session id
/// for GET and UPDATE (an extension within bounds), 1 to
/// [`MAX_SERVER_SESSION_DELETE`] sessions for DELETE.
fn server_session_valid(r: &ServerSessionRequest) -> bool {
    use magpie_proto::frame::server_session_action as act;
    let id_ok = |id: &str| !id.is_empty() && id.len() <= MAX_STICK_TOP_ID;
    match r.action {
        act::LIST => r.min_time >= 0 && r.max_time >= 0,
        act::GET => id_ok(&r.id),
        // Magpie keeps P2P sessions only (it has no teams).
        act::UPDATE => {
            r.to_type == 0
                && magpie_store::AccountId::parse(&r.id).is_ok()
                && r.ext.len() <= MAX_SERVER_SESSION_EXT
        }
        act::DELETE => {
            (1..=MAX_SERVER_SESSION_DELETE).contains(&r.sessions.len())
                && r.sessions.iter().all(|k| id_ok(&k.id))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use magpie_bus::AccountKey;
    use magpie_proto::codec::decode_client;
    use magpie_proto::frame::{LoginAck, LogoutRequest};
    use magpie_proto::types::{kick_reason, MultiSpot};
    use magpie_store::AccountId;

    const HANDSHAKE: Duration = Duration::from_secs(10);
    const IDLE: Duration = Duration::from_secs(35);

    fn cfg() -> SessionConfig {
        SessionConfig {
            handshake_timeout: HANDSHAKE,
            idle_timeout: IDLE,
            heartbeat: Duration::from_secs(10),
            max_frame: 65536,
        }
    }

    /// A machine on a fake clock: `at(ms)` is the instant `ms` after start.
    struct Fake {
        m: ServerSession,
        t0: Instant,
    }

    impl Fake {
        fn new() -> Fake {
            let t0 = Instant::now();
            Fake {
                m: ServerSession::new(&cfg(), t0),
                t0,
            }
        }

        fn at(&self, ms: u64) -> Instant {
            self.t0 + Duration::from_millis(ms)
        }

        fn feed(&mut self, ms: u64, input: Input) -> Vec<Action> {
            let mut out = Actions::default();
            self.m.handle(&cfg(), self.at(ms), input, &mut out);
            out.to_vec()
        }

        fn hello(&mut self, ms: u64) {
            let a = self.feed(ms, Input::Frame(hello(1, 1)));
            assert!(
                matches!(&a[..], [Action::Send(ServerFrame::HelloAck { body, .. })] if body.code == ResCode::SUCCESS)
            );
        }

        fn logged_in(&mut self, ms: u64) -> LoggedIn {
            if !self.m.is_open() {
                self.hello(ms);
            }
            let s = me();
            let a = self.feed(
                ms,
                Input::LoginDone {
                    seq: 2,
                    outcome: LoginOutcome {
                        ack: ack(ResCode::SUCCESS),
                        session: Some(s.clone()),
                    },
                },
            );
            assert!(matches!(
                &a[..],
                [Action::Send(ServerFrame::LoginAck { seq: 2, .. })]
            ));
            assert_eq!(self.m.session(), Some(&s));
            s
        }
    }

    fn hello(version: u16, min_version: u16) -> ClientFrame {
        ClientFrame::Hello {
            seq: 1,
            body: Hello {
                version,
                min_version,
                sdk_version: "t".into(),
            },
        }
    }

    fn me() -> LoggedIn {
        LoggedIn {
            key: AccountKey::new(1, AccountId::parse("alice").unwrap()),
            app_key: "k".into(),
            client_type: 4,
            custom_client_type: 9,
            device_id: "dev".into(),
            nick: "Alice".into(),
        }
    }

    fn ack(code: ResCode) -> LoginAck {
        LoginAck {
            code,
            desc: String::new(),
            server_time: 0,
            other_clients_pres: Vec::new(),
            switch_open: 0,
        }
    }

    fn error_of(a: &Action) -> (ResCode, bool, String) {
        match a {
            Action::Send(ServerFrame::Error { body, .. }) => {
                (body.code, body.fatal, body.desc.clone())
            }
            other => panic!("expected an error frame, got {other:?}"),
        }
    }

    fn is_close(a: &Action, graceful: bool) -> bool {
        matches!(a, Action::Close { graceful: g } if *g == graceful)
    }

    #[test]
    fn a_silent_connection_is_closed_when_the_handshake_timeout_passes() {
        let mut f = Fake::new();
        assert_eq!(f.m.deadline(), f.at(10_000));
        assert!(f.feed(9_999, Input::Timeout).is_empty(), "not yet");
        let a = f.feed(10_000, Input::Timeout);
        assert_eq!(
            error_of(&a[0]),
            (
                ResCode::TIMEOUT,
                true,
                "handshake timeout: no HELLO in time".into()
            )
        );
        assert!(is_close(&a[1], false) && f.m.is_closed());
        assert!(
            f.feed(10_001, Input::Frame(hello(1, 1))).is_empty(),
            "closed is closed"
        );
    }

    #[test]
    fn heartbeats_push_the_idle_deadline_and_silence_ends_the_connection() {
        let mut f = Fake::new();
        f.logged_in(1_000);
        assert_eq!(f.m.deadline(), f.at(1_000) + IDLE);
        let a = f.feed(20_000, Input::Frame(ClientFrame::Ping { seq: 5 }));
        assert!(matches!(
            &a[..],
            [Action::Send(ServerFrame::Pong { seq: 5 })]
        ));
        assert_eq!(f.m.deadline(), f.at(20_000) + IDLE);
        assert!(f.feed(54_999, Input::Timeout).is_empty());
        let a = f.feed(55_000, Input::Timeout);
        assert_eq!(error_of(&a[0]).0, ResCode::TIMEOUT);
        assert_eq!(error_of(&a[0]).2, "idle timeout: no heartbeat");
        assert!(is_close(&a[1], false));
    }

    #[test]
    fn without_a_login_the_handshake_budget_stands_whatever_arrives() {
        let mut f = Fake::new();
        f.hello(1_000);
        // HELLO does not buy time: the budget runs from the accept.
        assert_eq!(f.m.deadline(), f.at(10_000));
        // Heartbeats are answered but do not extend it either.
        for ms in [3_000, 6_000, 9_000] {
            let a = f.feed(ms, Input::Frame(ClientFrame::Ping { seq: 5 }));
            assert!(matches!(&a[..], [Action::Send(ServerFrame::Pong { .. })]));
            assert_eq!(f.m.deadline(), f.at(10_000));
        }
        // A refused login leaves it as it was.
        f.feed(
            9_500,
            Input::LoginDone {
                seq: 2,
                outcome: LoginOutcome {
                    ack: ack(ResCode::UID_PASS_ERROR),
                    session: None,
                },
            },
        );
        assert_eq!(f.m.deadline(), f.at(10_000));
        let a = f.feed(10_000, Input::Timeout);
        assert_eq!(
            error_of(&a[0]),
            (
                ResCode::TIMEOUT,
                true,
                "handshake timeout: no successful LOGIN in time after connecting".into()
            )
        );
        assert!(is_close(&a[1], false) && f.m.is_closed());
        // A login in time switches to the idle timeout.
        let mut f = Fake::new();
        f.hello(0);
        f.logged_in(9_000);
        assert_eq!(f.m.deadline(), f.at(9_000) + IDLE);
    }

    #[test]
    fn an_unknown_first_frame_is_not_our_protocol_997_and_close() {
        let mut f = Fake::new();
        let e = decode_client(&[0, 0, 0, 5, 0x7e, 0, 0, 0, 1], 4096).unwrap_err();
        let a = f.feed(0, Input::BadFrame(e));
        assert_eq!(error_of(&a[0]).0, ResCode::INVALID_PROTOCOL);
        assert!(error_of(&a[0]).1, "fatal");
        assert!(is_close(&a[1], false) && f.m.is_closed());
    }

    #[test]
    fn the_first_frame_must_be_hello_and_versions_must_meet() {
        let mut f = Fake::new();
        let a = f.feed(0, Input::Frame(ClientFrame::Ping { seq: 3 }));
        assert_eq!(error_of(&a[0]).0, ResCode::INVALID_PROTOCOL);
        assert!(is_close(&a[1], false));

        let mut f = Fake::new();
        let a = f.feed(0, Input::Frame(hello(9, PROTOCOL_VERSION + 1)));
        match &a[0] {
            Action::Send(ServerFrame::HelloAck { body, .. }) => {
                assert_eq!(
                    (body.code, body.version),
                    (ResCode::VERSION_ERROR, PROTOCOL_VERSION)
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(is_close(&a[1], false));

        let mut f = Fake::new();
        f.hello(0);
        let a = f.feed(1, Input::Frame(hello(1, 1)));
        assert_eq!(
            error_of(&a[0]),
            (
                ResCode::INVALID,
                false,
                "HELLO was already exchanged".into()
            )
        );
        assert_eq!(a.len(), 1, "a second HELLO does not close");
    }

    #[test]
    fn the_push_switch_reaches_only_version_2_sdks() {
        for (version, sent) in [(1, false), (2, true)] {
            let mut f = Fake::new();
            let a = f.feed(0, Input::Frame(hello(version, 1)));
            assert!(
                matches!(&a[..], [Action::Send(ServerFrame::HelloAck { body, .. })] if body.version == version)
            );
            let a = f.feed(1, Input::Push(Push::PushConfig(1)));
            assert_eq!(
                matches!(&a[..], [Action::Send(ServerFrame::PushConfig { body })] if body.switch_open == 1),
                sent,
                "version {version}: {a:?}"
            );
            assert_eq!(a.is_empty(), !sent);
        }
    }

    #[test]
    fn server_session_changes_reach_only_version_5_sdks() {
        use magpie_proto::frame::{ServerSessionChanged, ServerSessionInfo};
        for (version, sent) in [(4, false), (5, true)] {
            let mut f = Fake::new();
            f.feed(0, Input::Frame(hello(version, 1)));
            let change = ServerSessionChanged {
                info: ServerSessionInfo {
                    id: "bob".into(),
                    ext: "e".into(),
                    ..Default::default()
                },
            };
            let a = f.feed(1, Input::Push(Push::ServerSession(Box::new(change))));
            assert_eq!(
                matches!(&a[..], [Action::Send(ServerFrame::ServerSessionChanged { body })] if body.info.ext == "e"),
                sent,
                "version {version}: {a:?}"
            );
            assert_eq!(a.is_empty(), !sent);
        }
    }

    #[test]
    fn stick_top_changes_reach_only_version_3_sdks() {
        use magpie_proto::frame::{StickTopChanged, StickTopInfo};
        for (version, sent) in [(2, false), (3, true)] {
            let mut f = Fake::new();
            f.feed(0, Input::Frame(hello(version, 1)));
            let change = StickTopChanged {
                action: 1,
                info: StickTopInfo {
                    top: true,
                    id: "bob".into(),
                    ..Default::default()
                },
            };
            let a = f.feed(1, Input::Push(Push::StickTop(Box::new(change))));
            assert_eq!(
                matches!(&a[..], [Action::Send(ServerFrame::StickTopChanged { body })] if body.info.id == "bob"),
                sent,
                "version {version}: {a:?}"
            );
            assert_eq!(a.is_empty(), !sent);
        }
    }

    #[test]
    fn cleared_histories_reach_only_version_5_sdks() {
        let note =
            r#"{"seq":9,"kind":"clear_history","to_type":0,"session_id":"bob","time":1,"ext":""}"#;
        for (version, sent) in [(4, false), (5, true)] {
            let mut f = Fake::new();
            f.feed(0, Input::Frame(hello(version, 1)));
            let a = f.feed(1, Input::Push(Push::Entry(note.into())));
            assert_eq!(a.is_empty(), !sent, "version {version}: {a:?}");
        }
    }

    #[test]
    fn one_way_deletions_reach_only_version_4_sdks() {
        let note = r#"{"seq":7,"kind":"delete_self","to_type":0,"session_id":"bob","client_id":"c1","ext":"","time":1}"#;
        // A message whose text quotes the same words, or that carries such
        // a key of its own (messages keep the keys they were sent with), is
        // no deletion.
        let msg = r#"{"seq":8,"kind":"msg","msg":{"msg_body":"{\"seq\":1,\"kind\":\"delete_self\"}","kind":"delete_self"}}"#;
        assert!(serde_json::from_str::<serde_json::Value>(msg).is_ok());
        for (version, sent) in [(3, false), (4, true)] {
            let mut f = Fake::new();
            f.feed(0, Input::Frame(hello(version, 1)));
            let a = f.feed(1, Input::Push(Push::Entry(note.into())));
            assert_eq!(a.is_empty(), !sent, "version {version}: {a:?}");
            let a = f.feed(1, Input::Push(Push::Entry(msg.into())));
            assert!(
                matches!(&a[..], [Action::Send(ServerFrame::Entry { .. })]),
                "version {version}: {a:?}"
            );
        }
    }

    #[test]
    fn a_login_asks_the_service_and_a_second_one_gets_417() {
        let mut f = Fake::new();
        f.hello(0);
        let req = LoginRequest {
            auth_type: auth_type::THIRD_PARTY,
            ..Default::default()
        };
        let a = f.feed(
            1,
            Input::Frame(ClientFrame::Login {
                seq: 2,
                body: Box::new(req),
            }),
        );
        assert!(
            matches!(&a[..], [Action::Flush, Action::Login { seq: 2, .. }]),
            "{a:?}"
        );
        // A refusal keeps the connection and the machine logged out.
        let a = f.feed(
            2,
            Input::LoginDone {
                seq: 2,
                outcome: LoginOutcome {
                    ack: ack(ResCode::UID_PASS_ERROR),
                    session: None,
                },
            },
        );
        assert_eq!(a.len(), 1);
        assert!(f.m.session().is_none());
        f.logged_in(3);
        let a = f.feed(
            4,
            Input::Frame(ClientFrame::Login {
                seq: 7,
                body: Box::default(),
            }),
        );
        match &a[..] {
            [Action::Send(ServerFrame::LoginAck { seq: 7, body })] => {
                assert_eq!(body.code, ResCode::EXIST)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn logout_detaches_answers_and_closes_gracefully() {
        let mut f = Fake::new();
        let s = f.logged_in(0);
        let logout = |t| {
            Input::Frame(ClientFrame::Logout {
                seq: 9,
                body: LogoutRequest { logout_type: t },
            })
        };
        let a = f.feed(1, logout(7));
        match &a[..] {
            [Action::Send(ServerFrame::LogoutAck { body, .. })] => {
                assert_eq!(body.code, ResCode::PARAMETER_ERROR)
            }
            other => panic!("{other:?}"),
        }
        let a = f.feed(2, logout(logout_type::APP_EXIT));
        assert!(matches!(&a[0], Action::Detach(d) if *d == s));
        assert!(
            matches!(&a[1], Action::Send(ServerFrame::LogoutAck { body, .. }) if body.code == ResCode::SUCCESS)
        );
        assert!(is_close(&a[2], true));
        assert!(f.m.take_session().is_none(), "nothing left to detach");
    }

    #[test]
    fn kick_other_needs_a_session_and_1_to_20_ids_and_kicks_with_reason_3() {
        let kick = |n: usize| {
            Input::Frame(ClientFrame::KickOther {
                seq: 4,
                body: KickOtherRequest {
                    device_ids: (0..n).map(|i| format!("d{i}")).collect(),
                },
            })
        };
        let code = |a: &[Action]| match a {
            [Action::Send(ServerFrame::KickOtherAck { body, .. })] => body.err_code,
            other => panic!("{other:?}"),
        };
        let mut f = Fake::new();
        f.hello(0);
        assert_eq!(code(&f.feed(1, kick(1))), ResCode::INVALID);
        f.logged_in(2);
        assert_eq!(code(&f.feed(3, kick(0))), ResCode::PARAMETER_ERROR);
        assert_eq!(code(&f.feed(3, kick(21))), ResCode::PARAMETER_ERROR);
        let a = f.feed(4, kick(2));
        match &a[..] {
            [Action::KickOther {
                seq: 4,
                session,
                device_ids,
                why,
            }] => {
                assert_eq!(session, &me());
                assert_eq!(device_ids.len(), 2);
                assert_eq!(
                    (why.reason_code, why.client_type, why.custom_client_type),
                    (kick_reason::BY_SELF_OTHER_CLIENT, 4, 9)
                );
            }
            other => panic!("{other:?}"),
        }
        let a = f.feed(
            5,
            Input::KickOtherDone {
                seq: 4,
                result: Ok(vec!["d1".into()]),
            },
        );
        match &a[..] {
            [Action::Send(ServerFrame::KickOtherAck { seq: 4, body })] => {
                assert_eq!(
                    (body.err_code, body.device_ids.clone()),
                    (ResCode::SUCCESS, vec!["d1".to_string()])
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pushes_are_written_and_kicks_and_replacements_end_the_session() {
        let mut f = Fake::new();
        f.logged_in(0);
        let m = MultiSpot {
            multi_spot_notiy_type: 2,
            other_clients_pres: Vec::new(),
        };
        let a = f.feed(1, Input::Push(Push::MultiSpot(m.clone())));
        assert!(matches!(&a[..], [Action::Send(ServerFrame::MultiSpot { body })] if *body == m));
        let k = Kickout::by_server("bye");
        let a = f.feed(2, Input::Push(Push::Kickout(k.clone())));
        assert!(matches!(&a[0], Action::Send(ServerFrame::Kickout { body }) if *body == k));
        assert!(is_close(&a[1], true));
        assert!(f.m.session().is_none(), "the directory removed it already");

        let mut f = Fake::new();
        f.logged_in(0);
        let a = f.feed(1, Input::Push(Push::Replaced));
        assert_eq!(error_of(&a[0]).0, ResCode::EXIST);
        assert!(error_of(&a[0]).1, "fatal");
        assert!(is_close(&a[1], false));
        assert!(f.m.take_session().is_none());
    }

    #[test]
    fn broken_input_gets_its_error_and_only_framing_errors_close() {
        let mut f = Fake::new();
        f.hello(0);
        let unknown =
            magpie_proto::codec::decode_client(&[0, 0, 0, 5, 0x7f, 0, 0, 0, 3], 1024).unwrap_err();
        let a = f.feed(1, Input::BadFrame(unknown));
        assert_eq!(error_of(&a[0]).0, ResCode::INVALID);
        assert_eq!(a.len(), 1, "an unknown op is skipped");
        let big = magpie_proto::codec::decode_client(&[0, 1, 0, 0], 1024).unwrap_err();
        let a = f.feed(2, Input::BadFrame(big));
        assert_eq!(
            error_of(&a[0]),
            (
                ResCode::OVERRUN,
                true,
                "frame of 65536 bytes exceeds the maximum of 1024".into()
            )
        );
        assert!(is_close(&a[1], false));

        let mut f = Fake::new();
        f.hello(0);
        let a = f.feed(1, Input::Eof { buffered: 3 });
        assert_eq!(error_of(&a[0]).0, ResCode::E_UNPACKET);
        assert!(is_close(&a[1], false));
        let mut f = Fake::new();
        let a = f.feed(1, Input::Eof { buffered: 0 });
        assert!(matches!(&a[..], [Action::Close { graceful: false }]));
        let mut f = Fake::new();
        f.hello(0);
        assert!(matches!(
            &f.feed(1, Input::SlowReader)[..],
            [Action::Close { graceful: false }]
        ));
    }
}
