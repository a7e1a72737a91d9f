use crate::store::StoreUrl;
use anyhow::Context;
use clap::Args;
use magpie_server::{Listeners, ServerConfig, Services};
use magpie_store::generate_key;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Options of `magpie serve`. Precedence: flags, then `MAGPIE_*` variables,
/// then the config file, then defaults.
#[derive(Args)]
pub struct ServeArgs {
    /// TOML config file (keys as printed by --print-config).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Data directory [default: ./magpie-data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Store URL [default: sqlite://DATA_DIR/magpie.db, the embedded SQLite file].
    #[arg(long)]
    store: Option<String>,
    /// Client TCP address [default: 127.0.0.1:9300].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Admin HTTP address [default: 127.0.0.1:9380].
    #[arg(long)]
    admin_listen: Option<SocketAddr>,
    /// Print the effective configuration as TOML and exit.
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
    let url = StoreUrl::or_default(cfg.store.as_deref(), &cfg.data_dir)?;
    let stores = url.open(true)?;
    tracing::info!(store = %url, "store open");
    let listeners = Listeners::bind(cfg.listen, cfg.admin_listen)
        .await
        .with_context(|| format!("binding {} and {}", cfg.listen, cfg.admin_listen))?;
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
