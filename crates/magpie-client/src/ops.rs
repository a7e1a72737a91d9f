//! NIM's local-database operations on messages, sessions and system
//! notifications (the `nim_msglog_*`, `nim_session_*` and `nim_sysmsg_*`
//! functions that do not need the server): one enum of operations, one
//! result, run on the account's database like every other job.

use crate::local::{LocalDb, SessionData};
use magpie_proto::msg::{msglog_status, session_command, session_type, ImMessage};
use magpie_proto::ResCode;
use rusqlite::{params, OptionalExtension};
use serde_json::Value;

/// A local operation (NIM's function in brackets).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum LocalOp {
    /// A recall of mine the server took: the message leaves this device's
    /// history (`Client::recall`); `message` in the result is it, when it
    /// was there.
    Recalled {
        /// The message's client id.
        client_msg_id: String,
    },
    /// A one-way deletion the server took: the message leaves this
    /// device's history (`Client::delete_message_self`).
    DeletedSelf {
        /// The message's client id.
        client_msg_id: String,
    },
    /// A change the server made and this device keeps nothing of (a
    /// cleared server history, `Client::delete_history_online`).
    ServerOnly,
    /// Records that a read receipt to `id` up to `msg_timetag` went out
    /// (after the server took it; `Client::send_receipt`).
    ReceiptSent {
        /// NIMSessionType.
        to_type: u32,
        /// The peer.
        id: String,
        /// Time of the newest message read, ms.
        msg_timetag: i64,
    },
    /// One message by its client id (`nim_msglog_query_msg_by_id_async`).
    MsgById {
        /// Client message id.
        client_msg_id: String,
    },
    /// Sets a message's NIMMsgLogStatus (`nim_msglog_set_status_async`).
    MsgSetStatus {
        /// Client message id.
        client_msg_id: String,
        /// NIMMsgLogStatus.
        status: u32,
    },
    /// Sets a message's sub-status (`nim_msglog_set_sub_status_async`).
    MsgSetSubStatus {
        /// Client message id.
        client_msg_id: String,
        /// NIMMsgLogSubStatus.
        sub_status: u32,
    },
    /// Marks a session's unread messages read (`nim_msglog_batch_status_read_async`).
    MsgSessionRead {
        /// NIMSessionType.
        to_type: u32,
        /// Session id.
        id: String,
    },
    /// Deletes a session's messages (`nim_msglog_batch_status_delete_async`).
    MsgSessionDelete {
        /// NIMSessionType.
        to_type: u32,
        /// Session id.
        id: String,
    },
    /// Deletes one message (`nim_msglog_delete_async`).
    MsgDelete {
        /// NIMSessionType.
        to_type: u32,
        /// Session id.
        id: String,
        /// Client message id.
        client_msg_id: String,
    },
    /// Deletes every message of one session type
    /// (`nim_msglog_delete_by_session_type_async`).
    MsgDeleteByType {
        /// Also remove the sessions.
        delete_sessions: bool,
        /// NIMSessionType.
        to_type: u32,
    },
    /// Deletes every message (`nim_msglog_delete_all_async`).
    MsgDeleteAll {
        /// Also remove the sessions.
        delete_sessions: bool,
    },
    /// Marks every unread message read (`nim_msglog_read_all_async`).
    MsgReadAll,
    /// Deletes a session's messages between two times, inclusive, in
    /// either order (`nim_msglog_delete_by_time_async`).
    MsgDeleteByTime {
        /// NIMSessionType.
        to_type: u32,
        /// Session id.
        id: String,
        /// One end of the range, ms.
        time1: i64,
        /// The other end, ms.
        time2: i64,
    },
    /// Searches the local history (`nim_msglog_query_msg_by_options_async`).
    MsgSearch {
        /// Sessions to search (P2P ids); none: every P2P session.
        ids: Option<Vec<String>>,
        /// Most messages (1 to 100).
        limit: u32,
        /// Earliest time, ms (0: no bound).
        from_time: i64,
        /// Latest time, ms (0: no bound).
        end_time: i64,
        /// Oldest first from `from_time` (else newest first from `end_time`).
        reverse: bool,
        /// Only these NIMMessageTypes (empty: every type).
        msg_types: Vec<i32>,
        /// Text the body (or a file's name) contains (empty: any).
        content: String,
        /// A client message id to leave out (the previous page's last).
        exclude: String,
    },
    /// Copies the message history (sessions included, system notifications
    /// not) to a new database file (`nim_msglog_export_db_async`).
    MsgExport {
        /// The file to write; it must not exist.
        path: String,
    },
    /// Adds the messages and sessions of an exported file of this account,
    /// keeping what is already here (`nim_msglog_import_db_async`).
    MsgImport {
        /// The exported file.
        path: String,
    },
    /// Sets a message's `local_ext` (`nim_msglog_update_localext_async`).
    MsgUpdateLocalExt {
        /// Client message id.
        client_msg_id: String,
        /// The new local extension (JSON text).
        local_ext: String,
    },
    /// Writes a message to the local history only, or updates it
    /// (`nim_msglog_insert_msglog_async`).
    MsgInsert {
        /// Session id.
        talk_id: String,
        /// The message.
        msg: Box<ImMessage>,
        /// Make it the session's last message.
        update_session: bool,
    },
    /// Keeps messages of the server's history in the local history
    /// (`need_save_to_local` of `nim_msglog_query_msg_online_async`): a
    /// message whose client id is already there is left as it is (NIM's
    /// `replace_local_message` defaults to false); the sessions are not
    /// touched. `imported` counts the messages added.
    MsgSave {
        /// Session id (the peer).
        talk_id: String,
        /// The messages.
        msgs: Vec<ImMessage>,
    },
    /// One session (`nim_session_query_sessiondata_by_id_async`).
    SessionById {
        /// NIMSessionType.
        to_type: u32,
        /// Session id.
        id: String,
    },
    /// The sessions of a list this device has, in the list's order, each
    /// as [`LocalOp::SessionById`] gives it (one job for the sessions on
    /// top, `nim_session_query_stick_top_session_list`).
    SessionsByIds {
        /// (NIMSessionType, session id) pairs.
        keys: Vec<(u32, String)>,
    },
    /// The newest sessions (`nim_session_query_last_few_session_async`).
    SessionsLastFew {
        /// How many.
        limit: u32,
    },
    /// Every session, each with its newest message that is not of one of
    /// `types` as its last message
    /// (`nim_session_query_all_recent_session_with_last_msg_excluded_type_async`
    /// and its `_ex`).
    SessionsExcluding {
        /// NIMMessageTypes a session's last message may not be.
        types: Vec<i32>,
    },
    /// The sessions' "more roaming messages on the server" tags
    /// (`nim_session_*_session_hasmore_roammsg`).
    RoamHasMore(RoamHasMoreOp),
    /// Removes every session (`nim_session_delete_all_recent_session_async`).
    SessionDeleteAll,
    /// Sets the local top flag (`nim_session_set_top`).
    SessionSetTop {
        /// NIMSessionType.
        to_type: u32,
        /// Session id.
        id: String,
        /// On top.
        top: bool,
    },
    /// Sets the local extension data (`nim_session_set_extend_data`).
    SessionSetExtendData {
        /// NIMSessionType.
        to_type: u32,
        /// Session id.
        id: String,
        /// The data (at most 4,096 characters).
        data: String,
    },
    /// Clears every session's unread count (`nim_session_reset_all_unread_count_async`).
    SessionResetAllUnread,
    /// Sets a system notification's NIMSysMsgStatus (`nim_sysmsg_set_status_async`).
    SysMsgSetStatus {
        /// The local id (`msg_id` in a query's answer).
        msg_id: i64,
        /// NIMSysMsgStatus.
        status: u32,
    },
    /// Marks every system notification read (`nim_sysmsg_read_all_async`).
    SysMsgReadAll,
    /// Deletes one system notification (`nim_sysmsg_delete_async`).
    SysMsgDelete {
        /// The local id.
        msg_id: i64,
    },
    /// Deletes every system notification (`nim_sysmsg_delete_all_async`).
    SysMsgDeleteAll,
    /// Sets the status of every notification of a type
    /// (`nim_sysmsg_set_logs_status_by_type_async`).
    SysMsgSetStatusByType {
        /// NIMSysMsgType.
        msg_type: u32,
        /// NIMSysMsgStatus.
        status: u32,
    },
    /// Deletes every notification of a type (`nim_sysmsg_delete_logs_by_type_async`).
    SysMsgDeleteByType {
        /// NIMSysMsgType.
        msg_type: u32,
    },
}

