//! A client of Magpie's admin HTTP API (NIM's server API and Magpie's
//! `/magpie/v1` additions), signed the NIM way: every call carries `AppKey`,
//! a fresh `Nonce`, `CurTime` (UTC seconds) and `CheckSum` =
//! SHA1(AppSecret + Nonce + CurTime). The secret itself is never sent.
//!
//! ```no_run
//! # async fn demo() -> Result<(), magpie_admin_client::AdminError> {
//! use magpie_admin_client::AdminClient;
//! let admin = AdminClient::new("127.0.0.1:9380", "app key", "app secret")?;
//! let v = admin
//!     .form("/nimserver/user/create.action", &[("accid", "alice"), ("token", "t")])
//!     .await?;
//! assert_eq!(v["code"], 200);
//! # Ok(()) }
//! ```

use magpie_proto::sign::signature_headers;
use serde_json::Value;

pub use reqwest::Method;

/// Why an admin call could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The base address is neither `host:port` nor an http(s) URL.
    #[error("invalid admin address {0:?}: give host:port or an http:// or https:// URL")]
    Address(String),
    /// The request failed on the way (connection refused, timeout, ...).
    #[error(
        "cannot reach the admin API at {url}: {}; is `magpie serve` running with its admin \
         listener there? (--url or MAGPIE_ADMIN_URL gives the address)",
        root_cause(error)
    )]
    Http {
        /// The URL called.
        url: String,
        /// The cause.
        error: reqwest::Error,
    },
    /// The answer was not JSON.
    #[error("admin API at {url} answered HTTP {status} with a body that is not JSON")]
    NotJson {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
    },
}

/// The innermost cause of an error ("Connection refused (os error 111)").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut e = e;
    while let Some(inner) = e.source() {
        e = inner;
    }
    e.to_string()
}

/// Turns `host:port` or a URL into a base URL without a trailing slash.
pub fn base_url(addr: &str) -> Result<String, AdminError> {
    let a = addr.trim();
    let bad = || AdminError::Address(addr.to_owned());
    let url = if a.contains("://") {
        if !(a.starts_with("http://") || a.starts_with("https://")) {
            return Err(bad());
        }
        a.to_owned()
    } else {
        // host:port: a port is required, so a bare name is not taken for a URL.
        let (_, port) = a.rsplit_once(':').ok_or_else(bad)?;
        port.parse::<u16>().map_err(|_| bad())?;
        format!("http://{a}")
    };
    let parsed = reqwest::Url::parse(&url).map_err(|_| bad())?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// A fresh random nonce (32 hex characters).
pub fn new_nonce() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The current time as CurTime (UTC seconds).
pub fn cur_time() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string()
}

/// Percent-encodes one form value or path segment (RFC 3986 unreserved kept).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A signed admin API client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AdminClient {
    base: String,
    app_key: String,
    app_secret: String,
    http: reqwest::Client,
}

impl AdminClient {
    /// A client of the admin API at `addr` (`host:port` or a URL), signing as an app.
    pub fn new(addr: &str, app_key: &str, app_secret: &str) -> Result<AdminClient, AdminError> {
        Ok(AdminClient {
            base: base_url(addr)?,
            app_key: app_key.to_owned(),
            app_secret: app_secret.to_owned(),
            http: reqwest::Client::new(),
        })
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The signing app's key.
    pub fn app_key(&self) -> &str {
        &self.app_key
    }

    /// A request signed with a fresh nonce and the current time.
    pub fn request(&self, m: Method, path: &str) -> reqwest::RequestBuilder {
        self.request_signed(m, path, &new_nonce(), &cur_time(), &self.app_secret)
    }

    /// A request signed with the given nonce, time and secret (for tests of
    /// the server's checks).
    pub fn request_signed(
        &self,
        m: Method,
        path: &str,
        nonce: &str,
        cur_time: &str,
        secret: &str,
    ) -> reqwest::RequestBuilder {
        let mut r = self.http.request(m, format!("{}{path}", self.base));
        for (k, v) in signature_headers(&self.app_key, secret, nonce, cur_time) {
            r = r.header(k, v);
        }
        r
    }

    /// Sends a request; returns the HTTP status and the JSON answer
    /// (whatever its `code`).
    pub async fn send_status(
        &self,
        r: reqwest::RequestBuilder,
    ) -> Result<(u16, Value), AdminError> {
        let http = |error| AdminError::Http {
            url: self.base.clone(),
            error,
        };
        let resp = r.send().await.map_err(http)?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(http)?;
        let v = serde_json::from_slice(&bytes).map_err(|_| AdminError::NotJson {
            url: self.base.clone(),
            status,
        })?;
        Ok((status, v))
    }

    /// Sends a request and reads its JSON answer (whatever its `code`).
    pub async fn send(&self, r: reqwest::RequestBuilder) -> Result<Value, AdminError> {
        self.send_status(r).await.map(|(_, v)| v)
    }

    /// A signed form POST (NIM's V1 API), not yet sent.
    pub fn form_request(&self, path: &str, params: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let body = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.request(Method::POST, path)
            .header(
                "Content-Type",
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .body(body)
    }

    /// A signed request with a JSON body (or none), not yet sent.
    pub fn json_request(
        &self,
        m: Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::RequestBuilder {
        let r = self.request(m, path);
        match body {
            Some(b) => r.json(b),
            None => r,
        }
    }

    /// POSTs a form (NIM's V1 API), returns the JSON answer.
    pub async fn form(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, AdminError> {
        self.send(self.form_request(path, params)).await
    }

    /// Sends JSON (or no body), returns the JSON answer.
    pub async fn json(
        &self,
        m: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, AdminError> {
        self.send(self.json_request(m, path, body)).await
    }

    /// Creates accounts `(account id, token)` through the bulk route, 500 per
    /// call, each call all or none; `progress` hears how many are done.
    /// Stops at the first answer that is not 200 and returns it.
    pub async fn create_accounts(
        &self,
        accounts: &[(String, String)],
        mut progress: impl FnMut(usize),
    ) -> Result<Result<usize, Value>, AdminError> {
        let mut done = 0;
        for chunk in accounts.chunks(BATCH) {
            let list: Vec<Value> = chunk
                .iter()
                .map(|(a, t)| serde_json::json!({"account_id": a, "token": t}))
                .collect();
            let body = serde_json::json!({ "accounts": list });
            let v = self
                .json(Method::POST, "/magpie/v1/accounts/batch", Some(&body))
                .await?;
            if v["code"] != 200 {
                return Ok(Err(v));
            }
            done += chunk.len();
            progress(done);
        }
        Ok(Ok(done))
    }
}

/// Accounts per bulk call (the server's maximum).
pub const BATCH: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_host_port_or_urls() {
        assert_eq!(base_url("127.0.0.1:9380").unwrap(), "http://127.0.0.1:9380");
        assert_eq!(
            base_url("https://im.example.com/").unwrap(),
            "https://im.example.com"
        );
        assert_eq!(base_url("http://[::1]:9380").unwrap(), "http://[::1]:9380");
        for bad in ["", "localhost", "ftp://x:1", "http://"] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nonces_are_fresh_and_values_are_encoded() {
        assert_eq!(new_nonce().len(), 32);
        assert_ne!(new_nonce(), new_nonce());
        assert_eq!(encode_component("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
