use crate::local::{ReceivedMessage, ReceivedSysMsg};
use crate::msgs::{DataSync, SessionResult};
use magpie_proto::msg::{SendMsgAck, SysMsgAck};
use magpie_proto::types::{Kickout, MultiSpot, Presence};
use magpie_proto::ResCode;
use parking_lot::RwLock;
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::broadcast;

/// A login or auto-relogin result: NIM's LoginRes JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoginRes {
    /// NIMResCode.
    pub err_code: ResCode,
    /// NIMLoginStep.
    pub login_step: u32,
    /// True when the result comes from a re-login.
    pub relogin: bool,
    /// True while the SDK keeps trying by itself.
    pub retrying: bool,
    /// The account's other online devices; present only on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_clients_pres: Option<Vec<Presence>>,
    /// Why it failed, in words (Magpie addition; absent on success).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub desc: String,
}

impl LoginRes {
    /// A step that succeeded so far.
    pub fn step(step: u32, relogin: bool) -> Self {
        LoginRes {
            err_code: ResCode::SUCCESS,
            login_step: step,
            relogin,
            retrying: false,
            other_clients_pres: None,
            desc: String::new(),
        }
    }

    /// A failure at a step.
    pub fn failed(code: ResCode, step: u32, relogin: bool) -> Self {
        LoginRes {
            err_code: code,
            ..Self::step(step, relogin)
        }
    }

    /// With a description.
    pub fn with_desc(mut self, d: impl Into<String>) -> Self {
        self.desc = d.into();
        self
    }

    /// True for step 3 with 200.
    pub fn is_success(&self) -> bool {
        self.err_code.is_success() && self.login_step == magpie_proto::types::login_step::LOGIN
    }
}

/// A logout result: `{"err_code":..}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogoutRes {
    /// 200 when this device is logged out; 500 when the server answered
    /// with an error or the SDK was cleaned up.
    pub err_code: ResCode,
}

/// The server's clock (NIM's `get_server_current_time` callback:
/// `rescode`, `calc_local`, `time`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerTimeRes {
    /// 200 when the server answered; otherwise why not (the time is then
    /// computed locally).
    pub rescode: ResCode,
    /// True when the time was computed locally: asked for, within a
    /// second of the last query, or the server could not answer.
    pub calc_local: bool,
    /// The server's time, ms since the epoch.
    pub time: i64,
}

/// The multiport push switch (NIM's `{"switch_open":1|2}` with a code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PushConfigRes {
    /// 200, or why not.
    pub rescode: ResCode,
    /// 1: a desktop online mutes mobile push; 2: it does not; 0 with a
    /// failure.
    pub switch_open: u32,
}

/// Everything the SDK reports to the app.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A step of a manual login (nim_client_login's callback).
    Login(LoginRes),
    /// A re-login result (nim_client_reg_auto_relogin_cb).
    AutoRelogin(LoginRes),
    /// The connection dropped (nim_client_reg_disconnect_cb).
    Disconnect,
    /// This device was kicked (nim_client_reg_kickout_cb).
    Kickout(Kickout),
    /// Another device of the account came or went (nim_client_reg_multispot_login_notify_cb).
    MultiSpot(MultiSpot),
    /// A logout finished (nim_client_logout's callback).
    Logout(LogoutRes),
    /// The result of kicking my other devices (nim_client_reg_kickout_other_client_cb).
    KickOtherClient(KickOtherRes),
    /// A message's send ack (nim_talk_reg_ack_cb).
    SendAck(SendMsgAck),
    /// A received message (nim_talk_reg_receive_cb).
    Receive(ReceivedMessage),
    /// Synced messages of one session (nim_talk_reg_receive_msgs_cb).
    ReceiveBatch(Vec<ReceivedMessage>),
    /// A received system notification (nim_sysmsg_reg_sysmsg_cb).
    SysMsg(ReceivedSysMsg),
    /// A custom notification's ack (nim_sysmsg_reg_custom_notification_ack_cb).
    SysMsgAck(SysMsgAck),
    /// A recent session changed (nim_session_reg_change_cb).
    SessionChange(SessionResult),
    /// A phase of the post-login sync completed (nim_data_sync_reg_complete_cb).
    DataSync(DataSync),
    /// Peers read my messages (nim_msglog_reg_status_changed_cb): one
    /// change per receipt, NIM's status 7.
    MsgStatusChanged(Vec<MsgStatusChanged>),
    /// Messages recalled by their sender (the peer, or me on another
    /// device): nim_talk_reg_recall_msg_cb.
    Recall(Vec<magpie_proto::msg::RecallNotify>),
    /// The multiport push switch as the server has it, at login and when
    /// another device changes it (nim_client_reg_sync_multiport_push_config_cb).
    PushConfigSync(u32),
    /// Another device of the account stuck a session on top, changed or
    /// cancelled that (nim_session_reg_set_to_stick_top_notify_cb and its
    /// update and cancel siblings).
    StickTopChanged(magpie_proto::frame::StickTopChanged),
    /// Messages another device of the account deleted one way (for the
    /// account only), deleted here too
    /// (nim_msglog_register_delete_msgs_self_callback).
    DeleteSelf(Vec<magpie_proto::msg::DeleteSelfNotify>),
    /// Another device of the account changed a server-side session's
    /// extension (nim_session_online_service_reg_session_changed).
    ServerSessionChanged(magpie_proto::frame::ServerSessionInfo),
    /// Another device of the account cleared the account's server history
    /// of sessions and had the others told
    /// (nim_msglog_register_delete_history_messages_callback).
    DeleteHistory(Vec<magpie_proto::msg::ClearHistoryNotify>),
}

