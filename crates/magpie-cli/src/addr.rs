//! One address style for every command: `host:port` or a URL.
//!
//! - the client port (`magpie client --server`, `magpie serve --listen`):
//!   `host:port`, `tcp://host:port`, or `tls://host:port` (client only: TLS);
//! - the admin API (`magpie admin --url`, `magpie serve --admin-listen`):
//!   `host:port` or `http://host:port` (`https://` for a proxy in front).
//!
//! Defaults match `magpie serve`'s: clients at 127.0.0.1:9300, the admin API
//! at 127.0.0.1:9380.

use std::net::SocketAddr;

/// `magpie serve`'s default client address.
pub const DEFAULT_CLIENT: &str = "127.0.0.1:9300";
/// `magpie serve`'s default admin address.
pub const DEFAULT_ADMIN: &str = "127.0.0.1:9380";

/// A client-port address as the SDK takes it, and whether it asks for TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAddr {
    /// `host:port`.
    pub host_port: String,
    /// `tls://` was given.
    pub tls: bool,
}

fn split_scheme(s: &str) -> (Option<String>, &str) {
    match s.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, s),
    }
}

/// Checks `host:port` (IPv6 in brackets), returning it without a trailing `/`.
fn host_port(s: &str, what: &str, example: &str) -> Result<String, String> {
    let s = s.trim_end_matches('/');
    let bad = || format!("{what} {s:?} is not host:port (for example {example})");
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains('/') {
        return Err(bad());
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(s.to_owned()),
        _ => Err(bad()),
    }
}

/// Parses `--server`: `host:port`, `tcp://host:port` or `tls://host:port`.
pub fn parse_server(s: &str) -> Result<ServerAddr, String> {
    let (scheme, rest) = split_scheme(s.trim());
    let tls = match scheme.as_deref() {
        None | Some("tcp") | Some("magpie") => false,
        Some("tls") => true,
        Some("http") | Some("https") => {
            return Err(format!(
                "{s:?} is an HTTP URL, but the client port speaks Magpie's own protocol: \
                 give host:port (default {DEFAULT_CLIENT}; the admin API's URL is for `magpie admin`)"
            ))
        }
        Some(other) => {
            return Err(format!(
                "unknown scheme {other:?} in {s:?}: use host:port, tcp://host:port or tls://host:port"
            ))
        }
    };
    Ok(ServerAddr {
        host_port: host_port(rest, "server address", DEFAULT_CLIENT)?,
        tls,
    })
}

/// Parses `--admin-url` for `magpie admin`: `host:port` or `http(s)://host:port[/prefix]`.
pub fn parse_admin_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    let (scheme, rest) = split_scheme(s);
    match scheme.as_deref() {
        None => Ok(format!(
            "http://{}",
            host_port(rest, "admin address", DEFAULT_ADMIN)?
        )),
        Some("http") | Some("https") => magpie_admin_client::base_url(s)
            .map_err(|_| format!("admin URL {s:?} is not a valid http(s) URL")),
        Some("tcp") | Some("tls") => Err(format!(
            "{s:?} is a client-port address; the admin API is HTTP: give host:port or \
             http://host:port (default {DEFAULT_ADMIN})"
        )),
        Some(other) => Err(format!(
            "unknown scheme {other:?} in {s:?}: use host:port or http://host:port"
        )),
    }
}

/// clap value parser for `--listen`: `host:port` or `tcp://host:port`.
pub fn listen_client(s: &str) -> Result<SocketAddr, String> {
    magpie_server::config::parse_listen(s, &["tcp"], "--listen")
}

/// clap value parser for `--admin-listen`: `host:port` or `http://host:port`.
pub fn listen_admin(s: &str) -> Result<SocketAddr, String> {
    magpie_server::config::parse_listen(s, &["http"], "--admin-listen")
}

/// The process listening on a local TCP port, as "pid N (NAME)", when this
/// user may see it (Linux: /proc/net/tcp{,6} and /proc/PID/fd).
pub fn port_holder(port: u16) -> Option<String> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEXIP:HEXPORT; state 0A is LISTEN.
            let (Some(local), Some(state), Some(inode)) = (f.get(1), f.get(3), f.get(9)) else {
                continue;
            };
            let p = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if p == Some(port) && *state == "0A" {
                inodes.push(format!("socket:[{inode}]"));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    for proc_entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = proc_entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(proc_entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            if inodes.iter().any(|i| target.as_os_str() == i.as_str()) {
                let cmd = std::fs::read(proc_entry.path().join("cmdline"))
                    .map(|b| {
                        b.split(|c| *c == 0)
                            .filter(|a| !a.is_empty())
                            .take(2)
                            .map(|a| String::from_utf8_lossy(a).into_owned())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                return Some(format!("pid {pid} ({cmd})"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        assert_eq!(
            parse_server("127.0.0.1:9300").unwrap(),
            ServerAddr {
                host_port: "127.0.0.1:9300".into(),
                tls: false
            }
        );
        assert_eq!(parse_server("tcp://h:1/").unwrap().host_port, "h:1");
        assert!(parse_server("tls://[::1]:9300").unwrap().tls);
        assert!(parse_server("http://127.0.0.1:9380")
            .unwrap_err()
            .contains("HTTP URL"));
        assert!(parse_server("localhost").unwrap_err().contains("host:port"));
        assert!(parse_server("h:0").is_err());
    }

    #[test]
    fn admin_urls() {
        assert_eq!(
            parse_admin_url("127.0.0.1:9380").unwrap(),
            "http://127.0.0.1:9380"
        );
        assert_eq!(
            parse_admin_url("https://im.example.com/magpie/").unwrap(),
            "https://im.example.com/magpie"
        );
        assert!(parse_admin_url("tcp://h:1").unwrap_err().contains("HTTP"));
        assert!(parse_admin_url("h").is_err());
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(
            listen_client("tcp://127.0.0.1:0").unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(
            listen_admin("http://0.0.0.0:9380").unwrap(),
            "0.0.0.0:9380".parse().unwrap()
        );
        assert!(listen_client("localhost:9300").unwrap().ip().is_loopback());
        assert!(listen_client("http://127.0.0.1:1").is_err());
    }

    #[test]
    fn finds_the_holder_of_a_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let who = port_holder(port).expect("our own listener is visible");
        assert!(
            who.starts_with(&format!("pid {} ", std::process::id())),
            "{who}"
        );
    }
}
