//! The `magpie` binary end to end: serve, app create while serving, admin
//! commands, the scriptable client, config precedence and graceful shutdown.

mod common;

use common::run_raw;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_magpie");
const WAIT: Duration = Duration::from_secs(20);

struct Served {
    child: Child,
    client: String,
    admin: String,
}

async fn serve(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(dir)
        .args(if extra.contains(&"--listen") {
            &[][..]
        } else {
            &["--listen", "127.0.0.1:0"][..]
        })
        .args(["--admin-listen", "127.0.0.1:0"])
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn magpie serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("server ready in time")
        .unwrap()
        .expect("a ready line");
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["event"], "ready");
    Served {
        child,
        client: v["client"].as_str().unwrap().to_owned(),
        admin: format!("http://{}", v["admin"].as_str().unwrap()),
    }
}

/// Runs `magpie ARGS`; stdout is parsed as JSON lines.
async fn run(args: &[&str], env: &[(&str, &str)], stdin: &str) -> (i32, Vec<Value>, String) {
    let (code, out, err) = run_raw(args, env, stdin).await;
    let lines = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    (code, lines, err)
}

fn callbacks(lines: &[Value]) -> Vec<(String, Value)> {
    lines
        .iter()
        .map(|l| (l["cb"].as_str().unwrap().to_owned(), l["json"].clone()))
        .collect()
}

