//! One client connection's task: it owns the socket and moves bytes and
//! timers for the connection's [`ServerSession`] machine, calling the
//! services the machine asks for (login, kick-other, detach).
//!
//! The task decodes whatever complete frames are buffered and feeds them to
//! the machine, queueing the answers; writes the answers in one go; then
//! waits for the first of: more bytes, a push from the bus, the close
//! signal (slow reader), the machine's deadline, or shutdown. A client that
//! sends HELLO and LOGIN together thus costs one read and one write.

use crate::apps::AppCtx;
use crate::login;
use crate::messaging;
use crate::session::{Action, Actions, Input, ServerSession, SessionConfig};
use crate::state::Shared;
use crate::webhooks::{self, LogoutKind};
use magpie_bus::{DeviceAddr, KickTarget, OutboxReceiver, Push};
use magpie_proto::codec::{decode_client, encode_server};
use magpie_proto::{Decoded, ServerFrame};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::Instant;

/// Largest frame the server writes (4 MiB).
pub const MAX_SERVER_FRAME: u32 = 4 << 20;

/// Buffers above this capacity are released once drained. Idle connections
/// are the common case, so they keep (almost) nothing between frames.
const KEEP_RBUF: usize = 64;

/// Read buffer of a connection that has not logged in yet: room for a
/// HELLO and a LOGIN sent together.
const FIRST_READ: usize = 1024;

/// Largest read of a logged-in connection (the worker thread's scratch
/// buffer).
const MAX_READ_STEP: usize = 16 << 10;

/// Queued answers are written once they reach this size, even when more
/// buffered frames wait to be handled.
const FLUSH_AT: usize = 16 << 10;

/// Most pushes already waiting in the outbox that are written together
/// with the one that woke the connection.
const PUSHES_PER_WRITE: usize = 64;

enum Flow {
    Continue,
    Close,
}

/// What queueing a frame asks for.
enum Queue {
    /// Written with the next flush.
    Later,
    /// The queue is large: write it now.
    FlushNow,
    /// The frame could not be encoded: the connection cannot go on.
    Unusable,
}

struct Conn<S> {
    shared: Arc<Shared>,
    stream: S,
    peer: SocketAddr,
    addr: DeviceAddr,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    machine: ServerSession,
    inbox: OutboxReceiver,
    /// Requests whose answer comes through the outbox (sends, session
    /// changes) not answered yet. At [`Conn::max_in_flight`] the connection
    /// stops reading until answers go out: a client that pipelines is
    /// slowed down, never taken for a slow reader because of its own acks.
    in_flight: usize,
    /// This connection's place among its address's connections that have
    /// not logged in; given back at login.
    pre_login: Option<crate::prelogin::Slot>,
    /// The session `magpie_sessions` counts for this connection: its app
    /// and client type.
    counted: Option<(Arc<str>, u32)>,
}

/// The session machine's settings, from the server's configuration.
pub(crate) fn session_config(shared: &Shared) -> SessionConfig {
    let c = &shared.config;
    SessionConfig {
        handshake_timeout: Duration::from_millis(c.handshake_timeout_ms),
        idle_timeout: Duration::from_millis(c.idle_timeout_ms),
        heartbeat: Duration::from_millis(c.heartbeat_interval_ms),
        max_frame: c.max_frame_bytes,
    }
}

/// Serves one accepted connection until it closes.
pub(crate) async fn serve<S>(
    shared: Arc<Shared>,
    stream: S,
    peer: SocketAddr,
    pre_login: crate::prelogin::Slot,
    shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (addr, inbox) = shared.bus.conns.open(shared.config.outbox_capacity);
    let machine = ServerSession::new(&session_config(&shared), std::time::Instant::now());
    let mut conn = Conn {
        shared,
        stream,
        peer,
        addr,
        rbuf: Vec::new(),
        wbuf: Vec::new(),
        machine,
        inbox,
        in_flight: 0,
        pre_login: Some(pre_login),
        counted: None,
    };
    conn.run(shutdown).await;
    // Whatever was queued before the close (a logout ack, an error).
    conn.flush().await;
    if let Some((app, t)) = conn.counted.take() {
        conn.shared.metrics.session(&app, t, -1);
    }
    if let Some(s) = conn.machine.take_session() {
        webhooks::logout(&conn.shared, &s, peer, LogoutKind::Disconnect).await;
        if let Err(e) = conn.shared.bus.detach(&s.key, addr).await {
            tracing::warn!(error = %e, "detaching a closed connection failed");
        }
    }
    conn.shared.bus.conns.close(addr.conn);
}

