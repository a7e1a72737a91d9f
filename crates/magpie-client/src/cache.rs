//! The SDK's local cache: one SQLite file per account under the app data
//! directory, and the device id kept across runs.

use crate::options::DbKey;
use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS login_history (
    at_ms        INTEGER NOT NULL,
    server_time  INTEGER NOT NULL,
    relogin      INTEGER NOT NULL,
    device_id    TEXT NOT NULL,
    others_json  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
";

/// The device id kept in `dir`, created on first use.
pub(crate) fn device_id(dir: &Path) -> std::io::Result<String> {
    let path = dir.join("magpie_device_id");
    match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => {
            use rand::RngCore;
            let mut b = [0u8; 16];
            rand::thread_rng().fill_bytes(&mut b);
            let id: String = b.iter().map(|x| format!("{x:02x}")).collect();
            std::fs::write(&path, &id)?;
            Ok(id)
        }
    }
}

/// Gives SQLCipher the key (before anything else touches the file) and
/// reads the schema, so a wrong key (or a key for a plain file, or none for
/// an encrypted one) fails here with SQLite's "file is not a database".
pub(crate) fn unlock(conn: &Connection, key: Option<&DbKey>) -> rusqlite::Result<()> {
    if let Some(k) = key {
        conn.pragma_update(None, "key", k.as_str())?;
    }
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })?;
    Ok(())
}

/// Checks that every account database under `dir` opens with `key`: a key
/// that does not fit an existing database is an init error, not a failure
/// at some later login. Names the first file that does not open.
pub(crate) fn check_key(dir: &Path, key: Option<&DbKey>) -> Result<(), (PathBuf, rusqlite::Error)> {
    let Ok(apps) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for app in apps.flatten().filter(|e| e.path().is_dir()) {
        let Ok(files) = std::fs::read_dir(app.path()) else {
            continue;
        };
        for f in files.flatten() {
            let path = f.path();
            if path.extension().and_then(|e| e.to_str()) != Some("db") {
                continue;
            }
            // Only what can be a database (SQLite and SQLCipher files are
            // whole pages of at least 512 bytes): a stray file of another
            // program that happens to end in .db is not the SDK's.
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len == 0 || len % 512 != 0 {
                continue;
            }
            let r = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| unlock(&c, key));
            if let Err(e) = r {
                return Err((path, e));
            }
        }
    }
    Ok(())
}

/// Where an account's cache lives.
pub(crate) fn path(dir: &Path, app_key: &str, account: &str) -> PathBuf {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    dir.join(clean(app_key))
        .join(format!("{}.db", clean(account)))
}

/// An open cache. A login record opens the file, commits and closes it;
/// messaging keeps it open for the session. Write-ahead logging with
/// `synchronous=NORMAL`: a commit is one append, no disk sync (a crash of
/// the machine may lose the last commits, never consistency: the cursor
/// and what it covers roll back together and the next sync brings them
/// again). Closing the last connection folds the log back in and removes
/// the side files.
pub(crate) struct Cache {
    pub(crate) conn: Connection,
}

/// One login, as recorded.
pub(crate) struct LoginRecord {
    pub at_ms: i64,
    pub server_time: i64,
    pub relogin: bool,
    pub device_id: String,
    pub others_json: String,
}

impl Cache {
    pub fn open(path: &Path, key: Option<&DbKey>) -> rusqlite::Result<Cache> {
        if let Some(d) = path.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        let conn = Connection::open(path)?;
        unlock(&conn, key)?;
        // The login record and messaging work may meet on one file.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Cache { conn })
    }

    /// Commits one login record and closes the file.
    pub fn record_login(self, r: &LoginRecord) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO login_history (at_ms, server_time, relogin, device_id, others_json) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![r.at_ms, r.server_time, r.relogin, r.device_id, r.others_json],
        )?;
        self.conn.close().map_err(|(_, e)| e)
    }

    /// Number of recorded logins (for tests and diagnostics).
    pub fn login_count(path: &Path, key: Option<&DbKey>) -> rusqlite::Result<i64> {
        let c = Connection::open(path)?;
        unlock(&c, key)?;
        c.query_row("SELECT COUNT(*) FROM login_history", [], |r| r.get(0))
    }
}
