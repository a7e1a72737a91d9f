//! Malformed input gets a clear code and closes only its own connection.

use magpie_proto::codec::decode_server;
use magpie_proto::frame::{op, Hello};
use magpie_proto::{ClientFrame, Decoded, ServerFrame};
use magpie_testkit::*;
use std::time::Duration;
use tokio::io::AsyncReadExt;

fn error_of(f: Option<ServerFrame>) -> (ResCode, bool, String) {
    match f {
        Some(ServerFrame::Error { body, .. }) => (body.code, body.fatal, body.desc),
        other => panic!("expected an error frame, got {other:?}"),
    }
}

/// A logged-in bystander that must keep working while others misbehave.
async fn bystander(s: &TestServer, app: &TestApp) -> RawPeer {
    s.account(app, "stay", "t").await;
    let mut p = RawPeer::hello(s.addr()).await;
    assert!(
        matches!(p.login(login_request(app, "stay", "t", "d")).await,
        ServerFrame::LoginAck { body, .. } if body.code == ResCode::SUCCESS)
    );
    p
}

async fn still_alive(p: &mut RawPeer) {
    let seq = p.next_seq();
    p.send(&ClientFrame::Ping { seq }).await;
    assert!(matches!(p.recv().await, Some(ServerFrame::Pong { seq: s }) if s == seq));
}

fn frame(opcode: u8, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = ((payload.len() + 5) as u32).to_be_bytes().to_vec();
    b.push(opcode);
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(payload);
    b
}

#[tokio::test]
async fn malformed_payload_gets_998_and_closes_only_that_connection() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    let mut ok = bystander(&s, &app).await;
    let mut bad = RawPeer::hello(s.addr()).await;
    bad.send_bytes(&frame(op::LOGIN, 7, b"{\"app_key\": 12"))
        .await;
    let (code, fatal, desc) = error_of(bad.recv().await);
    assert_eq!(code, ResCode::E_UNPACKET);
    assert!(fatal && desc.contains("malformed"), "{desc}");
    assert!(bad.recv().await.is_none(), "the bad connection is closed");
    still_alive(&mut ok).await;
}

#[tokio::test]
async fn oversized_frame_gets_419_before_its_body_is_read() {
    let mut cfg = test_config();
    cfg.max_frame_bytes = 4096;
    let s = TestServer::start_with(cfg).await;
    let app = s.app("a").await;
    let mut ok = bystander(&s, &app).await;
    let mut bad = RawPeer::hello(s.addr()).await;
    // Only the length prefix: the server must not wait for 1 MiB to arrive.
    bad.send_bytes(&(1u32 << 20).to_be_bytes()).await;
    let (code, fatal, _) = error_of(bad.recv().await);
    assert_eq!((code, fatal), (ResCode::OVERRUN, true));
    assert!(bad.recv().await.is_none());
    // An HTTP request as the first bytes is not Magpie's protocol at all.
    let mut http = RawPeer::connect(s.addr()).await;
    http.send_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (code, fatal, _) = error_of(http.recv().await);
    assert_eq!((code, fatal), (ResCode::INVALID_PROTOCOL, true));
    still_alive(&mut ok).await;
}

#[tokio::test]
async fn truncated_frame_gets_998_when_the_peer_stops_sending() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    let mut ok = bystander(&s, &app).await;
    let mut bad = RawPeer::hello(s.addr()).await;
    let whole = frame(op::PING, 3, b"");
    bad.send_bytes(&whole[..6]).await;
    bad.stream.shutdown().await.unwrap();
    let (code, fatal, desc) = error_of(bad.recv().await);
    assert_eq!((code, fatal), (ResCode::E_UNPACKET, true));
    assert!(desc.contains("inside a frame"), "{desc}");
    assert!(bad.recv().await.is_none());
    still_alive(&mut ok).await;
}
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn too_short_length_and_missing_hello_get_997() {
    let s = TestServer::start().await;
    let mut p = RawPeer::connect(s.addr()).await;
    p.send_bytes(&[0, 0, 0, 1, 0]).await;
    assert_eq!(error_of(p.recv().await).0, ResCode::INVALID_PROTOCOL);
    assert!(p.recv().await.is_none());
    let mut p = RawPeer::connect(s.addr()).await;
    p.send(&ClientFrame::Ping { seq: 1 }).await;
    let (code, fatal, desc) = error_of(p.recv().await);
    assert_eq!((code, fatal), (ResCode::INVALID_PROTOCOL, true));
    assert!(desc.contains("HELLO"));
    assert!(p.recv().await.is_none());
}

