//! The server's log: it can neither panic nor block the server.
//!
//! A log line is handed to a bounded queue and written to stderr by a thread
//! of its own. When stderr's reader is gone (`magpie serve 2>&1 | tee log`
//! and `tee` died) or stops reading (a full pipe), lines are dropped and
//! counted ([`dropped_lines`], the `magpie_log_lines_dropped` metric)
//! instead of panicking the task that logged (what `eprintln!` and the
//! default `fmt` writer do on a failed write) or stalling it.
//!
//! `tracing-appender`'s non-blocking writer does most of this, but its
//! guard prints to stdout with `println!` when the queue is full at shutdown,
//! which panics when stdout is gone too; this module is the small part of it
//! that the server needs.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::OnceLock;
use std::time::Duration;

/// Log lines queued for stderr before further ones are dropped.
const QUEUE_LINES: usize = 16_384;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, fields as keys (for log collectors).
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("log format {s:?}: write text or json")),
        }
    }
}

static DROPPED: AtomicU64 = AtomicU64::new(0);
static SINK: OnceLock<SyncSender<Item>> = OnceLock::new();

enum Item {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
}

/// Log lines dropped since start: the queue was full (stderr not read fast
/// enough) or writing to stderr failed (its reader is gone).
pub fn dropped_lines() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// The writer `tracing_subscriber::fmt` formats each event into (one
/// `write_all` per event).
#[derive(Clone)]
struct QueueWriter(SyncSender<Item>);

impl Write for QueueWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.try_send(Item::Line(buf.to_vec())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for QueueWriter {
    type Writer = QueueWriter;
    fn make_writer(&'a self) -> QueueWriter {
        self.clone()
    }
}

fn write_out(rx: Receiver<Item>) {
    let stderr = std::io::stderr();
    for item in rx {
        match item {
            Item::Line(l) => {
                if stderr.lock().write_all(&l).is_err() {
                    DROPPED.fetch_add(1, Ordering::Relaxed);
                }
            }
            Item::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// Installs the global subscriber: `filter` in `RUST_LOG` syntax
/// (`RUST_LOG` wins when set), lines in `format`, written through the
/// queue. Fails when a subscriber is already installed.
pub fn init(filter: &str, format: LogFormat) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .map_err(|e| anyhow::anyhow!("log filter {filter:?}: {e}; write it in RUST_LOG syntax, for example info or magpie_server=debug"))?;
    let (tx, rx) = mpsc::sync_channel(QUEUE_LINES);
    std::thread::Builder::new()
        .name("magpie-log".into())
        .spawn(move || write_out(rx))?;
    let writer = QueueWriter(tx.clone());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .log_internal_errors(false);
    let res = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    res.map_err(|e| anyhow::anyhow!("installing the logger: {e}"))?;
    let _ = SINK.set(tx);
    Ok(())
}

/// Waits up to `timeout` for the lines queued so far to be written (at the
/// end of `magpie serve`); gives up silently when stderr is stuck.
pub fn flush(timeout: Duration) {
    if let Some(tx) = SINK.get() {
        let (done, wait) = mpsc::sync_channel(1);
        if tx.try_send(Item::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(timeout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let (tx, _rx) = mpsc::sync_channel(2);
        let mut w = QueueWriter(tx);
        let before = dropped_lines();
        for _ in 0..5 {
            assert_eq!(w.write(b"line\n").unwrap(), 5);
        }
        assert!(dropped_lines() >= before + 3);
    }

    #[test]
    fn a_gone_writer_thread_drops_and_counts() {
        let (tx, rx) = mpsc::sync_channel(2);
        drop(rx);
        let mut w = QueueWriter(tx);
        let before = dropped_lines();
        w.write_all(b"line\n").unwrap();
        assert!(dropped_lines() > before);
    }

    #[test]
    fn formats_parse_with_a_clear_refusal() {
        assert_eq!("json".parse::<LogFormat>().unwrap(), LogFormat::Json);
        assert_eq!("TEXT".parse::<LogFormat>().unwrap(), LogFormat::Text);
        assert!("yaml"
            .parse::<LogFormat>()
            .unwrap_err()
            .contains("text or json"));
    }
}
