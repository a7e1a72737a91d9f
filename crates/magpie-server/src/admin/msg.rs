//! NIM's server API for messages: P2P messages and custom system
//! notifications sent by the app server (V1 form-encoded under
//! `/nimserver/msg/`, V2 JSON under `/im/v2/`), and the blacklist relation
//! that makes a receiver refuse a sender.
//!
//! A send goes through the same checks, log and delivery as a device's; the
//! call answers once the message is stored. Team (`ope` 1, conversation type
//! 2 and 3) is not supported and answers 414.

use super::error::{ApiError, Flavor};
use super::ops::{self, OpError};
use crate::apps::AppCtx;
use crate::messaging::Refused;
use crate::state::Shared;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{Path, State};
use axum::{Extension, Form, Json};
use magpie_proto::msg::{message_type, session_type, sysmsg_type, ImMessage, SysMsg, RES_IN_BLACK};
use magpie_proto::ResCode;
use magpie_store::{AccountId, Appended};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

type Reply = Result<Json<Value>, ApiError>;

/// Receivers of one batch call, at most (NIM: 500).
pub const MAX_BATCH_RECEIVERS: usize = 500;
/// Receivers of one batch call that returns message ids, at most (NIM: 100).
pub const MAX_BATCH_WITH_IDS: usize = 100;

fn err(flavor: Flavor, e: OpError) -> ApiError {
    e.to_api(flavor)
}

fn param(flavor: Flavor, msg: impl Into<String>) -> ApiError {
    err(flavor, OpError::param(msg))
}

fn refused(flavor: Flavor, r: Refused) -> ApiError {
    ApiError {
        flavor,
        code: r.code.0,
        msg: r.desc,
    }
}

fn form<T>(f: Result<Form<T>, FormRejection>) -> Result<T, ApiError> {
    f.map(|Form(v)| v)
        .map_err(|e| param(Flavor::V1, format!("bad form body: {}", e.body_text())))
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v)
        .map_err(|e| param(Flavor::V2, format!("bad JSON body: {}", e.body_text())))
}

/// A JSON object given as text (`option`, `body`, `toAccids`...).
fn json_param(flavor: Flavor, name: &str, text: &str) -> Result<Value, ApiError> {
    serde_json::from_str(text).map_err(|e| param(flavor, format!("{name} is not valid JSON: {e}")))
}

fn bool_param(
    flavor: Flavor,
    name: &str,
    v: Option<&str>,
    default: bool,
) -> Result<bool, ApiError> {
    match v {
        None | Some("") => Ok(default),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => Err(param(flavor, format!("{name} must be true or false"))),
    }
}

fn int_param(flavor: Flavor, name: &str, v: Option<&str>, default: i64) -> Result<i64, ApiError> {
    match v {
        None | Some("") => Ok(default),
        Some(t) => t
            .trim()
            .parse()
            .map_err(|_| param(flavor, format!("{name} must be a number"))),
    }
}

fn accid(flavor: Flavor, name: &str, raw: &str) -> Result<AccountId, ApiError> {
    if raw.is_empty() {
        return Err(param(flavor, format!("{name} is missing")));
    }
    ops::accid(raw).map_err(|e| err(flavor, e))
}

/// A message's delivery switches (NIM's message setting keys, 0/1).
#[derive(Clone, Copy)]
struct Switches {
    offline: bool,
    roam: bool,
    sender_sync: bool,
    history: bool,
    push: bool,
}

impl Switches {
    /// V1 `option`: `{"roam","history","sendersync","push","persistent",...}`, all true by default.
    fn v1(option: Option<&str>) -> Result<Switches, ApiError> {
        let o = match option.filter(|o| !o.is_empty()) {
            Some(t) => json_param(Flavor::V1, "option", t)?,
            None => json!({}),
        };
        let get = |k: &str| o.get(k).and_then(Value::as_bool).unwrap_or(true);
        Ok(Switches {
            offline: get("persistent"),
            roam: get("roam"),
            sender_sync: get("sendersync"),
            history: get("history"),
            push: get("push"),
        })
    }

    /// V2 `message_config`/`push_config`.
    fn v2(config: &Value, push: &Value) -> Switches {
        let get = |v: &Value, k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(true);
        Switches {
            offline: get(config, "offline_enabled"),
            roam: get(config, "roaming_enabled"),
            sender_sync: get(config, "mutil_sync_enabled"),
            history: get(config, "history_enabled"),
            push: get(push, "push_enabled"),
        }
    }

    fn apply(self, m: &mut Map<String, Value>) {
        let flag = |b: bool| Value::from(b as i32);
        m.insert("offline_msg".into(), flag(self.offline));
        m.insert("roam_msg".into(), flag(self.roam));
        m.insert("sync_msg".into(), flag(self.sender_sync));
        m.insert("cloud_history".into(), flag(self.history));
        m.insert("push_enable".into(), flag(self.push));
    }
}

