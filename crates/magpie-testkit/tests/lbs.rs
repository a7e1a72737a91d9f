//! NIM's private-server `lbs`: the SDK asks an LBS for the link addresses
//! before logging in (and, with `need_update_lbs_befor_relogin`, before an
//! automatic re-login); `magpie serve` serves one (`[lbs] listen`). Also
//! `ip_protocol_version`.

use magpie_client::{ClientOptions, Event, IpVersion, LbsOptions};
use magpie_proto::ResCode;
use magpie_testkit::faulty::FaultProxy;
use magpie_testkit::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn lbs_url(s: &TestServer) -> String {
    format!(
        "http://{}/lbs",
        s.handle().lbs_addr.expect("LBS configured")
    )
}

async fn with_lbs() -> TestServer {
    let mut config = test_config();
    config.lbs.listen = "127.0.0.1:0".into();
    TestServer::start_with(config).await
}

#[tokio::test]
async fn the_server_s_lbs_gives_the_link_and_the_sdk_logs_in_through_it() {
    let s = with_lbs().await;
    let app = s.app("a").await;
    s.account(&app, "lou", "t").await;
    // The LBS answers with the address the request came to and the client port.
    let http = reqwest::Client::new();
    let v: serde_json::Value = http
        .get(lbs_url(&s))
        .query(&[("k", app.key.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v,
        serde_json::json!({"code": 200, "link": [s.addr().to_string()]})
    );
    let r = http
        .get(lbs_url(&s))
        .query(&[("k", "no-such-app")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], 403);
    // An SDK with only the LBS logs in.
    let c = TestClient::new(ClientOptions::from_lbs(LbsOptions {
        url: lbs_url(&s),
        before_relogin: false,
    }));
    assert!(c.login(&app, "lou", "t").await.is_success());
    // An LBS that cannot be reached: the link given is used.
    let dead = format!("http://{}/lbs", closed_port());
    let c = TestClient::new(s.options().with_lbs(LbsOptions {
        url: dead.clone(),
        before_relogin: false,
    }));
    assert!(c.login(&app, "lou", "t").await.is_success());
    // ... and with no link at all the login says why.
    let c = TestClient::new(
        ClientOptions::from_lbs(LbsOptions {
            url: dead,
            before_relogin: false,
        })
        .with_login_retry_max_times(1),
    );
    let r = c.login(&app, "lou", "t").await;
    assert_eq!(r.err_code, ResCode::CONNECTION_ERROR);
    assert!(r.desc.contains("LBS"), "{}", r.desc);
}

fn closed_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// A stand-in LBS whose answer the test sets, counting the requests.
async fn fake_lbs(links: Arc<Mutex<Vec<String>>>, hits: Arc<AtomicUsize>) -> String {
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/lbs",
        get(move || {
            let links = links.lock().unwrap().clone();
            hits.fetch_add(1, Ordering::SeqCst);
            async move { axum::Json(serde_json::json!({"code": 200, "link": links})) }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/lbs", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    url
}

#[tokio::test]
async fn need_update_lbs_befor_relogin_asks_again_after_a_drop() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "ray", "t").await;
    for before_relogin in [true, false] {
        let proxy = FaultProxy::start(s.addr()).await;
        let links = Arc::new(Mutex::new(vec![proxy.addr.to_string()]));
        let hits = Arc::new(AtomicUsize::new(0));
        let url = fake_lbs(links.clone(), hits.clone()).await;
        let mut c = TestClient::new(ClientOptions::from_lbs(LbsOptions {
            url,
            before_relogin,
        }));
        assert!(c.login(&app, "ray", "t").await.is_success());
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        // The LBS now points at the server itself; the link drops.
        *links.lock().unwrap() = vec![s.addr().to_string()];
        proxy.reset_all();
        let back = c
            .events
            .until(|e| matches!(e, Event::AutoRelogin(r) if r.err_code == ResCode::SUCCESS))
            .await;
        assert!(matches!(back, Event::AutoRelogin(_)));
        assert_eq!(
            hits.load(Ordering::SeqCst),
            if before_relogin { 2 } else { 1 },
            "before_relogin {before_relogin}"
        );
        c.client.logout(1).await;
    }
}

#[tokio::test]
async fn ip_protocol_version_picks_the_address_family() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "ivy", "t").await;
    let port = s.addr().port();
    // IPv6 only, to an IPv4 literal: no address, and the fix named.
    let c = TestClient::new(
        s.options()
            .with_link_address_only(format!("127.0.0.1:{port}"))
            .with_ip_version(IpVersion::V6)
            .with_login_retry_max_times(1),
    );
    let r = c.login(&app, "ivy", "t").await;
    assert_eq!(r.err_code, ResCode::CONNECTION_ERROR);
    assert!(r.desc.contains("no IPv6 address"), "{}", r.desc);
    // IPv4 (the default) and auto reach the IPv4 listener through a name.
    for v in [IpVersion::V4, IpVersion::Auto] {
        let c = TestClient::new(
            s.options()
                .with_link_address_only(format!("localhost:{port}"))
                .with_ip_version(v),
        );
        assert!(c.login(&app, "ivy", "t").await.is_success(), "{v:?}");
    }
}
