//! Magpie's embedded default store: one SQLite file in WAL mode.
//!
//! Writes go through one writer connection; reads through a small pool of
//! reader connections, which WAL lets run while a write is in progress.
//! SQLite calls block, so they run on tokio's blocking pool, except point
//! reads and small message writes, which take microseconds.
//!
//! Messages take another path (`ingest`, `journal`): a write of messages is
//! decided in memory and acknowledged once it is in an append-only journal
//! file next to the database; a background thread copies the journal into
//! the SQLite tables in large transactions. One store owns the journal at a
//! time ([`SqliteStore::open`]); tools beside a running server use
//! [`SqliteStore::open_shared`].
//! Other processes (such as `magpie app create`) may open the same file
//! while a server runs: WAL and a busy timeout make that safe.
//!
//! Migrations are the files in `migrations/`, applied in order and recorded
//! in the `schema_migrations` table (`magpie_store::migration`); databases
//! from before that table, which counted migrations in SQLite's
//! `user_version`, are adopted on open.

use async_trait::async_trait;
use magpie_store::message::hidden;
use magpie_store::migration::{self, Migration};
use magpie_store::{
    now_ms, Account, AccountId, AccountPatch, AccountStore, App, AppSettings, AppStore, Append,
    Appended, EntryKind, EventOutbox, HistoryRange, LastMessage, LogEntry, LogPage, MessageStore,
    NewAccount, Operator, OperatorStore, OutboxEvent, Pruned, PushTokenRecord, SentMessage,
    ServerSession, SessionPage, SessionQuery, Setting, StickTop, StickTopChange, StoreError,
    StoreResult, StoredMessage, TokenHash,
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
    migration!(5, "messages", "005_messages.sql"),
    migration!(6, "message_journal", "006_message_journal.sql"),
    migration!(7, "deleted_apps", "007_deleted_apps.sql"),
    migration!(8, "event_outbox", "008_event_outbox.sql"),
    migration!(9, "operators", "009_operators.sql"),
    migration!(10, "push_settings", "010_push_settings.sql"),
    migration!(11, "client_id_index", "011_client_id_index.sql"),
    migration!(12, "message_ids", "012_message_ids.sql"),
    migration!(13, "stick_top", "013_stick_top.sql"),
    migration!(14, "hidden_messages", "014_hidden_messages.sql"),
    migration!(15, "server_sessions", "015_server_sessions.sql"),
];

/// Tables whose rows belong to one app (`app_id`), removed with the app.
const APP_TABLES: &[&str] = &[
    "app_settings",
    "accounts",
    "blacklist",
    "messages",
    "account_log",
    "account_state",
    "stored_notes",
    "event_outbox",
    "push_tokens",
    "stick_top",
    "server_sessions",
];

mod backup;
pub use backup::{backup, BackupError, BackupReport};
mod ingest;
mod journal;

const READERS: usize = 4;

/// Bytes of the database file a reader maps instead of reading: a reader's
/// page cache is dropped whenever the database changes, and pages read
/// through the map cost no system call to get back.
const READER_MMAP: i64 = 1 << 30;

/// The SQLite store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// The writer connection and the message path (journal, ingester).
    core: Arc<ingest::Core>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Dropped with the store: the checkpointer's signal to finish.
    _checkpointer: std::sync::mpsc::Sender<()>,
    /// Joined when the store is dropped, after it copied what was left.
    ingester: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.core.close();
        if let Some(t) = self.ingester.lock().take() {
            let _ = t.join();
        }
    }
}

/// How often the checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(2000);

/// WAL pages above which the checkpointer makes the WAL start over: under
/// steady writes a passive checkpoint never finds the WAL idle, so the WAL
/// would only grow.
const WAL_RESET_PAGES: i64 = 16_384;

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
                    let writer = store.core.writer.lock();
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

/// Most writes of a group of messages decided in place rather than on the
/// blocking pool (see `MessageStore::append` below).
const INLINE_WRITES: usize = 8;

/// Lowers the calling thread's scheduling priority to nice 10: the
/// ingester and the checkpointer do deferred work in bursts, and on a small
/// machine a burst that takes a core from the connection tasks shows as
/// tail latency of acks and pushes. Under full load they still get about a
/// tenth of a core each, and a journal that grows past its bound slows the
/// writers down until they catch up.
fn background_priority() {
    use thread_priority::{set_current_thread_priority, ThreadPriority, ThreadPriorityValue};
    // 22 of 0..=99 maps to nice 10 on Linux.
    let lowered = ThreadPriorityValue::try_from(22u8)
        .map_err(|e| e.to_string())
        .and_then(|v| {
            set_current_thread_priority(ThreadPriority::Crossplatform(v)).map_err(|e| e.to_string())
        });
    if let Err(e) = lowered {
        tracing::debug!(error = %e, "could not lower a background thread's priority");
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

/// A write transaction that takes the write lock at once (no upgrade from
/// a read lock later, which could fail with SQLITE_BUSY midway).
fn immediate(c: &mut Connection) -> StoreResult<rusqlite::Transaction<'_>> {
    c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(StoreError::backend)
}

fn record(c: &Connection, m: &Migration) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
        params![m.version, m.name, now_ms()],
    )?;
    Ok(())
}

