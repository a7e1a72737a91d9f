//! Conformance programs written against NIM's documentation (NIM's names,
//! NIM's init shapes, NIM's demo's way of keeping the device list), in C,
//! C++ and C#, built with real compilers and run as two devices of one
//! account against a real server: init with a full NIM config, every
//! callback registered, login, multispot in and out, server time, the
//! multiport push switch seen on the other device, a second login answered
//! 20002, kick-other, a logout during a login, cleanup inside the logout
//! callback; the C program also under valgrind.
//!
//! Each program reads commands on stdin and prints `EV <name> <json>`
//! lines (examples/conformance/README.md).

use magpie_testkit::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

mod common;
use common::{compile, lib_dir, repo};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The layout NIM's apps include from: `nim_sdk/` (include/nim_cpp_api.h,
/// src/c_sdk/nim/api/..., public_define/...).
fn nim_sdk() -> PathBuf {
    crate_dir().join("nim_sdk")
}

/// Builds `examples/conformance/<source>` with gcc or g++ against NIM's
/// include layout and libnim.
fn build_native(out: &Path, compiler: &str, std: &str, source: &str) -> PathBuf {
    let exe = out.join(source.replace('.', "_"));
    compile(
        std::process::Command::new(compiler)
            .args([std, "-Wall", "-Wextra", "-Werror", "-g", "-o"])
            .arg(&exe)
            .arg(repo().join("examples/conformance").join(source))
            .arg("-I")
            .arg(nim_sdk())
            .arg("-L")
            .arg(lib_dir())
            .arg(format!("-Wl,-rpath,{}", lib_dir().display()))
            .args(["-lnim", "-lpthread"]),
    );
    exe
}

fn build_c(out: &Path) -> PathBuf {
    build_native(out, "gcc", "-std=c11", "nim_conformance.c")
}

fn build_cpp(out: &Path) -> PathBuf {
    build_native(out, "g++", "-std=c++17", "nim_conformance.cpp")
}

fn build_csharp(out: &Path) -> PathBuf {
    let exe = out.join("NimConformance.exe");
    let wrappers = crate_dir().join("wrappers/csharp");
    compile(
        std::process::Command::new("mcs")
            .arg(format!("-out:{}", exe.display()))
            .arg("-r:System.Core")
            .arg(repo().join("examples/conformance/NimConformance.cs"))
            .arg(wrappers.join("NIM.cs"))
            .arg(wrappers.join("NIMMessaging.cs")),
    );
    exe
}

/// One running program: commands in, `EV` lines out.
struct Device {
    name: &'static str,
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    seen: Vec<String>,
}

