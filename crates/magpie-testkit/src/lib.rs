//! Test helpers: a real Magpie server on port 0 with a real SQLite file, a
//! signed admin client, a raw protocol peer, and an SDK event log.

use magpie_admin_client::AdminClient;
use magpie_client::{Client, ClientOptions, Event, LoginParams};
use magpie_proto::codec::{decode_server, encode_client};
use magpie_proto::frame::{Hello, LoginRequest};
use magpie_proto::{ClientFrame, Decoded, ServerFrame};
use magpie_server::Services;
use magpie_server::{Listeners, ServerConfig, ServerHandle};
use magpie_store::{generate_key, AppStore, Stores};
use magpie_store_sqlite::SqliteStore;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

pub use magpie_proto::ResCode;

pub mod certs;
pub mod faulty;
pub mod proxies;
pub mod tools;

/// How long a test waits for anything before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// A server on 127.0.0.1:0 over a SQLite file in a temp dir.
pub struct TestServer {
    /// The running server.
    pub handle: Option<ServerHandle>,
    /// The store it uses.
    pub store: Arc<SqliteStore>,
    /// Its configuration.
    pub config: ServerConfig,
    dir: tempfile::TempDir,
}

/// An app's credentials.
#[derive(Clone, Debug)]
pub struct TestApp {
    /// App key.
    pub key: String,
    /// App secret.
    pub secret: String,
}

/// Login-friendly defaults for tests: no per-account limit unless asked.
pub fn test_config() -> ServerConfig {
    let mut c = ServerConfig::default();
    c.login_limits.per_account_per_sec = 0.0;
    // The tests' callback servers listen on loopback.
    c.login_callback.allow_private_addresses = true;
    c
}

impl TestServer {
    /// Starts with [`test_config`].
    pub async fn start() -> TestServer {
        Self::start_with(test_config()).await
    }

    /// Starts with a given configuration (its addresses and data dir are replaced).
    pub async fn start_with(config: ServerConfig) -> TestServer {
        init_test_log();
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(SqliteStore::open(dir.path().join("magpie.db")).expect("store"));
        let mut s = TestServer {
            handle: None,
            store,
            config,
            dir,
        };
        s.config.data_dir = s.dir.path().to_path_buf();
        s.boot().await;
        s
    }

    async fn boot(&mut self) {
        self.boot_on(
            "127.0.0.1:0".parse().unwrap(),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await;
    }

    async fn boot_on(&mut self, client: SocketAddr, admin: SocketAddr) {
        let l = Listeners::bind(client, admin).await.expect("bind");
        let services = Services::in_process(Stores::new(self.store.clone()));
        let h = magpie_server::start(l, self.config.clone(), services)
            .await
            .expect("start");
        self.handle = Some(h);
    }

    /// Shuts the server down gracefully and starts it again on the same data
    /// (new ports, reopened store).
    pub async fn restart(&mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
        self.reopen_store();
        self.boot().await;
    }

    /// Stops the server; returns its addresses (client, admin) for [`TestServer::start_on`].
    pub async fn stop(&mut self) -> (SocketAddr, SocketAddr) {
        let h = self.handle.take().expect("server running");
        let addrs = (h.client_addr, h.admin_addr);
        h.shutdown().await;
        addrs
    }

    /// Starts again on the given addresses and the same data, as a restarted
    /// process would (clients reconnect to the same address).
    pub async fn start_on(&mut self, (client, admin): (SocketAddr, SocketAddr)) {
        self.reopen_store();
        self.boot_on(client, admin).await;
    }

    /// Closes the store (its message journal is owned by one store at a
    /// time) and opens it again, as a restarted process would.
    fn reopen_store(&mut self) {
        let path = self.db_path();
        let closing = std::mem::replace(
            &mut self.store,
            Arc::new(SqliteStore::open_shared(&path).expect("open store")),
        );
        drop(closing);
        self.store = Arc::new(SqliteStore::open(&path).expect("reopen store"));
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("magpie.db")
    }

    fn h(&self) -> &ServerHandle {
        self.handle.as_ref().expect("server running")
    }

    /// The running server's handle.
    pub fn handle(&self) -> &ServerHandle {
        self.h()
    }

    /// Client address.
    pub fn addr(&self) -> SocketAddr {
        self.h().client_addr
    }

    /// Admin base URL.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.h().admin_addr)
    }