/// Creates the database file readable and writable by its owner only when
/// it does not exist yet (it holds app secrets and messages). SQLite gives
/// its `-wal` and `-shm` files the database file's mode.
fn create_owner_only(path: &Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending
    /// migrations, for serving: this store owns the message journal next to
    /// the file (see `journal`), copies in what an unclean stop left there,
    /// and is the only one that writes messages. A second serving store of
    /// the same file, in this process or another, waits a few seconds for
    /// the first to close and then fails, naming the lock.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<SqliteStore> {
        Self::open_with(path.as_ref(), true)
    }

    /// Opens the database beside a serving store that may be running (what
    /// `magpie app create` does): apps, accounts and settings as
    /// [`open`](SqliteStore::open) gives them; messages as far as the
    /// database has them (the serving process copies them in within two
    /// seconds), and appending messages is refused.
    pub fn open_shared(path: impl AsRef<Path>) -> StoreResult<SqliteStore> {
        Self::open_with(path.as_ref(), false)
    }

    fn open_with(path: &Path, serving: bool) -> StoreResult<SqliteStore> {
        let path = path.to_path_buf();
        create_owner_only(&path).map_err(StoreError::backend)?;
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
        let core = Arc::new(ingest::Core::open(&path, writer, serving)?);
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(StoreError::backend)?;
            r.busy_timeout(Duration::from_secs(5))
                .map_err(StoreError::backend)?;
            r.pragma_update(None, "mmap_size", READER_MMAP)
                .map_err(StoreError::backend)?;
            readers.push(Mutex::new(r));
        }
        let ingester = {
            let core = core.clone();
            std::thread::Builder::new()
                .name("magpie-sqlite-ingest".into())
                .spawn(move || {
                    background_priority();
                    core.ingest()
                })
                .map_err(StoreError::backend)?
        };
        let (checkpoints, done) = std::sync::mpsc::channel();
        let inner = Arc::new(Inner {
            path: path.clone(),
            core,
            readers,
            next_reader: AtomicUsize::new(0),
            _checkpointer: checkpoints,
            ingester: Mutex::new(Some(ingester)),
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("magpie-sqlite-checkpoint".into())
            .spawn(move || {
                background_priority();
                checkpointer(path, weak, done)
            })
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
            let mut conn = inner.core.writer.lock();
            f(&mut conn)
        })
        .await
        .map_err(StoreError::backend)?
    }
}

/// The columns [`session_row`] reads: a server-side session of account ?2
/// of app ?1 with its last message.
const SESSION_SELECT: &str = "SELECT s.to_type, s.session_id, s.update_time, s.ext, s.last_recalled, m.json, m.hidden, m.from_accid \
     FROM server_sessions s LEFT JOIN messages m ON m.id = s.last_msg_id AND s.last_msg_id > 0 \
     WHERE s.app_id = ?1 AND s.accid = ?2";

/// One row of [`SESSION_SELECT`], as `who` sees it: no last message when
/// it was deleted for `who` (or removed by retention).
fn session_row(r: &rusqlite::Row<'_>, who: &AccountId) -> rusqlite::Result<ServerSession> {
    let json: Option<String> = r.get(5)?;
    let mark: Option<i64> = r.get(6)?;
    let from: Option<String> = r.get(7)?;
    let sent = from.as_deref() == Some(who.as_str());
    let last = json
        .filter(|_| !hidden::applies(mark.unwrap_or(0), sent, false))
        .map(|json| LastMessage {
            json,
            recalled: r.get::<_, i64>(4).map(|v| v != 0).unwrap_or(false),
        });
    Ok(ServerSession {
        to_type: r.get(0)?,
        session_id: r.get(1)?,
        update_time: r.get(2)?,
        ext: r.get(3)?,
        last,
    })
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

const ACCOUNT_COLS: &str = "app_id, accid, token_salt, token_hash, name, icon, sign, email, birth, mobile, gender, ex, blocked, created_at, updated_at, switch_open";

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
        switch_open: r.get(15)?,
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
        "INSERT INTO accounts ({ACCOUNT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            a.app_id, a.accid.as_str(), a.token.salt, a.token.hash, a.name, a.icon, a.sign, a.email,
            a.birth, a.mobile, a.gender, a.ex, a.blocked, a.created_at, a.updated_at,
            a.switch_open
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
            // One statement: a name taken meanwhile by another process
            // cannot slip in between a check and the insert.
            let n = c
                .prepare_cached(
                    "INSERT INTO apps (app_key, app_secret, name, created_at) SELECT ?1, ?2, ?3, ?4 \
                     WHERE NOT EXISTS (SELECT 1 FROM apps WHERE name = ?3)",
                )
                .and_then(|mut s| s.execute(params![key, secret, name, now]))
                .map_err(insert_error)?;
            if n == 0 {
                return Err(StoreError::Conflict);
            }
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

    async fn rotate_secret(&self, app_id: i64, app_secret: &str) -> StoreResult<()> {
        let secret = app_secret.to_owned();
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE apps SET app_secret = ?2 WHERE id = ?1",
                    params![app_id, secret],
                )
                .map_err(StoreError::backend)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn delete_app(&self, app_id: i64) -> StoreResult<()> {
        // What the journal holds goes in first, so it is deleted too.
        self.inner.core.settle().await?;
        self.write(move |c| {
            let sql = StoreError::backend;
            let tx = immediate(c)?;
            let exists: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM apps WHERE id = ?1)",
                    [app_id],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            if !exists {
                return Err(StoreError::NotFound);
            }
            // Rows that refer to the app first (foreign keys), the app last.
            for t in APP_TABLES {
                tx.execute(&format!("DELETE FROM {t} WHERE app_id = ?1"), [app_id])
                    .map_err(sql)?;
            }
            tx.execute("DELETE FROM apps WHERE id = ?1", [app_id])
                .map_err(sql)?;
            tx.execute(
                "INSERT OR IGNORE INTO deleted_apps (app_id, deleted_at) VALUES (?1, ?2)",
                params![app_id, now_ms()],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)
        })
        .await
    }
}

#[async_trait]
impl OperatorStore for SqliteStore {
    async fn create_operator(&self, name: &str, password_hash: &str) -> StoreResult<Operator> {
        let (name, hash) = (name.to_owned(), password_hash.to_owned());
        self.write(move |c| {
            let now = now_ms();
            c.execute(
                "INSERT INTO operators (name, password_hash, created_at) VALUES (?1, ?2, ?3)",
                params![name, hash, now],
            )
            .map_err(insert_error)?;
            Ok(Operator {
                name,
                password_hash: hash,
                created_at: now,
            })
        })
        .await
    }

