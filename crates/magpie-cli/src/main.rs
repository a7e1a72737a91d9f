//! `magpie`: the server daemon, app and admin commands, and a scriptable client.

// The doc comments of the clap types are the command line's help text, read
// by people in a terminal, not rustdoc markdown: `[user:password@]` there
// means "optional".
#![allow(rustdoc::broken_intra_doc_links)]

mod admin;
mod client;
mod serve;
mod store;

use clap::{Parser, Subcommand};

/// Magpie: a self-hosted instant-messaging server compatible with NIM's login model.
#[derive(Parser)]
#[command(name = "magpie", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (embedded SQLite store under --data-dir).
    Serve(serve::ServeArgs),
    /// Manage apps directly in a data directory (works while the server runs).
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Call the admin HTTP API, signed with the app's key and secret.
    Admin(admin::AdminArgs),
    /// A scriptable client built on the SDK: prints one JSON line per callback,
    /// reads commands from standard input (`send ACCID TEXT`, `sysmsg ACCID
    /// JSON [--stored]`, `sessions`, `history ACCID [--limit N]`, `read
    /// ACCID`, `kick-other ID...`, `relogin`, `logout TYPE`, `quit`).
    Client(client::ClientArgs),
}

#[derive(Subcommand)]
enum AppCommand {
    /// Create an app; prints {"app_key":"...","app_secret":"..."}.
    Create {
        /// Display name of the app.
        name: String,
        /// The server's data directory.
        #[arg(long, env = "MAGPIE_DATA_DIR", default_value = "./magpie-data")]
        data_dir: std::path::PathBuf,
        /// Store URL [default: sqlite://DATA_DIR/magpie.db].
        #[arg(long, env = "MAGPIE_STORE")]
        store: Option<String>,
        /// Print shell `export` lines for MAGPIE_APP_KEY and MAGPIE_APP_SECRET
        /// instead of JSON: `eval "$(magpie app create demo --export)"`.
        #[arg(long)]
        export: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve(a) => serve::run(a).await,
            Command::App {
                command:
                    AppCommand::Create {
                        name,
                        data_dir,
                        store,
                        export,
                    },
            } => {
                let url = store::StoreUrl::or_default(store.as_deref(), &data_dir)?;
                serve::create_app(&name, &url, export).await
            }
            Command::Admin(a) => admin::run(a).await,
            Command::Client(a) => client::run(a).await,
        }
    })
}
