//! Server configuration: serde defaults, then a TOML file, then `MAGPIE_*`
//! environment variables (nested keys joined by `__`, for example
//! `MAGPIE_LOGIN_LIMITS__PER_ACCOUNT_BURST=20`), then command-line flags.

use magpie_bus::policy::Policy;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything `magpie serve` can be told. Field doc comments are the docs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Directory of the embedded store (`magpie.db`) and other state.
    pub data_dir: PathBuf,
    /// Store URL: `sqlite://PATH`. Unset: the embedded SQLite file
    /// `magpie.db` in `data_dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// TCP address for client connections: `host:port` or `tcp://host:port`.
    #[serde(deserialize_with = "de_listen_client")]
    pub listen: SocketAddr,
    /// HTTP address of the admin API and `/healthz`: `host:port` or
    /// `http://host:port`.
    #[serde(deserialize_with = "de_listen_admin")]
    pub admin_listen: SocketAddr,
    /// Largest client frame accepted, in bytes (the length prefix value).
    pub max_frame_bytes: u32,
    /// Heartbeat interval advertised to clients, in milliseconds.
    pub heartbeat_interval_ms: u64,
    /// A connection silent for longer than this is closed, in milliseconds.
    pub idle_timeout_ms: u64,
    /// Time a new connection has to complete its hello, in milliseconds.
    pub handshake_timeout_ms: u64,
    /// Time allowed to write one frame to a client before it is dropped, in ms.
    pub write_timeout_ms: u64,
    /// Pushes queued per connection before it counts as a slow reader and is closed.
    pub outbox_capacity: usize,
    /// Messages and notifications waiting to be stored, all connections
    /// together; past it, sends are refused with 503 until the store catches up.
    pub message_queue: usize,
    /// How often retention (the apps' `retention_days`/`retention_entries`)
    /// runs, in milliseconds.
    pub retention_interval_ms: u64,
    /// Most client connections held at once; further ones are refused.
    /// 0 (the default): as many as the process's open-file limit allows,
    /// less a reserve for the store, the admin listener and login callbacks.
    pub max_connections: usize,
    /// Threads that serve connections (the async runtime's workers). 0 (the
    /// default): one per core less one, at least one, leaving a core to
    /// the store's writer threads (see [`ServerConfig::worker_threads`]).
    pub workers: usize,
    /// Most connections from one IP address that have not logged in yet;
    /// further ones are refused with 503 until some log in or close.
    pub max_pre_login_per_ip: usize,
    /// Login rate limits (answered with 416).
    pub login_limits: LoginLimits,
    /// Admin API settings.
    pub admin: AdminConfig,
    /// Multi-device policy of apps that have none of their own:
    /// `{ mode = "single" | "desktop_mobile" | "all" }`, or `mode = "custom"` with `rules`.
    pub default_device_policy: Policy,
    /// Limits on dynamic tokens (auth type 1).
    pub dynamic_token: DynamicTokenConfig,
    /// Third-party login callbacks (auth type 2).
    pub login_callback: LoginCallbackConfig,
    /// Event webhooks (login, logout and kick events).
    pub webhook: WebhookConfig,
    /// TLS for the client listener; when set, clients must connect with TLS.
    pub tls: Option<TlsConfig>,
    /// The LBS: an HTTP endpoint that tells SDKs the link addresses.
    pub lbs: LbsConfig,
    /// Log filter, in `RUST_LOG` syntax (`RUST_LOG` wins when set).
    pub log: String,
    /// Log line format: `text` or `json` (one object per line).
    pub log_format: crate::logging::LogFormat,
    /// After SIGTERM or SIGINT, how long connections may take to close
    /// before the server stops anyway, in milliseconds.
    pub drain_timeout_ms: u64,
}

/// The LBS (location service) NIM SDKs ask for the link addresses when
/// their init names a private server's `lbs`: `GET /lbs?k=APPKEY` answers
/// `{"code":200,"link":["host:port",...]}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct LbsConfig {
    /// HTTP address to serve the LBS on (`host:port`); empty: no LBS.
    pub listen: String,
    /// Link addresses handed out, as clients reach them (`host:port`).
    /// Empty: the address the LBS request came to, with the client
    /// listener's port.
    pub links: Vec<String>,
}

