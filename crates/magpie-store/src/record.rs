use crate::credential::TokenHash;
use crate::id::AccountId;
use crate::settings::AppSettings;

/// An app: the unit of isolation. Its key is public, its secret signs admin calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    /// Internal id, used to scope accounts.
    pub id: i64,
    /// Public app key.
    pub app_key: String,
    /// App secret. Kept in clear because NIM's CheckSum needs it.
    pub app_secret: String,
    /// Display name.
    pub name: String,
    /// Creation time, ms.
    pub created_at: i64,
    /// The app's own settings (unset groups follow the server's defaults).
    pub settings: AppSettings,
}

/// The fields of a new account.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// Account id.
    pub accid: AccountId,
    /// Hashed token.
    pub token: TokenHash,
    /// Profile fields.
    pub profile: AccountPatch,
    /// Created blocked (disabled), in the same transaction.
    pub blocked: bool,
}

impl NewAccount {
    /// An enabled account with a token and no profile.
    pub fn new(accid: AccountId, token: TokenHash) -> NewAccount {
        NewAccount {
            accid,
            token,
            profile: AccountPatch::default(),
            blocked: false,
        }
    }
}

/// Profile fields; in a patch, `None` means "leave as is".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountPatch {
    /// Nickname.
    pub name: Option<String>,
    /// Avatar URL.
    pub icon: Option<String>,
    /// Signature.
    pub sign: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Birthday.
    pub birth: Option<String>,
    /// Mobile number.
    pub mobile: Option<String>,
    /// Gender: 0 unknown, 1 male, 2 female.
    pub gender: Option<i32>,
    /// App extension data.
    pub ex: Option<String>,
}

/// A stored account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The app it belongs to.
    pub app_id: i64,
    /// Account id.
    pub accid: AccountId,
    /// Hashed token.
    pub token: TokenHash,
    /// Nickname.
    pub name: String,
    /// Avatar URL.
    pub icon: String,
    /// Signature.
    pub sign: String,
    /// Email.
    pub email: String,
    /// Birthday.
    pub birth: String,
    /// Mobile number.
    pub mobile: String,
    /// Gender.
    pub gender: i32,
    /// App extension data.
    pub ex: String,
    /// Blocked (disabled) accounts cannot log in.
    pub blocked: bool,
    /// NIM's multiport push switch (`switch_open`): 1 while a desktop device
    /// is online its mobile devices get no push, 2 they still do (the
    /// default, [`SWITCH_OPEN_DEFAULT`]).
    pub switch_open: u32,
    /// Creation time, ms.
    pub created_at: i64,
    /// Last change, ms.
    pub updated_at: i64,
}

/// The multiport push switch of a new account: 2, mobile devices still get
/// push while a desktop is online (nothing is muted until the user asks).
pub const SWITCH_OPEN_DEFAULT: u32 = 2;

/// A device's push token (NIM's `update_apns_token`), kept for the push
/// service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushTokenRecord {
    /// The device it belongs to.
    pub device_id: String,
    /// The token the platform's push service gave the app.
    pub token: String,
    /// The app's push certificate name, if any.
    pub cer_name: String,
    /// When it was stored, ms.
    pub updated_at: i64,
}

impl Account {
    /// Applies a patch in place.
    pub fn apply(&mut self, p: AccountPatch) {
        let AccountPatch {
            name,
            icon,
            sign,
            email,
            birth,
            mobile,
            gender,
            ex,
        } = p;
        if let Some(v) = name {
            self.name = v;
        }
        if let Some(v) = icon {
            self.icon = v;
        }
        if let Some(v) = sign {
            self.sign = v;
        }
        if let Some(v) = email {
            self.email = v;
        }
        if let Some(v) = birth {
            self.birth = v;
        }
        if let Some(v) = mobile {
            self.mobile = v;
        }
        if let Some(v) = gender {
            self.gender = v;
        }
        if let Some(v) = ex {
            self.ex = v;
        }
    }

    /// A fresh account from its creation fields.
    pub fn from_new(app_id: i64, n: NewAccount, now: i64) -> Account {
        let mut a = Account {
            app_id,
            accid: n.accid,
            token: n.token,
            name: String::new(),
            icon: String::new(),
            sign: String::new(),
            email: String::new(),
            birth: String::new(),
            mobile: String::new(),
            gender: 0,
            ex: String::new(),
            blocked: n.blocked,
            switch_open: SWITCH_OPEN_DEFAULT,
            created_at: now,
            updated_at: now,
        };
        a.apply(n.profile);
        a
    }
}

/// One of an account's sessions on top (NIM's stick-top sessions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StickTop {
    /// NIMSessionType of the session.
    pub to_type: u32,
    /// The session id.
    pub session_id: String,
    /// The app's extension.
    pub ext: String,
    /// When it was put on top, ms.
    pub create_time: i64,
    /// When it was last set or updated, ms.
    pub update_time: i64,
}

/// A change to an account's sessions on top (see
/// [`AccountStore::change_stick_top`](crate::AccountStore::change_stick_top)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StickTopChange {
    /// Put a session on top, or replace its extension.
    Set {
        /// NIMSessionType.
        to_type: u32,
        /// The session id.
        session_id: String,
        /// The extension.
        ext: String,
    },
    /// Replace the extension of a session on top.
    Update {
        /// NIMSessionType.
        to_type: u32,
        /// The session id.
        session_id: String,
        /// The extension.
        ext: String,
    },
    /// Take a session off the top.
    Cancel {
        /// NIMSessionType.
        to_type: u32,
        /// The session id.
        session_id: String,
    },
}

impl StickTopChange {
    /// The session it is about.
    pub fn session(&self) -> (u32, &str) {
        match self {
            StickTopChange::Set {
                to_type,
                session_id,
                ..
            }
            | StickTopChange::Update {
                to_type,
                session_id,
                ..
            }
            | StickTopChange::Cancel {
                to_type,
                session_id,
            } => (*to_type, session_id),
        }
    }
}
