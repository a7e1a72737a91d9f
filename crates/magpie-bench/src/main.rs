//! `magpie-bench`: load scenarios against a real `magpie serve` process.
//!
//! Every scenario starts its own server (a child process on ephemeral ports,
//! over a fresh data dir), provisions accounts through the admin API's bulk
//! path, runs, and reports throughput, latency, and the server's CPU time per
//! operation and memory, read from /proc for the server's pid.

mod messages;
mod raw;
mod report;
mod server;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use magpie_admin_client::{AdminClient, Method};
use magpie_client::{Client, ClientOptions, LoginParams};
use magpie_proto::types::client_type;
use magpie_proto::ResCode;
use raw::{source, RawConn};
use serde_json::{json, Value};
use server::{BenchApp, Server};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Mutex, Semaphore};

/// Load scenarios against a Magpie server started for the run.
#[derive(Parser)]
#[command(name = "magpie-bench", version, about)]
struct Cli {
    /// The `magpie` binary to run [default: next to this one].
    #[arg(long, global = true)]
    magpie: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// Loopback source addresses to spread client connections over
    /// (127.0.0.1, 127.0.0.2, ...) [default: one per 20,000 connections].
    #[arg(long, global = true)]
    sources: Option<usize>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// N distinct accounts log in and stay: logins/s, latency, CPU per login.
    LoginStorm {
        /// Clients (accounts).
        #[arg(long, default_value_t = 10_000)]
        clients: usize,
        /// Logins in flight at once.
        #[arg(long, default_value_t = 1_000)]
        concurrency: usize,
    },
    /// N authenticated connections held with heartbeats: memory per connection.
    Idle {
        /// Connections.
        #[arg(long, default_value_t = 19_000)]
        clients: usize,
        /// Seconds to hold them idle before measuring.
        #[arg(long, default_value_t = 15)]
        hold: u64,
    },
    /// Time from a new login to the old device's kick-out, single policy.
    Kick {
        /// Accounts, each kicked once.
        #[arg(long, default_value_t = 1_000)]
        accounts: usize,
        /// Accounts in flight at once.
        #[arg(long, default_value_t = 50)]
        concurrency: usize,
    },
    /// N SDK clients logged in; the server is killed and restarted: time until all are back.
    ReconnectStorm {
        /// SDK clients.
        #[arg(long, default_value_t = 10_000)]
        clients: usize,
        /// Stop the server with SIGTERM instead of SIGKILL.
        #[arg(long)]
        graceful: bool,
    },
    /// Senders and receivers in pairs, one account each: P2P messages stored,
    /// acknowledged and delivered; msg/s, CPU per message, delivery latency.
    /// Without --rate, senders pipeline as fast as the server acknowledges.
    P2p {
        /// Sender/receiver pairs.
        #[arg(long, default_value_t = 200)]
        pairs: usize,
        /// Messages in all.
        #[arg(long, default_value_t = 200_000)]
        messages: usize,
        /// Steady total rate in messages per second (spread over the senders).
        #[arg(long)]
        rate: Option<u64>,
        /// Unacknowledged messages each sender may have in flight.
        #[arg(long, default_value_t = 32)]
        window: usize,
    },
    /// Messages sent to an offline account, then one device logs in and
    /// syncs them all in batches: server CPU and wall time of the sync.
    OfflineSync {
        /// Messages waiting for the device.
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        /// Fresh devices that each sync the whole backlog (results averaged).
        #[arg(long, default_value_t = 5)]
        devices: usize,
    },
}

pub(crate) const TOKEN: &str = "bench-token";

pub(crate) fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_owned());
    pb
}

fn admin(srv: &Server, app: &BenchApp) -> anyhow::Result<AdminClient> {
    Ok(AdminClient::new(&srv.admin, &app.key, &app.secret)?)
}

