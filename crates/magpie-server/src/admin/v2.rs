//! NIM server API V2: `/im/v2/accounts...`, JSON; and Magpie's `/magpie/v1` additions.

use super::error::{ApiError, Flavor};
use super::ops;
use crate::apps::AppCtx;
use crate::state::Shared;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use magpie_bus::KickTarget;
use magpie_store::settings::{LoginAuth, MessagingSettings, Policy, WebhookSettings};
use magpie_store::{Account, AccountPatch, Setting};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

type Reply = Result<Json<Value>, ApiError>;

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(|e| ApiError {
        flavor: Flavor::V2,
        code: 414,
        msg: format!("bad JSON body: {}", e.body_text()),
    })
}

fn v2(e: ops::OpError) -> ApiError {
    e.to_api(Flavor::V2)
}

fn success(data: Value) -> Reply {
    Ok(Json(json!({"code": 200, "msg": "success", "data": data})))
}

/// `configuration` of a V2 account.
#[derive(Deserialize, Default)]
pub struct Configuration {
    enabled: Option<bool>,
}

/// `user_information` of a V2 account.
#[derive(Deserialize, Default)]
pub struct UserInformation {
    name: Option<String>,
    avatar: Option<String>,
    sign: Option<String>,
    email: Option<String>,
    birthday: Option<String>,
    mobile: Option<String>,
    gender: Option<i32>,
    extension: Option<String>,
}

/// Body of `POST /im/v2/accounts`.
#[derive(Deserialize)]
pub struct CreateBody {
    account_id: String,
    token: Option<String>,
    #[serde(default)]
    configuration: Configuration,
    #[serde(default)]
    user_information: UserInformation,
}

fn user_information(a: &Account) -> Value {
    json!({
        "name": a.name, "avatar": a.icon, "sign": a.sign, "email": a.email,
        "birthday": a.birth, "mobile": a.mobile, "gender": a.gender, "extension": a.ex,
    })
}

pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    b: Result<Json<CreateBody>, JsonRejection>,
) -> Reply {
    let b = body(b)?;
    let u = b.user_information;
    let patch = AccountPatch {
        name: u.name,
        icon: u.avatar,
        sign: u.sign,
        email: u.email,
        birth: u.birthday,
        mobile: u.mobile,
        gender: u.gender,
        ex: u.extension,
    };
    let blocked = b.configuration.enabled == Some(false);
    let (acct, token) = ops::create(&shared, &app, &b.account_id, b.token, patch, blocked)
        .await
        .map_err(v2)?;
    success(json!({
        "account_id": acct.accid,
        "token": token,
        "configuration": {"enabled": !acct.blocked},
        "user_information": user_information(&acct),
    }))
}

pub(super) async fn get(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    Path(account_id): Path<String>,
) -> Reply {
    let a = ops::get(&shared, &app, &account_id).await.map_err(v2)?;
    success(json!({
        "account_id": a.accid,
        "configuration": {"enabled": !a.blocked},
        "user_information": user_information(&a),
        "create_time": a.created_at,
        "update_time": a.updated_at,
    }))
}

pub(super) async fn refresh_token(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    Path(account_id): Path<String>,
) -> Reply {
    let (accid, token) = ops::refresh_token(&shared, &app, &account_id)
        .await
        .map_err(v2)?;
    success(json!({"account_id": accid, "token": token}))
}

/// Body of `.../actions/disable`.
#[derive(Deserialize)]
pub struct DisableBody {
    enabled: bool,
    #[serde(default)]
    need_kick: bool,
    #[serde(default)]
    kick_notify_extension: String,
}

pub(super) async fn disable(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    Path(account_id): Path<String>,
    b: Result<Json<DisableBody>, JsonRejection>,
) -> Reply {
    let b = body(b)?;
    let kick = (!b.enabled && b.need_kick).then_some(b.kick_notify_extension.as_str());
    let accid = ops::set_blocked(&shared, &app, &account_id, !b.enabled, kick)
        .await
        .map_err(v2)?;
    success(json!({"account_id": accid, "enabled": b.enabled}))
}

/// Body of `.../actions/kick`.
#[derive(Deserialize)]
pub struct KickBody {
    #[serde(rename = "type")]
    kind: u32,
    #[serde(default)]
    device_id_list: Vec<String>,
    #[serde(default)]
    kick_notify_extension: String,
}

pub(super) async fn kick(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    Path(account_id): Path<String>,
    b: Result<Json<KickBody>, JsonRejection>,
) -> Reply {
    let b = body(b)?;
    if b.device_id_list.len() > 20 {
        return Err(v2(ops::OpError::param(
            "device_id_list holds at most 20 ids",
        )));
    }
    let target = match b.kind {
        1 => KickTarget::All,
        2 if !b.device_id_list.is_empty() => KickTarget::Devices(b.device_id_list),
        2 => return Err(v2(ops::OpError::param("type 2 needs a device_id_list"))),
        3 => KickTarget::AllBut(b.device_id_list),
        _ => return Err(v2(ops::OpError::param("type must be 1, 2 or 3"))),
    };
    let k = ops::kick(&shared, &app, &account_id, target, &b.kick_notify_extension)
        .await
        .map_err(v2)?;
    let success_list: Vec<Value> = k
        .kicked
        .iter()
        .map(|s| {
            json!({
                "device_id": s.presence.device_id,
                "client_type": s.presence.client_type,
                "consid": s.addr.to_string(),
                "login_time": s.presence.login_time,
            })
        })
        .collect();
    let failed_list: Vec<Value> = k
        .not_online
        .iter()
        .map(|d| json!({"device_id": d, "error_code": 404, "error_msg": "device is not online"}))
        .collect();
    success(json!({"success_list": success_list, "failed_list": failed_list}))
}

