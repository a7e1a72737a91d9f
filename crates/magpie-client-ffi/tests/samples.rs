//! The samples of NIM's login guide page "登录登出" (Login and logout) in C, C++ and C#, built with real compilers and run
//! against a real server: login, kick-out by a second device under the single
//! policy, re-login, logout with app_exit, cleanup, exit 0; through a SOCKS5
//! proxy set with nim_global_set_proxy; the C one also under valgrind.

use magpie_client::LoginParams;
use magpie_testkit::proxies::microsocks;
use magpie_testkit::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

mod common;
use common::{compile, lib_dir, repo};

fn include() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include")
}

fn build_c(out: &Path) -> PathBuf {
    let exe = out.join("nim_login_c");
    compile(
        std::process::Command::new("gcc")
            .args(["-Wall", "-Wextra", "-Werror", "-g", "-o"])
            .arg(&exe)
            .arg(repo().join("examples/c/nim_login.c"))
            .arg("-I")
            .arg(include())
            .args(["-lcjson", "-ldl", "-lpthread"]),
    );
    exe
}

struct Setup {
    server: TestServer,
    app: TestApp,
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let app = server.app("samples").await;
    server.account(&app, "sam", "sam-token").await;
    let v = server
        .admin(&app)
        .json(
            reqwest::Method::PUT,
            "/magpie/v1/app/device_policy",
            Some(serde_json::json!({"mode": "single"})),
        )
        .await;
    assert_eq!(v["code"], 200);
    Setup { server, app }
}

