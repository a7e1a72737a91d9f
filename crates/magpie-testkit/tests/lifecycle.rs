//! The SDK's life: drops, automatic re-login, dead links, logout, cleanup.

use magpie_client::{ClientError, Event, LoginParams, LoginRes, LoginState, ProxyType};
use magpie_proto::types::logout_type;
use magpie_testkit::faulty::{FaultProxy, Mode};
use magpie_testkit::*;
use std::time::{Duration, Instant};

fn relogin_res(e: &Event) -> Option<&LoginRes> {
    match e {
        Event::AutoRelogin(r) => Some(r),
        _ => None,
    }
}

#[tokio::test]
async fn server_killed_then_back_relogs_in_without_the_app() {
    let mut s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "ann", "t").await;
    let mut c = TestClient::new(s.options());
    assert!(c.login(&app, "ann", "t").await.is_success());
    let addrs = s.stop().await;
    // The disconnect callback, once.
    c.events.until(|e| matches!(e, Event::Disconnect)).await;
    assert_eq!(c.client.login_state(), LoginState::Relogining);
    // Failed attempts say 415 (or 408) and that the SDK keeps trying.
    let e = c.events.next().await;
    let r = relogin_res(&e).unwrap_or_else(|| panic!("{e:?}"));
    assert!(r.relogin && r.retrying, "{r:?}");
    assert!(
        [ResCode::CONNECTION_ERROR, ResCode::TIMEOUT].contains(&r.err_code),
        "{r:?}"
    );
    s.start_on(addrs).await;
    let e = c
        .events
        .until(|e| relogin_res(e).is_some_and(|r| r.err_code == ResCode::SUCCESS))
        .await;
    let r = relogin_res(&e).unwrap();
    assert!(r.relogin && !r.retrying && r.login_step == 3 && r.other_clients_pres.is_some());
    assert_eq!(c.client.login_state(), LoginState::Logined);
    // No second disconnect happened along the way: the session is simply back.
    let v = s
        .admin(&app)
        .json(reqwest::Method::GET, "/magpie/v1/accounts/ann/online", None)
        .await;
    assert_eq!(v["data"]["clients"][0]["device_id"], c.client.device_id());
}

#[tokio::test]
async fn a_blackholed_link_is_detected_within_the_bound_and_recovers() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "bea", "t").await;
    let proxy = FaultProxy::start(s.addr()).await;
    let bound = Duration::from_millis(1200);
    let opts = magpie_client::ClientOptions::new(proxy.addr.to_string())
        .with_dead_link_timeout(bound)
        .with_connect_timeout(Duration::from_millis(500))
        .with_reconnect(magpie_client::Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(400),
        });
    let mut c = TestClient::new(opts);
    assert!(c.login(&app, "bea", "t").await.is_success());
    proxy.set_mode(Mode::Blackhole);
    let t0 = Instant::now();
    c.events.until(|e| matches!(e, Event::Disconnect)).await;
    let took = t0.elapsed();
    assert!(
        took <= bound + Duration::from_millis(1000),
        "detected after {took:?}, bound {bound:?}"
    );
    assert!(
        took >= bound / 2,
        "detected after only {took:?}: not by the heartbeat bound"
    );
    // While the network is dead, attempts time out and go on.
    let e = c.events.until(|e| relogin_res(e).is_some()).await;
    assert!(relogin_res(&e).unwrap().retrying);
    proxy.set_mode(Mode::Pass);
    c.events
        .until(|e| relogin_res(e).is_some_and(|r| r.is_success()))
        .await;
    assert_eq!(c.client.login_state(), LoginState::Logined);
}

#[tokio::test]
async fn a_reset_link_reconnects() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "cal", "t").await;
    let proxy = FaultProxy::start(s.addr()).await;
    let mut c = TestClient::new(s.options().with_link_address_only(proxy.addr.to_string()));
    assert!(c.login(&app, "cal", "t").await.is_success());
    proxy.reset_all();
    c.events.until(|e| matches!(e, Event::Disconnect)).await;
    let e = c
        .events
        .until(|e| relogin_res(e).is_some_and(|r| !r.retrying))
        .await;
    assert!(relogin_res(&e).unwrap().is_success(), "{e:?}");
}

