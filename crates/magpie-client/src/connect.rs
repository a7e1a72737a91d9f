//! Opening a transport to a link address: TCP, through a SOCKS proxy when
//! one is set, then TLS when configured.

use crate::link::LinkError;
use crate::options::{IpVersion, Proxy, ProxyType, TlsOptions};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

/// A byte stream to the server.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// A boxed transport.
pub(crate) type BoxStream = Box<dyn Transport>;

/// TLS client state built once per client.
#[derive(Clone)]
pub(crate) struct Tls {
    connector: tokio_rustls::TlsConnector,
    server_name: Option<String>,
}

impl Tls {
    /// Builds the TLS client configuration: the given CA, or the system roots.
    pub fn new(o: &TlsOptions) -> Result<Tls, String> {
        let mut roots = rustls::RootCertStore::empty();
        match &o.ca_file {
            Some(path) => {
                use rustls::pki_types::pem::PemObject;
                let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
                    .map_err(|e| format!("reading CA file {}: {e}", path.display()))?;
                for c in certs {
                    let c = c.map_err(|e| format!("CA file {}: {e}", path.display()))?;
                    roots
                        .add(c)
                        .map_err(|e| format!("CA file {}: {e}", path.display()))?;
                }
                if roots.is_empty() {
                    return Err(format!("CA file {} holds no certificate", path.display()));
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                for c in found.certs {
                    let _ = roots.add(c);
                }
                if roots.is_empty() {
                    return Err("no system root certificates found".into());
                }
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Tls {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            server_name: o.server_name.clone(),
        })
    }
}

/// Splits `host:port` (also `[v6]:port`).
pub(crate) fn split_addr(addr: &str) -> Result<(String, u16), LinkError> {
    let bad = || LinkError::Address(addr.to_owned());
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

fn socks_error(kind: &str, e: tokio_socks::Error) -> LinkError {
    use tokio_socks::Error as E;
    let why = match e {
        E::Io(e) => return LinkError::Io(e),
        E::PasswordAuthFailure(_) => "the proxy rejected the user name or password".to_owned(),
        E::NoAcceptableAuthMethods => {
            "the proxy accepts none of the offered authentication methods (a user and password may be needed)".to_owned()
        }
        E::ConnectionRefused => "the proxy could not reach the server (refused)".to_owned(),
        E::ProxyServerUnreachable => "the proxy cannot be reached".to_owned(),
        E::HostUnreachable | E::NetworkUnreachable => {
            "the proxy could not reach the server (unreachable)".to_owned()
        }
        E::ConnectionNotAllowedByRuleset | E::IdentdAuthFailure | E::InvalidUserIdAuthFailure | E::GeneralSocksServerFailure => {
            "the proxy refused the request".to_owned()
        }
        other => other.to_string(),
    };
    LinkError::Proxy(format!("{kind}: {why}"))
}

/// Connects to `host:port` over the IP version asked for: the name's
/// addresses of that family (IPv6 first for `Auto`), each in turn.
async fn direct(host: &str, port: u16, ip: IpVersion) -> Result<TcpStream, LinkError> {
    let mut addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
        .await?
        .filter(|a| match ip {
            IpVersion::V4 => a.is_ipv4(),
            IpVersion::V6 => a.is_ipv6(),
            IpVersion::Auto => true,
        })
        .collect();
    if ip == IpVersion::Auto {
        addrs.sort_by_key(|a| a.is_ipv4());
    }
    // Each address but the last gets 2.5 s, so one that is blackholed (an
    // IPv6 route that drops packets) cannot use up the attempt's whole
    // connect timeout before the next is tried.
    let mut last = None;
    let n = addrs.len();
    for (i, a) in addrs.into_iter().enumerate() {
        let attempt = TcpStream::connect(a);
        let r = if i + 1 < n {
            match tokio::time::timeout(std::time::Duration::from_millis(2500), attempt).await {
                Ok(r) => r,
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("{a}: no answer within 2.5 s"),
                )),
            }
        } else {
            attempt.await
        };
        match r {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => e.into(),
        None => {
            let family = if ip == IpVersion::V6 { "IPv6" } else { "IPv4" };
            LinkError::NoAddress(format!(
                "{host}:{port} has no {family} address: set ip_protocol_version to {} or 2 (auto), or use a link address with one",
                if ip == IpVersion::V6 { 0 } else { 1 }
            ))
        }
    })
}

async fn tcp(addr: &str, proxy: Option<&Proxy>, ip: IpVersion) -> Result<TcpStream, LinkError> {
    let (host, port) = split_addr(addr)?;
    let Some(p) = proxy.filter(|p| p.kind != ProxyType::None) else {
        return direct(&host, port, ip).await;
    };
    let via = (p.host.as_str(), p.port);
    let s = match p.kind {
        ProxyType::Socks5 if p.user.is_empty() => {
            tokio_socks::tcp::Socks5Stream::connect(via, (host.as_str(), port))
                .await
                .map_err(|e| socks_error("SOCKS5", e))?
                .into_inner()
        }
        ProxyType::Socks5 => tokio_socks::tcp::Socks5Stream::connect_with_password(
            via,
            (host.as_str(), port),
            &p.user,
            &p.password,
        )
        .await
        .map_err(|e| socks_error("SOCKS5", e))?
        .into_inner(),
        ProxyType::Socks4 => {
            // SOCKS4 carries an IPv4 address: resolve here.
            let target = tokio::net::lookup_host((host.as_str(), port))
                .await?
                .find(|a| a.is_ipv4())
                .ok_or_else(|| {
                    LinkError::Proxy(format!("SOCKS4: {host} has no IPv4 address; use SOCKS4a"))
                })?;
            if p.user.is_empty() {
                tokio_socks::tcp::Socks4Stream::connect(via, target).await
            } else {
                tokio_socks::tcp::Socks4Stream::connect_with_userid(via, target, &p.user).await
            }
            .map_err(|e| socks_error("SOCKS4", e))?
            .into_inner()
        }
        ProxyType::Socks4a => {
            // The proxy resolves the name.
            if p.user.is_empty() {
                tokio_socks::tcp::Socks4Stream::connect(via, (host.as_str(), port)).await
            } else {
                tokio_socks::tcp::Socks4Stream::connect_with_userid(
                    via,
                    (host.as_str(), port),
                    &p.user,
                )
                .await
            }
            .map_err(|e| socks_error("SOCKS4a", e))?
            .into_inner()
        }
        ProxyType::Http11 => return Err(LinkError::Proxy("HTTP proxies are not supported".into())),
        ProxyType::None => unreachable!("filtered above"),
    };
    Ok(s)
}

/// Opens a transport to `addr`.
pub(crate) async fn open(
    addr: &str,
    proxy: Option<&Proxy>,
    tls: Option<&Tls>,
    ip: IpVersion,
) -> Result<BoxStream, LinkError> {
    let s = tcp(addr, proxy, ip).await?;
    let _ = s.set_nodelay(true);
    let Some(tls) = tls else {
        return Ok(Box::new(s));
    };
    let host = match &tls.server_name {
        Some(n) => n.clone(),
        None => split_addr(addr)?.0,
    };
    let name = rustls::pki_types::ServerName::try_from(host.clone())
        .map_err(|_| LinkError::Tls(format!("{host:?} is not a valid TLS server name")))?;
    let s = tls
        .connector
        .connect(name, s)
        .await
        .map_err(|e| LinkError::Tls(e.to_string()))?;
    Ok(Box::new(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(split_addr("a.b:9").unwrap(), ("a.b".into(), 9));
        assert_eq!(split_addr("[::1]:80").unwrap(), ("::1".into(), 80));
        assert!(split_addr("nohost").is_err());
        assert!(split_addr(":1").is_err());
        assert!(split_addr("h:99999").is_err());
    }
}
