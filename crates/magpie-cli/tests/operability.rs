//! Running `magpie serve` as an operator does: it stops on SIGTERM even when
//! nobody reads its stderr any more, it owns its data dir (one server per
//! dir, owner-only files), and its ready line says what it serves.

mod common;

use common::{create_app, BIN, WAIT};
use magpie_client::{Client, ClientOptions, LoginParams};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// `magpie serve` on port 0 over `dir`, stderr piped to the caller, with
/// `RUST_LOG`; returns the child, its ready line, and stderr.
async fn serve_piped(dir: &Path, log: &str, extra: &[&str]) -> (Child, Value) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("ready in time")
        .unwrap()
        .expect("a ready line");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, serde_json::from_str(&line).unwrap())
}

fn sigterm(child: &Child) {
    let pid = child.id().expect("running").to_string();
    let st = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Work that logs: accounts created through the admin API, and logins.
async fn log_something(ready: &Value, data_dir: &str, rounds: usize) {
    let admin_addr = ready["admin"].as_str().unwrap();
    let (key, admin) = create_app(data_dir, admin_addr, "ops").await;
    let names: Vec<(String, String)> = (0..rounds).map(|i| (format!("u{i}"), "t".into())).collect();
    admin
        .create_accounts(&names, |_| {})
        .await
        .unwrap()
        .unwrap();
    let sdk_dir = tempfile::tempdir().unwrap();
    for (n, _) in &names {
        let opts = ClientOptions::new(ready["client"].as_str().unwrap());
        let c = Client::init(sdk_dir.path().join(n), opts).unwrap();
        let r = tokio::time::timeout(WAIT, c.login(&key, n, "t", LoginParams::default()))
            .await
            .expect("login in time");
        assert!(r.is_success(), "{r:?}");
        c.logout(magpie_client::logout_type::APP_EXIT).await;
        let _ = admin
            .json(magpie_admin_client::Method::GET, "/im/v2/accounts/u0", None)
            .await;
    }
}

#[tokio::test]
async fn a_server_whose_stderr_reader_died_still_serves_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let (mut child, ready) = serve_piped(data.path(), "trace", &[]).await;
    // The reader goes away: every later write to stderr fails (EPIPE).
    drop(child.stderr.take());
    log_something(&ready, &d, 5).await;
    let ok = reqwest::get(format!(
        "http://{}/healthz",
        ready["admin"].as_str().unwrap()
    ))
    .await
    .unwrap();
    assert!(ok.status().is_success());
    sigterm(&child);
    let st = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("stopped after SIGTERM")
        .unwrap();
    assert!(st.success(), "{st:?}");
}

#[tokio::test]
async fn a_server_whose_stderr_is_never_read_still_serves_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    // stderr is a pipe nobody reads: it fills after 64 KiB and every write
    // to it would block.
    let (child, ready) = serve_piped(data.path(), "debug", &[]).await;
    let admin = ready["admin"].as_str().unwrap().to_owned();
    // Frames of an unknown op: each is answered with an error and logged
    // (at debug), and the connection goes on. Sent until the server has
    // dropped log lines, which shows stderr was full.
    let client: std::net::SocketAddr = ready["client"].as_str().unwrap().parse().unwrap();
    let mut peer = magpie_testkit::RawPeer::hello(client).await;
    let unknown: Vec<u8> = (0..500)
        .flat_map(|_| [0u8, 0, 0, 5, 0xEE, 0, 0, 0, 1])
        .collect();
    let mut rounds = 0;
    loop {
        peer.send_bytes(&unknown).await;
        for _ in 0..500 {
            assert!(peer.recv().await.is_some(), "the connection stays open");
        }
        rounds += 1;
        let dropped = sample(&scrape(&admin).await, "magpie_log_lines_dropped_total", &[]);
        if dropped > 0.0 {
            break;
        }
        assert!(
            rounds < 200,
            "no log line was dropped after {rounds} rounds"
        );
    }
    // Everything else still works.
    log_something(&ready, &d, 3).await;
    sigterm(&child);
    let st = tokio::time::timeout(WAIT, { child }.wait())
        .await
        .expect("stopped after SIGTERM")
        .unwrap();
    assert!(st.success(), "{st:?}");
}

