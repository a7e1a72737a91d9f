//! Real SOCKS proxies from Debian and TLS, end to end.

use magpie_client::{ProxyType, TlsOptions};
use magpie_testkit::certs::{test_certs, unrelated_ca};
use magpie_testkit::proxies::{dante, microsocks, ssh_dynamic};
use magpie_testkit::*;

async fn setup() -> (TestServer, TestApp) {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "pat", "t").await;
    (s, app)
}

async fn login_via(
    s: &TestServer,
    app: &TestApp,
    kind: ProxyType,
    port: u16,
    user: &str,
    pass: &str,
    target: String,
) -> magpie_client::LoginRes {
    let c = TestClient::new(
        s.options()
            .with_link_address_only(target)
            .with_login_retry_max_times(1),
    );
    c.client
        .set_proxy(kind, "127.0.0.1", port, user, pass)
        .unwrap();
    c.login(app, "pat", "t").await
}

#[tokio::test]
async fn microsocks_socks5_without_and_with_password() {
    if !magpie_testkit::tools::available(
        "microsocks_socks5_without_and_with_password",
        &[magpie_testkit::tools::MICROSOCKS],
    ) {
        return;
    }
    let (s, app) = setup().await;
    let open = microsocks(None);
    let r = login_via(
        &s,
        &app,
        ProxyType::Socks5,
        open.port,
        "",
        "",
        s.addr().to_string(),
    )
    .await;
    assert!(r.is_success(), "{r:?}");
    let locked = microsocks(Some(("magpie", "s3cret")));
    let r = login_via(
        &s,
        &app,
        ProxyType::Socks5,
        locked.port,
        "magpie",
        "s3cret",
        s.addr().to_string(),
    )
    .await;
    assert!(r.is_success(), "{r:?}");
    // A wrong password is a clear error, not a hang.
    let r = login_via(
        &s,
        &app,
        ProxyType::Socks5,
        locked.port,
        "magpie",
        "wrong",
        s.addr().to_string(),
    )
    .await;
    assert_eq!(r.err_code, ResCode::CONNECTION_ERROR);
    assert!(
        r.desc.contains("rejected the user name or password"),
        "{}",
        r.desc
    );
    // No credentials for a proxy that wants them: also clear.
    let r = login_via(
        &s,
        &app,
        ProxyType::Socks5,
        locked.port,
        "",
        "",
        s.addr().to_string(),
    )
    .await;
    assert_eq!(r.err_code, ResCode::CONNECTION_ERROR);
    assert!(r.desc.contains("proxy"), "{}", r.desc);
}

#[tokio::test]
async fn dante_socks4_and_socks5() {
    if !magpie_testkit::tools::available("dante_socks4_and_socks5", &[magpie_testkit::tools::DANTE])
    {
        return;
    }
    let (s, app) = setup().await;
    let d = dante();
    for kind in [ProxyType::Socks4, ProxyType::Socks5] {
        let r = login_via(&s, &app, kind, d.port, "", "", s.addr().to_string()).await;
        assert!(r.is_success(), "{kind:?}: {r:?}");
    }
}

#[tokio::test]
async fn openssh_dynamic_forwarding_socks4a_resolves_names_at_the_proxy() {
    if !magpie_testkit::tools::available(
        "openssh_dynamic_forwarding_socks4a_resolves_names_at_the_proxy",
        &[magpie_testkit::tools::SSHD, magpie_testkit::tools::SSH],
    ) {
        return;
    }
    let (s, app) = setup().await;
    let p = ssh_dynamic();
    let by_name = format!("localhost:{}", s.addr().port());
    let r = login_via(
        &s,
        &app,
        ProxyType::Socks4a,
        p.port,
        "",
        "",
        by_name.clone(),
    )
    .await;
    assert!(r.is_success(), "{r:?}");
    let r = login_via(&s, &app, ProxyType::Socks5, p.port, "", "", by_name).await;
    assert!(r.is_success(), "{r:?}");
}

#[tokio::test]
async fn a_proxy_setting_applies_to_the_next_connection() {
    if !magpie_testkit::tools::available(
        "a_proxy_setting_applies_to_the_next_connection",
        &[magpie_testkit::tools::MICROSOCKS],
    ) {
        return;
    }
    let (s, app) = setup().await;
    let p = microsocks(Some(("u", "p")));
    let c = TestClient::new(s.options().with_login_retry_max_times(1));
    c.client
        .set_proxy(ProxyType::Socks5, "127.0.0.1", p.port, "u", "bad")
        .unwrap();
    assert_eq!(
        c.login(&app, "pat", "t").await.err_code,
        ResCode::CONNECTION_ERROR
    );
    c.client
        .set_proxy(ProxyType::Socks5, "127.0.0.1", p.port, "u", "p")
        .unwrap();
    assert!(c.login(&app, "pat", "t").await.is_success());
}

async fn tls_server() -> (TestServer, TestApp, magpie_testkit::certs::TestCerts) {
    let certs = test_certs();
    let mut cfg = test_config();
    cfg.tls = Some(magpie_server::config::TlsConfig {
        cert_file: certs.cert.clone(),
        key_file: certs.key.clone(),
    });
    let s = TestServer::start_with(cfg).await;
    let app = s.app("a").await;
    s.account(&app, "pat", "t").await;
    (s, app, certs)
}

