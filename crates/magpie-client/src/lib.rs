//! The Magpie SDK, in the shape of NIM's client API.
//!
//! A [`Client`] is a cheap handle: it sends commands to one
//! [`ConnectionTask`](task) over a channel and gets replies over oneshots.
//! The task owns the socket, runs the login steps, heartbeats and pushes, and
//! reports everything to the app as [`Event`]s whose JSON is NIM's callback
//! payload (`err_code`, `login_step`, `relogin`, `retrying`,
//! `other_clients_pres`, ...).

mod event;
mod link;
mod options;
mod task;

pub use event::{Event, LoginRes, LogoutRes};
pub use options::{ClientOptions, LoginParams};

use magpie_proto::ResCode;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// NIMLoginState, plus the states NIM leaves implicit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginState {
    /// Not logged in (kNIMLoginStateUnLogin).
    Unlogin,
    /// A login is running.
    Logging,
    /// Logged in (kNIMLoginStateLogin).
    Logined,
    /// Kicked out: no automatic login follows.
    Kicked,
}

impl LoginState {
    /// The NIMLoginState number: 1 logged in, 2 not.
    pub fn nim_value(self) -> u32 {
        match self {
            LoginState::Logined => 1,
            _ => 2,
        }
    }
}

/// What the handle shares with its task.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// The login state.
    pub state: Option<LoginState>,
    /// The logged-in account, empty when none.
    pub account: String,
    /// Server time minus local time, ms, from the last server answer.
    pub clock_offset_ms: i64,
}

pub(crate) enum Command {
    Login(LoginParams, oneshot::Sender<LoginRes>),
    Relogin(oneshot::Sender<LoginRes>),
    Logout(u32, oneshot::Sender<LogoutRes>),
}

/// The app's callback for every event.
pub type EventHandler = Arc<dyn Fn(Event) + Send + Sync>;

/// The SDK handle. Clones share one connection task.
#[derive(Clone)]
pub struct Client {
    tx: mpsc::Sender<Command>,
    status: watch::Receiver<Status>,
}

impl Client {
    /// Starts a client on the current tokio runtime. `handler` receives every
    /// event, on the connection task: it must not block.
    pub fn new(options: ClientOptions, handler: impl Fn(Event) + Send + Sync + 'static) -> Client {
        let (tx, rx) = mpsc::channel(16);
        let (status_tx, status) = watch::channel(Status {
            state: Some(LoginState::Unlogin),
            ..Default::default()
        });
        tokio::spawn(task::ConnectionTask::new(options, Arc::new(handler), rx, status_tx).run());
        Client { tx, status }
    }

    /// Logs in. Each login step is also reported as an [`Event::Login`]; the
    /// returned value is the last one.
    pub async fn login(&self, params: LoginParams) -> LoginRes {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Login(params, tx)).await.is_err() {
            return LoginRes::failed(ResCode::LOCAL_INIT_UNDONE, 0, false);
        }
        rx.await
            .unwrap_or_else(|_| LoginRes::failed(ResCode::LOCAL_INIT_UNDONE, 0, false))
    }

    /// Logs in again with the last account. Results also come as
    /// [`Event::AutoRelogin`] events, as NIM's relogin does.
    pub async fn relogin(&self) -> LoginRes {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Relogin(tx)).await.is_err() {
            return LoginRes::failed(ResCode::LOCAL_INIT_UNDONE, 0, true);
        }
        rx.await
            .unwrap_or_else(|_| LoginRes::failed(ResCode::LOCAL_INIT_UNDONE, 0, true))
    }

    /// Logs out with a NIMLogoutType; also reported as [`Event::Logout`].
    pub async fn logout(&self, logout_type: u32) -> LogoutRes {
        let (tx, rx) = oneshot::channel();
        let gone = LogoutRes {
            err_code: ResCode::LOCAL_INIT_UNDONE,
        };
        if self
            .tx
            .send(Command::Logout(logout_type, tx))
            .await
            .is_err()
        {
            return gone;
        }
        rx.await.unwrap_or(gone)
    }

    /// The current login state.
    pub fn login_state(&self) -> LoginState {
        self.status.borrow().state.unwrap_or(LoginState::Unlogin)
    }

    /// The logged-in account, or an empty string.
    pub fn current_account(&self) -> String {
        self.status.borrow().account.clone()
    }

    /// The server's clock now, ms since the epoch, from the last measured offset.
    pub fn server_time(&self) -> i64 {
        now_ms() + self.status.borrow().clock_offset_ms
    }

    /// Waits until the login state satisfies `f`.
    pub async fn wait_for_state(&self, f: impl Fn(LoginState) -> bool) -> LoginState {
        let mut rx = self.status.clone();
        let r = rx
            .wait_for(|s| f(s.state.unwrap_or(LoginState::Unlogin)))
            .await
            .map(|s| s.state.unwrap_or(LoginState::Unlogin));
        r.unwrap_or(LoginState::Unlogin)
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
