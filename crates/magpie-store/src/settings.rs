//! Per-app settings, typed and versioned.
//!
//! An app's settings are a few independent groups ([`Setting`]): the
//! multi-device policy, the login authentication settings, and later more.
//! Each group is stored as one versioned document (its name, a schema
//! version and JSON); `None` means "the server's default". A backend stores
//! what [`Setting::encode`] gives and reads back through
//! [`AppSettings::decode`], so every backend reads every version the same
//! way, and a document written by a newer Magpie is refused with a clear
//! error instead of being misread.
//!
//! The multi-device policy (NIM's multi-device login, "多端登录") compiles
//! to [`Rules`]: classes of client types, a maximum per class, classes that
//! exclude each other, a total maximum, and what happens on overflow. The
//! decision engine that evaluates them lives in `magpie-bus`.

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

/// Maps keyed by a number, written with the number as a string key (as
/// JSON always does), so TOML (`magpie serve --print-config`) can hold them.
mod number_keys {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(m: &BTreeMap<u32, String>, s: S) -> Result<S::Ok, S::Error> {
        m.iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<String, &String>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<u32, String>, D::Error> {
        BTreeMap::<String, String>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| {
                k.trim().parse::<u32>().map(|k| (k, v)).map_err(|_| {
                    serde::de::Error::custom(format!("{k:?} is not a client type number"))
                })
            })
            .collect()
    }
}

/// An explicit multi-device rule set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Class name → most devices of that class online at once.
    pub classes: BTreeMap<String, u32>,
    /// NIMClientType → class.
    #[serde(default, with = "number_keys")]
    pub client_types: BTreeMap<u32, String>,
    /// Custom client type → class; wins over `client_types`.
    #[serde(default, with = "number_keys")]
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

    /// True when classes `a` and `b` may not be online together.
    pub fn excludes(&self, a: &str, b: &str) -> bool {
        self.exclusive
            .iter()
            .any(|(x, y)| (x == a && y == b) || (x == b && y == a))
    }

    /// The most devices of `class` online at once (0 for an unknown class).
    pub fn max_of(&self, class: &str) -> u32 {
        self.classes.get(class).copied().unwrap_or(0)
    }
}

/// Which auth types an app accepts, and its third-party login callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginAuth {
    /// Accepted NIMAuthType values (0 static, 1 dynamic, 2 third-party callback).
    #[serde(default = "default_auth_types")]
    pub auth_types: Vec<u32>,
    /// The third-party callback, required for auth type 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackSettings>,
}

/// Where and how to call the app's login callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackSettings {
    /// http:// or https:// URL the server POSTs to.
    pub url: String,
    /// Longest wait for an answer, ms.
    #[serde(default = "default_callback_timeout")]
    pub timeout_ms: u64,
    /// Let logins through when the callback fails (timeout, error, bad answer).
    #[serde(default)]
    pub fail_open: bool,
}

fn default_auth_types() -> Vec<u32> {
    vec![0, 1]
}

fn default_callback_timeout() -> u64 {
    3000
}

impl Default for LoginAuth {
    fn default() -> Self {
        LoginAuth {
            auth_types: default_auth_types(),
            callback: None,
        }
    }
}

impl LoginAuth {
    /// Checks settings before they are stored.
    pub fn validate(&self) -> Result<(), String> {
        if self.auth_types.is_empty() || self.auth_types.iter().any(|t| *t > 2) {
            return Err("auth_types must list some of 0, 1 and 2".into());
        }
        if self.auth_types.contains(&2) && self.callback.is_none() {
            return Err("auth type 2 needs a callback".into());
        }
        if let Some(c) = &self.callback {
            if !(c.url.starts_with("http://") || c.url.starts_with("https://"))
                || c.url.len() > 2048
            {
                return Err("callback.url must be an http:// or https:// URL".into());
            }
            if c.timeout_ms == 0 || c.timeout_ms > 30_000 {
                return Err("callback.timeout_ms must be 1 to 30000".into());
            }
        }
        Ok(())
    }
}

