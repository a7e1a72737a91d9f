//! The account's local database: its log position, its messages (NIM's
//! message log), its recent sessions and its system notifications, in the
//! account's cache file. Every change of a batch is one transaction, the new
//! log position included, so a device never applies an entry twice or skips
//! one, whatever stops it.

use crate::cache::{self, Cache};
use crate::msgs::{DbDone, DbJob, Item};
use magpie_proto::msg::{
    message_feature, msglog_status, session_command, session_type, EntryBody, ImMessage,
    SendMsgAck, SysMsg,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS msglog (
    client_msg_id  TEXT PRIMARY KEY,
    server_msg_id  INTEGER NOT NULL DEFAULT 0,
    talk_id        TEXT NOT NULL,
    to_type        INTEGER NOT NULL,
    from_id        TEXT NOT NULL,
    time           INTEGER NOT NULL,
    msg_type       INTEGER NOT NULL,
    status         INTEGER NOT NULL,
    sub_status     INTEGER NOT NULL DEFAULT 0,
    seq            INTEGER NOT NULL DEFAULT 0,
    json           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS msglog_by_talk ON msglog (to_type, talk_id, time);
-- Unread counts (per session and in total) cost the unread rows, not the log.
CREATE INDEX IF NOT EXISTS msglog_by_status ON msglog (status, to_type, talk_id);
CREATE TABLE IF NOT EXISTS sessions (
    id          TEXT NOT NULL,
    type        INTEGER NOT NULL,
    read_seq    INTEGER NOT NULL DEFAULT 0,
    last_msg    TEXT,
    ext         TEXT NOT NULL DEFAULT '',
    top         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (id, type)
);
CREATE TABLE IF NOT EXISTS sysmsgs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    from_account   TEXT NOT NULL,
    client_msg_id  TEXT NOT NULL,
    msg_type       INTEGER NOT NULL,
    msg_time       INTEGER NOT NULL,
    status         INTEGER NOT NULL,
    seq            INTEGER NOT NULL DEFAULT 0,
    json           TEXT NOT NULL,
    UNIQUE (from_account, client_msg_id)
);
-- Sessions whose older messages stay on the server (NIM's has-more-roaming
-- tags): the oldest message this device has of them, by time and server id.
CREATE TABLE IF NOT EXISTS roam_hasmore (
    id             TEXT NOT NULL,
    type           INTEGER NOT NULL,
    msg_time       INTEGER NOT NULL,
    msg_server_id  INTEGER NOT NULL,
    PRIMARY KEY (id, type)
);
-- P2P read receipts per session: the peer read my messages up to
-- peer_read (ms); one of my devices told the peer it read up to my_sent.
CREATE TABLE IF NOT EXISTS receipts (
    id         TEXT NOT NULL,
    type       INTEGER NOT NULL,
    peer_read  INTEGER NOT NULL DEFAULT 0,
    my_sent    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (id, type)
);
";

/// A recent session as NIM reports it (`kNIMSession*` keys).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SessionData {
    /// The peer's accid.
    pub id: String,
    /// NIMSessionType.
    #[serde(rename = "type")]
    pub to_type: u32,
    /// Unread messages.
    pub unread_count: u32,
    /// NIMSessionCommand of the change.
    pub command: u32,
    /// Last message: client id.
    pub msg_client_id: String,
    /// Last message: sender.
    pub msg_from_account: String,
    /// Last message: time, ms.
    pub msg_time: i64,
    /// Last message: NIMMessageType.
    pub msg_type: i32,
    /// Last message: body.
    pub msg_body: String,
    /// Last message: attachment.
    pub msg_attach: String,
    /// Last message: NIMMsgLogStatus.
    pub msg_status: u32,
    /// Last message: sub-status.
    pub msg_sub_status: u32,
    /// True on the last of a burst of changes.
    pub last_updated_msg: bool,
    /// Local top flag.
    pub top: bool,
    /// Local extension data.
    pub extend_data: String,
}

impl SessionData {
    /// Makes the message of `json` (with its local status) the session's
    /// last message.
    fn set_last_message(&mut self, json: &str, status: u32, sub_status: u32) {
        if let Ok(m) = serde_json::from_str::<ImMessage>(json) {
            self.msg_client_id = m.client_msg_id;
            self.msg_from_account = m.from_id;
            self.msg_time = m.time;
            self.msg_type = m.msg_type;
            self.msg_body = m.msg_body;
            self.msg_attach = m.msg_attach;
        }
        self.msg_status = status;
        self.msg_sub_status = sub_status;
    }
}

