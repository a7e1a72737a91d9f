//! The connection task: the only owner of the socket. It moves bytes and
//! timers for the [`LoginMachine`](crate::machine::LoginMachine), which
//! holds every login rule, and carries out the machine's effects: events
//! and replies for the app, opening and closing links, writing frames, the
//! token providers and the local cache.

use crate::cache::{self, Cache, LoginRecord};
use crate::connect::Tls;
use crate::event::{Callbacks, Event, KickOtherRes, LoginRes, LogoutRes};
use crate::link::{Link, LinkError};
use crate::machine::{Cmd, CmdId, Effect, Input, LoginMachine, MachineConfig, Reply};
use crate::msgs::DbDone;
use crate::options::{ClientOptions, Proxy};
use crate::{Command, LoginState, Status};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// What the task shares with the handle.
pub(crate) struct Shared {
    pub callbacks: Callbacks,
    pub proxy: Mutex<Option<Proxy>>,
    pub token_provider: Mutex<Option<Provider>>,
    pub login_ext_provider: Mutex<Option<Provider>>,
}

/// What a provider is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRequest {
    /// App key of the login.
    pub app_key: String,
    /// Account of the login.
    pub account: String,
    /// NIMAuthType of the login.
    pub auth_type: u32,
    /// True for a re-login.
    pub relogin: bool,
    /// Ask the LBS for the link addresses too.
    pub lbs: bool,
}

/// A token or login-extension provider: returns a fresh value, or `None` to
/// keep the current one. It may block (it runs on a blocking thread).
pub type Provider = Arc<dyn Fn(&ProviderRequest) -> Option<String> + Send + Sync>;

/// Where a command's answer goes.
enum ReplyTo {
    Any(oneshot::Sender<Reply>),
    Login(oneshot::Sender<LoginRes>),
    Logout(oneshot::Sender<LogoutRes>),
    KickOther(oneshot::Sender<KickOtherRes>),
    Cleanup(oneshot::Sender<Result<(), &'static str>>),
}

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the providers and the LBS answered: token, login extension, link
/// addresses.
type Credentials = (Option<String>, Option<String>, Option<Vec<String>>);

pub(crate) struct ConnectionTask {
    options: ClientOptions,
    data_dir: PathBuf,
    device_id: String,
    tls: Option<Tls>,
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
    status: watch::Sender<Status>,
    machine: LoginMachine,
    replies: HashMap<CmdId, ReplyTo>,
    next_cmd: CmdId,
    link: Option<Box<Link>>,
    opening: Option<BoxFut<Result<Link, LinkError>>>,
    providers: Option<BoxFut<Credentials>>,
    /// The login record being written to the cache, at most one at a time.
    cache_write: Option<tokio::task::JoinHandle<rusqlite::Result<()>>>,
    /// The account whose local database messaging work uses.
    db_account: Option<(String, String)>,
    /// The local-database job running, at most one at a time; it hands the
    /// connection back when done.
    db_job: Option<tokio::task::JoinHandle<(Option<crate::local::OpenDb>, DbDone)>>,
    /// The account database's connection between jobs (closed once the
    /// session has ended and no job runs, so no descriptor stays open).
    db_open: Option<crate::local::OpenDb>,
}

impl ConnectionTask {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        options: ClientOptions,
        data_dir: PathBuf,
        device_id: String,
        tls: Option<Tls>,
        shared: Arc<Shared>,
        commands: mpsc::Receiver<Command>,
        status: watch::Sender<Status>,
    ) -> Self {
        let machine = LoginMachine::new(MachineConfig::new(&options, device_id.clone()));
        ConnectionTask {
            options,
            data_dir,
            device_id,
            tls,
            shared,
            commands,
            status,
            machine,
            replies: HashMap::new(),
            next_cmd: 1,
            link: None,
            opening: None,
            providers: None,
            cache_write: None,
            db_account: None,
            db_job: None,
            db_open: None,
        }
    }

    /// Splits a command into the machine's part and where its answer goes.
    fn register(&mut self, c: Command) -> Input {
        let id = self.next_cmd;
        self.next_cmd += 1;
        let (cmd, to) = match c {
            Command::Login(l, r) => (
                Cmd::Login {
                    app_key: l.app_key,
                    account: l.account,
                    token: l.token,
                    params: l.params,
                },
                ReplyTo::Login(r),
            ),
            Command::Relogin(t, r) => (Cmd::Relogin(t), ReplyTo::Login(r)),
            Command::Logout(t, r) => (Cmd::Logout(t), ReplyTo::Logout(r)),
            Command::KickOther(ids, r) => (Cmd::KickOther(ids), ReplyTo::KickOther(r)),
            Command::Cleanup(r) => (Cmd::Cleanup, ReplyTo::Cleanup(r)),
            Command::Messaging(c, r) => (c, ReplyTo::Any(r)),
        };
        self.replies.insert(id, to);
        Input::Command(id, cmd)
    }

