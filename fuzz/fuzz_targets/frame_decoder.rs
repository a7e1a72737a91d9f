//! Arbitrary bytes on either side of a connection: the decoders take frames
//! off the front until they need more or fail, never reading past the
//! buffer, never panicking, and a frame they accept encodes back to one they
//! decode to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use magpie_proto::codec::{decode_client, decode_server, encode_client, encode_server};
use magpie_proto::Decoded;

const MAX: u32 = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let mut at = 0;
    while at < data.len() {
        match decode_client(&data[at..], MAX) {
            Ok(Decoded::Frame(f, n)) => {
                assert!(n > 0 && at + n <= data.len());
                let mut out = Vec::new();
                if encode_client(&f, &mut out, u32::MAX).is_ok() {
                    match decode_client(&out, u32::MAX) {
                        Ok(Decoded::Frame(g, m)) => assert!(g == f && m == out.len()),
                        other => panic!("re-encoded frame does not decode: {other:?}"),
                    }
                }
                at += n;
            }
            Ok(Decoded::NeedMore(n)) => {
                assert!(n > data.len() - at);
                break;
            }
            Err(e) => match e.skippable() {
                Some(n) if n > 0 => at += n.min(data.len() - at),
                _ => break,
            },
        }
    }
    let mut at = 0;
    while at < data.len() {
        match decode_server(&data[at..], MAX) {
            Ok(Decoded::Frame(f, n)) => {
                assert!(n > 0 && at + n <= data.len());
                let mut out = Vec::new();
                if encode_server(&f, &mut out, u32::MAX).is_ok() {
                    match decode_server(&out, u32::MAX) {
                        Ok(Decoded::Frame(g, m)) => assert!(g == f && m == out.len()),
                        other => panic!("re-encoded frame does not decode: {other:?}"),
                    }
                }
                at += n;
            }
            Ok(Decoded::NeedMore(_)) => break,
            Err(e) => match e.skippable() {
                Some(n) if n > 0 => at += n.min(data.len() - at),
                _ => break,
            },
        }
    }
});
