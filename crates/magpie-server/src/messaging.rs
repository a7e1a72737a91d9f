//! The messaging service: sending messages and custom notifications,
//! session changes, sync and history.
//!
//! Writes go through one writer task that commits them in groups: every
//! request waiting when a transaction starts joins it, so throughput does
//! not hinge on one commit per message, and nothing is acknowledged before
//! its transaction commits. After each commit the writer routes, in log
//! order, the answers to their connections and the new entries to every
//! online device of their accounts. A device that misses a push (a slow
//! reader, a dropped link, a node gone) gets the entry from its log at the
//! next sync: the log is the truth, pushes only make it quick.

use crate::apps::AppCtx;
use crate::login::LoggedIn;
use crate::ratelimit::RateLimiter;
use crate::state::Shared;
use magpie_bus::{AccountKey, DeviceAddr, Envelope, Push};
use magpie_proto::msg::{
    message_feature, message_type, session_type, ClearHistoryReq, DeleteSelfReq, EntryWire,
    HistoryQuery, HistoryResult, ImMessage, RecallReq, Receipt, SendMsgAck, SessionChange,
    SessionChangeAck, SyncBatch, SysMsg, SysMsgAck, RES_IN_BLACK,
};
use magpie_proto::ResCode;
use magpie_store::message::SERVER_ID_PLACEHOLDER;
use magpie_store::settings::MessagingSettings;
use magpie_store::{
    AccountId, Append, Appended, EntryKind, HistoryRange, LogEntry, NewMessage, NewNote,
};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, watch};

/// Most writes in one transaction.
pub const MAX_GROUP: usize = 4096;
/// Most entries in one sync answer.
pub const MAX_SYNC_ENTRIES: u32 = 500;
/// Bytes of entries in one sync answer, at most (then the batch ends early).
pub const MAX_SYNC_BYTES: usize = 1 << 20;
/// Longest extension of a cleared history told to the other devices,
/// bytes (NIM's `NIMDeleteSessionHistoryMessagesNotifyInfo` holds 1,024
/// with the terminating NUL).
pub const MAX_CLEAR_HISTORY_EXT: usize = 1023;
/// Most messages in one history answer (NIM: 100).
pub const MAX_HISTORY: u32 = 100;
/// Known-account cache bound, all apps together; past it, it starts over.
const KNOWN_ACCOUNTS: usize = 1 << 20;

/// Where the stored result of an admin API send goes (once).
pub type ServerReply = Arc<Mutex<Option<oneshot::Sender<Result<Appended, ResCode>>>>>;

/// Blacklists cached per owner.
type Blacklists = HashMap<(i64, AccountId), Arc<HashSet<AccountId>>>;

/// Who sends: an account's device on this node, or the app server.
#[derive(Clone, Debug)]
pub enum Origin {
    /// A logged-in connection.
    Device {
        /// Its session.
        session: LoggedIn,
        /// Its connection.
        addr: DeviceAddr,
        /// The request's seq (for the answer).
        seq: u32,
    },
    /// The admin API (NIM's server API): the answer goes back to the call.
    Server {
        /// Where the stored result goes.
        reply: ServerReply,
    },
}

impl Origin {
    /// An app-server origin and where its answer arrives.
    pub fn server() -> (Origin, oneshot::Receiver<Result<Appended, ResCode>>) {
        let (tx, rx) = oneshot::channel();
        (
            Origin::Server {
                reply: Arc::new(Mutex::new(Some(tx))),
            },
            rx,
        )
    }
}

/// The stored result of an app-server send.
async fn server_answer(
    rx: oneshot::Receiver<Result<Appended, ResCode>>,
) -> Result<Appended, Refused> {
    match rx.await {
        Ok(Ok(a)) => Ok(a),
        Ok(Err(code)) => refuse(code, "the message could not be stored"),
        Err(_) => refuse(ResCode::TOO_BUSY, "the server is shutting down"),
    }
}

/// What the writer does once a write is committed.
enum Then {
    /// Answer the sender, push the message to the receiver's devices and
    /// the sender's other devices.
    Msg {
        origin: Origin,
        from: AccountKey,
        to: AccountKey,
        client_msg_id: String,
    },
    /// Answer the sender, push the notification to the receiver's devices.
    SysMsg {
        origin: Origin,
        to: AccountKey,
        client_msg_id: String,
    },
    /// Answer the device, push the change to the account's devices
    /// (but the one that made it).
    Session {
        origin: Origin,
        account: AccountKey,
        /// The entry's kind on the wire (`read`, `delete_session`, `receipt`).
        kind: &'static str,
    },
    /// Push a note to the account's devices but one; no answer.
    Note {
        account: AccountKey,
        /// The entry's kind on the wire.
        kind: &'static str,
        /// The device that made the change.
        except: Option<DeviceAddr>,
    },
    /// Answer the device that asked (200, no log position).
    Done { origin: Origin },
    /// Nothing to tell anyone.
    Nothing,
}

struct Job {
    app_id: i64,
    write: Option<Append>,
    then: Then,
}

/// The messaging service of a server.
pub struct Messaging {
    tx: mpsc::Sender<Job>,
    rx: Mutex<Option<mpsc::Receiver<Job>>>,
    known: Mutex<HashSet<(i64, AccountId)>>,
    sends: RateLimiter<(i64, AccountId)>,
    delivered: Mutex<HashMap<(i64, AccountId), u64>>,
    blacklists: Mutex<Blacklists>,
}

/// A refused send: the code and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// NIM code.
    pub code: ResCode,
    /// Why, in words.
    pub desc: String,
}

/// How long after its time a message may be recalled (NIM's default).
pub const RECALL_WINDOW_MS: i64 = 120_000;

/// Most characters of a recall's notification text and attachment.
const MAX_RECALL_NOTIFY: u32 = 500;
const MAX_RECALL_ATTACH: u32 = 5_000;

/// Most characters of a one-way deletion's extension.
pub const MAX_DELETE_SELF_EXT: u32 = 1_024;

/// A text field within its limit of characters, or 414 naming the field.
fn within(field: &str, value: &str, max: u32) -> Result<(), Refused> {
    if value.len() > max as usize && value.chars().count() > max as usize {
        return refuse(
            ResCode::PARAMETER_ERROR,
            format!("{field} is longer than {max} characters"),
        );
    }
    Ok(())
}

fn refuse<T>(code: ResCode, desc: impl Into<String>) -> Result<T, Refused> {
    Err(Refused {
        code,
        desc: desc.into(),
    })
}

impl Messaging {
    /// A service whose writer queue holds `capacity` writes.
    pub fn new(capacity: usize) -> Messaging {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        Messaging {
            tx,
            rx: Mutex::new(Some(rx)),
            known: Mutex::new(HashSet::new()),
            sends: RateLimiter::new(0.0, 0.0),
            delivered: Mutex::new(HashMap::new()),
            blacklists: Mutex::new(HashMap::new()),
        }
    }