#[tokio::test]
async fn tls_login_directly_and_through_socks5() {
    if !magpie_testkit::tools::available(
        "tls_login_directly_and_through_socks5",
        &[magpie_testkit::tools::MICROSOCKS],
    ) {
        return;
    }
    let (s, app, certs) = tls_server().await;
    let tls = TlsOptions {
        ca_file: Some(certs.ca.clone()),
        server_name: None,
    };
    let c = TestClient::new(s.options().with_tls(tls.clone()));
    assert!(c.login(&app, "pat", "t").await.is_success());
    // By name too: the certificate names localhost.
    let c = TestClient::new(
        s.options()
            .with_link_address_only(format!("localhost:{}", s.addr().port()))
            .with_tls(tls.clone()),
    );
    assert!(c.login(&app, "pat", "t").await.is_success());
    let p = microsocks(None);
    let c = TestClient::new(s.options().with_tls(tls));
    c.client
        .set_proxy(ProxyType::Socks5, "127.0.0.1", p.port, "", "")
        .unwrap();
    assert!(c.login(&app, "pat", "t").await.is_success());
}

#[tokio::test]
async fn tls_with_the_wrong_ca_fails_clearly_and_plain_clients_are_not_served() {
    let (s, app, certs) = tls_server().await;
    let other = unrelated_ca(certs.dir.path());
    let c = TestClient::new(
        s.options()
            .with_login_retry_max_times(1)
            .with_tls(TlsOptions {
                ca_file: Some(other),
                server_name: None,
            }),
    );
    let r = c.login(&app, "pat", "t").await;
    assert_eq!(r.err_code, ResCode::CONNECTION_ERROR);
    assert!(
        r.desc.contains("TLS") && r.desc.contains("certificate"),
        "{}",
        r.desc
    );
    // A name the certificate does not carry.
    let c = TestClient::new(
        s.options()
            .with_login_retry_max_times(1)
            .with_tls(TlsOptions {
                ca_file: Some(certs.ca.clone()),
                server_name: Some("example.org".into()),
            }),
    );
    let r = c.login(&app, "pat", "t").await;
    assert!(r.desc.contains("TLS"), "{}", r.desc);
    // A plain client does not get through a TLS listener, and is told why.
    let c = TestClient::new(
        s.options()
            .with_login_retry_max_times(1)
            .with_connect_timeout(std::time::Duration::from_secs(2)),
    );
    let r = c.login(&app, "pat", "t").await;
    assert!(!r.is_success());
    assert!(
        r.desc.contains("answered in TLS") && r.desc.contains("--tls"),
        "{}",
        r.desc
    );
    // Pointed at the admin port: told it is HTTP, and which port to use.
    let admin = s.admin_url().trim_start_matches("http://").to_owned();
    let c = TestClient::new(
        magpie_client::ClientOptions::new(admin)
            .with_login_retry_max_times(1)
            .with_connect_timeout(std::time::Duration::from_secs(2)),
    );
    let r = c.login(&app, "pat", "t").await;
    assert_eq!(r.err_code, ResCode::CONNECTION_ERROR);
    assert!(
        r.desc.contains("answered in HTTP") && r.desc.contains("9300"),
        "{}",
        r.desc
    );
    // A CA file that is not PEM is refused at init.
    let junk = certs.dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let e = magpie_client::Client::init(
        dir.path(),
        s.options().with_tls(TlsOptions {
            ca_file: Some(junk),
            server_name: None,
        }),
    );
    assert!(e.is_err());
}

#[tokio::test]
async fn detect_proxy_tries_the_proxy_for_real_and_names_the_failing_step() {
    if !magpie_testkit::tools::available(
        "detect_proxy_tries_the_proxy_for_real_and_names_the_failing_step",
        &[magpie_testkit::tools::MICROSOCKS],
    ) {
        return;
    }
    let (s, _app) = setup().await;
    let locked = microsocks(Some(("magpie", "s3cret")));
    let c = TestClient::new(s.options());
    let proxy = |user: &str, pass: &str, port: u16| magpie_client::Proxy {
        kind: ProxyType::Socks5,
        host: "127.0.0.1".into(),
        port,
        user: user.into(),
        password: pass.into(),
    };
    let d = c
        .client
        .detect_proxy(proxy("magpie", "s3cret", locked.port))
        .await;
    assert!(d.connected, "{d:?}");
    let steps: Vec<(&str, bool)> = d.steps.iter().map(|s| (s.step, s.ok)).collect();
    assert_eq!(
        steps,
        [("proxy_connect", true), ("tunnel", true), ("hello", true)]
    );
    // A wrong password fails at the tunnel, and says why.
    let d = c
        .client
        .detect_proxy(proxy("magpie", "wrong", locked.port))
        .await;
    assert!(!d.connected);
    let last = d.steps.last().unwrap();
    assert_eq!((last.step, last.ok), ("tunnel", false), "{d:?}");
    assert!(last.detail.contains("user name or password"), "{d:?}");
    // Nothing listening: fails at the first step.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let d = c.client.detect_proxy(proxy("", "", port)).await;
    assert_eq!(
        d.steps.iter().map(|s| (s.step, s.ok)).collect::<Vec<_>>(),
        [("proxy_connect", false)]
    );
    // The detection changes nothing: the client logs in directly.
    assert!(c.login(&_app, "pat", "t").await.is_success());
}
