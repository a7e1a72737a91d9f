//! Messaging scenarios: P2P throughput and latency between pairs of
//! accounts, and the sync of a backlog to a device that was offline.
//!
//! Clients speak the protocol directly (no local database), so the numbers
//! are the server's: each message is stored in the sender's and the
//! receiver's logs (group-committed), acknowledged, and pushed.

use crate::raw::{source, RawConn, RawReader, RawWriter};
use crate::server::{BenchApp, Server};
use crate::{admin_put, bar, close_server_first, provision, report, TOKEN};
use magpie_proto::msg::SyncRequest;
use magpie_proto::msg::{message_type, session_type, CursorAck, EntryBody, ImMessage, SendMsg};
use magpie_proto::types::client_type;
use magpie_proto::{ClientFrame, ResCode, ServerFrame};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// What the p2p scenario runs.
pub struct P2pArgs {
    /// Sender/receiver pairs.
    pub pairs: usize,
    /// Messages in all.
    pub messages: usize,
    /// Steady total rate (messages/s); none: as fast as acknowledged.
    pub rate: Option<u64>,
    /// Unacknowledged messages per sender.
    pub window: usize,
}

/// Filler that makes a message body the size of a short chat line.
const FILLER: &str = "the quick brown fox jumps over the lazy dog";

/// A text message whose body starts with the send time (ns after `base`).
fn message(to: &str, sender: usize, k: usize, base: Instant) -> ClientFrame {
    let nanos = base.elapsed().as_nanos();
    ClientFrame::SendMsg {
        seq: 0,
        body: Box::new(SendMsg {
            msg: ImMessage {
                to_type: session_type::P2P,
                to_accid: to.to_owned(),
                msg_type: message_type::TEXT,
                msg_body: format!("{nanos} {FILLER}"),
                client_msg_id: format!("{sender:08x}-0000-4000-8000-{k:012x}"),
                ..Default::default()
            },
        }),
    }
}

fn with_seq(f: ClientFrame, seq: u32) -> ClientFrame {
    match f {
        ClientFrame::SendMsg { body, .. } => ClientFrame::SendMsg { seq, body },
        other => other,
    }
}

async fn login(srv: &Server, app: &BenchApp, acct: &str, i: usize) -> anyhow::Result<RawConn> {
    let mut c = RawConn::connect(srv.client, source(i, 1)).await?;
    let code = c
        .login(
            &app.key,
            acct,
            TOKEN,
            &format!("d-{acct}"),
            client_type::PC_WINDOWS,
        )
        .await?;
    anyhow::ensure!(code == ResCode::SUCCESS, "login of {acct}: {code}");
    Ok(c)
}

/// Sends `n` messages to `to`, at most `window` unacknowledged, paced by
/// `every` when given; returns how many acks were not 200.
async fn send_stream(
    c: RawConn,
    to: String,
    sender: usize,
    n: usize,
    window: usize,
    every: Option<Duration>,
    base: Instant,
) -> anyhow::Result<u64> {
    let (mut r, mut w) = c.split();
    let credits = Arc::new(Semaphore::new(window.max(1)));
    let acks = {
        let credits = credits.clone();
        tokio::spawn(async move {
            let mut failed = 0u64;
            let mut got = 0;
            while got < n {
                if let ServerFrame::SendMsgAck { body, .. } = r.recv().await? {
                    got += 1;
                    if body.rescode != ResCode::SUCCESS {
                        failed += 1;
                    }
                    credits.add_permits(1);
                }
            }
            Ok::<_, anyhow::Error>(failed)
        })
    };
    // Senders start spread over one period, so a steady rate is steady and
    // not a burst from every sender at once.
    let mut pace = every.map(|d| {
        let offset = d.mul_f64(sender as f64 * 0.618_033_988_7 % 1.0);
        let mut i = tokio::time::interval_at(tokio::time::Instant::now() + offset, d);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        i
    });
    for k in 0..n {
        if let Some(p) = pace.as_mut() {
            p.tick().await;
        }
        match credits.try_acquire() {
            Ok(p) => p.forget(),
            Err(_) => {
                w.flush().await?;
                credits.acquire().await?.forget();
            }
        }
        let seq = w.next_seq();
        w.push(&with_seq(message(&to, sender, k, base), seq))?;
        if pace.is_some() {
            w.flush().await?;
        }
    }
    w.flush().await?;
    let failed = acks.await??;
    // Keep the connection open until every ack is in.
    drop(w);
    Ok(failed)
}

