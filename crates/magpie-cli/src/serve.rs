use crate::store::StoreUrl;
use clap::Args;
use magpie_server::{Listeners, ServerConfig, Services};
use magpie_store::generate_key;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The help text after `magpie serve --help`'s options.
pub const AFTER_HELP: &str = "\
Every key of the config file can also be set as a MAGPIE_* environment
variable (MAGPIE_DATA_DIR, MAGPIE_LISTEN, MAGPIE_LOGIN_LIMITS__PER_ACCOUNT_BURST, ...).
On start the server prints one JSON line on stdout:
{\"event\":\"ready\",\"client\":ADDR,\"admin\":ADDR,...}; SIGINT or SIGTERM stop it.

Examples:
  magpie serve                                    # ./magpie-data, clients on 127.0.0.1:9300, admin on 127.0.0.1:9380
  magpie serve --print-config > magpie.toml       # a commented config file to edit
  magpie serve -c magpie.toml --listen 0.0.0.0:9300
  MAGPIE_DATA_DIR=/var/lib/magpie magpie serve";

/// Options of `magpie serve`. Precedence: flags, then `MAGPIE_*` variables,
/// then the config file, then defaults.
#[derive(Args)]
pub struct ServeArgs {
    /// TOML config file (keys as printed by --print-config).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Data directory [default: ./magpie-data; env: MAGPIE_DATA_DIR].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Store URL [default: sqlite://DATA_DIR/magpie.db, the embedded SQLite file].
    #[arg(long)]
    store: Option<String>,
    /// Client TCP address, host:port or tcp://host:port [default: 127.0.0.1:9300].
    #[arg(long, value_parser = crate::addr::listen_client)]
    listen: Option<SocketAddr>,
    /// Admin HTTP address, host:port or http://host:port [default: 127.0.0.1:9380].
    #[arg(long, value_parser = crate::addr::listen_admin)]
    admin_listen: Option<SocketAddr>,
    /// Print the effective configuration as commented TOML and exit.
    #[arg(long)]
    print_config: bool,
}

pub async fn run(a: ServeArgs) -> anyhow::Result<()> {
    let mut cfg = ServerConfig::load(a.config.as_deref())?;
    if let Some(d) = a.data_dir {
        cfg.data_dir = d;
    }
    if let Some(l) = a.listen {
        cfg.listen = l;
    }
    if let Some(l) = a.admin_listen {
        cfg.admin_listen = l;
    }
    if let Some(s) = a.store {
        cfg.store = Some(s);
    }
    if a.print_config {
        print!("{}", cfg.to_toml());
        return Ok(());
    }
    cfg.validate()?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    // Ports first: a busy port fails before anything touches the data dir.
    let client = Listeners::bind_client(cfg.listen)
        .map_err(|e| bind_error(e, cfg.listen, "client", "--listen", "listen"))?;
    let admin = tokio::net::TcpListener::bind(cfg.admin_listen)
        .await
        .map_err(|e| {
            bind_error(
                e,
                cfg.admin_listen,
                "admin",
                "--admin-listen",
                "admin_listen",
            )
        })?;
    let listeners = Listeners { client, admin };
    let url = StoreUrl::or_default(cfg.store.as_deref(), &cfg.data_dir)?;
    let stores = url.open(true)?;
    tracing::info!(store = %url, "store open");
    url.warn_if_read_only();
    let server = magpie_server::start(listeners, cfg, Services::in_process(stores)).await?;
    // One machine-readable line on stdout, for scripts and tests that bind port 0.
    println!(
        "{}",
        serde_json::json!({
            "event": "ready",
            "client": server.client_addr.to_string(),
            "admin": server.admin_addr.to_string(),
        })
    );
    let signal = server.shutdown_signal();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = signal.send(true);
    });
    server.wait().await;
    tracing::info!("stopped");
    Ok(())
}

/// A bind failure as the operator reads it: which of the two ports, who
/// holds it (when this user can see), and the flag or key that moves it.
fn bind_error(
    e: std::io::Error,
    addr: SocketAddr,
    which: &str,
    flag: &str,
    key: &str,
) -> anyhow::Error {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            let holder = crate::addr::port_holder(addr.port())
                .unwrap_or_else(|| "another process".to_owned());
            anyhow::anyhow!(
                "the {which} port {addr} is already in use by {holder}: stop it, or choose \
                 another address with {flag} (config key `{key}`)"
            )
        }
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "no permission to listen on the {which} address {addr} (ports below 1024 need \
             privileges): choose another address with {flag} (config key `{key}`)"
        ),
        std::io::ErrorKind::AddrNotAvailable => anyhow::anyhow!(
            "the {which} address {addr} is not an address of this machine: choose another with \
             {flag} (config key `{key}`)"
        ),
        _ => anyhow::Error::new(e).context(format!("binding the {which} address {addr}")),
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

pub async fn create_app(name: &str, store: &StoreUrl, export: bool) -> anyhow::Result<()> {
    if name.is_empty() || name.len() > 128 {
        anyhow::bail!("the app name must be 1 to 128 characters");
    }
    let stores = store.open(false)?;
    let app = stores
        .apps
        .create_app(name, &generate_key(16), &generate_key(16))
        .await?;
    if export {
        println!("export MAGPIE_APP_KEY={}", app.app_key);
        println!("export MAGPIE_APP_SECRET={}", app.app_secret);
    } else {
        println!(
            "{}",
            serde_json::json!({"app_key": app.app_key, "app_secret": app.app_secret})
        );
    }
    Ok(())
}
