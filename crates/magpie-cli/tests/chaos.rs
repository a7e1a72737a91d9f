//! Chaos: the server process is killed with SIGKILL again and again while
//! SDK clients (two devices per account, automatic re-login) send and
//! receive. At the end every message acknowledged to its sender is on every
//! device of its receiver, and on the sender's other device, exactly once and
//! in the order it was sent. The counts are printed.

use magpie_client::{Backoff, Client, ClientOptions, ImMessage, LoginParams, ReceivedMessage};
use magpie_proto::msg::message_type;
use magpie_proto::ResCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

mod common;
use common::{accounts_without_send_limit, create_app, serve, WAIT};
const ACCOUNTS: usize = 4;
const KILLS: usize = 10;
/// Acknowledged sends between two kills, at least.
const ACKS_PER_ROUND: u64 = 60;

/// What one device received, in order, and a wake-up for each arrival.
#[derive(Default)]
struct Inbox {
    got: Mutex<Vec<ImMessage>>,
    changed: Notify,
}

impl Inbox {
    fn push(&self, list: &[ReceivedMessage]) {
        self.got
            .lock()
            .unwrap()
            .extend(list.iter().map(|m| m.content.clone()));
        self.changed.notify_waiters();
    }
}

struct Device {
    client: Client,
    inbox: Arc<Inbox>,
    _dir: tempfile::TempDir,
}

async fn device(addr: &str, app_key: &str, account: &str, id: &str) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::init(
        dir.path(),
        ClientOptions::new(addr)
            .with_device_id(id)
            .with_reconnect(Backoff {
                base: Duration::from_millis(100),
                cap: Duration::from_millis(800),
            }),
    )
    .unwrap();
    let inbox = Arc::new(Inbox::default());
    let i = inbox.clone();
    client.on_receive(move |m| i.push(std::slice::from_ref(m)));
    let i = inbox.clone();
    client.on_receive_batch(move |b| i.push(b));
    let r = client
        .login(app_key, account, "t", LoginParams::default())
        .await;
    assert!(r.is_success(), "{account}/{id}: {r:?}");
    Device {
        client,
        inbox,
        _dir: dir,
    }
}

