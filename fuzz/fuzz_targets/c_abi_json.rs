//! The C ABI's JSON inputs (message, notification, recall, receipt,
//! kick-other, session JSON) with arbitrary text: no panic crosses the
//! boundary, nothing crashes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nim::fuzzing::json_inputs(data);
});
