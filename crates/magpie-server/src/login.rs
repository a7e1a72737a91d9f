//! The login service: a LOGIN's whole answer in one place. Parameter
//! checks, rate limits, the app, the account and its credentials (static
//! token, dynamic token or the app server's callback), the block flag; then
//! the session directory's decision under the app's multi-device policy,
//! with the presence the account's other devices see; then the answer.

use crate::apps::AppCtx;
use crate::state::Shared;
use magpie_bus::{AccountKey, Attach, DeviceAddr};
use magpie_proto::frame::{LoginAck, LoginRequest};
use magpie_proto::types::{auth_type, client_type, Presence};
use magpie_proto::ResCode;
use magpie_store::{Account, AccountId, TokenHash};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::LazyLock;
use std::time::Instant;

/// A logged-in session, as its connection keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedIn {
    /// The account.
    pub key: AccountKey,
    /// The app's key (to find its settings in force).
    pub app_key: Arc<str>,
    /// This device's NIMClientType.
    pub client_type: u32,
    /// This device's custom client type (0 for none).
    pub custom_client_type: u32,
    /// This device's id.
    pub device_id: Arc<str>,
    /// The account's nickname at login (NIM's `from_nick` of its messages).
    pub nick: Arc<str>,
}

/// What a LOGIN gets: the answer, and the session when it succeeded.
#[derive(Debug)]
pub struct LoginOutcome {
    /// The LOGIN_ACK body.
    pub ack: LoginAck,
    /// The session, on success.
    pub session: Option<LoggedIn>,
}

impl LoginOutcome {
    fn refused(r: Refusal) -> LoginOutcome {
        LoginOutcome {
            ack: LoginAck {
                code: r.code,
                desc: r.desc,
                server_time: magpie_store::now_ms(),
                other_clients_pres: Vec::new(),
                switch_open: 0,
            },
            session: None,
        }
    }
}

/// Logs a connection in: authenticates the request, then attaches the
/// connection at `addr` to the account's sessions under the app's policy
/// (kicking or refusing as the policy says, telling the other devices).
pub async fn login(
    shared: &Shared,
    req: LoginRequest,
    peer: SocketAddr,
    addr: DeviceAddr,
) -> LoginOutcome {
    let start = Instant::now();
    let app_key = req.app_key.clone();
    let outcome = login_inner(shared, req, peer, addr).await;
    let code = outcome.ack.code;
    // Only keys of apps that exist become labels.
    let app = if code == ResCode::SUCCESS || shared.apps.is_cached(&app_key) {
        app_key.as_str()
    } else {
        crate::metrics::UNKNOWN_APP
    };
    shared.metrics.login(app, code.0, start.elapsed());
    if code == ResCode::FREQUENTLY {
        shared.metrics.rate_limited("login", app);
    }
    outcome
}

async fn login_inner(
    shared: &Shared,
    req: LoginRequest,
    peer: SocketAddr,
    addr: DeviceAddr,
) -> LoginOutcome {
    let (app, accid, account) = match authenticate(shared, &req, peer).await {
        Ok(v) => v,
        Err(r) => {
            log_refusal(&req, peer, &r);
            return LoginOutcome::refused(r);
        }
    };
    let key = AccountKey::new(app.id, accid);
    let session = LoggedIn {
        key: key.clone(),
        app_key: Arc::from(app.app_key.as_str()),
        client_type: req.client_type,
        custom_client_type: req.custom_client_type,
        device_id: Arc::from(req.device_id.as_str()),
        nick: Arc::from(account.name.as_str()),
    };
    let presence = Presence {
        app_account: key.accid.as_str().to_owned(),
        client_type: req.client_type,
        client_os: req.client_os,
        mac: req.mac,
        device_id: req.device_id,
        login_time: magpie_store::now_ms(),
        custom_tag: req.custom_tag,
        custom_client_type: req.custom_client_type,
    };
    match shared.bus.attach(&key, addr, presence, &app.rules).await {
        Ok(Attach::Admitted { others, kicked, .. }) => {
            tracing::info!(
                %peer,
                app = %app.app_key,
                account = %key.accid,
                client_type = session.client_type,
                device_id = %session.device_id,
                others = others.len(),
                kicked = kicked.len(),
                "login"
            );
            crate::webhooks::login(shared, &app, &session, peer, &req.sdk_version);
            LoginOutcome {
                ack: LoginAck {
                    code: ResCode::SUCCESS,
                    desc: String::new(),
                    server_time: magpie_store::now_ms(),
                    other_clients_pres: others,
                    switch_open: account.switch_open,
                },
                session: Some(session),
            }
        }
        Ok(Attach::Refused) => {
            let r = Refusal {
                code: ResCode::EXIST,
                desc: "the multi-device policy allows no further device now".into(),
            };
            tracing::info!(%peer, app = %app.app_key, account = %key.accid, code = %r.code, reason = %r.desc, "login refused");
            LoginOutcome::refused(r)
        }
        Err(e) => {
            tracing::error!(error = %e, "attaching a session failed");
            LoginOutcome::refused(Refusal {
                code: ResCode::TOO_BUSY,
                desc: "session directory unavailable".into(),
            })
        }
    }
}

