//! Messages between the journal and the database.
//!
//! [`Core::append`] decides everything a write of messages needs (server
//! ids, log positions, duplicates), writes it to the [journal](crate::journal)
//! and answers; the ingester thread copies journal records into the SQLite
//! tables in large transactions, so the database sees a few commits a
//! second instead of one per message. Until a record is in the database,
//! [`Pending`] keeps what later appends need from it (positions, client ids
//! for duplicates); reads of logs and history first wait until the
//! database has every record appended before they started ([`Core::settle`]).

use crate::journal::{Journal, Op};
use magpie_store::message::{hidden, with_server_id};
use magpie_store::{AccountId, Append, Appended, EntryKind, StoreError, StoreResult};
use parking_lot::{Condvar, Mutex};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a record may wait in the journal before the ingester copies it.
/// Each copy rewrites the B-tree pages it touches (every active account's
/// log tail, every conversation's index leaf) whatever the number of
/// messages on them: at a steady 4,000 messages/s, every 2 s instead of
/// every 500 ms took the ingester from about 13 to about 8 µs per message
/// (BENCHMARKS.md, run 8). Reads that need the newest writes do not wait
/// for it: they ask for a copy at once (`Core::settle`).
pub(crate) const INGEST_EVERY: Duration = Duration::from_millis(2000);

/// Ops waiting that make the ingester start at once.
pub(crate) const INGEST_AT: usize = 16_384;

/// Ops waiting beyond which appends wait for the ingester (bounds memory
/// when the database falls behind).
pub(crate) const MAX_WAITING: usize = 200_000;

/// How long a read waits for the database to catch up before failing.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// What a stored message or notification is found again by: (app,
/// 1 for a message or 2 for a notification, sender, client id).
type DupKey = (i64, u8, String, String);

/// Appended, not yet in the database.
pub(crate) struct Pending {
    /// `None` in a store opened beside the serving process
    /// ([`SqliteStore::open_shared`](crate::SqliteStore::open_shared)).
    journal: Option<Journal>,
    /// Ops of records not yet taken by the ingester, in order.
    ops: Vec<Op>,
    /// Number of the last record appended.
    appended: u64,
    /// Number of the last record in the database.
    ingested: u64,
    /// A reader waits: ingest now.
    urgent: bool,
    /// The store is closing: ingest what is left and stop.
    closing: bool,
    /// Messages and notifications appended and not yet in the database, as
    /// a resend gets them back.
    dups: HashMap<DupKey, Appended>,
    /// Last position of each account's log seen so far.
    seqs: HashMap<(i64, AccountId), u64>,
    /// Last message id handed out.
    last_msg_id: i64,
    /// When the oldest op in `ops` was appended.
    first_at: Option<Instant>,
    /// Tests: the ingester takes nothing, as if the process died first.
    #[cfg(test)]
    pub(crate) frozen: bool,
}

/// What the store and its ingester share.
pub(crate) struct Core {
    /// The one writer connection.
    pub(crate) writer: Mutex<Connection>,
    pending: Mutex<Pending>,
    wake: Condvar,
    ingested: tokio::sync::watch::Sender<u64>,
}

impl Core {
    /// Opens the message path over `writer`: copies into the database what
    /// the journal of `db` has beyond it, then starts a new journal.
    pub(crate) fn open(
        db: &std::path::Path,
        mut writer: Connection,
        owner: bool,
    ) -> StoreResult<Core> {
        let sql = StoreError::backend;
        let ingested: i64 = writer
            .query_row(
                "SELECT ingested FROM message_journal WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        let mut ingested = ingested as u64;
        let journal = if owner {
            let lock = Journal::lock(db).map_err(|e| StoreError::Backend(e.into()))?;
            let (n, upto) = recover_into(db, &mut writer, ingested)?;
            ingested = upto;
            if n > 0 {
                tracing::info!(
                    records = n,
                    "copied messages from the journal into the database after an unclean stop"
                );
            }
            Some(Journal::start(db, ingested, lock).map_err(|e| {
                StoreError::Backend(
                    format!("starting the message journal next to {}: {e}", db.display()).into(),
                )
            })?)
        } else {
            None
        };
        let last_msg_id: i64 = writer
            .query_row(
                "SELECT last_msg_id FROM message_journal WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        Ok(Core {
            writer: Mutex::new(writer),
            pending: Mutex::new(Pending {
                journal,
                ops: Vec::new(),
                appended: ingested,
                ingested,
                urgent: false,
                closing: false,
                dups: HashMap::new(),
                seqs: HashMap::new(),
                last_msg_id,
                first_at: None,
                #[cfg(test)]
                frozen: false,
            }),
            wake: Condvar::new(),
            ingested: tokio::sync::watch::channel(ingested).0,
        })
    }