thread_local! {
    /// Each worker thread's read buffer: a read takes what has arrived
    /// (up to its size) here, and the connection's own buffer grows only by
    /// what came, so an idle connection keeps almost nothing.
    static SCRATCH: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; MAX_READ_STEP].into_boxed_slice());
}

/// Reads what has arrived, at most `limit` bytes, appending it to `buf`
/// (0: end of stream). One read per wake-up: a read that does not fill the
/// room tells tokio the socket is drained, so no second read is spent on
/// finding it empty.
async fn read_some<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<usize> {
    std::future::poll_fn(|cx| {
        SCRATCH.with_borrow_mut(|scratch| {
            let room = limit.min(scratch.len());
            let mut rb = tokio::io::ReadBuf::new(&mut scratch[..room]);
            match std::pin::Pin::new(&mut *stream).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => {
                    buf.extend_from_slice(rb.filled());
                    Poll::Ready(Ok(rb.filled().len()))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
    })
    .await
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    async fn run(&mut self, mut shutdown: watch::Receiver<bool>) {
        let max = self.shared.config.max_frame_bytes;
        let timer = tokio::time::sleep_until(self.machine.deadline().into());
        tokio::pin!(timer);
        loop {
            // Handle every complete frame already buffered (while answers
            // owed stay within bounds).
            loop {
                if self.in_flight >= self.max_in_flight() {
                    if !self.flush().await {
                        return;
                    }
                    break;
                }
                match decode_client(&self.rbuf, max) {
                    Ok(Decoded::Frame(frame, n)) => {
                        self.rbuf.drain(..n);
                        // Boxed: a step may call services, whose futures an
                        // idle connection should not carry between frames.
                        if let Flow::Close = Box::pin(self.step(Input::Frame(frame))).await {
                            return;
                        }
                    }
                    Ok(Decoded::NeedMore(n)) => {
                        // Before the login, read in larger steps: HELLO and
                        // LOGIN usually arrive together. A logged-in, idle
                        // connection keeps (almost) nothing.
                        let step = if self.machine.session().is_none() {
                            FIRST_READ
                        } else {
                            KEEP_RBUF
                        };
                        if self.rbuf.is_empty() && self.rbuf.capacity() > step {
                            self.rbuf = Vec::new();
                        }
                        self.rbuf
                            .reserve(n.saturating_sub(self.rbuf.len()).max(step));
                        // Answers are queued: take whatever has already
                        // arrived (the rest of a pipelined LOGIN) before
                        // writing them, so they leave in one write. One poll,
                        // no waiting; end of stream and errors are left to
                        // the read below.
                        if !self.wbuf.is_empty() {
                            let more = std::pin::pin!(self.stream.read_buf(&mut self.rbuf));
                            let mut cx = Context::from_waker(Waker::noop());
                            if let Poll::Ready(Ok(1..)) = more.poll(&mut cx) {
                                continue;
                            }
                        }
                        if !self.flush().await {
                            return;
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::debug!(peer = %self.peer, error = %e, "bad frame");
                        let skip = e.skippable();
                        if let Flow::Close = Box::pin(self.step(Input::BadFrame(e))).await {
                            return;
                        }
                        if let Some(n) = skip {
                            self.rbuf.drain(..n);
                        }
                    }
                }
            }
            let read_limit = if self.machine.session().is_none() {
                FIRST_READ
            } else {
                MAX_READ_STEP
            };
            let deadline: Instant = self.machine.deadline().into();
            if timer.deadline() != deadline {
                timer.as_mut().reset(deadline);
            }
            let input = tokio::select! {
                _ = self.inbox.closer.closed() => {
                    tracing::info!(peer = %self.peer, "closing a slow reader");
                    Input::SlowReader
                }
                p = self.inbox.rx.recv() => match p {
                    Some(p) => Input::Push(p),
                    None => return,
                },
                r = read_some(&mut self.stream, &mut self.rbuf, read_limit), if self.in_flight < self.max_in_flight() => match r {
                    Ok(0) => Input::Eof { buffered: self.rbuf.len() },
                    Ok(_) => continue,
                    Err(_) => return,
                },
                _ = &mut timer => Input::Timeout,
                _ = shutdown.changed() => return,
            };
            let pushed = matches!(input, Input::Push(_));
            if let Flow::Close = Box::pin(self.step(input)).await {
                return;
            }
            // Pushes already queued behind this one (the acks and entries of
            // one group commit) leave in the same write; then it is written
            // at once.
            if pushed {
                for _ in 0..PUSHES_PER_WRITE {
                    let Ok(p) = self.inbox.rx.try_recv() else {
                        break;
                    };
                    if let Flow::Close = Box::pin(self.step(Input::Push(p))).await {
                        return;
                    }
                }
            }
            if !self.flush().await {
                return;
            }
        }
    }

    /// Feeds one input to the machine and carries out its actions, feeding
    /// back the results of the services it asked for. Frames are queued
    /// without waiting; the service calls are boxed, so this future stays
    /// small for the many steps (hellos, heartbeats, pushes) that call none.
    async fn step(&mut self, input: Input) -> Flow {
        match &input {
            Input::Push(Push::Kickout(k)) => {
                if let Some(s) = self.machine.session().cloned() {
                    self.shared.metrics.kick(&s.app_key, k.reason_code);
                    tracing::info!(
                        peer = %self.peer,
                        app = %s.app_key,
                        account = %s.key.accid,
                        device_id = %s.device_id,
                        reason = k.reason_code,
                        by_client_type = k.client_type,
                        "kicked out"
                    );
                    let kind = LogoutKind::Kick(k.reason_code);
                    Box::pin(webhooks::logout(&self.shared, &s, self.peer, kind)).await;
                }
            }
            Input::Push(Push::MultiSpot(m)) => {
                if let Some(s) = self.machine.session() {
                    let app = s.app_key.clone();
                    self.shared.metrics.multispot(&app, m.multi_spot_notiy_type)
                }
            }
            _ => {}
        }
        let flow = self.carry_out(input).await;
        self.count_session();
        flow
    }

    /// Keeps `magpie_sessions` true when the machine's session began,
    /// ended or changed (a cheap comparison on every step).
    fn count_session(&mut self) {
        let now = self.machine.session();
        let same = match (&self.counted, now) {
            (None, None) => true,
            (Some((app, t)), Some(s)) => Arc::ptr_eq(app, &s.app_key) && *t == s.client_type,
            _ => false,
        };
        if same {
            return;
        }
        let now = now.map(|s| (s.app_key.clone(), s.client_type));
        if let Some((app, t)) = std::mem::replace(&mut self.counted, now) {
            self.shared.metrics.session(&app, t, -1);
        }
        if let Some((app, t)) = &self.counted {
            self.shared.metrics.session(app, *t, 1);
        }
    }

    /// [`Conn::step`] without the metrics.
    async fn carry_out(&mut self, input: Input) -> Flow {
        let cfg = session_config(&self.shared);
        let mut next = Some(input);
        while let Some(input) = next.take() {
            if let Input::Push(Push::SendMsgAck(..) | Push::SysMsgAck(..) | Push::SessionAck(..)) =
                &input
            {
                self.in_flight = self.in_flight.saturating_sub(1);
            }
            let mut actions = Actions::default();
            self.machine
                .handle(&cfg, std::time::Instant::now(), input, &mut actions);
            while let Some(a) = actions.pop() {
                match a {
                    Action::Send(f) => match self.queue(&f) {
                        Queue::Later => {}
                        Queue::FlushNow => {
                            if !self.flush().await {
                                return Flow::Close;
                            }
                        }
                        Queue::Unusable => return Flow::Close,
                    },
                    Action::Flush => {
                        if !self.flush().await {
                            return Flow::Close;
                        }
                    }
                    Action::Login { seq, req } => {
                        let login = login::login(&self.shared, *req, self.peer, self.addr);
                        let outcome = Box::pin(login).await;
                        if outcome.session.is_some() {
                            self.pre_login = None;
                        }
                        next = Some(Input::LoginDone { seq, outcome });
                    }
                    Action::KickOther {
                        seq,
                        session,
                        device_ids,
                        why,
                    } => {
                        let result = Box::pin(self.kick_other(session, device_ids, why)).await;
                        next = Some(Input::KickOtherDone { seq, result });
                    }
                    Action::PushConfig { seq, session, set } => {
                        let result = Box::pin(self.push_config(session, set)).await;
                        next = Some(Input::PushConfigDone { seq, result });
                    }
                    Action::StickTop { seq, session, req } => {
                        let ack = Box::pin(self.stick_top(session, req)).await;
                        next = Some(Input::StickTopDone { seq, ack });
                    }
                    Action::ServerSession { seq, session, req } => {
                        let ack = Box::pin(self.server_session(session, req)).await;
                        next = Some(Input::ServerSessionDone { seq, ack });
                    }
                    Action::PushToken {
                        seq,
                        session,
                        token,
                    } => {
                        let stored = self.shared.stores.accounts.set_push_token(
                            session.key.app_id,
                            &session.key.accid,
                            &session.device_id,
                            &token.token,
                            &token.cer_name,
                        );
                        let code = match Box::pin(stored).await {
                            Ok(()) => magpie_proto::ResCode::SUCCESS,
                            Err(e) => {
                                tracing::error!(error = %e, "storing a push token failed");
                                magpie_proto::ResCode::TOO_BUSY
                            }
                        };
                        next = Some(Input::PushTokenDone { seq, code });
                    }
                    Action::Detach(s) => {
                        tracing::debug!(peer = %self.peer, account = %s.key.accid, "logout");
                        let event =
                            webhooks::logout(&self.shared, &s, self.peer, LogoutKind::Logout);
                        Box::pin(event).await;
                        let detach = self.shared.bus.detach(&s.key, self.addr);
                        if let Err(e) = Box::pin(detach).await {
                            tracing::warn!(error = %e, "detaching a logged-out session failed");
                        }
                    }
                    Action::SendMsg { seq, session, msg } => {
                        self.in_flight += 1;
                        let what = messaging::RefusedWhat::Msg {
                            client_msg_id: msg.client_msg_id.clone(),
                            talk_id: msg.to_accid.clone(),
                        };
                        let origin = self.origin(&session, seq);
                        let sent = Box::pin(self.send_msg(origin.clone(), session, *msg)).await;
                        if let Err(r) = sent {
                            next = messaging::refused_answer(&origin, what, &r)
                                .map(|e| Input::Push(e.push));
                        }
                    }
                    Action::SendSysMsg {
                        seq,
                        session,
                        sysmsg,
                    } => {
                        self.in_flight += 1;
                        let what = messaging::RefusedWhat::SysMsg {
                            client_msg_id: sysmsg.client_msg_id.clone(),
                            talk_id: sysmsg.to_account.clone(),
                        };
                        let origin = self.origin(&session, seq);
                        let sent =
                            Box::pin(self.send_sysmsg(origin.clone(), session, *sysmsg)).await;
                        if let Err(r) = sent {
                            next = messaging::refused_answer(&origin, what, &r)
                                .map(|e| Input::Push(e.push));
                        }
                    }
                    Action::SessionChange {
                        seq,
                        session,
                        delete,
                        change,
                    } => {
                        self.in_flight += 1;
                        let origin = self.origin(&session, seq);
                        let key = &session.key;
                        let r = self.shared.messaging.session_change(
                            key.app_id,
                            origin.clone(),
                            &key.accid,
                            delete,
                            change,
                        );
                        if let Err(r) = r {
                            next = messaging::refused_answer(
                                &origin,
                                messaging::RefusedWhat::Session,
                                &r,
                            )
                            .map(|e| Input::Push(e.push));
                        }
                    }
                    Action::Note { seq, session, req } => {
                        self.in_flight += 1;
                        let origin = self.origin(&session, seq);
                        let key = &session.key;
                        let r = Box::pin(self.shared.messaging.note_request(
                            &self.shared,
                            key.app_id,
                            origin.clone(),
                            &key.accid,
                            req,
                        ))
                        .await;
                        if let Err(r) = r {
                            next = messaging::refused_answer(
                                &origin,
                                messaging::RefusedWhat::Session,
                                &r,
                            )
                            .map(|e| Input::Push(e.push));
                        }
                    }
                    Action::Sync { seq, session, req } => {
                        let key = &session.key;
                        let sync = self.shared.messaging.sync(
                            &self.shared,
                            key.app_id,
                            &key.accid,
                            req.cursor,
                            req.limit,
                            self.machine.version(),
                        );
                        let batch = Box::pin(sync).await;
                        next = Some(Input::SyncDone { seq, batch });
                    }
                    Action::CursorAck { session, cursor } => {
                        let key = &session.key;
                        self.shared
                            .messaging
                            .delivered(key.app_id, &key.accid, cursor);
                    }
                    Action::History {
                        seq,
                        session,
                        query,
                    } => {
                        let key = &session.key;
                        let history = self.shared.messaging.history(
                            &self.shared,
                            key.app_id,
                            &key.accid,
                            query,
                        );
                        let result = Box::new(Box::pin(history).await);
                        next = Some(Input::HistoryDone { seq, result });
                    }
                    Action::Close { graceful } => {
                        if graceful {
                            self.flush().await;
                            let _ = self.stream.shutdown().await;
                        }
                        return Flow::Close;
                    }
                }
            }
        }
        Flow::Continue
    }

    fn origin(&self, session: &login::LoggedIn, seq: u32) -> messaging::Origin {
        messaging::Origin::Device {
            session: session.clone(),
            addr: self.addr,
            seq,
        }
    }

    async fn app_of(&self, session: &login::LoggedIn) -> Result<Arc<AppCtx>, messaging::Refused> {
        match self.shared.apps.get(&session.app_key).await {
            Ok(Some(a)) => Ok(a),
            _ => Err(messaging::Refused {
                code: magpie_proto::ResCode::TOO_BUSY,
                desc: "the app is unavailable".into(),
            }),
        }
    }

    async fn send_msg(
        &self,
        origin: messaging::Origin,
        session: login::LoggedIn,
        msg: magpie_proto::msg::ImMessage,
    ) -> Result<(), messaging::Refused> {
        let app = self.app_of(&session).await?;
        let device = Some((session.client_type, &*session.device_id, &*session.nick));
        self.shared
            .messaging
            .send_msg(&self.shared, &app, origin, &session.key.accid, device, msg)
            .await
    }

    async fn send_sysmsg(
        &self,
        origin: messaging::Origin,
        session: login::LoggedIn,
        n: magpie_proto::msg::SysMsg,
    ) -> Result<(), messaging::Refused> {
        let app = self.app_of(&session).await?;
        self.shared
            .messaging
            .send_sysmsg(&self.shared, &app, origin, &session.key.accid, n)
            .await
    }

    /// Kicks the listed devices of the kicker's account (reason 3, never
    /// the kicker); the device ids kicked, or the code of a failure.
    async fn kick_other(
        &self,
        session: login::LoggedIn,
        device_ids: Vec<String>,
        why: magpie_proto::types::Kickout,
    ) -> Result<Vec<String>, magpie_proto::ResCode> {
        let target = KickTarget::Devices(device_ids);
        match self
            .shared
            .bus
            .kick(&session.key, &target, &why, Some(self.addr))
            .await
        {
            Ok(k) => Ok(k.kicked.into_iter().map(|s| s.presence.device_id).collect()),
            Err(e) => {
                tracing::error!(error = %e, "kick-other failed");
                Err(magpie_proto::ResCode::TOO_BUSY)
            }
        }
    }

    /// Sets the account's multiport push switch and tells its other online
    /// devices, or reads it: the switch as it now is.
    async fn push_config(
        &self,
        session: login::LoggedIn,
        set: Option<u32>,
    ) -> Result<u32, magpie_proto::ResCode> {
        let accounts = &self.shared.stores.accounts;
        let (app_id, accid) = (session.key.app_id, &session.key.accid);
        let busy = |e: &dyn std::fmt::Display| {
            tracing::error!(error = %e, "the multiport push switch failed");
            magpie_proto::ResCode::TOO_BUSY
        };
        if let Some(v) = set {
            accounts
                .set_switch_open(app_id, accid, v)
                .await
                .map_err(|e| busy(&e))?;
            let push = magpie_bus::Push::PushConfig(v);
            if let Err(e) = self
                .shared
                .bus
                .tell_others(&session.key, self.addr, push)
                .await
            {
                tracing::warn!(error = %e, "telling the other devices of a push switch failed");
            }
            return Ok(v);
        }
        match accounts.account(app_id, accid).await {
            Ok(Some(a)) => Ok(a.switch_open),
            Ok(None) => Err(magpie_proto::ResCode::NOT_EXIST),
            Err(e) => Err(busy(&e)),
        }
    }

    /// Changes the account's sessions on top and tells its other online
    /// devices (those offline read the list when they ask), or lists them.
    async fn stick_top(
        &self,
        session: login::LoggedIn,
        req: magpie_proto::frame::StickTopRequest,
    ) -> magpie_proto::frame::StickTopAck {
        use magpie_proto::frame::{stick_top_action as act, StickTopAck, StickTopChanged};
        use magpie_store::StickTopChange;
        let accounts = &self.shared.stores.accounts;
        let (app_id, accid) = (session.key.app_id, &session.key.accid);
        let failed = |code| StickTopAck {
            code,
            info: None,
            list: Vec::new(),
        };
        let busy = |e: &dyn std::fmt::Display| {
            tracing::error!(error = %e, "a stick-top request failed");
            failed(magpie_proto::ResCode::TOO_BUSY)
        };
        let (to_type, session_id) = (req.to_type, req.id);
        let change = match req.action {
            act::LIST => {
                return match accounts.stick_tops(app_id, accid).await {
                    Ok(list) => StickTopAck {
                        code: magpie_proto::ResCode::SUCCESS,
                        info: None,
                        list: list.into_iter().map(|t| stick_top_info(t, true)).collect(),
                    },
                    Err(e) => busy(&e),
                };
            }
            act::SET => StickTopChange::Set {
                to_type,
                session_id,
                ext: req.ext,
            },
            act::UPDATE => StickTopChange::Update {
                to_type,
                session_id,
                ext: req.ext,
            },
            _ => StickTopChange::Cancel {
                to_type,
                session_id,
            },
        };
        let now = magpie_store::now_ms();
        let info = match accounts.change_stick_top(app_id, accid, change, now).await {
            Ok(t) => stick_top_info(t, req.action != act::CANCEL),
            Err(magpie_store::StoreError::NotFound) => {
                return failed(magpie_proto::ResCode::NOT_EXIST)
            }
            Err(magpie_store::StoreError::Conflict) => {
                return failed(magpie_proto::ResCode::OVERRUN)
            }
            Err(e) => return busy(&e),
        };
        let push = magpie_bus::Push::StickTop(Box::new(StickTopChanged {
            action: req.action,
            info: info.clone(),
        }));
        if let Err(e) = self
            .shared
            .bus
            .tell_others(&session.key, self.addr, push)
            .await
        {
            tracing::warn!(error = %e, "telling the other devices of a session on top failed");
        }
        StickTopAck {
            code: magpie_proto::ResCode::SUCCESS,
            info: Some(info),
            list: Vec::new(),
        }
    }

    /// NIM's session service: lists or reads the account's server-side
    /// sessions, or changes them through the message writer (telling the
    /// account's other online devices of a new extension).
    async fn server_session(
        &self,
        session: login::LoggedIn,
        req: magpie_proto::frame::ServerSessionRequest,
    ) -> magpie_proto::frame::ServerSessionAck {
        use magpie_proto::frame::{
            server_session_action as act, ServerSessionAck, ServerSessionChanged,
        };
        use magpie_proto::ResCode;
        use magpie_store::{Append, SessionQuery};
        let messages = &self.shared.stores.messages;
        let (app_id, accid) = (session.key.app_id, &session.key.accid);
        let answer = |code| ServerSessionAck {
            code,
            info: None,
            list: Vec::new(),
            has_more: false,
        };
        let busy = |e: &dyn std::fmt::Display| {
            tracing::error!(error = %e, "a server-side session request failed");
            answer(ResCode::TOO_BUSY)
        };
        // A P2P session's id is an accid, as the messages store it.
        let norm = |to_type: u32, id: String| match (to_type, magpie_store::AccountId::parse(&id)) {
            (0, Ok(a)) => a.as_str().to_owned(),
            _ => id,
        };
        let mut req = req;
        req.id = norm(req.to_type, std::mem::take(&mut req.id));
        for k in &mut req.sessions {
            k.id = norm(k.to_type, std::mem::take(&mut k.id));
        }
        match req.action {
            act::LIST => {
                let limit = match req.limit {
                    0 => magpie_store::message::MAX_SESSION_PAGE,
                    n => n.min(magpie_store::message::MAX_SESSION_PAGE),
                };
                let q = SessionQuery {
                    min_time: req.min_time,
                    max_time: req.max_time,
                    limit,
                };
                match messages.server_sessions(app_id, accid, q).await {
                    Ok(page) => ServerSessionAck {
                        list: page
                            .sessions
                            .into_iter()
                            .map(|s| server_session_info(s, req.need_last_msg))
                            .collect(),
                        has_more: page.has_more,
                        ..answer(ResCode::SUCCESS)
                    },
                    Err(e) => busy(&e),
                }
            }
            act::GET => match messages
                .server_session(app_id, accid, req.to_type, &req.id)
                .await
            {
                Ok(Some(s)) => ServerSessionAck {
                    info: Some(server_session_info(s, true)),
                    ..answer(ResCode::SUCCESS)
                },
                Ok(None) => answer(ResCode::NOT_EXIST),
                Err(e) => busy(&e),
            },
            act::UPDATE => {
                let write = Append::SessionExt {
                    account: accid.clone(),
                    to_type: req.to_type,
                    session_id: req.id.clone(),
                    ext: req.ext,
                    time: magpie_store::now_ms(),
                };
                if let Err(r) = self
                    .shared
                    .messaging
                    .change_sessions(app_id, vec![write])
                    .await
                {
                    return answer(r.code);
                }
                match messages
                    .server_session(app_id, accid, req.to_type, &req.id)
                    .await
                {
                    Ok(Some(s)) => {
                        let push =
                            magpie_bus::Push::ServerSession(Box::new(ServerSessionChanged {
                                info: server_session_info(s, false),
                            }));
                        if let Err(e) = self
                            .shared
                            .bus
                            .tell_others(&session.key, self.addr, push)
                            .await
                        {
                            tracing::warn!(error = %e, "telling the other devices of a session change failed");
                        }
                        answer(ResCode::SUCCESS)
                    }
                    // Deleted again in between: the change is done.
                    Ok(None) => answer(ResCode::SUCCESS),
                    Err(e) => busy(&e),
                }
            }
            _ => {
                let writes = req
                    .sessions
                    .into_iter()
                    .map(|k| Append::DropSession {
                        account: accid.clone(),
                        to_type: k.to_type,
                        session_id: k.id,
                    })
                    .collect();
                match self.shared.messaging.change_sessions(app_id, writes).await {
                    Ok(()) => answer(ResCode::SUCCESS),
                    Err(r) => answer(r.code),
                }
            }
        }
    }

    /// Queues one frame for the next [`Conn::flush`].
    fn queue(&mut self, frame: &ServerFrame) -> Queue {
        let len = self.wbuf.len();
        if let Err(e) = encode_server(frame, &mut self.wbuf, MAX_SERVER_FRAME) {
            tracing::error!(error = %e, "could not encode a frame");
            self.wbuf.truncate(len);
            return Queue::Unusable;
        }
        if self.wbuf.len() < FLUSH_AT {
            Queue::Later
        } else {
            Queue::FlushNow
        }
    }

    /// Most answers owed through the outbox before the connection stops
    /// reading: a quarter of the outbox, so the answers and other pushes
    /// fit in it.
    fn max_in_flight(&self) -> usize {
        (self.shared.config.outbox_capacity / 4).max(1)
    }

    /// Writes the queued frames within the write timeout; false when the
    /// connection is unusable.
    async fn flush(&mut self) -> bool {
        if self.wbuf.is_empty() {
            return true;
        }
        let timeout = Duration::from_millis(self.shared.config.write_timeout_ms);
        let ok = matches!(
            tokio::time::timeout(timeout, self.stream.write_all(&self.wbuf)).await,
            Ok(Ok(()))
        );
        self.wbuf.clear();
        if self.wbuf.capacity() > KEEP_RBUF {
            self.wbuf = Vec::new();
        }
        ok
    }
}

/// A server-side session as the protocol carries it, with its last
/// message when asked.
fn server_session_info(
    s: magpie_store::ServerSession,
    with_last: bool,
) -> magpie_proto::frame::ServerSessionInfo {
    let recalled = s.last.as_ref().is_some_and(|l| l.recalled);
    magpie_proto::frame::ServerSessionInfo {
        to_type: s.to_type,
        id: s.session_id,
        update_time: s.update_time,
        ext: s.ext,
        last_msg_type: u32::from(with_last && recalled),
        last_msg: s.last.filter(|_| with_last).map(|l| l.json),
    }
}

/// A stored session on top as the protocol carries it (`top` false for the
/// entry a cancellation removed).
fn stick_top_info(t: magpie_store::StickTop, top: bool) -> magpie_proto::frame::StickTopInfo {
    magpie_proto::frame::StickTopInfo {
        top,
        id: t.session_id,
        to_type: t.to_type,
        ext: t.ext,
        create_time: t.create_time,
        update_time: t.update_time,
    }
}
