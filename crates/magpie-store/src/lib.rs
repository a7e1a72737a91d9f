//! Magpie's storage layer: one trait per concern ([`AppStore`],
//! [`AccountStore`], [`MessageStore`]), the records they store, typed per-app settings
//! ([`settings`]), account ids normalised once ([`AccountId`]), credentials
//! ([`TokenHash`]), the migrations plan every backend follows
//! ([`migration`]), an in-memory backend ([`MemoryStore`]) and the
//! conformance suite every backend runs ([`store_conformance_suite!`]).
//!
//! All data is scoped by app: every account method takes the app's id, and no
//! method can reach an account of another app. Each method is atomic on its
//! own (a backend runs it in one transaction).

pub mod conformance;
mod credential;
mod id;
mod memory;
pub mod message;
pub mod migration;
mod record;
pub mod settings;

pub use credential::{generate_key, TokenHash};
pub use id::{AccountId, AccountIdError};
pub use memory::MemoryStore;
pub use message::{
    Append, Appended, EntryKind, HistoryRange, LastMessage, LogEntry, LogPage, NewMessage, NewNote,
    Pruned, SentMessage, ServerSession, SessionPage, SessionQuery, StoredMessage,
};
pub use record::{
    Account, AccountPatch, App, NewAccount, PushTokenRecord, StickTop, StickTopChange,
    SWITCH_OPEN_DEFAULT,
};
pub use settings::{AppSettings, Setting};

use async_trait::async_trait;
use std::sync::Arc;

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
    /// The backend failed (I/O, corruption, a schema it cannot read, ...).
    #[error("storage backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps a backend error.
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

/// Most sessions one account may have on top: the list is answered in one
/// frame, so it must stay bounded.
pub const MAX_STICK_TOPS: usize = 1000;

/// Result alias of the store layer.
pub type StoreResult<T> = Result<T, StoreError>;

/// Apps and their settings.
#[async_trait]
pub trait AppStore: Send + Sync + 'static {
    /// Creates an app with default settings. `Conflict` if the app key or
    /// the name is taken.
    async fn create_app(&self, name: &str, app_key: &str, app_secret: &str) -> StoreResult<App>;
    /// Finds an app by its key, with its settings.
    async fn app_by_key(&self, app_key: &str) -> StoreResult<Option<App>>;
    /// Lists all apps, oldest first.
    async fn list_apps(&self) -> StoreResult<Vec<App>>;
    /// Sets or resets one group of an app's settings. `NotFound` if there is
    /// no such app.
    async fn set_setting(&self, app_id: i64, setting: Setting) -> StoreResult<()>;
    /// Replaces an app's secret. `NotFound` if there is no such app.
    async fn rotate_secret(&self, app_id: i64, app_secret: &str) -> StoreResult<()>;
    /// Deletes an app with everything it holds: settings, accounts,
    /// blacklists, messages, logs. Its id is never given to another app.
    /// `NotFound` if there is no such app.
    async fn delete_app(&self, app_id: i64) -> StoreResult<()>;
}

