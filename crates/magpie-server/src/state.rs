//! What every connection and admin handler shares.

use crate::config::ServerConfig;
use crate::ratelimit::RateLimiter;
use magpie_bus::policy::{Policy, Rules};
use magpie_bus::SessionRegistry;
use magpie_store::{App, Store, StoreResult};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// An app with its parsed multi-device policy.
pub struct AppCtx {
    /// The stored app.
    pub app: App,
    /// The policy in force (the app's own, or the server's default).
    pub policy: Policy,
    /// True when the app has no policy of its own.
    pub default_policy: bool,
    /// The policy as rules, for the registry.
    pub rules: Rules,
}

impl AppCtx {
    fn new(app: App, default: &Policy) -> AppCtx {
        let own = app.device_policy.as_deref().and_then(|j| {
            serde_json::from_str::<Policy>(j)
                .map_err(|e| tracing::error!(app = %app.app_key, error = %e, "stored device policy unreadable; using the default"))
                .ok()
        });
        let default_policy = own.is_none();
        let policy = own.unwrap_or_else(|| default.clone());
        AppCtx {
            rules: policy.rules(),
            policy,
            default_policy,
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

/// Server-wide state.
pub struct Shared {
    /// The configuration in force.
    pub config: ServerConfig,
    /// Persistent state.
    pub store: Arc<dyn Store>,
    /// Online sessions.
    pub registry: Arc<dyn SessionRegistry>,
    apps: RwLock<HashMap<String, Arc<AppCtx>>>,
    /// Login attempts per account.
    pub account_limiter: RateLimiter<(i64, String)>,
    /// Login attempts per client IP.
    pub ip_limiter: RateLimiter<IpAddr>,
    /// Admin API nonces seen within the CheckSum window.
    pub nonces: crate::admin::NonceCache,
    next_conn: AtomicU64,
    /// Client connections open now.
    pub connections: AtomicUsize,
}

impl Shared {
    /// Shared state over a store and a registry.
    pub fn new(
        config: ServerConfig,
        store: Arc<dyn Store>,
        registry: Arc<dyn SessionRegistry>,
    ) -> Self {
        let l = &config.login_limits;
        Shared {
            account_limiter: RateLimiter::new(l.per_account_per_sec, l.per_account_burst),
            ip_limiter: RateLimiter::new(l.per_ip_per_sec, l.per_ip_burst),
            nonces: crate::admin::NonceCache::new(
                config.admin.checksum_window_secs,
                config.admin.max_nonces,
            ),
            config,
            store,
            registry,
            apps: RwLock::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            connections: AtomicUsize::new(0),
        }
    }

    /// Finds an app by key. Found apps are cached (they change only through
    /// this server's admin API, which refreshes the cache); a miss asks the
    /// store, which sees apps another process added.
    pub async fn app(&self, app_key: &str) -> StoreResult<Option<Arc<AppCtx>>> {
        if let Some(a) = self.apps.read().get(app_key) {
            return Ok(Some(a.clone()));
        }
        let Some(app) = self.store.app_by_key(app_key).await? else {
            return Ok(None);
        };
        Ok(Some(self.cache_app(app)))
    }

    /// Puts a fresh copy of an app into the cache.
    pub fn cache_app(&self, app: App) -> Arc<AppCtx> {
        let ctx = Arc::new(AppCtx::new(app, &self.config.default_device_policy));
        self.apps
            .write()
            .insert(ctx.app.app_key.clone(), ctx.clone());
        ctx
    }

    /// A new connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}