/// A received message as NIM's receive callback gets it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReceivedMessage {
    /// 200.
    pub rescode: u32,
    /// NIMMessageFeature.
    pub feature: u32,
    /// The message.
    pub content: ImMessage,
}

/// A received system notification as NIM's sysmsg callback gets it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReceivedSysMsg {
    /// 200.
    pub rescode: u32,
    /// NIMMessageFeature (1 offline, 0 online).
    pub feature: u32,
    /// Unread system notifications in all (custom ones never count).
    pub unread_count: u32,
    /// The notification.
    pub content: SysMsg,
}

/// What applying entries changed, for the callbacks.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    /// The log position reached.
    pub cursor: u64,
    /// New messages, in order, with their feature.
    pub messages: Vec<ReceivedMessage>,
    /// New notifications, in order.
    pub sysmsgs: Vec<ReceivedSysMsg>,
    /// Sessions changed, each once, in the order of their last change.
    pub sessions: Vec<SessionData>,
    /// Sessions that received roaming messages.
    pub roamed: Vec<String>,
    /// Total unread messages after the change.
    pub total_unread: u32,
    /// Peers' read receipts, for the status-changed callback.
    pub receipts: Vec<crate::event::MsgStatusChanged>,
    /// Recalls, for the recall callback.
    pub recalls: Vec<magpie_proto::msg::RecallNotify>,
    /// One-way deletions made on another device, for their callback.
    pub deleted_self: Vec<magpie_proto::msg::DeleteSelfNotify>,
    /// Server histories another device cleared, for their callback.
    pub cleared: Vec<magpie_proto::msg::ClearHistoryNotify>,
}

/// NIM's `json_extension` of the local history query
/// (`nim_msglog_query_msg_async`): `direction`, `reverse`, `endtime`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LocalQueryOptions {
    /// NIM's kBackward: forward in time from the anchor, oldest first
    /// (default kForward: back in time, newest first).
    pub backward: bool,
    /// The page in the opposite order.
    pub reverse: bool,
    /// Stop at this time, ms, exclusive (0: no bound): before the anchor
    /// going back, after it going forward.
    pub end_time: i64,
}

/// How entries came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Pushed live while online.
    Live,
    /// Synced after a login or a gap.
    Sync,
}

/// The account's database, open for one piece of work.
pub struct LocalDb {
    pub(crate) conn: Connection,
    pub(crate) me: String,
    /// The database key (SQLCipher), for the files export and import touch.
    pub(crate) key: Option<crate::options::DbKey>,
}

fn sql_err(e: rusqlite::Error) -> String {
    e.to_string()
}

impl LocalDb {
    /// Opens the account's cache file (creating what is missing).
    pub fn open(
        dir: &Path,
        key: Option<&crate::options::DbKey>,
        app_key: &str,
        account: &str,
    ) -> Result<LocalDb, String> {
        let path = cache::path(dir, app_key, account);
        let Cache { conn } = Cache::open(&path, key).map_err(sql_err)?;
        conn.execute_batch(SCHEMA).map_err(sql_err)?;
        Ok(LocalDb {
            conn,
            me: account.to_ascii_lowercase(),
            key: key.cloned(),
        })
    }

    /// The log position applied so far.
    pub fn cursor(&self) -> Result<u64, String> {
        read_cursor(&self.conn).map_err(sql_err)
    }

