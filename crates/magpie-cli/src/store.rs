//! Picks the store backend from a URL. The server itself depends on the
//! store traits only; this binary links the backends.

use anyhow::Context;
use magpie_store::Stores;
use magpie_store_sqlite::SqliteStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A store location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `sqlite://PATH` (relative, or absolute as `sqlite:///abs/path`).
    Sqlite(PathBuf),
}

impl StoreUrl {
    /// Parses a store URL.
    pub fn parse(url: &str) -> anyhow::Result<StoreUrl> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"));
        match path {
            Some(p) if !p.is_empty() => Ok(StoreUrl::Sqlite(PathBuf::from(p))),
            Some(_) => anyhow::bail!("store URL {url:?} names no file: write sqlite://PATH, for example sqlite://./magpie-data/magpie.db"),
            None => anyhow::bail!(
                "unsupported store URL {url:?}: this Magpie stores in SQLite; write sqlite://PATH (absolute: sqlite:///var/lib/magpie/magpie.db)"
            ),
        }
    }

    /// The embedded default inside a data directory.
    pub fn default_in(data_dir: &Path) -> StoreUrl {
        StoreUrl::Sqlite(data_dir.join("magpie.db"))
    }

    /// The URL, or the default in `data_dir` when none is given.
    pub fn or_default(url: Option<&str>, data_dir: &Path) -> anyhow::Result<StoreUrl> {
        match url {
            Some(u) => StoreUrl::parse(u),
            None => Ok(StoreUrl::default_in(data_dir)),
        }
    }

    /// Warns (log, at start) when the store cannot be written: the server
    /// would serve logins and then fail every write.
    pub fn warn_if_read_only(&self) {
        match self {
            StoreUrl::Sqlite(path) => {
                let dir = path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                // Never open the database file itself: closing any descriptor
                // of it would drop SQLite's POSIX locks for the whole process.
                let file_ro = std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly());
                // A file in the directory: SQLite's WAL and the journal live there.
                let probe = dir.join(format!(".magpie-write-check-{}", std::process::id()));
                let dir_ok = std::fs::write(&probe, b"").is_ok();
                let _ = std::fs::remove_file(&probe);
                if file_ro || !dir_ok {
                    tracing::warn!(
                        store = %path.display(),
                        "the store is READ-ONLY (file or directory not writable by this user): \
                         logins may work but every write fails; fix the permissions"
                    );
                }
            }
        }
    }

    /// Opens the stores (creating the SQLite file and its directory if
    /// needed). `serving`: for `magpie serve`, which owns the messages;
    /// else for a tool beside a server that may be running.
    pub fn open(&self, serving: bool) -> anyhow::Result<Stores> {
        match self {
            StoreUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    magpie_server::datadir::create_private_dir(dir)?;
                }
                let s = if serving {
                    SqliteStore::open(path)
                } else {
                    SqliteStore::open_shared(path)
                };
                let s = s.with_context(|| format!("opening the store {}", path.display()))?;
                Ok(Stores::new(Arc::new(s)))
            }
        }
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_and_clear_refusals() {
        assert_eq!(
            StoreUrl::parse("sqlite://./d/m.db").unwrap(),
            StoreUrl::Sqlite("./d/m.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///var/lib/m.db").unwrap(),
            StoreUrl::Sqlite("/var/lib/m.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite:m.db").unwrap(),
            StoreUrl::Sqlite("m.db".into())
        );
        let e = StoreUrl::parse("postgres://localhost/x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sqlite://PATH"), "{e}");
        assert!(StoreUrl::parse("sqlite://").is_err());
        assert_eq!(
            StoreUrl::default_in(Path::new("./magpie-data")).to_string(),
            "sqlite://./magpie-data/magpie.db"
        );
    }
}