/// Accounts of apps.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Creates an account in an app. `Conflict` if the accid exists in that app.
    async fn create_account(&self, app_id: i64, account: NewAccount) -> StoreResult<Account>;
    /// Creates many accounts of an app in one transaction: all or none.
    /// `Conflict` if any accid exists (or repeats).
    async fn create_accounts(&self, app_id: i64, accounts: Vec<NewAccount>) -> StoreResult<usize>;
    /// Finds an account of an app.
    async fn account(&self, app_id: i64, accid: &AccountId) -> StoreResult<Option<Account>>;
    /// Accounts of an app whose id starts with `prefix` (every account for
    /// an empty prefix), in id order, at most `limit`.
    async fn search_accounts(
        &self,
        app_id: i64,
        prefix: &str,
        limit: usize,
    ) -> StoreResult<Vec<Account>>;
    /// Replaces an account's token. `NotFound` if there is no such account.
    async fn set_token(&self, app_id: i64, accid: &AccountId, token: TokenHash) -> StoreResult<()>;
    /// Blocks or unblocks an account. `NotFound` if there is no such account.
    async fn set_blocked(&self, app_id: i64, accid: &AccountId, blocked: bool) -> StoreResult<()>;
    /// Changes profile fields; `None` leaves a field alone. `NotFound` if absent.
    async fn update_account(
        &self,
        app_id: i64,
        accid: &AccountId,
        patch: AccountPatch,
    ) -> StoreResult<Account>;
    /// Puts `target` on `owner`'s blacklist (`on`) or takes it off. Both
    /// accounts must exist (`NotFound`).
    async fn set_blacklisted(
        &self,
        app_id: i64,
        owner: &AccountId,
        target: &AccountId,
        on: bool,
    ) -> StoreResult<()>;
    /// The accounts `owner` has blacklisted.
    async fn blacklist(&self, app_id: i64, owner: &AccountId) -> StoreResult<Vec<AccountId>>;
    /// Sets the account's multiport push switch (1 or 2). `NotFound` if
    /// there is no such account.
    async fn set_switch_open(&self, app_id: i64, accid: &AccountId, value: u32) -> StoreResult<()>;
    /// Changes the account's sessions on top (NIM's stick-top sessions,
    /// kept for all its devices) at `now` (ms) and returns the session's
    /// entry as it now is: `Set` puts a session on top (`Conflict` when the
    /// account has [`MAX_STICK_TOPS`] already), or replaces the extension of
    /// one that is (its `create_time` kept); `Update` replaces the extension
    /// and `Cancel` takes it off (returning the entry it removed), both
    /// `NotFound` when the session is not on top.
    async fn change_stick_top(
        &self,
        app_id: i64,
        accid: &AccountId,
        change: StickTopChange,
        now: i64,
    ) -> StoreResult<StickTop>;
    /// The account's sessions on top, the most recently set or updated first.
    async fn stick_tops(&self, app_id: i64, accid: &AccountId) -> StoreResult<Vec<StickTop>>;
    /// Stores a device's push token, replacing the device's earlier one and
    /// removing any other account's token for that device (the device now
    /// belongs to this account); an empty token removes it. `NotFound` if
    /// there is no such account.
    async fn set_push_token(
        &self,
        app_id: i64,
        accid: &AccountId,
        device_id: &str,
        token: &str,
        cer_name: &str,
    ) -> StoreResult<()>;
    /// The push tokens of the account's devices, by device id.
    async fn push_tokens(
        &self,
        app_id: i64,
        accid: &AccountId,
    ) -> StoreResult<Vec<PushTokenRecord>>;
}

/// Messages, notifications and every account's ordered log (see
/// [`message`]).
#[async_trait]
pub trait MessageStore: Send + Sync + 'static {
    /// Stores a batch in one transaction, in order: each message with its
    /// log entries, each note in its log, each delivered mark. A message or stored notification
    /// whose (sender, client id) is already stored, earlier or in the same
    /// batch, writes nothing and comes back as the stored one with
    /// `duplicate` set. Log positions are assigned in the same transaction,
    /// so a position never exists without what it carries.
    async fn append(&self, batch: Vec<(i64, Append)>) -> StoreResult<Vec<Appended>>;
    /// Up to `limit` entries of an account's log after position `after`.
    async fn log(
        &self,
        app_id: i64,
        accid: &AccountId,
        after: u64,
        limit: u32,
    ) -> StoreResult<LogPage>;
    /// Messages between two accounts kept for history, by time, as `a`
    /// sees them (without those `a` deleted for itself).
    async fn history(
        &self,
        app_id: i64,
        a: &AccountId,
        b: &AccountId,
        range: HistoryRange,
    ) -> StoreResult<Vec<StoredMessage>>;
    /// The message `from` sent with this client id, if stored.
    async fn sent_message(
        &self,
        app_id: i64,
        from: &AccountId,
        client_msg_id: &str,
    ) -> StoreResult<Option<SentMessage>>;
    /// The message with this server id, if stored.
    async fn message_by_id(&self, app_id: i64, server_id: i64) -> StoreResult<Option<SentMessage>>;
    /// A page of the account's server-side sessions (see
    /// [`message::ServerSession`]), newest first. Every message between two
    /// accounts makes (or moves up) a session of each with the other.
    async fn server_sessions(
        &self,
        app_id: i64,
        accid: &AccountId,
        query: SessionQuery,
    ) -> StoreResult<SessionPage>;
    /// One of the account's server-side sessions, if it has it.
    async fn server_session(
        &self,
        app_id: i64,
        accid: &AccountId,
        to_type: u32,
        session_id: &str,
    ) -> StoreResult<Option<ServerSession>>;
    /// Removes messages older than `before_ms` (with their log entries) and
    /// log entries beyond the newest `keep_entries` (at least 1) of each
    /// account of the app. Positions never start over: a log emptied by
    /// retention goes on after its last position.
    async fn prune(
        &self,
        app_id: i64,
        before_ms: Option<i64>,
        keep_entries: Option<u64>,
    ) -> StoreResult<Pruned>;
    /// Removes what deleted apps still hold: messages and log entries that
    /// were being stored when the app was deleted. Returns the rows removed.
    async fn purge_deleted_apps(&self) -> StoreResult<u64>;
}