pub(crate) async fn provision(
    srv: &Server,
    app: &BenchApp,
    prefix: &str,
    n: usize,
) -> anyhow::Result<()> {
    let pb = bar(n as u64, "provision");
    let accounts: Vec<(String, String)> = (0..n)
        .map(|i| (format!("{prefix}{i}"), TOKEN.to_owned()))
        .collect();
    let done = admin(srv, app)?
        .create_accounts(&accounts, |n| pb.set_position(n as u64))
        .await?;
    pb.finish_and_clear();
    if let Err(v) = done {
        anyhow::bail!("provisioning failed: {v}");
    }
    Ok(())
}

pub(crate) async fn admin_put(
    srv: &Server,
    app: &BenchApp,
    path: &str,
    body: Value,
) -> anyhow::Result<()> {
    let v = admin(srv, app)?
        .json(Method::PUT, path, Some(&body))
        .await?;
    anyhow::ensure!(v["code"] == 200, "admin call failed: {v}");
    Ok(())
}

fn spread(cli_sources: Option<usize>, conns: usize) -> usize {
    cli_sources.unwrap_or(1 + conns / 20_000).clamp(1, 250)
}

/// Stops the server before the clients close, so TIME_WAIT lands on the
/// server's side and the next run finds the client's ephemeral ports free.
pub(crate) async fn close_server_first(srv: &mut Server) {
    let _ = srv.stop(false).await;
}

/// Receives every task's result until all senders are gone, ticking the bar:
/// the successes, and how many failed.
async fn collect<T>(
    rx: &mut mpsc::UnboundedReceiver<anyhow::Result<T>>,
    pb: &ProgressBar,
) -> (Vec<T>, usize) {
    let (mut ok, mut errors) = (Vec::new(), 0);
    while let Some(r) = rx.recv().await {
        pb.inc(1);
        match r {
            Ok(v) => ok.push(v),
            Err(_) => errors += 1,
        }
    }
    pb.finish_and_clear();
    (ok, errors)
}

async fn login_storm(
    srv: &mut Server,
    app: &BenchApp,
    n: usize,
    concurrency: usize,
    sources: usize,
) -> anyhow::Result<Value> {
    provision(srv, app, "s", n).await?;
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let held = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let (tx, mut rx) = mpsc::unbounded_channel::<Result<(Duration, ResCode), String>>();
    let pb = bar(n as u64, "login");
    let cpu0 = srv.cpu();
    let t0 = Instant::now();
    for i in 0..n {
        let permit = sem.clone().acquire_owned().await?;
        let (addr, key, tx, held) = (srv.client, app.key.clone(), tx.clone(), held.clone());
        tokio::spawn(async move {
            let start = Instant::now();
            let r = async {
                let mut c = RawConn::connect(addr, source(i, sources)).await?;
                let code = c
                    .login(
                        &key,
                        &format!("s{i}"),
                        TOKEN,
                        &format!("d{i}"),
                        client_type::PC_WINDOWS,
                    )
                    .await?;
                Ok::<_, anyhow::Error>((c, code))
            }
            .await;
            drop(permit);
            let _ = tx.send(match r {
                Ok((c, code)) => {
                    held.lock().await.push(c);
                    Ok((start.elapsed(), code))
                }
                Err(e) => Err(e.to_string()),
            });
        });
    }
    drop(tx);
    let mut lat = Vec::with_capacity(n);
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(r) = rx.recv().await {
        pb.inc(1);
        match r {
            Ok((d, code)) => {
                *codes.entry(code.0.to_string()).or_default() += 1;
                if code == ResCode::SUCCESS {
                    lat.push(d);
                }
            }
            Err(e) => *codes.entry(format!("error: {e}")).or_default() += 1,
        }
    }
    let wall = t0.elapsed();
    let cpu = srv.cpu() - cpu0;
    pb.finish_and_clear();
    let ok = lat.len();
    let held_n = held.lock().await.len();
    close_server_first(srv).await;
    Ok(json!({
        "clients": n, "concurrency": concurrency, "source_addresses": sources,
        "logins_ok": ok, "connections_held": held_n,
        "wall_s": wall.as_secs_f64(),
        "logins_per_s": (ok as f64 / wall.as_secs_f64()).round(),
        "latency": report::latency(lat),
        "codes": codes,
        "server_cpu_s": cpu,
        "server_cpu_us_per_login": (cpu * 1e6 / ok.max(1) as f64).round(),
        "bench_cpu_s": server::cpu_secs(std::process::id()),
    }))
}

