//! The admin API: NIM's CheckSum authentication, V1 and V2 account routes.

use magpie_client::{Event, LoginState};
use magpie_proto::types::client_type;
use magpie_testkit::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

async fn body(r: reqwest::RequestBuilder) -> Value {
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn checksum_accepts_a_correct_call_and_rejects_wrong_stale_or_replayed_ones() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    let admin = s.admin(&app);
    let path = "/nimserver/user/create.action";
    let now = magpie_store::now_ms() / 1000;
    let post = |nonce: &str, cur: String, secret: &str, accid: &str| {
        admin
            .request_signed(Method::POST, path, nonce, &cur, secret)
            .form(&[("accid", accid)])
    };
    // Correct.
    let v = body(post("n-1", now.to_string(), &app.secret, "u1")).await;
    assert_eq!(v["code"], 200, "{v}");
    // The same nonce again: a replay.
    let v = body(post("n-1", now.to_string(), &app.secret, "u2")).await;
    assert_eq!(
        (v["code"].as_u64(), v["desc"].as_str()),
        (Some(403), Some("Nonce was already used"))
    );
    // Wrong secret.
    let v = body(post("n-2", now.to_string(), "not-the-secret", "u3")).await;
    assert_eq!(
        (v["code"].as_u64(), v["desc"].as_str()),
        (Some(403), Some("CheckSum mismatch"))
    );
    // Stale and future CurTime (window 300 s). The margin is wide enough
    // that the seconds between the test's clock read and the server's do
    // not bring either one back inside the window.
    for cur in [now - 360, now + 360] {
        let v = body(post(
            &format!("n-{cur}"),
            cur.to_string(),
            &app.secret,
            "u4",
        ))
        .await;
        assert_eq!(v["code"], 403, "{cur}: {v}");
        assert!(v["desc"].as_str().unwrap().contains("CurTime"));
    }
    // Inside the window is fine.
    let v = body(post("n-3", (now - 250).to_string(), &app.secret, "u5")).await;
    assert_eq!(v["code"], 200, "{v}");
    // Not a number, missing headers, unknown app key.
    let v = body(post("n-4", "soon".into(), &app.secret, "u6")).await;
    assert_eq!(v["code"], 414);
    let v = body(
        reqwest::Client::new()
            .post(format!("{}{path}", s.admin_url()))
            .form(&[("accid", "u7")]),
    )
    .await;
    assert_eq!(v["code"], 414);
    let other = TestApp {
        key: "ffffffffffffffffffffffffffffffff".into(),
        secret: app.secret.clone(),
    };
    let v = body(
        s.admin(&other)
            .request(Method::POST, path)
            .form(&[("accid", "u8")]),
    )
    .await;
    assert_eq!(v["code"], 403);
    // V2 routes answer in the V2 shape.
    let v = body(admin.request_signed(
        Method::GET,
        "/im/v2/accounts/u1",
        "n-1",
        &now.to_string(),
        &app.secret,
    ))
    .await;
    assert_eq!(
        (v["code"].as_u64(), v["msg"].as_str()),
        (Some(403), Some("Nonce was already used"))
    );
    // None of the refused calls created an account.
    for a in ["u2", "u3", "u4", "u6", "u7", "u8"] {
        let v = admin
            .json(Method::GET, &format!("/im/v2/accounts/{a}"), None)
            .await;
        assert_eq!(v["code"], 404, "{a}");
    }
}

#[tokio::test]
async fn v1_create_returns_nims_shape_and_validates() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    let admin = s.admin(&app);
    let v = admin
        .form(
            "/nimserver/user/create.action",
            &[("accid", "Alice.W@x"), ("token", "tok"), ("name", "Alice")],
        )
        .await;
    assert_eq!(
        v,
        json!({"code": 200, "info": {"token": "tok", "accid": "alice.w@x", "name": "Alice"}})
    );
    // A generated token is returned once and works.
    let v = admin
        .form("/nimserver/user/create.action", &[("accid", "gen")])
        .await;
    let token = v["info"]["token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    assert!(TestClient::new(s.options())
        .login(&app, "gen", token)
        .await
        .is_success());
    // Duplicates and bad parameters.
    let v = admin
        .form("/nimserver/user/create.action", &[("accid", "gen")])
        .await;
    assert_eq!(v, json!({"code": 414, "desc": "already register"}));
    for bad in [
        vec![("accid", "")],
        vec![("accid", "has space")],
        vec![("accid", &"x".repeat(33) as &str)],
        vec![("accid", "ok1"), ("token", &"t".repeat(129) as &str)],
        vec![("accid", "ok2"), ("gender", "7")],
        vec![("accid", "ok3"), ("name", &"n".repeat(65) as &str)],
        vec![("name", "no accid")],
    ] {
        let v = admin.form("/nimserver/user/create.action", &bad).await;
        assert_eq!(v["code"], 414, "{bad:?}: {v}");
        assert!(!v["desc"].as_str().unwrap().is_empty());
    }
    let v = admin
        .form("/nimserver/user/update.action", &[("accid", "gen")])
        .await;
    assert_eq!(v["code"], 414, "update needs a token");
    let v = admin
        .form(
            "/nimserver/user/refreshToken.action",
            &[("accid", "nobody")],
        )
        .await;
    assert_eq!(v["code"], 404);
}

