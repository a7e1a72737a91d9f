//! A reconnect storm: 1,000 SDK clients logged in, the server restarts, and
//! every client comes back by itself, spread out by the jittered backoff.

use magpie_client::{Backoff, Client, ClientOptions, LoginParams};
use magpie_store::{AccountId, AccountStore, AppStore, NewAccount, TokenHash};
use magpie_testkit::*;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const CLIENTS: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_storm_of_1000_clients_all_come_back() {
    let mut s = TestServer::start().await;
    let app = s.app("storm").await;
    let app_id = s.store.app_by_key(&app.key).await.unwrap().unwrap().id;
    let hash = TokenHash::new("storm-token");
    for i in 0..CLIENTS {
        let a = NewAccount::new(AccountId::parse(&format!("u{i}")).unwrap(), hash.clone());
        s.store.create_account(app_id, a).await.unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, magpie_client::LoginRes, Instant)>();
    let mut clients = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        let opts = ClientOptions::new(s.addr().to_string())
            .with_device_id(format!("dev-{i}"))
            .with_reconnect(Backoff::default())
            .with_runtime(tokio::runtime::Handle::current());
        let c = Client::init(data.path().join(i.to_string()), opts).unwrap();
        let tx = tx.clone();
        c.on_auto_relogin(move |r| {
            let _ = tx.send((i, r.clone(), Instant::now()));
        });
        clients.push(c);
    }
    // Log everyone in, 100 at a time.
    for chunk in clients.chunks(100).enumerate() {
        let (n, chunk) = chunk;
        let logins = chunk.iter().enumerate().map(|(j, c)| {
            let key = app.key.clone();
            let acct = format!("u{}", n * 100 + j);
            async move {
                c.login(&key, &acct, "storm-token", LoginParams::default())
                    .await
            }
        });
        for r in futures::future::join_all(logins).await {
            assert!(r.is_success(), "{r:?}");
        }
    }
    // Restart: the server goes away for half a second and comes back on the same address.
    let down = Instant::now();
    let addrs = s.stop().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.start_on(addrs).await;
    let up = Instant::now();
    let mut back = vec![None::<Duration>; CLIENTS];
    let mut failed_attempts = 0usize;
    let mut gave_up = Vec::new();
    let deadline = up + Duration::from_secs(30);
    while back.iter().any(Option::is_none) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some((i, r, at))) = tokio::time::timeout(left, rx.recv()).await else {
            let missing = back.iter().filter(|b| b.is_none()).count();
            panic!("{missing} clients were not back within 30 s of the restart");
        };
        if r.is_success() {
            back[i].get_or_insert(at.duration_since(up.min(at)));
        } else if r.retrying {
            failed_attempts += 1;
        } else {
            gave_up.push((i, r));
        }
    }
    assert!(gave_up.is_empty(), "clients gave up: {gave_up:?}");
    let mut t: Vec<Duration> = back.into_iter().map(Option::unwrap).collect();
    t.sort();
    let pct = |p: f64| t[((t.len() as f64 - 1.0) * p).round() as usize];
    println!("reconnect storm: {CLIENTS} clients, server down {:?}, failed attempts while down {failed_attempts}", up - down);
    println!("| after restart | min | p10 | p50 | p90 | p99 | max |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| back online | {:?} | {:?} | {:?} | {:?} | {:?} | {:?} |",
        t[0],
        pct(0.10),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        t[t.len() - 1]
    );
    assert!(t[t.len() - 1] < Duration::from_secs(30));
    // The jitter spreads the reconnects: they do not all land at one instant.
    assert!(
        pct(0.90) - pct(0.10) > Duration::from_millis(100),
        "no spread: {t:?}"
    );
    for c in &clients {
        assert_eq!(c.login_state(), magpie_client::LoginState::Logined);
    }
    assert_eq!(s.sessions().await, CLIENTS);
}
