//! The check both payload targets run, for client or server frames: a
//! frame of `op` (picked by the first byte among `ops`) with the rest as its
//! payload is decoded into its frame or refused with an error, never a
//! panic; an accepted frame re-encodes into bytes that decode to it again.

use magpie_proto::codec::EncodeError;
use magpie_proto::{DecodeError, Decoded};
use std::fmt::Debug;

/// A codec direction: decode and encode of one frame type.
pub struct Codec<F> {
    pub decode: fn(&[u8], u32) -> Result<Decoded<F>, DecodeError>,
    pub encode: fn(&F, &mut Vec<u8>, u32) -> Result<usize, EncodeError>,
    /// Whether every refusal names the frame's sequence number (7 here).
    pub errors_name_the_seq: bool,
}

pub fn check<F: PartialEq + Debug>(data: &[u8], ops: &[u8], codec: &Codec<F>) {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let op = ops[pick as usize % ops.len()];
    let mut frame = Vec::with_capacity(payload.len() + 9);
    frame.extend_from_slice(&((payload.len() + 5) as u32).to_be_bytes());
    frame.push(op);
    frame.extend_from_slice(&7u32.to_be_bytes());
    frame.extend_from_slice(payload);
    match (codec.decode)(&frame, u32::MAX) {
        Ok(Decoded::Frame(f, n)) => {
            assert_eq!(n, frame.len());
            let mut out = Vec::new();
            (codec.encode)(&f, &mut out, u32::MAX).expect("a decoded frame encodes");
            match (codec.decode)(&out, u32::MAX) {
                Ok(Decoded::Frame(g, _)) => assert!(g == f, "{f:?}\n{g:?}"),
                other => panic!("{other:?}"),
            }
        }
        Ok(Decoded::NeedMore(_)) => panic!("a whole frame was given"),
        Err(e) => {
            if codec.errors_name_the_seq {
                assert_eq!(e.seq(), 7);
            }
            let _ = e.to_string();
        }
    }
}
