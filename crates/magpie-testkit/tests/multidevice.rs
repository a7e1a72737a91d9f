//! Multi-device login: policies, kicks, multispot notifications, kick-other.

use magpie_client::{Client, ClientOptions, Event, LoginParams, LoginState};
use magpie_proto::frame::LoginRequest;
use magpie_proto::types::client_type as ct;
use magpie_proto::types::{Kickout, MultiSpot};
use magpie_proto::ServerFrame;
use magpie_testkit::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

async fn set_policy(s: &TestServer, app: &TestApp, policy: Value) {
    let v = s
        .admin(app)
        .json(
            Method::PUT,
            "/magpie/v1/app/device_policy",
            Some(policy.clone()),
        )
        .await;
    assert_eq!(v["code"], 200, "{policy}: {v}");
}

async fn device(s: &TestServer, app: &TestApp, account: &str, dev: &str, t: u32) -> TestClient {
    let mut c = TestClient::new(s.options().with_device_id(dev).with_client_type(t));
    let r = c.login(app, account, "t").await;
    assert!(r.is_success(), "{dev}: {r:?}");
    c.events
        .until(|e| matches!(e, Event::Login(r) if r.login_step == 3))
        .await;
    // The post-login sync ends before the device is settled.
    c.events.until(|e| matches!(e, Event::DataSync(_))).await;
    c
}

async fn kicked(c: &mut TestClient) -> Kickout {
    match c.events.until(|e| matches!(e, Event::Kickout(_))).await {
        Event::Kickout(k) => k,
        _ => unreachable!(),
    }
}

async fn multispot(c: &mut TestClient) -> MultiSpot {
    match c.events.until(|e| matches!(e, Event::MultiSpot(_))).await {
        Event::MultiSpot(m) => m,
        _ => unreachable!(),
    }
}

fn ids(m: &MultiSpot) -> Vec<String> {
    let mut v: Vec<String> = m
        .other_clients_pres
        .iter()
        .map(|p| p.device_id.clone())
        .collect();
    v.sort();
    v
}

/// The first device online, then the second: (kicked?, what each side saw).
async fn pair(policy: Value, first: u32, second: u32) -> (bool, TestClient, TestClient) {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "acc", "t").await;
    set_policy(&s, &app, policy).await;
    let mut a = device(&s, &app, "acc", "first", first).await;
    let b = TestClient::new(
        s.options()
            .with_device_id("second")
            .with_client_type(second),
    );
    let r = b.login(&app, "acc", "t").await;
    assert!(r.is_success(), "{r:?}");
    let others: Vec<String> = r
        .other_clients_pres
        .unwrap()
        .iter()
        .map(|p| p.device_id.clone())
        .collect();
    let was_kicked = match a.events.next().await {
        Event::Kickout(k) => {
            assert_eq!(
                (k.reason_code, k.client_type),
                (1, second),
                "kicker's type and reason 1"
            );
            assert_eq!(
                a.client.wait_for_state(|s| s == LoginState::Kicked).await,
                LoginState::Kicked
            );
            // The new device saw nobody, or the kicked one at most transiently.
            assert!(others.is_empty() || others == ["first"], "{others:?}");
            true
        }
        Event::MultiSpot(m) => {
            assert_eq!(m.multi_spot_notiy_type, 2);
            assert_eq!(ids(&m), ["second"]);
            assert_eq!(others, ["first"]);
            false
        }
        e => panic!("{e:?}"),
    };
    let v = s
        .admin(&app)
        .json(Method::GET, "/magpie/v1/accounts/acc/online", None)
        .await;
    let n = v["data"]["clients"].as_array().unwrap().len();
    assert_eq!(n, if was_kicked { 1 } else { 2 });
    (was_kicked, a, b)
}

#[tokio::test]
async fn single_policy_every_pair_kicks_the_old_device() {
    for (x, y) in [
        (ct::PC_WINDOWS, ct::PC_WINDOWS),
        (ct::PC_WINDOWS, ct::WEB),
        (ct::PC_WINDOWS, ct::MACOS),
        (ct::PC_WINDOWS, ct::ANDROID),
        (ct::ANDROID, ct::IOS),
    ] {
        let (k, _, _) = pair(json!({"mode": "single"}), x, y).await;
        assert!(k, "single: {x}+{y} must kick");
    }
}