    /// Applies entries in order from the cursor on. An entry at or below the
    /// cursor is skipped (already applied); `jump_to`, when the server says
    /// older entries were removed, moves the cursor first. Everything is one
    /// transaction.
    pub fn apply(
        &mut self,
        items: &[Item],
        jump_to: Option<u64>,
        arrival: Arrival,
    ) -> Result<Applied, String> {
        let me = self.me.clone();
        let tx = self.conn.transaction().map_err(sql_err)?;
        let mut cursor = read_cursor(&tx).map_err(sql_err)?;
        if let Some(j) = jump_to {
            cursor = cursor.max(j);
        }
        let mut out = Applied::default();
        let mut touched: Vec<(String, u32, u32)> = Vec::new();
        for item in items {
            let seq = item.seq();
            if seq != 0 && seq <= cursor {
                continue;
            }
            if seq != 0 {
                if seq != cursor + 1 {
                    break;
                }
                cursor = seq;
            }
            let e = match item {
                Item::Own(_) => continue,
                Item::Entry(e) => &**e,
            };
            match &e.body {
                EntryBody::Msg { msg } => {
                    let mine = msg.from_id.eq_ignore_ascii_case(&me);
                    let feature = match (arrival, e.feature) {
                        (Arrival::Sync, Some(f)) => f,
                        (Arrival::Sync, None) => message_feature::ROAM_MSG,
                        (Arrival::Live, _) if mine => message_feature::SYNC_MSG,
                        (Arrival::Live, _) => message_feature::DEFAULT,
                    };
                    let talk = msg.talk_id(&me).to_ascii_lowercase();
                    let status = if mine {
                        msglog_status::SENT
                    } else if msg.setting("push_need_badge", true) {
                        msglog_status::UNREAD
                    } else {
                        msglog_status::READ
                    };
                    let new = insert_msg(&tx, msg, &talk, status, e.seq).map_err(sql_err)?;
                    if !new {
                        continue;
                    }
                    let command = touch_session(&tx, &talk, msg.to_type, &msg.client_msg_id)
                        .map_err(sql_err)?;
                    touched.push((talk.clone(), msg.to_type, command));
                    if feature == message_feature::ROAM_MSG && !out.roamed.contains(&talk) {
                        out.roamed.push(talk);
                    }
                    out.messages.push(ReceivedMessage {
                        rescode: 200,
                        feature,
                        content: msg.clone(),
                    });
                }
                EntryBody::Sysmsg { sysmsg } => {
                    let new = insert_sysmsg(&tx, sysmsg, e.seq).map_err(sql_err)?;
                    if new {
                        out.sysmsgs.push(ReceivedSysMsg {
                            rescode: 200,
                            feature: match arrival {
                                Arrival::Sync => message_feature::LEAVE_MSG,
                                Arrival::Live => message_feature::DEFAULT,
                            },
                            unread_count: 0,
                            content: sysmsg.clone(),
                        });
                    }
                }
                EntryBody::Read {
                    to_type,
                    id,
                    read_seq,
                } => {
                    let id = id.to_ascii_lowercase();
                    mark_read(&tx, &id, *to_type, *read_seq).map_err(sql_err)?;
                    touched.push((id, *to_type, session_command::UPDATE));
                }
                EntryBody::Receipt {
                    to_type,
                    id,
                    msg_timetag,
                } => {
                    let id = id.to_ascii_lowercase();
                    peer_read(&tx, &me, &id, *to_type, *msg_timetag).map_err(sql_err)?;
                    out.receipts.push(crate::event::MsgStatusChanged {
                        talk_id: id,
                        msg_timetag: *msg_timetag,
                        status: msglog_status::RECEIPT,
                    });
                }
                EntryBody::Recall(n) => {
                    let mine = n.from_id.eq_ignore_ascii_case(&me);
                    let talk = if mine { &n.to_id } else { &n.from_id }.to_ascii_lowercase();
                    let existed =
                        delete_message(&tx, &talk, n.to_type, &n.msg_id).map_err(sql_err)?;
                    if existed {
                        touched.push((talk, n.to_type, session_command::UPDATE));
                    }
                    let mut n = n.clone();
                    n.msg_exist = existed;
                    n.feature = match arrival {
                        Arrival::Live if mine => message_feature::SYNC_MSG,
                        Arrival::Live => message_feature::DEFAULT,
                        Arrival::Sync => e.feature.unwrap_or(message_feature::LEAVE_MSG),
                    };
                    out.recalls.push(n);
                }
                EntryBody::ReceiptSent {
                    to_type,
                    id,
                    msg_timetag,
                } => {
                    receipt_sent(&tx, &id.to_ascii_lowercase(), *to_type, *msg_timetag)
                        .map_err(sql_err)?;
                }
                EntryBody::DeleteSelf(n) => {
                    let talk = n.session_id.to_ascii_lowercase();
                    if delete_message(&tx, &talk, n.to_type, &n.client_id).map_err(sql_err)? {
                        touched.push((talk, n.to_type, session_command::UPDATE));
                    }
                    out.deleted_self.push(n.clone());
                }
                // Reported only: the local history is the app's to clear.
                EntryBody::ClearHistory(n) => out.cleared.push(n.clone()),
                EntryBody::DeleteSession { to_type, id } => {
                    let id = id.to_ascii_lowercase();
                    tx.execute(
                        "DELETE FROM sessions WHERE id = ?1 AND type = ?2",
                        params![id, to_type],
                    )
                    .map_err(sql_err)?;
                    touched.push((id, *to_type, session_command::REMOVE));
                }
                _ => {}
            }
        }
        write_cursor(&tx, cursor).map_err(sql_err)?;
        out.cursor = cursor;
        out.sessions = changed_sessions(&tx, &touched).map_err(sql_err)?;
        let sys_unread = sysmsg_unread(&tx).map_err(sql_err)?;
        for s in &mut out.sysmsgs {
            s.unread_count = sys_unread;
        }
        out.total_unread = total_unread(&tx).map_err(sql_err)?;
        tx.commit().map_err(sql_err)?;
        Ok(out)
    }