/// Reads `n` messages; their delivery latencies (from the send time in the
/// body). Reports the log position back every 256 entries, as a device does.
async fn receive_stream(
    c: RawConn,
    n: usize,
    base: Instant,
    delivered: Arc<AtomicU64>,
) -> anyhow::Result<Vec<Duration>> {
    let (mut r, mut w): (RawReader, RawWriter) = c.split();
    let mut lat = Vec::with_capacity(n);
    let mut last_seq = 0u64;
    while lat.len() < n {
        if let ServerFrame::Entry { body } = r.recv().await? {
            let now = base.elapsed();
            let e = body.into_entry()?;
            anyhow::ensure!(
                e.seq == last_seq + 1 || last_seq == 0,
                "gap: {} after {last_seq}",
                e.seq
            );
            last_seq = e.seq;
            if let EntryBody::Msg { msg } = e.body {
                let sent: u64 = msg
                    .msg_body
                    .split(' ')
                    .next()
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| anyhow::anyhow!("body without a time"))?;
                lat.push(now.saturating_sub(Duration::from_nanos(sent)));
                delivered.fetch_add(1, Ordering::Relaxed);
                if lat.len() % 256 == 0 || lat.len() == n {
                    let seq = w.next_seq();
                    w.push(&ClientFrame::CursorAck {
                        seq,
                        body: CursorAck { cursor: e.seq },
                    })?;
                    w.flush().await?;
                }
            }
        }
    }
    Ok(lat)
}