/// Runs a sample program through its whole script; returns its output.
async fn drive(s: &Setup, mut cmd: Command, patience: Duration) -> Vec<String> {
    cmd.env("LD_LIBRARY_PATH", lib_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("sample starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let mut next = async |seen: &mut Vec<String>| -> String {
        let l = tokio::time::timeout(patience, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("sample silent; so far: {seen:#?}"))
            .unwrap()
            .unwrap_or_else(|| panic!("sample ended early; so far: {seen:#?}"));
        seen.push(l.clone());
        l
    };
    while !next(&mut seen).await.starts_with("READY") {}
    assert!(seen.last().unwrap().contains("state=1"), "{seen:#?}");
    assert!(seen.iter().any(|l| l.starts_with("CB login")
        && l.contains(r#""login_step":3"#)
        && l.contains(r#""err_code":200"#)));
    // A second device logs in: under the single policy the sample is kicked.
    let other = TestClient::new(
        s.server
            .options()
            .with_device_id("second")
            .with_client_type(magpie_proto::types::client_type::ANDROID),
    );
    let r = other
        .client
        .login(&s.app.key, "sam", "sam-token", LoginParams::default())
        .await;
    assert!(r.is_success(), "{r:?}");
    loop {
        let l = next(&mut seen).await;
        if l.starts_with("KICKED") {
            assert!(l.contains("reason=1"), "{seen:#?}");
            break;
        }
    }
    while !next(&mut seen).await.starts_with("DONE") {}
    let status = tokio::time::timeout(patience, child.wait())
        .await
        .expect("sample exits")
        .unwrap();
    let mut err = String::new();
    use tokio::io::AsyncReadExt;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    assert!(status.success(), "{status:?}\n{err}\n{seen:#?}");
    assert!(seen
        .iter()
        .any(|l| l.starts_with("CB kickout") && l.contains(r#""reason_code":1"#)));
    assert!(seen
        .iter()
        .any(|l| l.starts_with("CB logout") && l.contains(r#""err_code":200"#)));
    seen
}

fn c_command(exe: &Path, s: &Setup, data: &Path, extra: &[String]) -> Command {
    let mut c = Command::new(exe);
    c.arg(data)
        .arg(s.server.addr().to_string())
        .arg(&s.app.key)
        .arg("sam")
        .arg("sam-token")
        .args(extra);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_c_sample_logs_in_is_kicked_relogs_in_and_logs_out() {
    if !magpie_testkit::tools::available(
        "the_c_sample_logs_in_is_kicked_relogs_in_and_logs_out",
        &[magpie_testkit::tools::GCC, magpie_testkit::tools::CJSON],
    ) {
        return;
    }
    let s = setup().await;
    let out = tempfile::tempdir().unwrap();
    let exe = build_c(out.path());
    drive(&s, c_command(&exe, &s, &out.path().join("data"), &[]), WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_c_sample_goes_through_a_socks5_proxy() {
    if !magpie_testkit::tools::available(
        "the_c_sample_goes_through_a_socks5_proxy",
        &[
            magpie_testkit::tools::GCC,
            magpie_testkit::tools::CJSON,
            magpie_testkit::tools::MICROSOCKS,
        ],
    ) {
        return;
    }
    let s = setup().await;
    let out = tempfile::tempdir().unwrap();
    let exe = build_c(out.path());
    let p = microsocks(None);
    drive(
        &s,
        c_command(&exe, &s, &out.path().join("data"), &[p.port.to_string()]),
        WAIT,
    )
    .await;
    // With a proxy that is not there, the same program cannot log in:
    // the connection really goes through the proxy.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let status = c_command(&exe, &s, &out.path().join("data2"), &[dead.to_string()])
        .env("LD_LIBRARY_PATH", lib_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "login must fail through a dead proxy"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_c_sample_runs_clean_under_valgrind() {
    if !magpie_testkit::tools::available(
        "the_c_sample_runs_clean_under_valgrind",
        &[
            magpie_testkit::tools::GCC,
            magpie_testkit::tools::CJSON,
            magpie_testkit::tools::VALGRIND,
        ],
    ) {
        return;
    }
    let s = setup().await;
    let out = tempfile::tempdir().unwrap();
    let exe = build_c(out.path());
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--quiet",
        "--error-exitcode=99",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite",
        "--show-leak-kinds=definite",
    ])
    .arg(&exe)
    .arg(out.path().join("data"))
    .arg(s.server.addr().to_string())
    .arg(&s.app.key)
    .args(["sam", "sam-token"]);
    drive(&s, cmd, Duration::from_secs(120)).await;
}

/// Builds `examples/cpp/<sample>.cpp` with the C++ wrapper, linked to libnim.
fn build_cpp(out: &Path, sample: &str) -> PathBuf {
    let exe = out.join(format!("{sample}_cpp"));
    compile(
        std::process::Command::new("g++")
            .args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&exe)
            .arg(repo().join(format!("examples/cpp/{sample}.cpp")))
            .arg("-I")
            .arg(include())
            .arg("-I")
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("wrappers/cpp"))
            .arg("-L")
            .arg(lib_dir())
            .args(["-lnim", "-lpthread"]),
    );
    exe
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cpp_sample_logs_in_is_kicked_relogs_in_and_logs_out_through_socks5() {
    if !magpie_testkit::tools::available(
        "the_cpp_sample_logs_in_is_kicked_relogs_in_and_logs_out_through_socks5",
        &[
            magpie_testkit::tools::GXX,
            magpie_testkit::tools::NLOHMANN,
            magpie_testkit::tools::MICROSOCKS,
        ],
    ) {
        return;
    }
    let s = setup().await;
    let out = tempfile::tempdir().unwrap();
    let exe = build_cpp(out.path(), "nim_login");
    drive(
        &s,
        c_command(&exe, &s, &out.path().join("direct"), &[]),
        WAIT,
    )
    .await;
    let p = microsocks(None);
    drive(
        &s,
        c_command(&exe, &s, &out.path().join("proxied"), &[p.port.to_string()]),
        WAIT,
    )
    .await;
}

/// Builds `examples/csharp/<sample>.cs` with the C# wrapper.
fn build_csharp(out: &Path, sample: &str) -> PathBuf {
    let exe = out.join(format!("{sample}.exe"));
    let wrappers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("wrappers/csharp");
    compile(
        std::process::Command::new("mcs")
            .arg(format!("-out:{}", exe.display()))
            .arg("-r:System.Core")
            .arg(repo().join(format!("examples/csharp/{sample}.cs")))
            .arg(wrappers.join("NIM.cs"))
            .arg(wrappers.join("NIMMessaging.cs")),
    );
    exe
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csharp_sample_logs_in_is_kicked_relogs_in_and_logs_out_through_socks5() {
    if !magpie_testkit::tools::available(
        "the_csharp_sample_logs_in_is_kicked_relogs_in_and_logs_out_through_socks5",
        &[
            magpie_testkit::tools::MCS,
            magpie_testkit::tools::MONO,
            magpie_testkit::tools::MICROSOCKS,
        ],
    ) {
        return;
    }
    let s = setup().await;
    let out = tempfile::tempdir().unwrap();
    let exe = build_csharp(out.path(), "NimLogin");
    let mono = |data: &str, extra: &[String]| {
        let mut c = Command::new("mono");
        c.arg(&exe)
            .arg(out.path().join(data))
            .arg(s.server.addr().to_string())
            .arg(&s.app.key)
            .args(["sam", "sam-token"])
            .args(extra);
        c
    };
    drive(&s, mono("direct", &[]), Duration::from_secs(30)).await;
    let p = microsocks(None);
    drive(
        &s,
        mono("proxied", &[p.port.to_string()]),
        Duration::from_secs(30),
    )
    .await;
}

fn build_c_messaging(out: &Path) -> PathBuf {
    let exe = out.join("nim_messaging_c");
    compile(
        std::process::Command::new("gcc")
            .args(["-Wall", "-Wextra", "-Werror", "-g", "-o"])
            .arg(&exe)
            .arg(repo().join("examples/c/nim_messaging.c"))
            .arg("-I")
            .arg(include())
            .arg("-L")
            .arg(lib_dir())
            .args(["-lnim", "-lcjson", "-lpthread"]),
    );
    exe
}

/// The lines of `out` that start with `prefix`.
fn lines<'a>(out: &'a [String], prefix: &str) -> Vec<&'a String> {
    out.iter().filter(|l| l.starts_with(prefix)).collect()
}

/// The messaging scenario around a sample: dog writes three messages while
/// cat is offline; the sample logs in as cat, syncs, sends `msg_id` (body
/// `body`) and the custom notification `note_id` to dog, prints READY; dog
/// checks it got both, answers with a live message and a notification; the
/// sample queries the histories and prints DONE. Returns the sample's lines.
async fn run_messaging(
    make: impl FnOnce(&TestServer, &TestApp, &Path) -> Command,
    msg_id: &str,
    note_id: &str,
    body: &str,
    also: &[(&str, &str)],
) -> Vec<String> {
    use magpie_client::{Event, ImMessage, SysMsg};
    let server = TestServer::start().await;
    let app = server.app("messaging-sample").await;
    server.account(&app, "cat", "cat-token").await;
    server.account(&app, "dog", "dog-token").await;
    let mut dog = TestClient::new(server.options().with_device_id("dog-pc"));
    assert!(dog.login(&app, "dog", "dog-token").await.is_success());
    for i in 0..3 {
        let ack = dog
            .client
            .send_message(ImMessage {
                to_accid: "cat".into(),
                msg_body: format!("offline {i}"),
                client_msg_id: format!("dog-offline-{i}"),
                ..Default::default()
            })
            .await;
        assert_eq!(ack.rescode, magpie_proto::ResCode::SUCCESS, "{ack:?}");
    }
    let out = tempfile::tempdir().unwrap();
    let mut cmd = make(&server, &app, out.path());
    cmd.env("LD_LIBRARY_PATH", lib_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("sample starts");
    let mut reader = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen: Vec<String> = Vec::new();
    let mut next = async |seen: &mut Vec<String>| -> String {
        let l = tokio::time::timeout(Duration::from_secs(30), reader.next_line())
            .await
            .unwrap_or_else(|_| panic!("sample silent; so far: {seen:#?}"))
            .unwrap()
            .unwrap_or_else(|| panic!("sample ended early; so far: {seen:#?}"));
        assert!(!l.starts_with("FAILED"), "{l}; so far: {seen:#?}");
        seen.push(l.clone());
        l
    };
    while !next(&mut seen).await.starts_with("READY") {}
    // Another device of the sample's account puts dog's session on top.
    let mut cat_phone = TestClient::new(
        server
            .options()
            .with_device_id("cat-phone")
            .with_client_type(magpie_proto::types::client_type::IOS),
    );
    assert!(cat_phone.login(&app, "cat", "cat-token").await.is_success());
    let set = cat_phone
        .client
        .stick_top(magpie_proto::frame::StickTopRequest {
            action: magpie_proto::frame::stick_top_action::SET,
            to_type: 0,
            id: "dog".into(),
            ext: "from the phone".into(),
        })
        .await;
    assert_eq!(set.code, magpie_proto::ResCode::SUCCESS, "{set:?}");
    // ... and gives the server's session with dog an extension.
    let upd = cat_phone
        .client
        .server_session(magpie_proto::frame::ServerSessionRequest {
            action: magpie_proto::frame::server_session_action::UPDATE,
            id: "dog".into(),
            ext: "from the phone".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(upd.code, magpie_proto::ResCode::SUCCESS, "{upd:?}");
    // What the sample sent reached dog: the message, the notification and
    // whatever else it sent before READY. Entries applied together give
    // their messages' callbacks before their notifications', so the
    // notification may come after a message sent after it: wait for all.
    let mut received = std::collections::HashMap::new();
    let mut note = None;
    while received.len() < 1 + also.len() || note.is_none() {
        match dog.events.next().await {
            Event::Receive(m)
                if m.content.client_msg_id == msg_id
                    || also.iter().any(|(id, _)| *id == m.content.client_msg_id) =>
            {
                let id = m.content.client_msg_id.clone();
                assert!(received.insert(id, m).is_none(), "received twice");
            }
            Event::SysMsg(n) if n.content.client_msg_id == note_id => note = Some(n),
            _ => {}
        }
    }
    let m = received[msg_id].clone();
    assert_eq!(m.content.msg_body, body);
    assert_eq!(m.content.from_id, "cat");
    let n = note.expect("the notification");
    assert_eq!(n.content.attach, r#"{"typing":true}"#);
    assert_eq!(n.content.custom_save_flag, 1);
    for (id, want) in also {
        let m = &received[*id];
        assert_eq!(m.content.msg_body, *want, "{id}");
        assert_eq!(m.content.from_id, "cat", "{id}");
        if *id == "c-re-1" {
            let t = &m.content.extra["thread_info"];
            assert_eq!(t["reply_msg_id_client"], "dog-offline-0", "{t}");
            assert_eq!(t["thread_msg_id_client"], "dog-offline-0", "{t}");
            assert_eq!(t["reply_msg_from_account"], "dog", "{t}");
        }
        if *id == "c-rt-1" {
            assert_eq!(m.content.extra["push_enable"], 0, "the retweet's settings");
        }
    }
    // Dog has read the sample's message (the sample's status-changed
    // callback gets it before the live message that follows).
    assert_eq!(
        dog.client.send_receipt(&m.content).await,
        magpie_proto::ResCode::SUCCESS
    );
    // Dog answers live, and sends a custom notification.
    let ack = dog
        .client
        .send_message(ImMessage {
            to_accid: "cat".into(),
            msg_body: "live from dog".into(),
            client_msg_id: "dog-live-1".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(ack.rescode, magpie_proto::ResCode::SUCCESS);
    let ack = dog
        .client
        .send_custom_notification(SysMsg {
            to_account: "cat".into(),
            msg_type: 100,
            attach: r#"{"wave":1}"#.into(),
            client_msg_id: "dog-note-1".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(ack.rescode, magpie_proto::ResCode::SUCCESS);
    loop {
        let l = next(&mut seen).await;
        if l.starts_with("DONE") {
            break;
        }
        // The sample waits for another device of its account to delete a
        // message one way.
        if l.starts_with("DELETE_SELF_READY") {
            let gone = ImMessage {
                to_accid: "cat".into(),
                from_id: "dog".into(),
                client_msg_id: "dog-offline-2".into(),
                ..Default::default()
            };
            assert_eq!(
                cat_phone
                    .client
                    .delete_message_self(&gone, "from the phone")
                    .await,
                magpie_proto::ResCode::SUCCESS
            );
        }
    }
    // The sample's read receipt for dog's live message reached dog.
    let got = dog
        .events
        .until(|e| matches!(e, Event::MsgStatusChanged(l) if l.iter().any(|c| c.talk_id == "cat")))
        .await;
    let Event::MsgStatusChanged(list) = got else {
        unreachable!()
    };
    assert_eq!(list[0].status, 7);
    // A sample that changed the session on top: the phone heard each change.
    if seen.iter().any(|l| l.starts_with("STICKSET code=200")) {
        let mut heard = Vec::new();
        while heard.len() < 3 {
            if let Event::StickTopChanged(c) = cat_phone
                .events
                .until(|e| matches!(e, Event::StickTopChanged(_)))
                .await
            {
                heard.push((c.action, c.info.top, c.info.ext.is_empty()));
            }
        }
        assert_eq!(
            heard,
            [(2, true, false), (3, false, false), (1, true, true)]
        );
    }
    // A sample that set the server session's extension: the phone heard it.
    if seen.iter().any(|l| l.starts_with("OLUPD code=200")) {
        let got = cat_phone
            .events
            .until(|e| matches!(e, Event::ServerSessionChanged(i) if i.ext != "from the phone"))
            .await;
        let Event::ServerSessionChanged(info) = got else {
            unreachable!()
        };
        assert_eq!(info.id, "dog");
        assert!(info.ext.starts_with("{\"from\":\"C"), "{info:?}");
    }
    // A sample that deleted dog's live message one way: the phone heard it.
    if seen.iter().any(|l| l.starts_with("DELSELF code=200")) {
        let got = cat_phone
            .events
            .until(|e| matches!(e, Event::DeleteSelf(_)))
            .await;
        let Event::DeleteSelf(list) = got else {
            unreachable!()
        };
        assert_eq!(
            (list[0].session_id.as_str(), list[0].client_id.as_str()),
            ("dog", "dog-live-1")
        );
        assert!(list[0].ext.starts_with("from C"), "{list:?}");
    }
    // A sample that cleared the server history telling its other devices:
    // the phone heard it.
    if seen.iter().any(|l| l.starts_with("DELHISTEX code=200")) {
        let got = cat_phone
            .events
            .until(|e| matches!(e, Event::DeleteHistory(_)))
            .await;
        let Event::DeleteHistory(list) = got else {
            unreachable!()
        };
        assert_eq!(
            (list[0].session_id.as_str(), list[0].ext.as_str()),
            ("dog", "from C")
        );
    }
    // A sample that recalled a message: dog got the message and its recall.
    if seen.iter().any(|l| l.starts_with("RECALL code=200")) {
        let got = dog
            .events
            .until(|e| matches!(e, Event::Recall(l) if l.iter().any(|n| n.msg_id == "c-recall-1")))
            .await;
        let Event::Recall(list) = got else {
            unreachable!()
        };
        assert_eq!(
            (list[0].from_id.as_str(), list[0].notify.as_str()),
            ("cat", "cat took it back")
        );
    }
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("sample exits")
        .unwrap();
    assert!(status.success(), "{status:?}\n{seen:#?}");
    seen
}

/// The checks on a sample that prints the normalised step lines (C++, C#).
fn check_steps(seen: &[String], msg_id: &str, note_id: &str, body: &str, extra: &[&str]) {
    let one = |prefix: &str| -> &String {
        let found = lines(seen, prefix);
        assert_eq!(found.len(), 1, "one {prefix} line: {seen:#?}");
        found[0]
    };
    one("DATA_SYNC type=2 status=1");
    assert_eq!(
        one("SYNCED "),
        "SYNCED batch=3 ids=dog-offline-0,dog-offline-1,dog-offline-2 features=1,1,1"
    );
    assert_eq!(
        one("SESSIONS "),
        "SESSIONS total_unread=3 count=1 first=dog:3"
    );
    assert_eq!(
        one("UNREAD_ZERO "),
        "UNREAD_ZERO rescode=200 total_unread=0"
    );
    let ack = one("ACK ");
    assert!(
        ack.starts_with(&format!(
            "ACK rescode=200 msg_id={msg_id} talk_id=dog timetag=1"
        )),
        "{ack}"
    );
    assert_eq!(
        one("SYSMSG_ACK "),
        &format!("SYSMSG_ACK rescode=200 msg_id={note_id} talk_id=dog")
    );
    assert_eq!(one("LIVE "), "LIVE feature=0 body=live from dog");
    assert_eq!(
        one("STATUS_CHANGED "),
        "STATUS_CHANGED code=200 talk_id=dog status=7"
    );
    assert_eq!(one("RECEIPT "), "RECEIPT code=200 talk_id=dog status=7");
    assert_eq!(one("RECEIPT_SENT "), "RECEIPT_SENT before=0 after=1");
    assert_eq!(one("NOTE "), r#"NOTE from=dog attach={"wave":1}"#);
    let mut bodies = [body, "live from dog", "offline 0", "offline 1", "offline 2"];
    bodies.sort();
    let bodies = bodies.join("|");
    assert_eq!(
        one("LOCAL "),
        &format!("LOCAL code=200 count=5 source=0 bodies={bodies}")
    );
    assert_eq!(
        one("ONLINE "),
        &format!("ONLINE code=200 count=5 source=1 bodies={bodies}")
    );
    for line in extra {
        assert!(seen.iter().any(|l| l == line), "{line}: {seen:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cpp_messaging_sample_syncs_sends_and_receives() {
    if !magpie_testkit::tools::available(
        "the_cpp_messaging_sample_syncs_sends_and_receives",
        &[magpie_testkit::tools::GXX, magpie_testkit::tools::NLOHMANN],
    ) {
        return;
    }
    let build = tempfile::tempdir().unwrap();
    let exe = build_cpp(build.path(), "nim_messaging");
    let seen = run_messaging(
        |server, app, out| {
            let mut c = Command::new(&exe);
            c.arg(out.join("data"))
                .arg(server.addr().to_string())
                .arg(&app.key)
                .args(["cat", "cat-token", "dog"]);
            c
        },
        "cpp-msg-1",
        "cpp-note-1",
        "hello from C++",
        &[],
    )
    .await;
    check_steps(
        &seen,
        "cpp-msg-1",
        "cpp-note-1",
        "hello from C++",
        &[
            "LOCALEXT code=200 id=dog-offline-1",
            r#"BYID code=200 body=offline 1 local_ext={"pinned":true}"#,
            "TOP code=200 top=1",
            "SYSREADALL code=200 unread=0",
            "SEARCH code=200 count=3",
            "ONLINE_TEXT code=200 count=5",
            "ONLINE_NOT_TEXT code=200 count=0",
            "KEYWORD code=200 count=3 first=offline 0",
            "SEARCHEX code=200 count=3",
            "NOTEXT count=1 last=",
            "NOCUSTOM count=1 has_last=1",
            "HASMORESET code=200",
            "HASMORE code=200 id=dog server_id=77",
            "HASMOREALL code=200 size=1",
            "HASMOREDEL code=200",
            "STICKNOTE ext=from the phone",
            r#"STICKUPD code=200 ext={"from":"C++"} session=dog"#,
            "STICKLIST code=200 size=1 first=dog",
            "STICKCANCEL code=200 id=dog type=0",
            "STICKSET code=200 top=1",
            "OLNOTE id=dog ext=from the phone",
            "OLLIST code=200 has_more=0 first=dog type=0 last=0",
            r#"OLUPD code=200"#,
            r#"OLGET code=200 id=dog ext={"from":"C++"} last=message"#,
            "OLDEL code=200",
            "OLGONE code=404",
            "MULTI code=200 sessions=1 total_unread=0",
            "EXPORT code=200",
            "DELETEALL code=200",
            "IMPORT code=200 imported=5",
            "RETWEET to=dog id=cpp-rt-1 body=offline 0 push=0",
            "DELSELF code=200",
            "DELHISTORY code=200 accid=dog",
            "CLEARED code=200 count=0",
            "DELROAM code=200 type=0 id=dog",
            "DELSELFNOTE dog/dog-offline-2/from the phone",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_c_messaging_sample_syncs_sends_and_receives() {
    if !magpie_testkit::tools::available(
        "the_c_messaging_sample_syncs_sends_and_receives",
        &[magpie_testkit::tools::GCC, magpie_testkit::tools::CJSON],
    ) {
        return;
    }
    let build = tempfile::tempdir().unwrap();
    let exe = build_c_messaging(build.path());
    let seen = run_messaging(
        |server, app, out| {
            let mut c = Command::new(&exe);
            c.arg(out.join("data"))
                .arg(server.addr().to_string())
                .arg(&app.key)
                .args(["cat", "cat-token", "dog"]);
            c
        },
        "c-msg-1",
        "c-note-1",
        "hello from C",
        &[("c-rt-1", "offline 0"), ("c-re-1", "re: offline 0")],
    )
    .await;
    assert!(seen.iter().any(|l| l == "PATH []"), "{seen:#?}");
    // The offline messages came once, in order, through the batch callback.
    let batch: Vec<serde_json::Value> = lines(&seen, "CB receive_batch ")
        .iter()
        .flat_map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l.trim_start_matches("CB receive_batch ")).unwrap();
            v.as_array().unwrap().clone()
        })
        .collect();
    let ids: Vec<&str> = batch
        .iter()
        .map(|m| m["content"]["client_msg_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["dog-offline-0", "dog-offline-1", "dog-offline-2"],
        "{seen:#?}"
    );
    assert!(batch
        .iter()
        .all(|m| m["feature"] == 1 && m["rescode"] == 200));
    assert!(
        seen.iter().any(|l| l == "SYNCED batch_messages=3"),
        "{seen:#?}"
    );
    assert!(
        lines(&seen, "CB data_sync type=2 status=1").len() == 1,
        "{seen:#?}"
    );
    // The session list had dog with 3 unread; marking it read cleared them.
    let sessions = lines(&seen, "SESSIONS ")[0];
    assert!(
        sessions.starts_with("SESSIONS total_unread=3 "),
        "{sessions}"
    );
    let v: serde_json::Value =
        serde_json::from_str(sessions.splitn(3, ' ').nth(2).unwrap()).unwrap();
    assert_eq!(v["count"], 1);
    assert_eq!(v["unread_counts"], 3);
    assert_eq!(v["content"][0]["id"], "dog");
    assert_eq!(v["content"][0]["unread_count"], 3);
    let zero = lines(&seen, "UNREAD_ZERO ")[0];
    assert!(
        zero.starts_with("UNREAD_ZERO rescode=200 total_unread=0 "),
        "{zero}"
    );
    // Acks with NIM's keys.
    let ack = lines(&seen, "CB ack ")[0];
    let v: serde_json::Value = serde_json::from_str(ack.trim_start_matches("CB ack ")).unwrap();
    assert_eq!(v["rescode"], 200);
    assert_eq!(v["msg_id"], "c-msg-1");
    assert_eq!(v["talk_id"], "dog");
    assert!(v["msg_timetag"].as_i64().unwrap() > 0);
    let ack = lines(&seen, "CB sysmsg_ack ")[0];
    let v: serde_json::Value =
        serde_json::from_str(ack.trim_start_matches("CB sysmsg_ack ")).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"msg_id": "c-note-1", "talk_id": "dog", "rescode": 200})
    );
    // The live message and the notification, with NIM's wrappers.
    let live = lines(&seen, "CB receive {")[0];
    let v: serde_json::Value =
        serde_json::from_str(live.trim_start_matches("CB receive ")).unwrap();
    assert_eq!(v["feature"], 0);
    assert_eq!(v["content"]["msg_body"], "live from dog");
    let note = lines(&seen, "CB sysmsg ")[0];
    let v: serde_json::Value = serde_json::from_str(note.trim_start_matches("CB sysmsg ")).unwrap();
    assert_eq!(v["content"]["attach"], r#"{"wave":1}"#);
    assert_eq!(v["content"]["from_account"], "dog");
    // Both histories hold the session's seven messages (the retweet and
    // the reply included).
    for which in ["LOCAL", "ONLINE"] {
        let l = lines(&seen, &format!("{which} code=200 id=dog type=0 "))[0];
        let v: serde_json::Value = serde_json::from_str(l.splitn(5, ' ').nth(4).unwrap()).unwrap();
        assert_eq!(v["count"], 7, "{which}: {l}");
        assert_eq!(v["source"], if which == "LOCAL" { 0 } else { 1 });
        let mut bodies: Vec<&str> = v["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["msg_body"].as_str().unwrap())
            .collect();
        bodies.sort();
        assert_eq!(
            bodies,
            [
                "hello from C",
                "live from dog",
                "offline 0",
                "offline 0",
                "offline 1",
                "offline 2",
                "re: offline 0"
            ],
            "{which}"
        );
    }
    // The local operations, each answered once with NIM's codes.
    let one = |prefix: &str| -> String {
        let found = lines(&seen, prefix);
        assert_eq!(found.len(), 1, "one {prefix} line: {seen:#?}");
        found[0].clone()
    };
    assert_eq!(
        one("STATUS_CHANGED "),
        "STATUS_CHANGED code=200 talk_id=dog status=7"
    );
    assert_eq!(one("RECEIPT "), "RECEIPT code=200 talk_id=dog status=7");
    assert_eq!(one("RECEIPT_SENT "), "RECEIPT_SENT before=0 after=1");
    assert_eq!(one("BE_READED "), "BE_READED 1");
    assert_eq!(one("RECALL "), "RECALL code=200 msg_id=c-recall-1 exist=1");
    // Dog's live message deleted one way: gone here; the server history
    // deleted with roaming: the online query finds nothing; the phone's
    // one-way deletion reached the sample.
    assert_eq!(one("DELSELF "), "DELSELF code=200");
    assert_eq!(
        one("DELSELFGONE "),
        "DELSELFGONE code=0 id=dog-live-1 body= local_ext="
    );
    assert_eq!(one("DELHISTORY "), "DELHISTORY code=200 accid=dog");
    assert_eq!(one("DELROAM "), "DELROAM code=200 type=0 id=dog");
    let l = one("CLEARED code=200 id=dog type=0 ");
    let v: serde_json::Value = serde_json::from_str(l.splitn(5, ' ').nth(4).unwrap()).unwrap();
    assert_eq!(
        (v["count"].as_i64(), v["source"].as_i64()),
        (Some(0), Some(1)),
        "{l}"
    );
    let l = one("CB delete_self ");
    let v: serde_json::Value =
        serde_json::from_str(l.trim_start_matches("CB delete_self ")).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{"session_id": "dog", "client_id": "dog-offline-2", "ext": "from the phone"}])
    );
    assert_eq!(one("LOCALEXT "), "LOCALEXT code=200 id=dog-offline-1");
    assert_eq!(
        one("BYID "),
        r#"BYID code=200 id=dog-offline-1 body=offline 1 local_ext={"pinned":true}"#
    );
    assert_eq!(one("INSERT "), "INSERT code=200 id=c-local-1");
    let top = one("TOP ");
    assert!(
        top.starts_with("TOP code=200 ") && top.contains(r#""top":true"#),
        "{top}"
    );
    assert!(
        top.contains(r#""msg_client_id":"c-local-1""#),
        "the local tip is the last message: {top}"
    );
    let ext = one("EXTEND ");
    assert!(
        ext.contains(r#""extend_data":"{\"draft\":\"hi\"}""#),
        "{ext}"
    );
    let by = one("BYSESSION ");
    assert!(by.starts_with("BYSESSION code=200 "), "{by}");
    assert!(
        by.contains(r#""top":true"#) && by.contains(r#""draft"#),
        "{by}"
    );
    assert_eq!(one("DELETE "), "DELETE code=200 id=c-local-1");
    assert_eq!(one("GONE "), "GONE code=0 id=c-local-1 body= local_ext=");
    assert_eq!(one("SETSTATUS "), "SETSTATUS code=200 id=dog-live-1");
    assert_eq!(one("BATCHREAD "), "BATCHREAD code=200 uid=dog type=0");
    // The JSON-options search finds what the search found; the server's
    // history by type and by keyword.
    let ids_of = |line: &str| -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_str(line.splitn(5, ' ').nth(4).unwrap()).unwrap();
        v["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["client_msg_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let searchex = one("SEARCHEX ");
    assert!(searchex.starts_with("SEARCHEX code=200 "), "{searchex}");
    assert_eq!(sorted(ids_of(&searchex)), sorted(ids_of(&one("SEARCH "))));
    let online2 = one("ONLINE2 ");
    assert!(online2.starts_with("ONLINE2 code=200 id=dog "), "{online2}");
    let v: serde_json::Value =
        serde_json::from_str(online2.splitn(5, ' ').nth(4).unwrap()).unwrap();
    let got = v["content"].as_array().unwrap();
    assert!(got.len() >= 5, "{online2}");
    assert!(
        got.iter().all(|m| m["msg_type"] == 0),
        "text only: {online2}"
    );
    let keyword = one("KEYWORD ");
    assert!(keyword.starts_with("KEYWORD code=200 id=dog "), "{keyword}");
    assert_eq!(
        ids_of(&keyword),
        [
            "dog-offline-0",
            "dog-offline-1",
            "dog-offline-2",
            "c-rt-1",
            "c-re-1"
        ],
        "every text holding the word, oldest first (the retweet and the reply quote it): {keyword}"
    );
    let search = one("SEARCH ");
    let v: serde_json::Value = serde_json::from_str(search.splitn(5, ' ').nth(4).unwrap()).unwrap();
    let mut found: Vec<&str> = v["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["client_msg_id"].as_str().unwrap())
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "c-re-1",
            "c-rt-1",
            "dog-offline-0",
            "dog-offline-1",
            "dog-offline-2"
        ],
        "every message mentioning OFFLINE, any case: {search}"
    );
    let q = one("SYSQUERY ");
    assert!(q.starts_with("SYSQUERY count=1 first_id="), "{q}");
    let id: i64 = q.rsplit('=').next().unwrap().parse().unwrap();
    assert!(id > 0, "{q}");
    assert_eq!(
        one("SYSSTATUS "),
        format!("SYSSTATUS code=200 id={id} unread=0")
    );
    assert_eq!(one("SYSDELTYPE "), "SYSDELTYPE code=200 unread=0");
    assert_eq!(one("SYSQUERY2 "), "SYSQUERY2 count=0 first_id=0");
    // Session lists that leave some types out of the last message.
    assert_eq!(one("INSERTCUSTOM "), "INSERTCUSTOM code=200 id=c-custom-1");
    let notext = one("NOTEXT ");
    assert!(
        notext.starts_with("NOTEXT count=1 ") && notext.ends_with(" last=c-custom-1 ext="),
        "the newest message that is not text: {notext}"
    );
    let all = one("ALLTYPES ");
    assert!(
        all.starts_with("ALLTYPES count=1 ")
            && !all.contains("last=c-custom-1")
            && !all.contains("last= "),
        "the newest message: {all}"
    );
    let neither = one("NOTEXTNORCUSTOM ");
    assert!(
        neither.ends_with(" last= ext="),
        "no message left: {neither}"
    );
    let bad = one("BADLIST ");
    assert!(
        bad.starts_with(r#"BADLIST count=0 total_unread=0 last= ext={"error":"last_msg_excluded_type_list must be a JSON array"#),
        "{bad}"
    );
    // Local messages of one session by type.
    let of_type = |label: &str| -> Vec<serde_json::Value> {
        let line = one(label);
        assert!(
            line.starts_with(&format!("{label}code=200 id=dog type=0 ")),
            "{line}"
        );
        let v: serde_json::Value =
            serde_json::from_str(line.splitn(5, ' ').nth(4).unwrap()).unwrap();
        v["content"].as_array().unwrap().clone()
    };
    let texts = of_type("TEXTONLY ");
    assert!(texts.len() >= 3, "{texts:?}");
    assert!(texts.iter().all(|m| m["msg_type"] == 0), "{texts:?}");
    let times: Vec<i64> = texts.iter().map(|m| m["time"].as_i64().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {times:?}"
    );
    let customs = of_type("CUSTOMONLY ");
    assert_eq!(customs.len(), 1, "{customs:?}");
    assert_eq!(customs[0]["client_msg_id"], "c-custom-1");
    // A has-more-roaming tag: set, read, listed, removed.
    assert_eq!(one("HASMORESET "), "HASMORESET code=200");
    assert_eq!(
        one("HASMORE "),
        "HASMORE code=200 id=dog type=0 time=1700000000000 server_id=4242"
    );
    assert_eq!(one("HASMOREALL "), "HASMOREALL code=200 size=1 first=dog");
    assert_eq!(one("HASMOREDEL "), "HASMOREDEL code=200");
    assert_eq!(
        one("HASMOREGONE "),
        "HASMOREGONE code=0 id=dog type=0 time=0 server_id=0"
    );
    assert_eq!(one("DELETEALL "), "DELETEALL code=200");
    assert!(
        seen.iter()
            .any(|l| l.starts_with("CB session_change") && l.contains(r#""command":6"#)),
        "all messages deleted is one session change: {seen:#?}"
    );
    let empty = one("EMPTY ");
    assert!(
        empty.starts_with(r#"EMPTY code=200 id=dog type=0 {"count":0,"#),
        "{empty}"
    );
    assert_eq!(one("EXPORT "), "EXPORT code=200");
    assert_eq!(one("IMPORT "), "IMPORT code=200");
    assert_eq!(one("PROGRESS "), "PROGRESS 8/8");
    let imported = one("IMPORTED ");
    assert!(
        imported.starts_with(r#"IMPORTED code=200 id=dog type=0 {"count":8,"#),
        "the export brought the messages back: {imported}"
    );
    let multi = one("MULTI ");
    assert!(
        multi.starts_with("MULTI code=200 total_unread=0 [{") && multi.contains(r#""id":"dog""#),
        "{multi}"
    );
    assert_eq!(one("DELBYTIME "), "DELBYTIME code=200");
    let after = one("AFTERTIME ");
    assert!(
        after.starts_with(r#"AFTERTIME code=200 id=dog type=0 {"count":0,"#),
        "{after}"
    );
    let count = |label: &str| -> (u64, Vec<String>) {
        let l = one(&format!("{label} code=200 id=dog type=0 "));
        let v: serde_json::Value = serde_json::from_str(l.splitn(5, ' ').nth(4).unwrap()).unwrap();
        let mut ids: Vec<String> = v["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["client_msg_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        (v["count"].as_u64().unwrap(), ids)
    };
    let (on_server, server_ids) = count("NOSAVE");
    assert_eq!(on_server, 7, "the server keeps what the device deleted");
    assert_eq!(
        count("STILLEMPTY").0,
        0,
        "a query without need_save_to_local keeps nothing"
    );
    assert_eq!(count("SAVE"), (on_server, server_ids.clone()));
    assert_eq!(
        count("RESTORED"),
        (on_server, server_ids),
        "need_save_to_local put the server's messages into the local history"
    );
    // Stick-top sessions: the phone's change arrived, this device's went
    // through, with NIM's keys and the session item this device has.
    let set = one("CB stick_top_set ");
    let v: serde_json::Value =
        serde_json::from_str(set.trim_start_matches("CB stick_top_set ")).unwrap();
    assert_eq!(
        (
            v["top"].clone(),
            v["id"].clone(),
            v["type"].clone(),
            v["ext"].clone()
        ),
        (true.into(), "dog".into(), 0.into(), "from the phone".into())
    );
    let created = v["create_time"].as_i64().unwrap();
    let upd = one("STICKUPD code=200 ");
    let v: serde_json::Value = serde_json::from_str(upd.splitn(3, ' ').nth(2).unwrap()).unwrap();
    assert_eq!(v["ext"], r#"{"from":"C"}"#);
    assert_eq!(
        v["create_time"].as_i64().unwrap(),
        created,
        "update keeps the creation time"
    );
    assert_eq!(v["session_data"]["id"], "dog", "{upd}");
    let list = one("STICKLIST code=200 ");
    let v: serde_json::Value = serde_json::from_str(list.splitn(3, ' ').nth(2).unwrap()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(v[0]["id"], "dog");
    // With the session item this device has.
    assert_eq!(v[0]["session_data"]["id"], "dog", "{list}");
    assert_eq!(one("STICKCANCEL "), "STICKCANCEL code=200 id=dog type=0");
    assert_eq!(one("STICKGONE "), "STICKGONE code=404 id=dog type=0");
    assert_eq!(one("STICKEMPTY "), "STICKEMPTY code=200 []");
    let again = one("STICKSET code=200 ");
    let v: serde_json::Value = serde_json::from_str(again.splitn(3, ' ').nth(2).unwrap()).unwrap();
    assert!(v["create_time"].as_i64().unwrap() >= created && v["top"] == true);
    // The server's sessions: the phone's extension arrived, the list and
    // the session came with NIM's keys and the last message, the sample's
    // extension and deletion went through.
    let note = one("CB olsess_changed ");
    let v: serde_json::Value =
        serde_json::from_str(note.trim_start_matches("CB olsess_changed ")).unwrap();
    assert_eq!(
        (
            v["info_session_id"].clone(),
            v["info_ext"].clone(),
            v["info_session_type"].clone()
        ),
        ("dog".into(), "from the phone".into(), 0.into())
    );
    let list = one("OLLIST code=200 ");
    let v: serde_json::Value = serde_json::from_str(list.splitn(3, ' ').nth(2).unwrap()).unwrap();
    assert_eq!(v["query_list_res_code"], 200, "{list}");
    let first = &v["query_list_sessions"][0];
    assert_eq!(first["info_session_id"], "dog", "{list}");
    let last: serde_json::Value =
        serde_json::from_str(first["info_last_msg"].as_str().unwrap()).unwrap();
    assert_eq!(last["rescode"], 200, "{list}");
    assert!(last["content"]["client_msg_id"].is_string(), "{list}");
    assert_eq!(one("OLUPD "), "OLUPD code=200");
    let get = one("OLGET code=200 ");
    let v: serde_json::Value = serde_json::from_str(get.splitn(3, ' ').nth(2).unwrap()).unwrap();
    assert_eq!(v["info_ext"], r#"{"from":"C"}"#, "{get}");
    assert_eq!(one("OLDEL "), "OLDEL code=200");
    assert_eq!(one("OLGONE "), "OLGONE code=404 {}");
    assert_eq!(one("DELSELFS "), "DELSELFS code=200");
    assert_eq!(
        one("DELHISTEX "),
        "DELHISTEX code=200 accid=dog type=0 ext=from C timed=1"
    );
    let ex = one("DELETEEX ");
    assert!(ex.starts_with("DELETEEX code=200 "), "{ex}");
    let gone = one("SESSIONSGONE ");
    assert!(
        gone.starts_with("SESSIONSGONE code=200 total_unread=0 ")
            && gone.contains(r#""command":2"#),
        "{gone}"
    );
    let last = lines(&seen, "SESSIONS ");
    assert!(
        last.last()
            .unwrap()
            .starts_with(r#"SESSIONS total_unread=0 {"count":0,"#),
        "{seen:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csharp_messaging_sample_syncs_sends_and_receives() {
    if !magpie_testkit::tools::available(
        "the_csharp_messaging_sample_syncs_sends_and_receives",
        &[magpie_testkit::tools::MCS, magpie_testkit::tools::MONO],
    ) {
        return;
    }
    let build = tempfile::tempdir().unwrap();
    let exe = build_csharp(build.path(), "NimMessaging");
    let seen = run_messaging(
        |server, app, out| {
            let mut c = Command::new("mono");
            c.arg(&exe)
                .arg(out.join("data"))
                .arg(server.addr().to_string())
                .arg(&app.key)
                .args(["cat", "cat-token", "dog"]);
            c
        },
        "cs-msg-1",
        "cs-note-1",
        "hello from C#",
        &[],
    )
    .await;
    check_steps(
        &seen,
        "cs-msg-1",
        "cs-note-1",
        "hello from C#",
        &[
            "LOCALEXT code=200 id=dog-offline-1",
            "BATCHREAD code=200 uid=dog",
            "TOP code=200 top=1",
            "SYSREADALL code=200 unread=0",
            "SEARCH code=200 count=3",
            "NOTEXT count=1 last=",
            "NOCUSTOM count=1 has_last=1",
            "CUSTOMONLY code=200 count=0",
            "EXPORT code=200",
            "DELETEALL code=200",
            "IMPORT code=200 imported=5",
            "RETWEET to=dog id=cs-rt-1 body=offline 0",
            "PATH []",
        ],
    );
}

/// Every function of NIM's login chapter (NIM's `nim_client.h`,
/// `nim_global.h`, `nim_data_sync.h`) is exported by libnim.so, as `nm -D`
/// sees it: NIM's C++ wrapper looks each one up by name and turns a missing
/// one into a silent no-op.
#[test]
fn libnim_exports_every_function_of_nims_login_chapter() {
    const LOGIN_CHAPTER: [&str; 26] = [
        "nim_client_init",
        "nim_client_cleanup",
        "nim_client_cleanup2",
        "nim_client_login",
        "nim_client_get_login_state",
        "nim_client_relogin",
        "nim_client_logout",
        "nim_client_kick_other_client",
        "nim_client_reg_auto_relogin_cb",
        "nim_client_reg_relogin_request_token_cb",
        "nim_client_reg_kickout_cb",
        "nim_client_reg_disconnect_cb",
        "nim_client_reg_multispot_login_notify_cb",
        "nim_client_reg_kickout_other_client_cb",
        "nim_client_reg_sync_multiport_push_config_cb",
        "nim_client_set_multiport_push_config",
        "nim_client_get_multiport_push_config",
        "nim_client_version",
        "nim_client_current_user_account",
        "nim_client_get_server_current_time",
        "nim_client_update_apns_token",
        "nim_global_free_str_buf",
        "nim_global_free_buf",
        "nim_global_set_proxy",
        "nim_global_detect_proxy",
        "nim_data_sync_reg_complete_cb",
    ];
    let lib = lib_dir().join("libnim.so");
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("nm runs (binutils)");
    assert!(out.status.success(), "nm -D {}", lib.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let exported: std::collections::HashSet<&str> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_addr, kind, name) = (f.next()?, f.next()?, f.next()?);
            (kind == "T").then_some(name)
        })
        .collect();
    let missing: Vec<&str> = LOGIN_CHAPTER
        .iter()
        .copied()
        .filter(|f| !exported.contains(f))
        .collect();
    assert!(missing.is_empty(), "libnim.so lacks {missing:?}");
}

/// The code samples of NIM's login guide page "登录登出" (Login and logout),
/// as printed (examples/login-guide/README.md lists the scaffolding and the
/// few fixes NIM's own text needs), compile against NIM's include layout and
/// the wrappers; the C ones link with libnim.
#[test]
fn the_login_guide_samples_compile_as_printed() {
    let out = tempfile::tempdir().unwrap();
    let guide = repo().join("examples/login-guide");
    let nim_sdk = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("nim_sdk");
    compile(
        std::process::Command::new("gcc")
            .args([
                "-std=c11",
                "-Wall",
                "-Werror",
                "-Wno-unused-parameter",
                "-o",
            ])
            .arg(out.path().join("login_guide_c"))
            .arg(guide.join("login_guide.c"))
            .arg("-I")
            .arg(&nim_sdk)
            .arg("-L")
            .arg(lib_dir())
            .args(["-lnim", "-ldl"]),
    );
    compile(
        std::process::Command::new("g++")
            .args([
                "-std=c++17",
                "-Wall",
                "-Werror",
                "-Wno-unused-parameter",
                "-c",
                "-o",
            ])
            .arg(out.path().join("login_guide_cpp.o"))
            .arg(guide.join("login_guide.cpp"))
            .arg("-I")
            .arg(&nim_sdk),
    );
    if magpie_testkit::tools::available(
        "the_login_guide_samples_compile_as_printed (C#)",
        &[magpie_testkit::tools::MCS],
    ) {
        let wrappers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("wrappers/csharp");
        compile(
            std::process::Command::new("mcs")
                .arg("-target:library")
                .arg(format!(
                    "-out:{}",
                    out.path().join("LoginGuide.dll").display()
                ))
                .arg("-r:System.Core")
                .arg(guide.join("LoginGuide.cs"))
                .arg(wrappers.join("NIM.cs"))
                .arg(wrappers.join("NIMMessaging.cs")),
        );
    }
}
