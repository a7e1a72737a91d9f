use clap::Args;
use magpie_client::{
    Client, ClientOptions, Event, HistoryQuery, ImMessage, LoginParams, LoginState, Proxy,
    ProxyType, SysMsg, TlsOptions,
};
use magpie_proto::msg::{data_sync_type, message_type, session_type, sysmsg_type};
use magpie_proto::types::{client_type, logout_type};
use std::io::Write;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The help text after `magpie client --help`'s options.
pub const AFTER_HELP: &str = "\
Commands read from standard input, one per line:
  send ACCID TEXT               send a text message (the rest of the line) to ACCID
  sysmsg ACCID JSON [--stored]  send a custom system notification; --stored keeps it
                                for ACCID's next login when offline
  sessions                      print the recent sessions and unread counts
  history ACCID [--limit N] [--keyword WORD]
                                print the server-side history with ACCID (N: 1-100, default 20;
                                WORD: only messages whose text or file name holds it)
  read ACCID                    mark the session with ACCID read (synced to my other devices)
  kick-other DEVICE_ID...       kick my other devices by device id
  relogin                       drop the link and log in again automatically
  logout TYPE                   log out: change_account, kickout, app_exit (also ends) or relogin
  quit                          end without logging out
End of input means `logout app_exit`.

Output: one JSON line per SDK callback, {\"cb\":NAME,\"json\":NIM's payload}.

Exit status: 0 done; 1 error (no app key; no Magpie server at the address: 415/408);
2 usage error; 3 login refused (the NIM code is printed: 302 wrong token, 422 blocked, ...);
4 kicked out (by another device or the server; the client ends at once).

Examples:
  magpie client --account alice --token alice-token
  echo \"send bob hello\" | magpie client --account alice --token alice-token
  magpie client --server tls://im.example.com:9300 --account alice --token t
  magpie client --account alice --auth-type 1 \\
      --token-command 'magpie admin token dynamic alice --raw'";

/// Options of `magpie client`.
#[derive(Args)]
pub struct ClientArgs {
    /// Server address: host:port, tcp://host:port or tls://host:port (TLS).
    /// Repeat (or separate with commas) for fallback link addresses.
    #[arg(
        long,
        env = "MAGPIE_SERVER",
        default_value = crate::addr::DEFAULT_CLIENT,
        value_delimiter = ',',
        value_parser = crate::addr::parse_server
    )]
    server: Vec<crate::addr::ServerAddr>,
    /// App key.
    #[arg(long, env = "MAGPIE_APP_KEY")]
    app_key: Option<String>,
    /// Account id.
    #[arg(long)]
    account: String,
    /// Token (for auth types 1 and 2 it may come from --token-command instead).
    #[arg(long, env = "MAGPIE_TOKEN", hide_env_values = true, default_value = "")]
    token: String,
    /// NIMAuthType: 0 static token, 1 dynamic token, 2 third-party callback.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=2))]
    auth_type: u32,
    /// A shell command printing a fresh token; run before every login and
    /// automatic re-login when --auth-type is 1 or 2.
    #[arg(long)]
    token_command: Option<String>,
    /// login_ex for the third-party callback (auth type 2).
    #[arg(long, default_value = "")]
    login_ext: String,
    /// Client type: a NIM number or pc, mac, web, android, ios, winphone, harmony.
    #[arg(long, default_value = "pc", value_parser = parse_client_type)]
    client_type: u32,
    /// Device id [default: random].
    #[arg(long)]
    device_id: Option<String>,
    /// Custom login data shown to the account's other devices.
    #[arg(long, default_value = "")]
    custom_tag: String,
    /// App data directory (device id, local cache) [default: a fresh temporary one].
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
    /// SOCKS proxy: socks5://[user:password@]host:port, socks4://[userid@]host:port
    /// or socks4a://[userid@]host:port. HTTP proxies are not supported.
    #[arg(long, value_parser = parse_proxy)]
    proxy: Option<Proxy>,
    /// Connect with TLS, verifying the server against the system roots (or --ca).
    #[arg(long)]
    tls: bool,
    /// PEM file of the CA to trust instead of the system roots (implies --tls).
    #[arg(long)]
    ca: Option<std::path::PathBuf>,
}