#[tokio::test]
async fn desktop_mobile_policy_kicks_within_a_class_only() {
    for (x, y, kick) in [
        (ct::PC_WINDOWS, ct::PC_WINDOWS, true),
        (ct::PC_WINDOWS, ct::WEB, true),
        (ct::PC_WINDOWS, ct::MACOS, true),
        (ct::PC_WINDOWS, ct::ANDROID, false),
        (ct::ANDROID, ct::IOS, true),
        (ct::IOS, ct::WEB, false),
    ] {
        let (k, _, _) = pair(json!({"mode": "desktop_mobile"}), x, y).await;
        assert_eq!(k, kick, "desktop_mobile: {x}+{y}");
    }
}

#[tokio::test]
async fn all_policy_lets_pairs_coexist_and_the_11th_kicks_the_oldest() {
    for (x, y) in [
        (ct::PC_WINDOWS, ct::PC_WINDOWS),
        (ct::PC_WINDOWS, ct::WEB),
        (ct::ANDROID, ct::IOS),
    ] {
        let (k, _, _) = pair(json!({"mode": "all"}), x, y).await;
        assert!(!k, "all: {x}+{y} coexist");
    }
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "many", "t").await;
    set_policy(&s, &app, json!({"mode": "all"})).await;
    let mut devs = Vec::new();
    for i in 0..10 {
        devs.push(device(&s, &app, "many", &format!("d{i}"), ct::WEB).await);
    }
    let eleventh = TestClient::new(s.options().with_device_id("d10").with_client_type(ct::IOS));
    let r = eleventh.login(&app, "many", "t").await;
    assert!(r.is_success());
    assert_eq!(
        r.other_clients_pres.unwrap().len(),
        9,
        "the new device sees the 9 that stay"
    );
    let k = kicked(&mut devs[0]).await;
    assert_eq!((k.reason_code, k.client_type), (1, ct::IOS));
    // Every remaining device hears the change as NIM apps read it, the
    // devices that changed: d0 out, then d10 in.
    let m = multispot(&mut devs[9]).await;
    assert_eq!(
        (m.multi_spot_notiy_type, ids(&m)),
        (3, vec!["d0".to_string()])
    );
    let m = multispot(&mut devs[9]).await;
    assert_eq!(
        (m.multi_spot_notiy_type, ids(&m)),
        (2, vec!["d10".to_string()])
    );
}

#[tokio::test]
async fn custom_rules_refuse_overflow_with_417_and_map_custom_client_types() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "cu", "t").await;
    set_policy(
        &s,
        &app,
        json!({"mode": "custom", "rules": {
            "classes": {"pc": 1, "phone": 2, "kiosk": 1},
            "client_types": {"4": "pc", "64": "pc", "1": "phone", "2": "phone"},
            "custom_client_types": {"9": "kiosk"},
            "default_class": "pc",
            "exclusive": [["kiosk", "phone"]],
            "max_total": 3,
            "overflow": "refuse"
        }}),
    )
    .await;
    let _pc = device(&s, &app, "cu", "pc1", ct::PC_WINDOWS).await;
    let c = TestClient::new(
        s.options()
            .with_device_id("pc2")
            .with_client_type(ct::MACOS),
    );
    let r = c.login(&app, "cu", "t").await;
    assert_eq!(r.err_code, ResCode::EXIST, "{r:?}");
    assert!(r.desc.contains("multi-device policy"), "{}", r.desc);
    let _phone = device(&s, &app, "cu", "ph1", ct::ANDROID).await;
    // A kiosk (custom client type 9 on Android) excludes phones: refused.
    let kiosk = TestClient::new(
        s.options()
            .with_device_id("k1")
            .with_client_type(ct::ANDROID)
            .with_custom_client_type(9),
    );
    assert_eq!(kiosk.login(&app, "cu", "t").await.err_code, ResCode::EXIST);
    let v = s
        .admin(&app)
        .json(Method::GET, "/magpie/v1/app/device_policy", None)
        .await;
    assert_eq!(v["data"]["policy"]["mode"], "custom");
    assert_eq!(v["data"]["default"], false);
    // Invalid rules are refused with a reason.
    for bad in [
        json!({"mode": "custom"}),
        json!({"mode": "single", "rules": {}}),
        json!({"mode": "sometimes"}),
        json!({"mode": "custom", "rules": {"classes": {"a": 1}, "default_class": "b", "max_total": 1, "overflow": "refuse"}}),
    ] {
        let v = s
            .admin(&app)
            .json(
                Method::PUT,
                "/magpie/v1/app/device_policy",
                Some(bad.clone()),
            )
            .await;
        assert_eq!(v["code"], 414, "{bad}: {v}");
    }
}

