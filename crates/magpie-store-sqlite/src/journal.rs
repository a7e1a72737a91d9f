//! The message journal: what [`MessageStore::append`](magpie_store::MessageStore::append)
//! stored, as append-only records, ahead of the database.
//!
//! A write of messages is acknowledged once its record is in the journal
//! file (one `write` of a few hundred bytes), and copied into the SQLite
//! tables later, many records per transaction, by the ingester
//! (`crate::ingest`). The journal survives a killed process like SQLite's
//! WAL with `synchronous = NORMAL` does: what was written is in the
//! operating system's page cache. At open, records the database does not
//! have yet (its `message_journal.ingested` is below their number) are
//! copied in before anything else runs.
//!
//! A record: `len: u32 LE`, `crc32: u32 LE` of the rest, `number: u64 LE`,
//! then `len` bytes of ops. Numbers are consecutive across segments and
//! restarts. A record cut short or damaged (a process killed in the middle
//! of a write) ends the journal: it was never acknowledged.
//!
//! The journal is a list of segment files `<db>-msgs.<n>` next to the
//! database. The current one is appended to and starts over when all its
//! records are in the database; it is closed for a new one past
//! [`SEGMENT_BYTES`], and closed segments are deleted once the database has
//! all their records.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Size past which the current segment is closed and a new one started.
pub(crate) const SEGMENT_BYTES: u64 = 16 << 20;

/// Largest record body read back (a damaged length must not allocate
/// gigabytes); a group of 4,096 messages of 64 KiB each stays below it.
const MAX_RECORD: u32 = 512 << 20;

/// One row-level change, as the ingester applies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// A message row and its log entries.
    Msg {
        /// Server id.
        id: i64,
        /// App.
        app_id: i64,
        /// Sender.
        from: String,
        /// Receiver.
        to: String,
        /// The sender's id for it.
        client_msg_id: String,
        /// Server time, ms.
        time: i64,
        /// NIMMessageType.
        msg_type: i32,
        /// Kept for history.
        history: bool,
        /// Position in the receiver's log (0: none).
        to_seq: u64,
        /// Position in the sender's log (0: none).
        from_seq: u64,
        /// JSON with the server id.
        json: String,
    },
    /// A note in one log, and for a stored notification its dedup row.
    Note {
        /// App.
        app_id: i64,
        /// Whose log.
        account: String,
        /// Its position.
        seq: u64,
        /// `EntryKind` as stored.
        kind: i64,
        /// Entry body.
        json: String,
        /// Server time, ms.
        time: i64,
        /// (sender, client id) of a stored notification.
        dedup: Option<(String, String)>,
    },
    /// A recalled message leaves the history.
    Recall {
        /// App.
        app_id: i64,
        /// The sender.
        from: String,
        /// Its client id.
        client_msg_id: String,
    },
    /// A message is hidden from one of its accounts (`bits` of
    /// `magpie_store::message::hidden`).
    Hide {
        /// App.
        app_id: i64,
        /// The sender.
        from: String,
        /// Its client id.
        client_msg_id: String,
        /// The account it is hidden from.
        account: String,
    },
    /// An account's history of a conversation is cleared up to a time.
    Clear {
        /// App.
        app_id: i64,
        /// Whose history.
        account: String,
        /// The other side.
        peer: String,
        /// Up to this time, ms.
        upto: i64,
        /// Out of its history.
        history: bool,
        /// Out of its sync.
        sync: bool,
    },
    /// One of an account's server-side sessions gets an extension.
    SessionExt {
        /// App.
        app_id: i64,
        /// Whose session.
        account: String,
        /// NIMSessionType.
        to_type: u32,
        /// The peer.
        session_id: String,
        /// The extension.
        ext: String,
        /// Server time, ms.
        time: i64,
    },
    /// One of an account's server-side sessions is dropped.
    DropSession {
        /// App.
        app_id: i64,
        /// Whose session.
        account: String,
        /// NIMSessionType.
        to_type: u32,
        /// The peer.
        session_id: String,
    },
    /// A device applied its log up to `upto`.
    Delivered {
        /// App.
        app_id: i64,
        /// The account.
        account: String,
        /// The position.
        upto: u64,
    },
}

