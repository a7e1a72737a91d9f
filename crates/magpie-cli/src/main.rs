//! `magpie`: the server daemon, app and admin commands, and a scriptable client.

// The doc comments of the clap types are the command line's help text, read
// by people in a terminal, not rustdoc markdown: `[user:password@]` there
// means "optional".
#![allow(rustdoc::broken_intra_doc_links)]

mod addr;
mod admin;
mod app;
mod backup;
mod client;
mod operator;
mod serve;
mod store;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: the message path allocates and
/// frees small buffers on several threads, where glibc's arenas spent
/// about a sixth of the server's CPU (docs/decisions.md, "Allocator").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit statuses of every `magpie` command (README "Exit statuses").
pub mod exit {
    /// Normal end.
    pub const OK: u8 = 0;
    /// An error: bad input, an unreachable server, a file that cannot be read.
    pub const ERROR: u8 = 1;
    /// The command line itself is wrong (clap's usage errors).
    pub const USAGE: u8 = 2;
    /// The server refused: a failed login (`magpie client`) or an API answer
    /// other than 200 (`magpie admin`); the NIM code is in the message.
    pub const REFUSED: u8 = 3;
    /// `magpie client` was kicked out (by another device or the server).
    pub const KICKED: u8 = 4;
}

const AFTER_HELP: &str = "\
Examples, the quick start of README's \"Five-minute tour\":
  magpie serve                                   # terminal 1: client port 127.0.0.1:9300, admin 127.0.0.1:9380
  eval \"$(magpie app create demo --export)\"      # terminal 2: sets MAGPIE_APP_KEY and MAGPIE_APP_SECRET
  magpie admin account create alice --token secret-a
  magpie client --account alice --token secret-a

Environment: MAGPIE_SERVER (client address), MAGPIE_ADMIN_URL, MAGPIE_APP_KEY,
MAGPIE_APP_SECRET, MAGPIE_DATA_DIR; every flag also works after the subcommand.
Exit statuses: 0 done, 1 error, 2 usage error, 3 refused by the server (failed
login, API error code), 4 kicked out.";

/// Magpie: a self-hosted instant-messaging server compatible with NIM's login model.
#[derive(Parser)]
#[command(name = "magpie", version, about, long_about = None, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (embedded SQLite store under --data-dir).
    #[command(after_help = serve::AFTER_HELP)]
    Serve(serve::ServeArgs),
    /// Manage apps directly in the server's store (works while the server runs).
    #[command(after_help = app::AFTER_HELP)]
    App(app::AppArgs),
    /// Copy the store to a new file while the server runs (SQLite's online backup).
    #[command(after_help = backup::AFTER_HELP)]
    Backup(backup::BackupArgs),
    /// Operators of the web console (/console on the admin listener).
    #[command(after_help = operator::AFTER_HELP)]
    Operator(operator::OperatorArgs),
    /// Call the admin HTTP API, signed with the app's key and secret.
    #[command(after_help = admin::AFTER_HELP)]
    Admin(admin::AdminArgs),
    /// A scriptable client built on the SDK: logs in, prints one JSON line per
    /// callback and reads commands from standard input (see --help).
    #[command(after_help = client::AFTER_HELP)]
    Client(client::ClientArgs),
}

/// Whether backtraces belong to bugs only: a user error (anyhow error
/// returned by a command) is printed as one line of causes, never with the
/// backtrace that `RUST_BACKTRACE=1` would attach; panics keep theirs.
fn print_error(e: &anyhow::Error) {
    eprintln!("error: {e:#}");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Command::Serve(a) = &cli.command {
        // A configuration that does not load is reported by `serve` itself.
        if let Some(n) = serve::worker_threads(a) {
            builder.worker_threads(n);
        }
    }
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let res = rt.block_on(async move {
        match cli.command {
            Command::Serve(a) => serve::run(a).await.map(|()| exit::OK),
            Command::App(a) => app::run(a).await,
            Command::Backup(a) => backup::run(a),
            Command::Operator(a) => operator::run(a).await,
            Command::Admin(a) => admin::run(a).await,
            Command::Client(a) => client::run(a).await,
        }
    });
    // Background tasks (an SDK connection task, a server's listeners) must
    // not hold the exit.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    match res {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            print_error(&e);
            ExitCode::from(exit::ERROR)
        }
    }
}