/// A message status change (`{"talk_id","msg_timetag","status"}`): every
/// message of mine to `talk_id` up to `msg_timetag` is now `status`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MsgStatusChanged {
    /// The session (the peer).
    pub talk_id: String,
    /// The boundary: messages up to this time, ms.
    pub msg_timetag: i64,
    /// NIMMsgLogStatus (7, kNIMMsgLogStatusReceipt).
    pub status: u32,
}

/// The result of `kick_other_client`: `{"err_code":200,"device_ids":[...]}`.
pub type KickOtherRes = magpie_proto::frame::KickOtherAck;

impl Event {
    /// The callback's name, as `magpie client` prints it.
    pub fn callback_name(&self) -> &'static str {
        match self {
            Event::Login(_) => "login",
            Event::AutoRelogin(_) => "auto_relogin",
            Event::Disconnect => "disconnect",
            Event::Kickout(_) => "kickout",
            Event::MultiSpot(_) => "multispot",
            Event::Logout(_) => "logout",
            Event::KickOtherClient(_) => "kickout_other_client",
            Event::SendAck(_) => "send_ack",
            Event::Receive(_) => "receive",
            Event::ReceiveBatch(_) => "receive_batch",
            Event::SysMsg(_) => "sysmsg",
            Event::SysMsgAck(_) => "sysmsg_ack",
            Event::SessionChange(_) => "session_change",
            Event::DataSync(_) => "data_sync",
            Event::MsgStatusChanged(_) => "msg_status_changed",
            Event::Recall(_) => "recall",
            Event::PushConfigSync(_) => "sync_multiport_push_config",
            Event::StickTopChanged(_) => "stick_top_changed",
            Event::DeleteSelf(_) => "delete_self",
            Event::ServerSessionChanged(_) => "server_session_changed",
            Event::DeleteHistory(_) => "delete_history",
        }
    }

    /// NIM's JSON payload of the callback.
    pub fn json(&self) -> serde_json::Value {
        let v = match self {
            Event::Login(r) | Event::AutoRelogin(r) => serde_json::to_value(r),
            Event::Disconnect => Ok(serde_json::json!({})),
            Event::Kickout(k) => serde_json::to_value(k),
            Event::MultiSpot(m) => serde_json::to_value(m),
            Event::Logout(l) => serde_json::to_value(l),
            Event::KickOtherClient(k) => serde_json::to_value(k),
            Event::SendAck(a) => serde_json::to_value(a),
            Event::Receive(m) => serde_json::to_value(m),
            Event::ReceiveBatch(list) => serde_json::to_value(list),
            Event::SysMsg(n) => serde_json::to_value(n),
            Event::SysMsgAck(a) => serde_json::to_value(a),
            Event::SessionChange(s) => Ok(serde_json::json!({
                "rescode": s.rescode,
                "result": s.session,
                "total_unread_counts": s.total_unread,
            })),
            Event::DataSync(d) => Ok(serde_json::json!({
                "sync_type": d.sync_type,
                "status": d.status,
                "json_attachment": d.attachment,
            })),
            Event::MsgStatusChanged(list) => serde_json::to_value(list),
            Event::Recall(list) => serde_json::to_value(list),
            Event::PushConfigSync(v) => Ok(serde_json::json!({"switch_open": v})),
            Event::StickTopChanged(c) => serde_json::to_value(c),
            Event::DeleteSelf(list) => serde_json::to_value(list),
            Event::ServerSessionChanged(c) => serde_json::to_value(c),
            Event::DeleteHistory(list) => serde_json::to_value(list),
        };
        v.unwrap_or(serde_json::Value::Null)
    }
}

