//! The app cache: apps with their settings in force, looked up by key on
//! every login and admin call.
//!
//! The admin API invalidates an app whenever it changes its settings. A
//! found app is read again from the store after [`FRESH_FOR`], so a change
//! that another process made (`magpie app rotate-secret`, `magpie app
//! delete`) holds within that time; a miss asks the store, so an app that
//! another process created (`magpie app create`) is seen at once.

use magpie_store::settings::{LoginAuth, MessagingSettings, Policy, Rules};
use magpie_store::{App, AppStore, StoreResult};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An app with the settings in force (its own, or the server's defaults).
pub struct AppCtx {
    /// The stored app.
    pub app: App,
    /// The multi-device policy in force.
    pub policy: Policy,
    /// True when the app has no policy of its own.
    pub default_policy: bool,
    /// The policy as rules, for the session directory.
    pub rules: Rules,
    /// Login authentication settings in force.
    pub login_auth: LoginAuth,
    /// True when the app has no login settings of its own.
    pub default_login_auth: bool,
    /// Messaging limits and retention in force.
    pub messaging: MessagingSettings,
    /// True when the app has no messaging settings of its own.
    pub default_messaging: bool,
}

impl AppCtx {
    fn new(app: App, default_policy: &Policy) -> AppCtx {
        let own_policy = app.settings.device_policy.clone();
        let own_auth = app.settings.login_auth.clone();
        let own_messaging = app.settings.messaging.clone();
        let policy = own_policy.clone().unwrap_or_else(|| default_policy.clone());
        AppCtx {
            rules: policy.rules(),
            policy,
            default_policy: own_policy.is_none(),
            default_login_auth: own_auth.is_none(),
            login_auth: own_auth.unwrap_or_default(),
            default_messaging: own_messaging.is_none(),
            messaging: own_messaging.unwrap_or_default(),
            app,
        }
    }
}

impl std::ops::Deref for AppCtx {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// How long a cached app is used before it is read from the store again.
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// Apps by key, cached, with explicit invalidation.
pub struct AppCache {
    store: Arc<dyn AppStore>,
    default_policy: Policy,
    apps: RwLock<HashMap<String, (Arc<AppCtx>, Instant)>>,
}

impl AppCache {
    /// A cache over an app store; apps without a policy follow `default_policy`.
    pub fn new(store: Arc<dyn AppStore>, default_policy: Policy) -> AppCache {
        AppCache {
            store,
            default_policy,
            apps: RwLock::new(HashMap::new()),
        }
    }

    /// Finds an app by key: from the cache, else from the store.
    pub async fn get(&self, app_key: &str) -> StoreResult<Option<Arc<AppCtx>>> {
        let now = Instant::now();
        if let Some((a, at)) = self.apps.read().get(app_key) {
            if now.duration_since(*at) < FRESH_FOR {
                return Ok(Some(a.clone()));
            }
        }
        {
            // Stale: this lookup refreshes it; lookups meanwhile keep using
            // the entry instead of all reading the store at once.
            let mut apps = self.apps.write();
            if let Some((a, at)) = apps.get_mut(app_key) {
                if now.duration_since(*at) < FRESH_FOR {
                    return Ok(Some(a.clone()));
                }
                *at = now;
            }
        }
        let Some(app) = self.store.app_by_key(app_key).await? else {
            self.apps.write().remove(app_key);
            return Ok(None);
        };
        let ctx = Arc::new(AppCtx::new(app, &self.default_policy));
        self.apps
            .write()
            .insert(ctx.app.app_key.clone(), (ctx.clone(), now));
        Ok(Some(ctx))
    }

    /// Finds an app by id: from the cache when it is there, else from the
    /// store (for the webhook deliverer, whose events name apps by id).
    pub async fn by_id(&self, id: i64) -> StoreResult<Option<Arc<AppCtx>>> {
        let key = self.cached_by_id(id).map(|a| a.app.app_key.clone());
        let key = match key {
            Some(k) => k,
            None => match self
                .store
                .list_apps()
                .await?
                .into_iter()
                .find(|a| a.id == id)
            {
                Some(a) => a.app_key,
                None => return Ok(None),
            },
        };
        self.get(&key).await
    }

    /// The cached app of this id (no store access).
    pub fn cached_by_id(&self, id: i64) -> Option<Arc<AppCtx>> {
        self.apps
            .read()
            .values()
            .find(|(a, _)| a.app.id == id)
            .map(|(a, _)| a.clone())
    }

    /// True when `app_key` is a cached app (no store access): after a
    /// lookup, tells an existing app from an unknown key.
    pub fn is_cached(&self, app_key: &str) -> bool {
        self.apps.read().contains_key(app_key)
    }

    /// Forgets an app, so the next lookup reads it from the store.
    pub fn invalidate(&self, app_key: &str) {
        self.apps.write().remove(app_key);
    }
}