#[tokio::test]
async fn one_server_per_data_dir_and_the_second_names_the_first() {
    let data = tempfile::tempdir().unwrap();
    let (first, _ready) = serve_piped(data.path(), "info", &[]).await;
    let out = tokio::time::timeout(
        WAIT,
        Command::new(BIN)
            .arg("serve")
            .arg("--data-dir")
            .arg(data.path())
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .output(),
    )
    .await
    .expect("the second server gave up in time")
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let pid = first.id().unwrap();
    assert!(
        err.contains(&format!("in use by pid {pid} (magpie)")),
        "{err}"
    );
    assert!(err.contains("--data-dir"), "{err}");
}

#[tokio::test]
async fn the_data_dir_is_owner_only_and_the_ready_line_says_what_is_served() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("fresh");
    let d = dir.to_str().unwrap().to_owned();
    let (child, ready) = serve_piped(&dir, "info", &[]).await;
    assert_eq!(ready["event"], "ready");
    assert_eq!(ready["tls"], false);
    assert_eq!(ready["apps"], 0);
    assert_eq!(ready["data_dir"], d);
    assert_eq!(ready["store"], format!("sqlite://{d}/magpie.db"));
    log_something(&ready, &d, 2).await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let mut files = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            files.push((e.file_name().into_string().unwrap(), mode(&e.path())));
        }
    }
    files.sort();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for expected in ["magpie.db", "magpie.db-wal", "magpie.lock"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    for (name, m) in &files {
        assert_eq!(*m, 0o600, "{name} has mode {m:o}");
    }
    sigterm(&child);
    // A restart counts the app created before.
    let st = tokio::time::timeout(WAIT, { child }.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(st.success());
    let (_again, ready) = serve_piped(&dir, "info", &[]).await;
    assert_eq!(ready["apps"], 1);
}

#[tokio::test]
async fn looser_existing_permissions_are_warned_about_with_the_fix() {
    let data = tempfile::tempdir().unwrap();
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (mut child, _ready) = serve_piped(data.path(), "warn", &[]).await;
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = tokio::time::timeout(WAIT, err.next_line())
        .await
        .expect("a warning in time")
        .unwrap()
        .expect("a warning");
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("readable by other users"), "{line}");
    assert!(
        line.contains(&format!("chmod 700 {}", data.path().display())),
        "{line}"
    );
}

#[tokio::test]
async fn json_log_lines_carry_fields_as_keys() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let (mut child, ready) = serve_piped(data.path(), "info", &["--log-format", "json"]).await;
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    // The next JSON log line whose message is `message`.
    async fn until(
        err: &mut tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
        message: &str,
    ) -> Value {
        loop {
            let line = tokio::time::timeout(WAIT, err.next_line())
                .await
                .unwrap_or_else(|_| panic!("the log line {message:?} in time"))
                .unwrap()
                .expect("log lines");
            assert!(!line.contains("secret-token"), "a token in the log: {line}");
            let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(v["level"].is_string(), "{v}");
            // An empty `message` takes any line.
            if message.is_empty() || v["message"] == message {
                return v;
            }
        }
    }
    let v = until(&mut err, "ready").await;
    assert_eq!(v["client"], ready["client"], "{v}");
    assert_eq!(v["tls"], false, "{v}");

    // A login, a refusal, a kick and a block each leave one info line with
    // the app and the account as keys (and never the token).
    let admin_addr = ready["admin"].as_str().unwrap();
    let (key, admin) = create_app(&d, admin_addr, "logs").await;
    admin
        .create_accounts(&[("ann".into(), "secret-token".into())], |_| {})
        .await
        .unwrap()
        .unwrap();
    let sdk = tempfile::tempdir().unwrap();
    let opts = || ClientOptions::new(ready["client"].as_str().unwrap());
    let ann = Client::init(sdk.path().join("ann"), opts()).unwrap();
    let ok = ann.login(&key, "ann", "secret-token", LoginParams::default());
    assert!(ok.await.is_success());
    let v = until(&mut err, "login").await;
    assert_eq!(
        (v["level"].as_str(), v["account"].as_str()),
        (Some("INFO"), Some("ann"))
    );
    assert_eq!(v["app"], key.as_str(), "{v}");
    let wrong = Client::init(sdk.path().join("wrong"), opts()).unwrap();
    let r = wrong
        .login(&key, "ann", "nope", LoginParams::default())
        .await;
    assert_eq!(r.err_code.0, 302);
    let v = until(&mut err, "login refused").await;
    assert_eq!(
        (v["account"].as_str(), v["code"].as_str()),
        (Some("ann"), Some("302")),
        "{v}"
    );
    let v = admin
        .form(
            "/nimserver/user/block.action",
            &[("accid", "ann"), ("needkick", "true")],
        )
        .await
        .unwrap();
    assert_eq!(v["code"], 200, "{v}");
    // The kicked connection logs when it takes the push, so the two lines
    // come in either order.
    let (mut kicked, mut blocked) = (None, None);
    while kicked.is_none() || blocked.is_none() {
        let v = until(&mut err, "").await;
        match v["message"].as_str() {
            Some("kicked out") => kicked = Some(v),
            Some("account blocked") => blocked = Some(v),
            _ => {}
        }
    }
    let (kicked, blocked) = (kicked.unwrap(), blocked.unwrap());
    assert_eq!(
        (kicked["account"].as_str(), kicked["reason"].as_u64()),
        (Some("ann"), Some(2))
    );
    assert_eq!(kicked["app"], key.as_str(), "{kicked}");
    assert_eq!(blocked["account"], "ann", "{blocked}");
    drop(child);
}