    /// Records a message being sent (status Sending) and its session.
    pub fn record_sending(&mut self, msg: &ImMessage) -> Result<Option<SessionData>, String> {
        let tx = self.conn.transaction().map_err(sql_err)?;
        let talk = msg.to_accid.to_ascii_lowercase();
        let new = insert_msg(&tx, msg, &talk, msglog_status::SENDING, 0).map_err(sql_err)?;
        let mut out = None;
        if new {
            let command =
                touch_session(&tx, &talk, msg.to_type, &msg.client_msg_id).map_err(sql_err)?;
            out = changed_sessions(&tx, &[(talk, msg.to_type, command)])
                .map_err(sql_err)?
                .pop();
        }
        tx.commit().map_err(sql_err)?;
        Ok(out)
    }

    /// Records a send's answer: the message's status, server id, time and
    /// log position; the cursor moves over the sender's own entry when it is
    /// the next one.
    pub fn record_ack(
        &mut self,
        ack: &SendMsgAck,
        advance: bool,
    ) -> Result<Option<SessionData>, String> {
        let tx = self.conn.transaction().map_err(sql_err)?;
        let status = if ack.rescode.is_success() {
            msglog_status::SENT
        } else if ack.rescode == magpie_proto::msg::RES_IN_BLACK {
            msglog_status::REFUSED
        } else {
            msglog_status::SEND_FAILED
        };
        let row: Option<(String, u32, String)> = tx
            .query_row(
                "SELECT talk_id, to_type, json FROM msglog WHERE client_msg_id = ?1",
                [&ack.msg_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(sql_err)?;
        let mut out = None;
        if let Some((talk, to_type, json)) = row {
            let json = if ack.rescode.is_success() {
                match serde_json::from_str::<ImMessage>(&json) {
                    Ok(mut m) => {
                        m.server_msg_id = ack.server_msg_id;
                        m.time = ack.msg_timetag;
                        serde_json::to_string(&m).unwrap_or(json)
                    }
                    Err(_) => json,
                }
            } else {
                json
            };
            tx.execute(
                "UPDATE msglog SET status = ?2, server_msg_id = ?3, time = CASE WHEN ?4 > 0 THEN ?4 ELSE time END, seq = ?5, json = ?6 WHERE client_msg_id = ?1",
                params![ack.msg_id, status, ack.server_msg_id, ack.msg_timetag, ack.seq as i64, json],
            )
            .map_err(sql_err)?;
            out = changed_sessions(&tx, &[(talk, to_type, session_command::UPDATE)])
                .map_err(sql_err)?
                .pop();
        }
        if advance {
            let cursor = read_cursor(&tx).map_err(sql_err)?;
            if ack.seq == cursor + 1 {
                write_cursor(&tx, ack.seq).map_err(sql_err)?;
            }
        }
        tx.commit().map_err(sql_err)?;
        Ok(out)
    }

    /// Marks a session read here (every message in it read, unread 0) up to
    /// `read_seq`; returns the session.
    pub fn set_unread_zero(
        &mut self,
        to_type: u32,
        id: &str,
        read_seq: u64,
    ) -> Result<Option<SessionData>, String> {
        let id = id.to_ascii_lowercase();
        let tx = self.conn.transaction().map_err(sql_err)?;
        tx.execute(
            "UPDATE msglog SET status = ?3 WHERE talk_id = ?1 AND to_type = ?2 AND status = ?4",
            params![id, to_type, msglog_status::READ, msglog_status::UNREAD],
        )
        .map_err(sql_err)?;
        tx.execute(
            "UPDATE sessions SET read_seq = max(read_seq, ?3) WHERE id = ?1 AND type = ?2",
            params![id, to_type, read_seq as i64],
        )
        .map_err(sql_err)?;
        let out = changed_sessions(&tx, &[(id, to_type, session_command::UPDATE)])
            .map_err(sql_err)?
            .pop();
        tx.commit().map_err(sql_err)?;
        Ok(out)
    }

    /// Deletes a session here; returns it as it was.
    pub fn delete_session(&mut self, to_type: u32, id: &str) -> Result<SessionData, String> {
        let id = id.to_ascii_lowercase();
        let tx = self.conn.transaction().map_err(sql_err)?;
        let mut s = changed_sessions(&tx, &[(id.clone(), to_type, session_command::REMOVE)])
            .map_err(sql_err)?
            .pop()
            .unwrap_or(SessionData {
                id: id.clone(),
                to_type,
                command: session_command::REMOVE,
                last_updated_msg: true,
                ..Default::default()
            });
        s.unread_count = 0;
        tx.execute(
            "DELETE FROM sessions WHERE id = ?1 AND type = ?2",
            params![id, to_type],
        )
        .map_err(sql_err)?;
        tx.commit().map_err(sql_err)?;
        Ok(s)
    }

    /// The recent sessions, newest last message first, and the total unread.
    pub fn sessions(&self) -> Result<(Vec<SessionData>, u32), String> {
        let ids: Vec<(String, u32)> = self
            .conn
            .prepare("SELECT id, type FROM sessions")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(sql_err)?;
        let touched: Vec<(String, u32, u32)> = ids
            .into_iter()
            .map(|(i, t)| (i, t, session_command::ADD))
            .collect();
        let mut list = changed_sessions(&self.conn, &touched).map_err(sql_err)?;
        list.sort_by_key(|s| std::cmp::Reverse(s.msg_time));
        for s in &mut list {
            s.last_updated_msg = true;
        }
        Ok((list, total_unread(&self.conn).map_err(sql_err)?))
    }

    /// [`LocalDb::sessions`], each with its newest message not of one of
    /// `types` as its last message (no last message when every one is).
    pub fn sessions_excluding(&self, types: &[i32]) -> Result<(Vec<SessionData>, u32), String> {
        let (mut list, total) = self.sessions()?;
        if types.is_empty() {
            return Ok((list, total));
        }
        let mut newest = self
            .conn
            .prepare("SELECT json, status, sub_status, msg_type FROM msglog WHERE talk_id = ?1 AND to_type = ?2 ORDER BY time DESC, rowid DESC")
            .map_err(sql_err)?;
        for s in &mut list {
            if s.msg_client_id.is_empty() || !types.contains(&s.msg_type) {
                continue;
            }
            let rows = newest
                .query_map(params![s.id, s.to_type], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, u32>(1)?,
                        r.get::<_, u32>(2)?,
                        r.get::<_, i32>(3)?,
                    ))
                })
                .map_err(sql_err)?;
            let mut found = None;
            for row in rows {
                let (json, status, sub, t) = row.map_err(sql_err)?;
                if !types.contains(&t) {
                    found = Some((json, status, sub));
                    break;
                }
            }
            let fresh = SessionData {
                id: std::mem::take(&mut s.id),
                to_type: s.to_type,
                unread_count: s.unread_count,
                command: s.command,
                last_updated_msg: s.last_updated_msg,
                top: s.top,
                extend_data: std::mem::take(&mut s.extend_data),
                ..Default::default()
            };
            *s = fresh;
            if let Some((json, status, sub)) = found {
                s.set_last_message(&json, status, sub);
            }
        }
        list.sort_by_key(|s| std::cmp::Reverse(s.msg_time));
        Ok((list, total))
    }

    /// Local history of a session: up to `limit` messages before
    /// `anchor_time` (0: now), newest first.
    pub fn query(
        &self,
        to_type: u32,
        id: &str,
        limit: u32,
        anchor_time: i64,
        opts: LocalQueryOptions,
    ) -> Result<Vec<ImMessage>, String> {
        // Back in time from the anchor (0: now) down to the end time
        // (0: none), or with `backward` forward in time from the anchor
        // (0: the oldest) up to the end time; both bounds exclusive.
        let (lo, hi, order) = match (opts.backward, anchor_time > 0, opts.end_time > 0) {
            (false, a, e) => (
                if e { opts.end_time } else { i64::MIN },
                if a { anchor_time } else { i64::MAX },
                "DESC",
            ),
            (true, a, e) => (
                if a { anchor_time } else { i64::MIN },
                if e { opts.end_time } else { i64::MAX },
                "ASC",
            ),
        };
        let mut q = self
            .conn
            .prepare_cached(&format!(
                "SELECT json, status FROM msglog WHERE talk_id = ?1 AND to_type = ?2 AND time > ?3 AND time < ?4 ORDER BY time {order}, rowid {order} LIMIT ?5"
            ))
            .map_err(sql_err)?;
        let rows = q
            .query_map(
                params![id.to_ascii_lowercase(), to_type, lo, hi, limit as i64],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)),
            )
            .map_err(sql_err)?;
        let mut out = Vec::new();
        for r in rows {
            let (json, status) = r.map_err(sql_err)?;
            if let Ok(mut m) = serde_json::from_str::<ImMessage>(&json) {
                m.extra.insert("log_status".into(), Value::from(status));
                out.push(m);
            }
        }
        if opts.reverse {
            out.reverse();
        }
        Ok(out)
    }

    /// Stored system notifications, newest first, before `last_time` (0: now).
    pub fn sysmsgs(&self, limit: u32, last_time: i64) -> Result<(Vec<SysMsg>, u32), String> {
        let before = if last_time > 0 { last_time } else { i64::MAX };
        let mut q = self
            .conn
            .prepare(
                "SELECT id, json, status FROM sysmsgs WHERE msg_time < ?1 ORDER BY msg_time DESC, id DESC LIMIT ?2",
            )
            .map_err(sql_err)?;
        let rows = q
            .query_map(params![before, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                ))
            })
            .map_err(sql_err)?;
        let mut out = Vec::new();
        for r in rows {
            let (id, json, status) = r.map_err(sql_err)?;
            if let Ok(mut n) = serde_json::from_str::<SysMsg>(&json) {
                n.msg_id = id;
                n.extra.insert("log_status".into(), Value::from(status));
                out.push(n);
            }
        }
        Ok((out, sysmsg_unread(&self.conn).map_err(sql_err)?))
    }
}

