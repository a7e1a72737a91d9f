//! NIM server API V1: `/nimserver/user/*.action`, form-encoded.

use super::error::{ApiError, Flavor};
use super::ops;
use crate::apps::AppCtx;
use crate::state::Shared;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::{Extension, Form, Json};
use magpie_store::AccountPatch;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

type Reply = Result<Json<Value>, ApiError>;

fn form<T>(f: Result<Form<T>, FormRejection>) -> Result<T, ApiError> {
    f.map(|Form(v)| v).map_err(|e| ApiError {
        flavor: Flavor::V1,
        code: 414,
        msg: format!("bad form body: {}", e.body_text()),
    })
}

fn v1(e: ops::OpError) -> ApiError {
    e.to_api(Flavor::V1)
}

fn ok() -> Reply {
    Ok(Json(json!({"code": 200})))
}

/// Parameters of `create.action`.
#[derive(Deserialize)]
pub struct CreateForm {
    accid: String,
    token: Option<String>,
    name: Option<String>,
    icon: Option<String>,
    sign: Option<String>,
    email: Option<String>,
    birth: Option<String>,
    mobile: Option<String>,
    gender: Option<String>,
    ex: Option<String>,
}

fn gender(g: Option<String>) -> Result<Option<i32>, ApiError> {
    match g.filter(|g| !g.is_empty()) {
        None => Ok(None),
        Some(g) => g
            .parse()
            .map(Some)
            .map_err(|_| v1(ops::OpError::param("gender must be 0, 1 or 2"))),
    }
}

pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<CreateForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let patch = AccountPatch {
        name: f.name,
        icon: f.icon,
        sign: f.sign,
        email: f.email,
        birth: f.birth,
        mobile: f.mobile,
        gender: gender(f.gender)?,
        ex: f.ex,
    };
    let (acct, token) = ops::create(&shared, &app, &f.accid, f.token, patch, false)
        .await
        .map_err(v1)?;
    Ok(Json(json!({
        "code": 200,
        "info": {"token": token, "accid": acct.accid, "name": acct.name},
    })))
}

/// Parameters of `update.action`.
#[derive(Deserialize)]
pub struct UpdateForm {
    accid: String,
    token: Option<String>,
}

pub(super) async fn update(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<UpdateForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let token = f.token.unwrap_or_default();
    ops::set_token(&shared, &app, &f.accid, &token)
        .await
        .map_err(v1)?;
    ok()
}

/// Parameters naming one account.
#[derive(Deserialize)]
pub struct AccidForm {
    accid: String,
}

pub(super) async fn refresh_token(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<AccidForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let (accid, token) = ops::refresh_token(&shared, &app, &f.accid)
        .await
        .map_err(v1)?;
    Ok(Json(
        json!({"code": 200, "info": {"token": token, "accid": accid}}),
    ))
}

/// Parameters of `block.action`.
#[derive(Deserialize)]
pub struct BlockForm {
    accid: String,
    needkick: Option<String>,
    #[serde(rename = "kickNotifyExt")]
    kick_notify_ext: Option<String>,
}

pub(super) async fn block(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<BlockForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    let kick = match f.needkick.as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(v1(ops::OpError::param("needkick must be true or false"))),
    };
    let ext = f.kick_notify_ext.unwrap_or_default();
    ops::set_blocked(&shared, &app, &f.accid, true, kick.then_some(ext.as_str()))
        .await
        .map_err(v1)?;
    ok()
}

pub(super) async fn unblock(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    f: Result<Form<AccidForm>, FormRejection>,
) -> Reply {
    let f = form(f)?;
    ops::set_blocked(&shared, &app, &f.accid, false, None)
        .await
        .map_err(v1)?;
    ok()
}