    /// Starts the writer task (once). It ends once `finish` turns true
    /// (nothing sends any more) and it has stored what was queued.
    pub(crate) fn start(
        shared: Arc<Shared>,
        finish: watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let rx = shared.messaging.rx.lock().take()?;
        Some(tokio::spawn(writer(shared, rx, finish)))
    }

    /// Forgets sweepable state (rate buckets).
    pub(crate) fn sweep(&self, now: Instant) {
        self.sends.sweep(now);
    }

    /// Forgets an account's cached blacklist (after it changed).
    pub fn blacklist_changed(&self, app_id: i64, accid: &AccountId) {
        self.blacklists.lock().remove(&(app_id, accid.clone()));
    }

    /// True when the account exists (cached once seen).
    pub async fn account_exists(
        &self,
        shared: &Shared,
        app_id: i64,
        accid: &AccountId,
    ) -> Result<bool, Refused> {
        self.exists(shared, app_id, accid).await
    }

    async fn exists(
        &self,
        shared: &Shared,
        app_id: i64,
        accid: &AccountId,
    ) -> Result<bool, Refused> {
        let key = (app_id, accid.clone());
        if self.known.lock().contains(&key) {
            return Ok(true);
        }
        match shared.stores.accounts.account(app_id, accid).await {
            Ok(Some(_)) => {
                let mut k = self.known.lock();
                if k.len() >= KNOWN_ACCOUNTS {
                    k.clear();
                }
                k.insert(key);
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => {
                tracing::error!(error = %e, "account lookup failed");
                refuse(ResCode::TOO_BUSY, "storage unavailable")
            }
        }
    }

    async fn blacklisted(
        &self,
        shared: &Shared,
        app_id: i64,
        owner: &AccountId,
        sender: &AccountId,
    ) -> Result<bool, Refused> {
        let key = (app_id, owner.clone());
        let cached = self.blacklists.lock().get(&key).cloned();
        let list = match cached {
            Some(l) => l,
            None => {
                let l = match shared.stores.accounts.blacklist(app_id, owner).await {
                    Ok(l) => Arc::new(l.into_iter().collect::<HashSet<_>>()),
                    Err(e) => {
                        tracing::error!(error = %e, "blacklist lookup failed");
                        return refuse(ResCode::TOO_BUSY, "storage unavailable");
                    }
                };
                self.blacklists.lock().insert(key, l.clone());
                l
            }
        };
        Ok(list.contains(sender))
    }

    fn within_rate(&self, limits: &MessagingSettings, app_id: i64, accid: &AccountId) -> bool {
        if limits.sends_per_minute == 0 {
            return true;
        }
        let rate = limits.sends_per_minute as f64 / 60.0;
        self.sends.check_with(
            &(app_id, accid.clone()),
            Instant::now(),
            rate,
            limits.sends_per_minute as f64,
        )
    }

    /// The receiver of a send, when the sender may send to it now: it
    /// exists, the sender is within its rate (devices only: the app server
    /// is not limited) and, for messages, not on the receiver's blacklist.
    async fn admit(
        &self,
        shared: &Shared,
        app: &AppCtx,
        origin: &Origin,
        from: &AccountId,
        to: &str,
        blacklist: bool,
    ) -> Result<AccountId, Refused> {
        let Ok(to) = AccountId::parse(to) else {
            return refuse(ResCode::NOT_EXIST, "the receiver does not exist");
        };
        let limits = &app.messaging;
        if matches!(origin, Origin::Device { .. }) && !self.within_rate(limits, app.id, from) {
            shared.metrics.rate_limited("send", &app.app.app_key);
            return refuse(
                ResCode::FREQUENTLY,
                format!("more than {} sends a minute", limits.sends_per_minute),
            );
        }
        if to != *from && !self.exists(shared, app.id, &to).await? {
            return refuse(ResCode::NOT_EXIST, "the receiver does not exist");
        }
        if blacklist && to != *from && self.blacklisted(shared, app.id, &to, from).await? {
            return refuse(RES_IN_BLACK, "the receiver has blacklisted the sender");
        }
        Ok(to)
    }

    fn submit(&self, job: Job) -> Result<(), Refused> {
        self.tx.try_send(job).or_else(|e| match e {
            mpsc::error::TrySendError::Full(_) => refuse(
                ResCode::TOO_BUSY,
                "the server is busy storing messages; retry later",
            ),
            mpsc::error::TrySendError::Closed(_) => refuse(ResCode::TOO_BUSY, "shutting down"),
        })
    }

    /// Sends a message from the app server (NIM's server API): stored like a
    /// device's, answered once committed. `from` must exist.
    pub async fn send_msg_from_server(
        &self,
        shared: &Shared,
        app: &AppCtx,
        from: &AccountId,
        msg: ImMessage,
    ) -> Result<Appended, Refused> {
        if !self.exists(shared, app.id, from).await? {
            return refuse(ResCode::NOT_EXIST, "the sender does not exist");
        }
        let (origin, rx) = Origin::server();
        self.send_msg(shared, app, origin, from, None, msg).await?;
        server_answer(rx).await
    }

    /// Recalls a message from the app server (NIM's `/msg/recall.action`):
    /// answered once stored; `ignore_window` skips the two-minute limit.
    pub async fn recall_from_server(
        &self,
        shared: &Shared,
        app_id: i64,
        from: &AccountId,
        r: RecallReq,
        ignore_window: bool,
    ) -> Result<(), Refused> {
        let (origin, rx) = Origin::server();
        self.recall(shared, app_id, origin, from, r, !ignore_window, false)
            .await?;
        server_answer(rx).await.map(|_| ())
    }

    /// NIM's one-way recall from the app server (`/msg/delMsgOneWay.action`):
    /// the message leaves the receiver's history and sync, and the
    /// receiver's devices get a recall notification and delete it; the
    /// sender's side keeps it and hears nothing. Answered once stored.
    pub async fn recall_one_way_from_server(
        &self,
        shared: &Shared,
        app_id: i64,
        from: &AccountId,
        r: RecallReq,
    ) -> Result<(), Refused> {
        let (origin, rx) = Origin::server();
        self.recall(shared, app_id, origin, from, r, false, true)
            .await?;
        server_answer(rx).await.map(|_| ())
    }

    /// Deletes `account`'s roaming copies of its P2P session with `peer`
    /// for the app server (`/msg/delRoamSession.action`): those messages
    /// leave the sync of its devices that have not received them; the
    /// server's history and the peer's stay. Answered once stored.
    pub async fn delete_roaming_from_server(
        &self,
        app_id: i64,
        account: &AccountId,
        peer: &AccountId,
    ) -> Result<(), Refused> {
        let (origin, rx) = Origin::server();
        let req = ClearHistoryReq {
            to_type: session_type::P2P,
            id: peer.to_string(),
            delete_roaming: true,
            keep_history: true,
            ..Default::default()
        };
        self.clear_history(app_id, origin, account, req)?;
        server_answer(rx).await.map(|_| ())
    }

    /// A read receipt sent by the app server for `reader` (NIM's
    /// `/msg/markReadMsg.action`, V2 `p2p_read_receipt`): answered once
    /// stored.
    pub async fn receipt_from_server(
        &self,
        shared: &Shared,
        app_id: i64,
        reader: &AccountId,
        sender: &AccountId,
        msg_timetag: i64,
    ) -> Result<(), Refused> {
        let (origin, rx) = Origin::server();
        let r = Receipt {
            to_type: session_type::P2P,
            id: sender.to_string(),
            msg_timetag,
        };
        self.receipt(shared, app_id, origin, reader, r).await?;
        server_answer(rx).await.map(|_| ())
    }

    /// Sends a custom notification from the app server; `from` must exist.
    pub async fn send_sysmsg_from_server(
        &self,
        shared: &Shared,
        app: &AppCtx,
        from: &AccountId,
        n: SysMsg,
    ) -> Result<Appended, Refused> {
        if !self.exists(shared, app.id, from).await? {
            return refuse(ResCode::NOT_EXIST, "the sender does not exist");
        }
        let (origin, rx) = Origin::server();
        self.send_sysmsg(shared, app, origin, from, n).await?;
        server_answer(rx).await
    }

    /// Checks a message and queues it for storing; the answer reaches the
    /// sender once it is committed (or at once, when refused here).
    pub async fn send_msg(
        &self,
        shared: &Shared,
        app: &AppCtx,
        origin: Origin,
        from: &AccountId,
        device: Option<(u32, &str, &str)>,
        mut msg: ImMessage,
    ) -> Result<(), Refused> {
        let limits = app.messaging.clone();
        if msg.to_type != session_type::P2P {
            return refuse(
                ResCode::PARAMETER_ERROR,
                "only P2P messages (to_type 0) are supported",
            );
        }
        if !message_type::is_sendable(msg.msg_type) {
            return refuse(
                ResCode::PARAMETER_ERROR,
                format!("msg_type {} cannot be sent", msg.msg_type),
            );
        }
        if msg.client_msg_id.is_empty() || msg.client_msg_id.len() > 128 {
            return refuse(
                ResCode::PARAMETER_ERROR,
                "client_msg_id must be 1 to 128 characters",
            );
        }
        within("msg_body", &msg.msg_body, limits.max_body_chars)?;
        within("msg_attach", &msg.msg_attach, limits.max_attach_chars)?;
        let to = self
            .admit(shared, app, &origin, from, &msg.to_accid, true)
            .await?;
        // Server-filled keys.
        msg.to_accid = to.to_string();
        msg.from_id = from.to_string();
        if let Some((client_type, device_id, nick)) = device {
            msg.from_client_type = client_type;
            msg.from_device_id = device_id.to_owned();
            msg.from_nick = nick.to_owned();
        } else {
            msg.from_client_type = magpie_proto::types::client_type::REST_API;
        }
        let time = magpie_store::now_ms();
        msg.time = time;
        msg.server_msg_id = 0;
        let to_log = msg.setting("offline_msg", true);
        let from_log = msg.setting("sync_msg", true) || msg.setting("roam_msg", true);
        let history = msg.setting("cloud_history", true);
        let json = message_json(&msg);
        let client_msg_id = msg.client_msg_id.clone();
        // The app server's calls are few and retried with the same id; a
        // device marks its resends.
        let resent = msg.resend_flag != 0 || device.is_none();
        let write = Append::Msg(NewMessage {
            from: from.clone(),
            to: to.clone(),
            client_msg_id: client_msg_id.clone(),
            resent,
            time,
            msg_type: msg.msg_type,
            json,
            history,
            to_log,
            from_log,
        });
        self.submit(Job {
            app_id: app.id,
            write: Some(write),
            then: Then::Msg {
                origin,
                from: AccountKey::new(app.id, from.clone()),
                to: AccountKey::new(app.id, to),
                client_msg_id,
            },
        })
    }

    /// Checks a custom notification; stored ones are queued for storing,
    /// online-only ones go to the receiver's online devices now. The answer
    /// (NIM's custom notification ack) reaches the sender.
    pub async fn send_sysmsg(
        &self,
        shared: &Shared,
        app: &AppCtx,
        origin: Origin,
        from: &AccountId,
        mut n: SysMsg,
    ) -> Result<(), Refused> {
        let limits = app.messaging.clone();
        if n.msg_type != magpie_proto::msg::sysmsg_type::CUSTOM_P2P_MSG {
            return refuse(
                ResCode::PARAMETER_ERROR,
                "only custom P2P notifications (msg_type 100) can be sent",
            );
        }
        if n.client_msg_id.is_empty() || n.client_msg_id.len() > 128 {
            return refuse(
                ResCode::PARAMETER_ERROR,
                "client_msg_id must be 1 to 128 characters",
            );
        }
        within("attach", &n.attach, limits.max_attach_chars)?;
        let to = self
            .admit(shared, app, &origin, from, &n.to_account, false)
            .await?;
        n.to_account = to.to_string();
        n.from_account = from.to_string();
        n.msg_time = magpie_store::now_ms();
        n.msg_id = 0;
        let json = serde_json::to_string(&n).expect("notifications serialise");
        let to_key = AccountKey::new(app.id, to.clone());
        if n.custom_save_flag == 0 {
            // Online devices only: no log entry, nothing to store.
            let text: Arc<str> = format!(r#"{{"seq":0,"kind":"sysmsg","sysmsg":{json}}}"#).into();
            let mut envs = Vec::new();
            for d in devices(shared, &to_key).await {
                envs.push(Envelope::new(d, Push::Entry(text.clone())));
            }
            let ack = SysMsgAck {
                msg_id: n.client_msg_id.clone(),
                talk_id: n.to_account.clone(),
                rescode: ResCode::SUCCESS,
            };
            answer_sysmsg(&origin, ack, None, &mut envs);
            route(shared, envs).await;
            return Ok(());
        }
        let client_msg_id = n.client_msg_id.clone();
        self.submit(Job {
            app_id: app.id,
            write: Some(Append::Note(NewNote {
                account: to,
                kind: EntryKind::Sysmsg,
                json,
                dedup: Some((from.clone(), client_msg_id.clone())),
                time: n.msg_time,
            })),
            then: Then::SysMsg {
                origin,
                to: to_key,
                client_msg_id,
            },
        })
    }

    /// Queues a session change of a device (read mark or deletion); the
    /// account's other devices get it through the log.
    pub fn session_change(
        &self,
        app_id: i64,
        origin: Origin,
        account: &AccountId,
        delete: bool,
        c: SessionChange,
    ) -> Result<(), Refused> {
        if c.to_type != session_type::P2P || AccountId::parse(&c.id).is_err() {
            return refuse(
                ResCode::PARAMETER_ERROR,
                "a P2P session id (to_type 0 and an accid) is required",
            );
        }
        let (kind, json) = if delete {
            (
                EntryKind::DeleteSession,
                serde_json::json!({"to_type": c.to_type, "id": c.id}).to_string(),
            )
        } else {
            (
                EntryKind::Read,
                serde_json::json!({"to_type": c.to_type, "id": c.id, "read_seq": c.read_seq})
                    .to_string(),
            )
        };
        self.submit(Job {
            app_id,
            write: Some(Append::Note(NewNote {
                account: account.clone(),
                kind,
                json,
                dedup: None,
                time: magpie_store::now_ms(),
            })),
            then: Then::Session {
                origin,
                account: AccountKey::new(app_id, account.clone()),
                kind: if delete { "delete_session" } else { "read" },
            },
        })
    }

    /// A device's read receipt or recall.
    pub async fn note_request(
        &self,
        shared: &Shared,
        app_id: i64,
        origin: Origin,
        me: &AccountId,
        req: crate::session::NoteRequest,
    ) -> Result<(), Refused> {
        match req {
            crate::session::NoteRequest::Receipt(r) => {
                self.receipt(shared, app_id, origin, me, r).await
            }
            crate::session::NoteRequest::Recall(r) => {
                self.recall(shared, app_id, origin, me, r, true, false)
                    .await
            }
            crate::session::NoteRequest::DeleteSelf(r) => {
                self.delete_self(shared, app_id, origin, me, r).await
            }
            crate::session::NoteRequest::ClearHistory(r) => {
                self.clear_history(app_id, origin, me, r)
            }
        }
    }

    /// Deletes a P2P message for me only (NIM's one-way deletion): it
    /// leaves my server history and the sync of my devices that have not
    /// received it, and a note in my log tells my other devices (NIM's
    /// keys `session_id`, `client_id`, `ext`). The peer keeps it. A
    /// repeated deletion (a device that lost the answer) stores nothing new.
    pub async fn delete_self(
        &self,
        shared: &Shared,
        app_id: i64,
        origin: Origin,
        me: &AccountId,
        r: DeleteSelfReq,
    ) -> Result<(), Refused> {
        if r.to_type != session_type::P2P {
            return refuse(
                ResCode::PARAMETER_ERROR,
                "only P2P messages can be deleted one way (to_type 0)",
            );
        }
        let (Ok(peer), Ok(from)) = (AccountId::parse(&r.id), AccountId::parse(&r.from_id)) else {
            return refuse(
                ResCode::PARAMETER_ERROR,
                "the deletion's session id and sender must be accids",
            );
        };
        if r.client_msg_id.is_empty() {
            return refuse(ResCode::PARAMETER_ERROR, "client_msg_id is required");
        }
        within("ext", &r.ext, MAX_DELETE_SELF_EXT)?;
        let found = match shared
            .stores
            .messages
            .sent_message(app_id, &from, &r.client_msg_id)
            .await
        {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "looking up a message to delete failed");
                return refuse(ResCode::TOO_BUSY, "storage unavailable");
            }
        };
        let between = |m: &magpie_store::SentMessage| {
            (m.from == *me && m.to == peer) || (m.from == peer && m.to == *me)
        };
        if !found.as_ref().is_some_and(between) {
            return refuse(
                ResCode::NOT_EXIST,
                format!(
                    "no message {} from {} in your session with {}",
                    r.client_msg_id, r.from_id, r.id
                ),
            );
        }
        let now = magpie_store::now_ms();
        let notify = serde_json::json!({
            "to_type": r.to_type,
            "session_id": peer.as_str(),
            "client_id": r.client_msg_id,
            "ext": r.ext,
            "time": now,
        })
        .to_string();
        self.submit(Job {
            app_id,
            write: Some(Append::Hide {
                account: me.clone(),
                from: from.clone(),
                client_msg_id: r.client_msg_id.clone(),
            }),
            then: Then::Nothing,
        })?;
        self.submit(Job {
            app_id,
            write: Some(Append::Note(NewNote {
                account: me.clone(),
                kind: EntryKind::DeleteSelf,
                json: notify,
                // One deletion per message and log, however often it is asked.
                dedup: Some((
                    me.clone(),
                    format!("delete-self:{from}:{}", r.client_msg_id),
                )),
                time: now,
            })),
            then: Then::Session {
                origin,
                account: AccountKey::new(app_id, me.clone()),
                kind: "delete_self",
            },
        })
    }