/// The p2p scenario.
pub async fn p2p(srv: &mut Server, app: &BenchApp, a: P2pArgs) -> anyhow::Result<Value> {
    let pairs = a.pairs.clamp(1, a.messages.max(1));
    provision(srv, app, "s", pairs).await?;
    provision(srv, app, "r", pairs).await?;
    admin_put(
        srv,
        app,
        "/magpie/v1/app/messaging",
        json!({"sends_per_minute": 0}),
    )
    .await?;
    let pb = bar(2 * pairs as u64, "login");
    let mut conns = Vec::with_capacity(pairs);
    for i in 0..pairs {
        let s = login(srv, app, &format!("s{i}"), i).await?;
        let r = login(srv, app, &format!("r{i}"), i).await?;
        pb.inc(2);
        conns.push((s, r));
    }
    pb.finish_and_clear();
    let every = a
        .rate
        .map(|r| Duration::from_secs_f64(pairs as f64 / r.max(1) as f64));
    let base = Instant::now();
    let delivered = Arc::new(AtomicU64::new(0));
    let cpu0 = srv.cpu();
    let t0 = Instant::now();
    let mut senders = Vec::with_capacity(pairs);
    let mut receivers = Vec::with_capacity(pairs);
    for (i, (s, r)) in conns.into_iter().enumerate() {
        let n = a.messages / pairs + usize::from(i < a.messages % pairs);
        receivers.push(tokio::spawn(receive_stream(r, n, base, delivered.clone())));
        senders.push(tokio::spawn(send_stream(
            s,
            format!("r{i}"),
            i,
            n,
            a.window,
            every,
            base,
        )));
    }
    let pb = bar(a.messages as u64, "delivered");
    let progress = {
        let (pb, delivered) = (pb.clone(), delivered.clone());
        tokio::spawn(async move {
            loop {
                pb.set_position(delivered.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let (mut failed, mut errors) = (0u64, Vec::new());
    for s in senders {
        match s.await? {
            Ok(f) => failed += f,
            Err(e) => errors.push(format!("sender: {e}")),
        }
    }
    let mut lat = Vec::with_capacity(a.messages);
    for r in receivers {
        match tokio::time::timeout(Duration::from_secs(60), r).await {
            Ok(Ok(Ok(l))) => lat.extend(l),
            Ok(Ok(Err(e))) => errors.push(format!("receiver: {e}")),
            Ok(Err(e)) => errors.push(format!("receiver: {e}")),
            Err(_) => errors.push("receiver: timed out".into()),
        }
    }
    let wall = t0.elapsed();
    let cpu = srv.cpu() - cpu0;
    progress.abort();
    pb.finish_and_clear();
    close_server_first(srv).await;
    errors.truncate(5);
    let got = lat.len();
    let complete = got == a.messages && failed == 0 && errors.is_empty();
    Ok(json!({
        "complete": complete,
        "pairs": pairs, "messages": a.messages, "window": a.window,
        "mode": match a.rate { Some(r) => format!("steady {r} msg/s"), None => "saturated".into() },
        "delivered": got, "send_failures": failed, "errors": errors,
        "wall_s": wall.as_secs_f64(),
        "delivered_per_s": (got as f64 / wall.as_secs_f64()).round(),
        "latency": report::latency(lat),
        "server_cpu_s": cpu,
        "server_cpu_us_per_message": (cpu * 1e7 / got.max(1) as f64).round() / 10.0,
        "server_cpu_share": (cpu / wall.as_secs_f64() * 100.0).round() / 100.0,
    }))
}

/// One device's sync of the backlog.
struct SyncRun {
    login: Duration,
    wall: Duration,
    cpu: f64,
    batches: usize,
}

/// The offline-sync scenario: `n` messages wait for a device; `devices`
/// fresh devices of the receiver then each log in and sync them all.
pub async fn offline_sync(
    srv: &mut Server,
    app: &BenchApp,
    n: usize,
    devices: usize,
) -> anyhow::Result<Value> {
    provision(srv, app, "o", 2).await?;
    admin_put(
        srv,
        app,
        "/magpie/v1/app/messaging",
        json!({"sends_per_minute": 0}),
    )
    .await?;
    let sender = login(srv, app, "o0", 0).await?;
    let pb = bar(n as u64, "send");
    let t = Instant::now();
    let failed = send_stream(sender, "o1".into(), 0, n, 64, None, Instant::now()).await?;
    let send_wall = t.elapsed();
    pb.finish_and_clear();
    anyhow::ensure!(failed == 0, "{failed} sends failed");
    let mut runs = Vec::with_capacity(devices);
    let pb = bar(devices as u64, "sync");
    for d in 0..devices.max(1) {
        let cpu0 = srv.cpu();
        let t0 = Instant::now();
        let mut c = RawConn::connect(srv.client, source(0, 1)).await?;
        let code = c
            .login(
                &app.key,
                "o1",
                TOKEN,
                &format!("dev{d}"),
                client_type::ANDROID,
            )
            .await?;
        anyhow::ensure!(code == ResCode::SUCCESS, "login: {code}");
        let logged_in = t0.elapsed();
        let (mut cursor, mut batches, mut entries) = (0u64, 0usize, 0usize);
        let mut seq = 100u32;
        loop {
            seq += 1;
            c.send(&ClientFrame::Sync {
                seq,
                body: SyncRequest { cursor, limit: 500 },
            })
            .await?;
            let batch = loop {
                if let ServerFrame::SyncBatch { body, .. } = c.recv().await? {
                    break body;
                }
            };
            anyhow::ensure!(batch.code == ResCode::SUCCESS, "sync: {}", batch.code);
            if batch.entries.is_empty() {
                break;
            }
            batches += 1;
            for e in batch.entries {
                let e = e.into_entry()?;
                anyhow::ensure!(e.seq == cursor + 1, "gap: {} after {cursor}", e.seq);
                cursor = e.seq;
                entries += 1;
            }
        }
        seq += 1;
        c.send(&ClientFrame::CursorAck {
            seq,
            body: CursorAck { cursor },
        })
        .await?;
        let wall = t0.elapsed();
        let cpu = srv.cpu() - cpu0;
        anyhow::ensure!(entries == n, "synced {entries} of {n}");
        runs.push(SyncRun {
            login: logged_in,
            wall,
            cpu,
            batches,
        });
        pb.inc(1);
        drop(c);
    }
    pb.finish_and_clear();
    close_server_first(srv).await;
    let k = runs.len() as f64;
    let mean = |f: &dyn Fn(&SyncRun) -> f64| runs.iter().map(f).sum::<f64>() / k;
    let cpu = mean(&|r| r.cpu);
    Ok(json!({
        "messages": n, "devices": runs.len(),
        "send_per_s": (n as f64 / send_wall.as_secs_f64()).round(),
        "batches_per_device": runs[0].batches,
        "login_ms_mean": (mean(&|r| r.login.as_secs_f64()) * 1e4).round() / 10.0,
        "sync_wall_ms_mean": (mean(&|r| r.wall.as_secs_f64()) * 1e4).round() / 10.0,
        "sync_wall_ms_max": (runs.iter().map(|r| r.wall.as_secs_f64()).fold(0.0, f64::max) * 1e4).round() / 10.0,
        "server_cpu_ms_per_device": (cpu * 1e4).round() / 10.0,
        "server_cpu_us_per_message": (cpu * 1e7 / n.max(1) as f64).round() / 10.0,
    }))
}