    /// Tests: stops the ingester for good, as a killed process would.
    #[cfg(test)]
    pub(crate) fn freeze(&self) {
        self.pending.lock().frozen = true;
    }

    /// Tests: what a killed process leaves: the ingester stopped and the
    /// journal's files (and lock) let go, with nothing more written.
    #[cfg(test)]
    pub(crate) fn crash(&self) {
        let mut p = self.pending.lock();
        p.frozen = true;
        p.journal = None;
    }

    /// Whether appends should first wait for the ingester.
    pub(crate) fn backlogged(&self) -> bool {
        self.pending.lock().ops.len() > MAX_WAITING
    }

    /// Waits until the database has every record appended so far.
    pub(crate) async fn settle(&self) -> StoreResult<()> {
        let target = {
            let mut p = self.pending.lock();
            if p.ingested >= p.appended {
                return Ok(());
            }
            p.urgent = true;
            self.wake.notify_one();
            p.appended
        };
        let mut rx = self.ingested.subscribe();
        let caught_up = tokio::time::timeout(SETTLE_TIMEOUT, async {
            rx.wait_for(|v| *v >= target).await.map(|_| ())
        })
        .await;
        match caught_up {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(StoreError::Backend("the message store is closed".into())),
            Err(_) => Err(StoreError::Backend(format!(
                "messages written more than {} s ago are not in the database yet (the server log says why: look for \"copying messages into the database failed\")",
                SETTLE_TIMEOUT.as_secs()
            ).into())),
        }
    }

