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
    now_ms, Account, AccountId, AccountPatch, AccountStore, App, AppSettings, AppStore, Append,
    Appended, EntryKind, HistoryRange, LogEntry, LogPage, MessageStore, NewAccount, Pruned,
    Setting, StoreError, StoreResult, StoredMessage, TokenHash,
};
use parking_lot::Mutex;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use std::collections::HashMap;
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
    migration!(5, "messages", "005_messages.sql"),
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
    /// Last log position of accounts, as committed (only the writer connection,
    /// under its lock, reads and changes it).
    seqs: Mutex<HashMap<(i64, AccountId), u64>>,
    /// The last message id handed out (0: not read from the database yet).
    last_msg_id: Mutex<i64>,
    /// Dropped with the store: the checkpointer's signal to finish.
    _checkpointer: std::sync::mpsc::Sender<()>,
}

/// How often the checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// WAL pages above which the checkpointer makes the WAL start over: under
/// steady writes a passive checkpoint never finds the WAL idle, so the WAL
/// would only grow.
const WAL_RESET_PAGES: i64 = 4_096;

/// Largest WAL file kept after the WAL starts over, bytes.
const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// Copies the WAL back into the database off the writer's path, so commits
/// never wait for a checkpoint (SQLite's automatic checkpoint runs inside
/// the commit that crosses its threshold and held message acks for tens of
/// milliseconds). The copy runs on the checkpointer's own connection
/// without blocking anyone; when the WAL has grown past
/// [`WAL_RESET_PAGES`], the few frames committed meanwhile are copied on
/// the writer's connection between two writes (a short pause, no lock
/// waits), and the next write starts the WAL over. Ends when the store is
/// dropped, with a last checkpoint.
fn checkpointer(path: PathBuf, store: std::sync::Weak<Inner>, done: std::sync::mpsc::Receiver<()>) {
    let conn = match Connection::open(&path).and_then(|c| {
        c.busy_timeout(Duration::from_secs(5))?;
        Ok(c)
    }) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, path = %path.display(), "the WAL checkpointer could not open the database; the WAL will grow until restart");
            return;
        }
    };
    let checkpoint = |c: &Connection, mode: &str| -> rusqlite::Result<i64> {
        c.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| r.get(1))
    };
    loop {
        let last = matches!(
            done.recv_timeout(CHECKPOINT_EVERY),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        );
        if last {
            if let Err(e) = checkpoint(&conn, "TRUNCATE") {
                tracing::warn!(error = %e, "the last WAL checkpoint failed");
            }
            return;
        }
        let r = checkpoint(&conn, "PASSIVE").and_then(|log| {
            if log > WAL_RESET_PAGES {
                if let Some(store) = store.upgrade() {
                    let writer = store.writer.lock();
                    checkpoint(&writer, "PASSIVE")?;
                }
            }
            Ok(())
        });
        if let Err(e) = r {
            tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
        }
    }
}

