use crate::{
    now_ms, Account, AccountId, AccountPatch, AccountStore, App, AppSettings, AppStore, NewAccount,
    Setting, StoreError, StoreResult, TokenHash,
};
use async_trait::async_trait;
use parking_lot::Mutex;
use std::collections::HashMap;

/// A store in process memory: for tests and throwaway servers. It
/// implements every store trait.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    apps: Vec<App>,
    accounts: HashMap<(i64, AccountId), Account>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_account<T>(
        &self,
        app_id: i64,
        accid: &AccountId,
        f: impl FnOnce(&mut Account) -> T,
    ) -> StoreResult<T> {
        let mut g = self.inner.lock();
        let a = g
            .accounts
            .get_mut(&(app_id, accid.clone()))
            .ok_or(StoreError::NotFound)?;
        a.updated_at = now_ms();
        Ok(f(a))
    }
}

#[async_trait]
impl AppStore for MemoryStore {
    async fn create_app(&self, name: &str, app_key: &str, app_secret: &str) -> StoreResult<App> {
        let mut g = self.inner.lock();
        if g.apps.iter().any(|a| a.app_key == app_key) {
            return Err(StoreError::Conflict);
        }
        let app = App {
            id: g.apps.len() as i64 + 1,
            app_key: app_key.to_owned(),
            app_secret: app_secret.to_owned(),
            name: name.to_owned(),
            created_at: now_ms(),
            settings: AppSettings::default(),
        };
        g.apps.push(app.clone());
        Ok(app)
    }

    async fn app_by_key(&self, app_key: &str) -> StoreResult<Option<App>> {
        Ok(self
            .inner
            .lock()
            .apps
            .iter()
            .find(|a| a.app_key == app_key)
            .cloned())
    }

    async fn list_apps(&self) -> StoreResult<Vec<App>> {
        Ok(self.inner.lock().apps.clone())
    }

    async fn set_setting(&self, app_id: i64, setting: Setting) -> StoreResult<()> {
        let mut g = self.inner.lock();
        let app = g
            .apps
            .iter_mut()
            .find(|a| a.id == app_id)
            .ok_or(StoreError::NotFound)?;
        app.settings.apply(setting);
        Ok(())
    }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn create_account(&self, app_id: i64, account: NewAccount) -> StoreResult<Account> {
        let mut g = self.inner.lock();
        let key = (app_id, account.accid.clone());
        if g.accounts.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        let a = Account::from_new(app_id, account, now_ms());
        g.accounts.insert(key, a.clone());
        Ok(a)
    }

    async fn create_accounts(&self, app_id: i64, accounts: Vec<NewAccount>) -> StoreResult<usize> {
        let mut g = self.inner.lock();
        let mut seen = std::collections::HashSet::new();
        for a in &accounts {
            if !seen.insert(a.accid.clone()) || g.accounts.contains_key(&(app_id, a.accid.clone()))
            {
                return Err(StoreError::Conflict);
            }
        }
        let n = accounts.len();
        let now = now_ms();
        for a in accounts {
            let acct = Account::from_new(app_id, a, now);
            g.accounts.insert((app_id, acct.accid.clone()), acct);
        }
        Ok(n)
    }

    async fn account(&self, app_id: i64, accid: &AccountId) -> StoreResult<Option<Account>> {
        Ok(self
            .inner
            .lock()
            .accounts
            .get(&(app_id, accid.clone()))
            .cloned())
    }

    async fn set_token(&self, app_id: i64, accid: &AccountId, token: TokenHash) -> StoreResult<()> {
        self.with_account(app_id, accid, |a| a.token = token)
    }

    async fn set_blocked(&self, app_id: i64, accid: &AccountId, blocked: bool) -> StoreResult<()> {
        self.with_account(app_id, accid, |a| a.blocked = blocked)
    }

    async fn update_account(
        &self,
        app_id: i64,
        accid: &AccountId,
        patch: AccountPatch,
    ) -> StoreResult<Account> {
        self.with_account(app_id, accid, |a| {
            a.apply(patch);
            a.clone()
        })
    }
}