impl Device {
    fn start(name: &'static str, mut cmd: Command) -> Device {
        cmd.env("LD_LIBRARY_PATH", lib_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("program starts");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Device {
            name,
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    async fn send(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// The next `EV name` line's JSON that satisfies `want`; other lines are
    /// kept in `seen` for the failure message.
    async fn expect(&mut self, name: &str, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let l = tokio::time::timeout_at(deadline, self.lines.next_line())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{}: no `EV {name}` as wanted; so far: {:#?}",
                        self.name, self.seen
                    )
                })
                .unwrap()
                .unwrap_or_else(|| panic!("{}: ended; so far: {:#?}", self.name, self.seen));
            self.seen.push(l.clone());
            let Some(rest) = l.strip_prefix("EV ") else {
                continue;
            };
            let (ev, body) = rest.split_once(' ').unwrap_or((rest, "{}"));
            if ev != name {
                continue;
            }
            let v: Value = serde_json::from_str(body)
                .unwrap_or_else(|e| panic!("{}: bad JSON in {l:?}: {e}", self.name));
            if want(&v) {
                return v;
            }
        }
    }

    async fn exits_cleanly(mut self) {
        drop(self.stdin);
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{}: did not exit; so far: {:#?}", self.name, self.seen))
            .unwrap();
        assert!(
            status.success(),
            "{}: {status}; so far: {:#?}",
            self.name,
            self.seen
        );
    }
}

fn ids(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

/// Starts `exe DATA_DIR`, through `runner` (valgrind, mono) when given.
fn launcher(runner: Option<&[&str]>, exe: PathBuf) -> impl Fn(&Path) -> Command {
    let runner: Vec<String> = runner
        .unwrap_or(&[])
        .iter()
        .map(|s| s.to_string())
        .collect();
    move |dir| {
        let mut c = match runner.split_first() {
            Some((first, args)) => {
                let mut c = Command::new(first);
                c.args(args).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        c.arg(dir);
        c
    }
}

/// The scenario, for a program started by `run(data_dir)`.
async fn scenario(run: impl Fn(&Path) -> Command, server_time: bool) {
    let s = TestServer::start().await;
    let app = s.app("conformance").await;
    s.account(&app, "conf", "conf-token").await;
    let dirs = tempfile::tempdir().unwrap();
    let start = |name: &'static str| {
        let mut c = run(&dirs.path().join(name));
        c.arg(s.addr().to_string())
            .arg(&app.key)
            .args(["conf", "conf-token"]);
        Device::start(name, c)
    };
    // Device A logs in: nobody else is online.
    let mut a = start("a");
    a.expect("init", |v| v["ok"] == true).await;
    a.send("login").await;
    a.expect("login", |v| v["login_step"] == 3 && v["err_code"] == 200)
        .await;
    let seen = a.expect("devices", |_| true).await;
    assert!(ids(&seen).is_empty(), "{seen}");
    // Device B logs in: A hears it come (ImIn naming B) and lists it.
    let mut b = start("b");
    b.expect("init", |v| v["ok"] == true).await;
    b.send("login").await;
    b.expect("login", |v| v["login_step"] == 3 && v["err_code"] == 200)
        .await;
    let came = a.expect("multispot", |v| v["type"] == 2).await;
    let b_id = ids(&came["ids"]);
    assert_eq!(b_id.len(), 1, "{came}");
    assert_eq!(ids(&a.expect("devices", |_| true).await), b_id);
    let b_sees = b.expect("devices", |_| true).await;
    assert_eq!(ids(&b_sees).len(), 1, "B lists A from its login result");
    // The server's clock (not in NIM's C# API).
    if server_time {
        a.send("time").await;
        let t = a.expect("time", |_| true).await;
        assert_eq!(
            (&t["rescode"], &t["calc_local"], &t["time_ok"]),
            (&json!(200), &json!(false), &json!(true)),
            "{t}"
        );
        a.send("time").await;
        let t = a.expect("time", |_| true).await;
        assert_eq!(
            t["calc_local"], true,
            "within a second: computed locally: {t}"
        );
    }
    // The multiport push switch: set on A, synced to B, read back.
    a.send("push on").await;
    let set = a.expect("push_set", |_| true).await;
    assert_eq!((&set["rescode"], &set["open"]), (&json!(200), &json!(true)));
    b.expect("push_sync", |v| v["open"] == true && v["rescode"] == 200)
        .await;
    a.send("push get").await;
    let got = a.expect("push_get", |_| true).await;
    assert_eq!((&got["rescode"], &got["open"]), (&json!(200), &json!(true)));
    // A second login while logged in: 20002 through its callback.
    a.send("login2").await;
    a.expect("login2", |v| v["err_code"] == 20002).await;
    // A kicks B: A's result, B's kick-out (reason 3), A hears B leave.
    a.send(&format!("kick {}", b_id[0])).await;
    let k = a.expect("kick_other", |_| true).await;
    assert_eq!(
        (&k["err_code"], ids(&k["device_ids"])),
        (&json!(200), b_id.clone())
    );
    b.expect("kickout", |v| v["reason_code"] == 3).await;
    let left = a.expect("multispot", |v| v["type"] == 3).await;
    assert_eq!(ids(&left["ids"]), b_id, "ImOut names the device that left");
    assert!(ids(&a.expect("devices", |_| true).await).is_empty());
    // A logout during a login cancels it and answers 200, without waiting
    // behind the login (which may take its whole 30 s custom_timeout): the
    // bound leaves room for valgrind's slowness.
    b.send("logout_during_login").await;
    let out = b.expect("logout", |_| true).await;
    assert_eq!(out["err_code"], 200, "{out}");
    assert!(out["ms"].as_u64().unwrap() < 10_000, "{out}");
    // Quit: logout, cleanup inside the logout callback, exit 0.
    a.send("quit").await;
    a.expect("logout", |v| v["err_code"] == 200).await;
    a.expect("cleaned", |_| true).await;
    a.exits_cleanly().await;
    b.send("quit").await;
    b.expect("cleaned", |_| true).await;
    b.exits_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_c_conformance_program_behaves_as_nim_documents() {
    let out = tempfile::tempdir().unwrap();
    scenario(launcher(None, build_c(out.path())), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_c_conformance_program_runs_clean_under_valgrind() {
    if !magpie_testkit::tools::available(
        "the_c_conformance_program_runs_clean_under_valgrind",
        &[magpie_testkit::tools::VALGRIND],
    ) {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let supp = format!(
        "--suppressions={}",
        crate_dir().join("tests/valgrind.supp").display()
    );
    let valgrind = [
        "valgrind",
        "--quiet",
        "--error-exitcode=9",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite",
        supp.as_str(),
    ];
    scenario(launcher(Some(&valgrind), build_c(out.path())), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cpp_conformance_program_behaves_as_nim_documents() {
    let out = tempfile::tempdir().unwrap();
    scenario(launcher(None, build_cpp(out.path())), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csharp_conformance_program_behaves_as_nim_documents() {
    if !magpie_testkit::tools::available(
        "the_csharp_conformance_program_behaves_as_nim_documents",
        &[magpie_testkit::tools::MCS, magpie_testkit::tools::MONO],
    ) {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    scenario(launcher(Some(&["mono"]), build_csharp(out.path())), false).await;
}
