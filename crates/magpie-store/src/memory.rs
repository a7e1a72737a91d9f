use crate::{
    now_ms, Account, AccountId, AccountPatch, AccountStore, App, AppSettings, AppStore, Append,
    Appended, EntryKind, EventOutbox, HistoryRange, LastMessage, LogEntry, LogPage, MessageStore,
    NewAccount, Operator, OperatorStore, OutboxEvent, Pruned, PushTokenRecord, SentMessage,
    ServerSession, SessionPage, SessionQuery, Setting, StickTop, StickTopChange, StoreError,
    StoreResult, StoredMessage, TokenHash,
};
use async_trait::async_trait;
use parking_lot::Mutex;
use std::collections::HashMap;

/// A store in process memory: for tests and throwaway servers. It
/// implements every store trait.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    msgs: Mutex<Msgs>,
}

#[derive(Default)]
struct Inner {
    apps: Vec<App>,
    /// The last app id given (ids are never given twice).
    last_app_id: i64,
    /// Ids of deleted apps.
    deleted_apps: std::collections::HashSet<i64>,
    /// The event outbox, by id.
    events: std::collections::BTreeMap<i64, (OutboxEvent, i64)>,
    last_event_id: i64,
    operators: HashMap<String, Operator>,
    accounts: HashMap<(i64, AccountId), Account>,
    blacklists: HashMap<(i64, AccountId), std::collections::BTreeSet<AccountId>>,
    /// Push tokens by (app, account), by device id.
    push_tokens: HashMap<(i64, AccountId), std::collections::BTreeMap<String, PushTokenRecord>>,
    /// Sessions on top by (app, account), by (type, session id).
    stick_tops: HashMap<(i64, AccountId), std::collections::BTreeMap<(u32, String), StickTop>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_app<T>(&self, app_id: i64, f: impl FnOnce(&mut App) -> T) -> StoreResult<T> {
        let mut g = self.inner.lock();
        let app = g
            .apps
            .iter_mut()
            .find(|a| a.id == app_id)
            .ok_or(StoreError::NotFound)?;
        Ok(f(app))
    }

    fn with_account<T>(
        &self,
        app_id: i64,
        accid: &AccountId,
        f: impl FnOnce(&mut Account) -> T,
    ) -> StoreResult<T> {
        let mut g = self.inner.lock();
        let a = g
            .accounts
            .get_mut(&(app_id, accid.clone()))
            .ok_or(StoreError::NotFound)?;
        a.updated_at = now_ms();
        Ok(f(a))
    }
}

#[async_trait]
impl AppStore for MemoryStore {
    async fn create_app(&self, name: &str, app_key: &str, app_secret: &str) -> StoreResult<App> {
        let mut g = self.inner.lock();
        if g.apps
            .iter()
            .any(|a| a.app_key == app_key || a.name == name)
        {
            return Err(StoreError::Conflict);
        }
        g.last_app_id += 1;
        let app = App {
            id: g.last_app_id,
            app_key: app_key.to_owned(),
            app_secret: app_secret.to_owned(),
            name: name.to_owned(),
            created_at: now_ms(),
            settings: AppSettings::default(),
        };
        g.apps.push(app.clone());
        Ok(app)
    }

    async fn app_by_key(&self, app_key: &str) -> StoreResult<Option<App>> {
        Ok(self
            .inner
            .lock()
            .apps
            .iter()
            .find(|a| a.app_key == app_key)
            .cloned())
    }

    async fn list_apps(&self) -> StoreResult<Vec<App>> {
        Ok(self.inner.lock().apps.clone())
    }

    async fn set_setting(&self, app_id: i64, setting: Setting) -> StoreResult<()> {
        self.with_app(app_id, |app| app.settings.apply(setting))
    }

    async fn rotate_secret(&self, app_id: i64, app_secret: &str) -> StoreResult<()> {
        self.with_app(app_id, |app| app.app_secret = app_secret.to_owned())
    }