/// Encodes ops as a record body.
pub(crate) fn encode(ops: &[Op], out: &mut Vec<u8>) {
    put_u32(out, ops.len() as u32);
    for op in ops {
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
                out.push(1);
                put_i64(out, *id);
                put_i64(out, *app_id);
                put_str(out, from);
                put_str(out, to);
                put_str(out, client_msg_id);
                put_i64(out, *time);
                put_i64(out, i64::from(*msg_type));
                out.push(u8::from(*history));
                put_i64(out, *to_seq as i64);
                put_i64(out, *from_seq as i64);
                put_str(out, json);
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
                out.push(2);
                put_i64(out, *app_id);
                put_str(out, account);
                put_i64(out, *seq as i64);
                put_i64(out, *kind);
                put_str(out, json);
                put_i64(out, *time);
                match dedup {
                    Some((from, client)) => {
                        out.push(1);
                        put_str(out, from);
                        put_str(out, client);
                    }
                    None => out.push(0),
                }
            }
            Op::Recall {
                app_id,
                from,
                client_msg_id,
            } => {
                out.push(4);
                put_i64(out, *app_id);
                put_str(out, from);
                put_str(out, client_msg_id);
            }
            Op::Hide {
                app_id,
                from,
                client_msg_id,
                account,
            } => {
                out.push(5);
                put_i64(out, *app_id);
                put_str(out, from);
                put_str(out, client_msg_id);
                put_str(out, account);
            }
            Op::Clear {
                app_id,
                account,
                peer,
                upto,
                history,
                sync,
            } => {
                out.push(6);
                put_i64(out, *app_id);
                put_str(out, account);
                put_str(out, peer);
                put_i64(out, *upto);
                out.push(u8::from(*history) | u8::from(*sync) << 1);
            }
            Op::SessionExt {
                app_id,
                account,
                to_type,
                session_id,
                ext,
                time,
            } => {
                out.push(7);
                put_i64(out, *app_id);
                put_str(out, account);
                put_i64(out, i64::from(*to_type));
                put_str(out, session_id);
                put_str(out, ext);
                put_i64(out, *time);
            }
            Op::DropSession {
                app_id,
                account,
                to_type,
                session_id,
            } => {
                out.push(8);
                put_i64(out, *app_id);
                put_str(out, account);
                put_i64(out, i64::from(*to_type));
                put_str(out, session_id);
            }
            Op::Delivered {
                app_id,
                account,
                upto,
            } => {
                out.push(3);
                put_i64(out, *app_id);
                put_str(out, account);
                put_i64(out, *upto as i64);
            }
        }
    }
}

