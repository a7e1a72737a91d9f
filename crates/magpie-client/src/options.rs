use std::path::PathBuf;
use std::time::Duration;

/// How a client connects and who it says it is: the keys of NIM's init
/// JSON that govern login, plus Magpie's timing. Build with the `with_*` methods.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Link addresses (`host:port`), tried in turn (NIM's `private_server_setting.link`).
    pub link_addresses: Vec<String>,
    /// App key used when `login` is given an empty one (NIM's init `app_key`).
    pub app_key: String,
    /// Attempts of a manual login across the link addresses (`login_retry_max_times`; 0 = default 3).
    pub login_retry_max_times: u32,
    /// App-defined client type, > 0 when set (`custom_client_type`).
    pub custom_client_type: u32,
    /// NIMClientType of this device: by default the platform's (see
    /// [`platform_client_type`]).
    pub client_type: u32,
    /// Device id; by default generated once and kept in the app data directory.
    pub device_id: Option<String>,
    /// OS name and version reported to other devices (NIM's `client_os`,
    /// e.g. "Mac OS 14.5.0"); by default this machine's.
    pub client_os: String,
    /// MAC address reported to other devices (NIM's `mac`); by default
    /// this machine's first network interface's, empty when it has none.
    pub mac: String,
    /// Time allowed for connect, proxy and TLS handshakes and the hello.
    pub connect_timeout: Duration,
    /// Time allowed for the login answer.
    pub request_timeout: Duration,
    /// Longest a logout waits for the server's answer; unanswered, the
    /// device is logged out locally.
    pub logout_timeout: Duration,
    /// A link that brings nothing for this long is dead (heartbeats go at a
    /// third of it at most).
    pub dead_link_timeout: Duration,
    /// Automatic re-login backoff.
    pub reconnect: Backoff,
    /// TLS to the server, when set.
    pub tls: Option<TlsOptions>,
    /// Largest frame accepted from the server.
    pub max_frame: u32,
    /// Run on this tokio runtime instead of the SDK's own.
    pub runtime: Option<tokio::runtime::Handle>,
    /// Encrypts the local databases at rest (NIM's `db_encrypt_key`).
    pub db_key: Option<DbKey>,
    /// Which IP version the link addresses are reached over (NIM's
    /// `ip_protocol_version`).
    pub ip_version: IpVersion,
    /// Where to ask for the link addresses (NIM's private-server `lbs`).
    pub lbs: Option<LbsOptions>,
}

/// The key of the local databases (SQLCipher). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DbKey(String);

impl DbKey {
    /// A key of 1 to 32 characters (NIM's limit), else `None`.
    pub fn new(key: impl Into<String>) -> Option<DbKey> {
        let k = key.into();
        (!k.is_empty() && k.chars().count() <= 32).then_some(DbKey(k))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(<redacted>)")
    }
}

/// NIM's `ip_protocol_version`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IpVersion {
    /// 0: IPv4 addresses only (NIM's default).
    #[default]
    V4,
    /// 1: IPv6 addresses only.
    V6,
    /// 2: whichever the name resolves to, IPv6 first.
    Auto,
}

impl IpVersion {
    /// From NIM's number; `None` for another.
    pub fn from_nim(v: i64) -> Option<IpVersion> {
        match v {
            0 => Some(IpVersion::V4),
            1 => Some(IpVersion::V6),
            2 => Some(IpVersion::Auto),
            _ => None,
        }
    }
}

/// The LBS (location service) the link addresses come from: an HTTP(S)
/// URL answering `{"link":["host:port",...]}` (`magpie serve` serves one
/// when `lbs_listen` is set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LbsOptions {
    /// The URL, e.g. `http://im.example.com:9381/lbs`.
    pub url: String,
    /// Ask again before every automatic re-login (NIM's
    /// `need_update_lbs_befor_relogin`), not only before the first login.
    pub before_relogin: bool,
}

/// Exponential backoff with full jitter: the n-th wait is uniform in
/// `[0, min(cap, base * 2^n)]`. It starts over after a successful login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// First window.
    pub base: Duration,
    /// Largest window.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
        }
    }
}