/// What to do with the roaming tags ([`LocalOp::RoamHasMore`]).
#[derive(Clone, Debug, PartialEq)]
pub enum RoamHasMoreOp {
    /// One session's tag (none: `rescode` 0).
    Query {
        /// NIMSessionType.
        to_type: u32,
        /// Session id.
        id: String,
    },
    /// Every tag.
    All,
    /// Sets a session's tag to a message: its session, time and server id.
    Update(Box<ImMessage>),
    /// Removes a session's tag.
    Delete {
        /// NIMSessionType.
        to_type: u32,
        /// Session id.
        id: String,
    },
}

/// A session's roaming tag: the server keeps messages of it older than
/// the one named here (NIM's `SessionRoamMsgHasMoreTagInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoamTag {
    /// Session id.
    pub id: String,
    /// NIMSessionType.
    pub to_type: u32,
    /// The message's time, ms.
    pub msg_time: i64,
    /// The message's server id.
    pub msg_server_id: i64,
}

/// What a local operation answers.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalResult {
    /// 200 done; 0 (kNIMResError) when what it names is not there; 414
    /// for a bad argument; 20001 without an account.
    pub rescode: ResCode,
    /// The message asked for or written.
    pub message: Option<ImMessage>,
    /// The session asked for or changed.
    pub session: Option<SessionData>,
    /// The sessions asked for.
    pub sessions: Vec<SessionData>,
    /// Unread messages in all (session operations) or unread system
    /// notifications (system notification operations).
    pub unread: u32,
    /// Sessions that changed, for the session change callback.
    pub changed: Vec<SessionData>,
    /// Messages an import or a save added.
    pub imported: u64,
    /// Messages a search found.
    pub messages: Vec<ImMessage>,
    /// Roaming tags asked for.
    pub roam_tags: Vec<RoamTag>,
}

