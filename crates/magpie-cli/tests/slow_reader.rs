//! A slow reader: a device that logs in and stops reading while a flood of
//! messages is sent to it. The server disconnects it instead of queueing
//! for it (its memory stays far below the size of the flood), and the
//! account catches up by sync when it logs in again.
//!
//! The memory compared is the server's peak anonymous memory during the
//! flood against its peak during an equal flood to an account that is
//! offline, sampled at the same points: that first flood brings the
//! store's bounded buffers (page cache, messages waiting for the ingester)
//! and the allocator to their working size, and shows how far they swing
//! on their own (about 9 MiB from chunk to chunk on this 2-core machine,
//! more under load), so what remains is what delivering to Bob costs. An
//! unbounded queue would hold the whole flood (39 MiB); the bound is half
//! of it.

use futures::future::join_all;
use magpie_client::{Client, ClientOptions, ImMessage, LoginParams};
use magpie_proto::msg::message_type;
use magpie_proto::ResCode;
use magpie_proto::ServerFrame;
use magpie_testkit::{login_request, RawPeer, TestApp};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

mod common;
use common::{accounts_without_send_limit, anon_kib, create_app, serve, WAIT};

/// Messages in the flood, each with a body of [`BODY`] characters.
const FLOOD: usize = 8000;
const BODY: usize = 5000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_reading_is_cut_off_and_catches_up_by_sync() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let mut server = serve(data.path(), "127.0.0.1:0", "127.0.0.1:0").await;
    let pid = server.child.id().unwrap();
    let (key, admin) = create_app(&d, &server.admin, "slow").await;
    accounts_without_send_limit(
        &admin,
        &["ann".to_owned(), "bob".to_owned(), "carl".to_owned()],
    )
    .await;

    // Bob's device logs in, then never reads again.
    let addr = server.client.parse().unwrap();
    let mut bob = RawPeer::hello(addr).await;
    let app = TestApp {
        key: key.clone(),
        secret: String::new(),
    };
    assert!(matches!(
        bob.login(login_request(&app, "bob", "t", "bob-raw")).await,
        ServerFrame::LoginAck { body, .. } if body.code == ResCode::SUCCESS
    ));

    let dir = tempfile::tempdir().unwrap();
    let ann = Client::init(dir.path().join("ann"), ClientOptions::new(&server.client)).unwrap();
    assert!(ann
        .login(&key, "ann", "t", LoginParams::default())
        .await
        .is_success());
    let body = "x".repeat(BODY);
    // Client ids are the sender's: Carl's are `c…`, Bob's `m…`.
    let send = |to: &str, i: usize| {
        ann.send_message(ImMessage {
            to_accid: to.into(),
            msg_type: message_type::TEXT,
            msg_body: body.clone(),
            client_msg_id: format!("{}{i}", if to == "bob" { "m" } else { "c" }),
            ..Default::default()
        })
    };
    // Acknowledged messages wait in the store's memory until its ingester
    // (a low-priority thread) copies them into SQLite; on a busy machine it
    // lags, and that bounded backlog is not what this test is about. A
    // history read waits for the copy, so each chunk is settled before the
    // next: what remains of the growth is delivery.
    let settle = || {
        ann.query_online_messages(magpie_client::HistoryQuery {
            to_type: 0,
            id: "carl".into(),
            limit_count: 1,
            from_time: 0,
            end_time: 0,
            end_msg_id: 0,
            reverse: false,
            msg_types: Vec::new(),
            keyword: String::new(),
        })
    };
    // The same flood to Carl, who is offline: the baseline is its peak.
    let mut base = 0;
    for chunk in (0..FLOOD).collect::<Vec<_>>().chunks(200) {
        for ack in join_all(chunk.iter().map(|&i| send("carl", i))).await {
            assert_eq!(ack.rescode, ResCode::SUCCESS, "{ack:?}");
        }
        base = base.max(anon_kib(pid));
        settle().await;
    }
    let mut peak = 0;
    for chunk in (0..FLOOD).collect::<Vec<_>>().chunks(200) {
        for ack in join_all(chunk.iter().map(|&i| send("bob", i))).await {
            assert_eq!(ack.rescode, ResCode::SUCCESS, "{ack:?}");
        }
        peak = peak.max(anon_kib(pid));
        settle().await;
    }
    let flood_kib = (FLOOD * BODY / 1024) as u64;
    println!("slow reader: flood {flood_kib} KiB; server anonymous memory at its peak {base} KiB with the reader offline, {peak} KiB with it online");
    assert!(
        peak.saturating_sub(base) < flood_kib / 2,
        "the server grew by {} KiB for a {flood_kib} KiB flood",
        peak - base
    );
    // The server closed Bob's connection: reading on, the stream ends
    // before the flood does.
    let mut frames = 0;
    while tokio::time::timeout(WAIT, bob.recv())
        .await
        .unwrap()
        .is_some()
    {
        frames += 1;
    }
    assert!(frames < FLOOD, "cut off after {frames} frames");

    // Bob logs in again (an SDK device) and gets every message by sync, once.
    let got = Arc::new(Mutex::new(Vec::<String>::new()));
    let done = Arc::new(Notify::new());
    let b = Client::init(
        dir.path().join("bob"),
        ClientOptions::new(&server.client).with_device_id("bob-sdk"),
    )
    .unwrap();
    let (g, n) = (got.clone(), done.clone());
    b.on_receive_batch(move |list| {
        g.lock()
            .unwrap()
            .extend(list.iter().map(|m| m.content.client_msg_id.clone()));
        n.notify_waiters();
    });
    let (g, n) = (got.clone(), done.clone());
    b.on_receive(move |m| {
        g.lock().unwrap().push(m.content.client_msg_id.clone());
        n.notify_waiters();
    });
    let wait = done.notified();
    tokio::pin!(wait);
    wait.as_mut().enable();
    assert!(b
        .login(&key, "bob", "t", LoginParams::default())
        .await
        .is_success());
    let deadline = tokio::time::Instant::now() + WAIT;
    while got.lock().unwrap().len() < FLOOD {
        tokio::time::timeout_at(deadline, wait.as_mut())
            .await
            .expect("the sync in time");
        wait.set(done.notified());
        wait.as_mut().enable();
    }
    let got = got.lock().unwrap().clone();
    let want: Vec<String> = (0..FLOOD).map(|i| format!("m{i}")).collect();
    let mut sorted = got.clone();
    sorted.sort_by_key(|id| id[1..].parse::<usize>().unwrap());
    sorted.dedup();
    assert_eq!(sorted, want, "every message once");
    assert_eq!(got.len(), FLOOD, "no duplicates");
    b.logout(1).await;
    ann.logout(1).await;
    server.child.start_kill().unwrap();
    let _ = server.child.wait().await;
}