#[tokio::test]
async fn v2_accounts_create_get_refresh_disable() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    let admin = s.admin(&app);
    let v = admin
        .json(
            Method::POST,
            "/im/v2/accounts",
            Some(json!({
                "account_id": "v2user", "token": "first",
                "user_information": {"name": "V Two", "gender": 1, "extension": "{\"k\":1}"}
            })),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["data"]["account_id"], "v2user");
    assert_eq!(v["data"]["token"], "first");
    assert_eq!(v["data"]["configuration"]["enabled"], true);
    assert_eq!(v["data"]["user_information"]["name"], "V Two");
    let v = admin
        .json(Method::GET, "/im/v2/accounts/v2user", None)
        .await;
    assert_eq!(v["data"]["user_information"]["gender"], 1);
    assert_eq!(v["data"]["user_information"]["extension"], "{\"k\":1}");
    assert!(
        v["data"].get("token").is_none(),
        "tokens are stored hashed and never shown again"
    );
    // Malformed JSON and a duplicate.
    let r = admin
        .request(Method::POST, "/im/v2/accounts")
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], 414);
    assert!(v["msg"].as_str().unwrap().contains("JSON"));
    let v = admin
        .json(
            Method::POST,
            "/im/v2/accounts",
            Some(json!({"account_id": "v2user"})),
        )
        .await;
    assert_eq!(v["code"], 414);
    // Refresh.
    let v = admin
        .json(
            Method::PATCH,
            "/im/v2/accounts/v2user/actions/refresh_token",
            None,
        )
        .await;
    let fresh = v["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(
        TestClient::new(s.options())
            .login(&app, "v2user", "first")
            .await
            .err_code,
        ResCode::UID_PASS_ERROR
    );
    let mut c = TestClient::new(s.options());
    assert!(c.login(&app, "v2user", &fresh).await.is_success());
    // Disable with kick, then enable.
    let v = admin
        .json(
            Method::PATCH,
            "/im/v2/accounts/v2user/actions/disable",
            Some(json!({"enabled": false, "need_kick": true, "kick_notify_extension": "bye"})),
        )
        .await;
    assert_eq!(v["data"], json!({"account_id": "v2user", "enabled": false}));
    let Event::Kickout(k) = c.events.until(|e| matches!(e, Event::Kickout(_))).await else {
        unreachable!()
    };
    assert_eq!((k.reason_code, k.reason_description.as_str()), (2, "bye"));
    assert_eq!(
        TestClient::new(s.options())
            .login(&app, "v2user", &fresh)
            .await
            .err_code,
        ResCode::ACCOUNT_BLOCK
    );
    let v = admin
        .json(Method::GET, "/im/v2/accounts/v2user", None)
        .await;
    assert_eq!(v["data"]["configuration"]["enabled"], false);
    admin
        .json(
            Method::PATCH,
            "/im/v2/accounts/v2user/actions/disable",
            Some(json!({"enabled": true})),
        )
        .await;
    assert!(TestClient::new(s.options())
        .login(&app, "v2user", &fresh)
        .await
        .is_success());
    // Created disabled.
    let v = admin
        .json(
            Method::POST,
            "/im/v2/accounts",
            Some(json!({"account_id": "off", "token": "t", "configuration": {"enabled": false}})),
        )
        .await;
    assert_eq!(v["data"]["configuration"]["enabled"], false);
    assert_eq!(
        TestClient::new(s.options())
            .login(&app, "off", "t")
            .await
            .err_code,
        ResCode::ACCOUNT_BLOCK
    );
}