    /// Clears my server history of a P2P session up to now (NIM's
    /// nim_msglog_delete_history_online_async); with `delete_roaming` the
    /// messages also leave the sync of my devices that have not received
    /// them (with `keep_history`, only that: NIM's
    /// nim_session_delete_session_roaming_async). My devices keep what they
    /// hold; the peer keeps its history.
    pub fn clear_history(
        &self,
        app_id: i64,
        origin: Origin,
        me: &AccountId,
        r: ClearHistoryReq,
    ) -> Result<(), Refused> {
        if r.to_type != session_type::P2P {
            return refuse(
                ResCode::PARAMETER_ERROR,
                "only P2P histories can be cleared (to_type 0)",
            );
        }
        let Ok(peer) = AccountId::parse(&r.id) else {
            return refuse(ResCode::PARAMETER_ERROR, "the session id is not an accid");
        };
        if r.ext.len() > MAX_CLEAR_HISTORY_EXT {
            return refuse(
                ResCode::PARAMETER_ERROR,
                format!("ext is longer than {MAX_CLEAR_HISTORY_EXT} bytes"),
            );
        }
        let now = magpie_store::now_ms();
        let clear = Append::ClearHistory {
            account: me.clone(),
            peer: peer.clone(),
            upto: now,
            history: !r.keep_history,
            sync: r.delete_roaming,
        };
        if !r.notify {
            return self.submit(Job {
                app_id,
                write: Some(clear),
                then: Then::Done { origin },
            });
        }
        self.submit(Job {
            app_id,
            write: Some(clear),
            then: Then::Nothing,
        })?;
        let notify = serde_json::json!({
            "to_type": r.to_type,
            "session_id": peer.as_str(),
            "time": now,
            "ext": r.ext,
        })
        .to_string();
        self.submit(Job {
            app_id,
            write: Some(Append::Note(NewNote {
                account: me.clone(),
                kind: EntryKind::ClearHistory,
                json: notify,
                dedup: None,
                time: now,
            })),
            then: Then::Session {
                origin,
                account: AccountKey::new(app_id, me.clone()),
                kind: "clear_history",
            },
        })
    }

