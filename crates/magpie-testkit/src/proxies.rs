//! Real SOCKS proxies from Debian, started on loopback for a test:
//! microsocks (SOCKS5, optional user/password), Dante (SOCKS4 and SOCKS5)
//! and OpenSSH's dynamic forwarding (SOCKS4, SOCKS4a, SOCKS5).
//! `scripts/test` installs them (`microsocks`, `dante-server`, `openssh-server`).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A proxy process, killed on drop.
pub struct ProxyProcess {
    /// Where it listens.
    pub port: u16,
    children: Vec<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        for c in &mut self.children {
            // SIGTERM first: Dante's mother process then ends its children.
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn need(bin: &str) -> String {
    if let Some(p) = crate::tools::find(bin) {
        return p;
    }
    panic!("{bin} is not installed: run scripts/test, which installs microsocks, dante-server and openssh-server");
}

fn wait_listening(port: u16, children: &mut [Child]) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        for c in children.iter_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                panic!("proxy process exited early: {status}");
            }
        }
        assert!(Instant::now() < deadline, "proxy did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// microsocks, SOCKS5, with a user and password when given.
pub fn microsocks(auth: Option<(&str, &str)>) -> ProxyProcess {
    let port = free_port();
    let mut cmd = Command::new(need("microsocks"));
    cmd.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
    if let Some((u, p)) = auth {
        cmd.args(["-u", u, "-P", p]);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("microsocks");
    let mut children = vec![child];
    wait_listening(port, &mut children);
    ProxyProcess {
        port,
        children,
        _dir: None,
    }
}

/// Dante (danted), SOCKS4 and SOCKS5 without authentication, loopback only.
pub fn dante() -> ProxyProcess {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("danted.conf");
    std::fs::write(
        &conf,
        format!(
            "logoutput: stderr\ninternal: 127.0.0.1 port = {port}\nexternal: 127.0.0.1\n\
             clientmethod: none\nsocksmethod: none\nuser.privileged: root\nuser.unprivileged: nobody\n\
             client pass {{\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n}}\n\
             socks pass {{\n  from: 127.0.0.0/8 to: 127.0.0.0/8\n  command: connect\n  protocol: tcp\n}}\n"
        ),
    )
    .unwrap();
    let child = Command::new(need("danted"))
        .arg("-f")
        .arg(&conf)
        .args(["-N", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("danted");
    let mut children = vec![child];
    wait_listening(port, &mut children);
    ProxyProcess {
        port,
        children,
        _dir: Some(dir),
    }
}

/// An sshd of its own on loopback and `ssh -N -D`: SOCKS4, SOCKS4a and SOCKS5.
pub fn ssh_dynamic() -> ProxyProcess {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keygen = need("ssh-keygen");
    for k in ["hostkey", "userkey"] {
        let ok = Command::new(&keygen)
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(d.join(k))
            .status()
            .unwrap()
            .success();
        assert!(ok, "ssh-keygen failed");
    }
    std::fs::copy(d.join("userkey.pub"), d.join("authorized_keys")).unwrap();
    let ssh_port = free_port();
    let conf = d.join("sshd_config");
    std::fs::write(
        &conf,
        format!(
            "Port {ssh_port}\nListenAddress 127.0.0.1\nHostKey {0}/hostkey\nAuthorizedKeysFile {0}/authorized_keys\n\
             PasswordAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n\
             AllowTcpForwarding yes\nPidFile {0}/sshd.pid\n",
            d.display()
        ),
    )
    .unwrap();
    let _ = std::fs::create_dir_all("/run/sshd");
    // -D: stay in the foreground, so the test owns the process.
    let sshd = Command::new(need("sshd"))
        .arg("-D")
        .arg("-f")
        .arg(&conf)
        .arg("-E")
        .arg(d.join("sshd.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sshd");
    let mut children = vec![sshd];
    wait_listening(ssh_port, &mut children);
    let port = free_port();
    let ssh = Command::new(need("ssh"))
        .arg("-i")
        .arg(d.join("userkey"))
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ExitOnForwardFailure=yes",
            "-N",
            "-D",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-p")
        .arg(ssh_port.to_string())
        .arg("root@127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ssh");
    children.push(ssh);
    wait_listening(port, &mut children);
    ProxyProcess {
        port,
        children,
        _dir: Some(dir),
    }
}