    /// Decides and journals a batch (see `MessageStore::append`). `reader`
    /// looks up what the database already has.
    pub(crate) fn append(
        &self,
        reader: &Connection,
        batch: Vec<(i64, Append)>,
    ) -> StoreResult<Vec<Appended>> {
        let sql = StoreError::backend;
        let mut p = self.pending.lock();
        let p = &mut *p;
        let mut seqs: HashMap<(i64, AccountId), u64> = HashMap::new();
        let mut dups: HashMap<DupKey, Appended> = HashMap::new();
        let mut last_id = p.last_msg_id;
        let mut ops = Vec::with_capacity(batch.len());
        let mut out = Vec::with_capacity(batch.len());
        for (app_id, a) in batch {
            match a {
                Append::Msg(m) => {
                    let key: DupKey = (app_id, 1, m.from.as_str().to_owned(), m.client_msg_id);
                    // A first send skips the index lookup (NewMessage::resent).
                    let db = m.resent.then_some(reader);
                    if let Some(d) = stored(db, &dups, &p.dups, &key).map_err(sql)? {
                        out.push(d);
                        continue;
                    }
                    let id = last_id + 1;
                    last_id = id;
                    let json = with_server_id(&m.json, id);
                    let mut next = |who: &AccountId| {
                        take_seq(reader, &mut seqs, &p.seqs, app_id, who).map_err(sql)
                    };
                    let (to_seq, from_seq) = if m.from == m.to {
                        let s = if m.to_log || m.from_log {
                            next(&m.to)?
                        } else {
                            0
                        };
                        (s, s)
                    } else {
                        let t = if m.to_log { next(&m.to)? } else { 0 };
                        let f = if m.from_log { next(&m.from)? } else { 0 };
                        (t, f)
                    };
                    let a = Appended {
                        server_id: id,
                        time: m.time,
                        to_seq,
                        from_seq,
                        json,
                        duplicate: false,
                    };
                    dups.insert(
                        key.clone(),
                        Appended {
                            duplicate: true,
                            ..a.clone()
                        },
                    );
                    ops.push(Op::Msg {
                        id,
                        app_id,
                        from: key.2,
                        to: m.to.as_str().to_owned(),
                        client_msg_id: key.3,
                        time: m.time,
                        msg_type: m.msg_type,
                        history: m.history,
                        to_seq,
                        from_seq,
                        json: a.json.clone(),
                    });
                    out.push(a);
                }
                Append::Recall {
                    from,
                    client_msg_id,
                } => {
                    let (key, server_id) =
                        message_id(reader, &dups, &p.dups, app_id, &from, client_msg_id)
                            .map_err(sql)?;
                    ops.push(Op::Recall {
                        app_id,
                        from: key.2,
                        client_msg_id: key.3,
                    });
                    out.push(Appended::bare(server_id));
                }
                Append::Hide {
                    account,
                    from,
                    client_msg_id,
                } => {
                    let (key, server_id) =
                        message_id(reader, &dups, &p.dups, app_id, &from, client_msg_id)
                            .map_err(sql)?;
                    ops.push(Op::Hide {
                        app_id,
                        from: key.2,
                        client_msg_id: key.3,
                        account: account.as_str().to_owned(),
                    });
                    out.push(Appended::bare(server_id));
                }
                Append::ClearHistory {
                    account,
                    peer,
                    upto,
                    history,
                    sync,
                } => {
                    ops.push(Op::Clear {
                        app_id,
                        account: account.as_str().to_owned(),
                        peer: peer.as_str().to_owned(),
                        upto,
                        history,
                        sync,
                    });
                    out.push(Appended::bare(0));
                }
                Append::SessionExt {
                    account,
                    to_type,
                    session_id,
                    ext,
                    time,
                } => {
                    ops.push(Op::SessionExt {
                        app_id,
                        account: account.as_str().to_owned(),
                        to_type,
                        session_id,
                        ext,
                        time,
                    });
                    out.push(Appended::bare(0));
                }
                Append::DropSession {
                    account,
                    to_type,
                    session_id,
                } => {
                    ops.push(Op::DropSession {
                        app_id,
                        account: account.as_str().to_owned(),
                        to_type,
                        session_id,
                    });
                    out.push(Appended::bare(0));
                }
                Append::Delivered { account, upto } => {
                    ops.push(Op::Delivered {
                        app_id,
                        account: account.as_str().to_owned(),
                        upto,
                    });
                    out.push(Appended::bare(0));
                }
                Append::Note(n) => {
                    let key = n.dedup.as_ref().map(|(from, client)| {
                        (app_id, 2, from.as_str().to_owned(), client.clone())
                    });
                    if let Some(key) = &key {
                        if let Some(d) = stored(Some(reader), &dups, &p.dups, key).map_err(sql)? {
                            out.push(d);
                            continue;
                        }
                    }
                    let seq =
                        take_seq(reader, &mut seqs, &p.seqs, app_id, &n.account).map_err(sql)?;
                    let a = Appended {
                        server_id: 0,
                        time: n.time,
                        to_seq: seq,
                        from_seq: 0,
                        json: n.json.clone(),
                        duplicate: false,
                    };
                    if let Some(key) = &key {
                        dups.insert(
                            key.clone(),
                            Appended {
                                duplicate: true,
                                ..a.clone()
                            },
                        );
                    }
                    ops.push(Op::Note {
                        app_id,
                        account: n.account.as_str().to_owned(),
                        seq,
                        kind: n.kind as i64,
                        json: n.json,
                        time: n.time,
                        dedup: key.map(|k| (k.2, k.3)),
                    });
                    out.push(a);
                }
            }
        }
        if ops.is_empty() {
            return Ok(out);
        }
        let Some(journal) = p.journal.as_mut() else {
            return Err(StoreError::Backend(
                "this store was opened beside the server (open_shared): only the serving process writes messages"
                    .into(),
            ));
        };
        let number = journal.append(&ops).map_err(|e| {
            StoreError::Backend(
                format!("writing the message journal failed ({e}); nothing of this write was kept")
                    .into(),
            )
        })?;
        p.appended = number;
        p.last_msg_id = last_id;
        p.seqs.extend(seqs);
        p.dups.extend(dups);
        let first = p.ops.is_empty();
        p.ops.extend(ops);
        if first {
            p.first_at = Some(Instant::now());
        }
        if first || p.ops.len() >= INGEST_AT {
            self.wake.notify_one();
        }
        Ok(out)
    }