/// A P2P message from its NIM type and content: text and tips carry their
/// text in the body, every other type its attachment (JSON).
fn message(
    flavor: Flavor,
    to: &AccountId,
    msg_type: i32,
    text: Option<String>,
    attach: Option<String>,
) -> Result<ImMessage, ApiError> {
    if !message_type::is_sendable(msg_type) {
        return Err(param(
            flavor,
            format!("message type {msg_type} cannot be sent (0 text, 1 image, 2 audio, 3 video, 4 location, 6 file, 10 tip, 11 robot, 100 custom)"),
        ));
    }
    let (msg_body, msg_attach) = match msg_type {
        message_type::TEXT | message_type::TIPS => match text {
            Some(t) if !t.is_empty() => (t, attach.unwrap_or_default()),
            _ => return Err(param(flavor, "a text or tip message needs its text")),
        },
        _ => match attach {
            Some(a) if !a.is_empty() => (text.unwrap_or_default(), a),
            _ => {
                return Err(param(
                    flavor,
                    format!("a type {msg_type} message needs its attachment (JSON)"),
                ))
            }
        },
    };
    Ok(ImMessage {
        to_type: session_type::P2P,
        to_accid: to.to_string(),
        msg_type,
        msg_body,
        msg_attach,
        client_msg_id: magpie_store::generate_key(16),
        ..Default::default()
    })
}

/// V1 `body` of a message: `{"msg":"..."}` for text and tips, the
/// attachment object for the others.
fn v1_message(to: &AccountId, msg_type: i64, body: &str) -> Result<ImMessage, ApiError> {
    let t = i32::try_from(msg_type).map_err(|_| param(Flavor::V1, "type is out of range"))?;
    let v = json_param(Flavor::V1, "body", body)?;
    match t {
        message_type::TEXT | message_type::TIPS => {
            let text = v.get("msg").and_then(Value::as_str).map(str::to_owned);
            if text.is_none() {
                return Err(param(
                    Flavor::V1,
                    r#"the body of a text or tip message is {"msg":"the text"}"#,
                ));
            }
            message(Flavor::V1, to, t, text, None)
        }
        _ => message(Flavor::V1, to, t, None, Some(body.to_owned())),
    }
}

/// The optional V1 fields of a message, as NIM's message keys.
fn v1_extras(
    m: &mut ImMessage,
    ext: Option<String>,
    pushcontent: Option<String>,
    payload: Option<String>,
    sub_type: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(e) = ext.filter(|e| !e.is_empty()) {
        if e.chars().count() > 1024 {
            return Err(param(Flavor::V1, "ext is longer than 1024 characters"));
        }
        m.extra.insert("server_ext".into(), e.into());
    }
    if let Some(p) = pushcontent.filter(|p| !p.is_empty()) {
        if p.chars().count() > 500 {
            return Err(param(
                Flavor::V1,
                "pushcontent is longer than 500 characters",
            ));
        }
        m.extra.insert("push_content".into(), p.into());
    }
    if let Some(p) = payload.filter(|p| !p.is_empty()) {
        if p.chars().count() > 2048 {
            return Err(param(Flavor::V1, "payload is longer than 2048 characters"));
        }
        m.extra.insert("push_payload".into(), p.into());
    }
    let st = int_param(Flavor::V1, "subType", sub_type, 0)?;
    m.msg_sub_type = i32::try_from(st).map_err(|_| param(Flavor::V1, "subType is out of range"))?;
    Ok(())
}

/// Parameters of `sendMsg.action`.
#[derive(Deserialize)]
pub struct SendMsgForm {
    from: String,
    ope: Option<String>,
    to: String,
    #[serde(rename = "type")]
    msg_type: Option<String>,
    body: Option<String>,
    option: Option<String>,
    ext: Option<String>,
    #[serde(alias = "pushContent")]
    pushcontent: Option<String>,
    payload: Option<String>,
    #[serde(rename = "subType")]
    sub_type: Option<String>,
}

fn p2p_only(flavor: Flavor, ope: Option<&str>) -> Result<(), ApiError> {
    match int_param(flavor, "ope", ope, 0)? {
        0 => Ok(()),
        1 => Err(param(
            flavor,
            "team messages are not supported (ope must be 0)",
        )),
        _ => Err(param(flavor, "ope must be 0 (P2P) or 1 (team)")),
    }
}

pub(super) async fn send_msg(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<SendMsgForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    p2p_only(Flavor::V1, f.ope.as_deref())?;
    let from = accid(Flavor::V1, "from", &f.from)?;
    let to = accid(Flavor::V1, "to", &f.to)?;
    let t = int_param(Flavor::V1, "type", f.msg_type.as_deref(), -1)?;
    let mut m = v1_message(&to, t, f.body.as_deref().unwrap_or(""))?;
    v1_extras(
        &mut m,
        f.ext,
        f.pushcontent,
        f.payload,
        f.sub_type.as_deref(),
    )?;
    Switches::v1(f.option.as_deref())?.apply(&mut m.extra);
    let a = shared
        .messaging
        .send_msg_from_server(&shared, &app, &from, m)
        .await
        .map_err(|r| refused(Flavor::V1, r))?;
    Ok(Json(json!({
        "code": 200,
        "data": {"msgid": a.server_id, "timetag": a.time, "antispam": false},
    })))
}

