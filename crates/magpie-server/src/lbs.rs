//! The LBS (location service): NIM SDKs whose init names a private
//! server's `lbs` URL ask it, before logging in, which link addresses to
//! connect to. `GET /lbs?k=APPKEY` answers `{"code":200,"link":[...]}`;
//! an unknown app key gets 403 and no addresses.

use crate::state::Shared;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;

/// The address an HTTP connection was accepted on (set by the server loop).
#[derive(Clone, Copy, Debug)]
pub struct LocalAddr(pub SocketAddr);

#[derive(Deserialize)]
struct Ask {
    /// The app key.
    #[serde(default)]
    k: String,
}

/// The LBS router.
pub fn router(shared: Arc<Shared>, client_port: u16) -> Router {
    Router::new()
        .route("/lbs", get(lbs))
        .with_state((shared, client_port))
}

async fn lbs(
    State((shared, client_port)): State<(Arc<Shared>, u16)>,
    local: Option<Extension<LocalAddr>>,
    Query(ask): Query<Ask>,
) -> Response {
    let refuse = |status: StatusCode, code: u32, desc: &str| {
        (
            status,
            Json(serde_json::json!({"code": code, "desc": desc})),
        )
            .into_response()
    };
    if ask.k.is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            414,
            "the app key is missing: GET /lbs?k=APPKEY",
        );
    }
    match shared.apps.get(&ask.k).await {
        Ok(Some(_)) => {}
        Ok(None) => return refuse(StatusCode::FORBIDDEN, 403, "unknown app key"),
        Err(e) => {
            tracing::error!(error = %e, "LBS: app lookup failed");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, 503, "storage unavailable");
        }
    }
    let links = if shared.config.lbs.links.is_empty() {
        match local {
            // An IPv4 client of a dual-stack listener reached ::ffff:a.b.c.d;
            // it dials a.b.c.d.
            Some(Extension(LocalAddr(a))) => {
                vec![SocketAddr::new(a.ip().to_canonical(), client_port).to_string()]
            }
            None => Vec::new(),
        }
    } else {
        shared.config.lbs.links.clone()
    };
    Json(serde_json::json!({"code": 200, "link": links})).into_response()
}
