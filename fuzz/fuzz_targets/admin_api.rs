//! The admin API in process, signed correctly, with arbitrary bodies: V1
//! form routes and V2 JSON routes (the first byte picks the route, the
//! second the account id in the path). Every answer is a JSON document with
//! a `code`, never a panic and never a 500.
#![no_main]

use axum::body::Body;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use tower::ServiceExt;

const V1: &[&str] = &[
    "/nimserver/user/create.action",
    "/nimserver/user/update.action",
    "/nimserver/user/refreshToken.action",
    "/nimserver/user/block.action",
    "/nimserver/user/unblock.action",
    "/nimserver/msg/sendMsg.action",
    "/nimserver/msg/sendBatchMsg.action",
    "/nimserver/msg/sendAttachMsg.action",
    "/nimserver/msg/sendBatchAttachMsg.action",
    "/nimserver/msg/recall.action",
    "/nimserver/msg/markReadMsg.action",
    "/nimserver/user/setSpecialRelation.action",
    "/nimserver/user/listBlackAndMuteList.action",
];

/// (method, path with `{}` for the account id).
const V2: &[(&str, &str)] = &[
    ("POST", "/im/v2/messages/actions/p2p_read_receipt"),
    ("POST", "/im/v2/conversations/{}/messages"),
    ("POST", "/im/v2/conversations/messages"),
    ("POST", "/im/v2/custom_notification"),
    ("POST", "/im/v2/custom_notification/batch"),
    ("POST", "/im/v2/accounts"),
    ("GET", "/im/v2/accounts/{}"),
    ("PATCH", "/im/v2/accounts/{}/actions/refresh_token"),
    ("PATCH", "/im/v2/accounts/{}/actions/disable"),
    ("POST", "/im/v2/accounts/{}/actions/kick"),
    ("GET", "/magpie/v1/accounts/{}/online"),
    ("POST", "/magpie/v1/accounts/batch"),
    ("PUT", "/magpie/v1/app/login_auth"),
    ("PUT", "/magpie/v1/app/messaging"),
    ("POST", "/magpie/v1/app/messaging/actions/prune"),
    ("PUT", "/magpie/v1/app/device_policy"),
];

const IDS: &[&str] = &[
    "alice",
    "bob",
    "0|alice|bob",
    "1|alice|42",
    "%2E%2E",
    "x%00y",
    "a%2Fb",
];

struct Env {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    key: String,
    secret: String,
    /// The running server (its messaging writer answers the send routes).
    _server: magpie_server::ServerHandle,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = Arc::new(magpie_store::MemoryStore::new());
        let stores = magpie_store::Stores::new(store.clone());
        let mut cfg = magpie_server::config::ServerConfig::default();
        // Nonces kept 2 s, no per-app rate: the fuzzer calls as fast as it can.
        cfg.admin.checksum_window_secs = 1;
        cfg.admin.per_app_per_sec = 0.0;
        cfg.admin.max_nonces = 10_000_000;
        let (router, key, secret, server) = rt.block_on(async {
            use magpie_store::{AccountStore, AppStore};
            let app = store
                .create_app("fuzz", "fuzzkey", "fuzzsecret")
                .await
                .unwrap();
            for id in ["alice", "bob"] {
                let account = magpie_store::NewAccount::new(
                    id.parse().unwrap(),
                    magpie_store::TokenHash::new("t"),
                );
                let _ = store.create_account(app.id, account).await;
            }
            let services = magpie_server::Services::in_process(stores);
            let any = "127.0.0.1:0".parse().unwrap();
            let listeners = magpie_server::Listeners::bind(any, any).await.unwrap();
            let server = magpie_server::start(listeners, cfg, services)
                .await
                .unwrap();
            let router = magpie_server::admin::router(server.shared.clone());
            (router, app.app_key, app.app_secret, server)
        });
        let (router, key, secret, server) = (router, key, secret, server);
        Env {
            rt,
            router,
            key,
            secret,
            _server: server,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let e = env();
    let (route, rest) = match data.split_first() {
        Some((r, rest)) => (*r as usize, rest),
        None => return,
    };
    let (id, body) = match rest.split_first() {
        Some((i, b)) => (IDS[*i as usize % IDS.len()], b.to_vec()),
        None => (IDS[0], Vec::new()),
    };
    let n = route % (V1.len() + V2.len());
    let (method, path, ctype) = if n < V1.len() {
        (
            "POST",
            V1[n].to_owned(),
            "application/x-www-form-urlencoded;charset=utf-8",
        )
    } else {
        let (m, p) = V2[n - V1.len()];
        (m, p.replace("{}", id), "application/json")
    };
    static NONCE: AtomicU64 = AtomicU64::new(0);
    let nonce = NONCE.fetch_add(1, Ordering::Relaxed).to_string();
    let cur = (magpie_store::now_ms() / 1000).to_string();
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(path.as_str())
        .header("content-type", ctype);
    for (k, v) in magpie_proto::sign::signature_headers(&e.key, &e.secret, &nonce, &cur) {
        req = req.header(k, v);
    }
    let req = req.body(Body::from(body)).unwrap();
    let (status, bytes) = e.rt.block_on(async {
        let resp = e.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        (status, resp.into_body().collect().await.unwrap().to_bytes())
    });
    assert_ne!(
        status.as_u16(),
        500,
        "{method} {path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("{method} {path} answered {status} without JSON: {bytes:?}"));
    assert!(v.get("code").is_some(), "{method} {path}: {v}");
});