    /// Asks the ingester to copy what is left and stop.
    pub(crate) fn close(&self) {
        self.pending.lock().closing = true;
        self.wake.notify_one();
    }

    /// The ingester: copies journal records into the database until the
    /// store closes.
    pub(crate) fn ingest(&self) {
        let mut failures = 0u32;
        loop {
            let (ops, upto, last) = {
                let mut p = self.pending.lock();
                loop {
                    #[cfg(test)]
                    if p.frozen {
                        self.wake.wait_for(&mut p, Duration::from_millis(50));
                        continue;
                    }
                    if p.closing || p.urgent || p.ops.len() >= INGEST_AT {
                        break;
                    }
                    let wait = match p.first_at {
                        None => Duration::from_secs(3600),
                        Some(t) if t.elapsed() >= INGEST_EVERY => break,
                        Some(t) => INGEST_EVERY - t.elapsed(),
                    };
                    self.wake.wait_for(&mut p, wait);
                }
                p.urgent = false;
                p.first_at = None;
                let last = p.closing;
                (std::mem::take(&mut p.ops), p.appended, last)
            };
            if !ops.is_empty() {
                let r = {
                    let mut w = self.writer.lock();
                    apply(&mut w, ops.iter(), upto)
                };
                match r {
                    Ok(()) => {
                        failures = 0;
                        let mut p = self.pending.lock();
                        for op in &ops {
                            match op {
                                Op::Msg {
                                    app_id,
                                    from,
                                    client_msg_id,
                                    ..
                                } => {
                                    p.dups.remove(&(
                                        *app_id,
                                        1,
                                        from.clone(),
                                        client_msg_id.clone(),
                                    ));
                                }
                                Op::Note {
                                    app_id,
                                    dedup: Some((from, client)),
                                    ..
                                } => {
                                    p.dups.remove(&(*app_id, 2, from.clone(), client.clone()));
                                }
                                _ => {}
                            }
                        }
                        p.ingested = upto;
                        if let Err(e) = p.journal.as_mut().map_or(Ok(()), |j| j.release(upto)) {
                            tracing::warn!(error = %e, "removing message journal segments already in the database failed; they are read again at the next start and skipped");
                        }
                        drop(p);
                        self.ingested.send_replace(upto);
                    }
                    Err(e) => {
                        failures += 1;
                        tracing::error!(error = %e, ops = ops.len(), "copying messages into the database failed; they stay in the journal and are retried");
                        let mut p = self.pending.lock();
                        let newer = std::mem::replace(&mut p.ops, ops);
                        p.ops.extend(newer);
                        p.first_at = Some(Instant::now());
                        drop(p);
                        if last {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(50 << failures.min(5)));
                        continue;
                    }
                }
            }
            if last {
                return;
            }
        }
    }
}

/// The server id of the message `from` sent with `client_msg_id`, whether
/// in the database, pending or earlier in this batch (0: none), and its
/// duplicate key.
fn message_id(
    reader: &Connection,
    batch: &HashMap<DupKey, Appended>,
    pending: &HashMap<DupKey, Appended>,
    app_id: i64,
    from: &AccountId,
    client_msg_id: String,
) -> rusqlite::Result<(DupKey, i64)> {
    let key: DupKey = (app_id, 1, from.as_str().to_owned(), client_msg_id);
    let id = stored(Some(reader), batch, pending, &key)?.map_or(0, |a| a.server_id);
    Ok((key, id))
}