/// An app's messaging limits and retention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagingSettings {
    /// Longest `msg_body` of a message, in characters (NIM: 5000).
    #[serde(default = "default_max_body")]
    pub max_body_chars: u32,
    /// Longest `msg_attach` of a message or `attach` of a custom
    /// notification, in characters (NIM: 4096 for notifications).
    #[serde(default = "default_max_attach")]
    pub max_attach_chars: u32,
    /// Messages and notifications one account may send per minute (NIM's
    /// client default: 300); 0 turns the limit off.
    #[serde(default = "default_sends_per_minute")]
    pub sends_per_minute: u32,
    /// Keep messages this many days (0: no limit).
    #[serde(default)]
    pub retention_days: u32,
    /// Keep at most this many entries of each account's log (0: no limit).
    #[serde(default)]
    pub retention_entries: u64,
}

fn default_max_body() -> u32 {
    5000
}

fn default_max_attach() -> u32 {
    4096
}

fn default_sends_per_minute() -> u32 {
    300
}

impl Default for MessagingSettings {
    fn default() -> Self {
        MessagingSettings {
            max_body_chars: default_max_body(),
            max_attach_chars: default_max_attach(),
            sends_per_minute: default_sends_per_minute(),
            retention_days: 0,
            retention_entries: 0,
        }
    }
}

impl MessagingSettings {
    /// Checks settings before they are stored.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_body_chars == 0 || self.max_body_chars > 100_000 {
            return Err("max_body_chars must be 1 to 100000".into());
        }
        if self.max_attach_chars == 0 || self.max_attach_chars > 100_000 {
            return Err("max_attach_chars must be 1 to 100000".into());
        }
        Ok(())
    }
}

/// Where an app's event copies (NIM's "抄送" of logins and logouts) go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// The app server's URL (http or https); each event is POSTed to it,
    /// signed like the login callback.
    pub url: String,
}

impl WebhookSettings {
    /// Checks settings before they are stored.
    pub fn validate(&self) -> Result<(), String> {
        let u = self.url.trim();
        if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() > 1024 {
            return Err("url must be an http:// or https:// URL of at most 1024 characters".into());
        }
        Ok(())
    }
}

/// An app's own settings; `None` in a field means the server's default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppSettings {
    /// The multi-device policy.
    pub device_policy: Option<Policy>,
    /// Login authentication settings.
    pub login_auth: Option<LoginAuth>,
    /// Messaging limits and retention.
    pub messaging: Option<MessagingSettings>,
    /// Event copies (none by default).
    pub webhook: Option<WebhookSettings>,
}

/// One group of settings, as set or reset (`None`) through the admin API.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setting {
    /// The multi-device policy.
    DevicePolicy(Option<Policy>),
    /// Login authentication settings.
    LoginAuth(Option<LoginAuth>),
    /// Messaging limits and retention.
    Messaging(Option<MessagingSettings>),
    /// Event copies.
    Webhook(Option<WebhookSettings>),
}

/// A stored settings document this Magpie cannot read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The document's schema version is newer than this build knows.
    #[error("app setting {name:?} has schema version {version}, newer than this Magpie reads (up to {known}); upgrade Magpie")]
    TooNew {
        /// Setting name.
        name: String,
        /// Stored version.
        version: u32,
        /// Newest version this build reads.
        known: u32,
    },
    /// The document does not parse as its version says.
    #[error("app setting {name:?} (version {version}) is unreadable: {source}")]
    Unreadable {
        /// Setting name.
        name: String,
        /// Stored version.
        version: u32,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

impl Setting {
    /// Name of the device-policy document.
    pub const DEVICE_POLICY: &'static str = "device_policy";
    /// Name of the login-auth document.
    pub const LOGIN_AUTH: &'static str = "login_auth";
    /// Schema version written for the device policy.
    pub const DEVICE_POLICY_VERSION: u32 = 1;
    /// Schema version written for login authentication.
    pub const LOGIN_AUTH_VERSION: u32 = 1;
    /// Name of the messaging document.
    pub const MESSAGING: &'static str = "messaging";
    /// Schema version written for messaging.
    pub const MESSAGING_VERSION: u32 = 1;
    /// Name of the webhook document.
    pub const WEBHOOK: &'static str = "webhook";
    /// Schema version written for the webhook.
    pub const WEBHOOK_VERSION: u32 = 1;

    /// The document's name.
    pub fn name(&self) -> &'static str {
        match self {
            Setting::DevicePolicy(_) => Self::DEVICE_POLICY,
            Setting::LoginAuth(_) => Self::LOGIN_AUTH,
            Setting::Messaging(_) => Self::MESSAGING,
            Setting::Webhook(_) => Self::WEBHOOK,
        }
    }

    /// The document to store: `(schema version, JSON)`, or `None` to delete
    /// it (back to the server's default).
    pub fn encode(&self) -> Option<(u32, String)> {
        fn json<T: Serialize>(v: &T) -> String {
            serde_json::to_string(v).expect("settings serialise")
        }
        match self {
            Setting::DevicePolicy(p) => p.as_ref().map(|p| (Self::DEVICE_POLICY_VERSION, json(p))),
            Setting::LoginAuth(a) => a.as_ref().map(|a| (Self::LOGIN_AUTH_VERSION, json(a))),
            Setting::Messaging(m) => m.as_ref().map(|m| (Self::MESSAGING_VERSION, json(m))),
            Setting::Webhook(w) => w.as_ref().map(|w| (Self::WEBHOOK_VERSION, json(w))),
        }
    }
}

