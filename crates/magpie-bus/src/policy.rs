//! Multi-device policies (NIM-REFERENCE.md §4) and the pure decision engine.
//!
//! Every policy compiles to [`Rules`]: classes of client types, a maximum per
//! class, classes that exclude each other, a total maximum, and what happens
//! on overflow. [`decide`] takes the rules, the devices already online
//! (oldest first) and the new device, and says whom to kick or whether to
//! refuse. It is pure, so it is property-tested on its own; the registry calls
//! it while the account is locked.

use magpie_proto::types::client_type as ct;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A per-app multi-device policy, as set through the admin API. In JSON:
/// `{"mode":"single"}`, `{"mode":"desktop_mobile"}`, `{"mode":"all"}` or
/// `{"mode":"custom","rules":{...}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicyRepr", into = "PolicyRepr")]
pub enum Policy {
    /// One device at a time: a new login kicks the old device.
    Single,
    /// At most one desktop (Windows, macOS, Web) and one mobile (Android,
    /// iOS, Windows Phone, HarmonyOS) device.
    DesktopMobile,
    /// Every device may be online, up to 10; an 11th login kicks the oldest.
    #[default]
    All,
    /// Explicit rules.
    Custom {
        /// The rule set.
        rules: Rules,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Single,
    DesktopMobile,
    All,
    Custom,
}

/// The JSON shape of a policy (a tag and, for custom, the rules).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyRepr {
    mode: Mode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rules: Option<Rules>,
}

impl TryFrom<PolicyRepr> for Policy {
    type Error = String;
    fn try_from(r: PolicyRepr) -> Result<Policy, String> {
        match (r.mode, r.rules) {
            (Mode::Custom, Some(rules)) => Ok(Policy::Custom { rules }),
            (Mode::Custom, None) => Err("mode custom needs rules".into()),
            (_, Some(_)) => Err("only mode custom takes rules".into()),
            (Mode::Single, None) => Ok(Policy::Single),
            (Mode::DesktopMobile, None) => Ok(Policy::DesktopMobile),
            (Mode::All, None) => Ok(Policy::All),
        }
    }
}

impl From<Policy> for PolicyRepr {
    fn from(p: Policy) -> PolicyRepr {
        let (mode, rules) = match p {
            Policy::Single => (Mode::Single, None),
            Policy::DesktopMobile => (Mode::DesktopMobile, None),
            Policy::All => (Mode::All, None),
            Policy::Custom { rules } => (Mode::Custom, Some(rules)),
        };
        PolicyRepr { mode, rules }
    }
}

/// What happens when a login would exceed a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// Kick the oldest devices that are in the way (reason 1).
    KickOldest,
    /// Refuse the new login with 417.
    Refuse,
}

/// An explicit multi-device rule set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Class name → most devices of that class online at once.
    pub classes: BTreeMap<String, u32>,
    /// NIMClientType → class.
    #[serde(default)]
    pub client_types: BTreeMap<u32, String>,
    /// Custom client type → class; wins over `client_types`.
    #[serde(default)]
    pub custom_client_types: BTreeMap<u32, String>,
    /// The class of a device no mapping names.
    pub default_class: String,
    /// Pairs of classes that may not be online together.
    #[serde(default)]
    pub exclusive: Vec<(String, String)>,
    /// Most devices online at once, all classes together.
    pub max_total: u32,
    /// What a login past a limit does.
    pub overflow: Overflow,
}

/// The most devices one account may have online under any policy.
pub const MAX_DEVICES: u32 = 10;

