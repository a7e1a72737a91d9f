//! NIM's dynamic token parser on arbitrary text: it refuses with a reason
//! or accepts only a token whose signature matches, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use magpie_server::dynamic::{verify, Limits};

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_ttl_secs: 86_400,
        clock_skew_ms: 300_000,
    };
    // A random input cannot carry the right SHA1 signature.
    assert!(verify(
        token,
        "key",
        "secret",
        &["alice"],
        1_700_000_000_000,
        limits
    )
    .is_err());
});
