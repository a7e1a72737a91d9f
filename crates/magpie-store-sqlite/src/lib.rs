//! Magpie's embedded default store: one SQLite file in WAL mode.
//!
//! Writes go through one writer connection; reads through a small pool of
//! reader connections, which WAL lets run while a write is in progress.
//! SQLite calls block, so every call runs on tokio's blocking pool.
//! Other processes (such as `magpie app create`) may open the same file
//! while a server runs: WAL and a busy timeout make that safe.
//!
//! Migrations are the files in `migrations/`, applied in order and recorded
//! in the `schema_migrations` table (`magpie_store::migration`); databases
//! from before that table, which counted migrations in SQLite's
//! `user_version`, are adopted on open.

use async_trait::async_trait;
use magpie_store::migration::{self, Migration};
use magpie_store::{
    now_ms, Account, AccountId, AccountPatch, AccountStore, App, AppSettings, AppStore, NewAccount,
    Setting, StoreError, StoreResult, TokenHash,
};
use parking_lot::Mutex;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One migration: its number, its name, and `migrations/NNN_name.sql`.
macro_rules! migration {
    ($version:literal, $name:literal, $file:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $file)),
        }
    };
}

/// The migrations, in order.
const MIGRATIONS: &[Migration] = &[
    migration!(1, "init", "001_init.sql"),
    migration!(2, "device_policy", "002_device_policy.sql"),
    migration!(3, "login_auth", "003_login_auth.sql"),
    migration!(4, "app_settings", "004_app_settings.sql"),
];

const READERS: usize = 4;

/// The SQLite store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let sql = |e: rusqlite::Error| StoreError::backend(e);
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sql)?;
    tx.execute_batch(migration::TABLE_DDL).map_err(sql)?;
    let recorded: i64 = tx
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .map_err(sql)?;
    if recorded == 0 {
        // A database from before the table counted its migrations in user_version.
        let legacy: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql)?;
        for m in MIGRATIONS.iter().take(legacy.max(0) as usize) {
            record(&tx, m).map_err(sql)?;
        }
    }
    let applied: Vec<i64> = tx
        .prepare("SELECT version FROM schema_migrations")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(sql)?;
    for m in migration::plan(MIGRATIONS, &applied).map_err(StoreError::backend)? {
        tx.execute_batch(m.sql).map_err(sql)?;
        record(&tx, m).map_err(sql)?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    tx.commit().map_err(sql)
}

fn record(c: &Connection, m: &Migration) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
        params![m.version, m.name, now_ms()],
    )?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let mut writer = Connection::open(&path).map_err(StoreError::backend)?;
        configure(&writer).map_err(StoreError::backend)?;
        migrate(&mut writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(StoreError::backend)?;
            r.busy_timeout(Duration::from_secs(5))
                .map_err(StoreError::backend)?;
            readers.push(Mutex::new(r));
        }
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, ReadError> + Send + 'static,
    {
        // A point read on a WAL database never waits for the writer and
        // takes microseconds from the page cache: run it in place when a
        // reader connection is free (measured: a login costs about a third
        // less server CPU than with a hop to the blocking pool). When every
        // reader is busy, hop to the blocking pool and wait there instead.
        let start = self.inner.next_reader.fetch_add(1, Ordering::Relaxed);
        let readers = &self.inner.readers;
        for k in 0..readers.len() {
            if let Some(conn) = readers[(start + k) % readers.len()].try_lock() {
                return f(&conn).map_err(StoreError::from);
            }
        }
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let n = start % inner.readers.len();
            let conn = inner.readers[n].lock();
            f(&conn).map_err(StoreError::from)
        })
        .await
        .map_err(StoreError::backend)?
    }

    /// Runs one UPDATE that must change a row; `NotFound` when none matched.
    async fn update_one<P>(&self, sql: &'static str, p: P) -> StoreResult<()>
    where
        P: rusqlite::Params + Send + 'static,
    {
        self.write(move |c| {
            let n = c
                .prepare_cached(sql)
                .and_then(|mut s| s.execute(p))
                .map_err(StoreError::backend)?;
            changed_one(n)
        })
        .await
    }

    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock();
            f(&mut conn)
        })
        .await
        .map_err(StoreError::backend)?
    }
}

