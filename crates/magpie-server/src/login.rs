//! Login verification: parameters, rate limits, app, account, token, block.

use crate::state::AppCtx;
use crate::state::Shared;
use magpie_proto::frame::LoginRequest;
use magpie_proto::types::{auth_type, client_type};
use magpie_proto::ResCode;
use magpie_store::TokenHash;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::LazyLock;
use std::time::Instant;

/// A refused login: the code for the client and a readable reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// NIM result code.
    pub code: ResCode,
    /// Readable reason, sent to the client.
    pub desc: &'static str,
}

fn refuse<T>(code: ResCode, desc: &'static str) -> Result<T, Refusal> {
    Err(Refusal { code, desc })
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
    if r.auth_type != auth_type::DEFAULT {
        return refuse(
            p,
            "auth_type is not enabled on this server (only 0, static token)",
        );
    }
    Ok(())
}

/// Verifies a login. On success returns the app and the normalised account id.
pub async fn authenticate(
    shared: &Shared,
    r: &LoginRequest,
    ip: IpAddr,
) -> Result<(Arc<AppCtx>, String), Refusal> {
    check_params(r)?;
    let now = Instant::now();
    if !shared.ip_limiter.check(&ip, now) {
        return refuse(ResCode::FREQUENTLY, "too many logins from this address");
    }
    let Ok(app) = shared.app(&r.app_key).await else {
        return refuse(ResCode::TOO_BUSY, "storage unavailable");
    };
    let Some(app) = app else {
        return refuse(ResCode::FORBIDDEN, "unknown app key");
    };
    let accid = r.account.to_ascii_lowercase();
    if !shared.account_limiter.check(&(app.id, accid.clone()), now) {
        return refuse(ResCode::FREQUENTLY, "too many logins for this account");
    }
    let account = match shared.store.account(app.id, &accid).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "account lookup failed");
            return refuse(ResCode::TOO_BUSY, "storage unavailable");
        }
    };
    // An unknown account and a wrong token look the same to the client, and
    // take the same work: an unknown account is checked against a dummy hash.
    static DUMMY: LazyLock<TokenHash> = LazyLock::new(|| TokenHash::new(""));
    let ok = match &account {
        Some(a) => a.token.verify(&r.token),
        None => {
            // Same work as a real check; the answer is no either way.
            std::hint::black_box(DUMMY.verify(&r.token));
            false
        }
    };
    let Some(account) = account.filter(|_| ok && !r.token.is_empty()) else {
        return refuse(ResCode::UID_PASS_ERROR, "wrong account or token");
    };
    if account.blocked {
        return refuse(ResCode::ACCOUNT_BLOCK, "account is blocked");
    }
    Ok((app, accid))
}
