//! Magpie's storage layer: the [`Store`] trait that every backend implements,
//! the records it stores, credentials ([`TokenHash`]), an in-memory store
//! ([`MemoryStore`]), and the conformance suite ([`conformance`]) that every
//! backend runs through [`store_conformance_suite!`].
//!
//! All data is scoped by app: every account method takes the app's id, and no
//! method can reach an account of another app.

pub mod conformance;
mod credential;
mod memory;
mod record;

pub use credential::{generate_key, TokenHash};
pub use memory::MemoryStore;
pub use record::{Account, AccountPatch, App, NewAccount};

use async_trait::async_trait;

/// Errors of any backend, by kind, so callers see the same thing everywhere.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record does not exist.
    #[error("not found")]
    NotFound,
    /// A record with the same key already exists.
    #[error("already exists")]
    Conflict,
    /// The backend failed (I/O, corruption, ...).
    #[error("storage backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps a backend error.
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

/// Result alias of the store layer.
pub type StoreResult<T> = Result<T, StoreError>;

/// Persistent state of apps and accounts.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates an app. `Conflict` if the app key exists.
    async fn create_app(&self, name: &str, app_key: &str, app_secret: &str) -> StoreResult<App>;
    /// Finds an app by its key.
    async fn app_by_key(&self, app_key: &str) -> StoreResult<Option<App>>;
    /// Lists all apps, oldest first.
    async fn list_apps(&self) -> StoreResult<Vec<App>>;
    /// Sets (or, with `None`, resets) an app's multi-device policy JSON.
    /// `NotFound` if there is no such app.
    async fn set_device_policy(&self, app_id: i64, policy: Option<&str>) -> StoreResult<()>;
    /// Sets (or, with `None`, resets) an app's login authentication JSON.
    /// `NotFound` if there is no such app.
    async fn set_login_auth(&self, app_id: i64, settings: Option<&str>) -> StoreResult<()>;
    /// Creates an account in an app. `Conflict` if the accid exists in that app.
    async fn create_account(&self, app_id: i64, account: NewAccount) -> StoreResult<Account>;
    /// Creates many accounts of an app in one transaction: all or none.
    /// `Conflict` if any accid exists (or repeats).
    async fn create_accounts(&self, app_id: i64, accounts: Vec<NewAccount>) -> StoreResult<usize>;
    /// Finds an account of an app.
    async fn account(&self, app_id: i64, accid: &str) -> StoreResult<Option<Account>>;
    /// Replaces an account's token. `NotFound` if there is no such account.
    async fn set_token(&self, app_id: i64, accid: &str, token: TokenHash) -> StoreResult<()>;
    /// Blocks or unblocks an account. `NotFound` if there is no such account.
    async fn set_blocked(&self, app_id: i64, accid: &str, blocked: bool) -> StoreResult<()>;
    /// Changes profile fields; `None` leaves a field alone. `NotFound` if absent.
    async fn update_account(
        &self,
        app_id: i64,
        accid: &str,
        patch: AccountPatch,
    ) -> StoreResult<Account>;
}

/// Milliseconds since the Unix epoch, for record timestamps.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
