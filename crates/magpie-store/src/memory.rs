use crate::{
    now_ms, Account, AccountPatch, App, NewAccount, Store, StoreError, StoreResult, TokenHash,
};
use async_trait::async_trait;
use parking_lot::Mutex;
use std::collections::HashMap;

/// A store in process memory: for tests and throwaway servers.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    apps: Vec<App>,
    accounts: HashMap<(i64, String), Account>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_app(&self, app_id: i64, f: impl FnOnce(&mut App)) -> StoreResult<()> {
        let mut g = self.inner.lock();
        let app = g
            .apps
            .iter_mut()
            .find(|a| a.id == app_id)
            .ok_or(StoreError::NotFound)?;
        f(app);
        Ok(())
    }
}

#[async_trait]
impl Store for MemoryStore {
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
            device_policy: None,
            login_auth: None,
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

    async fn set_device_policy(&self, app_id: i64, policy: Option<&str>) -> StoreResult<()> {
        self.with_app(app_id, |a| a.device_policy = policy.map(str::to_owned))
    }

    async fn set_login_auth(&self, app_id: i64, settings: Option<&str>) -> StoreResult<()> {
        self.with_app(app_id, |a| a.login_auth = settings.map(str::to_owned))
    }

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

    async fn account(&self, app_id: i64, accid: &str) -> StoreResult<Option<Account>> {
        Ok(self
            .inner
            .lock()
            .accounts
            .get(&(app_id, accid.to_owned()))
            .cloned())
    }

    async fn set_token(&self, app_id: i64, accid: &str, token: TokenHash) -> StoreResult<()> {
        let mut g = self.inner.lock();
        let a = g
            .accounts
            .get_mut(&(app_id, accid.to_owned()))
            .ok_or(StoreError::NotFound)?;
        a.token = token;
        a.updated_at = now_ms();
        Ok(())
    }

    async fn set_blocked(&self, app_id: i64, accid: &str, blocked: bool) -> StoreResult<()> {
        let mut g = self.inner.lock();
        let a = g
            .accounts
            .get_mut(&(app_id, accid.to_owned()))
            .ok_or(StoreError::NotFound)?;
        a.blocked = blocked;
        a.updated_at = now_ms();
        Ok(())
    }

    async fn update_account(
        &self,
        app_id: i64,
        accid: &str,
        patch: AccountPatch,
    ) -> StoreResult<Account> {
        let mut g = self.inner.lock();
        let a = g
            .accounts
            .get_mut(&(app_id, accid.to_owned()))
            .ok_or(StoreError::NotFound)?;
        a.apply(patch);
        a.updated_at = now_ms();
        Ok(a.clone())
    }
}
