//! NIM's server API for messages: the app server sends P2P messages and
//! custom notifications (V1 and V2, single and batch), devices receive them
//! live or at their next sync, and a receiver's blacklist refuses a sender.

use magpie_client::{Event, ImMessage, ReceivedMessage};
use magpie_proto::msg::{message_type, RES_IN_BLACK};
use magpie_proto::types::client_type;
use magpie_testkit::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn online(s: &TestServer, app: &TestApp, account: &str, dev: &str) -> TestClient {
    let mut c = TestClient::new(s.options().with_device_id(dev));
    let r = c.login(app, account, "t").await;
    assert!(r.is_success(), "{r:?}");
    c.events.until(|e| matches!(e, Event::DataSync(_))).await;
    c
}

async fn changed(c: &mut TestClient) -> Vec<magpie_client::MsgStatusChanged> {
    match c
        .events
        .until(|e| matches!(e, Event::MsgStatusChanged(_)))
        .await
    {
        Event::MsgStatusChanged(list) => list,
        _ => unreachable!(),
    }
}

async fn received(c: &mut TestClient) -> ReceivedMessage {
    match c.events.until(|e| matches!(e, Event::Receive(_))).await {
        Event::Receive(m) => m,
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_messages_from_the_app_server_reach_devices_live_and_by_sync() {
    let s = TestServer::start().await;
    let app = s.app("srv").await;
    for a in ["ann", "bob", "cat"] {
        s.account(&app, a, "t").await;
    }
    let admin = s.admin(&app);
    let mut bob = online(&s, &app, "bob", "b1").await;
    let v = admin
        .form(
            "/nimserver/msg/sendMsg.action",
            &[
                ("from", "ann"),
                ("ope", "0"),
                ("to", "bob"),
                ("type", "0"),
                ("body", r#"{"msg":"hello from the server"}"#),
                ("ext", r#"{"k":1}"#),
            ],
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let msgid = v["data"]["msgid"].as_i64().expect("msgid");
    assert!(v["data"]["timetag"].as_i64().unwrap() > 0);
    let m = received(&mut bob).await;
    assert_eq!(m.content.msg_body, "hello from the server");
    assert_eq!(m.content.from_id, "ann");
    assert_eq!(m.content.from_client_type, client_type::REST_API);
    assert_eq!(m.content.server_msg_id, msgid);
    assert_eq!(m.content.extra["server_ext"], r#"{"k":1}"#);

    // A custom message with persistent off: live only, never synced later.
    let v = admin
        .form(
            "/nimserver/msg/sendMsg.action",
            &[
                ("from", "ann"),
                ("to", "bob"),
                ("type", "100"),
                ("body", r#"{"card":7}"#),
                ("option", r#"{"persistent":false}"#),
            ],
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let m = received(&mut bob).await;
    assert_eq!(
        (m.content.msg_type, m.content.msg_attach.as_str()),
        (message_type::CUSTOM, r#"{"card":7}"#)
    );

    // Batch: Cat is offline and gets hers at login; a stranger is reported.
    let v = admin
        .form(
            "/nimserver/msg/sendBatchMsg.action",
            &[
                ("fromAccid", "ann"),
                ("toAccids", r#"["bob","cat","nobody"]"#),
                ("type", "0"),
                ("body", r#"{"msg":"to all"}"#),
                ("returnMsgid", "true"),
            ],
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["unregister"], json!(["nobody"]));
    let ids = v["msgids"].as_object().expect("msgids");
    assert_eq!(ids.len(), 2, "{v}");
    let m = received(&mut bob).await;
    assert_eq!(m.content.msg_body, "to all");
    assert_eq!(m.content.server_msg_id, ids["bob"].as_i64().unwrap());
    let mut cat = TestClient::new(s.options().with_device_id("c1"));
    assert!(cat.login(&app, "cat", "t").await.is_success());
    let m = received(&mut cat).await;
    assert_eq!(m.content.msg_body, "to all");
    assert_eq!(m.feature, 1, "an offline message");

    // Custom notifications: online only, stored, and a batch.
    for save in ["1", "2"] {
        let v = admin
            .form(
                "/nimserver/msg/sendAttachMsg.action",
                &[
                    ("from", "ann"),
                    ("msgtype", "0"),
                    ("to", "bob"),
                    ("attach", &format!(r#"{{"save":{save}}}"#)),
                    ("save", save),
                ],
            )
            .await;
        assert_eq!(v["code"], 200, "{v}");
        let e = bob.events.until(|e| matches!(e, Event::SysMsg(_))).await;
        let Event::SysMsg(n) = e else { unreachable!() };
        assert_eq!(n.content.attach, format!(r#"{{"save":{save}}}"#));
        assert_eq!(n.content.from_account, "ann");
        assert_eq!(n.content.custom_save_flag, (save == "2") as i32);
    }
    let v = admin
        .form(
            "/nimserver/msg/sendBatchAttachMsg.action",
            &[
                ("fromAccid", "ann"),
                ("toAccids", r#"["bob","ghost"]"#),
                ("attach", r#"{"b":1}"#),
            ],
        )
        .await;
    assert_eq!(
        (v["code"].clone(), v["unregister"].clone()),
        (json!(200), json!(["ghost"])),
        "{v}"
    );
    bob.events.until(|e| matches!(e, Event::SysMsg(_))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_messages_and_notifications_reach_devices() {
    let s = TestServer::start().await;
    let app = s.app("srv2").await;
    for a in ["ann", "bob", "cat"] {
        s.account(&app, a, "t").await;
    }
    let admin = s.admin(&app);
    let mut bob = online(&s, &app, "bob", "b1").await;
    let v = admin
        .json(
            Method::POST,
            "/im/v2/conversations/ann|1|bob/messages",
            Some(json!({
                "message": {"message_type": 100, "attachment": {"kind": "card"}, "message_client_id": "srv-1"},
                "message_config": {"roaming_enabled": false},
            })),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let d = &v["data"];
    assert_eq!(
        (
            d["sender_id"].clone(),
            d["receiver_id"].clone(),
            d["message_client_id"].clone()
        ),
        (json!("ann"), json!("bob"), json!("srv-1"))
    );
    let m = received(&mut bob).await;
    assert_eq!(m.content.client_msg_id, "srv-1");
    assert_eq!(
        m.content.server_msg_id,
        d["message_server_id"].as_i64().unwrap()
    );
    let attach: Value = serde_json::from_str(&m.content.msg_attach).unwrap();
    assert_eq!(attach, json!({"kind": "card"}));

    let v = admin
        .json(
            Method::POST,
            "/im/v2/conversations/messages",
            Some(json!({
                "sender_id": "ann",
                "receiver_ids": ["bob", "cat", "ghost"],
                "message": {"message_type": 0, "text": "batch"},
            })),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(
        v["data"]["success_list"].as_array().unwrap().len(),
        2,
        "{v}"
    );
    assert_eq!(v["data"]["failed_list"][0]["receiver_id"], "ghost");
    assert_eq!(received(&mut bob).await.content.msg_body, "batch");
    // A client id given for a batch: each receiver gets its own message, and
    // the same batch again is recognised message by message.
    let batch = json!({
        "sender_id": "ann",
        "receiver_ids": ["bob", "cat"],
        "message": {"message_type": 0, "text": "batch with id", "message_client_id": "b-1"},
    });
    let first = admin
        .json(
            Method::POST,
            "/im/v2/conversations/messages",
            Some(batch.clone()),
        )
        .await;
    let list = first["data"]["success_list"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{first}");
    assert_ne!(
        list[0]["message_server_id"], list[1]["message_server_id"],
        "{first}"
    );
    let m = received(&mut bob).await;
    assert_eq!(
        (
            m.content.msg_body.as_str(),
            m.content.client_msg_id.as_str()
        ),
        ("batch with id", "b-1:bob")
    );
    let again = admin
        .json(Method::POST, "/im/v2/conversations/messages", Some(batch))
        .await;
    assert_eq!(
        again["data"]["success_list"], first["data"]["success_list"],
        "{again}"
    );

    let v = admin
        .json(
            Method::POST,
            "/im/v2/custom_notification",
            Some(json!({"sender_id": "ann", "type": 1, "receiver_id": "bob", "content": "{\"n\":1}"})),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let e = bob.events.until(|e| matches!(e, Event::SysMsg(_))).await;
    let Event::SysMsg(n) = e else { unreachable!() };
    assert_eq!(n.content.attach, "{\"n\":1}");
    let v = admin
        .json(
            Method::POST,
            "/im/v2/custom_notification/batch",
            Some(
                json!({"sender_id": "ann", "receiver_ids": ["bob", "cat"], "content": "{\"n\":2}",
                        "notification_config": {"offline_enabled": true}}),
            ),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["data"]["failed_list"], json!([]));
    let mut cat = TestClient::new(s.options().with_device_id("c1"));
    assert!(cat.login(&app, "cat", "t").await.is_success());
    // In log order: the message first, then the notification.
    assert_eq!(received(&mut cat).await.content.msg_body, "batch");
    let e = cat.events.until(|e| matches!(e, Event::SysMsg(_))).await;
    let Event::SysMsg(n) = e else { unreachable!() };
    assert_eq!(n.content.attach, "{\"n\":2}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_server_sends_get_clear_errors_and_a_blacklist_refuses_with_7101() {
    let s = TestServer::start().await;
    let app = s.app("srv3").await;
    for a in ["ann", "bob"] {
        s.account(&app, a, "t").await;
    }
    let admin = s.admin(&app);
    let send = |from: &'static str, ope: &'static str, t: &'static str, body: &'static str| {
        let admin = admin.clone();
        async move {
            admin
                .form(
                    "/nimserver/msg/sendMsg.action",
                    &[
                        ("from", from),
                        ("ope", ope),
                        ("to", "bob"),
                        ("type", t),
                        ("body", body),
                    ],
                )
                .await
        }
    };
    let cases = [
        (send("ann", "1", "0", r#"{"msg":"x"}"#).await, 414, "team"),
        (send("ann", "0", "0", "not json").await, 414, "JSON"),
        (send("ann", "0", "0", r#"{"text":"x"}"#).await, 414, "msg"),
        (send("ann", "0", "5", r#"{}"#).await, 414, "type 5"),
        (
            send("nobody", "0", "0", r#"{"msg":"x"}"#).await,
            404,
            "sender",
        ),
    ];
    for (v, code, word) in cases {
        assert_eq!(v["code"], code, "{v}");
        assert!(v["desc"].as_str().unwrap().contains(word), "{v}");
    }
    let v = admin
        .form(
            "/nimserver/msg/sendMsg.action",
            &[
                ("from", "ann"),
                ("to", "bob"),
                ("type", "0"),
                ("body", &format!(r#"{{"msg":"{}"}}"#, "x".repeat(5001))),
            ],
        )
        .await;
    assert_eq!(v["code"], 414, "{v}");

    // Bob blacklists Ann: her messages are refused, from the server and her devices.
    let set = |value: &'static str| {
        let admin = admin.clone();
        async move {
            admin
                .form(
                    "/nimserver/user/setSpecialRelation.action",
                    &[
                        ("accid", "bob"),
                        ("targetAcc", "ann"),
                        ("relationType", "1"),
                        ("value", value),
                    ],
                )
                .await
        }
    };
    assert_eq!(set("1").await["code"], 200);
    let v = admin
        .form(
            "/nimserver/user/listBlackAndMuteList.action",
            &[("accid", "bob")],
        )
        .await;
    assert_eq!(v["blacklist"], json!(["ann"]), "{v}");
    assert_eq!(
        send("ann", "0", "0", r#"{"msg":"x"}"#).await["code"],
        RES_IN_BLACK.0
    );
    let ann = online(&s, &app, "ann", "a1").await;
    let ack = ann
        .client
        .send_message(ImMessage {
            to_accid: "bob".into(),
            msg_type: message_type::TEXT,
            msg_body: "let me in".into(),
            client_msg_id: "a-1".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(ack.rescode, RES_IN_BLACK, "{ack:?}");
    assert_eq!(set("0").await["code"], 200);
    assert_eq!(send("ann", "0", "0", r#"{"msg":"x"}"#).await["code"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_the_newest_entries_and_a_device_resumes_after_them() {
    let mut cfg = test_config();
    cfg.retention_interval_ms = 50;
    let s = TestServer::start_with(cfg).await;
    let app = s.app("ret").await;
    for a in ["ann", "bob"] {
        s.account(&app, a, "t").await;
    }
    let admin = s.admin(&app);
    let send = |text: String| {
        let admin = admin.clone();
        async move {
            let body = json!({"msg": text}).to_string();
            let v = admin
                .form(
                    "/nimserver/msg/sendMsg.action",
                    &[
                        ("from", "ann"),
                        ("to", "bob"),
                        ("type", "0"),
                        ("body", &body),
                    ],
                )
                .await;
            assert_eq!(v["code"], 200, "{v}");
        }
    };
    for i in 0..10 {
        send(format!("old {i}")).await;
    }
    // Nothing is removed while the app keeps everything.
    let v = admin
        .json(Method::POST, "/magpie/v1/app/messaging/actions/prune", None)
        .await;
    assert_eq!(v["data"], json!({"messages": 0, "entries": 0}), "{v}");
    let v = admin
        .json(
            Method::PUT,
            "/magpie/v1/app/messaging",
            Some(json!({"retention_entries": 3})),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let v = admin
        .json(Method::POST, "/magpie/v1/app/messaging/actions/prune", None)
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let removed = v["data"]["entries"].as_u64().unwrap();
    // Bob's log kept 3 of 10; Ann's (her roaming copies) too.
    assert_eq!(removed, 14, "{v}");
    let mut bob = TestClient::new(s.options().with_device_id("b1"));
    assert!(bob.login(&app, "bob", "t").await.is_success());
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(received(&mut bob).await.content.msg_body);
    }
    assert_eq!(got, ["old 7", "old 8", "old 9"]);
    bob.events.until(|e| matches!(e, Event::DataSync(_))).await;
    bob.client.logout(1).await;

    // The background job applies it too: after a round that started once
    // these were stored, Bob finds only the newest 3 of them.
    for i in 0..6 {
        send(format!("new {i}")).await;
    }
    let mut rounds = s.handle().retention_rounds();
    let now = *rounds.borrow();
    tokio::time::timeout(WAIT, rounds.wait_for(|n| *n >= now + 2))
        .await
        .expect("retention rounds in time")
        .unwrap();
    assert!(bob.login(&app, "bob", "t").await.is_success());
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(received(&mut bob).await.content.msg_body);
    }
    assert_eq!(got, ["new 3", "new 4", "new 5"]);
}

/// NIM's `/msg/recall.action`: the app server recalls a message by its
/// server id, sender and receiver; the receiver's device gets the recall;
/// a wrong sender or id is 404, a team recall 414; `ignoreTime` is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_server_recalls_a_message() {
    let s = TestServer::start().await;
    let app = s.app("srv-recall").await;
    for a in ["ann", "bob"] {
        s.account(&app, a, "t").await;
    }
    let admin = s.admin(&app);
    let mut bob = online(&s, &app, "bob", "b1").await;
    let v = admin
        .form(
            "/nimserver/msg/sendMsg.action",
            &[
                ("from", "ann"),
                ("to", "bob"),
                ("type", "0"),
                ("body", r#"{"msg":"wrong chat"}"#),
            ],
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let id = v["data"]["msgid"].as_i64().unwrap().to_string();
    let time = v["data"]["timetag"].as_i64().unwrap().to_string();
    let m = received(&mut bob).await;
    let recall = |from: &'static str, kind: &'static str, id: String| {
        let admin = admin.clone();
        let time = time.clone();
        async move {
            admin
                .form(
                    "/nimserver/msg/recall.action",
                    &[
                        ("deleteMsgid", id.as_str()),
                        ("timetag", time.as_str()),
                        ("type", kind),
                        ("from", from),
                        ("to", "bob"),
                        ("msg", "ann took it back"),
                        ("ignoreTime", "1"),
                    ],
                )
                .await
        }
    };
    let v = recall("bob", "7", id.clone()).await;
    assert_eq!(v["code"], 404, "not bob's message: {v}");
    let v = recall("ann", "7", "999999".into()).await;
    assert_eq!(v["code"], 404, "{v}");
    let v = recall("ann", "8", id.clone()).await;
    assert_eq!(v["code"], 414, "{v}");
    let v = recall("ann", "7", id.clone()).await;
    assert_eq!(v["code"], 200, "{v}");
    let list = match bob.events.until(|e| matches!(e, Event::Recall(_))).await {
        Event::Recall(list) => list,
        _ => unreachable!(),
    };
    assert_eq!(
        (
            list[0].msg_id.as_str(),
            list[0].from_id.as_str(),
            list[0].notify.as_str()
        ),
        (m.content.client_msg_id.as_str(), "ann", "ann took it back")
    );
    assert!(list[0].msg_exist);
}

/// NIM's server receipts: `markReadMsg.action` (by client id) and V2
/// `p2p_read_receipt` (by server id) tell the sender's devices that the
/// reader read its message; a message the reader never got is 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_server_sends_read_receipts() {
    let s = TestServer::start().await;
    let app = s.app("srv-receipt").await;
    for a in ["ann", "bob"] {
        s.account(&app, a, "t").await;
    }
    let admin = s.admin(&app);
    let mut ann = online(&s, &app, "ann", "a1").await;
    let mut sent = Vec::new();
    for id in ["r1", "r2"] {
        let ack = ann
            .client
            .send_message(ImMessage {
                to_accid: "bob".into(),
                msg_body: "read me".into(),
                client_msg_id: id.into(),
                ..Default::default()
            })
            .await;
        assert_eq!(ack.rescode, ResCode::SUCCESS);
        sent.push(ack);
    }
    let v = admin
        .form(
            "/nimserver/msg/markReadMsg.action",
            &[("from", "bob"), ("to", "ann"), ("msgidClient", "r1")],
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let list = changed(&mut ann).await;
    assert_eq!(
        (
            list[0].talk_id.as_str(),
            list[0].msg_timetag,
            list[0].status
        ),
        ("bob", sent[0].msg_timetag, 7)
    );
    let v = admin
        .json(
            Method::POST,
            "/im/v2/messages/actions/p2p_read_receipt",
            Some(json!({"from_account_id": "bob", "to_account_id": "ann", "message_server_id": sent[1].server_msg_id})),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let list = changed(&mut ann).await;
    assert_eq!(list[0].msg_timetag, sent[1].msg_timetag);
    // Ann never got r1 from bob: not a message bob can acknowledge to her.
    let v = admin
        .form(
            "/nimserver/msg/markReadMsg.action",
            &[("from", "ann"), ("to", "bob"), ("msgidClient", "r1")],
        )
        .await;
    assert_eq!(v["code"], 404, "{v}");
    let v = admin
        .json(
            Method::POST,
            "/im/v2/messages/actions/p2p_read_receipt",
            Some(json!({"from_account_id": "bob", "to_account_id": "ann", "message_server_id": 987654})),
        )
        .await;
    assert_eq!(v["code"], 404, "{v}");
}

/// NIM's history API: the app server reads a conversation's messages (both
/// directions, newest first or oldest first, by type, at most `limit`) and
/// an account's server-side sessions with their last messages; bad times
/// and limits are 414.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_server_reads_a_conversations_history_and_an_accounts_sessions() {
    let s = TestServer::start().await;
    let app = s.app("hist").await;
    for a in ["ann", "bob", "cat"] {
        s.account(&app, a, "t").await;
    }
    let admin = s.admin(&app);
    let send = |from: &'static str, to: &'static str, kind: &'static str, body: &'static str| {
        let admin = admin.clone();
        async move {
            let v = admin
                .form(
                    "/nimserver/msg/sendMsg.action",
                    &[("from", from), ("to", to), ("type", kind), ("body", body)],
                )
                .await;
            assert_eq!(v["code"], 200, "{v}");
            v["data"]["msgid"].as_i64().unwrap()
        }
    };
    let m1 = send("ann", "bob", "0", r#"{"msg":"one"}"#).await;
    let m2 = send("bob", "ann", "100", r#"{"card":2}"#).await;
    let m3 = send("ann", "bob", "0", r#"{"msg":"three"}"#).await;
    send("ann", "cat", "0", r#"{"msg":"other"}"#).await;
    let end = (magpie_store::now_ms() + 60_000).to_string();
    let query = |extra: &[(&'static str, &'static str)]| {
        let admin = admin.clone();
        let mut form = vec![
            ("from", "ann"),
            ("to", "bob"),
            ("begintime", "0"),
            ("endtime", end.as_str()),
        ];
        form.extend_from_slice(extra);
        let form: Vec<(String, String)> = form
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        async move {
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            admin
                .form("/nimserver/history/querySessionMsg.action", &pairs)
                .await
        }
    };
    let ids = |v: &Value| -> Vec<i64> {
        v["msgs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["msgid"].as_i64().unwrap())
            .collect()
    };
    let v = query(&[]).await;
    assert_eq!(
        (v["code"].as_i64(), v["size"].as_i64()),
        (Some(200), Some(3)),
        "{v}"
    );
    assert_eq!(ids(&v), [m3, m2, m1], "newest first, both directions");
    let first = &v["msgs"][2];
    assert_eq!(
        (
            first["from"].as_str(),
            first["type"].as_i64(),
            first["body"]["msg"].as_str()
        ),
        (Some("ann"), Some(0), Some("one"))
    );
    assert_eq!(v["msgs"][1]["body"]["card"], 2, "a custom message's body");
    assert!(first["msgidclient"].is_string() && first["sendtime"].as_i64().unwrap() > 0);
    assert_eq!(
        ids(&query(&[("reverse", "1"), ("limit", "2")]).await),
        [m1, m2]
    );
    assert_eq!(ids(&query(&[("type", "100")]).await), [m2]);
    for bad in [
        vec![("limit", "0")],
        vec![("limit", "101")],
        vec![("reverse", "3")],
        vec![("type", "x")],
    ] {
        let v = query(&bad).await;
        assert_eq!(v["code"], 414, "{bad:?}: {v}");
    }
    let v = admin
        .form(
            "/nimserver/history/querySessionMsg.action",
            &[
                ("from", "ann"),
                ("to", "bob"),
                ("begintime", "5"),
                ("endtime", "5"),
            ],
        )
        .await;
    assert_eq!(v["code"], 414, "bad time: {v}");

    // ann's sessions: cat (the newest), then bob, each with its last message.
    let v = admin
        .form(
            "/nimserver/history/querySessionList.action",
            &[("accid", "ann")],
        )
        .await;
    assert_eq!(
        (v["code"].as_i64(), v["hasMore"].as_bool()),
        (Some(200), Some(false)),
        "{v}"
    );
    let sessions = v["sessions"].as_array().unwrap();
    let to: Vec<&str> = sessions.iter().map(|x| x["to"].as_str().unwrap()).collect();
    let mut sorted = to.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["bob", "cat"], "{v}");
    let bob = sessions.iter().find(|x| x["to"] == "bob").unwrap();
    assert_eq!(
        (
            bob["lastMsg"]["msgid"].as_i64(),
            bob["lastMsgType"].as_i64()
        ),
        (Some(m3), Some(0))
    );
    let v = admin
        .form(
            "/nimserver/history/querySessionList.action",
            &[("accid", "ann"), ("limit", "1"), ("needLastMsg", "0")],
        )
        .await;
    // One session, or both when they share a millisecond (a page holds
    // every session of its last one).
    let n = v["sessions"].as_array().unwrap().len();
    assert_eq!(
        (n == 1 || n == 2, v["hasMore"].as_bool()),
        (true, Some(n == 1))
    );
    assert!(v["sessions"][0].get("lastMsg").is_none(), "{v}");
    let v = admin
        .form(
            "/nimserver/history/querySessionList.action",
            &[("accid", "bob"), ("limit", "500")],
        )
        .await;
    assert_eq!(v["code"], 414, "{v}");
    let v = admin
        .form(
            "/nimserver/history/querySessionList.action",
            &[("accid", "bob")],
        )
        .await;
    assert_eq!(v["sessions"][0]["to"], "ann", "{v}");
}

/// NIM's one-way recall and roaming deletion from the app server: a
/// one-way recall takes a message from the receiver only (its devices get
/// the recall, its history loses it; the sender's keeps it); a deleted
/// roaming session never reaches the account's devices that log in later,
/// while the server's history stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_server_recalls_one_way_and_deletes_roaming_sessions() {
    let s = TestServer::start().await;
    let app = s.app("oneway").await;
    for a in ["ann", "bob"] {
        s.account(&app, a, "t").await;
    }
    let admin = s.admin(&app);
    let mut bob = online(&s, &app, "bob", "b1").await;
    let send = |body: &'static str| {
        let admin = admin.clone();
        async move {
            let v = admin
                .form(
                    "/nimserver/msg/sendMsg.action",
                    &[
                        ("from", "ann"),
                        ("to", "bob"),
                        ("type", "0"),
                        ("body", body),
                    ],
                )
                .await;
            assert_eq!(v["code"], 200, "{v}");
            (
                v["data"]["msgid"].as_i64().unwrap().to_string(),
                v["data"]["timetag"].as_i64().unwrap().to_string(),
            )
        }
    };
    let (id, time) = send(r#"{"msg":"oops"}"#).await;
    let m = received(&mut bob).await;
    let one_way = |kind: &'static str, from: &'static str, id: String| {
        let admin = admin.clone();
        let time = time.clone();
        async move {
            admin
                .form(
                    "/nimserver/msg/delMsgOneWay.action",
                    &[
                        ("deleteMsgid", id.as_str()),
                        ("timetag", time.as_str()),
                        ("type", kind),
                        ("from", from),
                        ("to", "bob"),
                        ("msg", "gone for bob"),
                    ],
                )
                .await
        }
    };
    assert_eq!(one_way("14", "ann", id.clone()).await["code"], 414);
    assert_eq!(one_way("13", "bob", id.clone()).await["code"], 404);
    let v = one_way("13", "ann", id.clone()).await;
    assert_eq!(v["code"], 200, "{v}");
    let list = match bob.events.until(|e| matches!(e, Event::Recall(_))).await {
        Event::Recall(list) => list,
        _ => unreachable!(),
    };
    assert_eq!(
        (list[0].msg_id.as_str(), list[0].notify.as_str()),
        (m.content.client_msg_id.as_str(), "gone for bob")
    );
    let history = |from: &'static str| {
        let admin = admin.clone();
        async move {
            let end = (magpie_store::now_ms() + 60_000).to_string();
            let v = admin
                .form(
                    "/nimserver/history/querySessionMsg.action",
                    &[
                        ("from", from),
                        ("to", if from == "ann" { "bob" } else { "ann" }),
                        ("begintime", "0"),
                        ("endtime", end.as_str()),
                    ],
                )
                .await;
            assert_eq!(v["code"], 200, "{v}");
            v["size"].as_i64().unwrap()
        }
    };
    assert_eq!(
        (history("ann").await, history("bob").await),
        (1, 0),
        "ann keeps it"
    );

    // Roaming: bob's later devices never get ann's next messages.
    send(r#"{"msg":"later"}"#).await;
    received(&mut bob).await;
    for (kind, code) in [("2", 414), ("1", 200)] {
        let v = admin
            .form(
                "/nimserver/msg/delRoamSession.action",
                &[("type", kind), ("from", "bob"), ("to", "ann")],
            )
            .await;
        assert_eq!(v["code"], code, "{v}");
    }
    let fresh = online(&s, &app, "bob", "b2").await;
    let local = fresh.client.query_local_messages(0, "ann", 50, 0).await;
    assert!(local.content.is_empty(), "{local:?}");
    assert_eq!(history("bob").await, 1, "the server's history stays");
}
