//! NIM's `detect_proxy`: tries a proxy for real, step by step, against the
//! first link address: the proxy's port, the tunnel through it (with TLS
//! when the client uses TLS), and a HELLO answered by the server.

use crate::connect::Tls;
use crate::link::{Link, SDK_VERSION};
use crate::options::{Proxy, ProxyType};
use magpie_proto::frame::Hello;
use magpie_proto::{ClientFrame, ServerFrame, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Where a probe goes and how long each step may take.
#[derive(Clone)]
pub(crate) struct ProbeTarget {
    pub link: String,
    pub tls: Option<Tls>,
    pub timeout: Duration,
    pub max_frame: u32,
    pub ip: crate::options::IpVersion,
}

/// One step of a proxy detection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeStep {
    /// `proxy_connect` (TCP to the proxy), `tunnel` (through the proxy to
    /// the server, with TLS when used), `hello` (the server answers).
    pub step: &'static str,
    /// Whether it succeeded.
    pub ok: bool,
    /// How long it took, ms.
    pub ms: u64,
    /// What went wrong, or what was reached.
    pub detail: String,
}

/// The outcome of `detect_proxy`: whether the server can be reached through
/// the proxy, and the steps taken (the JSON NIM's callback gets as
/// `json_params`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProxyDetection {
    /// True when the server answered through the proxy.
    pub connected: bool,
    /// The proxy, `socks5://host:port` (no credentials).
    pub proxy: String,
    /// The link address tried.
    pub server: String,
    /// The steps, in order, up to the first that failed.
    pub steps: Vec<ProbeStep>,
}

fn scheme(k: ProxyType) -> &'static str {
    match k {
        ProxyType::Socks4 => "socks4",
        ProxyType::Socks4a => "socks4a",
        ProxyType::Socks5 => "socks5",
        ProxyType::Http11 => "http",
        ProxyType::None => "none",
    }
}

pub(crate) async fn detect(target: &ProbeTarget, proxy: &Proxy) -> ProxyDetection {
    let mut out = ProxyDetection {
        connected: false,
        proxy: format!("{}://{}:{}", scheme(proxy.kind), proxy.host, proxy.port),
        server: target.link.clone(),
        steps: Vec::new(),
    };
    let mut step = |name: &'static str, started: Instant, r: Result<String, String>| {
        let ok = r.is_ok();
        out.steps.push(ProbeStep {
            step: name,
            ok,
            ms: started.elapsed().as_millis() as u64,
            detail: r.unwrap_or_else(|e| e),
        });
        ok
    };
    let bounded = |d: Duration| async move {
        tokio::time::sleep(d).await;
        format!("no answer within {} ms", d.as_millis())
    };
    // 1. The proxy's port.
    let t = Instant::now();
    let reach = match proxy.kind {
        ProxyType::Http11 => {
            Err("HTTP proxies are not supported; use SOCKS4, SOCKS4a or SOCKS5".into())
        }
        ProxyType::None => Err("no proxy given".into()),
        _ if proxy.host.is_empty() || proxy.port == 0 => {
            Err("a proxy needs a host and a port".into())
        }
        _ => tokio::select! {
            r = tokio::net::TcpStream::connect((proxy.host.as_str(), proxy.port)) => match r {
                Ok(_) => Ok(format!("{}:{} accepts connections", proxy.host, proxy.port)),
                Err(e) => Err(format!("{}:{}: {e}", proxy.host, proxy.port)),
            },
            why = bounded(target.timeout) => Err(why),
        },
    };
    if !step("proxy_connect", t, reach) {
        return finish(out);
    }
    // 2. Through the proxy to the server (and TLS).
    let t = Instant::now();
    if target.link.is_empty() {
        step(
            "tunnel",
            t,
            Err(
                "no link address to try: the init gives only an LBS; log in once, or give a link"
                    .into(),
            ),
        );
        return finish(out);
    }
    let opened = tokio::select! {
        r = Link::open(&target.link, Some(proxy), target.tls.as_ref(), target.ip, target.max_frame) => r.map_err(|e| e.to_string()),
        why = bounded(target.timeout) => Err(why),
    };
    let mut link = match opened {
        Ok(l) => {
            let what = if target.tls.is_some() { "TLS " } else { "" };
            step(
                "tunnel",
                t,
                Ok(format!(
                    "{what}connection to {} through the proxy",
                    target.link
                )),
            );
            l
        }
        Err(e) => {
            step("tunnel", t, Err(e));
            return finish(out);
        }
    };
    // 3. The server answers a HELLO.
    let t = Instant::now();
    let hello = ClientFrame::Hello {
        seq: 1,
        body: Hello {
            version: PROTOCOL_VERSION,
            min_version: MIN_PROTOCOL_VERSION,
            sdk_version: SDK_VERSION.into(),
        },
    };
    let answered = async {
        link.send_all(&[hello]).await.map_err(|e| e.to_string())?;
        match link.recv().await.map_err(|e| e.to_string())? {
            ServerFrame::HelloAck { body, .. } if body.code.is_success() => {
                Ok(format!("the server answered (protocol {})", body.version))
            }
            ServerFrame::HelloAck { body, .. } => Err(format!("the server refused: {}", body.code)),
            other => Err(format!(
                "not a Magpie server: answered op {:#04x}",
                other.op()
            )),
        }
    };
    let r = tokio::select! {
        r = answered => r,
        why = bounded(target.timeout) => Err(why),
    };
    let ok = step("hello", t, r);
    link.close().await;
    out.connected = ok;
    finish(out)
}

fn finish(out: ProxyDetection) -> ProxyDetection {
    tracing::info!(proxy = %out.proxy, server = %out.server, connected = out.connected, "proxy detection");
    out
}
