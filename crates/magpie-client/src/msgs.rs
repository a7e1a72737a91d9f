//! The SDK's messaging state, without I/O: the account's log position,
//! what waits to be applied, the post-login sync, and the requests waiting
//! for their answers. The login machine owns it and calls it while online;
//! local-database work comes out as [`DbJob`]s, run one at a time in order,
//! and their results come back in.
//!
//! Exactly once, in order: an entry is applied only when it is the next
//! position after the cursor, in the same local transaction that moves the
//! cursor. Anything further ahead waits in a bounded buffer; a gap that does
//! not close by itself within [`GAP_WAIT`] is filled by a sync from the
//! cursor, never skipped. Entries at or below the cursor are duplicates and
//! dropped. Sends are resent with the same client id after a re-login, and
//! the server drops the duplicates.

use crate::event::Event;
use crate::local::{Applied, Arrival, ReceivedMessage, SessionData};
use crate::machine::{CmdId, Effect, Reply};
use magpie_proto::msg::{
    data_sync_status, data_sync_type, message_feature, CursorAck, Entry, HistoryQuery,
    HistoryResult, ImMessage, SendMsg, SendMsgAck, SendSysMsg, SessionChange, SessionChangeAck,
    SyncBatch, SyncRequest, SysMsg, SysMsgAck,
};
use magpie_proto::{ClientFrame, ResCode};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Entries asked for in one sync request.
pub(crate) const SYNC_LIMIT: u32 = 500;
/// Entries waiting beyond a gap, at most; past it they are dropped and a sync fills in.
pub(crate) const MAX_BUFFER: usize = 2048;
/// How long a gap in live pushes may last before a sync fills it.
pub(crate) const GAP_WAIT: Duration = Duration::from_millis(300);
/// How often, at most, the applied position is reported to the server.
pub(crate) const ACK_EVERY: Duration = Duration::from_secs(1);

/// Something to apply at a log position.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Item {
    /// An entry from the server.
    Entry(Box<Entry>),
    /// A position this device produced itself (its own message or session
    /// change): already applied locally, only the cursor moves.
    Own(u64),
}

impl Item {
    pub fn seq(&self) -> u64 {
        match self {
            Item::Entry(e) => e.seq,
            Item::Own(s) => *s,
        }
    }
}

/// Local-database work, run in order, one at a time.
#[derive(Debug)]
pub(crate) enum DbJob {
    /// Read the applied position.
    LoadCursor,
    /// Apply items (contiguous from the cursor), moving the cursor first to
    /// `jump_to` when the server removed older entries.
    Apply {
        items: Vec<Item>,
        jump_to: Option<u64>,
        kind: ApplyKind,
    },
    /// Record a message being sent.
    Sending(Box<ImMessage>),
    /// Record a send's answer.
    Ack { cmd: Option<CmdId>, ack: SendMsgAck },
    /// Mark a session read up to a position.
    SetUnreadZero {
        cmd: CmdId,
        to_type: u32,
        id: String,
        read_seq: u64,
    },
    /// Delete a session.
    DeleteSession {
        cmd: CmdId,
        to_type: u32,
        id: String,
    },
    /// List the sessions.
    Sessions { cmd: CmdId },
    /// One of NIM's local operations.
    Local {
        cmd: CmdId,
        op: Box<crate::ops::LocalOp>,
    },
    /// Local history of a session.
    Query {
        cmd: CmdId,
        to_type: u32,
        id: String,
        limit: u32,
        anchor_time: i64,
        opts: crate::local::LocalQueryOptions,
    },
    /// Stored system notifications.
    SysMsgs {
        cmd: CmdId,
        limit: u32,
        last_time: i64,
    },
}

/// Where applied items came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ApplyKind {
    /// Live pushes, contiguous from the cursor.
    Live,
    /// A push for online devices only (no position).
    LiveOnly,
    /// A sync batch.
    Sync,
}

impl ApplyKind {
    pub fn arrival(self) -> Arrival {
        match self {
            ApplyKind::Sync => Arrival::Sync,
            ApplyKind::Live | ApplyKind::LiveOnly => Arrival::Live,
        }
    }
}

