//! `magpie backup --to FILE`: a consistent copy of the store while the
//! server runs (or not), as one self-contained SQLite file.

use crate::app::StoreArgs;
use crate::store::StoreUrl;
use clap::Args;
use std::path::PathBuf;

pub const AFTER_HELP: &str = "\
The copy is taken with SQLite's online backup API while the server keeps
serving, includes every message the server had acknowledged when it began
(those still in the message journal too), passes PRAGMA integrity_check and
is readable by its owner only. It never overwrites a file.
Restore: stop the server, move the data dir's magpie.db* files away, copy the
backup to DATA_DIR/magpie.db, start the server (docs/operations.md).

Examples:
  magpie backup --to /var/backups/magpie-$(date +%F).db
  magpie backup --data-dir /var/lib/magpie --to backup.db --json";

/// Options of `magpie backup`.
#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The backup file to create (it must not exist).
    #[arg(long)]
    to: PathBuf,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(a: BackupArgs) -> anyhow::Result<u8> {
    let (_, url) = a.store.resolve()?;
    let StoreUrl::Sqlite(db) = &url;
    let size = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "backing up {url} ({:.1} MiB) to {} ...",
        size as f64 / 1048576.0,
        a.to.display()
    );
    let r = magpie_store_sqlite::backup(db, &a.to)?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "source": url.to_string(),
                "backup": a.to,
                "bytes": r.bytes,
                "pages": r.pages,
                "journal_records": r.journal_records,
                "seconds": r.took.as_secs_f64(),
                "integrity_check": "ok",
            })
        );
    } else {
        println!(
            "backed up {url} to {}: {:.1} MiB, {} pages, {} messages from the journal, {:.2} s; integrity_check ok",
            a.to.display(),
            r.bytes as f64 / 1048576.0,
            r.pages,
            r.journal_records,
            r.took.as_secs_f64()
        );
    }
    Ok(crate::exit::OK)
}