impl Backoff {
    /// The window of attempt `n` (0-based).
    pub fn window(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.min(20)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A random wait for attempt `n`.
    pub fn delay(&self, n: u32) -> Duration {
        self.delay_with(n, &mut rand::thread_rng())
    }

    /// A random wait for attempt `n`, uniform in `[0, window(n)]`, from `rng`.
    pub fn delay_with(&self, n: u32, rng: &mut impl rand::Rng) -> Duration {
        let w = self.window(n).as_millis() as u64;
        Duration::from_millis(rng.gen_range(0..=w))
    }
}

/// TLS settings of the client.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// PEM file of the CA to trust instead of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Name to verify the certificate against (default: the link address's host).
    pub server_name: Option<String>,
}

/// NIM's client type of the platform the SDK runs on: macOS 64, iOS 2,
/// Android 1, and 4 (NIM's "PC") for Windows, Linux and every other desktop,
/// as NIM's own PC SDK reports on Linux.
pub fn platform_client_type() -> u32 {
    use magpie_proto::types::client_type;
    match std::env::consts::OS {
        "macos" => client_type::MACOS,
        "ios" => client_type::IOS,
        "android" => client_type::ANDROID,
        _ => client_type::PC_WINDOWS,
    }
}

/// This machine's OS name and version, e.g. "Debian 13 (trixie) x86_64",
/// "Mac OS 14.5.0 arm64", "Windows 10.0.19045 x86_64"; read once.
pub fn platform_os() -> &'static str {
    static OS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OS.get_or_init(|| {
        let info = os_info::get();
        let mut s = format!("{} {}", info.os_type(), info.version());
        if let Some(e) = info.edition() {
            s = format!("{s} {e}");
        }
        if let Some(c) = info.codename() {
            s = format!("{s} ({c})");
        }
        format!("{s} {}", std::env::consts::ARCH)
    })
}

/// The MAC address of this machine's first network interface that has one
/// (loopback has none), "aa:bb:cc:dd:ee:ff"; empty when there is none or it
/// cannot be read. Read once.
pub fn platform_mac() -> &'static str {
    static MAC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    MAC.get_or_init(|| match mac_address::get_mac_address() {
        Ok(Some(m)) => m.to_string().to_lowercase(),
        _ => String::new(),
    })
}

