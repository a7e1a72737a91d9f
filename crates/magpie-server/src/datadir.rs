//! The data directory a running server owns: created owner-only, locked so
//! that a second `magpie serve` on it refuses to start (two servers would
//! each apply the multi-device policy alone), and checked for permissions
//! looser than owner-only (it holds app secrets and messages).

use anyhow::Context;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "magpie.lock";

/// A data directory held by this process until dropped.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Creates `dir` if needed (mode 0700, parents too), takes its lock
    /// without waiting, and writes this process's id into the lock file. A
    /// directory locked by another process is an error naming that process.
    pub fn take(dir: &Path) -> anyhow::Result<DataDir> {
        create_private_dir(dir)?;
        let path = std::path::absolute(dir)
            .with_context(|| format!("resolving the data dir {}", dir.display()))?;
        let lock_path = path.join(LOCK_FILE);
        let mut o = OpenOptions::new();
        o.create(true).truncate(false).read(true).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let file = o.open(&lock_path).with_context(|| {
            format!(
                "opening {}: the data dir must be writable by the user running magpie serve",
                lock_path.display()
            )
        })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&lock_path)
                    .ok()
                    .and_then(|t| t.trim().parse::<u32>().ok())
                    .map(describe_pid)
                    .unwrap_or_else(|| "another process".to_owned());
                anyhow::bail!(
                    "the data dir {} is in use by {holder}: one server per data dir (two would each \
                     apply the multi-device policy alone); stop that server, or give this one \
                     another --data-dir",
                    path.display()
                );
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(
                    anyhow::Error::new(e).context(format!("locking {}", lock_path.display()))
                )
            }
        }
        let mut f = &file;
        f.set_len(0)
            .and_then(|()| writeln!(f, "{}", std::process::id()))
            .with_context(|| format!("writing {}", lock_path.display()))?;
        Ok(DataDir { path, _lock: file })
    }

    /// The directory, absolute.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Entries (the directory itself and the files directly in it) that
    /// others than the owner may read or write, each with its mode, for the
    /// warnings at start.
    pub fn loose_permissions(&self) -> Vec<(PathBuf, u32)> {
        loose_permissions(&self.path)
    }
}

/// `pid N (command)` when /proc tells the command, else `pid N`.
fn describe_pid(pid: u32) -> String {
    match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(c) => format!("pid {pid} ({})", c.trim()),
        Err(_) => format!("pid {pid}"),
    }
}

/// Creates `dir` and missing parents with mode 0700 (an existing directory
/// keeps its mode; [`loose_permissions`] reports it).
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .with_context(|| format!("creating the data dir {}", dir.display()))
}

/// See [`DataDir::loose_permissions`].
pub fn loose_permissions(dir: &Path) -> Vec<(PathBuf, u32)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut out = Vec::new();
        let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
        if let Ok(m) = mode(dir) {
            if m & 0o077 != 0 {
                out.push((dir.to_path_buf(), m));
            }
        }
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .collect();
            files.sort();
            for f in files {
                if let Ok(m) = mode(&f) {
                    if m & 0o077 != 0 {
                        out.push((f, m));
                    }
                }
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_owner_only_locked_and_a_second_taker_is_told_who_holds_it() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("a/b/data");
        let d = DataDir::take(&dir).unwrap();
        assert!(d.path().is_absolute());
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let lock = std::fs::metadata(dir.join(LOCK_FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(lock, 0o600);
        assert!(d.loose_permissions().is_empty());
        let e = DataDir::take(&dir).unwrap_err().to_string();
        assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
        assert!(e.contains("--data-dir"), "{e}");
        drop(d);
        DataDir::take(&dir).unwrap();
    }

    #[test]
    fn loose_modes_are_reported() {
        let t = tempfile::tempdir().unwrap();
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let f = t.path().join("magpie.db");
        std::fs::write(&f, b"").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let d = DataDir::take(t.path()).unwrap();
        let loose = d.loose_permissions();
        assert_eq!(loose.len(), 2, "{loose:?}");
        assert_eq!(loose[0].1, 0o755);
        assert_eq!(loose[1], (d.path().join("magpie.db"), 0o644));
    }
}
