//! Every client op with an arbitrary payload (the first byte picks the op):
//! the payload is decoded into its frame or refused with an error naming the
//! op and sequence, never a panic; accepted frames re-encode faithfully.
#![no_main]

use libfuzzer_sys::fuzz_target;
use magpie_proto::codec::{decode_client, encode_client};
use magpie_proto::frame::op;
use magpie_proto::Decoded;

const OPS: [u8; 14] = [
    op::HELLO,
    op::LOGIN,
    op::LOGOUT,
    op::PING,
    op::KICK_OTHER,
    op::SEND_MSG,
    op::SYNC,
    op::CURSOR_ACK,
    op::SEND_SYSMSG,
    op::SESSION_READ,
    op::SESSION_DELETE,
    op::HISTORY,
    op::RECEIPT,
    op::RECALL,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let op = OPS[pick as usize % OPS.len()];
    let mut frame = Vec::with_capacity(payload.len() + 9);
    frame.extend_from_slice(&((payload.len() + 5) as u32).to_be_bytes());
    frame.push(op);
    frame.extend_from_slice(&7u32.to_be_bytes());
    frame.extend_from_slice(payload);
    match decode_client(&frame, u32::MAX) {
        Ok(Decoded::Frame(f, n)) => {
            assert_eq!(n, frame.len());
            let mut out = Vec::new();
            encode_client(&f, &mut out, u32::MAX).expect("a decoded frame encodes");
            match decode_client(&out, u32::MAX) {
                Ok(Decoded::Frame(g, _)) => assert!(g == f, "{f:?}\n{g:?}"),
                other => panic!("{other:?}"),
            }
        }
        Ok(Decoded::NeedMore(_)) => panic!("a whole frame was given"),
        Err(e) => {
            assert_eq!(e.seq(), 7);
            let _ = e.to_string();
        }
    }
});