fn read_cursor(c: &Connection) -> rusqlite::Result<u64> {
    let v: Option<String> = c
        .query_row("SELECT value FROM kv WHERE key = 'log_cursor'", [], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn write_cursor(tx: &Transaction<'_>, cursor: u64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO kv (key, value) VALUES ('log_cursor', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [cursor.to_string()],
    )?;
    Ok(())
}

/// Inserts a message; false when its client id is already there (then
/// only a missing server id, time and position are filled in).
pub(crate) fn insert_msg(
    tx: &Transaction<'_>,
    m: &ImMessage,
    talk: &str,
    status: u32,
    seq: u64,
) -> rusqlite::Result<bool> {
    let json = serde_json::to_string(m).unwrap_or_default();
    let n = tx.execute(
        "INSERT OR IGNORE INTO msglog (client_msg_id, server_msg_id, talk_id, to_type, from_id, time, msg_type, status, seq, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![m.client_msg_id, m.server_msg_id, talk, m.to_type, m.from_id, m.time, m.msg_type, status, seq as i64, json],
    )?;
    if n == 0 && m.server_msg_id > 0 {
        // Our own message coming back (roaming, or the entry of a send whose
        // answer was lost): it is sent.
        tx.execute(
            "UPDATE msglog SET server_msg_id = ?2, time = ?3, seq = CASE WHEN seq = 0 THEN ?4 ELSE seq END, status = CASE WHEN status IN (?5, ?6) THEN ?7 ELSE status END, json = CASE WHEN server_msg_id = 0 THEN ?8 ELSE json END WHERE client_msg_id = ?1",
            params![m.client_msg_id, m.server_msg_id, m.time, seq as i64, msglog_status::SENDING, msglog_status::SEND_FAILED, msglog_status::SENT, json],
        )?;
    }
    Ok(n > 0)
}

/// Makes a message the session's last; the command is Add for a new session.
fn touch_session(
    tx: &Transaction<'_>,
    id: &str,
    to_type: u32,
    client_msg_id: &str,
) -> rusqlite::Result<u32> {
    let n = tx.execute(
        "UPDATE sessions SET last_msg = ?3 WHERE id = ?1 AND type = ?2",
        params![id, to_type, client_msg_id],
    )?;
    if n > 0 {
        return Ok(session_command::UPDATE);
    }
    tx.execute(
        "INSERT INTO sessions (id, type, last_msg) VALUES (?1, ?2, ?3)",
        params![id, to_type, client_msg_id],
    )?;
    Ok(session_command::ADD)
}

fn mark_read(tx: &Transaction<'_>, id: &str, to_type: u32, read_seq: u64) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE msglog SET status = ?3 WHERE talk_id = ?1 AND to_type = ?2 AND status = ?4 AND seq > 0 AND seq <= ?5",
        params![id, to_type, msglog_status::READ, msglog_status::UNREAD, read_seq as i64],
    )?;
    tx.execute(
        "UPDATE sessions SET read_seq = max(read_seq, ?3) WHERE id = ?1 AND type = ?2",
        params![id, to_type, read_seq as i64],
    )?;
    Ok(())
}

