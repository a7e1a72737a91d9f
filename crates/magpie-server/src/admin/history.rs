//! NIM's server API for history (`/nimserver/history/...`): the messages of
//! one P2P conversation and an account's server-side sessions, read from
//! the message store the devices' queries read.

use super::error::{ApiError, Flavor};
use super::ops::{self, OpError};
use crate::apps::AppCtx;
use crate::state::Shared;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::{Extension, Form, Json};
use magpie_proto::msg::{message_type, ImMessage};
use magpie_store::message::MAX_SESSION_PAGE;
use magpie_store::{AccountId, HistoryRange, SessionQuery};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

type Reply = Result<Json<Value>, ApiError>;

/// Most messages one `querySessionMsg.action` returns (NIM: 100).
pub const MAX_HISTORY_PAGE: u32 = 100;

fn param(msg: impl Into<String>) -> ApiError {
    OpError::param(msg).to_api(Flavor::V1)
}

fn internal(e: magpie_store::StoreError) -> ApiError {
    tracing::error!(error = %e, "a history query failed");
    OpError {
        code: 500,
        msg: "internal error: the message store could not be read".into(),
    }
    .to_api(Flavor::V1)
}

fn form<T>(f: Result<Form<T>, FormRejection>) -> Result<T, ApiError> {
    f.map(|Form(v)| v)
        .map_err(|e| param(format!("bad form body: {}", e.body_text())))
}

fn accid(name: &str, raw: &str) -> Result<AccountId, ApiError> {
    if raw.is_empty() {
        return Err(param(format!("{name} is missing")));
    }
    ops::accid(raw).map_err(|e| e.to_api(Flavor::V1))
}

fn number(name: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| param(format!("{name} must be a number"))),
    }
}

/// A message as NIM's history answers list it: `from`, `msgid`,
/// `sendtime`, `type`, `fromclienttype`, `msgidclient` and `body` (a text's
/// `{"msg":...}`, other types their attachment object, as
/// `sendMsg.action` takes them).
fn v1_message(json: &str) -> Value {
    let Ok(m) = serde_json::from_str::<ImMessage>(json) else {
        return Value::Null;
    };
    let attach = serde_json::from_str::<Value>(&m.msg_attach).ok();
    let body = match (m.msg_type, attach) {
        (message_type::TEXT | message_type::TIPS, _) | (_, None) => json!({"msg": m.msg_body}),
        (_, Some(a)) => a,
    };
    json!({
        "from": m.from_id,
        "to": m.to_accid,
        "msgid": m.server_msg_id,
        "sendtime": m.time,
        "type": m.msg_type,
        "fromclienttype": m.from_client_type,
        "msgidclient": m.client_msg_id,
        "body": body,
    })
}

/// Parameters of `querySessionMsg.action`.
#[derive(Deserialize)]
pub struct SessionMsgForm {
    from: String,
    to: String,
    begintime: Option<String>,
    endtime: Option<String>,
    limit: Option<String>,
    reverse: Option<String>,
    #[serde(rename = "type")]
    types: Option<String>,
}

