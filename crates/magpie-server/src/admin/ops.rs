//! Account operations shared by the V1 and V2 admin routes.

use super::error::{ApiError, Flavor};
use crate::state::Shared;
use magpie_bus::{AccountKey, BusError, KickTarget, Kicked};
use magpie_proto::types::Kickout;
use magpie_store::{
    generate_key, Account, AccountId, AccountPatch, App, NewAccount, StoreError, TokenHash,
};

/// An operation's failure: a NIM code and a message, shaped later per flavor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpError {
    /// NIM code.
    pub code: u32,
    /// Readable message.
    pub msg: String,
}

impl OpError {
    /// A bad parameter (414).
    pub fn param(msg: impl Into<String>) -> Self {
        OpError {
            code: 414,
            msg: msg.into(),
        }
    }

    /// A store failure: 404 for a missing account, 414 for a taken id, else 500.
    pub fn store(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => OpError {
                code: 404,
                msg: "account does not exist".into(),
            },
            StoreError::Conflict => OpError::param("already register"),
            e => {
                tracing::error!(error = %e, "store failed");
                OpError {
                    code: 500,
                    msg: "internal error".into(),
                }
            }
        }
    }

    fn bus(e: BusError) -> Self {
        tracing::error!(error = %e, "session directory failed");
        OpError {
            code: 500,
            msg: "internal error".into(),
        }
    }

    /// In the given response shape.
    pub fn to_api(self, flavor: Flavor) -> ApiError {
        ApiError {
            flavor,
            code: self.code,
            msg: self.msg,
        }
    }
}

/// Checks and normalises an account id ([`AccountId::parse`]).
pub fn accid(raw: &str) -> Result<AccountId, OpError> {
    AccountId::parse(raw).map_err(|e| OpError::param(e.to_string()))
}

/// Checks a static token: 1 to 128 characters.
pub fn token(t: &str) -> Result<(), OpError> {
    if t.is_empty() || t.chars().count() > 128 {
        return Err(OpError::param("token must be 1 to 128 characters"));
    }
    Ok(())
}

/// Checks profile field lengths (NIM's limits).
pub fn profile(p: &AccountPatch) -> Result<(), OpError> {
    let checks: [(&Option<String>, usize, &str); 7] = [
        (&p.name, 64, "name"),
        (&p.icon, 1024, "icon"),
        (&p.sign, 256, "sign"),
        (&p.email, 64, "email"),
        (&p.birth, 16, "birth"),
        (&p.mobile, 32, "mobile"),
        (&p.ex, 1024, "ex"),
    ];
    for (v, max, name) in checks {
        if v.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(OpError::param(format!(
                "{name} is longer than {max} characters"
            )));
        }
    }
    if p.gender.is_some_and(|g| !(0..=2).contains(&g)) {
        return Err(OpError::param("gender must be 0, 1 or 2"));
    }
    Ok(())
}

/// Creates an account, enabled or already blocked; generates a token when
/// none is given. Returns the account and its token in clear (the only time
/// it is visible).
pub async fn create(
    shared: &Shared,
    app: &App,
    raw_accid: &str,
    given_token: Option<String>,
    patch: AccountPatch,
    blocked: bool,
) -> Result<(Account, String), OpError> {
    let accid = accid(raw_accid)?;
    let tok = match given_token.filter(|t| !t.is_empty()) {
        Some(t) => {
            token(&t)?;
            t
        }
        None => generate_key(16),
    };
    profile(&patch)?;
    let new = NewAccount {
        accid,
        token: TokenHash::new(&tok),
        profile: patch,
        blocked,
    };
    let acct = shared
        .stores
        .accounts
        .create_account(app.id, new)
        .await
        .map_err(OpError::store)?;
    Ok((acct, tok))
}

/// The online devices of an existing account.
pub async fn online(
    shared: &Shared,
    app: &App,
    raw_accid: &str,
) -> Result<(AccountId, Vec<magpie_proto::types::Presence>), OpError> {
    let a = get(shared, app, raw_accid).await?;
    let key = AccountKey::new(app.id, a.accid.clone());
    let sessions = shared.bus.online(&key).await.map_err(OpError::bus)?;
    Ok((a.accid, sessions.into_iter().map(|s| s.presence).collect()))
}

/// Reads an account.
pub async fn get(shared: &Shared, app: &App, raw_accid: &str) -> Result<Account, OpError> {
    let accid = accid(raw_accid)?;
    shared
        .stores
        .accounts
        .account(app.id, &accid)
        .await
        .map_err(OpError::store)?
        .ok_or_else(|| OpError::store(StoreError::NotFound))
}

/// Sets a token chosen by the app server. Online devices stay online; the
/// new token is checked at their next login.
pub async fn set_token(
    shared: &Shared,
    app: &App,
    raw_accid: &str,
    t: &str,
) -> Result<(), OpError> {
    let accid = accid(raw_accid)?;
    token(t)?;
    shared
        .stores
        .accounts
        .set_token(app.id, &accid, TokenHash::new(t))
        .await
        .map_err(OpError::store)
}

/// Generates and sets a new token; returns it in clear.
pub async fn refresh_token(
    shared: &Shared,
    app: &App,
    raw_accid: &str,
) -> Result<(AccountId, String), OpError> {
    let accid = accid(raw_accid)?;
    let t = generate_key(16);
    shared
        .stores
        .accounts
        .set_token(app.id, &accid, TokenHash::new(&t))
        .await
        .map_err(OpError::store)?;
    Ok((accid, t))
}

/// Blocks or unblocks an account; a block may kick its online devices (reason 2).
pub async fn set_blocked(
    shared: &Shared,
    app: &App,
    raw_accid: &str,
    blocked: bool,
    kick_ext: Option<&str>,
) -> Result<AccountId, OpError> {
    let accid = accid(raw_accid)?;
    shared
        .stores
        .accounts
        .set_blocked(app.id, &accid, blocked)
        .await
        .map_err(OpError::store)?;
    let mut kicked = 0;
    if let (true, Some(ext)) = (blocked, kick_ext) {
        let key = AccountKey::new(app.id, accid.clone());
        let k = shared
            .bus
            .kick(&key, &KickTarget::All, &Kickout::by_server(ext), None)
            .await
            .map_err(OpError::bus)?;
        kicked = k.kicked.len();
    }
    if blocked {
        tracing::info!(app = %app.app_key, account = %accid, kicked, "account blocked");
    } else {
        tracing::info!(app = %app.app_key, account = %accid, "account unblocked");
    }
    Ok(accid)
}

/// Kicks devices of an existing account (reason 2, server kick).
pub async fn kick(
    shared: &Shared,
    app: &App,
    raw_accid: &str,
    target: KickTarget,
    ext: &str,
) -> Result<Kicked, OpError> {
    let acct = get(shared, app, raw_accid).await?;
    let key = AccountKey::new(app.id, acct.accid);
    shared
        .bus
        .kick(&key, &target, &Kickout::by_server(ext), None)
        .await
        .map_err(OpError::bus)
}

/// Creates many accounts at once (all or none); returns how many.
pub async fn create_batch(
    shared: &Shared,
    app: &App,
    accounts: Vec<(String, String)>,
) -> Result<usize, OpError> {
    let mut batch = Vec::with_capacity(accounts.len());
    for (raw, tok) in accounts {
        let accid = accid(&raw)?;
        token(&tok)?;
        batch.push(NewAccount::new(accid, TokenHash::new(&tok)));
    }
    shared
        .stores
        .accounts
        .create_accounts(app.id, batch)
        .await
        .map_err(OpError::store)
}
