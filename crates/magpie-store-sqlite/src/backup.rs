//! Online backup: a consistent copy of a database that a server may be
//! serving, with every message the server had acknowledged when the backup
//! began, as one self-contained SQLite file.
//!
//! Messages are acknowledged once they are in the journal next to the
//! database and copied into the database within half a second, so the
//! database alone may lack the newest ones. The backup therefore copies the
//! journal's segments first, then takes the database with SQLite's online
//! backup API in one step (one read transaction: a snapshot that writers
//! never block, and that is never restarted by them), then copies into the
//! copy the journal records it lacks. A record acknowledged before the
//! backup began is in a copied segment, or was already copied into the
//! database (a segment is deleted only after that) and so is in the
//! snapshot, which is taken after the segments.

use crate::journal::Journal;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a backup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// Size of the backup file, bytes.
    pub bytes: u64,
    /// Database pages copied.
    pub pages: i32,
    /// Journal records copied into the backup (acknowledged messages the
    /// database did not have yet).
    pub journal_records: usize,
    /// Time taken.
    pub took: Duration,
}

/// Why a backup failed, as the operator reads it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackupError(String);

fn fail<E: std::fmt::Display>(what: impl std::fmt::Display) -> impl FnOnce(E) -> BackupError {
    move |e| BackupError(format!("{what}: {e}"))
}

/// Copies the database at `db` (and its journal) to the new file `to`,
/// which must not exist. The file is written beside `to` under a temporary
/// name, checked with `PRAGMA integrity_check`, made owner-only and renamed
/// into place, so `to` is either a whole, checked backup or absent.
pub fn backup(db: &Path, to: &Path) -> Result<BackupReport, BackupError> {
    let start = Instant::now();
    if !db.exists() {
        return Err(BackupError(format!(
            "there is no database at {}: give the server's --data-dir (or --store)",
            db.display()
        )));
    }
    if to.exists() {
        return Err(BackupError(format!(
            "{} exists already: a backup never overwrites; choose a new file name",
            to.display()
        )));
    }
    let mut tmp_name = to.as_os_str().to_owned();
    tmp_name.push(".partial");
    let tmp = PathBuf::from(tmp_name);
    let result = write_backup(db, &tmp);
    let cleanup = |p: &Path| {
        for f in companions(p) {
            let _ = std::fs::remove_file(f);
        }
    };
    match result {
        Ok((pages, journal_records)) => {
            cleanup(&tmp);
            std::fs::rename(&tmp, to).map_err(fail(format_args!(
                "renaming the backup to {}",
                to.display()
            )))?;
            let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
            Ok(BackupReport {
                bytes,
                pages,
                journal_records,
                took: start.elapsed(),
            })
        }
        Err(e) => {
            cleanup(&tmp);
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// The files SQLite and the journal keep next to a database file.
fn companions(db: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ["-wal", "-shm", "-journal", "-msgs.lock"]
        .iter()
        .map(|s| {
            let mut n = db.as_os_str().to_owned();
            n.push(s);
            PathBuf::from(n)
        })
        .collect();
    if let Ok(segs) = Journal::segments(db) {
        out.extend(segs.into_iter().map(|(_, p)| p));
    }
    out
}

fn write_backup(db: &Path, tmp: &Path) -> Result<(i32, usize), BackupError> {
    // Leftovers of an interrupted backup under the same name.
    for f in companions(tmp) {
        let _ = std::fs::remove_file(f);
    }
    let _ = std::fs::remove_file(tmp);
    // 1. The journal's segments, under the backup's name. A segment that
    //    is gone meanwhile was copied into the database first.
    let segments = Journal::segments(db).map_err(fail("listing the message journal"))?;
    let tmp_file = tmp
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for (n, path) in segments {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(fail(format_args!("reading {}", path.display()))(e)),
        };
        let dest = tmp.with_file_name(format!("{tmp_file}-msgs.{n:06}"));
        write_private(&dest, &bytes)?;
    }
    // 2. The database, in one step: one consistent snapshot.
    let src = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(fail(format_args!("opening {}", db.display())))?;
    src.busy_timeout(Duration::from_secs(5))
        .map_err(fail("configuring the source"))?;
    write_private(tmp, b"")?;
    let mut dst =
        Connection::open(tmp).map_err(fail(format_args!("creating {}", tmp.display())))?;
    let pages = {
        let b =
            rusqlite::backup::Backup::new(&src, &mut dst).map_err(fail("starting the backup"))?;
        b.step(-1).map_err(fail("copying the database"))?;
        b.progress().pagecount
    };
    drop(src);
    // 3. The journal records the snapshot lacks.
    let ingested: i64 = dst
        .query_row(
            "SELECT ingested FROM message_journal WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .map_err(fail("reading the backup's journal mark"))?;
    let (records, _) = crate::ingest::recover_into(tmp, &mut dst, ingested as u64)
        .map_err(fail("copying the message journal into the backup"))?;
    // 4. Checked, and one file: no WAL beside it.
    let check: String = dst
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(fail("checking the backup"))?;
    if check != "ok" {
        return Err(BackupError(format!(
            "the backup failed SQLite's integrity check ({check}); the source database may be damaged: run `sqlite3 {} 'PRAGMA integrity_check'`",
            db.display()
        )));
    }
    dst.pragma_update(None, "journal_mode", "DELETE")
        .map_err(fail("finishing the backup"))?;
    dst.close()
        .map_err(|(_, e)| fail("closing the backup")(e))?;
    Ok((pages, records))
}

/// Writes `bytes` to a new file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(fail(format_args!("writing {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use magpie_store::{AccountId, AccountStore, AppStore, MessageStore, NewAccount, TokenHash};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_backup_holds_the_accounts_and_every_acknowledged_message() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        let s = SqliteStore::open(&db).unwrap();
        let app = s.create_app("x", "k", "s").await.unwrap();
        let ann = AccountId::parse("ann").unwrap();
        s.create_account(app.id, NewAccount::new(ann.clone(), TokenHash::new("t")))
            .await
            .unwrap();
        // Acknowledged, and (the ingester stopped) in the journal only.
        s.inner.core.freeze();
        s.append(vec![(app.id, crate::tests::text("bob", "ann", "c1"))])
            .await
            .unwrap();
        let to = dir.path().join("backup.db");
        let r = backup(&db, &to).unwrap();
        assert_eq!(r.journal_records, 1);
        assert!(r.bytes > 0 && r.pages > 0);
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&to).unwrap().permissions())
                & 0o777;
        assert_eq!(mode, 0o600);
        // One self-contained file.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("backup.db"))
            .collect();
        assert_eq!(names, ["backup.db"]);
        // The process dies: nothing runs on drop.
        s.inner.core.crash();
        std::mem::forget(s);
        let b = SqliteStore::open(&to).unwrap();
        assert!(b.account(app.id, &ann).await.unwrap().is_some());
        let log = b.log(app.id, &ann, 0, 10).await.unwrap();
        assert_eq!(log.entries.len(), 1);
        // Never over an existing file.
        let e = backup(&db, &to).unwrap_err().to_string();
        assert!(e.contains("exists already"), "{e}");
    }
}
