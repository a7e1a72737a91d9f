//! Every server op (what the SDK decodes) with an arbitrary payload (the first byte picks the op):
//! the payload is decoded into its frame or refused with an error naming the
//! op and sequence, never a panic; accepted frames re-encode faithfully.
#![no_main]

mod payloads;

use libfuzzer_sys::fuzz_target;
use magpie_proto::codec::{decode_server, encode_server};
use magpie_proto::frame::op;

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

const CODEC: payloads::Codec<magpie_proto::ServerFrame> = payloads::Codec {
    decode: decode_server,
    encode: encode_server,
    errors_name_the_seq: false,
};

fuzz_target!(|data: &[u8]| payloads::check(data, &OPS, &CODEC));