/// Magpie addition: the online devices of an account.
pub(super) async fn online(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    Path(account_id): Path<String>,
) -> Reply {
    let (accid, clients) = ops::online(&shared, &app, &account_id).await.map_err(v2)?;
    success(json!({"account_id": accid, "clients": clients}))
}

/// Query of `GET /magpie/v1/accounts`.
#[derive(Deserialize)]
pub struct SearchQuery {
    /// Account ids starting with this (all when empty).
    #[serde(default)]
    prefix: String,
    /// At most this many (1 to 100, default 20).
    limit: Option<usize>,
}

/// Magpie addition: the app's accounts whose id starts with `prefix`, in id
/// order (the console's account search).
pub(super) async fn search(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    q: Result<axum::extract::Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply {
    let q = q
        .map_err(|e| v2(ops::OpError::param(format!("bad query: {e}"))))?
        .0;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(v2(ops::OpError::param("limit must be 1 to 100")));
    }
    let prefix = q.prefix.trim().to_ascii_lowercase();
    let found = shared
        .stores
        .accounts
        .search_accounts(app.id, &prefix, limit)
        .await
        .map_err(|e| v2(ops::OpError::store(e)))?;
    let accounts: Vec<Value> = found
        .iter()
        .map(|a| {
            json!({
                "account_id": a.accid.as_str(),
                "name": a.name,
                "blocked": a.blocked,
                "created_at": a.created_at,
            })
        })
        .collect();
    success(json!({ "accounts": accounts }))
}

fn policy_data(ctx: &AppCtx) -> Value {
    json!({"policy": ctx.policy, "default": ctx.default_policy})
}

/// Magpie addition: the app's multi-device policy.
pub(super) async fn get_policy(Extension(app): Extension<Arc<AppCtx>>) -> Reply {
    success(policy_data(&app))
}

fn internal(e: magpie_store::StoreError) -> ApiError {
    tracing::error!(error = %e, "storing app settings failed");
    ApiError {
        flavor: Flavor::V2,
        code: 500,
        msg: "internal error".into(),
    }
}

/// Stores a settings change, then re-reads the app (the cache is
/// invalidated first, so this and every later lookup see the change).
async fn store_setting(shared: &Shared, app: &AppCtx, s: Setting) -> Result<Arc<AppCtx>, ApiError> {
    shared
        .stores
        .apps
        .set_setting(app.id, s)
        .await
        .map_err(internal)?;
    shared.apps.invalidate(&app.app_key);
    shared
        .apps
        .get(&app.app_key)
        .await
        .map_err(internal)?
        .ok_or_else(|| internal(magpie_store::StoreError::NotFound))
}

async fn store_policy(shared: &Shared, app: &AppCtx, p: Option<Policy>) -> Reply {
    let ctx = store_setting(shared, app, Setting::DevicePolicy(p)).await?;
    tracing::info!(app = %ctx.app_key, policy = ?ctx.policy, "device policy changed");
    success(policy_data(&ctx))
}

/// Magpie addition: sets the app's multi-device policy (new logins only).
pub(super) async fn set_policy(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    b: Result<Json<Policy>, JsonRejection>,
) -> Reply {
    let p = body(b)?;
    p.validate()
        .map_err(|e| v2(ops::OpError::param(format!("invalid policy: {e}"))))?;
    store_policy(&shared, &app, Some(p)).await
}

/// Magpie addition: returns the app to the server's default policy.
pub(super) async fn reset_policy(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
) -> Reply {
    store_policy(&shared, &app, None).await
}

fn login_auth_data(ctx: &AppCtx) -> Value {
    json!({"login_auth": ctx.login_auth, "default": ctx.default_login_auth})
}

/// Magpie addition: the app's login authentication settings.
pub(super) async fn get_login_auth(Extension(app): Extension<Arc<AppCtx>>) -> Reply {
    success(login_auth_data(&app))
}

async fn store_login_auth(shared: &Shared, app: &AppCtx, la: Option<LoginAuth>) -> Reply {
    let ctx = store_setting(shared, app, Setting::LoginAuth(la)).await?;
    tracing::info!(app = %ctx.app_key, auth_types = ?ctx.login_auth.auth_types, "login settings changed");
    success(login_auth_data(&ctx))
}