    /// Runs until cleanup or until every handle is gone.
    pub async fn run(mut self) {
        loop {
            let deadline = self.machine.poll_timeout();
            let input = tokio::select! {
                c = self.commands.recv() => match c {
                    Some(c) => self.register(c),
                    None => break,
                },
                r = async { self.opening.as_mut().expect("guarded").await }, if self.opening.is_some() => {
                    self.opening = None;
                    match r {
                        Ok(link) => {
                            self.link = Some(Box::new(link));
                            Input::Opened(Ok(()))
                        }
                        Err(e) => Input::Opened(Err(e)),
                    }
                }
                (token, login_ex, links) = async { self.providers.as_mut().expect("guarded").await }, if self.providers.is_some() => {
                    self.providers = None;
                    Input::Credentials { token, login_ex, links }
                }
                d = async { self.db_job.as_mut().expect("guarded").await }, if self.db_job.is_some() => {
                    self.db_job = None;
                    match d {
                        Ok((open, done)) => {
                            self.db_open = open;
                            Input::Db(done)
                        }
                        Err(e) => {
                            // A panic in local work: report it as a failure.
                            tracing::error!(error = %e, "a local database job failed");
                            Input::Db(DbDone::Cursor(Err(e.to_string())))
                        }
                    }
                }
                f = async { self.link.as_mut().expect("guarded").recv().await }, if self.link.is_some() => match f {
                    Ok(f) => Input::Frame(f),
                    Err(e) => Input::Lost(e),
                },
                _ = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d.into()).await,
                        None => std::future::pending().await,
                    }
                } => Input::Timeout,
            };
            if self.step(input).await {
                break;
            }
            if self.db_job.is_none() && !self.machine.in_session() {
                // The session ended and its last local work is done.
                self.db_open = None;
            }
        }
        self.close_link().await;
        if let Some(job) = self.db_job.take() {
            let _ = job.await;
        }
        self.db_open = None;
        self.settle_cache().await;
        self.status.send_modify(|s| s.state = LoginState::Unlogin);
    }

    /// Feeds one input to the machine and carries out its effects (feeding
    /// back a write failure). True when the task should end.
    async fn step(&mut self, input: Input) -> bool {
        let mut later = std::collections::VecDeque::from([input]);
        let mut exit = false;
        while let Some(input) = later.pop_front() {
            let mut fx = Vec::new();
            self.machine.msgs.batch_receive = self
                .shared
                .callbacks
                .has(crate::event::CallbackKind::ReceiveBatch);
            tracing::trace!(?input, "machine input");
            self.machine
                .handle(std::time::Instant::now(), input, &mut fx);
            for e in fx {
                match e {
                    Effect::Emit(ev) => self.emit(ev),
                    Effect::Reply(id, r) => self.reply(id, r),
                    Effect::State(s, account) => self.status.send_modify(|st| {
                        st.state = s;
                        st.account = account;
                    }),
                    Effect::Clock(server_time) => {
                        let off = server_time - crate::now_ms();
                        self.status.send_modify(|s| s.clock_offset_ms = off);
                    }
                    Effect::AskProviders(req) => {
                        let token = if req.auth_type == magpie_proto::types::auth_type::DEFAULT {
                            None
                        } else {
                            self.shared.token_provider.lock().clone()
                        };
                        let ext = if req.auth_type == magpie_proto::types::auth_type::THIRD_PARTY {
                            self.shared.login_ext_provider.lock().clone()
                        } else {
                            None
                        };
                        let limit = self.options.request_timeout;
                        let lbs = match (&self.options.lbs, req.lbs) {
                            (Some(l), true) => Some((l.url.clone(), self.options.connect_timeout)),
                            _ => None,
                        };
                        let app_key = req.app_key.clone();
                        self.providers = Some(Box::pin(async move {
                            let t = ask_provider(token, req.clone(), limit).await;
                            let e = ask_provider(ext, req, limit).await;
                            let links = match lbs {
                                Some((url, within)) => {
                                    crate::lbs::ask(&url, &app_key, within).await
                                }
                                None => None,
                            };
                            (t, e, links)
                        }));
                    }
                    Effect::Open(addr) => {
                        let proxy = self.shared.proxy.lock().clone();
                        let tls = self.tls.clone();
                        let max = self.options.max_frame;
                        let ip = self.options.ip_version;
                        self.opening = Some(Box::pin(async move {
                            Link::open(&addr, proxy.as_ref(), tls.as_ref(), ip, max).await
                        }));
                    }
                    Effect::Send(frames) => {
                        let r = match self.link.as_mut() {
                            Some(l) => l.send_all(&frames).await,
                            None => Err(LinkError::Closed),
                        };
                        if let Err(e) = r {
                            // Later effects of this step still run; the
                            // machine hears of the failure next, after what
                            // the server said before it closed (a kick-out
                            // must not read as a lost link).
                            if let Some(l) = self.link.as_mut() {
                                later.extend(l.drain().await.into_iter().map(Input::Frame));
                            }
                            later.push_back(Input::Lost(e));
                        }
                    }
                    Effect::Close => self.close_link().await,
                    Effect::RecordLogin(r) => {
                        self.settle_cache().await;
                        let path = cache::path(&self.data_dir, &r.app_key, &r.account);
                        let rec = LoginRecord {
                            at_ms: crate::now_ms(),
                            server_time: r.server_time,
                            relogin: r.relogin,
                            device_id: self.device_id.clone(),
                            others_json: r.others_json,
                        };
                        // The write runs on a blocking thread while the login
                        // result goes to the app at once; the next write, a
                        // logout and cleanup wait for it.
                        let key = self.options.db_key.clone();
                        self.cache_write = Some(tokio::task::spawn_blocking(move || {
                            Cache::open(&path, key.as_ref())?.record_login(&rec)
                        }));
                    }
                    Effect::SettleCache => {
                        self.settle_cache().await;
                        self.db_open = None;
                    }
                    Effect::UseAccount { app_key, account } => {
                        let who = (app_key, account);
                        self.status
                            .send_modify(|s| s.db_account = Some(who.clone()));
                        self.db_account = Some(who)
                    }
                    Effect::Db(job) => {
                        // The login record goes first: one writer on the file.
                        self.settle_cache().await;
                        let dir = self.data_dir.clone();
                        let key = self.options.db_key.clone();
                        let who = self.db_account.clone();
                        let open = self.db_open.take();
                        self.db_job = Some(tokio::task::spawn_blocking(move || {
                            crate::local::run(&dir, key.as_ref(), who, open, job)
                        }));
                    }
                    Effect::Exit => exit = true,
                }
            }
        }
        exit
    }

    fn emit(&self, e: Event) {
        self.shared.callbacks.emit(e);
    }

    fn reply(&mut self, id: CmdId, r: Reply) {
        let Some(to) = self.replies.remove(&id) else {
            return;
        };
        match (to, r) {
            (ReplyTo::Any(tx), v) => {
                let _ = tx.send(v);
            }
            (ReplyTo::Login(tx), Reply::Login(v)) => {
                let _ = tx.send(v);
            }
            (ReplyTo::Logout(tx), Reply::Logout(v)) => {
                let _ = tx.send(v);
            }
            (ReplyTo::KickOther(tx), Reply::KickOther(v)) => {
                let _ = tx.send(v);
            }
            (ReplyTo::Cleanup(tx), Reply::Cleanup(v)) => {
                let _ = tx.send(v);
            }
            _ => tracing::error!("a reply of the wrong kind (a bug)"),
        }
    }

    async fn close_link(&mut self) {
        self.opening = None;
        if let Some(mut l) = self.link.take() {
            l.close().await;
        }
    }

    /// Waits for the cache write in flight, if any.
    async fn settle_cache(&mut self) {
        let Some(job) = self.cache_write.take() else {
            return;
        };
        match job.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "local cache unavailable"),
            Err(e) => tracing::warn!(error = %e, "local cache task failed"),
        }
    }
}

/// Asks a provider, on a blocking thread, within `limit`.
async fn ask_provider(
    p: Option<Provider>,
    req: ProviderRequest,
    limit: Duration,
) -> Option<String> {
    let p = p?;
    let job = tokio::task::spawn_blocking(move || p(&req));
    match tokio::time::timeout(limit, job).await {
        Ok(Ok(v)) => v.filter(|v| !v.is_empty()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "a provider panicked");
            None
        }
        Err(_) => {
            tracing::warn!("a provider did not answer in time");
            None
        }
    }
}
