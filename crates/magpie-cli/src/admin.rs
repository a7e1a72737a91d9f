use clap::{Args, Subcommand};
use magpie_admin_client::{encode_component, AdminClient, Method};
use serde_json::Value;

/// The help text after `magpie admin --help`'s options.
pub const AFTER_HELP: &str = "\
Every call is signed with the app's key and secret (NIM's CheckSum); the
secret is never sent. `eval \"$(magpie app create demo --export)\"` sets
MAGPIE_APP_KEY and MAGPIE_APP_SECRET. The flags above work anywhere on the
line, also after the subcommand.

Output: the API's JSON answer. Exit status: 0 when it answers code 200,
3 when it answers another code (the answer says which), 1 when it cannot be
reached or the input is bad.

Examples:
  magpie admin account create alice --token alice-token
  magpie admin online alice
  magpie admin kick alice --url 10.0.0.5:9380
  magpie admin policy set desktop_mobile";

/// Options of `magpie admin`: where the admin API is and which app signs.
#[derive(Args)]
pub struct AdminArgs {
    /// Admin API address: host:port or http(s)://host:port[/prefix].
    #[arg(
        long,
        global = true,
        env = "MAGPIE_ADMIN_URL",
        default_value = crate::addr::DEFAULT_ADMIN,
        value_parser = crate::addr::parse_admin_url
    )]
    url: String,
    /// App key.
    #[arg(long, global = true, env = "MAGPIE_APP_KEY")]
    app_key: Option<String>,
    /// App secret (signs each call; never sent).
    #[arg(long, global = true, env = "MAGPIE_APP_SECRET", hide_env_values = true)]
    app_secret: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Accounts (NIM V1 user API; `get` uses V2).
    #[command(
        after_help = "Examples:\n  magpie admin account create alice --token alice-token\n  magpie admin account block alice --kick"
    )]
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Compute tokens as an app server does (no call to the server).
    #[command(after_help = "Example: magpie admin token dynamic alice --ttl 600 --raw")]
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Which auth types the app accepts, and its third-party login callback.
    #[command(
        after_help = "Examples:\n  magpie admin auth get\n  magpie admin auth set '{\"auth_types\":[0,1]}'"
    )]
    Auth {
        #[command(subcommand)]
        command: AuthCommand,
    },
    /// The app's multi-device policy (applies to new logins).
    #[command(
        after_help = "Examples:\n  magpie admin policy get\n  magpie admin policy set desktop_mobile"
    )]
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Where the app's login, logout and kick events go (event webhooks).
    #[command(
        after_help = "Examples:\n  magpie admin webhook set https://app.example.com/im-events\n  magpie admin webhook get\n  magpie admin webhook reset"
    )]
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// List the online devices of an account.
    #[command(after_help = "Example: magpie admin online alice")]
    Online {
        /// Account id.
        accid: String,
    },
    /// Kick devices of an account (reason 2, server kick).
    #[command(
        after_help = "Example: magpie admin kick alice --type 2 --device DEVICE_ID --ext \"maintenance\""
    )]
    Kick {
        /// Account id.
        accid: String,
        /// 1 = all devices, 2 = the listed devices, 3 = all but the listed devices.
        #[arg(long = "type", default_value_t = 1)]
        kind: u32,
        /// A device id (repeat for several).
        #[arg(long = "device")]
        devices: Vec<String>,
        /// Text passed to the kicked devices.
        #[arg(long, default_value = "")]
        ext: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// A dynamic token (auth type 1): base64 of {signature, curTime, ttl}.
    #[command(after_help = "Example: magpie admin token dynamic alice --ttl 600 --raw")]
    Dynamic {
        /// Account id.
        accid: String,
        /// Validity in seconds.
        #[arg(long, default_value_t = 600)]
        ttl: u64,
        /// Print the token alone (for --token-command).
        #[arg(long)]
        raw: bool,
    },
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Show the settings in force.
    #[command(after_help = "Example: magpie admin auth get")]
    Get,
    #[command(
        after_help = "Example: magpie admin auth set '{\"auth_types\":[0,2],\"callback\":{\"url\":\"https://app.example.com/im-login\"}}'"
    )]
    /// Set them: JSON such as '{"auth_types":[0,1,2],"callback":{"url":"https://...","timeout_ms":3000,"fail_open":false}}', or @FILE.
    Set {
        /// The settings.
        settings: String,
    },
    /// Return to the defaults (auth types 0 and 1, no callback).
    #[command(after_help = "Example: magpie admin auth reset")]
    Reset,
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Show the URL (null: no events are sent).
    #[command(after_help = "Example: magpie admin webhook get")]
    Get,
    /// Send the app's events to URL (POST, JSON, signed like the login callback).
    #[command(after_help = "Example: magpie admin webhook set https://app.example.com/im-events")]
    Set {
        /// An http:// or https:// URL.
        url: String,
    },
    /// Send no more events.
    #[command(after_help = "Example: magpie admin webhook reset")]
    Reset,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Show the policy in force.
    #[command(after_help = "Example: magpie admin policy get")]
    Get,
    #[command(
        after_help = "Examples:\n  magpie admin policy set single\n  magpie admin policy set @policy.json"
    )]
    /// Set the policy: `single`, `desktop_mobile`, `all`, a JSON policy such as
    /// '{"mode":"custom","rules":{...}}', or @FILE holding one.
    Set {
        /// The policy.
        policy: String,
    },
    /// Return to the server's default policy.
    #[command(after_help = "Example: magpie admin policy reset")]
    Reset,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account; prints its token (generated when --token is omitted).
    #[command(
        after_help = "Example: magpie admin account create alice --token alice-token --name Alice"
    )]
    Create {
        /// Account id.
        accid: String,
        /// Static token (1 to 128 characters).
        #[arg(long)]
        token: Option<String>,
        /// Nickname.
        #[arg(long)]
        name: Option<String>,
        /// Avatar URL.
        #[arg(long)]
        icon: Option<String>,
        /// Extension data.
        #[arg(long)]
        ex: Option<String>,
    },
    /// Set a new static token.
    #[command(after_help = "Example: magpie admin account update alice --token new-token")]
    Update {
        /// Account id.
        accid: String,
        /// The new token.
        #[arg(long)]
        token: String,
    },
    /// Let the server generate a new token; prints it.
    #[command(after_help = "Example: magpie admin account refresh-token alice")]
    RefreshToken {
        /// Account id.
        accid: String,
    },
    /// Block (disable) an account.
    #[command(after_help = "Example: magpie admin account block alice --kick")]
    Block {
        /// Account id.
        accid: String,
        /// Also kick its online devices.
        #[arg(long)]
        kick: bool,
        /// Text passed to the kicked devices.
        #[arg(long)]
        kick_ext: Option<String>,
    },
    /// Unblock an account.
    #[command(after_help = "Example: magpie admin account unblock alice")]
    Unblock {
        /// Account id.
        accid: String,
    },
    /// Create many accounts PREFIX0, PREFIX1, ... with one token, in batches of 500.
    #[command(
        after_help = "Example: magpie admin account bulk-create --prefix user --count 10000 --token t"
    )]
    BulkCreate {
        /// Account id prefix.
        #[arg(long)]
        prefix: String,
        /// How many accounts.
        #[arg(long)]
        count: usize,
        /// First number.
        #[arg(long, default_value_t = 0)]
        start: usize,
        /// The token of every account.
        #[arg(long)]
        token: String,
    },
    /// Show an account.
    #[command(after_help = "Example: magpie admin account get alice")]
    Get {
        /// Account id.
        accid: String,
    },
}