#[tokio::test]
async fn a_policy_change_applies_to_new_logins_only() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "pol", "t").await;
    let mut a = device(&s, &app, "pol", "a", ct::PC_WINDOWS).await;
    let mut b = device(&s, &app, "pol", "b", ct::PC_WINDOWS).await;
    multispot(&mut a).await;
    set_policy(&s, &app, json!({"mode": "single"})).await;
    assert!(
        a.events.quiet_for(Duration::from_millis(200)).await,
        "nobody is kicked by the change"
    );
    assert!(b.events.quiet_for(Duration::from_millis(10)).await);
    let _c = device(&s, &app, "pol", "c", ct::ANDROID).await;
    assert_eq!(kicked(&mut a).await.reason_code, 1);
    assert_eq!(kicked(&mut b).await.reason_code, 1);
    let v = s
        .admin(&app)
        .json(Method::DELETE, "/magpie/v1/app/device_policy", None)
        .await;
    assert_eq!(
        (
            v["data"]["policy"]["mode"].as_str(),
            v["data"]["default"].as_bool()
        ),
        (Some("all"), Some(true))
    );
}

#[tokio::test]
async fn logout_and_same_device_relogin_notify_the_other_devices() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "ms", "t").await;
    let mut watcher = device(&s, &app, "ms", "watcher", ct::IOS).await;
    // A device that will "crash": a raw connection that never reconnects.
    let mut raw = RawPeer::hello(s.addr()).await;
    let req = LoginRequest {
        client_type: ct::PC_WINDOWS,
        ..login_request(&app, "ms", "t", "desk")
    };
    assert!(
        matches!(raw.login(req.clone()).await, ServerFrame::LoginAck { body, .. } if body.code == ResCode::SUCCESS)
    );
    let m = multispot(&mut watcher).await;
    assert_eq!(
        (m.multi_spot_notiy_type, ids(&m)),
        (2, vec!["desk".to_string()])
    );
    // The same device logs in again: it replaces itself, nobody is kicked,
    // and the others hear of it without device info.
    let mut again = RawPeer::hello(s.addr()).await;
    assert!(
        matches!(again.login(req).await, ServerFrame::LoginAck { body, .. } if body.code == ResCode::SUCCESS)
    );
    let m = multispot(&mut watcher).await;
    assert_eq!(
        (m.multi_spot_notiy_type, m.other_clients_pres.len()),
        (2, 0)
    );
    match raw.recv().await {
        Some(ServerFrame::Error { body, .. }) => {
            assert_eq!((body.code, body.fatal), (ResCode::EXIST, true))
        }
        other => panic!("{other:?}"),
    }
    assert!(raw.recv().await.is_none(), "the old connection is closed");
    // Logout: the others get ImOut naming the device that left.
    let seq = again.next_seq();
    again
        .send(&magpie_proto::ClientFrame::Logout {
            seq,
            body: magpie_proto::frame::LogoutRequest { logout_type: 1 },
        })
        .await;
    let m = multispot(&mut watcher).await;
    assert_eq!(
        (m.multi_spot_notiy_type, ids(&m)),
        (3, vec!["desk".to_string()])
    );
}

#[tokio::test]
async fn a_second_sdk_instance_with_the_same_device_id_makes_the_first_stop() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "twin", "t").await;
    let mut first = device(&s, &app, "twin", "same", ct::PC_WINDOWS).await;
    let _second = device(&s, &app, "twin", "same", ct::PC_WINDOWS).await;
    first.events.until(|e| matches!(e, Event::Disconnect)).await;
    let e = first.events.next().await;
    assert!(
        matches!(&e, Event::AutoRelogin(r) if r.err_code == ResCode::EXIST && !r.retrying),
        "{e:?}"
    );
    assert!(
        first.events.quiet_for(Duration::from_millis(500)).await,
        "no fight over the session"
    );
}