#[tokio::test]
async fn the_tour_serve_create_app_accounts_and_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut s = serve(dir.path(), &[], &[]).await;
    // The app is created by another process while the server runs.
    let (code, out, err) = run(&["app", "create", "demo", "--data-dir", d], &[], "").await;
    assert_eq!(code, 0, "{err}");
    let key = out[0]["app_key"].as_str().unwrap().to_owned();
    let secret = out[0]["app_secret"].as_str().unwrap().to_owned();
    assert_eq!((key.len(), secret.len()), (32, 32));
    let env = [
        ("MAGPIE_ADMIN_URL", s.admin.as_str()),
        ("MAGPIE_APP_KEY", key.as_str()),
        ("MAGPIE_APP_SECRET", secret.as_str()),
    ];
    let (code, out, _) = run(
        &[
            "admin",
            "account",
            "create",
            "alice",
            "--token",
            "alice-token",
        ],
        &env,
        "",
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(
        out[0],
        serde_json::json!({"code":200,"info":{"token":"alice-token","accid":"alice","name":""}})
    );
    let (code, out, _) = run(&["admin", "account", "create", "bob"], &env, "").await;
    assert_eq!(code, 0);
    let bob_token = out[0]["info"]["token"].as_str().unwrap().to_owned();
    // A failing admin call prints the JSON and exits 1.
    let (code, out, _) = run(&["admin", "account", "create", "bob"], &env, "").await;
    assert_eq!((code, out[0]["code"].as_u64()), (3, Some(414)));

    // Log in, then log out with app_exit at end of input.
    let (code, out, err) = run(
        &[
            "client",
            "--server",
            &s.client,
            "--app-key",
            &key,
            "--account",
            "bob",
            "--token",
            &bob_token,
            "--client-type",
            "android",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let cbs = callbacks(&out);
    let steps: Vec<u64> = cbs
        .iter()
        .filter(|(c, _)| c == "login")
        .map(|(_, j)| j["login_step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [0, 1, 2, 3]);
    assert_eq!(
        out[3].to_string(),
        r#"{"cb":"login","json":{"err_code":200,"login_step":3,"relogin":false,"retrying":false,"other_clients_pres":[]}}"#
    );
    assert_eq!(
        cbs.last().unwrap(),
        &("logout".to_owned(), serde_json::json!({"err_code": 200}))
    );

    // A wrong token prints 302 at step 3 and exits 3.
    let (code, out, err) = run(
        &[
            "client",
            "--server",
            &s.client,
            "--app-key",
            &key,
            "--account",
            "alice",
            "--token",
            "nope",
        ],
        &[],
        "quit\n",
    )
    .await;
    assert_eq!(out[3]["json"]["err_code"], 302);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("login failed: NIM code 302: wrong account or token"),
        "{err}"
    );

    // Commands: change_account logout, relogin, then app_exit.
    let (code, out, err) = run(
        &[
            "client",
            "--server",
            &s.client,
            "--app-key",
            &key,
            "--account",
            "alice",
            "--token",
            "alice-token",
            "--device-id",
            "dev-a",
        ],
        &[],
        "relogin\nlogout change_account\nrelogin\n",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let names: Vec<String> = callbacks(&out).into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        names,
        [
            "login",
            "login",
            "login",
            "login",
            "sync_multiport_push_config",
            "data_sync",
            "logout",
            "auto_relogin",
        ]
    );
    // The login syncs the account's multiport push switch (2 by default).
    assert_eq!(
        out[4].to_string(),
        r#"{"cb":"sync_multiport_push_config","json":{"switch_open":2}}"#
    );
    // The post-login sync completes (offline messages: none) before the
    // commands run. A relogin while logged in does nothing; after a logout
    // there is no session left to log in again (20001), and end of input
    // just exits.
    assert_eq!(
        out[5].to_string(),
        r#"{"cb":"data_sync","json":{"sync_type":2,"status":1,"json_attachment":""}}"#
    );
    assert_eq!(out[6]["json"]["err_code"], 200);
    assert_eq!(out[7]["json"]["relogin"], true);
    assert_eq!(out[7]["json"]["err_code"], 20001);

    // Graceful shutdown on SIGTERM.
    let pid = s.child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = tokio::time::timeout(WAIT, s.child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn admin_online_kick_and_block_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let s = serve(dir.path(), &[], &[]).await;
    let (_, out, _) = run(&["app", "create", "ops", "--data-dir", d], &[], "").await;
    let key = out[0]["app_key"].as_str().unwrap().to_owned();
    let secret = out[0]["app_secret"].as_str().unwrap().to_owned();
    let env = [
        ("MAGPIE_ADMIN_URL", s.admin.as_str()),
        ("MAGPIE_APP_KEY", key.as_str()),
        ("MAGPIE_APP_SECRET", secret.as_str()),
    ];
    run(
        &["admin", "account", "create", "carl", "--token", "t"],
        &env,
        "",
    )
    .await;

    // A client that stays logged in until it is kicked.
    let mut client = Command::new(BIN)
        .args([
            "client",
            "--server",
            &s.client,
            "--app-key",
            &key,
            "--account",
            "carl",
            "--token",
            "t",
            "--device-id",
            "carl-pc",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(client.stdout.take().unwrap()).lines();
    loop {
        let v = next(&mut lines).await;
        if v["json"]["login_step"] == 3 {
            assert_eq!(v["json"]["err_code"], 200);
            break;
        }
    }
    let (code, out, _) = run(&["admin", "online", "carl"], &env, "").await;
    assert_eq!(code, 0);
    assert_eq!(out[0]["data"]["clients"][0]["device_id"], "carl-pc");
    let (code, out, _) = run(
        &[
            "admin", "kick", "carl", "--type", "2", "--device", "carl-pc",
        ],
        &env,
        "",
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(out[0]["data"]["success_list"][0]["device_id"], "carl-pc");
    let v = next(&mut lines).await;
    assert_eq!(v["cb"], "kickout");
    assert_eq!(v["json"]["reason_code"], 2);
    drop(client);

    let (code, _, _) = run(&["admin", "account", "block", "carl"], &env, "").await;
    assert_eq!(code, 0);
    let (code, out, err) = run(
        &[
            "client",
            "--server",
            &s.client,
            "--app-key",
            &key,
            "--account",
            "carl",
            "--token",
            "t",
        ],
        &[],
        "quit\n",
    )
    .await;
    assert_eq!(out[3]["json"]["err_code"], 422);
    assert_eq!(code, 3);
    assert!(
        err.contains("NIM code 422") && err.contains("unblock"),
        "{err}"
    );
    run(&["admin", "account", "unblock", "carl"], &env, "").await;
    let (code, out, _) = run(&["admin", "account", "get", "carl"], &env, "").await;
    assert_eq!(
        (code, &out[0]["data"]["configuration"]["enabled"]),
        (0, &Value::Bool(true))
    );
    let (code, out, _) = run(&["admin", "account", "refresh-token", "carl"], &env, "").await;
    assert_eq!(code, 0);
    let fresh = out[0]["info"]["token"].as_str().unwrap().to_owned();
    run(
        &["admin", "account", "update", "carl", "--token", "newer"],
        &env,
        "",
    )
    .await;
    let (_, out, _) = run(
        &[
            "client",
            "--server",
            &s.client,
            "--app-key",
            &key,
            "--account",
            "carl",
            "--token",
            &fresh,
        ],
        &[],
        "quit\n",
    )
    .await;
    assert_eq!(out[3]["json"]["err_code"], 302);
}

#[tokio::test]
async fn config_file_then_env_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("magpie.toml");
    std::fs::write(&file, "heartbeat_interval_ms = 2000\nidle_timeout_ms = 9000\n[login_limits]\nper_ip_per_sec = 5.0\nper_ip_burst = 10.0\n").unwrap();
    let f = file.to_str().unwrap();
    let (code, out, err) = run_raw(
        &[
            "serve",
            "--config",
            f,
            "--listen",
            "127.0.0.1:7001",
            "--print-config",
        ],
        &[
            ("MAGPIE_IDLE_TIMEOUT_MS", "12000"),
            ("MAGPIE_LISTEN", "127.0.0.1:7000"),
            ("MAGPIE_LOGIN_LIMITS__PER_IP_BURST", "20"),
        ],
        "",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let cfg: toml::Value = toml::from_str(&out).unwrap();
    assert_eq!(
        cfg["heartbeat_interval_ms"].as_integer(),
        Some(2000),
        "from the file"
    );
    assert_eq!(
        cfg["idle_timeout_ms"].as_integer(),
        Some(12000),
        "env beats the file"
    );
    assert_eq!(
        cfg["listen"].as_str(),
        Some("127.0.0.1:7001"),
        "flags beat env"
    );
    assert_eq!(cfg["login_limits"]["per_ip_per_sec"].as_float(), Some(5.0));
    assert_eq!(cfg["login_limits"]["per_ip_burst"].as_float(), Some(20.0));
    // Unknown keys and bad values are refused with a clear message.
    std::fs::write(&file, "heartbeat_interval_msec = 1\n").unwrap();
    let (code, _, err) = run_raw(&["serve", "--config", f, "--print-config"], &[], "").await;
    assert_ne!(code, 0);
    assert!(err.contains("heartbeat_interval_msec"), "{err}");
    std::fs::write(&file, "idle_timeout_ms = 10\n").unwrap();
    let (code, _, err) = run_raw(
        &[
            "serve",
            "--config",
            f,
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        &[],
        "",
    )
    .await;
    assert_ne!(code, 0);
    assert!(err.contains("idle_timeout_ms"), "{err}");
}

#[tokio::test]
async fn client_through_a_socks5_proxy_and_over_tls() {
    if !magpie_testkit::tools::available(
        "client_through_a_socks5_proxy_and_over_tls",
        &[magpie_testkit::tools::MICROSOCKS],
    ) {
        return;
    }
    use magpie_testkit::certs::test_certs;
    use magpie_testkit::proxies::microsocks;
    let certs = test_certs();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let cfg = common::tls_config(dir.path(), &certs);
    let s = serve(dir.path(), &["--config", cfg.to_str().unwrap()], &[]).await;
    let (_, out, _) = run(&["app", "create", "t", "--data-dir", d], &[], "").await;
    let key = out[0]["app_key"].as_str().unwrap().to_owned();
    let secret = out[0]["app_secret"].as_str().unwrap().to_owned();
    let env = [
        ("MAGPIE_ADMIN_URL", s.admin.as_str()),
        ("MAGPIE_APP_KEY", key.as_str()),
        ("MAGPIE_APP_SECRET", secret.as_str()),
    ];
    run(
        &["admin", "account", "create", "tia", "--token", "t"],
        &env,
        "",
    )
    .await;
    let p = microsocks(Some(("u", "pw")));
    let proxy = format!("socks5://u:pw@127.0.0.1:{}", p.port);
    let ca = certs.ca.to_str().unwrap();
    let base = [
        "client",
        "--server",
        &s.client,
        "--app-key",
        &key,
        "--account",
        "tia",
        "--token",
        "t",
    ];
    let with = |extra: &[&str]| {
        base.iter()
            .copied()
            .chain(extra.iter().copied())
            .map(str::to_owned)
            .collect::<Vec<String>>()
    };
    for extra in [vec!["--ca", ca], vec!["--ca", ca, "--proxy", &proxy]] {
        let args = with(&extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&args, &[], "").await;
        assert_eq!(code, 0, "{err}");
        assert_eq!(out[3]["json"]["err_code"], 200, "{extra:?}: {out:?}");
        assert_eq!(out.last().unwrap()["cb"], "logout");
    }
    // Without the CA the system roots do not know the test CA: a clear TLS error.
    let args = with(&["--tls"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_, out, _) = run(&args, &[], "").await;
    let last = out.iter().rev().find(|l| l["cb"] == "login").unwrap();
    assert_eq!(last["json"]["err_code"], 415);
    assert!(
        last["json"]["desc"].as_str().unwrap().contains("TLS"),
        "{last}"
    );
    // HTTP proxies are refused before anything is sent.
    let args = with(&["--proxy", "http://127.0.0.1:3128"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = run_raw(&args, &[], "").await;
    assert_ne!(code, 0);
    assert!(err.contains("HTTP proxies are not supported"), "{err}");
}

#[tokio::test]
async fn a_client_survives_kill_9_of_the_server_and_relogs_in_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut s = serve(dir.path(), &[], &[]).await;
    let (_, out, _) = run(&["app", "create", "k9", "--data-dir", d], &[], "").await;
    let key = out[0]["app_key"].as_str().unwrap().to_owned();
    let secret = out[0]["app_secret"].as_str().unwrap().to_owned();
    let env = [
        ("MAGPIE_ADMIN_URL", s.admin.as_str()),
        ("MAGPIE_APP_KEY", key.as_str()),
        ("MAGPIE_APP_SECRET", secret.as_str()),
    ];
    run(
        &["admin", "account", "create", "kim", "--token", "t"],
        &env,
        "",
    )
    .await;
    let mut client = Command::new(BIN)
        .args([
            "client",
            "--server",
            &s.client,
            "--app-key",
            &key,
            "--account",
            "kim",
            "--token",
            "t",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(client.stdout.take().unwrap()).lines();
    while next(&mut lines).await["json"]["login_step"] != 3 {}
    // kill -9: no graceful anything.
    s.child.start_kill().unwrap();
    s.child.wait().await.unwrap();
    let v = next(&mut lines).await;
    assert_eq!(v["cb"], "disconnect", "{v}");
    let v = next(&mut lines).await;
    assert_eq!(v["cb"], "auto_relogin", "{v}");
    assert_eq!(
        (
            v["json"]["err_code"].as_u64(),
            v["json"]["retrying"].as_bool()
        ),
        (Some(415), Some(true)),
        "{v}"
    );
    // The server comes back on the same address.
    let _s2 = serve(dir.path(), &["--listen", &s.client], &[]).await;
    loop {
        let v = next(&mut lines).await;
        assert_eq!(v["cb"], "auto_relogin", "{v}");
        if v["json"]["err_code"] == 200 {
            assert_eq!(
                (
                    v["json"]["relogin"].as_bool(),
                    v["json"]["retrying"].as_bool()
                ),
                (Some(true), Some(false))
            );
            break;
        }
        assert_eq!(v["json"]["retrying"], true, "{v}");
    }
}

/// The next callback line, past the post-login sync's data_sync lines
/// (their place among pushes depends on timing).
async fn next(lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>) -> Value {
    loop {
        let l = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("a callback in time")
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(&l).unwrap();
        // The sync callbacks of every login (data sync phases, the
        // multiport push switch) are not what these tests follow.
        if v["cb"] != "data_sync" && v["cb"] != "sync_multiport_push_config" {
            return v;
        }
    }
}

#[tokio::test]
async fn policy_kickout_multispot_and_kick_other_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let s = serve(dir.path(), &[], &[]).await;
    let (_, out, _) = run(&["app", "create", "md", "--data-dir", d], &[], "").await;
    let key = out[0]["app_key"].as_str().unwrap().to_owned();
    let secret = out[0]["app_secret"].as_str().unwrap().to_owned();
    let env = [
        ("MAGPIE_ADMIN_URL", s.admin.as_str()),
        ("MAGPIE_APP_KEY", key.as_str()),
        ("MAGPIE_APP_SECRET", secret.as_str()),
    ];
    run(
        &["admin", "account", "create", "mo", "--token", "t"],
        &env,
        "",
    )
    .await;
    let (code, out, _) = run(&["admin", "policy", "set", "desktop_mobile"], &env, "").await;
    assert_eq!(
        (code, &out[0]["data"]["policy"]["mode"]),
        (0, &Value::from("desktop_mobile"))
    );
    let (_, out, _) = run(&["admin", "policy", "get"], &env, "").await;
    assert_eq!(out[0]["data"]["policy"]["mode"], "desktop_mobile");
    let (code, out, _) = run(&["admin", "policy", "set", "sometimes"], &env, "").await;
    assert_eq!((code, out[0]["code"].as_u64()), (3, Some(414)));

    let spawn = |dev: &str, ty: &str| {
        Command::new(BIN)
            .args([
                "client",
                "--server",
                &s.client,
                "--app-key",
                &key,
                "--account",
                "mo",
                "--token",
                "t",
                "--device-id",
                dev,
                "--client-type",
                ty,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let mut pc = spawn("pc-1", "pc");
    let mut pc_out = BufReader::new(pc.stdout.take().unwrap()).lines();
    while next(&mut pc_out).await["json"]["login_step"] != 3 {}
    let mut phone = spawn("phone-1", "android");
    let mut phone_out = BufReader::new(phone.stdout.take().unwrap()).lines();
    let step3 = loop {
        let v = next(&mut phone_out).await;
        if v["json"]["login_step"] == 3 {
            break v;
        }
    };
    assert_eq!(step3["json"]["other_clients_pres"][0]["device_id"], "pc-1");
    let v = next(&mut pc_out).await;
    assert_eq!(
        (
            v["cb"].as_str(),
            v["json"]["multi_spot_notiy_type"].as_u64()
        ),
        (Some("multispot"), Some(2)),
        "{v}"
    );
    assert_eq!(v["json"]["other_clients_pres"][0]["device_id"], "phone-1");
    // The phone kicks the PC.
    let mut stdin = phone.stdin.take().unwrap();
    stdin.write_all(b"kick-other pc-1\n").await.unwrap();
    let v = next(&mut phone_out).await;
    assert_eq!(
        v.to_string(),
        r#"{"cb":"kickout_other_client","json":{"err_code":200,"device_ids":["pc-1"]}}"#
    );
    let v = next(&mut pc_out).await;
    assert_eq!(
        (
            v["cb"].as_str(),
            v["json"]["reason_code"].as_u64(),
            v["json"]["client_type"].as_u64()
        ),
        (Some("kickout"), Some(3), Some(1)),
        "{v}"
    );
    // Keep the phone's input open until it has heard the PC leave: closing
    // it would log the phone out, racing the notification.
    let v = next(&mut phone_out).await;
    assert_eq!(v["cb"], "multispot", "the phone hears the PC leave: {v}");
    assert_eq!(v["json"]["multi_spot_notiy_type"], 3);
    drop(stdin);
}

#[tokio::test]
async fn dynamic_tokens_from_a_token_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let s = serve(dir.path(), &[], &[]).await;
    let (_, out, _) = run(&["app", "create", "dy", "--data-dir", d], &[], "").await;
    let key = out[0]["app_key"].as_str().unwrap().to_owned();
    let secret = out[0]["app_secret"].as_str().unwrap().to_owned();
    let env = [
        ("MAGPIE_ADMIN_URL", s.admin.as_str()),
        ("MAGPIE_APP_KEY", key.as_str()),
        ("MAGPIE_APP_SECRET", secret.as_str()),
    ];
    run(
        &["admin", "account", "create", "dora", "--token", "static"],
        &env,
        "",
    )
    .await;
    let (code, out, _) = run(
        &["admin", "token", "dynamic", "dora", "--ttl", "60"],
        &env,
        "",
    )
    .await;
    assert_eq!((code, out[0]["ttl"].as_u64()), (0, Some(60)));
    assert!(!out[0]["token"].as_str().unwrap().is_empty());
    // The client runs the command before each login: `magpie admin token dynamic --raw`.
    let cmd = format!("{BIN} admin token dynamic dora --ttl 60 --raw");
    let (code, out, err) = run(
        &[
            "client",
            "--server",
            &s.client,
            "--app-key",
            &key,
            "--account",
            "dora",
            "--auth-type",
            "1",
            "--token-command",
            &cmd,
        ],
        &env,
        "",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out[3]["json"]["err_code"], 200, "{out:?}");
    // A command that fails leaves the (empty) token: 302.
    let (_, out, _) = run(
        &[
            "client",
            "--server",
            &s.client,
            "--app-key",
            &key,
            "--account",
            "dora",
            "--auth-type",
            "1",
            "--token-command",
            "exit 3",
        ],
        &env,
        "quit\n",
    )
    .await;
    let last = out.iter().rev().find(|l| l["cb"] == "login").unwrap();
    assert_eq!(last["json"]["err_code"], 302);
}
