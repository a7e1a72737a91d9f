//! What NIM's login chapter asks of the server besides login: the server's
//! clock, the multiport push switch kept per account and synced to the
//! account's other devices, and each device's push token.

use magpie_client::Event;
use magpie_proto::types::client_type as ct;
use magpie_proto::ResCode;
use magpie_store::{AccountId, AccountStore};
use magpie_testkit::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A device logged in and through its post-login sync, with the push
/// switch synced at login (it comes before the data sync ends).
async fn device(
    s: &TestServer,
    app: &TestApp,
    account: &str,
    dev: &str,
    t: u32,
) -> (TestClient, Option<u32>) {
    let mut c = TestClient::new(s.options().with_device_id(dev).with_client_type(t));
    let r = c.login(app, account, "t").await;
    assert!(r.is_success(), "{dev}: {r:?}");
    let mut switch = None;
    loop {
        match c.events.next().await {
            Event::PushConfigSync(v) => switch = Some(v),
            Event::DataSync(_) => break,
            _ => {}
        }
    }
    (c, switch)
}

async fn synced(c: &mut TestClient) -> u32 {
    match c
        .events
        .until(|e| matches!(e, Event::PushConfigSync(_)))
        .await
    {
        Event::PushConfigSync(v) => v,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn the_server_clock_is_asked_then_reused_for_a_second() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "tim", "t").await;
    let c = TestClient::new(s.options());
    // Not logged in: computed locally, and said why.
    let r = c.client.server_current_time(false).await;
    assert_eq!(
        (r.rescode, r.calc_local),
        (ResCode::LOCAL_LOGIN_UNDONE, true)
    );
    assert!(c.login(&app, "tim", "t").await.is_success());
    let before = wall_ms();
    let r = c.client.server_current_time(false).await;
    let after = wall_ms();
    assert_eq!(
        (r.rescode, r.calc_local),
        (ResCode::SUCCESS, false),
        "{r:?}"
    );
    // The server runs on this machine: its clock is ours.
    assert!(
        r.time >= before - 5 && r.time <= after + 5,
        "{r:?} not in [{before}, {after}]"
    );
    // Asked again within a second: computed locally.
    let again = c.client.server_current_time(false).await;
    assert_eq!((again.rescode, again.calc_local), (ResCode::SUCCESS, true));
    assert!(again.time >= r.time - 5);
    // Asked to compute locally: no request.
    assert!(c.client.server_current_time(true).await.calc_local);
}

#[tokio::test]
async fn the_multiport_push_switch_is_stored_and_synced_to_the_other_devices() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "pam", "t").await;
    let (mut pc, at_login) = device(&s, &app, "pam", "pc", ct::PC_WINDOWS).await;
    // The first login syncs the switch as the server has it: 2 by default.
    assert_eq!(at_login, Some(2));
    let (mut phone, at_login) = device(&s, &app, "pam", "phone", ct::IOS).await;
    assert_eq!(at_login, Some(2));
    let r = pc.client.get_multiport_push_config().await;
    assert_eq!((r.rescode, r.switch_open), (ResCode::SUCCESS, 2));
    // The PC turns it on: the phone hears it, the PC does not (it asked).
    let r = pc.client.set_multiport_push_config(1).await;
    assert_eq!((r.rescode, r.switch_open), (ResCode::SUCCESS, 1));
    assert_eq!(synced(&mut phone).await, 1);
    let until = tokio::time::Instant::now() + Duration::from_millis(200);
    while let Ok(e) = tokio::time::timeout_at(until, pc.events.next()).await {
        assert!(
            !matches!(e, Event::PushConfigSync(_)),
            "the device that set it hears no sync"
        );
    }
    let r = phone.client.get_multiport_push_config().await;
    assert_eq!((r.rescode, r.switch_open), (ResCode::SUCCESS, 1));
    // Stored: a new device learns it at login.
    let (_web, at_login) = device(&s, &app, "pam", "web", ct::WEB).await;
    assert_eq!(at_login, Some(1));
    let stored = s
        .store
        .account(app_id(&s, &app).await, &AccountId::parse("pam").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.switch_open, 1);
    // Bad values are refused and change nothing.
    let r = pc.client.set_multiport_push_config(3).await;
    assert_eq!(r.rescode, ResCode::PARAMETER_ERROR);
    assert_eq!(pc.client.get_multiport_push_config().await.switch_open, 1);
    // Not logged in: 20001.
    pc.client.logout(1).await;
    let r = pc.client.set_multiport_push_config(2).await;
    assert_eq!(r.rescode, ResCode::LOCAL_LOGIN_UNDONE);
}