/// An INSERT's error: a constraint violation (a taken key) is `Conflict`.
fn insert_error(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict
        }
        _ => StoreError::backend(e),
    }
}

const APP_COLS: &str = "id, app_key, app_secret, name, created_at";

fn app_row(r: &Row<'_>) -> rusqlite::Result<App> {
    Ok(App {
        id: r.get(0)?,
        app_key: r.get(1)?,
        app_secret: r.get(2)?,
        name: r.get(3)?,
        created_at: r.get(4)?,
        settings: AppSettings::default(),
    })
}

/// A failure while reading: SQLite's, or a record it cannot read.
enum ReadError {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for ReadError {
    fn from(e: rusqlite::Error) -> Self {
        ReadError::Sql(e)
    }
}

impl From<ReadError> for StoreError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Sql(e) => StoreError::backend(e),
            ReadError::Store(e) => e,
        }
    }
}

/// Reads the settings documents of the given apps into them.
fn load_settings(c: &Connection, apps: &mut [App]) -> Result<(), ReadError> {
    let mut q = c.prepare_cached(
        "SELECT name, version, value FROM app_settings WHERE app_id = ?1 ORDER BY name",
    )?;
    for app in apps {
        let rows = q.query_map([app.id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (name, version, value) = row?;
            let known = app
                .settings
                .decode(&name, version, &value)
                .map_err(|e| ReadError::Store(StoreError::backend(e)))?;
            if !known {
                tracing::warn!(app = %app.app_key, setting = %name, "ignoring an app setting this version does not know");
            }
        }
    }
    Ok(())
}

const ACCOUNT_COLS: &str = "app_id, accid, token_salt, token_hash, name, icon, sign, email, birth, mobile, gender, ex, blocked, created_at, updated_at";

fn account_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    let accid: String = r.get(1)?;
    let accid = AccountId::parse(&accid).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Account {
        app_id: r.get(0)?,
        accid,
        token: TokenHash {
            salt: r.get(2)?,
            hash: r.get(3)?,
        },
        name: r.get(4)?,
        icon: r.get(5)?,
        sign: r.get(6)?,
        email: r.get(7)?,
        birth: r.get(8)?,
        mobile: r.get(9)?,
        gender: r.get(10)?,
        ex: r.get(11)?,
        blocked: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
    })
}

fn get_account(
    conn: &Connection,
    app_id: i64,
    accid: &AccountId,
) -> rusqlite::Result<Option<Account>> {
    conn.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLS} FROM accounts WHERE app_id = ?1 AND accid = ?2"
    ))?
    .query_row(params![app_id, accid.as_str()], account_row)
    .optional()
}

/// Inserts one account; a taken accid is `Conflict`.
fn insert_account(c: &Connection, a: &Account) -> StoreResult<()> {
    c.prepare_cached(&format!(
        "INSERT INTO accounts ({ACCOUNT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            a.app_id, a.accid.as_str(), a.token.salt, a.token.hash, a.name, a.icon, a.sign, a.email,
            a.birth, a.mobile, a.gender, a.ex, a.blocked, a.created_at, a.updated_at
        ])
    })
    .map_err(insert_error)?;
    Ok(())
}

