//! One client connection: handshake, login, heartbeats, pushes, logout.
//!
//! The task owns the socket. It decodes whatever complete frames are
//! buffered, queueing their answers, writes the answers in one go, then waits
//! for the first of: more bytes, a delivery from the registry, the close
//! signal (slow reader), the idle deadline, or shutdown. A client that sends
//! HELLO and LOGIN together thus costs one read and one write.

use crate::login::authenticate;
use crate::state::Shared;
use magpie_bus::{outbox, AccountKey, Attach, ConnId, Delivery, KickTarget, OutboxReceiver};
use magpie_proto::codec::{decode_client, encode_server};
use magpie_proto::frame::{
    CodeAck, ErrorBody, Hello, HelloAck, KickOtherAck, KickOtherRequest, LoginAck, LoginRequest,
};
use magpie_proto::types::{auth_type, kick_reason, logout_type, Kickout, Presence};
use magpie_proto::{
    ClientFrame, Decoded, ResCode, ServerFrame, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION,
};
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

/// Buffers above this capacity are released once drained, and reads of a
/// logged-in connection go in steps of at least this much. Idle connections
/// are the common case, so they keep (almost) nothing between frames.
const KEEP_RBUF: usize = 64;

/// Read buffer of a connection that has not logged in yet: room for a
/// HELLO and a LOGIN sent together.
const FIRST_READ: usize = 1024;

/// Queued answers are written once they reach this size, even when more
/// buffered frames wait to be handled.
const FLUSH_AT: usize = 16 << 10;

enum Flow {
    Continue,
    Close,
}

struct Session {
    key: AccountKey,
    /// This device's client type and custom client type.
    me: (u32, u32),
}

struct Conn<S> {
    shared: Arc<Shared>,
    stream: S,
    peer: SocketAddr,
    id: ConnId,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    hello_done: bool,
    session: Option<Session>,
    inbox: OutboxReceiver,
    outbox: magpie_bus::Outbox,
}

pub(crate) fn now_ms() -> i64 {
    magpie_store::now_ms()
}