/// Runs `sh -c CMD`; its trimmed standard output is the token.
fn run_token_command(cmd: &str) -> Option<String> {
    match std::process::Command::new("sh").arg("-c").arg(cmd).output() {
        Ok(out) if out.status.success() => {
            let t = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            (!t.is_empty()).then_some(t)
        }
        Ok(out) => {
            eprintln!(
                "token command failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
            None
        }
        Err(e) => {
            eprintln!("token command could not run: {e}");
            None
        }
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or("bad %-escape in the proxy URL")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad %-escape in the proxy URL")?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the proxy URL is not UTF-8".to_owned())
}

/// Parses `scheme://[user[:password]@]host:port`.
pub fn parse_proxy(url: &str) -> Result<Proxy, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("expected socks5://host:port, socks4://host:port or socks4a://host:port")?;
    let kind = match scheme.to_ascii_lowercase().as_str() {
        "socks5" | "socks5h" => ProxyType::Socks5,
        "socks4" => ProxyType::Socks4,
        "socks4a" => ProxyType::Socks4a,
        "http" | "https" => {
            return Err("HTTP proxies are not supported; use SOCKS4, SOCKS4a or SOCKS5".into())
        }
        other => return Err(format!("unknown proxy scheme {other:?}")),
    };
    let rest = rest.trim_end_matches('/');
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((u, p)) => (percent_decode(u)?, percent_decode(p)?),
            None => (percent_decode(u)?, String::new()),
        },
        None => (String::new(), String::new()),
    };
    let (host, port) = hostport
        .rsplit_once(':')
        .ok_or("the proxy URL needs host:port")?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("bad proxy port {port:?}"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || port == 0 {
        return Err("the proxy URL needs host:port".into());
    }
    Ok(Proxy {
        kind,
        host: host.to_owned(),
        port,
        user,
        password,
    })
}

fn parse_client_type(s: &str) -> Result<u32, String> {
    client_type::parse(s).ok_or_else(|| format!("unknown client type {s:?}"))
}

/// The commands `magpie client` reads from standard input.
pub const COMMANDS: &str = "use `send ACCID TEXT`, `sysmsg ACCID JSON [--stored]`, `sessions`, `history ACCID [--limit N] [--keyword WORD]`, `read ACCID`, `kick-other DEVICE_ID...`, `relogin`, `logout change_account|kickout|app_exit|relogin` or `quit` (`magpie client --help` explains each)";

fn print_line(cb: &str, json: serde_json::Value) {
    let line = serde_json::json!({"cb": cb, "json": json});
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn print_event(e: &Event) {
    print_line(e.callback_name(), e.json());
}

/// The text of `line` after its first `n` words, as typed.
fn rest_after(line: &str, n: usize) -> String {
    let mut rest = line.trim_start();
    for _ in 0..n {
        rest = rest
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r)
            .trim_start();
    }
    rest.to_owned()
}

fn new_client_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn text_message(to: &str, text: &str) -> ImMessage {
    ImMessage {
        to_type: session_type::P2P,
        to_accid: to.to_owned(),
        msg_type: message_type::TEXT,
        msg_body: text.to_owned(),
        client_msg_id: new_client_id(),
        ..Default::default()
    }
}

/// A refused login in words: the cause (the server's or the SDK's
/// description when it gave one) and what to do about it.
fn login_message(code: u32, desc: &str, server: &str) -> String {
    let (cause, fix) = match code {
        302 => ("wrong account or token", "check --account and --token (or MAGPIE_TOKEN)".to_owned()),
        403 => (
            "the app key is unknown or the app refuses this auth type",
            "check --app-key (MAGPIE_APP_KEY) and `magpie admin auth get`".to_owned(),
        ),
        408 | 415 | 10010 => (
            "no Magpie server answered",
            format!("is `magpie serve` running at {server}? (--server or MAGPIE_SERVER sets the address)"),
        ),
        416 => ("too many login attempts for this account", "wait a few seconds and retry".to_owned()),
        417 => ("the app's multi-device policy refused this device", "see `magpie admin policy get`".to_owned()),
        422 => ("the account is blocked", "`magpie admin account unblock ACCID` lifts it".to_owned()),
        503 => ("the server is too busy or full", "retry later".to_owned()),
        _ => ("the server refused the login", "the code is NIM's NIMResCode (docs/sdk.md)".to_owned()),
    };
    if desc.contains("answered in") {
        // The SDK recognised another protocol and already says what to do.
        return desc.to_owned();
    }
    let cause = if desc.is_empty() { cause } else { desc };
    format!("{cause}: {fix}")
}