    async fn operator(&self, name: &str) -> StoreResult<Option<Operator>> {
        let name = name.to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT name, password_hash, created_at FROM operators WHERE name = ?1",
            )?
            .query_row([name], |r| {
                Ok(Operator {
                    name: r.get(0)?,
                    password_hash: r.get(1)?,
                    created_at: r.get(2)?,
                })
            })
            .optional()?)
        })
        .await
    }

    async fn set_operator_password(&self, name: &str, password_hash: &str) -> StoreResult<()> {
        self.update_one(
            "UPDATE operators SET password_hash = ?2 WHERE name = ?1",
            (name.to_owned(), password_hash.to_owned()),
        )
        .await
    }
}

#[async_trait]
impl EventOutbox for SqliteStore {
    async fn push_events(&self, events: Vec<(i64, String)>) -> StoreResult<()> {
        self.write(move |c| {
            let sql = StoreError::backend;
            let tx = c.transaction().map_err(sql)?;
            {
                let now = now_ms();
                let mut st = tx
                    .prepare_cached(
                        "INSERT INTO event_outbox (app_id, body, created_at, next_at) VALUES (?1, ?2, ?3, ?3)",
                    )
                    .map_err(sql)?;
                for (app_id, body) in &events {
                    st.execute(params![app_id, body, now]).map_err(sql)?;
                }
            }
            tx.commit().map_err(sql)
        })
        .await
    }