async fn scrape(admin: &str) -> prometheus_parse::Scrape {
    let text = reqwest::get(format!("http://{admin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the sample `metric` whose labels include `labels` (0 when
/// there is none: a counter not yet counted).
fn sample(s: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    use prometheus_parse::Value;
    let found = s
        .samples
        .iter()
        .find(|x| x.metric == metric && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)));
    match found.map(|x| &x.value) {
        Some(Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v)) => *v,
        Some(other) => panic!("{metric} is {other:?}"),
        None => 0.0,
    }
}

/// A server over `dir` with one app and its account `ann` (token `t`).
struct WithAnn {
    _child: Child,
    ready: Value,
    admin_addr: String,
    key: String,
    admin: magpie_admin_client::AdminClient,
}

async fn with_ann(dir: &Path, app: &str) -> WithAnn {
    let d = dir.to_str().unwrap().to_owned();
    let (child, ready) = serve_piped(dir, "warn", &[]).await;
    let admin_addr = ready["admin"].as_str().unwrap().to_owned();
    let (key, admin) = create_app(&d, &admin_addr, app).await;
    admin
        .create_accounts(&[("ann".into(), "t".into())], |_| {})
        .await
        .unwrap()
        .unwrap();
    WithAnn {
        _child: child,
        ready,
        admin_addr,
        key,
        admin,
    }
}