    /// Writes changes of server-side sessions (NIM's session service)
    /// through the message writer, in order with the messages around them;
    /// returns once they are committed.
    pub async fn change_sessions(&self, app_id: i64, writes: Vec<Append>) -> Result<(), Refused> {
        let (origin, rx) = Origin::server();
        let mut origin = Some(origin);
        let n = writes.len();
        for (i, w) in writes.into_iter().enumerate() {
            let then = match (i + 1 == n).then(|| origin.take()).flatten() {
                Some(origin) => Then::Done { origin },
                None => Then::Nothing,
            };
            self.submit(Job {
                app_id,
                write: Some(w),
                then,
            })?;
        }
        if origin.is_some() {
            return Ok(());
        }
        server_answer(rx).await.map(drop)
    }

    /// Recalls a P2P message I sent: within [`RECALL_WINDOW_MS`] of its
    /// time it leaves the server's history, and a recall notification
    /// enters the receiver's log and mine (my other devices). A repeated
    /// recall (a device that lost the answer) stores nothing new. With
    /// `one_way` (NIM's one-way recall, app server only) it leaves only
    /// the receiver's history and sync, and only the receiver's log gets
    /// the notification.
    #[allow(clippy::too_many_arguments)]
    pub async fn recall(
        &self,
        shared: &Shared,
        app_id: i64,
        origin: Origin,
        me: &AccountId,
        r: RecallReq,
        check_window: bool,
        one_way: bool,
    ) -> Result<(), Refused> {
        if r.to_type != session_type::P2P {
            return refuse(
                ResCode::PARAMETER_ERROR,
                "only P2P messages can be recalled (to_type 0)",
            );
        }
        // An empty id: whoever received it (NIM's C# SDK recalls by client id alone).
        let peer = match r.id.as_str() {
            "" => None,
            id => match AccountId::parse(id) {
                Ok(p) => Some(p),
                Err(_) => {
                    return refuse(ResCode::PARAMETER_ERROR, "the recall's id is not an accid")
                }
            },
        };
        within("notify", &r.notify, MAX_RECALL_NOTIFY)?;
        within("attach", &r.attach, MAX_RECALL_ATTACH)?;
        let found = match shared
            .stores
            .messages
            .sent_message(app_id, me, &r.client_msg_id)
            .await
        {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "looking up a message to recall failed");
                return refuse(ResCode::TOO_BUSY, "storage unavailable");
            }
        };
        let Some(m) = found.filter(|m| peer.as_ref().is_none_or(|p| m.to == *p)) else {
            return refuse(
                ResCode::NOT_EXIST,
                format!("you sent no message {} to {}", r.client_msg_id, r.id),
            );
        };
        let peer = m.to.clone();
        let now = magpie_store::now_ms();
        if check_window && now - m.time > RECALL_WINDOW_MS {
            return refuse(
                ResCode(508),
                format!(
                    "the message is older than the recall window ({} s)",
                    RECALL_WINDOW_MS / 1000
                ),
            );
        }
        let notify = serde_json::json!({
            "to_type": r.to_type,
            "from_id": me.as_str(),
            "to_id": peer.as_str(),
            "msg_id": r.client_msg_id,
            "notify": r.notify,
            "time": now,
            "msg_time": m.time,
            "from_nick": r.from_nick,
            "operator_id": me.as_str(),
            "attach": r.attach,
        })
        .to_string();
        let note = |to: &AccountId, tag: &str| NewNote {
            account: to.clone(),
            kind: EntryKind::Recall,
            json: notify.clone(),
            // One recall per message and log, however often it is asked.
            dedup: Some((me.clone(), format!("{tag}:{}", r.client_msg_id))),
            time: now,
        };
        if one_way {
            self.submit(Job {
                app_id,
                write: Some(Append::Hide {
                    account: peer.clone(),
                    from: me.clone(),
                    client_msg_id: r.client_msg_id.clone(),
                }),
                then: Then::Nothing,
            })?;
            return self.submit(Job {
                app_id,
                write: Some(Append::Note(note(&peer, "recall-one-way"))),
                then: Then::Session {
                    origin,
                    account: AccountKey::new(app_id, peer.clone()),
                    kind: "recall",
                },
            });
        }
        self.submit(Job {
            app_id,
            write: Some(Append::Recall {
                from: me.clone(),
                client_msg_id: r.client_msg_id.clone(),
            }),
            then: Then::Nothing,
        })?;
        self.submit(Job {
            app_id,
            write: Some(Append::Note(note(&peer, "recall-to"))),
            then: Then::Note {
                account: AccountKey::new(app_id, peer.clone()),
                kind: "recall",
                except: None,
            },
        })?;
        self.submit(Job {
            app_id,
            write: Some(Append::Note(note(me, "recall"))),
            then: Then::Session {
                origin,
                account: AccountKey::new(app_id, me.clone()),
                kind: "recall",
            },
        })
    }

    /// Queues a P2P read receipt: a note in the peer's log (its devices
    /// mark the messages it sent me read, NIM's status 7), and one in mine,
    /// so my other devices know the receipt went out.
    pub async fn receipt(
        &self,
        shared: &Shared,
        app_id: i64,
        origin: Origin,
        me: &AccountId,
        r: Receipt,
    ) -> Result<(), Refused> {
        if r.to_type != session_type::P2P {
            return refuse(
                ResCode::PARAMETER_ERROR,
                "read receipts are for P2P sessions (to_type 0)",
            );
        }
        let Ok(peer) = AccountId::parse(&r.id) else {
            return refuse(ResCode::PARAMETER_ERROR, "the receipt's id is not an accid");
        };
        if r.msg_timetag <= 0 {
            return refuse(
                ResCode::PARAMETER_ERROR,
                "msg_timetag (the read message's time, ms) is required",
            );
        }
        if !self.exists(shared, app_id, &peer).await? {
            return refuse(
                ResCode::NOT_EXIST,
                format!("no account {peer} to send the receipt to"),
            );
        }
        let now = magpie_store::now_ms();
        let note = |to: &AccountId, kind, about: &AccountId| {
            NewNote {
            account: to.clone(),
            kind,
            json: serde_json::json!({"to_type": r.to_type, "id": about.as_str(), "msg_timetag": r.msg_timetag})
                .to_string(),
            dedup: None,
            time: now,
        }
        };
        // The peer's note first: the device's answer (with the position of
        // the note in my own log) goes once both are stored.
        self.submit(Job {
            app_id,
            write: Some(Append::Note(note(&peer, EntryKind::Receipt, me))),
            then: Then::Note {
                account: AccountKey::new(app_id, peer.clone()),
                kind: "receipt",
                except: None,
            },
        })?;
        self.submit(Job {
            app_id,
            write: Some(Append::Note(note(me, EntryKind::ReceiptSent, &peer))),
            then: Then::Session {
                origin,
                account: AccountKey::new(app_id, me.clone()),
                kind: "receipt_sent",
            },
        })
    }

    /// A device applied its log up to `cursor`: remembered (in a later
    /// group) when it is news.
    pub fn delivered(&self, app_id: i64, account: &AccountId, cursor: u64) {
        let key = (app_id, account.clone());
        {
            let mut d = self.delivered.lock();
            if d.len() >= KNOWN_ACCOUNTS {
                // Only an optimisation over the store's mark: start over.
                d.clear();
            }
            let known = d.entry(key).or_default();
            if cursor <= *known {
                return;
            }
            *known = cursor;
        }
        let job = Job {
            app_id,
            write: Some(Append::Delivered {
                account: account.clone(),
                upto: cursor,
            }),
            then: Then::Nothing,
        };
        // Best effort: a later report carries the same news.
        let _ = self.tx.try_send(job);
    }

    /// A device's log after `cursor`, at most `limit` entries, as it goes on
    /// the wire: each entry's text with its feature (offline or roaming).
    pub async fn sync(
        &self,
        shared: &Shared,
        app_id: i64,
        me: &AccountId,
        cursor: u64,
        limit: u32,
        version: u16,
    ) -> SyncBatch {
        // 0 (the key left out) asks for a full batch.
        let limit = if limit == 0 {
            MAX_SYNC_ENTRIES
        } else {
            limit.min(MAX_SYNC_ENTRIES)
        };
        self.delivered(app_id, me, cursor);
        let page = match shared.stores.messages.log(app_id, me, cursor, limit).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "reading a log failed");
                return SyncBatch {
                    code: ResCode::TOO_BUSY,
                    entries: Vec::new(),
                    from: cursor + 1,
                    head: cursor,
                };
            }
        };
        // The store's mark, or a newer one still on its way to the store.
        let delivered = page.delivered.max(
            self.delivered
                .lock()
                .get(&(app_id, me.clone()))
                .copied()
                .unwrap_or(0),
        );
        let mut entries = Vec::with_capacity(page.entries.len());
        let mut bytes = 0;
        let mut from = page.from;
        for e in page.entries {
            // Messages deleted for me, and what the device cannot read, are
            // left out: a batch holds no gaps, so it ends before one, and
            // one that starts with them starts after them (the device moves
            // its cursor past them, as past entries retention removed).
            if e.hidden || unknown_to(version, e.kind) {
                if entries.is_empty() {
                    from = e.seq + 1;
                    continue;
                }
                break;
            }
            let text = entry_text(&e, me, delivered);
            bytes += text.len();
            entries.push(EntryWire::Raw(text.into()));
            if bytes >= MAX_SYNC_BYTES {
                break;
            }
        }
        SyncBatch {
            code: ResCode::SUCCESS,
            entries,
            from,
            head: page.head,
        }
    }

    /// NIM's online history of a P2P session.
    pub async fn history(
        &self,
        shared: &Shared,
        app_id: i64,
        me: &AccountId,
        q: HistoryQuery,
    ) -> HistoryResult {
        let fail = |code| HistoryResult {
            rescode: code,
            content: Vec::new(),
        };
        if q.to_type != session_type::P2P || q.limit_count == 0 || q.limit_count > MAX_HISTORY {
            return fail(ResCode::PARAMETER_ERROR);
        }
        if q.end_time > 0 && q.from_time > q.end_time {
            return fail(ResCode::PARAMETER_ERROR);
        }
        let Ok(peer) = AccountId::parse(&q.id) else {
            return fail(ResCode::PARAMETER_ERROR);
        };
        let range = HistoryRange {
            from_time: q.from_time,
            end_time: q.end_time,
            end_msg_id: q.end_msg_id,
            limit: q.limit_count,
            ascending: q.reverse,
            msg_types: q.msg_types,
            keyword: q.keyword,
        };
        match shared
            .stores
            .messages
            .history(app_id, me, &peer, range)
            .await
        {
            Ok(msgs) => HistoryResult {
                rescode: ResCode::SUCCESS,
                content: msgs
                    .into_iter()
                    .filter_map(|m| serde_json::from_str(&m.json).ok())
                    .collect(),
            },
            Err(e) => {
                tracing::error!(error = %e, "history query failed");
                fail(ResCode::TOO_BUSY)
            }
        }
    }
}

