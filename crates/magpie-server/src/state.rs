//! What every connection and admin handler shares.

use crate::config::ServerConfig;
use crate::ratelimit::RateLimiter;
use magpie_bus::SessionRegistry;
use magpie_store::{App, Store, StoreResult};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Server-wide state.
pub struct Shared {
    /// The configuration in force.
    pub config: ServerConfig,
    /// Persistent state.
    pub store: Arc<dyn Store>,
    /// Online sessions.
    pub registry: Arc<dyn SessionRegistry>,
    apps: RwLock<HashMap<String, Arc<App>>>,
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

    /// Finds an app by key. Apps are immutable once created, so found apps are
    /// cached; a miss asks the store, which sees apps another process added.
    pub async fn app(&self, app_key: &str) -> StoreResult<Option<Arc<App>>> {
        if let Some(a) = self.apps.read().get(app_key) {
            return Ok(Some(a.clone()));
        }
        let Some(app) = self.store.app_by_key(app_key).await? else {
            return Ok(None);
        };
        let app = Arc::new(app);
        self.apps.write().insert(app.app_key.clone(), app.clone());
        Ok(Some(app))
    }

    /// A new connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}
