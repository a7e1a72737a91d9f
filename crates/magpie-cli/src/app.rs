//! `magpie app`: apps managed directly in the server's store, beside a
//! running server or without one. The store is found as `magpie serve`
//! finds it: `--store`, else `--data-dir`, else the config file
//! (`--config`) and `MAGPIE_*` variables, else `./magpie-data`.

use crate::store::StoreUrl;
use anyhow::Context;
use clap::{Args, Subcommand};
use magpie_server::ServerConfig;
use magpie_store::{generate_key, App, StoreError, Stores};
use std::path::PathBuf;

/// Where the store is: the same flags and precedence as `magpie serve`.
#[derive(Args)]
pub struct StoreArgs {
    /// The server's config file (its `data_dir` and `store` are used).
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    /// The server's data directory [default: ./magpie-data; env: MAGPIE_DATA_DIR].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Store URL [default: sqlite://DATA_DIR/magpie.db; env: MAGPIE_STORE].
    #[arg(long, global = true)]
    store: Option<String>,
}

impl StoreArgs {
    /// The server's configuration with these flags applied, and its store.
    pub fn resolve(&self) -> anyhow::Result<(ServerConfig, StoreUrl)> {
        let mut cfg = ServerConfig::load(self.config.as_deref())?;
        if let Some(d) = &self.data_dir {
            cfg.data_dir = d.clone();
        }
        if let Some(s) = &self.store {
            cfg.store = Some(s.clone());
        }
        let url = StoreUrl::or_default(cfg.store.as_deref(), &cfg.data_dir)?;
        Ok((cfg, url))
    }
}

/// `magpie app ...`.
#[derive(Args)]
pub struct AppArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: AppCommand,
}

pub const AFTER_HELP: &str = "\
The store is found as `magpie serve` finds it: --store, --data-dir, the config
file's data_dir and store (--config), MAGPIE_DATA_DIR / MAGPIE_STORE, else
./magpie-data. A running server sees a rotated secret or a deleted app within
2 seconds.

Examples:
  eval \"$(magpie app create demo --export)\"
  magpie app list
  magpie app show demo
  magpie app rotate-secret demo --export
  magpie app delete demo --yes
  magpie app list --config /etc/magpie/magpie.toml";

#[derive(Subcommand)]
enum AppCommand {
    /// Create an app; prints {"app_key":"...","app_secret":"..."}. Names are unique.
    #[command(after_help = "\
Examples:
  magpie app create demo                           # JSON with app_key and app_secret
  eval \"$(magpie app create demo --export)\"        # set MAGPIE_APP_KEY and MAGPIE_APP_SECRET
  magpie app create demo --data-dir /var/lib/magpie")]
    Create {
        /// Display name of the app (unique).
        name: String,
        /// Print shell `export` lines for MAGPIE_APP_KEY and MAGPIE_APP_SECRET
        /// instead of JSON: `eval "$(magpie app create demo --export)"`.
        #[arg(long)]
        export: bool,
    },
    /// List the apps: key, name, creation time.
    #[command(after_help = "Examples:\n  magpie app list\n  magpie app list --json")]
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one app (by key or name) with the settings in force.
    #[command(
        after_help = "Examples:\n  magpie app show demo\n  magpie app show 3f2a... --secret"
    )]
    Show {
        /// The app's key or name.
        app: String,
        /// Include the app secret.
        #[arg(long)]
        secret: bool,
    },
    /// Give an app a new secret; the old one stops working (admin API calls
    /// and login callbacks are signed with it). Prints the new one.
    #[command(
        name = "rotate-secret",
        after_help = "Examples:\n  magpie app rotate-secret demo\n  eval \"$(magpie app rotate-secret demo --export)\""
    )]
    RotateSecret {
        /// The app's key or name.
        app: String,
        /// Print shell `export` lines instead of JSON.
        #[arg(long)]
        export: bool,
    },
    /// Delete an app with all its accounts, settings and messages.
    #[command(after_help = "Example:\n  magpie app delete demo --yes")]
    Delete {
        /// The app's key or name.
        app: String,
        /// Confirm: the app's accounts and messages are removed for good.
        #[arg(long)]
        yes: bool,
    },
}