/// A message's JSON with the server id placeholder first (the store puts
/// the id it assigns there).
fn message_json(m: &ImMessage) -> String {
    let body = serde_json::to_string(m).expect("messages serialise");
    // `server_msg_id` is 0 and so left out by serde: put the placeholder first.
    format!("{{{SERVER_ID_PLACEHOLDER},{}", &body[1..])
}

/// The wire text of a log entry for `me`: messages with their feature.
fn entry_text(e: &LogEntry, me: &AccountId, delivered: u64) -> String {
    match e.kind {
        EntryKind::Msg => {
            let mine = e.from.as_ref() == Some(me);
            let feature = if !mine && e.seq > delivered {
                message_feature::LEAVE_MSG
            } else {
                message_feature::ROAM_MSG
            };
            format!(
                r#"{{"seq":{},"feature":{feature},"kind":"msg","msg":{}}}"#,
                e.seq, e.json
            )
        }
        EntryKind::Sysmsg => format!(r#"{{"seq":{},"kind":"sysmsg","sysmsg":{}}}"#, e.seq, e.json),
        EntryKind::Read => note_text(e.seq, "read", &e.json),
        EntryKind::DeleteSession => note_text(e.seq, "delete_session", &e.json),
        EntryKind::Receipt => note_text(e.seq, "receipt", &e.json),
        EntryKind::ReceiptSent => note_text(e.seq, "receipt_sent", &e.json),
        EntryKind::Recall => note_text(e.seq, "recall", &e.json),
        EntryKind::DeleteSelf => note_text(e.seq, "delete_self", &e.json),
        EntryKind::ClearHistory => note_text(e.seq, "clear_history", &e.json),
    }
}

/// `{"seq":N,"kind":K, <the note's own fields>}`.
fn note_text(seq: u64, kind: &str, json: &str) -> String {
    match json.strip_prefix('{') {
        Some(rest) if rest.trim_start() != "}" => {
            format!(r#"{{"seq":{seq},"kind":"{kind}",{rest}"#)
        }
        _ => format!(r#"{{"seq":{seq},"kind":"{kind}"}}"#),
    }
}

async fn devices(shared: &Shared, key: &AccountKey) -> Vec<DeviceAddr> {
    match shared.bus.directory.devices(key).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "looking up devices failed; they will sync");
            Vec::new()
        }
    }
}

