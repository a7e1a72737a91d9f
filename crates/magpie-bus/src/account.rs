//! The account-sessions core: one account's online devices and every
//! decision about them (multi-device policy, replacement, kicks, multispot
//! notices), as a pure value. Every directory implementation keeps one
//! [`AccountSessions`] per account and applies these methods to it while it
//! holds that account exclusively (a lock, a compare-and-swap); what to tell
//! which connection comes back as [`Envelope`]s for a router.

use crate::addr::DeviceAddr;
use crate::envelope::{Envelope, Push};
use crate::policy::{decide, Decision, Device, Rules};
use magpie_proto::types::{multispot_type, Kickout, MultiSpot, Presence};
use serde::{Deserialize, Serialize};

/// One online device of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Where its connection is.
    pub addr: DeviceAddr,
    /// What it told at login.
    pub presence: Presence,
}

/// Which devices of an account a kick targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KickTarget {
    /// Every device.
    All,
    /// Only the listed device ids.
    Devices(Vec<String>),
    /// Every device except the listed ones.
    AllBut(Vec<String>),
}

/// The outcome of an attach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attach {
    /// Online.
    Admitted {
        /// The account's other online devices, as the new device should see them.
        others: Vec<Presence>,
        /// The old connection of the same device id, replaced.
        replaced: Option<DeviceAddr>,
        /// Devices kicked by the policy (reason 1).
        kicked: Vec<Session>,
    },
    /// The policy refuses the login (417); nothing changed.
    Refused,
}

/// The outcome of a kick.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kicked {
    /// The sessions that were kicked.
    pub kicked: Vec<Session>,
    /// Device ids named by the target that were not online.
    pub not_online: Vec<String>,
}

/// One account's online devices, oldest login first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSessions {
    sessions: Vec<Session>,
}

impl AccountSessions {
    /// The devices online, oldest first.
    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    /// True when no device is online.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Decides a login under `rules` and applies it: a connection of the same
    /// device id is replaced (it is this device again), devices in the way
    /// are kicked (reason 1, naming the new device) or the login is refused;
    /// the devices that stay hear a multispot ImOut naming the kicked ones
    /// and an ImIn naming the new one.
    pub fn attach(
        &mut self,
        addr: DeviceAddr,
        presence: Presence,
        rules: &Rules,
    ) -> (Attach, Vec<Envelope>) {
        let same = self
            .sessions
            .iter()
            .position(|s| s.presence.device_id == presence.device_id);
        let others: Vec<Device> = self
            .sessions
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != same)
            .map(|(_, s)| device(&s.presence))
            .collect();
        let kick = match decide(rules, &others, device(&presence)) {
            Decision::Refuse => return (Attach::Refused, Vec::new()),
            Decision::Admit { kick } => kick,
        };
        // `kick` indexes `others`, which skips `same`: map back.
        let to_session = |i: usize| match same {
            Some(s) if i >= s => i + 1,
            _ => i,
        };
        let mut doomed: Vec<usize> = kick.into_iter().map(to_session).collect();
        doomed.extend(same);
        doomed.sort_unstable();
        let mut notices = Vec::new();
        let mut kicked = Vec::new();
        let mut replaced = None;
        for i in doomed.into_iter().rev() {
            let s = self.sessions.remove(i);
            if Some(i) == same {
                notices.push(Envelope::new(s.addr, Push::Replaced));
                replaced = Some(s.addr);
            } else {
                let why = Kickout::by_policy(presence.client_type, presence.custom_client_type);
                notices.push(Envelope::new(s.addr, Push::Kickout(why)));
                kicked.push(s);
            }
        }
        let others = self.sessions.iter().map(|s| s.presence.clone()).collect();
        // The devices still online hear who left (the kicked) and who came
        // (nobody named when the same device came back).
        if !kicked.is_empty() {
            let gone: Vec<Presence> = kicked.iter().map(|s| s.presence.clone()).collect();
            self.multispot(multispot_type::IM_OUT, &gone, &mut notices);
        }
        let came = if replaced.is_some() {
            Vec::new()
        } else {
            vec![presence.clone()]
        };
        self.multispot(multispot_type::IM_IN, &came, &mut notices);
        self.sessions.push(Session { addr, presence });
        (
            Attach::Admitted {
                others,
                replaced,
                kicked,
            },
            notices,
        )
    }

    /// Removes a connection; the other devices hear a multispot ImOut
    /// naming it.
    /// `None` when it was not here (already replaced or kicked).
    pub fn detach(&mut self, addr: DeviceAddr) -> Option<Vec<Envelope>> {
        let i = self.sessions.iter().position(|s| s.addr == addr)?;
        let gone = self.sessions.remove(i);
        let mut notices = Vec::new();
        self.multispot(multispot_type::IM_OUT, &[gone.presence], &mut notices);
        Some(notices)
    }

    /// Kicks the targeted devices, never `except` (a kicker's own
    /// connection): each gets the kick-out push; the rest hear a multispot
    /// ImOut naming them.
    pub fn kick(
        &mut self,
        target: &KickTarget,
        why: &Kickout,
        except: Option<DeviceAddr>,
    ) -> (Kicked, Vec<Envelope>) {
        let hit = |s: &Session| {
            Some(s.addr) != except
                && match target {
                    KickTarget::All => true,
                    KickTarget::Devices(ids) => ids.contains(&s.presence.device_id),
                    KickTarget::AllBut(ids) => !ids.contains(&s.presence.device_id),
                }
        };
        let mut out = Kicked::default();
        let mut notices = Vec::new();
        self.sessions.retain(|s| {
            if hit(s) {
                notices.push(Envelope::new(s.addr, Push::Kickout(why.clone())));
                out.kicked.push(s.clone());
                false
            } else {
                true
            }
        });
        if let KickTarget::Devices(ids) = target {
            out.not_online = ids
                .iter()
                .filter(|i| !out.kicked.iter().any(|k| &k.presence.device_id == *i))
                .cloned()
                .collect();
        }
        if !out.kicked.is_empty() {
            let gone: Vec<Presence> = out.kicked.iter().map(|s| s.presence.clone()).collect();
            self.multispot(multispot_type::IM_OUT, &gone, &mut notices);
        }
        (out, notices)
    }

    /// The multispot notices of one change: every device online hears
    /// `kind` with the devices that changed (NIM's meaning: on ImIn the
    /// device that logged in, on ImOut the devices that left; apps add and
    /// remove exactly these), or with no device at all when the same device
    /// came back.
    fn multispot(&self, kind: u32, changed: &[Presence], notices: &mut Vec<Envelope>) {
        for s in &self.sessions {
            let body = MultiSpot {
                multi_spot_notiy_type: kind,
                other_clients_pres: changed.to_vec(),
            };
            notices.push(Envelope::new(s.addr, Push::MultiSpot(body)));
        }
    }
}

fn device(p: &Presence) -> Device {
    Device {
        client_type: p.client_type,
        custom_client_type: p.custom_client_type,
    }
}