#[tokio::test]
async fn kick_other_client_kicks_with_reason_3() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "ko", "t").await;
    let mut pc = device(&s, &app, "ko", "pc", ct::PC_WINDOWS).await;
    let mut phone = device(&s, &app, "ko", "phone", ct::ANDROID).await;
    let mut web = device(&s, &app, "ko", "web", ct::WEB).await;
    let r = pc
        .client
        .kick_other_client(vec!["phone".into(), "pc".into(), "ghost".into()])
        .await;
    assert_eq!(
        (r.err_code, r.device_ids.clone()),
        (ResCode::SUCCESS, vec!["phone".to_string()])
    );
    let e = pc
        .events
        .until(|e| matches!(e, Event::KickOtherClient(_)))
        .await;
    assert_eq!(e.json(), json!({"err_code": 200, "device_ids": ["phone"]}));
    let k = kicked(&mut phone).await;
    assert_eq!((k.reason_code, k.client_type), (3, ct::PC_WINDOWS));
    // The devices left hear who left.
    let m = loop {
        let m = multispot(&mut web).await;
        if m.multi_spot_notiy_type == 3 {
            break m;
        }
    };
    assert_eq!(ids(&m), ["phone"]);
    assert_eq!(
        pc.client.login_state(),
        LoginState::Logined,
        "the kicker stays"
    );
    // Offline, the SDK answers 20001.
    pc.client.logout(1).await;
    assert_eq!(
        pc.client
            .kick_other_client(vec!["web".into()])
            .await
            .err_code,
        ResCode::LOCAL_LOGIN_UNDONE
    );
}

/// Many logins of one account at once: the policy's invariant holds at the end.
async fn storm_one_account(
    s: &TestServer,
    app: &TestApp,
    account: &str,
    n: usize,
    types: &[u32],
) -> Vec<u32> {
    let dir = tempfile::tempdir().unwrap();
    let mut clients = Vec::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Kickout)>();
    for i in 0..n {
        let t = types[rand_index(types.len())];
        let c = Client::init(
            dir.path().join(i.to_string()),
            ClientOptions::new(s.addr().to_string())
                .with_device_id(format!("{account}-{i}"))
                .with_client_type(t)
                .with_runtime(tokio::runtime::Handle::current()),
        )
        .unwrap();
        let tx = tx.clone();
        c.on_kickout(move |k| {
            let _ = tx.send((i, k.clone()));
        });
        clients.push((c, t));
    }
    let logins = clients
        .iter()
        .map(|(c, _)| c.login(&app.key, account, "t", LoginParams::default()));
    let results = futures::future::join_all(logins).await;
    let admitted: Vec<usize> = (0..n).filter(|&i| results[i].is_success()).collect();
    for (i, r) in results.iter().enumerate() {
        assert!(
            r.is_success() || r.err_code != ResCode::SUCCESS,
            "{i}: {r:?}"
        );
    }
    // Wait until every admitted login but the survivors was kicked.
    let mut kicked = std::collections::HashMap::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while kicked.len() + s.sessions().await < admitted.len() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let (i, k) = tokio::time::timeout(left, rx.recv())
            .await
            .expect("kicks in time")
            .unwrap();
        assert_eq!(k.reason_code, 1, "policy kicks say reason 1");
        assert!(kicked.insert(i, k).is_none(), "kicked twice");
    }
    assert_eq!(kicked.len() + s.sessions().await, admitted.len());
    let survivors: Vec<u32> = clients
        .iter()
        .enumerate()
        .filter(|(i, _)| admitted.contains(i) && !kicked.contains_key(i))
        .map(|(_, (c, t))| {
            assert_eq!(c.login_state(), LoginState::Logined);
            *t
        })
        .collect();
    for (c, _) in &clients {
        if c.login_state() == LoginState::Logined {
            c.logout(1).await;
        }
    }
    survivors
}

fn rand_index(n: usize) -> usize {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEED: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    let mut x = SEED.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x % n as u64) as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_logins_of_one_account_end_with_one_device_under_single() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    set_policy(&s, &app, json!({"mode": "single"})).await;
    let all = [ct::PC_WINDOWS, ct::MACOS, ct::WEB, ct::ANDROID, ct::IOS];
    for round in 0..20 {
        let acct = format!("one{round}");
        s.account(&app, &acct, "t").await;
        let survivors = storm_one_account(&s, &app, &acct, 200, &all).await;
        assert_eq!(survivors.len(), 1, "round {round}: {survivors:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_logins_of_one_account_end_with_one_per_class_under_desktop_mobile() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    set_policy(&s, &app, json!({"mode": "desktop_mobile"})).await;
    let all = [ct::PC_WINDOWS, ct::MACOS, ct::WEB, ct::ANDROID, ct::IOS];
    let desktop = |t: &u32| [ct::PC_WINDOWS, ct::MACOS, ct::WEB].contains(t);
    for round in 0..20 {
        let acct = format!("dm{round}");
        s.account(&app, &acct, "t").await;
        let survivors = storm_one_account(&s, &app, &acct, 200, &all).await;
        let d = survivors.iter().filter(|t| desktop(t)).count();
        let m = survivors.len() - d;
        assert!(d == 1 && m == 1, "round {round}: {survivors:?}");
    }
}
