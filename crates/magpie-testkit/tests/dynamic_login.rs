//! Dynamic tokens (auth type 1), the third-party login callback (auth type 2)
//! and the SDK's token providers.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Json;
use magpie_client::{Event, LoginParams, LoginRes, LoginState};
use magpie_testkit::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A dynamic token computed by Python's hashlib, independently of our code.
fn python_token(
    app_key: &str,
    accid: &str,
    cur_time_ms: i64,
    ttl: i64,
    secret: &str,
    as_strings: bool,
) -> String {
    let script = r#"
import base64, hashlib, json, sys
key, accid, cur, ttl, secret, strings = sys.argv[1:]
sig = hashlib.sha1((key + accid + cur + ttl + secret).encode()).hexdigest()
if strings == "1":
    body = {"signature": sig, "curTime": cur, "ttl": ttl}
else:
    body = {"signature": sig, "curTime": int(cur), "ttl": int(ttl)}
print(base64.b64encode(json.dumps(body).encode()).decode())
"#;
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            script,
            app_key,
            accid,
            &cur_time_ms.to_string(),
            &ttl.to_string(),
            secret,
            if as_strings { "1" } else { "0" },
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn login(
    s: &TestServer,
    app: &TestApp,
    account: &str,
    token: &str,
    auth_type: u32,
) -> LoginRes {
    let c = TestClient::new(s.options().with_login_retry_max_times(1));
    let params = LoginParams {
        auth_type,
        ..Default::default()
    };
    c.client.login(&app.key, account, token, params).await
}

#[tokio::test]
async fn dynamic_tokens_valid_expired_future_forged_and_misdirected() {
    if !magpie_testkit::tools::available(
        "dynamic_tokens_valid_expired_future_forged_and_misdirected",
        &[magpie_testkit::tools::PYTHON3],
    ) {
        return;
    }
    let s = TestServer::start().await;
    let app = s.app("dyn").await;
    let other = s.app("other").await;
    s.account(&app, "alice", "static").await;
    s.account(&app, "bob", "static").await;
    let now = magpie_store::now_ms();
    // Valid, as numbers and as strings; our own generator agrees with Python.
    let t = python_token(&app.key, "alice", now, 600, &app.secret, false);
    assert!(login(&s, &app, "alice", &t, 1).await.is_success());
    let t = python_token(&app.key, "alice", now, 600, &app.secret, true);
    assert!(login(&s, &app, "alice", &t, 1).await.is_success());
    let ours = magpie_server::dynamic::make(&app.key, &app.secret, "alice", now, 600);
    let theirs = python_token(&app.key, "alice", now, 600, &app.secret, false);
    let decode = |t: &str| -> Value { serde_json::from_slice(&base64_decode(t)).unwrap() };
    assert_eq!(decode(&ours)["signature"], decode(&theirs)["signature"]);
    // Refused with 302, each for its own reason.
    let cases = [
        (
            python_token(&app.key, "alice", now - 700_000, 600, &app.secret, false),
            "alice",
            "expired",
        ),
        (
            python_token(&app.key, "alice", now + 400_000, 600, &app.secret, false),
            "alice",
            "future",
        ),
        (
            python_token(&app.key, "alice", now, 600, "not-the-secret", false),
            "alice",
            "signature",
        ),
        (
            python_token(&other.key, "alice", now, 600, &other.secret, false),
            "alice",
            "signature",
        ),
        (
            python_token(&app.key, "bob", now, 600, &app.secret, false),
            "alice",
            "signature",
        ),
        (
            python_token(&app.key, "alice", now, 864_000, &app.secret, false),
            "alice",
            "ttl",
        ),
        ("bm90IGpzb24=".to_owned(), "alice", "malformed"),
    ];
    for (token, acct, why) in cases {
        let r = login(&s, &app, acct, &token, 1).await;
        assert_eq!(r.err_code, ResCode::UID_PASS_ERROR, "{why}: {r:?}");
        assert!(r.desc.contains(why), "{why}: {}", r.desc);
    }
    // A dynamic token is not a static token, and vice versa.
    assert_eq!(
        login(&s, &app, "alice", "static", 1).await.err_code,
        ResCode::UID_PASS_ERROR
    );
    let t = python_token(&app.key, "alice", now, 600, &app.secret, false);
    assert_eq!(
        login(&s, &app, "alice", &t, 0).await.err_code,
        ResCode::UID_PASS_ERROR
    );
    // Which auth types an app accepts is its own setting.
    let v = s
        .admin(&app)
        .json(
            Method::PUT,
            "/magpie/v1/app/login_auth",
            Some(json!({"auth_types": [0]})),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let r = login(&s, &app, "alice", &t, 1).await;
    assert_eq!(r.err_code, ResCode::FORBIDDEN, "{r:?}");
    assert!(login(&s, &app, "alice", "static", 0).await.is_success());
}

fn base64_decode(t: &str) -> Vec<u8> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import base64,sys; sys.stdout.buffer.write(base64.b64decode(sys.argv[1]))",
            t,
        ])
        .output()
        .unwrap();
    out.stdout
}