/// Limits on dynamic tokens.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DynamicTokenConfig {
    /// Largest accepted ttl, seconds.
    pub max_ttl_secs: u64,
    /// How far a token's curTime may be ahead of the server clock, seconds.
    pub clock_skew_secs: u64,
}

impl Default for DynamicTokenConfig {
    fn default() -> Self {
        DynamicTokenConfig {
            max_ttl_secs: 86_400,
            clock_skew_secs: 300,
        }
    }
}

/// Third-party login callback settings of the server (per-app settings are
/// set through the admin API).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LoginCallbackConfig {
    /// Most callbacks in flight at once, all apps together.
    pub max_concurrency: usize,
    /// Let apps' callback URLs reach loopback, private and link-local
    /// addresses (this machine and its network). Off: an app owner cannot
    /// probe the server's network through the callback.
    pub allow_private_addresses: bool,
}

impl Default for LoginCallbackConfig {
    fn default() -> Self {
        LoginCallbackConfig {
            max_concurrency: 256,
            allow_private_addresses: false,
        }
    }
}

/// Event webhooks: delivery of the events apps' webhooks receive (the URL
/// is set per app through the admin API). Private addresses follow
/// `login_callback.allow_private_addresses`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Events waiting to be written to the outbox; past it, events are
    /// dropped and counted (a login never waits for its event).
    pub queue: usize,
    /// Time allowed for one delivery, ms.
    pub timeout_ms: u64,
    /// Deliveries in flight at once, all apps together.
    pub concurrency: usize,
    /// Wait before the first retry of a failed delivery, ms (doubling after
    /// each failure, with jitter).
    pub retry_initial_ms: u64,
    /// Longest wait between retries, ms.
    pub retry_max_ms: u64,
    /// Events not delivered after this many hours are given up (logged).
    pub give_up_after_hours: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            queue: 65_536,
            timeout_ms: 5_000,
            concurrency: 8,
            retry_initial_ms: 1_000,
            retry_max_ms: 300_000,
            give_up_after_hours: 72,
        }
    }
}

/// PEM files of the client listener's certificate chain and private key.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain (PEM), leaf first.
    pub cert_file: PathBuf,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
}

/// Token-bucket limits on login attempts. A rate of 0 disables that limit.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LoginLimits {
    /// Sustained successful logins per second for one account (a device in a
    /// login loop); failed attempts are limited per address below.
    pub per_account_per_sec: f64,
    /// Burst of successful logins for one account.
    pub per_account_burst: f64,
    /// Sustained login attempts per second from one IP address (0 = off:
    /// users behind one NAT and reconnect storms share an address).
    pub per_ip_per_sec: f64,
    /// Burst of login attempts from one IP address.
    pub per_ip_burst: f64,
    /// Sustained failed logins (wrong account or token) per second from one
    /// IP address, all accounts together.
    pub failed_per_ip_per_sec: f64,
    /// Burst of failed logins from one IP address.
    pub failed_per_ip_burst: f64,
    /// Sustained failed logins per second for one account from one IP
    /// address. Failures from elsewhere never count against the owner.
    pub failed_per_account_ip_per_sec: f64,
    /// Burst of failed logins for one account from one IP address.
    pub failed_per_account_ip_burst: f64,
}

