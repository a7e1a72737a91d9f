use crate::policy::{decide, Decision, Device, Rules};
use crate::{
    AccountKey, Attach, ConnId, Delivery, KickTarget, Kicked, KickedSession, Outbox,
    SessionRegistry,
};
use async_trait::async_trait;
use magpie_proto::types::{kick_reason, multispot_type, Kickout, MultiSpot, Presence};
use magpie_proto::ServerFrame;
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

/// The in-process registry: accounts sharded over mutexes. Each account's
/// decision is made while its shard is locked.
pub struct LocalRegistry {
    shards: Vec<Mutex<HashMap<AccountKey, Vec<Session>>>>,
    count: AtomicUsize,
}

impl Default for LocalRegistry {
    fn default() -> Self {
        Self::new()
    }
}

/// Sends every session its multispot notification: the account's current
/// devices other than itself, or no device info at all when `empty`.
fn notify(sessions: &[Session], kind: u32, empty: bool, skip: Option<ConnId>) {
    for s in sessions.iter().filter(|s| Some(s.conn) != skip) {
        let list = if empty {
            Vec::new()
        } else {
            sessions
                .iter()
                .filter(|o| o.conn != s.conn)
                .map(|o| o.presence.clone())
                .collect()
        };
        let body = MultiSpot {
            multi_spot_notiy_type: kind,
            other_clients_pres: list,
        };
        s.outbox
            .deliver(Delivery::Frame(Box::new(ServerFrame::MultiSpot { body })));
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
        rules: &Rules,
    ) -> Attach {
        let mut shard = self.shard(key).lock();
        let sessions = shard.entry(key.clone()).or_default();
        // A connection of the same device id is this device itself.
        let same = sessions
            .iter()
            .position(|s| s.presence.device_id == presence.device_id);
        let others: Vec<Device> = sessions
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != same)
            .map(|(_, s)| Device {
                client_type: s.presence.client_type,
                custom_client_type: s.presence.custom_client_type,
            })
            .collect();
        let new = Device {
            client_type: presence.client_type,
            custom_client_type: presence.custom_client_type,
        };
        let kick = match decide(rules, &others, new) {
            Decision::Refuse => {
                if sessions.is_empty() {
                    shard.remove(key);
                }
                return Attach::Refused;
            }
            Decision::Admit { kick } => kick,
        };
        // `kick` indexes `others`, which skips `same`: map back.
        let to_session = |i: usize| match same {
            Some(s) if i >= s => i + 1,
            _ => i,
        };
        let mut doomed: Vec<usize> = kick.into_iter().map(to_session).collect();
        let replaced = usize::from(same.is_some());
        if let Some(s) = same {
            doomed.push(s);
        }
        doomed.sort_unstable();
        let why = Kickout {
            client_type: presence.client_type,
            reason_code: kick_reason::SAME_GENERIC,
            reason_description: "logged in on another device".into(),
            custom_client_type: presence.custom_client_type,
        };
        let mut kicked = Vec::new();
        for i in doomed.into_iter().rev() {
            let s = sessions.remove(i);
            if Some(i) == same {
                s.outbox.deliver(Delivery::Replaced);
            } else {
                s.outbox.deliver(Delivery::Kick(Box::new(why.clone())));
                kicked.push(s.presence);
            }
        }
        let others = sessions.iter().map(|s| s.presence.clone()).collect();
        sessions.push(Session {
            conn,
            presence,
            outbox,
        });
        notify(sessions, multispot_type::IM_IN, replaced > 0, Some(conn));
        self.count.fetch_add(1, Ordering::Relaxed);
        self.count
            .fetch_sub(replaced + kicked.len(), Ordering::Relaxed);
        Attach::Admitted {
            others,
            replaced,
            kicked,
        }
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
        if removed {
            notify(sessions, multispot_type::IM_OUT, false, None);
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
        if sessions.is_empty() {
            e.remove();
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

    async fn kick(
        &self,
        key: &AccountKey,
        target: KickTarget,
        why: Kickout,
        except: Option<ConnId>,
    ) -> Kicked {
        let mut shard = self.shard(key).lock();
        let mut out = Kicked::default();
        let Entry::Occupied(mut e) = shard.entry(key.clone()) else {
            if let KickTarget::Devices(ids) = target {
                out.not_online = ids;
            }
            return out;
        };
        let hit = |s: &Session| {
            Some(s.conn) != except
                && match &target {
                    KickTarget::All => true,
                    KickTarget::Devices(ids) => ids.contains(&s.presence.device_id),
                    KickTarget::AllBut(ids) => !ids.contains(&s.presence.device_id),
                }
        };
        let sessions = e.get_mut();
        sessions.retain(|s| {
            if hit(s) {
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
        if !out.kicked.is_empty() {
            notify(sessions, multispot_type::IM_OUT, false, None);
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
    use crate::policy::Policy;
    use magpie_proto::types::client_type as ct;

    fn pres(dev: &str, t: u32) -> Presence {
        Presence {
            app_account: "a".into(),
            device_id: dev.into(),
            client_type: t,
            ..Default::default()
        }
    }

    fn admitted(a: Attach) -> (Vec<Presence>, usize, Vec<Presence>) {
        match a {
            Attach::Admitted {
                others,
                replaced,
                kicked,
            } => (others, replaced, kicked),
            Attach::Refused => panic!("refused"),
        }
    }

    fn multispot(d: Delivery) -> MultiSpot {
        match d {
            Delivery::Frame(f) => match *f {
                ServerFrame::MultiSpot { body } => body,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn same_device_replaces_itself_and_others_hear_without_device_info() {
        let r = LocalRegistry::new();
        let all = Policy::All.rules();
        let k = AccountKey::new(1, "a");
        let (o1, mut r1) = outbox(4);
        let (o2, mut r2) = outbox(4);
        let (o3, _r3) = outbox(4);
        let (others, _, _) = admitted(r.attach(&k, 1, pres("d1", ct::PC_WINDOWS), o1, &all).await);
        assert!(others.is_empty());
        let (others, _, _) = admitted(r.attach(&k, 2, pres("d2", ct::IOS), o2, &all).await);
        assert_eq!(others, vec![pres("d1", ct::PC_WINDOWS)]);
        let m = multispot(r1.rx.try_recv().unwrap());
        assert_eq!(
            (m.multi_spot_notiy_type, m.other_clients_pres),
            (2, vec![pres("d2", ct::IOS)])
        );
        let (others, replaced, kicked) =
            admitted(r.attach(&k, 3, pres("d1", ct::PC_WINDOWS), o3, &all).await);
        assert_eq!(
            (others, replaced, kicked.len()),
            (vec![pres("d2", ct::IOS)], 1, 0)
        );
        assert!(matches!(r1.rx.try_recv(), Ok(Delivery::Replaced)));
        let m = multispot(r2.rx.try_recv().unwrap());
        assert_eq!(
            (m.multi_spot_notiy_type, m.other_clients_pres.len()),
            (2, 0)
        );
        assert_eq!(r.session_count(), 2);
        assert!(
            !r.detach(&k, 1).await,
            "the replaced connection is gone already"
        );
        assert!(r.detach(&k, 3).await);
        let m = multispot(r2.rx.try_recv().unwrap());
        assert_eq!(
            (m.multi_spot_notiy_type, m.other_clients_pres.len()),
            (3, 0)
        );
        assert_eq!(r.session_count(), 1);
    }

    #[tokio::test]
    async fn policy_kicks_carry_the_kickers_type_and_reason_1() {
        let r = LocalRegistry::new();
        let single = Policy::Single.rules();
        let k = AccountKey::new(1, "a");
        let (o1, mut r1) = outbox(4);
        let (o2, _r2) = outbox(4);
        admitted(
            r.attach(&k, 1, pres("d1", ct::PC_WINDOWS), o1, &single)
                .await,
        );
        let (others, _, kicked) =
            admitted(r.attach(&k, 2, pres("d2", ct::ANDROID), o2, &single).await);
        assert!(others.is_empty());
        assert_eq!(kicked, vec![pres("d1", ct::PC_WINDOWS)]);
        match r1.rx.try_recv().unwrap() {
            Delivery::Kick(why) => assert_eq!((why.reason_code, why.client_type), (1, ct::ANDROID)),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.session_count(), 1);
    }

    #[tokio::test]
    async fn kick_targets_except_and_slow_readers() {
        let r = LocalRegistry::new();
        let all = Policy::All.rules();
        let k = AccountKey::new(1, "a");
        let (o1, mut r1) = outbox(1);
        let (o2, _r2) = outbox(8);
        admitted(r.attach(&k, 1, pres("d1", ct::WEB), o1.clone(), &all).await);
        admitted(r.attach(&k, 2, pres("d2", ct::WEB), o2, &all).await);
        let _ = r1.rx.try_recv(); // d1's multispot about d2
        let kicked = r
            .kick(
                &k,
                KickTarget::Devices(vec!["d1".into(), "d2".into(), "zz".into()]),
                Kickout::default(),
                Some(2),
            )
            .await;
        assert_eq!(kicked.kicked.len(), 1, "never the kicker itself");
        assert_eq!(kicked.kicked[0].presence.device_id, "d1");
        assert_eq!(kicked.not_online, vec!["d2".to_string(), "zz".to_string()]);
        assert!(matches!(r1.rx.try_recv(), Ok(Delivery::Kick(_))));
        // A full queue raises the close signal instead of waiting.
        assert!(o1.deliver(Delivery::Replaced));
        assert!(!o1.deliver(Delivery::Replaced));
        assert!(r1.closer.is_closed());
        assert_eq!(r.session_count(), 1);
    }
}