/// A registered callback.
pub type Callback = Arc<dyn Fn(&Event) + Send + Sync>;

/// Which callback an event goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackKind {
    /// Login steps.
    Login,
    /// Re-login results.
    AutoRelogin,
    /// Disconnects.
    Disconnect,
    /// Kick-outs.
    Kickout,
    /// Multispot notifications.
    MultiSpot,
    /// Logout results.
    Logout,
    /// Kick-other results.
    KickOtherClient,
    /// Send acks.
    SendAck,
    /// Received messages, one by one.
    Receive,
    /// Received messages, a session's batch at once.
    ReceiveBatch,
    /// System notifications.
    SysMsg,
    /// Custom notification acks.
    SysMsgAck,
    /// Session changes.
    SessionChange,
    /// Data sync phases.
    DataSync,
    /// Message status changes (read receipts).
    MsgStatusChanged,
    /// Recalls.
    Recall,
    /// Multiport push switch syncs.
    PushConfigSync,
    /// Sessions on top changed on another device.
    StickTopChanged,
    /// Messages deleted one way on another device.
    DeleteSelf,
    /// A server-side session changed on another device.
    ServerSessionChanged,
    /// A server history cleared on another device.
    DeleteHistory,
}

impl Event {
    fn kind(&self) -> CallbackKind {
        match self {
            Event::Login(_) => CallbackKind::Login,
            Event::AutoRelogin(_) => CallbackKind::AutoRelogin,
            Event::Disconnect => CallbackKind::Disconnect,
            Event::Kickout(_) => CallbackKind::Kickout,
            Event::MultiSpot(_) => CallbackKind::MultiSpot,
            Event::Logout(_) => CallbackKind::Logout,
            Event::KickOtherClient(_) => CallbackKind::KickOtherClient,
            Event::SendAck(_) => CallbackKind::SendAck,
            Event::Receive(_) => CallbackKind::Receive,
            Event::ReceiveBatch(_) => CallbackKind::ReceiveBatch,
            Event::SysMsg(_) => CallbackKind::SysMsg,
            Event::SysMsgAck(_) => CallbackKind::SysMsgAck,
            Event::SessionChange(_) => CallbackKind::SessionChange,
            Event::DataSync(_) => CallbackKind::DataSync,
            Event::MsgStatusChanged(_) => CallbackKind::MsgStatusChanged,
            Event::Recall(_) => CallbackKind::Recall,
            Event::PushConfigSync(_) => CallbackKind::PushConfigSync,
            Event::StickTopChanged(_) => CallbackKind::StickTopChanged,
            Event::DeleteSelf(_) => CallbackKind::DeleteSelf,
            Event::ServerSessionChanged(_) => CallbackKind::ServerSessionChanged,
            Event::DeleteHistory(_) => CallbackKind::DeleteHistory,
        }
    }
}

/// The registered callbacks and the event stream.
pub(crate) struct Callbacks {
    slots: [RwLock<Option<Callback>>; 21],
    stream: broadcast::Sender<Event>,
}

/// How many events an event stream buffers before a slow reader misses some.
pub const EVENT_STREAM_CAPACITY: usize = 256;

impl Callbacks {
    pub fn new() -> Self {
        Callbacks {
            slots: Default::default(),
            stream: broadcast::channel(EVENT_STREAM_CAPACITY).0,
        }
    }

    fn index(k: CallbackKind) -> usize {
        k as usize
    }

    pub fn set(&self, k: CallbackKind, cb: Option<Callback>) {
        *self.slots[Self::index(k)].write() = cb;
    }

    /// True when a callback of this kind is registered.
    pub fn has(&self, k: CallbackKind) -> bool {
        self.slots[Self::index(k)].read().is_some()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.stream.subscribe()
    }

    /// Calls the callback for the event's kind, then feeds the streams.
    pub fn emit(&self, e: Event) {
        let cb = self.slots[Self::index(e.kind())].read().clone();
        if let Some(cb) = cb {
            cb(&e);
        }
        let _ = self.stream.send(e);
    }
}