impl Policy {
    /// The rules this policy stands for.
    pub fn rules(&self) -> Rules {
        let one = |name: &str, max: u32| BTreeMap::from([(name.to_owned(), max)]);
        match self {
            Policy::Single => Rules {
                classes: one("any", 1),
                client_types: BTreeMap::new(),
                custom_client_types: BTreeMap::new(),
                default_class: "any".into(),
                exclusive: Vec::new(),
                max_total: 1,
                overflow: Overflow::KickOldest,
            },
            Policy::DesktopMobile => {
                let mut types = BTreeMap::new();
                for t in [ct::PC_WINDOWS, ct::MACOS, ct::WEB] {
                    types.insert(t, "desktop".to_owned());
                }
                for t in [ct::ANDROID, ct::IOS, ct::WINDOWS_PHONE, ct::HARMONY_OS] {
                    types.insert(t, "mobile".to_owned());
                }
                Rules {
                    classes: BTreeMap::from([("desktop".into(), 1), ("mobile".into(), 1)]),
                    client_types: types,
                    custom_client_types: BTreeMap::new(),
                    default_class: "desktop".into(),
                    exclusive: Vec::new(),
                    max_total: 2,
                    overflow: Overflow::KickOldest,
                }
            }
            Policy::All => Rules {
                classes: one("any", MAX_DEVICES),
                client_types: BTreeMap::new(),
                custom_client_types: BTreeMap::new(),
                default_class: "any".into(),
                exclusive: Vec::new(),
                max_total: MAX_DEVICES,
                overflow: Overflow::KickOldest,
            },
            Policy::Custom { rules } => rules.clone(),
        }
    }

    /// Checks a policy before it is stored.
    pub fn validate(&self) -> Result<(), String> {
        let Policy::Custom { rules: r } = self else {
            return Ok(());
        };
        if r.classes.is_empty() {
            return Err("rules need at least one class".into());
        }
        let known = |c: &String| r.classes.contains_key(c);
        if !known(&r.default_class) {
            return Err(format!(
                "default_class {:?} is not a class",
                r.default_class
            ));
        }
        for c in r
            .client_types
            .values()
            .chain(r.custom_client_types.values())
        {
            if !known(c) {
                return Err(format!("class {c:?} is mapped but not defined"));
            }
        }
        for t in r.client_types.keys() {
            if !ct::is_login_type(*t) {
                return Err(format!("{t} is not a NIM client type that can log in"));
            }
        }
        for (a, b) in &r.exclusive {
            if !known(a) || !known(b) {
                return Err(format!(
                    "exclusive pair ({a:?}, {b:?}) names an undefined class"
                ));
            }
        }
        if r.max_total == 0 || r.max_total > MAX_DEVICES {
            return Err(format!("max_total must be 1 to {MAX_DEVICES}"));
        }
        if r.classes.values().any(|m| *m > MAX_DEVICES) {
            return Err(format!("a class maximum is at most {MAX_DEVICES}"));
        }
        Ok(())
    }
}

impl Rules {
    /// The class of a device.
    pub fn class_of(&self, client_type: u32, custom_client_type: u32) -> &str {
        if custom_client_type > 0 {
            if let Some(c) = self.custom_client_types.get(&custom_client_type) {
                return c;
            }
        }
        self.client_types
            .get(&client_type)
            .unwrap_or(&self.default_class)
    }

    fn excludes(&self, a: &str, b: &str) -> bool {
        self.exclusive
            .iter()
            .any(|(x, y)| (x == a && y == b) || (x == b && y == a))
    }

    fn max_of(&self, class: &str) -> u32 {
        self.classes.get(class).copied().unwrap_or(0)
    }
}

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
    use proptest::prelude::*;

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

    #[test]
    fn policies_round_trip_as_json() {
        for p in [
            Policy::Single,
            Policy::DesktopMobile,
            Policy::All,
            Policy::Custom {
                rules: Policy::DesktopMobile.rules(),
            },
        ] {
            let j = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Policy>(&j).unwrap(), p);
        }
        assert_eq!(
            serde_json::to_string(&Policy::Single).unwrap(),
            r#"{"mode":"single"}"#
        );
        // The presets are expressible as custom rules, with the same decisions.
        let p: Policy = serde_json::from_str(r#"{"mode":"custom","rules":{"classes":{"any":1},"default_class":"any","max_total":1,"overflow":"kick_oldest"}}"#).unwrap();
        assert_eq!(p.rules(), Policy::Single.rules());
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
