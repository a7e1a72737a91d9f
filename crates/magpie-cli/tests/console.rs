//! The web console end to end, in headless Chromium driven over WebDriver
//! (Debian's chromium and chromedriver): sign in, create an app and an
//! account, watch a `magpie client` login appear, kick it and see the
//! client's kick-out. A screenshot of each page is written to
//! `target/tmp/console-screenshots/` and its path printed.

mod common;

use common::{serve, BIN, WAIT};
use fantoccini::{Client, ClientBuilder, Locator};
use magpie_testkit::tools::{self, CHROMEDRIVER, CHROMIUM};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const PASSWORD: &str = "correct-horse-battery";

struct Browser {
    client: Client,
    _driver: tokio::process::Child,
    shots: PathBuf,
}

impl Browser {
    async fn start() -> Browser {
        // fantoccini's TLS support (unused: chromedriver speaks plain HTTP on
        // loopback) needs a process-wide crypto provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(tools::find("chromedriver").unwrap())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": tools::find("chromium").unwrap(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1100"],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + WAIT;
        let client = loop {
            match ClientBuilder::rustls()
                .expect("TLS roots")
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if tokio::time::Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("chromedriver at {url}: {e}"),
            }
        };
        let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            client,
            _driver: driver,
            shots,
        }
    }

    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
    }

    async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("{selector} did not appear: {e}"))
    }

    async fn click(&self, selector: &str) {
        self.css(selector).await.click().await.unwrap();
    }

    async fn fill(&self, selector: &str, text: &str) {
        let e = self.css(selector).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    /// Waits until the element's text satisfies `f`.
    async fn text_until(&self, selector: &str, f: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(e) = self.client.find(Locator::Css(selector)).await {
                if let Ok(t) = e.text().await {
                    if f(&t) {
                        return t;
                    }
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{selector} never matched"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The client's next callback line.
async fn next_line(l: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>) -> Value {
    let line = tokio::time::timeout(WAIT, l.next_line())
        .await
        .expect("a client line in time")
        .unwrap()
        .expect("the client is running");
    serde_json::from_str::<Value>(&line).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_signs_in_creates_an_app_and_an_account_and_kicks_a_live_login() {
    if !tools::available(
        "an_operator_signs_in_creates_an_app_and_an_account_and_kicks_a_live_login",
        &[CHROMIUM, CHROMEDRIVER],
    ) {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let server = serve(data.path(), "127.0.0.1:0", "127.0.0.1:0").await;
    let (code, out, err) = common::run_raw(
        &["operator", "create", "admin", "--data-dir", &d],
        &[],
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");

    let b = Browser::start().await;
    let base = format!("http://{}/console/", server.admin);
    b.client.goto(&base).await.unwrap();
    b.css("#name").await;
    b.shot("01-sign-in").await;
    // A wrong password is refused and says so.
    b.fill("#name", "admin").await;
    b.fill("#password", "wrong-password").await;
    b.click("#sign-in").await;
    b.text_until("#error", |t| t.contains("401")).await;
    // The form empties the password after a refusal; type into the empty field.
    let pw = b.css("#password").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while pw.prop("value").await.unwrap().unwrap_or_default() != "" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the password was not emptied"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pw.send_keys(PASSWORD).await.unwrap();
    b.click("#sign-in").await;
    assert_eq!(b.text_until("#operator", |t| !t.is_empty()).await, "admin");
    b.css("#chart-logins").await;
    b.shot("02-dashboard").await;

    // An app.
    b.click("#nav-apps").await;
    b.fill("#app-name", "shop").await;
    b.click("#create-app").await;
    let key = b.text_until("#new-app-key", |t| t.len() == 32).await;
    b.text_until("#current-app", |t| t == key).await;
    b.shot("03-apps").await;

    // An account.
    b.click("#nav-accounts").await;
    b.fill("#new-accid", "alice").await;
    b.fill("#new-token", "alice-token").await;
    b.click("#create-account").await;
    b.css("tr[data-accid='alice']").await;
    b.shot("04-accounts").await;

    // A client logs in; its device shows up in the console.
    let mut client = Command::new(BIN)
        .args([
            "client",
            "--server",
            &server.client,
            "--account",
            "alice",
            "--token",
            "alice-token",
        ])
        .env("MAGPIE_APP_KEY", &key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let _keep_stdin_open = client.stdin.take().unwrap();
    let mut lines = BufReader::new(client.stdout.take().unwrap()).lines();
    loop {
        let v = next_line(&mut lines).await;
        if v["cb"] == "login" && v["json"]["login_step"] == 3 {
            assert_eq!(v["json"]["err_code"], 200, "{v}");
            break;
        }
    }
    b.click("tr[data-accid='alice'] button.devices").await;
    b.css("tr[data-device-id]").await;
    b.shot("05-devices").await;

    // Kick it from the console: the client hears its kick-out and ends.
    b.click("tr[data-device-id] button.kick").await;
    loop {
        let v = next_line(&mut lines).await;
        if v["cb"] == "kickout" {
            assert_eq!(v["json"]["reason_code"], 2, "a server kick: {v}");
            break;
        }
    }
    let status = tokio::time::timeout(WAIT, client.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        status.code(),
        Some(4),
        "the client's exit status for a kick-out"
    );
    b.css("#no-devices").await;
    b.shot("06-kicked").await;

    // The dashboard counted the login.
    b.click("#nav-dashboard").await;
    b.text_until("#stat-logins", |t| t.parse::<u64>().is_ok_and(|n| n >= 1))
        .await;
    b.shot("07-dashboard-after").await;
    b.click("#sign-out").await;
    b.css("#sign-in").await;
    b.client.close().await.unwrap();
}

#[tokio::test]
async fn the_console_api_refuses_strangers_and_cross_site_calls() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path(), "127.0.0.1:0", "127.0.0.1:0").await;
    let http = reqwest::Client::new();
    let url = |p: &str| format!("http://{}{p}", server.admin);
    // No session.
    let r = http
        .get(url("/console/api/apps"))
        .header("X-Magpie-Console", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Without the console header (what a cross-site form would send).
    let r = http
        .post(url("/console/api/session"))
        .json(&serde_json::json!({"name": "x", "password": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The page itself is served with a strict policy.
    let r = http.get(url("/console/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("/console/assets/app.js")
            && !page.contains("http://")
            && !page.contains("https://")
    );
}