async fn idle(
    srv: &mut Server,
    app: &BenchApp,
    n: usize,
    hold: u64,
    sources: usize,
) -> anyhow::Result<Value> {
    provision(srv, app, "i", n).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss0 = srv.rss();
    let cpu0 = srv.cpu();
    let pb = bar(n as u64, "connect");
    let sem = Arc::new(Semaphore::new(500));
    let (tx, mut rx) = mpsc::unbounded_channel::<anyhow::Result<RawConn>>();
    for i in 0..n {
        let permit = sem.clone().acquire_owned().await?;
        let (addr, key, tx) = (srv.client, app.key.clone(), tx.clone());
        tokio::spawn(async move {
            let r = tokio::time::timeout(Duration::from_secs(20), async {
                let mut c = RawConn::connect(addr, source(i, sources)).await?;
                let code = c
                    .login(
                        &key,
                        &format!("i{i}"),
                        TOKEN,
                        &format!("d{i}"),
                        client_type::WEB,
                    )
                    .await?;
                anyhow::ensure!(code == ResCode::SUCCESS, "login {code}");
                Ok(c)
            })
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("timed out")));
            drop(permit);
            let _ = tx.send(r);
        });
    }
    drop(tx);
    let (conns, errors) = collect(&mut rx, &pb).await;
    let established = conns.len();
    // Hold them idle with heartbeats every 5 s, each connection its own task;
    // a task that loses its connection counts itself dead.
    let dead = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(established);
    for mut c in conns {
        let dead = dead.clone();
        tasks.push(tokio::spawn(async move {
            let mut next_ping = tokio::time::Instant::now() + Duration::from_secs(5);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(next_ping) => {
                        if c.ping().await.is_err() { break; }
                        next_ping += Duration::from_secs(5);
                    }
                    r = c.recv() => if r.is_err() { break; },
                }
            }
            dead.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }));
    }
    let pb = bar(hold, "hold (s)");
    for _ in 0..hold {
        tokio::time::sleep(Duration::from_secs(1)).await;
        pb.inc(1);
    }
    pb.finish_and_clear();
    let rss1 = srv.rss();
    let cpu = srv.cpu() - cpu0;
    let alive = established - dead.load(std::sync::atomic::Ordering::Relaxed);
    close_server_first(srv).await;
    for t in tasks {
        t.abort();
    }
    let per = (rss1.saturating_sub(rss0)) as f64 / established.max(1) as f64;
    Ok(json!({
        "clients": n, "established": established, "errors": errors, "alive_at_end": alive,
        "hold_s": hold, "source_addresses": sources,
        "server_rss_before_mib": rss0 as f64 / 1048576.0,
        "server_rss_after_mib": rss1 as f64 / 1048576.0,
        "server_bytes_per_connection": per.round(),
        "server_cpu_s": cpu,
    }))
}