async fn route(shared: &Shared, envs: Vec<Envelope>) {
    if envs.is_empty() {
        return;
    }
    if let Err(e) = shared.bus.router.deliver(envs).await {
        tracing::warn!(error = %e, "a push could not be routed; the device will sync");
    }
}

fn answer_sysmsg(
    origin: &Origin,
    ack: SysMsgAck,
    stored: Option<&Appended>,
    envs: &mut Vec<Envelope>,
) {
    match origin {
        Origin::Device { addr, seq, .. } => {
            envs.push(Envelope::new(*addr, Push::SysMsgAck(*seq, Box::new(ack))))
        }
        Origin::Server { reply } => {
            if let Some(tx) = reply.lock().take() {
                let r = match stored {
                    Some(a) => Ok(a.clone()),
                    None if ack.rescode.is_success() => Ok(Appended {
                        server_id: 0,
                        time: 0,
                        to_seq: 0,
                        from_seq: 0,
                        json: String::new(),
                        duplicate: false,
                    }),
                    None => Err(ack.rescode),
                };
                let _ = tx.send(r);
            }
        }
    }
}

/// Answers a refused request of `origin` at once.
pub fn refused_answer(origin: &Origin, what: RefusedWhat, r: &Refused) -> Option<Envelope> {
    match origin {
        Origin::Device { addr, seq, .. } => {
            let push = match what {
                RefusedWhat::Msg {
                    client_msg_id,
                    talk_id,
                } => Push::SendMsgAck(
                    *seq,
                    Box::new(SendMsgAck {
                        rescode: r.code,
                        msg_id: client_msg_id,
                        talk_id,
                        msg_timetag: 0,
                        server_msg_id: 0,
                        seq: 0,
                        desc: r.desc.clone(),
                    }),
                ),
                RefusedWhat::SysMsg {
                    client_msg_id,
                    talk_id,
                } => Push::SysMsgAck(
                    *seq,
                    Box::new(SysMsgAck {
                        msg_id: client_msg_id,
                        talk_id,
                        rescode: r.code,
                    }),
                ),
                RefusedWhat::Session => Push::SessionAck(
                    *seq,
                    Box::new(SessionChangeAck {
                        rescode: r.code,
                        seq: 0,
                    }),
                ),
            };
            Some(Envelope::new(*addr, push))
        }
        Origin::Server { reply } => {
            if let Some(tx) = reply.lock().take() {
                let _ = tx.send(Err(r.code));
            }
            None
        }
    }
}