pub(crate) fn total_unread(c: &Connection) -> rusqlite::Result<u32> {
    c.query_row(
        "SELECT count(*) FROM msglog m JOIN sessions s ON s.id = m.talk_id AND s.type = m.to_type WHERE m.status = ?1",
        [msglog_status::UNREAD],
        |r| r.get(0),
    )
}

pub(crate) fn sysmsg_unread(c: &Connection) -> rusqlite::Result<u32> {
    // Custom notifications (types 100, 101, 103) never count.
    c.query_row(
        "SELECT count(*) FROM sysmsgs WHERE status = 0 AND msg_type NOT IN (100, 101, 103)",
        [],
        |r| r.get(0),
    )
}

fn insert_sysmsg(tx: &Transaction<'_>, n: &SysMsg, seq: u64) -> rusqlite::Result<bool> {
    let json = serde_json::to_string(n).unwrap_or_default();
    Ok(tx.execute(
        "INSERT OR IGNORE INTO sysmsgs (from_account, client_msg_id, msg_type, msg_time, status, seq, json) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
        params![n.from_account, n.client_msg_id, n.msg_type, n.msg_time, seq as i64, json],
    )? > 0)
}

/// The session items of the changed sessions, each once (last change wins).
pub(crate) fn changed_sessions(
    c: &Connection,
    touched: &[(String, u32, u32)],
) -> rusqlite::Result<Vec<SessionData>> {
    let mut out: Vec<SessionData> = Vec::new();
    for (id, to_type, command) in touched {
        out.retain(|s| !(s.id == *id && s.to_type == *to_type));
        let row: Option<(Option<String>, String, i64)> = c
            .query_row(
                "SELECT last_msg, ext, top FROM sessions WHERE id = ?1 AND type = ?2",
                params![id, to_type],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let mut s = SessionData {
            id: id.clone(),
            to_type: *to_type,
            command: *command,
            ..Default::default()
        };
        if let Some((last, ext, top)) = row {
            s.extend_data = ext;
            s.top = top != 0;
            s.unread_count = c.query_row(
                "SELECT count(*) FROM msglog WHERE talk_id = ?1 AND to_type = ?2 AND status = ?3",
                params![id, to_type, msglog_status::UNREAD],
                |r| r.get(0),
            )?;
            if let Some(last) = last {
                let m: Option<(String, u32, u32)> = c
                    .query_row(
                        "SELECT json, status, sub_status FROM msglog WHERE client_msg_id = ?1",
                        [&last],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                if let Some((json, status, sub)) = m {
                    s.set_last_message(&json, status, sub);
                }
            }
        }
        out.push(s);
    }
    if let Some(last) = out.last_mut() {
        last.last_updated_msg = true;
    }
    Ok(out)
}

/// Deletes a message of a session from the local history; the session's
/// last message becomes the newest one left. False when it was not there.
pub(crate) fn delete_message(
    c: &Connection,
    talk: &str,
    to_type: u32,
    client_msg_id: &str,
) -> rusqlite::Result<bool> {
    let n = c.execute(
        "DELETE FROM msglog WHERE client_msg_id = ?1 AND talk_id = ?2 AND to_type = ?3",
        params![client_msg_id, talk, to_type],
    )?;
    if n > 0 {
        c.execute(
            "UPDATE sessions SET last_msg = (SELECT client_msg_id FROM msglog WHERE talk_id = ?1 AND to_type = ?2 ORDER BY time DESC, rowid DESC LIMIT 1) \
             WHERE id = ?1 AND type = ?2 AND last_msg = ?3",
            params![talk, to_type, client_msg_id],
        )?;
    }
    Ok(n > 0)
}

/// The peer `id` read my messages up to `time`: recorded, and my sent
/// messages up to then take NIM's status 7 (receipt).
fn peer_read(c: &Connection, me: &str, id: &str, to_type: u32, time: i64) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO receipts (id, type, peer_read) VALUES (?1, ?2, ?3) \
         ON CONFLICT (id, type) DO UPDATE SET peer_read = max(peer_read, excluded.peer_read)",
        params![id, to_type, time],
    )?;
    c.execute(
        "UPDATE msglog SET status = ?5 WHERE talk_id = ?1 AND to_type = ?2 AND from_id = ?3 AND time <= ?4 AND status = ?6",
        params![id, to_type, me, time, msglog_status::RECEIPT, msglog_status::SENT],
    )?;
    Ok(())
}