impl AppSettings {
    /// Applies a change.
    pub fn apply(&mut self, s: Setting) {
        match s {
            Setting::DevicePolicy(p) => self.device_policy = p,
            Setting::LoginAuth(a) => self.login_auth = a,
            Setting::Messaging(m) => self.messaging = m,
            Setting::Webhook(w) => self.webhook = w,
        }
    }

    /// Reads one stored document into these settings. Returns false for a
    /// name this build does not know (a newer Magpie's addition, left
    /// alone); a known name with a newer version is an error.
    pub fn decode(&mut self, name: &str, version: u32, json: &str) -> Result<bool, SettingsError> {
        fn parse<T: serde::de::DeserializeOwned>(
            name: &str,
            version: u32,
            known: u32,
            json: &str,
        ) -> Result<T, SettingsError> {
            if version > known {
                return Err(SettingsError::TooNew {
                    name: name.to_owned(),
                    version,
                    known,
                });
            }
            serde_json::from_str(json).map_err(|source| SettingsError::Unreadable {
                name: name.to_owned(),
                version,
                source,
            })
        }
        match name {
            Setting::DEVICE_POLICY => {
                let p = parse(name, version, Setting::DEVICE_POLICY_VERSION, json)?;
                self.device_policy = Some(p);
            }
            Setting::LOGIN_AUTH => {
                let a = parse(name, version, Setting::LOGIN_AUTH_VERSION, json)?;
                self.login_auth = Some(a);
            }
            Setting::MESSAGING => {
                let m = parse(name, version, Setting::MESSAGING_VERSION, json)?;
                self.messaging = Some(m);
            }
            Setting::WEBHOOK => {
                let w = parse(name, version, Setting::WEBHOOK_VERSION, json)?;
                self.webhook = Some(w);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // The presets are expressible as custom rules.
        let p: Policy = serde_json::from_str(r#"{"mode":"custom","rules":{"classes":{"any":1},"default_class":"any","max_total":1,"overflow":"kick_oldest"}}"#).unwrap();
        assert_eq!(p.rules(), Policy::Single.rules());
    }

    #[test]
    fn settings_documents_round_trip_and_refuse_newer_versions() {
        let changes = [
            Setting::DevicePolicy(Some(Policy::Single)),
            Setting::LoginAuth(Some(LoginAuth {
                auth_types: vec![0, 2],
                callback: Some(CallbackSettings {
                    url: "https://app.example/cb".into(),
                    timeout_ms: 500,
                    fail_open: true,
                }),
            })),
        ];
        let mut want = AppSettings::default();
        let mut got = AppSettings::default();
        for c in changes {
            let (v, json) = c.encode().unwrap();
            got.decode(c.name(), v, &json).unwrap();
            want.apply(c);
        }
        assert_eq!(got, want);
        assert_eq!(Setting::DevicePolicy(None).encode(), None);
        let e = got.decode("device_policy", 2, "{}").unwrap_err();
        assert!(e.to_string().contains("upgrade Magpie"), "{e}");
        let e = got.decode("login_auth", 1, "[1]").unwrap_err();
        assert!(matches!(e, SettingsError::Unreadable { .. }), "{e}");
        assert!(!got.decode("retention_from_the_future", 9, "{}").unwrap());
    }
}