#[tokio::test]
async fn unknown_operation_gets_509_and_the_connection_goes_on() {
    let s = TestServer::start().await;
    let mut p = RawPeer::hello(s.addr()).await;
    p.send_bytes(&frame(0x6e, 42, b"{}")).await;
    match p.recv().await {
        Some(ServerFrame::Error { seq, body }) => {
            assert_eq!((seq, body.code, body.fatal), (42, ResCode::INVALID, false));
        }
        other => panic!("{other:?}"),
    }
    still_alive(&mut p).await;
    // A second hello is refused without closing, too.
    let seq = p.next_seq();
    p.send(&ClientFrame::Hello {
        seq,
        body: Hello {
            version: 1,
            min_version: 1,
            sdk_version: String::new(),
        },
    })
    .await;
    assert_eq!(error_of(p.recv().await).0, ResCode::INVALID);
    still_alive(&mut p).await;
}

#[tokio::test]
async fn version_mismatch_gets_201_and_closes() {
    let s = TestServer::start().await;
    let mut p = RawPeer::connect(s.addr()).await;
    p.send(&ClientFrame::Hello {
        seq: 1,
        body: Hello {
            version: 9,
            min_version: 7,
            sdk_version: "future".into(),
        },
    })
    .await;
    match p.recv().await {
        Some(ServerFrame::HelloAck { body, .. }) => {
            assert_eq!(body.code, ResCode::VERSION_ERROR);
            assert_eq!(body.version, magpie_proto::PROTOCOL_VERSION);
        }
        other => panic!("{other:?}"),
    }
    assert!(p.recv().await.is_none());
    // A newer client that still speaks this server's version gets it.
    let mut p = RawPeer::connect(s.addr()).await;
    p.send(&ClientFrame::Hello {
        seq: 1,
        body: Hello {
            version: 5,
            min_version: 1,
            sdk_version: "newer".into(),
        },
    })
    .await;
    assert!(
        matches!(p.recv().await, Some(ServerFrame::HelloAck { body, .. }) if body.code == ResCode::SUCCESS && body.version == magpie_proto::PROTOCOL_VERSION)
    );
}

#[tokio::test]
async fn silent_connections_are_closed_after_the_idle_timeout() {
    let mut cfg = test_config();
    // Generous margins: the SDK pings every 150 ms, the server waits 1 s, so
    // a loaded CI machine does not turn scheduling delays into failures.
    cfg.heartbeat_interval_ms = 150;
    cfg.idle_timeout_ms = 1000;
    cfg.handshake_timeout_ms = 500;
    let s = TestServer::start_with(cfg).await;
    let app = s.app("a").await;
    s.account(&app, "zed", "t").await;
    // Silent before the hello.
    let mut p = RawPeer::connect(s.addr()).await;
    let (code, _, desc) = error_of(p.recv().await);
    assert_eq!(code, ResCode::TIMEOUT);
    assert!(desc.contains("handshake"));
    // Silent after login: closed, and the session is gone.
    let mut p = RawPeer::hello(s.addr()).await;
    assert!(
        matches!(p.login(login_request(&app, "zed", "t", "d")).await, ServerFrame::LoginAck { body, .. } if body.code == ResCode::SUCCESS)
    );
    let started = std::time::Instant::now();
    let (code, _, desc) = error_of(p.recv().await);
    assert_eq!(code, ResCode::TIMEOUT);
    assert!(desc.contains("heartbeat"));
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(p.recv().await.is_none());
    let v = s
        .admin(&app)
        .json(reqwest::Method::GET, "/magpie/v1/accounts/zed/online", None)
        .await;
    assert_eq!(v["data"]["clients"], serde_json::json!([]));
    // An SDK client sends heartbeats and stays logged in past the timeout.
    let mut c = TestClient::new(s.options());
    assert!(c.login(&app, "zed", "t").await.is_success());
    c.events
        .until(|e| matches!(e, magpie_client::Event::Login(r) if r.login_step == 3))
        .await;
    c.events
        .until(|e| matches!(e, magpie_client::Event::DataSync(_)))
        .await;
    assert!(
        c.events.quiet_for(Duration::from_millis(2500)).await,
        "no disconnect while heartbeats flow"
    );
    assert_eq!(c.client.login_state(), magpie_client::LoginState::Logined);
}

#[tokio::test]
async fn connections_past_the_cap_are_refused_with_503() {
    let mut cfg = test_config();
    cfg.max_connections = 2;
    let s = TestServer::start_with(cfg).await;
    let _a = RawPeer::hello(s.addr()).await;
    let _b = RawPeer::hello(s.addr()).await;
    let mut c = RawPeer::connect(s.addr()).await;
    assert_eq!(error_of(c.recv().await).0, ResCode::TOO_BUSY);
    assert!(c.recv().await.is_none());
    let metrics = s.handle().shared.metrics.encode();
    let line = "magpie_rate_limited_total{limit=\"max_connections\",app=\"\"} 1";
    assert!(metrics.contains(line), "{line} missing in:\n{metrics}");
}

const ELSEWHERE: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