impl Default for LocalResult {
    fn default() -> Self {
        LocalResult {
            rescode: ResCode::SUCCESS,
            message: None,
            session: None,
            sessions: Vec::new(),
            unread: 0,
            changed: Vec::new(),
            imported: 0,
            messages: Vec::new(),
            roam_tags: Vec::new(),
        }
    }
}

impl LocalResult {
    pub(crate) fn code(rescode: ResCode) -> LocalResult {
        LocalResult {
            rescode,
            ..Default::default()
        }
    }
}

fn sql(e: rusqlite::Error) -> String {
    e.to_string()
}

/// The NIMSessionCommand that says "all of this type removed" or "all of
/// this type's messages deleted".
fn bulk_command(to_type: Option<u32>, removed: bool) -> u32 {
    match (to_type, removed) {
        (None, true) => session_command::REMOVE_ALL,
        (None, false) => session_command::ALL_MSG_DELETED,
        (Some(session_type::P2P), true) => session_command::REMOVE_ALL_P2P,
        (Some(session_type::P2P), false) => session_command::ALL_P2P_MSG_DELETED,
        (Some(session_type::SUPER_TEAM), true) => session_command::REMOVE_ALL_SUPER_TEAM,
        (Some(session_type::SUPER_TEAM), false) => session_command::ALL_SUPER_TEAM_MSG_DELETED,
        (Some(_), true) => session_command::REMOVE_ALL_TEAM,
        (Some(_), false) => session_command::ALL_TEAM_MSG_DELETED,
    }
}

/// kNIMLocalResMsgLogImportIdentity (10600): the file is not this account's
/// exported history.
const IMPORT_NOT_MINE: ResCode = ResCode(10600);