/// Parameters of `sendBatchMsg.action`.
#[derive(Deserialize)]
pub struct SendBatchMsgForm {
    #[serde(rename = "fromAccid")]
    from: String,
    #[serde(rename = "toAccids")]
    to: String,
    #[serde(rename = "type")]
    msg_type: Option<String>,
    body: Option<String>,
    option: Option<String>,
    ext: Option<String>,
    #[serde(alias = "pushContent")]
    pushcontent: Option<String>,
    payload: Option<String>,
    #[serde(rename = "returnMsgid")]
    return_msgid: Option<String>,
    #[serde(rename = "subType")]
    sub_type: Option<String>,
}

/// A batch's receivers: a JSON array of accids, 1 to `max`.
fn receivers(flavor: Flavor, name: &str, v: &Value, max: usize) -> Result<Vec<String>, ApiError> {
    let list: Vec<String> = v
        .as_array()
        .ok_or_else(|| param(flavor, format!("{name} must be a JSON array of accids")))?
        .iter()
        .map(|x| x.as_str().map(str::to_owned))
        .collect::<Option<_>>()
        .ok_or_else(|| param(flavor, format!("{name} must hold accids (strings)")))?;
    if list.is_empty() || list.len() > max {
        return Err(param(
            flavor,
            format!("{name} must name 1 to {max} accounts"),
        ));
    }
    Ok(list)
}

/// The sender of a batch exists (checked once, before any receiver).
async fn sender_exists(
    shared: &Shared,
    app: &AppCtx,
    flavor: Flavor,
    from: &AccountId,
) -> Result<(), ApiError> {
    match shared.messaging.account_exists(shared, app.id, from).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(err(
            flavor,
            OpError {
                code: 404,
                msg: "the sender does not exist".into(),
            },
        )),
        Err(r) => Err(refused(flavor, r)),
    }
}

/// One receiver's outcome in a batch.
enum Outcome {
    Sent(String, Appended),
    Unregistered(String),
    /// Refused for this receiver only (its blacklist).
    Skipped,
}

/// Sends one message to each receiver in turn; receivers that do not exist
/// are collected, receivers that blacklisted the sender skipped, any other
/// refusal ends the call.
async fn send_each(
    shared: &Shared,
    app: &AppCtx,
    flavor: Flavor,
    from: &AccountId,
    to: Vec<String>,
    make: impl Fn(&AccountId) -> Result<ImMessage, ApiError>,
) -> Result<Vec<Outcome>, ApiError> {
    sender_exists(shared, app, flavor, from).await?;
    let mut out = Vec::with_capacity(to.len());
    for raw in to {
        let Ok(id) = AccountId::parse(&raw) else {
            out.push(Outcome::Unregistered(raw));
            continue;
        };
        let m = make(&id)?;
        match shared
            .messaging
            .send_msg_from_server(shared, app, from, m)
            .await
        {
            Ok(a) => out.push(Outcome::Sent(id.to_string(), a)),
            Err(r) if r.code == ResCode::NOT_EXIST => out.push(Outcome::Unregistered(raw)),
            Err(r) if r.code == RES_IN_BLACK => out.push(Outcome::Skipped),
            Err(r) => return Err(refused(flavor, r)),
        }
    }
    Ok(out)
}

pub(super) async fn send_batch_msg(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<SendBatchMsgForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let from = accid(Flavor::V1, "fromAccid", &f.from)?;
    let with_ids = bool_param(Flavor::V1, "returnMsgid", f.return_msgid.as_deref(), false)?;
    let max = if with_ids {
        MAX_BATCH_WITH_IDS
    } else {
        MAX_BATCH_RECEIVERS
    };
    let to = receivers(
        Flavor::V1,
        "toAccids",
        &json_param(Flavor::V1, "toAccids", &f.to)?,
        max,
    )?;
    let t = int_param(Flavor::V1, "type", f.msg_type.as_deref(), -1)?;
    let body = f.body.unwrap_or_default();
    let switches = Switches::v1(f.option.as_deref())?;
    let make = |id: &AccountId| {
        let mut m = v1_message(id, t, &body)?;
        v1_extras(
            &mut m,
            f.ext.clone(),
            f.pushcontent.clone(),
            f.payload.clone(),
            f.sub_type.as_deref(),
        )?;
        switches.apply(&mut m.extra);
        Ok(m)
    };
    let outcomes = send_each(&shared, &app, Flavor::V1, &from, to, make).await?;
    let mut unregister = Vec::new();
    let mut msgids = Map::new();
    let mut timetag = 0;
    for o in outcomes {
        match o {
            Outcome::Sent(id, a) => {
                timetag = timetag.max(a.time);
                msgids.insert(id, a.server_id.into());
            }
            Outcome::Unregistered(id) => unregister.push(id),
            Outcome::Skipped => {}
        }
    }
    let mut reply = json!({"code": 200, "unregister": unregister, "timetag": timetag});
    if with_ids {
        reply["msgids"] = Value::Object(msgids);
    }
    Ok(Json(reply))
}

