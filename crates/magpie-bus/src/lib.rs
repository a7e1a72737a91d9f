//! The session registry: which devices of which account are online, and how
//! to reach each of them.
//!
//! Every multi-device decision for an account is made in one place, inside
//! [`SessionRegistry::attach`], while that account's entry is locked, so two
//! logins of the same account never decide from the same stale view. The
//! in-process implementation ([`LocalRegistry`]) shards accounts over
//! mutexes; a cluster implementation (NATS) will keep the same contract.
//!
//! Delivery to a connection goes through its [`Outbox`]: a bounded queue plus
//! a close signal. A full queue means a slow reader: the registry never waits
//! for it, it asks the connection to close instead.

mod local;
mod outbox;
pub mod policy;

pub use local::LocalRegistry;
pub use outbox::{outbox, Closer, Delivery, Outbox, OutboxReceiver};

use async_trait::async_trait;
use magpie_proto::types::{Kickout, Presence};
use policy::Rules;
use std::sync::Arc;

/// An account, scoped by app.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountKey {
    /// The app's internal id.
    pub app_id: i64,
    /// The account id.
    pub accid: Arc<str>,
}

impl AccountKey {
    /// A key for an account of an app.
    pub fn new(app_id: i64, accid: &str) -> Self {
        AccountKey {
            app_id,
            accid: Arc::from(accid),
        }
    }
}

/// Identifies one connection on this node.
pub type ConnId = u64;

/// The result of attaching a session.
#[derive(Debug)]
pub enum Attach {
    /// Online.
    Admitted {
        /// The account's other online devices, as the new device should see them.
        others: Vec<Presence>,
        /// How many old connections of the same device id were replaced.
        replaced: usize,
        /// Devices kicked by the policy (reason 1).
        kicked: Vec<Presence>,
    },
    /// The policy refuses the login (417); nothing changed.
    Refused,
}

/// Which devices of an account a kick targets.
#[derive(Clone, Debug)]
pub enum KickTarget {
    /// Every device.
    All,
    /// Only the listed device ids.
    Devices(Vec<String>),
    /// Every device except the listed ones.
    AllBut(Vec<String>),
}

/// One kicked connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KickedSession {
    /// Its connection id.
    pub conn: ConnId,
    /// Its device.
    pub presence: Presence,
}

/// The outcome of a kick.
#[derive(Debug, Default)]
pub struct Kicked {
    /// The connections that were kicked.
    pub kicked: Vec<KickedSession>,
    /// Device ids named by the target that were not online.
    pub not_online: Vec<String>,
}

/// Online sessions of all accounts, and delivery to them.
#[async_trait]
pub trait SessionRegistry: Send + Sync + 'static {
    /// Registers a logged-in connection and decides, atomically for the
    /// account, what happens to the account's other connections under
    /// `rules`: a connection of the same device id is replaced silently,
    /// devices in the way are kicked (reason 1) or the login is refused, and
    /// the remaining devices get a multispot notification (ImIn).
    async fn attach(
        &self,
        key: &AccountKey,
        conn: ConnId,
        presence: Presence,
        outbox: Outbox,
        rules: &Rules,
    ) -> Attach;
    /// Removes a connection; the remaining devices get a multispot
    /// notification (ImOut). Returns false when it was not registered
    /// (already replaced or kicked).
    async fn detach(&self, key: &AccountKey, conn: ConnId) -> bool;
    /// The account's online devices.
    async fn online(&self, key: &AccountKey) -> Vec<Presence>;
    /// Kicks devices of an account, never `except` (the kicker's own
    /// connection): each gets the kick-out push, then its connection closes;
    /// the remaining devices get a multispot notification (ImOut).
    async fn kick(
        &self,
        key: &AccountKey,
        target: KickTarget,
        why: Kickout,
        except: Option<ConnId>,
    ) -> Kicked;
    /// Number of registered sessions on this node.
    fn session_count(&self) -> usize;
}