    /// Sessions the directory holds on this server's node.
    pub async fn sessions(&self) -> usize {
        self.h()
            .shared
            .bus
            .local_sessions()
            .await
            .expect("session count")
    }

    /// Creates an app directly in the store.
    pub async fn app(&self, name: &str) -> TestApp {
        let a = self
            .store
            .create_app(name, &generate_key(16), &generate_key(16))
            .await
            .expect("create app");
        TestApp {
            key: a.app_key,
            secret: a.app_secret,
        }
    }

    /// An admin client signing as `app`.
    pub fn admin(&self, app: &TestApp) -> Admin {
        Admin {
            url: self.admin_url(),
            app: app.clone(),
            client: AdminClient::new(&self.admin_url(), &app.key, &app.secret)
                .expect("admin address"),
        }
    }

    /// Creates an account through the V1 API; panics unless it succeeds.
    pub async fn account(&self, app: &TestApp, accid: &str, token: &str) {
        let v = self
            .admin(app)
            .form(
                "/nimserver/user/create.action",
                &[("accid", accid), ("token", token)],
            )
            .await;
        assert_eq!(v["code"], 200, "create {accid}: {v}");
    }

    /// SDK options for this server, with short re-login backoff for tests.
    pub fn options(&self) -> ClientOptions {
        ClientOptions::new(self.addr().to_string()).with_reconnect(magpie_client::Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(800),
        })
    }
}

/// A signed admin API client for tests: [`AdminClient`] whose calls panic
/// unless the server answers HTTP 200 with JSON.
#[derive(Clone)]
pub struct Admin {
    /// Base URL.
    pub url: String,
    /// Signing app.
    pub app: TestApp,
    /// The client.
    pub client: AdminClient,
}

impl Admin {
    /// A request signed with a fresh nonce and the current time.
    pub fn request(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(m, path)
    }

    /// A request signed with the given nonce, time and secret.
    pub fn request_signed(
        &self,
        m: reqwest::Method,
        path: &str,
        nonce: &str,
        cur: &str,
        secret: &str,
    ) -> reqwest::RequestBuilder {
        self.client.request_signed(m, path, nonce, cur, secret)
    }

    async fn answer(&self, r: reqwest::RequestBuilder) -> Value {
        let (status, v) = self.client.send_status(r).await.expect("admin call");
        assert_eq!(status, 200, "HTTP status of an answered call: {v}");
        v
    }

    /// POSTs a form, returns the JSON body.
    pub async fn form(&self, path: &str, params: &[(&str, &str)]) -> Value {
        self.answer(self.client.form_request(path, params)).await
    }

    /// Sends JSON (or nothing), returns the JSON body.
    pub async fn json(&self, m: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.answer(self.client.json_request(m, path, body.as_ref()))
            .await
    }
}