/// Parameters of `sendAttachMsg.action` and its batch form.
#[derive(Deserialize)]
pub struct SendAttachForm {
    #[serde(alias = "fromAccid")]
    from: String,
    msgtype: Option<String>,
    to: Option<String>,
    #[serde(rename = "toAccids")]
    to_accids: Option<String>,
    attach: Option<String>,
    #[serde(alias = "pushContent")]
    pushcontent: Option<String>,
    payload: Option<String>,
    sound: Option<String>,
    save: Option<String>,
}

/// A custom notification (NIM's sysmsg type 100) to `to`.
fn notification(
    flavor: Flavor,
    to: &AccountId,
    attach: &str,
    stored: bool,
    extras: &[(&str, Option<&String>)],
) -> Result<SysMsg, ApiError> {
    if attach.is_empty() {
        return Err(param(
            flavor,
            "the notification's content (attach) is missing",
        ));
    }
    let mut extra = Map::new();
    for (k, v) in extras {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            extra.insert((*k).into(), v.clone().into());
        }
    }
    Ok(SysMsg {
        msg_type: sysmsg_type::CUSTOM_P2P_MSG,
        to_account: to.to_string(),
        attach: attach.to_owned(),
        client_msg_id: magpie_store::generate_key(16),
        custom_save_flag: stored as i32,
        extra,
        ..Default::default()
    })
}

fn v1_save(save: Option<&str>) -> Result<bool, ApiError> {
    match int_param(Flavor::V1, "save", save, 2)? {
        1 => Ok(false),
        2 => Ok(true),
        _ => Err(param(
            Flavor::V1,
            "save must be 1 (online only) or 2 (stored)",
        )),
    }
}

pub(super) async fn send_attach_msg(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<SendAttachForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    p2p_only(Flavor::V1, f.msgtype.as_deref())?;
    let from = accid(Flavor::V1, "from", &f.from)?;
    let to = accid(Flavor::V1, "to", f.to.as_deref().unwrap_or(""))?;
    let n = notification(
        Flavor::V1,
        &to,
        f.attach.as_deref().unwrap_or(""),
        v1_save(f.save.as_deref())?,
        &[
            ("push_content", f.pushcontent.as_ref()),
            ("push_payload", f.payload.as_ref()),
            ("sound", f.sound.as_ref()),
        ],
    )?;
    shared
        .messaging
        .send_sysmsg_from_server(&shared, &app, &from, n)
        .await
        .map_err(|r| refused(Flavor::V1, r))?;
    Ok(Json(json!({"code": 200})))
}

pub(super) async fn send_batch_attach_msg(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<SendAttachForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let from = accid(Flavor::V1, "fromAccid", &f.from)?;
    let list = json_param(Flavor::V1, "toAccids", f.to_accids.as_deref().unwrap_or(""))?;
    let to = receivers(Flavor::V1, "toAccids", &list, MAX_BATCH_RECEIVERS)?;
    let stored = v1_save(f.save.as_deref())?;
    sender_exists(&shared, &app, Flavor::V1, &from).await?;
    let mut unregister = Vec::new();
    for raw in to {
        let Ok(id) = AccountId::parse(&raw) else {
            unregister.push(raw);
            continue;
        };
        let n = notification(
            Flavor::V1,
            &id,
            f.attach.as_deref().unwrap_or(""),
            stored,
            &[
                ("push_content", f.pushcontent.as_ref()),
                ("push_payload", f.payload.as_ref()),
                ("sound", f.sound.as_ref()),
            ],
        )?;
        match shared
            .messaging
            .send_sysmsg_from_server(&shared, &app, &from, n)
            .await
        {
            Ok(_) => {}
            Err(r) if r.code == ResCode::NOT_EXIST => unregister.push(raw),
            Err(r) => return Err(refused(Flavor::V1, r)),
        }
    }
    Ok(Json(json!({"code": 200, "unregister": unregister})))
}

/// Parameters of `recall.action`.
#[derive(Deserialize)]
pub struct RecallForm {
    /// The message's server id.
    #[serde(rename = "deleteMsgid")]
    delete_msg_id: String,
    /// The message's time, ms.
    timetag: String,
    /// 7: P2P, 8: team.
    #[serde(rename = "type")]
    kind: String,
    from: String,
    to: String,
    msg: Option<String>,
    #[serde(rename = "ignoreTime")]
    ignore_time: Option<String>,
    attach: Option<String>,
}

/// NIM's default notification text of a recall from the app server.
const RECALL_DEFAULT_MSG: &str = "撤回了一条信息";