    async fn due_events(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<OutboxEvent>> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT id, app_id, body, created_at, attempts FROM event_outbox \
                 WHERE next_at <= ?1 ORDER BY id LIMIT ?2",
            )?
            .query_map(params![now_ms, limit as i64], |r| {
                Ok(OutboxEvent {
                    id: r.get(0)?,
                    app_id: r.get(1)?,
                    body: r.get(2)?,
                    created_at: r.get(3)?,
                    attempts: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn event_delivered(&self, id: i64) -> StoreResult<()> {
        self.write(move |c| {
            c.execute("DELETE FROM event_outbox WHERE id = ?1", [id])
                .map(|_| ())
                .map_err(StoreError::backend)
        })
        .await
    }

    async fn event_failed(&self, id: i64, next_at_ms: i64) -> StoreResult<()> {
        self.write(move |c| {
            c.execute(
                "UPDATE event_outbox SET attempts = attempts + 1, next_at = ?2 WHERE id = ?1",
                params![id, next_at_ms],
            )
            .map(|_| ())
            .map_err(StoreError::backend)
        })
        .await
    }

    async fn expire_events(&self, before_ms: i64) -> StoreResult<u64> {
        self.write(move |c| {
            c.execute(
                "DELETE FROM event_outbox WHERE created_at < ?1",
                [before_ms],
            )
            .map(|n| n as u64)
            .map_err(StoreError::backend)
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

    async fn search_accounts(
        &self,
        app_id: i64,
        prefix: &str,
        limit: usize,
    ) -> StoreResult<Vec<Account>> {
        // A range over the primary key, not LIKE: ids may hold `%` and `_`.
        let low = prefix.to_owned();
        let high = format!("{prefix}\u{10FFFF}");
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {ACCOUNT_COLS} FROM accounts WHERE app_id = ?1 AND accid >= ?2 AND accid < ?3 \
                 ORDER BY accid LIMIT ?4"
            ))?
            .query_map(params![app_id, low, high, limit as i64], account_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
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

    async fn set_switch_open(&self, app_id: i64, accid: &AccountId, value: u32) -> StoreResult<()> {
        self.update_one(
            "UPDATE accounts SET switch_open = ?3, updated_at = ?4 WHERE app_id = ?1 AND accid = ?2",
            (app_id, accid.to_string(), value, now_ms()),
        )
        .await
    }

    async fn change_stick_top(
        &self,
        app_id: i64,
        accid: &AccountId,
        change: StickTopChange,
        now: i64,
    ) -> StoreResult<StickTop> {
        let accid = accid.to_string();
        self.write(move |c| {
            let tx = immediate(c)?;
            let sql = StoreError::backend;
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM accounts WHERE app_id = ?1 AND accid = ?2",
                    params![app_id, accid],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql)?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            let (to_type, sid) = change.session();
            let sid = sid.to_owned();
            let get = |tx: &rusqlite::Transaction<'_>| -> StoreResult<Option<StickTop>> {
                tx.query_row(
                    "SELECT ext, create_time, update_time FROM stick_top WHERE app_id = ?1 AND accid = ?2 AND to_type = ?3 AND session_id = ?4",
                    params![app_id, accid, to_type, sid],
                    |r| {
                        Ok(StickTop {
                            to_type,
                            session_id: sid.clone(),
                            ext: r.get(0)?,
                            create_time: r.get(1)?,
                            update_time: r.get(2)?,
                        })
                    },
                )
                .optional()
                .map_err(sql)
            };
            let out = match &change {
                StickTopChange::Set { ext, .. } => {
                    // How many are on top, and whether this one is, at once.
                    let (held, this): (i64, bool) = tx
                        .query_row(
                            "SELECT count(*), coalesce(max(to_type = ?3 AND session_id = ?4), 0) FROM stick_top WHERE app_id = ?1 AND accid = ?2",
                            params![app_id, accid, to_type, sid],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )
                        .map_err(sql)?;
                    if held as usize >= magpie_store::MAX_STICK_TOPS && !this {
                        return Err(StoreError::Conflict);
                    }
                    tx.execute(
                        "INSERT INTO stick_top (app_id, accid, to_type, session_id, ext, create_time, update_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) \
                         ON CONFLICT (app_id, accid, to_type, session_id) DO UPDATE SET ext = excluded.ext, update_time = excluded.update_time",
                        params![app_id, accid, to_type, sid, ext, now],
                    )
                    .map_err(sql)?;
                    get(&tx)?.ok_or(StoreError::NotFound)?
                }
                StickTopChange::Update { ext, .. } => {
                    let n = tx
                        .execute(
                            "UPDATE stick_top SET ext = ?5, update_time = ?6 WHERE app_id = ?1 AND accid = ?2 AND to_type = ?3 AND session_id = ?4",
                            params![app_id, accid, to_type, sid, ext, now],
                        )
                        .map_err(sql)?;
                    changed_one(n)?;
                    get(&tx)?.ok_or(StoreError::NotFound)?
                }
                StickTopChange::Cancel { .. } => {
                    let gone = get(&tx)?.ok_or(StoreError::NotFound)?;
                    tx.execute(
                        "DELETE FROM stick_top WHERE app_id = ?1 AND accid = ?2 AND to_type = ?3 AND session_id = ?4",
                        params![app_id, accid, to_type, sid],
                    )
                    .map_err(sql)?;
                    gone
                }
            };
            tx.commit().map_err(sql)?;
            Ok(out)
        })
        .await
    }

    async fn stick_tops(&self, app_id: i64, accid: &AccountId) -> StoreResult<Vec<StickTop>> {
        let accid = accid.to_string();
        self.read(move |c| {
            let mut s = c.prepare_cached(
                "SELECT to_type, session_id, ext, create_time, update_time FROM stick_top WHERE app_id = ?1 AND accid = ?2 ORDER BY update_time DESC, session_id DESC, to_type DESC",
            )?;
            let rows = s.query_map(params![app_id, accid], |r| {
                Ok(StickTop {
                    to_type: r.get(0)?,
                    session_id: r.get(1)?,
                    ext: r.get(2)?,
                    create_time: r.get(3)?,
                    update_time: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn set_push_token(
        &self,
        app_id: i64,
        accid: &AccountId,
        device_id: &str,
        token: &str,
        cer_name: &str,
    ) -> StoreResult<()> {
        let (accid, device_id, token, cer_name) = (
            accid.to_string(),
            device_id.to_owned(),
            token.to_owned(),
            cer_name.to_owned(),
        );
        self.write(move |c| {
            let sql = StoreError::backend;
            let tx = c.transaction().map_err(sql)?;
            let exists: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM accounts WHERE app_id = ?1 AND accid = ?2)",
                    params![app_id, accid],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            if !exists {
                return Err(StoreError::NotFound);
            }
            // One token per device, for the account now on it: another
            // account's token for this device would push to the wrong user.
            tx.execute(
                "DELETE FROM push_tokens WHERE app_id = ?1 AND device_id = ?3 AND accid <> ?2",
                params![app_id, accid, device_id],
            )
            .map_err(sql)?;
            if token.is_empty() {
                tx.execute(
                    "DELETE FROM push_tokens WHERE app_id = ?1 AND accid = ?2 AND device_id = ?3",
                    params![app_id, accid, device_id],
                )
                .map_err(sql)?;
            } else {
                tx.execute(
                    "INSERT INTO push_tokens (app_id, accid, device_id, token, cer_name, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (app_id, accid, device_id) DO UPDATE SET \
                     token = excluded.token, cer_name = excluded.cer_name, updated_at = excluded.updated_at",
                    params![app_id, accid, device_id, token, cer_name, now_ms()],
                )
                .map_err(sql)?;
            }
            tx.commit().map_err(sql)
        })
        .await
    }

    async fn push_tokens(
        &self,
        app_id: i64,
        accid: &AccountId,
    ) -> StoreResult<Vec<PushTokenRecord>> {
        let accid = accid.to_string();
        self.read(move |c| {
            let mut q = c.prepare_cached(
                "SELECT device_id, token, cer_name, updated_at FROM push_tokens \
                 WHERE app_id = ?1 AND accid = ?2 ORDER BY device_id",
            )?;
            let rows = q.query_map(params![app_id, accid], |r| {
                Ok(PushTokenRecord {
                    device_id: r.get(0)?,
                    token: r.get(1)?,
                    cer_name: r.get(2)?,
                    updated_at: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }
}

/// The last position of an account's log in the database.
pub(crate) fn last_seq(c: &Connection, app_id: i64, accid: &AccountId) -> rusqlite::Result<u64> {
    let in_log: Option<i64> = c
        .prepare_cached("SELECT max(seq) FROM account_log WHERE app_id = ?1 AND accid = ?2")?
        .query_row(params![app_id, accid.as_str()], |r| r.get(0))?;
    let kept: Option<i64> = c
        .prepare_cached("SELECT last_seq FROM account_state WHERE app_id = ?1 AND accid = ?2")?
        .query_row(params![app_id, accid.as_str()], |r| r.get(0))
        .optional()?;
    Ok(in_log.unwrap_or(0).max(kept.unwrap_or(0)) as u64)
}

const SENT_COLS: &str = "id, from_accid, client_msg_id, to_accid, time, history";

/// A row of [`SENT_COLS`]; `None` for an account id no longer valid.
fn sent_row(r: &Row<'_>) -> rusqlite::Result<Option<SentMessage>> {
    let (from, to): (String, String) = (r.get(1)?, r.get(3)?);
    Ok(match (AccountId::parse(&from), AccountId::parse(&to)) {
        (Ok(from), Ok(to)) => Some(SentMessage {
            server_id: r.get(0)?,
            from,
            client_msg_id: r.get(2)?,
            to,
            time: r.get(4)?,
            in_history: r.get(5)?,
        }),
        _ => None,
    })
}

pub(crate) fn appended_row(r: &Row<'_>) -> rusqlite::Result<Appended> {
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
        let core = &self.inner.core;
        if core.backlogged() {
            core.settle().await?;
        }
        // A few writes are decided in place (point reads and one journal
        // write, microseconds); a large group on the blocking pool. The
        // lookups (duplicates, last positions) go to the writer connection
        // when the ingester is not using it: its page cache stays warm,
        // while a reader's is dropped each time the database changes.
        if batch.len() <= INLINE_WRITES {
            if let Some(conn) = core.writer.try_lock() {
                return core.append(&conn, batch);
            }
            let readers = &self.inner.readers;
            let start = self.inner.next_reader.fetch_add(1, Ordering::Relaxed);
            for k in 0..readers.len() {
                if let Some(conn) = readers[(start + k) % readers.len()].try_lock() {
                    return core.append(&conn, batch);
                }
            }
        }
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(conn) = inner.core.writer.try_lock() {
                return inner.core.append(&conn, batch);
            }
            let n = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            let conn = inner.readers[n].lock();
            inner.core.append(&conn, batch)
        })
        .await
        .map_err(StoreError::backend)?
    }

    async fn log(
        &self,
        app_id: i64,
        accid: &AccountId,
        after: u64,
        limit: u32,
    ) -> StoreResult<LogPage> {
        self.inner.core.settle().await?;
        let accid = accid.clone();
        self.read(move |c| {
            // One snapshot for the entries and the head.
            let tx = c.unchecked_transaction()?;
            let mut entries = Vec::new();
            {
                let mut q = tx.prepare_cached(
                    "SELECT l.seq, l.kind, l.json, m.json, m.from_accid, m.hidden FROM account_log l LEFT JOIN messages m ON m.id = l.msg_id WHERE l.app_id = ?1 AND l.accid = ?2 AND l.seq > ?3 ORDER BY l.seq LIMIT ?4",
                )?;
                let mut rows = q.query(params![app_id, accid.as_str(), after as i64, limit as i64])?;
                while let Some(r) = rows.next()? {
                    let kind = EntryKind::from_i64(r.get(1)?).unwrap_or(EntryKind::Msg);
                    let note: Option<String> = r.get(2)?;
                    let msg: Option<String> = r.get(3)?;
                    let from: Option<String> = r.get(4)?;
                    let mark: Option<i64> = r.get(5)?;
                    let hidden = mark.is_some_and(|mark| {
                        hidden::applies(mark, from.as_deref() == Some(accid.as_str()), true)
                    });
                    entries.push(LogEntry {
                        seq: r.get::<_, i64>(0)? as u64,
                        kind,
                        json: msg.or(note).unwrap_or_default(),
                        from: from.and_then(|f| AccountId::parse(&f).ok()),
                        hidden,
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

    async fn sent_message(
        &self,
        app_id: i64,
        from: &AccountId,
        client_msg_id: &str,
    ) -> StoreResult<Option<SentMessage>> {
        self.inner.core.settle().await?;
        let (from, client) = (from.clone(), client_msg_id.to_owned());
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {SENT_COLS} FROM messages WHERE app_id = ?1 AND from_accid = ?2 AND client_msg_id = ?3 ORDER BY id LIMIT 1"
            ))?
            .query_row(params![app_id, from.as_str(), client], sent_row)
            .optional()?
            .flatten())
        })
        .await
    }

    async fn message_by_id(&self, app_id: i64, server_id: i64) -> StoreResult<Option<SentMessage>> {
        self.inner.core.settle().await?;
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {SENT_COLS} FROM messages WHERE app_id = ?1 AND id = ?2"
            ))?
            .query_row(params![app_id, server_id], sent_row)
            .optional()?
            .flatten())
        })
        .await
    }

    async fn server_sessions(
        &self,
        app_id: i64,
        accid: &AccountId,
        q: SessionQuery,
    ) -> StoreResult<SessionPage> {
        self.inner.core.settle().await?;
        let accid = accid.clone();
        self.read(move |c| {
            let limit = q.limit.clamp(1, magpie_store::message::MAX_SESSION_PAGE) as usize;
            let max = if q.max_time > 0 { q.max_time } else { i64::MAX };
            let mut sessions = c
                .prepare_cached(&format!(
                    "{SESSION_SELECT} AND s.update_time >= ?3 AND s.update_time < ?4 \
                     ORDER BY s.update_time DESC, s.to_type DESC, s.session_id DESC LIMIT ?5"
                ))?
                .query_map(
                    params![app_id, accid.as_str(), q.min_time, max, limit as i64 + 1],
                    |r| session_row(r, &accid),
                )?
                .collect::<Result<Vec<_>, _>>()?;
            if sessions.len() <= limit {
                return Ok(SessionPage {
                    sessions,
                    has_more: false,
                });
            }
            let t = sessions[limit - 1].update_time;
            if sessions[limit].update_time != t {
                sessions.truncate(limit);
                return Ok(SessionPage {
                    sessions,
                    has_more: true,
                });
            }
            // The page ends inside a millisecond: it takes every session of
            // that millisecond (magpie_store::message::cut_page).
            sessions.retain(|s| s.update_time > t);
            let ties = c
                .prepare_cached(&format!(
                    "{SESSION_SELECT} AND s.update_time = ?3 ORDER BY s.to_type DESC, s.session_id DESC"
                ))?
                .query_map(params![app_id, accid.as_str(), t], |r| session_row(r, &accid))?
                .collect::<Result<Vec<_>, _>>()?;
            sessions.extend(ties);
            let has_more = c
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM server_sessions WHERE app_id = ?1 AND accid = ?2 AND update_time >= ?3 AND update_time < ?4)",
                )?
                .query_row(params![app_id, accid.as_str(), q.min_time, t], |r| r.get(0))?;
            Ok(SessionPage { sessions, has_more })
        })
        .await
    }

    async fn server_session(
        &self,
        app_id: i64,
        accid: &AccountId,
        to_type: u32,
        session_id: &str,
    ) -> StoreResult<Option<ServerSession>> {
        self.inner.core.settle().await?;
        let (accid, session_id) = (accid.clone(), session_id.to_owned());
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "{SESSION_SELECT} AND s.to_type = ?3 AND s.session_id = ?4"
            ))?
            .query_row(params![app_id, accid.as_str(), to_type, session_id], |r| {
                session_row(r, &accid)
            })
            .optional()?)
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
        self.inner.core.settle().await?;
        let me = a.clone();
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
                 AND hidden & (CASE WHEN from_accid = ?8 THEN {from_bit} ELSE {to_bit} END) = 0 \
                 ORDER BY time {order}, id {order}",
                from_bit = hidden::FROM_HISTORY,
                to_bit = hidden::TO_HISTORY,
            );
            let end = if r.end_time > 0 { r.end_time } else { i64::MAX };
            let mut q = c.prepare_cached(&sql)?;
            let mut rows = q.query(params![app_id, lo.as_str(), hi.as_str(), r.from_time, end, r.end_msg_id, anchor_time, me.as_str()])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let m = StoredMessage {
                    server_id: row.get(0)?,
                    time: row.get(1)?,
                    msg_type: row.get(2)?,
                    json: row.get(3)?,
                };
                if (r.msg_types.is_empty() || r.msg_types.contains(&m.msg_type))
                    && magpie_store::message::keyword_matches(&m.json, &r.keyword)
                {
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

    async fn purge_deleted_apps(&self) -> StoreResult<u64> {
        self.inner.core.settle().await?;
        self.write(|c| {
            let sql = StoreError::backend;
            let any: bool = c
                .query_row("SELECT EXISTS (SELECT 1 FROM deleted_apps)", [], |r| {
                    r.get(0)
                })
                .map_err(sql)?;
            if !any {
                return Ok(0);
            }
            let tx = immediate(c)?;
            let mut n = 0u64;
            for t in APP_TABLES {
                n += tx
                    .execute(
                        &format!(
                            "DELETE FROM {t} WHERE app_id IN (SELECT app_id FROM deleted_apps)"
                        ),
                        [],
                    )
                    .map_err(sql)? as u64;
            }
            tx.commit().map_err(sql)?;
            Ok(n)
        })
        .await
    }

    async fn prune(
        &self,
        app_id: i64,
        before_ms: Option<i64>,
        keep_entries: Option<u64>,
    ) -> StoreResult<Pruned> {
        self.inner.core.settle().await?;
        self.write(move |c| {
            let sql = StoreError::backend;
            let tx = immediate(c)?;
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
                tx.execute(
                    "DELETE FROM server_sessions WHERE app_id = ?1 AND update_time < ?2",
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
        let c = s.inner.core.writer.lock();
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
        let c = s.inner.core.writer.lock();
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

    pub(crate) fn text(from: &str, to: &str, client: &str) -> Append {
        Append::Msg(magpie_store::NewMessage {
            from: AccountId::parse(from).unwrap(),
            to: AccountId::parse(to).unwrap(),
            client_msg_id: client.into(),
            resent: true,
            time: 1_700_000_000_000,
            msg_type: 0,
            json: format!("{{\"server_msg_id\":0,\"body\":\"{client}\"}}"),
            history: true,
            to_log: true,
            from_log: true,
        })
    }

    /// Server message ids are never handed out twice, even when the newest
    /// messages were deleted (retention) before a restart: the high-water
    /// mark is kept beside the journal's, not taken from the table.
    #[tokio::test]
    async fn message_ids_are_not_reused_after_the_newest_rows_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.db");
        let s = SqliteStore::open(&path).unwrap();
        let app = s.create_app("x", "k", "s").await.unwrap();
        let mut last = 0;
        for k in 0..3 {
            last = s
                .append(vec![(app.id, text("a", "b", &format!("m{k}")))])
                .await
                .unwrap()[0]
                .server_id;
        }
        s.inner.core.settle().await.unwrap();
        drop(s);
        Connection::open(&path)
            .unwrap()
            .execute("DELETE FROM messages", [])
            .unwrap();
        let s = SqliteStore::open(&path).unwrap();
        let next = s
            .append(vec![(app.id, text("a", "b", "m9"))])
            .await
            .unwrap()[0]
            .server_id;
        assert_eq!(next, last + 1);
    }

    /// Migration 12 rebuilds `messages` without AUTOINCREMENT: the rows and
    /// their ids are kept, and so is sqlite_sequence's high-water mark (the
    /// newest rows deleted before the upgrade do not give their ids again).
    #[tokio::test]
    async fn the_message_table_rebuild_keeps_rows_and_the_high_water_mark() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v11.db");
        {
            let mut c = Connection::open(&path).unwrap();
            c.execute_batch(migration::TABLE_DDL).unwrap();
            let tx = c.transaction().unwrap();
            for m in &MIGRATIONS[..11] {
                tx.execute_batch(m.sql).unwrap();
                record(&tx, m).unwrap();
            }
            tx.execute(
                "INSERT INTO apps (app_key, app_secret, name, created_at) VALUES ('k', 's', 'x', 1)",
                [],
            )
            .unwrap();
            for id in 1..=5 {
                tx.execute(
                    "INSERT INTO messages (app_id, from_accid, to_accid, client_msg_id, time, msg_type, conv_lo, conv_hi, history, to_seq, from_seq, json) VALUES (1, 'a', 'b', ?1, 1, 0, 'a', 'b', 1, ?2, 0, '{}')",
                    params![format!("m{id}"), id],
                )
                .unwrap();
            }
            tx.execute("DELETE FROM messages WHERE id > 3", []).unwrap();
            tx.commit().unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(versions(&s).len(), MIGRATIONS.len());
        let app = s.app_by_key("k").await.unwrap().unwrap();
        let found = s
            .sent_message(app.id, &AccountId::parse("a").unwrap(), "m2")
            .await
            .unwrap()
            .expect("a row from before the rebuild");
        assert_eq!(found.server_id, 2);
        let next = s
            .append(vec![(app.id, text("a", "b", "m6"))])
            .await
            .unwrap()[0]
            .server_id;
        assert_eq!(next, 6, "ids 4 and 5 were handed out before the upgrade");
    }

    /// Migration 015 gives the messages already stored their server-side
    /// sessions: both accounts', each with the newest message between them.
    #[tokio::test]
    async fn the_server_sessions_of_stored_messages_are_filled_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v14.db");
        {
            let mut c = Connection::open(&path).unwrap();
            c.execute_batch(migration::TABLE_DDL).unwrap();
            let tx = c.transaction().unwrap();
            for m in &MIGRATIONS[..14] {
                tx.execute_batch(m.sql).unwrap();
                record(&tx, m).unwrap();
            }
            tx.execute(
                "INSERT INTO apps (app_key, app_secret, name, created_at) VALUES ('k', 's', 'x', 1)",
                [],
            )
            .unwrap();
            for (id, from, to, time) in [(1, "a", "b", 10), (2, "b", "a", 20), (3, "a", "c", 15)] {
                let (lo, hi) = if from < to { (from, to) } else { (to, from) };
                tx.execute(
                    "INSERT INTO messages (id, app_id, from_accid, to_accid, client_msg_id, time, msg_type, conv_lo, conv_hi, history, to_seq, from_seq, json) VALUES (?1, 1, ?2, ?3, ?4, ?5, 0, ?6, ?7, 1, 0, 0, ?8)",
                    params![id, from, to, format!("m{id}"), time, lo, hi, format!("{{\"n\":{id}}}")],
                )
                .unwrap();
            }
            // m3 was recalled: the sender's recall note is kept by its key.
            tx.execute(
                "INSERT INTO stored_notes (app_id, from_accid, client_msg_id, seq, time, json) VALUES (1, 'a', 'recall:m3', 1, 16, '{}')",
                [],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        let app = s.app_by_key("k").await.unwrap().unwrap();
        let recalled = |who: &str, peer: &str| {
            let who = AccountId::parse(who).unwrap();
            let (s, peer) = (&s, peer.to_owned());
            async move {
                s.server_session(app.id, &who, 0, &peer)
                    .await
                    .unwrap()
                    .and_then(|x| x.last)
                    .map(|l| l.recalled)
            }
        };
        assert_eq!(recalled("a", "c").await, Some(true), "m3 recalled");
        assert_eq!(recalled("c", "a").await, Some(true));
        assert_eq!(recalled("a", "b").await, Some(false));
        let q = SessionQuery {
            min_time: 0,
            max_time: 0,
            limit: 10,
        };
        let page = |who: &str| {
            let who = AccountId::parse(who).unwrap();
            let s = &s;
            async move {
                s.server_sessions(app.id, &who, q)
                    .await
                    .unwrap()
                    .sessions
                    .into_iter()
                    .map(|x| (x.session_id, x.update_time, x.last.map(|l| l.json)))
                    .collect::<Vec<_>>()
            }
        };
        let last = |n: i64| Some(format!("{{\"n\":{n}}}"));
        assert_eq!(
            page("a").await,
            [("b".to_owned(), 20, last(2)), ("c".to_owned(), 15, last(3))]
        );
        assert_eq!(page("b").await, [("a".to_owned(), 20, last(2))]);
        assert_eq!(page("c").await, [("a".to_owned(), 15, last(3))]);
    }

    /// A first send (no resend flag) is not looked up among the stored
    /// messages: a resend finds the first copy, in the journal or in the
    /// tables; an id reused without the flag is a second message, and the
    /// copy into the tables goes on.
    #[tokio::test]
    async fn only_resends_are_looked_up_and_a_reused_id_does_not_stop_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(dir.path().join("r.db")).unwrap();
        let app = s.create_app("x", "k", "s").await.unwrap();
        let first_send = |client: &str| match text("a", "b", client) {
            Append::Msg(m) => Append::Msg(magpie_store::NewMessage { resent: false, ..m }),
            _ => unreachable!(),
        };
        let b = AccountId::parse("b").unwrap();
        let first = s.append(vec![(app.id, first_send("m1"))]).await.unwrap();
        // Not yet in the tables: even an unflagged repeat is caught.
        let again = s.append(vec![(app.id, first_send("m1"))]).await.unwrap();
        assert!(again[0].duplicate);
        assert_eq!(again[0].server_id, first[0].server_id);
        // Reading the log waits for the copy into the tables.
        assert_eq!(s.log(app.id, &b, 0, 10).await.unwrap().entries.len(), 1);
        let resent = s
            .append(vec![(app.id, text("a", "b", "m1"))])
            .await
            .unwrap();
        assert!(resent[0].duplicate, "a resend finds the stored copy");
        assert_eq!(resent[0].server_id, first[0].server_id);
        let reused = s.append(vec![(app.id, first_send("m1"))]).await.unwrap();
        assert!(!reused[0].duplicate, "a first send is not looked up");
        let next = s.append(vec![(app.id, first_send("m2"))]).await.unwrap();
        let page = s.log(app.id, &b, 0, 10).await.unwrap();
        assert_eq!(page.entries.len(), 3, "the copy went on past the reused id");
        assert_eq!(page.entries[2].json, next[0].json);
        let found = s
            .sent_message(app.id, &AccountId::parse("a").unwrap(), "m1")
            .await
            .unwrap()
            .expect("found by client id");
        assert_eq!(found.server_id, first[0].server_id, "the first copy");
    }

    /// Acknowledged writes live in the journal until the ingester copies
    /// them: a process killed before that loses none of them, and the
    /// next open copies them in before anything reads or writes.
    #[tokio::test]
    async fn writes_only_in_the_journal_survive_a_crash_and_positions_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let s = SqliteStore::open(&path).unwrap();
        let app = s.create_app("x", "k", "s").await.unwrap();
        // One group reaches the database, then the ingester stops for good.
        let first = s
            .append(vec![(app.id, text("a", "b", "c1"))])
            .await
            .unwrap();
        s.log(app.id, &AccountId::parse("b").unwrap(), 0, 10)
            .await
            .unwrap();
        s.inner.core.freeze();
        let mut acked = vec![first[0].clone()];
        for i in 2..=40 {
            let batch = vec![(app.id, text("a", "b", &format!("c{i}")))];
            acked.extend(s.append(batch).await.unwrap());
        }
        // A resend of a message that is only in the journal is a duplicate.
        let again = s
            .append(vec![(app.id, text("a", "b", "c7"))])
            .await
            .unwrap();
        assert!(again[0].duplicate);
        assert_eq!(again[0].server_id, acked[6].server_id);
        // The process dies: nothing runs on drop.
        s.inner.core.crash();
        std::mem::forget(s);
        let s = SqliteStore::open(&path).unwrap();
        let b = AccountId::parse("b").unwrap();
        let page = s.log(app.id, &b, 0, 100).await.unwrap();
        assert_eq!(page.entries.len(), 40);
        assert_eq!(page.head, 40);
        for (i, e) in page.entries.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1);
            assert_eq!(e.json, acked[i].json);
        }
        // Resent after the restart: still the same message.
        let again = s
            .append(vec![(app.id, text("a", "b", "c40"))])
            .await
            .unwrap();
        assert!(again[0].duplicate);
        assert_eq!(again[0].to_seq, 40);
        // New writes take the next ids and positions.
        let next = s
            .append(vec![(app.id, text("a", "b", "c41"))])
            .await
            .unwrap();
        assert_eq!(next[0].to_seq, 41);
        assert_eq!(next[0].server_id, acked[39].server_id + 1);
        let hist = s
            .history(
                app.id,
                &AccountId::parse("a").unwrap(),
                &b,
                HistoryRange {
                    from_time: 0,
                    end_time: 0,
                    end_msg_id: 0,
                    limit: 100,
                    ascending: true,
                    msg_types: vec![],
                    keyword: String::new(),
                },
            )
            .await
            .unwrap();
        assert_eq!(hist.len(), 41);
        // The journal was started over: only the new write is in it.
        drop(s);
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.log(app.id, &b, 0, 100).await.unwrap().head, 41);
    }

    /// Crash after crash, with some writes in the database and the rest
    /// only in the journal each time: every position is there once.
    #[tokio::test]
    async fn repeated_crashes_lose_no_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let s = SqliteStore::open(&path).unwrap();
        let app = s.create_app("x", "k", "s").await.unwrap();
        drop(s);
        let b = AccountId::parse("b").unwrap();
        let mut n = 0;
        for cycle in 0..6 {
            let s = SqliteStore::open(&path).unwrap();
            let page = s.log(app.id, &b, 0, 10_000).await.unwrap();
            assert_eq!(page.entries.len(), n, "cycle {cycle}");
            for (i, e) in page.entries.iter().enumerate() {
                assert_eq!(e.seq, i as u64 + 1);
            }
            for k in 0..30 {
                if k == 10 {
                    // The first third reaches the database.
                    s.log(app.id, &b, 0, 1).await.unwrap();
                }
                if k == 20 {
                    s.inner.core.freeze();
                }
                n += 1;
                let r = s
                    .append(vec![(app.id, text("a", "b", &format!("c{n}")))])
                    .await
                    .unwrap();
                assert_eq!(r[0].to_seq, n as u64);
            }
            s.inner.core.crash();
            std::mem::forget(s);
        }
    }

    /// One store serves the messages of a database: a second serving open
    /// is refused with the reason, a tool's open beside it works and does
    /// not touch the journal.
    #[tokio::test]
    async fn one_store_owns_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let s = SqliteStore::open(&path).unwrap();
        let app = s.create_app("x", "k", "s").await.unwrap();
        s.inner.core.freeze();
        s.append(vec![(app.id, text("a", "b", "c1"))])
            .await
            .unwrap();
        let e = SqliteStore::open(&path).err().expect("refused").to_string();
        assert!(
            e.contains(&format!("served by process {}", std::process::id())),
            "{e}"
        );
        let tool = SqliteStore::open_shared(&path).unwrap();
        tool.create_app("y", "k2", "s2").await.unwrap();
        let e = tool
            .append(vec![(app.id, text("a", "b", "c2"))])
            .await
            .expect_err("a tool does not write messages")
            .to_string();
        assert!(
            e.contains("only the serving process writes messages"),
            "{e}"
        );
        drop(tool);
        s.inner.core.crash();
        std::mem::forget(s);
        let s = SqliteStore::open(&path).unwrap();
        let page = s
            .log(app.id, &AccountId::parse("b").unwrap(), 0, 10)
            .await
            .unwrap();
        assert_eq!(page.entries.len(), 1, "the tool left the journal alone");
    }

    #[tokio::test]
    async fn an_unreadable_setting_is_an_error_not_a_silent_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let s = SqliteStore::open(&path).unwrap();
        let app = s.create_app("x", "k", "s").await.unwrap();
        s.inner
            .core
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
        let cli = SqliteStore::open_shared(&path).unwrap();
        cli.create_app("n", "k2", "s").await.unwrap();
        assert!(server.app_by_key("k2").await.unwrap().is_some());
    }
}
