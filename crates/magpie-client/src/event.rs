use magpie_proto::types::{Kickout, MultiSpot, Presence};
use magpie_proto::ResCode;
use serde::Serialize;

/// A login or auto-relogin result: NIM's LoginRes JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoginRes {
    /// NIMResCode.
    pub err_code: ResCode,
    /// NIMLoginStep.
    pub login_step: u32,
    /// True when the result comes from a re-login.
    pub relogin: bool,
    /// True while the SDK keeps trying by itself.
    pub retrying: bool,
    /// The account's other online devices; present only on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_clients_pres: Option<Vec<Presence>>,
}

impl LoginRes {
    /// A step that succeeded so far.
    pub fn step(step: u32, relogin: bool) -> Self {
        LoginRes {
            err_code: ResCode::SUCCESS,
            login_step: step,
            relogin,
            retrying: false,
            other_clients_pres: None,
        }
    }

    /// A failure at a step.
    pub fn failed(code: ResCode, step: u32, relogin: bool) -> Self {
        LoginRes {
            err_code: code,
            ..Self::step(step, relogin)
        }
    }

    /// True for step 3 with 200.
    pub fn is_success(&self) -> bool {
        self.err_code.is_success() && self.login_step == magpie_proto::types::login_step::LOGIN
    }
}

/// A logout result: `{"err_code":..}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogoutRes {
    /// 200 when the server confirmed.
    pub err_code: ResCode,
}

/// Everything the SDK reports to the app.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A step of a manual login (nim_client_login's callback).
    Login(LoginRes),
    /// A re-login result (nim_client_reg_auto_relogin_cb).
    AutoRelogin(LoginRes),
    /// The connection dropped (nim_client_reg_disconnect_cb).
    Disconnect,
    /// This device was kicked (nim_client_reg_kickout_cb).
    Kickout(Kickout),
    /// Another device of the account came or went (nim_client_reg_multispot_login_notify_cb).
    MultiSpot(MultiSpot),
    /// A logout finished (nim_client_logout's callback).
    Logout(LogoutRes),
}

impl Event {
    /// The callback's name, as `magpie client` prints it.
    pub fn callback_name(&self) -> &'static str {
        match self {
            Event::Login(_) => "login",
            Event::AutoRelogin(_) => "auto_relogin",
            Event::Disconnect => "disconnect",
            Event::Kickout(_) => "kickout",
            Event::MultiSpot(_) => "multispot",
            Event::Logout(_) => "logout",
        }
    }

    /// NIM's JSON payload of the callback.
    pub fn json(&self) -> serde_json::Value {
        let v = match self {
            Event::Login(r) | Event::AutoRelogin(r) => serde_json::to_value(r),
            Event::Disconnect => Ok(serde_json::json!({})),
            Event::Kickout(k) => serde_json::to_value(k),
            Event::MultiSpot(m) => serde_json::to_value(m),
            Event::Logout(l) => serde_json::to_value(l),
        };
        v.unwrap_or(serde_json::Value::Null)
    }
}