/// Stick-top sessions are kept on the server: a change on one device is
/// answered with the session as it now is and heard by the account's other
/// online devices (not by the one that made it); a device that logs in
/// later reads the same list; update and cancel need the session on top.
#[tokio::test]
async fn sessions_on_top_are_kept_on_the_server_and_told_to_the_other_devices() {
    use magpie_proto::frame::{stick_top_action as act, StickTopRequest};
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "sal", "t").await;
    let (mut pc, _) = device(&s, &app, "sal", "pc", ct::PC_WINDOWS).await;
    let (mut phone, _) = device(&s, &app, "sal", "phone", ct::IOS).await;
    let req = |action, id: &str, ext: &str| StickTopRequest {
        action,
        to_type: 0,
        id: id.into(),
        ext: ext.into(),
    };
    let set = pc.client.stick_top(req(act::SET, "bob", "pin")).await;
    assert_eq!(set.code, ResCode::SUCCESS, "{set:?}");
    let info = set.info.expect("the session as it now is");
    assert!(info.top && info.id == "bob" && info.ext == "pin" && info.create_time > 0);
    let heard = changed(&mut phone).await;
    assert_eq!((heard.action, &heard.info), (act::SET, &info));
    let upd = phone
        .client
        .stick_top(req(act::UPDATE, "bob", "pin2"))
        .await;
    let upd_info = upd.info.expect("updated");
    assert_eq!(
        (upd.code, upd_info.create_time, upd_info.ext.as_str()),
        (ResCode::SUCCESS, info.create_time, "pin2")
    );
    assert_eq!(changed(&mut pc).await.info, upd_info);
    assert_eq!(
        pc.client.stick_top(req(act::SET, "cat", "")).await.code,
        ResCode::SUCCESS
    );
    assert_eq!(changed(&mut phone).await.info.id, "cat");
    // A device that logs in later reads the list from the server.
    let (web, _) = device(&s, &app, "sal", "web", ct::WEB).await;
    let list = web.client.stick_top(req(act::LIST, "", "")).await;
    assert_eq!(list.code, ResCode::SUCCESS);
    let ids: Vec<&str> = list.list.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["cat", "bob"], "the most recently set first");
    // Cancel: the others hear it, with top false.
    let cancel = web.client.stick_top(req(act::CANCEL, "bob", "")).await;
    assert_eq!(cancel.code, ResCode::SUCCESS);
    for c in [&mut pc, &mut phone] {
        let heard = changed(c).await;
        assert_eq!(
            (heard.action, heard.info.top, heard.info.id.as_str()),
            (act::CANCEL, false, "bob")
        );
    }
    // The one that made a change hears none of its own.
    let until = tokio::time::Instant::now() + Duration::from_millis(200);
    let mut web = web;
    while let Ok(e) = tokio::time::timeout_at(until, web.events.next()).await {
        assert!(!matches!(e, Event::StickTopChanged(_)), "{e:?}");
    }
    // Not on top: 404; bad ids: 414; not logged in: 20001.
    assert_eq!(
        web.client.stick_top(req(act::CANCEL, "bob", "")).await.code,
        ResCode::NOT_EXIST
    );
    assert_eq!(
        web.client
            .stick_top(req(act::UPDATE, "dan", "x"))
            .await
            .code,
        ResCode::NOT_EXIST
    );
    assert_eq!(
        web.client.stick_top(req(act::SET, "", "x")).await.code,
        ResCode::PARAMETER_ERROR
    );
    assert_eq!(
        web.client.stick_top(req(9, "bob", "")).await.code,
        ResCode::PARAMETER_ERROR
    );
    let long = "x".repeat(2000);
    assert_eq!(
        web.client.stick_top(req(act::SET, "bob", &long)).await.code,
        ResCode::PARAMETER_ERROR
    );
    web.client.logout(1).await;
    assert_eq!(
        web.client.stick_top(req(act::LIST, "", "")).await.code,
        ResCode::LOCAL_LOGIN_UNDONE
    );
    let left = pc.client.stick_top(req(act::LIST, "", "")).await;
    assert_eq!(
        left.list.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["cat"]
    );
    // At most 1,000 on top: the next one gets 419; one there may be set again.
    for k in 1..magpie_store::MAX_STICK_TOPS {
        let r = pc
            .client
            .stick_top(req(act::SET, &format!("s{k}"), ""))
            .await;
        assert_eq!(r.code, ResCode::SUCCESS, "{k}");
    }
    let over = pc.client.stick_top(req(act::SET, "one-more", "")).await;
    assert_eq!(over.code, ResCode::OVERRUN);
    let again = pc.client.stick_top(req(act::SET, "cat", "x")).await;
    assert_eq!(again.code, ResCode::SUCCESS);
    let full = pc.client.stick_top(req(act::LIST, "", "")).await;
    assert_eq!(
        (full.code, full.list.len()),
        (ResCode::SUCCESS, magpie_store::MAX_STICK_TOPS)
    );
}

async fn changed(c: &mut TestClient) -> magpie_proto::frame::StickTopChanged {
    match c
        .events
        .until(|e| matches!(e, Event::StickTopChanged(_)))
        .await
    {
        Event::StickTopChanged(c) => c,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn push_tokens_are_kept_per_device() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "pia", "t").await;
    let (phone, _) = device(&s, &app, "pia", "phone-1", ct::IOS).await;
    let (pad, _) = device(&s, &app, "pia", "pad-1", ct::IOS).await;
    assert_eq!(
        phone
            .client
            .update_push_token("apns-aaa", "cert-prod")
            .await,
        ResCode::SUCCESS
    );
    assert_eq!(
        pad.client.update_push_token("apns-bbb", "").await,
        ResCode::SUCCESS
    );
    assert_eq!(
        phone
            .client
            .update_push_token("apns-ccc", "cert-prod")
            .await,
        ResCode::SUCCESS
    );
    let tokens: Vec<(String, String, String)> = s
        .store
        .push_tokens(app_id(&s, &app).await, &AccountId::parse("pia").unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.device_id, t.token, t.cer_name))
        .collect();
    assert_eq!(
        tokens,
        [
            ("pad-1".into(), "apns-bbb".into(), String::new()),
            ("phone-1".into(), "apns-ccc".into(), "cert-prod".into())
        ]
    );
    let long = "x".repeat(2000);
    assert_eq!(
        pad.client.update_push_token(&long, "").await,
        ResCode::PARAMETER_ERROR
    );
}

async fn app_id(s: &TestServer, app: &TestApp) -> i64 {
    use magpie_store::AppStore;
    s.store.app_by_key(&app.key).await.unwrap().unwrap().id
}