#[tokio::test]
async fn metrics_parse_and_count_logins_refusals_and_kicks() {
    let data = tempfile::tempdir().unwrap();
    let s = with_ann(data.path(), "metrics").await;
    let (ready, admin_addr, key, admin) = (s.ready, s.admin_addr, s.key, s.admin);
    let sdk = tempfile::tempdir().unwrap();
    let opts = || ClientOptions::new(ready["client"].as_str().unwrap());
    let ann = Client::init(sdk.path().join("ann"), opts()).unwrap();
    assert!(ann
        .login(&key, "ann", "t", LoginParams::default())
        .await
        .is_success());
    let wrong = Client::init(sdk.path().join("wrong"), opts()).unwrap();
    let r = wrong
        .login(&key, "ann", "nope", LoginParams::default())
        .await;
    assert_eq!(r.err_code.0, 302, "{r:?}");
    let stranger = Client::init(sdk.path().join("stranger"), opts()).unwrap();
    let r = stranger
        .login("no-such-app", "ann", "t", LoginParams::default())
        .await;
    assert_eq!(r.err_code.0, 403, "{r:?}");

    // The refused logins' connections close on their own time: wait for
    // the one that logged in to be the only one left.
    let deadline = tokio::time::Instant::now() + WAIT;
    let s = loop {
        let s = scrape(&admin_addr).await;
        if sample(&s, "magpie_connections", &[]) == 1.0 {
            break s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "refused connections still open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let app = key.as_str();
    assert_eq!(
        sample(&s, "magpie_logins_total", &[("app", app), ("code", "200")]),
        1.0
    );
    assert_eq!(
        sample(&s, "magpie_logins_total", &[("app", app), ("code", "302")]),
        1.0
    );
    assert_eq!(
        sample(
            &s,
            "magpie_logins_total",
            &[("app", "unknown"), ("code", "403")]
        ),
        1.0
    );
    assert_eq!(
        sample(
            &s,
            "magpie_sessions",
            &[("app", app), ("client_type", "pc")]
        ),
        1.0
    );
    assert_eq!(sample(&s, "magpie_connections", &[]), 1.0);
    assert!(
        sample(
            &s,
            "magpie_store_operation_duration_seconds_count",
            &[("op", "account_lookup")]
        ) >= 2.0
    );
    assert!(s
        .samples
        .iter()
        .any(|x| x.metric == "magpie_log_lines_dropped_total"));
    assert!(s
        .samples
        .iter()
        .any(|x| x.metric == "magpie_login_duration_seconds_count"));

    let v = admin
        .json(
            magpie_admin_client::Method::POST,
            "/im/v2/accounts/ann/actions/kick",
            Some(&serde_json::json!({"type": 1})),
        )
        .await
        .unwrap();
    assert_eq!(v["code"], 200, "{v}");
    // The kicked connection counts the kick when it takes the push.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = scrape(&admin_addr).await;
        if sample(
            &s,
            "magpie_kicks_total",
            &[("app", &key), ("reason", "server")],
        ) == 1.0
            && sample(&s, "magpie_sessions", &[("client_type", "pc")]) == 0.0
        {
            assert_eq!(
                sample(&s, "magpie_kicks_total", &[("reason", "policy")]),
                0.0
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no kick counted");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn magpie_app(args: &[&str]) -> (i32, String, String) {
    common::run_raw(args, &[], "").await
}

#[tokio::test]
async fn apps_are_listed_rotated_and_deleted_beside_a_running_server() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let s = with_ann(data.path(), "shop").await;
    let (ready, admin_addr, key, admin) = (s.ready, s.admin_addr, s.key, s.admin);
    // A duplicate name is refused, naming the fix.
    let (code, _, err) = magpie_app(&["app", "create", "shop", "--data-dir", &d]).await;
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    // --config finds the data dir as `magpie serve` would.
    let cfg = data.path().join("other.toml");
    std::fs::write(&cfg, format!("data_dir = {d:?}\n")).unwrap();
    let (code, out, err) =
        magpie_app(&["app", "list", "--json", "--config", cfg.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["app_key"], key.as_str());
    assert_eq!(list[0]["name"], "shop");
    let (code, out, _) = magpie_app(&["app", "list", "--data-dir", &d]).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("APP KEY"), "{out}");
    assert!(out.contains(&key) && out.contains("shop"), "{out}");
    // MAGPIE_DATA_DIR too, from whatever directory the command runs in.
    let (code, out, err) =
        common::run_raw(&["app", "show", "shop"], &[("MAGPIE_DATA_DIR", &d)], "").await;
    assert_eq!(code, 0, "{err}");
    let by_env: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(by_env["app_key"], key.as_str());
    let (code, out, _) = magpie_app(&["app", "show", "shop", "--data-dir", &d]).await;
    assert_eq!(code, 0);
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["app_key"], key.as_str());
    assert!(
        shown.get("app_secret").is_none(),
        "the secret only with --secret"
    );

    // A new secret: the server takes it within seconds, the old one fails.
    let (code, out, _) = magpie_app(&["app", "rotate-secret", &key, "--data-dir", &d]).await;
    assert_eq!(code, 0);
    let fresh: Value = serde_json::from_str(&out).unwrap();
    let new_admin = magpie_admin_client::AdminClient::new(
        &admin_addr,
        &key,
        fresh["app_secret"].as_str().unwrap(),
    )
    .unwrap();
    let get = |a: &magpie_admin_client::AdminClient| {
        let a = a.clone();
        async move {
            a.json(
                magpie_admin_client::Method::GET,
                "/im/v2/accounts/ann",
                None,
            )
            .await
            .unwrap()["code"]
                .as_i64()
                .unwrap()
        }
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while get(&new_admin).await != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "new secret not taken: {}",
            get(&new_admin).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(get(&admin).await, 403, "the old secret is refused");

    // Delete: confirmation first; then logins with the app's key fail.
    let (code, _, err) = magpie_app(&["app", "delete", "shop", "--data-dir", &d]).await;
    assert_eq!(code, 1);
    assert!(err.contains("--yes"), "{err}");
    let (code, _, err) = magpie_app(&["app", "delete", "shop", "--yes", "--data-dir", &d]).await;
    assert_eq!(code, 0, "{err}");
    let sdk = tempfile::tempdir().unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let c = Client::init(
            sdk.path().join("ann"),
            ClientOptions::new(ready["client"].as_str().unwrap()),
        )
        .unwrap();
        let r = c.login(&key, "ann", "t", LoginParams::default()).await;
        if r.err_code.0 == 403 {
            break;
        }
        c.logout(magpie_client::logout_type::APP_EXIT).await;
        assert!(
            tokio::time::Instant::now() < deadline,
            "the deleted app still logs in"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, out, _) = magpie_app(&["app", "list", "--json", "--data-dir", &d]).await;
    assert_eq!(out.trim(), "[]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_a_login_storm_is_whole_and_holds_every_earlier_account() {
    use magpie_testkit::{login_request, RawPeer, TestApp};
    const BEFORE: usize = 2000;
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let (_child, ready) = serve_piped(data.path(), "warn", &[]).await;
    let admin_addr = ready["admin"].as_str().unwrap().to_owned();
    let (key, admin) = create_app(&d, &admin_addr, "storm").await;
    let before: Vec<(String, String)> = (0..BEFORE)
        .map(|i| (format!("pre{i}"), "t".into()))
        .collect();
    admin
        .create_accounts(&before, |_| {})
        .await
        .unwrap()
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let addr: std::net::SocketAddr = ready["client"].as_str().unwrap().parse().unwrap();
    let app = TestApp {
        key: key.clone(),
        secret: String::new(),
    };
    // Logins (each account once: the per-account limit allows it) and
    // accounts created while the backup runs.
    let mut storm = Vec::new();
    for w in 0..4 {
        let (stop, app) = (stop.clone(), app.clone());
        storm.push(tokio::spawn(async move {
            let mut n = 0;
            for i in (w..BEFORE).step_by(4) {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let mut p = RawPeer::hello(addr).await;
                let acc = format!("pre{i}");
                let _ = p
                    .login(login_request(&app, &acc, "t", &format!("d{i}")))
                    .await;
                n += 1;
            }
            n
        }));
    }
    let writer = {
        let (stop, admin) = (stop.clone(), admin.clone());
        tokio::spawn(async move {
            let mut batch = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let more: Vec<(String, String)> = (0..100)
                    .map(|i| (format!("late{batch}x{i}"), "t".into()))
                    .collect();
                admin.create_accounts(&more, |_| {}).await.unwrap().unwrap();
                batch += 1;
            }
            batch
        })
    };
    let backup = data.path().join("backup.db");
    let (code, out, err) = common::run_raw(
        &[
            "backup",
            "--data-dir",
            &d,
            "--to",
            backup.to_str().unwrap(),
            "--json",
        ],
        &[],
        "",
    )
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["integrity_check"], "ok");
    let mut logins = 0;
    for t in storm {
        logins += t.await.unwrap();
    }
    let batches = writer.await.unwrap();
    assert!(
        logins > 0 && batches > 0,
        "the storm ran: {logins} logins, {batches} batches"
    );
    // Checked here on its own too.
    let c = rusqlite::Connection::open(&backup).unwrap();
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let pre: i64 = c
        .query_row(
            "SELECT count(*) FROM accounts WHERE accid LIKE 'pre%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pre, BEFORE as i64);
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
