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
    /// Login attempts per account.
    pub account_limiter: RateLimiter<(i64, AccountId)>,
    /// Login attempts per client IP.
    pub ip_limiter: RateLimiter<IpAddr>,
    /// Third-party login callbacks.
    pub callbacks: crate::callback::Callbacks,
    /// Admin API nonces seen within the CheckSum window.
    pub nonces: crate::admin::NonceCache,
    /// Messages, notifications, sync and history.
    pub messaging: crate::messaging::Messaging,
    /// Client connections open now.
    pub connections: AtomicUsize,
    /// Woken whenever the last client connection closes.
    no_connections: tokio::sync::Notify,
}

impl Shared {
    /// Shared state over the services.
    pub fn new(config: ServerConfig, services: Services) -> Self {
        let l = &config.login_limits;
        Shared {
            account_limiter: RateLimiter::new(l.per_account_per_sec, l.per_account_burst),
            ip_limiter: RateLimiter::new(l.per_ip_per_sec, l.per_ip_burst),
            callbacks: crate::callback::Callbacks::new(config.login_callback.max_concurrency),
            nonces: crate::admin::NonceCache::new(
                config.admin.checksum_window_secs,
                config.admin.max_nonces,
            ),
            apps: AppCache::new(
                services.stores.apps.clone(),
                config.default_device_policy.clone(),
            ),
            messaging: crate::messaging::Messaging::new(config.message_queue),
            config,
            stores: services.stores,
            bus: services.bus,
            connections: AtomicUsize::new(0),
            no_connections: tokio::sync::Notify::new(),
        }
    }

    /// Counts a connection that ended.
    pub(crate) fn connection_closed(&self) {
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