/// Logs a refused login at info (never its token). Throttled logins (416)
/// come in floods under attack: one line per hundred, with the running count.
fn log_refusal(req: &LoginRequest, peer: SocketAddr, r: &Refusal) {
    use std::sync::atomic::{AtomicU64, Ordering};
    // A refused request may carry oversized fields: log their first 64 characters.
    let clip = |s: &str| s.chars().take(64).collect::<String>();
    let (app_key, account) = (clip(&req.app_key), clip(&req.account));
    static THROTTLED: AtomicU64 = AtomicU64::new(0);
    if r.code == ResCode::FREQUENTLY {
        let n = THROTTLED.fetch_add(1, Ordering::Relaxed) + 1;
        if n % 100 != 1 {
            return;
        }
        tracing::info!(%peer, app = %app_key, %account, code = %r.code, reason = %r.desc, throttled_total = n, "login throttled");
        return;
    }
    tracing::info!(%peer, app = %app_key, %account, code = %r.code, reason = %r.desc, "login refused");
}

/// A refused login: the code for the client and a readable reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// NIM result code.
    pub code: ResCode,
    /// Readable reason, sent to the client.
    pub desc: String,
}

fn refuse<T>(code: ResCode, desc: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        code,
        desc: desc.into(),
    })
}

/// Longest accepted values of the login fields.
pub mod limits {
    /// App key.
    pub const APP_KEY: usize = 64;
    /// Account id (NIM: 32).
    pub const ACCOUNT: usize = 32;
    /// Token (static tokens are at most 128; dynamic and third-party ones are longer).
    pub const TOKEN: usize = 1024;
    /// Device id.
    pub const DEVICE_ID: usize = 128;
    /// OS string and SDK version.
    pub const SHORT: usize = 128;
    /// Custom tag and login extension.
    pub const CUSTOM: usize = 2048;
}

/// Checks the shape of a login request; no I/O.
pub fn check_params(r: &LoginRequest) -> Result<(), Refusal> {
    let p = ResCode::PARAMETER_ERROR;
    if r.app_key.is_empty() || r.app_key.len() > limits::APP_KEY {
        return refuse(p, "app_key is empty or too long");
    }
    if r.account.is_empty() || r.account.len() > limits::ACCOUNT {
        return refuse(p, "account is empty or longer than 32 bytes");
    }
    if r.token.len() > limits::TOKEN {
        return refuse(p, "token is too long");
    }
    if !client_type::is_login_type(r.client_type) {
        return refuse(p, "client_type is not a NIM client type that can log in");
    }
    if r.device_id.is_empty() || r.device_id.len() > limits::DEVICE_ID {
        return refuse(p, "device_id is empty or too long");
    }
    if r.client_os.len() > limits::SHORT
        || r.mac.len() > limits::SHORT
        || r.sdk_version.len() > limits::SHORT
    {
        return refuse(p, "client_os, mac or sdk_version is too long");
    }
    if r.custom_tag.len() > limits::CUSTOM || r.login_ex.len() > limits::CUSTOM {
        return refuse(p, "custom_tag or login_ex is too long");
    }
    if r.auth_type > auth_type::THIRD_PARTY {
        return refuse(p, "auth_type must be 0, 1 or 2");
    }
    Ok(())
}

/// Verifies a login. On success returns the app, the account id and the
/// account.
///
/// Rate limits (docs/decisions.md, "Login rate limits and lock-out"): failed
/// attempts are counted per source address and per (account, source), and
/// checked before any work; the account's own bucket counts successful
/// logins only, so a stranger who guesses tokens from elsewhere spends his
/// own budget, never the owner's.
pub async fn authenticate(
    shared: &Shared,
    r: &LoginRequest,
    peer: SocketAddr,
) -> Result<(Arc<AppCtx>, AccountId, Account), Refusal> {
    let ip = peer.ip();
    check_params(r)?;
    let now = Instant::now();
    if !shared.ip_limiter.check(&ip, now) {
        return refuse(ResCode::FREQUENTLY, "too many logins from this address");
    }
    if !shared.failed_by_ip.peek(&ip, now) {
        return refuse(
            ResCode::FREQUENTLY,
            "too many failed logins from this address; wait and retry",
        );
    }
    let Ok(app) = shared.apps.get(&r.app_key).await else {
        return refuse(ResCode::TOO_BUSY, "storage unavailable");
    };
    let Some(app) = app else {
        return refuse(ResCode::FORBIDDEN, "unknown app key");
    };
    // An id that cannot exist is refused like an unknown account.
    let Ok(accid) = AccountId::parse(&r.account) else {
        shared.failed_by_ip.check(&ip, now);
        return refuse(ResCode::UID_PASS_ERROR, "wrong account or token");
    };
    let source = (app.id, accid.clone(), ip);
    if !shared.failed_by_source.peek(&source, now) {
        return refuse(
            ResCode::FREQUENTLY,
            "too many failed logins for this account from this address; wait and retry",
        );
    }
    match verify(shared, r, peer, &app, &accid).await {
        Ok(account) => {
            if !shared.account_limiter.check(&(app.id, accid.clone()), now) {
                return refuse(ResCode::FREQUENTLY, "too many logins for this account");
            }
            Ok((app, accid, account))
        }
        Err(refusal) => {
            if refusal.code == ResCode::UID_PASS_ERROR {
                shared.failed_by_ip.check(&ip, now);
                shared.failed_by_source.check(&source, now);
            }
            Err(refusal)
        }
    }
}