/// A person who signs in to the web console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    /// Sign-in name.
    pub name: String,
    /// The password as a PHC string (argon2id), never the password.
    pub password_hash: String,
    /// When the operator was created, ms.
    pub created_at: i64,
}

/// Operators of the web console.
#[async_trait]
pub trait OperatorStore: Send + Sync + 'static {
    /// Creates an operator. `Conflict` if the name is taken.
    async fn create_operator(&self, name: &str, password_hash: &str) -> StoreResult<Operator>;
    /// Finds an operator by name.
    async fn operator(&self, name: &str) -> StoreResult<Option<Operator>>;
    /// Replaces an operator's password hash. `NotFound` if there is none.
    async fn set_operator_password(&self, name: &str, password_hash: &str) -> StoreResult<()>;
}

/// An event waiting in the outbox for its app's webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEvent {
    /// Position in the outbox (rises with every event).
    pub id: i64,
    /// The app whose webhook receives it.
    pub app_id: i64,
    /// The JSON body to POST.
    pub body: String,
    /// When it was added, ms.
    pub created_at: i64,
    /// Failed deliveries so far.
    pub attempts: u32,
}

/// The durable outbox of events for apps' webhooks: an event stays until
/// it is delivered (at least once) or given up.
#[async_trait]
pub trait EventOutbox: Send + Sync + 'static {
    /// Adds events `(app id, JSON body)`, due at once, in order.
    async fn push_events(&self, events: Vec<(i64, String)>) -> StoreResult<()>;
    /// Events due at `now_ms`, oldest first, at most `limit`.
    async fn due_events(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<OutboxEvent>>;
    /// The event was delivered: it leaves the outbox.
    async fn event_delivered(&self, id: i64) -> StoreResult<()>;
    /// A delivery failed: counts the attempt; the event is due again at
    /// `next_at_ms`.
    async fn event_failed(&self, id: i64, next_at_ms: i64) -> StoreResult<()>;
    /// Gives up on events added before `before_ms`; the number removed.
    async fn expire_events(&self, before_ms: i64) -> StoreResult<u64>;
}

/// Every store a server uses, one per concern. A backend usually implements
/// them all on one type ([`Stores::new`]); they may also come from different
/// backends.
#[derive(Clone)]
pub struct Stores {
    /// Apps and settings.
    pub apps: Arc<dyn AppStore>,
    /// Accounts.
    pub accounts: Arc<dyn AccountStore>,
    /// Messages and logs.
    pub messages: Arc<dyn MessageStore>,
    /// Events for apps' webhooks.
    pub events: Arc<dyn EventOutbox>,
    /// Operators of the web console.
    pub operators: Arc<dyn OperatorStore>,
}

impl Stores {
    /// Every concern from one backend.
    pub fn new<S: AppStore + AccountStore + MessageStore + EventOutbox + OperatorStore>(
        backend: Arc<S>,
    ) -> Stores {
        Stores {
            operators: backend.clone(),
            apps: backend.clone(),
            accounts: backend.clone(),
            events: backend.clone(),
            messages: backend,
        }
    }
}

/// Milliseconds since the Unix epoch, for record timestamps.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
