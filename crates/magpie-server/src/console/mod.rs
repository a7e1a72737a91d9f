//! The web console, under `/console` on the admin listener.
//!
//! Static files (Preact + htm for the pages, uPlot for the charts, all
//! vendored in `console/` and embedded in the binary; no CDN) and a JSON API
//! under `/console/api`:
//!
//! - `POST /console/api/session` `{"name","password"}` signs an operator in
//!   (created with `magpie operator create`; argon2id hashes) and sets an
//!   HttpOnly, SameSite=Strict session cookie; `GET` says who is signed in,
//!   `DELETE` signs out. Failed sign-ins count against the address's failed
//!   login bucket (`login_limits.failed_per_ip_*`).
//! - `GET|POST /console/api/apps`, `POST /console/api/apps/{key}/rotate-secret`:
//!   the apps.
//! - `/console/api/app/...`: every route of the admin API that acts for one
//!   app ([`crate::admin`]'s V1, V2 and Magpie routes, the same handlers),
//!   for the app named by the `X-Magpie-App` header, authorised by the
//!   session instead of CheckSum.
//!
//! Every API request must carry `X-Magpie-Console: 1`: a cross-site form
//! or link cannot set it, and a script on another origin cannot send it
//! without a CORS preflight, which is never granted. The charts read
//! `/metrics`.

use crate::apps::AppCtx;
use crate::state::Shared;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod assets;

/// The session cookie's name.
pub const COOKIE: &str = "magpie_console";
/// How long a console session lasts.
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at once; the oldest goes first.
const MAX_SESSIONS: usize = 1024;

/// Hashes a console password (argon2id, a random salt), as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing the password: {e}"))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Signed-in operators by session token.
#[derive(Default)]
pub struct ConsoleSessions {
    map: Mutex<HashMap<String, (String, Instant)>>,
}

impl ConsoleSessions {
    fn open(&self, operator: &str) -> String {
        let token = magpie_store::generate_key(32);
        let mut m = self.map.lock();
        let now = Instant::now();
        m.retain(|_, (_, exp)| *exp > now);
        if m.len() >= MAX_SESSIONS {
            if let Some(oldest) = m
                .iter()
                .min_by_key(|(_, (_, e))| *e)
                .map(|(k, _)| k.clone())
            {
                m.remove(&oldest);
            }
        }
        m.insert(token.clone(), (operator.to_owned(), now + SESSION_TTL));
        token
    }

    fn operator(&self, token: &str) -> Option<String> {
        let m = self.map.lock();
        m.get(token)
            .filter(|(_, exp)| *exp > Instant::now())
            .map(|(op, _)| op.clone())
    }

    fn close(&self, token: &str) {
        self.map.lock().remove(token);
    }
}

fn answer(code: u16, msg: &str) -> Response {
    let status = match code {
        401 => StatusCode::UNAUTHORIZED,
        403 => StatusCode::FORBIDDEN,
        _ => StatusCode::OK,
    };
    (status, Json(json!({"code": code, "msg": msg}))).into_response()
}

fn ok(data: Value) -> Response {
    Json(json!({"code": 200, "msg": "ok", "data": data})).into_response()
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// The signed-in operator of a request, or the answer refusing it.
/// (code, message) of a refusal.
type Refused = (u16, &'static str);

fn operator_of(shared: &Shared, headers: &HeaderMap) -> Result<String, Refused> {
    if headers
        .get("x-magpie-console")
        .and_then(|v| v.to_str().ok())
        != Some("1")
    {
        return Err((403, "console API calls need the header X-Magpie-Console: 1"));
    }
    session_token(headers)
        .and_then(|t| shared.console.operator(&t))
        .ok_or((401, "not signed in"))
}

/// The console's routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let for_app = crate::admin::app_routes().layer(axum::middleware::from_fn_with_state(
        shared,
        require_operator_app,
    ));
    Router::new()
        .route(
            "/console",
            get(|| async { axum::response::Redirect::permanent("/console/") }),
        )
        .route("/console/", get(assets::index))
        .route("/console/assets/{file}", get(assets::file))
        .route(
            "/console/api/session",
            post(sign_in).get(who).delete(sign_out),
        )
        .route("/console/api/apps", get(list_apps).post(create_app))
        .route("/console/api/apps/{key}/rotate-secret", post(rotate_secret))
        .nest("/console/api/app", for_app)
}

/// Middleware of `/console/api/app/...`: a signed-in operator, and the
/// app of `X-Magpie-App` in the request's extensions.
async fn require_operator_app(
    State(shared): State<Arc<Shared>>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Err((code, msg)) = operator_of(&shared, req.headers()) {
        return answer(code, msg);
    }
    let Some(key) = req
        .headers()
        .get("x-magpie-app")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return answer(414, "the header X-Magpie-App names the app");
    };
    let app: Arc<AppCtx> = match shared.apps.get(&key).await {
        Ok(Some(a)) => a,
        Ok(None) => return answer(404, "no such app"),
        Err(e) => {
            tracing::error!(error = %e, "app lookup failed");
            return answer(500, "internal error");
        }
    };
    req.extensions_mut().insert(app);
    next.run(req).await
}