/// One of my devices sent `id` a receipt up to `time`.
pub(crate) fn receipt_sent(
    c: &Connection,
    id: &str,
    to_type: u32,
    time: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO receipts (id, type, my_sent) VALUES (?1, ?2, ?3) \
         ON CONFLICT (id, type) DO UPDATE SET my_sent = max(my_sent, excluded.my_sent)",
        params![id, to_type, time],
    )?;
    Ok(())
}

/// What the local database knows of a message's read receipt: (the peer
/// read it, for a message of mine; I sent a receipt covering it, for a
/// received one). Opens the account's database for this one read, so it
/// may be called from any thread.
pub fn receipt_state(
    dir: &Path,
    key: Option<&crate::options::DbKey>,
    app_key: &str,
    account: &str,
    msg: &ImMessage,
) -> Result<(bool, bool), String> {
    let path = cache::path(dir, app_key, account);
    if !path.exists() {
        return Ok((false, false));
    }
    let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sql_err)?;
    cache::unlock(&conn, key).map_err(sql_err)?;
    let me = account.to_ascii_lowercase();
    let mine = msg.from_id.eq_ignore_ascii_case(&me);
    let talk = msg.talk_id(&me).to_ascii_lowercase();
    let marks: Option<(i64, i64)> = conn
        .query_row(
            "SELECT peer_read, my_sent FROM receipts WHERE id = ?1 AND type = ?2",
            params![talk, msg.to_type],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql_err)?;
    let (peer_read, my_sent) = marks.unwrap_or((0, 0));
    let t = msg.time;
    Ok((
        mine && t > 0 && t <= peer_read,
        !mine && t > 0 && t <= my_sent,
    ))
}