/// Page cache of the writer connection, KiB (SQLite's default: 2,000): the
/// index pages that message writes land on stay in memory between commits.
const WRITER_CACHE_KIB: i64 = 8 << 10;

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
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
        writer
            .pragma_update(None, "cache_size", -WRITER_CACHE_KIB)
            .map_err(StoreError::backend)?;
        // Checkpoints are the checkpointer's (below), never a commit's.
        writer
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(StoreError::backend)?;
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
        let (checkpoints, done) = std::sync::mpsc::channel();
        let inner = Arc::new(Inner {
            path: path.clone(),
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            seqs: Mutex::new(HashMap::new()),
            last_msg_id: Mutex::new(0),
            _checkpointer: checkpoints,
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("magpie-sqlite-checkpoint".into())
            .spawn(move || checkpointer(path, weak, done))
            .map_err(StoreError::backend)?;
        Ok(SqliteStore { inner })
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

    async fn set_blacklisted(
        &self,
        app_id: i64,
        owner: &AccountId,
        target: &AccountId,
        on: bool,
    ) -> StoreResult<()> {
        let (owner, target) = (owner.clone(), target.clone());
        self.write(move |c| {
            let sql = StoreError::backend;
            let tx = c.transaction().map_err(sql)?;
            for a in [&owner, &target] {
                if get_account(&tx, app_id, a).map_err(sql)?.is_none() {
                    return Err(StoreError::NotFound);
                }
            }
            if on {
                tx.execute(
                    "INSERT OR IGNORE INTO blacklist (app_id, accid, target) VALUES (?1, ?2, ?3)",
                    params![app_id, owner.as_str(), target.as_str()],
                )
            } else {
                tx.execute(
                    "DELETE FROM blacklist WHERE app_id = ?1 AND accid = ?2 AND target = ?3",
                    params![app_id, owner.as_str(), target.as_str()],
                )
            }
            .map_err(sql)?;
            tx.commit().map_err(sql)
        })
        .await
    }

    async fn blacklist(&self, app_id: i64, owner: &AccountId) -> StoreResult<Vec<AccountId>> {
        let owner = owner.clone();
        self.read(move |c| {
            let mut q = c.prepare_cached(
                "SELECT target FROM blacklist WHERE app_id = ?1 AND accid = ?2 ORDER BY target",
            )?;
            let rows = q.query_map(params![app_id, owner.as_str()], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for r in rows {
                if let Ok(a) = AccountId::parse(&r?) {
                    out.push(a);
                }
            }
            Ok(out)
        })
        .await
    }
}

/// The last position of an account's log: this transaction's, the
/// committed cache's, or the database's.
fn last_seq(
    c: &Connection,
    pending: &mut HashMap<(i64, AccountId), u64>,
    committed: &HashMap<(i64, AccountId), u64>,
    app_id: i64,
    accid: &AccountId,
) -> rusqlite::Result<u64> {
    let key = (app_id, accid.clone());
    if let Some(s) = pending.get(&key).or_else(|| committed.get(&key)) {
        return Ok(*s);
    }
    let in_log: Option<i64> = c
        .prepare_cached("SELECT max(seq) FROM account_log WHERE app_id = ?1 AND accid = ?2")?
        .query_row(params![app_id, accid.as_str()], |r| r.get(0))?;
    let kept: Option<i64> = c
        .prepare_cached("SELECT last_seq FROM account_state WHERE app_id = ?1 AND accid = ?2")?
        .query_row(params![app_id, accid.as_str()], |r| r.get(0))
        .optional()?;
    Ok(in_log.unwrap_or(0).max(kept.unwrap_or(0)) as u64)
}

/// Takes the next position of an account's log in this transaction.
fn take_seq(
    c: &Connection,
    pending: &mut HashMap<(i64, AccountId), u64>,
    committed: &HashMap<(i64, AccountId), u64>,
    app_id: i64,
    accid: &AccountId,
) -> rusqlite::Result<u64> {
    let next = last_seq(c, pending, committed, app_id, accid)? + 1;
    pending.insert((app_id, accid.clone()), next);
    Ok(next)
}

#[allow(clippy::too_many_arguments)] // one row of account_log, column by column
fn log_row(
    c: &Connection,
    app_id: i64,
    accid: &AccountId,
    seq: u64,
    kind: EntryKind,
    msg_id: Option<i64>,
    json: Option<&str>,
    time: i64,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO account_log (app_id, accid, seq, kind, msg_id, json, time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![app_id, accid.as_str(), seq as i64, kind as i64, msg_id, json, time])?;
    Ok(())
}

fn appended_row(r: &Row<'_>) -> rusqlite::Result<Appended> {
    Ok(Appended {
        server_id: r.get(0)?,
        time: r.get(1)?,
        to_seq: r.get::<_, i64>(2)? as u64,
        from_seq: r.get::<_, i64>(3)? as u64,
        json: r.get(4)?,
        duplicate: true,
    })
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn append(&self, batch: Vec<(i64, Append)>) -> StoreResult<Vec<Appended>> {
        let inner = self.inner.clone();
        self.write(move |c| {
            let sql = StoreError::backend;
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(sql)?;
            let committed = inner.seqs.lock();
            let mut pending = HashMap::new();
            let mut last_id = *inner.last_msg_id.lock();
            if last_id == 0 {
                last_id = tx
                    .query_row(
                        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0)",
                        [],
                        |r| r.get(0),
                    )
                    .map_err(sql)?;
            }
            let mut out = Vec::with_capacity(batch.len());
            for (app_id, a) in batch {
                match a {
                    Append::Msg(m) => {
                        let id = last_id + 1;
                        let json = magpie_store::message::with_server_id(&m.json, id);
                        // Positions are taken only once the row is in: a
                        // resent message (same client id) takes none.
                        let mut next = |who: &AccountId| {
                            last_seq(&tx, &mut pending, &committed, app_id, who).map(|s| s + 1)
                        };
                        let (to_seq, from_seq) = if m.from == m.to {
                            let s = if m.to_log || m.from_log { next(&m.to).map_err(sql)? } else { 0 };
                            (s, s)
                        } else {
                            let t = if m.to_log { next(&m.to).map_err(sql)? } else { 0 };
                            let f = if m.from_log { next(&m.from).map_err(sql)? } else { 0 };
                            (t, f)
                        };
                        let (lo, hi) = if m.from <= m.to { (&m.from, &m.to) } else { (&m.to, &m.from) };
                        let inserted = tx
                            .prepare_cached(
                                "INSERT INTO messages (id, app_id, from_accid, to_accid, client_msg_id, time, msg_type, conv_lo, conv_hi, history, to_seq, from_seq, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
                                 ON CONFLICT (app_id, from_accid, client_msg_id) DO NOTHING",
                            )
                            .and_then(|mut s| {
                                s.execute(params![
                                    id, app_id, m.from.as_str(), m.to.as_str(), m.client_msg_id, m.time,
                                    m.msg_type, lo.as_str(), hi.as_str(), m.history, to_seq as i64,
                                    from_seq as i64, json
                                ])
                            })
                            .map_err(sql)?;
                        if inserted == 0 {
                            let dup = tx
                                .prepare_cached(
                                    "SELECT id, time, to_seq, from_seq, json FROM messages WHERE app_id = ?1 AND from_accid = ?2 AND client_msg_id = ?3",
                                )
                                .and_then(|mut s| {
                                    s.query_row(params![app_id, m.from.as_str(), m.client_msg_id], appended_row)
                                })
                                .map_err(sql)?;
                            out.push(dup);
                            continue;
                        }
                        if to_seq > 0 {
                            pending.insert((app_id, m.to.clone()), to_seq);
                        }
                        if from_seq > 0 {
                            pending.insert((app_id, m.from.clone()), from_seq);
                        }
                        last_id = id;
                        if to_seq > 0 {
                            log_row(&tx, app_id, &m.to, to_seq, EntryKind::Msg, Some(id), None, m.time)
                                .map_err(sql)?;
                        }
                        if from_seq > 0 && m.from != m.to {
                            log_row(&tx, app_id, &m.from, from_seq, EntryKind::Msg, Some(id), None, m.time)
                                .map_err(sql)?;
                        }
                        out.push(Appended {
                            server_id: id,
                            time: m.time,
                            to_seq,
                            from_seq,
                            json,
                            duplicate: false,
                        });
                    }
                    Append::Delivered { account, upto } => {
                        tx.prepare_cached(
                            "INSERT INTO account_state (app_id, accid, delivered) VALUES (?1, ?2, ?3) ON CONFLICT (app_id, accid) DO UPDATE SET delivered = max(delivered, excluded.delivered)",
                        )
                        .and_then(|mut s| s.execute(params![app_id, account.as_str(), upto as i64]))
                        .map_err(sql)?;
                        out.push(Appended {
                            server_id: 0,
                            time: 0,
                            to_seq: 0,
                            from_seq: 0,
                            json: String::new(),
                            duplicate: false,
                        });
                    }
                    Append::Note(n) => {
                        if let Some((from, client)) = &n.dedup {
                            let found = tx
                                .prepare_cached(
                                    "SELECT 0, time, seq, 0, json FROM stored_notes WHERE app_id = ?1 AND from_accid = ?2 AND client_msg_id = ?3",
                                )
                                .and_then(|mut s| {
                                    s.query_row(params![app_id, from.as_str(), client], appended_row)
                                        .optional()
                                })
                                .map_err(sql)?;
                            if let Some(dup) = found {
                                out.push(dup);
                                continue;
                            }
                        }
                        let seq = take_seq(&tx, &mut pending, &committed, app_id, &n.account)
                            .map_err(sql)?;
                        log_row(&tx, app_id, &n.account, seq, n.kind, None, Some(&n.json), n.time)
                            .map_err(sql)?;
                        if let Some((from, client)) = &n.dedup {
                            tx.prepare_cached(
                                "INSERT INTO stored_notes (app_id, from_accid, client_msg_id, seq, time, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                            )
                            .and_then(|mut s| {
                                s.execute(params![app_id, from.as_str(), client, seq as i64, n.time, n.json])
                            })
                            .map_err(sql)?;
                        }
                        out.push(Appended {
                            server_id: 0,
                            time: n.time,
                            to_seq: seq,
                            from_seq: 0,
                            json: n.json,
                            duplicate: false,
                        });
                    }
                }
            }
            drop(committed);
            tx.commit().map_err(sql)?;
            inner.seqs.lock().extend(pending);
            *inner.last_msg_id.lock() = last_id;
            Ok(out)
        })
        .await
    }

    async fn log(
        &self,
        app_id: i64,
        accid: &AccountId,
        after: u64,
        limit: u32,
    ) -> StoreResult<LogPage> {
        let accid = accid.clone();
        self.read(move |c| {
            // One snapshot for the entries and the head.
            let tx = c.unchecked_transaction()?;
            let mut entries = Vec::new();
            {
                let mut q = tx.prepare_cached(
                    "SELECT l.seq, l.kind, l.json, m.json, m.from_accid FROM account_log l LEFT JOIN messages m ON m.id = l.msg_id WHERE l.app_id = ?1 AND l.accid = ?2 AND l.seq > ?3 ORDER BY l.seq LIMIT ?4",
                )?;
                let mut rows = q.query(params![app_id, accid.as_str(), after as i64, limit as i64])?;
                while let Some(r) = rows.next()? {
                    let kind = EntryKind::from_i64(r.get(1)?).unwrap_or(EntryKind::Msg);
                    let note: Option<String> = r.get(2)?;
                    let msg: Option<String> = r.get(3)?;
                    let from: Option<String> = r.get(4)?;
                    entries.push(LogEntry {
                        seq: r.get::<_, i64>(0)? as u64,
                        kind,
                        json: msg.or(note).unwrap_or_default(),
                        from: from.and_then(|f| AccountId::parse(&f).ok()),
                    });
                }
            }
            let in_log: Option<i64> = tx
                .prepare_cached("SELECT max(seq) FROM account_log WHERE app_id = ?1 AND accid = ?2")?
                .query_row(params![app_id, accid.as_str()], |r| r.get(0))?;
            let state: Option<(i64, i64)> = tx
                .prepare_cached(
                    "SELECT delivered, last_seq FROM account_state WHERE app_id = ?1 AND accid = ?2",
                )?
                .query_row(params![app_id, accid.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let (delivered, kept) = state.unwrap_or((0, 0));
            let head = in_log.unwrap_or(0).max(kept) as u64;
            let from = match entries.first() {
                Some(e) => e.seq,
                None if head > after => head + 1,
                None => after + 1,
            };
            Ok(LogPage {
                entries,
                from,
                head,
                delivered: delivered as u64,
            })
        })
        .await
    }

    async fn history(
        &self,
        app_id: i64,
        a: &AccountId,
        b: &AccountId,
        r: HistoryRange,
    ) -> StoreResult<Vec<StoredMessage>> {
        let (lo, hi) = if a <= b {
            (a.clone(), b.clone())
        } else {
            (b.clone(), a.clone())
        };
        self.read(move |c| {
            // The page is cut in SQL by time and anchor; types are few and
            // filtered here, so the query stays on the conversation index.
            let (cmp, order) = if r.ascending { (">", "ASC") } else { ("<", "DESC") };
            // The page continues after the anchor message, at its own time
            // (the request's bound when the anchor is gone).
            let anchor_time = match (r.ascending, r.end_time) {
                (true, _) => r.from_time,
                (false, 0) => i64::MAX,
                (false, t) => t,
            };
            let sql = format!(
                "SELECT id, time, msg_type, json FROM messages WHERE app_id = ?1 AND conv_lo = ?2 AND conv_hi = ?3 AND history = 1 \
                 AND time >= ?4 AND time <= ?5 AND (?6 = 0 OR (time, id) {cmp} (coalesce((SELECT time FROM messages WHERE id = ?6), ?7), ?6)) \
                 ORDER BY time {order}, id {order}"
            );
            let end = if r.end_time > 0 { r.end_time } else { i64::MAX };
            let mut q = c.prepare_cached(&sql)?;
            let mut rows = q.query(params![app_id, lo.as_str(), hi.as_str(), r.from_time, end, r.end_msg_id, anchor_time])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let m = StoredMessage {
                    server_id: row.get(0)?,
                    time: row.get(1)?,
                    msg_type: row.get(2)?,
                    json: row.get(3)?,
                };
                if r.msg_types.is_empty() || r.msg_types.contains(&m.msg_type) {
                    out.push(m);
                    if out.len() >= r.limit as usize {
                        break;
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    async fn prune(
        &self,
        app_id: i64,
        before_ms: Option<i64>,
        keep_entries: Option<u64>,
    ) -> StoreResult<Pruned> {
        self.write(move |c| {
            let sql = StoreError::backend;
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(sql)?;
            let mut out = Pruned::default();
            // Remember where every log of the app ends, so emptied logs go on from there.
            tx.execute(
                "INSERT INTO account_state (app_id, accid, last_seq) SELECT app_id, accid, max(seq) FROM account_log WHERE app_id = ?1 GROUP BY accid \
                 ON CONFLICT (app_id, accid) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
                [app_id],
            )
            .map_err(sql)?;
            if let Some(t) = before_ms {
                let old: Vec<(i64, String, String, i64, i64)> = tx
                    .prepare("SELECT id, from_accid, to_accid, to_seq, from_seq FROM messages WHERE app_id = ?1 AND time < ?2")
                    .and_then(|mut s| {
                        s.query_map(params![app_id, t], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                        })?
                        .collect()
                    })
                    .map_err(sql)?;
                for (id, from, to, to_seq, from_seq) in old {
                    for (who, seq) in [(to, to_seq), (from, from_seq)] {
                        if seq > 0 {
                            out.entries += tx
                                .prepare_cached("DELETE FROM account_log WHERE app_id = ?1 AND accid = ?2 AND seq = ?3 AND msg_id = ?4")
                                .and_then(|mut s| s.execute(params![app_id, who, seq, id]))
                                .map_err(sql)? as u64;
                        }
                    }
                    out.messages += tx
                        .prepare_cached("DELETE FROM messages WHERE id = ?1")
                        .and_then(|mut s| s.execute([id]))
                        .map_err(sql)? as u64;
                }
                // The other entries of that age too (read marks, deletions,
                // notifications), so a log keeps no holes; and the notes'
                // duplicate keys.
                out.entries += tx
                    .execute(
                        "DELETE FROM account_log WHERE app_id = ?1 AND time < ?2",
                        params![app_id, t],
                    )
                    .map_err(sql)? as u64;
                tx.execute(
                    "DELETE FROM stored_notes WHERE app_id = ?1 AND time < ?2",
                    params![app_id, t],
                )
                .map_err(sql)?;
            }
            if let Some(keep) = keep_entries {
                out.entries += tx
                    .execute(
                        "DELETE FROM account_log WHERE app_id = ?1 AND seq <= (SELECT s.last_seq FROM account_state s WHERE s.app_id = account_log.app_id AND s.accid = account_log.accid) - ?2",
                        params![app_id, keep.max(1) as i64],
                    )
                    .map_err(sql)? as u64;
            }
            tx.commit().map_err(sql)?;
            Ok(out)
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
            (1..=MIGRATIONS.len() as i64).collect::<Vec<_>>()
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
