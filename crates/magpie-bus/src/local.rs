use crate::{
    AccountKey, Attached, ConnId, Delivery, KickTarget, Kicked, KickedSession, Outbox,
    SessionRegistry,
};
use async_trait::async_trait;
use magpie_proto::types::{Kickout, Presence};
use parking_lot::Mutex;
use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

const SHARDS: usize = 64;

struct Session {
    conn: ConnId,
    presence: Presence,
    outbox: Outbox,
}

/// The in-process registry: accounts sharded over mutexes.
pub struct LocalRegistry {
    shards: Vec<Mutex<HashMap<AccountKey, Vec<Session>>>>,
    count: AtomicUsize,
}

impl Default for LocalRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        LocalRegistry {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            count: AtomicUsize::new(0),
        }
    }

    fn shard(&self, key: &AccountKey) -> &Mutex<HashMap<AccountKey, Vec<Session>>> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        &self.shards[(h.finish() as usize) % SHARDS]
    }
}

#[async_trait]
impl SessionRegistry for LocalRegistry {
    async fn attach(
        &self,
        key: &AccountKey,
        conn: ConnId,
        presence: Presence,
        outbox: Outbox,
    ) -> Attached {
        let mut shard = self.shard(key).lock();
        let sessions = shard.entry(key.clone()).or_default();
        // The same device id logging in again replaces its own old connection.
        let before = sessions.len();
        sessions.retain(|s| {
            if s.presence.device_id == presence.device_id {
                s.outbox.deliver(Delivery::Replaced);
                false
            } else {
                true
            }
        });
        let replaced = before - sessions.len();
        let others = sessions.iter().map(|s| s.presence.clone()).collect();
        sessions.push(Session {
            conn,
            presence,
            outbox,
        });
        self.count.fetch_add(1, Ordering::Relaxed);
        self.count.fetch_sub(replaced, Ordering::Relaxed);
        Attached { others, replaced }
    }

    async fn detach(&self, key: &AccountKey, conn: ConnId) -> bool {
        let mut shard = self.shard(key).lock();
        let Entry::Occupied(mut e) = shard.entry(key.clone()) else {
            return false;
        };
        let sessions = e.get_mut();
        let before = sessions.len();
        sessions.retain(|s| s.conn != conn);
        let removed = before != sessions.len();
        if sessions.is_empty() {
            e.remove();
        }
        if removed {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    async fn online(&self, key: &AccountKey) -> Vec<Presence> {
        self.shard(key)
            .lock()
            .get(key)
            .map(|v| v.iter().map(|s| s.presence.clone()).collect())
            .unwrap_or_default()
    }

    async fn kick(&self, key: &AccountKey, target: KickTarget, why: Kickout) -> Kicked {
        let mut shard = self.shard(key).lock();
        let mut out = Kicked::default();
        let Entry::Occupied(mut e) = shard.entry(key.clone()) else {
            if let KickTarget::Devices(ids) = target {
                out.not_online = ids;
            }
            return out;
        };
        let hit = |dev: &str| match &target {
            KickTarget::All => true,
            KickTarget::Devices(ids) => ids.iter().any(|i| i == dev),
            KickTarget::AllBut(ids) => !ids.iter().any(|i| i == dev),
        };
        let sessions = e.get_mut();
        sessions.retain(|s| {
            if hit(&s.presence.device_id) {
                s.outbox.deliver(Delivery::Kick(Box::new(why.clone())));
                out.kicked.push(KickedSession {
                    conn: s.conn,
                    presence: s.presence.clone(),
                });
                false
            } else {
                true
            }
        });
        if let KickTarget::Devices(ids) = &target {
            out.not_online = ids
                .iter()
                .filter(|i| !out.kicked.iter().any(|k| &k.presence.device_id == *i))
                .cloned()
                .collect();
        }
        if sessions.is_empty() {
            e.remove();
        }
        self.count.fetch_sub(out.kicked.len(), Ordering::Relaxed);
        out
    }

    fn session_count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox;

    fn pres(dev: &str) -> Presence {
        Presence {
            app_account: "a".into(),
            device_id: dev.into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn same_device_replaces_its_old_connection_and_others_are_listed() {
        let r = LocalRegistry::new();
        let k = AccountKey::new(1, "a");
        let (o1, mut r1) = outbox(4);
        let (o2, _r2) = outbox(4);
        let (o3, _r3) = outbox(4);
        assert!(r.attach(&k, 1, pres("d1"), o1).await.others.is_empty());
        let a = r.attach(&k, 2, pres("d2"), o2).await;
        assert_eq!(a.others, vec![pres("d1")]);
        let a = r.attach(&k, 3, pres("d1"), o3).await;
        assert_eq!(a.replaced, 1);
        assert_eq!(a.others, vec![pres("d2")]);
        assert!(matches!(r1.rx.try_recv(), Ok(Delivery::Replaced)));
        assert_eq!(r.session_count(), 2);
        assert!(
            !r.detach(&k, 1).await,
            "the replaced connection is gone already"
        );
        assert!(r.detach(&k, 3).await);
        assert_eq!(r.online(&k).await, vec![pres("d2")]);
        assert_eq!(r.session_count(), 1);
    }

    #[tokio::test]
    async fn kick_targets_and_slow_readers() {
        let r = LocalRegistry::new();
        let k = AccountKey::new(1, "a");
        let (o1, mut r1) = outbox(1);
        let (o2, _r2) = outbox(1);
        r.attach(&k, 1, pres("d1"), o1.clone()).await;
        r.attach(&k, 2, pres("d2"), o2).await;
        let kicked = r
            .kick(
                &k,
                KickTarget::Devices(vec!["d1".into(), "zz".into()]),
                Kickout::default(),
            )
            .await;
        assert_eq!(kicked.kicked.len(), 1);
        assert_eq!(kicked.kicked[0].presence, pres("d1"));
        assert_eq!(kicked.not_online, vec!["zz".to_string()]);
        assert!(matches!(r1.rx.try_recv(), Ok(Delivery::Kick(_))));
        // A full queue raises the close signal instead of waiting.
        assert!(o1.deliver(Delivery::Replaced));
        assert!(!o1.deliver(Delivery::Replaced));
        assert!(r1.closer.is_closed());
        let kicked = r
            .kick(
                &k,
                KickTarget::AllBut(vec!["d2".into()]),
                Kickout::default(),
            )
            .await;
        assert!(kicked.kicked.is_empty());
        assert_eq!(r.session_count(), 1);
    }
}