/// Admin API settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Largest accepted difference between CurTime and the server clock, in seconds;
    /// a Nonce cannot be reused within this window.
    pub checksum_window_secs: u64,
    /// Most nonces remembered per app; past it, that app's signed calls get
    /// 416 until old ones expire (other apps are not affected).
    pub max_nonces: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Admin connections served at once (further ones wait in the backlog);
    /// also the descriptors kept in reserve for the admin listener.
    pub max_connections: usize,
    /// Time to send a request's headers, and the longest a keep-alive
    /// connection may sit idle between requests, in milliseconds.
    pub header_timeout_ms: u64,
    /// Time to send a whole request (body included) and get its answer, in
    /// milliseconds; past it the answer is HTTP 408.
    pub request_timeout_ms: u64,
    /// Sustained signed calls per second per app (answered 416 past it).
    pub per_app_per_sec: f64,
    /// Burst of signed calls per app.
    pub per_app_burst: f64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data_dir: PathBuf::from("./magpie-data"),
            store: None,
            listen: "127.0.0.1:9300".parse().expect("valid address"),
            admin_listen: "127.0.0.1:9380".parse().expect("valid address"),
            max_frame_bytes: magpie_proto::DEFAULT_MAX_FRAME,
            heartbeat_interval_ms: 10_000,
            idle_timeout_ms: 35_000,
            handshake_timeout_ms: 10_000,
            write_timeout_ms: 10_000,
            outbox_capacity: 256,
            message_queue: 16_384,
            retention_interval_ms: 3_600_000,
            max_connections: 0,
            workers: 0,
            max_pre_login_per_ip: 256,
            login_limits: LoginLimits::default(),
            admin: AdminConfig::default(),
            tls: None,
            lbs: LbsConfig::default(),
            dynamic_token: DynamicTokenConfig::default(),
            login_callback: LoginCallbackConfig::default(),
            webhook: WebhookConfig::default(),
            default_device_policy: Policy::default(),
            log: "info".into(),
            log_format: crate::logging::LogFormat::Text,
            drain_timeout_ms: 10_000,
        }
    }
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_account_per_sec: 1.0,
            per_account_burst: 10.0,
            per_ip_per_sec: 0.0,
            per_ip_burst: 0.0,
            failed_per_ip_per_sec: 5.0,
            failed_per_ip_burst: 100.0,
            failed_per_account_ip_per_sec: 0.2,
            failed_per_account_ip_burst: 10.0,
        }
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            checksum_window_secs: 300,
            max_nonces: 150_000,
            max_body_bytes: 64 * 1024,
            max_connections: 64,
            header_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            per_app_per_sec: 200.0,
            per_app_burst: 400.0,
        }
    }
}

/// Top-level keys; other `MAGPIE_*` variables (the CLI's own) are not config.
const FIELDS: &[&str] = &[
    "data_dir",
    "store",
    "listen",
    "admin_listen",
    "max_frame_bytes",
    "heartbeat_interval_ms",
    "idle_timeout_ms",
    "handshake_timeout_ms",
    "write_timeout_ms",
    "outbox_capacity",
    "message_queue",
    "retention_interval_ms",
    "max_connections",
    "workers",
    "max_pre_login_per_ip",
    "login_limits",
    "admin",
    "tls",
    "lbs",
    "default_device_policy",
    "dynamic_token",
    "login_callback",
    "webhook",
    "log",
    "log_format",
    "drain_timeout_ms",
];

/// Parses a listen address: `host:port` (IPv6 in brackets, host names
/// resolved, the first address used) or a URL whose scheme is one this port
/// speaks. `what` names the setting in errors.
pub fn parse_listen(s: &str, schemes: &[&str], what: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let s = s.trim();
    let rest = match s.split_once("://") {
        Some((scheme, rest)) => {
            if !schemes.contains(&scheme.to_ascii_lowercase().as_str()) {
                return Err(format!(
                    "{what} {s:?}: this port does not speak {scheme}://; give host:port"
                ));
            }
            rest.trim_end_matches('/')
        }
        None => s,
    };
    if let Ok(a) = rest.parse::<SocketAddr>() {
        return Ok(a);
    }
    let bad = || format!("{what} {s:?} is not host:port (for example 127.0.0.1:9300)");
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(bad());
    }
    rest.to_socket_addrs()
        .map_err(|e| format!("{what} {s:?}: cannot resolve the host: {e}"))?
        .next()
        .ok_or_else(|| format!("{what} {s:?}: the host has no address"))
}