impl LocalDb {
    /// Runs a local operation in one transaction.
    pub fn run_op(&mut self, op: &LocalOp) -> Result<LocalResult, String> {
        match op {
            LocalOp::MsgExport { path } => return self.export(path),
            LocalOp::MsgImport { path } => return self.import(path),
            _ => {}
        }
        let tx = self.conn.transaction().map_err(sql)?;
        let mut r = LocalResult::code(ResCode::SUCCESS);
        // Sessions whose item changed, with the command to report.
        let mut touched: Vec<(String, u32, u32)> = Vec::new();
        let mut sysmsg_op = false;
        match op {
            LocalOp::MsgById { client_msg_id } => {
                let row: Option<(String, u32, u32)> = tx
                    .query_row(
                        "SELECT json, status, sub_status FROM msglog WHERE client_msg_id = ?1",
                        [client_msg_id],
                        |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?)),
                    )
                    .optional()
                    .map_err(sql)?;
                match row.and_then(|(j, st, sub)| {
                    let mut m: ImMessage = serde_json::from_str(&j).ok()?;
                    m.extra.insert("log_status".into(), Value::from(st));
                    m.extra.insert("log_sub_status".into(), Value::from(sub));
                    Some(m)
                }) {
                    Some(m) => r.message = Some(m),
                    None => r.rescode = ResCode::ERROR,
                }
            }
            LocalOp::MsgSetStatus {
                client_msg_id,
                status,
            }
            | LocalOp::MsgSetSubStatus {
                client_msg_id,
                sub_status: status,
            } => {
                let col = if matches!(op, LocalOp::MsgSetStatus { .. }) {
                    "status"
                } else {
                    "sub_status"
                };
                let session: Option<(String, u32)> = tx
                    .query_row(
                        "SELECT talk_id, to_type FROM msglog WHERE client_msg_id = ?1",
                        [client_msg_id],
                        |x| Ok((x.get(0)?, x.get(1)?)),
                    )
                    .optional()
                    .map_err(sql)?;
                match session {
                    Some((id, t)) => {
                        tx.execute(
                            &format!("UPDATE msglog SET {col} = ?2 WHERE client_msg_id = ?1"),
                            params![client_msg_id, status],
                        )
                        .map_err(sql)?;
                        touched.push((id, t, session_command::UPDATE));
                    }
                    None => r.rescode = ResCode::ERROR,
                }
            }
            LocalOp::MsgSessionRead { to_type, id } => {
                tx.execute(
                    "UPDATE msglog SET status = ?3 WHERE talk_id = ?1 AND to_type = ?2 AND status = ?4",
                    params![id, to_type, msglog_status::READ, msglog_status::UNREAD],
                )
                .map_err(sql)?;
                touched.push((id.clone(), *to_type, session_command::UPDATE));
            }
            LocalOp::MsgSessionDelete { to_type, id } => {
                tx.execute(
                    "DELETE FROM msglog WHERE talk_id = ?1 AND to_type = ?2",
                    params![id, to_type],
                )
                .map_err(sql)?;
                touched.push((id.clone(), *to_type, session_command::MSG_DELETED));
            }
            LocalOp::MsgDelete {
                to_type,
                id,
                client_msg_id,
            } => {
                if crate::local::delete_message(&tx, id, *to_type, client_msg_id).map_err(sql)? {
                    touched.push((id.clone(), *to_type, session_command::UPDATE));
                } else {
                    r.rescode = ResCode::ERROR;
                }
            }
            LocalOp::MsgDeleteByType {
                delete_sessions,
                to_type,
            } => {
                tx.execute("DELETE FROM msglog WHERE to_type = ?1", [to_type])
                    .map_err(sql)?;
                if *delete_sessions {
                    tx.execute("DELETE FROM sessions WHERE type = ?1", [to_type])
                        .map_err(sql)?;
                }
                r.changed.push(SessionData {
                    to_type: *to_type,
                    command: bulk_command(Some(*to_type), *delete_sessions),
                    last_updated_msg: true,
                    ..Default::default()
                });
            }
            LocalOp::MsgDeleteAll { delete_sessions } => {
                tx.execute("DELETE FROM msglog", []).map_err(sql)?;
                if *delete_sessions {
                    tx.execute("DELETE FROM sessions", []).map_err(sql)?;
                }
                r.changed.push(SessionData {
                    command: bulk_command(None, *delete_sessions),
                    last_updated_msg: true,
                    ..Default::default()
                });
            }
            LocalOp::MsgReadAll | LocalOp::SessionResetAllUnread => {
                let unread: Vec<(String, u32)> = tx
                    .prepare("SELECT DISTINCT talk_id, to_type FROM msglog WHERE status = ?1")
                    .and_then(|mut s| {
                        s.query_map([msglog_status::UNREAD], |x| Ok((x.get(0)?, x.get(1)?)))?
                            .collect()
                    })
                    .map_err(sql)?;
                tx.execute(
                    "UPDATE msglog SET status = ?1 WHERE status = ?2",
                    params![msglog_status::READ, msglog_status::UNREAD],
                )
                .map_err(sql)?;
                if matches!(op, LocalOp::SessionResetAllUnread) {
                    touched.extend(
                        unread
                            .into_iter()
                            .map(|(i, t)| (i, t, session_command::UPDATE)),
                    );
                }
            }
            LocalOp::MsgDeleteByTime {
                to_type,
                id,
                time1,
                time2,
            } => {
                let (lo, hi) = (*time1.min(time2), *time1.max(time2));
                tx.execute(
                    "DELETE FROM msglog WHERE talk_id = ?1 AND to_type = ?2 AND time >= ?3 AND time <= ?4",
                    params![id, to_type, lo, hi],
                )
                .map_err(sql)?;
                // The session's last message is the newest left.
                tx.execute(
                    "UPDATE sessions SET last_msg = (SELECT client_msg_id FROM msglog WHERE talk_id = ?1 AND to_type = ?2 ORDER BY time DESC, rowid DESC LIMIT 1) \
                     WHERE id = ?1 AND type = ?2",
                    params![id, to_type],
                )
                .map_err(sql)?;
                touched.push((id.clone(), *to_type, session_command::UPDATE));
            }
            LocalOp::MsgSearch {
                ids,
                limit,
                from_time,
                end_time,
                reverse,
                msg_types,
                content,
                exclude,
            } => {
                let order = if *reverse { "ASC" } else { "DESC" };
                let end = if *end_time > 0 { *end_time } else { i64::MAX };
                let mut q = tx
                    .prepare(&format!(
                        "SELECT talk_id, json, status FROM msglog WHERE to_type = 0 AND time >= ?1 AND time <= ?2 ORDER BY time {order}, rowid {order}"
                    ))
                    .map_err(sql)?;
                let rows = q
                    .query_map(params![from_time, end], |x| {
                        Ok((
                            x.get::<_, String>(0)?,
                            x.get::<_, String>(1)?,
                            x.get::<_, u32>(2)?,
                        ))
                    })
                    .map_err(sql)?;
                let needle = content.to_lowercase();
                for row in rows {
                    let (talk, json, status) = row.map_err(sql)?;
                    if ids.as_ref().is_some_and(|ids| !ids.contains(&talk)) {
                        continue;
                    }
                    let Ok(mut m) = serde_json::from_str::<ImMessage>(&json) else {
                        continue;
                    };
                    if (!msg_types.is_empty() && !msg_types.contains(&m.msg_type))
                        || (!exclude.is_empty() && m.client_msg_id == *exclude)
                    {
                        continue;
                    }
                    if !needle.is_empty() {
                        let name = serde_json::from_str::<Value>(&m.msg_attach)
                            .ok()
                            .and_then(|a| a["name"].as_str().map(str::to_lowercase))
                            .unwrap_or_default();
                        if !m.msg_body.to_lowercase().contains(&needle) && !name.contains(&needle) {
                            continue;
                        }
                    }
                    m.extra.insert("log_status".into(), Value::from(status));
                    r.messages.push(m);
                    if r.messages.len() >= (*limit).clamp(1, 100) as usize {
                        break;
                    }
                }
            }
            LocalOp::MsgExport { .. } | LocalOp::MsgImport { .. } => unreachable!("handled above"),
            LocalOp::MsgUpdateLocalExt {
                client_msg_id,
                local_ext,
            } => {
                let json: Option<String> = tx
                    .query_row(
                        "SELECT json FROM msglog WHERE client_msg_id = ?1",
                        [client_msg_id],
                        |x| x.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                match json.and_then(|j| serde_json::from_str::<ImMessage>(&j).ok()) {
                    Some(mut m) => {
                        m.extra
                            .insert("local_ext".into(), Value::from(local_ext.clone()));
                        let j = serde_json::to_string(&m).map_err(|e| e.to_string())?;
                        tx.execute(
                            "UPDATE msglog SET json = ?2 WHERE client_msg_id = ?1",
                            params![client_msg_id, j],
                        )
                        .map_err(sql)?;
                        r.message = Some(m);
                    }
                    None => r.rescode = ResCode::ERROR,
                }
            }
            LocalOp::MsgInsert {
                talk_id,
                msg,
                update_session,
            } => {
                if talk_id.is_empty() || msg.client_msg_id.is_empty() {
                    return Ok(LocalResult::code(ResCode::PARAMETER_ERROR));
                }
                let status = msg
                    .extra
                    .get("log_status")
                    .and_then(Value::as_u64)
                    .map_or(msglog_status::READ, |s| s as u32);
                let json = serde_json::to_string(msg).map_err(|e| e.to_string())?;
                tx.execute(
                    "INSERT INTO msglog (client_msg_id, server_msg_id, talk_id, to_type, from_id, time, msg_type, status, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                     ON CONFLICT (client_msg_id) DO UPDATE SET json = excluded.json, status = excluded.status, time = excluded.time, msg_type = excluded.msg_type",
                    params![msg.client_msg_id, msg.server_msg_id, talk_id, msg.to_type, msg.from_id, msg.time, msg.msg_type, status, json],
                )
                .map_err(sql)?;
                if *update_session {
                    let n = tx
                        .execute(
                            "UPDATE sessions SET last_msg = ?3 WHERE id = ?1 AND type = ?2",
                            params![talk_id, msg.to_type, msg.client_msg_id],
                        )
                        .map_err(sql)?;
                    let command = if n > 0 {
                        session_command::UPDATE
                    } else {
                        tx.execute(
                            "INSERT INTO sessions (id, type, last_msg) VALUES (?1, ?2, ?3)",
                            params![talk_id, msg.to_type, msg.client_msg_id],
                        )
                        .map_err(sql)?;
                        session_command::ADD
                    };
                    touched.push((talk_id.clone(), msg.to_type, command));
                }
                r.message = Some((**msg).clone());
            }
            LocalOp::MsgSave { talk_id, msgs } => {
                if talk_id.is_empty() {
                    return Ok(LocalResult::code(ResCode::PARAMETER_ERROR));
                }
                for m in msgs.iter().filter(|m| !m.client_msg_id.is_empty()) {
                    // History: what the peer sent is read, what I sent is sent.
                    let status = if m.from_id.eq_ignore_ascii_case(talk_id) {
                        msglog_status::READ
                    } else {
                        msglog_status::SENT
                    };
                    if crate::local::insert_msg(&tx, m, talk_id, status, 0).map_err(sql)? {
                        r.imported += 1;
                    }
                }
            }
            LocalOp::SessionById { to_type, id } => {
                let exists: Option<i64> = tx
                    .query_row(
                        "SELECT 1 FROM sessions WHERE id = ?1 AND type = ?2",
                        params![id, to_type],
                        |x| x.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                if exists.is_some() {
                    let list = crate::local::changed_sessions(
                        &tx,
                        &[(id.clone(), *to_type, session_command::ADD)],
                    )
                    .map_err(sql)?;
                    r.session = list.into_iter().next();
                } else {
                    r.rescode = ResCode::ERROR;
                }
            }
            LocalOp::SessionsByIds { keys } => {
                let mut present = Vec::new();
                {
                    let mut q = tx
                        .prepare("SELECT 1 FROM sessions WHERE id = ?1 AND type = ?2")
                        .map_err(sql)?;
                    for (to_type, id) in keys {
                        if q.exists(params![id, to_type]).map_err(sql)? {
                            present.push((id.clone(), *to_type, session_command::ADD));
                        }
                    }
                }
                r.sessions = crate::local::changed_sessions(&tx, &present).map_err(sql)?;
            }
            LocalOp::SessionsLastFew { limit } => {
                drop(tx);
                let (mut list, total) = self.sessions()?;
                list.truncate(*limit as usize);
                r.sessions = list;
                r.unread = total;
                return Ok(r);
            }
            LocalOp::SessionsExcluding { types } => {
                drop(tx);
                let (list, total) = self.sessions_excluding(types)?;
                r.sessions = list;
                r.unread = total;
                return Ok(r);
            }
            LocalOp::RoamHasMore(op) => {
                let tag = |x: &rusqlite::Row<'_>| {
                    Ok(RoamTag {
                        id: x.get(0)?,
                        to_type: x.get(1)?,
                        msg_time: x.get(2)?,
                        msg_server_id: x.get(3)?,
                    })
                };
                const COLS: &str = "SELECT id, type, msg_time, msg_server_id FROM roam_hasmore";
                match op {
                    RoamHasMoreOp::Query { to_type, id } => {
                        let found = tx
                            .query_row(
                                &format!("{COLS} WHERE id = ?1 AND type = ?2"),
                                params![id, to_type],
                                tag,
                            )
                            .optional()
                            .map_err(sql)?;
                        match found {
                            Some(t) => r.roam_tags.push(t),
                            None => r.rescode = ResCode::ERROR,
                        }
                    }
                    RoamHasMoreOp::All => {
                        let mut q = tx
                            .prepare(&format!("{COLS} ORDER BY msg_time DESC"))
                            .map_err(sql)?;
                        r.roam_tags = q
                            .query_map([], tag)
                            .and_then(|rows| rows.collect())
                            .map_err(sql)?;
                    }
                    RoamHasMoreOp::Update(m) => {
                        let id = m.talk_id(&self.me).to_ascii_lowercase();
                        if id.is_empty() || m.server_msg_id <= 0 {
                            return Ok(LocalResult::code(ResCode::PARAMETER_ERROR));
                        }
                        tx.execute(
                            "INSERT INTO roam_hasmore (id, type, msg_time, msg_server_id) VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT (id, type) DO UPDATE SET msg_time = excluded.msg_time, msg_server_id = excluded.msg_server_id",
                            params![id, m.to_type, m.time, m.server_msg_id],
                        )
                        .map_err(sql)?;
                    }
                    RoamHasMoreOp::Delete { to_type, id } => {
                        tx.execute(
                            "DELETE FROM roam_hasmore WHERE id = ?1 AND type = ?2",
                            params![id, to_type],
                        )
                        .map_err(sql)?;
                    }
                }
            }
            LocalOp::SessionDeleteAll => {
                tx.execute("DELETE FROM sessions", []).map_err(sql)?;
                r.changed.push(SessionData {
                    command: session_command::REMOVE_ALL,
                    last_updated_msg: true,
                    ..Default::default()
                });
            }
            LocalOp::SessionSetTop { to_type, id, top } => {
                let n = tx
                    .execute(
                        "UPDATE sessions SET top = ?3 WHERE id = ?1 AND type = ?2",
                        params![id, to_type, *top as i64],
                    )
                    .map_err(sql)?;
                if n == 0 {
                    r.rescode = ResCode::ERROR;
                } else {
                    touched.push((id.clone(), *to_type, session_command::UPDATE));
                }
            }
            LocalOp::SessionSetExtendData { to_type, id, data } => {
                if data.chars().count() > 4096 {
                    return Ok(LocalResult::code(ResCode::PARAMETER_ERROR));
                }
                let n = tx
                    .execute(
                        "UPDATE sessions SET ext = ?3 WHERE id = ?1 AND type = ?2",
                        params![id, to_type, data],
                    )
                    .map_err(sql)?;
                if n == 0 {
                    r.rescode = ResCode::ERROR;
                } else {
                    touched.push((id.clone(), *to_type, session_command::UPDATE));
                }
            }
            LocalOp::SysMsgSetStatus { msg_id, status } => {
                sysmsg_op = true;
                let n = tx
                    .execute(
                        "UPDATE sysmsgs SET status = ?2 WHERE id = ?1",
                        params![msg_id, status],
                    )
                    .map_err(sql)?;
                if n == 0 {
                    r.rescode = ResCode::ERROR;
                }
            }
            LocalOp::SysMsgReadAll => {
                sysmsg_op = true;
                tx.execute("UPDATE sysmsgs SET status = 3 WHERE status = 0", [])
                    .map_err(sql)?;
            }
            LocalOp::SysMsgDelete { msg_id } => {
                sysmsg_op = true;
                let n = tx
                    .execute("DELETE FROM sysmsgs WHERE id = ?1", [msg_id])
                    .map_err(sql)?;
                if n == 0 {
                    r.rescode = ResCode::ERROR;
                }
            }
            LocalOp::ServerOnly => {}
            LocalOp::Recalled { client_msg_id } | LocalOp::DeletedSelf { client_msg_id } => {
                let found: Option<(String, u32, String)> = tx
                    .query_row(
                        "SELECT talk_id, to_type, json FROM msglog WHERE client_msg_id = ?1",
                        [client_msg_id],
                        |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?)),
                    )
                    .optional()
                    .map_err(sql)?;
                if let Some((talk, to_type, json)) = found {
                    crate::local::delete_message(&tx, &talk, to_type, client_msg_id)
                        .map_err(sql)?;
                    r.message = serde_json::from_str(&json).ok();
                    touched.push((talk, to_type, session_command::UPDATE));
                }
            }
            LocalOp::ReceiptSent {
                to_type,
                id,
                msg_timetag,
            } => {
                crate::local::receipt_sent(&tx, id, *to_type, *msg_timetag).map_err(sql)?;
            }
            LocalOp::SysMsgDeleteAll => {
                sysmsg_op = true;
                tx.execute("DELETE FROM sysmsgs", []).map_err(sql)?;
            }
            LocalOp::SysMsgSetStatusByType { msg_type, status } => {
                sysmsg_op = true;
                tx.execute(
                    "UPDATE sysmsgs SET status = ?2 WHERE msg_type = ?1",
                    params![msg_type, status],
                )
                .map_err(sql)?;
            }
            LocalOp::SysMsgDeleteByType { msg_type } => {
                sysmsg_op = true;
                tx.execute("DELETE FROM sysmsgs WHERE msg_type = ?1", [msg_type])
                    .map_err(sql)?;
            }
        }
        if !touched.is_empty() {
            let mut changed = crate::local::changed_sessions(&tx, &touched).map_err(sql)?;
            if let LocalOp::MsgSessionDelete { .. } = op {
                for s in &mut changed {
                    s.msg_status = msglog_status::DELETED;
                }
            }
            r.session = changed.last().cloned();
            r.changed.extend(changed);
        }
        r.unread = if sysmsg_op {
            crate::local::sysmsg_unread(&tx).map_err(sql)?
        } else {
            crate::local::total_unread(&tx).map_err(sql)?
        };
        tx.commit().map_err(sql)?;
        Ok(r)
    }
}

