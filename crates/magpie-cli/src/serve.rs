use crate::store::StoreUrl;
use clap::Args;
use magpie_server::datadir::DataDir;
use magpie_server::{Listeners, ServerConfig, Services};
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
    /// Log lines as `text` or `json` (one object per line) [default: text].
    #[arg(long)]
    log_format: Option<magpie_server::logging::LogFormat>,
    /// Print the effective configuration as commented TOML and exit.
    #[arg(long)]
    print_config: bool,
}

/// The server's worker threads, from the configuration `a` names (None
/// when it does not load: `run` reports why).
pub fn worker_threads(a: &ServeArgs) -> Option<usize> {
    let cfg = ServerConfig::load(a.config.as_deref()).ok()?;
    Some(cfg.worker_threads())
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
    if let Some(f) = a.log_format {
        cfg.log_format = f;
    }
    if a.print_config {
        print!("{}", cfg.to_toml());
        return Ok(());
    }
    cfg.validate()?;
    magpie_server::logging::init(&cfg.log, cfg.log_format)?;
    // An error is printed by main, once.
    let res = serve(cfg).await;
    // Lines still queued reach stderr if it takes them within a second.
    magpie_server::logging::flush(std::time::Duration::from_secs(1));
    res
}

async fn serve(cfg: ServerConfig) -> anyhow::Result<()> {
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
    // The data dir next: one server per data dir, owner-only.
    let data_dir = DataDir::take(&cfg.data_dir)?;
    for (path, mode) in data_dir.loose_permissions() {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:o}"),
            "readable by other users, and the data dir holds app secrets and messages: chmod {} {}",
            if path.is_dir() { "700" } else { "600" },
            path.display()
        );
    }
    let url = StoreUrl::or_default(cfg.store.as_deref(), data_dir.path())?;
    let stores = url.open(true)?;
    tracing::info!(store = %url, "store open");
    url.warn_if_read_only();
    let apps = stores.apps.list_apps().await?.len();
    let tls = cfg.tls.is_some();
    let drain = std::time::Duration::from_millis(cfg.drain_timeout_ms);
    let workers = cfg.worker_threads();
    let server = magpie_server::start(listeners, cfg, Services::in_process(stores)).await?;
    // One machine-readable line on stdout, for scripts and tests that bind
    // port 0. A closed stdout must not stop the server: the error is ignored.
    let ready = serde_json::json!({
        "event": "ready",
        "client": server.client_addr.to_string(),
        "admin": server.admin_addr.to_string(),
        "tls": tls,
        "lbs": server.lbs_addr.map(|a| a.to_string()),
        "data_dir": data_dir.path(),
        "store": url.to_string(),
        "apps": apps,
        "workers": workers,
    });
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{ready}").and_then(|()| out.flush());
    }
    tracing::info!(
        client = %server.client_addr,
        admin = %server.admin_addr,
        tls,
        data_dir = %data_dir.path().display(),
        apps,
        workers,
        "ready"
    );
    let signal = server.shutdown_signal();
    let (stopping_tx, stopping) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        wait_for_signal().await;
        // Shutdown first: nothing logged (stderr may be gone) comes before it.
        let _ = signal.send(true);
        let _ = stopping_tx.send(());
        tracing::info!("shutting down");
    });
    let wait = server.wait();
    tokio::pin!(wait);
    tokio::select! {
        _ = &mut wait => tracing::info!("stopped"),
        _ = async {
            if stopping.await.is_ok() {
                tokio::time::sleep(drain).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => {
            tracing::warn!(
                drain_timeout_ms = drain.as_millis() as u64,
                "connections still open after the drain timeout; stopping anyway \
                 (acknowledged messages are in the journal)"
            );
        }
    }
    drop(data_dir);
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
