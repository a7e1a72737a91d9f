//! Every server op (what the SDK decodes) with an arbitrary payload (the first byte picks the op):
//! the payload is decoded into its frame or refused with an error naming the
//! op and sequence, never a panic; accepted frames re-encode faithfully.
#![no_main]

use libfuzzer_sys::fuzz_target;
use magpie_proto::codec::{decode_server, encode_server};
use magpie_proto::frame::op;
use magpie_proto::Decoded;

const OPS: [u8; 14] = [
    op::HELLO_ACK,
    op::LOGIN_ACK,
    op::LOGOUT_ACK,
    op::PONG,
    op::KICK_OTHER_ACK,
    op::SEND_MSG_ACK,
    op::SYNC_BATCH,
    op::SYSMSG_ACK,
    op::SESSION_ACK,
    op::HISTORY_RESULT,
    op::KICKOUT,
    op::MULTISPOT,
    op::ENTRY,
    op::ERROR,
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
    match decode_server(&frame, u32::MAX) {
        Ok(Decoded::Frame(f, n)) => {
            assert_eq!(n, frame.len());
            let mut out = Vec::new();
            encode_server(&f, &mut out, u32::MAX).expect("a decoded frame encodes");
            match decode_server(&out, u32::MAX) {
                Ok(Decoded::Frame(g, _)) => assert!(g == f),
                other => panic!("{other:?}"),
            }
        }
        Ok(Decoded::NeedMore(_)) => panic!("a whole frame was given"),
        Err(e) => {
            let _ = e.seq();
            let _ = e.to_string();
        }
    }
});