/// Checks the credentials of a login for an existing app and a valid id:
/// the account, or why not.
async fn verify(
    shared: &Shared,
    r: &LoginRequest,
    peer: SocketAddr,
    app: &AppCtx,
    accid: &AccountId,
) -> Result<Account, Refusal> {
    let lookup = Instant::now();
    let found = shared.stores.accounts.account(app.id, accid).await;
    shared.metrics.store("account_lookup", lookup.elapsed());
    let account = match found {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "account lookup failed");
            return refuse(ResCode::TOO_BUSY, "storage unavailable");
        }
    };
    if !app.login_auth.auth_types.contains(&r.auth_type) {
        return refuse(
            ResCode::FORBIDDEN,
            format!("auth_type {} is not enabled for this app", r.auth_type),
        );
    }
    match r.auth_type {
        auth_type::DYNAMIC_TOKEN => {
            if account.is_none() {
                return refuse(ResCode::UID_PASS_ERROR, "wrong account or token");
            }
            let cfg = &shared.config.dynamic_token;
            let limits = crate::dynamic::Limits {
                max_ttl_secs: cfg.max_ttl_secs,
                clock_skew_ms: cfg.clock_skew_secs as i64 * 1000,
            };
            let now = magpie_store::now_ms();
            let accids = [accid.as_str(), r.account.as_str()];
            if let Err(e) = crate::dynamic::verify(
                &r.token,
                &app.app_key,
                &app.app_secret,
                &accids,
                now,
                limits,
            ) {
                return refuse(ResCode::UID_PASS_ERROR, e.describe());
            }
        }
        auth_type::THIRD_PARTY => {
            if account.is_none() {
                return refuse(ResCode::UID_PASS_ERROR, "wrong account or token");
            }
            let Some(cb) = &app.login_auth.callback else {
                return refuse(ResCode::FORBIDDEN, "no login callback is configured");
            };
            let event = crate::callback::LoginEvent {
                account: accid.as_str(),
                device_id: &r.device_id,
                client_type: r.client_type,
                ip: peer.ip().to_string(),
                port: peer.port(),
                token: &r.token,
                auth_type: r.auth_type,
                login_ext: &r.login_ex,
                custom_client_type: r.custom_client_type,
                custom_tag: &r.custom_tag,
                auto_login: r.auto_login,
            };
            use crate::callback::Verdict;
            // Boxed: the HTTP call is a large future that every other
            // login would otherwise carry.
            let ask = shared
                .callbacks
                .ask(cb, &app.app_key, &app.app_secret, &event);
            let asked = Instant::now();
            let verdict = Box::pin(ask).await;
            shared
                .metrics
                .callback_seconds
                .observe(asked.elapsed().as_secs_f64());
            if matches!(verdict, Verdict::Failed(_)) {
                shared
                    .metrics
                    .callback_failures
                    .get_or_create(&crate::metrics::CallbackFailureLabels {
                        app: app.app_key.clone(),
                    })
                    .inc();
            }
            match verdict {
                Verdict::Allow => {}
                Verdict::Deny(code, desc) => return refuse(ResCode(code), desc),
                Verdict::Failed(why) if cb.fail_open => {
                    tracing::warn!(app = %app.app_key, reason = %why, "login callback failed; letting the login through (fail-open)");
                }
                Verdict::Failed(why) => {
                    tracing::warn!(app = %app.app_key, reason = %why, "login callback failed; refusing the login (fail-closed)");
                    return refuse(ResCode::TIMEOUT, format!("login callback failed: {why}"));
                }
            }
        }
        _ => {
            // An unknown account and a wrong token look the same to the
            // client, and take the same work: an unknown account is checked
            // against a dummy hash.
            static DUMMY: LazyLock<TokenHash> = LazyLock::new(|| TokenHash::new(""));
            let ok = match &account {
                Some(a) => a.token.verify(&r.token),
                None => {
                    std::hint::black_box(DUMMY.verify(&r.token));
                    false
                }
            };
            if !ok || r.token.is_empty() {
                return refuse(ResCode::UID_PASS_ERROR, "wrong account or token");
            }
        }
    }
    let Some(account) = account else {
        return refuse(ResCode::UID_PASS_ERROR, "wrong account or token");
    };
    if account.blocked {
        return refuse(ResCode::ACCOUNT_BLOCK, "account is blocked");
    }
    Ok(account)
}