/// Serves one accepted connection until it closes.
pub(crate) async fn serve<S>(
    shared: Arc<Shared>,
    stream: S,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (outbox, inbox) = outbox(shared.config.outbox_capacity);
    let mut conn = Conn {
        id: shared.next_conn_id(),
        shared,
        stream,
        peer,
        rbuf: Vec::new(),
        wbuf: Vec::new(),
        hello_done: false,
        session: None,
        inbox,
        outbox,
    };
    conn.run(shutdown).await;
    // Whatever was queued before the close (a logout ack, an error).
    conn.flush().await;
    if let Some(s) = conn.session.take() {
        conn.shared.registry.detach(&s.key, conn.id).await;
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    async fn run(&mut self, mut shutdown: watch::Receiver<bool>) {
        let cfg = &self.shared.config;
        let (max, handshake, idle) = (
            cfg.max_frame_bytes,
            Duration::from_millis(cfg.handshake_timeout_ms),
            Duration::from_millis(cfg.idle_timeout_ms),
        );
        let deadline = tokio::time::sleep(handshake);
        tokio::pin!(deadline);
        loop {
            // Handle every complete frame already buffered.
            loop {
                match decode_client(&self.rbuf, max) {
                    Ok(Decoded::Frame(frame, n)) => {
                        self.rbuf.drain(..n);
                        deadline
                            .as_mut()
                            .reset(Instant::now() + if self.hello_done { idle } else { handshake });
                        // Boxed: the login path (store, callbacks) is a large future that an
                        // idle connection should not carry between frames.
                        if let Flow::Close = Box::pin(self.handle(frame)).await {
                            return;
                        }
                    }
                    Ok(Decoded::NeedMore(n)) => {
                        // Before the login, read in larger steps: HELLO and
                        // LOGIN usually arrive together. A logged-in, idle
                        // connection keeps (almost) nothing.
                        let step = if self.session.is_none() {
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
                        let fatal = e.skippable().is_none();
                        let body = ErrorBody {
                            code: e.code(),
                            desc: e.to_string(),
                            fatal,
                        };
                        let sent = self.send(&ServerFrame::Error { seq: e.seq(), body }).await;
                        match e.skippable() {
                            Some(n) if sent => {
                                self.rbuf.drain(..n);
                            }
                            _ => return,
                        }
                    }
                }
            }
            tokio::select! {
                _ = self.inbox.closer.closed() => {
                    tracing::info!(peer = %self.peer, "closing a slow reader");
                    return;
                }
                d = self.inbox.rx.recv() => {
                    let Some(d) = d else { return };
                    if let Flow::Close = self.deliver(d).await {
                        return;
                    }
                }
                r = self.stream.read_buf(&mut self.rbuf) => match r {
                    Ok(0) => {
                        if !self.rbuf.is_empty() {
                            let body = ErrorBody {
                                code: ResCode::E_UNPACKET,
                                desc: format!("connection ended inside a frame ({} bytes buffered)", self.rbuf.len()),
                                fatal: true,
                            };
                            self.send(&ServerFrame::Error { seq: 0, body }).await;
                        }
                        return;
                    }
                    Ok(_) => {}
                    Err(_) => return,
                },
                _ = &mut deadline => {
                    let desc = if self.hello_done { "idle timeout: no heartbeat" } else { "handshake timeout" };
                    let body = ErrorBody { code: ResCode::TIMEOUT, desc: desc.into(), fatal: true };
                    self.send(&ServerFrame::Error { seq: 0, body }).await;
                    return;
                }
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Queues one frame, written by the next [`Conn::flush`] (at once when
    /// the queue is large); false when the connection is unusable.
    async fn send(&mut self, frame: &ServerFrame) -> bool {
        let len = self.wbuf.len();
        if let Err(e) = encode_server(frame, &mut self.wbuf, MAX_SERVER_FRAME) {
            tracing::error!(error = %e, "could not encode a frame");
            self.wbuf.truncate(len);
            return false;
        }
        self.wbuf.len() < FLUSH_AT || self.flush().await
    }

    /// Queues one frame and writes the queue now.
    async fn send_now(&mut self, frame: &ServerFrame) -> bool {
        self.send(frame).await && self.flush().await
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

    async fn deliver(&mut self, d: Delivery) -> Flow {
        match d {
            Delivery::Frame(f) => {
                if self.send_now(&f).await {
                    Flow::Continue
                } else {
                    Flow::Close
                }
            }
            Delivery::Kick(k) => {
                // The registry has removed this session already.
                self.session = None;
                self.send_now(&ServerFrame::Kickout { body: *k }).await;
                let _ = self.stream.shutdown().await;
                Flow::Close
            }
            Delivery::Replaced => {
                // Another connection of this same device took over. Say so,
                // so a second instance sharing the device id stops instead
                // of fighting over the session.
                self.session = None;
                let body = ErrorBody {
                    code: ResCode::EXIST,
                    desc: "replaced by a newer connection of the same device".into(),
                    fatal: true,
                };
                self.send(&ServerFrame::Error { seq: 0, body }).await;
                Flow::Close
            }
        }
    }

    async fn handle(&mut self, frame: ClientFrame) -> Flow {
        let seq = frame.seq();
        if !self.hello_done {
            let ClientFrame::Hello { body, .. } = frame else {
                let body = ErrorBody {
                    code: ResCode::INVALID_PROTOCOL,
                    desc: "the first frame must be HELLO".into(),
                    fatal: true,
                };
                self.send(&ServerFrame::Error { seq, body }).await;
                return Flow::Close;
            };
            return self.hello(seq, body).await;
        }
        let ok = match frame {
            ClientFrame::Hello { .. } => {
                let body = ErrorBody {
                    code: ResCode::INVALID,
                    desc: "HELLO was already exchanged".into(),
                    fatal: false,
                };
                self.send(&ServerFrame::Error { seq, body }).await
            }
            ClientFrame::Ping { seq } => self.send(&ServerFrame::Pong { seq }).await,
            ClientFrame::Login { seq, body } => self.login(seq, body).await,
            ClientFrame::KickOther { seq, body } => self.kick_other(seq, body).await,
            ClientFrame::Logout { seq, body } => {
                if !logout_type::is_valid(body.logout_type) {
                    let body = CodeAck {
                        code: ResCode::PARAMETER_ERROR,
                    };
                    self.send(&ServerFrame::LogoutAck { seq, body }).await
                } else {
                    if let Some(s) = self.session.take() {
                        self.shared.registry.detach(&s.key, self.id).await;
                        tracing::debug!(peer = %self.peer, account = %s.key.accid, logout_type = body.logout_type, "logout");
                    }
                    let body = CodeAck {
                        code: ResCode::SUCCESS,
                    };
                    self.send_now(&ServerFrame::LogoutAck { seq, body }).await;
                    let _ = self.stream.shutdown().await;
                    return Flow::Close;
                }
            }
            _ => {
                let body = ErrorBody {
                    code: ResCode::INVALID,
                    desc: "operation not supported".into(),
                    fatal: false,
                };
                self.send(&ServerFrame::Error { seq, body }).await
            }
        };
        if ok {
            Flow::Continue
        } else {
            Flow::Close
        }
    }

    async fn kick_other(&mut self, seq: u32, req: KickOtherRequest) -> bool {
        let answer = |err_code, device_ids| ServerFrame::KickOtherAck {
            seq,
            body: KickOtherAck {
                err_code,
                device_ids,
            },
        };
        let Some(s) = &self.session else {
            return self.send(&answer(ResCode::INVALID, Vec::new())).await;
        };
        if req.device_ids.is_empty() || req.device_ids.len() > 20 {
            return self
                .send(&answer(ResCode::PARAMETER_ERROR, Vec::new()))
                .await;
        }
        let why = Kickout {
            client_type: s.me.0,
            reason_code: kick_reason::BY_SELF_OTHER_CLIENT,
            reason_description: "kicked by another device of this account".into(),
            custom_client_type: s.me.1,
        };
        let kicked = self
            .shared
            .registry
            .kick(
                &s.key,
                KickTarget::Devices(req.device_ids),
                why,
                Some(self.id),
            )
            .await;
        let ids = kicked
            .kicked
            .into_iter()
            .map(|k| k.presence.device_id)
            .collect();
        self.send(&answer(ResCode::SUCCESS, ids)).await
    }

    async fn hello(&mut self, seq: u32, h: Hello) -> Flow {
        let cfg = &self.shared.config;
        let common = h.version.min(PROTOCOL_VERSION);
        let ok = h.min_version <= common && common >= MIN_PROTOCOL_VERSION;
        let body = HelloAck {
            code: if ok {
                ResCode::SUCCESS
            } else {
                ResCode::VERSION_ERROR
            },
            version: if ok { common } else { PROTOCOL_VERSION },
            heartbeat_ms: cfg.heartbeat_interval_ms,
            idle_timeout_ms: cfg.idle_timeout_ms,
            max_frame: cfg.max_frame_bytes,
            server_time: now_ms(),
        };
        if !self.send(&ServerFrame::HelloAck { seq, body }).await || !ok {
            return Flow::Close;
        }
        self.hello_done = true;
        Flow::Continue
    }

    async fn login(&mut self, seq: u32, req: LoginRequest) -> bool {
        let ack = |code, desc: &str, others| ServerFrame::LoginAck {
            seq,
            body: LoginAck {
                code,
                desc: desc.to_owned(),
                server_time: now_ms(),
                other_clients_pres: others,
            },
        };
        if self.session.is_some() {
            let f = ack(
                ResCode::EXIST,
                "already logged in on this connection",
                Vec::new(),
            );
            return self.send(&f).await;
        }
        // The app server's callback may take its whole timeout: answers
        // queued before this login (a pipelined HELLO_ACK) go out first.
        if req.auth_type == auth_type::THIRD_PARTY && !self.flush().await {
            return false;
        }
        let (app, accid) = match authenticate(&self.shared, &req, self.peer).await {
            Ok(v) => v,
            Err(r) => {
                tracing::debug!(peer = %self.peer, code = %r.code, reason = %r.desc, "login refused");
                return self.send(&ack(r.code, &r.desc, Vec::new())).await;
            }
        };
        let key = AccountKey::new(app.id, &accid);
        let presence = Presence {
            app_account: accid,
            client_type: req.client_type,
            client_os: req.client_os,
            mac: req.mac,
            device_id: req.device_id,
            login_time: now_ms(),
            custom_tag: req.custom_tag,
            custom_client_type: req.custom_client_type,
        };
        let me = (presence.client_type, presence.custom_client_type);
        let attached = self
            .shared
            .registry
            .attach(&key, self.id, presence, self.outbox.clone(), &app.rules)
            .await;
        let Attach::Admitted { others, kicked, .. } = attached else {
            let f = ack(
                ResCode::EXIST,
                "the multi-device policy allows no further device now",
                Vec::new(),
            );
            return self.send(&f).await;
        };
        tracing::debug!(peer = %self.peer, account = %key.accid, others = others.len(), kicked = kicked.len(), "login");
        self.session = Some(Session { key, me });
        self.send(&ack(ResCode::SUCCESS, "", others)).await
    }
}