impl ClientOptions {
    /// Options for one link address, as this platform's client type with
    /// this machine's OS and MAC address.
    pub fn new(link_address: impl Into<String>) -> Self {
        ClientOptions {
            link_addresses: vec![link_address.into()],
            app_key: String::new(),
            login_retry_max_times: 3,
            custom_client_type: 0,
            client_type: platform_client_type(),
            device_id: None,
            client_os: platform_os().to_owned(),
            mac: platform_mac().to_owned(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
            logout_timeout: Duration::from_secs(5),
            dead_link_timeout: Duration::from_secs(25),
            reconnect: Backoff::default(),
            tls: None,
            max_frame: 4 << 20,
            runtime: None,
            db_key: None,
            ip_version: IpVersion::default(),
            lbs: None,
        }
    }

    /// Options with no link address, for a client that asks an LBS for
    /// them (see [`with_lbs`](ClientOptions::with_lbs)).
    pub fn from_lbs(lbs: LbsOptions) -> Self {
        let mut o = ClientOptions::new(String::new());
        o.link_addresses.clear();
        o.lbs = Some(lbs);
        o
    }

    /// Asks this LBS for the link addresses before the first login (and,
    /// with `before_relogin`, before every automatic re-login); the link
    /// addresses given here are the fallback when it cannot be reached.
    pub fn with_lbs(mut self, lbs: LbsOptions) -> Self {
        self.lbs = Some(lbs);
        self
    }

    /// Encrypts the local databases with this key.
    pub fn with_db_key(mut self, key: DbKey) -> Self {
        self.db_key = Some(key);
        self
    }

    /// Reaches the link addresses over this IP version.
    pub fn with_ip_version(mut self, v: IpVersion) -> Self {
        self.ip_version = v;
        self
    }

    /// Sets the NIMClientType.
    pub fn with_client_type(mut self, t: u32) -> Self {
        self.client_type = t;
        self
    }

    /// Sets the device id.
    pub fn with_device_id(mut self, id: impl Into<String>) -> Self {
        self.device_id = Some(id.into());
        self
    }

    /// Replaces the link addresses with one.
    pub fn with_link_address_only(mut self, s: impl Into<String>) -> Self {
        self.link_addresses = vec![s.into()];
        self
    }

    /// Adds a link address.
    pub fn with_link_address(mut self, s: impl Into<String>) -> Self {
        self.link_addresses.push(s.into());
        self
    }

    /// Sets the app key used when `login` gets an empty one.
    pub fn with_app_key(mut self, k: impl Into<String>) -> Self {
        self.app_key = k.into();
        self
    }

    /// Sets the custom client type.
    pub fn with_custom_client_type(mut self, t: u32) -> Self {
        self.custom_client_type = t;
        self
    }

    /// Sets the manual login attempts.
    pub fn with_login_retry_max_times(mut self, n: u32) -> Self {
        self.login_retry_max_times = n;
        self
    }

    /// Sets the request timeout.
    pub fn with_request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Sets the logout timeout.
    pub fn with_logout_timeout(mut self, d: Duration) -> Self {
        self.logout_timeout = d;
        self
    }

    /// Sets the dead-link bound.
    pub fn with_dead_link_timeout(mut self, d: Duration) -> Self {
        self.dead_link_timeout = d;
        self
    }

    /// Sets the re-login backoff.
    pub fn with_reconnect(mut self, b: Backoff) -> Self {
        self.reconnect = b;
        self
    }

    /// Connects with TLS.
    pub fn with_tls(mut self, t: TlsOptions) -> Self {
        self.tls = Some(t);
        self
    }

    /// Runs the SDK on an existing runtime.
    pub fn with_runtime(mut self, h: tokio::runtime::Handle) -> Self {
        self.runtime = Some(h);
        self
    }
}

/// NIM's LoginParams: what a login carries besides app key, account and token.
#[derive(Clone, Debug, Default)]
pub struct LoginParams {
    /// Custom login data shown to the account's other devices (`custom_tag`).
    pub custom_tag: String,
    /// NIMAuthType.
    pub auth_type: u32,
    /// Extra data for the third-party callback (`login_ex`).
    pub login_ex: String,
}

/// NIMProxyType values accepted by `set_proxy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyType {
    /// kNIMProxyNone (0): connect directly.
    None,
    /// kNIMProxyHttp11 (1): not supported, as in NIM.
    Http11,
    /// kNIMProxySocks4 (4).
    Socks4,
    /// kNIMProxySocks4a (5).
    Socks4a,
    /// kNIMProxySocks5 (6).
    Socks5,
}

impl ProxyType {
    /// From NIM's number.
    pub fn from_nim(v: u32) -> Option<ProxyType> {
        Some(match v {
            0 => ProxyType::None,
            1 => ProxyType::Http11,
            4 => ProxyType::Socks4,
            5 => ProxyType::Socks4a,
            6 => ProxyType::Socks5,
            _ => return None,
        })
    }
}

/// A proxy for the next connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    /// SOCKS version.
    pub kind: ProxyType,
    /// Proxy host.
    pub host: String,
    /// Proxy port.
    pub port: u16,
    /// User (SOCKS5 user name, SOCKS4 user id); empty for none.
    pub user: String,
    /// Password (SOCKS5 only); empty for none.
    pub password: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_is_reported_as_it_is() {
        let os = platform_os();
        println!("client_os {os:?}, mac {:?}", platform_mac());
        assert!(os.ends_with(std::env::consts::ARCH), "{os}");
        assert!(!os.starts_with("Unknown"), "{os}");
        if cfg!(target_os = "linux") {
            assert_eq!(platform_client_type(), 4, "Linux reports NIM's PC");
            // The first interface with an address, as /sys lists them.
            let any_nic = std::fs::read_dir("/sys/class/net")
                .unwrap()
                .filter_map(|e| std::fs::read_to_string(e.unwrap().path().join("address")).ok())
                .any(|a| a.trim() != "00:00:00:00:00:00" && !a.trim().is_empty());
            assert_eq!(!platform_mac().is_empty(), any_nic);
        }
        let m = platform_mac();
        assert!(
            m.is_empty() || (m.len() == 17 && m.split(':').count() == 6),
            "{m}"
        );
        let o = ClientOptions::new("h:1");
        assert_eq!(
            (o.client_type, o.client_os.as_str(), o.mac.as_str()),
            (platform_client_type(), os, m)
        );
    }
}
