//! NIM's enums and JSON payload shapes, with NIM's numbers and key names.

use serde::{Deserialize, Serialize};

/// NIMClientType values. Carried as plain numbers on the wire.
pub mod client_type {
    /// kNIMClientTypeDefault: unset.
    pub const DEFAULT: u32 = 0;
    /// kNIMClientTypeAndroid.
    pub const ANDROID: u32 = 1;
    /// kNIMClientTypeiOS.
    pub const IOS: u32 = 2;
    /// kNIMClientTypePCWindows.
    pub const PC_WINDOWS: u32 = 4;
    /// kNIMClientTypeWindowsPhone.
    pub const WINDOWS_PHONE: u32 = 8;
    /// kNIMClientTypeWeb.
    pub const WEB: u32 = 16;
    /// kNIMClientTypeRestAPI.
    pub const REST_API: u32 = 32;
    /// kNIMClientTypeMacOS.
    pub const MACOS: u32 = 64;
    /// kNIMClientTypeHarmonyOS.
    pub const HARMONY_OS: u32 = 65;

    /// The client types a device may log in with.
    pub const LOGIN_TYPES: [u32; 7] = [
        ANDROID,
        IOS,
        PC_WINDOWS,
        WINDOWS_PHONE,
        WEB,
        MACOS,
        HARMONY_OS,
    ];

    /// True when `t` may log in over the client protocol (REST and unset may not).
    pub fn is_login_type(t: u32) -> bool {
        LOGIN_TYPES.contains(&t)
    }

    /// Parses a name (`pc`, `mac`, `web`, `android`, `ios`, `winphone`,
    /// `harmony`) or a numeric value.
    pub fn parse(s: &str) -> Option<u32> {
        let v = match s.to_ascii_lowercase().as_str() {
            "android" | "aos" => ANDROID,
            "ios" => IOS,
            "pc" | "windows" | "win" => PC_WINDOWS,
            "winphone" | "windowsphone" => WINDOWS_PHONE,
            "web" => WEB,
            "mac" | "macos" => MACOS,
            "harmony" | "harmonyos" => HARMONY_OS,
            other => other.parse().ok()?,
        };
        Some(v)
    }

    /// The string NIM's server callbacks use for a client type (AOS, IOS, PC, ...).
    pub fn callback_name(t: u32) -> &'static str {
        match t {
            ANDROID => "AOS",
            IOS => "IOS",
            PC_WINDOWS | MACOS => "PC",
            WINDOWS_PHONE => "WINPHONE",
            WEB => "WEB",
            REST_API => "REST",
            HARMONY_OS => "HARMONY",
            _ => "UNKNOWN",
        }
    }
}

/// NIMLogoutType values.
pub mod logout_type {
    /// kNIMLogoutChangeAccout: log out and go back to the login screen.
    pub const CHANGE_ACCOUNT: u32 = 1;
    /// kNIMLogoutKickout: logging out after being kicked.
    pub const KICKOUT: u32 = 2;
    /// kNIMLogoutAppExit: the program is exiting.
    pub const APP_EXIT: u32 = 3;
    /// kNIMLogoutRelogin: log out to log in again with the same account.
    pub const RELOGIN: u32 = 4;

    /// True for the four NIM logout types.
    pub fn is_valid(t: u32) -> bool {
        (CHANGE_ACCOUNT..=RELOGIN).contains(&t)
    }

    /// Parses `change_account`, `kickout`, `app_exit`, `relogin` or a number.
    pub fn parse(s: &str) -> Option<u32> {
        let v = match s.to_ascii_lowercase().as_str() {
            "change_account" | "changeaccount" => CHANGE_ACCOUNT,
            "kickout" => KICKOUT,
            "app_exit" | "appexit" => APP_EXIT,
            "relogin" => RELOGIN,
            other => other.parse().ok()?,
        };
        is_valid(v).then_some(v)
    }
}