/// The result of a [`DbJob`].
#[derive(Debug)]
pub(crate) enum DbDone {
    Cursor(Result<u64, String>),
    Applied(ApplyKind, Result<Applied, String>),
    Sending(Result<Option<SessionData>, String>),
    Ack {
        cmd: Option<CmdId>,
        ack: SendMsgAck,
        session: Result<Option<SessionData>, String>,
    },
    Session {
        cmd: CmdId,
        result: Result<(Option<SessionData>, u32), String>,
    },
    Sessions {
        cmd: CmdId,
        result: Result<(Vec<SessionData>, u32), String>,
    },
    Messages {
        cmd: CmdId,
        result: Result<Vec<ImMessage>, String>,
    },
    SysMsgs {
        cmd: CmdId,
        result: Result<(Vec<SysMsg>, u32), String>,
    },
    Local {
        cmd: CmdId,
        result: Result<Box<crate::ops::LocalResult>, String>,
    },
}

/// A session change's result, NIM's change-callback arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionResult {
    /// NIM code.
    pub rescode: ResCode,
    /// The session as it is now.
    pub session: SessionData,
    /// Total unread messages.
    pub total_unread: u32,
}

/// NIM's data-sync callback arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSync {
    /// NIMDataSyncType.
    pub sync_type: u32,
    /// NIMDataSyncStatus.
    pub status: u32,
    /// json_attachment: the session id for roaming, else empty.
    pub attachment: String,
}

/// A query's answer, NIM's `{"count","source","content"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResult {
    /// NIM code.
    pub rescode: ResCode,
    /// 0 local, 1 server.
    pub source: u32,
    /// Messages.
    pub content: Vec<ImMessage>,
}

#[derive(Debug, Default)]
struct SyncRound {
    /// The post-login sync (its end fires the data-sync callbacks).
    first: bool,
    /// The request in flight.
    request: Option<u32>,
    /// The server's head when the last batch was made.
    head: u64,
    /// The last batch brought nothing: the device is up to date, and the
    /// server knows it (the request carried the cursor).
    caught_up: bool,
    /// Sessions that got roaming messages during the round.
    roamed: Vec<String>,
}

/// The messaging state of a client.
#[derive(Debug, Default)]
pub(crate) struct Msgs {
    /// Position applied locally.
    cursor: u64,
    /// The cursor was read from the local database.
    loaded: bool,
    /// A sync round, when one runs.
    sync: Option<SyncRound>,
    /// Live items waiting for their turn (or for a gap to close).
    buffer: BTreeMap<u64, Item>,
    /// Since when the next position is missing while later ones wait.
    gap_since: Option<Instant>,
    /// Local-database work: the one running, then the rest in order.
    db_busy: bool,
    db_queue: VecDeque<DbJob>,
    /// An apply is queued or running (items wait in the buffer meanwhile).
    applying: bool,
    /// Sends on the wire: request seq → (command, message).
    sends: HashMap<u32, Send>,
    /// Sends waiting for a link, in order.
    outbox: Vec<Send>,
    sysmsgs: HashMap<u32, CmdId>,
    changes: HashMap<u32, (CmdId, bool, SessionChange)>,
    /// Read receipts and recalls on the wire: request seq → (command, the
    /// local change to make once the server took it).
    noted: HashMap<u32, (CmdId, crate::ops::LocalOp)>,
    history: HashMap<u32, CmdId>,
    /// Position last reported to the server, and when the next report is due.
    acked: u64,
    ack_due: Option<Instant>,
    /// The batch receive callback is registered (batches per session, else one by one).
    pub batch_receive: bool,
}

/// A send waiting for its answer: the command (if any) and the message.
type Send = (Option<CmdId>, Box<ImMessage>);

/// What the messaging state needs from the login machine to act online.
pub(crate) struct Link<'a> {
    pub seq: &'a mut u32,
    pub now: Instant,
}

impl Link<'_> {
    fn next(&mut self) -> u32 {
        *self.seq = self.seq.wrapping_add(1).max(1);
        *self.seq
    }
}

