//! The third-party login callback (auth_type 2; NIM's pages "第三方回调登录" (Third-party callback login) and "IM 登录相关回调" (IM login callbacks)).
//!
//! At login the server POSTs NIM's login event (eventType 36) to the app's
//! callback URL, signed with `AppKey`, `CurTime` (ms), `MD5` (of the body)
//! and `CheckSum` = SHA1(AppSecret + MD5 + CurTime). The app server answers
//! HTTP 200 with `{"errCode":0}` to allow the login, or `{"errCode":N}`
//! (N > 0) to refuse it: the client then receives N as its login code.
//! Callbacks run concurrently, at most `max_concurrency` at once; each waits
//! at most the app's timeout, permit included.

use magpie_store::settings::CallbackSettings;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// What the callback decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Log in.
    Allow,
    /// Refuse with this code and reason.
    Deny(u32, String),
    /// The callback failed (timeout, network, bad answer): the app's
    /// fail-open switch decides.
    Failed(String),
}

/// The facts of a login sent to the callback.
pub struct LoginEvent<'a> {
    /// Account.
    pub account: &'a str,
    /// Device id.
    pub device_id: &'a str,
    /// NIMClientType.
    pub client_type: u32,
    /// Client address.
    pub ip: String,
    /// Client port.
    pub port: u16,
    /// Token as sent.
    pub token: &'a str,
    /// Auth type (2).
    pub auth_type: u32,
    /// login_ex.
    pub login_ext: &'a str,
    /// Custom client type.
    pub custom_client_type: u32,
    /// Custom tag.
    pub custom_tag: &'a str,
    /// The SDK's automatic re-login.
    pub auto_login: bool,
}

/// The HTTP client and the concurrency bound of login callbacks.
pub struct Callbacks {
    http: reqwest::Client,
    permits: Arc<Semaphore>,
    allow_private: bool,
}

/// NIM's callback CheckSum: SHA1(AppSecret + MD5 + CurTime), lowercase hex.
pub fn callback_checksum(app_secret: &str, md5: &str, cur_time: &str) -> String {
    magpie_proto::sign::checksum(&[app_secret, md5, cur_time])
}

/// True for addresses an app's callback may not reach unless the operator
/// allows it: loopback, private (RFC 1918, IPv6 unique-local), link-local,
/// shared (RFC 6598), unspecified, broadcast and multicast. They are the
/// server's own machine and network, which an app owner must not be able to
/// probe through the login callback.
pub fn private_address(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return private_address(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Why a callback URL may not be called, when its host is a private
/// address or a name for this machine.
pub fn url_refusal(url: &str) -> Option<String> {
    let host = reqwest::Url::parse(url)
        .ok()?
        .host_str()?
        .to_ascii_lowercase();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let private = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => private_address(ip),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    };
    private.then(|| {
        format!(
            "the callback URL's host {host} is a loopback, private or link-local address; \
             set login_callback.allow_private_addresses = true in the server's config to allow it"
        )
    })
}

/// Resolves names for callbacks and drops private addresses, so a name
/// that resolves to this machine or its network (DNS rebinding included)
/// is never called.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !private_address(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!(
                    "{host} resolves only to loopback, private or link-local addresses \
                     (login_callback.allow_private_addresses allows them)"
                )
                .into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl Callbacks {
    /// A callback client allowing `max_concurrency` calls at once, to public
    /// addresses only unless `allow_private` (see [`private_address`]).
    pub fn new(max_concurrency: usize, allow_private: bool) -> Self {
        let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        if !allow_private {
            b = b.dns_resolver(Arc::new(PublicOnly));
        }
        Callbacks {
            http: b.build().expect("HTTP client"),
            permits: Arc::new(Semaphore::new(max_concurrency.max(1))),
            allow_private,
        }
    }

    /// Asks the app server whether this login may proceed.
    pub async fn ask(
        &self,
        settings: &CallbackSettings,
        app_key: &str,
        app_secret: &str,
        e: &LoginEvent<'_>,
    ) -> Verdict {
        let timeout = Duration::from_millis(settings.timeout_ms);
        match tokio::time::timeout(timeout, self.call(settings, app_key, app_secret, e)).await {
            Ok(v) => v,
            Err(_) => Verdict::Failed(format!("no answer within {} ms", settings.timeout_ms)),
        }
    }

    async fn call(
        &self,
        settings: &CallbackSettings,
        app_key: &str,
        app_secret: &str,
        e: &LoginEvent<'_>,
    ) -> Verdict {
        let Ok(_permit) = self.permits.acquire().await else {
            return Verdict::Failed("callback pool closed".into());
        };
        // The JSON types of NIM's login callback documentation: eventType
        // and authType numbers, the port, customClientType and timestamp
        // strings, autoLogin a boolean (docs/decisions.md).
        let body = json!({
            "eventType": 36,
            "fromAccount": e.account,
            "fromDeviceId": e.device_id,
            "fromClientType": magpie_proto::types::client_type::callback_name(e.client_type),
            "fromClientIp": e.ip,
            "fromClientPort": e.port.to_string(),
            "token": e.token,
            "authType": e.auth_type,
            "loginExt": e.login_ext,
            "customClientType": e.custom_client_type.to_string(),
            "customTag": e.custom_tag,
            "autoLogin": e.auto_login,
            "timestamp": magpie_store::now_ms().to_string(),
        })
        .to_string();
        let resp = match self
            .post_signed(&settings.url, app_key, app_secret, body)
            .await
        {
            Ok(r) => r,
            Err(why) => return Verdict::Failed(why),
        };
        if !resp.status().is_success() {
            return Verdict::Failed(format!("HTTP status {}", resp.status()));
        }
        let v: Value = match resp.json().await {
            Ok(v) => v,
            Err(_) => return Verdict::Failed("the answer is not JSON".into()),
        };
        match v.get("errCode").and_then(Value::as_u64) {
            Some(0) => Verdict::Allow,
            Some(code) if code <= u32::MAX as u64 => {
                let desc = v
                    .get("desc")
                    .and_then(Value::as_str)
                    .unwrap_or("refused by the app's login callback")
                    .chars()
                    .take(200)
                    .collect();
                Verdict::Deny(code as u32, desc)
            }
            _ => Verdict::Failed("the answer has no numeric errCode".into()),
        }
    }
}