/// NIMLoginStep values.
pub mod login_step {
    /// kNIMLoginStepLinking: connecting.
    pub const LINKING: u32 = 0;
    /// kNIMLoginStepLink: connected and handshaken.
    pub const LINK: u32 = 1;
    /// kNIMLoginStepLogining: login request sent.
    pub const LOGINING: u32 = 2;
    /// kNIMLoginStepLogin: login answered.
    pub const LOGIN: u32 = 3;
}

/// NIMKickReason values.
pub mod kick_reason {
    /// kNIMKickReasonSameGeneric: the multi-device policy.
    pub const SAME_GENERIC: u32 = 1;
    /// kNIMKickReasonServerKick: the server (admin API, block).
    pub const SERVER_KICK: u32 = 2;
    /// kNIMKickReasonKickBySelfOtherClient: the user's own other device.
    pub const BY_SELF_OTHER_CLIENT: u32 = 3;
}

/// NIMAuthType values.
pub mod auth_type {
    /// kNIMAuthTypeDefault: static token.
    pub const DEFAULT: u32 = 0;
    /// kNIMAuthTypeBySecretToken: dynamic token.
    pub const DYNAMIC_TOKEN: u32 = 1;
    /// kNIMAuthTypeByAppToken: third-party callback.
    pub const THIRD_PARTY: u32 = 2;
}

/// NIMMultiSpotNotifyType values.
pub mod multispot_type {
    /// kNIMMultiSpotNotifyTypeImIn: another device of mine came online.
    pub const IM_IN: u32 = 2;
    /// kNIMMultiSpotNotifyTypeImOut: another device of mine went offline.
    pub const IM_OUT: u32 = 3;
}

/// One online device of an account: NIM's presence object (`other_clients_pres`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// The account.
    pub app_account: String,
    /// NIMClientType of the device.
    pub client_type: u32,
    /// OS string, e.g. "ios 6.0.1".
    pub client_os: String,
    /// MAC address.
    pub mac: String,
    /// Device id.
    pub device_id: String,
    /// Login time, ms since the epoch.
    pub login_time: i64,
    /// Custom login data of that device.
    pub custom_tag: String,
    /// Custom client type (0 when none).
    pub custom_client_type: u32,
}

/// The kick-out payload a kicked device receives.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kickout {
    /// NIMClientType of the kicking client (0 for the server).
    pub client_type: u32,
    /// NIMKickReason.
    pub reason_code: u32,
    /// Human-readable reason.
    pub reason_description: String,
    /// Custom client type of the kicking client (0 when none).
    pub custom_client_type: u32,
}

impl Kickout {
    /// A kick by the multi-device policy (reason 1): the kicker is the new
    /// device, named by its client type and custom client type.
    pub fn by_policy(client_type: u32, custom_client_type: u32) -> Kickout {
        Kickout {
            client_type,
            reason_code: kick_reason::SAME_GENERIC,
            reason_description: "logged in on another device".into(),
            custom_client_type,
        }
    }

    /// A kick by the server (reason 2: admin kick, block or disable with
    /// kick), from client type 32 (REST API); `ext` (NIM's kick notify
    /// extension) becomes the description when given.
    pub fn by_server(ext: &str) -> Kickout {
        Kickout {
            client_type: client_type::REST_API,
            reason_code: kick_reason::SERVER_KICK,
            reason_description: if ext.is_empty() {
                "kicked by the server".into()
            } else {
                ext.to_owned()
            },
            custom_client_type: 0,
        }
    }

    /// A kick by another device of the same account (reason 3), named by
    /// its client type and custom client type.
    pub fn by_own_device(client_type: u32, custom_client_type: u32) -> Kickout {
        Kickout {
            client_type,
            reason_code: kick_reason::BY_SELF_OTHER_CLIENT,
            reason_description: "kicked by another device of this account".into(),
            custom_client_type,
        }
    }
}

/// The multispot payload: another device of the same account came or went.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiSpot {
    /// NIMMultiSpotNotifyType (the key really is spelled "notiy").
    pub multi_spot_notiy_type: u32,
    /// The devices concerned.
    pub other_clients_pres: Vec<Presence>,
}