#[derive(Deserialize)]
struct SignIn {
    name: String,
    password: String,
}

async fn sign_in(
    State(shared): State<Arc<Shared>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<SignIn>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if headers
        .get("x-magpie-console")
        .and_then(|v| v.to_str().ok())
        != Some("1")
    {
        return answer(403, "console API calls need the header X-Magpie-Console: 1");
    }
    let Ok(Json(b)) = body else {
        return answer(414, "send {\"name\":...,\"password\":...}");
    };
    let ip = peer.ip();
    let now = Instant::now();
    if !shared.failed_by_ip.peek(&ip, now) {
        shared.metrics.rate_limited("console", "");
        return answer(
            416,
            "too many failed sign-ins from this address; wait and retry",
        );
    }
    let op = shared
        .stores
        .operators
        .operator(&b.name)
        .await
        .ok()
        .flatten();
    // A hash is checked even for an unknown name, so both take as long.
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password("no such operator").unwrap_or_default());
    let hash = op
        .as_ref()
        .map(|o| o.password_hash.clone())
        .unwrap_or_else(|| DUMMY.clone());
    let password = b.password.clone();
    let good = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    if !good || op.is_none() {
        shared.failed_by_ip.check(&ip, now);
        tracing::info!(%peer, operator = %b.name.chars().take(64).collect::<String>(), "console sign-in refused");
        return answer(401, "wrong name or password");
    }
    let token = shared.console.open(&b.name);
    tracing::info!(%peer, operator = %b.name, "console sign-in");
    let cookie = format!(
        "{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_TTL.as_secs()
    );
    let mut r = ok(json!({"operator": b.name}));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn who(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match operator_of(&shared, &headers) {
        Ok(op) => ok(json!({"operator": op})),
        Err((code, msg)) => answer(code, msg),
    }
}

async fn sign_out(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err((code, msg)) = operator_of(&shared, &headers) {
        return answer(code, msg);
    }
    if let Some(t) = session_token(&headers) {
        shared.console.close(&t);
    }
    let mut r = ok(json!({}));
    let expired = format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&expired) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn list_apps(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err((code, msg)) = operator_of(&shared, &headers) {
        return answer(code, msg);
    }
    match shared.stores.apps.list_apps().await {
        Ok(apps) => ok(json!({"apps": apps
            .iter()
            .map(|a| json!({"app_key": a.app_key, "name": a.name, "created_at": a.created_at}))
            .collect::<Vec<_>>()})),
        Err(e) => {
            tracing::error!(error = %e, "listing apps failed");
            answer(500, "internal error")
        }
    }
}

#[derive(Deserialize)]
struct NewApp {
    name: String,
}

async fn create_app(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<NewApp>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let op = match operator_of(&shared, &headers) {
        Ok(op) => op,
        Err((code, msg)) => return answer(code, msg),
    };
    let Ok(Json(b)) = body else {
        return answer(414, "send {\"name\":...}");
    };
    let name = b.name.trim();
    if name.is_empty() || name.len() > 128 {
        return answer(414, "the app name must be 1 to 128 characters");
    }
    let (key, secret) = (
        magpie_store::generate_key(16),
        magpie_store::generate_key(16),
    );
    match shared.stores.apps.create_app(name, &key, &secret).await {
        Ok(a) => {
            tracing::info!(operator = %op, app = %a.app_key, name = %a.name, "app created in the console");
            ok(json!({"app_key": a.app_key, "app_secret": a.app_secret, "name": a.name}))
        }
        Err(magpie_store::StoreError::Conflict) => answer(414, "an app with this name exists"),
        Err(e) => {
            tracing::error!(error = %e, "creating an app failed");
            answer(500, "internal error")
        }
    }
}

async fn rotate_secret(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    let op = match operator_of(&shared, &headers) {
        Ok(op) => op,
        Err((code, msg)) => return answer(code, msg),
    };
    let app = match shared.stores.apps.app_by_key(&key).await {
        Ok(Some(a)) => a,
        Ok(None) => return answer(404, "no such app"),
        Err(e) => {
            tracing::error!(error = %e, "app lookup failed");
            return answer(500, "internal error");
        }
    };
    let secret = magpie_store::generate_key(16);
    if let Err(e) = shared.stores.apps.rotate_secret(app.id, &secret).await {
        tracing::error!(error = %e, "rotating a secret failed");
        return answer(500, "internal error");
    }
    shared.apps.invalidate(&key);
    tracing::info!(operator = %op, app = %key, "app secret rotated in the console");
    ok(json!({"app_key": key, "app_secret": secret}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_salt_and_verify() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify_password(&a, "correct horse"));
        assert!(!verify_password(&a, "Correct horse"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn sessions_expire_and_close() {
        let s = ConsoleSessions::default();
        let t = s.open("root");
        assert_eq!(s.operator(&t).as_deref(), Some("root"));
        assert_eq!(s.operator("other"), None);
        s.close(&t);
        assert_eq!(s.operator(&t), None);
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; magpie_console=tok; b=2"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("tok"));
    }
}
