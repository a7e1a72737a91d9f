//! The multi-device decision engine.
//!
//! Every policy (a per-app setting, defined in `magpie_store::settings`)
//! compiles to [`Rules`]: classes of client types, a maximum per class,
//! classes that exclude each other, a total maximum, and what happens on
//! overflow. [`decide`] takes the rules, the devices already online
//! (oldest first) and the new device, and says whom to kick or whether to
//! refuse. It is pure, so it is property-tested on its own; the registry calls
//! it while the account is locked.

pub use magpie_store::settings::{Overflow, Policy, Rules, MAX_DEVICES};

/// A device, as the engine sees it.
#[derive(Clone, Copy, Debug)]
pub struct Device {
    /// NIMClientType.
    pub client_type: u32,
    /// Custom client type (0 for none).
    pub custom_client_type: u32,
}

/// The engine's verdict on a new login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Admit the new device after kicking these (indexes into `online`).
    Admit {
        /// Indexes of the devices to kick.
        kick: Vec<usize>,
    },
    /// Refuse the new login (417), kicking nobody.
    Refuse,
}

/// Decides a new login. `online` are the account's other devices, oldest
/// first (a connection of the same device id is replaced before this).
pub fn decide(rules: &Rules, online: &[Device], new: Device) -> Decision {
    let class = rules.class_of(new.client_type, new.custom_client_type);
    let max = rules.max_of(class);
    if max == 0 {
        return Decision::Refuse;
    }
    let kick_ok = rules.overflow == Overflow::KickOldest;
    let mut kick = vec![false; online.len()];
    // Classes that exclude the new one.
    for (i, d) in online.iter().enumerate() {
        if rules.excludes(class, rules.class_of(d.client_type, d.custom_client_type)) {
            if !kick_ok {
                return Decision::Refuse;
            }
            kick[i] = true;
        }
    }
    // The new device's own class.
    let same: Vec<usize> = (0..online.len())
        .filter(|&i| {
            !kick[i] && rules.class_of(online[i].client_type, online[i].custom_client_type) == class
        })
        .collect();
    let over = (same.len() + 1).saturating_sub(max as usize);
    if over > 0 {
        if !kick_ok {
            return Decision::Refuse;
        }
        for &i in same.iter().take(over) {
            kick[i] = true;
        }
    }
    // The total.
    let left: Vec<usize> = (0..online.len()).filter(|&i| !kick[i]).collect();
    let over = (left.len() + 1).saturating_sub(rules.max_total as usize);
    if over > 0 {
        if !kick_ok {
            return Decision::Refuse;
        }
        for &i in left.iter().take(over) {
            kick[i] = true;
        }
    }
    Decision::Admit {
        kick: (0..online.len()).filter(|&i| kick[i]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use magpie_proto::types::client_type as ct;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn d(t: u32) -> Device {
        Device {
            client_type: t,
            custom_client_type: 0,
        }
    }

    fn admit(k: &[usize]) -> Decision {
        Decision::Admit { kick: k.to_vec() }
    }

    #[test]
    fn presets() {
        let single = Policy::Single.rules();
        assert_eq!(decide(&single, &[], d(ct::PC_WINDOWS)), admit(&[]));
        assert_eq!(
            decide(&single, &[d(ct::IOS)], d(ct::PC_WINDOWS)),
            admit(&[0])
        );
        let dm = Policy::DesktopMobile.rules();
        assert_eq!(
            decide(&dm, &[d(ct::PC_WINDOWS)], d(ct::PC_WINDOWS)),
            admit(&[0])
        );
        assert_eq!(decide(&dm, &[d(ct::PC_WINDOWS)], d(ct::WEB)), admit(&[0]));
        assert_eq!(decide(&dm, &[d(ct::PC_WINDOWS)], d(ct::MACOS)), admit(&[0]));
        assert_eq!(
            decide(&dm, &[d(ct::PC_WINDOWS)], d(ct::ANDROID)),
            admit(&[])
        );
        assert_eq!(
            decide(&dm, &[d(ct::ANDROID), d(ct::PC_WINDOWS)], d(ct::IOS)),
            admit(&[0])
        );
        let all = Policy::All.rules();
        let ten = vec![d(ct::WEB); 9];
        assert_eq!(decide(&all, &ten, d(ct::WEB)), admit(&[]));
        let ten = vec![d(ct::WEB); 10];
        assert_eq!(
            decide(&all, &ten, d(ct::IOS)),
            admit(&[0]),
            "the 11th kicks the oldest"
        );
    }

    #[test]
    fn custom_rules_exclusion_refusal_and_custom_types() {
        let r = Rules {
            classes: BTreeMap::from([("pc".into(), 2), ("phone".into(), 1), ("kiosk".into(), 1)]),
            client_types: BTreeMap::from([
                (ct::PC_WINDOWS, "pc".into()),
                (ct::ANDROID, "phone".into()),
            ]),
            custom_client_types: BTreeMap::from([(7, "kiosk".into())]),
            default_class: "pc".into(),
            exclusive: vec![("kiosk".into(), "phone".into())],
            max_total: 3,
            overflow: Overflow::Refuse,
        };
        let kiosk = Device {
            client_type: ct::ANDROID,
            custom_client_type: 7,
        };
        assert_eq!(r.class_of(ct::ANDROID, 7), "kiosk");
        assert_eq!(
            decide(&r, &[d(ct::PC_WINDOWS), d(ct::PC_WINDOWS)], d(ct::MACOS)),
            Decision::Refuse
        );
        assert_eq!(decide(&r, &[d(ct::ANDROID)], kiosk), Decision::Refuse);
        assert_eq!(decide(&r, &[d(ct::PC_WINDOWS)], d(ct::ANDROID)), admit(&[]));
        let mut k = r.clone();
        k.overflow = Overflow::KickOldest;
        assert_eq!(
            decide(&k, &[d(ct::PC_WINDOWS), d(ct::ANDROID)], kiosk),
            admit(&[1])
        );
        assert!(Policy::Custom { rules: r.clone() }.validate().is_ok());
        let mut bad = r;
        bad.default_class = "nope".into();
        assert!(Policy::Custom { rules: bad }.validate().is_err());
    }

    fn any_type() -> impl Strategy<Value = u32> {
        prop::sample::select(ct::LOGIN_TYPES.to_vec())
    }

    fn any_rules() -> impl Strategy<Value = Rules> {
        let fixed = prop_oneof![
            Just(Policy::Single.rules()),
            Just(Policy::DesktopMobile.rules()),
            Just(Policy::All.rules()),
        ];
        let custom = (
            prop::collection::vec(0u32..4, 3),
            prop::collection::vec(0usize..3, ct::LOGIN_TYPES.len()),
            any::<bool>(),
            1u32..=10,
            any::<bool>(),
        )
            .prop_map(|(maxes, map, excl, total, refuse)| {
                let names = ["a", "b", "c"];
                Rules {
                    classes: names
                        .iter()
                        .zip(&maxes)
                        .map(|(n, m)| (n.to_string(), *m))
                        .collect(),
                    client_types: ct::LOGIN_TYPES
                        .iter()
                        .zip(&map)
                        .map(|(t, i)| (*t, names[*i].to_string()))
                        .collect(),
                    custom_client_types: BTreeMap::from([(1, "c".to_string())]),
                    default_class: "a".into(),
                    exclusive: if excl {
                        vec![("a".into(), "b".into())]
                    } else {
                        vec![]
                    },
                    max_total: total,
                    overflow: if refuse {
                        Overflow::Refuse
                    } else {
                        Overflow::KickOldest
                    },
                }
            });
        prop_oneof![fixed, custom]
    }

    #[derive(Clone, Debug)]
    enum Op {
        Login {
            device: u8,
            client_type: u32,
            custom: u32,
        },
        Logout {
            device: u8,
        },
        Reconnect {
            device: u8,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..14, any_type(), prop::sample::select(vec![0u32, 0, 1]))
                .prop_map(|(device, client_type, custom)| Op::Login { device, client_type, custom }),
            1 => (0u8..14).prop_map(|device| Op::Logout { device }),
            1 => (0u8..14).prop_map(|device| Op::Reconnect { device }),
        ]
    }

    fn check(r: &Rules, online: &[(u8, Device)]) -> Result<(), TestCaseError> {
        prop_assert!(
            online.len() <= r.max_total as usize,
            "total {} > {}",
            online.len(),
            r.max_total
        );
        for (c, max) in &r.classes {
            let n = online
                .iter()
                .filter(|(_, d)| r.class_of(d.client_type, d.custom_client_type) == c)
                .count();
            prop_assert!(n <= *max as usize, "class {c}: {n} > {max}");
        }
        for (i, (_, a)) in online.iter().enumerate() {
            for (_, b) in &online[i + 1..] {
                let (ca, cb) = (
                    r.class_of(a.client_type, a.custom_client_type),
                    r.class_of(b.client_type, b.custom_client_type),
                );
                prop_assert!(!r.excludes(ca, cb), "{ca} and {cb} online together");
            }
        }
        let mut ids: Vec<u8> = online.iter().map(|(i, _)| *i).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), online.len(), "a device id online twice");
        Ok(())
    }

    proptest! {
        #[test]
        fn invariants_hold_after_every_step(rules in any_rules(), ops in prop::collection::vec(op(), 1..60)) {
            let mut online: Vec<(u8, Device)> = Vec::new();
            for op in ops {
                match op {
                    Op::Login { device, client_type, custom } => {
                        let new = Device { client_type, custom_client_type: custom };
                        // Same device id: replaced, not counted.
                        let replaced: Vec<_> = online.iter().filter(|(i, _)| *i == device).cloned().collect();
                        online.retain(|(i, _)| *i != device);
                        let devices: Vec<Device> = online.iter().map(|(_, d)| *d).collect();
                        match decide(&rules, &devices, new) {
                            Decision::Admit { kick } => {
                                let mut k = kick.clone();
                                k.dedup();
                                prop_assert_eq!(k.len(), kick.len());
                                for &i in kick.iter().rev() {
                                    online.remove(i);
                                }
                                online.push((device, new));
                                prop_assert!(online.iter().any(|(i, _)| *i == device), "admitted but absent");
                            }
                            Decision::Refuse => {
                                prop_assert!(rules.overflow == Overflow::Refuse || rules.max_of(rules.class_of(client_type, custom)) == 0);
                                // A refused login changes nothing (the old connection stays).
                                online.extend(replaced);
                            }
                        }
                    }
                    Op::Logout { device } => online.retain(|(i, _)| *i != device),
                    Op::Reconnect { device } => {
                        // Same device, same type: always admitted in place.
                        if let Some(pos) = online.iter().position(|(i, _)| *i == device) {
                            let (_, dev) = online.remove(pos);
                            let devices: Vec<Device> = online.iter().map(|(_, d)| *d).collect();
                            prop_assert_eq!(decide(&rules, &devices, dev), Decision::Admit { kick: vec![] }, "a reconnect kicked someone");
                            online.push((device, dev));
                        }
                    }
                }
                check(&rules, &online)?;
            }
        }
    }
}
