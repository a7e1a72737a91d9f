//! Helpers shared by the tests that run `magpie serve` as a process.

#![allow(dead_code)] // each test binary uses its own part

use magpie_admin_client::AdminClient;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_magpie");
pub const WAIT: Duration = Duration::from_secs(60);

pub struct Server {
    pub child: Child,
    pub client: String,
    pub admin: String,
}

/// Starts `magpie serve` on `listen` (port 0 the first time) and waits for
/// its ready line.
pub async fn serve(dir: &Path, listen: &str, admin: &str) -> Server {
    serve_with(dir, listen, admin, &[]).await
}

/// A config file in `dir` that turns TLS on with the test certificates.
pub fn tls_config(dir: &Path, certs: &magpie_testkit::certs::TestCerts) -> std::path::PathBuf {
    let cfg = dir.join("tls.toml");
    std::fs::write(
        &cfg,
        format!(
            "[tls]\ncert_file = {:?}\nkey_file = {:?}\n",
            certs.cert, certs.key
        ),
    )
    .unwrap();
    cfg
}

/// [`serve`] with more flags (a `--config`, ...).
pub async fn serve_with(dir: &Path, listen: &str, admin: &str, extra: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", listen, "--admin-listen", admin])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("MAGPIE_TEST_SERVER_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .kill_on_drop(true)
        .spawn()
        .expect("spawn magpie serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("server ready in time")
        .unwrap()
        .expect("a ready line");
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["event"], "ready", "{line}");
    // Keep reading stdout so the server never blocks on it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server {
        child,
        client: v["client"].as_str().unwrap().to_owned(),
        admin: v["admin"].as_str().unwrap().to_owned(),
    }
}

/// Starts `magpie ARGS` with only the given environment (no MAGPIE_* from
/// the environment running the tests), every stream piped.
pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MAGPIE_")) {
        cmd.env_remove(k);
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Runs `magpie ARGS` with only the given environment (no MAGPIE_* from the
/// environment running the tests), `stdin` as its input; returns its exit
/// status, stdout and stderr.
pub async fn run_raw(args: &[&str], env: &[(&str, &str)], stdin: &str) -> (i32, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = spawn(args, env);
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("command finished in time")
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Creates an app with `magpie app create` (beside the running server) and
/// returns its key and a signed admin client.
pub async fn create_app(data_dir: &str, admin_addr: &str, name: &str) -> (String, AdminClient) {
    let out = Command::new(BIN)
        .args(["app", "create", name, "--data-dir", data_dir])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let app: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (key, secret) = (
        app["app_key"].as_str().unwrap().to_owned(),
        app["app_secret"].as_str().unwrap().to_owned(),
    );
    let admin = AdminClient::new(admin_addr, &key, &secret).unwrap();
    (key, admin)
}

/// Creates the accounts (token "t") and turns the app's per-account send
/// rate limit off: these tests send faster than a person does.
pub async fn accounts_without_send_limit(admin: &AdminClient, names: &[String]) {
    let accounts: Vec<(String, String)> =
        names.iter().map(|n| (n.clone(), "t".to_owned())).collect();
    admin
        .create_accounts(&accounts, |_| {})
        .await
        .unwrap()
        .unwrap();
    let v = admin
        .json(
            magpie_admin_client::Method::PUT,
            "/magpie/v1/app/messaging",
            Some(&serde_json::json!({"sends_per_minute": 0})),
        )
        .await
        .unwrap();
    assert_eq!(v["code"], 200, "{v}");
}

/// A process's resident memory now and at its peak, in KiB.
/// The process's anonymous resident memory, KiB (`RssAnon`): its heap and
/// stacks, without the file pages SQLite maps to read the database, which
/// the kernel may drop at any time.
pub fn anon_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("RssAnon:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("RssAnon in /proc/{pid}/status"))
}