/// What a refused request was, for its answer.
pub enum RefusedWhat {
    /// A message.
    Msg {
        /// Its client id.
        client_msg_id: String,
        /// Its session id.
        talk_id: String,
    },
    /// A custom notification.
    SysMsg {
        /// Its client id.
        client_msg_id: String,
        /// Its receiver.
        talk_id: String,
    },
    /// A session change.
    Session,
}

/// The writer: groups waiting writes into one transaction, then answers
/// and routes, in order.
async fn writer(
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Job>,
    mut finish: watch::Receiver<bool>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    loop {
        let got = tokio::select! {
            biased;
            n = rx.recv_many(&mut jobs, MAX_GROUP) => Some(n),
            _ = finish.wait_for(|f| *f) => None,
        };
        let n = match got {
            Some(n) => n,
            None => {
                // Take what is queued, then end (the queue's sender lives
                // in `shared`, which this task holds: it never closes alone).
                rx.close();
                rx.recv_many(&mut jobs, MAX_GROUP).await
            }
        };
        if n == 0 {
            break;
        }
        let batch: Vec<(i64, Append)> = jobs
            .iter_mut()
            .filter_map(|j| Some((j.app_id, j.write.take()?)))
            .collect();
        let started = Instant::now();
        let result = shared.stores.messages.append(batch).await;
        shared.metrics.store("message_commit", started.elapsed());
        let mut envs = Vec::new();
        let mut online: HashMap<AccountKey, Vec<DeviceAddr>> = HashMap::new();
        match result {
            Ok(done) => {
                shared.metrics.messages_stored.inc_by(done.len() as u64);
                for (job, a) in jobs.drain(..).zip(done) {
                    after(&shared, job.then, a, &mut online, &mut envs).await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, writes = jobs.len(), "storing a group of writes failed");
                let r = Refused {
                    code: ResCode::TOO_BUSY,
                    desc: "storage unavailable".into(),
                };
                for job in jobs.drain(..) {
                    let what = match job.then {
                        Then::Msg {
                            origin,
                            to,
                            client_msg_id,
                            ..
                        } => (
                            origin,
                            RefusedWhat::Msg {
                                client_msg_id,
                                talk_id: to.accid.to_string(),
                            },
                        ),
                        Then::SysMsg {
                            origin,
                            to,
                            client_msg_id,
                        } => (
                            origin,
                            RefusedWhat::SysMsg {
                                client_msg_id,
                                talk_id: to.accid.to_string(),
                            },
                        ),
                        Then::Session { origin, .. } | Then::Done { origin } => {
                            (origin, RefusedWhat::Session)
                        }
                        Then::Nothing | Then::Note { .. } => continue,
                    };
                    envs.extend(refused_answer(&what.0, what.1, &r));
                }
            }
        }
        route(&shared, envs).await;
    }
}

/// Whether an SDK of protocol `version` cannot read entries of `kind`
/// (left out of its sync and its live pushes).
pub(crate) fn unknown_to(version: u16, kind: EntryKind) -> bool {
    match kind {
        EntryKind::DeleteSelf => version < 4,
        EntryKind::ClearHistory => version < 5,
        _ => false,
    }
}

async fn online_of<'a>(
    shared: &Shared,
    online: &'a mut HashMap<AccountKey, Vec<DeviceAddr>>,
    key: &AccountKey,
) -> &'a [DeviceAddr] {
    if !online.contains_key(key) {
        let d = devices(shared, key).await;
        online.insert(key.clone(), d);
    }
    &online[key]
}