/// Runs `magpie app ...`.
pub async fn run(a: AppArgs) -> anyhow::Result<u8> {
    let (cfg, url) = a.store.resolve()?;
    let stores = url.open(false)?;
    match a.command {
        AppCommand::Create { name, export } => create(&stores, &name, export).await?,
        AppCommand::List { json } => list(&stores, json).await?,
        AppCommand::Show { app, secret } => show(&stores, &cfg, &app, secret).await?,
        AppCommand::RotateSecret { app, export } => {
            let app = find(&stores, &app, &url).await?;
            let secret = generate_key(16);
            stores.apps.rotate_secret(app.id, &secret).await?;
            print_credentials(&app.app_key, &secret, export);
        }
        AppCommand::Delete { app, yes } => {
            let app = find(&stores, &app, &url).await?;
            if !yes {
                anyhow::bail!(
                    "deleting app {:?} ({}) removes its accounts, settings and messages for good: \
                     run again with --yes",
                    app.name,
                    app.app_key
                );
            }
            stores.apps.delete_app(app.id).await?;
            println!(
                "{}",
                serde_json::json!({"deleted": app.app_key, "name": app.name})
            );
        }
    }
    Ok(crate::exit::OK)
}

fn print_credentials(key: &str, secret: &str, export: bool) {
    if export {
        println!("export MAGPIE_APP_KEY={key}");
        println!("export MAGPIE_APP_SECRET={secret}");
    } else {
        println!(
            "{}",
            serde_json::json!({"app_key": key, "app_secret": secret})
        );
    }
}

/// Creates an app (also `magpie app create`'s path for the tour).
pub async fn create(stores: &Stores, name: &str, export: bool) -> anyhow::Result<()> {
    if name.trim().is_empty() || name.len() > 128 {
        anyhow::bail!("the app name must be 1 to 128 characters");
    }
    let app = match stores
        .apps
        .create_app(name, &generate_key(16), &generate_key(16))
        .await
    {
        Err(StoreError::Conflict) => anyhow::bail!(
            "an app named {name:?} already exists: choose another name, or see it with `magpie app show {name}`"
        ),
        r => r?,
    };
    print_credentials(&app.app_key, &app.app_secret, export);
    Ok(())
}

/// An app by key, else by name.
async fn find(stores: &Stores, key_or_name: &str, url: &StoreUrl) -> anyhow::Result<App> {
    if let Some(a) = stores.apps.app_by_key(key_or_name).await? {
        return Ok(a);
    }
    let all = stores.apps.list_apps().await?;
    all.into_iter()
        .find(|a| a.name == key_or_name)
        .with_context(|| {
            format!(
                "no app with the key or name {key_or_name:?} in {url}: `magpie app list` shows them \
                 (with --data-dir or --config when the server's data dir is elsewhere)"
            )
        })
}

fn time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

async fn list(stores: &Stores, json: bool) -> anyhow::Result<()> {
    let apps = stores.apps.list_apps().await?;
    if json {
        let v: Vec<_> = apps
            .iter()
            .map(|a| {
                serde_json::json!({"app_key": a.app_key, "name": a.name, "created_at": a.created_at})
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
        return Ok(());
    }
    let name_w = apps
        .iter()
        .map(|a| a.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    println!("{:<32}  {:<name_w$}  CREATED", "APP KEY", "NAME");
    for a in &apps {
        println!(
            "{:<32}  {:<name_w$}  {}",
            a.app_key,
            a.name,
            time(a.created_at)
        );
    }
    if apps.is_empty() {
        println!("(no apps: create one with `magpie app create NAME`)");
    }
    Ok(())
}

async fn show(stores: &Stores, cfg: &ServerConfig, key: &str, secret: bool) -> anyhow::Result<()> {
    let url = StoreUrl::or_default(cfg.store.as_deref(), &cfg.data_dir)?;
    let app = find(stores, key, &url).await?;
    let s = &app.settings;
    let mut v = serde_json::json!({
        "app_key": app.app_key,
        "name": app.name,
        "created_at": time(app.created_at),
        "device_policy": s.device_policy.clone().unwrap_or_else(|| cfg.default_device_policy.clone()),
        "device_policy_is_default": s.device_policy.is_none(),
        "login_auth": s.login_auth.clone().unwrap_or_default(),
        "login_auth_is_default": s.login_auth.is_none(),
        "messaging": s.messaging.clone().unwrap_or_default(),
        "messaging_is_default": s.messaging.is_none(),
    });
    if secret {
        v["app_secret"] = app.app_secret.clone().into();
    }
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}
