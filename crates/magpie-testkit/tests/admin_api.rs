//! The admin API: NIM's CheckSum authentication, V1 and V2 account routes.

use magpie_client::{Event, LoginState};
use magpie_proto::types::client_type;
use magpie_testkit::*;
use reqwest::Method;
use serde_json::{json, Value};

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
