//! The session directory: which devices of which account are online, where,
//! and the per-account decision about them.

use crate::account::{AccountSessions, Attach, KickTarget, Kicked, Session};
use crate::addr::{AccountKey, DeviceAddr, NodeId};
use crate::envelope::Envelope;
use crate::policy::Rules;
use crate::BusError;
use async_trait::async_trait;
use magpie_proto::types::{Kickout, Presence};
use parking_lot::Mutex;
use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// Online sessions of all accounts. Every method decides for one account
/// atomically, by applying the [`AccountSessions`] core to that account
/// while holding it exclusively, and returns what to tell which connection
/// as envelopes for a [`Router`](crate::Router); it sends nothing itself.
/// Implementations: [`LocalDirectory`] (in process, shared by the nodes of
/// one process); a networked one keeps the same contract.
#[async_trait]
pub trait SessionDirectory: Send + Sync + 'static {
    /// Registers a logged-in connection and decides, under `rules`, what
    /// happens to the account's other connections ([`AccountSessions::attach`]).
    async fn attach(
        &self,
        key: &AccountKey,
        addr: DeviceAddr,
        presence: Presence,
        rules: &Rules,
    ) -> Result<(Attach, Vec<Envelope>), BusError>;
    /// Removes a connection ([`AccountSessions::detach`]); `None` when it was
    /// not registered (already replaced or kicked).
    async fn detach(
        &self,
        key: &AccountKey,
        addr: DeviceAddr,
    ) -> Result<Option<Vec<Envelope>>, BusError>;
    /// Kicks devices of an account, never `except` ([`AccountSessions::kick`]).
    async fn kick(
        &self,
        key: &AccountKey,
        target: &KickTarget,
        why: &Kickout,
        except: Option<DeviceAddr>,
    ) -> Result<(Kicked, Vec<Envelope>), BusError>;
    /// The account's online devices, oldest first.
    async fn online(&self, key: &AccountKey) -> Result<Vec<Session>, BusError>;
    /// How many sessions the directory holds on one node.
    async fn sessions_on(&self, node: NodeId) -> Result<usize, BusError>;
}

const SHARDS: usize = 64;

#[derive(Default)]
struct Shard {
    accounts: HashMap<AccountKey, AccountSessions>,
    per_node: HashMap<NodeId, usize>,
}

/// The in-process directory: accounts sharded over mutexes; each account's
/// decision is made while its shard is locked.
pub struct LocalDirectory {
    shards: Vec<Mutex<Shard>>,
}

impl Default for LocalDirectory {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        LocalDirectory {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    /// Runs `f` on an account's sessions with its shard locked, keeping the
    /// per-node counts and dropping accounts left without sessions.
    fn update<R>(&self, key: &AccountKey, f: impl FnOnce(&mut AccountSessions) -> R) -> R {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        let mut shard = self.shards[(h.finish() as usize) % SHARDS].lock();
        let Shard { accounts, per_node } = &mut *shard;
        let entry = accounts.entry(key.clone());
        let (out, before, after) = match entry {
            Entry::Occupied(mut e) => {
                let before = nodes(e.get().sessions());
                let out = f(e.get_mut());
                let after = nodes(e.get().sessions());
                if e.get().is_empty() {
                    e.remove();
                }
                (out, before, after)
            }
            Entry::Vacant(v) => {
                let mut fresh = AccountSessions::default();
                let out = f(&mut fresh);
                let after = nodes(fresh.sessions());
                if !fresh.is_empty() {
                    v.insert(fresh);
                }
                (out, Vec::new(), after)
            }
        };
        for n in before {
            if let Some(c) = per_node.get_mut(&n) {
                *c -= 1;
            }
        }
        for n in after {
            *per_node.entry(n).or_default() += 1;
        }
        out
    }
}

fn nodes(s: &[Session]) -> Vec<NodeId> {
    s.iter().map(|s| s.addr.node).collect()
}

#[async_trait]
impl SessionDirectory for LocalDirectory {
    async fn attach(
        &self,
        key: &AccountKey,
        addr: DeviceAddr,
        presence: Presence,
        rules: &Rules,
    ) -> Result<(Attach, Vec<Envelope>), BusError> {
        Ok(self.update(key, |a| a.attach(addr, presence, rules)))
    }

    async fn detach(
        &self,
        key: &AccountKey,
        addr: DeviceAddr,
    ) -> Result<Option<Vec<Envelope>>, BusError> {
        Ok(self.update(key, |a| a.detach(addr)))
    }

    async fn kick(
        &self,
        key: &AccountKey,
        target: &KickTarget,
        why: &Kickout,
        except: Option<DeviceAddr>,
    ) -> Result<(Kicked, Vec<Envelope>), BusError> {
        Ok(self.update(key, |a| a.kick(target, why, except)))
    }

    async fn online(&self, key: &AccountKey) -> Result<Vec<Session>, BusError> {
        Ok(self.update(key, |a| a.sessions().to_vec()))
    }

    async fn sessions_on(&self, node: NodeId) -> Result<usize, BusError> {
        Ok(self
            .shards
            .iter()
            .map(|s| s.lock().per_node.get(&node).copied().unwrap_or(0))
            .sum())
    }
}