/// What a (sender, client id) already is: a write of this batch, one not
/// yet in the database, or (when `reader` is given) a stored message
/// (`DupKey` kind 1) or notification (kind 2), as a resend gets it back.
fn stored(
    reader: Option<&Connection>,
    batch: &HashMap<DupKey, Appended>,
    pending: &HashMap<DupKey, Appended>,
    key: &DupKey,
) -> rusqlite::Result<Option<Appended>> {
    if let Some(d) = batch.get(key).or_else(|| pending.get(key)) {
        return Ok(Some(d.clone()));
    }
    let Some(reader) = reader else {
        return Ok(None);
    };
    let sql = if key.1 == 1 {
        "SELECT id, time, to_seq, from_seq, json FROM messages WHERE app_id = ?1 AND from_accid = ?2 AND client_msg_id = ?3 ORDER BY id LIMIT 1"
    } else {
        "SELECT 0, time, seq, 0, json FROM stored_notes WHERE app_id = ?1 AND from_accid = ?2 AND client_msg_id = ?3"
    };
    reader
        .prepare_cached(sql)?
        .query_row(params![key.0, key.2, key.3], crate::appended_row)
        .optional()
}

/// Takes the next position of an account's log: after this batch's, the
/// writes not yet in the database, or the database's last.
fn take_seq(
    reader: &Connection,
    batch: &mut HashMap<(i64, AccountId), u64>,
    pending: &HashMap<(i64, AccountId), u64>,
    app_id: i64,
    who: &AccountId,
) -> rusqlite::Result<u64> {
    let k = (app_id, who.clone());
    let last = match batch.get(&k).or_else(|| pending.get(&k)) {
        Some(s) => *s,
        None => crate::last_seq(reader, app_id, who)?,
    };
    batch.insert(k, last + 1);
    Ok(last + 1)
}

/// Copies ops into the database in one transaction and records that the
/// database has every record up to `upto`.
/// Copies the records of the journal next to `db` that the database (at
/// `ingested`) does not have into it through `conn`: (records copied, the
/// last record the database now has). Does not touch the journal's files.
pub(crate) fn recover_into(
    db: &std::path::Path,
    conn: &mut Connection,
    mut ingested: u64,
) -> StoreResult<(usize, u64)> {
    let rec = Journal::recover(db, ingested).map_err(|e| {
        StoreError::Backend(
            format!("reading the message journal next to {}: {e}", db.display()).into(),
        )
    })?;
    if rec.torn_bytes > 0 {
        tracing::warn!(
            bytes = rec.torn_bytes,
            "the message journal ended in an incomplete record (a write cut short by a crash); it was never acknowledged and is dropped"
        );
    }
    for chunk in rec.records.chunks(1024) {
        let upto = chunk.last().map(|r| r.0).unwrap_or(ingested);
        let ops: Vec<&Op> = chunk.iter().flat_map(|r| r.1.iter()).collect();
        apply(conn, ops.into_iter(), upto).map_err(StoreError::backend)?;
        ingested = upto;
    }
    Ok((rec.records.len(), ingested))
}