/// `/nimserver/msg/recall.action`: the app server recalls a P2P message
/// (found by its server id, sender and receiver), within two minutes of
/// its time unless `ignoreTime` is 1. The receiver's devices and the
/// sender's get the recall notification.
pub(super) async fn recall(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<RecallForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let (p2p, team) = ("7", "8");
    let target = RecallTarget {
        kind: (&f.kind, p2p, team),
        from: &f.from,
        to: &f.to,
        id: &f.delete_msg_id,
        timetag: &f.timetag,
    };
    let (from, to, m) = target.find(&shared, &app).await?;
    let ignore = bool_param(Flavor::V1, "ignoreTime", f.ignore_time.as_deref(), false)?;
    let r = magpie_proto::msg::RecallReq {
        to_type: session_type::P2P,
        id: to.to_string(),
        client_msg_id: m.client_msg_id,
        notify: f.msg.unwrap_or_else(|| RECALL_DEFAULT_MSG.to_owned()),
        from_nick: String::new(),
        attach: f.attach.unwrap_or_default(),
    };
    shared
        .messaging
        .recall_from_server(&shared, app.id, &from, r, ignore)
        .await
        .map_err(|r| refused(Flavor::V1, r))?;
    Ok(Json(json!({"code": 200})))
}

/// Parameters of `delMsgOneWay.action`.
#[derive(Deserialize)]
pub struct OneWayForm {
    /// The message's server id.
    #[serde(rename = "deleteMsgid")]
    delete_msg_id: String,
    /// The message's time, ms.
    timetag: String,
    /// 13: P2P, 14: team.
    #[serde(rename = "type")]
    kind: String,
    from: String,
    to: String,
    msg: Option<String>,
}

/// `/nimserver/msg/delMsgOneWay.action`: NIM's one-way recall of a P2P
/// message (found by its server id, sender and receiver): it leaves the
/// receiver's history, offline and roaming messages, and the receiver's
/// devices get the recall notification (`msg` its text); the sender keeps
/// the message and is not told. No time window.
pub(super) async fn del_msg_one_way(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<OneWayForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let target = RecallTarget {
        kind: (&f.kind, "13", "14"),
        from: &f.from,
        to: &f.to,
        id: &f.delete_msg_id,
        timetag: &f.timetag,
    };
    let (from, to, m) = target.find(&shared, &app).await?;
    let r = magpie_proto::msg::RecallReq {
        to_type: session_type::P2P,
        id: to.to_string(),
        client_msg_id: m.client_msg_id,
        notify: f.msg.unwrap_or_default(),
        from_nick: String::new(),
        attach: String::new(),
    };
    shared
        .messaging
        .recall_one_way_from_server(&shared, app.id, &from, r)
        .await
        .map_err(|r| refused(Flavor::V1, r))?;
    Ok(Json(json!({"code": 200})))
}

/// The message a recall names: `type` (`kind`: the value given, the P2P
/// one, the team one), sender, receiver, server id and time.
struct RecallTarget<'a> {
    kind: (&'a str, &'a str, &'a str),
    from: &'a str,
    to: &'a str,
    id: &'a str,
    timetag: &'a str,
}

impl RecallTarget<'_> {
    /// The sender, the receiver and the message (414 for bad parameters or
    /// a team message, 404 when `from` sent `to` no such message, 500 when
    /// the store fails).
    async fn find(
        &self,
        shared: &Shared,
        app: &AppCtx,
    ) -> Result<(AccountId, AccountId, magpie_store::SentMessage), ApiError> {
        let (kind, p2p, team) = self.kind;
        if kind == team {
            return Err(param(
                Flavor::V1,
                format!("team messages are not supported (type {team})"),
            ));
        }
        if kind != p2p {
            return Err(param(
                Flavor::V1,
                format!("type must be {p2p} (P2P) or {team} (team)"),
            ));
        }
        let from = accid(Flavor::V1, "from", self.from)?;
        let to = accid(Flavor::V1, "to", self.to)?;
        let id: i64 = self.id.parse().map_err(|_| {
            param(
                Flavor::V1,
                "deleteMsgid must be the message's server id (a number)",
            )
        })?;
        self.timetag
            .parse::<i64>()
            .map_err(|_| param(Flavor::V1, "timetag must be the message's time in ms"))?;
        let found = shared
            .stores
            .messages
            .message_by_id(app.id, id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "looking up a message failed");
                err(
                    Flavor::V1,
                    OpError {
                        code: 500,
                        msg: "internal error".into(),
                    },
                )
            })?;
        let m = found
            .filter(|m| m.from == from && m.to == to)
            .ok_or_else(|| {
                err(
                    Flavor::V1,
                    OpError {
                        code: 404,
                        msg: format!("no message {id} from {from} to {to}"),
                    },
                )
            })?;
        Ok((from, to, m))
    }
}

/// Parameters of `delRoamSession.action`.
#[derive(Deserialize)]
pub struct RoamSessionForm {
    /// 1: P2P, 2: team.
    #[serde(rename = "type")]
    kind: String,
    from: String,
    to: String,
}

/// `/nimserver/msg/delRoamSession.action`: `from`'s roaming messages of
/// its P2P session with `to` are deleted: its devices that have not
/// received them (one that logs in later) never will; the server's history
/// and `to`'s side stay.
pub(super) async fn del_roam_session(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<RoamSessionForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    match f.kind.as_str() {
        "1" => {}
        "2" => {
            return Err(param(
                Flavor::V1,
                "team sessions are not supported (type 2)",
            ))
        }
        _ => return Err(param(Flavor::V1, "type must be 1 (P2P) or 2 (team)")),
    }
    let from = accid(Flavor::V1, "from", &f.from)?;
    let to = accid(Flavor::V1, "to", &f.to)?;
    shared
        .messaging
        .delete_roaming_from_server(app.id, &from, &to)
        .await
        .map_err(|r| refused(Flavor::V1, r))?;
    Ok(Json(json!({"code": 200})))
}

