//! Messaging end to end: sends, live delivery to every device, offline and
//! roaming sync through the batch callback, unread counts and read marks
//! across devices, custom notifications and history.

use magpie_client::{Event, HistoryQuery, ImMessage, ReceivedMessage, SysMsg};
use magpie_proto::msg::{message_feature, message_type};
use magpie_testkit::*;
use std::time::Duration;
use tokio::sync::mpsc;

fn text(to: &str, id: &str, body: &str) -> ImMessage {
    ImMessage {
        to_type: 0,
        to_accid: to.into(),
        msg_type: message_type::TEXT,
        msg_body: body.into(),
        client_msg_id: id.into(),
        ..Default::default()
    }
}

/// A client whose synced batches are collected too.
struct Device {
    c: TestClient,
    batches: mpsc::UnboundedReceiver<Vec<ReceivedMessage>>,
}

fn device(s: &TestServer, id: &str) -> Device {
    let c = TestClient::new(s.options().with_device_id(id));
    let (tx, rx) = mpsc::unbounded_channel();
    c.client.on_receive_batch(move |b| {
        let _ = tx.send(b.to_vec());
    });
    Device { c, batches: rx }
}

async fn login(d: &Device, app: &TestApp, account: &str) {
    let r = d.c.login(app, account, "t").await;
    assert!(r.is_success(), "{r:?}");
}

/// Receives single messages until `n` arrived.
async fn receive(events: &mut EventLog, n: usize) -> Vec<ReceivedMessage> {
    let mut got = Vec::new();
    while got.len() < n {
        if let Event::Receive(m) = events.until(|e| matches!(e, Event::Receive(_))).await {
            got.push(m);
        }
    }
    got
}

/// Asserts that no message arrives within `d` (other events may).
async fn no_more_messages(events: &mut EventLog, d: Duration) {
    let end = tokio::time::Instant::now() + d;
    while let Ok(e) = tokio::time::timeout_at(end, events.next()).await {
        assert!(
            !matches!(e, Event::Receive(_) | Event::ReceiveBatch(_)),
            "a message arrived twice: {e:?}"
        );
    }
}

/// Collects synced batches until `n` messages arrived.
async fn batches(d: &mut Device, n: usize) -> (Vec<ReceivedMessage>, usize) {
    let mut got = Vec::new();
    let mut calls = 0;
    while got.len() < n {
        let b = tokio::time::timeout(WAIT, d.batches.recv())
            .await
            .expect("a batch in time")
            .expect("client alive");
        calls += 1;
        got.extend(b);
    }
    (got, calls)
}