/// The app's login callback server, started by the test.
#[derive(Default)]
struct CallbackApp {
    secret: String,
    delay_ms: AtomicUsize,
    deny_with: AtomicUsize,
    calls: AtomicUsize,
    bad_signatures: AtomicUsize,
    last_body: Mutex<Value>,
}

async fn on_login(
    State(st): State<Arc<CallbackApp>>,
    headers: HeaderMap,
    body: String,
) -> Json<Value> {
    st.calls.fetch_add(1, Ordering::SeqCst);
    // Verify MD5 and CheckSum as an app server would (the helpers are checked
    // against Python's hashlib in `callback_signature_helpers_match_python`).
    if !magpie_testkit::signed_by(&st.secret, &body, &headers) {
        st.bad_signatures.fetch_add(1, Ordering::SeqCst);
    }
    *st.last_body.lock().unwrap() = serde_json::from_str(&body).unwrap_or(Value::Null);
    let delay = st.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    }
    match st.deny_with.load(Ordering::SeqCst) {
        0 => Json(json!({"errCode": 0})),
        code => Json(json!({"errCode": code, "desc": "not today"})),
    }
}

async fn callback_server(secret: &str) -> (String, Arc<CallbackApp>) {
    let st = Arc::new(CallbackApp {
        secret: secret.to_owned(),
        ..Default::default()
    });
    let router = axum::Router::new()
        .route("/nim/login", post(on_login))
        .with_state(st.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/nim/login", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, router).await.unwrap() });
    (url, st)
}

async fn set_callback(s: &TestServer, app: &TestApp, url: &str, timeout_ms: u64, fail_open: bool) {
    let v = s
        .admin(app)
        .json(
            Method::PUT,
            "/magpie/v1/app/login_auth",
            Some(json!({
                "auth_types": [0, 1, 2],
                "callback": {"url": url, "timeout_ms": timeout_ms, "fail_open": fail_open}
            })),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
}

/// Verifies our MD5 and SHA1 helpers against Python's hashlib, so the callback
/// server above checks signatures with independently confirmed code.
#[test]
fn callback_signature_helpers_match_python() {
    if !magpie_testkit::tools::available(
        "callback_signature_helpers_match_python",
        &[magpie_testkit::tools::PYTHON3],
    ) {
        return;
    }
    let out = std::process::Command::new("python3")
        .args(["-c", "import hashlib; m=hashlib.md5(b'{\"a\":1}').hexdigest(); print(m, hashlib.sha1(('sec'+m+'1700000000000').encode()).hexdigest())"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut it = text.split_whitespace();
    let (m, c) = (it.next().unwrap(), it.next().unwrap());
    assert_eq!(magpie_proto::sign::md5_hex(br#"{"a":1}"#), m);
    assert_eq!(
        magpie_server::callback::callback_checksum("sec", m, "1700000000000"),
        c
    );
}

#[tokio::test]
async fn callback_allows_and_denies_and_sees_nims_fields() {
    let s = TestServer::start().await;
    let app = s.app("cb").await;
    s.account(&app, "carl", "static").await;
    let (url, cb) = callback_server(&app.secret).await;
    set_callback(&s, &app, &url, 2000, false).await;
    let c = TestClient::new(
        s.options()
            .with_client_type(magpie_proto::types::client_type::ANDROID)
            .with_device_id("carl-phone"),
    );
    let params = LoginParams {
        auth_type: 2,
        login_ex: "ext-data".into(),
        custom_tag: "tag".into(),
    };
    let r = c
        .client
        .login(&app.key, "carl", "app-token-1", params.clone())
        .await;
    assert!(r.is_success(), "{r:?}");
    let body = cb.last_body.lock().unwrap().clone();
    // NIM's login callback types: eventType and authType are numbers,
    // the port, customClientType and timestamp strings, autoLogin a bool.
    assert_eq!(body["eventType"], 36);
    assert_eq!(body["fromAccount"], "carl");
    assert_eq!(body["fromDeviceId"], "carl-phone");
    assert_eq!(body["fromClientType"], "AOS");
    assert_eq!(body["fromClientIp"], "127.0.0.1");
    assert!(body["fromClientPort"]
        .as_str()
        .unwrap()
        .parse::<u16>()
        .is_ok());
    assert_eq!(
        (body["token"].as_str(), body["authType"].as_u64()),
        (Some("app-token-1"), Some(2))
    );
    assert_eq!(body["autoLogin"], false, "a manual login");
    assert_eq!(body["customClientType"], "0");
    let ts: i64 = body["timestamp"].as_str().unwrap().parse().unwrap();
    assert!((ts - magpie_store::now_ms()).abs() < 60_000);
    assert_eq!(
        (body["loginExt"].as_str(), body["customTag"].as_str()),
        (Some("ext-data"), Some("tag"))
    );
    c.client.logout(1).await;
    // Deny: the app's code reaches the client.
    cb.deny_with.store(4321, Ordering::SeqCst);
    let r = c
        .client
        .login(&app.key, "carl", "app-token-1", params)
        .await;
    assert_eq!(r.err_code, ResCode(4321), "{r:?}");
    assert_eq!(r.desc, "not today");
    assert_eq!(cb.bad_signatures.load(Ordering::SeqCst), 0);
    // Unknown accounts never reach the app server.
    let calls = cb.calls.load(Ordering::SeqCst);
    assert_eq!(
        login(&s, &app, "nobody", "x", 2).await.err_code,
        ResCode::UID_PASS_ERROR
    );
    assert_eq!(cb.calls.load(Ordering::SeqCst), calls);
}

#[tokio::test]
async fn callback_timeouts_fail_open_or_closed() {
    let s = TestServer::start().await;
    let app = s.app("cb").await;
    s.account(&app, "dina", "static").await;
    let (url, cb) = callback_server(&app.secret).await;
    cb.delay_ms.store(3000, Ordering::SeqCst);
    set_callback(&s, &app, &url, 300, true).await;
    let t0 = Instant::now();
    assert!(
        login(&s, &app, "dina", "tok", 2).await.is_success(),
        "fail-open lets the login through"
    );
    assert!(t0.elapsed() < Duration::from_millis(2500));
    set_callback(&s, &app, &url, 300, false).await;
    let t0 = Instant::now();
    let r = login(&s, &app, "dina", "tok", 2).await;
    assert_eq!(r.err_code, ResCode::TIMEOUT, "{r:?}");
    assert!(r.desc.contains("login callback failed"), "{}", r.desc);
    assert!(t0.elapsed() < Duration::from_millis(2500));
    // A dead callback server is a failure too.
    set_callback(&s, &app, "http://127.0.0.1:9/nothing", 300, false).await;
    assert_eq!(
        login(&s, &app, "dina", "tok", 2).await.err_code,
        ResCode::TIMEOUT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_logins_against_a_slow_callback_run_in_parallel() {
    let s = TestServer::start().await;
    let app = s.app("cb").await;
    let (url, cb) = callback_server(&app.secret).await;
    cb.delay_ms.store(200, Ordering::SeqCst);
    set_callback(&s, &app, &url, 5000, false).await;
    for i in 0..100 {
        s.account(&app, &format!("p{i}"), "static").await;
    }
    let mut peers = Vec::new();
    for _ in 0..100 {
        peers.push(RawPeer::hello(s.addr()).await);
    }
    let t0 = Instant::now();
    let logins = peers.iter_mut().enumerate().map(|(i, p)| {
        let mut req = login_request(&app, &format!("p{i}"), "tok", &format!("d{i}"));
        req.auth_type = 2;
        p.login(req)
    });
    let acks = futures::future::join_all(logins).await;
    let took = t0.elapsed();
    for a in acks {
        assert!(
            matches!(a, magpie_proto::ServerFrame::LoginAck { body, .. } if body.code == ResCode::SUCCESS)
        );
    }
    println!("100 logins against a 200 ms callback took {took:?} (serial would be 20 s)");
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert_eq!(cb.calls.load(Ordering::SeqCst), 100);
    assert_eq!(cb.bad_signatures.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_token_provider_is_asked_before_every_attempt_so_an_expired_token_is_renewed() {
    let mut s = TestServer::start().await;
    let app = s.app("dyn").await;
    s.account(&app, "erin", "static").await;
    let mut c = TestClient::new(s.options());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let (key, secret, log) = (app.key.clone(), app.secret.clone(), asked.clone());
    c.client.set_token_provider(move |req| {
        log.lock().unwrap().push(req.relogin);
        // Short-lived tokens: one second.
        Some(magpie_server::dynamic::make(
            &key,
            &secret,
            &req.account,
            magpie_store::now_ms(),
            1,
        ))
    });
    let params = LoginParams {
        auth_type: 1,
        ..Default::default()
    };
    let r = c.client.login(&app.key, "erin", "", params).await;
    assert!(r.is_success(), "{r:?}");
    let addrs = s.stop().await;
    c.events.until(|e| matches!(e, Event::Disconnect)).await;
    // Offline for longer than the first token lives.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    s.start_on(addrs).await;
    c.events
        .until(|e| matches!(e, Event::AutoRelogin(r) if r.is_success()))
        .await;
    assert_eq!(c.client.login_state(), LoginState::Logined);
    let asked = asked.lock().unwrap().clone();
    assert!(!asked[0], "asked for the first login");
    assert!(
        asked.len() >= 2 && asked[1..].iter().all(|r| *r),
        "asked before each re-login: {asked:?}"
    );
}

#[tokio::test]
async fn a_pipelined_hello_is_answered_before_a_slow_callback_login() {
    let s = TestServer::start().await;
    let app = s.app("cb").await;
    s.account(&app, "pia", "static").await;
    let (url, cb) = callback_server(&app.secret).await;
    cb.delay_ms.store(2500, Ordering::SeqCst);
    set_callback(&s, &app, &url, 5000, false).await;
    // Raw: HELLO and LOGIN in one write; the HELLO_ACK is not held behind the
    // callback.
    let mut p = RawPeer::connect(s.addr()).await;
    let hello = p.hello_frame();
    let seq = p.next_seq();
    let mut req = login_request(&app, "pia", "tok", "raw");
    req.auth_type = 2;
    p.send_all(&[
        hello,
        magpie_proto::ClientFrame::Login {
            seq,
            body: Box::new(req),
        },
    ])
    .await;
    assert!(matches!(
        p.recv().await,
        Some(magpie_proto::ServerFrame::HelloAck { .. })
    ));
    let hello_at = Instant::now();
    assert!(matches!(
        p.recv().await,
        Some(magpie_proto::ServerFrame::LoginAck { body, .. }) if body.code == ResCode::SUCCESS
    ));
    let gap = hello_at.elapsed();
    assert!(
        gap >= Duration::from_millis(1000),
        "the hello ack waited for the callback: only {gap:?} before the login ack"
    );
    // The SDK pipelines too, and expects the hello's answer within its
    // connect timeout, far shorter than the callback here.
    let c = TestClient::new(
        s.options()
            .with_connect_timeout(Duration::from_millis(1000))
            .with_request_timeout(Duration::from_secs(8)),
    );
    let params = LoginParams {
        auth_type: 2,
        ..Default::default()
    };
    let r = c.client.login(&app.key, "pia", "tok", params).await;
    assert!(r.is_success(), "{r:?}");
}