/// Magpie addition: sets which auth types the app accepts and its login callback.
pub(super) async fn set_login_auth(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    b: Result<Json<LoginAuth>, JsonRejection>,
) -> Reply {
    let la = body(b)?;
    la.validate()
        .map_err(|e| v2(ops::OpError::param(format!("invalid login settings: {e}"))))?;
    if !shared.config.login_callback.allow_private_addresses {
        if let Some(why) = la
            .callback
            .as_ref()
            .and_then(|c| crate::callback::url_refusal(&c.url))
        {
            return Err(v2(ops::OpError::param(format!(
                "invalid login settings: {why}"
            ))));
        }
    }
    store_login_auth(&shared, &app, Some(la)).await
}

/// Magpie addition: back to the default login settings.
pub(super) async fn reset_login_auth(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
) -> Reply {
    store_login_auth(&shared, &app, None).await
}

fn messaging_data(ctx: &AppCtx) -> Value {
    json!({"messaging": ctx.messaging, "default": ctx.default_messaging})
}

/// Magpie addition: the app's messaging limits and retention.
pub(super) async fn get_messaging(Extension(app): Extension<Arc<AppCtx>>) -> Reply {
    success(messaging_data(&app))
}

async fn store_messaging(shared: &Shared, app: &AppCtx, m: Option<MessagingSettings>) -> Reply {
    let ctx = store_setting(shared, app, Setting::Messaging(m)).await?;
    tracing::info!(app = %ctx.app_key, messaging = ?ctx.messaging, "messaging settings changed");
    success(messaging_data(&ctx))
}

/// Magpie addition: sets the app's messaging limits and retention.
pub(super) async fn set_messaging(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    b: Result<Json<MessagingSettings>, JsonRejection>,
) -> Reply {
    let m = body(b)?;
    m.validate().map_err(|e| {
        v2(ops::OpError::param(format!(
            "invalid messaging settings: {e}"
        )))
    })?;
    store_messaging(&shared, &app, Some(m)).await
}

/// Magpie addition: applies the app's retention now; answers what it removed.
pub(super) async fn prune_now(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
) -> Reply {
    let p = crate::retention::prune_app(&shared, &app)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "retention failed");
            v2(ops::OpError {
                code: 500,
                msg: "internal error".into(),
            })
        })?;
    success(json!({"messages": p.messages, "entries": p.entries}))
}

/// Magpie addition: back to the default messaging settings.
pub(super) async fn reset_messaging(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
) -> Reply {
    store_messaging(&shared, &app, None).await
}

fn webhook_data(ctx: &AppCtx) -> Value {
    json!({"webhook": ctx.app.settings.webhook})
}

/// Magpie addition: where the app's event copies go (null: nowhere).
pub(super) async fn get_webhook(Extension(app): Extension<Arc<AppCtx>>) -> Reply {
    success(webhook_data(&app))
}

/// Magpie addition: sets the URL that receives the app's login, logout and
/// kick events.
pub(super) async fn set_webhook(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    b: Result<Json<WebhookSettings>, JsonRejection>,
) -> Reply {
    let w = body(b)?;
    let invalid = |e: String| {
        v2(ops::OpError::param(format!(
            "invalid webhook settings: {e}"
        )))
    };
    w.validate().map_err(invalid)?;
    if !shared.config.login_callback.allow_private_addresses {
        if let Some(why) = crate::callback::url_refusal(&w.url) {
            return Err(invalid(why));
        }
    }
    store_webhook(&shared, &app, Some(w)).await
}

/// Magpie addition: no more event copies.
pub(super) async fn reset_webhook(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
) -> Reply {
    store_webhook(&shared, &app, None).await
}

async fn store_webhook(shared: &Shared, app: &AppCtx, w: Option<WebhookSettings>) -> Reply {
    let ctx = store_setting(shared, app, Setting::Webhook(w)).await?;
    tracing::info!(app = %ctx.app_key, webhook = ?ctx.app.settings.webhook.as_ref().map(|w| &w.url), "webhook changed");
    success(webhook_data(&ctx))
}

/// Most accounts in one batch call.
pub const MAX_BATCH: usize = 500;

/// Body of `POST /magpie/v1/accounts/batch`.
#[derive(Deserialize)]
pub struct BatchBody {
    accounts: Vec<BatchAccount>,
}

/// One account of a batch.
#[derive(Deserialize)]
pub struct BatchAccount {
    account_id: String,
    token: String,
}

/// Magpie addition: creates up to 500 accounts in one transaction.
pub(super) async fn create_batch(
    State(shared): State<Arc<Shared>>,
    Extension(app): Extension<Arc<AppCtx>>,
    b: Result<Json<BatchBody>, JsonRejection>,
) -> Reply {
    let b = body(b)?;
    if b.accounts.is_empty() || b.accounts.len() > MAX_BATCH {
        return Err(v2(ops::OpError::param(format!(
            "a batch holds 1 to {MAX_BATCH} accounts"
        ))));
    }
    let list = b
        .accounts
        .into_iter()
        .map(|a| (a.account_id, a.token))
        .collect();
    let n = ops::create_batch(&shared, &app, list).await.map_err(v2)?;
    success(json!({"created": n}))
}
