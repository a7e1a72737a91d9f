//! What a person reads when something is off: each message names the cause
//! and the fix, exit statuses follow README's table, flags work anywhere on
//! the line, and no user error prints a backtrace.

mod common;

use common::{BIN, WAIT};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// `magpie ARGS` with only the given environment (no MAGPIE_* inherited,
/// RUST_BACKTRACE=1 as on a developer's machine); (status, stdout, stderr).
async fn magpie(args: &[&str], env: &[(&str, &str)], stdin: &str) -> (i32, String, String) {
    let mut env = env.to_vec();
    env.push(("RUST_BACKTRACE", "1"));
    let (code, out, err) = common::run_raw(args, &env, stdin).await;
    assert!(
        !err.contains("backtrace") && !err.contains("panicked"),
        "a user error printed a backtrace: {err}"
    );
    (code, out, err)
}

struct App {
    _dir: tempfile::TempDir,
    server: common::Server,
    key: String,
    secret: String,
}

impl App {
    fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("MAGPIE_SERVER", self.server.client.as_str()),
            ("MAGPIE_ADMIN_URL", self.server.admin.as_str()),
            ("MAGPIE_APP_KEY", self.key.as_str()),
            ("MAGPIE_APP_SECRET", self.secret.as_str()),
        ]
    }
}

async fn app_with(extra: &[&str]) -> App {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let server = common::serve_with(dir.path(), "127.0.0.1:0", "127.0.0.1:0", extra).await;
    let out = Command::new(BIN)
        .args(["app", "create", "errors", "--data-dir", &d])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = v["app_key"].as_str().unwrap().to_owned();
    let secret = v["app_secret"].as_str().unwrap().to_owned();
    App {
        _dir: dir,
        server,
        key,
        secret,
    }
}

#[tokio::test]
async fn the_client_on_the_admin_port_says_http_and_exits_1() {
    let a = app_with(&[]).await;
    let mut env = a.env();
    env.retain(|(k, _)| *k != "MAGPIE_SERVER");
    let (code, _, err) = magpie(
        &[
            "client",
            "--server",
            &a.server.admin,
            "--account",
            "x",
            "--token",
            "t",
        ],
        &env,
        "",
    )
    .await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the server answered in HTTP")
            && err.contains("admin API")
            && err.contains("client port (9300"),
        "{err}"
    );
    // An http:// URL given as the client address is refused before connecting.
    let (code, _, err) = magpie(
        &["client", "--server", &format!("http://{}", a.server.admin)],
        &env,
        "",
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("is an HTTP URL") && err.contains("host:port"),
        "{err}"
    );
}