/// 100 connections that say HELLO and then only PING cannot keep real
/// logins out: one address holds at most `max_pre_login_per_ip` of them,
/// and each is closed when its handshake budget runs out, PINGs or not.
#[tokio::test]
async fn pinging_credential_less_connections_cannot_keep_logins_out() {
    let mut cfg = test_config();
    cfg.max_connections = 100;
    cfg.max_pre_login_per_ip = 50;
    cfg.handshake_timeout_ms = 1_000;
    let s = TestServer::start_with(cfg).await;
    let app = s.app("a").await;
    s.account(&app, "own", "t").await;
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..100 {
        let mut p = RawPeer::connect_from(s.addr(), ELSEWHERE).await;
        let hello = p.hello_frame();
        p.send(&hello).await;
        match p.recv().await {
            Some(ServerFrame::HelloAck { .. }) => held.push(p),
            other => {
                let (code, fatal, desc) = error_of(other);
                assert_eq!((code, fatal), (ResCode::TOO_BUSY, true));
                assert!(desc.contains("not logged in"), "{desc}");
                refused += 1;
            }
        }
    }
    assert_eq!((held.len(), refused), (50, 50));
    let metrics = s.handle().shared.metrics.encode();
    let line = "magpie_rate_limited_total{limit=\"pre_login_per_address\",app=\"\"} 50";
    assert!(metrics.contains(line), "{line} missing in:\n{metrics}");
    // The owner logs in at once from another address.
    let c = TestClient::new(s.options());
    assert!(c.login(&app, "own", "t").await.is_success());
    // Every held connection keeps pinging, and is closed by its budget
    // (1 s from its accept) all the same.
    let started = std::time::Instant::now();
    let closers = held.into_iter().map(|mut p| {
        tokio::spawn(async move {
            loop {
                let seq = p.next_seq();
                p.send(&ClientFrame::Ping { seq }).await;
                match p.recv().await {
                    Some(ServerFrame::Pong { .. }) => {
                        tokio::time::sleep(Duration::from_millis(100)).await
                    }
                    other => return error_of(other),
                }
            }
        })
    });
    for h in closers {
        let (code, _, desc) = tokio::time::timeout(Duration::from_secs(10), h)
            .await
            .expect("closed in time")
            .unwrap();
        assert_eq!(code, ResCode::TIMEOUT);
        assert!(desc.contains("no successful LOGIN"), "{desc}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The slots are free again: a new connection from that address logs in.
    let mut p = RawPeer::hello_from(s.addr(), ELSEWHERE).await;
    match p.login(login_request(&app, "own", "t", "d2")).await {
        ServerFrame::LoginAck { body, .. } => assert_eq!(body.code, ResCode::SUCCESS),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_login_and_ping_pipelined_in_one_write_are_answered_in_order_in_one_write() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "pip", "t").await;
    let mut p = RawPeer::connect(s.addr()).await;
    let hello = p.hello_frame();
    let (login, ping) = (p.next_seq(), p.next_seq());
    p.send_all(&[
        hello,
        ClientFrame::Login {
            seq: login,
            body: Box::new(login_request(&app, "pip", "t", "d")),
        },
        ClientFrame::Ping { seq: ping },
    ])
    .await;
    // The three answers come back in one segment: the first read holds them
    // all.
    let mut chunk = vec![0u8; 64 << 10];
    let n = tokio::time::timeout(WAIT, p.stream.read(&mut chunk))
        .await
        .expect("answers in time")
        .expect("read");
    let mut frames = Vec::new();
    let mut at = 0;
    while let Decoded::Frame(f, used) = decode_server(&chunk[at..n], u32::MAX).unwrap() {
        frames.push(f);
        at += used;
    }
    assert_eq!(at, n, "only whole frames: {frames:?}");
    assert!(
        matches!(&frames[..], [
            ServerFrame::HelloAck { seq: 1, body: h },
            ServerFrame::LoginAck { seq: l, body: a },
            ServerFrame::Pong { seq: q },
        ] if h.code == ResCode::SUCCESS && a.code == ResCode::SUCCESS && *l == login && *q == ping),
        "{frames:?}"
    );
}

#[tokio::test]
async fn a_refused_hello_closes_before_a_pipelined_login_is_looked_at() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "old", "t").await;
    let mut p = RawPeer::connect(s.addr()).await;
    p.send_all(&[
        ClientFrame::Hello {
            seq: 1,
            body: Hello {
                version: 9,
                min_version: 7,
                sdk_version: "future".into(),
            },
        },
        ClientFrame::Login {
            seq: 2,
            body: Box::new(login_request(&app, "old", "t", "d")),
        },
    ])
    .await;
    assert!(
        matches!(p.recv().await, Some(ServerFrame::HelloAck { body, .. }) if body.code == ResCode::VERSION_ERROR)
    );
    assert!(p.recv().await.is_none(), "no login answer, closed");
    let online = s
        .admin(&app)
        .json(reqwest::Method::GET, "/magpie/v1/accounts/old/online", None)
        .await;
    assert_eq!(online["code"], 200, "{online}");
    assert_eq!(
        online["data"]["clients"].as_array().map(Vec::len),
        Some(0),
        "{online}"
    );
}