/// Parameters of `markReadMsg.action`.
#[derive(Deserialize)]
pub struct MarkReadForm {
    /// The reader.
    from: String,
    /// The message's sender, who gets the receipt.
    to: String,
    /// The client id of the message read.
    #[serde(rename = "msgidClient")]
    msgid_client: String,
}

/// The message a receipt acknowledges: sent by `sender` to `reader`.
fn receipted(
    flavor: Flavor,
    found: magpie_store::StoreResult<Option<magpie_store::SentMessage>>,
    reader: &AccountId,
    sender: &AccountId,
) -> Result<i64, ApiError> {
    let found = found.map_err(|e| {
        tracing::error!(error = %e, "looking up a receipted message failed");
        err(
            flavor,
            OpError {
                code: 500,
                msg: "internal error".into(),
            },
        )
    })?;
    match found.filter(|m| m.from == *sender && m.to == *reader) {
        Some(m) => Ok(m.time),
        None => Err(err(
            flavor,
            OpError {
                code: 404,
                msg: format!("{sender} sent {reader} no such message"),
            },
        )),
    }
}

/// `/nimserver/msg/markReadMsg.action`: a P2P read receipt on behalf of
/// `from` for the message `to` sent it (`msgidClient`): `to`'s devices get
/// the status change (up to that message's time), `from`'s learn it was sent.
pub(super) async fn mark_read(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<MarkReadForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let reader = accid(Flavor::V1, "from", &f.from)?;
    let sender = accid(Flavor::V1, "to", &f.to)?;
    if f.msgid_client.is_empty() {
        return Err(param(Flavor::V1, "msgidClient is missing"));
    }
    let found = shared
        .stores
        .messages
        .sent_message(app.id, &sender, &f.msgid_client)
        .await;
    let time = receipted(Flavor::V1, found, &reader, &sender)?;
    shared
        .messaging
        .receipt_from_server(&shared, app.id, &reader, &sender, time)
        .await
        .map_err(|r| refused(Flavor::V1, r))?;
    Ok(Json(json!({"code": 200})))
}

/// Body of V2 `p2p_read_receipt`.
#[derive(Deserialize)]
pub struct V2ReceiptBody {
    /// The reader.
    from_account_id: String,
    /// The message's sender, who gets the receipt.
    to_account_id: String,
    /// The server id of the message read.
    message_server_id: i64,
}

/// V2 `POST /im/v2/messages/actions/p2p_read_receipt`: as `markReadMsg`,
/// the message named by its server id.
pub(super) async fn v2_receipt(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    b: Result<Json<V2ReceiptBody>, JsonRejection>,
) -> Reply {
    let b = body(b)?;
    let reader = accid(Flavor::V2, "from_account_id", &b.from_account_id)?;
    let sender = accid(Flavor::V2, "to_account_id", &b.to_account_id)?;
    let found = shared
        .stores
        .messages
        .message_by_id(app.id, b.message_server_id)
        .await;
    let time = receipted(Flavor::V2, found, &reader, &sender)?;
    shared
        .messaging
        .receipt_from_server(&shared, app.id, &reader, &sender, time)
        .await
        .map_err(|r| refused(Flavor::V2, r))?;
    Ok(Json(json!({"code": 200, "msg": "success", "data": {}})))
}

/// Parameters of `setSpecialRelation.action`.
#[derive(Deserialize)]
pub struct RelationForm {
    accid: String,
    #[serde(rename = "targetAcc")]
    target: String,
    #[serde(rename = "relationType")]
    relation: Option<String>,
    value: Option<String>,
}

pub(super) async fn set_special_relation(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<RelationForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let owner = accid(Flavor::V1, "accid", &f.accid)?;
    let target = accid(Flavor::V1, "targetAcc", &f.target)?;
    match int_param(Flavor::V1, "relationType", f.relation.as_deref(), -1)? {
        1 => {}
        2 => {
            return Err(param(
                Flavor::V1,
                "mute lists are not supported (relationType 2)",
            ))
        }
        _ => {
            return Err(param(
                Flavor::V1,
                "relationType must be 1 (blacklist) or 2 (mute)",
            ))
        }
    }
    let on = match int_param(Flavor::V1, "value", f.value.as_deref(), -1)? {
        0 => false,
        1 => true,
        _ => return Err(param(Flavor::V1, "value must be 0 (remove) or 1 (add)")),
    };
    for a in [&owner, &target] {
        match shared.stores.accounts.account(app.id, a).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(err(
                    Flavor::V1,
                    OpError {
                        code: 404,
                        msg: format!("account {a} does not exist"),
                    },
                ))
            }
            Err(e) => {
                tracing::error!(error = %e, "account lookup failed");
                return Err(err(
                    Flavor::V1,
                    OpError {
                        code: 500,
                        msg: "internal error".into(),
                    },
                ));
            }
        }
    }
    if let Err(e) = shared
        .stores
        .accounts
        .set_blacklisted(app.id, &owner, &target, on)
        .await
    {
        tracing::error!(error = %e, "blacklist update failed");
        return Err(err(
            Flavor::V1,
            OpError {
                code: 500,
                msg: "internal error".into(),
            },
        ));
    }
    shared.messaging.blacklist_changed(app.id, &owner);
    Ok(Json(json!({"code": 200})))
}