/// With `MAGPIE_TEST_LOG` set (an env-filter such as `debug`), the server
/// and SDK logs of a test go to its output, which the test runner shows for
/// a failing test.
pub fn init_test_log() {
    if let Ok(filter) = std::env::var("MAGPIE_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}

/// An SDK client whose events are collected for assertions.
pub struct TestClient {
    /// The SDK handle.
    pub client: Client,
    /// Its events.
    pub events: EventLog,
    /// Its app data directory.
    pub dir: tempfile::TempDir,
}

/// Events reported by an SDK client, in order.
pub struct EventLog {
    rx: mpsc::UnboundedReceiver<Event>,
}

impl EventLog {
    /// The next event; panics after [`WAIT`].
    pub async fn next(&mut self) -> Event {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("timed out waiting for an SDK event")
            .expect("client gone")
    }

    /// Skips events until one matches; returns it. Panics after [`WAIT`]
    /// without an event, naming the events it skipped.
    pub async fn until(&mut self, f: impl Fn(&Event) -> bool) -> Event {
        let mut skipped = Vec::new();
        loop {
            let e = match tokio::time::timeout(WAIT, self.rx.recv()).await {
                Ok(e) => e.expect("client gone"),
                Err(_) => {
                    panic!("timed out waiting for a matching SDK event; skipped: {skipped:#?}")
                }
            };
            if f(&e) {
                return e;
            }
            skipped.push(format!("{e:?}").chars().take(300).collect::<String>());
        }
    }

    /// True when no event arrives within `d`.
    pub async fn quiet_for(&mut self, d: Duration) -> bool {
        tokio::time::timeout(d, self.rx.recv()).await.is_err()
    }
}

impl TestClient {
    /// A client with the given options, on the SDK's own runtime, with a
    /// fresh app data directory.
    pub fn new(options: ClientOptions) -> TestClient {
        let dir = tempfile::tempdir().expect("app data dir");
        let (tx, rx) = mpsc::unbounded_channel();
        let client = Client::init(dir.path(), options).expect("init");
        client.on_every_event(move |e| {
            let _ = tx.send(e.clone());
        });
        TestClient {
            client,
            events: EventLog { rx },
            dir,
        }
    }

    /// Logs in and returns the final result.
    pub async fn login(
        &self,
        app: &TestApp,
        account: &str,
        token: &str,
    ) -> magpie_client::LoginRes {
        tokio::time::timeout(
            WAIT,
            self.client
                .login(&app.key, account, token, LoginParams::default()),
        )
        .await
        .expect("login timed out")
    }
}

/// A raw protocol peer, for what the SDK would never send.
pub struct RawPeer {
    /// The socket.
    pub stream: TcpStream,
    buf: Vec<u8>,
    seq: u32,
}

impl RawPeer {
    /// Connects without a hello.
    pub async fn connect(addr: SocketAddr) -> RawPeer {
        RawPeer {
            stream: TcpStream::connect(addr).await.expect("connect"),
            buf: Vec::new(),
            seq: 0,
        }
    }

    /// Connects from a given local address (on Linux any of 127.0.0.0/8
    /// reaches a loopback server): a second "source" for per-address limits.
    pub async fn connect_from(addr: SocketAddr, from: std::net::IpAddr) -> RawPeer {
        Self::try_connect_from(addr, from)
            .await
            .expect("connect from the source address")
    }

    /// [`RawPeer::connect_from`], or None when the server is not there.
    pub async fn try_connect_from(addr: SocketAddr, from: std::net::IpAddr) -> Option<RawPeer> {
        let sock = tokio::net::TcpSocket::new_v4().ok()?;
        sock.bind(SocketAddr::new(from, 0)).ok()?;
        Some(RawPeer {
            stream: sock.connect(addr).await.ok()?,
            buf: Vec::new(),
            seq: 0,
        })
    }

    /// Connects from `from` and completes the hello.
    pub async fn hello_from(addr: SocketAddr, from: std::net::IpAddr) -> RawPeer {
        Self::try_hello_from(addr, from)
            .await
            .expect("connect and hello")
    }

    /// [`RawPeer::hello_from`], or None when the server is not there or
    /// does not answer the hello with 200 (a server restarting).
    pub async fn try_hello_from(addr: SocketAddr, from: std::net::IpAddr) -> Option<RawPeer> {
        let mut p = Self::try_connect_from(addr, from).await?;
        let hello = p.hello_frame();
        p.send(&hello).await;
        match p.recv().await {
            Some(ServerFrame::HelloAck { body, .. }) if body.code == ResCode::SUCCESS => Some(p),
            _ => None,
        }
    }

    /// Connects and completes the hello.
    pub async fn hello(addr: SocketAddr) -> RawPeer {
        let mut p = Self::connect(addr).await;
        let hello = p.hello_frame();
        p.send(&hello).await;
        match p.recv().await {
            Some(ServerFrame::HelloAck { body, .. }) => assert_eq!(body.code, ResCode::SUCCESS),
            other => panic!("expected a hello ack, got {other:?}"),
        }
        p
    }

    /// The next sequence number.
    pub fn next_seq(&mut self) -> u32 {
        self.seq += 1;
        self.seq
    }

    /// Sends a frame.
    pub async fn send(&mut self, f: &ClientFrame) {
        let mut b = Vec::new();
        encode_client(f, &mut b, u32::MAX).expect("encode");
        self.send_bytes(&b).await;
    }

    /// Sends frames in one write (pipelining).
    pub async fn send_all(&mut self, frames: &[ClientFrame]) {
        let mut b = Vec::new();
        for f in frames {
            encode_client(f, &mut b, u32::MAX).expect("encode");
        }
        self.send_bytes(&b).await;
    }

    /// The HELLO of this test peer, with the next sequence number.
    pub fn hello_frame(&mut self) -> ClientFrame {
        ClientFrame::Hello {
            seq: self.next_seq(),
            body: Hello {
                version: magpie_proto::PROTOCOL_VERSION,
                min_version: 1,
                sdk_version: "raw".into(),
            },
        }
    }

    /// Sends raw bytes.
    pub async fn send_bytes(&mut self, b: &[u8]) {
        self.stream.write_all(b).await.expect("write");
    }

    /// The next frame, or `None` once the server closed the connection.
    /// Panics after [`WAIT`].
    pub async fn recv(&mut self) -> Option<ServerFrame> {
        tokio::time::timeout(WAIT, async {
            loop {
                if let Decoded::Frame(f, n) =
                    decode_server(&self.buf, u32::MAX).expect("server frame")
                {
                    self.buf.drain(..n);
                    return Some(f);
                }
                let mut chunk = [0u8; 4096];
                match self.stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await
        .expect("timed out waiting for a server frame")
    }

    /// Sends a login and returns the server's answer.
    pub async fn login(&mut self, req: LoginRequest) -> ServerFrame {
        let seq = self.next_seq();
        self.send(&ClientFrame::Login {
            seq,
            body: Box::new(req),
        })
        .await;
        self.recv().await.expect("login answer")
    }

    /// [`RawPeer::login`], or None when the connection ends first.
    pub async fn try_login(&mut self, req: LoginRequest) -> Option<ServerFrame> {
        let seq = self.next_seq();
        self.send(&ClientFrame::Login {
            seq,
            body: Box::new(req),
        })
        .await;
        self.recv().await
    }
}

/// A well-formed login request for a Windows PC.
pub fn login_request(app: &TestApp, account: &str, token: &str, device: &str) -> LoginRequest {
    LoginRequest {
        app_key: app.key.clone(),
        account: account.into(),
        token: token.into(),
        client_type: magpie_proto::types::client_type::PC_WINDOWS,
        device_id: device.into(),
        client_os: "test".into(),
        sdk_version: "raw".into(),
        ..Default::default()
    }
}

/// Whether a request the server sent to an app server (login callback,
/// event webhook) carries NIM's signature for `secret`, checked as an app
/// server checks it: `MD5` of the body, `CheckSum` = SHA1(secret + MD5 +
/// CurTime), a 13-digit (ms) `CurTime` and an `AppKey`.
pub fn signed_by(secret: &str, body: &str, headers: &reqwest::header::HeaderMap) -> bool {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let md5 = magpie_proto::sign::md5_hex(body.as_bytes());
    let sum = magpie_server::callback::callback_checksum(secret, &md5, &header("CurTime"));
    header("MD5") == md5
        && header("CheckSum") == sum
        && header("CurTime").len() == 13
        && !header("AppKey").is_empty()
}
