//! Schema migrations, kept in a table every backend can hold:
//!
//! ```sql
//! CREATE TABLE schema_migrations (
//!     version    INTEGER PRIMARY KEY,
//!     name       TEXT NOT NULL,
//!     applied_at BIGINT NOT NULL   -- ms since the epoch
//! );
//! ```
//!
//! A backend lists its migrations (`migrations/NNN_name.sql`) and asks
//! [`plan`] which to apply, given the versions already recorded. A database
//! that records a version this build does not know was migrated by a newer
//! Magpie: [`plan`] refuses it rather than run an old binary on a newer
//! schema.

/// One schema migration of a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migration {
    /// Its number (the file's `NNN`), from 1 up without gaps.
    pub version: i64,
    /// Its name (the file name without number and extension).
    pub name: &'static str,
    /// The SQL it runs.
    pub sql: &'static str,
}

/// The table's DDL, valid in SQLite and PostgreSQL.
pub const TABLE_DDL: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
    version INTEGER PRIMARY KEY, \
    name TEXT NOT NULL, \
    applied_at BIGINT NOT NULL)";

/// Why migrations cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The database is newer than this build.
    #[error("the database has schema version {found}, but this Magpie knows only up to {known}: it was upgraded by a newer Magpie; run that version (or restore a backup taken before the upgrade)")]
    TooNew {
        /// Highest recorded version.
        found: i64,
        /// Highest version this build has.
        known: i64,
    },
    /// The backend's list of migrations is not numbered 1, 2, 3, ...
    #[error("migration {0} is out of order (a bug in this build)")]
    OutOfOrder(i64),
}

/// The migrations to apply, in order, given the versions already applied.
pub fn plan<'m>(
    all: &'m [Migration],
    applied: &[i64],
) -> Result<Vec<&'m Migration>, MigrationError> {
    for (i, m) in all.iter().enumerate() {
        if m.version != i as i64 + 1 {
            return Err(MigrationError::OutOfOrder(m.version));
        }
    }
    let known = all.len() as i64;
    if let Some(&found) = applied.iter().max() {
        if found > known {
            return Err(MigrationError::TooNew { found, known });
        }
    }
    Ok(all
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Migration; 3] = [
        Migration {
            version: 1,
            name: "init",
            sql: "",
        },
        Migration {
            version: 2,
            name: "b",
            sql: "",
        },
        Migration {
            version: 3,
            name: "c",
            sql: "",
        },
    ];

    #[test]
    fn plans_what_is_missing_and_refuses_newer_databases() {
        let v = |p: Vec<&Migration>| p.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(v(plan(&ALL, &[]).unwrap()), [1, 2, 3]);
        assert_eq!(v(plan(&ALL, &[1, 2]).unwrap()), [3]);
        assert_eq!(v(plan(&ALL, &[1, 2, 3]).unwrap()), Vec::<i64>::new());
        assert_eq!(
            plan(&ALL, &[1, 2, 3, 4]),
            Err(MigrationError::TooNew { found: 4, known: 3 })
        );
        let gap = [ALL[0], ALL[2]];
        assert_eq!(plan(&gap, &[]), Err(MigrationError::OutOfOrder(3)));
    }
}