fn apply<'a>(
    c: &mut Connection,
    ops: impl Iterator<Item = &'a Op>,
    upto: u64,
) -> rusqlite::Result<()> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut insert_msg = tx.prepare_cached(
            "INSERT INTO messages (id, app_id, from_accid, to_accid, client_msg_id, time, msg_type, conv_lo, conv_hi, history, to_seq, from_seq, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        // Log rows go in last, sorted by key: consecutive inserts land on
        // the same B-tree pages (each account's tail) instead of jumping
        // between accounts message by message.
        let mut log: Vec<LogRow<'_>> = Vec::new();
        // Server-side sessions the messages move up, written once per
        // session and group (before any op that reads or changes them).
        let mut sessions: Sessions<'_> = HashMap::new();
        let mut last_id = 0i64;
        for op in ops {
            if !matches!(op, Op::Msg { .. } | Op::Note { .. } | Op::Delivered { .. }) {
                touch_sessions(&tx, &mut sessions)?;
            }
            match op {
                Op::Msg {
                    id,
                    app_id,
                    from,
                    to,
                    client_msg_id,
                    time,
                    msg_type,
                    history,
                    to_seq,
                    from_seq,
                    json,
                } => {
                    let (lo, hi) = if from <= to { (from, to) } else { (to, from) };
                    insert_msg.execute(params![
                        id,
                        app_id,
                        from,
                        to,
                        client_msg_id,
                        time,
                        msg_type,
                        lo,
                        hi,
                        history,
                        *to_seq as i64,
                        *from_seq as i64,
                        json
                    ])?;
                    last_id = last_id.max(*id);
                    let row = |accid: &'a str, seq: u64| LogRow {
                        app_id: *app_id,
                        accid,
                        seq,
                        kind: EntryKind::Msg,
                        msg_id: Some(*id),
                        json: None,
                        time: *time,
                    };
                    for (who, peer) in [(from, to), (to, from)] {
                        let s = sessions.entry((*app_id, who, peer)).or_insert((*time, *id));
                        *s = ((*time).max(s.0), *id);
                    }
                    if *to_seq > 0 {
                        log.push(row(to, *to_seq));
                    }
                    if *from_seq > 0 && from != to {
                        log.push(row(from, *from_seq));
                    }
                }
                Op::Note {
                    app_id,
                    account,
                    seq,
                    kind,
                    json,
                    time,
                    dedup,
                } => {
                    log.push(LogRow {
                        app_id: *app_id,
                        accid: account,
                        seq: *seq,
                        kind: EntryKind::from_i64(*kind).unwrap_or(EntryKind::Sysmsg),
                        msg_id: None,
                        json: Some(json),
                        time: *time,
                    });
                    if let Some((from, client)) = dedup {
                        tx.prepare_cached(
                            "INSERT INTO stored_notes (app_id, from_accid, client_msg_id, seq, time, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )?
                        .execute(params![app_id, from, client, *seq as i64, time, json])?;
                    }
                }
                Op::Recall {
                    app_id,
                    from,
                    client_msg_id,
                } => {
                    tx.prepare_cached(
                        "UPDATE messages SET history = 0 WHERE app_id = ?1 AND from_accid = ?2 AND client_msg_id = ?3",
                    )?
                    .execute(params![app_id, from, client_msg_id])?;
                    // The sessions whose last message it is show a recall
                    // (every copy of a client id reused without the resend
                    // flag: the recall took them all out of the history).
                    let found: Vec<(i64, String)> = tx
                        .prepare_cached(
                            "SELECT id, to_accid FROM messages WHERE app_id = ?1 AND from_accid = ?2 AND client_msg_id = ?3",
                        )?
                        .query_map(params![app_id, from, client_msg_id], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })?
                        .collect::<rusqlite::Result<_>>()?;
                    let mut mark = tx.prepare_cached(
                        "UPDATE server_sessions SET last_recalled = 1 WHERE app_id = ?1 AND accid = ?2 AND to_type = 0 AND session_id = ?3 AND last_msg_id = ?4",
                    )?;
                    for (id, to) in found {
                        mark.execute(params![app_id, from, to, id])?;
                        mark.execute(params![app_id, to, from, id])?;
                    }
                }
                Op::SessionExt {
                    app_id,
                    account,
                    to_type,
                    session_id,
                    ext,
                    time,
                } => {
                    tx.prepare_cached(
                        "INSERT INTO server_sessions (app_id, accid, to_type, session_id, update_time, ext) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                         ON CONFLICT (app_id, accid, to_type, session_id) DO UPDATE SET ext = excluded.ext, update_time = max(update_time, excluded.update_time)",
                    )?
                    .execute(params![app_id, account, to_type, session_id, time, ext])?;
                }
                Op::DropSession {
                    app_id,
                    account,
                    to_type,
                    session_id,
                } => {
                    tx.prepare_cached(
                        "DELETE FROM server_sessions WHERE app_id = ?1 AND accid = ?2 AND to_type = ?3 AND session_id = ?4",
                    )?
                    .execute(params![app_id, account, to_type, session_id])?;
                }
                Op::Hide {
                    app_id,
                    from,
                    client_msg_id,
                    account,
                } => {
                    // The bits for the sender, the receiver or both (a
                    // message to oneself); nothing when the account is
                    // neither.
                    tx.prepare_cached(
                        "UPDATE messages SET hidden = hidden \
                         | (CASE WHEN from_accid = ?4 THEN ?5 ELSE 0 END) \
                         | (CASE WHEN to_accid = ?4 THEN ?6 ELSE 0 END) \
                         WHERE app_id = ?1 AND from_accid = ?2 AND client_msg_id = ?3",
                    )?
                    .execute(params![
                        app_id,
                        from,
                        client_msg_id,
                        account,
                        hidden::bits(true, false, true, true),
                        hidden::bits(false, true, true, true)
                    ])?;
                }
                Op::Clear {
                    app_id,
                    account,
                    peer,
                    upto,
                    history,
                    sync,
                } => {
                    let (lo, hi) = if account <= peer {
                        (account, peer)
                    } else {
                        (peer, account)
                    };
                    tx.prepare_cached(
                        "UPDATE messages SET hidden = hidden \
                         | (CASE WHEN from_accid = ?4 THEN ?6 ELSE 0 END) \
                         | (CASE WHEN to_accid = ?4 THEN ?7 ELSE 0 END) \
                         WHERE app_id = ?1 AND conv_lo = ?2 AND conv_hi = ?3 AND time <= ?5",
                    )?
                    .execute(params![
                        app_id,
                        lo,
                        hi,
                        account,
                        upto,
                        hidden::bits(true, false, *history, *sync),
                        hidden::bits(false, true, *history, *sync)
                    ])?;
                }
                Op::Delivered {
                    app_id,
                    account,
                    upto,
                } => {
                    tx.prepare_cached(
                        "INSERT INTO account_state (app_id, accid, delivered) VALUES (?1, ?2, ?3) ON CONFLICT (app_id, accid) DO UPDATE SET delivered = max(delivered, excluded.delivered)",
                    )?
                    .execute(params![app_id, account, *upto as i64])?;
                }
            }
        }
        touch_sessions(&tx, &mut sessions)?;
        log.sort_unstable_by(|a, b| (a.app_id, a.accid, a.seq).cmp(&(b.app_id, b.accid, b.seq)));
        let mut insert_log = tx.prepare_cached(
            "INSERT INTO account_log (app_id, accid, seq, kind, msg_id, json, time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for r in &log {
            insert_log.execute(params![
                r.app_id,
                r.accid,
                r.seq as i64,
                r.kind as i64,
                r.msg_id,
                r.json,
                r.time
            ])?;
        }
        tx.prepare_cached(
            "UPDATE message_journal SET ingested = ?1, last_msg_id = max(last_msg_id, ?2) WHERE id = 1",
        )?
        .execute(params![upto as i64, last_id])?;
    }
    tx.commit()
}

