//! The server under test: a `magpie serve` child process on ephemeral ports,
//! with its CPU time and memory read from /proc.

use anyhow::{bail, Context};
use magpie_store::AppStore;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running server process.
pub struct Server {
    bin: PathBuf,
    dir: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// Its pid.
    pub pid: u32,
    /// Client address.
    pub client: SocketAddr,
    /// Admin base URL.
    pub admin: String,
}

/// The app the benchmark logs into.
pub struct BenchApp {
    /// App key.
    pub key: String,
    /// App secret.
    pub secret: String,
}

/// Clock ticks per second of /proc times.
pub fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU seconds of a process.
pub fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / clk_tck()
}

/// Resident memory of a process, bytes.
pub fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

impl Server {
    /// Creates an app in a fresh data dir and starts the server.
    pub async fn start(
        bin: &Path,
        dir: &Path,
        env: Vec<(String, String)>,
    ) -> anyhow::Result<(Server, BenchApp)> {
        let store = magpie_store_sqlite::SqliteStore::open_shared(dir.join("magpie.db"))?;
        let app = store
            .create_app(
                "bench",
                &magpie_store::generate_key(16),
                &magpie_store::generate_key(16),
            )
            .await?;
        drop(store);
        let mut s = Server {
            bin: bin.to_path_buf(),
            dir: dir.to_path_buf(),
            env,
            child: None,
            pid: 0,
            client: "127.0.0.1:0".parse()?,
            admin: String::new(),
        };
        s.spawn("127.0.0.1:0").await?;
        Ok((
            s,
            BenchApp {
                key: app.app_key,
                secret: app.app_secret,
            },
        ))
    }

    async fn spawn(&mut self, listen: &str) -> anyhow::Result<()> {
        let mut child = Command::new(&self.bin)
            .arg("serve")
            .arg("--data-dir")
            .arg(&self.dir)
            .args(["--listen", listen, "--admin-listen", "127.0.0.1:0"])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("server did not start in 30 s")??
            .context("server exited")?;
        let v: serde_json::Value = serde_json::from_str(&line)?;
        self.client = v["client"].as_str().context("client addr")?.parse()?;
        self.admin = format!("http://{}", v["admin"].as_str().context("admin addr")?);
        self.pid = child.id().context("pid")?;
        self.child = Some(child);
        Ok(())
    }

    /// Kills the server (SIGKILL when `hard`, else SIGTERM and wait).
    pub async fn stop(&mut self, hard: bool) -> anyhow::Result<()> {
        let Some(mut c) = self.child.take() else {
            bail!("not running")
        };
        if hard {
            c.start_kill()?;
        } else {
            std::process::Command::new("kill")
                .arg(self.pid.to_string())
                .status()?;
        }
        c.wait().await?;
        Ok(())
    }

    /// Starts again on the same client address.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        let addr = self.client.to_string();
        self.spawn(&addr).await
    }

    /// True while the process runs.
    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// CPU seconds used so far.
    pub fn cpu(&self) -> f64 {
        cpu_secs(self.pid)
    }

    /// Resident memory now.
    pub fn rss(&self) -> u64 {
        rss_bytes(self.pid)
    }
}
