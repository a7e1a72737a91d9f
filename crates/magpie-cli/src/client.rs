use clap::Args;
use magpie_client::{Client, ClientOptions, Event, LoginParams, LoginState};
use magpie_proto::types::{client_type, logout_type};
use std::io::Write;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Options of `magpie client`.
#[derive(Args)]
pub struct ClientArgs {
    /// Server address, host:port (repeat for fallback link addresses).
    #[arg(long, required = true)]
    server: Vec<String>,
    /// App key.
    #[arg(long, env = "MAGPIE_APP_KEY")]
    app_key: String,
    /// Account id.
    #[arg(long)]
    account: String,
    /// Token.
    #[arg(long, env = "MAGPIE_TOKEN", hide_env_values = true)]
    token: String,
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
}

fn parse_client_type(s: &str) -> Result<u32, String> {
    client_type::parse(s).ok_or_else(|| format!("unknown client type {s:?}"))
}

fn print_event(e: &Event) {
    let line = serde_json::json!({"cb": e.callback_name(), "json": e.json()});
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

pub async fn run(a: ClientArgs) -> anyhow::Result<()> {
    let mut servers = a.server.into_iter();
    let mut opts =
        ClientOptions::new(servers.next().unwrap_or_default()).with_client_type(a.client_type);
    for s in servers {
        opts = opts.with_link_address(s);
    }
    if let Some(d) = a.device_id {
        opts = opts.with_device_id(d);
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
    client.on_every_event(print_event);
    let params = LoginParams {
        custom_tag: a.custom_tag,
        ..Default::default()
    };
    client.login(&a.app_key, &a.account, &a.token, params).await;

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut eof = true;
    while let Some(line) = lines.next_line().await? {
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
            _ => eprintln!("unknown command {line:?}: use `logout TYPE`, `relogin` or `quit`"),
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
    Ok(())
}