/// The server-side sessions a group of messages moves up: (app, account,
/// peer) to (update time, last message).
type Sessions<'a> = HashMap<(i64, &'a str, &'a str), (i64, i64)>;

/// Writes the sessions gathered so far, in key order (neighbouring rows
/// share B-tree pages), and empties the map.
fn touch_sessions(
    tx: &rusqlite::Transaction<'_>,
    sessions: &mut Sessions<'_>,
) -> rusqlite::Result<()> {
    if sessions.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<_> = sessions.drain().collect();
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut upsert = tx.prepare_cached(
        "INSERT INTO server_sessions (app_id, accid, to_type, session_id, update_time, last_msg_id) VALUES (?1, ?2, 0, ?3, ?4, ?5) \
         ON CONFLICT (app_id, accid, to_type, session_id) DO UPDATE SET update_time = max(update_time, excluded.update_time), last_msg_id = excluded.last_msg_id, last_recalled = 0",
    )?;
    for ((app_id, who, peer), (time, id)) in rows {
        upsert.execute(params![app_id, who, peer, time, id])?;
    }
    Ok(())
}

/// One row of account_log, as [`apply`] inserts it.
struct LogRow<'a> {
    app_id: i64,
    accid: &'a str,
    seq: u64,
    kind: EntryKind,
    msg_id: Option<i64>,
    json: Option<&'a str>,
    time: i64,
}