fn changed_one(n: usize) -> StoreResult<()> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl AppStore for SqliteStore {
    async fn create_app(&self, name: &str, app_key: &str, app_secret: &str) -> StoreResult<App> {
        let (name, key, secret) = (name.to_owned(), app_key.to_owned(), app_secret.to_owned());
        self.write(move |c| {
            let now = now_ms();
            c.prepare_cached(
                "INSERT INTO apps (app_key, app_secret, name, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![key, secret, name, now]))
            .map_err(insert_error)?;
            Ok(App {
                id: c.last_insert_rowid(),
                app_key: key,
                app_secret: secret,
                name,
                created_at: now,
                settings: AppSettings::default(),
            })
        })
        .await
    }

    async fn app_by_key(&self, app_key: &str) -> StoreResult<Option<App>> {
        let key = app_key.to_owned();
        self.read(move |c| {
            let app = c
                .prepare_cached(&format!("SELECT {APP_COLS} FROM apps WHERE app_key = ?1"))?
                .query_row([key], app_row)
                .optional()?;
            let mut apps: Vec<App> = app.into_iter().collect();
            load_settings(c, &mut apps)?;
            Ok(apps.pop())
        })
        .await
    }

    async fn list_apps(&self) -> StoreResult<Vec<App>> {
        self.read(|c| {
            let mut apps = c
                .prepare_cached(&format!("SELECT {APP_COLS} FROM apps ORDER BY id"))?
                .query_map([], app_row)?
                .collect::<rusqlite::Result<Vec<App>>>()?;
            load_settings(c, &mut apps)?;
            Ok(apps)
        })
        .await
    }

    async fn set_setting(&self, app_id: i64, setting: Setting) -> StoreResult<()> {
        self.write(move |c| {
            let sql = StoreError::backend;
            let tx = c.transaction().map_err(sql)?;
            let exists: bool = tx
                .query_row("SELECT EXISTS (SELECT 1 FROM apps WHERE id = ?1)", [app_id], |r| r.get(0))
                .map_err(sql)?;
            if !exists {
                return Err(StoreError::NotFound);
            }
            match setting.encode() {
                Some((version, value)) => tx.execute(
                    "INSERT INTO app_settings (app_id, name, version, value, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (app_id, name) DO UPDATE SET version = excluded.version, value = excluded.value, updated_at = excluded.updated_at",
                    params![app_id, setting.name(), version, value, now_ms()],
                ),
                None => tx.execute(
                    "DELETE FROM app_settings WHERE app_id = ?1 AND name = ?2",
                    params![app_id, setting.name()],
                ),
            }
            .map_err(sql)?;
            tx.commit().map_err(sql)
        })
        .await
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, app_id: i64, account: NewAccount) -> StoreResult<Account> {
        self.write(move |c| {
            let a = Account::from_new(app_id, account, now_ms());
            insert_account(c, &a)?;
            Ok(a)
        })
        .await
    }

    async fn create_accounts(&self, app_id: i64, accounts: Vec<NewAccount>) -> StoreResult<usize> {
        self.write(move |c| {
            let tx = c.transaction().map_err(StoreError::backend)?;
            let n = accounts.len();
            let now = now_ms();
            for new in accounts {
                insert_account(&tx, &Account::from_new(app_id, new, now))?;
            }
            tx.commit().map_err(StoreError::backend)?;
            Ok(n)
        })
        .await
    }

    async fn account(&self, app_id: i64, accid: &AccountId) -> StoreResult<Option<Account>> {
        let accid = accid.clone();
        self.read(move |c| Ok(get_account(c, app_id, &accid)?))
            .await
    }

    async fn set_token(&self, app_id: i64, accid: &AccountId, token: TokenHash) -> StoreResult<()> {
        self.update_one(
            "UPDATE accounts SET token_salt = ?3, token_hash = ?4, updated_at = ?5 WHERE app_id = ?1 AND accid = ?2",
            (app_id, accid.to_string(), token.salt, token.hash, now_ms()),
        )
        .await
    }

    async fn set_blocked(&self, app_id: i64, accid: &AccountId, blocked: bool) -> StoreResult<()> {
        self.update_one(
            "UPDATE accounts SET blocked = ?3, updated_at = ?4 WHERE app_id = ?1 AND accid = ?2",
            (app_id, accid.to_string(), blocked, now_ms()),
        )
        .await
    }

    async fn update_account(
        &self,
        app_id: i64,
        accid: &AccountId,
        patch: AccountPatch,
    ) -> StoreResult<Account> {
        let accid = accid.clone();
        self.write(move |c| {
            let tx = c.transaction().map_err(StoreError::backend)?;
            let mut a = get_account(&tx, app_id, &accid)
                .map_err(StoreError::backend)?
                .ok_or(StoreError::NotFound)?;
            a.apply(patch);
            a.updated_at = now_ms();
            tx.execute(
                "UPDATE accounts SET name = ?3, icon = ?4, sign = ?5, email = ?6, birth = ?7, mobile = ?8, gender = ?9, ex = ?10, updated_at = ?11 WHERE app_id = ?1 AND accid = ?2",
                params![app_id, accid.as_str(), a.name, a.icon, a.sign, a.email, a.birth, a.mobile, a.gender, a.ex, a.updated_at],
            )
            .map_err(StoreError::backend)?;
            tx.commit().map_err(StoreError::backend)?;
            Ok(a)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use magpie_store::settings::{LoginAuth, Policy};
    use magpie_store::{store_conformance_suite, Stores};

    async fn fresh() -> (Stores, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(dir.path().join("magpie.db")).unwrap();
        (Stores::new(Arc::new(s)), dir)
    }

    store_conformance_suite!(fresh());

    fn versions(s: &SqliteStore) -> Vec<(i64, String)> {
        let c = s.inner.writer.lock();
        let mut q = c
            .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
            .unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[tokio::test]
    async fn data_survives_reopen_and_migrations_are_recorded_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let alice = AccountId::parse("a").unwrap();
        {
            let s = SqliteStore::open(&path).unwrap();
            let app = s.create_app("x", "k", "s").await.unwrap();
            s.create_account(app.id, NewAccount::new(alice.clone(), TokenHash::new("t")))
                .await
                .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        let app = s.app_by_key("k").await.unwrap().unwrap();
        assert!(s
            .account(app.id, &alice)
            .await
            .unwrap()
            .unwrap()
            .token
            .verify("t"));
        let v = versions(&s);
        assert_eq!(v.len(), MIGRATIONS.len());
        assert_eq!(v[3], (4, "app_settings".to_string()));
        let c = s.inner.writer.lock();
        let mode: String = c
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn a_database_of_the_user_version_era_is_adopted_and_its_settings_carried_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            // What an earlier Magpie left: migrations 1 to 3 counted in
            // user_version, settings as JSON columns of `apps`.
            let c = Connection::open(&path).unwrap();
            for m in &MIGRATIONS[..3] {
                c.execute_batch(m.sql).unwrap();
            }
            c.pragma_update(None, "user_version", 3).unwrap();
            c.execute(
                "INSERT INTO apps (app_key, app_secret, name, created_at, device_policy, login_auth) VALUES ('k', 's', 'old', 1, '{\"mode\":\"single\"}', '{\"auth_types\":[0]}')",
                [],
            )
            .unwrap();
            c.execute(
                "INSERT INTO apps (app_key, app_secret, name, created_at) VALUES ('k2', 's2', 'plain', 2)",
                [],
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(
            versions(&s).iter().map(|v| v.0).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        let app = s.app_by_key("k").await.unwrap().unwrap();
        assert_eq!(app.settings.device_policy, Some(Policy::Single));
        assert_eq!(
            app.settings.login_auth,
            Some(LoginAuth {
                auth_types: vec![0],
                callback: None
            })
        );
        let plain = s.app_by_key("k2").await.unwrap().unwrap();
        assert_eq!(plain.settings, AppSettings::default());
    }

    #[tokio::test]
    async fn a_database_from_a_newer_magpie_is_refused_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        drop(SqliteStore::open(&path).unwrap());
        {
            let c = Connection::open(&path).unwrap();
            c.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)",
                [],
            )
            .unwrap();
        }
        let e = SqliteStore::open(&path).err().expect("refused").to_string();
        assert!(
            e.contains("schema version 99") && e.contains("newer Magpie"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn an_unreadable_setting_is_an_error_not_a_silent_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let s = SqliteStore::open(&path).unwrap();
        let app = s.create_app("x", "k", "s").await.unwrap();
        s.inner
            .writer
            .lock()
            .execute(
                "INSERT INTO app_settings (app_id, name, version, value, updated_at) VALUES (?1, 'device_policy', 7, '{}', 0)",
                [app.id],
            )
            .unwrap();
        let e = s.app_by_key("k").await.expect_err("refused").to_string();
        assert!(e.contains("upgrade Magpie"), "{e}");
    }

    #[tokio::test]
    async fn a_second_process_handle_sees_new_apps_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let server = SqliteStore::open(&path).unwrap();
        assert!(server.app_by_key("k2").await.unwrap().is_none());
        let cli = SqliteStore::open(&path).unwrap();
        cli.create_app("n", "k2", "s").await.unwrap();
        assert!(server.app_by_key("k2").await.unwrap().is_some());
    }
}