async fn kick(srv: &Server, app: &BenchApp, n: usize, concurrency: usize) -> anyhow::Result<Value> {
    provision(srv, app, "k", n).await?;
    admin_put(
        srv,
        app,
        "/magpie/v1/app/device_policy",
        json!({"mode": "single"}),
    )
    .await?;
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let (tx, mut rx) = mpsc::unbounded_channel::<anyhow::Result<Duration>>();
    let pb = bar(n as u64, "kick");
    let cpu0 = srv.cpu();
    for i in 0..n {
        let permit = sem.clone().acquire_owned().await?;
        let (addr, key, tx) = (srv.client, app.key.clone(), tx.clone());
        tokio::spawn(async move {
            let r = async {
                let acct = format!("k{i}");
                let mut a = RawConn::connect(addr, source(i, 1)).await?;
                anyhow::ensure!(
                    a.login(&key, &acct, TOKEN, "old", client_type::PC_WINDOWS)
                        .await?
                        == ResCode::SUCCESS
                );
                let mut b = RawConn::connect(addr, source(i, 1)).await?;
                b.hello().await?;
                let t0 = Instant::now();
                let kicked = async {
                    loop {
                        if let magpie_proto::ServerFrame::Kickout { body } = a.recv().await? {
                            return Ok::<_, anyhow::Error>((t0.elapsed(), body.reason_code));
                        }
                    }
                };
                let (login, kick) = tokio::join!(
                    b.login(&key, &acct, TOKEN, "new", client_type::ANDROID),
                    kicked
                );
                anyhow::ensure!(login? == ResCode::SUCCESS);
                let (d, reason) = kick?;
                anyhow::ensure!(reason == 1, "reason {reason}");
                Ok(d)
            }
            .await;
            drop(permit);
            let _ = tx.send(r);
        });
    }
    drop(tx);
    let (lat, errors) = collect(&mut rx, &pb).await;
    let cpu = srv.cpu() - cpu0;
    Ok(json!({
        "accounts": n, "concurrency": concurrency, "errors": errors,
        "kick_latency": report::latency(lat),
        "server_cpu_s": cpu,
        "server_cpu_us_per_account": (cpu * 1e6 / n.max(1) as f64).round(),
    }))
}