fn de_listen<'de, D: serde::Deserializer<'de>>(
    d: D,
    schemes: &[&str],
    what: &str,
) -> Result<SocketAddr, D::Error> {
    let s = String::deserialize(d)?;
    parse_listen(&s, schemes, what).map_err(serde::de::Error::custom)
}

fn de_listen_client<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    de_listen(d, &["tcp"], "listen")
}

fn de_listen_admin<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    de_listen(d, &["http"], "admin_listen")
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl ServerConfig {
    /// The worker threads to start: `workers`, or when 0 one per core less
    /// one (at least one). The store copies messages into SQLite and
    /// checkpoints on threads of its own; a worker per core made them
    /// preempt the workers, and cross-worker wake-ups cost more than the
    /// extra worker gave (docs/decisions.md, "Worker threads").
    pub fn worker_threads(&self) -> usize {
        if self.workers > 0 {
            return self.workers;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.saturating_sub(1).max(1)
    }

    /// Defaults, overlaid with the TOML file (if given) and `MAGPIE_*` variables.
    pub fn load(file: Option<&Path>) -> Result<ServerConfig, ConfigError> {
        use figment::providers::{Env, Format, Serialized, Toml};
        let mut fig = figment::Figment::from(Serialized::defaults(ServerConfig::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError(format!(
                    "config file {} not found",
                    f.display()
                )));
            }
            fig = fig.merge(Toml::file(f));
        }
        let cfg: ServerConfig = fig
            .merge(Env::prefixed("MAGPIE_").split("__").filter(|k| {
                let k = k.as_str().to_ascii_lowercase();
                FIELDS.iter().any(|f| {
                    k == *f
                        || k.strip_prefix(f)
                            .is_some_and(|r| r.starts_with('.') || r.starts_with("__"))
                })
            }))
            .extract()
            .map_err(|e| ConfigError(describe(e)))?;
        Ok(cfg)
    }

    /// Checks values that serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError(m.into()));
        if self.max_frame_bytes < 1024 {
            return bad("max_frame_bytes must be at least 1024");
        }
        if self.heartbeat_interval_ms == 0 || self.idle_timeout_ms <= self.heartbeat_interval_ms {
            return bad("idle_timeout_ms must be greater than heartbeat_interval_ms > 0");
        }
        if self.outbox_capacity == 0
            || self.max_pre_login_per_ip == 0
            || self.message_queue == 0
            || self.retention_interval_ms == 0
        {
            return bad("outbox_capacity, max_pre_login_per_ip, message_queue and retention_interval_ms must be positive");
        }
        let w = &self.webhook;
        if w.queue == 0
            || w.concurrency == 0
            || w.timeout_ms == 0
            || w.retry_initial_ms == 0
            || w.retry_max_ms < w.retry_initial_ms
        {
            return bad("webhook.queue, concurrency, timeout_ms and retry_initial_ms must be positive, and retry_max_ms at least retry_initial_ms");
        }
        let l = &self.login_limits;
        if l.per_account_per_sec < 0.0 || l.per_ip_per_sec < 0.0 {
            return bad("login rates must not be negative");
        }
        if (l.per_account_per_sec > 0.0 && l.per_account_burst < 1.0)
            || (l.per_ip_per_sec > 0.0 && l.per_ip_burst < 1.0)
        {
            return bad("an enabled login limit needs a burst of at least 1");
        }
        if !self.lbs.listen.is_empty() {
            parse_listen(&self.lbs.listen, &["http"], "lbs.listen").map_err(ConfigError)?;
        }
        for l in &self.lbs.links {
            if l.rsplit_once(':')
                .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
            {
                return Err(ConfigError(format!(
                    "lbs.links: {l:?} is not host:port (for example im.example.com:9300)"
                )));
            }
        }
        self.default_device_policy
            .validate()
            .map_err(|e| ConfigError(format!("default_device_policy: {e}")))?;
        if self.dynamic_token.max_ttl_secs == 0 || self.login_callback.max_concurrency == 0 {
            return bad(
                "dynamic_token.max_ttl_secs and login_callback.max_concurrency must be positive",
            );
        }
        if self.admin.checksum_window_secs == 0 {
            return bad("admin.checksum_window_secs must be positive");
        }
        let a = &self.admin;
        if a.max_nonces == 0
            || a.max_connections == 0
            || a.header_timeout_ms == 0
            || a.request_timeout_ms == 0
        {
            return bad("admin.max_nonces, max_connections, header_timeout_ms and request_timeout_ms must be positive");
        }
        if a.per_app_per_sec < 0.0 || (a.per_app_per_sec > 0.0 && a.per_app_burst < 1.0) {
            return bad("admin.per_app_per_sec must not be negative, and an enabled limit needs a burst of at least 1");
        }
        if l.failed_per_ip_per_sec < 0.0
            || l.failed_per_account_ip_per_sec < 0.0
            || (l.failed_per_ip_per_sec > 0.0 && l.failed_per_ip_burst < 1.0)
            || (l.failed_per_account_ip_per_sec > 0.0 && l.failed_per_account_ip_burst < 1.0)
        {
            return bad("failed-login limits must not be negative, and an enabled limit needs a burst of at least 1");
        }
        Ok(())
    }

    /// The configuration as TOML, for `magpie serve --print-config`: every
    /// section and key with a comment saying what it does; optional
    /// settings that are unset (`store`, `[tls]`) appear commented out.
    pub fn to_toml(&self) -> String {
        let plain = toml::to_string_pretty(self).expect("config serialises");
        let mut out = String::from(
            "# Magpie server configuration (`magpie serve --config FILE`).\n\
             # Precedence: command-line flags, then MAGPIE_* environment variables\n\
             # (nested keys joined by __, e.g. MAGPIE_LOGIN_LIMITS__PER_ACCOUNT_BURST=20),\n\
             # then this file, then the defaults shown here.\n\n",
        );
        let mut table = String::new();
        let mut first_key = true;
        for line in plain.lines() {
            let t = line.trim();
            if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                table = name.to_owned();
                out.push('\n');
                if let Some(doc) = key_doc("", &table).or_else(|| key_doc(&table, "")) {
                    push_comment(&mut out, doc);
                }
                out.push_str(line);
                out.push('\n');
                continue;
            }
            if let Some((key, _)) = t.split_once(" = ") {
                if table.is_empty() && first_key {
                    first_key = false;
                    if self.store.is_none() {
                        push_comment(&mut out, key_doc("", "store").unwrap_or_default());
                        out.push_str("# store = \"sqlite:///var/lib/magpie/magpie.db\"\n\n");
                    }
                }
                if let Some(doc) = key_doc(&table, key.trim()) {
                    push_comment(&mut out, doc);
                }
            }
            if !t.is_empty() {
                out.push_str(line);
                out.push('\n');
            }
        }
        if self.tls.is_none() {
            out.push('\n');
            push_comment(&mut out, key_doc("", "tls").unwrap_or_default());
            out.push_str("# [tls]\n");
            push_comment(&mut out, key_doc("tls", "cert_file").unwrap_or_default());
            out.push_str("# cert_file = \"/etc/magpie/cert.pem\"\n");
            push_comment(&mut out, key_doc("tls", "key_file").unwrap_or_default());
            out.push_str("# key_file = \"/etc/magpie/key.pem\"\n");
        }
        out
    }
}