#[tokio::test]
async fn v2_kick_types_and_online_listing() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "multi", "t").await;
    let admin = s.admin(&app);
    let mut devices = Vec::new();
    for (dev, ty) in [
        ("pc", client_type::PC_WINDOWS),
        ("phone", client_type::ANDROID),
        ("web", client_type::WEB),
    ] {
        let c = TestClient::new(s.options().with_device_id(dev).with_client_type(ty));
        assert!(c.login(&app, "multi", "t").await.is_success());
        devices.push(c);
    }
    let v = admin
        .json(Method::GET, "/magpie/v1/accounts/multi/online", None)
        .await;
    let mut online: Vec<String> = v["data"]["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["device_id"].as_str().unwrap().to_owned())
        .collect();
    online.sort();
    assert_eq!(online, ["pc", "phone", "web"]);
    // Type 2: listed devices; an offline one lands in failed_list.
    let v = admin
        .json(
            Method::POST,
            "/im/v2/accounts/multi/actions/kick",
            Some(json!({"type": 2, "device_id_list": ["web", "ghost"]})),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let ok = v["data"]["success_list"].as_array().unwrap();
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["device_id"], "web");
    assert_eq!(ok[0]["client_type"], client_type::WEB);
    assert!(ok[0]["consid"].is_string() && ok[0]["login_time"].as_i64().unwrap() > 0);
    assert_eq!(
        v["data"]["failed_list"],
        json!([{"device_id": "ghost", "error_code": 404, "error_msg": "device is not online"}])
    );
    devices[2]
        .events
        .until(|e| matches!(e, Event::Kickout(k) if k.reason_code == 2))
        .await;
    // Type 3: all but the listed.
    let v = admin
        .json(
            Method::POST,
            "/im/v2/accounts/multi/actions/kick",
            Some(json!({"type": 3, "device_id_list": ["pc"]})),
        )
        .await;
    assert_eq!(v["data"]["success_list"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"]["success_list"][0]["device_id"], "phone");
    devices[1]
        .events
        .until(|e| matches!(e, Event::Kickout(_)))
        .await;
    // Type 1: everything left.
    let v = admin
        .json(
            Method::POST,
            "/im/v2/accounts/multi/actions/kick",
            Some(json!({"type": 1})),
        )
        .await;
    assert_eq!(v["data"]["success_list"][0]["device_id"], "pc");
    devices[0]
        .events
        .until(|e| matches!(e, Event::Kickout(_)))
        .await;
    assert_eq!(
        devices[0]
            .client
            .wait_for_state(|s| s == LoginState::Kicked)
            .await,
        LoginState::Kicked
    );
    let v = admin
        .json(Method::GET, "/magpie/v1/accounts/multi/online", None)
        .await;
    assert_eq!(v["data"]["clients"], json!([]));
    // Bad kick requests.
    for b in [
        json!({"type": 4}),
        json!({"type": 2}),
        json!({"type": 2, "device_id_list": vec!["x"; 21]}),
    ] {
        let v = admin
            .json(
                Method::POST,
                "/im/v2/accounts/multi/actions/kick",
                Some(b.clone()),
            )
            .await;
        assert_eq!(v["code"], 414, "{b}");
    }
    let v = admin
        .json(
            Method::POST,
            "/im/v2/accounts/nobody/actions/kick",
            Some(json!({"type": 1})),
        )
        .await;
    assert_eq!(v["code"], 404);
}

#[tokio::test]
async fn healthz_answers_without_a_signature() {
    let s = TestServer::start().await;
    let v: Value = reqwest::get(format!("{}/healthz", s.admin_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "ok");
}

#[tokio::test]
async fn router_in_process_with_tower_oneshot() {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let store = std::sync::Arc::new(magpie_store::MemoryStore::new());
    let services = magpie_server::Services::in_process(magpie_store::Stores::new(store.clone()));
    let shared = std::sync::Arc::new(magpie_server::Shared::new(test_config(), services));
    use magpie_store::{AccountStore, AppStore};
    let app = store.create_app("mem", "k", "s").await.unwrap();
    let router = magpie_server::admin::router(shared);
    let mut req = axum::http::Request::post("/nimserver/user/create.action")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("accid=inproc&token=t"))
        .unwrap();
    let cur = (magpie_store::now_ms() / 1000).to_string();
    for (k, v) in
        magpie_proto::sign::signature_headers(&app.app_key, &app.app_secret, "nonce", &cur)
    {
        req.headers_mut().insert(k, v.parse().unwrap());
    }
    let resp = router.oneshot(req).await.unwrap();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        v,
        json!({"code": 200, "info": {"token": "t", "accid": "inproc", "name": ""}})
    );
    assert!(store
        .account(app.id, &"inproc".parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .token
        .verify("t"));
}

#[tokio::test]
async fn batch_creation_for_provisioning() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    let admin = s.admin(&app);
    let batch = |from: usize, n: usize| json!({"accounts": (from..from + n).map(|i| json!({"account_id": format!("b{i}"), "token": "bt"})).collect::<Vec<_>>()});
    let v = admin
        .json(
            Method::POST,
            "/magpie/v1/accounts/batch",
            Some(batch(0, 500)),
        )
        .await;
    assert_eq!(v["data"]["created"], 500, "{v}");
    assert!(TestClient::new(s.options())
        .login(&app, "b499", "bt")
        .await
        .is_success());
    // Too many, or a duplicate: nothing is created.
    let v = admin
        .json(
            Method::POST,
            "/magpie/v1/accounts/batch",
            Some(batch(500, 501)),
        )
        .await;
    assert_eq!(v["code"], 414);
    let v = admin
        .json(
            Method::POST,
            "/magpie/v1/accounts/batch",
            Some(batch(499, 3)),
        )
        .await;
    assert_eq!(v["code"], 414);
    let v = admin.json(Method::GET, "/im/v2/accounts/b500", None).await;
    assert_eq!(v["code"], 404, "all or nothing");
}

/// 300 connections to the admin port, half silent and half trickling a
/// header one line at a time, are closed within the header timeout, while
/// signed calls on other connections keep being answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_trickling_admin_connections_are_closed_and_signed_calls_go_on() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut cfg = test_config();
    cfg.admin.header_timeout_ms = 1_000;
    cfg.admin.max_connections = 400;
    let s = TestServer::start_with(cfg).await;
    let app = s.app("a").await;
    let admin_addr = s.admin_url().trim_start_matches("http://").to_owned();
    let started = std::time::Instant::now();
    let mut conns = Vec::new();
    for i in 0..300 {
        let mut c = tokio::net::TcpStream::connect(&admin_addr).await.unwrap();
        let trickle = i % 2 == 1;
        conns.push(tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let lines: &[&[u8]] = &[
                b"GET /healthz HTTP/1.1\r\n",
                b"Host: x\r\n",
                b"X-A: 1\r\n",
                b"X-B: 2\r\n",
                b"X-C: 3\r\n",
                b"X-D: 4\r\n",
                b"X-E: 5\r\n",
                b"X-F: 6\r\n",
            ];
            let mut next = 0;
            loop {
                if trickle && next < lines.len() && c.write_all(lines[next]).await.is_err() {
                    break;
                }
                next += 1;
                // Wait for the server to close (read returns 0 or an error)
                // or for the next line's turn.
                match tokio::time::timeout(Duration::from_millis(300), c.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => break,
                    Ok(Ok(_)) => {}
                    Err(_) => {}
                }
            }
        }));
    }
    // Signed calls keep working meanwhile.
    for i in 0..20 {
        let v = s
            .admin(&app)
            .form(
                "/nimserver/user/create.action",
                &[("accid", &format!("busy{i}")), ("token", "t")],
            )
            .await;
        assert_eq!(v["code"], 200, "{v}");
    }
    for h in conns {
        tokio::time::timeout(Duration::from_secs(10), h)
            .await
            .expect("every idle or trickling connection is closed")
            .unwrap();
    }
    let took = started.elapsed();
    println!("300 idle and trickling admin connections closed after {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

/// One app spending its whole nonce memory gets 416; another app does not
/// notice.
#[tokio::test]
async fn one_app_exhausting_its_nonce_budget_does_not_affect_another() {
    let mut cfg = test_config();
    cfg.admin.max_nonces = 50;
    cfg.admin.per_app_per_sec = 0.0;
    let s = TestServer::start_with(cfg).await;
    let (busy, calm) = (s.app("busy").await, s.app("calm").await);
    for i in 0..50 {
        let v = s
            .admin(&busy)
            .form(
                "/nimserver/user/create.action",
                &[("accid", &format!("n{i}")), ("token", "t")],
            )
            .await;
        assert_eq!(v["code"], 200, "{v}");
    }
    let v = s
        .admin(&busy)
        .form(
            "/nimserver/user/create.action",
            &[("accid", "one-more"), ("token", "t")],
        )
        .await;
    assert_eq!(v["code"], 416, "{v}");
    for i in 0..20 {
        let v = s
            .admin(&calm)
            .form(
                "/nimserver/user/create.action",
                &[("accid", &format!("c{i}")), ("token", "t")],
            )
            .await;
        assert_eq!(v["code"], 200, "{v}");
    }
}

/// The per-app call rate: past its burst an app gets 416, others do not.
#[tokio::test]
async fn signed_calls_are_rate_limited_per_app() {
    let mut cfg = test_config();
    cfg.admin.per_app_per_sec = 0.01;
    cfg.admin.per_app_burst = 5.0;
    let s = TestServer::start_with(cfg).await;
    let (busy, calm) = (s.app("busy").await, s.app("calm").await);
    let mut codes = Vec::new();
    for i in 0..6 {
        let v = s
            .admin(&busy)
            .form(
                "/nimserver/user/create.action",
                &[("accid", &format!("r{i}")), ("token", "t")],
            )
            .await;
        codes.push(v["code"].as_u64().unwrap());
    }
    assert_eq!(codes, [200, 200, 200, 200, 200, 416]);
    let v = s
        .admin(&calm)
        .form(
            "/nimserver/user/create.action",
            &[("accid", "x"), ("token", "t")],
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
}

/// A callback URL on loopback is refused unless the operator allows it.
#[tokio::test]
async fn private_callback_urls_are_refused_by_default() {
    let mut cfg = test_config();
    cfg.login_callback.allow_private_addresses = false;
    let s = TestServer::start_with(cfg).await;
    let app = s.app("a").await;
    for url in [
        "http://127.0.0.1:9/login",
        "http://localhost:9/login",
        "http://169.254.169.254/latest",
        "http://10.1.2.3/x",
        "http://[::1]:9/x",
    ] {
        let v = s
            .admin(&app)
            .json(
                Method::PUT,
                "/magpie/v1/app/login_auth",
                Some(json!({"auth_types": [0, 2], "callback": {"url": url}})),
            )
            .await;
        assert_eq!(v["code"], 414, "{url}: {v}");
        assert!(
            v["msg"]
                .as_str()
                .unwrap()
                .contains("allow_private_addresses"),
            "{v}"
        );
    }
    let v = s
        .admin(&app)
        .json(
            Method::PUT,
            "/magpie/v1/app/login_auth",
            Some(
                json!({"auth_types": [0, 2], "callback": {"url": "https://app.example.com/login"}}),
            ),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
}

/// A body over the limit and a request slower than the request timeout are
/// refused in NIM's JSON shape, naming the limit.
#[tokio::test]
async fn oversized_and_too_slow_requests_are_refused_in_json() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut cfg = test_config();
    cfg.admin.request_timeout_ms = 500;
    let s = TestServer::start_with(cfg).await;
    let app = s.app("a").await;
    let big = "x".repeat(300 * 1024);
    let v = s
        .admin(&app)
        .form(
            "/nimserver/user/create.action",
            &[("accid", "big"), ("token", &big)],
        )
        .await;
    assert_eq!(v["code"], 414, "{v}");
    assert!(
        v["desc"]
            .as_str()
            .unwrap()
            .contains("length limit exceeded"),
        "{v}"
    );
    // Headers promise a body that never comes: 408 after the request timeout.
    let addr = s.admin_url().trim_start_matches("http://").to_owned();
    let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let cur = (magpie_store::now_ms() / 1000).to_string();
    let mut head = String::from("POST /nimserver/user/create.action HTTP/1.1\r\nHost: x\r\n");
    for (k, v) in magpie_proto::sign::signature_headers(&app.key, &app.secret, "slow-1", &cur) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\naccid=",
    );
    c.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let n = c.read(&mut buf).await.unwrap();
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if n == 0 || text.contains("}") {
                return text.into_owned();
            }
        }
    })
    .await
    .expect("an answer within the request timeout");
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(
        got.contains(r#""code":408"#) && got.contains("admin.request_timeout_ms"),
        "{got}"
    );
}