async fn reconnect_storm(
    srv: &mut Server,
    app: &BenchApp,
    n: usize,
    graceful: bool,
) -> anyhow::Result<Value> {
    provision(srv, app, "r", n).await?;
    let data = tempfile::tempdir()?;
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, magpie_client::LoginRes, Instant)>();
    let mut clients = Vec::with_capacity(n);
    for i in 0..n {
        let opts = ClientOptions::new(srv.client.to_string())
            .with_device_id(format!("d{i}"))
            .with_runtime(tokio::runtime::Handle::current());
        let c = Client::init(data.path().join(i.to_string()), opts)?;
        let tx = tx.clone();
        c.on_auto_relogin(move |r| {
            let _ = tx.send((i, r.clone(), Instant::now()));
        });
        clients.push(c);
    }
    let pb = bar(n as u64, "login");
    let sem = Arc::new(Semaphore::new(500));
    let mut joins = Vec::with_capacity(n);
    for (i, c) in clients.iter().enumerate() {
        let permit = sem.clone().acquire_owned().await?;
        let (c, key, pb) = (c.clone(), app.key.clone(), pb.clone());
        joins.push(tokio::spawn(async move {
            let r = c
                .login(&key, &format!("r{i}"), TOKEN, LoginParams::default())
                .await;
            drop(permit);
            pb.inc(1);
            r.is_success()
        }));
    }
    let mut logged = 0;
    for j in joins {
        logged += usize::from(j.await.unwrap_or(false));
    }
    pb.finish_and_clear();
    anyhow::ensure!(logged == n, "only {logged} of {n} clients logged in");
    let down = Instant::now();
    srv.stop(!graceful).await?;
    srv.restart().await?;
    let up = Instant::now();
    let cpu0 = srv.cpu();
    let pb = bar(n as u64, "back");
    let mut back: Vec<Option<Duration>> = vec![None; n];
    let (mut failed_attempts, mut gave_up) = (0usize, 0usize);
    let deadline = up + Duration::from_secs(120);
    let mut remaining = n;
    while remaining > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some((i, r, at))) = tokio::time::timeout(left, rx.recv()).await else {
            break;
        };
        if r.is_success() {
            if back[i].is_none() {
                back[i] = Some(at.saturating_duration_since(up));
                remaining -= 1;
                pb.inc(1);
            }
        } else if r.retrying {
            failed_attempts += 1;
        } else {
            gave_up += 1;
        }
    }
    pb.finish_and_clear();
    let all_back = Instant::now().saturating_duration_since(up);
    let cpu = srv.cpu() - cpu0;
    let times: Vec<Duration> = back.iter().flatten().copied().collect();
    let returned = times.len();
    Ok(json!({
        "clients": n, "stop": if graceful { "SIGTERM" } else { "SIGKILL" },
        "server_down_s": (up - down).as_secs_f64(),
        "back": returned, "gave_up": gave_up, "failed_attempts": failed_attempts,
        "all_back_after_s": all_back.as_secs_f64(),
        "back_after_restart": report::latency(times),
        "server_cpu_s": cpu,
        "server_cpu_us_per_relogin": (cpu * 1e6 / returned.max(1) as f64).round(),
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let bin = match cli.magpie {
        Some(b) => b,
        None => std::env::current_exe()?.with_file_name("magpie"),
    };
    anyhow::ensure!(
        bin.exists(),
        "{} not found: build it (cargo build --release) or pass --magpie",
        bin.display()
    );
    let limit = rlimit::increase_nofile_limit(u64::MAX).context("raising the open-file limit")?;
    eprintln!("open-file limit raised to {limit} (the hard limit) for this process and the server");
    let want = match &cli.scenario {
        Scenario::LoginStorm { clients, .. }
        | Scenario::Idle { clients, .. }
        | Scenario::ReconnectStorm { clients, .. } => *clients,
        Scenario::Kick { accounts, .. } => 2 * accounts.min(&1000),
        Scenario::P2p { pairs, .. } => 2 * pairs,
        Scenario::OfflineSync { .. } => 2,
    };
    if want as u64 + 100 > limit {
        eprintln!("warning: {want} connections need more than the open-file limit of {limit} allows per process; expect errors past it");
    }
    let dir = tempfile::tempdir()?;
    // The load comes from a few loopback addresses: the limits meant for
    // strangers (logins per account, connections not yet logged in per
    // address) would measure themselves instead of the server.
    let env = vec![
        (
            "MAGPIE_LOGIN_LIMITS__PER_ACCOUNT_PER_SEC".to_owned(),
            "0".to_owned(),
        ),
        (
            "MAGPIE_MAX_PRE_LOGIN_PER_IP".to_owned(),
            "1000000".to_owned(),
        ),
    ];
    let (mut srv, app) = Server::start(&bin, dir.path(), env).await?;
    let (name, result) = match cli.scenario {
        Scenario::LoginStorm {
            clients,
            concurrency,
        } => (
            "login-storm",
            login_storm(
                &mut srv,
                &app,
                clients,
                concurrency,
                spread(cli.sources, clients),
            )
            .await?,
        ),
        Scenario::Idle { clients, hold } => (
            "idle",
            idle(&mut srv, &app, clients, hold, spread(cli.sources, clients)).await?,
        ),
        Scenario::Kick {
            accounts,
            concurrency,
        } => ("kick", kick(&srv, &app, accounts, concurrency).await?),
        Scenario::ReconnectStorm { clients, graceful } => (
            "reconnect-storm",
            reconnect_storm(&mut srv, &app, clients, graceful).await?,
        ),
        Scenario::P2p {
            pairs,
            messages,
            rate,
            window,
        } => (
            "p2p",
            messages::p2p(
                &mut srv,
                &app,
                messages::P2pArgs {
                    pairs,
                    messages,
                    rate,
                    window,
                },
            )
            .await?,
        ),
        Scenario::OfflineSync { messages, devices } => (
            "offline-sync",
            messages::offline_sync(&mut srv, &app, messages, devices).await?,
        ),
    };
    let out = json!({"scenario": name, "machine": report::machine(), "result": result});
    report::table(&format!("magpie-bench {name}"), &out["result"]);
    if let Some(path) = cli.json {
        std::fs::write(&path, serde_json::to_string_pretty(&out)?)?;
        eprintln!("wrote {}", path.display());
    }
    if srv.running() {
        let _ = srv.stop(false).await;
    }
    anyhow::ensure!(
        out["result"]["complete"] != false,
        "the run did not complete: some messages were not acknowledged or delivered"
    );
    Ok(())
}