/// A sender: messages to the next account, one at a time (the next after
/// the previous one's answer), until told to stop. Returns the client ids
/// acknowledged, in order, and how many were sent.
async fn sender(
    c: Client,
    from: usize,
    acked: Arc<watch::Sender<u64>>,
    stop: watch::Receiver<bool>,
) -> (Vec<String>, u64) {
    let to = format!("u{}", (from + 1) % ACCOUNTS);
    let mut ok = Vec::new();
    let mut sent = 0;
    let mut n = 0;
    while !*stop.borrow() {
        let id = format!("u{from}-{n}");
        n += 1;
        sent += 1;
        let ack = c
            .send_message(ImMessage {
                to_accid: to.clone(),
                msg_type: message_type::TEXT,
                msg_body: id.clone(),
                client_msg_id: id.clone(),
                ..Default::default()
            })
            .await;
        if ack.rescode == ResCode::SUCCESS {
            ok.push(id);
            acked.send_modify(|a| *a += 1);
        } else {
            // Refused while the server restarts (503 from a full queue, a
            // rate limit): not acknowledged, so it need not arrive; if it was
            // stored after all it must still arrive at most once.
            assert!(
                ack.rescode != ResCode::NOT_EXIST && ack.rescode != ResCode::PARAMETER_ERROR,
                "{ack:?}"
            );
        }
    }
    (ok, sent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_repeated_sigkill_exactly_once_in_order() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let mut server = serve(data.path(), "127.0.0.1:0", "127.0.0.1:0").await;
    let (listen, admin_listen) = (server.client.clone(), server.admin.clone());

    let (key, admin) = create_app(&d, &server.admin, "chaos").await;
    let names: Vec<String> = (0..ACCOUNTS).map(|i| format!("u{i}")).collect();
    accounts_without_send_limit(&admin, &names).await;

    // Two devices per account: d0 sends, both receive.
    let mut devices: Vec<[Device; 2]> = Vec::new();
    for i in 0..ACCOUNTS {
        let a = format!("u{i}");
        devices.push([
            device(&listen, &key, &a, &format!("{a}-d0")).await,
            device(&listen, &key, &a, &format!("{a}-d1")).await,
        ]);
    }
    let acked = Arc::new(watch::channel(0u64).0);
    let (stop_tx, stop_rx) = watch::channel(false);
    let senders: Vec<_> = (0..ACCOUNTS)
        .map(|i| {
            tokio::spawn(sender(
                devices[i][0].client.clone(),
                i,
                acked.clone(),
                stop_rx.clone(),
            ))
        })
        .collect();

    // Kill the server whenever enough sends were acknowledged since the last
    // start, then start it again on the same addresses.
    let mut acks = acked.subscribe();
    for round in 0..KILLS {
        let base = *acks.borrow();
        tokio::time::timeout(WAIT, acks.wait_for(|a| *a >= base + ACKS_PER_ROUND))
            .await
            .unwrap_or_else(|_| panic!("round {round}: sends acknowledged in time"))
            .unwrap();
        server.child.start_kill().unwrap(); // SIGKILL, by pid
        server.child.wait().await.unwrap();
        server = serve(data.path(), &listen, &admin_listen).await;
    }
    let base = *acks.borrow();
    tokio::time::timeout(WAIT, acks.wait_for(|a| *a >= base + ACKS_PER_ROUND))
        .await
        .expect("sends acknowledged after the last restart")
        .unwrap();
    stop_tx.send(true).unwrap();
    let mut acked_ids: Vec<Vec<String>> = Vec::new();
    let mut sent = 0;
    for s in senders {
        let (ok, n) = s.await.unwrap();
        acked_ids.push(ok);
        sent += n;
    }

    // Who must hold what: the receiver's devices, and the sender's other
    // device (its own messages, roaming).
    let mut expected: Vec<(usize, usize, usize)> = Vec::new(); // (sender, account, device)
    for from in 0..ACCOUNTS {
        expected.push((from, (from + 1) % ACCOUNTS, 0));
        expected.push((from, (from + 1) % ACCOUNTS, 1));
        expected.push((from, from, 1));
    }
    let (mut delivered, mut lost, mut duplicate, mut misordered) = (0u64, 0u64, 0u64, 0u64);
    for (from, acct, dev) in expected {
        let want = &acked_ids[from];
        let inbox = devices[acct][dev].inbox.clone();
        let prefix = format!("u{from}-");
        let pick = |got: &[ImMessage]| -> Vec<String> {
            got.iter()
                .filter(|m| m.client_msg_id.starts_with(&prefix))
                .map(|m| m.client_msg_id.clone())
                .collect()
        };
        // Wait until the last acknowledged one is there (it comes last).
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let changed = inbox.changed.notified();
            let have = pick(&inbox.got.lock().unwrap());
            if want.last().is_none_or(|l| have.contains(l)) {
                break;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                break;
            }
        }
        let have = pick(&inbox.got.lock().unwrap());
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for id in &have {
            *seen.entry(id.as_str()).or_default() += 1;
        }
        duplicate += seen
            .values()
            .map(|n| (*n as u64).saturating_sub(1))
            .sum::<u64>();
        for id in want {
            if seen.contains_key(id.as_str()) {
                delivered += 1;
            } else {
                lost += 1;
            }
        }
        // In the order sent: the numbers only grow.
        let nums: Vec<u64> = have
            .iter()
            .map(|id| id[prefix.len()..].parse().unwrap())
            .collect();
        misordered += nums.windows(2).filter(|w| w[0] >= w[1]).count() as u64;
    }
    let acknowledged: usize = acked_ids.iter().map(Vec::len).sum();
    println!("chaos: {KILLS} SIGKILLs, {ACCOUNTS} accounts x 2 devices");
    println!(
        "{:>6} {:>12} {:>10} {:>5} {:>9} {:>10}",
        "sent", "acknowledged", "delivered", "lost", "duplicate", "misordered"
    );
    println!(
        "{sent:>6} {acknowledged:>12} {delivered:>10} {lost:>5} {duplicate:>9} {misordered:>10}"
    );
    assert_eq!((lost, duplicate, misordered), (0, 0, 0));
    assert_eq!(delivered, 3 * acknowledged as u64, "each on three devices");
    assert!(acknowledged as u64 >= (KILLS as u64 + 1) * ACKS_PER_ROUND);
    for [a, b] in devices {
        // Nobody gave up re-logging in.
        for c in [&a.client, &b.client] {
            assert_eq!(c.login_state(), magpie_client::LoginState::Logined);
        }
        a.client.logout(1).await;
        b.client.logout(1).await;
    }
    server.child.start_kill().unwrap();
    let _ = server.child.wait().await;
}
