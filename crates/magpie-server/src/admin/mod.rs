//! The admin HTTP API, compatible with NIM's server API.
//!
//! Every route except `/healthz` is authenticated like NIM's server API (see
//! [`auth`]). V1 routes (`/nimserver/...`) take form-encoded bodies and answer
//! `{"code":..,"info":..}` or `{"code":..,"desc":..}`; V2 routes (`/im/v2/...`)
//! take JSON and answer `{"code":..,"msg":..,"data":..}`. Magpie's own
//! additions live under `/magpie/v1/...` in the V2 shape. As in NIM, the
//! result is in the body's `code`; the HTTP status is 200 for every answered
//! call.

pub mod auth;
mod error;
mod history;
mod msg;
pub mod ops;
pub mod serve;
mod v1;
mod v2;

pub use auth::NonceCache;
pub use error::{ApiError, Flavor};

use crate::state::Shared;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post};
use axum::Router;
use std::sync::Arc;

/// The admin router.
pub fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.config.admin.max_body_bytes.max(v2::MAX_BATCH * 400);
    let signed = app_routes().layer(axum::middleware::from_fn_with_state(
        shared.clone(),
        auth::require_checksum,
    ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(crate::console::router(shared.clone()))
        .merge(signed)
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(limit))
        // A request (a trickled body included) gets its answer within the
        // timeout, or HTTP 408.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_millis(shared.config.admin.request_timeout_ms),
        ))
        .layer(axum::middleware::map_response(json_for_bare_refusals))
        .with_state(shared)
}

/// Every route that acts for one app (the request's `Extension<Arc<AppCtx>>`),
/// without authentication: the admin API puts CheckSum in front of them,
/// the web console an operator's session.
pub(crate) fn app_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/nimserver/user/create.action", post(v1::create))
        .route("/nimserver/user/update.action", post(v1::update))
        .route(
            "/nimserver/user/refreshToken.action",
            post(v1::refresh_token),
        )
        .route("/nimserver/user/block.action", post(v1::block))
        .route("/nimserver/user/unblock.action", post(v1::unblock))
        .route("/nimserver/msg/sendMsg.action", post(msg::send_msg))
        .route(
            "/nimserver/msg/sendBatchMsg.action",
            post(msg::send_batch_msg),
        )
        .route(
            "/nimserver/msg/sendAttachMsg.action",
            post(msg::send_attach_msg),
        )
        .route(
            "/nimserver/msg/sendBatchAttachMsg.action",
            post(msg::send_batch_attach_msg),
        )
        .route("/nimserver/msg/recall.action", post(msg::recall))
        .route(
            "/nimserver/msg/delMsgOneWay.action",
            post(msg::del_msg_one_way),
        )
        .route(
            "/nimserver/msg/delRoamSession.action",
            post(msg::del_roam_session),
        )
        .route("/nimserver/msg/markReadMsg.action", post(msg::mark_read))
        .route(
            "/nimserver/history/querySessionMsg.action",
            post(history::query_session_msg),
        )
        .route(
            "/nimserver/history/querySessionList.action",
            post(history::query_session_list),
        )
        .route(
            "/im/v2/messages/actions/p2p_read_receipt",
            post(msg::v2_receipt),
        )
        .route(
            "/nimserver/user/setSpecialRelation.action",
            post(msg::set_special_relation),
        )
        .route(
            "/nimserver/user/listBlackAndMuteList.action",
            post(msg::list_black_and_mute),
        )
        .route(
            "/im/v2/conversations/{conversation_id}/messages",
            post(msg::v2_send),
        )
        .route("/im/v2/conversations/messages", post(msg::v2_send_batch))
        .route("/im/v2/custom_notification", post(msg::v2_notify))
        .route(
            "/im/v2/custom_notification/batch",
            post(msg::v2_notify_batch),
        )
        .route("/im/v2/accounts", post(v2::create))
        .route("/im/v2/accounts/{account_id}", get(v2::get))
        .route(
            "/im/v2/accounts/{account_id}/actions/refresh_token",
            patch(v2::refresh_token),
        )
        .route(
            "/im/v2/accounts/{account_id}/actions/disable",
            patch(v2::disable),
        )
        .route("/im/v2/accounts/{account_id}/actions/kick", post(v2::kick))
        .route("/magpie/v1/accounts/{account_id}/online", get(v2::online))
        .route("/magpie/v1/accounts/batch", post(v2::create_batch))
        .route(
            "/magpie/v1/app/login_auth",
            get(v2::get_login_auth)
                .put(v2::set_login_auth)
                .delete(v2::reset_login_auth),
        )
        .route(
            "/magpie/v1/app/webhook",
            get(v2::get_webhook)
                .put(v2::set_webhook)
                .delete(v2::reset_webhook),
        )
        .route(
            "/magpie/v1/app/messaging",
            get(v2::get_messaging)
                .put(v2::set_messaging)
                .delete(v2::reset_messaging),
        )
        .route(
            "/magpie/v1/app/messaging/actions/prune",
            post(v2::prune_now),
        )
        .route(
            "/magpie/v1/app/device_policy",
            get(v2::get_policy)
                .put(v2::set_policy)
                .delete(v2::reset_policy),
        )
        .route("/magpie/v1/accounts", get(v2::search))
}

/// The HTTP layer's own refusals (a request over the time limit: 408, a
/// body over the size limit: 413) carry no body; give them NIM's JSON shape
/// so every answer of the admin API parses the same way.
async fn json_for_bare_refusals(resp: axum::response::Response) -> axum::response::Response {
    let desc = match resp.status().as_u16() {
        408 => "the request took longer than admin.request_timeout_ms",
        413 => "the request body is larger than admin.max_body_bytes",
        _ => return resp,
    };
    if resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
    {
        return resp;
    }
    http_error(resp.status(), desc.to_owned())
}

/// An answer with an HTTP error status and NIM's JSON shape:
/// `{"code": <the status>, "desc": ...}`.
fn http_error(status: axum::http::StatusCode, desc: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        status,
        axum::Json(serde_json::json!({"code": status.as_u16(), "desc": desc})),
    )
        .into_response()
}

/// A known path called with the wrong method: HTTP 405 with NIM's JSON shape.
async fn wrong_method(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> axum::response::Response {
    http_error(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} does not take {method}: see docs/admin-api.md for its method",
            uri.path()
        ),
    )
}

/// Unknown paths: HTTP 404 with NIM's JSON shape, naming the path.
async fn not_found(method: axum::http::Method, uri: axum::http::Uri) -> axum::response::Response {
    http_error(
        axum::http::StatusCode::NOT_FOUND,
        format!(
            "no admin API at {method} {}: see docs/admin-api.md for the paths",
            uri.path()
        ),
    )
}

/// Prometheus' scrape: the text exposition, unauthenticated like
/// `/healthz` (the admin listener is kept private).
async fn metrics(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.encode(),
    )
}

async fn healthz(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "status": "ok",
        "sessions": shared.bus.local_sessions().await.unwrap_or(0),
        "connections": shared.connections.load(std::sync::atomic::Ordering::Relaxed),
    }))
}
