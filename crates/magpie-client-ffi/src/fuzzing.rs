//! A safe entry point for the C ABI fuzz target (`fuzz/fuzz_targets/c_abi_json.rs`):
//! one input, given as the JSON argument of every function below, to an SDK
//! initialised once against an address where nothing listens. The unsafe
//! calls stay in this crate, where each has its SAFETY note.

use std::ffi::{c_char, CString};
use std::ptr::null;
use std::sync::Once;

/// Feeds `data` (up to its first NUL) to the JSON-taking functions.
pub fn json_inputs(data: &[u8]) {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let dir = std::env::temp_dir().join(format!("magpie-fuzz-ffi-{}", std::process::id()));
        let dir = CString::new(dir.to_string_lossy().into_owned()).unwrap_or_default();
        let cfg = CString::new(r#"{"private_server_setting":{"link":["127.0.0.1:9"]}}"#)
            .unwrap_or_default();
        // SAFETY: both are valid NUL-terminated strings that outlive the call;
        // the install dir may be NULL.
        let ok = unsafe { crate::nim_client_init(dir.as_ptr(), null(), cfg.as_ptr()) };
        assert!(ok, "nim_client_init");
    });
    let text = match data.iter().position(|b| *b == 0) {
        Some(n) => &data[..n],
        None => data,
    };
    let Ok(c) = CString::new(text) else { return };
    let p: *const c_char = c.as_ptr();
    // SAFETY: `p` is a valid NUL-terminated string for the whole block; every
    // callback is NULL, which each function's contract allows.
    unsafe {
        crate::nim_client_kick_other_client(p);
        crate::msg::nim_talk_send_msg(p, p, None, null());
        crate::msg::nim_sysmsg_send_custom_notification(p, p);
        crate::recall::nim_talk_recall_msg(p, p, p, None, null());
        crate::local_ops::nim_msglog_send_receipt_async(p, p, None, null());
        crate::msg::nim_session_set_unread_count_zero_async(0, p, p, None, null());
    }
}
