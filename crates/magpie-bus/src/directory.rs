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
use std::collections::hash_map::Entry;
use std::collections::HashMap;

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
    /// Where the account's online devices are (cheaper than [`SessionDirectory::online`]).
    async fn devices(&self, key: &AccountKey) -> Result<Vec<DeviceAddr>, BusError>;
    /// How many sessions the directory holds on one node.
    async fn sessions_on(&self, node: NodeId) -> Result<usize, BusError>;
}

const SHARDS: usize = 64;

#[derive(Default)]
struct Shard {
    accounts: HashMap<AccountKey, AccountSessions>,
    /// Sessions per node in this shard (a few nodes: a short list).
    per_node: Vec<(NodeId, usize)>,
}

/// Adds (or removes) the sessions to (from) the per-node counts.
fn count(per_node: &mut Vec<(NodeId, usize)>, s: &[Session], add: bool) {
    for n in s.iter().map(|s| s.addr.node) {
        let i = match per_node.iter().position(|(m, _)| *m == n) {
            Some(i) => i,
            None => {
                per_node.push((n, 0));
                per_node.len() - 1
            }
        };
        let c = &mut per_node[i].1;
        *c = if add { *c + 1 } else { c.saturating_sub(1) };
    }
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
    /// per-node counts and dropping accounts left without sessions. The
    /// account's key is hashed once for the shard (a cheap hash: a skewed
    /// spread only adds contention) and once for the map (SipHash).
    fn update<R>(&self, key: &AccountKey, f: impl FnOnce(&mut AccountSessions) -> R) -> R {
        let mut shard = self.shards[shard_of(key)].lock();
        let Shard { accounts, per_node } = &mut *shard;
        match accounts.entry(key.clone()) {
            Entry::Occupied(mut e) => {
                count(per_node, e.get().sessions(), false);
                let out = f(e.get_mut());
                count(per_node, e.get().sessions(), true);
                if e.get().is_empty() {
                    e.remove();
                }
                out
            }
            Entry::Vacant(v) => {
                let mut a = AccountSessions::default();
                let out = f(&mut a);
                count(per_node, a.sessions(), true);
                if !a.is_empty() {
                    v.insert(a);
                }
                out
            }
        }
    }
}

/// FNV-1a over the app id and the account id, to pick a shard.
fn shard_of(key: &AccountKey) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.app_id.to_le_bytes().iter().chain(key.accid.as_bytes()) {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h as usize) % SHARDS
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

    async fn devices(&self, key: &AccountKey) -> Result<Vec<DeviceAddr>, BusError> {
        let shard = self.shards[shard_of(key)].lock();
        Ok(shard
            .accounts
            .get(key)
            .map(|a| a.sessions().iter().map(|s| s.addr).collect())
            .unwrap_or_default())
    }

    async fn sessions_on(&self, node: NodeId) -> Result<usize, BusError> {
        Ok(self
            .shards
            .iter()
            .map(|s| {
                let s = s.lock();
                s.per_node
                    .iter()
                    .find(|(n, _)| *n == node)
                    .map_or(0, |(_, c)| *c)
            })
            .sum())
    }
}