/// Parameters of `listBlackAndMuteList.action`.
#[derive(Deserialize)]
pub struct AccidForm {
    accid: String,
}

pub(super) async fn list_black_and_mute(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<AccidForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let owner = accid(Flavor::V1, "accid", &f.accid)?;
    let list = shared
        .stores
        .accounts
        .blacklist(app.id, &owner)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "blacklist lookup failed");
            param(Flavor::V1, "internal error")
        })?;
    let names: Vec<String> = list.iter().map(ToString::to_string).collect();
    Ok(Json(
        json!({"code": 200, "blacklist": names, "mutelist": []}),
    ))
}

// ---- V2 ----

/// A P2P conversation id, `sender|1|receiver`.
fn conversation(id: &str) -> Result<(AccountId, AccountId), ApiError> {
    let parts: Vec<&str> = id.split('|').collect();
    match parts.as_slice() {
        [a, "1", b] => Ok((
            accid(Flavor::V2, "sender", a)?,
            accid(Flavor::V2, "receiver", b)?,
        )),
        [_, "2" | "3", _] => Err(param(
            Flavor::V2,
            "team conversations are not supported (type 2 and 3)",
        )),
        _ => Err(param(
            Flavor::V2,
            "conversation_id must be sender|1|receiver",
        )),
    }
}

/// `message` of a V2 send.
#[derive(Deserialize, Default)]
pub struct V2Message {
    message_type: i64,
    #[serde(default)]
    sub_type: i64,
    text: Option<String>,
    attachment: Option<Value>,
    message_client_id: Option<String>,
}

/// Body of `POST /im/v2/conversations/{id}/messages`.
#[derive(Deserialize)]
pub struct V2SendBody {
    message: V2Message,
    #[serde(default)]
    message_config: Value,
    #[serde(default)]
    push_config: Value,
    extension: Option<String>,
}

fn v2_message(to: &AccountId, b: &V2SendBody) -> Result<ImMessage, ApiError> {
    let m = &b.message;
    let t = i32::try_from(m.message_type)
        .map_err(|_| param(Flavor::V2, "message_type is out of range"))?;
    let attach = match &m.attachment {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => Some(v.to_string()),
    };
    let mut msg = message(Flavor::V2, to, t, m.text.clone(), attach)?;
    if let Some(id) = m.message_client_id.as_ref().filter(|i| !i.is_empty()) {
        msg.client_msg_id = id.clone();
    }
    msg.msg_sub_type =
        i32::try_from(m.sub_type).map_err(|_| param(Flavor::V2, "sub_type is out of range"))?;
    if let Some(e) = b.extension.as_ref().filter(|e| !e.is_empty()) {
        msg.extra.insert("server_ext".into(), e.clone().into());
    }
    if let Some(c) = b.push_config.get("push_content").and_then(Value::as_str) {
        msg.extra.insert("push_content".into(), c.into());
    }
    if let Some(p) = b.push_config.get("push_payload") {
        let p = p.as_str().map_or_else(|| p.to_string(), str::to_owned);
        msg.extra.insert("push_payload".into(), p.into());
    }
    Switches::v2(&b.message_config, &b.push_config).apply(&mut msg.extra);
    Ok(msg)
}

fn v2_sent(from: &AccountId, to: &AccountId, m: &ImMessage, a: &Appended) -> Value {
    let attachment = serde_json::from_str::<Value>(&m.msg_attach).unwrap_or(Value::Null);
    json!({
        "message_server_id": a.server_id,
        "message_client_id": m.client_msg_id,
        "sender_id": from.to_string(),
        "conversation_type": 1,
        "receiver_id": to.to_string(),
        "create_time": a.time,
        "message_type": m.msg_type,
        "sub_type": m.msg_sub_type,
        "text": m.msg_body,
        "attachment": attachment,
    })
}

pub(super) async fn v2_send(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    Path(id): Path<String>,
    b: Result<Json<V2SendBody>, JsonRejection>,
) -> Reply {
    let b = body(b)?;
    let (from, to) = conversation(&id)?;
    let m = v2_message(&to, &b)?;
    let a = shared
        .messaging
        .send_msg_from_server(&shared, &app, &from, m.clone())
        .await
        .map_err(|r| refused(Flavor::V2, r))?;
    Ok(Json(
        json!({"code": 200, "msg": "success", "data": v2_sent(&from, &to, &m, &a)}),
    ))
}