/// Decodes a record body; `None` when it is not one [`encode`] wrote.
pub(crate) fn decode(mut b: &[u8]) -> Option<Vec<Op>> {
    let n = get_u32(&mut b)? as usize;
    // Each op takes at least 20 bytes: a count beyond that is damage.
    if n > b.len() / 20 + 1 {
        return None;
    }
    let mut ops = Vec::with_capacity(n);
    for _ in 0..n {
        let op = match get_u8(&mut b)? {
            1 => Op::Msg {
                id: get_i64(&mut b)?,
                app_id: get_i64(&mut b)?,
                from: get_str(&mut b)?,
                to: get_str(&mut b)?,
                client_msg_id: get_str(&mut b)?,
                time: get_i64(&mut b)?,
                msg_type: i32::try_from(get_i64(&mut b)?).ok()?,
                history: get_u8(&mut b)? != 0,
                to_seq: get_i64(&mut b)? as u64,
                from_seq: get_i64(&mut b)? as u64,
                json: get_str(&mut b)?,
            },
            2 => Op::Note {
                app_id: get_i64(&mut b)?,
                account: get_str(&mut b)?,
                seq: get_i64(&mut b)? as u64,
                kind: get_i64(&mut b)?,
                json: get_str(&mut b)?,
                time: get_i64(&mut b)?,
                dedup: match get_u8(&mut b)? {
                    0 => None,
                    1 => Some((get_str(&mut b)?, get_str(&mut b)?)),
                    _ => return None,
                },
            },
            3 => Op::Delivered {
                app_id: get_i64(&mut b)?,
                account: get_str(&mut b)?,
                upto: get_i64(&mut b)? as u64,
            },
            4 => Op::Recall {
                app_id: get_i64(&mut b)?,
                from: get_str(&mut b)?,
                client_msg_id: get_str(&mut b)?,
            },
            5 => Op::Hide {
                app_id: get_i64(&mut b)?,
                from: get_str(&mut b)?,
                client_msg_id: get_str(&mut b)?,
                account: get_str(&mut b)?,
            },
            6 => {
                let (app_id, account, peer, upto) = (
                    get_i64(&mut b)?,
                    get_str(&mut b)?,
                    get_str(&mut b)?,
                    get_i64(&mut b)?,
                );
                match get_u8(&mut b)? {
                    flags @ 0..=3 => Op::Clear {
                        app_id,
                        account,
                        peer,
                        upto,
                        history: flags & 1 != 0,
                        sync: flags & 2 != 0,
                    },
                    _ => return None,
                }
            }
            7 => Op::SessionExt {
                app_id: get_i64(&mut b)?,
                account: get_str(&mut b)?,
                to_type: u32::try_from(get_i64(&mut b)?).ok()?,
                session_id: get_str(&mut b)?,
                ext: get_str(&mut b)?,
                time: get_i64(&mut b)?,
            },
            8 => Op::DropSession {
                app_id: get_i64(&mut b)?,
                account: get_str(&mut b)?,
                to_type: u32::try_from(get_i64(&mut b)?).ok()?,
                session_id: get_str(&mut b)?,
            },
            _ => return None,
        };
        ops.push(op);
    }
    b.is_empty().then_some(ops)
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if b.len() < n {
        return None;
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Some(head)
}

fn get_u8(b: &mut &[u8]) -> Option<u8> {
    take(b, 1).map(|x| x[0])
}

fn get_u32(b: &mut &[u8]) -> Option<u32> {
    take(b, 4).map(|x| u32::from_le_bytes(x.try_into().expect("4 bytes")))
}

fn get_i64(b: &mut &[u8]) -> Option<i64> {
    take(b, 8).map(|x| i64::from_le_bytes(x.try_into().expect("8 bytes")))
}

fn get_str(b: &mut &[u8]) -> Option<String> {
    let n = get_u32(b)? as usize;
    String::from_utf8(take(b, n)?.to_vec()).ok()
}

/// A closed segment: its file and the number of its last record.
struct Closed {
    path: PathBuf,
    last: u64,
}

/// How long [`Journal::lock`] waits for a process (or a store of this
/// process) that is closing to let go.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The journal's files, for appending.
pub(crate) struct Journal {
    /// Held while the journal is open: one process owns it.
    _lock: File,
    base: PathBuf,
    current: File,
    current_path: PathBuf,
    current_index: u64,
    current_len: u64,
    /// Number of the current segment's last record (0: it is empty).
    current_last: u64,
    closed: Vec<Closed>,
    /// Number of the next record.
    next: u64,
    buf: Vec<u8>,
}

/// What [`Journal::open`] read back.
pub(crate) struct Recovered {
    /// Records the database does not have yet, in order: (number, ops).
    pub records: Vec<(u64, Vec<Op>)>,
    /// Bytes at the end of a segment that were not a whole record.
    pub torn_bytes: u64,
}

impl Journal {
    /// The segment files of the database at `db`, in order.
    pub(crate) fn segments(db: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
        let dir = match db.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let prefix = format!(
            "{}-msgs.",
            db.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let mut out = Vec::new();
        for e in std::fs::read_dir(&dir)? {
            let e = e?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name
                .strip_prefix(&prefix)
                .and_then(|n| n.parse::<u64>().ok())
            {
                out.push((n, e.path()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Reads every segment of the database at `db`, returning the records
    /// after `ingested`. Call [`Journal::start`] once they are in the
    /// database.
    pub(crate) fn recover(db: &Path, ingested: u64) -> io::Result<Recovered> {
        let mut records = Vec::new();
        let mut torn_bytes = 0;
        let mut expected: Option<u64> = None;
        'segments: for (_, path) in Self::segments(db)? {
            let mut bytes = Vec::new();
            File::open(&path)?.read_to_end(&mut bytes)?;
            let mut b = &bytes[..];
            while !b.is_empty() {
                let Some((number, ops, used)) = read_record(b) else {
                    torn_bytes += b.len() as u64;
                    break 'segments;
                };
                b = &b[used..];
                if expected.is_some_and(|e| e != number) {
                    // A gap means a damaged journal: keep what came before.
                    torn_bytes += b.len() as u64 + used as u64;
                    break 'segments;
                }
                expected = Some(number + 1);
                if number > ingested {
                    records.push((number, ops));
                }
            }
        }
        Ok(Recovered {
            records,
            torn_bytes,
        })
    }

    /// Takes the journal of the database at `db` for this store: an
    /// exclusive lock on `<db>-msgs.lock`, held until the journal is
    /// dropped. Waits a few seconds for a store that is closing.
    pub(crate) fn lock(db: &Path) -> Result<File, String> {
        let mut name = db.as_os_str().to_owned();
        name.push("-msgs.lock");
        let path = PathBuf::from(name);
        let mut o = OpenOptions::new();
        o.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let file = o
            .open(&path)
            .map_err(|e| format!("opening {}: {e}", path.display()))?;
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    // Who holds it, for the error a second server shows.
                    let mut f = &file;
                    let _ = f
                        .set_len(0)
                        .and_then(|()| writeln!(f, "{}", std::process::id()));
                    return Ok(file);
                }
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.trim().parse::<u32>().ok())
                        .map(|pid| format!("process {pid}"))
                        .unwrap_or_else(|| "another process".into());
                    return Err(format!(
                        "the messages of {} are served by {holder} (it holds {}): stop that `magpie serve` first, or give this one its own data dir",
                        db.display(),
                        path.display()
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(format!("locking {}: {e}", path.display()))
                }
            }
        }
    }

    /// Deletes the old segments (every record is in the database, up to
    /// `last`) and starts a new journal whose first record is `last + 1`,
    /// owned through `lock` (from [`Journal::lock`]).
    pub(crate) fn start(db: &Path, last: u64, lock: File) -> io::Result<Journal> {
        let old = Self::segments(db)?;
        let index = old.last().map(|(n, _)| n + 1).unwrap_or(1);
        for (_, p) in &old {
            std::fs::remove_file(p)?;
        }
        let (current, current_path) = Self::create(db, index)?;
        Ok(Journal {
            _lock: lock,
            base: db.to_path_buf(),
            current,
            current_path,
            current_index: index,
            current_len: 0,
            current_last: 0,
            closed: Vec::new(),
            next: last + 1,
            buf: Vec::with_capacity(4096),
        })
    }

    fn create(db: &Path, index: u64) -> io::Result<(File, PathBuf)> {
        let mut name = db.as_os_str().to_owned();
        name.push(format!("-msgs.{index:06}"));
        let path = PathBuf::from(name);
        let mut o = OpenOptions::new();
        o.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        Ok((o.open(&path)?, path))
    }

    /// Appends a record of `ops`; returns its number. On an error nothing
    /// counts as written (a partial record is cut off, or ends the journal
    /// at the next open).
    pub(crate) fn append(&mut self, ops: &[Op]) -> io::Result<u64> {
        if self.current_len >= SEGMENT_BYTES {
            let index = self.current_index + 1;
            let (file, path) = Self::create(&self.base, index)?;
            let old = std::mem::replace(&mut self.current_path, path);
            self.closed.push(Closed {
                path: old,
                last: self.current_last,
            });
            self.current = file;
            self.current_index = index;
            self.current_len = 0;
            self.current_last = 0;
        }
        let number = self.next;
        self.buf.clear();
        self.buf.extend_from_slice(&[0; 8]);
        self.buf.extend_from_slice(&number.to_le_bytes());
        encode(ops, &mut self.buf);
        let len = (self.buf.len() - 16) as u32;
        let crc = crc32fast::hash(&self.buf[8..]);
        self.buf[0..4].copy_from_slice(&len.to_le_bytes());
        self.buf[4..8].copy_from_slice(&crc.to_le_bytes());
        if let Err(e) = self.current.write_all(&self.buf) {
            // Whatever part was written is cut off, so the next record
            // does not follow garbage.
            let _ = self.current.set_len(self.current_len);
            return Err(e);
        }
        self.current_len += self.buf.len() as u64;
        self.current_last = number;
        self.next += 1;
        Ok(number)
    }

    /// The database has every record up to `ingested`: delete the closed
    /// segments it covers, and start the current one over when it covers
    /// it all.
    pub(crate) fn release(&mut self, ingested: u64) -> io::Result<()> {
        while let Some(c) = self.closed.first() {
            if c.last > ingested {
                break;
            }
            std::fs::remove_file(&c.path)?;
            self.closed.remove(0);
        }
        if self.closed.is_empty() && self.current_len > 0 && self.current_last <= ingested {
            self.current.set_len(0)?;
            self.current_len = 0;
            self.current_last = 0;
        }
        Ok(())
    }

    /// Number of the last record written (0: none ever).
    #[cfg(test)]
    pub(crate) fn last(&self) -> u64 {
        self.next - 1
    }

    /// Bytes in the journal's files.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> u64 {
        self.current_len
            + self
                .closed
                .iter()
                .filter_map(|c| std::fs::metadata(&c.path).ok())
                .map(|m| m.len())
                .sum::<u64>()
    }
}

/// One record at the start of `b`: (number, ops, bytes used).
fn read_record(b: &[u8]) -> Option<(u64, Vec<Op>, usize)> {
    let mut h = b;
    let len = get_u32(&mut h)?;
    if len > MAX_RECORD {
        return None;
    }
    let crc = get_u32(&mut h)?;
    let rest = take(&mut h, 8 + len as usize)?;
    if crc32fast::hash(rest) != crc {
        return None;
    }
    let number = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
    let ops = decode(&rest[8..])?;
    Some((number, ops, 16 + len as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: i64) -> Op {
        Op::Msg {
            id,
            app_id: 1,
            from: "alice".into(),
            to: "bob".into(),
            client_msg_id: format!("c{id}"),
            time: 1_700_000_000_000 + id,
            msg_type: 0,
            history: true,
            to_seq: id as u64,
            from_seq: id as u64 + 7,
            json: format!("{{\"server_msg_id\":{id},\"msg_body\":\"hé\"}}"),
        }
    }

    fn ops() -> Vec<Op> {
        vec![
            msg(1),
            Op::Note {
                app_id: 1,
                account: "bob".into(),
                seq: 2,
                kind: 2,
                json: "{\"a\":1}".into(),
                time: 5,
                dedup: Some(("alice".into(), "n1".into())),
            },
            Op::Note {
                app_id: 2,
                account: "carol".into(),
                seq: 9,
                kind: 3,
                json: "{}".into(),
                time: 6,
                dedup: None,
            },
            Op::Delivered {
                app_id: 1,
                account: "bob".into(),
                upto: 2,
            },
            Op::Recall {
                app_id: 1,
                from: "alice".into(),
                client_msg_id: "c1".into(),
            },
            Op::Hide {
                app_id: 1,
                from: "alice".into(),
                client_msg_id: "c1".into(),
                account: "bob".into(),
            },
            Op::SessionExt {
                app_id: 1,
                account: "bob".into(),
                to_type: 0,
                session_id: "alice".into(),
                ext: "{\"x\":1}".into(),
                time: 8,
            },
            Op::DropSession {
                app_id: 1,
                account: "bob".into(),
                to_type: 1,
                session_id: "t1".into(),
            },
            Op::Clear {
                app_id: 1,
                account: "bob".into(),
                peer: "alice".into(),
                upto: 77,
                history: false,
                sync: true,
            },
        ]
    }

    #[test]
    fn ops_round_trip_and_damage_is_refused() {
        let mut b = Vec::new();
        encode(&ops(), &mut b);
        assert_eq!(decode(&b), Some(ops()));
        for cut in 0..b.len() {
            assert_eq!(decode(&b[..cut]), None, "cut at {cut}");
        }
        let mut extra = b.clone();
        extra.push(0);
        assert_eq!(decode(&extra), None);
        let mut bad = b.clone();
        bad[4] = 9; // an unknown op
        assert_eq!(decode(&bad), None);
    }

    #[test]
    fn records_survive_a_restart_and_a_torn_tail_ends_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        let mut j = Journal::start(&db, 0, Journal::lock(&db).unwrap()).unwrap();
        assert_eq!(j.append(&ops()).unwrap(), 1);
        assert_eq!(j.append(&[msg(2)]).unwrap(), 2);
        assert_eq!(j.append(&[msg(3)]).unwrap(), 3);
        drop(j);
        let r = Journal::recover(&db, 1).unwrap();
        assert_eq!(r.records, vec![(2, vec![msg(2)]), (3, vec![msg(3)])]);
        assert_eq!(r.torn_bytes, 0);
        // A process killed in the middle of a write leaves part of a record.
        let seg = Journal::segments(&db).unwrap()[0].1.clone();
        let len = std::fs::metadata(&seg).unwrap().len();
        let f = OpenOptions::new().write(true).open(&seg).unwrap();
        f.set_len(len - 3).unwrap();
        let r = Journal::recover(&db, 0).unwrap();
        assert_eq!(r.records.len(), 2);
        assert!(r.torn_bytes > 0);
        // Starting over deletes the old segments; numbers go on.
        let mut j = Journal::start(&db, 2, Journal::lock(&db).unwrap()).unwrap();
        assert_eq!(j.append(&[msg(4)]).unwrap(), 3);
        let segs = Journal::segments(&db).unwrap();
        assert_eq!(segs.len(), 1);
        assert_ne!(segs[0].1, seg);
        drop(j);
        assert_eq!(
            Journal::recover(&db, 2).unwrap().records,
            vec![(3, vec![msg(4)])]
        );
    }

    #[test]
    fn damaged_bytes_end_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        let mut j = Journal::start(&db, 0, Journal::lock(&db).unwrap()).unwrap();
        j.append(&[msg(1)]).unwrap();
        j.append(&[msg(2)]).unwrap();
        drop(j);
        let seg = Journal::segments(&db).unwrap()[0].1.clone();
        let mut bytes = std::fs::read(&seg).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 0xff;
        std::fs::write(&seg, &bytes).unwrap();
        let r = Journal::recover(&db, 0).unwrap();
        assert_eq!(r.records, vec![(1, vec![msg(1)])]);
        assert!(r.torn_bytes > 0);
    }

    #[test]
    fn segments_roll_and_are_released_once_ingested() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        let mut j = Journal::start(&db, 0, Journal::lock(&db).unwrap()).unwrap();
        let big = Op::Note {
            app_id: 1,
            account: "bob".into(),
            seq: 1,
            kind: 2,
            json: "x".repeat(1 << 20),
            time: 0,
            dedup: None,
        };
        for _ in 0..20 {
            j.append(std::slice::from_ref(&big)).unwrap();
        }
        assert!(Journal::segments(&db).unwrap().len() >= 2);
        assert_eq!(j.last(), 20);
        j.release(10).unwrap();
        assert!(
            Journal::segments(&db).unwrap().len() >= 2,
            "a closed segment holds 11.."
        );
        let r = Journal::recover(&db, 10).unwrap();
        assert_eq!(r.records.first().map(|r| r.0), Some(11));
        j.release(20).unwrap();
        assert_eq!(Journal::segments(&db).unwrap().len(), 1);
        assert_eq!(j.bytes(), 0);
        assert_eq!(j.append(std::slice::from_ref(&big)).unwrap(), 21);
    }
}