fn bodies(list: &[ReceivedMessage]) -> Vec<String> {
    list.iter().map(|m| m.content.msg_body.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_acknowledged_then_delivered_once_to_every_device() {
    let s = TestServer::start().await;
    let app = s.app("m").await;
    for a in ["ann", "bob"] {
        s.account(&app, a, "t").await;
    }
    let mut a1 = device(&s, "a1");
    let mut a2 = device(&s, "a2");
    let mut b1 = device(&s, "b1");
    let mut b2 = device(&s, "b2");
    for (d, who) in [(&a1, "ann"), (&a2, "ann"), (&b1, "bob"), (&b2, "bob")] {
        login(d, &app, who).await;
    }
    for d in [&mut a1, &mut a2, &mut b1, &mut b2] {
        d.c.events
            .until(|e| matches!(e, Event::DataSync(d) if d.sync_type == 2))
            .await;
    }
    let ack = a1.c.client.send_message(text("bob", "m1", "hello")).await;
    assert_eq!(ack.rescode, ResCode::SUCCESS, "{ack:?}");
    assert!(ack.server_msg_id > 0 && ack.msg_timetag > 0 && ack.seq == 1);
    assert_eq!((ack.msg_id.as_str(), ack.talk_id.as_str()), ("m1", "bob"));
    for b in [&mut b1, &mut b2] {
        let got = receive(&mut b.c.events, 1).await;
        assert_eq!(got[0].feature, message_feature::DEFAULT);
        let m = &got[0].content;
        assert_eq!((m.msg_body.as_str(), m.from_id.as_str()), ("hello", "ann"));
        assert_eq!((m.from_device_id.as_str(), m.from_client_type), ("a1", 4));
        assert_eq!(m.server_msg_id, ack.server_msg_id);
    }
    // The sender's other device gets it as synced from my other device.
    let got = receive(&mut a2.c.events, 1).await;
    assert_eq!(got[0].feature, message_feature::SYNC_MSG);
    // Nothing is delivered twice.
    for d in [&mut a1, &mut a2, &mut b1, &mut b2] {
        no_more_messages(&mut d.c.events, Duration::from_millis(300)).await;
    }
    let sessions = b1.c.client.recent_sessions().await;
    assert_eq!(sessions.1, 1, "one unread");
    assert_eq!(sessions.0[0].id, "ann");
    assert_eq!(sessions.0[0].msg_body, "hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_messages_reach_each_device_once_in_order_and_read_marks_follow() {
    const N: usize = 1000;
    let s = TestServer::start().await;
    let app = s.app("m").await;
    for a in ["ann", "bob"] {
        s.account(&app, a, "t").await;
    }
    let v = s
        .admin(&app)
        .json(
            reqwest::Method::PUT,
            "/magpie/v1/app/messaging",
            Some(serde_json::json!({"sends_per_minute": 0})),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let a1 = device(&s, "a1");
    login(&a1, &app, "ann").await;
    for i in 0..N {
        let ack =
            a1.c.client
                .send_message(text("bob", &format!("c{i}"), &format!("{i}")))
                .await;
        assert_eq!(ack.rescode, ResCode::SUCCESS, "{i}: {ack:?}");
    }
    let want: Vec<String> = (0..N).map(|i| i.to_string()).collect();
    // Bob's first device: everything as offline messages, in order, in batches.
    let mut b1 = device(&s, "b1");
    login(&b1, &app, "bob").await;
    let (got, calls) = batches(&mut b1, N).await;
    assert_eq!(bodies(&got), want, "all, once, in order");
    assert!(got.iter().all(|m| m.feature == message_feature::LEAVE_MSG));
    assert!(calls >= 2, "bounded batches: {calls}");
    b1.c.events
        .until(|e| matches!(e, Event::DataSync(d) if d.sync_type == 2 && d.status == 1))
        .await;
    let (list, total) = b1.c.client.recent_sessions().await;
    assert_eq!(
        (list.len(), list[0].unread_count, total),
        (1, N as u32, N as u32)
    );
    // His second device: the same, as roaming.
    let mut b2 = device(&s, "b2");
    login(&b2, &app, "bob").await;
    let (got, _) = batches(&mut b2, N).await;
    assert_eq!(bodies(&got), want);
    assert!(got.iter().all(|m| m.feature == message_feature::ROAM_MSG));
    b2.c.events
        .until(|e| matches!(e, Event::DataSync(d) if d.sync_type == 2))
        .await;
    assert_eq!(b2.c.client.recent_sessions().await.1, N as u32);
    // Ann's second device gets what she sent, as roaming.
    let mut a2 = device(&s, "a2");
    login(&a2, &app, "ann").await;
    let (got, _) = batches(&mut a2, N).await;
    assert_eq!(bodies(&got), want);
    assert!(got.iter().all(|m| m.feature == message_feature::ROAM_MSG));
    // A read mark on one device clears the other.
    let r = b1.c.client.set_unread_count_zero(0, "ann").await;
    assert_eq!((r.rescode, r.session.unread_count), (ResCode::SUCCESS, 0));
    let e = b2
        .c
        .events
        .until(|e| matches!(e, Event::SessionChange(s) if s.session.id == "ann" && s.session.unread_count == 0))
        .await;
    if let Event::SessionChange(s) = e {
        assert_eq!(s.total_unread, 0);
    }
    assert_eq!(b2.c.client.recent_sessions().await.1, 0);
    // Nothing more arrives anywhere: no duplicates.
    assert!(b1.batches.try_recv().is_err() && b2.batches.try_recv().is_err());
    // Local history on the device, newest first.
    let q = b2.c.client.query_local_messages(0, "ann", 3, 0).await;
    assert_eq!(
        q.content
            .iter()
            .map(|m| m.msg_body.as_str())
            .collect::<Vec<_>>(),
        ["999", "998", "997"]
    );
    // Server history, paged.
    let page =
        a1.c.client
            .query_online_messages(HistoryQuery {
                to_type: 0,
                id: "bob".into(),
                limit_count: 100,
                from_time: 0,
                end_time: 0,
                end_msg_id: 0,
                reverse: false,
                msg_types: Vec::new(),
                keyword: String::new(),
            })
            .await;
    assert_eq!(page.rescode, ResCode::SUCCESS);
    assert_eq!(page.content.len(), 100);
    assert_eq!(page.content[0].msg_body, "999");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_are_refused_with_nim_codes() {
    let s = TestServer::start().await;
    let app = s.app("m").await;
    s.account(&app, "ann", "t").await;
    let a = device(&s, "a1");
    // Not logged in: 20001 locally.
    let ack = a.c.client.send_message(text("bob", "x0", "hi")).await;
    assert_eq!(ack.rescode, ResCode::LOCAL_LOGIN_UNDONE);
    login(&a, &app, "ann").await;
    let ack = a.c.client.send_message(text("nobody", "x1", "hi")).await;
    assert_eq!(ack.rescode, ResCode::NOT_EXIST, "{ack:?}");
    let ack =
        a.c.client
            .send_message(text("ann", "x2", &"a".repeat(5001)))
            .await;
    assert_eq!(ack.rescode, ResCode::PARAMETER_ERROR, "{ack:?}");
    assert!(ack.desc.contains("5000"), "{}", ack.desc);
    // Resending a stored message answers with the stored one.
    let first =
        a.c.client
            .send_message(text("ann", "x3", "to myself"))
            .await;
    assert_eq!(first.rescode, ResCode::SUCCESS);
    let mut again = text("ann", "x3", "to myself");
    again.resend_flag = 1;
    let second = a.c.client.send_message(again).await;
    assert_eq!(
        (second.rescode, second.server_msg_id, second.msg_timetag),
        (ResCode::SUCCESS, first.server_msg_id, first.msg_timetag)
    );
    // A session change the server refuses is reported, not taken for done.
    let r = a.c.client.set_unread_count_zero(1, "ann").await;
    assert_eq!(r.rescode, ResCode::PARAMETER_ERROR, "{r:?}");
    let r = a.c.client.delete_recent_session(0, "no such id!").await;
    assert_eq!(r.rescode, ResCode::PARAMETER_ERROR, "{r:?}");
    let (sessions, _) = a.c.client.recent_sessions().await;
    assert!(
        sessions.iter().any(|x| x.id == "ann"),
        "ann's own session stays: {sessions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_notifications_are_stored_or_online_only() {
    let s = TestServer::start().await;
    let app = s.app("m").await;
    for a in ["ann", "bob"] {
        s.account(&app, a, "t").await;
    }
    let a = device(&s, "a1");
    login(&a, &app, "ann").await;
    let note = |id: &str, save: i32| SysMsg {
        msg_type: 100,
        to_account: "bob".into(),
        attach: format!(r#"{{"n":"{id}"}}"#),
        client_msg_id: id.into(),
        custom_save_flag: save,
        ..Default::default()
    };
    // Bob is offline: the stored one waits, the online-only one is gone.
    assert_eq!(
        a.c.client
            .send_custom_notification(note("s1", 1))
            .await
            .rescode,
        ResCode::SUCCESS
    );
    assert_eq!(
        a.c.client
            .send_custom_notification(note("o1", 0))
            .await
            .rescode,
        ResCode::SUCCESS
    );
    let mut b = device(&s, "b1");
    login(&b, &app, "bob").await;
    let e = b.c.events.until(|e| matches!(e, Event::SysMsg(_))).await;
    let Event::SysMsg(n) = e else { unreachable!() };
    assert_eq!((n.content.client_msg_id.as_str(), n.feature), ("s1", 1));
    assert_eq!(n.content.from_account, "ann");
    b.c.events
        .until(|e| matches!(e, Event::DataSync(d) if d.sync_type == 2))
        .await;
    // Online now: the online-only one arrives live.
    assert_eq!(
        a.c.client
            .send_custom_notification(note("o2", 0))
            .await
            .rescode,
        ResCode::SUCCESS
    );
    let e = b.c.events.until(|e| matches!(e, Event::SysMsg(_))).await;
    let Event::SysMsg(n) = e else { unreachable!() };
    assert_eq!((n.content.client_msg_id.as_str(), n.feature), ("o2", 0));
    let (stored, unread) = b.c.client.system_messages(10, 0).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(unread, 0, "custom notifications never count");
}

/// NIM's P2P read receipts: the reader's receipt reaches the sender's
/// devices (status-changed callback, status 7, and the local status of the
/// messages), the reader's other devices learn it was sent, a device that
/// logs in later gets it by sync, and bad receipts are refused with NIM's
/// codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_receipts_reach_the_sender_and_the_readers_other_devices() {
    let s = TestServer::start().await;
    let app = s.app("r").await;
    for a in ["ann", "bob"] {
        s.account(&app, a, "t").await;
    }
    let mut a1 = device(&s, "a1");
    let mut b1 = device(&s, "b1");
    let mut b2 = device(&s, "b2");
    for (d, who) in [(&a1, "ann"), (&b1, "bob"), (&b2, "bob")] {
        login(d, &app, who).await;
    }
    for d in [&mut a1, &mut b1, &mut b2] {
        d.c.events
            .until(|e| matches!(e, Event::DataSync(d) if d.sync_type == 2))
            .await;
    }
    let ack = a1.c.client.send_message(text("bob", "r1", "read me")).await;
    assert_eq!(ack.rescode, ResCode::SUCCESS, "{ack:?}");
    let got = receive(&mut b1.c.events, 1).await.remove(0).content;
    receive(&mut b2.c.events, 1).await;
    let mine = ImMessage {
        from_id: "ann".into(),
        time: ack.msg_timetag,
        ..text("bob", "r1", "read me")
    };
    assert!(!a1.c.client.is_read_by_peer(&mine));
    assert!(!b1.c.client.is_receipt_sent(&got));

    // Refused: my own message, and a peer that does not exist.
    assert_eq!(
        a1.c.client.send_receipt(&mine).await,
        ResCode::PARAMETER_ERROR
    );
    let stranger = ImMessage {
        from_id: "nobody".into(),
        ..got.clone()
    };
    assert_eq!(
        b1.c.client.send_receipt(&stranger).await,
        ResCode::NOT_EXIST
    );

    assert_eq!(b1.c.client.send_receipt(&got).await, ResCode::SUCCESS);
    assert!(
        b1.c.client.is_receipt_sent(&got),
        "recorded on the sending device"
    );
    let changed = match a1
        .c
        .events
        .until(|e| matches!(e, Event::MsgStatusChanged(_)))
        .await
    {
        Event::MsgStatusChanged(list) => list,
        _ => unreachable!(),
    };
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (
            changed[0].talk_id.as_str(),
            changed[0].msg_timetag,
            changed[0].status
        ),
        ("bob", got.time, 7)
    );
    assert!(a1.c.client.is_read_by_peer(&mine));
    let stored =
        a1.c.client
            .local_op(magpie_client::LocalOp::MsgById {
                client_msg_id: "r1".into(),
            })
            .await;
    let status = stored.message.expect("r1 stored").extra["log_status"].clone();
    assert_eq!(status, 7, "kNIMMsgLogStatusReceipt");

    // Bob's other device: the note came before the next message.
    let ack = a1.c.client.send_message(text("bob", "r2", "again")).await;
    assert_eq!(ack.rescode, ResCode::SUCCESS);
    receive(&mut b2.c.events, 1).await;
    assert!(b2.c.client.is_receipt_sent(&got));
    let newer = ImMessage {
        time: ack.msg_timetag,
        ..got.clone()
    };
    assert!(
        !b2.c.client.is_receipt_sent(&newer),
        "only up to the receipt's time"
    );

    // Ann's device that logs in later syncs the receipt.
    let mut a2 = device(&s, "a2");
    login(&a2, &app, "ann").await;
    let changed = match a2
        .c
        .events
        .until(|e| matches!(e, Event::MsgStatusChanged(_)))
        .await
    {
        Event::MsgStatusChanged(list) => list,
        _ => unreachable!(),
    };
    assert_eq!(changed[0].talk_id, "bob");
    a2.c.events
        .until(|e| matches!(e, Event::DataSync(d) if d.sync_type == 2))
        .await;
    assert!(a2.c.client.is_read_by_peer(&mine));
}

/// An app with ann on two devices (a1, a2) and bob on one (b1), all
/// logged in and synced.
async fn ann_twice_and_bob(s: &TestServer, name: &str) -> (TestApp, Device, Device, Device) {
    let app = s.app(name).await;
    for a in ["ann", "bob"] {
        s.account(&app, a, "t").await;
    }
    let mut a1 = device(s, "a1");
    let mut a2 = device(s, "a2");
    let mut b1 = device(s, "b1");
    for (d, who) in [(&a1, "ann"), (&a2, "ann"), (&b1, "bob")] {
        login(d, &app, who).await;
    }
    for d in [&mut a1, &mut a2, &mut b1] {
        d.c.events
            .until(|e| matches!(e, Event::DataSync(d) if d.sync_type == 2))
            .await;
    }
    (app, a1, a2, b1)
}

/// NIM's recall: the sender takes a message back; the receiver's devices
/// and the sender's other devices get the recall callback and lose the
/// message from their history, the server's history drops it, a repeated
/// recall changes nothing, a device that logs in later gets the recall by
/// sync, and recalling what I did not send is 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recalled_message_leaves_every_device_and_the_servers_history() {
    let s = TestServer::start().await;
    let (app, a1, mut a2, mut b1) = ann_twice_and_bob(&s, "recall").await;
    for (id, body) in [("k1", "oops"), ("k2", "fine")] {
        let ack = a1.c.client.send_message(text("bob", id, body)).await;
        assert_eq!(ack.rescode, ResCode::SUCCESS);
    }
    receive(&mut b1.c.events, 2).await;
    receive(&mut a2.c.events, 2).await;

    let (code, note) =
        a1.c.client
            .recall(&text("bob", "k1", ""), "ann took it back", "")
            .await;
    assert_eq!(code, ResCode::SUCCESS);
    let note = note.expect("the notification");
    assert_eq!(
        (note.msg_id.as_str(), note.to_id.as_str(), note.msg_exist),
        ("k1", "bob", true)
    );
    for (d, feature) in [
        (&mut b1, message_feature::DEFAULT),
        (&mut a2, message_feature::SYNC_MSG),
    ] {
        let list = match d.c.events.until(|e| matches!(e, Event::Recall(_))).await {
            Event::Recall(list) => list,
            _ => unreachable!(),
        };
        let n = &list[0];
        assert_eq!(
            (
                n.msg_id.as_str(),
                n.from_id.as_str(),
                n.to_id.as_str(),
                n.notify.as_str()
            ),
            ("k1", "ann", "bob", "ann took it back")
        );
        assert!(n.msg_exist);
        assert_eq!(n.feature, feature);
        assert_eq!(n.operator_id, "ann");
        let gone =
            d.c.client
                .local_op(magpie_client::LocalOp::MsgById {
                    client_msg_id: "k1".into(),
                })
                .await;
        assert!(gone.message.is_none(), "k1 left the local history");
    }
    let q =
        b1.c.client
            .query_online_messages(HistoryQuery {
                to_type: 0,
                id: "ann".into(),
                limit_count: 10,
                from_time: 0,
                end_time: 0,
                end_msg_id: 0,
                reverse: false,
                msg_types: Vec::new(),
                keyword: String::new(),
            })
            .await;
    let ids: Vec<&str> = q.content.iter().map(|m| m.client_msg_id.as_str()).collect();
    assert_eq!(ids, ["k2"], "the server's history lost k1");

    // Again (a lost answer): 200, and nobody hears of it twice.
    let (code, _) =
        a1.c.client
            .recall(&text("bob", "k1", ""), "again", "")
            .await;
    assert_eq!(code, ResCode::SUCCESS);
    // Not mine, or no such message: 404.
    let (code, _) = b1.c.client.recall(&text("ann", "k2", ""), "", "").await;
    assert_eq!(code, ResCode::NOT_EXIST);
    let (code, _) = a1.c.client.recall(&text("bob", "nope", ""), "", "").await;
    assert_eq!(code, ResCode::NOT_EXIST);
    let ack = a1.c.client.send_message(text("bob", "k3", "after")).await;
    assert_eq!(ack.rescode, ResCode::SUCCESS);
    loop {
        match b1.c.events.next().await {
            Event::Recall(list) => panic!("a second recall reached bob: {list:?}"),
            Event::Receive(m) if m.content.client_msg_id == "k3" => break,
            _ => {}
        }
    }

    // A device that logs in later: the recall comes by sync.
    let mut b2 = device(&s, "b2");
    login(&b2, &app, "bob").await;
    let list = match b2.c.events.until(|e| matches!(e, Event::Recall(_))).await {
        Event::Recall(list) => list,
        _ => unreachable!(),
    };
    assert_eq!(
        (list[0].msg_id.as_str(), list[0].feature),
        ("k1", message_feature::LEAVE_MSG)
    );
    b2.c.events
        .until(|e| matches!(e, Event::DataSync(d) if d.sync_type == 2))
        .await;
    let page = b2.c.client.query_local_messages(0, "ann", 10, 0).await;
    let mut ids: Vec<&str> = page
        .content
        .iter()
        .map(|m| m.client_msg_id.as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, ["k2", "k3"]);
}

/// The server's history of `peer` as `d`'s account sees it, oldest first.
async fn server_history(d: &Device, peer: &str) -> Vec<String> {
    let q =
        d.c.client
            .query_online_messages(HistoryQuery {
                to_type: 0,
                id: peer.into(),
                limit_count: 100,
                from_time: 0,
                end_time: 0,
                end_msg_id: 0,
                reverse: true,
                msg_types: Vec::new(),
                keyword: String::new(),
            })
            .await;
    assert_eq!(q.rescode, ResCode::SUCCESS);
    q.content.into_iter().map(|m| m.client_msg_id).collect()
}

/// The local history of `peer` on `d`, sorted by client id.
async fn local_ids(d: &Device, peer: &str) -> Vec<String> {
    let page = d.c.client.query_local_messages(0, peer, 100, 0).await;
    let mut ids: Vec<String> = page.content.into_iter().map(|m| m.client_msg_id).collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_way_deletions_and_cleared_histories_leave_only_my_side() {
    let s = TestServer::start().await;
    let (app, mut a1, mut a2, mut b1) = ann_twice_and_bob(&s, "oneway").await;
    for (id, body) in [("k1", "one"), ("k2", "two")] {
        let ack = a1.c.client.send_message(text("bob", id, body)).await;
        assert_eq!(ack.rescode, ResCode::SUCCESS);
    }
    let ack = b1.c.client.send_message(text("ann", "k3", "three")).await;
    assert_eq!(ack.rescode, ResCode::SUCCESS);
    let got = receive(&mut a1.c.events, 1).await;
    let k3 = got[0].content.clone();
    receive(&mut a2.c.events, 3).await;
    receive(&mut b1.c.events, 2).await;

    // Ann deletes her k1 and bob's k3 for herself, from a1.
    let mut k1 = text("bob", "k1", "one");
    k1.from_id = "ann".into();
    assert_eq!(
        a1.c.client.delete_message_self(&k1, "tidy").await,
        ResCode::SUCCESS
    );
    assert_eq!(
        a1.c.client.delete_message_self(&k3, "").await,
        ResCode::SUCCESS
    );
    let mut heard = Vec::new();
    while heard.len() < 2 {
        if let Event::DeleteSelf(list) =
            a2.c.events
                .until(|e| matches!(e, Event::DeleteSelf(_)))
                .await
        {
            heard.extend(list);
        }
    }
    let told: Vec<(&str, &str, &str)> = heard
        .iter()
        .map(|n| (n.session_id.as_str(), n.client_id.as_str(), n.ext.as_str()))
        .collect();
    assert_eq!(told, [("bob", "k1", "tidy"), ("bob", "k3", "")]);
    for d in [&a1, &a2] {
        assert_eq!(local_ids(d, "bob").await, ["k2"], "gone from ann's devices");
    }
    assert_eq!(server_history(&a1, "bob").await, ["k2"]);
    // Bob keeps everything.
    assert_eq!(local_ids(&b1, "ann").await, ["k1", "k2", "k3"]);
    assert_eq!(server_history(&b1, "ann").await, ["k1", "k2", "k3"]);
    // Again (a lost answer): 200. No such message in the session: 404;
    // not P2P: 414.
    assert_eq!(
        a1.c.client.delete_message_self(&k1, "tidy").await,
        ResCode::SUCCESS
    );
    let mut nope = k1.clone();
    nope.client_msg_id = "nope".into();
    assert_eq!(
        a1.c.client.delete_message_self(&nope, "").await,
        ResCode::NOT_EXIST
    );
    let mut team = k1.clone();
    team.to_type = 1;
    assert_eq!(
        a1.c.client.delete_message_self(&team, "").await,
        ResCode::PARAMETER_ERROR
    );
    let long = "x".repeat(2000);
    assert_eq!(
        a1.c.client.delete_message_self(&k1, &long).await,
        ResCode::PARAMETER_ERROR
    );

    // A device of ann's that logs in later does not get what she deleted.
    let mut a3 = device(&s, "a3");
    login(&a3, &app, "ann").await;
    let (synced, _) = batches(&mut a3, 1).await;
    assert_eq!(bodies(&synced), ["two"]);
    a3.c.events
        .until(|e| matches!(e, Event::DataSync(d) if d.sync_type == 2))
        .await;
    assert_eq!(local_ids(&a3, "bob").await, ["k2"]);

    // Bob clears his server history, keeping roaming: his history is
    // empty, ann's is as it was, and a new device of his still syncs all.
    assert_eq!(
        b1.c.client.delete_history_online("ann", false).await,
        ResCode::SUCCESS
    );
    assert_eq!(server_history(&b1, "ann").await, Vec::<String>::new());
    assert_eq!(server_history(&a1, "bob").await, ["k2"]);
    assert_eq!(
        local_ids(&b1, "ann").await,
        ["k1", "k2", "k3"],
        "b1 keeps its own"
    );
    let mut b2 = device(&s, "b2");
    login(&b2, &app, "bob").await;
    let (synced, _) = batches(&mut b2, 3).await;
    assert_eq!(bodies(&synced), ["one", "two", "three"]);
    // Ann clears hers with roaming: a new device of hers syncs nothing of
    // it; what comes later is kept.
    assert_eq!(
        a1.c.client.delete_history_online("bob", true).await,
        ResCode::SUCCESS
    );
    assert_eq!(server_history(&a1, "bob").await, Vec::<String>::new());
    let ack = b1.c.client.send_message(text("ann", "k4", "four")).await;
    assert_eq!(ack.rescode, ResCode::SUCCESS);
    receive(&mut a1.c.events, 1).await;
    assert_eq!(server_history(&a1, "bob").await, ["k4"]);
    let mut a4 = device(&s, "a4");
    login(&a4, &app, "ann").await;
    let (synced, _) = batches(&mut a4, 1).await;
    assert_eq!(bodies(&synced), ["four"]);
    assert_eq!(local_ids(&a4, "bob").await, ["k4"]);
    assert_eq!(
        server_history(&b1, "ann").await,
        ["k4"],
        "bob's own clear stays"
    );
    assert_eq!(
        a1.c.client.delete_history_online("", true).await,
        ResCode::PARAMETER_ERROR
    );
    // Bob deletes the session's roaming messages only: his history keeps
    // k4, a new device of his syncs none of the session, and what comes
    // later reaches it.
    assert_eq!(
        b1.c.client.delete_session_roaming(0, "ann").await,
        ResCode::SUCCESS
    );
    assert_eq!(server_history(&b1, "ann").await, ["k4"]);
    let mut b3 = device(&s, "b3");
    login(&b3, &app, "bob").await;
    b3.c.events
        .until(|e| matches!(e, Event::DataSync(d) if d.sync_type == 2))
        .await;
    assert_eq!(local_ids(&b3, "ann").await, Vec::<String>::new());
    assert!(b3.batches.try_recv().is_err(), "nothing synced");
    let ack = a1.c.client.send_message(text("bob", "k5", "five")).await;
    assert_eq!(ack.rescode, ResCode::SUCCESS);
    let got = receive(&mut b3.c.events, 1).await;
    assert_eq!(got[0].content.client_msg_id, "k5");
    assert_eq!(
        b1.c.client.delete_session_roaming(1, "ann").await,
        ResCode::PARAMETER_ERROR
    );
}

/// A version 3 SDK cannot read a one-way deletion: the server leaves the
/// entry out of its sync (the batch after it starts past it) and out of
/// its live pushes, and leaves out the message deleted too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_3_device_never_sees_a_one_way_deletion() {
    use magpie_proto::frame::Hello;
    use magpie_proto::msg::{EntryBody, SyncRequest};
    use magpie_proto::{ClientFrame, ServerFrame};
    let s = TestServer::start().await;
    let (app, mut a1, _a2, b1) = ann_twice_and_bob(&s, "v3").await;
    for (id, body) in [("k1", "one"), ("k2", "two")] {
        let ack = b1.c.client.send_message(text("ann", id, body)).await;
        assert_eq!(ack.rescode, ResCode::SUCCESS);
    }
    let got = receive(&mut a1.c.events, 2).await;
    assert_eq!(
        a1.c.client.delete_message_self(&got[0].content, "").await,
        ResCode::SUCCESS
    );
    // Ann's log: k1 (hidden), k2, the deletion.
    let mut raw = RawPeer::connect(s.addr()).await;
    let seq = raw.next_seq();
    raw.send(&ClientFrame::Hello {
        seq,
        body: Hello {
            version: 3,
            min_version: 1,
            sdk_version: "v3".into(),
        },
    })
    .await;
    assert!(matches!(
        raw.recv().await,
        Some(ServerFrame::HelloAck { body, .. }) if body.version == 3
    ));
    assert!(matches!(
        raw.login(login_request(&app, "ann", "t", "raw3")).await,
        ServerFrame::LoginAck { body, .. } if body.code == ResCode::SUCCESS
    ));
    let sync = async |raw: &mut RawPeer, cursor: u64| {
        let seq = raw.next_seq();
        raw.send(&ClientFrame::Sync {
            seq,
            body: SyncRequest { cursor, limit: 0 },
        })
        .await;
        loop {
            if let Some(ServerFrame::SyncBatch { body, .. }) = raw.recv().await {
                let ids: Vec<String> = body
                    .entries
                    .into_iter()
                    .map(|e| match e.into_entry().unwrap().body {
                        EntryBody::Msg { msg } => msg.client_msg_id,
                        other => panic!("a version 3 SDK got {other:?}"),
                    })
                    .collect();
                return (ids, body.from, body.head);
            }
        }
    };
    assert_eq!(sync(&mut raw, 0).await, (vec!["k2".to_owned()], 2, 3));
    assert_eq!(sync(&mut raw, 2).await, (vec![], 4, 3));
    // Live: another deletion is not pushed; the next message is.
    assert_eq!(
        a1.c.client.delete_message_self(&got[1].content, "").await,
        ResCode::SUCCESS
    );
    let ack = b1.c.client.send_message(text("ann", "k3", "three")).await;
    assert_eq!(ack.rescode, ResCode::SUCCESS);
    loop {
        match raw.recv().await {
            Some(ServerFrame::Entry { body }) => match body.into_entry().unwrap().body {
                EntryBody::Msg { msg } => {
                    assert_eq!(msg.client_msg_id, "k3");
                    break;
                }
                other => panic!("a version 3 SDK got {other:?}"),
            },
            Some(_) => {}
            None => panic!("the server closed the version 3 connection"),
        }
    }
}

/// NIM's session service: the server keeps one session per peer for each
/// account, newest first, moved up by every message, with its last message
/// (recalled ones marked); paging by update time; an extension set on one
/// device is heard by the account's other devices; a deleted session stays
/// away until the next message; bad requests get 414 and 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_keeps_each_accounts_sessions_with_their_last_message() {
    use magpie_proto::frame::{server_session_action as act, ServerSessionRequest, SessionKey};
    let s = TestServer::start().await;
    let (app, a1, mut a2, mut b1) = ann_twice_and_bob(&s, "olsess").await;
    s.account(&app, "cat", "t").await;
    for (to, id) in [("bob", "s1"), ("cat", "s2"), ("bob", "s3")] {
        let ack = a1.c.client.send_message(text(to, id, id)).await;
        assert_eq!(ack.rescode, ResCode::SUCCESS, "{ack:?}");
    }
    receive(&mut b1.c.events, 2).await;
    let list = |limit, max_time, need_last_msg| ServerSessionRequest {
        action: act::LIST,
        limit,
        max_time,
        need_last_msg,
        ..Default::default()
    };
    let page = a2.c.client.server_session(list(0, 0, true)).await;
    assert_eq!(page.code, ResCode::SUCCESS, "{page:?}");
    let ids: Vec<&str> = page.list.iter().map(|x| x.id.as_str()).collect();
    assert_eq!((ids, page.has_more), (vec!["bob", "cat"], false));
    let bob = &page.list[0];
    let last: serde_json::Value =
        serde_json::from_str(bob.last_msg.as_deref().expect("the last message")).unwrap();
    assert_eq!(
        (last["client_msg_id"].as_str(), bob.last_msg_type),
        (Some("s3"), 0)
    );
    // Paging: one at a time; the next page asks for sessions before the
    // last one's time (a page holds every session of its last millisecond,
    // so none is lost or repeated).
    let first = a2.c.client.server_session(list(1, 0, false)).await;
    assert!(!first.list.is_empty(), "{first:?}");
    assert_eq!(first.list[0].last_msg, None, "not asked for");
    let t = first.list.last().unwrap().update_time;
    let next = a2.c.client.server_session(list(100, t, true)).await;
    let mut ids: Vec<&str> = first
        .list
        .iter()
        .chain(next.list.iter())
        .map(|x| x.id.as_str())
        .collect();
    ids.sort_unstable();
    assert_eq!((ids, next.has_more), (vec!["bob", "cat"], false));
    assert_eq!(first.has_more, first.list.len() == 1);
    // bob's side has one session, with ann.
    let theirs = b1.c.client.server_session(list(0, 0, true)).await;
    assert_eq!(
        theirs
            .list
            .iter()
            .map(|x| x.id.as_str())
            .collect::<Vec<_>>(),
        ["ann"]
    );

    // An extension set on a1 is heard on a2, and read back.
    let update = ServerSessionRequest {
        action: act::UPDATE,
        id: "cat".into(),
        ext: "{\"pinned\":1}".into(),
        ..Default::default()
    };
    assert_eq!(
        a1.c.client.server_session(update).await.code,
        ResCode::SUCCESS
    );
    let heard = match a2
        .c
        .events
        .until(|e| matches!(e, Event::ServerSessionChanged(_)))
        .await
    {
        Event::ServerSessionChanged(i) => i,
        _ => unreachable!(),
    };
    assert_eq!(
        (heard.id.as_str(), heard.ext.as_str()),
        ("cat", "{\"pinned\":1}")
    );
    let get = |id: &str| ServerSessionRequest {
        action: act::GET,
        id: id.into(),
        ..Default::default()
    };
    let cat = a2.c.client.server_session(get("cat")).await;
    let info = cat.info.expect("the session");
    assert_eq!(
        (cat.code, info.ext.as_str()),
        (ResCode::SUCCESS, "{\"pinned\":1}")
    );
    assert!(info.update_time >= heard.update_time && info.last_msg.is_some());

    // A recall marks the last message.
    let (code, _) = a1.c.client.recall(&text("bob", "s3", ""), "", "").await;
    assert_eq!(code, ResCode::SUCCESS);
    let bob = a2.c.client.server_session(get("bob")).await.info.unwrap();
    assert_eq!(bob.last_msg_type, 1, "{bob:?}");

    // Deleted: gone until the next message.
    let delete = ServerSessionRequest {
        action: act::DELETE,
        sessions: vec![SessionKey {
            to_type: 0,
            id: "bob".into(),
        }],
        ..Default::default()
    };
    assert_eq!(
        a2.c.client.server_session(delete).await.code,
        ResCode::SUCCESS
    );
    assert_eq!(
        a1.c.client.server_session(get("bob")).await.code,
        ResCode::NOT_EXIST
    );
    assert_eq!(
        b1.c.client.server_session(get("ann")).await.code,
        ResCode::SUCCESS,
        "bob keeps his"
    );
    let ack = b1.c.client.send_message(text("ann", "s4", "back")).await;
    assert_eq!(ack.rescode, ResCode::SUCCESS);
    let back = a1.c.client.server_session(get("bob")).await;
    assert_eq!(back.code, ResCode::SUCCESS, "a message brings it back");

    // Bad requests.
    for bad in [
        ServerSessionRequest {
            action: 9,
            ..Default::default()
        },
        get(""),
        ServerSessionRequest {
            action: act::DELETE,
            ..Default::default()
        },
        ServerSessionRequest {
            action: act::UPDATE,
            to_type: 1,
            id: "t1".into(),
            ..Default::default()
        },
        ServerSessionRequest {
            action: act::UPDATE,
            id: "cat".into(),
            ext: "x".repeat(5000),
            ..Default::default()
        },
    ] {
        assert_eq!(
            a1.c.client.server_session(bad.clone()).await.code,
            ResCode::PARAMETER_ERROR,
            "{bad:?}"
        );
    }
    assert_eq!(
        a1.c.client.server_session(get("nobody")).await.code,
        ResCode::NOT_EXIST
    );
}

/// NIM's keyword search of the server's history: only the messages whose
/// text or file name holds the keyword, ignoring case, in the order asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_history_is_searched_by_keyword() {
    let s = TestServer::start().await;
    let (_app, a1, _a2, mut b1) = ann_twice_and_bob(&s, "keyword").await;
    for (id, body) in [
        ("w1", "Lunch at noon?"),
        ("w2", "sure"),
        ("w3", "lunch was good"),
    ] {
        let ack = a1.c.client.send_message(text("bob", id, body)).await;
        assert_eq!(ack.rescode, ResCode::SUCCESS);
    }
    receive(&mut b1.c.events, 3).await;
    let r =
        b1.c.client
            .query_online_messages(HistoryQuery {
                id: "ann".into(),
                limit_count: 10,
                reverse: true,
                keyword: "LUNCH".into(),
                ..Default::default()
            })
            .await;
    assert_eq!(r.rescode, ResCode::SUCCESS);
    let ids: Vec<&str> = r.content.iter().map(|m| m.client_msg_id.as_str()).collect();
    assert_eq!(ids, ["w1", "w3"]);
}

/// NIM 8's deletion of a session's server history with `notify_self`: the
/// account's other devices hear it (with the extension), now and when they
/// log in later; the device that asked does not; the server's history of
/// the session is gone for the account and kept for the peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cleared_history_is_told_to_the_accounts_other_devices() {
    let s = TestServer::start().await;
    let (app, a1, mut a2, mut b1) = ann_twice_and_bob(&s, "clearex").await;
    let ack = a1.c.client.send_message(text("bob", "x1", "hello")).await;
    assert_eq!(ack.rescode, ResCode::SUCCESS);
    receive(&mut b1.c.events, 1).await;
    let (code, time) =
        a1.c.client
            .delete_history_online_ex(0, "bob", true, "{\"why\":\"tidy\"}")
            .await;
    assert_eq!(code, ResCode::SUCCESS);
    assert!(time > 0);
    let heard = |e: Event| match e {
        Event::DeleteHistory(list) => list,
        _ => unreachable!(),
    };
    let list = heard(
        a2.c.events
            .until(|e| matches!(e, Event::DeleteHistory(_)))
            .await,
    );
    assert_eq!(
        (
            list[0].session_id.as_str(),
            list[0].ext.as_str(),
            list[0].to_type
        ),
        ("bob", "{\"why\":\"tidy\"}", 0)
    );
    // The device that asked hears nothing of its own.
    let mut a1 = a1;
    let until = tokio::time::Instant::now() + Duration::from_millis(200);
    while let Ok(e) = tokio::time::timeout_at(until, a1.c.events.next()).await {
        assert!(!matches!(e, Event::DeleteHistory(_)), "{e:?}");
    }
    // A device that logs in later hears it from its sync.
    let mut a3 = device(&s, "a3");
    login(&a3, &app, "ann").await;
    let list = heard(
        a3.c.events
            .until(|e| matches!(e, Event::DeleteHistory(_)))
            .await,
    );
    assert_eq!(list[0].session_id, "bob");
    let q = |id: &str| HistoryQuery {
        id: id.into(),
        limit_count: 10,
        ..Default::default()
    };
    let mine = a1.c.client.query_online_messages(q("bob")).await;
    assert!(mine.content.is_empty(), "{mine:?}");
    let theirs = b1.c.client.query_online_messages(q("ann")).await;
    assert_eq!(theirs.content.len(), 1, "bob keeps his");
    // Bad requests.
    let (code, _) =
        a1.c.client
            .delete_history_online_ex(1, "t1", true, "")
            .await;
    assert_eq!(code, ResCode::PARAMETER_ERROR);
    let long = "x".repeat(1024);
    let (code, _) =
        a1.c.client
            .delete_history_online_ex(0, "bob", true, &long)
            .await;
    assert_eq!(code, ResCode::PARAMETER_ERROR);
}

/// NIM's local query options: forward in time from the anchor (oldest
/// first), the page reversed, and an end time on the far side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_history_is_paged_in_both_directions() {
    use magpie_client::LocalQueryOptions;
    let s = TestServer::start().await;
    let (_app, a1, _a2, mut b1) = ann_twice_and_bob(&s, "localdir").await;
    for id in ["d1", "d2", "d3"] {
        let ack = a1.c.client.send_message(text("bob", id, id)).await;
        assert_eq!(ack.rescode, ResCode::SUCCESS);
    }
    let got = receive(&mut b1.c.events, 3).await;
    let times: Vec<i64> = got.iter().map(|m| m.content.time).collect();
    let page = |anchor: i64, opts: LocalQueryOptions| {
        let c = b1.c.client.clone();
        async move {
            let r = c.query_local_messages_with(0, "ann", 2, anchor, opts).await;
            assert_eq!(r.rescode, ResCode::SUCCESS);
            r.content
                .iter()
                .map(|m| m.client_msg_id.clone())
                .collect::<Vec<_>>()
        }
    };
    let fwd = LocalQueryOptions {
        backward: true,
        ..Default::default()
    };
    assert_eq!(page(0, LocalQueryOptions::default()).await, ["d3", "d2"]);
    assert_eq!(page(0, fwd).await, ["d1", "d2"], "oldest first");
    assert_eq!(
        page(
            0,
            LocalQueryOptions {
                reverse: true,
                ..fwd
            }
        )
        .await,
        ["d2", "d1"]
    );
    if times[0] < times[1] && times[1] < times[2] {
        assert_eq!(page(times[0], fwd).await, ["d2", "d3"], "after the anchor");
        let end = LocalQueryOptions {
            end_time: times[2],
            ..fwd
        };
        assert_eq!(page(times[0], end).await, ["d2"], "before the end time");
        let back = LocalQueryOptions {
            end_time: times[0],
            ..Default::default()
        };
        assert_eq!(page(times[2], back).await, ["d2"], "back to the end time");
    }
}