#[tokio::test]
async fn a_token_changed_while_offline_stops_relogin_with_302_for_good() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "dee", "old").await;
    let proxy = FaultProxy::start(s.addr()).await;
    let mut c = TestClient::new(s.options().with_link_address_only(proxy.addr.to_string()));
    assert!(c.login(&app, "dee", "old").await.is_success());
    c.events
        .until(|e| matches!(e, Event::Login(r) if r.login_step == 3))
        .await;
    c.events.until(|e| matches!(e, Event::DataSync(_))).await;
    // A new token does not kick the online device by itself...
    let v = s
        .admin(&app)
        .form(
            "/nimserver/user/update.action",
            &[("accid", "dee"), ("token", "new")],
        )
        .await;
    assert_eq!(v["code"], 200);
    assert!(c.events.quiet_for(Duration::from_millis(300)).await);
    assert_eq!(c.client.login_state(), LoginState::Logined);
    // ...but the next re-login fails with 302 and the SDK stops.
    proxy.reset_all();
    c.events.until(|e| matches!(e, Event::Disconnect)).await;
    let e = c.events.until(|e| relogin_res(e).is_some()).await;
    let r = relogin_res(&e).unwrap();
    assert_eq!(
        (r.err_code, r.retrying, r.relogin),
        (ResCode::UID_PASS_ERROR, false, true),
        "{r:?}"
    );
    assert!(
        c.events.quiet_for(Duration::from_millis(1500)).await,
        "no further attempt after 302"
    );
    assert_eq!(c.client.login_state(), LoginState::Unlogin);
    // The app may log in again by hand with the new token.
    let r = c.client.relogin_with_token(Some("new".into())).await;
    assert!(r.is_success() && r.relogin, "{r:?}");
}

#[tokio::test]
async fn relogin_does_nothing_while_an_automatic_relogin_runs() {
    let mut s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "eli", "t").await;
    let mut c = TestClient::new(s.options());
    assert!(c.login(&app, "eli", "t").await.is_success());
    let addrs = s.stop().await;
    c.events.until(|e| matches!(e, Event::Disconnect)).await;
    let r = c.client.relogin().await;
    assert_eq!((r.err_code, r.retrying), (ResCode::LOCAL_LOGINED, true));
    assert_eq!(c.client.login_state(), LoginState::Relogining);
    s.start_on(addrs).await;
    c.events
        .until(|e| relogin_res(e).is_some_and(|r| r.is_success()))
        .await;
}

#[tokio::test]
async fn manual_login_tries_the_next_link_address_and_gives_up_after_the_limit() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "fin", "t").await;
    // A port with nothing listening.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let c = TestClient::new(
        s.options()
            .with_link_address_only(dead.clone())
            .with_link_address(s.addr().to_string()),
    );
    assert!(c.login(&app, "fin", "t").await.is_success());
    let mut c = TestClient::new(
        s.options()
            .with_link_address_only(dead)
            .with_login_retry_max_times(2),
    );
    let r = c.login(&app, "fin", "t").await;
    assert_eq!((r.err_code, r.retrying), (ResCode::CONNECTION_ERROR, false));
    assert!(r.desc.contains("network error"), "{}", r.desc);
    assert_eq!(c.client.login_state(), LoginState::Unlogin);
    // Steps 0, then the failure; nothing after it.
    let mut steps = Vec::new();
    while let Event::Login(r) = c.events.next().await {
        steps.push((r.login_step, r.err_code));
        if r.err_code != ResCode::SUCCESS {
            break;
        }
    }
    assert_eq!(
        steps,
        [(0, ResCode::SUCCESS), (0, ResCode::CONNECTION_ERROR)]
    );
    assert!(c.events.quiet_for(Duration::from_millis(300)).await);
}