pub async fn run(a: ClientArgs) -> anyhow::Result<u8> {
    let Some(app_key) = a.app_key.filter(|k| !k.is_empty()) else {
        anyhow::bail!(
            "no app key: pass --app-key or set MAGPIE_APP_KEY; \
             `eval \"$(magpie app create NAME --export)\"` creates an app and sets both \
             MAGPIE_APP_KEY and MAGPIE_APP_SECRET"
        );
    };
    let server_text = a
        .server
        .iter()
        .map(|s| s.host_port.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let wants_tls = a.server.iter().any(|s| s.tls);
    let mut servers = a.server.into_iter();
    let mut opts = ClientOptions::new(servers.next().map(|s| s.host_port).unwrap_or_default())
        .with_client_type(a.client_type);
    for s in servers {
        opts = opts.with_link_address(s.host_port);
    }
    if let Some(d) = a.device_id {
        opts = opts.with_device_id(d);
    }
    if a.tls || wants_tls || a.ca.is_some() {
        opts = opts.with_tls(TlsOptions {
            ca_file: a.ca,
            server_name: None,
        });
    }
    let temp;
    let dir = match a.data_dir {
        Some(d) => d,
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let client = Client::init(&dir, opts)?;
    let (kicked_tx, mut kicked_rx) = tokio::sync::watch::channel(None::<u32>);
    let (relogin_tx, relogin_rx) = tokio::sync::watch::channel(None::<(u32, String)>);
    client.on_every_event(move |e| {
        print_event(e);
        match e {
            Event::Kickout(k) => {
                let _ = kicked_tx.send(Some(k.reason_code));
            }
            // An automatic re-login that gave up for good (not a `relogin`
            // command refused locally because no session was there).
            Event::AutoRelogin(r) if !r.is_success() && !r.retrying && r.err_code.0 < 10_000 => {
                let _ = relogin_tx.send(Some((r.err_code.0, r.desc.clone())));
            }
            Event::AutoRelogin(r) if r.is_success() => {
                let _ = relogin_tx.send(None);
            }
            _ => {}
        }
    });
    if let Some(p) = a.proxy {
        client.set_proxy(p.kind, &p.host, p.port, &p.user, &p.password)?;
    }
    if let Some(cmd) = a.token_command.clone() {
        client.set_token_provider(move |_| run_token_command(&cmd));
    }
    let params = LoginParams {
        custom_tag: a.custom_tag,
        auth_type: a.auth_type,
        login_ex: a.login_ext,
    };
    let mut events = client.events();
    let res = client.login(&app_key, &a.account, &a.token, params).await;
    if !res.is_success() {
        let code = res.err_code.0;
        eprintln!(
            "login failed: NIM code {code}: {}",
            login_message(code, &res.desc, &server_text)
        );
        let _ = client.cleanup().await;
        // No answer from a Magpie server is an error (1); an answer that
        // refuses is a refusal (3).
        return Ok(if matches!(code, 408 | 415 | 10010) {
            crate::exit::ERROR
        } else {
            crate::exit::REFUSED
        });
    }
    // Commands wait for the post-login sync, so what they print follows it.
    let synced = async {
        while let Some(e) = events.next().await {
            if matches!(e, Event::DataSync(ref d) if d.sync_type == data_sync_type::UNREAD_MSG) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), synced).await;
    drop(events);

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut eof = true;
    let mut kicked = None;
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line?,
            Ok(()) = kicked_rx.changed() => {
                kicked = *kicked_rx.borrow();
                if kicked.is_some() {
                    eof = false;
                    break;
                }
                continue;
            }
        };
        let Some(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["quit"] | ["exit"] => {
                eof = false;
                break;
            }
            ["relogin"] => {
                client.relogin().await;
            }
            ["kick-other", ids @ ..] if !ids.is_empty() => {
                client
                    .kick_other_client(ids.iter().map(|s| s.to_string()).collect())
                    .await;
            }
            ["send", to, ..] if words.len() >= 3 => {
                let text = rest_after(&line, 2);
                client.send_message(text_message(to, &text)).await;
            }
            ["sysmsg", to, ..] if words.len() >= 3 => {
                let mut rest = rest_after(&line, 2);
                let stored = rest.trim_end().ends_with("--stored");
                if stored {
                    rest = rest
                        .trim_end()
                        .trim_end_matches("--stored")
                        .trim_end()
                        .to_owned();
                }
                if serde_json::from_str::<serde_json::Value>(&rest).is_err() {
                    eprintln!("sysmsg: the content must be JSON, for example: sysmsg bob {{\"k\":1}} --stored");
                    continue;
                }
                let n = SysMsg {
                    msg_type: sysmsg_type::CUSTOM_P2P_MSG,
                    to_account: to.to_string(),
                    attach: rest,
                    client_msg_id: new_client_id(),
                    custom_save_flag: i32::from(stored),
                    ..Default::default()
                };
                client.send_custom_notification(n).await;
            }
            ["sessions"] => {
                let (list, unread) = client.recent_sessions().await;
                print_line(
                    "sessions",
                    serde_json::json!({"count": list.len(), "unread_counts": unread, "content": list}),
                );
            }
            ["history", peer, opts @ ..] => {
                let (mut limit, mut keyword, mut bad) = (20u32, String::new(), false);
                for pair in opts.chunks(2) {
                    match pair {
                        ["--limit", n] => match n.parse::<u32>() {
                            Ok(n) if (1..=100).contains(&n) => limit = n,
                            _ => {
                                eprintln!("history: --limit takes 1 to 100");
                                bad = true;
                            }
                        },
                        ["--keyword", k] => keyword = k.to_string(),
                        _ => {
                            eprintln!("history: use `history ACCID [--limit N] [--keyword WORD]`");
                            bad = true;
                        }
                    }
                }
                if bad {
                    continue;
                }
                let r = client
                    .query_online_messages(HistoryQuery {
                        to_type: session_type::P2P,
                        id: peer.to_string(),
                        limit_count: limit,
                        from_time: 0,
                        end_time: 0,
                        end_msg_id: 0,
                        reverse: false,
                        msg_types: Vec::new(),
                        keyword,
                    })
                    .await;
                print_line(
                    "history",
                    serde_json::json!({"rescode": r.rescode, "count": r.content.len(), "source": r.source, "content": r.content}),
                );
            }
            ["read", peer] => {
                client.set_unread_count_zero(session_type::P2P, peer).await;
            }
            ["logout", t] => match logout_type::parse(t) {
                Some(t) => {
                    client.logout(t).await;
                    if t == logout_type::APP_EXIT {
                        eof = false;
                        break;
                    }
                }
                None => eprintln!(
                    "unknown logout type {t:?}: use change_account, kickout, app_exit or relogin"
                ),
            },
            _ => eprintln!("unknown command {line:?}: {COMMANDS}"),
        }
    }
    if eof {
        // End of input: log out as the app exits (if a session is active).
        if matches!(
            client.login_state(),
            LoginState::Logined | LoginState::Relogining
        ) {
            client.logout(logout_type::APP_EXIT).await;
        }
    }
    // Clean up unless `quit` left a session behind (the process ends anyway).
    if !matches!(
        client.login_state(),
        LoginState::Logined | LoginState::Relogining | LoginState::Logging
    ) {
        client.cleanup().await?;
    }
    if let Some(reason) = kicked {
        eprintln!(
            "kicked out (NIMKickReason {reason}: {}); the client ends",
            match reason {
                1 => "another device logged in under the app's multi-device policy",
                2 => "the server kicked this device (`magpie admin kick` or a block)",
                3 => "another device of this account kicked it",
                _ => "unknown reason",
            }
        );
        return Ok(crate::exit::KICKED);
    }
    let logged_out = matches!(client.login_state(), LoginState::Unlogin);
    if let Some((code, desc)) = relogin_rx.borrow().clone().filter(|_| logged_out) {
        eprintln!(
            "automatic re-login gave up: NIM code {code}: {}",
            login_message(code, &desc, &server_text)
        );
        return Ok(crate::exit::REFUSED);
    }
    Ok(crate::exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        let p = parse_proxy("socks5://us%40er:p%3Ass@127.0.0.1:1080").unwrap();
        assert_eq!(
            (p.kind, p.user.as_str(), p.password.as_str()),
            (ProxyType::Socks5, "us@er", "p:ss")
        );
        assert_eq!((p.host.as_str(), p.port), ("127.0.0.1", 1080));
        let p = parse_proxy("socks4a://proxy.local:9050").unwrap();
        assert_eq!((p.kind, p.user.as_str()), (ProxyType::Socks4a, ""));
        assert_eq!(parse_proxy("socks4://id@[::1]:1").unwrap().host, "::1");
        assert!(parse_proxy("http://h:1")
            .unwrap_err()
            .contains("not supported"));
        assert!(parse_proxy("socks5://h").is_err());
        assert!(parse_proxy("h:1").is_err());
    }
}
