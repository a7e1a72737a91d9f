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
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", listen, "--admin-listen", admin])
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
pub fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/{pid}/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}
