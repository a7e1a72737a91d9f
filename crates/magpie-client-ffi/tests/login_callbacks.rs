//! Through the C ABI itself: a login called while another runs answers
//! 20002 through its own callback, and the login under way keeps its
//! callback to the end (NIM's login callback belongs to its call).

use magpie_testkit::*;
use nim::{nim_client_cleanup, nim_client_init, nim_client_login, nim_client_logout};
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::Mutex;
use tokio::sync::Notify;

/// Every callback heard: (user data, JSON).
static HEARD: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
/// Woken by every callback.
static NEWS: Notify = Notify::const_new();

unsafe extern "C" fn heard(json: *const c_char, user_data: *const c_void) {
    // SAFETY: the library passes a valid NUL-terminated JSON string that
    // lives for the duration of the callback.
    let text = unsafe { CStr::from_ptr(json) }
        .to_string_lossy()
        .into_owned();
    HEARD.lock().unwrap().push((user_data as usize, text));
    NEWS.notify_waiters();
}

fn heard_by(ud: usize) -> Vec<serde_json::Value> {
    HEARD
        .lock()
        .unwrap()
        .iter()
        .filter(|(u, _)| *u == ud)
        .map(|(_, j)| serde_json::from_str(j).unwrap())
        .collect()
}

/// Waits (at most [`WAIT`]) until the callbacks heard satisfy `f`.
async fn until(what: &str, f: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let news = NEWS.notified();
        tokio::pin!(news);
        news.as_mut().enable();
        if f() {
            return;
        }
        if tokio::time::timeout_at(deadline, news).await.is_err() {
            panic!("{what}; heard {:?}", HEARD.lock().unwrap());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_refused_while_one_runs_answers_20002_to_its_own_callback() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "lena", "t").await;
    let dir = tempfile::tempdir().unwrap();
    let init = serde_json::json!({
        "app_key": app.key,
        "global_config": {},
        "private_server_setting": {"link": s.addr().to_string()}
    });
    let c = |s: &str| CString::new(s).unwrap();
    let (d, j) = (c(dir.path().to_str().unwrap()), c(&init.to_string()));
    let (k, a, t, none) = (c(&app.key), c("lena"), c("t"), c(""));
    // The same login, told apart by the user data.
    let login = |ud: usize| {
        // SAFETY: valid C strings that outlive the call; `heard` matches
        // the callback type and lives for the whole test.
        unsafe {
            nim_client_login(
                k.as_ptr(),
                a.as_ptr(),
                t.as_ptr(),
                none.as_ptr(),
                Some(heard),
                ud as _,
            )
        }
    };
    // SAFETY: valid C strings.
    assert!(unsafe { nim_client_init(d.as_ptr(), none.as_ptr(), j.as_ptr()) });
    login(1);
    login(2);
    until(
        "the first login ends at step 3 and the second is refused",
        || {
            heard_by(1).iter().any(|v| v["login_step"] == 3)
                && heard_by(2).iter().any(|v| v["err_code"] == 20002)
        },
    )
    .await;
    assert!(
        heard_by(1).iter().all(|v| v["err_code"] == 200),
        "the first login hears only its own steps: {:?}",
        heard_by(1)
    );
    assert_eq!(
        heard_by(2).len(),
        1,
        "the refused login hears one answer: {:?}",
        heard_by(2)
    );
    // Logged in: one more login is refused the same way.
    login(3);
    until("a login while logged in answers 20002", || {
        heard_by(3).iter().any(|v| v["err_code"] == 20002)
    })
    .await;
    // SAFETY: as above.
    unsafe {
        nim_client_logout(3, none.as_ptr(), Some(heard), 4 as _);
    }
    until("the logout answers", || !heard_by(4).is_empty()).await;
    assert_eq!(heard_by(4)[0]["err_code"], 200);
    // SAFETY: a valid C string; no callback runs after this.
    unsafe { nim_client_cleanup(none.as_ptr()) };
}
