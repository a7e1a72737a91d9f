//! Every client op with an arbitrary payload (the first byte picks the op):
//! the payload is decoded into its frame or refused with an error naming the
//! op and sequence, never a panic; accepted frames re-encode faithfully.
#![no_main]

mod payloads;

use libfuzzer_sys::fuzz_target;
use magpie_proto::codec::{decode_client, encode_client};
use magpie_proto::frame::op;

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

const CODEC: payloads::Codec<magpie_proto::ClientFrame> = payloads::Codec {
    decode: decode_client,
    encode: encode_client,
    errors_name_the_seq: true,
};

fuzz_target!(|data: &[u8]| payloads::check(data, &OPS, &CODEC));