#[tokio::test]
async fn the_client_without_tls_on_a_tls_listener_says_tls_and_with_tls_logs_in() {
    let certs = magpie_testkit::certs::test_certs();
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::tls_config(dir.path(), &certs);
    let a = app_with(&["--config", cfg.to_str().unwrap()]).await;
    let env = a.env();
    let (code, _, err) = magpie(
        &["admin", "account", "create", "tina", "--token", "t"],
        &env,
        "",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = magpie(&["client", "--account", "tina", "--token", "t"], &env, "").await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the server answered in TLS") && err.contains("--tls"),
        "{err}"
    );
    // tls://host:port is the same as --tls.
    let server = format!("tls://{}", a.server.client);
    let ca = certs.ca.to_str().unwrap();
    let (code, out, err) = magpie(
        &[
            "client",
            "--server",
            &server,
            "--ca",
            ca,
            "--account",
            "tina",
            "--token",
            "t",
        ],
        &env,
        "",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(r#""err_code":200,"login_step":3"#), "{out}");
}

#[tokio::test]
async fn missing_credentials_point_at_app_create_and_the_variables() {
    let (code, _, err) = magpie(&["admin", "online", "bob"], &[], "").await;
    assert_eq!(code, 1);
    for needle in [
        "no app key and no app secret",
        "--app-key",
        "MAGPIE_APP_KEY",
        "MAGPIE_APP_SECRET",
        "magpie app create NAME --export",
    ] {
        assert!(err.contains(needle), "{needle:?} missing in {err}");
    }
    let (code, _, err) = magpie(&["admin", "online", "bob", "--app-key", "k"], &[], "").await;
    assert_eq!(code, 1);
    assert!(err.starts_with("error: no app secret:"), "{err}");
    let (code, _, err) = magpie(&["client", "--account", "a", "--token", "t"], &[], "").await;
    assert_eq!(code, 1);
    assert!(
        err.contains("no app key") && err.contains("MAGPIE_APP_KEY") && err.contains("--export"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_admin_api_names_the_address_and_the_fix() {
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("127.0.0.1:{port}");
    let (code, _, err) = magpie(
        &[
            "admin",
            "online",
            "bob",
            "--url",
            &url,
            "--app-key",
            "k",
            "--app-secret",
            "s",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("cannot reach the admin API at http://{url}"))
            && err.contains("Connection refused")
            && err.contains("MAGPIE_ADMIN_URL"),
        "{err}"
    );
    // One line, not a chain repeating the URL.
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[tokio::test]
async fn a_busy_port_names_which_port_and_the_process_holding_it() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let me = format!("pid {} ", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for (which, flag, key, other) in [
        ("client", "--listen", "`listen`", "--admin-listen"),
        ("admin", "--admin-listen", "`admin_listen`", "--listen"),
    ] {
        let (code, _, err) = magpie(
            &["serve", "--data-dir", d, flag, &addr, other, "127.0.0.1:0"],
            &[],
            "",
        )
        .await;
        assert_eq!(code, 1);
        assert!(
            err.contains(&format!(
                "the {which} port {addr} is already in use by {me}"
            )) && err.contains(flag)
                && err.contains(key),
            "{err}"
        );
    }
    // Nothing was written to the data dir: the ports are checked first.
    assert!(!dir.path().join("magpie.db").exists());
}

#[tokio::test]
async fn exit_statuses_normal_end_refused_login_kicked_and_api_errors() {
    let a = app_with(&[]).await;
    let env = a.env();
    for acc in ["eve", "kim"] {
        let (code, _, err) = magpie(
            &["admin", "account", "create", acc, "--token", "t"],
            &env,
            "",
        )
        .await;
        assert_eq!(code, 0, "{err}");
    }
    // Normal end: 0.
    let (code, _, err) = magpie(
        &["client", "--account", "eve", "--token", "t"],
        &env,
        "logout app_exit\n",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    // Refused login: 3, with the NIM code, the cause and the fix.
    let (code, _, err) = magpie(&["client", "--account", "eve", "--token", "x"], &env, "").await;
    assert_eq!(code, 3);
    assert!(
        err.contains(
            "login failed: NIM code 302: wrong account or token: check --account and --token"
        ),
        "{err}"
    );
    // An API error code: 3, the answer on stdout.
    let (code, out, _) = magpie(&["admin", "online", "nobody"], &env, "").await;
    assert_eq!(code, 3);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["code"], 404);
    // Unknown flag: clap's usage status 2.
    let (code, _, _) = magpie(&["admin", "online", "x", "--no-such-flag"], &env, "").await;
    assert_eq!(code, 2);

    // Kicked out: 4, and the client ends at once (its input stays open).
    let mut child = common::spawn(&["client", "--account", "kim", "--token", "t"], &env);
    let _input = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    tokio::time::timeout(WAIT, async {
        while let Some(l) = lines.next_line().await.unwrap() {
            if l.contains(r#""cb":"data_sync""#) {
                break;
            }
        }
    })
    .await
    .expect("kim logged in");
    let (code, _, err) = magpie(&["admin", "kick", "kim"], &env, "").await;
    assert_eq!(code, 0, "{err}");
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("the kicked client ends by itself")
        .unwrap();
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(child.stderr.as_mut().unwrap(), &mut err)
        .await
        .unwrap();
    assert_eq!(status.code(), Some(4), "{err}");
    assert!(err.contains("kicked out (NIMKickReason 2"), "{err}");
}

#[tokio::test]
async fn global_flags_work_after_the_subcommand_and_addresses_take_host_port() {
    let a = app_with(&[]).await;
    // Everything after the subcommand, host:port for the admin address.
    let (code, out, err) = magpie(
        &[
            "admin",
            "account",
            "create",
            "gil",
            "--token",
            "t",
            "--url",
            &a.server.admin,
            "--app-key",
            &a.key,
            "--app-secret",
            &a.secret,
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["code"], 200);
    // And a URL with a scheme, before the subcommand.
    let url = format!("http://{}/", a.server.admin);
    let (code, _, err) = magpie(
        &[
            "admin",
            "--url",
            &url,
            "--app-key",
            &a.key,
            "--app-secret",
            &a.secret,
            "online",
            "gil",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    // The client port by tcp:// URL, the app key from the flag after the others.
    let server = format!("tcp://{}", a.server.client);
    let (code, out, err) = magpie(
        &[
            "client",
            "--account",
            "gil",
            "--token",
            "t",
            "--server",
            &server,
            "--app-key",
            &a.key,
        ],
        &[],
        "logout app_exit\n",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(r#""login_step":3"#), "{out}");
    // A client-port URL given to `admin` is refused with the reason.
    let (code, _, err) = magpie(
        &["admin", "online", "gil", "--url", "tcp://127.0.0.1:9300"],
        &a.env(),
        "",
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("the admin API is HTTP"), "{err}");
}

#[tokio::test]
async fn every_help_has_examples_and_the_client_lists_its_commands() {
    for cmd in [
        &["--help"][..],
        &["serve", "--help"],
        &["client", "--help"],
        &["admin", "--help"],
        &["app", "--help"],
        &["app", "create", "--help"],
        &["admin", "account", "--help"],
        &["admin", "token", "--help"],
        &["admin", "auth", "--help"],
        &["admin", "policy", "--help"],
        &["admin", "online", "--help"],
        &["admin", "kick", "--help"],
        &["admin", "account", "create", "--help"],
        &["admin", "account", "update", "--help"],
        &["admin", "account", "refresh-token", "--help"],
        &["admin", "account", "block", "--help"],
        &["admin", "account", "unblock", "--help"],
        &["admin", "account", "bulk-create", "--help"],
        &["admin", "account", "get", "--help"],
        &["admin", "token", "dynamic", "--help"],
        &["admin", "auth", "get", "--help"],
        &["admin", "auth", "set", "--help"],
        &["admin", "auth", "reset", "--help"],
        &["admin", "policy", "get", "--help"],
        &["admin", "policy", "set", "--help"],
        &["admin", "policy", "reset", "--help"],
    ] {
        let (code, out, _) = magpie(cmd, &[], "").await;
        assert_eq!(code, 0);
        assert!(
            out.contains("Example"),
            "no example in `magpie {}`:\n{out}",
            cmd.join(" ")
        );
    }
    let (_, out, _) = magpie(&["client", "--help"], &[], "").await;
    for c in [
        "send ACCID TEXT",
        "sysmsg ACCID JSON [--stored]",
        "sessions",
        "history ACCID [--limit N]",
        "read ACCID",
        "kick-other DEVICE_ID...",
        "relogin",
        "logout TYPE",
        "quit",
        "Exit status",
    ] {
        assert!(out.contains(c), "{c:?} missing in client --help:\n{out}");
    }
}

#[tokio::test]
async fn print_config_is_a_commented_file_serve_accepts_and_config_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text, _) = magpie(&["serve", "--print-config"], &[], "").await;
    assert_eq!(code, 0);
    assert!(
        text.contains("# [tls]") && text.contains("# cert_file"),
        "{text}"
    );
    assert!(
        text.contains("[admin]") && text.contains("# Most nonces"),
        "{text}"
    );
    let file = dir.path().join("magpie.toml");
    std::fs::write(&file, &text).unwrap();
    let f = file.to_str().unwrap();
    let (code, again, err) = magpie(&["serve", "-c", f, "--print-config"], &[], "").await;
    assert_eq!((code, again.as_str()), (0, text.as_str()), "{err}");
    // A misspelt key: named as written, with the file.
    std::fs::write(&file, "[admin]\nmax_nonce = 3\n").unwrap();
    let (code, _, err) = magpie(&["serve", "-c", f], &[], "").await;
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("key `admin.max_nonce` in {f}: unknown field")),
        "{err}"
    );
    // A bad environment variable: named as the variable.
    let (code, _, err) = magpie(
        &["serve", "--print-config"],
        &[("MAGPIE_ADMIN__MAX_NONCES", "lots")],
        "",
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        err.contains("key `admin.max_nonces` in environment variable MAGPIE_ADMIN__MAX_NONCES"),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_admin_paths_answer_404() {
    let a = app_with(&[]).await;
    // A plain HTTP/1.1 request, as curl sends it.
    let mut conn = tokio::net::TcpStream::connect(&a.server.admin)
        .await
        .unwrap();
    conn.write_all(
        b"GET /nimserver/user/nosuch.action HTTP/1.1\r\nHost: magpie\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(
        WAIT,
        tokio::io::AsyncReadExt::read_to_string(&mut conn, &mut answer),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["code"], 404);
    assert!(
        body["desc"]
            .as_str()
            .unwrap()
            .contains("GET /nimserver/user/nosuch.action"),
        "{body}"
    );
}