fn push_comment(out: &mut String, doc: &str) {
    for l in doc.lines() {
        out.push_str("# ");
        out.push_str(l);
        out.push('\n');
    }
}

/// The comment of a key (`table` empty for top-level keys and tables).
fn key_doc(table: &str, key: &str) -> Option<&'static str> {
    Some(match (table, key) {
        ("", "data_dir") => "Directory of the embedded store (magpie.db), its message journal and other state.",
        ("", "store") => "Store URL: sqlite://PATH. Unset: the embedded SQLite file magpie.db in data_dir.",
        ("", "listen") => "TCP address for client connections (the SDK's link address).",
        ("", "admin_listen") => "HTTP address of the admin API, /healthz. Keep it private (loopback or a private network).",
        ("", "max_frame_bytes") => "Largest client frame accepted, in bytes (the length prefix value).",
        ("", "heartbeat_interval_ms") => "Heartbeat interval advertised to clients, in milliseconds.",
        ("", "idle_timeout_ms") => "A connection silent for longer than this is closed, in milliseconds.",
        ("", "handshake_timeout_ms") => "Time a new connection has to complete its hello, in milliseconds.",
        ("", "write_timeout_ms") => "Time allowed to write one frame to a client before it is dropped, in milliseconds.",
        ("", "outbox_capacity") => "Pushes queued per connection before it counts as a slow reader and is closed\n(the client re-syncs what it missed at its next login).",
        ("", "message_queue") => "Messages and notifications waiting to be stored, all connections together;\npast it, sends are refused with 503 until the store catches up.",
        ("", "retention_interval_ms") => "How often retention (each app's retention_days / retention_entries) runs, in milliseconds.",
        ("", "max_connections") => "Most client connections held at once; further ones are refused with 503.\n0: as many as the open-file limit allows, less a reserve for the store,\nthe admin listener (admin.max_connections) and login callbacks.",
        ("", "workers") => "Threads that serve connections. 0: one per core less one (at least one), which\nleaves a core to the store's writer threads.",
        ("", "max_pre_login_per_ip") => "Most connections from one IP address that have not logged in yet (sized for\nmany users behind one NAT); further ones are refused with 503.",
        ("", "log") => "Log filter, in RUST_LOG syntax (RUST_LOG wins when set).",
        ("", "drain_timeout_ms") => "After SIGTERM or SIGINT, how long connections may take to close before the\nserver stops anyway, in milliseconds (acknowledged messages are already durable).",
        ("", "log_format") => "Log lines: text (for people) or json (one object per line, for log collectors).\nLines that stderr cannot take are dropped and counted (magpie_log_lines_dropped).",
        ("", "login_limits") => "Login rate limits (token buckets; a refused login gets 416). A rate of 0 disables that limit.",
        ("login_limits", "per_account_per_sec") => "Sustained successful logins per second for one account (a device in a login\nloop); failed attempts are limited per address below.",
        ("login_limits", "per_account_burst") => "Burst of successful logins for one account.",
        ("login_limits", "per_ip_per_sec") => "Sustained login attempts per second from one IP address\n(0 = off: users behind one NAT and reconnect storms share an address).",
        ("login_limits", "per_ip_burst") => "Burst of login attempts from one IP address.",
        ("login_limits", "failed_per_ip_per_sec") => "Sustained failed logins (wrong account or token) per second from one IP address.",
        ("login_limits", "failed_per_ip_burst") => "Burst of failed logins from one IP address.",
        ("login_limits", "failed_per_account_ip_per_sec") => "Sustained failed logins per second for one account from one IP address;\nfailures from other addresses never count against the owner.",
        ("login_limits", "failed_per_account_ip_burst") => "Burst of failed logins for one account from one IP address.",
        ("", "admin") => "Admin API settings (NIM's server API, CheckSum-signed).",
        ("admin", "checksum_window_secs") => "Largest accepted difference between CurTime and the server clock, in seconds;\na Nonce cannot be reused within this window.",
        ("admin", "max_nonces") => "Most nonces remembered per app; past it, that app's signed calls get 416\nuntil old ones expire (other apps are not affected).",
        ("admin", "max_body_bytes") => "Largest request body, in bytes.",
        ("admin", "max_connections") => "Admin connections served at once (more wait in the backlog); also the\ndescriptors kept in reserve for the admin listener.",
        ("admin", "header_timeout_ms") => "Time to send a request's headers, and the longest a keep-alive connection\nmay sit idle between requests, in milliseconds.",
        ("admin", "request_timeout_ms") => "Time to send a whole request and get its answer, in milliseconds (HTTP 408 past it).",
        ("admin", "per_app_per_sec") => "Sustained signed calls per second per app (416 past it; 0 = off).",
        ("admin", "per_app_burst") => "Burst of signed calls per app.",
        ("", "default_device_policy") => "Multi-device policy of apps that have none of their own (set per app with\n`magpie admin policy set`): mode = \"single\", \"desktop_mobile\", \"all\",\nor \"custom\" with rules (docs/multi-device.md).",
        ("default_device_policy", "mode") => "single | desktop_mobile | all | custom",
        ("", "dynamic_token") => "Limits on dynamic tokens (auth type 1).",
        ("dynamic_token", "max_ttl_secs") => "Largest accepted ttl, in seconds.",
        ("dynamic_token", "clock_skew_secs") => "How far a token's curTime may be ahead of the server clock, in seconds.",
        ("", "login_callback") => "Third-party login callbacks (auth type 2); the URL is set per app\nwith `magpie admin auth set`.",
        ("login_callback", "max_concurrency") => "Most callbacks in flight at once, all apps together.",
        ("login_callback", "allow_private_addresses") => "Let apps' callback URLs reach loopback, private and link-local addresses\n(this machine and its network); off, an app owner cannot probe them.",
        ("", "webhook") => "Event webhooks: apps' login, logout and kick events, POSTed to the URL each app\nsets (`magpie admin webhook set URL`), signed like the login callback, from a\ndurable outbox with retries. Private addresses follow login_callback.allow_private_addresses.",
        ("webhook", "queue") => "Events waiting to be written to the outbox; past it, events are dropped and counted\n(magpie_webhook_events_dropped_total): a login never waits for its event.",
        ("webhook", "timeout_ms") => "Time allowed for one delivery, in milliseconds (NIM: 5 s).",
        ("webhook", "concurrency") => "Deliveries in flight at once, all apps together.",
        ("webhook", "retry_initial_ms") => "Wait before the first retry of a failed delivery, in milliseconds; it doubles\nafter each failure (with jitter) up to retry_max_ms.",
        ("webhook", "retry_max_ms") => "Longest wait between retries, in milliseconds.",
        ("webhook", "give_up_after_hours") => "Events not delivered after this many hours are given up (and logged).",
        ("", "tls") => "TLS for the client listener; when set, clients must connect with TLS\n(`magpie client --server tls://HOST:PORT`, ClientOptions::with_tls).",
        ("", "lbs") => "The LBS (location service): NIM SDKs whose init names a private server's lbs\nURL ask it for the link addresses (GET /lbs?k=APPKEY -> {\"code\":200,\"link\":[...]}).",
        ("lbs", "listen") => "HTTP address to serve the LBS on, e.g. \"0.0.0.0:9381\"; empty: no LBS.\nPublic, unlike admin_listen: it tells clients nothing but the link addresses.",
        ("lbs", "links") => "Link addresses handed out, as clients reach them (host:port); empty: the\naddress the LBS request came to, with the client listener's port.",
        ("tls", "cert_file") => "Certificate chain (PEM), leaf first.",
        ("tls", "key_file") => "Private key (PEM: PKCS#8, PKCS#1 or SEC1).",
        (t, _) if t.starts_with("default_device_policy") => {
            "Part of the custom policy's rules (docs/multi-device.md, custom rules)."
        }
        _ => return None,
    })
}

