//! Event webhooks: an app server written here receives login, logout and
//! kick events, checks their signature as an app server would, and gets
//! every event after it was down for a while.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use magpie_admin_client::Method;
use magpie_testkit::{test_config, TestApp, TestClient, TestServer, WAIT};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// The app server's webhook endpoint: every event whose signature holds
/// goes to the test; a bad signature is recorded.
struct Receiver {
    secret: String,
    events: mpsc::UnboundedSender<Value>,
    bad: Mutex<Vec<String>>,
    /// False while "down": connections kept alive from before the listener
    /// closed are answered 503 too.
    up: std::sync::atomic::AtomicBool,
}

async fn on_event(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: String) -> StatusCode {
    if !r.up.load(std::sync::atomic::Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if !magpie_testkit::signed_by(&r.secret, &body, &headers) {
        r.bad.lock().unwrap().push(body);
        return StatusCode::FORBIDDEN;
    }
    let _ = r.events.send(serde_json::from_str(&body).unwrap());
    StatusCode::OK
}

/// Serves the receiver on `addr` until the returned task is aborted.
async fn serve_receiver(addr: SocketAddr, r: Arc<Receiver>) -> tokio::task::JoinHandle<()> {
    let router = axum::Router::new()
        .route("/im-events", post(on_event))
        .with_state(r);
    let l = tokio::net::TcpListener::bind(addr).await.unwrap();
    tokio::spawn(async move { axum::serve(l, router).await.unwrap() })
}

/// An app server for `app`: its receiver (answering when `up`), the events
/// it took, and the address it serves on once [`serve_receiver`] starts
/// it; the app's webhook URL points there.
async fn hook(
    s: &TestServer,
    app: &TestApp,
    up: bool,
) -> (Arc<Receiver>, mpsc::UnboundedReceiver<Value>, SocketAddr) {
    let (tx, rx) = mpsc::unbounded_channel();
    let receiver = Arc::new(Receiver {
        secret: app.secret.clone(),
        events: tx,
        bad: Mutex::new(Vec::new()),
        up: up.into(),
    });
    let addr = free_addr();
    let v = s
        .admin(app)
        .json(
            Method::PUT,
            "/magpie/v1/app/webhook",
            Some(json!({"url": format!("http://{addr}/im-events")})),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    (receiver, rx, addr)
}

fn free_addr() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("an event in time")
        .expect("receiver open")
}

fn kind(v: &Value) -> String {
    format!(
        "{}/{}",
        v["eventType"].as_str().unwrap(),
        v["logoutType"].as_str().unwrap_or("")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_logout_and_kick_events_arrive_signed_and_survive_a_receiver_outage() {
    let mut cfg = test_config();
    cfg.webhook.retry_initial_ms = 50;
    cfg.webhook.retry_max_ms = 200;
    let s = TestServer::start_with(cfg).await;
    let app: TestApp = s.app("hooks").await;
    s.account(&app, "ann", "t").await;
    let (receiver, mut rx, addr) = hook(&s, &app, true).await;
    let mut server = serve_receiver(addr, receiver.clone()).await;

    // A login and a logout.
    let c = TestClient::new(s.options());
    assert!(c.login(&app, "ann", "t").await.is_success());
    let login = next(&mut rx).await;
    assert_eq!(login["eventType"], "2", "{login}");
    assert_eq!(login["accid"], "ann");
    assert_eq!(login["clientType"], "PC");
    assert_eq!(login["code"], "200");
    assert!(login["timestamp"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    assert!(login["deviceId"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(login["clientIp"], "127.0.0.1");
    let port = login["clientPort"]
        .as_str()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    assert_ne!(port, 0);
    assert_ne!(port, s.addr().port(), "the device's port, not the server's");
    c.client.logout(magpie_client::logout_type::APP_EXIT).await;
    let logout = next(&mut rx).await;
    assert_eq!(kind(&logout), "3/LOGOUT", "{logout}");
    assert_eq!(logout["deviceId"], login["deviceId"]);

    // A kick by the admin API: a logout of kind KICK with NIM's reason 2.
    assert!(c.login(&app, "ann", "t").await.is_success());
    assert_eq!(kind(&next(&mut rx).await), "2/");
    let v = s
        .admin(&app)
        .json(
            Method::POST,
            "/im/v2/accounts/ann/actions/kick",
            Some(json!({"type": 1})),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let kick = next(&mut rx).await;
    assert_eq!(kind(&kick), "3/KICK", "{kick}");
    assert_eq!(kick["kickReason"], "2");

    // The app server goes down; events keep happening.
    receiver
        .up
        .store(false, std::sync::atomic::Ordering::SeqCst);
    server.abort();
    let _ = server.await;
    let metrics = &s.handle().shared.metrics;
    let failures_before = metrics.webhook_failures.get();
    for _ in 0..3 {
        let c = TestClient::new(s.options());
        assert!(c.login(&app, "ann", "t").await.is_success());
        c.client.logout(magpie_client::logout_type::APP_EXIT).await;
    }
    // Retried while it is down (connection refused).
    let deadline = tokio::time::Instant::now() + WAIT;
    while metrics.webhook_failures.get() < failures_before + 6 {
        assert!(tokio::time::Instant::now() < deadline, "no retries seen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Back up on the same address: every event arrives, none is lost.
    server = serve_receiver(addr, receiver.clone()).await;
    receiver.up.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut ids = HashSet::new();
    let mut kinds = Vec::new();
    while ids.len() < 6 {
        let e = next(&mut rx).await;
        if ids.insert(e["eventId"].as_str().unwrap().to_owned()) {
            kinds.push(kind(&e));
        }
    }
    kinds.sort();
    assert_eq!(
        kinds,
        ["2/", "2/", "2/", "3/LOGOUT", "3/LOGOUT", "3/LOGOUT"]
    );
    assert!(receiver.bad.lock().unwrap().is_empty(), "bad signatures");
    let deadline = tokio::time::Instant::now() + WAIT;
    while metrics.webhook_delivered.get() < 9 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries not counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.abort();
}

#[tokio::test]
async fn a_webhook_url_must_be_http_and_apps_without_one_queue_nothing() {
    let s = TestServer::start().await;
    let app = s.app("plain").await;
    s.account(&app, "bob", "t").await;
    let v = s
        .admin(&app)
        .json(
            Method::PUT,
            "/magpie/v1/app/webhook",
            Some(json!({"url": "ftp://x"})),
        )
        .await;
    assert_eq!(v["code"], 414, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("http"), "{v}");
    let v = s
        .admin(&app)
        .json(Method::GET, "/magpie/v1/app/webhook", None)
        .await;
    assert_eq!(v["data"]["webhook"], Value::Null, "{v}");
    let c = TestClient::new(s.options());
    assert!(c.login(&app, "bob", "t").await.is_success());
    assert_eq!(s.handle().shared.metrics.webhook_events.get(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undelivered_events_outlive_a_server_restart() {
    let mut cfg = test_config();
    cfg.webhook.retry_initial_ms = 50;
    cfg.webhook.retry_max_ms = 200;
    let mut s = TestServer::start_with(cfg).await;
    let app = s.app("durable").await;
    s.account(&app, "cy", "t").await;
    // Nothing listens at the URL yet.
    let (receiver, mut rx, url) = hook(&s, &app, false).await;
    // Events while nobody listens at the URL.
    let c = TestClient::new(s.options());
    assert!(c.login(&app, "cy", "t").await.is_success());
    c.client.logout(magpie_client::logout_type::APP_EXIT).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while s.handle().shared.metrics.webhook_failures.get() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed delivery seen"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The server restarts; the events wait in its store.
    s.restart().await;
    receiver.up.store(true, std::sync::atomic::Ordering::SeqCst);
    let back = serve_receiver(url, receiver.clone()).await;
    let mut kinds = Vec::new();
    let mut ids = HashSet::new();
    while ids.len() < 2 {
        let e = next(&mut rx).await;
        if ids.insert(e["eventId"].as_str().unwrap().to_owned()) {
            kinds.push(kind(&e));
        }
    }
    kinds.sort();
    assert_eq!(kinds, ["2/", "3/LOGOUT"]);
    back.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_and_stored_notifications_are_copied_as_nim_does() {
    let s = TestServer::start().await;
    let app = s.app("copies").await;
    s.account(&app, "ann", "t").await;
    s.account(&app, "bob", "t").await;
    let (receiver, mut rx, addr) = hook(&s, &app, true).await;
    let server = serve_receiver(addr, receiver.clone()).await;
    let admin = s.admin(&app);
    let v = admin
        .form(
            "/nimserver/msg/sendMsg.action",
            &[
                ("from", "ann"),
                ("ope", "0"),
                ("to", "bob"),
                ("type", "0"),
                ("body", r#"{"msg":"hello"}"#),
            ],
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let m = next(&mut rx).await;
    assert_eq!(m["eventType"], "1", "{m}");
    assert_eq!(m["convType"], "PERSON");
    assert_eq!(
        (m["fromAccount"].as_str(), m["to"].as_str()),
        (Some("ann"), Some("bob"))
    );
    assert_eq!(
        (m["msgType"].as_str(), m["body"].as_str()),
        (Some("TEXT"), Some("hello"))
    );
    assert_eq!(
        m["msgidServer"],
        v["data"]["msgid"].to_string().as_str(),
        "{m} {v}"
    );
    let v = admin
        .form(
            "/nimserver/msg/sendAttachMsg.action",
            &[
                ("from", "ann"),
                ("msgtype", "0"),
                ("to", "bob"),
                ("attach", r#"{"x":1}"#),
                ("save", "2"),
            ],
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let n = next(&mut rx).await;
    assert_eq!(n["convType"], "CUSTOM_PERSON", "{n}");
    assert_eq!(n["msgType"], "CUSTOM_P2P_MSG");
    assert_eq!(n["attach"], r#"{"x":1}"#);
    assert!(receiver.bad.lock().unwrap().is_empty());
    server.abort();
}