impl Msgs {
    /// The next deadline of the messaging state.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let gap = self.gap_since.map(|t| t + GAP_WAIT);
        match (gap, self.ack_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn db(&mut self, job: DbJob, fx: &mut Vec<Effect>) {
        if self.db_busy {
            self.db_queue.push_back(job);
        } else {
            self.db_busy = true;
            fx.push(Effect::Db(job));
        }
    }

    fn db_next(&mut self, fx: &mut Vec<Effect>) {
        match self.db_queue.pop_front() {
            Some(job) => fx.push(Effect::Db(job)),
            None => self.db_busy = false,
        }
    }

    /// Logged in (or back after a drop): resend what waits, then sync.
    pub fn online(&mut self, link: &mut Link<'_>, fx: &mut Vec<Effect>) {
        for (cmd, mut msg) in std::mem::take(&mut self.outbox) {
            msg.resend_flag = 1;
            self.send_frame(link, cmd, msg, fx);
        }
        self.sync = Some(SyncRound {
            first: true,
            ..Default::default()
        });
        if self.loaded {
            self.request_sync(link, fx);
        } else {
            self.db(DbJob::LoadCursor, fx);
        }
    }

    /// The link dropped: sends in flight wait for the next link; other
    /// requests fail with 415.
    pub fn offline(&mut self, fx: &mut Vec<Effect>) {
        let mut resend: Vec<(u32, Send)> = self.sends.drain().collect();
        resend.sort_by_key(|(seq, _)| *seq);
        let mut waiting: Vec<_> = resend.into_iter().map(|(_, s)| s).collect();
        waiting.append(&mut self.outbox);
        self.outbox = waiting;
        self.fail_requests(ResCode::CONNECTION_ERROR, fx);
        self.sync = None;
        self.buffer.clear();
        self.gap_since = None;
        self.ack_due = None;
    }

    /// The session ended (logout, kick, given up): everything waiting fails.
    pub fn ended(&mut self, code: ResCode, fx: &mut Vec<Effect>) {
        let mut all: Vec<Send> = self.sends.drain().map(|(_, s)| s).collect();
        all.append(&mut self.outbox);
        for (cmd, msg) in all {
            let ack = failed_ack(&msg, code, "the session ended before the message was sent");
            self.db(DbJob::Ack { cmd, ack }, fx);
        }
        self.fail_requests(code, fx);
        self.sync = None;
        self.buffer.clear();
        self.gap_since = None;
        self.ack_due = None;
        // The next login may be another account: read its position afresh.
        self.loaded = false;
    }

    fn fail_requests(&mut self, code: ResCode, fx: &mut Vec<Effect>) {
        for (_, cmd) in self.sysmsgs.drain() {
            fx.push(Effect::Reply(
                cmd,
                Reply::SysMsg(SysMsgAck {
                    msg_id: String::new(),
                    talk_id: String::new(),
                    rescode: code,
                }),
            ));
        }
        for (_, (cmd, _, c)) in self.changes.drain() {
            let session = SessionData {
                id: c.id,
                to_type: c.to_type,
                ..Default::default()
            };
            fx.push(Effect::Reply(
                cmd,
                Reply::Session(SessionResult {
                    rescode: code,
                    session,
                    total_unread: 0,
                }),
            ));
        }
        for (_, (cmd, _)) in self.noted.drain() {
            fx.push(Effect::Reply(
                cmd,
                Reply::Local(Box::new(crate::ops::LocalResult::code(code))),
            ));
        }
        for (_, cmd) in self.history.drain() {
            fx.push(Effect::Reply(
                cmd,
                Reply::Query(QueryResult {
                    rescode: code,
                    source: 1,
                    content: Vec::new(),
                }),
            ));
        }
    }

    fn request_sync(&mut self, link: &mut Link<'_>, fx: &mut Vec<Effect>) {
        let Some(round) = self.sync.as_mut() else {
            return;
        };
        if round.request.is_some() {
            return;
        }
        let seq = link.next();
        round.request = Some(seq);
        tracing::debug!(seq, cursor = self.cursor, "sync request");
        fx.push(Effect::Send(vec![ClientFrame::Sync {
            seq,
            body: SyncRequest {
                cursor: self.cursor,
                limit: SYNC_LIMIT,
            },
        }]));
    }

    /// Starts a sync round (to fill a gap) unless one runs.
    fn start_sync(&mut self, link: &mut Link<'_>, fx: &mut Vec<Effect>) {
        if self.sync.is_none() {
            self.sync = Some(SyncRound::default());
        }
        self.gap_since = None;
        self.request_sync(link, fx);
    }

    /// Applies what is next in the buffer, or notes a gap.
    fn pump(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        if self.applying || self.sync.is_some() || !self.loaded {
            return;
        }
        // Forget what is already applied.
        while let Some((&s, _)) = self.buffer.first_key_value() {
            if s > self.cursor {
                break;
            }
            self.buffer.pop_first();
        }
        let mut run = Vec::new();
        let mut next = self.cursor + 1;
        while let Some(item) = self.buffer.remove(&next) {
            run.push(item);
            next += 1;
        }
        if !run.is_empty() {
            self.applying = true;
            self.gap_since = None;
            self.db(
                DbJob::Apply {
                    items: run,
                    jump_to: None,
                    kind: ApplyKind::Live,
                },
                fx,
            );
        } else if !self.buffer.is_empty() {
            self.gap_since.get_or_insert(now);
        } else {
            self.gap_since = None;
        }
    }

    fn item(&mut self, item: Item, now: Instant, fx: &mut Vec<Effect>) {
        if item.seq() <= self.cursor && self.loaded {
            return;
        }
        if self.buffer.len() >= MAX_BUFFER {
            // Too far behind: drop what waits; the sync brings it again.
            self.buffer.clear();
            self.gap_since = Some(now - GAP_WAIT);
            return;
        }
        self.buffer.insert(item.seq(), item);
        self.pump(now, fx);
    }

    /// A live entry arrived.
    pub fn entry(&mut self, e: Entry, now: Instant, fx: &mut Vec<Effect>) {
        if e.seq == 0 {
            // For online devices only: no position, applied as it comes.
            self.db(
                DbJob::Apply {
                    items: vec![Item::Entry(Box::new(e))],
                    jump_to: None,
                    kind: ApplyKind::LiveOnly,
                },
                fx,
            );
            return;
        }
        self.item(Item::Entry(Box::new(e)), now, fx);
    }

    /// A sync batch arrived.
    pub fn sync_batch(
        &mut self,
        seq: u32,
        b: SyncBatch,
        link: &mut Link<'_>,
        fx: &mut Vec<Effect>,
    ) {
        let Some(round) = self.sync.as_mut() else {
            return;
        };
        if round.request != Some(seq) {
            return;
        }
        round.request = None;
        tracing::debug!(
            seq,
            entries = b.entries.len(),
            from = b.from,
            head = b.head,
            "sync batch"
        );
        if !b.code.is_success() {
            tracing::warn!(code = %b.code, "sync refused; trying again shortly");
            self.gap_since = Some(link.now);
            let first = round.first;
            self.sync = None;
            if first {
                self.sync = Some(SyncRound {
                    first,
                    ..Default::default()
                });
            }
            return;
        }
        round.head = b.head;
        round.caught_up = b.entries.is_empty();
        let items: Vec<Item> = b
            .entries
            .into_iter()
            .filter_map(|e| match e.into_entry() {
                Ok(e) => Some(Item::Entry(Box::new(e))),
                Err(err) => {
                    tracing::warn!(error = %err, "an unreadable entry; it will be asked for again");
                    None
                }
            })
            .collect();
        let jump_to = (b.from > self.cursor + 1).then(|| b.from - 1);
        self.applying = true;
        self.db(
            DbJob::Apply {
                items,
                jump_to,
                kind: ApplyKind::Sync,
            },
            fx,
        );
    }

    /// Sends a message now, or when the link is back.
    pub fn send(
        &mut self,
        link: Option<&mut Link<'_>>,
        cmd: Option<CmdId>,
        msg: Box<ImMessage>,
        fx: &mut Vec<Effect>,
    ) {
        self.db(DbJob::Sending(msg.clone()), fx);
        match link {
            Some(link) => self.send_frame(link, cmd, msg, fx),
            None => self.outbox.push((cmd, msg)),
        }
    }

    fn send_frame(
        &mut self,
        link: &mut Link<'_>,
        cmd: Option<CmdId>,
        msg: Box<ImMessage>,
        fx: &mut Vec<Effect>,
    ) {
        let seq = link.next();
        fx.push(Effect::Send(vec![ClientFrame::SendMsg {
            seq,
            body: Box::new(SendMsg {
                msg: (*msg).clone(),
            }),
        }]));
        self.sends.insert(seq, (cmd, msg));
    }

    /// A send's answer arrived.
    pub fn send_ack(&mut self, seq: u32, ack: SendMsgAck, now: Instant, fx: &mut Vec<Effect>) {
        let Some((cmd, _)) = self.sends.remove(&seq) else {
            return;
        };
        let own = ack.seq;
        self.db(DbJob::Ack { cmd, ack }, fx);
        if own > 0 {
            self.item(Item::Own(own), now, fx);
        }
    }

    /// Sends a custom notification (online only).
    pub fn send_sysmsg(
        &mut self,
        link: &mut Link<'_>,
        cmd: CmdId,
        n: SysMsg,
        fx: &mut Vec<Effect>,
    ) {
        let seq = link.next();
        fx.push(Effect::Send(vec![ClientFrame::SendSysMsg {
            seq,
            body: Box::new(SendSysMsg { sysmsg: n }),
        }]));
        self.sysmsgs.insert(seq, cmd);
    }

    /// A custom notification's answer arrived.
    pub fn sysmsg_ack(&mut self, seq: u32, ack: SysMsgAck, fx: &mut Vec<Effect>) {
        if let Some(cmd) = self.sysmsgs.remove(&seq) {
            fx.push(Effect::Emit(Event::SysMsgAck(ack.clone())));
            fx.push(Effect::Reply(cmd, Reply::SysMsg(ack)));
        }
    }

    /// Marks a session read here, and on the account's other devices when online.
    pub fn set_unread_zero(
        &mut self,
        link: Option<&mut Link<'_>>,
        cmd: CmdId,
        to_type: u32,
        id: String,
        fx: &mut Vec<Effect>,
    ) {
        let read_seq = self.cursor;
        match link {
            Some(link) => {
                let seq = link.next();
                let c = SessionChange {
                    to_type,
                    id: id.clone(),
                    read_seq,
                };
                fx.push(Effect::Send(vec![ClientFrame::SessionRead {
                    seq,
                    body: c.clone(),
                }]));
                self.changes.insert(seq, (cmd, false, c));
            }
            None => self.db(
                DbJob::SetUnreadZero {
                    cmd,
                    to_type,
                    id,
                    read_seq,
                },
                fx,
            ),
        }
    }

    /// Deletes a session here, and on the account's other devices when online.
    pub fn delete_session(
        &mut self,
        link: Option<&mut Link<'_>>,
        cmd: CmdId,
        to_type: u32,
        id: String,
        fx: &mut Vec<Effect>,
    ) {
        match link {
            Some(link) => {
                let seq = link.next();
                let c = SessionChange {
                    to_type,
                    id: id.clone(),
                    read_seq: 0,
                };
                fx.push(Effect::Send(vec![ClientFrame::SessionDelete {
                    seq,
                    body: c.clone(),
                }]));
                self.changes.insert(seq, (cmd, true, c));
            }
            None => self.db(DbJob::DeleteSession { cmd, to_type, id }, fx),
        }
    }

    /// Recalls a message; answered through `session_ack`.
    pub fn send_recall(
        &mut self,
        link: &mut Link<'_>,
        cmd: CmdId,
        r: magpie_proto::msg::RecallReq,
        fx: &mut Vec<Effect>,
    ) {
        let seq = link.next();
        let op = crate::ops::LocalOp::Recalled {
            client_msg_id: r.client_msg_id.clone(),
        };
        fx.push(Effect::Send(vec![ClientFrame::Recall { seq, body: r }]));
        self.noted.insert(seq, (cmd, op));
    }

    /// Sends a one-way deletion; answered through `session_ack`, then the
    /// message leaves this device too.
    pub fn send_delete_self(
        &mut self,
        link: &mut Link<'_>,
        cmd: CmdId,
        r: magpie_proto::msg::DeleteSelfReq,
        fx: &mut Vec<Effect>,
    ) {
        let seq = link.next();
        let op = crate::ops::LocalOp::DeletedSelf {
            client_msg_id: r.client_msg_id.clone(),
        };
        fx.push(Effect::Send(vec![ClientFrame::DeleteSelf { seq, body: r }]));
        self.noted.insert(seq, (cmd, op));
    }

    /// Clears my server history of a session; answered through
    /// `session_ack` (nothing changes here).
    pub fn send_clear_history(
        &mut self,
        link: &mut Link<'_>,
        cmd: CmdId,
        r: magpie_proto::msg::ClearHistoryReq,
        fx: &mut Vec<Effect>,
    ) {
        let seq = link.next();
        fx.push(Effect::Send(vec![ClientFrame::ClearHistory {
            seq,
            body: r,
        }]));
        self.noted
            .insert(seq, (cmd, crate::ops::LocalOp::ServerOnly));
    }

    /// Sends a P2P read receipt; answered through [`MsgState::session_ack`].
    pub fn send_receipt(
        &mut self,
        link: &mut Link<'_>,
        cmd: CmdId,
        r: magpie_proto::msg::Receipt,
        fx: &mut Vec<Effect>,
    ) {
        let seq = link.next();
        let op = crate::ops::LocalOp::ReceiptSent {
            to_type: r.to_type,
            id: r.id.to_ascii_lowercase(),
            msg_timetag: r.msg_timetag,
        };
        fx.push(Effect::Send(vec![ClientFrame::Receipt { seq, body: r }]));
        self.noted.insert(seq, (cmd, op));
    }

    /// The server answered a request of [`MsgState::session_ack`]'s kind
    /// with ERROR (an older server that does not know it, such as
    /// DELETE_SELF before protocol version 4): its caller gets the code now.
    /// False when `seq` is not such a request.
    pub fn refused(&mut self, seq: u32, code: ResCode, fx: &mut Vec<Effect>) -> bool {
        let Some((cmd, _)) = self.noted.remove(&seq) else {
            return false;
        };
        fx.push(Effect::Reply(
            cmd,
            Reply::Local(Box::new(crate::ops::LocalResult::code(code))),
        ));
        true
    }

    /// A session change's answer arrived: applied here, and the position it
    /// took is this device's own.
    pub fn session_ack(
        &mut self,
        seq: u32,
        ack: SessionChangeAck,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        if let Some((cmd, op)) = self.noted.remove(&seq) {
            if !ack.rescode.is_success() {
                fx.push(Effect::Reply(
                    cmd,
                    Reply::Local(Box::new(crate::ops::LocalResult::code(ack.rescode))),
                ));
                return;
            }
            // The server took it: the same change here, and the position of
            // its note in my log is this device's own.
            self.db(
                DbJob::Local {
                    cmd,
                    op: Box::new(op),
                },
                fx,
            );
            if ack.seq > 0 {
                self.item(Item::Own(ack.seq), now, fx);
            }
            return;
        }
        let Some((cmd, delete, c)) = self.changes.remove(&seq) else {
            return;
        };
        if !ack.rescode.is_success() {
            // Refused (a bad id, storage unavailable): nothing changes here
            // either, so the devices stay alike; the app gets the code and
            // may try again.
            fx.push(Effect::Reply(
                cmd,
                Reply::Session(SessionResult {
                    rescode: ack.rescode,
                    session: SessionData {
                        id: c.id,
                        to_type: c.to_type,
                        ..Default::default()
                    },
                    total_unread: 0,
                }),
            ));
            return;
        }
        let job = if delete {
            DbJob::DeleteSession {
                cmd,
                to_type: c.to_type,
                id: c.id,
            }
        } else {
            DbJob::SetUnreadZero {
                cmd,
                to_type: c.to_type,
                id: c.id,
                read_seq: c.read_seq,
            }
        };
        self.db(job, fx);
        if ack.seq > 0 {
            self.item(Item::Own(ack.seq), now, fx);
        }
    }

    /// Queries the server's history.
    pub fn query_online(
        &mut self,
        link: &mut Link<'_>,
        cmd: CmdId,
        q: HistoryQuery,
        fx: &mut Vec<Effect>,
    ) {
        let seq = link.next();
        fx.push(Effect::Send(vec![ClientFrame::History { seq, body: q }]));
        self.history.insert(seq, cmd);
    }

    /// The server's history arrived.
    pub fn history_result(&mut self, seq: u32, r: HistoryResult, fx: &mut Vec<Effect>) {
        if let Some(cmd) = self.history.remove(&seq) {
            fx.push(Effect::Reply(
                cmd,
                Reply::Query(QueryResult {
                    rescode: r.rescode,
                    source: 1,
                    content: r.content,
                }),
            ));
        }
    }

    /// Local work that does not depend on the link.
    pub fn local(&mut self, job: DbJob, fx: &mut Vec<Effect>) {
        self.db(job, fx);
    }

    /// Deadlines: a gap that lasted, or a position report due.
    pub fn timeout(&mut self, link: Option<&mut Link<'_>>, now: Instant, fx: &mut Vec<Effect>) {
        let Some(link) = link else {
            return;
        };
        if self.gap_since.is_some_and(|t| now >= t + GAP_WAIT) {
            self.start_sync(link, fx);
        }
        if self.ack_due.is_some_and(|t| now >= t) {
            self.ack_due = None;
            if self.cursor > self.acked {
                self.acked = self.cursor;
                let seq = link.next();
                fx.push(Effect::Send(vec![ClientFrame::CursorAck {
                    seq,
                    body: CursorAck {
                        cursor: self.cursor,
                    },
                }]));
            }
        }
    }

    /// A local-database job finished.
    pub fn db_done(&mut self, done: DbDone, link: Option<&mut Link<'_>>, fx: &mut Vec<Effect>) {
        let now = link.as_ref().map(|l| l.now);
        match done {
            DbDone::Cursor(r) => {
                match r {
                    Ok(c) => self.cursor = c,
                    Err(e) => {
                        tracing::warn!(error = %e, "local database unavailable; syncing from the start")
                    }
                }
                self.loaded = true;
                if let Some(link) = link {
                    self.request_sync(link, fx);
                    self.db_next(fx);
                    return;
                }
            }
            DbDone::Applied(kind, r) => {
                if kind != ApplyKind::LiveOnly {
                    self.applying = false;
                }
                match r {
                    Ok(a) => {
                        let moved = a.cursor > self.cursor;
                        self.cursor = self.cursor.max(a.cursor);
                        self.report(&a, fx);
                        if kind == ApplyKind::Sync {
                            if let Some(round) = self.sync.as_mut() {
                                for r in &a.roamed {
                                    if !round.roamed.contains(r) {
                                        round.roamed.push(r.clone());
                                    }
                                }
                            }
                            self.after_sync_batch(link, fx);
                            self.db_next(fx);
                            return;
                        }
                        if moved {
                            if let Some(now) = now {
                                self.ack_due.get_or_insert(now + ACK_EVERY);
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "applying entries failed; they will come again");
                        self.buffer.clear();
                        if kind == ApplyKind::Sync {
                            self.sync = None;
                        }
                        self.gap_since = now;
                    }
                }
                if let (Some(link), Some(now)) = (link, now) {
                    self.pump(now, fx);
                    if self.gap_since.is_some_and(|t| now >= t + GAP_WAIT) {
                        self.start_sync(link, fx);
                    }
                }
            }
            DbDone::Sending(r) => match r {
                Ok(Some(s)) => fx.push(Effect::Emit(Event::SessionChange(SessionResult {
                    rescode: ResCode::SUCCESS,
                    session: s,
                    total_unread: 0,
                }))),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "recording a sent message failed"),
            },
            DbDone::Ack { cmd, ack, session } => {
                fx.push(Effect::Emit(Event::SendAck(ack.clone())));
                if let Ok(Some(s)) = session {
                    fx.push(Effect::Emit(Event::SessionChange(SessionResult {
                        rescode: ResCode::SUCCESS,
                        session: s,
                        total_unread: 0,
                    })));
                }
                if let Some(cmd) = cmd {
                    fx.push(Effect::Reply(cmd, Reply::SendMsg(ack)));
                }
            }
            DbDone::Session { cmd, result } => {
                let r = match result {
                    Ok((Some(s), total)) => SessionResult {
                        rescode: ResCode::SUCCESS,
                        session: s,
                        total_unread: total,
                    },
                    Ok((None, total)) => SessionResult {
                        rescode: ResCode::NOT_EXIST,
                        session: SessionData::default(),
                        total_unread: total,
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "local database unavailable");
                        SessionResult {
                            rescode: ResCode::ERROR,
                            session: SessionData::default(),
                            total_unread: 0,
                        }
                    }
                };
                if r.rescode.is_success() {
                    fx.push(Effect::Emit(Event::SessionChange(r.clone())));
                }
                fx.push(Effect::Reply(cmd, Reply::Session(r)));
            }
            DbDone::Sessions { cmd, result } => {
                let r = result.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "local database unavailable");
                    (Vec::new(), 0)
                });
                fx.push(Effect::Reply(cmd, Reply::Sessions(r.0, r.1)));
            }
            DbDone::Messages { cmd, result } => {
                let (rescode, content) = match result {
                    Ok(c) => (ResCode::SUCCESS, c),
                    Err(e) => {
                        tracing::warn!(error = %e, "local database unavailable");
                        (ResCode::ERROR, Vec::new())
                    }
                };
                fx.push(Effect::Reply(
                    cmd,
                    Reply::Query(QueryResult {
                        rescode,
                        source: 0,
                        content,
                    }),
                ));
            }
            DbDone::SysMsgs { cmd, result } => {
                let r = result.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "local database unavailable");
                    (Vec::new(), 0)
                });
                fx.push(Effect::Reply(cmd, Reply::SysMsgs(r.0, r.1)));
            }
            DbDone::Local { cmd, result } => {
                let r = result.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "local database unavailable");
                    Box::new(crate::ops::LocalResult {
                        rescode: ResCode::ERROR,
                        ..Default::default()
                    })
                });
                for s in &r.changed {
                    fx.push(Effect::Emit(Event::SessionChange(SessionResult {
                        rescode: ResCode::SUCCESS,
                        session: s.clone(),
                        total_unread: r.unread,
                    })));
                }
                fx.push(Effect::Reply(cmd, Reply::Local(r)));
            }
        }
        self.db_next(fx);
    }

    /// After a sync batch is applied: the next batch, or the end of the round.
    fn after_sync_batch(&mut self, link: Option<&mut Link<'_>>, fx: &mut Vec<Effect>) {
        let (Some(link), Some((head, caught_up))) =
            (link, self.sync.as_ref().map(|r| (r.head, r.caught_up)))
        else {
            return;
        };
        // The round ends with a request that brings nothing: the server has
        // then seen this cursor, so my other devices sync the rest as roaming.
        if self.cursor < head || !caught_up {
            self.request_sync(link, fx);
            return;
        }
        let round = self.sync.take().expect("a round runs");
        tracing::debug!(cursor = self.cursor, first = round.first, "sync round done");
        if round.first {
            fx.push(Effect::Emit(Event::DataSync(DataSync {
                sync_type: data_sync_type::UNREAD_MSG,
                status: data_sync_status::COMPLETE,
                attachment: String::new(),
            })));
        }
        for id in round.roamed {
            fx.push(Effect::Emit(Event::DataSync(DataSync {
                sync_type: data_sync_type::ROAM_MSG,
                status: data_sync_status::COMPLETE,
                attachment: id,
            })));
        }
        self.acked = self.acked.max(self.cursor);
        let now = link.now;
        self.pump(now, fx);
        if self.gap_since.is_some() {
            // Live pushes came while syncing and a gap is left: go on at once.
            self.start_sync(link, fx);
        }
    }

    /// The callbacks of applied entries: messages (per session in a batch
    /// when synced and the batch callback is registered), notifications,
    /// session changes.
    fn report(&self, a: &Applied, fx: &mut Vec<Effect>) {
        let synced: Vec<&ReceivedMessage> = a
            .messages
            .iter()
            .filter(|m| {
                m.feature == message_feature::LEAVE_MSG || m.feature == message_feature::ROAM_MSG
            })
            .collect();
        if self.batch_receive && !synced.is_empty() {
            // One call per session, in order of first appearance.
            let mut order: Vec<String> = Vec::new();
            let mut by: HashMap<String, Vec<ReceivedMessage>> = HashMap::new();
            for m in &a.messages {
                let key = format!("{}:{}", m.content.to_type, session_key(&m.content));
                if !by.contains_key(&key) {
                    order.push(key.clone());
                }
                by.entry(key).or_default().push(m.clone());
            }
            for k in order {
                let list = by.remove(&k).unwrap_or_default();
                if list.iter().all(|m| {
                    m.feature == message_feature::LEAVE_MSG
                        || m.feature == message_feature::ROAM_MSG
                }) {
                    fx.push(Effect::Emit(Event::ReceiveBatch(list)));
                } else {
                    for m in list {
                        fx.push(Effect::Emit(Event::Receive(m)));
                    }
                }
            }
        } else {
            for m in &a.messages {
                fx.push(Effect::Emit(Event::Receive(m.clone())));
            }
        }
        for n in &a.sysmsgs {
            fx.push(Effect::Emit(Event::SysMsg(n.clone())));
        }
        for s in &a.sessions {
            fx.push(Effect::Emit(Event::SessionChange(SessionResult {
                rescode: ResCode::SUCCESS,
                session: s.clone(),
                total_unread: a.total_unread,
            })));
        }
        if !a.receipts.is_empty() {
            fx.push(Effect::Emit(Event::MsgStatusChanged(a.receipts.clone())));
        }
        if !a.recalls.is_empty() {
            fx.push(Effect::Emit(Event::Recall(a.recalls.clone())));
        }
        if !a.deleted_self.is_empty() {
            fx.push(Effect::Emit(Event::DeleteSelf(a.deleted_self.clone())));
        }
        if !a.cleared.is_empty() {
            fx.push(Effect::Emit(Event::DeleteHistory(a.cleared.clone())));
        }
    }
}

/// The session a message belongs to: the peer (the receiver when I sent it
/// is unknown here, so both ends sorted).
fn session_key(m: &ImMessage) -> String {
    let (a, b) = (
        m.from_id.to_ascii_lowercase(),
        m.to_accid.to_ascii_lowercase(),
    );
    if a <= b {
        format!("{a}|{b}")
    } else {
        format!("{b}|{a}")
    }
}

/// A send's answer for a message that never reached the server.
pub(crate) fn failed_ack(m: &ImMessage, code: ResCode, desc: &str) -> SendMsgAck {
    SendMsgAck {
        rescode: code,
        msg_id: m.client_msg_id.clone(),
        talk_id: m.to_accid.clone(),
        msg_timetag: 0,
        server_msg_id: 0,
        seq: 0,
        desc: desc.into(),
    }
}