/// A figment error as a person reads it: the key as written in the file
/// (`admin.max_nonce`, not `default.admin.max_nonce`), and where it came
/// from (the file, or the environment variable's name).
fn describe(e: figment::Error) -> String {
    let mut out = Vec::new();
    for err in e {
        let key = err.path.join(".");
        let at = match &err.metadata {
            Some(m) => match &m.source {
                Some(figment::Source::File(p)) => format!(" in {}", p.display()),
                _ if m.name.contains("environment") => format!(
                    " in environment variable MAGPIE_{}",
                    err.path.join("__").to_ascii_uppercase()
                ),
                _ => String::new(),
            },
            None => String::new(),
        };
        out.push(if key.is_empty() {
            format!("{}{at}", err.kind)
        } else {
            format!("key `{key}`{at}: {}", err.kind)
        });
    }
    out.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_default_to_one_per_core_less_one() {
        let mut c = ServerConfig::default();
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(c.worker_threads(), (cores - 1).max(1));
        c.workers = 3;
        assert_eq!(c.worker_threads(), 3);
    }

    /// A line that starts a key or a table (not a comment, nor the
    /// continuation of a multi-line array).
    fn starts_key_or_table(l: &str) -> bool {
        !l.is_empty() && !l.starts_with([' ', '#', ']', '"'])
    }

    #[test]
    fn printed_config_is_commented_complete_and_reads_back() {
        let cfg = ServerConfig::default();
        let text = cfg.to_toml();
        // Every key and section line is preceded by a comment.
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if starts_key_or_table(l) {
                assert!(
                    i > 0 && lines[i - 1].starts_with('#'),
                    "no comment above {l:?} in\n{text}"
                );
            }
        }
        // Every section, the optional ones commented out.
        for section in [
            "[login_limits]",
            "[admin]",
            "[default_device_policy]",
            "[dynamic_token]",
            "[login_callback]",
            "[lbs]",
            "# [tls]",
            "# store = ",
        ] {
            assert!(text.contains(section), "{section} missing in\n{text}");
        }
        let back: ServerConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, cfg);
        // With TLS and a store set, they are printed as real keys.
        let cfg = ServerConfig {
            tls: Some(TlsConfig {
                cert_file: "/c.pem".into(),
                key_file: "/k.pem".into(),
            }),
            store: Some("sqlite:///tmp/x.db".into()),
            ..ServerConfig::default()
        };
        let text = cfg.to_toml();
        assert!(
            text.contains("\n[tls]\n") && !text.contains("# [tls]"),
            "{text}"
        );
        assert_eq!(toml::from_str::<ServerConfig>(&text).unwrap(), cfg);
    }

    #[test]
    fn a_custom_policy_prints_with_comments_and_reads_back() {
        let policy: Policy = serde_json::from_str(
            r#"{"mode": "custom", "rules": {
              "classes": {"pc": 1, "phone": 2, "kiosk": 1},
              "client_types": {"4": "pc", "1": "phone"},
              "custom_client_types": {"9": "kiosk"},
              "default_class": "pc",
              "exclusive": [["kiosk", "phone"]],
              "max_total": 3,
              "overflow": "kick_oldest"}}"#,
        )
        .unwrap();
        let cfg = ServerConfig {
            default_device_policy: policy,
            ..ServerConfig::default()
        };
        let text = cfg.to_toml();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if starts_key_or_table(l) {
                assert!(
                    lines[i - 1].starts_with('#'),
                    "no comment above {l:?} in\n{text}"
                );
            }
        }
        assert_eq!(toml::from_str::<ServerConfig>(&text).unwrap(), cfg);
    }

    #[test]
    fn errors_name_the_key_as_written_and_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("m.toml");
        std::fs::write(&f, "[admin]\nmax_nonce = 3\n").unwrap();
        let e = ServerConfig::load(Some(&f)).unwrap_err().to_string();
        assert!(e.contains("key `admin.max_nonce`"), "{e}");
        // Listen addresses take the CLI's forms in the file too.
        std::fs::write(
            &f,
            "listen = \"tcp://127.0.0.1:9\"\nadmin_listen = \"localhost:8\"\n",
        )
        .unwrap();
        let c = ServerConfig::load(Some(&f)).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9".parse().unwrap());
        assert!(c.admin_listen.ip().is_loopback() && c.admin_listen.port() == 8);
        std::fs::write(&f, "listen = \"http://127.0.0.1:9\"\n").unwrap();
        let e = ServerConfig::load(Some(&f)).unwrap_err().to_string();
        assert!(e.contains("does not speak http://"), "{e}");
        std::fs::write(&f, "[admin]\nmax_nonce = 3\n").unwrap();
        let e = ServerConfig::load(Some(&f)).unwrap_err().to_string();
        assert!(e.contains(&f.display().to_string()), "{e}");
        assert!(!e.contains("default."), "{e}");
    }
}