impl SessionData {
    /// NIM's session type of a P2P session.
    pub fn is_p2p(&self) -> bool {
        self.to_type == session_type::P2P
    }
}

/// Runs one local-database job for the account `who` (app key, account)
/// on the calling (blocking) thread.
/// The connection the next job uses: kept open while an account is in use,
/// so a job does not pay for opening the file.
pub(crate) struct OpenDb {
    key: (String, String),
    db: LocalDb,
}

/// Runs one job on the account's database, reusing `slot` when it holds
/// that account's connection; returns the connection for the next job.
pub(crate) fn run(
    dir: &Path,
    key: Option<&crate::options::DbKey>,
    who: Option<(String, String)>,
    slot: Option<OpenDb>,
    job: DbJob,
) -> (Option<OpenDb>, DbDone) {
    let mut slot = slot.filter(|o| Some(&o.key) == who.as_ref());
    let opened = match (&slot, &who) {
        (Some(_), _) => Ok(()),
        (None, Some((app_key, account))) => LocalDb::open(dir, key, app_key, account).map(|db| {
            slot = Some(OpenDb {
                key: (app_key.clone(), account.clone()),
                db,
            })
        }),
        (None, None) => Err("no account".to_string()),
    };
    let db = opened.map(|()| &mut slot.as_mut().expect("just opened").db);
    let done = run_on(db, job);
    (slot, done)
}

fn run_on(db: Result<&mut LocalDb, String>, job: DbJob) -> DbDone {
    match job {
        DbJob::LoadCursor => DbDone::Cursor(db.and_then(|db| db.cursor())),
        DbJob::Apply {
            items,
            jump_to,
            kind,
        } => DbDone::Applied(
            kind,
            db.and_then(|db| db.apply(&items, jump_to, kind.arrival())),
        ),
        DbJob::Sending(msg) => DbDone::Sending(db.and_then(|db| db.record_sending(&msg))),
        DbJob::Ack { cmd, ack } => {
            let session = db.and_then(|db| db.record_ack(&ack, true));
            DbDone::Ack { cmd, ack, session }
        }
        DbJob::SetUnreadZero {
            cmd,
            to_type,
            id,
            read_seq,
        } => DbDone::Session {
            cmd,
            result: db.and_then(|db| {
                let s = db.set_unread_zero(to_type, &id, read_seq)?;
                Ok((s, total_unread(&db.conn).map_err(sql_err)?))
            }),
        },
        DbJob::DeleteSession { cmd, to_type, id } => DbDone::Session {
            cmd,
            result: db.and_then(|db| {
                let s = db.delete_session(to_type, &id)?;
                Ok((Some(s), total_unread(&db.conn).map_err(sql_err)?))
            }),
        },
        DbJob::Sessions { cmd } => DbDone::Sessions {
            cmd,
            result: db.and_then(|db| db.sessions()),
        },
        DbJob::Query {
            cmd,
            to_type,
            id,
            limit,
            anchor_time,
            opts,
        } => DbDone::Messages {
            cmd,
            result: db.and_then(|db| db.query(to_type, &id, limit, anchor_time, opts)),
        },
        DbJob::SysMsgs {
            cmd,
            limit,
            last_time,
        } => DbDone::SysMsgs {
            cmd,
            result: db.and_then(|db| db.sysmsgs(limit, last_time)),
        },
        DbJob::Local { cmd, op } => DbDone::Local {
            cmd,
            result: db.and_then(|db| db.run_op(&op)).map(Box::new),
        },
    }
}
