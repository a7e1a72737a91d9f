//! What every connection and admin handler shares.

use crate::apps::AppCache;
use crate::config::ServerConfig;
use crate::ratelimit::RateLimiter;
use magpie_bus::{Bus, NodeId};
use magpie_store::{AccountId, Stores};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The services a server runs on: its stores, one per concern, and its
/// node's bus (session directory, router, connection table). Pass other
/// implementations (another store backend, a networked directory and
/// router) to [`crate::start`] without touching the server.
#[derive(Clone)]
pub struct Services {
    /// Persistent state.
    pub stores: Stores,
    /// Online sessions and delivery to them.
    pub bus: Bus,
}

impl Services {
    /// Stores with the in-process directory and router on a random node id.
    pub fn in_process(stores: Stores) -> Services {
        Services {
            stores,
            bus: Bus::in_process(NodeId::random()),
        }
    }
}

/// Server-wide state.
pub struct Shared {
    /// The configuration in force.
    pub config: ServerConfig,
    /// Persistent state.
    pub stores: Stores,
    /// Online sessions and delivery to them.
    pub bus: Bus,
    /// Apps with their settings, cached.
    pub apps: AppCache,
    /// Successful logins per account.
    pub account_limiter: RateLimiter<(i64, AccountId)>,
    /// Login attempts per client IP.
    pub ip_limiter: RateLimiter<IpAddr>,
    /// Failed logins per client IP.
    pub failed_by_ip: RateLimiter<IpAddr>,
    /// Failed logins per (app, account, client IP).
    pub failed_by_source: RateLimiter<(i64, AccountId, IpAddr)>,
    /// Signed admin calls per app.
    pub admin_limiter: RateLimiter<i64>,
    /// Client connections that have not logged in, per IP.
    pub pre_login: crate::prelogin::PreLogin,
    /// Third-party login callbacks.
    pub callbacks: crate::callback::Callbacks,
    /// Admin API nonces seen within the CheckSum window.
    pub nonces: crate::admin::NonceCache,
    /// Messages, notifications, sync and history.
    pub messaging: crate::messaging::Messaging,
    /// Client connections open now.
    pub connections: AtomicUsize,
    /// Prometheus metrics (`GET /metrics`).
    pub metrics: crate::metrics::Metrics,
    /// The queue of events for apps' webhooks.
    pub webhooks: crate::webhooks::Webhooks,
    /// Operators signed in to the web console.
    pub console: crate::console::ConsoleSessions,
    /// Most client connections at once: `max_connections`, or what the
    /// open-file limit allows (see [`connection_limit`]).
    pub max_connections: usize,
    /// Woken whenever the last client connection closes.
    no_connections: tokio::sync::Notify,
}

/// Descriptors kept back from client connections for the store (database,
/// journal, lock files), logs and the runtime.
const FD_RESERVE: usize = 64;

/// The client connection limit: `max_connections` when set; otherwise the
/// process's open-file limit (raised to its hard limit first) less a reserve
/// for the store, the admin listener (`admin.max_connections`, and as many
/// again for the LBS when it is served) and login callbacks in flight
/// (`login_callback.max_concurrency`).
pub fn connection_limit(config: &ServerConfig) -> usize {
    if config.max_connections > 0 {
        return config.max_connections;
    }
    let nofile = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let nofile = usize::try_from(nofile).unwrap_or(usize::MAX);
    // The LBS, when served, has as many connections as the admin listener.
    let lbs = if config.lbs.listen.is_empty() {
        0
    } else {
        config.admin.max_connections
    };
    let reserve =
        FD_RESERVE + config.admin.max_connections + lbs + config.login_callback.max_concurrency;
    nofile.saturating_sub(reserve).max(16)
}

impl Shared {
    /// Shared state over the services.
    pub fn new(config: ServerConfig, services: Services) -> Self {
        let max_connections = connection_limit(&config);
        let l = &config.login_limits;
        Shared {
            account_limiter: RateLimiter::new(l.per_account_per_sec, l.per_account_burst),
            ip_limiter: RateLimiter::new(l.per_ip_per_sec, l.per_ip_burst),
            failed_by_ip: RateLimiter::new(l.failed_per_ip_per_sec, l.failed_per_ip_burst),
            failed_by_source: RateLimiter::new(
                l.failed_per_account_ip_per_sec,
                l.failed_per_account_ip_burst,
            ),
            admin_limiter: RateLimiter::new(
                config.admin.per_app_per_sec,
                config.admin.per_app_burst,
            ),
            pre_login: crate::prelogin::PreLogin::new(config.max_pre_login_per_ip),
            callbacks: crate::callback::Callbacks::new(
                config.login_callback.max_concurrency,
                config.login_callback.allow_private_addresses,
            ),
            nonces: crate::admin::NonceCache::new(
                config.admin.checksum_window_secs,
                config.admin.max_nonces,
            ),
            apps: AppCache::new(
                services.stores.apps.clone(),
                config.default_device_policy.clone(),
            ),
            messaging: crate::messaging::Messaging::new(config.message_queue),
            webhooks: crate::webhooks::Webhooks::new(config.webhook.queue),
            console: crate::console::ConsoleSessions::default(),
            config,
            stores: services.stores,
            bus: services.bus,
            connections: AtomicUsize::new(0),
            metrics: crate::metrics::Metrics::new(),
            max_connections,
            no_connections: tokio::sync::Notify::new(),
        }
    }

    /// Counts a connection that ended.
    pub(crate) fn connection_closed(&self) {
        self.metrics.connections.dec();
        if self.connections.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.no_connections.notify_waiters();
        }
    }

    /// Completes once no client connection is open.
    pub async fn until_no_connections(&self) {
        loop {
            let woken = self.no_connections.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.connections.load(Ordering::Acquire) == 0 {
                return;
            }
            woken.await;
        }
    }
}