impl Callbacks {
    /// POSTs `body` (JSON) to `url` signed as NIM signs what it sends to app
    /// servers: headers `AppKey`, `CurTime` (ms), `MD5` of the body and
    /// `CheckSum` = SHA1(AppSecret + MD5 + CurTime). Used by the login
    /// callback and the event webhooks.
    pub(crate) async fn post_signed(
        &self,
        url: &str,
        app_key: &str,
        app_secret: &str,
        body: String,
    ) -> Result<reqwest::Response, String> {
        // An address literal is not resolved, so the resolver cannot refuse it.
        if !self.allow_private {
            if let Some(why) = url_refusal(url) {
                return Err(why);
            }
        }
        let md5 = magpie_proto::sign::md5_hex(body.as_bytes());
        let cur = magpie_store::now_ms().to_string();
        let sum = callback_checksum(app_secret, &md5, &cur);
        self.http
            .post(url)
            .header("Content-Type", "application/json;charset=utf-8")
            .header("AppKey", app_key)
            .header("CurTime", &cur)
            .header("MD5", &md5)
            .header("CheckSum", &sum)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("request failed: {}", without_url(e)))
    }
}

/// reqwest errors print the URL, which may hold credentials: keep the kind only.
fn without_url(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "error"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_and_urls() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(private_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(!private_address(ip.parse().unwrap()), "{ip}");
        }
        assert!(url_refusal("http://LOCALHOST:8080/x").is_some());
        assert!(url_refusal("http://a.localhost/x").is_some());
        assert!(url_refusal("https://[fd00::2]/x").is_some());
        assert!(url_refusal("https://app.example.com/login").is_none());
    }

    /// A name that resolves only to private addresses is not called: the
    /// check is made on the resolved addresses, at call time.
    #[tokio::test]
    async fn the_resolver_drops_private_addresses() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let err = match PublicOnly.resolve(name).await {
            Ok(_) => panic!("localhost resolved to a public address"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("allow_private_addresses"), "{err}");
    }

    #[test]
    fn checksum_matches_an_independent_vector() {
        // printf '%s' 'secretd41d8cd98f00b204e9800998ecf8427e1700000000000' | sha1sum
        assert_eq!(
            magpie_proto::sign::md5_hex(b""),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            callback_checksum(
                "secret",
                "d41d8cd98f00b204e9800998ecf8427e",
                "1700000000000"
            ),
            "6ca660686b0a7aebc6944ea98c89d9ff11393500"
        );
    }
}
