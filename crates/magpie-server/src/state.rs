//! What every connection and admin handler shares.

use crate::config::ServerConfig;
use crate::ratelimit::RateLimiter;
use magpie_bus::policy::{Policy, Rules};
use magpie_bus::SessionRegistry;
use magpie_store::{App, Store, StoreResult};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Which auth types an app accepts, and its third-party login callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginAuth {
    /// Accepted NIMAuthType values (0 static, 1 dynamic, 2 third-party callback).
    #[serde(default = "default_auth_types")]
    pub auth_types: Vec<u32>,
    /// The third-party callback, required for auth type 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackSettings>,
}

/// Where and how to call the app's login callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackSettings {
    /// http:// or https:// URL the server POSTs to.
    pub url: String,
    /// Longest wait for an answer, ms.
    #[serde(default = "default_callback_timeout")]
    pub timeout_ms: u64,
    /// Let logins through when the callback fails (timeout, error, bad answer).
    #[serde(default)]
    pub fail_open: bool,
}

fn default_auth_types() -> Vec<u32> {
    vec![0, 1]
}

fn default_callback_timeout() -> u64 {
    3000
}

impl Default for LoginAuth {
    fn default() -> Self {
        LoginAuth {
            auth_types: default_auth_types(),
            callback: None,
        }
    }
}

impl LoginAuth {
    /// Checks settings before they are stored.
    pub fn validate(&self) -> Result<(), String> {
        if self.auth_types.is_empty() || self.auth_types.iter().any(|t| *t > 2) {
            return Err("auth_types must list some of 0, 1 and 2".into());
        }
        if self.auth_types.contains(&2) && self.callback.is_none() {
            return Err("auth type 2 needs a callback".into());
        }
        if let Some(c) = &self.callback {
            if !(c.url.starts_with("http://") || c.url.starts_with("https://"))
                || c.url.len() > 2048
            {
                return Err("callback.url must be an http:// or https:// URL".into());
            }
            if c.timeout_ms == 0 || c.timeout_ms > 30_000 {
                return Err("callback.timeout_ms must be 1 to 30000".into());
            }
        }
        Ok(())
    }
}

/// An app with its parsed settings.
pub struct AppCtx {
    /// The stored app.
    pub app: App,
    /// The policy in force (the app's own, or the server's default).
    pub policy: Policy,
    /// True when the app has no policy of its own.
    pub default_policy: bool,
    /// The policy as rules, for the registry.
    pub rules: Rules,
    /// Login authentication settings.
    pub login_auth: LoginAuth,
    /// True when the app has no login settings of its own.
    pub default_login_auth: bool,
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
        let auth = app.login_auth.as_deref().and_then(|j| {
            serde_json::from_str::<LoginAuth>(j)
                .map_err(|e| tracing::error!(app = %app.app_key, error = %e, "stored login settings unreadable; using the defaults"))
                .ok()
        });
        AppCtx {
            rules: policy.rules(),
            policy,
            default_policy,
            default_login_auth: auth.is_none(),
            login_auth: auth.unwrap_or_default(),
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
    /// Third-party login callbacks.
    pub callbacks: crate::callback::Callbacks,
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
            callbacks: crate::callback::Callbacks::new(config.login_callback.max_concurrency),
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