/// `/nimserver/history/querySessionMsg.action`: the messages between `from`
/// and `to` kept for history, as `from` sees them (without those it deleted
/// for itself), sent from `begintime` to `endtime` (ms, both inclusive;
/// `begintime` must be before `endtime`), at most `limit` (1 to 100),
/// newest first unless `reverse` is 1, only the types listed in `type`
/// ("0,1,100") when given.
pub(super) async fn query_session_msg(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<SessionMsgForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let from = accid("from", &f.from)?;
    let to = accid("to", &f.to)?;
    let begin = number("begintime", &f.begintime)?.unwrap_or(0);
    let end = number("endtime", &f.endtime)?.ok_or_else(|| param("endtime is missing"))?;
    if begin < 0 || begin >= end {
        return Err(param("bad time: begintime must be before endtime"));
    }
    let limit = number("limit", &f.limit)?.unwrap_or(MAX_HISTORY_PAGE as i64);
    if !(1..=MAX_HISTORY_PAGE as i64).contains(&limit) {
        return Err(param(format!("limit must be 1 to {MAX_HISTORY_PAGE}")));
    }
    let ascending = match number("reverse", &f.reverse)? {
        None | Some(2) => false,
        Some(1) => true,
        Some(_) => {
            return Err(param(
                "reverse must be 1 (oldest first) or 2 (newest first)",
            ))
        }
    };
    let mut msg_types = Vec::new();
    for t in f.types.as_deref().unwrap_or("").split(',').map(str::trim) {
        if !t.is_empty() {
            msg_types.push(
                t.parse()
                    .map_err(|_| param("type must be message types separated by commas"))?,
            );
        }
    }
    let range = HistoryRange {
        from_time: begin,
        end_time: end,
        end_msg_id: 0,
        limit: limit as u32,
        ascending,
        msg_types,
        keyword: String::new(),
    };
    let msgs: Vec<Value> = shared
        .stores
        .messages
        .history(app.id, &from, &to, range)
        .await
        .map_err(internal)?
        .iter()
        .map(|m| v1_message(&m.json))
        .collect();
    Ok(Json(json!({"code": 200, "size": msgs.len(), "msgs": msgs})))
}

/// Parameters of `querySessionList.action`.
#[derive(Deserialize)]
pub struct SessionListForm {
    accid: String,
    #[serde(rename = "minTimestamp")]
    min_timestamp: Option<String>,
    #[serde(rename = "maxTimestamp")]
    max_timestamp: Option<String>,
    limit: Option<String>,
    #[serde(rename = "needLastMsg")]
    need_last_msg: Option<String>,
}

/// `/nimserver/history/querySessionList.action`: a page of `accid`'s
/// server-side sessions, newest first (the list devices read through NIM's
/// session service): update times from `minTimestamp` to `maxTimestamp`
/// (ms; the latter exclusive; 0 or absent for no bound; a page holds
/// every session of its last millisecond, past the limit), at most `limit` (1 to
/// 100, default 100), with each session's last message unless
/// `needLastMsg` is 0. Answers `{"code":200,"hasMore","sessions":[{"type",
/// "to","updateTime","ext","lastMsgType","lastMsg"}]}`.
pub(super) async fn query_session_list(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<SessionListForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let who = accid("accid", &f.accid)?;
    let min_time = number("minTimestamp", &f.min_timestamp)?.unwrap_or(0);
    let max_time = number("maxTimestamp", &f.max_timestamp)?.unwrap_or(0);
    if min_time < 0 || max_time < 0 || (max_time > 0 && min_time > max_time) {
        return Err(param(
            "bad time: minTimestamp must not be after maxTimestamp",
        ));
    }
    let limit = number("limit", &f.limit)?.unwrap_or(MAX_SESSION_PAGE as i64);
    if !(1..=MAX_SESSION_PAGE as i64).contains(&limit) {
        return Err(param(format!("limit must be 1 to {MAX_SESSION_PAGE}")));
    }
    let with_last = match number("needLastMsg", &f.need_last_msg)? {
        None | Some(1) => true,
        Some(0) => false,
        Some(_) => return Err(param("needLastMsg must be 0 or 1")),
    };
    let q = SessionQuery {
        min_time,
        max_time,
        limit: limit as u32,
    };
    let page = shared
        .stores
        .messages
        .server_sessions(app.id, &who, q)
        .await
        .map_err(internal)?;
    let sessions: Vec<Value> = page
        .sessions
        .iter()
        .map(|s| {
            let mut v = json!({
                "type": s.to_type,
                "to": s.session_id,
                "updateTime": s.update_time,
                "ext": s.ext,
            });
            if let (true, Some(last)) = (with_last, &s.last) {
                v["lastMsgType"] = json!(u32::from(last.recalled));
                v["lastMsg"] = v1_message(&last.json);
            }
            v
        })
        .collect();
    Ok(Json(
        json!({"code": 200, "hasMore": page.has_more, "sessions": sessions}),
    ))
}