#[tokio::test]
async fn logout_answers_in_bounded_time_when_the_server_is_gone() {
    let mut s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "gil", "t").await;
    // Server stopped: the client is re-logging in; logout says 200 at once
    // (logged out locally; NIM's logout answers 200 or 500, and apps clean
    // up on 200).
    let mut c = TestClient::new(s.options());
    assert!(c.login(&app, "gil", "t").await.is_success());
    let addrs = s.stop().await;
    c.events.until(|e| matches!(e, Event::Disconnect)).await;
    let t0 = Instant::now();
    let r = c.client.logout(logout_type::CHANGE_ACCOUNT).await;
    assert_eq!(r.err_code, ResCode::SUCCESS);
    assert!(t0.elapsed() < Duration::from_secs(2));
    c.events.until(|e| matches!(e, Event::Logout(_))).await;
    assert!(
        c.events.quiet_for(Duration::from_millis(500)).await,
        "no re-login after a logout"
    );
    assert_eq!(c.client.login_state(), LoginState::Unlogin);
    s.start_on(addrs).await;

    // A silent (blackholed) server: logout waits at most the logout timeout.
    let proxy = FaultProxy::start(s.addr()).await;
    let c = TestClient::new(
        s.options()
            .with_link_address_only(proxy.addr.to_string())
            .with_logout_timeout(Duration::from_millis(600)),
    );
    assert!(c.login(&app, "gil", "t").await.is_success());
    proxy.set_mode(Mode::Blackhole);
    let t0 = Instant::now();
    let r = c.client.logout(logout_type::APP_EXIT).await;
    assert_eq!(
        r.err_code,
        ResCode::SUCCESS,
        "unanswered, logged out locally"
    );
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(2),
        "{took:?}"
    );
    c.client
        .cleanup()
        .await
        .expect("cleanup after the logout callback");
}

#[tokio::test]
async fn cleanup_waits_for_logout_then_leaves_no_thread_or_socket() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "hal", "t").await;
    let c = TestClient::new(s.options());
    assert!(c.login(&app, "hal", "t").await.is_success());
    // The login ran on the SDK's own worker thread, so it has started.
    assert!(c.client.live_threads() >= 1, "the SDK runs its own threads");
    assert!(matches!(
        c.client.cleanup().await,
        Err(ClientError::SessionActive(_))
    ));
    assert_eq!(
        c.client.login_state(),
        LoginState::Logined,
        "a refused cleanup changes nothing"
    );
    let cache = c.client.cache_file(&app.key, "hal");
    assert_eq!(
        c.client.logout(logout_type::APP_EXIT).await.err_code,
        ResCode::SUCCESS
    );
    c.client.cleanup().await.unwrap();
    assert_eq!(c.client.live_threads(), 0, "no SDK thread remains");
    // The server saw the socket go.
    let shared = s.handle.as_ref().unwrap().shared.clone();
    tokio::time::timeout(WAIT, shared.until_no_connections())
        .await
        .expect("the SDK's socket is still open");
    // The cache was flushed to its file: one login recorded, no WAL left.
    assert_eq!(
        magpie_client::Client::cached_login_count(&cache, None),
        Some(1)
    );
    let wal = cache.with_extension("db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    // After cleanup every call says 20000.
    let r = c
        .client
        .login(&app.key, "hal", "t", LoginParams::default())
        .await;
    assert_eq!(r.err_code, ResCode::LOCAL_INIT_UNDONE);
    assert!(matches!(
        c.client.set_proxy(ProxyType::Socks5, "h", 1, "", ""),
        Err(ClientError::NotInitialised)
    ));
    assert!(matches!(
        c.client.cleanup().await,
        Err(ClientError::NotInitialised)
    ));
}

#[tokio::test]
async fn http_proxies_are_refused_with_a_clear_error() {
    let s = TestServer::start().await;
    let c = TestClient::new(s.options());
    let e = c
        .client
        .set_proxy(ProxyType::Http11, "127.0.0.1", 8080, "", "")
        .unwrap_err();
    assert!(
        e.to_string().contains("HTTP proxies are not supported"),
        "{e}"
    );
    assert!(c
        .client
        .set_proxy(ProxyType::Socks5, "", 0, "", "")
        .is_err());
    c.client.set_proxy(ProxyType::None, "", 0, "", "").unwrap();
}

#[tokio::test]
async fn the_event_stream_sees_what_the_callbacks_see() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "ida", "t").await;
    let c = TestClient::new(s.options());
    let mut stream = c.client.events();
    assert!(c.login(&app, "ida", "t").await.is_success());
    for step in 0..=3 {
        match stream.next().await {
            Some(Event::Login(r)) => assert_eq!(r.login_step, step),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(stream.missed(), 0);
}