impl LocalDb {
    /// `VACUUM INTO` a new file, then drop the system notifications from the
    /// copy and sign it as this account's.
    fn export(&mut self, path: &str) -> Result<LocalResult, String> {
        if path.is_empty() || std::path::Path::new(path).exists() {
            return Ok(LocalResult::code(ResCode::PARAMETER_ERROR));
        }
        // With a db_encrypt_key the copy is encrypted with it too.
        self.conn.execute("VACUUM INTO ?1", [path]).map_err(sql)?;
        let copy = rusqlite::Connection::open(path).map_err(sql)?;
        crate::cache::unlock(&copy, self.key.as_ref()).map_err(sql)?;
        copy.execute_batch("DELETE FROM sysmsgs").map_err(sql)?;
        copy.execute(
            "INSERT INTO kv (key, value) VALUES ('exported_by', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [&self.me],
        )
        .map_err(sql)?;
        Ok(LocalResult::default())
    }

    /// Adds an exported file's messages and sessions (what is here wins).
    fn import(&mut self, path: &str) -> Result<LocalResult, String> {
        if !std::path::Path::new(path).is_file() {
            return Ok(LocalResult::code(ResCode::PARAMETER_ERROR));
        }
        let src =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(sql)?;
        // A file this SDK exported has this SDK's key (or none).
        if crate::cache::unlock(&src, self.key.as_ref()).is_err() {
            return Ok(LocalResult::code(IMPORT_NOT_MINE));
        }
        let owner: Option<String> = src
            .query_row("SELECT value FROM kv WHERE key = 'exported_by'", [], |r| {
                r.get(0)
            })
            .optional()
            .unwrap_or(None);
        drop(src);
        if owner.as_deref() != Some(self.me.as_str()) {
            return Ok(LocalResult::code(IMPORT_NOT_MINE));
        }
        // ATTACH cannot run inside a transaction. The key is the file's
        // (SQLCipher's ATTACH ... KEY; '' for a plain file).
        let key = self.key.as_ref().map(|k| k.as_str()).unwrap_or("");
        self.conn
            .execute("ATTACH DATABASE ?1 AS src KEY ?2", [path, key])
            .map_err(sql)?;
        let added = self.copy_from_src();
        self.conn.execute("DETACH DATABASE src", []).map_err(sql)?;
        Ok(LocalResult {
            imported: added?,
            unread: crate::local::total_unread(&self.conn).map_err(sql)?,
            ..Default::default()
        })
    }

    /// The messages and sessions of the attached `src`, in one transaction.
    fn copy_from_src(&mut self) -> Result<u64, String> {
        let tx = self.conn.transaction().map_err(sql)?;
        let imported = tx
            .execute(
                "INSERT OR IGNORE INTO msglog (client_msg_id, server_msg_id, talk_id, to_type, from_id, time, msg_type, status, sub_status, seq, json) \
                 SELECT client_msg_id, server_msg_id, talk_id, to_type, from_id, time, msg_type, status, sub_status, seq, json FROM src.msglog",
                [],
            )
            .map_err(sql)? as u64;
        tx.execute(
            "INSERT OR IGNORE INTO sessions (id, type, read_seq, last_msg, ext, top) SELECT id, type, read_seq, last_msg, ext, top FROM src.sessions",
            [],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(imported)
    }
}