    async fn delete_app(&self, app_id: i64) -> StoreResult<()> {
        {
            let mut g = self.inner.lock();
            let before = g.apps.len();
            g.apps.retain(|a| a.id != app_id);
            if g.apps.len() == before {
                return Err(StoreError::NotFound);
            }
            g.deleted_apps.insert(app_id);
            g.events.retain(|_, (e, _)| e.app_id != app_id);
            g.accounts.retain(|(app, _), _| *app != app_id);
            g.blacklists.retain(|(app, _), _| *app != app_id);
            g.push_tokens.retain(|(app, _), _| *app != app_id);
            g.stick_tops.retain(|(app, _), _| *app != app_id);
        }
        self.msgs.lock().remove_apps(&|app| app == app_id);
        Ok(())
    }
}

#[async_trait]
impl OperatorStore for MemoryStore {
    async fn create_operator(&self, name: &str, password_hash: &str) -> StoreResult<Operator> {
        let mut g = self.inner.lock();
        if g.operators.contains_key(name) {
            return Err(StoreError::Conflict);
        }
        let o = Operator {
            name: name.to_owned(),
            password_hash: password_hash.to_owned(),
            created_at: now_ms(),
        };
        g.operators.insert(name.to_owned(), o.clone());
        Ok(o)
    }

    async fn operator(&self, name: &str) -> StoreResult<Option<Operator>> {
        Ok(self.inner.lock().operators.get(name).cloned())
    }

    async fn set_operator_password(&self, name: &str, password_hash: &str) -> StoreResult<()> {
        let mut g = self.inner.lock();
        let o = g.operators.get_mut(name).ok_or(StoreError::NotFound)?;
        o.password_hash = password_hash.to_owned();
        Ok(())
    }
}

#[async_trait]
impl EventOutbox for MemoryStore {
    async fn push_events(&self, events: Vec<(i64, String)>) -> StoreResult<()> {
        let mut g = self.inner.lock();
        let now = now_ms();
        for (app_id, body) in events {
            g.last_event_id += 1;
            let id = g.last_event_id;
            let e = OutboxEvent {
                id,
                app_id,
                body,
                created_at: now,
                attempts: 0,
            };
            g.events.insert(id, (e, now));
        }
        Ok(())
    }