/// Body of `POST /im/v2/conversations/messages` (one message to many).
#[derive(Deserialize)]
pub struct V2BatchBody {
    sender_id: String,
    receiver_ids: Value,
    #[serde(flatten)]
    send: V2SendBody,
}

pub(super) async fn v2_send_batch(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    b: Result<Json<V2BatchBody>, JsonRejection>,
) -> Reply {
    let b = body(b)?;
    let from = accid(Flavor::V2, "sender_id", &b.sender_id)?;
    let to = receivers(
        Flavor::V2,
        "receiver_ids",
        &b.receiver_ids,
        MAX_BATCH_RECEIVERS,
    )?;
    sender_exists(&shared, &app, Flavor::V2, &from).await?;
    let mut success = Vec::new();
    let mut failed = Vec::new();
    for raw in to {
        let Ok(id) = AccountId::parse(&raw) else {
            failed.push(json!({"receiver_id": raw, "error_code": 404, "error_msg": "the receiver does not exist"}));
            continue;
        };
        let mut m = v2_message(&id, &b.send)?;
        // One message per receiver: a client id given for the batch is made
        // the receiver's own, so a retried batch is still de-duplicated
        // message by message and no receiver's copy is taken for another's.
        if b.send
            .message
            .message_client_id
            .as_ref()
            .is_some_and(|i| !i.is_empty())
        {
            m.client_msg_id = format!("{}:{}", m.client_msg_id, id);
        }
        match shared
            .messaging
            .send_msg_from_server(&shared, &app, &from, m.clone())
            .await
        {
            Ok(a) => success.push(v2_sent(&from, &id, &m, &a)),
            Err(r) if r.code == ResCode::TOO_BUSY => return Err(refused(Flavor::V2, r)),
            Err(r) => failed
                .push(json!({"receiver_id": raw, "error_code": r.code.0, "error_msg": r.desc})),
        }
    }
    Ok(Json(json!({
        "code": 200, "msg": "success",
        "data": {"success_list": success, "failed_list": failed},
    })))
}

/// Body of `POST /im/v2/custom_notification` (and its batch form).
#[derive(Deserialize)]
pub struct V2NotificationBody {
    sender_id: String,
    #[serde(rename = "type", default = "one")]
    kind: i64,
    receiver_id: Option<String>,
    receiver_ids: Option<Value>,
    content: String,
    sound: Option<String>,
    #[serde(default)]
    notification_config: Value,
    #[serde(default)]
    push_config: Value,
}

fn one() -> i64 {
    1
}

fn v2_notification(to: &AccountId, b: &V2NotificationBody) -> Result<SysMsg, ApiError> {
    if b.kind != 1 {
        return Err(param(
            Flavor::V2,
            "only P2P notifications (type 1) are supported",
        ));
    }
    let stored = b
        .notification_config
        .get("offline_enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let push = b
        .push_config
        .get("push_content")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let payload = b
        .push_config
        .get("push_payload")
        .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned));
    notification(
        Flavor::V2,
        to,
        &b.content,
        stored,
        &[
            ("push_content", push.as_ref()),
            ("push_payload", payload.as_ref()),
            ("sound", b.sound.as_ref()),
        ],
    )
}

pub(super) async fn v2_notify(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    b: Result<Json<V2NotificationBody>, JsonRejection>,
) -> Reply {
    let b = body(b)?;
    let from = accid(Flavor::V2, "sender_id", &b.sender_id)?;
    let to = accid(
        Flavor::V2,
        "receiver_id",
        b.receiver_id.as_deref().unwrap_or(""),
    )?;
    let n = v2_notification(&to, &b)?;
    shared
        .messaging
        .send_sysmsg_from_server(&shared, &app, &from, n)
        .await
        .map_err(|r| refused(Flavor::V2, r))?;
    Ok(Json(json!({"code": 200, "msg": "success", "data": {}})))
}

pub(super) async fn v2_notify_batch(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    b: Result<Json<V2NotificationBody>, JsonRejection>,
) -> Reply {
    let b = body(b)?;
    let from = accid(Flavor::V2, "sender_id", &b.sender_id)?;
    let list = b.receiver_ids.clone().unwrap_or(Value::Null);
    let to = receivers(Flavor::V2, "receiver_ids", &list, MAX_BATCH_RECEIVERS)?;
    sender_exists(&shared, &app, Flavor::V2, &from).await?;
    let mut failed = Vec::new();
    for raw in to {
        let Ok(id) = AccountId::parse(&raw) else {
            failed.push(json!({"receiver_id": raw, "error_code": 404, "error_msg": "the receiver does not exist"}));
            continue;
        };
        let n = v2_notification(&id, &b)?;
        match shared
            .messaging
            .send_sysmsg_from_server(&shared, &app, &from, n)
            .await
        {
            Ok(_) => {}
            Err(r) if r.code == ResCode::TOO_BUSY => return Err(refused(Flavor::V2, r)),
            Err(r) => failed
                .push(json!({"receiver_id": raw, "error_code": r.code.0, "error_msg": r.desc})),
        }
    }
    Ok(Json(
        json!({"code": 200, "msg": "success", "data": {"failed_list": failed}}),
    ))
}