fn path_segment(s: &str) -> String {
    encode_component(s)
}

/// The app's key and secret, or an error naming the flags, the variables and
/// the command that prints them.
fn credentials(a: &AdminArgs) -> anyhow::Result<(String, String)> {
    let key = a.app_key.clone().filter(|k| !k.is_empty());
    let secret = a.app_secret.clone().filter(|k| !k.is_empty());
    match (key, secret) {
        (Some(k), Some(s)) => Ok((k, s)),
        (k, s) => {
            let missing = match (k.is_none(), s.is_none()) {
                (true, true) => "no app key and no app secret",
                (true, false) => "no app key",
                _ => "no app secret",
            };
            anyhow::bail!(
                "{missing}: pass --app-key and --app-secret, or set MAGPIE_APP_KEY and \
                 MAGPIE_APP_SECRET; `eval \"$(magpie app create NAME --export)\"` creates an \
                 app and sets both"
            )
        }
    }
}

pub async fn run(a: AdminArgs) -> anyhow::Result<u8> {
    let (app_key, app_secret) = credentials(&a)?;
    let s = AdminClient::new(&a.url, &app_key, &app_secret)?;
    let v = match a.command {
        AdminCommand::Account { command } => match command {
            AccountCommand::Create {
                accid,
                token,
                name,
                icon,
                ex,
            } => {
                let mut p = vec![("accid", accid.as_str())];
                for (k, v) in [
                    ("token", &token),
                    ("name", &name),
                    ("icon", &icon),
                    ("ex", &ex),
                ] {
                    if let Some(v) = v {
                        p.push((k, v.as_str()));
                    }
                }
                s.form("/nimserver/user/create.action", &p).await?
            }
            AccountCommand::Update { accid, token } => {
                s.form(
                    "/nimserver/user/update.action",
                    &[("accid", &accid), ("token", &token)],
                )
                .await?
            }
            AccountCommand::RefreshToken { accid } => {
                s.form("/nimserver/user/refreshToken.action", &[("accid", &accid)])
                    .await?
            }
            AccountCommand::Block {
                accid,
                kick,
                kick_ext,
            } => {
                let kick = kick.to_string();
                let mut p = vec![("accid", accid.as_str()), ("needkick", kick.as_str())];
                if let Some(e) = &kick_ext {
                    p.push(("kickNotifyExt", e));
                }
                s.form("/nimserver/user/block.action", &p).await?
            }
            AccountCommand::Unblock { accid } => {
                s.form("/nimserver/user/unblock.action", &[("accid", &accid)])
                    .await?
            }
            AccountCommand::BulkCreate {
                prefix,
                count,
                start,
                token,
            } => {
                let accounts: Vec<(String, String)> = (start..start + count)
                    .map(|i| (format!("{prefix}{i}"), token.clone()))
                    .collect();
                match s.create_accounts(&accounts, |_| {}).await? {
                    Ok(created) => serde_json::json!({"code": 200, "created": created}),
                    Err(v) => v,
                }
            }
            AccountCommand::Get { accid } => {
                s.json(
                    Method::GET,
                    &format!("/im/v2/accounts/{}", path_segment(&accid)),
                    None,
                )
                .await?
            }
        },
        AdminCommand::Token {
            command: TokenCommand::Dynamic { accid, ttl, raw },
        } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis() as i64;
            let token = magpie_server::dynamic::make(&app_key, &app_secret, &accid, now, ttl);
            if raw {
                println!("{token}");
                return Ok(crate::exit::OK);
            }
            serde_json::json!({"code": 200, "accid": accid, "token": token, "cur_time": now, "ttl": ttl})
        }
        AdminCommand::Auth { command } => {
            let path = "/magpie/v1/app/login_auth";
            match command {
                AuthCommand::Get => s.json(Method::GET, path, None).await?,
                AuthCommand::Reset => s.json(Method::DELETE, path, None).await?,
                AuthCommand::Set { settings } => {
                    let text = match settings.strip_prefix('@') {
                        Some(file) => std::fs::read_to_string(file)?,
                        None => settings,
                    };
                    let body: Value = serde_json::from_str(&text)?;
                    s.json(Method::PUT, path, Some(&body)).await?
                }
            }
        }
        AdminCommand::Webhook { command } => {
            let path = "/magpie/v1/app/webhook";
            match command {
                WebhookCommand::Get => s.json(Method::GET, path, None).await?,
                WebhookCommand::Reset => s.json(Method::DELETE, path, None).await?,
                WebhookCommand::Set { url } => {
                    let body = serde_json::json!({ "url": url });
                    s.json(Method::PUT, path, Some(&body)).await?
                }
            }
        }
        AdminCommand::Policy { command } => {
            let path = "/magpie/v1/app/device_policy";
            match command {
                PolicyCommand::Get => s.json(Method::GET, path, None).await?,
                PolicyCommand::Reset => s.json(Method::DELETE, path, None).await?,
                PolicyCommand::Set { policy } => {
                    let text = match policy.strip_prefix('@') {
                        Some(file) => std::fs::read_to_string(file)?,
                        None => policy,
                    };
                    let body: Value = if text.trim_start().starts_with('{') {
                        serde_json::from_str(&text)?
                    } else {
                        serde_json::json!({"mode": text.trim()})
                    };
                    s.json(Method::PUT, path, Some(&body)).await?
                }
            }
        }
        AdminCommand::Online { accid } => {
            s.json(
                Method::GET,
                &format!("/magpie/v1/accounts/{}/online", path_segment(&accid)),
                None,
            )
            .await?
        }
        AdminCommand::Kick {
            accid,
            kind,
            devices,
            ext,
        } => {
            let body = serde_json::json!({
                "type": kind, "device_id_list": devices, "kick_notify_extension": ext,
            });
            s.json(
                Method::POST,
                &format!("/im/v2/accounts/{}/actions/kick", path_segment(&accid)),
                Some(&body),
            )
            .await?
        }
    };
    println!("{v}");
    if v.get("code").and_then(Value::as_u64) != Some(200) {
        return Ok(crate::exit::REFUSED);
    }
    Ok(crate::exit::OK)
}