    async fn due_events(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<OutboxEvent>> {
        Ok(self
            .inner
            .lock()
            .events
            .values()
            .filter(|(_, next_at)| *next_at <= now_ms)
            .take(limit)
            .map(|(e, _)| e.clone())
            .collect())
    }

    async fn event_delivered(&self, id: i64) -> StoreResult<()> {
        self.inner.lock().events.remove(&id);
        Ok(())
    }

    async fn event_failed(&self, id: i64, next_at_ms: i64) -> StoreResult<()> {
        if let Some((e, next_at)) = self.inner.lock().events.get_mut(&id) {
            e.attempts += 1;
            *next_at = next_at_ms;
        }
        Ok(())
    }

    async fn expire_events(&self, before_ms: i64) -> StoreResult<u64> {
        let mut g = self.inner.lock();
        let n = g.events.len();
        g.events.retain(|_, (e, _)| e.created_at >= before_ms);
        Ok((n - g.events.len()) as u64)
    }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn create_account(&self, app_id: i64, account: NewAccount) -> StoreResult<Account> {
        let mut g = self.inner.lock();
        let key = (app_id, account.accid.clone());
        if g.accounts.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        let a = Account::from_new(app_id, account, now_ms());
        g.accounts.insert(key, a.clone());
        Ok(a)
    }

    async fn create_accounts(&self, app_id: i64, accounts: Vec<NewAccount>) -> StoreResult<usize> {
        let mut g = self.inner.lock();
        let mut seen = std::collections::HashSet::new();
        for a in &accounts {
            if !seen.insert(a.accid.clone()) || g.accounts.contains_key(&(app_id, a.accid.clone()))
            {
                return Err(StoreError::Conflict);
            }
        }
        let n = accounts.len();
        let now = now_ms();
        for a in accounts {
            let acct = Account::from_new(app_id, a, now);
            g.accounts.insert((app_id, acct.accid.clone()), acct);
        }
        Ok(n)
    }

    async fn account(&self, app_id: i64, accid: &AccountId) -> StoreResult<Option<Account>> {
        Ok(self
            .inner
            .lock()
            .accounts
            .get(&(app_id, accid.clone()))
            .cloned())
    }

    async fn search_accounts(
        &self,
        app_id: i64,
        prefix: &str,
        limit: usize,
    ) -> StoreResult<Vec<Account>> {
        let g = self.inner.lock();
        let mut found: Vec<Account> = g
            .accounts
            .iter()
            .filter(|((app, id), _)| *app == app_id && id.as_str().starts_with(prefix))
            .map(|(_, a)| a.clone())
            .collect();
        found.sort_by(|a, b| a.accid.as_str().cmp(b.accid.as_str()));
        found.truncate(limit);
        Ok(found)
    }

    async fn set_token(&self, app_id: i64, accid: &AccountId, token: TokenHash) -> StoreResult<()> {
        self.with_account(app_id, accid, |a| a.token = token)
    }

    async fn set_blocked(&self, app_id: i64, accid: &AccountId, blocked: bool) -> StoreResult<()> {
        self.with_account(app_id, accid, |a| a.blocked = blocked)
    }

    async fn update_account(
        &self,
        app_id: i64,
        accid: &AccountId,
        patch: AccountPatch,
    ) -> StoreResult<Account> {
        self.with_account(app_id, accid, |a| {
            a.apply(patch);
            a.clone()
        })
    }

    async fn set_blacklisted(
        &self,
        app_id: i64,
        owner: &AccountId,
        target: &AccountId,
        on: bool,
    ) -> StoreResult<()> {
        let mut g = self.inner.lock();
        for a in [owner, target] {
            if !g.accounts.contains_key(&(app_id, a.clone())) {
                return Err(StoreError::NotFound);
            }
        }
        let list = g.blacklists.entry((app_id, owner.clone())).or_default();
        if on {
            list.insert(target.clone());
        } else {
            list.remove(target);
        }
        Ok(())
    }

    async fn blacklist(&self, app_id: i64, owner: &AccountId) -> StoreResult<Vec<AccountId>> {
        Ok(self
            .inner
            .lock()
            .blacklists
            .get(&(app_id, owner.clone()))
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn set_switch_open(&self, app_id: i64, accid: &AccountId, value: u32) -> StoreResult<()> {
        self.with_account(app_id, accid, |a| a.switch_open = value)
    }

    async fn change_stick_top(
        &self,
        app_id: i64,
        accid: &AccountId,
        change: StickTopChange,
        now: i64,
    ) -> StoreResult<StickTop> {
        let mut g = self.inner.lock();
        if !g.accounts.contains_key(&(app_id, accid.clone())) {
            return Err(StoreError::NotFound);
        }
        let tops = g.stick_tops.entry((app_id, accid.clone())).or_default();
        let (to_type, sid) = change.session();
        let key = (to_type, sid.to_owned());
        match change {
            StickTopChange::Set {
                to_type,
                session_id,
                ext,
            } => {
                if !tops.contains_key(&key) && tops.len() >= crate::MAX_STICK_TOPS {
                    return Err(StoreError::Conflict);
                }
                let e = tops.entry(key).or_insert(StickTop {
                    to_type,
                    session_id,
                    ext: String::new(),
                    create_time: now,
                    update_time: now,
                });
                e.ext = ext;
                e.update_time = now;
                Ok(e.clone())
            }
            StickTopChange::Update { ext, .. } => {
                let e = tops.get_mut(&key).ok_or(StoreError::NotFound)?;
                e.ext = ext;
                e.update_time = now;
                Ok(e.clone())
            }
            StickTopChange::Cancel { .. } => tops.remove(&key).ok_or(StoreError::NotFound),
        }
    }

    async fn stick_tops(&self, app_id: i64, accid: &AccountId) -> StoreResult<Vec<StickTop>> {
        let mut list: Vec<StickTop> = self
            .inner
            .lock()
            .stick_tops
            .get(&(app_id, accid.clone()))
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        list.sort_by(|a, b| {
            (b.update_time, &b.session_id, b.to_type).cmp(&(
                a.update_time,
                &a.session_id,
                a.to_type,
            ))
        });
        Ok(list)
    }

    async fn set_push_token(
        &self,
        app_id: i64,
        accid: &AccountId,
        device_id: &str,
        token: &str,
        cer_name: &str,
    ) -> StoreResult<()> {
        let mut g = self.inner.lock();
        let key = (app_id, accid.clone());
        if !g.accounts.contains_key(&key) {
            return Err(StoreError::NotFound);
        }
        // One token per device, for the account now on it.
        for ((app, other), devices) in g.push_tokens.iter_mut() {
            if *app == app_id && other != accid {
                devices.remove(device_id);
            }
        }
        let devices = g.push_tokens.entry(key).or_default();
        if token.is_empty() {
            devices.remove(device_id);
        } else {
            devices.insert(
                device_id.to_owned(),
                PushTokenRecord {
                    device_id: device_id.to_owned(),
                    token: token.to_owned(),
                    cer_name: cer_name.to_owned(),
                    updated_at: now_ms(),
                },
            );
        }
        Ok(())
    }

    async fn push_tokens(
        &self,
        app_id: i64,
        accid: &AccountId,
    ) -> StoreResult<Vec<PushTokenRecord>> {
        Ok(self
            .inner
            .lock()
            .push_tokens
            .get(&(app_id, accid.clone()))
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default())
    }
}

/// Messages and logs of the memory store.
#[derive(Default)]
pub(crate) struct Msgs {
    next_id: i64,
    messages: std::collections::BTreeMap<i64, MsgRow>,
    by_client: HashMap<(i64, AccountId, String), i64>,
    logs: HashMap<(i64, AccountId), std::collections::BTreeMap<u64, LogRow>>,
    last_seq: HashMap<(i64, AccountId), u64>,
    delivered: HashMap<(i64, AccountId), u64>,
    notes_by_client: HashMap<(i64, AccountId, String), (u64, i64, String)>,
    /// Server-side sessions per account, by (type, peer).
    sessions: HashMap<(i64, AccountId), std::collections::BTreeMap<(u32, String), SessionRow>>,
}

/// One server-side session of the memory store.
#[derive(Default)]
struct SessionRow {
    update_time: i64,
    ext: String,
    /// Its last message (0: none yet).
    last_msg_id: i64,
    recalled: bool,
}

struct MsgRow {
    app_id: i64,
    from: AccountId,
    to: AccountId,
    client_msg_id: String,
    time: i64,
    msg_type: i32,
    history: bool,
    /// The bits of [`crate::message::hidden`].
    hidden: i64,
    to_seq: u64,
    from_seq: u64,
    json: String,
}

struct LogRow {
    kind: EntryKind,
    msg_id: Option<i64>,
    json: Option<String>,
    time: i64,
}

impl Msgs {
    /// Removes every row of the apps `gone` picks; the number removed.
    fn remove_apps(&mut self, gone: &dyn Fn(i64) -> bool) -> u64 {
        let before = self.messages.len()
            + self.logs.values().map(|l| l.len()).sum::<usize>()
            + self.notes_by_client.len();
        self.messages.retain(|_, m| !gone(m.app_id));
        self.by_client.retain(|(app, _, _), _| !gone(*app));
        self.logs.retain(|(app, _), _| !gone(*app));
        self.last_seq.retain(|(app, _), _| !gone(*app));
        self.delivered.retain(|(app, _), _| !gone(*app));
        self.notes_by_client.retain(|(app, _, _), _| !gone(*app));
        self.sessions.retain(|(app, _), _| !gone(*app));
        let after = self.messages.len()
            + self.logs.values().map(|l| l.len()).sum::<usize>()
            + self.notes_by_client.len();
        (before - after) as u64
    }

    fn sent(&self, app_id: i64, id: i64) -> Option<SentMessage> {
        self.messages
            .get(&id)
            .filter(|r| r.app_id == app_id)
            .map(|r| SentMessage {
                server_id: id,
                from: r.from.clone(),
                client_msg_id: r.client_msg_id.clone(),
                to: r.to.clone(),
                time: r.time,
                in_history: r.history,
            })
    }

    /// A message `id` at `time` between `who` and `peer` makes (or moves
    /// up) `who`'s P2P session with `peer`.
    fn touch_session(
        &mut self,
        app_id: i64,
        who: &AccountId,
        peer: &AccountId,
        time: i64,
        id: i64,
    ) {
        let s = self
            .sessions
            .entry((app_id, who.clone()))
            .or_default()
            .entry((0, peer.as_str().to_owned()))
            .or_default();
        s.update_time = s.update_time.max(time);
        s.last_msg_id = id;
        s.recalled = false;
    }

    /// A stored session as the store answers it, as `who` sees it.
    fn session(&self, who: &AccountId, key: &(u32, String), s: &SessionRow) -> ServerSession {
        let last = self
            .messages
            .get(&s.last_msg_id)
            .filter(|m| {
                let sent = &m.from == who;
                !crate::message::hidden::applies(m.hidden, sent, false)
            })
            .map(|m| LastMessage {
                json: m.json.clone(),
                recalled: s.recalled,
            });
        ServerSession {
            to_type: key.0,
            session_id: key.1.clone(),
            update_time: s.update_time,
            ext: s.ext.clone(),
            last,
        }
    }

    fn next_seq(&mut self, app_id: i64, accid: &AccountId) -> u64 {
        let s = self.last_seq.entry((app_id, accid.clone())).or_default();
        *s += 1;
        *s
    }

    fn enter(&mut self, app_id: i64, accid: &AccountId, row: LogRow) -> u64 {
        let seq = self.next_seq(app_id, accid);
        self.logs
            .entry((app_id, accid.clone()))
            .or_default()
            .insert(seq, row);
        seq
    }

    fn append(&mut self, app_id: i64, a: Append) -> Appended {
        match a {
            Append::Msg(m) => {
                let key = (app_id, m.from.clone(), m.client_msg_id.clone());
                if let Some(id) = self.by_client.get(&key) {
                    let r = &self.messages[id];
                    return Appended {
                        server_id: *id,
                        time: r.time,
                        to_seq: r.to_seq,
                        from_seq: r.from_seq,
                        json: r.json.clone(),
                        duplicate: true,
                    };
                }
                self.next_id += 1;
                let id = self.next_id;
                let json = crate::message::with_server_id(&m.json, id);
                let row = || LogRow {
                    kind: EntryKind::Msg,
                    msg_id: Some(id),
                    json: None,
                    time: m.time,
                };
                let (to_seq, from_seq) = if m.from == m.to {
                    let s = if m.to_log || m.from_log {
                        self.enter(app_id, &m.to, row())
                    } else {
                        0
                    };
                    (s, s)
                } else {
                    let t = if m.to_log {
                        self.enter(app_id, &m.to, row())
                    } else {
                        0
                    };
                    let f = if m.from_log {
                        self.enter(app_id, &m.from, row())
                    } else {
                        0
                    };
                    (t, f)
                };
                self.by_client.insert(key, id);
                self.touch_session(app_id, &m.from, &m.to, m.time, id);
                self.touch_session(app_id, &m.to, &m.from, m.time, id);
                self.messages.insert(
                    id,
                    MsgRow {
                        app_id,
                        from: m.from,
                        to: m.to,
                        client_msg_id: m.client_msg_id,
                        time: m.time,
                        msg_type: m.msg_type,
                        history: m.history,
                        hidden: 0,
                        to_seq,
                        from_seq,
                        json: json.clone(),
                    },
                );
                Appended {
                    server_id: id,
                    time: m.time,
                    to_seq,
                    from_seq,
                    json,
                    duplicate: false,
                }
            }
            Append::Recall {
                from,
                client_msg_id,
            } => {
                let found = self.by_client.get(&(app_id, from, client_msg_id)).copied();
                if let Some(m) = found.and_then(|id| self.messages.get_mut(&id)) {
                    m.history = false;
                    let id = found.unwrap_or(0);
                    for (who, peer) in [(&m.from, &m.to), (&m.to, &m.from)] {
                        if let Some(s) = self
                            .sessions
                            .get_mut(&(app_id, who.clone()))
                            .and_then(|l| l.get_mut(&(0, peer.as_str().to_owned())))
                            .filter(|s| s.last_msg_id == id)
                        {
                            s.recalled = true;
                        }
                    }
                }
                Appended::bare(found.unwrap_or(0))
            }
            Append::Hide {
                account,
                from,
                client_msg_id,
            } => {
                let found = self.by_client.get(&(app_id, from, client_msg_id)).copied();
                if let Some(m) = found.and_then(|id| self.messages.get_mut(&id)) {
                    m.hidden |= crate::message::hidden::bits(
                        m.from == account,
                        m.to == account,
                        true,
                        true,
                    );
                }
                Appended::bare(found.unwrap_or(0))
            }
            Append::ClearHistory {
                account,
                peer,
                upto,
                history,
                sync,
            } => {
                for m in self.messages.values_mut() {
                    let sent = m.from == account && m.to == peer;
                    let received = m.to == account && m.from == peer;
                    if m.app_id == app_id && m.time <= upto && (sent || received) {
                        m.hidden |= crate::message::hidden::bits(sent, received, history, sync);
                    }
                }
                Appended::bare(0)
            }
            Append::SessionExt {
                account,
                to_type,
                session_id,
                ext,
                time,
            } => {
                let s = self
                    .sessions
                    .entry((app_id, account))
                    .or_default()
                    .entry((to_type, session_id))
                    .or_default();
                s.ext = ext;
                s.update_time = s.update_time.max(time);
                Appended::bare(0)
            }
            Append::DropSession {
                account,
                to_type,
                session_id,
            } => {
                if let Some(l) = self.sessions.get_mut(&(app_id, account)) {
                    l.remove(&(to_type, session_id));
                }
                Appended::bare(0)
            }
            Append::Delivered { account, upto } => {
                let d = self.delivered.entry((app_id, account)).or_default();
                *d = (*d).max(upto);
                Appended::bare(0)
            }
            Append::Note(n) => {
                let dedup = n
                    .dedup
                    .as_ref()
                    .map(|(from, client)| (app_id, from.clone(), client.clone()));
                if let Some((seq, time, json)) =
                    dedup.as_ref().and_then(|k| self.notes_by_client.get(k))
                {
                    return Appended {
                        server_id: 0,
                        time: *time,
                        to_seq: *seq,
                        from_seq: 0,
                        json: json.clone(),
                        duplicate: true,
                    };
                }
                let seq = self.enter(
                    app_id,
                    &n.account,
                    LogRow {
                        kind: n.kind,
                        msg_id: None,
                        json: Some(n.json.clone()),
                        time: n.time,
                    },
                );
                if let Some(k) = dedup {
                    self.notes_by_client
                        .insert(k, (seq, n.time, n.json.clone()));
                }
                Appended {
                    server_id: 0,
                    time: n.time,
                    to_seq: seq,
                    from_seq: 0,
                    json: n.json,
                    duplicate: false,
                }
            }
        }
    }
}

#[async_trait]
impl MessageStore for MemoryStore {
    async fn append(&self, batch: Vec<(i64, Append)>) -> StoreResult<Vec<Appended>> {
        let mut g = self.msgs.lock();
        Ok(batch.into_iter().map(|(app, a)| g.append(app, a)).collect())
    }

    async fn log(
        &self,
        app_id: i64,
        accid: &AccountId,
        after: u64,
        limit: u32,
    ) -> StoreResult<LogPage> {
        let g = self.msgs.lock();
        let key = (app_id, accid.clone());
        let head = g.last_seq.get(&key).copied().unwrap_or(0);
        let delivered = g.delivered.get(&key).copied().unwrap_or(0);
        let mut entries = Vec::new();
        let mut from = after + 1;
        if let Some(log) = g.logs.get(&key) {
            if let Some((first, _)) = log.range(after + 1..).next() {
                from = *first;
            }
            for (seq, row) in log.range(after + 1..).take(limit as usize) {
                let (json, sender, hidden) = match row.msg_id {
                    Some(id) => {
                        let m = &g.messages[&id];
                        let gone =
                            crate::message::hidden::applies(m.hidden, m.from == *accid, true);
                        (m.json.clone(), Some(m.from.clone()), gone)
                    }
                    None => (row.json.clone().unwrap_or_default(), None, false),
                };
                entries.push(LogEntry {
                    seq: *seq,
                    kind: row.kind,
                    json,
                    from: sender,
                    hidden,
                });
            }
        } else if head > after {
            // Everything was removed by retention.
            from = head + 1;
        }
        if entries.is_empty() && head > after {
            from = head + 1;
        }
        Ok(LogPage {
            entries,
            from,
            head,
            delivered,
        })
    }

    async fn sent_message(
        &self,
        app_id: i64,
        from: &AccountId,
        client_msg_id: &str,
    ) -> StoreResult<Option<SentMessage>> {
        let m = self.msgs.lock();
        let key = (app_id, from.clone(), client_msg_id.to_owned());
        Ok(m.by_client.get(&key).and_then(|id| m.sent(app_id, *id)))
    }

    async fn message_by_id(&self, app_id: i64, server_id: i64) -> StoreResult<Option<SentMessage>> {
        Ok(self.msgs.lock().sent(app_id, server_id))
    }

    async fn history(
        &self,
        app_id: i64,
        a: &AccountId,
        b: &AccountId,
        r: HistoryRange,
    ) -> StoreResult<Vec<StoredMessage>> {
        let g = self.msgs.lock();
        let mut hits: Vec<&MsgRow> = g
            .messages
            .values()
            .filter(|m| {
                m.app_id == app_id
                    && m.history
                    && ((m.from == *a && m.to == *b) || (m.from == *b && m.to == *a))
                    && !crate::message::hidden::applies(m.hidden, m.from == *a, false)
                    && (r.msg_types.is_empty() || r.msg_types.contains(&m.msg_type))
                    && crate::message::keyword_matches(&m.json, &r.keyword)
            })
            .collect();
        let id_of = |m: &MsgRow| g.by_client[&(app_id, m.from.clone(), m.client_msg_id.clone())];
        // The page continues after the anchor message, at its own time.
        let anchor_time = g
            .messages
            .values()
            .find(|m| r.end_msg_id > 0 && m.app_id == app_id && id_of(m) == r.end_msg_id)
            .map(|m| m.time);
        hits.retain(|m| in_range(&r, anchor_time, m.time, id_of(m)));
        hits.sort_by_key(|m| (m.time, id_of(m)));
        if !r.ascending {
            hits.reverse();
        }
        Ok(hits
            .into_iter()
            .take(r.limit as usize)
            .map(|m| StoredMessage {
                server_id: id_of(m),
                time: m.time,
                msg_type: m.msg_type,
                json: m.json.clone(),
            })
            .collect())
    }

    async fn server_sessions(
        &self,
        app_id: i64,
        accid: &AccountId,
        q: SessionQuery,
    ) -> StoreResult<SessionPage> {
        let g = self.msgs.lock();
        let Some(list) = g.sessions.get(&(app_id, accid.clone())) else {
            return Ok(SessionPage::default());
        };
        let max = if q.max_time > 0 { q.max_time } else { i64::MAX };
        let mut found: Vec<_> = list
            .iter()
            .filter(|(_, s)| s.update_time >= q.min_time && s.update_time < max)
            .collect();
        found.sort_by(|a, b| (b.1.update_time, &b.0).cmp(&(a.1.update_time, &a.0)));
        let (page, has_more) = crate::message::cut_page(found, q.limit, |(_, s)| s.update_time);
        Ok(SessionPage {
            has_more,
            sessions: page
                .into_iter()
                .map(|(k, s)| g.session(accid, k, s))
                .collect(),
        })
    }

    async fn server_session(
        &self,
        app_id: i64,
        accid: &AccountId,
        to_type: u32,
        session_id: &str,
    ) -> StoreResult<Option<ServerSession>> {
        let g = self.msgs.lock();
        let key = (to_type, session_id.to_owned());
        Ok(g.sessions
            .get(&(app_id, accid.clone()))
            .and_then(|l| l.get(&key))
            .map(|s| g.session(accid, &key, s)))
    }

    async fn purge_deleted_apps(&self) -> StoreResult<u64> {
        let deleted = self.inner.lock().deleted_apps.clone();
        if deleted.is_empty() {
            return Ok(0);
        }
        Ok(self.msgs.lock().remove_apps(&|app| deleted.contains(&app)))
    }

    async fn prune(
        &self,
        app_id: i64,
        before_ms: Option<i64>,
        keep_entries: Option<u64>,
    ) -> StoreResult<Pruned> {
        let mut g = self.msgs.lock();
        let mut out = Pruned::default();
        if let Some(t) = before_ms {
            let old: Vec<i64> = g
                .messages
                .iter()
                .filter(|(_, m)| m.app_id == app_id && m.time < t)
                .map(|(id, _)| *id)
                .collect();
            for id in old {
                let m = g.messages.remove(&id).expect("listed");
                g.by_client
                    .remove(&(app_id, m.from.clone(), m.client_msg_id.clone()));
                out.messages += 1;
                for acc in [&m.to, &m.from] {
                    if let Some(log) = g.logs.get_mut(&(app_id, acc.clone())) {
                        let before = log.len();
                        log.retain(|_, row| row.msg_id != Some(id));
                        out.entries += (before - log.len()) as u64;
                    }
                }
            }
            // The other entries of that age too (read marks, deletions,
            // notifications), so a log keeps no holes; and the notes'
            // duplicate keys.
            for ((app, _), log) in g.logs.iter_mut() {
                if *app == app_id {
                    let before = log.len();
                    log.retain(|_, row| row.time >= t);
                    out.entries += (before - log.len()) as u64;
                }
            }
            g.notes_by_client
                .retain(|(app, _, _), (_, time, _)| *app != app_id || *time >= t);
            for ((app, _), l) in g.sessions.iter_mut() {
                if *app == app_id {
                    l.retain(|_, s| s.update_time >= t);
                }
            }
        }
        if let Some(keep) = keep_entries {
            for ((app, _), log) in g.logs.iter_mut() {
                if *app != app_id {
                    continue;
                }
                while log.len() as u64 > keep.max(1) {
                    log.pop_first();
                    out.entries += 1;
                }
            }
        }
        Ok(out)
    }
}

/// True when a message at (`time`, `id`) is inside a history range.
pub(crate) fn in_range(r: &HistoryRange, anchor: Option<i64>, time: i64, id: i64) -> bool {
    if r.from_time > 0 && time < r.from_time {
        return false;
    }
    if r.end_time > 0 && time > r.end_time {
        return false;
    }
    if r.end_msg_id > 0 {
        // Continue after the previous page's last message, in the query's direction.
        let anchor_time = anchor.unwrap_or(match (r.ascending, r.end_time) {
            (true, _) => r.from_time,
            (false, 0) => i64::MAX,
            (false, t) => t,
        });
        let key = (time, id);
        let anchor = (anchor_time, r.end_msg_id);
        if r.ascending && key <= anchor || !r.ascending && key >= anchor {
            return false;
        }
    }
    true
}