/// The answers and pushes of one committed write.
async fn after(
    shared: &Shared,
    then: Then,
    a: Appended,
    online: &mut HashMap<AccountKey, Vec<DeviceAddr>>,
    envs: &mut Vec<Envelope>,
) {
    match then {
        Then::Msg {
            origin,
            from,
            to,
            client_msg_id,
        } => {
            let sender_addr = match &origin {
                Origin::Device { addr, .. } => Some(*addr),
                Origin::Server { .. } => None,
            };
            match &origin {
                Origin::Device { addr, seq, .. } => envs.push(Envelope::new(
                    *addr,
                    Push::SendMsgAck(
                        *seq,
                        Box::new(SendMsgAck {
                            rescode: ResCode::SUCCESS,
                            msg_id: client_msg_id,
                            talk_id: to.accid.to_string(),
                            msg_timetag: a.time,
                            server_msg_id: a.server_id,
                            seq: a.from_seq,
                            desc: String::new(),
                        }),
                    ),
                )),
                Origin::Server { reply } => {
                    if let Some(tx) = reply.lock().take() {
                        let _ = tx.send(Ok(a.clone()));
                    }
                }
            }
            if a.duplicate {
                // Pushed (or logged for sync) when it was first stored.
                return;
            }
            crate::webhooks::message(shared, to.app_id, &a.json);
            let to_text: Arc<str> =
                format!(r#"{{"seq":{},"kind":"msg","msg":{}}}"#, a.to_seq, a.json).into();
            for d in online_of(shared, online, &to).await {
                if Some(*d) != sender_addr {
                    envs.push(Envelope::new(*d, Push::Entry(to_text.clone())));
                }
            }
            if a.from_seq > 0 && from != to {
                let from_text: Arc<str> =
                    format!(r#"{{"seq":{},"kind":"msg","msg":{}}}"#, a.from_seq, a.json).into();
                for d in online_of(shared, online, &from).await {
                    if Some(*d) != sender_addr {
                        envs.push(Envelope::new(*d, Push::Entry(from_text.clone())));
                    }
                }
            }
        }
        Then::SysMsg {
            origin,
            to,
            client_msg_id,
        } => {
            let ack = SysMsgAck {
                msg_id: client_msg_id,
                talk_id: to.accid.to_string(),
                rescode: ResCode::SUCCESS,
            };
            answer_sysmsg(&origin, ack, Some(&a), envs);
            if a.duplicate {
                return;
            }
            crate::webhooks::notification(shared, to.app_id, &a.json);
            let text: Arc<str> = format!(
                r#"{{"seq":{},"kind":"sysmsg","sysmsg":{}}}"#,
                a.to_seq, a.json
            )
            .into();
            for d in online_of(shared, online, &to).await {
                envs.push(Envelope::new(*d, Push::Entry(text.clone())));
            }
        }
        Then::Note {
            account,
            kind,
            except,
        } => {
            if a.duplicate {
                return;
            }
            let text: Arc<str> = note_text(a.to_seq, kind, &a.json).into();
            for d in online_of(shared, online, &account).await {
                if Some(*d) != except {
                    envs.push(Envelope::new(*d, Push::Entry(text.clone())));
                }
            }
        }
        Then::Session {
            origin,
            account,
            kind,
        } => {
            let sender_addr = match &origin {
                Origin::Device { addr, seq, .. } => {
                    envs.push(Envelope::new(
                        *addr,
                        Push::SessionAck(
                            *seq,
                            Box::new(SessionChangeAck {
                                rescode: ResCode::SUCCESS,
                                seq: a.to_seq,
                            }),
                        ),
                    ));
                    Some(*addr)
                }
                Origin::Server { reply } => {
                    if let Some(tx) = reply.lock().take() {
                        let _ = tx.send(Ok(a.clone()));
                    }
                    None
                }
            };
            if a.duplicate {
                return;
            }
            let text: Arc<str> = note_text(a.to_seq, kind, &a.json).into();
            for d in online_of(shared, online, &account).await {
                if Some(*d) != sender_addr {
                    envs.push(Envelope::new(*d, Push::Entry(text.clone())));
                }
            }
        }
        Then::Done { origin } => match &origin {
            Origin::Device { addr, seq, .. } => envs.push(Envelope::new(
                *addr,
                Push::SessionAck(
                    *seq,
                    Box::new(SessionChangeAck {
                        rescode: ResCode::SUCCESS,
                        seq: 0,
                    }),
                ),
            )),
            Origin::Server { reply } => {
                if let Some(tx) = reply.lock().take() {
                    let _ = tx.send(Ok(a.clone()));
                }
            }
        },
        Then::Nothing => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_of_later_versions_are_unknown_to_older_sdks() {
        assert!(unknown_to(3, EntryKind::DeleteSelf) && !unknown_to(4, EntryKind::DeleteSelf));
        assert!(unknown_to(4, EntryKind::ClearHistory) && !unknown_to(5, EntryKind::ClearHistory));
        assert!(!unknown_to(1, EntryKind::Msg) && !unknown_to(1, EntryKind::Recall));
    }

    #[test]
    fn entry_texts_are_the_entries_with_their_feature() {
        let me = AccountId::parse("bob").unwrap();
        let ann = AccountId::parse("ann").unwrap();
        let e = |seq, kind, json: &str, from: Option<&AccountId>| LogEntry {
            seq,
            kind,
            json: json.into(),
            from: from.cloned(),
            hidden: false,
        };
        let parse = |t: String| serde_json::from_str::<magpie_proto::msg::Entry>(&t).unwrap();
        let m = r#"{"server_msg_id":3,"to_type":0,"to_accid":"bob","from_id":"ann","msg_type":0,"client_msg_id":"c"}"#;
        let off = parse(entry_text(&e(5, EntryKind::Msg, m, Some(&ann)), &me, 4));
        assert_eq!(
            (off.seq, off.feature),
            (5, Some(message_feature::LEAVE_MSG))
        );
        let roam = parse(entry_text(&e(5, EntryKind::Msg, m, Some(&ann)), &me, 5));
        assert_eq!(roam.feature, Some(message_feature::ROAM_MSG));
        let mine = parse(entry_text(&e(6, EntryKind::Msg, m, Some(&me)), &me, 0));
        assert_eq!(
            mine.feature,
            Some(message_feature::ROAM_MSG),
            "my own messages roam"
        );
        let read = parse(entry_text(
            &e(
                7,
                EntryKind::Read,
                r#"{"to_type":0,"id":"ann","read_seq":5}"#,
                None,
            ),
            &me,
            0,
        ));
        assert_eq!(
            read.body,
            magpie_proto::msg::EntryBody::Read {
                to_type: 0,
                id: "ann".into(),
                read_seq: 5
            }
        );
        let placeholder = message_json(&ImMessage {
            to_accid: "bob".into(),
            client_msg_id: "c".into(),
            msg_type: 0,
            ..Default::default()
        });
        assert!(
            placeholder.starts_with(&format!("{{{SERVER_ID_PLACEHOLDER},")),
            "{placeholder}"
        );
        let stored = magpie_store::message::with_server_id(&placeholder, 42);
        let back: ImMessage = serde_json::from_str(&stored).unwrap();
        assert_eq!(back.server_msg_id, 42);
    }
}
